"""Compressor against its static curve, limiter against its ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from mixwise.dsp.dynamics import Compressor, TruePeakLimiter, gain_computer_db, limit, true_peak
from signals import fades, noise, rms_db, sine


def _tp_ebur128_db(x: np.ndarray, sr: int) -> float:
    pyebur128 = pytest.importorskip("pyebur128")
    st = pyebur128.R128State(x.shape[0], sr, pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    st.add_frames(np.ascontiguousarray(x.T, dtype=np.float64).ravel(), x.shape[1])
    return 20 * np.log10(max(pyebur128.get_true_peak(st, c) for c in range(x.shape[0])))


def _steady_gr(comp: Compressor, x: np.ndarray, sr: int) -> float:
    y = comp.process(x)
    tail = slice(x.shape[1] - sr // 2, x.shape[1])
    return rms_db(x[:, tail]) - rms_db(y[:, tail])


@pytest.mark.parametrize(
    ("level_db", "thr", "ratio"), [(-6, -20, 4), (-10, -30, 2), (-3, -12, 10), (-20, -24, 1.5)]
)
def test_peak_compressor_steady_state_matches_static_curve(level_db, thr, ratio):
    sr = 48_000
    x = sine(
        1000.0, seconds=2.0, sample_rate=sr, amplitude=10 ** (level_db / 20), channels=2
    ).astype(np.float64)
    comp = Compressor(
        sample_rate=sr,
        channels=2,
        threshold_db=thr,
        ratio=ratio,
        attack_ms=5,
        release_ms=100,
        knee_db=0,
    )
    assert _steady_gr(comp, x, sr) == pytest.approx((level_db - thr) * (1 - 1 / ratio), abs=0.1)


def test_rms_compressor_uses_the_sine_rms_level():
    sr = 48_000
    x = sine(1000.0, seconds=2.0, sample_rate=sr, amplitude=0.5).astype(np.float64)
    comp = Compressor(
        sample_rate=sr,
        channels=1,
        threshold_db=-24,
        ratio=3,
        attack_ms=5,
        release_ms=200,
        knee_db=0,
        detector="rms",
    )
    level = 20 * np.log10(0.5) - 3.0103  # RMS of a sine of peak 0.5
    assert _steady_gr(comp, x, sr) == pytest.approx((level + 24) * (1 - 1 / 3), abs=0.1)


def test_makeup_and_below_threshold_is_bypass():
    sr = 48_000
    x = sine(440.0, seconds=1.0, sample_rate=sr, amplitude=0.05).astype(np.float64)  # -26 dBFS
    comp = Compressor(
        sample_rate=sr,
        channels=1,
        threshold_db=-12,
        ratio=4,
        attack_ms=1,
        release_ms=50,
        knee_db=6,
        makeup_db=3.0,
    )
    y = comp.process(x)
    np.testing.assert_allclose(y, x * 10 ** (3 / 20), rtol=1e-12)


def test_soft_knee_curve():
    assert gain_computer_db(-20.0, threshold_db=-20, ratio=4, knee_db=0) == 0.0
    assert gain_computer_db(-10.0, threshold_db=-20, ratio=4, knee_db=6) == pytest.approx(7.5)
    # at the threshold, inside a 6 dB knee: (1 - 1/R) (W/2)^2 / (2 W) = 0.75 * 9 / 12
    assert gain_computer_db(-20.0, threshold_db=-20, ratio=4, knee_db=6) == pytest.approx(0.5625)
    assert gain_computer_db(-23.5, threshold_db=-20, ratio=4, knee_db=6) == 0.0


def test_attack_time_constant():
    # a step above threshold: after one attack time the reduction has covered ~63 %
    sr = 48_000
    x = np.zeros((1, sr))
    x[0, 1000:] = 0.5
    comp = Compressor(
        sample_rate=sr,
        channels=1,
        threshold_db=-30,
        ratio=100,
        attack_ms=10,
        release_ms=500,
        knee_db=0,
    )
    g = comp.gains(x)
    gr_db = -20 * np.log10(g)
    final = (20 * np.log10(0.5) + 30) * (1 - 1 / 100)
    assert gr_db[1000 + 480] / final == pytest.approx(1 - np.exp(-1), abs=0.02)


def test_compressor_blocks_equal_one_piece():
    sr = 44_100
    x = noise(seconds=2.0, sample_rate=sr, rms=0.3).astype(np.float64)
    kw = dict(
        sample_rate=sr, channels=2, threshold_db=-25, ratio=4, attack_ms=3, release_ms=80, knee_db=4
    )
    whole = Compressor(**kw).process(x)
    c = Compressor(**kw)
    step = 64 * 16  # a multiple of the compressor's control rate
    parts = np.concatenate(
        [c.process(x[:, i : i + step]) for i in range(0, x.shape[1], step)], axis=1
    )
    np.testing.assert_array_equal(whole, parts)


@pytest.mark.parametrize("sr", [44_100, 48_000])
@pytest.mark.parametrize("ceiling", [-1.0, -0.3, -6.0])
def test_limiter_never_exceeds_ceiling_on_clipped_broadband(sr, ceiling):
    rng = np.random.default_rng(7)
    x = np.clip(rng.standard_normal((2, sr * 5)) * 1.5, -1, 1) * 2.0  # clipped, then +6 dB
    y = limit(x, sample_rate=sr, ceiling_dbtp=ceiling)
    assert y.shape == x.shape
    assert _tp_ebur128_db(y.astype(np.float32), sr) <= ceiling
    assert 20 * np.log10(true_peak(y)) <= ceiling + 1e-9
    assert 20 * np.log10(true_peak(y)) > ceiling - 0.1  # and it does limit up to the ceiling


def test_limiter_passes_quiet_audio_unchanged_and_aligned():
    sr = 48_000
    x = noise(seconds=1.0, sample_rate=sr, rms=0.05).astype(np.float64)  # peaks ~ -12 dBFS
    for block in (64, 1000, 65_536):
        lim = TruePeakLimiter(sample_rate=sr, channels=2, ceiling_dbtp=-1.0)
        parts = [lim.process(x[:, i : i + block]) for i in range(0, x.shape[1], block)]
        y = np.concatenate([*parts, lim.flush()], axis=1)
        np.testing.assert_array_equal(y, x)
        assert lim.max_gain_reduction_db == 0.0


def test_limiter_blocks_equal_one_piece_and_reports_reduction():
    sr = 44_100
    x = noise(seconds=2.0, sample_rate=sr, rms=0.5, seed=3).astype(np.float64)
    whole = limit(x, sample_rate=sr, ceiling_dbtp=-1.0)
    lim = TruePeakLimiter(sample_rate=sr, channels=2, ceiling_dbtp=-1.0)
    parts = [lim.process(x[:, i : i + 999]) for i in range(0, x.shape[1], 999)]
    np.testing.assert_array_equal(whole, np.concatenate([*parts, lim.flush()], axis=1))
    assert lim.max_gain_reduction_db > 3.0


def test_true_peak_meter_agrees_with_libebur128():
    sr = 48_000
    for seed in range(3):
        x = noise(seconds=2.0, sample_rate=sr, rms=0.2, seed=seed)
        ours = 20 * np.log10(true_peak(x))
        ref = _tp_ebur128_db(x, sr)
        assert ref - 0.01 <= ours <= ref + 0.2
    # a full-scale sine at fs/4 sampled 45 degrees off its peaks: samples at -3.01 dBFS,
    # true peak 0 dBTP (faded in and out: an abrupt start would ring above full scale)
    t = np.arange(sr) / sr
    x = (np.sin(2 * np.pi * (sr / 4) * t + np.pi / 4) * fades(sr, sr // 20))[None]
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-3.01, abs=0.01)
    assert 20 * np.log10(true_peak(x)) == pytest.approx(0.0, abs=0.02)
