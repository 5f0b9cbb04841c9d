"""Pan law and stereo width.

* **Mono source** (the pan law): constant power, -3 dB at the centre. With
  ``theta = (pan + 1) * pi / 4``: ``left = cos(theta)``, ``right = sin(theta)``.
  Hard left (-1): L = 0 dB, R = -inf; centre: both -3.01 dB; pan = +0.5: L = -8.34 dB,
  R = -0.69 dB; hard right: L = -inf, R = 0 dB.
* **Stereo source** (a balance control): the centre leaves both channels at unity; moving
  right attenuates the left channel with the same constant-power curve, normalised to unity at
  the centre (``left = min(1, sqrt(2) cos(theta))``, ``right = min(1, sqrt(2) sin(theta))``), so
  at +0.5 the left channel is at -5.33 dB and at +1 it is silent.
* **Width** (stereo sources, before the balance): mid/side scaling, ``S *= width``; 0 folds to
  mono, 1 leaves the image as recorded, 2 doubles the side signal.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SQRT2 = math.sqrt(2.0)


def pan_gains(pan: float, *, channels: int) -> tuple[float, float]:
    """(left, right) linear gains for ``pan`` in [-1, 1] on a mono (1) or stereo (2) source."""
    p = min(max(float(pan), -1.0), 1.0)
    theta = (p + 1.0) * math.pi / 4.0
    left, right = math.cos(theta), math.sin(theta)
    if p == -1.0:
        right = 0.0
    if p == 1.0:
        left = 0.0
    if channels == 1:
        return left, right
    return min(1.0, SQRT2 * left), min(1.0, SQRT2 * right)


def to_stereo(
    block: np.ndarray, *, pan: float, width: float = 1.0, gain: float = 1.0
) -> np.ndarray:
    """Place a ``(1 | 2, n)`` block in the stereo field; returns a new ``(2, n)`` float array.

    ``gain`` (linear) is folded into the pan gains so the block is touched once.
    """
    channels = block.shape[0]
    gl, gr = pan_gains(pan, channels=channels)
    out = np.empty((2, block.shape[1]), dtype=block.dtype)
    if channels == 1:
        np.multiply(block[0], gl * gain, out=out[0])
        np.multiply(block[0], gr * gain, out=out[1])
        return out
    if width == 1.0:
        np.multiply(block[0], gl * gain, out=out[0])
        np.multiply(block[1], gr * gain, out=out[1])
        return out
    mid = (block[0] + block[1]) * 0.5
    side = (block[0] - block[1]) * (0.5 * width)
    np.multiply(mid + side, gl * gain, out=out[0])
    np.multiply(mid - side, gr * gain, out=out[1])
    return out


@njit(cache=True, nogil=True)
def _place_kernel(x, g, use_g, gl, gr, width, out):
    # out = pan/balance(width(x)) * g, in one pass; mono x feeds both sides.
    C, N = x.shape
    half_w = 0.5 * width
    for n in range(N):
        k = g[n] if use_g else 1.0
        if C == 1:
            v = x[0, n] * k
            out[0, n] = v * gl
            out[1, n] = v * gr
        elif width == 1.0:
            out[0, n] = x[0, n] * (k * gl)
            out[1, n] = x[1, n] * (k * gr)
        else:
            mid = (x[0, n] + x[1, n]) * 0.5
            side = (x[0, n] - x[1, n]) * half_w
            out[0, n] = (mid + side) * (k * gl)
            out[1, n] = (mid - side) * (k * gr)


def place(
    block: np.ndarray,
    *,
    pan: float,
    width: float = 1.0,
    gain: float = 1.0,
    gains: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`to_stereo` with an optional per-sample gain ``gains`` (shape ``(n,)``, linear,
    e.g. a compressor's) applied in the same pass; returns a new ``(2, n)`` float64 array."""
    x = np.ascontiguousarray(block, dtype=np.float64)
    gl, gr = pan_gains(pan, channels=x.shape[0])
    out = np.empty((2, x.shape[1]))
    g = gains if gains is not None else np.empty(0)
    _place_kernel(x, g, gains is not None, gl * gain, gr * gain, float(width), out)
    return out
