"""Meters: loudness (ITU-R BS.1770-4 / EBU R128), loudness range, peaks, RMS and crest factor.

Integrated loudness and loudness range are computed here with vectorised numpy (K-weighting
with the standard's filters re-derived for any sample rate, 400 ms blocks with 75 % overlap,
absolute gate -70 LUFS, relative gate -10 LU; LRA per EBU Tech 3342 from 3 s short-term
values, relative gate -20 LU, 10th to 95th percentile). The tests check them against
libebur128 (pyebur128) and against the standard's reference signals. True peak uses the 4x
oversampling meter of :mod:`mixwise.dsp.dynamics`.

Levels: LUFS (integrated, short-term), LU (range), dBFS (sample peak, RMS), dBTP (true peak).
A silent signal measures ``-inf``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numba import njit

from mixwise.analysis.levels import FrameStats

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
LRA_RELATIVE_GATE_LU = -20.0
_OFFSET = -0.691


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """The BS.1770 K-weighting filter (pre-filter shelf + RLB high-pass) as ``(2, 6)`` sos.

    The standard gives coefficients at 48 kHz; they come from a high shelf (f0 = 1681.97 Hz,
    +3.9998 dB, Q = 0.7072) and a high-pass (f0 = 38.135 Hz, Q = 0.5003), re-derived here for
    ``sample_rate`` with the bilinear transform (identical to the published 48 kHz values).
    """
    fs = float(sample_rate)
    # stage 1: high shelf
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    K = math.tan(math.pi * f0 / fs)
    Vh = 10.0 ** (gain_db / 20.0)
    Vb = Vh**0.4996667741545416
    a0 = 1.0 + K / q + K * K
    shelf = [
        (Vh + Vb * K / q + K * K) / a0,
        2.0 * (K * K - Vh) / a0,
        (Vh - Vb * K / q + K * K) / a0,
        1.0,
        2.0 * (K * K - 1.0) / a0,
        (1.0 - K / q + K * K) / a0,
    ]
    # stage 2: RLB high-pass
    f0, q = 38.13547087602444, 0.5003270373238773
    K = math.tan(math.pi * f0 / fs)
    a0 = 1.0 + K / q + K * K
    hp = [1.0, -2.0, 1.0, 1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / q + K * K) / a0]
    return np.array([shelf, hp])


@njit(cache=True, nogil=True)
def _kweighted_kernel(x, sos, zi, step, out):
    # Two cascaded biquads (transposed direct form II) per channel, filter memory in ``zi``.
    # The squared output of channel c is summed over consecutive spans of ``step`` samples
    # and added to out[row, j] for span j, where row is c when ``out`` has a row per channel,
    # else 0 (the channel sum). step = 1 gives the per-sample power; a longer step never
    # writes a per-sample array (on long stems that array is most of the memory traffic).
    # Channels are filtered in pairs inside one loop so the two recursions overlap in the
    # CPU; an odd last channel is paired with itself and its twin's output is dropped.
    C, N = x.shape
    b00, b01, b02, a01, a02 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    b10, b11, b12, a11, a12 = sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5]
    per_channel = out.shape[0] > 1
    c = 0
    while c < C:
        pair = c + 1 < C
        d = c + 1 if pair else c
        rc = c if per_channel else 0
        rd = d if per_channel else 0
        p0, p1, p2, p3 = zi[c, 0], zi[c, 1], zi[c, 2], zi[c, 3]
        q0, q1, q2, q3 = zi[d, 0], zi[d, 1], zi[d, 2], zi[d, 3]
        j = 0
        k = 0
        su = 0.0
        sv = 0.0
        for n in range(N):
            u = x[c, n]
            v = x[d, n]
            yu = b00 * u + p0
            yv = b00 * v + q0
            p0 = b01 * u - a01 * yu + p1
            q0 = b01 * v - a01 * yv + q1
            p1 = b02 * u - a02 * yu
            q1 = b02 * v - a02 * yv
            u = b10 * yu + p2
            v = b10 * yv + q2
            p2 = b11 * yu - a11 * u + p3
            q2 = b11 * yv - a11 * v + q3
            p3 = b12 * yu - a12 * u
            q3 = b12 * yv - a12 * v
            su += u * u
            sv += v * v
            k += 1
            if k == step:
                out[rc, j] += su
                if pair:
                    out[rd, j] += sv
                su = 0.0
                sv = 0.0
                k = 0
                j += 1
        if k > 0:
            out[rc, j] += su
            if pair:
                out[rd, j] += sv
        zi[c, 0], zi[c, 1], zi[c, 2], zi[c, 3] = p0, p1, p2, p3
        if pair:
            zi[d, 0], zi[d, 1], zi[d, 2], zi[d, 3] = q0, q1, q2, q3
        c += 2


def kweighted_power(
    audio: np.ndarray, sample_rate: int, state: np.ndarray | None = None
) -> np.ndarray:
    """Channel-summed square of the K-weighted signal, shape ``(n,)`` float64.

    ``state`` (shape ``(channels, 4)``, float64) carries the filter memory between blocks; it is
    updated in place when given. Channel weights are 1 (left, right, or the single mono channel).
    """
    x = np.ascontiguousarray(audio)
    if state is None:
        state = np.zeros((x.shape[0], 4))
    out = np.zeros((1, x.shape[1]))
    _kweighted_kernel(x, k_weighting_sos(sample_rate), state, 1, out)
    return out[0]


def kweighted_step_power(audio: np.ndarray, sample_rate: int, step: int) -> np.ndarray:
    """The K-weighted power of each channel summed over consecutive spans of ``step`` samples,
    shape ``(channels, ceil(n / step))`` float64; the last column holds the final partial span
    when ``n`` is not a multiple of ``step``. The filters start from rest, as in
    :func:`kweighted_power`, whose per-sample output these are the sums of."""
    x = np.ascontiguousarray(audio)
    step = int(step)
    if step < 1:
        raise ValueError(f"step must be at least 1 sample, got {step}")
    out = np.zeros((x.shape[0], -(-x.shape[1] // step)))
    _kweighted_kernel(x, k_weighting_sos(sample_rate), np.zeros((x.shape[0], 4)), step, out)
    return out


def _blocks_from_steps(sums: np.ndarray, k: int, block: int) -> np.ndarray:
    """Mean power of blocks of ``k`` consecutive steps, one per step, from per-step ``sums``
    (``block`` samples per block)."""
    if sums.size < k:
        return np.zeros(0)
    csum = np.concatenate(([0.0], np.cumsum(sums)))
    return (csum[k:] - csum[:-k]) / block


def step_meters(
    step_power: np.ndarray, sample_rate: int, step: int, n_samples: int
) -> tuple[float, float] | None:
    """(integrated loudness LUFS, loudness range LU) of ``n_samples`` of audio from its
    :func:`kweighted_step_power` with ``step`` = 100 ms of samples, or ``None`` when the 400 ms
    and 3 s blocks are not whole numbers of steps at this rate (measure from the per-sample
    power then). Blocks cover whole steps only, as :func:`integrated_loudness` does."""
    block, long_block = int(round(0.4 * sample_rate)), int(round(3.0 * sample_rate))
    if step != int(round(0.1 * sample_rate)) or block != 4 * step or long_block != 30 * step:
        return None
    n_full = n_samples // step
    sums = step_power[0, :n_full].copy()
    for row in step_power[1:]:
        sums += row[:n_full]
    integrated = _gated_loudness(_blocks_from_steps(sums, 4, block))
    lra = range_of_block_powers(_blocks_from_steps(sums, 30, long_block))
    return integrated, lra


def _block_powers(power: np.ndarray, sample_rate: int, block_s: float, step_s: float) -> np.ndarray:
    """Mean of ``power`` (see :func:`kweighted_power`) in ``block_s`` blocks every ``step_s``.

    Blocks that are whole multiples of the step (400 ms and 3 s on a 100 ms step) are summed
    from per-step sums, which is exact and avoids a cumulative sum over every sample.
    """
    block = int(round(block_s * sample_rate))
    step = int(round(step_s * sample_rate))
    n = power.shape[0]
    if n < block:
        return np.zeros(0)
    if block % step == 0:
        k = block // step
        m = n // step
        sub = power[: m * step].reshape(m, step).sum(axis=1)
        csum = np.concatenate(([0.0], np.cumsum(sub)))
        return (csum[k:] - csum[:-k]) / block
    csum = np.concatenate(([0.0], np.cumsum(power)))
    starts = np.arange(0, n - block + 1, step)
    return (csum[starts + block] - csum[starts]) / block


def _lufs(power: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return _OFFSET + 10.0 * np.log10(power)


def integrated_loudness(
    audio: np.ndarray, sample_rate: int, *, power: np.ndarray | None = None
) -> float:
    """Integrated loudness (LUFS) of ``audio`` [shape=(channels, n)] per BS.1770-4.

    Signals shorter than one 400 ms block, or entirely below the absolute gate, give ``-inf``.
    ``power`` may pass a precomputed :func:`kweighted_power` of ``audio``.
    """
    if power is None:
        power = kweighted_power(audio, sample_rate)
    z = _block_powers(power, sample_rate, 0.4, 0.1)
    return _gated_loudness(z)


def _gated_loudness(z: np.ndarray) -> float:
    if z.size == 0:
        return -math.inf
    above = z[_lufs(z) > ABSOLUTE_GATE_LUFS]
    if above.size == 0:
        return -math.inf
    relative = _lufs(float(above.mean())) + RELATIVE_GATE_LU
    kept = above[_lufs(above) > relative]
    return float(_lufs(float(kept.mean()))) if kept.size else -math.inf


def loudness_range(
    audio: np.ndarray, sample_rate: int, *, power: np.ndarray | None = None
) -> float:
    """Loudness range (LU) per EBU Tech 3342: spread of 3 s short-term loudness (10 Hz rate).

    libebur128 takes its short-term values once a second, so on sparse material (a few hits in
    a long stem) the two can differ by several LU; on the Tech 3342 test signals they agree.
    """
    if power is None:
        power = kweighted_power(audio, sample_rate)
    return range_of_block_powers(_block_powers(power, sample_rate, 3.0, 0.1))


def range_of_block_powers(z: np.ndarray) -> float:
    """Loudness range (LU) from 3 s K-weighted block powers taken at 10 Hz: the Tech 3342
    gates (-70 LUFS absolute, -20 LU relative), then the 10th to 95th percentile."""
    if z.size == 0:
        return 0.0
    st = _lufs(z)
    st = st[st > ABSOLUTE_GATE_LUFS]
    if st.size == 0:
        return 0.0
    gate = _lufs(float(np.mean(10.0 ** ((st - _OFFSET) / 10.0)))) + LRA_RELATIVE_GATE_LU
    st = st[st > gate]
    if st.size < 2:
        return 0.0
    lo, hi = np.percentile(st, [10.0, 95.0])
    return float(hi - lo)


def short_term_loudness(audio: np.ndarray, sample_rate: int, *, step_s: float = 1.0) -> np.ndarray:
    """Short-term loudness (LUFS, 3 s windows) every ``step_s`` seconds; -inf where silent."""
    power = kweighted_power(audio, sample_rate)
    return np.asarray(_lufs(_block_powers(power, sample_rate, 3.0, step_s)), dtype=float)


def _db(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else -math.inf


@dataclass(frozen=True)
class Meters:
    """The standard meter readings of one signal.

    integrated_lufs : BS.1770 integrated loudness (LUFS)
    loudness_range_lu : EBU Tech 3342 loudness range (LU)
    sample_peak_dbfs : largest absolute sample (dBFS)
    true_peak_dbtp : 4x oversampled peak (dBTP)
    rms_dbfs : RMS over all channels and the whole signal (dBFS; a full-scale sine is -3.01)
    crest_db : sample peak minus RMS (dB)
    active_rms_dbfs : RMS of the active parts only (100 ms blocks within 40 dB of the loudest)
    duration_s : length in seconds
    """

    integrated_lufs: float
    loudness_range_lu: float
    sample_peak_dbfs: float
    true_peak_dbtp: float
    rms_dbfs: float
    crest_db: float
    active_rms_dbfs: float
    duration_s: float

    def to_dict(self) -> dict[str, float | None]:
        """JSON-friendly: ``-inf`` becomes ``None``; values rounded to 0.01."""
        return {k: (round(v, 2) if math.isfinite(v) else None) for k, v in asdict(self).items()}


def active_rms_db(
    audio: np.ndarray, sample_rate: int, *, window_s: float = 0.1, range_db: float = 40.0
) -> float:
    """RMS level (dBFS) of the parts of ``audio`` that play: 100 ms windows whose level is
    within ``range_db`` of the loudest window. Silence between notes does not pull it down."""
    from mixwise.analysis.levels import frame_stats

    stats = frame_stats(audio, sample_rate)
    return _active_rms_db(stats.pooled("mean", round(window_s * 1000)), range_db)


def _active_rms_db(powers: np.ndarray, range_db: float = 40.0) -> float:
    if powers.size == 0:
        return -math.inf
    top = float(powers.max())
    if top <= 0:
        return -math.inf
    kept = powers[powers >= top * 10.0 ** (-range_db / 10.0)]
    return 10.0 * math.log10(float(kept.mean()))


def measure(
    audio: np.ndarray,
    sample_rate: int,
    *,
    with_true_peak: bool = True,
    stats: FrameStats | None = None,
    power: np.ndarray | None = None,
    step_power: np.ndarray | None = None,
) -> Meters:
    """All meters for ``audio`` [shape=(channels, n), float] at ``sample_rate`` Hz.

    ``with_true_peak=False`` skips the 4x oversampling (the costliest meter on dense material)
    and reports the sample peak in its place; ``stats`` may pass precomputed
    :func:`~mixwise.analysis.levels.frame_stats` of ``audio``, ``power`` its
    :func:`kweighted_power` and ``step_power`` its :func:`kweighted_step_power` over 100 ms
    steps (the cheapest).
    """
    from mixwise.analysis.levels import frame_stats
    from mixwise.dsp.dynamics import true_peak

    x = np.asarray(audio)
    if stats is None:
        stats = frame_stats(x, sample_rate)
    peak, ms = stats.peak, stats.mean_square
    rms = 10.0 * math.log10(ms) if ms > 0 else -math.inf
    sp = _db(peak)
    loudness = None
    if step_power is not None and power is None:
        step = int(round(0.1 * sample_rate))
        loudness = step_meters(step_power, sample_rate, step, x.shape[-1])
    if loudness is None:
        if power is None:
            power = kweighted_power(x, sample_rate)
        loudness = (
            integrated_loudness(x, sample_rate, power=power),
            loudness_range(x, sample_rate, power=power),
        )
    return Meters(
        integrated_lufs=loudness[0],
        loudness_range_lu=loudness[1],
        sample_peak_dbfs=sp,
        true_peak_dbtp=_db(true_peak(x)) if with_true_peak else sp,
        rms_dbfs=rms,
        crest_db=(sp - rms) if math.isfinite(rms) else 0.0,
        active_rms_dbfs=_active_rms_db(stats.pooled("mean", 100)),
        duration_s=x.shape[-1] / sample_rate,
    )


class LoudnessMeter:
    """Integrated loudness of a signal fed block by block (bounded memory: one float per 100 ms).

    Feed ``(channels, n)`` blocks with :meth:`add`; read :attr:`integrated_lufs` at any time.
    """

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate = sample_rate
        self._state = np.zeros((channels, 4))
        self._step = int(round(0.1 * sample_rate))
        self._partial = np.zeros(0)
        self._sub: list[float] = []  # summed power of each 100 ms sub-block

    def add(self, block: np.ndarray) -> None:
        power = kweighted_power(block, self.sample_rate, self._state)
        p = np.concatenate([self._partial, power])
        n = p.shape[0] // self._step
        if n:
            self._sub.extend(p[: n * self._step].reshape(n, self._step).sum(axis=1).tolist())
        self._partial = p[n * self._step :]

    def short_term_lufs(self, step_s: float = 1.0) -> np.ndarray:
        """Short-term loudness (LUFS, 3 s windows) every ``step_s`` seconds so far; -inf where
        silent."""
        s = np.asarray(self._sub)
        k = max(1, int(round(step_s / 0.1)))
        if s.size < 30:
            return np.zeros(0)
        csum = np.concatenate(([0.0], np.cumsum(s)))
        ends = np.arange(30, s.size + 1, k)
        z = (csum[ends] - csum[ends - 30]) / (30 * self._step)
        return np.asarray(_lufs(z), dtype=float)

    @property
    def integrated_lufs(self) -> float:
        s = np.asarray(self._sub)
        if s.size < 4:
            return -math.inf
        z = (s[:-3] + s[1:-2] + s[2:-1] + s[3:]) / (4 * self._step)
        return _gated_loudness(z)
