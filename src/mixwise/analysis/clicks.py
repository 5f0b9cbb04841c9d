"""Clicks: short impulsive discontinuities (1-4 samples) found and repaired.

A click is a few samples that do not follow from the music around them. Each channel is
whitened by a short linear prediction (LPC) fitted per block; samples whose prediction error
stands far above the local error level are candidates. A candidate becomes a click only when
re-estimating 1-4 samples by least-squares AR interpolation ("LSAR", Vaseghi & Rayner) removes
almost all of the excess error *and* leaves an error consistent with the local noise level on
both sides. Real transients (drum hits, plucks, note onsets) fail that test: after their first
sample the music stays loud and unpredictable for many samples, and no 1-4 sample fix explains
them. The repair uses the same interpolation.

Audio convention: ``audio`` is ``float32`` [shape=(n_channels, n_samples)], 1 or 2 channels,
at ``sample_rate`` Hz. Nothing here modifies its input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from mixwise.errors import ParameterError

#: Longest run of damaged samples treated as one click.
MAX_CLICK_SAMPLES = 4


@dataclass(frozen=True)
class Click:
    """One click on one channel.

    ``time_s`` : time of its first damaged sample (s), ``start_sample`` the same as an index.
    ``length_samples`` : number of damaged samples (1-4).
    ``strength_db`` : peak of the removed excess, |audio - repaired|, over the local
    prediction-error RMS (dB); 20 dB is a click that stands 10x above the local "noise".
    ``level_dbfs`` : peak of the removed excess in dBFS (how loud the click itself is).
    """

    time_s: float
    channel: int
    strength_db: float
    length_samples: int
    start_sample: int
    level_dbfs: float


# --------------------------------------------------------------------------------------------
# compiled kernels


@njit(cache=True, nogil=True)
def _levinson(r: np.ndarray, order: int) -> np.ndarray:
    """Prediction coefficients ``a`` (x[n] ~ sum a[k] x[n-1-k]) from autocorrelation ``r``."""
    a = np.zeros(order)
    tmp = np.zeros(order)
    err = r[0]
    if err <= 0.0:
        return a
    for i in range(order):
        acc = r[i + 1]
        for j in range(i):
            acc -= a[j] * r[i - j]
        k = acc / err
        for j in range(i):
            tmp[j] = a[j] - k * a[i - 1 - j]
        for j in range(i):
            a[j] = tmp[j]
        a[i] = k
        err *= 1.0 - k * k
        if err <= 0.0:
            break
    return a


@njit(cache=True, nogil=True, fastmath=True)
def _block_lpc(x: np.ndarray, order: int, block: int) -> np.ndarray:
    """Per-block LPC coefficients [shape=(n_blocks, order)], Hann-windowed autocorrelation."""
    n = x.size
    n_blocks = (n + block - 1) // block
    coefs = np.zeros((n_blocks, order), dtype=np.float32)
    win = np.empty(block, dtype=np.float32)
    for i in range(block):
        win[i] = 0.5 - 0.5 * math.cos(2.0 * math.pi * (i + 0.5) / block)
    frame = np.zeros(block, dtype=np.float32)
    r = np.zeros(order + 1)
    for b in range(n_blocks):
        start = b * block
        m = min(block, n - start)
        xb = x[start : start + m]
        for i in range(m):
            frame[i] = xb[i] * win[i]
        for i in range(m, block):
            frame[i] = 0.0
        for k in range(order + 1):
            f0 = frame[: block - k]
            f1 = frame[k:]
            acc = np.float32(0.0)
            for i in range(block - k):
                acc += f0[i] * f1[i]
            r[k] = acc
        if r[0] <= 1e-20:
            continue
        r[0] *= 1.0 + 1e-6  # a whisker of white noise keeps the recursion stable
        a = _levinson(r, order)
        for k in range(order):
            coefs[b, k] = a[k]
    return coefs


@njit(cache=True, nogil=True, fastmath=True)
def _residual(x: np.ndarray, coefs: np.ndarray, block: int) -> np.ndarray:
    """Forward prediction error e[n] = x[n] - sum_k a_b[k] x[n-1-k], block b's coefficients.

    float32, same length as ``x``; the first ``order`` samples (no full history) get 0.
    """
    n = x.size
    order = coefs.shape[1]
    e = np.zeros(n, dtype=np.float32)
    for b in range(coefs.shape[0]):
        start = max(b * block, order)
        stop = min((b + 1) * block, n)
        if stop <= start:
            continue
        m = stop - start
        eb = e[start:stop]
        eb[:] = x[start:stop]
        for k in range(order):
            a = coefs[b, k]
            xs = x[start - 1 - k : stop - 1 - k]
            for j in range(m):
                eb[j] -= a * xs[j]
    return e


@njit(cache=True, nogil=True)
def _local_scale(e: np.ndarray, sub: int) -> np.ndarray:
    """Robust prediction-error RMS per sub-block: median of the mean |e| of 5 neighbours."""
    n = e.size
    nb = (n + sub - 1) // sub
    m = np.empty(nb)
    for b in range(nb):
        s = 0.0
        start = b * sub
        stop = min(n, start + sub)
        for i in range(start, stop):
            s += abs(e[i])
        m[b] = 1.2533 * s / max(1, stop - start)  # mean |e| -> RMS for a Gaussian error
    out = np.empty(nb)
    tmp = np.empty(5)
    for b in range(nb):
        c = 0
        for j in range(b - 2, b + 3):
            if 0 <= j < nb:
                tmp[c] = m[j]
                c += 1
        out[b] = np.median(tmp[:c])
    return out


@njit(cache=True, nogil=True)
def _candidates(
    e: np.ndarray, scale: np.ndarray, sub: int, ratio: float, floor: float, gap: int
) -> np.ndarray:
    """First index of each cluster of samples where |e| > ratio * local scale (and > floor)."""
    out = []
    last = -(10**9)
    for i in range(e.size):
        a = abs(e[i])
        if a > floor and a > ratio * scale[i // sub]:
            if i - last > gap:
                out.append(i)
            last = i
    res = np.empty(len(out), dtype=np.int64)
    for i in range(len(out)):
        res[i] = out[i]
    return res


@njit(cache=True, nogil=True, fastmath=True)
def _local_lpc(x: np.ndarray, lo: int, hi: int, skip_lo: int, skip_hi: int, order: int):
    """LPC fitted on x[lo:hi] with x[skip_lo:skip_hi] left out (covariance-free autocorrelation).

    The excluded span is treated as a cut: lags that straddle it are not counted, so the
    damaged samples never bias the model used to judge and repair them.
    """
    r = np.zeros(order + 1)
    n = hi - lo
    for k in range(order + 1):
        acc = 0.0
        for i in range(lo, hi - k):
            j = i + k
            if (skip_lo <= i < skip_hi) or (skip_lo <= j < skip_hi):
                continue
            if i < skip_lo and j >= skip_hi:
                continue
            # taper both ends of the context so its edges do not look like steps
            wi = math.sin(math.pi * (i - lo + 0.5) / n)
            wj = math.sin(math.pi * (j - lo + 0.5) / n)
            acc += x[i] * wi * x[j] * wj
        r[k] = acc
    if r[0] <= 1e-20:
        return np.zeros(order)
    r[0] *= 1.0 + 1e-6
    return _levinson(r, order)


@njit(cache=True, nogil=True)
def _lsar(x: np.ndarray, a: np.ndarray, u0: int, length: int, t0: int, t1: int):
    """Least-squares AR interpolation of x[u0:u0+length] given the model ``a``.

    Minimises the prediction-error energy over t in [t0, t1). Returns ``(values, energy)``
    with the error energy after interpolation.
    """
    order = a.size
    full = np.empty(order + 1)  # error filter: e[t] = sum_k full[k] x[t-k]
    full[0] = 1.0
    for k in range(order):
        full[k + 1] = -a[k]
    m = np.zeros((length, length))
    rhs = np.zeros(length)
    for t in range(t0, t1):
        c = 0.0
        for k in range(order + 1):
            j = t - k
            if u0 <= j < u0 + length:
                continue
            c += full[k] * x[j]
        for p in range(length):
            kp = t - (u0 + p)
            if kp < 0 or kp > order:
                continue
            rhs[p] += full[kp] * c
            for q in range(length):
                kq = t - (u0 + q)
                if kq < 0 or kq > order:
                    continue
                m[p, q] += full[kp] * full[kq]
    for p in range(length):
        m[p, p] += 1e-12
    vals = np.linalg.solve(m, -rhs)
    energy = 0.0
    for t in range(t0, t1):
        acc = 0.0
        for k in range(order + 1):
            j = t - k
            if u0 <= j < u0 + length:
                acc += full[k] * vals[j - u0]
            else:
                acc += full[k] * x[j]
        energy += acc * acc
    return vals, energy


@njit(cache=True, nogil=True)
def _error_energy(x: np.ndarray, a: np.ndarray, t0: int, t1: int) -> float:
    order = a.size
    energy = 0.0
    for t in range(t0, t1):
        acc = x[t]
        for k in range(order):
            acc -= a[k] * x[t - 1 - k]
        energy += acc * acc
    return energy


@njit(cache=True, nogil=True)
def _error_rms(x: np.ndarray, a: np.ndarray, t0: int, t1: int) -> float:
    """Robust RMS of the prediction error over [t0, t1): 1.2533 * mean |e|."""
    order = a.size
    s = 0.0
    for t in range(t0, t1):
        acc = x[t]
        for k in range(order):
            acc -= a[k] * x[t - 1 - k]
        s += abs(acc)
    return 1.2533 * s / max(1, t1 - t0)


@njit(cache=True, nogil=True)
def _both_sides_unpredictable(
    x: np.ndarray, e: np.ndarray, a: np.ndarray, lo: int, hi: int, thr: float
) -> bool:
    """True when some sample in [lo, hi) is badly predicted from before *and* from after.

    An impulse is unpredictable from both sides; a step (a jump to a new level, as at a hard
    note start or the edge of a sawtooth) is predictable from one side or the other.
    """
    order = a.size
    for i in range(lo, hi):
        if abs(e[i]) <= thr:
            continue
        acc = x[i]
        for k in range(order):
            acc -= a[k] * x[i + 1 + k]
        if abs(acc) > thr:
            return True
    return False


@njit(cache=True, nogil=True)
def _verify(
    x: np.ndarray,
    e: np.ndarray,
    coefs: np.ndarray,
    block: int,
    scale: np.ndarray,
    sub: int,
    cands: np.ndarray,
    ratio: float,
    context: int,
    max_len: int,
    min_excess: float,
    max_fit: float,
    floor: float,
):
    """Judge each candidate; returns rows (start, length, strength, peak excess) of the clicks."""
    n = x.size
    order = coefs.shape[1]
    out = np.zeros((cands.size, 4))
    n_out = 0
    for ci in range(cands.size):
        c = cands[ci]
        lo = c - 2 - context - order
        hi = c + max_len + order + context + 2
        if lo < order or hi > n:
            continue
        ab = coefs[c // block].astype(np.float64)
        if not _both_sides_unpredictable(x, e, ab, c, c + max_len, ratio * scale[c // sub]):
            continue
        skip_lo = c - 2
        skip_hi = c + max_len + 1
        a = _local_lpc(x, lo, hi, skip_lo, skip_hi, order)
        # error levels before and after the damaged zone (the zone's own error excluded)
        s_before = _error_rms(x, a, lo + order, c - 2)
        s_after = _error_rms(x, a, c + max_len + 2 + order, hi)
        sigma = max(s_before, s_after, floor)
        t0 = c - 2
        t1 = c + max_len + order + 2
        e0 = _error_energy(x, a, t0, t1)
        best_gain = 0.0
        best_e = e0
        best_u = -1
        best_len = 0
        best_vals = np.zeros(max_len)
        for length in range(1, max_len + 1):
            for u0 in range(c - 1, c + 1):
                vals, e1 = _lsar(x, a, u0, length, t0, t1)
                gain = (e0 - e1) - 4.0 * length * sigma * sigma  # penalise extra free samples
                if gain > best_gain:
                    best_gain = gain
                    best_e = e1
                    best_u = u0
                    best_len = length
                    for p in range(length):
                        best_vals[p] = vals[p]
        if best_u < 0:
            continue
        removed = e0 - best_e
        if removed < min_excess * min_excess * sigma * sigma:
            continue
        # what is left must look like the local noise: a step or an onset leaves a lot
        if best_e > max_fit * (t1 - t0) * sigma * sigma:
            continue
        peak = 0.0
        for p in range(best_len):
            d = abs(x[best_u + p] - best_vals[p])
            if d > peak:
                peak = d
        if peak <= floor:
            continue
        out[n_out, 0] = best_u
        out[n_out, 1] = best_len
        out[n_out, 2] = peak / sigma
        out[n_out, 3] = peak
        n_out += 1
    return out[:n_out]


# --------------------------------------------------------------------------------------------
# public functions


def _check_audio(audio: np.ndarray, sample_rate: float) -> np.ndarray:
    if not isinstance(audio, np.ndarray) or audio.ndim != 2 or audio.shape[0] not in (1, 2):
        shape = getattr(audio, "shape", None)
        raise ParameterError(f"audio must be an array of shape (1 or 2, n_samples), got {shape}")
    if not sample_rate > 0:
        raise ParameterError(f"sample_rate must be positive, got {sample_rate}")
    return audio


def find_clicks(
    audio: np.ndarray,
    sample_rate: float,
    *,
    threshold_db: float = 20.0,
    order: int = 16,
    min_level_dbfs: float = -70.0,
) -> list[Click]:
    """Find clicks: runs of 1-4 samples that do not follow from the surrounding audio.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_channels, n_samples)], float32, 1 or 2 channels
    sample_rate : Hz
    threshold_db : how far (dB) a click's energy must stand above the local prediction error
        (its per-sample RMS); lower finds quieter clicks and risks more false alarms.
    order : LPC order of the whitening predictor (16-32).
    min_level_dbfs : clicks whose excess amplitude is below this level (dBFS) are ignored.

    Returns
    -------
    list of :class:`Click`, sorted by time then channel.
    """
    audio = _check_audio(audio, sample_rate)
    if not 4 <= order <= 64:
        raise ParameterError(f"order must be within 4-64, got {order}")
    floor = 10.0 ** (min_level_dbfs / 20.0)
    min_excess = 10.0 ** (threshold_db / 20.0)
    block = 1024
    sub = 256
    clicks: list[Click] = []
    for ch in range(audio.shape[0]):
        x = np.ascontiguousarray(audio[ch], dtype=np.float32)
        if x.size < 4 * block:
            continue
        coefs = _block_lpc(x, order, block)
        e = _residual(x, coefs, block)
        scale = _local_scale(e, sub)
        ratio = 0.5 * min_excess
        cands = _candidates(e, scale, sub, ratio, floor, order)
        rows = _verify(
            x.astype(np.float64), e, coefs, block, scale, sub, cands, ratio, 512,
            MAX_CLICK_SAMPLES, min_excess, 4.0, floor,
        )  # fmt: skip
        for start, length, strength, peak in rows:
            clicks.append(
                Click(
                    time_s=float(start) / sample_rate,
                    channel=ch,
                    strength_db=float(20.0 * np.log10(strength)),
                    length_samples=int(length),
                    start_sample=int(start),
                    level_dbfs=float(20.0 * np.log10(peak)),
                )
            )
    clicks.sort(key=lambda c: (c.start_sample, c.channel))
    return clicks


def repair_clicks(
    audio: np.ndarray, sample_rate: float, clicks: list[Click], *, order: int = 32
) -> np.ndarray:
    """A copy of ``audio`` with each click's samples re-estimated by LSAR interpolation.

    ``audio`` : np.ndarray [shape=(n_channels, n_samples)]; ``clicks`` as found by
    :func:`find_clicks` (``start_sample``, ``length_samples`` and ``channel`` are used).
    Returns a new float32 array of the same shape; ``audio`` is left untouched.
    """
    audio = _check_audio(audio, sample_rate)
    out = np.array(audio, dtype=np.float32, copy=True)
    context = 512
    for ch in range(out.shape[0]):
        mine = sorted((c for c in clicks if c.channel == ch), key=lambda c: c.start_sample)
        if not mine:
            continue
        x = out[ch].astype(np.float64)
        n = x.size
        for c in mine:
            u0 = int(c.start_sample)
            length = int(c.length_samples)
            if length < 1 or u0 < 0 or u0 + length > n:
                raise ParameterError(f"click outside the audio: {c}")
            lo = max(0, u0 - context - order)
            hi = min(n, u0 + length + context + order)
            a = _local_lpc(x, lo, hi, u0, u0 + length, order)
            # the error window must stay inside the known context on both sides
            t0 = max(u0, lo + order)
            t1 = min(u0 + length + order, hi)
            vals, _ = _lsar(x, a, u0, length, t0, t1)
            x[u0 : u0 + length] = vals
        out[ch] = x.astype(np.float32)
    return out
