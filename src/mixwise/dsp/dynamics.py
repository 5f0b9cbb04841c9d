"""Compressor and look-ahead true-peak limiter, with their inner loops compiled by numba.

Both are stateful processors working on ``(channels, n)`` blocks; the state carries over
between blocks so a song rendered in blocks equals the song rendered in one piece.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mixwise.errors import ParameterError

_TINY = 1e-20
_DB_PER_LN = 20.0 / math.log(10.0)  # dB per neper of amplitude
_LN_PER_DB = math.log(10.0) / 20.0


def time_coefficient(time_ms: float, sample_rate: int) -> float:
    """One-pole smoothing coefficient for a time constant of ``time_ms`` (ms) at ``sample_rate``.

    After ``time_ms`` a step has covered 1 - 1/e (63 %) of its way.
    """
    if time_ms <= 0:
        return 0.0
    return math.exp(-1000.0 / (time_ms * sample_rate))


def gain_computer_db(
    level_db: np.ndarray | float, *, threshold_db: float, ratio: float, knee_db: float
) -> np.ndarray | float:
    """Static gain reduction (dB, >= 0) of the soft-knee compressor curve for ``level_db``.

    Below the knee: 0; above it: ``(L - T) (1 - 1/R)``; inside the knee (width ``knee_db``
    centred on ``T``): the quadratic ``(1 - 1/R) (L - T + W/2)^2 / (2 W)``.
    """
    over = np.asarray(level_db, dtype=float) - threshold_db
    slope = 1.0 - 1.0 / ratio
    gr = np.where(over > 0, slope * over, 0.0)
    if knee_db > 0:
        inside = np.abs(over) <= knee_db / 2
        gr = np.where(inside, slope * (over + knee_db / 2) ** 2 / (2 * knee_db), gr)
        gr = np.where(over < -knee_db / 2, 0.0, gr)
    return gr if gr.ndim else float(gr)


#: The compressor computes its gain once per this many samples (log and exp are the costly
#: part) and interpolates linearly in between; the level detector still sees every sample.
CONTROL_SAMPLES = 16


@njit(cache=True, nogil=True, fastmath=True)
def _compress_kernel(
    x, gains, state, thr_db, slope, knee_db, makeup_db, att, rel, rms_coef, use_rms, low_lin
):
    # Smooth decoupled peak detector on the gain computer output (log domain), after
    # Giannoulis, Massberg & Reiss, JAES 2012: y1 follows rises of the wanted gain reduction at
    # once and falls with the release; y (the applied reduction) follows y1 with the attack.
    C, N = x.shape
    K = CONTROL_SAMPLES
    rel_k = rel**K
    att_k = att**K
    ms = state[0]
    y1 = state[1]
    y = state[2]
    g_prev = state[3]
    half_knee = knee_db * 0.5
    n = 0
    while n < N:
        k = min(K, N - n)
        lin = 0.0
        for j in range(k):
            if use_rms:
                lev2 = 0.0
                for c in range(C):
                    v = x[c, n + j] * x[c, n + j]
                    if v > lev2:
                        lev2 = v
                ms = rms_coef * ms + (1.0 - rms_coef) * lev2
                v = math.sqrt(ms)
                if v > lin:
                    lin = v
            else:
                for c in range(C):
                    v = abs(x[c, n + j])
                    if v > lin:
                        lin = v
        target = 0.0
        if lin > low_lin:
            over = _DB_PER_LN * math.log(lin + _TINY) - thr_db
            if over > half_knee:
                target = slope * over
            elif over > -half_knee and knee_db > 0.0:
                t = over + half_knee
                target = slope * t * t / (2.0 * knee_db)
        # one step of the two smoothers per group, with coefficients raised to the group's
        # length: exact for the group's constant target
        if k == K:
            ra, aa = rel_k, att_k
        else:
            ra, aa = rel**k, att**k
        y1 = target if target > y1 else ra * y1 + (1.0 - ra) * target
        y = aa * y + (1.0 - aa) * y1
        g_now = math.exp((makeup_db - y) * _LN_PER_DB)
        step = (g_now - g_prev) / k
        for j in range(k):
            gains[n + j] = g_prev + step * (j + 1)
        g_prev = g_now
        n += k
    state[0] = ms
    state[1] = y1
    state[2] = y
    state[3] = g_prev


class Compressor:
    """Feed-forward, soft-knee, channel-linked compressor.

    Parameters are those of :class:`mixwise.session.model.Compressor`: threshold and knee in dB
    (the level is the peak envelope in dBFS, or the ~10 ms RMS with ``detector="rms"``),
    ``ratio`` >= 1, attack and release in ms, makeup gain in dB. For a steady sine of level L
    above the knee the gain reduction settles at ``(L - T)(1 - 1/R)``. The gain is computed
    every :data:`CONTROL_SAMPLES` samples and interpolated, so blocks whose lengths are
    multiples of it give exactly the same result as one piece.
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        channels: int,
        threshold_db: float,
        ratio: float,
        attack_ms: float,
        release_ms: float,
        knee_db: float = 0.0,
        makeup_db: float = 0.0,
        detector: str = "peak",
    ) -> None:
        if ratio < 1:
            raise ParameterError(f"compressor ratio must be >= 1, got {ratio}")
        if detector not in ("peak", "rms"):
            raise ParameterError(f"detector must be 'peak' or 'rms', got {detector!r}")
        self.channels = channels
        self._args = (
            float(threshold_db),
            1.0 - 1.0 / float(ratio),
            float(knee_db),
            float(makeup_db),
            time_coefficient(attack_ms, sample_rate),
            time_coefficient(release_ms, sample_rate),
            time_coefficient(10.0, sample_rate),
            detector == "rms",
            10.0 ** ((threshold_db - knee_db / 2.0) / 20.0) * 0.999,
        )
        self._state = np.array([0.0, 0.0, 0.0, 10.0 ** (makeup_db / 20.0)])

    @property
    def gain_reduction_db(self) -> float:
        """The gain reduction (dB, >= 0) applied to the last sample processed."""
        return float(self._state[2])

    def gains(self, block: np.ndarray) -> np.ndarray:
        """The linear gain (makeup included) for each sample of a ``(channels, n)`` block,
        shape ``(n,)``; advances the compressor's state as :meth:`process` does."""
        x = np.ascontiguousarray(block)
        g = np.empty(x.shape[1])
        _compress_kernel(x, g, self._state, *self._args)
        return g

    def process(self, block: np.ndarray) -> np.ndarray:
        """Compress one ``(channels, n)`` block; returns a new float64 array."""
        return block * self.gains(block)


