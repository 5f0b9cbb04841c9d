"""Level statistics of a stem in one compiled pass: peak, energy, and 1 ms frame powers.

Several analyses need the same short-time levels (active RMS, silence detection, the energy
envelope for the phase check); computing them once, without full-size temporary arrays, keeps
the analysis of long stems cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _frame_stats_kernel(x, hop, mean_p, max_p, mono_p):
    C, N = x.shape
    n_frames = mean_p.shape[0]
    peak = 0.0
    total = 0.0
    for f in range(n_frames):
        a = f * hop
        b = min(a + hop, N)
        s_mono = 0.0
        s_max = 0.0
        s_all = 0.0
        for c in range(C):
            s = 0.0
            for i in range(a, b):
                v = x[c, i]
                s += v * v
                av = abs(v)
                if av > peak:
                    peak = av
            s_all += s
            if s > s_max:
                s_max = s
        if C == 2:
            for i in range(a, b):
                m = 0.5 * (x[0, i] + x[1, i])
                s_mono += m * m
        else:
            s_mono = s_all
        k = max(b - a, 1)
        mean_p[f] = s_all / (C * k)
        max_p[f] = s_max / k
        mono_p[f] = s_mono / k
        total += s_all
    return peak, total


@dataclass(frozen=True)
class FrameStats:
    """Levels of a ``(channels, n)`` signal.

    hop : frame length (samples, about 1 ms); mean_power / max_power / mono_power : per frame,
    the mean square averaged over channels, of the louder channel, and of (L + R) / 2;
    peak : largest |sample|; mean_square : over all samples and channels; n_samples : length.
    """

    hop: int
    mean_power: np.ndarray
    max_power: np.ndarray
    mono_power: np.ndarray
    peak: float
    mean_square: float
    n_samples: int

    def pooled(self, kind: str, frames: int) -> np.ndarray:
        """Frame powers of ``kind`` ("mean", "max", "mono") averaged over ``frames`` frames."""
        p = {"mean": self.mean_power, "max": self.max_power, "mono": self.mono_power}[kind]
        n = p.shape[0] // frames
        return p[: n * frames].reshape(n, frames).mean(axis=1) if n else p[:0]


def frame_stats(audio: np.ndarray, sample_rate: int) -> FrameStats:
    """:class:`FrameStats` of ``audio`` [shape=(channels, n)] with 1 ms frames."""
    x = np.ascontiguousarray(audio)
    hop = max(1, round(sample_rate / 1000.0))
    n_frames = math.ceil(x.shape[1] / hop)
    mean_p, max_p, mono_p = np.empty(n_frames), np.empty(n_frames), np.empty(n_frames)
    peak, total = _frame_stats_kernel(x, hop, mean_p, max_p, mono_p)
    ms = total / x.size if x.size else 0.0
    return FrameStats(hop, mean_p, max_p, mono_p, float(peak), float(ms), int(x.shape[1]))
