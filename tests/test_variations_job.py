"""The alternative-mixes job: features with known answers, the output folder, its errors, and
five variations of a real song that differ measurably and match their descriptions."""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

from mixwise.analysis.meters import integrated_loudness
from mixwise.analysis.spectrum import THIRD_OCTAVE_HZ, band_edges_hz
from mixwise.errors import MixwiseError, ParameterError
from mixwise.session.io import load_session, resolve_source
from mixwise.variations import (
    Features,
    contribution_ratios_lu,
    crest_db,
    feature_distance,
    features,
    make_variations,
    spectral_tilt_db_per_oct,
    stereo_width_db,
)
from signals import DATA_DIR, noise, sine, write_wav

SR = 44_100


# --------------------------------------------------------------------------------------------
# features


def pink(seconds: float, seed: int) -> np.ndarray:
    """Stereo noise with a -3 dB/octave density (equal power per third octave)."""
    x = noise(seconds=seconds, sample_rate=SR, rms=1.0, channels=2, seed=seed).astype(float)
    spec = np.fft.rfft(x, axis=1)
    f = np.fft.rfftfreq(x.shape[1], 1 / SR)
    spec[:, 1:] /= np.sqrt(f[1:])
    spec[:, 0] = 0
    y = np.fft.irfft(spec, n=x.shape[1], axis=1)
    return (y / np.sqrt(np.mean(y**2)) * 0.1).astype(np.float32)


def test_spectral_tilt_reads_pink_flat_and_white_plus_3_db_per_octave():
    assert spectral_tilt_db_per_oct(pink(6.0, 1), SR) == pytest.approx(0.0, abs=0.15)
    white = noise(seconds=6.0, sample_rate=SR, rms=0.1)
    assert spectral_tilt_db_per_oct(white, SR) == pytest.approx(3.0, abs=0.15)
    # white noise through a first-order low-pass at 200 Hz: each band's power is the
    # integral of the filter's power response over the band; fit their slope the same way
    fc = 200.0
    sos = scipy.signal.butter(1, fc, "lowpass", fs=SR, output="sos")
    dark = scipy.signal.sosfilt(sos, white, axis=1).astype(np.float32)
    keep = (THIRD_OCTAVE_HZ >= 50) & (THIRD_OCTAVE_HZ <= 16_000)
    band_power = []
    for lo, hi in band_edges_hz()[keep]:
        f = np.linspace(lo, hi, 400)
        _, h = scipy.signal.sosfreqz(sos, worN=f, fs=SR)
        band_power.append(np.mean(np.abs(h) ** 2) * (hi - lo))
    expected = np.polyfit(np.log2(THIRD_OCTAVE_HZ[keep]), 10 * np.log10(band_power), 1)[0]
    assert expected < -1.5
    assert spectral_tilt_db_per_oct(dark, SR) == pytest.approx(expected, abs=0.2)


def test_width_and_crest_known_answers():
    x = noise(seconds=2.0, sample_rate=SR, rms=0.1, channels=1)
    assert stereo_width_db(np.vstack([x, x])) == -math.inf  # mono
    assert stereo_width_db(noise(seconds=4.0, sample_rate=SR, rms=0.1)) == pytest.approx(
        0.0, abs=0.1
    )  # unrelated channels
    assert stereo_width_db(np.vstack([x, np.zeros_like(x)])) == pytest.approx(0.0, abs=1e-9)
    side = np.vstack([x, 0.5 * x])  # mid 0.75 x, side 0.25 x: 1/9 -> -9.54 dB
    assert stereo_width_db(side) == pytest.approx(-9.542, abs=0.01)
    assert crest_db(sine(1000.0, seconds=1.0, sample_rate=SR, channels=2)) == pytest.approx(
        3.01, abs=0.01
    )


def test_contribution_ratios_measure_group_loudness_differences():
    lead = pink(4.0, 2)
    drums = pink(4.0, 3) * np.float32(10 ** (-3 / 20))
    keys = pink(4.0, 4) * np.float32(10 ** (-6 / 20))
    verb = pink(4.0, 5) * np.float32(10 ** (-15 / 20))
    stems = {"v": lead, "d": drums, "k": keys, "r": verb}
    kinds = {"v": "lead", "d": "rhythm", "k": "other", "r": "return"}
    got = contribution_ratios_lu(stems, kinds, SR)

    def db(*gains):  # power sum of unrelated, equally loud noises at these gains (dB)
        return 10 * math.log10(sum(10 ** (g / 10) for g in gains))

    assert got["vocal_lu"] == pytest.approx(0 - db(-3, -6), abs=0.15)
    assert got["rhythm_lu"] == pytest.approx(-3 - db(0, -6), abs=0.15)
    assert got["wet_lu"] == pytest.approx(-15 - db(0, -3, -6), abs=0.15)
    master = lead + drums + keys + verb
    f = features(master, SR, stems, kinds)
    assert (f.vocal_lu, f.rhythm_lu, f.wet_lu) == (got["vocal_lu"], got["rhythm_lu"], got["wet_lu"])
    assert f.loudness_lufs == pytest.approx(integrated_loudness(master, SR), abs=1e-9)
    assert features(master, SR).vocal_lu is None
    none = contribution_ratios_lu({"d": drums, "k": keys}, {"d": "rhythm", "k": "other"}, SR)
    assert none["vocal_lu"] is None and none["wet_lu"] is None
    assert none["rhythm_lu"] == pytest.approx(3.0, abs=0.15)


