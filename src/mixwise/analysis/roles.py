"""Track role labelling (draft: features only)."""

from __future__ import annotations

import numpy as np

_FRAME_S = 0.046
_MAX_SPECTRAL_FRAMES = 1200
_BLOCK_S = 0.005
_GATE_BELOW_LOUD_DB = 40.0
_ABS_GATE_DBFS = -70.0
_F0_MIN_HZ = 40.0
_F0_MAX_HZ = 1000.0
_PITCH_RATE_HZ = 16000
_PITCH_SEGMENTS = 16
_PITCH_SEGMENT_S = 0.8
_PITCH_HOP_S = 0.02
_VOICED_NCCF = 0.75


def _db(x):
    return 10.0 * np.log10(np.maximum(x, 1e-20))


def _evenly(idx: np.ndarray, n: int) -> np.ndarray:
    if idx.size <= n:
        return idx
    return idx[np.linspace(0, idx.size - 1, n).round().astype(int)]


def _pitch_track(mono, sr, centres, gate_ms):
    from scipy import fft as sfft
    from scipy.signal import resample_poly

    q = max(1, int(round(sr / _PITCH_RATE_HZ)))
    rate = sr / q
    n_p = 1 << int(np.ceil(np.log2(2.0 * rate / _F0_MIN_HZ)))
    hop = int(round(_PITCH_HOP_S * rate))
    seg_len = int(_PITCH_SEGMENT_S * sr)
    tau_min = max(2, int(rate / _F0_MAX_HZ))
    tau_max = int(np.ceil(rate / _F0_MIN_HZ))
    frames, seg_id = [], []
    for k, c in enumerate(centres):
        a = max(0, int(c) - seg_len // 2)
        seg = mono[a : a + seg_len]
        if seg.size < n_p * q:
            continue
        if q > 1:
            seg = resample_poly(seg, 1, q).astype(np.float32)
        n = 1 + (seg.size - n_p) // hop
        if n < 1:
            continue
        idx = np.arange(n_p)[None, :] + hop * np.arange(n)[:, None]
        frames.append(seg[idx])
        seg_id.append(np.full(n, k))
    if not frames:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=int)
    pf = np.concatenate(frames).astype(np.float32)
    sid = np.concatenate(seg_id)
    pf -= pf.mean(axis=1, keepdims=True)
    X = sfft.rfft(pf, n=2 * n_p, axis=1)
    r = sfft.irfft(X.real**2 + X.imag**2, axis=1)[:, : tau_max + 2].astype(np.float64)
    c = np.cumsum(pf.astype(np.float64) ** 2, axis=1)
    taus = np.arange(tau_max + 2)
    e1 = c[:, n_p - 1 - taus]
    e2 = c[:, -1:] - np.concatenate([np.zeros((pf.shape[0], 1)), c[:, taus[1:] - 1]], axis=1)
    rho = r / np.sqrt(e1 * e2 + 1e-30)
    loud = c[:, -1] / n_p > gate_ms
    rho[~loud] = 0.0
    mid = rho[:, tau_min : tau_max + 1]
    left = rho[:, tau_min - 1 : tau_max]
    right = rho[:, tau_min + 1 : tau_max + 2]
    is_peak = (mid > left) & (mid >= right)
    peaks = np.where(is_peak, mid, -1.0)
    best = peaks.max(axis=1)
    first = np.argmax(peaks >= 0.9 * best[:, None], axis=1)
    t = first + tau_min
    rows = np.arange(t.size)
    y0, y1, y2 = rho[rows, t - 1], rho[rows, t], rho[rows, t + 1]
    den = y0 - 2 * y1 + y2
    shift = np.where(np.abs(den) > 1e-12, 0.5 * (y0 - y2) / np.where(den == 0, 1, den), 0.0)
    f0 = rate / (t + np.clip(shift, -0.5, 0.5))
    best = np.maximum(best, 0.0)
    return best[loud], f0[loud], sid[loud]


