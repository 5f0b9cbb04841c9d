"""Editing checks: silences, phase and polarity, mono compatibility; their suggestions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixwise.analysis.editing import align, find_silences, mono_compatibility
from signals import DATA_DIR, noise, sine

SR = 44_100


def _real(rel: str, seconds: float = 12.0, offset_s: float = 0.0) -> np.ndarray:
    from mixwise.io.audio import read_audio

    path = DATA_DIR / rel
    if not path.exists():
        pytest.skip(f"{rel} absent")
    a, sr, _, _ = read_audio(path)
    assert sr == SR
    start = int(offset_s * sr)
    return np.ascontiguousarray(a[:, start : start + int(seconds * sr)])


def _shift(x: np.ndarray, delay_ms: float) -> np.ndarray:
    """``x`` delayed by a (fractional) time, by a phase shift of its spectrum."""
    n = x.shape[1]
    f = np.fft.rfftfreq(2 * n, 1 / SR)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, n)))
    y = np.fft.irfft(np.fft.rfft(padded, axis=1) * np.exp(-2j * np.pi * f * delay_ms / 1000), 2 * n)
    return y[:, :n]


@pytest.mark.parametrize("delay_ms", [3.7, 0.37, -11.25])
def test_inverted_delayed_copy_of_a_real_drum_stem_is_found(delay_ms):
    drums = _real("hydrogen_jazzy/stems/02_Snare.flac", seconds=8.0)
    copy = -_shift(drums, delay_ms)
    al = align(drums, copy, SR)
    assert al.polarity_inverted
    assert al.delay_ms == pytest.approx(delay_ms, abs=0.05)
    assert al.correlation > 0.9


def test_unrelated_stems_are_not_correlated():
    a = noise(seconds=4.0, sample_rate=SR, seed=1)
    b = noise(seconds=4.0, sample_rate=SR, seed=2)
    assert align(a, b, SR).correlation < 0.1


def test_inserted_silences_are_trimmed_within_20_ms():
    music = _real("lmms_reggaetontry/stems/08_Trumpet.ogg", seconds=20.0, offset_s=20.0)
    gaps = [(3.0, 4.8), (9.25, 11.0), (15.5, 17.2)]
    x = music.copy()
    assert np.all(np.abs(music[:, : int(3 * SR)]).max(axis=1) > 0.01)
    for a, b in gaps:
        x[:, int(a * SR) : int(b * SR)] = 0.0
    rep = find_silences(x, SR)
    inner = [s for s in rep.silences if s.start_s > 0.5 and s.end_s < 19.5]
    found = [(s.start_s, s.end_s) for s in inner]
    for a, b in gaps:
        match = [f for f in found if abs(f[0] - a) < 0.5]
        assert match, (a, found)
        fa, fb = match[0]
        # the kept regions reach 10 ms (their fades) into each gap
        assert fa == pytest.approx(a, abs=0.02) and fb == pytest.approx(b, abs=0.02)


def test_breath_and_bleed_are_reported_apart_from_silence():
    loud = sine(300.0, seconds=2.0, sample_rate=SR, amplitude=0.5)
    bleed = noise(seconds=1.5, sample_rate=SR, rms=0.5 * 10 ** (-40 / 20), channels=1)
    x = np.concatenate([loud, bleed, loud], axis=1)
    rep = find_silences(x, SR)
    assert rep.silences == [] or rep.silent_s < 0.05
    assert len(rep.low_level) == 1
    low = rep.low_level[0]
    assert low.start_s == pytest.approx(2.0, abs=0.02) and low.end_s == pytest.approx(3.5, abs=0.02)
    assert low.level_db == pytest.approx(20 * math.log10(0.5) - 40, abs=1.5)


def test_stereo_stem_with_one_channel_inverted_is_mono_incompatible():
    stem = _real("lmms_reggaetontry/stems/06_E_Piano.ogg", seconds=20.0, offset_s=10.0)
    ok = mono_compatibility(stem, SR)
    assert not ok.incompatible and not ok.low_end_cancels and ok.correlation > 0.5
    broken = stem.copy()
    broken[1] *= -1
    rep = mono_compatibility(broken, SR)
    assert rep.incompatible and rep.correlation < -0.5 and rep.loss_db < -6
    assert any("mono-incompatible" in w for w in rep.warnings)


def test_low_end_cancellation_is_flagged_by_band():
    low = sine(60.0, seconds=4.0, sample_rate=SR, amplitude=0.5)[0]
    high = noise(seconds=4.0, sample_rate=SR, rms=0.2, channels=1)[0]
    x = np.stack([low + high, -low + high]).astype(np.float32)  # bass out of phase only
    rep = mono_compatibility(x, SR)
    assert rep.low_end_cancels
    assert rep.bands[63.0][0] < -0.9
    assert rep.bands[4000.0][0] > 0.9


def test_mix_applies_the_proposals_and_the_render_follows_them(tmp_path):
    from mixwise.cli import main
    from mixwise.session.io import load_session
    from signals import read_wav, write_wav

    d = tmp_path / "stems"
    snare = _real("hydrogen_jazzy/stems/02_Snare.flac", seconds=6.0)
    write_wav(d / "Snare Top.wav", snare, SR)
    write_wav(d / "Snare Bottom.wav", (-_shift(snare, 1.5) * 0.5).astype(np.float32), SR)
    pad = sine(220.0, seconds=6.0, sample_rate=SR, amplitude=0.3, channels=2)
    pad[:, int(2 * SR) : int(4 * SR)] = 0.0
    write_wav(d / "Pad.wav", pad, SR)
    out = tmp_path / "out"
    assert main(["mix", str(d), "-o", str(out), "-q", "--tasks", "prep,gain"]) == 0
    s = load_session(out / "session.json")
    by = {t.name: t for t in s.tracks}
    assert by["Snare Bottom"].chain.polarity_inverted
    assert by["Snare Top"].chain.delay_ms == pytest.approx(1.5, abs=0.05)
    assert len(by["Pad"].regions) == 2
    assert all(p.status == "applied" for p in s.proposals)
    stem, _ = read_wav(out / "stems" / "Pad.wav")
    assert np.abs(stem[:, int(2.1 * SR) : int(3.9 * SR)]).max() == 0.0
    # the flipped, delayed pair now adds up instead of cancelling
    top, _ = read_wav(out / "stems" / "Snare Top.wav")
    bottom, _ = read_wav(out / "stems" / "Snare Bottom.wav")
    both = top + bottom
    assert 10 * np.log10(np.mean(both**2)) > 10 * np.log10(np.mean(top**2)) + 1.0


def test_streaming_path_matches_the_in_memory_path(tmp_path, monkeypatch):
    """Stems too large for memory are streamed from their files: same checks, same bits."""
    import mixwise.api as api
    from mixwise.cli import main
    from signals import write_wav

    d = tmp_path / "stems"
    snare = _real("hydrogen_jazzy/stems/02_Snare.flac", seconds=6.0)
    write_wav(d / "Snare Top.wav", snare, SR)
    write_wav(d / "Snare Bottom.wav", (-_shift(snare, 1.5) * 0.5).astype(np.float32), SR)
    keys = sine(330.0, seconds=5.0, sample_rate=48_000, amplitude=0.3)
    write_wav(d / "Keys.flac", keys, 48_000, "PCM_24")
    assert main(["mix", str(d), "-o", str(tmp_path / "memory"), "-q"]) == 0
    monkeypatch.setattr(api, "IN_MEMORY_BUDGET_BYTES", 0)
    assert main(["mix", str(d), "-o", str(tmp_path / "stream"), "-q"]) == 0
    for name in ["mix.wav", "master.wav", "stems/Keys.wav"]:
        a = (tmp_path / "memory" / name).read_bytes()
        b = (tmp_path / "stream" / name).read_bytes()
        assert a == b, name


def test_click_repairs_are_rendered_without_touching_the_file(tmp_path):
    import hashlib

    from mixwise.cli import main
    from mixwise.session.io import load_session
    from signals import read_wav, write_wav

    clean = _real("lmms_reggaetontry/stems/08_Trumpet.ogg", seconds=10.0, offset_s=20.0)
    assert np.sqrt(np.mean(clean**2)) > 0.01  # music playing throughout
    x = clean.copy()
    sites = [int(t * SR) for t in (1.3, 3.7, 6.1, 8.45)]
    for i, s in enumerate(sites):
        x[i % 2, s] += 0.5 if i % 2 else -0.5
    d = tmp_path / "stems"
    write_wav(d / "Piano.wav", x, SR)
    digest = hashlib.sha256((d / "Piano.wav").read_bytes()).hexdigest()
    out = tmp_path / "out"
    assert main(["mix", str(d), "-o", str(out), "-q", "--tasks", "prep,gain"]) == 0
    track = load_session(out / "session.json").tracks[0]
    assert set(sites) <= {round(r.time_s * SR) for r in track.repairs}
    y, _ = read_wav(out / "stems" / "Piano.wav")
    g = 10 ** (track.chain.trim_db / 20)
    for i, s in enumerate(sites):
        err = abs(y[i % 2, s] / g - clean[i % 2, s])
        assert err < 0.05, (s, err)  # the 0.5 click is gone
    assert hashlib.sha256((d / "Piano.wav").read_bytes()).hexdigest() == digest


def test_a_suggested_fix_can_be_heard_before_it_is_applied(tmp_path):
    from mixwise.cli import main
    from mixwise.session.io import load_session
    from signals import read_wav, write_wav

    clean = _real("lmms_reggaetontry/stems/06_E_Piano.ogg", seconds=10.0, offset_s=5.0)
    assert np.sqrt(np.mean(clean**2)) > 0.01  # music playing throughout
    x = clean.copy()
    site = round(6.1 * SR)
    x[0, site] += 0.5
    d = tmp_path / "stems"
    write_wav(d / "Piano.wav", x, SR)
    write_wav(d / "Other.wav", noise(seconds=10.0, sample_rate=SR, rms=0.05), SR)
    out = tmp_path / "out"
    assert main(["prep", str(d), "-o", str(out), "-q"]) == 0
    session = load_session(out / "session.json")
    fix = next(p for p in session.proposals if p.task == "clicks")
    assert main(["preview", str(out / "session.json"), str(fix.number), "-o", str(out)]) == 0
    before, _ = read_wav(out / f"preview-{fix.number}-before.wav")
    after, _ = read_wav(out / f"preview-{fix.number}-after.wav")
    assert before.shape == after.shape == (2, 4 * SR)  # 4 s around the click, the track alone
    k = site - round(4.1 * SR)  # the preview starts 2 s before the click
    assert abs(before[0, k] - x[0, site]) < 1e-6  # before: the click as it is, nothing else
    assert abs(after[0, k] - clean[0, site]) < 0.05  # after: repaired
    assert load_session(out / "session.json").proposals == session.proposals  # nothing applied