# --------------------------------------------------------------------------------------------
# true peak


def _interpolation_phases(factor: int = 4, taps_per_phase: int = 16) -> np.ndarray:
    """Polyphase interpolation filters ``(factor - 1, taps_per_phase)`` for the points between
    samples (phase 0, the sample itself, needs no filter). A Kaiser-windowed sinc, each phase
    normalised to unity gain at DC; tap ``j`` multiplies ``x[m - taps/2 + 1 + j]``.
    """
    half = taps_per_phase // 2
    phases = np.empty((factor - 1, taps_per_phase))
    beta = 8.0
    for k in range(1, factor):
        t = np.arange(-half + 1, half + 1) - k / factor  # tap offsets from the point m + k/factor
        window = np.i0(beta * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, 1.0))) / np.i0(beta)
        h = np.sinc(t) * window
        phases[k - 1] = h / h.sum()
    return phases


_PHASES = _interpolation_phases()
TP_TAPS = _PHASES.shape[1]
TP_HALF = TP_TAPS // 2
_TP_HALF = TP_HALF
#: The largest gain any interpolated point can have over the window's sample peak.
_BOUND = float(np.abs(_PHASES).sum(axis=1).max())


def true_peak(audio: np.ndarray) -> float:
    """True peak (linear) of ``audio`` [shape=(channels, n)] by 4x oversampling (BS.1770 Annex 2).

    Samples outside the signal count as zero. Only stretches whose sample peak, times the
    largest gain the interpolator can have, could beat the sample peak are interpolated (the
    others cannot hold the maximum). Reads up to ~0.1 dB above libebur128 on broadband
    signals (a longer interpolation filter), never below.
    """
    x = np.asarray(audio, dtype=np.float64)
    if x.size == 0:
        return 0.0
    pad = np.zeros((x.shape[0], TP_TAPS))
    ext = np.concatenate([pad, x, pad], axis=1)
    sample_peak = float(np.max(np.abs(x)))
    seg = np.empty(ext.shape[1] - TP_TAPS)
    _segment_peaks_kernel(ext, _PHASES, _BOUND, sample_peak, seg)
    return float(seg.max(initial=sample_peak))