def audio_features(audio, sample_rate):
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    sr = int(sample_rate)
    mono = (x[0] + x[1]) * np.float32(0.5) if x.shape[0] == 2 else x[0].astype(np.float32)
    mono = mono.astype(np.float32, copy=False)
    n_total = mono.shape[0]
    n_fft = 1 << int(np.ceil(np.log2(_FRAME_S * sr)))
    if n_total < 2 * n_fft:
        mono = np.pad(mono, (0, 2 * n_fft - n_total))
        n_total = mono.shape[0]
    n_frames = n_total // n_fft
    feats: dict[str, float] = {"duration_s": n_total / sr}
    frames = mono[: n_frames * n_fft].reshape(n_frames, n_fft)
    frame_energy = np.einsum("ij,ij->i", frames, frames).astype(np.float64) / n_fft
    frame_db = _db(frame_energy)
    above = frame_db[frame_db > _ABS_GATE_DBFS]
    loud_db = float(np.percentile(above, 95)) if above.size else _ABS_GATE_DBFS
    gate_db = max(loud_db - _GATE_BELOW_LOUD_DB, _ABS_GATE_DBFS)
    active = np.flatnonzero(frame_db > gate_db)
    if active.size == 0:
        active = np.arange(n_frames)
    feats["active_share"] = active.size / n_frames
    act_energy = float(frame_energy[active].mean())
    feats["level_dbfs"] = float(_db(act_energy))
    peak = float(np.max(np.abs(frames[active])))
    feats["crest_db"] = float(20 * np.log10(max(peak, 1e-10)) - _db(act_energy))

    sel = _evenly(active, _MAX_SPECTRAL_FRAMES)
    if x.shape[0] == 2:
        seg = x[:, : n_frames * n_fft].reshape(2, n_frames, n_fft)[:, _evenly(active, 300)]
        s = (seg[0] - seg[1]).astype(np.float64)
        m = (seg[0] + seg[1]).astype(np.float64)
        es, em = float(np.sum(s * s)), float(np.sum(m * m))
        feats["side_share"] = es / max(em + es, 1e-20)
    else:
        feats["side_share"] = 0.0

    from scipy import fft as sfft

    win = np.hanning(n_fft).astype(np.float32)
    X = sfft.rfft(frames[sel] * win, axis=1)
    spec = (X.real**2 + X.imag**2).astype(np.float64)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    ltas = spec.mean(axis=0)
    tot = float(ltas[1:].sum()) + 1e-30
    feats["centroid_hz"] = float((ltas[1:] * freqs[1:]).sum() / tot)
    cum = np.cumsum(ltas[1:]) / tot
    feats["rolloff_hz"] = float(freqs[1:][min(np.searchsorted(cum, 0.85), freqs.size - 2)])
    feats["sub_share"] = float(ltas[1:][freqs[1:] < 60].sum() / tot)
    feats["low_share"] = float(ltas[1:][freqs[1:] < 150].sum() / tot)
    feats["high_share"] = float(ltas[freqs >= 5000].sum() / tot)
    fsum = spec[:, 1:].sum(axis=1) + 1e-30
    fc = (spec[:, 1:] * freqs[1:]).sum(axis=1) / fsum
    feats["frame_centroid_hz"] = float(np.median(fc))
    band = (freqs >= 100) & (freqs <= 12000)
    sb = spec[:, band] + 1e-20
    flat = np.exp(np.mean(np.log(sb), axis=1)) / np.mean(sb, axis=1)
    feats["flatness"] = float(np.median(flat))
    # timbre flux between consecutive active frames (log band spectra)
    pairs = active[:-1][np.diff(active) == 1]
    pairs = _evenly(pairs, 300)
    if pairs.size >= 3:
        edges = np.geomspace(60, min(16000, sr / 2 - 1), 25)
        bi = np.searchsorted(freqs, edges)
        def bands(fr):
            Y = sfft.rfft(frames[fr] * win, axis=1)
            P = (Y.real**2 + Y.imag**2).astype(np.float64)
            cs = np.concatenate([np.zeros((P.shape[0], 1)), np.cumsum(P, axis=1)], axis=1)
            B = cs[:, bi[1:]] - cs[:, bi[:-1]]
            return 10 * np.log10(B + 1e-12 * B.sum(axis=1, keepdims=True) + 1e-30)
        A, Bb = bands(pairs), bands(pairs + 1)
        A -= A.mean(axis=1, keepdims=True)
        Bb -= Bb.mean(axis=1, keepdims=True)
        feats["timbre_flux_db"] = float(np.median(np.sqrt(np.mean((A - Bb) ** 2, axis=1))))
    else:
        feats["timbre_flux_db"] = 0.0
    feats["noisy_share"] = float(np.mean((flat > 0.15) & (fc > 3000)))

    nb = max(int(round(_BLOCK_S * sr)), 1)
    n_blocks = n_total // nb
    blocks = mono[: n_blocks * nb].reshape(n_blocks, nb)
    bdb = np.maximum(_db(np.einsum("ij,ij->i", blocks, blocks).astype(np.float64) / nb), loud_db - 60)
    bact = bdb > gate_db
    if bact.sum() > 10:
        feats["env_crest_db"] = float(np.percentile(bdb[bact], 97) - np.percentile(bdb[bact], 50))
    else:
        feats["env_crest_db"] = 0.0
    from scipy.ndimage import minimum_filter1d

    lag = max(int(round(0.02 / _BLOCK_S)), 1)
    prev_min = minimum_filter1d(bdb, size=lag, origin=(lag - 1) // 2)
    rise = np.zeros_like(bdb)
    rise[1:] = bdb[1:] - prev_min[:-1]
    on = np.flatnonzero((rise > 10.0) & (bdb > gate_db + 6))
    if on.size:
        on = on[np.concatenate(([True], np.diff(on) > int(0.06 / _BLOCK_S)))]
    active_s = active.size * n_fft / sr
    feats["onset_rate_hz"] = on.size / max(active_s, 1e-3)
    d150 = int(round(0.15 / _BLOCK_S))
    p30 = int(round(0.03 / _BLOCK_S))
    on = on[on + d150 + 4 < n_blocks]
    if on.size:
        on = _evenly(on, 400)
        pk = np.max(bdb[on[:, None] + np.arange(p30)[None, :]], axis=1)
        later = bdb[on[:, None] + d150 + np.arange(4)[None, :]].mean(axis=1)
        feats["decay_db"] = float(np.median(pk - later))
    else:
        feats["decay_db"] = 0.0

    centres = (_evenly(active, _PITCH_SEGMENTS) + 0.5) * n_fft
    best, f0, sid = _pitch_track(mono, sr, centres, 10 ** (gate_db / 10))
    if best.size:
        voiced = best >= _VOICED_NCCF
        feats["periodicity"] = float(np.median(best))
        feats["voiced_share"] = float(voiced.mean())
    else:
        voiced = np.zeros(0, bool)
        feats["periodicity"] = 0.0
        feats["voiced_share"] = 0.0
    if voiced.sum() >= 5:
        lf = 12 * np.log2(f0[voiced] / 440.0)
        feats["f0_hz"] = float(440 * 2 ** (np.median(lf) / 12))
        feats["f0_range_st"] = float(np.percentile(lf, 90) - np.percentile(lf, 10))
        pair = voiced[1:] & voiced[:-1] & (sid[1:] == sid[:-1])
        d = 1200 * np.abs(np.log2(f0[1:] / f0[:-1]))[pair]
        d = d[d < 80]
        feats["pitch_jitter_cents"] = float(np.median(d)) if d.size >= 3 else 0.0
        dd = 1200 * np.abs(np.log2(f0[1:] / f0[:-1]))[pair]
        feats["pitch_glide_cents"] = float(np.median(dd)) if dd.size >= 3 else 0.0
        feats["f0_p10_hz"] = float(440 * 2 ** (np.percentile(lf, 10) / 12))
        cents = 100 * lf
        feats["pitch_grid_r"] = float(np.abs(np.mean(np.exp(2j * np.pi * cents / 100))))
    else:
        feats["f0_hz"] = 0.0
        feats["f0_range_st"] = 0.0
        feats["pitch_jitter_cents"] = 0.0
        feats["pitch_grid_r"] = 0.0
        feats["pitch_glide_cents"] = 0.0
        feats["f0_p10_hz"] = 0.0
    return feats
