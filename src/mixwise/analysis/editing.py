"""Editing checks before mixing: silences, phase and polarity between stems, mono compatibility.

Pure functions: audio in (``(n_channels, n_samples)`` float arrays at ``sample_rate`` Hz),
numbers out; nothing here modifies its input. Click detection lives in
:mod:`mixwise.analysis.clicks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.fft

from mixwise.analysis.levels import FrameStats, frame_stats
from mixwise.errors import ParameterError

# --------------------------------------------------------------------------------------------
# silence


@dataclass(frozen=True)
class Span:
    """A stretch of time: ``start_s`` to ``end_s`` (s); ``level_db`` its RMS level (dBFS)."""

    start_s: float
    end_s: float
    level_db: float = -math.inf

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class SilenceReport:
    """Where a stem plays and where it does not.

    keep : the regions to keep (sound plus its fades), ready to become session regions
    silences : the silent gaps between them (and before / after)
    low_level : stretches inside the kept regions that only hold breath, bleed or noise
        (above the silence threshold but below the gate level)
    active_level_db : the stem's level when it plays (95th percentile of 10 ms RMS, dBFS)
    threshold_db : the silence threshold used (dBFS); gate_db : the breath/bleed gate (dBFS)
    fade_ms : the fade length the kept regions allow for at each edge
    """

    keep: list[Span]
    silences: list[Span]
    low_level: list[Span]
    active_level_db: float
    threshold_db: float
    gate_db: float
    fade_ms: float

    @property
    def silent_s(self) -> float:
        return sum(s.duration_s for s in self.silences)


def find_silences(
    audio: np.ndarray,
    sample_rate: int,
    *,
    threshold_below_db: float = 50.0,
    gate_below_db: float = 30.0,
    min_silence_s: float = 1.5,
    hold_ms: float = 150.0,
    fade_ms: float = 10.0,
    min_low_level_s: float = 0.3,
    stats: FrameStats | None = None,
) -> SilenceReport:
    """Silent regions of a stem, with the threshold relative to its own level.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_channels, n)]
    sample_rate : Hz
    threshold_below_db : silence is quieter than the active level minus this (dB); never above
        -90 dBFS + this, so a very quiet stem still has a floor
    gate_below_db : breath / bleed lies between the silence threshold and active level minus this
    min_silence_s : shorter gaps are not trimmed
    hold_ms : sound keeps a region open this long after it falls below the threshold
    fade_ms : fade length at each kept edge; the region begins this long before the sound's
        first sample above the threshold and ends this long after its last one
    min_low_level_s : shortest breath / bleed stretch reported

    Edges are found on 1 ms frames, so they are accurate to about a millisecond. ``stats`` may
    pass precomputed :func:`~mixwise.analysis.levels.frame_stats` of ``audio``.
    """
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise ParameterError(f"audio must be (channels, n) and non-empty, got shape {audio.shape}")
    sr = float(sample_rate)
    if stats is None:
        stats = frame_stats(audio, sample_rate)
    hop = stats.hop
    with np.errstate(divide="ignore"):
        levels = 10.0 * np.log10(stats.max_power)
    n_frames = levels.shape[0]
    duration = audio.shape[1] / sr
    finite = levels[np.isfinite(levels)]
    if finite.size == 0:
        return SilenceReport(
            [], [Span(0.0, duration)], [], -math.inf, -math.inf, -math.inf, fade_ms
        )
    # the level "when it plays": 10 ms RMS, 95th percentile
    k = 10
    m = n_frames // k
    p10 = (
        (10.0 ** (levels[: m * k] / 10.0)).reshape(m, k).mean(axis=1)
        if m
        else 10.0 ** (finite / 10.0)
    )
    with np.errstate(divide="ignore"):
        active = (
            float(np.percentile(10.0 * np.log10(p10[p10 > 0]), 95))
            if np.any(p10 > 0)
            else -math.inf
        )
    threshold = max(active - threshold_below_db, -90.0)
    gate = active - gate_below_db
    sounding = levels > threshold
    # hold: a frame stays open while sound was present within the last hold_ms
    hold = max(1, round(hold_ms))
    idx = np.flatnonzero(sounding)
    if idx.size == 0:
        return SilenceReport([], [Span(0.0, duration)], [], active, threshold, gate, fade_ms)
    # group sounding frames separated by less than min_silence_s (and the hold) into regions
    gap_frames = max(round(min_silence_s * 1000.0), hold)
    breaks = np.flatnonzero(np.diff(idx) > gap_frames)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]])) + 1  # exclusive, in frames
    fade_s = fade_ms / 1000.0
    keep: list[Span] = []
    for a, b in zip(starts, ends, strict=True):
        s0 = max(0.0, a * hop / sr - fade_s)
        s1 = min(duration, b * hop / sr + fade_s)
        keep.append(Span(s0, s1, float(10 * np.log10(np.mean(10 ** (levels[a:b] / 10))))))
    silences: list[Span] = []
    t = 0.0
    for r in keep:
        if r.start_s - t > 1e-9:
            silences.append(Span(t, r.start_s))
        t = r.end_s
    if duration - t > 1e-9:
        silences.append(Span(t, duration))
    # breath / bleed: stretches inside kept regions above the threshold but below the gate
    low = (levels > threshold) & (levels < gate)
    low_level: list[Span] = []
    min_low = max(1, round(min_low_level_s * 1000.0))
    edges = np.diff(np.concatenate(([0], low.view(np.int8), [0])))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if b - a >= min_low:
            level = float(10 * np.log10(np.mean(10 ** (levels[a:b] / 10))))
            low_level.append(Span(a * hop / sr, b * hop / sr, level))
    return SilenceReport(keep, silences, low_level, active, threshold, gate, fade_ms)


# --------------------------------------------------------------------------------------------
# phase and polarity


@dataclass(frozen=True)
class Alignment:
    """How ``other`` lines up with ``reference``.

    delay_ms : how late ``other`` is (ms; negative: early), sub-sample accurate
    polarity_inverted : ``other`` is upside down relative to ``reference``
    correlation : normalised cross-correlation at the best lag (0-1, sign removed)
    """

    delay_ms: float
    polarity_inverted: bool
    correlation: float


def _mono(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64).mean(axis=0) if x.ndim == 2 else x.astype(np.float64)


def align(
    reference: np.ndarray,
    other: np.ndarray,
    sample_rate: int,
    *,
    max_lag_ms: float = 20.0,
) -> Alignment:
    """Time offset and polarity of ``other`` against ``reference`` (same length and rate).

    Cross-correlation by FFT of the mono downmixes, searched within +-``max_lag_ms``; the
    peak of |r| gives the lag and its sign the polarity; a parabola through the peak and
    its neighbours (of the 8x band-limited interpolated correlation) gives the sub-sample
    part. Arrays are ``(channels, n)`` or 1-D.
    """
    a, b = _mono(reference), _mono(other)
    n = min(a.shape[0], b.shape[0])
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    ea, eb = float(np.dot(a, a)), float(np.dot(b, b))
    if n == 0 or ea <= 0 or eb <= 0:
        return Alignment(0.0, False, 0.0)
    max_lag = min(n - 1, int(math.ceil(max_lag_ms * sample_rate / 1000.0)))
    nfft = 1 << (2 * n - 1).bit_length()
    up = 8
    # r[k] = sum a[t] b[t + k]: positive k = other late
    spec = np.conj(np.fft.rfft(a, nfft)) * np.fft.rfft(b, nfft)
    r = np.fft.irfft(spec, nfft)
    lags = np.concatenate((np.arange(0, max_lag + 1), np.arange(-max_lag, 0)))
    vals = r[lags % nfft]
    best = int(np.argmax(np.abs(vals)))
    k0 = int(lags[best])
    # refine: 8x band-limited interpolation of the correlation around the peak
    from scipy.signal import resample

    half = 32
    around = r[np.arange(k0 - half, k0 + half) % nfft]
    fine = resample(around, 2 * half * up)
    centre = half * up
    window = np.abs(fine[centre - 2 * up : centre + 2 * up + 1])
    j = int(np.argmax(window))
    frac = 0.0
    if 0 < j < len(window) - 1:
        y0, y1, y2 = window[j - 1], window[j], window[j + 1]
        den = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / den if den != 0 else 0.0
    lag = k0 + (j - 2 * up + frac) / up
    peak = fine[centre - 2 * up + j]
    rho = abs(float(peak)) / math.sqrt(ea * eb)
    return Alignment(lag * 1000.0 / sample_rate, bool(peak < 0), min(rho, 1.0))


def common_excerpt(
    envelope_a: np.ndarray, envelope_b: np.ndarray, *, frame_s: float, length_s: float
) -> tuple[float, float]:
    """Where two stems play together: the ``length_s`` window (start, end in s) maximising
    the quieter of the two energies, from per-frame energies taken every ``frame_s`` seconds."""
    n = min(len(envelope_a), len(envelope_b))
    k = max(1, min(n, round(length_s / frame_s)))
    ca = np.concatenate(([0.0], np.cumsum(envelope_a[:n])))
    cb = np.concatenate(([0.0], np.cumsum(envelope_b[:n])))
    starts = np.arange(0, n - k + 1)
    score = np.minimum(ca[starts + k] - ca[starts], cb[starts + k] - cb[starts])
    s = int(starts[int(np.argmax(score))]) if starts.size else 0
    return s * frame_s, (s + k) * frame_s


def energy_envelope(
    audio: np.ndarray,
    sample_rate: int,
    *,
    frame_s: float = 0.25,
    stats: FrameStats | None = None,
) -> np.ndarray:
    """Mean power of the mono downmix in frames of ``frame_s`` seconds (a whole number of ms),
    shape ``(n_frames,)``; ``stats`` may pass precomputed frame statistics."""
    if stats is None:
        stats = frame_stats(audio, sample_rate)
    return stats.pooled("mono", max(1, round(frame_s * 1000)))


# --------------------------------------------------------------------------------------------
# mono compatibility

#: Octave bands (centre Hz) of the mono check.
OCTAVE_BANDS_HZ = (31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0)
#: Below this frequency (Hz) cancellation counts as losing the low end.
LOW_END_HZ = 200.0


@dataclass(frozen=True)
class MonoReport:
    """How a stereo signal survives a fold-down to mono ((L + R) / 2).

    correlation : L/R correlation of the whole signal (-1 opposite, 0 unrelated, +1 mono)
    loss_db : level lost in mono against the stereo average power (0 for mono content,
        about -3 dB for unrelated channels, very negative when they cancel)
    bands : per octave band: centre Hz -> (correlation, loss_db)
    low_end_cancels : the bands below 200 Hz lose more than 3 dB or are anti-correlated
    incompatible : the signal as a whole cancels (correlation < 0 or loss beyond -4.5 dB)
    """

    correlation: float
    loss_db: float
    bands: dict[float, tuple[float, float]] = field(default_factory=dict)
    low_end_cancels: bool = False
    incompatible: bool = False

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.incompatible:
            out.append(
                f"mono-incompatible: L/R correlation {self.correlation:+.2f}, "
                f"{self.loss_db:.1f} dB lost in mono"
            )
        if self.low_end_cancels:
            out.append("low end cancels in mono (below 200 Hz)")
        return out


def mono_compatibility(audio: np.ndarray, sample_rate: int, *, n_fft: int = 8192) -> MonoReport:
    """The :class:`MonoReport` of ``audio`` [shape=(channels, n)]; mono input is trivially fine.

    All figures come from the cross-spectra of the two channels (Hann frames of ``n_fft``).
    """
    if audio.shape[0] < 2:
        return MonoReport(1.0, 0.0)
    x = audio
    # spectra of non-overlapping Hann frames, every other frame: plenty for long-term
    # statistics, at a fraction of the cost of a full short-time transform
    n_fft = min(n_fft, 1 << max(8, (x.shape[1] - 1).bit_length()))
    n_frames = x.shape[1] // n_fft
    if n_frames == 0:
        frames = np.pad(x, ((0, 0), (0, n_fft - x.shape[1])))[:, None, :]
    else:
        frames = x[:, : n_frames * n_fft].reshape(2, n_frames, n_fft)[:, ::2]
    # single precision transform (the figures are sums over many frames, kept in float64)
    z = scipy.fft.rfft(
        np.asarray(frames, dtype=np.float32) * np.hanning(n_fft).astype(np.float32), axis=-1
    )
    f = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    re, im = z.real, z.imag
    sl = np.sum(re[0] * re[0] + im[0] * im[0], axis=0, dtype=np.float64)
    sr_ = np.sum(re[1] * re[1] + im[1] * im[1], axis=0, dtype=np.float64)
    cross = np.sum(re[0] * re[1] + im[0] * im[1], axis=0, dtype=np.float64)
    pl, pr = float(sl.sum()), float(sr_.sum())
    if pl <= 0 and pr <= 0:
        return MonoReport(1.0, 0.0)
    c_all = float(cross.sum())
    corr = c_all / math.sqrt(pl * pr) if pl > 0 and pr > 0 else 0.0
    loss = 10 * math.log10(max(0.25 * (pl + pr + 2 * c_all), 1e-30) / (0.5 * (pl + pr)))
    bands: dict[float, tuple[float, float]] = {}
    low_cancel = False
    for centre in OCTAVE_BANDS_HZ:
        lo, hi = centre / math.sqrt(2), centre * math.sqrt(2)
        sel = (f >= lo) & (f < hi)
        a, b, c = float(sl[sel].sum()), float(sr_[sel].sum()), float(cross[sel].sum())
        if a <= 0 or b <= 0 or (a + b) < 1e-12 * (pl + pr + 1e-30) * n_fft:
            continue
        band_corr = c / math.sqrt(a * b)
        band_loss = 10 * math.log10(max(0.25 * (a + b + 2 * c), 1e-30) / (0.5 * (a + b)))
        bands[centre] = (round(band_corr, 3), round(band_loss, 2))
        if (
            hi <= LOW_END_HZ * math.sqrt(2)
            and centre <= LOW_END_HZ
            and (band_corr < 0 or band_loss < -3.0)
        ):
            low_cancel = True
    incompatible = corr < 0 or loss < -4.5
    return MonoReport(round(corr, 4), round(loss, 2), bands, low_cancel, incompatible)
