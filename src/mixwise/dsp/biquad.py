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