# --------------------------------------------------------------------------------------------
# limiter


@njit(cache=True, nogil=True)
def _limit_kernel(x, seg, out, ring, gbuf, dq_idx, dq_val, ebuf, st, ist, ceil_lin, rel, L, W):
    # x: the new input block (C, N); seg[i]: the 4x-oversampled peak over [m, m+1) with
    # m = n - T/2 for the i-th new sample n (computed by the caller); ring: (C, R) input
    # history for the output delay; gbuf: the gain applied to each output sample; ebuf: ring of
    # smoothed gains; dq_*: monotonic deque for the sliding minimum over Lh = L + 2W samples.
    # st = [prev_seg, e, box_sum]; ist = [n_in, dq_head, dq_tail]
    C, N = x.shape
    R = ring.shape[1]
    mask = R - 1
    Lh = L + 2 * W
    dmask = dq_idx.shape[0] - 1
    emask = ebuf.shape[0] - 1
    n_in = ist[0]
    head = ist[1]
    tail = ist[2]
    prev_seg = st[0]
    e = st[1]
    box = st[2]
    for i in range(N):
        n = n_in + i
        for c in range(C):
            ring[c, n & mask] = x[c, i]
        m = n - _TP_HALF
        peak = seg[i] if seg[i] > prev_seg else prev_seg  # covers (m-1, m+1)
        prev_seg = seg[i]
        g = 1.0 if peak <= ceil_lin else ceil_lin / peak
        # sliding minimum over the last Lh values of g
        while tail > head and dq_val[(tail - 1) & dmask] >= g:
            tail -= 1
        dq_idx[tail & dmask] = m
        dq_val[tail & dmask] = g
        tail += 1
        while dq_idx[head & dmask] <= m - Lh:
            head += 1
        d = dq_val[head & dmask]
        # instant attack (the box filter below ramps it), smooth release
        e = d if d < e else d + (e - d) * rel
        box += e - ebuf[(m - L) & emask]
        ebuf[m & emask] = e
        s = box / L
        if s > 1.0:
            s = 1.0
        o = m - L - W + 1
        for c in range(C):
            out[c, i] = ring[c, o & mask] * s
        gbuf[i] = s
    ist[0] = n_in + N
    ist[1] = head
    ist[2] = tail
    st[0] = prev_seg
    st[1] = e
    st[2] = box


