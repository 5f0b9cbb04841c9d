"""Comparing a mix with a reference: profiles, aligned band differences, words, files, SVG."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy.signal import sosfilt

from mixwise.analysis.compare import (
    REGION_THRESHOLD_DB,
    REGIONS,
    WIDTH_FLOOR_DB,
    compare,
    compare_files,
    comparison_svg,
    in_range,
    profile,
    short_term_crest_db,
)
from mixwise.analysis.spectrum import band_edges_hz
from mixwise.dsp.biquad import rbj_biquad, sos_response_db
from mixwise.dsp.dynamics import limit
from mixwise.errors import AudioFileError, MixwiseError, ParameterError
from signals import DATA_DIR, noise, write_wav

SR = 48_000


def pink(seconds: float = 3.0, *, seed: int = 0, channels: int = 2, sr: int = SR) -> np.ndarray:
    """Pink noise (power falls 3 dB/octave: every third-octave band holds the same power),
    independent channels, RMS 0.1."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    spec = np.fft.rfft(rng.standard_normal((channels, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / sr)
    f[0] = f[1]
    x = np.fft.irfft(spec / np.sqrt(f), n=n, axis=1)
    return (x / np.std(x) * 0.1).astype(np.float32)


def band_response_db(sos: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """A filter's power gain averaged over each band in log frequency: what it does to the
    band levels of pink noise (equal power per unit of log frequency)."""
    edges = band_edges_hz(centres)
    pts = np.geomspace(edges[:, 0], np.minimum(edges[:, 1], 0.49 * SR), 33, axis=1)
    resp = sos_response_db(sos, pts.ravel(), SR).reshape(pts.shape)
    return 10 * np.log10(np.mean(10 ** (resp / 10), axis=1))


@pytest.fixture(scope="module")
def pink_profile():
    x = pink()
    return x, profile(x, SR)


def region(c, key: str):
    return next(r for r in c.regions if r.key == key)


# --------------------------------------------------------------------------------------------
# known answers


def test_a_file_against_itself_differs_by_nothing_and_says_it_matches(tmp_path):
    path = write_wav(tmp_path / "mix.wav", pink(seed=3), SR)
    c = compare_files(path, path)
    finite = np.isfinite(c.band_diff_db)
    assert finite.sum() == 31
    np.testing.assert_allclose(c.band_diff_db, 0.0, atol=0.01)
    for r in c.regions:
        assert r.diff_db == pytest.approx(0.0, abs=0.01)
        assert r.width_diff_db == pytest.approx(0.0, abs=0.01)
    for name in (
        "tonal_distance_db",
        "loudness_diff_lu",
        "lra_diff_lu",
        "crest_diff_db",
        "short_term_crest_diff_db",
        "true_peak_diff_db",
        "tilt_diff_db_per_oct",
        "width_diff_db",
    ):
        assert getattr(c, name) == pytest.approx(0.0, abs=0.01), name
    (sentence,) = c.sentences()
    assert "matches the reference" in sentence


def test_pink_noise_profile_is_flat_and_loudness_normalised(pink_profile):
    x, p = pink_profile
    tonal = in_range(p.centres_hz)
    # equal power per band: flat within the measurement noise of 3 s of noise (the lowest
    # bands hold only a few FFT bins of the 200 ms frames, so they scatter more)
    assert np.ptp(p.bands_db[in_range(p.centres_hz, (100.0, 16_000.0))]) < 1.5
    assert np.ptp(p.bands_db[tonal]) < 5.0
    assert p.tilt_db_per_oct == pytest.approx(0.0, abs=0.15)
    # bands are relative to the loudness: the same noise 10 dB louder reads the same bands
    louder = profile(x * np.float32(10 ** (10 / 20)), SR)
    assert louder.integrated_lufs == pytest.approx(p.integrated_lufs + 10.0, abs=0.01)
    np.testing.assert_allclose(louder.bands_db, p.bands_db, atol=0.01)
    # two independent channels of equal level: side and mid carry the same power
    assert p.region_width_db(tonal) == pytest.approx(0.0, abs=0.5)


def test_a_low_shelf_reads_as_its_response_and_the_low_end_sentence_says_6_db(pink_profile):
    x, ref = pink_profile
    sos = rbj_biquad("low_shelf", 300.0, SR, gain_db=6.0)
    mix = profile(sosfilt(sos, x).astype(np.float32), SR)
    c = compare(mix, ref)
    # the aligned band differences are the shelf's own response, less its median
    expected = band_response_db(sos, c.centres_hz)
    expected -= np.median(expected[in_range(c.centres_hz)])
    np.testing.assert_allclose(c.band_diff_db, expected, atol=0.1)
    low = region(c, "low_end")
    assert low.diff_db == pytest.approx(6.0, abs=1.0)
    sentences = c.sentences()
    said = [s for s in sentences if s.startswith("the low end")]
    assert len(said) == 1
    value = float(re.search(r"is ([\d.]+) dB above the reference", said[0]).group(1))
    assert value == pytest.approx(6.0, abs=1.0)
    assert value == pytest.approx(low.diff_db, abs=0.05)
    # nothing is said about the regions the shelf leaves alone
    for key in ("upper_mids", "highs", "air"):
        assert abs(region(c, key).diff_db) < REGION_THRESHOLD_DB
        label = next(r.label for r in REGIONS if r.key == key)
        assert not any(s.startswith(label) for s in sentences)
    # the shelf adds loudness; the comparison says so
    assert c.loudness_diff_lu > 1.0
    assert any("LU louder than the reference" in s for s in sentences)


def test_a_difference_under_the_threshold_is_not_worded_and_one_above_is(pink_profile):
    x, ref = pink_profile
    for gain_db, worded in ((0.5, False), (2.0, True)):
        sos = rbj_biquad("high_shelf", 6000.0, SR, gain_db=gain_db)
        c = compare(profile(sosfilt(sos, x).astype(np.float32), SR), ref)
        said = any(s.startswith("the highs") for s in c.sentences())
        assert said is worded, (gain_db, c.sentences())
        assert (region(c, "highs").diff_db >= REGION_THRESHOLD_DB) is worded


def test_a_mono_ish_mix_is_narrower_than_decorrelated_noise():
    rng = np.random.default_rng(5)
    common = rng.standard_normal(3 * SR)
    # the same signal in both channels plus independent noise 20 dB down in each
    mono_ish = np.stack([common + 0.1 * rng.standard_normal(3 * SR) for _ in range(2)])
    mono_ish = (0.1 * mono_ish).astype(np.float32)
    wide = noise(seconds=3.0, sample_rate=SR, rms=0.1, channels=2, seed=6)
    c = compare(profile(mono_ish, SR), profile(wide, SR))
    tonal = in_range(c.centres_hz)
    # S/M of (n + e1, n + e2), e 20 dB down: (2 x 0.01 / 4) / 1 -> -23 dB; unrelated: 0 dB
    assert c.mix.region_width_db(tonal) == pytest.approx(-23.0, abs=1.0)
    assert c.reference.region_width_db(tonal) == pytest.approx(0.0, abs=0.5)
    assert c.width_diff_db == pytest.approx(-23.0, abs=1.5)
    for key in ("low_mids", "mids", "upper_mids", "highs"):
        assert region(c, key).width_diff_db < -20.0
    words = [s for s in c.sentences() if "narrower" in s]
    assert len(words) == 1 and "whole spectrum" in words[0]
    assert not any("wider" in s for s in c.sentences())


def test_a_mono_file_reads_the_width_floor_and_stays_json_clean():
    mono = pink(channels=1, seed=2)
    c = compare(profile(mono, SR), profile(pink(seed=2), SR))
    assert c.mix.channels == 1
    assert np.all(c.mix.width_db[np.isfinite(c.mix.bands_db)] == WIDTH_FLOOR_DB)
    assert c.width_diff_db == pytest.approx(WIDTH_FLOOR_DB, abs=0.6)
    d = c.to_dict()
    text = json.dumps(d, allow_nan=False)  # no NaN or infinity anywhere
    assert json.loads(text)["regions"][0]["mix_width_db"] == WIDTH_FLOOR_DB
    assert d["sentences"] == c.sentences()
    assert any(s.startswith("the mix is mono; the reference is stereo") for s in c.sentences())


def test_short_term_crest_falls_when_a_limiter_works_harder():
    bed = pink(6.0, seed=7)  # RMS 0.1 per channel
    clicks = np.zeros(bed.shape[1])
    clicks[SR // 8 :: SR // 4] = 1.0  # four sharp hits a second, 20 dB above the bed's RMS
    clicks = np.convolve(clicks, np.exp(-np.arange(64) / 8.0))[: bed.shape[1]]
    x = (bed + clicks).astype(np.float32)
    before = short_term_crest_db(x, SR)
    assert before == pytest.approx(20.0, abs=2.0)
    # 12 dB more gain into a -1 dBTP limiter: the hits are held down, the bed comes up
    limited = limit(x * np.float32(10 ** (12 / 20)), sample_rate=SR, ceiling_dbtp=-1.0)
    after = short_term_crest_db(limited.astype(np.float32), SR)
    assert after < before - 8.0


def test_the_reference_is_resampled_to_the_mix_rate(tmp_path):
    mix = write_wav(tmp_path / "mix.wav", pink(seed=1), SR)
    ref = write_wav(tmp_path / "ref.wav", pink(seed=2, sr=44_100), 44_100)
    c = compare_files(mix, ref)
    assert c.mix.sample_rate == c.reference.sample_rate == SR
    assert c.tonal_distance_db < 0.6  # two different pink noises, the same spectrum
    assert c.sentences()[0].startswith("the mix matches")


# --------------------------------------------------------------------------------------------
# bad input


def test_bad_files_give_one_line_naming_the_file(tmp_path):
    good = write_wav(tmp_path / "good.wav", pink(seed=4), SR)
    missing = tmp_path / "missing.wav"
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n")
    short = write_wav(tmp_path / "short.wav", pink(0.2, seed=4), SR)
    for bad in (missing, text, short):
        for args in ((bad, good), (good, bad)):
            with pytest.raises(AudioFileError) as err:
                compare_files(*args)
            message = str(err.value)
            assert str(bad) in message and "\n" not in message
    with pytest.raises(AudioFileError, match="too short"):
        compare_files(short, good)


def test_bad_arrays_are_refused_with_the_value():
    with pytest.raises(ParameterError, match=r"\(3, 48000\)"):
        profile(np.zeros((3, SR), dtype=np.float32), SR)
    x = pink(1.0)
    x[0, 10] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        profile(x, SR)
    with pytest.raises(ParameterError, match="silent"):
        profile(np.zeros((2, SR), dtype=np.float32), SR)
    assert issubclass(ParameterError, MixwiseError)


# --------------------------------------------------------------------------------------------
# the picture


def test_the_svg_is_well_formed_and_draws_both_curves_and_every_band(pink_profile):
    x, ref = pink_profile
    sos = rbj_biquad("low_shelf", 300.0, SR, gain_db=6.0)
    c = compare(profile(sosfilt(sos, x).astype(np.float32), SR), ref)
    svg = comparison_svg(c)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert len(root.findall(f"{ns}polyline")) == 2  # mix and reference
    bars = [r for r in root.findall(f"{ns}rect") if r.get("fill-opacity") == "0.8"]
    assert len(bars) == int(np.isfinite(c.band_diff_db).sum())
    # the tallest bar is in the low end, pointing up (SVG y grows downward)
    tallest = max(bars, key=lambda r: float(r.get("height")))
    assert float(tallest.get("x")) < 0.4 * float(root.get("width"))
    assert "script" not in svg and "href" not in svg
    texts = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
    assert "tonal distance" in texts and "low end" in texts


# --------------------------------------------------------------------------------------------
# real data


@pytest.mark.realdata
def test_a_lossless_human_mix_matches_the_sum_of_its_stems():
    """Hydrogen "Jazzy": the FLAC mixture is the unity sum of its FLAC stems (69 dB SNR)."""
    folder = DATA_DIR / "hydrogen_jazzy"
    if not (folder / "mixture.flac").is_file():
        pytest.skip(f"{folder} absent")
    import soundfile as sf

    frames = 8 * 44_100
    stems = [
        sf.read(str(p), dtype="float32", always_2d=True, frames=frames)[0]
        for p in sorted((folder / "stems").iterdir())
    ]
    total = np.sum(stems, axis=0).T.astype(np.float32)
    mixture, rate = sf.read(str(folder / "mixture.flac"), dtype="float32", frames=frames)
    c = compare(profile(total, rate), profile(np.ascontiguousarray(mixture.T), rate))
    assert c.tonal_distance_db < 0.02
    assert abs(c.loudness_diff_lu) < 0.01 and abs(c.width_diff_db) < 0.05
    assert all(abs(r.diff_db) < 0.05 for r in c.regions)
    assert c.sentences()[0].startswith("the mix matches")
    # and against another song's mix it has plenty to say
    other = DATA_DIR / "musdb_falcon69" / "mixture.flac"
    if other.is_file():
        x, other_rate = sf.read(str(other), dtype="float32", always_2d=True)
        assert other_rate == rate
        d = compare(c.mix, profile(np.ascontiguousarray(x.T), rate))
        assert d.tonal_distance_db > 3.0 and len(d.sentences()) >= 4
