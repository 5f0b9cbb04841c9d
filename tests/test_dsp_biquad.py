"""Each EQ band type against the RBJ cookbook's analog prototypes (bilinear transform)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixwise.dsp.biquad import SosFilter, butterworth, rbj_biquad, sos_response_db
from mixwise.errors import ParameterError
from signals import rms_db, sine


def prototype_db(kind: str, f: float, f0: float, sr: int, gain_db: float, q: float) -> float:
    """|H| in dB of the cookbook's analog prototype at the bilinear-warped frequency of f.

    Written from the prototypes (H(s) with s normalised to the centre frequency), not from the
    digital coefficients, so it checks the library's formulas independently.
    """
    s = 1j * math.tan(math.pi * f / sr) / math.tan(math.pi * f0 / sr)
    A = 10 ** (gain_db / 40)
    r = math.sqrt(A) / q
    h = {
        "peak": (s * s + s * (A / q) + 1) / (s * s + s / (A * q) + 1),
        "low_shelf": A * (s * s + r * s + A) / (A * s * s + r * s + 1),
        "high_shelf": A * (A * s * s + r * s + 1) / (s * s + r * s + A),
        "notch": (s * s + 1) / (s * s + s / q + 1),
        "band_pass": (s / q) / (s * s + s / q + 1),
        "low_pass": 1 / (s * s + s / q + 1),
        "high_pass": s * s / (s * s + s / q + 1),
    }[kind]
    return 20 * math.log10(max(abs(h), 1e-300))


KINDS = ["peak", "low_shelf", "high_shelf", "notch", "band_pass", "low_pass", "high_pass"]


@pytest.mark.parametrize("sr", [44_100, 48_000, 96_000])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("f0", "gain_db", "q"), [(1000.0, 6.0, 0.7071), (250.0, -9.0, 2.0)])
def test_response_at_f0_and_2f0_matches_cookbook(kind, sr, f0, gain_db, q):
    sos = rbj_biquad(kind, f0, sr, gain_db=gain_db, q=q)
    got = sos_response_db(sos, np.array([f0, 2 * f0]), sr)
    for g, f in zip(got, (f0, 2 * f0), strict=True):
        want = prototype_db(kind, f, f0, sr, gain_db, q)
        if want < -100:  # the notch's zero
            assert g < -100
        else:
            assert g == pytest.approx(want, abs=0.05)


def test_closed_form_values_at_f0():
    sr = 48_000
    at = lambda kind, **kw: sos_response_db(rbj_biquad(kind, 1000.0, sr, **kw), [1000.0], sr)[0]  # noqa: E731
    assert at("peak", gain_db=6.0, q=1.0) == pytest.approx(6.0, abs=1e-6)
    assert at("low_shelf", gain_db=6.0) == pytest.approx(3.0, abs=1e-6)  # half gain at f0
    assert at("high_shelf", gain_db=-8.0) == pytest.approx(-4.0, abs=1e-6)
    assert at("low_pass", q=0.7071) == pytest.approx(-3.01, abs=0.01)
    assert at("high_pass", q=2.0) == pytest.approx(20 * math.log10(2.0), abs=1e-6)
    assert at("band_pass", q=3.0) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("kind", ["peak", "low_shelf", "high_shelf", "low_pass"])
def test_rendered_sine_gain_matches_response(kind):
    # the same answer measured on audio: a steady sine through the block filter
    sr, f0, f = 48_000, 1000.0, 2000.0
    sos = rbj_biquad(kind, f0, sr, gain_db=6.0, q=1.0)
    x = sine(f, seconds=1.0, sample_rate=sr, amplitude=0.5)
    filt = SosFilter(sos, 1)
    y = np.concatenate(
        [filt.process(x[:, i : i + 4096]) for i in range(0, x.shape[1], 4096)], axis=1
    )
    measured = rms_db(y[:, sr // 2 :]) - rms_db(x[:, sr // 2 :])
    assert measured == pytest.approx(prototype_db(kind, f, f0, sr, 6.0, 1.0), abs=0.05)


@pytest.mark.parametrize("slope", [6, 12, 18, 24, 36, 48])
def test_butterworth_is_minus_3db_at_corner_with_its_slope(slope):
    sr = 48_000
    sos = butterworth("high_pass", 100.0, sr, slope_db_oct=slope)
    corner, octave_down, far = sos_response_db(sos, np.array([100.0, 25.0, 12.5]), sr)
    assert corner == pytest.approx(-3.01, abs=0.02)
    # two octaves below the corner, asymptotically one slope per octave
    assert far - octave_down == pytest.approx(-slope, abs=0.5)


def test_12db_butterworth_equals_cookbook_hpf():
    sr = 44_100
    f = np.geomspace(20, 20_000, 50)
    a = sos_response_db(butterworth("high_pass", 80.0, sr, slope_db_oct=12), f, sr)
    b = sos_response_db(rbj_biquad("high_pass", 80.0, sr, q=1 / math.sqrt(2)), f, sr)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_block_filtering_equals_one_piece():
    sr = 48_000
    sos = np.vstack(
        [
            rbj_biquad("peak", 300.0, sr, gain_db=5, q=2),
            butterworth("high_pass", 60.0, sr, slope_db_oct=24),
        ]
    )
    x = np.random.default_rng(1).standard_normal((2, 50_000)).astype(np.float32)
    whole = SosFilter(sos, 2).process(x)
    f = SosFilter(sos, 2)
    parts = np.concatenate(
        [f.process(x[:, i : i + 777]) for i in range(0, x.shape[1], 777)], axis=1
    )
    np.testing.assert_array_equal(whole, parts)


def test_bad_parameters_raise_with_the_value():
    with pytest.raises(ParameterError, match="30000"):
        rbj_biquad("peak", 30000.0, 48_000, gain_db=3)
    with pytest.raises(ParameterError, match="bell"):
        rbj_biquad("bell", 1000.0, 48_000)
    with pytest.raises(ParameterError, match="7"):
        butterworth("high_pass", 100.0, 48_000, slope_db_oct=7)


def test_lane_filter_bank_equals_sosfilt_per_channel():
    from scipy.signal import sosfilt

    from mixwise.dsp.biquad import LaneFilterBank

    sr = 44_100
    cascades = [
        np.vstack(
            [
                butterworth("high_pass", 40.0, sr, slope_db_oct=24),
                rbj_biquad("peak", 900.0, sr, gain_db=4, q=2),
            ]
        ),
        rbj_biquad("high_shelf", 8000.0, sr, gain_db=-3),
        np.zeros((0, 6)),  # a lane with nothing to do passes through
        butterworth("low_pass", 5000.0, sr, slope_db_oct=48),
        rbj_biquad("notch", 60.0, sr, q=8),
    ]
    x = np.random.default_rng(2).standard_normal((5, 30_000))
    bank = LaneFilterBank(cascades)
    y = x.copy()
    for i in range(0, x.shape[1], 4096):  # block by block, state carried over
        view = y[:, i : i + 4096]
        for g in range(len(bank.groups)):
            bank.process_group(g, view)
    for lane, sos in enumerate(cascades):
        want = sosfilt(sos, x[lane]) if len(sos) else x[lane]
        np.testing.assert_allclose(y[lane], want, rtol=0, atol=1e-12)