@njit(cache=True, nogil=True, fastmath=True)
def _segment_peaks_kernel(ext, phases, bound, ceil_lin, seg):
    # Per new sample i: max over channels of |x[m]| and of the interpolated points of
    # [m, m+1), whose taps are ext[c, i + 1 + j]. Interpolation (the costly part) is skipped
    # where the taps' sample peak times ``bound`` cannot reach ``ceil_lin``: there the peak
    # only needs to be known to lie below the ceiling.
    C, E = ext.shape
    P = phases.shape[0]
    T = TP_TAPS  # a compile-time constant: the divisions below become shifts
    N = seg.shape[0]
    half = T // 2
    G = E // T + 2
    a = np.empty(E)
    gmax = np.zeros(G)
    for j in range(E):
        v = 0.0
        for c in range(C):
            w = abs(ext[c, j])
            if w > v:
                v = w
        a[j] = v
        if v > gmax[j // T]:
            gmax[j // T] = v
    for i in range(N):
        peak = a[i + half]
        local = max(gmax[(i + 1) // T], gmax[(i + T) // T])
        if local * bound > ceil_lin:
            for c in range(C):
                for p in range(P):
                    acc = 0.0
                    for j in range(T):
                        acc += phases[p, j] * ext[c, i + 1 + j]
                    if abs(acc) > peak:
                        peak = abs(acc)
        seg[i] = peak


def _segment_peaks(ext: np.ndarray, ceil_lin: float) -> np.ndarray:
    """Per new sample i, the 4x-oversampled peak of the interval [m, m+1), m = n - T/2 (exact
    wherever it could reach ``ceil_lin``; below that, a value that is also below it).

    ``ext`` is ``(C, T + N)``: the last T input samples before the block, then the block, so
    the taps of sample i are ``ext[:, i + 1 : i + 1 + T]``.
    """
    seg = np.empty(ext.shape[1] - TP_TAPS)
    _segment_peaks_kernel(np.ascontiguousarray(ext), _PHASES, _BOUND, ceil_lin, seg)
    return seg


def _pow2_at_least(n: int) -> int:
    return 1 << max(1, (int(n) - 1).bit_length())


class TruePeakLimiter:
    """Look-ahead brick-wall limiter on the true peak (4x oversampled), channel-linked.

    The gain falls linearly over the look-ahead time before each peak that would exceed
    ``ceiling_dbtp`` and recovers with ``release_ms``. The output is delayed by
    :attr:`latency_samples`; :meth:`process` returns blocks already aligned with the input
    when used through :func:`limit` or with :meth:`flush`.
    """

    #: Safety margin (dB) below the ceiling for the detector, for the small error of
    #: interpolating a signal whose gain changes inside the interpolation filter.
    MARGIN_DB = 0.02

    def __init__(
        self,
        *,
        sample_rate: int,
        channels: int,
        ceiling_dbtp: float = -1.0,
        lookahead_ms: float = 1.5,
        release_ms: float = 80.0,
    ) -> None:
        self.channels = channels
        self.L = max(1, round(lookahead_ms * sample_rate / 1000.0))
        self.W = TP_HALF
        self.latency_samples = TP_HALF + self.L + self.W - 1
        size = _pow2_at_least(self.latency_samples + TP_TAPS + 4)
        self._ring = np.zeros((channels, size))
        self._hist = np.zeros((channels, TP_TAPS))
        dq = _pow2_at_least(self.L + 2 * self.W + 2)
        self._dq_idx = np.full(dq, -(10**15), dtype=np.int64)
        self._dq_val = np.ones(dq)
        self._ebuf = np.ones(_pow2_at_least(self.L + 1))
        self._st = np.array([0.0, 1.0, float(self.L)])
        self._ist = np.zeros(3, dtype=np.int64)
        self._ceil = 10.0 ** ((ceiling_dbtp - self.MARGIN_DB) / 20.0)
        self._rel = time_coefficient(release_ms, sample_rate)
        self._min_gain = 1.0
        self._to_drop = self.latency_samples

    @property
    def max_gain_reduction_db(self) -> float:
        """The deepest gain reduction (dB, >= 0) applied so far."""
        return -20.0 * math.log10(max(self._min_gain, 1e-12))

    def _run(self, x: np.ndarray) -> np.ndarray:
        ext = np.concatenate([self._hist, x], axis=1)
        self._hist = ext[:, -TP_TAPS:]
        seg = _segment_peaks(ext, self._ceil)
        out = np.empty_like(x)
        gains = np.empty(x.shape[1])
        _limit_kernel(
            x,
            seg,
            out,
            self._ring,
            gains,
            self._dq_idx,
            self._dq_val,
            self._ebuf,
            self._st,
            self._ist,
            self._ceil,
            self._rel,
            self.L,
            self.W,
        )
        if gains.size:
            self._min_gain = min(self._min_gain, float(gains.min()))
        return out

    def process(self, block: np.ndarray) -> np.ndarray:
        """Limit one ``(channels, n)`` block; the first :attr:`latency_samples` of output are
        dropped so the result lines up with the input (call :meth:`flush` at the end)."""
        out = self._run(np.ascontiguousarray(block, dtype=np.float64))
        if self._to_drop:
            k = min(self._to_drop, out.shape[1])
            out = out[:, k:]
            self._to_drop -= k
        return out

    def flush(self) -> np.ndarray:
        """The last :attr:`latency_samples` of output (feeds silence through the look-ahead)."""
        return self.process(np.zeros((self.channels, self.latency_samples)))


def limit(audio: np.ndarray, *, sample_rate: int, **params: float) -> np.ndarray:
    """Limit a whole ``(channels, n)`` signal with :class:`TruePeakLimiter`; same length out."""
    lim = TruePeakLimiter(sample_rate=sample_rate, channels=audio.shape[0], **params)
    return np.concatenate([lim.process(audio), lim.flush()], axis=1)
