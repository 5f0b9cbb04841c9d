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

#: Regularisation of every LPC fit (fraction of the signal power added as white noise).
WHITE_NOISE_CORRECTION = 1e-4
#: Longest run of damaged samples treated as one click.
MAX_CLICK_SAMPLES = 3
#: A sample is a candidate when its prediction error exceeds this many local error RMS.
CANDIDATE_RATIO = 5.0
#: ... and stand this many times above the error around it (see :func:`_candidates`).
CANDIDATE_PROMINENCE = 2.0
#: After the repair, the error left in the judged window may be at most this many times the
#: local error power per sample (an onset or a step leaves much more).
MAX_LEFT_RATIO = 3.0


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
        a = _lpc_from_autocorr(r, order)
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
    e: np.ndarray, scale: np.ndarray, sub: int, ratio: float, floor: float, prominence: float
) -> np.ndarray:
    """Isolated peaks of the prediction error: the places worth judging as clicks.

    A candidate is the largest |e| within +-32 samples, above ``ratio`` times the local
    scale and ``floor``, and at least ``prominence`` times every |e| in the 40 samples
    before it and in the 40 samples after the predictor's tail. Onsets and noise bursts keep
    the error high after their first sample, so they are not candidates; a click is.
    """
    n = e.size
    out = []
    i = 64
    while i < n - 64:
        a = abs(e[i])
        if a <= floor or a <= ratio * scale[i // sub]:
            i += 1
            continue
        peak = True
        for j in range(i - 32, i + 33):
            if abs(e[j]) > a:
                peak = False
                break
        if peak:
            bg = 0.0
            for j in range(i - 44, i - 4):
                bg = max(bg, abs(e[j]))
            for j in range(i + 24, i + 64):
                bg = max(bg, abs(e[j]))
            if a >= prominence * bg:
                out.append(i)
                i += 32
                continue
        i += 1
    res = np.empty(len(out), dtype=np.int64)
    for k in range(len(out)):
        res[k] = out[k]
    return res


@njit(cache=True, nogil=True, fastmath=True)
def _add_autocorr(r: np.ndarray, seg: np.ndarray, taper: np.ndarray) -> None:
    """Add the autocorrelation (lags 0..len(r)-1) of ``seg * taper`` to ``r``."""
    n = seg.size
    if n <= r.size:
        return
    w = seg * taper
    for k in range(r.size):
        acc = 0.0
        w0 = w[: n - k]
        w1 = w[k:]
        for i in range(n - k):
            acc += w0[i] * w1[i]
        r[k] += acc


@njit(cache=True, nogil=True)
def _sine_taper(n: int) -> np.ndarray:
    w = np.empty(n)
    for i in range(n):
        w[i] = math.sin(math.pi * (i + 0.5) / n)
    return w


@njit(cache=True, nogil=True)
def _local_lpc(
    x: np.ndarray, lo: int, hi: int, skip_lo: int, skip_hi: int, order: int
) -> np.ndarray:
    """LPC fitted on x[lo:skip_lo] and x[skip_hi:hi], leaving the suspect span out.

    The two sides are tapered and their autocorrelations summed, so the damaged samples
    never bias the model used to judge and repair them.
    """
    r = np.zeros(order + 1)
    _add_autocorr(r, x[lo:skip_lo], _sine_taper(skip_lo - lo))
    _add_autocorr(r, x[skip_hi:hi], _sine_taper(hi - skip_hi))
    return _lpc_from_autocorr(r, order)


@njit(cache=True, nogil=True)
def _lpc_from_autocorr(r: np.ndarray, order: int) -> np.ndarray:
    if r[0] <= 1e-20:
        return np.zeros(order)
    # White-noise correction at -40 dB: without it, smooth (low-pass) audio gives huge,
    # ill-conditioned coefficients whose error turns one bad sample into a long ringing burst.
    r[0] *= 1.0 + WHITE_NOISE_CORRECTION
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
def _both_sides_unpredictable(x: np.ndarray, a: np.ndarray, lo: int, hi: int, thr: float) -> bool:
    """True when some sample in [lo, hi) is badly predicted from before *and* from after.

    An impulse is unpredictable from both sides; a step (a jump to a new level, as at a hard
    note start or the edge of a sawtooth) is predictable from one side or the other.
    """
    order = a.size
    for i in range(lo, hi):
        fwd = x[i]
        bwd = x[i]
        for k in range(order):
            fwd -= a[k] * x[i - 1 - k]
            bwd -= a[k] * x[i + 1 + k]
        if abs(fwd) > thr and abs(bwd) > thr:
            return True
    return False


@njit(cache=True, nogil=True)
def _solve_small(m: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve the small symmetric positive system m @ x = b (Gaussian elimination)."""
    n = b.size
    a = m.copy()
    x = b.copy()
    for i in range(n):
        piv = a[i, i]
        for j in range(i + 1, n):
            f = a[j, i] / piv
            for k in range(i, n):
                a[j, k] -= f * a[i, k]
            x[j] -= f * x[i]
    for i in range(n - 1, -1, -1):
        acc = x[i]
        for k in range(i + 1, n):
            acc -= a[i, k] * x[k]
        x[i] = acc / a[i, i]
    return x


@njit(cache=True, nogil=True)
def _judge(
    x: np.ndarray,
    cands: np.ndarray,
    order: int,
    context: int,
    max_len: int,
    ratio: float,
    floor: float,
) -> np.ndarray:
    """Measure each candidate; one row per candidate that could be judged.

    For every hypothesis "samples u0 .. u0+L-1 are damaged" (L = 1..max_len, u0 near the
    candidate) the LSAR correction and the prediction-error energy it removes follow in closed
    form: with e0 the error of the observed samples over a window holding every error term
    the span touches, and f the error filter (1, -a), the correction d solves
    T d = -b, T the Toeplitz matrix of f's autocorrelation, b[j] = sum_k f[k] e0[u0+j+k];
    the energy removed is -b.d.

    Row: start, length, peak correction |x - x_hat|, sigma (local error RMS, the larger of
    the two sides), removed error energy / sigma^2, error energy left / (window * sigma^2),
    both-sides-unpredictable flag (1/0).
    """
    n = x.size
    rows = np.zeros((cands.size, 7))
    n_rows = 0
    full = np.empty(order + 1)
    rf = np.empty(max_len)
    sig_len = 192
    taper = _sine_taper(context)
    for ci in range(cands.size):
        p = cands[ci]
        # the first large forward error is at, or just after, the first damaged sample
        zone_lo = p - 4
        zone_hi = p + max_len + 2
        lo = zone_lo - context
        hi = zone_hi + context
        if lo < order or hi + order > n:
            continue
        r = np.zeros(order + 1)
        _add_autocorr(r, x[lo:zone_lo], taper)
        _add_autocorr(r, x[zone_hi:hi], taper)
        a = _lpc_from_autocorr(r, order)
        s_before = _error_rms(x, a, zone_lo - sig_len, zone_lo)
        s_after = _error_rms(x, a, zone_hi + order, zone_hi + order + sig_len)
        sigma = max(s_before, s_after, floor)
        full[0] = 1.0
        for k in range(order):
            full[k + 1] = -a[k]
        for m in range(max_len):
            acc = 0.0
            for k in range(order + 1 - m):
                acc += full[k] * full[k + m]
            rf[m] = acc
        t0 = zone_lo
        t1 = zone_hi + order
        e0 = np.empty(t1 - t0)
        energy0 = 0.0
        for t in range(t0, t1):
            acc = 0.0
            for k in range(order + 1):
                acc += full[k] * x[t - k]
            e0[t - t0] = acc
            energy0 += acc * acc
        # b for every span start the hypotheses can use
        u_lo = p - 3
        u_hi = p + 1 + max_len
        cb = np.zeros(u_hi - u_lo)
        for u in range(u_lo, u_hi):
            acc = 0.0
            for k in range(order + 1):
                acc += full[k] * e0[u + k - t0]
            cb[u - u_lo] = acc
        best_gain = 0.0
        best_removed = 0.0
        best_u = -1
        best_len = 0
        best_d = np.zeros(max_len)
        for length in range(1, max_len + 1):
            tm = np.empty((length, length))
            for i in range(length):
                for j in range(length):
                    tm[i, j] = rf[abs(i - j)]
            for u0 in range(p - 3, p + 2):
                bv = cb[u0 - u_lo : u0 - u_lo + length].copy()
                d = _solve_small(tm, bv)
                removed = 0.0
                for j in range(length):
                    removed += bv[j] * d[j]
                gain = removed - 4.0 * length * sigma * sigma  # each free sample must pay
                if gain > best_gain:
                    best_gain = gain
                    best_removed = removed
                    best_u = u0
                    best_len = length
                    for j in range(length):
                        best_d[j] = d[j]
        if best_u < 0:
            continue
        peak = 0.0
        for j in range(best_len):
            if abs(best_d[j]) > peak:
                peak = abs(best_d[j])
        two_sided = _both_sides_unpredictable(x, a, best_u, best_u + best_len, ratio * sigma)
        rows[n_rows, 0] = best_u
        rows[n_rows, 1] = best_len
        rows[n_rows, 2] = peak
        rows[n_rows, 3] = sigma
        rows[n_rows, 4] = best_removed / (sigma * sigma)
        rows[n_rows, 5] = (energy0 - best_removed) / ((t1 - t0) * sigma * sigma)
        rows[n_rows, 6] = 1.0 if two_sided else 0.0
        n_rows += 1
    return rows[:n_rows]


def _channel_rows(x: np.ndarray, order: int, ratio: float, floor: float) -> np.ndarray:
    """All judged candidates of one channel (rows as in :func:`_judge`)."""
    block, sub = 1024, 256
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    if x32.size < 4 * block:
        return np.zeros((0, 7))
    coefs = _block_lpc(x32, 16, block)
    e = _residual(x32, coefs, block)
    scale = _local_scale(e, sub)
    cands = _candidates(e, scale, sub, ratio, floor, CANDIDATE_PROMINENCE)
    if cands.size == 0:
        return np.zeros((0, 7))
    return _judge(x32, cands, order, 512, MAX_CLICK_SAMPLES, ratio, floor)


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
    min_strength_db: float = 14.0,
    order: int = 32,
    min_level_dbfs: float = -70.0,
) -> list[Click]:
    """Find clicks: runs of 1-3 samples that do not follow from the surrounding audio.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_channels, n_samples)], float32, 1 or 2 channels
    sample_rate : Hz
    threshold_db : how far (dB) the prediction-error energy a click adds must stand above
        the local per-sample error power; lower finds quieter clicks and risks false alarms.
    min_strength_db : the click's peak excess over the local error RMS (dB) must reach this.
    order : LPC order of the predictor used to judge and repair candidates (16-64).
    min_level_dbfs : clicks whose excess amplitude is below this level (dBFS) are ignored.

    Returns
    -------
    list of :class:`Click`, sorted by time then channel.
    """
    audio = _check_audio(audio, sample_rate)
    if not 4 <= order <= 64:
        raise ParameterError(f"order must be within 4-64, got {order}")
    floor = 10.0 ** (min_level_dbfs / 20.0)
    min_removed = 10.0 ** (threshold_db / 10.0)
    min_strength = 10.0 ** (min_strength_db / 20.0)
    clicks: list[Click] = []
    for ch in range(audio.shape[0]):
        rows = _channel_rows(audio[ch], order, CANDIDATE_RATIO, floor)
        for start, length, peak, sigma, removed, left, two_sided in rows:
            if not (
                removed >= min_removed
                and peak >= min_strength * sigma
                and peak > floor
                and left <= MAX_LEFT_RATIO
                and two_sided
            ):
                continue
            clicks.append(
                Click(
                    time_s=float(start) / sample_rate,
                    channel=ch,
                    strength_db=float(20.0 * np.log10(peak / sigma)),
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
