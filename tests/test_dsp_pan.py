"""The documented pan law."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixwise.dsp.pan import pan_gains, to_stereo


def db(g: float) -> float:
    return 20 * math.log10(g) if g > 0 else -math.inf


def test_mono_pan_law_values():
    assert pan_gains(-1.0, channels=1) == (1.0, 0.0)
    left, right = pan_gains(0.0, channels=1)
    assert db(left) == pytest.approx(-3.01, abs=0.01) and db(right) == pytest.approx(
        -3.01, abs=0.01
    )
    left, right = pan_gains(0.5, channels=1)
    assert db(left) == pytest.approx(-8.34, abs=0.01)
    assert db(right) == pytest.approx(-0.69, abs=0.01)
    assert pan_gains(1.0, channels=1) == (0.0, 1.0)


@pytest.mark.parametrize("pan", np.linspace(-1, 1, 9))
def test_mono_pan_is_constant_power(pan):
    left, right = pan_gains(pan, channels=1)
    assert left**2 + right**2 == pytest.approx(1.0, abs=1e-12)


def test_stereo_balance_values():
    assert pan_gains(0.0, channels=2) == (1.0, 1.0)
    left, right = pan_gains(0.5, channels=2)
    assert db(left) == pytest.approx(-5.33, abs=0.01) and right == 1.0
    assert pan_gains(1.0, channels=2) == (0.0, 1.0)
    assert pan_gains(-1.0, channels=2) == (1.0, 0.0)


def test_width_zero_folds_to_mono_and_one_keeps_image():
    x = np.array([[1.0, 0.5, -0.25], [0.0, 0.5, 0.25]])
    np.testing.assert_array_equal(to_stereo(x, pan=0.0, width=1.0), x)
    mono = to_stereo(x, pan=0.0, width=0.0)
    np.testing.assert_allclose(mono[0], mono[1])
    np.testing.assert_allclose(mono[0], x.mean(axis=0))