def test_feature_distance_is_the_largest_change_in_units_of_its_scale():
    a = Features(-2.0, -12.0, 14.0, -14.0, vocal_lu=-3.0, rhythm_lu=0.0, wet_lu=-15.0)
    b = Features(-2.05, -11.5, 14.2, -14.1, vocal_lu=-1.0, rhythm_lu=0.1, wet_lu=None)
    assert feature_distance(a, b) == pytest.approx(4.0)  # vocal 2 LU / 0.5
    assert feature_distance(a, a) == 0.0


# --------------------------------------------------------------------------------------------
# the job on synthetic stems


def _tone(f0: float, seconds: float, amp: float, harmonics: int = 12) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t + 0.2 * np.sin(2 * np.pi * 4 * t)) / k
            for k in range(1, harmonics + 1) if k * f0 < 12_000)  # fmt: skip
    return (amp * x / np.max(np.abs(x)))[None].astype(np.float32)


def _kick(seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    x = np.zeros(n)
    hit = np.arange(int(0.25 * SR)) / SR
    body = np.sin(2 * np.pi * (55 + 80 * np.exp(-hit * 30)) * hit) * np.exp(-hit * 12)
    for a in range(0, n - len(hit), SR // 2):
        x[a : a + len(hit)] += 0.8 * body
    return x[None].astype(np.float32)


@pytest.fixture(scope="module")
def stems_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("song") / "stems"
    seconds = 4.0
    write_wav(d / "kick.wav", _kick(seconds), SR)
    write_wav(d / "bass.wav", _tone(55.0, seconds, 0.5, 6), SR)
    keys = np.vstack([_tone(330.0, seconds, 0.2)[0], _tone(331.5, seconds, 0.2)[0]])
    write_wav(d / "keys.wav", keys, SR)
    write_wav(d / "lead vocal.wav", _tone(220.0, seconds, 0.3, 30), SR)
    return d


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_job_writes_each_variation_as_an_ordinary_session_with_its_audio(stems_dir, tmp_path):
    before = _digest(stems_dir)
    seen = []
    out = tmp_path / "alts"
    res = make_variations(stems_dir, out, n=2, seed=4, progress=lambda d, t, s: seen.append(s))
    assert _digest(stems_dir) == before  # inputs never modified
    names = [v.folder.name for v in res.variations]
    assert names == ["0-proposal", "1-vocal-forward", "2-wide"]
    assert sorted(p.name for p in out.iterdir()) == [*names, "variations.html", "variations.json"]
    for v in res.variations:
        assert sorted(p.name for p in v.folder.iterdir()) == [
            "master.wav",
            "mix.wav",
            "session.json",
        ]
        session = load_session(v.session_path)
        for t in session.tracks:  # each session plays from wherever it is
            assert resolve_source(v.session_path, t.source.path).is_file()
        moves = [h for h in session.history if h.task == "variation"]
        assert len(moves) == len(v.changes) and (v.index == 0) == (not moves)
        assert abs(v.master_lufs - (-14.0)) < 0.5 and v.master_true_peak_dbtp <= -1.0 + 0.05
    assert res.loudness_spread_lu <= 0.5 and res.loudness_matched and not res.warnings
    listing = json.loads((out / "variations.json").read_text())
    assert [v["folder"] for v in listing["variations"]] == names
    assert listing["loudness"]["matched"] is True and listing["seed"] == 4
    vf = listing["variations"][1]
    assert vf["features"]["vocal_lu"] > listing["variations"][0]["features"]["vocal_lu"] + 2.0
    assert {c["parameter"] for c in vf["changes"]} == {
        "tracks[lead-vocal].chain.fader_db",
        "tracks[lead-vocal].chain.eq",
    }
    page = (out / "variations.html").read_text()
    from lxml import html as lxml_html

    doc = lxml_html.fromstring(page)
    assert [a.get("src") for a in doc.iter("audio")] == [f"{n}/master.wav" for n in names]
    assert "presence lift" in page
    assert any(s.startswith("variation 2/2: wide") for s in seen)
    assert not list(tmp_path.glob(".alts*"))  # no temporary sibling left


def test_the_proposal_is_the_automatic_mix_that_mixwise_mix_makes(stems_dir, tmp_path):
    from mixwise.api import mix_folder

    res = make_variations(stems_dir, tmp_path / "alts", n=0)
    (proposal,) = res.variations
    mixed = mix_folder(stems_dir, tmp_path / "mix").session

    def mix_of(s):
        d = s.model_dump(mode="json", include={"tracks", "buses", "master"})
        for t in d["tracks"]:
            t["source"]["path"] = Path(t["source"]["path"]).name
        return d

    assert mix_of(proposal.session) == mix_of(mixed)
    assert proposal.master_lufs == pytest.approx(
        json.loads((tmp_path / "mix" / "report.json").read_text())["render"]["master"][
            "integrated_lufs"
        ],
        abs=0.01,
    )


def test_sampled_variations_fill_up_past_the_named_ones(stems_dir, tmp_path, monkeypatch):
    import mixwise.variations as job

    monkeypatch.setattr(job, "choose", lambda n, **kw: ["sampled-3"])
    res = make_variations(stems_dir, tmp_path / "alts", n=1)
    v = res.variations[1]
    assert v.folder.name == "1-sampled-3" and v.kind == "sampled" and v.seed == 3
    assert v.description and v.changes
    assert feature_distance(v.features, res.variations[0].features) > 0.0


def test_bad_output_folders_and_arguments_are_refused_before_anything_is_written(
    stems_dir, tmp_path
):
    before = _digest(stems_dir)
    for bad in (stems_dir, stems_dir.parent, stems_dir / "alts"):
        with pytest.raises(MixwiseError, match="input stems"):
            make_variations(stems_dir, bad, n=1)
    assert _digest(stems_dir) == before
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(MixwiseError, match="not a mixwise variations folder"):
        make_variations(stems_dir, other, n=1)
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(ParameterError, match="-1"):
        make_variations(stems_dir, tmp_path / "x", n=-1)
    with pytest.raises(ParameterError, match="seed"):
        make_variations(stems_dir, tmp_path / "x", seed=-2)
    assert not (tmp_path / "x").exists()


def test_a_failure_half_way_leaves_nothing_and_keeps_a_previous_set(
    stems_dir, tmp_path, monkeypatch
):
    import mixwise.render.engine as engine

    out = tmp_path / "alts"
    out.mkdir()
    (out / "variations.json").write_text("{}")  # a previous set
    real = engine.render
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise MixwiseError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "render", failing)
    with pytest.raises(MixwiseError, match="disk full"):
        make_variations(stems_dir, out, n=2)
    assert sorted(p.name for p in out.iterdir()) == ["variations.json"]
    assert (out / "variations.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alts"]


# --------------------------------------------------------------------------------------------
# a real song

FALCON = DATA_DIR / "musdb_falcon69" / "stems"


@pytest.mark.realdata
@pytest.mark.skipif(not FALCON.is_dir(), reason="shared/data is absent")
def test_five_variations_of_a_real_song_differ_and_match_their_descriptions(tmp_path):
    start = time.monotonic()
    res = make_variations(FALCON, tmp_path / "alts", n=5)
    elapsed = time.monotonic() - start
    by = {v.name: v.features for v in res.variations}
    assert list(by) == ["proposal", "vocal-forward", "wide", "punchy", "bright", "dry"]
    keys = ("tilt_db_per_oct", "width_db", "vocal_lu", "rhythm_lu", "wet_lu", "crest_db",
            "loudness_lufs")  # fmt: skip
    print(f"\n{'':15}" + "".join(f"{k[:10]:>11}" for k in keys))
    for name, f in by.items():
        d = f.to_dict()
        print(f"{name:15}" + "".join(f"{d[k]:>11.2f}" for k in keys))
    d = res.distances()
    print("feature distances (>= 1: measurably different)")
    print(f"{'':15}" + "".join(f"{n[:9]:>10}" for n in by))
    for name, row in zip(by, d, strict=True):
        print(f"{name:15}" + "".join(f"{x:>10.2f}" for x in row))
    print(f"loudness spread {res.loudness_spread_lu:.3f} LU, {elapsed:.1f} s")

    off = ~np.eye(len(by), dtype=bool)
    assert d[off].min() >= 1.0
    others = lambda name: [f for n, f in by.items() if n != name]  # noqa: E731
    assert by["wide"].width_db > max(f.width_db for f in others("wide")) + 1.0
    assert by["vocal-forward"].vocal_lu > max(f.vocal_lu for f in others("vocal-forward")) + 1.5
    assert by["bright"].tilt_db_per_oct > max(f.tilt_db_per_oct for f in others("bright")) + 0.05
    assert by["punchy"].rhythm_lu > max(f.rhythm_lu for f in others("punchy")) + 0.5
    assert by["dry"].wet_lu < min(f.wet_lu for f in others("dry")) - 5.0
    assert by["dry"].width_db < by["proposal"].width_db
    assert res.loudness_spread_lu <= 0.5
    assert elapsed < 30.0
