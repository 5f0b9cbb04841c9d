"""Meters against the BS.1770 / EBU reference signals and against libebur128."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixwise.analysis.meters import (
    LoudnessMeter,
    integrated_loudness,
    loudness_range,
    measure,
)
from signals import DATA_DIR, noise, sine


def _ebur128(x: np.ndarray, sr: int) -> tuple[float, float]:
    pyebur128 = pytest.importorskip("pyebur128")
    mode = pyebur128.MeasurementMode.MODE_I | pyebur128.MeasurementMode.MODE_LRA
    st = pyebur128.R128State(x.shape[0], sr, mode)
    st.add_frames(np.ascontiguousarray(x.T, dtype=np.float64).ravel(), x.shape[1])
    return pyebur128.get_loudness_global(st), pyebur128.get_loudness_range(st)


@pytest.mark.parametrize("sr", [44_100, 48_000])
def test_997hz_sine_at_minus_20_dbfs_reads_minus_20_lufs_in_stereo(sr):
    x = sine(997.0, seconds=10.0, sample_rate=sr, amplitude=0.1, channels=2)
    assert integrated_loudness(x, sr) == pytest.approx(-20.0, abs=0.1)


@pytest.mark.parametrize("sr", [32_000, 44_100, 48_000, 88_200, 96_000])
def test_integrated_loudness_matches_libebur128_on_noise(sr):
    x = noise(seconds=4.0, sample_rate=sr, rms=0.05, seed=sr)
    x[:, :sr] *= 0.01  # a quiet first second, so the gates matter
    assert integrated_loudness(x, sr) == pytest.approx(_ebur128(x, sr)[0], abs=0.01)


def test_gating_ignores_silence():
    sr = 48_000
    tone = sine(997.0, seconds=5.0, sample_rate=sr, amplitude=0.1, channels=2)
    padded = np.concatenate([tone, np.zeros((2, sr * 20), np.float32)], axis=1)
    # 20 s of silence would pull an ungated average down by 7 dB; the gate keeps all but the
    # few 400 ms blocks that straddle the end of the tone
    assert integrated_loudness(padded, sr) == pytest.approx(integrated_loudness(tone, sr), abs=0.2)
    assert integrated_loudness(padded, sr) == pytest.approx(_ebur128(padded, sr)[0], abs=0.01)
    assert integrated_loudness(np.zeros((2, sr * 2), np.float32), sr) == -math.inf


@pytest.mark.parametrize(
    ("low_db", "high_db", "want_lu"), [(-30, -20, 10), (-25, -20, 5), (-40, -20, 20)]
)
def test_loudness_range_of_tech3342_style_steps(low_db, high_db, want_lu):
    # 20 s of 1 kHz at one level, then 20 s at another (EBU Tech 3342 test cases 1-3)
    sr = 48_000
    a = sine(1000.0, seconds=20.0, sample_rate=sr, amplitude=10 ** (low_db / 20), channels=2)
    b = sine(1000.0, seconds=20.0, sample_rate=sr, amplitude=10 ** (high_db / 20), channels=2)
    x = np.concatenate([a, b], axis=1)
    assert loudness_range(x, sr) == pytest.approx(want_lu, abs=0.1)
    assert loudness_range(x, sr) == pytest.approx(_ebur128(x, sr)[1], abs=0.1)


def test_streaming_meter_equals_batch():
    sr = 44_100
    x = noise(seconds=6.0, sample_rate=sr, rms=0.1, seed=5)
    x[:, sr * 2 : sr * 3] *= 0.001
    meter = LoudnessMeter(sr, 2)
    for i in range(0, x.shape[1], 12_345):
        meter.add(x[:, i : i + 12_345])
    assert meter.integrated_lufs == pytest.approx(integrated_loudness(x, sr), abs=1e-9)


def test_peak_rms_and_crest_of_a_sine():
    sr = 48_000
    m = measure(sine(1000.0, seconds=3.0, sample_rate=sr, amplitude=0.5, fade_ms=10), sr)
    assert m.sample_peak_dbfs == pytest.approx(-6.02, abs=0.01)
    assert m.rms_dbfs == pytest.approx(-9.03, abs=0.02)
    assert m.crest_db == pytest.approx(3.01, abs=0.02)
    assert m.true_peak_dbtp == pytest.approx(-6.02, abs=0.02)
    assert m.duration_s == pytest.approx(3.0)
    d = m.to_dict()
    assert d["sample_peak_dbfs"] == -6.02


def test_measure_does_not_modify_input():
    x = noise(seconds=1.0)
    before = x.copy()
    measure(x, 48_000)
    np.testing.assert_array_equal(x, before)


@pytest.mark.skipif(not DATA_DIR.exists(), reason="shared data absent")
def test_loudness_matches_libebur128_on_real_stems():
    from mixwise.io.audio import read_audio

    files = sorted(DATA_DIR.glob("hydrogen_jazzy/stems/*"))[:3] + sorted(
        DATA_DIR.glob("musdb_falcon69/stems/*")
    )
    assert files
    for f in files:
        a, sr, _, _ = read_audio(f)
        assert integrated_loudness(a, sr) == pytest.approx(_ebur128(a, sr)[0], abs=0.01), f.name


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_channel_power_rows_are_each_channel_filtered_alone(channels):
    from mixwise.analysis.meters import kweighted_power, kweighted_step_power

    rng = np.random.default_rng(7)
    x = (0.1 * rng.standard_normal((channels, 20_000))).astype(np.float32)
    rows = kweighted_step_power(x, 48_000, 1)  # a step of one sample: per-sample power
    assert rows.shape == (channels, 20_000)
    for ch in range(channels):
        alone = kweighted_power(x[ch : ch + 1], 48_000)
        np.testing.assert_allclose(rows[ch], alone, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(rows.sum(axis=0), kweighted_power(x, 48_000), rtol=1e-12)
    # a 997 Hz sine at -20 dBFS in one channel reads -20 LUFS from its row
    t = np.arange(48_000 * 2) / 48_000
    s = np.vstack([0.1 * np.sqrt(2) * np.sin(2 * np.pi * 997 * t), np.zeros_like(t)])
    p = kweighted_step_power(s, 48_000, 1)[0][48_000:].mean()
    assert -0.691 + 10 * np.log10(p) == pytest.approx(-20.0, abs=0.01)


@pytest.mark.parametrize(("channels", "n"), [(1, 48_000 * 5 + 123), (2, 48_000 * 7), (2, 1000)])
def test_step_power_sums_the_per_sample_power(channels, n):
    from mixwise.analysis.meters import kweighted_step_power, measure

    rng = np.random.default_rng(3)
    x = (0.05 * rng.standard_normal((channels, n))).astype(np.float32)
    x[:, : n // 3] *= 0.01  # a quiet first third, so the gates have work to do
    step = 4800
    steps = kweighted_step_power(x, 48_000, step)
    per_sample = kweighted_step_power(x, 48_000, 1)
    assert steps.shape == (channels, -(-n // step))
    full = n // step
    np.testing.assert_allclose(
        steps[:, :full],
        per_sample[:, : full * step].reshape(channels, full, step).sum(axis=2),
        rtol=1e-9,
    )
    if n % step:
        np.testing.assert_allclose(steps[:, -1], per_sample[:, full * step :].sum(axis=1))
    a = measure(x, 48_000, with_true_peak=False)
    b = measure(x, 48_000, with_true_peak=False, step_power=steps)
    if math.isinf(a.integrated_lufs):
        assert math.isinf(b.integrated_lufs)
    else:
        assert b.integrated_lufs == pytest.approx(a.integrated_lufs, abs=1e-9)
    assert b.loudness_range_lu == pytest.approx(a.loudness_range_lu, abs=1e-9)


def test_step_meters_fall_back_when_blocks_are_not_whole_steps():
    from mixwise.analysis.meters import step_meters

    # at 44 101 Hz a 3 s block is 132 303 samples, not 30 steps of 4410
    assert step_meters(np.zeros((2, 10)), 44_101, 4410, 44_100) is None
    assert step_meters(np.zeros((2, 10)), 48_000, 4800, 48_000) is not None
