"""Time-based effects for aux buses: a generated convolution reverb and a feedback delay.

The reverb's impulse response is synthesised from a seeded random generator (no recorded
impulse responses are shipped or downloaded), so the same parameters always give the same
sound. Both effects are stateful block processors on ``(2, n)`` blocks and return 100 % wet
signal, as aux returns do.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numba import njit

#: Octave-band centres (Hz) used to give the reverb tail a frequency-dependent decay.
_BANDS_HZ = (63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0)


def reverb_impulse_response(
    *,
    sample_rate: int,
    decay_s: float,
    predelay_ms: float = 20.0,
    damping: float = 0.5,
    width: float = 1.0,
    seed: int = 1,
) -> np.ndarray:
    """A stereo room-like impulse response, shape ``(2, 2, n)``: ``ir[out, in]``.

    Each channel is Gaussian noise split into octave bands, each band decaying exponentially
    with its own RT60: ``decay_s`` at and below 1 kHz, shortened towards high frequencies by
    ``damping`` (0: flat decay, 1: the top octave decays twice as fast), plus a 5 ms fade-in.
    ``width`` (0-1) sets how independent the two output channels are. The response is scaled
    to unit energy per input channel, so a send at 0 dB returns roughly as loud as it went in.
    """
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    pre = int(round(predelay_ms * sample_rate / 1000.0))
    n_tail = int(math.ceil(decay_s * 1.25 * sample_rate))
    t = np.arange(n_tail) / sample_rate
    nyquist = sample_rate / 2

    def one_channel() -> np.ndarray:
        noise = rng.standard_normal(n_tail + 2048)
        tail = np.zeros(n_tail)
        edges = [0.0] + [math.sqrt(a * b) for a, b in itertools.pairwise(_BANDS_HZ)] + [nyquist]
        for lo, hi, centre in zip(edges, edges[1:], _BANDS_HZ, strict=False):
            if lo >= nyquist * 0.98:
                break
            hi = min(hi, nyquist * 0.98)
            if lo <= 0:
                sos = butter(4, hi, btype="lowpass", fs=sample_rate, output="sos")
            elif hi >= nyquist * 0.98:
                sos = butter(4, lo, btype="highpass", fs=sample_rate, output="sos")
            else:
                sos = butter(2, [lo, hi], btype="bandpass", fs=sample_rate, output="sos")
            band = sosfilt(sos, noise)[2048:]
            octaves_above_1k = max(0.0, math.log2(centre / 1000.0))
            rt = decay_s / (1.0 + damping * octaves_above_1k / 4.0)
            tail += band * np.exp(-6.9078 * t / rt)
        fade = np.minimum(1.0, t / 0.005)
        return tail * fade

    a, b, c, d = (one_channel() for _ in range(4))
    direct, cross = math.sqrt(1.0 - 0.5 * width), math.sqrt(0.5 * width)
    ir = np.zeros((2, 2, pre + n_tail))
    # out L from in L / in R, out R from in L / in R: direct paths keep the source's side
    ir[0, 0, pre:] = direct * a
    ir[0, 1, pre:] = cross * b
    ir[1, 1, pre:] = direct * c
    ir[1, 0, pre:] = cross * d
    for i in range(2):
        energy = float(np.sum(ir[0, i] ** 2 + ir[1, i] ** 2))
        ir[:, i] *= math.sqrt(1.0 / energy) if energy > 0 else 0.0
    return ir


class Convolver:
    """Uniformly partitioned FFT convolution of ``(2, block)`` input with a ``(2, 2, n)`` IR.

    Blocks must all be ``block_size`` long except possibly the last. The latency is zero: the
    output of each block is the exact linear convolution up to that block.
    """

    def __init__(self, ir: np.ndarray, block_size: int) -> None:
        from scipy import fft

        self.B = int(block_size)
        self.nfft = 2 * self.B
        n_parts = max(1, math.ceil(ir.shape[-1] / self.B))
        padded = np.zeros((*ir.shape[:2], n_parts * self.B))
        padded[..., : ir.shape[-1]] = ir
        parts = padded.reshape(2, 2, n_parts, self.B)
        # single precision: the reverb tail needs no more, and the FFTs run twice as fast
        self._H = fft.rfft(parts, n=self.nfft, axis=-1).astype(np.complex64)  # (out, in, part, bin)
        self._X = np.zeros((n_parts, 2, self.nfft // 2 + 1), dtype=np.complex64)  # input history
        self._overlap = np.zeros((2, self.B))
        self._pos = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        from scipy import fft

        n = block.shape[1]
        if n > self.B:
            raise ValueError(f"block of {n} samples exceeds the convolver's block size {self.B}")
        P = self._X.shape[0]
        self._pos = (self._pos - 1) % P
        self._X[self._pos] = fft.rfft(block.astype(np.float32), n=self.nfft, axis=-1)
        order = (self._pos + np.arange(P)) % P  # newest first
        X = self._X[order]  # (part, in, bins)
        Y = np.einsum("oipk,pik->ok", self._H, X)
        y = fft.irfft(Y, n=self.nfft, axis=-1)
        out = y[:, :n] + self._overlap[:, :n]
        # the part of this block's result that belongs to later blocks
        new_overlap = np.zeros_like(self._overlap)
        new_overlap[:, : self.B - n] = self._overlap[:, n:]
        new_overlap[:, : self.B] += y[:, n : n + self.B]
        self._overlap = new_overlap
        return out


class Reverb:
    """The generated reverb (see :func:`reverb_impulse_response`) as a block processor."""

    def __init__(self, *, sample_rate: int, block_size: int, **params: float) -> None:
        self.ir = reverb_impulse_response(sample_rate=sample_rate, **params)
        self._conv = Convolver(self.ir, block_size)

    def process(self, block: np.ndarray) -> np.ndarray:
        return self._conv.process(block)


@njit(cache=True, nogil=True)
def _delay_kernel(x, out, buf, pos, lp_state, d_left, d_right, feedback, lp_coef):
    N = x.shape[1]
    R = buf.shape[1]
    p = pos[0]
    for n in range(N):
        for c in range(2):
            d = d_left if c == 0 else d_right
            delayed = buf[c, (p - d) % R]
            lp_state[c] = lp_coef * lp_state[c] + (1.0 - lp_coef) * delayed
            out[c, n] = lp_state[c]
            buf[c, p] = x[c, n] + feedback * lp_state[c]
        p = (p + 1) % R
    pos[0] = p


class FeedbackDelay:
    """Stereo feedback delay: each channel repeats after its own time (ms); every repeat is
    low-passed (one pole at ``damping_hz``) and fed back at ``feedback`` (linear, < 1)."""

    def __init__(
        self,
        *,
        sample_rate: int,
        time_left_ms: float,
        time_right_ms: float,
        feedback: float,
        damping_hz: float,
    ) -> None:
        self.d_left = max(1, round(time_left_ms * sample_rate / 1000.0))
        self.d_right = max(1, round(time_right_ms * sample_rate / 1000.0))
        self.feedback = float(feedback)
        self.lp_coef = math.exp(-2.0 * math.pi * min(damping_hz, sample_rate * 0.45) / sample_rate)
        self._buf = np.zeros((2, max(self.d_left, self.d_right) + 1))
        self._pos = np.zeros(1, dtype=np.int64)
        self._lp = np.zeros(2)

    def process(self, block: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(block, dtype=np.float64)
        out = np.empty_like(x)
        _delay_kernel(
            x,
            out,
            self._buf,
            self._pos,
            self._lp,
            self.d_left,
            self.d_right,
            self.feedback,
            self.lp_coef,
        )
        return out
