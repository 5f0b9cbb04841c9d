"""RBJ "Audio EQ Cookbook" biquads and Butterworth pass filters as second-order sections.

Coefficients follow Robert Bristow-Johnson's cookbook formulas, so a band's frequency (Hz),
gain (dB) and Q mean the same here as in the DAWs that use the cookbook. Every function returns
a ``(n_sections, 6)`` float64 array in scipy's ``sos`` layout ``[b0, b1, b2, 1, a1, a2]``.
Filtering is done by :class:`SosFilter`, which keeps its state between blocks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from numba import njit

from mixwise.errors import ParameterError

_EMPTY = np.zeros((0, 6))


def _check(freq_hz: float, sample_rate: int, q: float) -> None:
    if not 0.0 < freq_hz < sample_rate / 2:
        raise ParameterError(
            f"filter frequency {freq_hz} Hz must lie between 0 and Nyquist ({sample_rate / 2} Hz)"
        )
    if q <= 0:
        raise ParameterError(f"Q must be positive, got {q}")


def _normalise(b: tuple[float, float, float], a: tuple[float, float, float]) -> np.ndarray:
    a0 = a[0]
    return np.array([[b[0] / a0, b[1] / a0, b[2] / a0, 1.0, a[1] / a0, a[2] / a0]])


def rbj_biquad(
    kind: str, freq_hz: float, sample_rate: int, *, gain_db: float = 0.0, q: float = 0.7071
) -> np.ndarray:
    """One cookbook biquad as a ``(1, 6)`` sos row.

    Parameters
    ----------
    kind : ``peak``, ``low_shelf``, ``high_shelf``, ``notch``, ``band_pass`` (0 dB peak gain),
        ``low_pass``, ``high_pass``, ``all_pass``
    freq_hz : centre / corner / shelf midpoint frequency in Hz (0 < f < Nyquist)
    sample_rate : Hz
    gain_db : boost (+) or cut (-) in dB, for ``peak`` and the shelves
    q : the cookbook Q; for shelves the same Q form of alpha is used (Q = 0.7071 <=> S = 1)
    """
    _check(freq_hz, sample_rate, q)
    w0 = 2.0 * math.pi * freq_hz / sample_rate
    cw, sw = math.cos(w0), math.sin(w0)
    alpha = sw / (2.0 * q)
    A = 10.0 ** (gain_db / 40.0)
    if kind == "peak":
        b = (1 + alpha * A, -2 * cw, 1 - alpha * A)
        a = (1 + alpha / A, -2 * cw, 1 - alpha / A)
    elif kind == "low_shelf":
        s = 2.0 * math.sqrt(A) * alpha
        b = (
            A * ((A + 1) - (A - 1) * cw + s),
            2 * A * ((A - 1) - (A + 1) * cw),
            A * ((A + 1) - (A - 1) * cw - s),
        )
        a = ((A + 1) + (A - 1) * cw + s, -2 * ((A - 1) + (A + 1) * cw), (A + 1) + (A - 1) * cw - s)
    elif kind == "high_shelf":
        s = 2.0 * math.sqrt(A) * alpha
        b = (
            A * ((A + 1) + (A - 1) * cw + s),
            -2 * A * ((A - 1) + (A + 1) * cw),
            A * ((A + 1) + (A - 1) * cw - s),
        )
        a = ((A + 1) - (A - 1) * cw + s, 2 * ((A - 1) - (A + 1) * cw), (A + 1) - (A - 1) * cw - s)
    elif kind == "notch":
        b = (1.0, -2 * cw, 1.0)
        a = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "band_pass":
        b = (alpha, 0.0, -alpha)
        a = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "low_pass":
        b = ((1 - cw) / 2, 1 - cw, (1 - cw) / 2)
        a = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "high_pass":
        b = ((1 + cw) / 2, -(1 + cw), (1 + cw) / 2)
        a = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "all_pass":
        b = (1 - alpha, -2 * cw, 1 + alpha)
        a = (1 + alpha, -2 * cw, 1 - alpha)
    else:
        raise ParameterError(f"unknown biquad type {kind!r}")
    return _normalise(b, a)


def butterworth(kind: str, freq_hz: float, sample_rate: int, *, slope_db_oct: int) -> np.ndarray:
    """A Butterworth high- or low-pass (``kind`` ``"high_pass"``/``"low_pass"``) as sos rows.

    ``slope_db_oct`` is 6 x the order (6-48 dB/octave); the response is -3.01 dB at ``freq_hz``.
    The 12 dB/oct case equals the cookbook biquad with Q = 0.7071.
    """
    from scipy.signal import butter

    if slope_db_oct % 6 or not 6 <= slope_db_oct <= 48:
        raise ParameterError(f"slope must be 6-48 dB/octave in steps of 6, got {slope_db_oct}")
    _check(freq_hz, sample_rate, 1.0)
    btype = {"high_pass": "highpass", "low_pass": "lowpass"}.get(kind)
    if btype is None:
        raise ParameterError(f"butterworth takes high_pass or low_pass, got {kind!r}")
    return butter(slope_db_oct // 6, freq_hz, btype=btype, fs=sample_rate, output="sos")


def is_neutral_band(kind: str, gain_db: float) -> bool:
    """True for a band that leaves the signal exactly unchanged (a 0 dB peak or shelf)."""
    return kind in ("peak", "low_shelf", "high_shelf") and gain_db == 0.0


def chain_sos(sections: Iterable[np.ndarray]) -> np.ndarray:
    """Stack sos arrays into one cascade (an empty cascade has shape ``(0, 6)``)."""
    parts = [s for s in sections if len(s)]
    return np.vstack(parts) if parts else _EMPTY.copy()


def sos_response_db(sos: np.ndarray, freqs_hz: np.ndarray, sample_rate: int) -> np.ndarray:
    """Magnitude response (dB) of a cascade at ``freqs_hz`` (Hz)."""
    from scipy.signal import sosfreqz

    if len(sos) == 0:
        return np.zeros(len(freqs_hz))
    _, h = sosfreqz(sos, worN=np.asarray(freqs_hz, dtype=float), fs=sample_rate)
    return 20.0 * np.log10(np.maximum(np.abs(h), 1e-300))


class SosFilter:
    """A cascade of biquads over ``channels`` channels that keeps its state between blocks.

    Processing in float64 internally keeps low-frequency filters accurate; blocks go in and
    out as ``(channels, n)`` arrays. An empty cascade passes audio through untouched.
    """

    def __init__(self, sos: np.ndarray, channels: int) -> None:
        self.sos = np.asarray(sos, dtype=np.float64)
        self.channels = channels
        self._zi = np.zeros((len(self.sos), channels, 2))

    @property
    def is_identity(self) -> bool:
        return len(self.sos) == 0

    def process(self, block: np.ndarray) -> np.ndarray:
        """Filter one ``(channels, n)`` block; returns float64 (input returned as is if empty)."""
        if self.is_identity:
            return block
        from scipy.signal import sosfilt

        out, self._zi = sosfilt(self.sos, block, axis=-1, zi=self._zi)
        return out


# --------------------------------------------------------------------------------------------
# many channels at once

LANES = 4
"""Channels filtered together by :class:`LaneFilterBank`'s kernel (independent recursions
interleaved, so the CPU overlaps their latencies)."""


@njit(cache=True, nogil=True)
def _sos4_kernel(x0, x1, x2, x3, coef, z):
    # Four independent biquad cascades, one per row; coef: (S, 5, 4) [b0 b1 b2 a1 a2];
    # z: (S, 2, 4) transposed-direct-form-II state. Rows are filtered in place.
    S = coef.shape[0]
    N = x0.shape[0]
    for s in range(S):
        b0a, b0b, b0c, b0d = coef[s, 0, 0], coef[s, 0, 1], coef[s, 0, 2], coef[s, 0, 3]
        b1a, b1b, b1c, b1d = coef[s, 1, 0], coef[s, 1, 1], coef[s, 1, 2], coef[s, 1, 3]
        b2a, b2b, b2c, b2d = coef[s, 2, 0], coef[s, 2, 1], coef[s, 2, 2], coef[s, 2, 3]
        a1a, a1b, a1c, a1d = coef[s, 3, 0], coef[s, 3, 1], coef[s, 3, 2], coef[s, 3, 3]
        a2a, a2b, a2c, a2d = coef[s, 4, 0], coef[s, 4, 1], coef[s, 4, 2], coef[s, 4, 3]
        pa, pb, pc, pd = z[s, 0, 0], z[s, 0, 1], z[s, 0, 2], z[s, 0, 3]
        qa, qb, qc, qd = z[s, 1, 0], z[s, 1, 1], z[s, 1, 2], z[s, 1, 3]
        for n in range(N):
            ua, ub, uc, ud = x0[n], x1[n], x2[n], x3[n]
            ya = b0a * ua + pa
            yb = b0b * ub + pb
            yc = b0c * uc + pc
            yd = b0d * ud + pd
            pa = b1a * ua - a1a * ya + qa
            pb = b1b * ub - a1b * yb + qb
            pc = b1c * uc - a1c * yc + qc
            pd = b1d * ud - a1d * yd + qd
            qa = b2a * ua - a2a * ya
            qb = b2b * ub - a2b * yb
            qc = b2c * uc - a2c * yc
            qd = b2d * ud - a2d * yd
            x0[n], x1[n], x2[n], x3[n] = ya, yb, yc, yd
        z[s, 0, 0], z[s, 0, 1], z[s, 0, 2], z[s, 0, 3] = pa, pb, pc, pd
        z[s, 1, 0], z[s, 1, 1], z[s, 1, 2], z[s, 1, 3] = qa, qb, qc, qd


class LaneFilterBank:
    """Biquad cascades for many channels (lanes), filtered four at a time in compiled code.

    ``sos_per_lane[i]`` is lane i's cascade (``(S_i, 6)``, possibly empty). Lanes are grouped in
    fours; within a group, shorter cascades are padded with pass-through sections. State is kept
    between blocks. About three times the throughput of filtering each channel with ``sosfilt``.
    """

    def __init__(self, sos_per_lane: list[np.ndarray]) -> None:
        self.n_lanes = len(sos_per_lane)
        self.groups: list[tuple[int, np.ndarray, np.ndarray]] = []
        for g0 in range(0, self.n_lanes, LANES):
            lanes = sos_per_lane[g0 : g0 + LANES]
            S = max(len(s) for s in lanes)
            if S == 0:
                continue
            coef = np.zeros((S, 5, LANES))
            coef[:, 0, :] = 1.0  # pass-through sections by default
            for i, sos in enumerate(lanes):
                k = len(sos)
                if k:
                    coef[:k, 0, i] = sos[:, 0]
                    coef[:k, 1, i] = sos[:, 1]
                    coef[:k, 2, i] = sos[:, 2]
                    coef[:k, 3, i] = sos[:, 4]
                    coef[:k, 4, i] = sos[:, 5]
            self.groups.append((g0, coef, np.zeros((S, 2, LANES))))

    def process_group(self, index: int, x: np.ndarray) -> None:
        """Filter group ``index`` of ``x`` (``(n_lanes, n)`` float64) in place."""
        g0, coef, z = self.groups[index]
        n = x.shape[1]
        rows = [x[g0 + i] if g0 + i < self.n_lanes else np.zeros(n) for i in range(LANES)]
        _sos4_kernel(rows[0], rows[1], rows[2], rows[3], coef, z)
