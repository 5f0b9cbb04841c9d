"""Compare a mix with a reference track: tone, loudness, dynamics and width, in numbers and words.

:func:`profile` measures one signal once; :func:`compare` sets two profiles side by side;
:func:`compare_files` does both for two audio files; :func:`comparison_svg` draws the result.

How the two are made comparable
-------------------------------
* **Tone.** Each profile holds long-term third-octave band levels (the 31 IEC bands of
  :data:`~mixwise.analysis.spectrum.THIRD_OCTAVE_HZ`, power per band over the frames where the
  signal plays, channels summed) relative to its own integrated loudness (dB re LUFS), so a
  quiet mix and a loud master can be laid over each other. :func:`compare` then aligns the two
  curves on their **median** band difference over :data:`TONAL_RANGE_HZ`: a level match that
  ignores the regions that differ, as long as they cover less than half the spectrum (a match
  by LUFS alone would shift the whole curve by the loudness the difference itself adds: a
  +6 dB bass boost would read +4.7 dB in the bass and -1.3 dB everywhere else). The **tonal
  distance** is the mean absolute aligned band difference over :data:`TONAL_RANGE_HZ`; the
  median is the offset that makes it smallest, so it is the distance at the best level match.
* **Regions** (:data:`REGIONS`) are the words musicians use: sub, low end, low mids, mids,
  upper mids (presence), highs, air. A region's difference is the mean of its aligned band
  differences (dB).
* **Dynamics.** The crest factor (sample peak minus RMS of the whole signal, dB) depends on
  the quietest passages as much as on the peaks. The **short-term crest** is the median, over
  the loud 400 ms blocks (within :data:`CREST_RANGE_DB` of the loudest, the 95th percentile),
  of each block's peak minus its RMS: how far the peaks of the loud passages stand above
  their body, which is what limiting lowers (close in spirit to a peak-to-short-term-loudness
  ratio). Shorter windows say little here: on the Hydrogen "Jazzy" and LMMS "ReggaetonTry"
  mixes, the 95th percentile of 50 ms peak-to-RMS fell by 1.9 and 0.9 dB when a limiter took
  the masters from -14 to -7 LUFS, while this measure fell by 4.2 and 4.3 dB. The loudness
  range (LU, EBU Tech 3342) covers the slow dynamics.
* **Width** per band is the side/mid energy ratio (dB) with ``M = (L + R) / 2`` and
  ``S = (L - R) / 2``: 0 dB for two unrelated channels of equal level, about -10 dB for a
  typical stereo mix, floored at :data:`WIDTH_FLOOR_DB` (a mono file, or two identical
  channels, reads the floor rather than minus infinity).
* **Tilt** is the slope (dB per octave) of a straight line fitted to the band levels against
  log frequency over :data:`TONAL_RANGE_HZ` (pink noise reads 0, white noise +3).

Audibility thresholds
---------------------
:meth:`Comparison.sentences` words only differences at or above these (stated once here):
a region 1 dB (:data:`REGION_THRESHOLD_DB`; a level change of about 1 dB over an octave or
more of music is around the smallest a careful listener notices), loudness 1 LU, loudness range
2 LU, short-term crest 1 dB, width 2 dB of side/mid ratio, tilt 0.3 dB/octave (3 dB from end to
end of 40 Hz-16 kHz). They are working values for a first comparison, not a listening test.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np

from mixwise.analysis.spectrum import active_frames, band_frames
from mixwise.errors import AudioFileError, ParameterError

#: Bands (Hz) over which curves are aligned, the tonal distance taken and the tilt fitted.
TONAL_RANGE_HZ = (40.0, 16_000.0)
#: A band more than this far below the profile's loudest band reads as this floor (dB).
BAND_FLOOR_DB = 80.0
#: Side/mid ratio floor and ceiling (dB): mono reads the floor.
WIDTH_FLOOR_DB = -40.0
WIDTH_CEILING_DB = 20.0
#: Short-term crest: block length (s), which blocks count (within this many dB of the loud
#: blocks' power), and the percentile of their crests.
CREST_WINDOW_S = 0.4
CREST_RANGE_DB = 10.0
CREST_PERCENTILE = 50.0
#: Shortest signal :func:`profile` accepts (s): one BS.1770 loudness block.
MIN_DURATION_S = 0.4

#: Audibility thresholds of :meth:`Comparison.sentences` (see the module docstring).
REGION_THRESHOLD_DB = 1.0
LOUDNESS_THRESHOLD_LU = 1.0
LRA_THRESHOLD_LU = 2.0
CREST_THRESHOLD_DB = 1.0
WIDTH_THRESHOLD_DB = 2.0
TILT_THRESHOLD_DB_OCT = 0.3


@dataclass(frozen=True)
class Region:
    """A named frequency region: ``key``, the words for it, and its edges (Hz)."""

    key: str
    label: str
    lo_hz: float
    hi_hz: float
    plural: bool = False


#: The regions, low to high. A band belongs to the region holding its centre (with 3 % slack,
#: so the nominal 250 Hz band and the exact 251 Hz one fall in the same region).
REGIONS: tuple[Region, ...] = (
    Region("sub", "the sub", 20.0, 60.0),
    Region("low_end", "the low end", 60.0, 250.0),
    Region("low_mids", "the low mids", 250.0, 500.0, plural=True),
    Region("mids", "the mids", 500.0, 2_000.0, plural=True),
    Region("upper_mids", "the upper mids (presence)", 2_000.0, 6_000.0, plural=True),
    Region("highs", "the highs", 6_000.0, 12_000.0, plural=True),
    Region("air", "the air", 12_000.0, 20_000.0),
)


def region_masks(centres_hz: np.ndarray) -> dict[str, np.ndarray]:
    """Region key -> boolean mask over ``centres_hz`` (Hz) of the bands in that region."""
    c = np.asarray(centres_hz, dtype=float)
    out = {}
    for i, r in enumerate(REGIONS):
        lo = 0.0 if i == 0 else r.lo_hz * 0.97
        hi = math.inf if i == len(REGIONS) - 1 else r.hi_hz * 0.97
        out[r.key] = (c >= lo) & (c < hi)
    return out


def in_range(centres_hz: np.ndarray, lo_hi: tuple[float, float] = TONAL_RANGE_HZ) -> np.ndarray:
    """Boolean mask of the bands whose centre (Hz) lies in ``lo_hi`` (3 % slack)."""
    c = np.asarray(centres_hz, dtype=float)
    return (c >= lo_hi[0] * 0.97) & (c <= lo_hi[1] * 1.03)


# --------------------------------------------------------------------------------------------
# one signal


@dataclass(frozen=True, eq=False)
class Profile:
    """The measurements of one signal that a comparison needs.

    sample_rate : Hz; channels : 1 or 2; duration_s : s
    integrated_lufs : BS.1770 integrated loudness (LUFS)
    loudness_range_lu : EBU Tech 3342 loudness range (LU)
    true_peak_dbtp : 4x oversampled peak (dBTP); sample_peak_dbfs : largest sample (dBFS)
    crest_db : sample peak minus RMS of the whole signal (dB)
    short_term_crest_db : median peak-to-RMS of the loud 400 ms blocks (dB)
    peak_to_loudness_db : true peak minus integrated loudness (dB, the "PLR")
    centres_hz : the band centres (Hz) [shape=(31,)]
    bands_db : long-term band level minus integrated loudness (dB) [shape=(31,)]; NaN for
        bands above the file's Nyquist frequency
    mid_db, side_db : the same for the mid and side signals (dB re the loudness)
    width_db : side/mid ratio per band (dB, in [WIDTH_FLOOR_DB, WIDTH_CEILING_DB])
    tilt_db_per_oct : slope of the band levels (dB/octave) over :data:`TONAL_RANGE_HZ`
    levels_db : RMS level (dBFS, mean square over the channels) of every 100 ms block
    """

    sample_rate: int
    channels: int
    duration_s: float
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    crest_db: float
    short_term_crest_db: float
    peak_to_loudness_db: float
    centres_hz: np.ndarray
    bands_db: np.ndarray
    mid_db: np.ndarray
    side_db: np.ndarray
    width_db: np.ndarray
    tilt_db_per_oct: float
    levels_db: np.ndarray = field(repr=False)

    def region_width_db(self, mask: np.ndarray) -> float:
        """Side/mid ratio (dB, floored) of the bands in ``mask``, from their summed powers."""
        return _width_of(self.mid_db, self.side_db, mask)

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly values, rounded to 0.01 (``-inf``/NaN become ``None``)."""
        return {
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "duration_s": _num(self.duration_s),
            "integrated_lufs": _num(self.integrated_lufs),
            "loudness_range_lu": _num(self.loudness_range_lu),
            "true_peak_dbtp": _num(self.true_peak_dbtp),
            "sample_peak_dbfs": _num(self.sample_peak_dbfs),
            "crest_db": _num(self.crest_db),
            "short_term_crest_db": _num(self.short_term_crest_db),
            "peak_to_loudness_db": _num(self.peak_to_loudness_db),
            "tilt_db_per_oct": _num(self.tilt_db_per_oct),
            "centres_hz": [float(f) for f in self.centres_hz],
            "bands_db": [_num(v) for v in self.bands_db],
            "width_db": [_num(v) for v in self.width_db],
        }


def _num(x: float) -> float | None:
    x = float(x)
    return round(x, 2) if math.isfinite(x) else None


def _db(power: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(power, dtype=float))


def _width_of(mid_db: np.ndarray, side_db: np.ndarray, mask: np.ndarray) -> float:
    ok = mask & np.isfinite(mid_db) & ~np.isnan(side_db)
    mid = float(np.sum(10.0 ** (mid_db[ok] / 10.0)))
    side = float(np.sum(10.0 ** (side_db[ok] / 10.0)))
    if mid <= 0.0:
        return WIDTH_CEILING_DB if side > 0 else WIDTH_FLOOR_DB
    if side <= 0.0:
        return WIDTH_FLOOR_DB
    return float(np.clip(10.0 * math.log10(side / mid), WIDTH_FLOOR_DB, WIDTH_CEILING_DB))


def short_term_crest_db(
    audio: np.ndarray,
    sample_rate: int,
    *,
    window_s: float = CREST_WINDOW_S,
    range_db: float = CREST_RANGE_DB,
    percentile: float = CREST_PERCENTILE,
) -> float:
    """The ``percentile`` of peak-to-RMS (dB) over the ``window_s`` blocks of ``audio``
    [shape=(channels, n)] whose power is within ``range_db`` of the loud blocks (their 95th
    percentile). Peak: largest |sample| of any channel; RMS: over all channels. 0.0 when
    nothing plays or the audio is shorter than one block."""
    x = np.asarray(audio)
    w = max(1, int(round(window_s * sample_rate)))
    n = x.shape[1] // w
    if n == 0:
        return 0.0
    blocks = x[:, : n * w].reshape(x.shape[0], n, w)
    peak = np.abs(blocks).max(axis=(0, 2)).astype(float)
    ms = np.mean(np.square(blocks, dtype=np.float64), axis=(0, 2))
    loud = np.percentile(ms, 95.0)
    play = (ms > 0) & (ms >= loud * 10.0 ** (-range_db / 10.0))
    if not play.any():
        return 0.0
    crest = 20.0 * np.log10(peak[play]) - 10.0 * np.log10(ms[play])
    return float(np.percentile(crest, percentile))


def tilt_db_per_oct(bands_db: np.ndarray, centres_hz: np.ndarray) -> float:
    """Least-squares slope (dB/octave) of ``bands_db`` against log2 of ``centres_hz`` (Hz) over
    :data:`TONAL_RANGE_HZ`, finite bands only (0.0 with fewer than two)."""
    c = np.asarray(centres_hz, dtype=float)
    b = np.asarray(bands_db, dtype=float)
    ok = in_range(c) & np.isfinite(b)
    if ok.sum() < 2:
        return 0.0
    slope = np.polyfit(np.log2(c[ok]), b[ok], 1)[0]
    return float(slope)


def _check_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.asarray(audio)
    if x.ndim != 2 or x.shape[0] not in (1, 2):
        raise ParameterError(
            f"audio must have shape (channels, n) with 1 or 2 channels, got {x.shape}"
        )
    if not isinstance(sample_rate, int | np.integer) or sample_rate < 8000:
        raise ParameterError(
            f"sample rate must be an integer of at least 8000 Hz, got {sample_rate!r}"
        )
    if x.shape[1] < MIN_DURATION_S * sample_rate:
        raise ParameterError(
            f"{x.shape[1] / sample_rate:.2f} s of audio is too short to compare "
            f"(at least {MIN_DURATION_S:g} s)"
        )
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ParameterError("audio contains NaN or infinite samples")
    return x


def profile(audio: np.ndarray, sample_rate: int) -> Profile:
    """Measure ``audio`` [shape=(channels, n), float, 1 or 2 channels] at ``sample_rate`` Hz.

    Raises :class:`~mixwise.errors.ParameterError` for a wrong shape, non-finite samples, less
    than :data:`MIN_DURATION_S` of audio, or a signal below the loudness gate (silence).
    """
    from mixwise.analysis.meters import measure

    x = _check_audio(audio, sample_rate)
    sr = int(sample_rate)
    meters = measure(x, sr)
    lufs = meters.integrated_lufs
    if not math.isfinite(lufs):
        raise ParameterError("the audio is silent (below the -70 LUFS loudness gate)")
    if x.shape[0] == 2:
        ms = np.stack([0.5 * (x[0] + x[1]), 0.5 * (x[0] - x[1])]).astype(np.float32)
    else:
        ms = x
    bf = band_frames(ms, sr)
    mid_p = bf.power[0].astype(np.float64)
    side_p = bf.power[1].astype(np.float64) if x.shape[0] == 2 else np.zeros_like(mid_p)
    # channel-summed power: L^2 + R^2 = 2 (M^2 + S^2); a mono file is its one channel
    total_p = 2.0 * (mid_p + side_p) if x.shape[0] == 2 else mid_p
    act = active_frames(total_p.sum(axis=0))
    if not act.any():
        act = np.ones(total_p.shape[1], dtype=bool)
    centres = bf.centres_hz.astype(float)
    valid = centres * 2.0 ** (1 / 6) * 0.97 < 0.5 * sr  # a band that fits below Nyquist
    total = _db(total_p[:, act].mean(axis=1)) - lufs
    mid = _db(mid_p[:, act].mean(axis=1)) - lufs
    side = _db(side_p[:, act].mean(axis=1)) - lufs
    floor = float(np.nanmax(np.where(valid, total, np.nan))) - BAND_FLOOR_DB
    total = np.where(valid, np.maximum(total, floor), np.nan)
    mid = np.where(valid, np.maximum(mid, floor), np.nan)
    side = np.where(valid, side, np.nan)
    with np.errstate(invalid="ignore"):
        width = np.where(valid, np.clip(side - mid, WIDTH_FLOOR_DB, WIDTH_CEILING_DB), np.nan)
    block = int(round(0.1 * sr))
    levels = _db(_block_mean_square(x, block))
    return Profile(
        sample_rate=sr,
        channels=int(x.shape[0]),
        duration_s=x.shape[1] / sr,
        integrated_lufs=lufs,
        loudness_range_lu=meters.loudness_range_lu,
        true_peak_dbtp=meters.true_peak_dbtp,
        sample_peak_dbfs=meters.sample_peak_dbfs,
        crest_db=meters.crest_db,
        short_term_crest_db=short_term_crest_db(x, sr),
        peak_to_loudness_db=meters.true_peak_dbtp - lufs,
        centres_hz=centres,
        bands_db=total,
        mid_db=mid,
        side_db=side,
        width_db=width,
        tilt_db_per_oct=tilt_db_per_oct(total, centres),
        levels_db=levels,
    )


def _block_mean_square(x: np.ndarray, block: int) -> np.ndarray:
    n = x.shape[1] // block
    if n == 0:
        return np.zeros(0)
    return np.mean(
        np.square(x[:, : n * block], dtype=np.float64).reshape(x.shape[0], n, block), axis=(0, 2)
    )


# --------------------------------------------------------------------------------------------
# two signals


@dataclass(frozen=True)
class RegionDiff:
    """One region of a comparison (dB; positive: the mix has more than the reference).

    diff_db : mean aligned band difference; peak_db : the largest one (signed); focus_hz :
    the run of band centres (Hz) around the peak holding at least half of it, or ``None``
    when that is the whole region; mix_width_db / reference_width_db : side/mid ratio (dB);
    width_diff_db : their difference (dB, positive: the mix is wider)
    """

    key: str
    label: str
    lo_hz: float
    hi_hz: float
    diff_db: float
    peak_db: float
    focus_hz: tuple[float, float] | None
    mix_width_db: float
    reference_width_db: float
    width_diff_db: float
    plural: bool = False


@dataclass(frozen=True, eq=False)
class Comparison:
    """A mix set against a reference (differences are mix minus reference).

    band_diff_db : aligned band differences (dB) [shape=(31,)], NaN where a band is missing
    level_offset_db : what the alignment took off the mix's loudness-normalised curve (dB)
    regions : :class:`RegionDiff` per region of :data:`REGIONS`
    tonal_distance_db : mean |band_diff_db| over :data:`TONAL_RANGE_HZ` (dB)
    loudness_diff_lu, lra_diff_lu, crest_diff_db, short_term_crest_diff_db,
    true_peak_diff_db, tilt_diff_db_per_oct, width_diff_db : the single-number differences
    (the last one the broadband side/mid ratio, 40 Hz-16 kHz)
    """

    mix: Profile
    reference: Profile
    band_diff_db: np.ndarray
    level_offset_db: float
    regions: tuple[RegionDiff, ...]
    tonal_distance_db: float
    loudness_diff_lu: float
    lra_diff_lu: float
    crest_diff_db: float
    short_term_crest_diff_db: float
    true_peak_diff_db: float
    tilt_diff_db_per_oct: float
    width_diff_db: float

    @property
    def centres_hz(self) -> np.ndarray:
        return self.mix.centres_hz

    def sentences(self) -> list[str]:
        """The differences at or above the audibility thresholds, in words (see the module
        docstring); one sentence saying they match when there is none."""
        out = [_region_sentence(r) for r in self.regions if abs(r.diff_db) >= REGION_THRESHOLD_DB]
        if abs(self.tilt_diff_db_per_oct) >= TILT_THRESHOLD_DB_OCT:
            word = "brighter" if self.tilt_diff_db_per_oct > 0 else "darker"
            mix_tilt, ref_tilt = self.mix.tilt_db_per_oct, self.reference.tilt_db_per_oct
            out.append(
                f"overall the mix is {word} than the reference (tilt {mix_tilt:+.1f} vs "
                f"{ref_tilt:+.1f} dB/octave)"
            )
        d = self.short_term_crest_diff_db
        if abs(d) >= CREST_THRESHOLD_DB:
            out.append(
                f"the mix is {abs(d):.1f} dB {'more' if d > 0 else 'less'} dynamic than the "
                f"reference (short-term crest {self.mix.short_term_crest_db:.1f} vs "
                f"{self.reference.short_term_crest_db:.1f} dB)"
            )
        d = self.lra_diff_lu
        if abs(d) >= LRA_THRESHOLD_LU:
            out.append(
                f"the mix's loudness range is {abs(d):.1f} LU {'wider' if d > 0 else 'narrower'} "
                f"than the reference's ({self.mix.loudness_range_lu:.1f} vs "
                f"{self.reference.loudness_range_lu:.1f} LU)"
            )
        tonal = in_range(self.centres_hz)
        mix_w = self.mix.region_width_db(tonal)
        ref_w = self.reference.region_width_db(tonal)
        if mix_w <= WIDTH_FLOOR_DB and ref_w - mix_w >= WIDTH_THRESHOLD_DB:
            out.append(f"the mix is mono; the reference is stereo (side/mid ratio {ref_w:.1f} dB)")
        elif ref_w <= WIDTH_FLOOR_DB and mix_w - ref_w >= WIDTH_THRESHOLD_DB:
            out.append(f"the reference is mono; the mix is stereo (side/mid ratio {mix_w:.1f} dB)")
        else:
            out += _width_sentences(self.regions)
        d = self.loudness_diff_lu
        if abs(d) >= LOUDNESS_THRESHOLD_LU:
            out.append(
                f"the mix is {abs(d):.1f} LU {'louder' if d > 0 else 'quieter'} than the "
                f"reference ({self.mix.integrated_lufs:.1f} vs "
                f"{self.reference.integrated_lufs:.1f} LUFS)"
            )
        if not out:
            out.append(
                "the mix matches the reference: no difference reaches the audibility "
                f"thresholds ({REGION_THRESHOLD_DB:g} dB per region, {LOUDNESS_THRESHOLD_LU:g} "
                f"LU loudness, {CREST_THRESHOLD_DB:g} dB crest, {WIDTH_THRESHOLD_DB:g} dB width)"
            )
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly: both profiles, the differences (0.01 dB), the regions and the
        sentences; ``-inf``/NaN become ``None``."""
        return {
            "mix": self.mix.to_dict(),
            "reference": self.reference.to_dict(),
            "centres_hz": [float(f) for f in self.centres_hz],
            "band_diff_db": [_num(v) for v in self.band_diff_db],
            "level_offset_db": _num(self.level_offset_db),
            "tonal_distance_db": _num(self.tonal_distance_db),
            "loudness_diff_lu": _num(self.loudness_diff_lu),
            "lra_diff_lu": _num(self.lra_diff_lu),
            "crest_diff_db": _num(self.crest_diff_db),
            "short_term_crest_diff_db": _num(self.short_term_crest_diff_db),
            "true_peak_diff_db": _num(self.true_peak_diff_db),
            "tilt_diff_db_per_oct": _num(self.tilt_diff_db_per_oct),
            "width_diff_db": _num(self.width_diff_db),
            "regions": [
                {
                    "key": r.key,
                    "label": r.label,
                    "lo_hz": r.lo_hz,
                    "hi_hz": r.hi_hz,
                    "diff_db": _num(r.diff_db),
                    "peak_db": _num(r.peak_db),
                    "focus_hz": list(r.focus_hz) if r.focus_hz else None,
                    "mix_width_db": _num(r.mix_width_db),
                    "reference_width_db": _num(r.reference_width_db),
                    "width_diff_db": _num(r.width_diff_db),
                }
                for r in self.regions
            ],
            "thresholds": {
                "region_db": REGION_THRESHOLD_DB,
                "loudness_lu": LOUDNESS_THRESHOLD_LU,
                "lra_lu": LRA_THRESHOLD_LU,
                "crest_db": CREST_THRESHOLD_DB,
                "width_db": WIDTH_THRESHOLD_DB,
                "tilt_db_per_oct": TILT_THRESHOLD_DB_OCT,
            },
            "sentences": self.sentences(),
        }


def _hz(f: float) -> str:
    return f"{f / 1000:g} kHz" if f >= 1000 else f"{f:g} Hz"


def _span(lo: float, hi: float) -> str:
    if lo >= 1000:
        return f"{lo / 1000:g}-{hi / 1000:g} kHz"
    if hi >= 1000:
        return f"{lo:g} Hz-{hi / 1000:g} kHz"
    return f"{lo:g}-{hi:g} Hz"


def _region_sentence(r: RegionDiff) -> str:
    where = "above" if r.diff_db > 0 else "below"
    verb = "are" if r.plural else "is"
    text = (
        f"{r.label} ({_span(r.lo_hz, r.hi_hz)}) {verb} {abs(r.diff_db):.1f} dB {where} the "
        "reference"
    )
    if r.focus_hz is not None:
        lo, hi = r.focus_hz
        text += f", most around {_hz(lo)}" if lo == hi else f", most at {_span(lo, hi)}"
    return text


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _width_sentences(regions: tuple[RegionDiff, ...]) -> list[str]:
    out = []
    for sign, word in ((-1, "narrower"), (1, "wider")):
        picked = [r for r in regions if sign * r.width_diff_db >= WIDTH_THRESHOLD_DB]
        if not picked:
            continue
        if len(picked) == len(regions):
            names = "across the whole spectrum"
        else:
            names = "in " + _join([r.label.removeprefix("the ") for r in picked])
        mean = float(np.mean([abs(r.width_diff_db) for r in picked]))
        out.append(
            f"the mix is {word} than the reference {names} (side/mid ratio "
            f"{mean:.1f} dB {'lower' if sign < 0 else 'higher'} on average)"
        )
    return out


def _focus(diff: np.ndarray, centres: np.ndarray) -> tuple[float, float] | None:
    """The run of bands around the largest |diff| holding at least half of it (same sign)."""
    i = int(np.nanargmax(np.abs(diff)))
    peak = diff[i]
    keep = np.isfinite(diff) & (np.sign(diff) == np.sign(peak)) & (np.abs(diff) >= 0.5 * abs(peak))
    lo = hi = i
    while lo > 0 and keep[lo - 1]:
        lo -= 1
    while hi < len(diff) - 1 and keep[hi + 1]:
        hi += 1
    if lo == 0 and hi == len(diff) - 1:
        return None
    return float(centres[lo]), float(centres[hi])


def aligned_difference_db(
    a_db: np.ndarray, b_db: np.ndarray, centres_hz: np.ndarray
) -> tuple[np.ndarray, float]:
    """``(a - b - offset, offset)``: band levels ``a_db`` minus ``b_db`` (dB, same bands at
    ``centres_hz`` Hz), less their median difference over :data:`TONAL_RANGE_HZ` (the offset,
    dB). NaN where either is missing. Raises :class:`ParameterError` when no band is shared."""
    d = np.asarray(a_db, dtype=float) - np.asarray(b_db, dtype=float)
    use = in_range(centres_hz) & np.isfinite(d)
    if not use.any():
        raise ParameterError("the two spectra share no band between 40 Hz and 16 kHz")
    offset = float(np.median(d[use]))
    return d - offset, offset


def tonal_distance_db(a_db: np.ndarray, b_db: np.ndarray, centres_hz: np.ndarray) -> float:
    """Mean |aligned band difference| (dB) over :data:`TONAL_RANGE_HZ` of two band-level
    curves (dB, any offsets) at ``centres_hz`` (Hz): the distance at the best level match."""
    d, _ = aligned_difference_db(a_db, b_db, centres_hz)
    use = in_range(centres_hz) & np.isfinite(d)
    return float(np.mean(np.abs(d[use])))


def _aligned_diff(mix: Profile, reference: Profile) -> tuple[np.ndarray, float]:
    if mix.centres_hz.shape != reference.centres_hz.shape or not np.allclose(
        mix.centres_hz, reference.centres_hz
    ):
        raise ParameterError("the two profiles have different bands")
    return aligned_difference_db(mix.bands_db, reference.bands_db, mix.centres_hz)


def compare(mix: Profile, reference: Profile) -> Comparison:
    """Set ``mix`` against ``reference`` (see the module docstring for how the curves are
    aligned and what each number means). Differences are mix minus reference."""
    diff, offset = _aligned_diff(mix, reference)
    c = mix.centres_hz
    use = in_range(c) & np.isfinite(diff)
    regions = []
    for r in REGIONS:
        mask = region_masks(c)[r.key] & np.isfinite(diff)
        mw = mix.region_width_db(mask)
        rw = reference.region_width_db(mask)
        if mask.any():
            d = diff[mask]
            mean = float(np.mean(d))
            peak = float(d[int(np.argmax(np.abs(d)))])
            focus = _focus(d, c[mask]) if abs(peak) > 0 else None
        else:
            mean = peak = 0.0
            focus = None
        regions.append(
            RegionDiff(
                r.key, r.label, r.lo_hz, r.hi_hz, mean, peak, focus, mw, rw, mw - rw, r.plural
            )
        )
    tonal = in_range(c)
    return Comparison(
        mix=mix,
        reference=reference,
        band_diff_db=diff,
        level_offset_db=offset,
        regions=tuple(regions),
        tonal_distance_db=float(np.mean(np.abs(diff[use]))),
        loudness_diff_lu=mix.integrated_lufs - reference.integrated_lufs,
        lra_diff_lu=mix.loudness_range_lu - reference.loudness_range_lu,
        crest_diff_db=mix.crest_db - reference.crest_db,
        short_term_crest_diff_db=mix.short_term_crest_db - reference.short_term_crest_db,
        true_peak_diff_db=mix.true_peak_dbtp - reference.true_peak_dbtp,
        tilt_diff_db_per_oct=mix.tilt_db_per_oct - reference.tilt_db_per_oct,
        width_diff_db=mix.region_width_db(tonal) - reference.region_width_db(tonal),
    )


def load_profile(path: str | os.PathLike[str], *, sample_rate: int | None = None) -> Profile:
    """:func:`profile` of an audio file, resampled to ``sample_rate`` (Hz) when given.

    Raises :class:`~mixwise.errors.AudioFileError` naming the file for anything that makes
    it unusable (unreadable, silent, too short, damaged)."""
    from mixwise.io.audio import load_file

    audio, info, _warnings = load_file(path, sample_rate=sample_rate)
    rate = sample_rate if sample_rate is not None else info.sample_rate
    try:
        return profile(audio, rate)
    except ParameterError as err:
        raise AudioFileError(str(Path(path)), str(err)) from None


def compare_files(
    mix_path: str | os.PathLike[str], reference_path: str | os.PathLike[str]
) -> Comparison:
    """Compare two audio files; the reference is resampled to the mix's rate.

    Raises :class:`~mixwise.errors.AudioFileError` naming the file that cannot be used.
    """
    mix = load_profile(mix_path)
    reference = load_profile(reference_path, sample_rate=mix.sample_rate)
    return compare(mix, reference)


# --------------------------------------------------------------------------------------------
# the picture

_MIX_COLOUR = "#c8553d"
_REF_COLOUR = "#3a6ea5"
_INK = "#1d2330"
_MUTED = "#5b6473"
_GRID = "#e4e6ea"
_FREQ_TICKS = (31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000)


def comparison_svg(c: Comparison, *, width: int = 720, height: int = 440) -> str:
    """A self-contained inline SVG (no scripts, fonts or external files): on top the mix's
    and the reference's band levels (aligned as compared, dB), below the band differences
    (mix minus reference, dB) as bars, with the region names and the audibility threshold."""
    left, right = 56.0, width - 16.0
    top1, bottom1 = 40.0, height * 0.52
    top2, bottom2 = bottom1 + 40.0, height - 34.0
    centres = c.centres_hz
    lo_f, hi_f = 20.0 * 2 ** (-1 / 6), 20000.0 * 2 ** (1 / 6)

    def fx(f: float) -> float:
        t = (math.log10(f) - math.log10(lo_f)) / (math.log10(hi_f) - math.log10(lo_f))
        return left + min(max(t, 0.0), 1.0) * (right - left)

    mix_curve = c.mix.bands_db - c.level_offset_db
    ref_curve = c.reference.bands_db
    both = np.concatenate([mix_curve, ref_curve])
    both = both[np.isfinite(both)]
    hi1 = math.ceil((float(both.max()) + 1.0) / 6.0) * 6.0 if both.size else 6.0
    lo1 = math.floor((float(both.min()) - 1.0) / 6.0) * 6.0 if both.size else -6.0
    lo1 = max(lo1, hi1 - 60.0)
    diffs = c.band_diff_db[np.isfinite(c.band_diff_db)]
    span2 = max(3.0, math.ceil(float(np.abs(diffs).max(initial=0.0)) / 3.0) * 3.0)
    span2 = min(span2, 24.0)

    def fy1(v: float) -> float:
        t = (min(max(v, lo1), hi1) - lo1) / (hi1 - lo1)
        return bottom1 - t * (bottom1 - top1)

    def fy2(v: float) -> float:
        t = (min(max(v, -span2), span2) + span2) / (2 * span2)
        return bottom2 - t * (bottom2 - top2)

    label = "mix versus reference: third-octave band levels and their difference"
    p = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}" '
        'font-family="system-ui, sans-serif" font-size="11" fill="' + _INK + '">',
        f"<title>{escape(label)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]

    def text(x: float, y: float, s: str, anchor: str = "start", fill: str = _INK) -> None:
        p.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(s)}</text>'
        )

    def line(x1: float, y1: float, x2: float, y2: float, stroke: str, extra: str = "") -> None:
        p.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}"{extra}/>'
        )

    # grids
    for f in _FREQ_TICKS:
        x = fx(f)
        line(x, top1, x, bottom1, _GRID)
        line(x, top2, x, bottom2, _GRID)
        text(x, bottom2 + 14, _hz(f).replace(" Hz", "").replace(" kHz", "k"), "middle", _MUTED)
    for v in np.arange(lo1, hi1 + 0.1, 6.0 if hi1 - lo1 <= 36 else 12.0):
        line(left, fy1(v), right, fy1(v), _GRID)
        text(left - 6, fy1(v) + 3.5, f"{v:g}", "end", _MUTED)
    step2 = 3.0 if span2 <= 12 else 6.0
    for v in np.arange(-span2, span2 + 0.1, step2):
        line(left, fy2(v), right, fy2(v), _GRID)
        text(left - 6, fy2(v) + 3.5, f"{v:+g}" if v else "0", "end", _MUTED)
    # the audibility threshold as a shaded band around 0
    p.append(
        f'<rect x="{left:.1f}" y="{fy2(REGION_THRESHOLD_DB):.1f}" width="{right - left:.1f}" '
        f'height="{fy2(-REGION_THRESHOLD_DB) - fy2(REGION_THRESHOLD_DB):.1f}" '
        'fill="#9aa1ab" fill-opacity="0.18"/>'
    )
    # region boundaries and names
    for r in REGIONS:
        x0, x1 = fx(max(r.lo_hz, lo_f)), fx(min(r.hi_hz, hi_f))
        line(x0, top2, x0, bottom2, "#9aa1ab", ' stroke-dasharray="2 3"')
        name = r.label.removeprefix("the ").replace(" (presence)", "")
        text(0.5 * (x0 + x1), top2 - 6, name, "middle", _MUTED)
    # curves
    for curve, colour, dash in ((ref_curve, _REF_COLOUR, ""), (mix_curve, _MIX_COLOUR, "")):
        runs: list[list[str]] = [[]]
        for f, v in zip(centres, curve, strict=True):
            if not math.isfinite(v):
                runs.append([])
                continue
            runs[-1].append(f"{fx(f):.1f},{fy1(v):.1f}")
        for run in runs:
            if len(run) > 1:
                p.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2" stroke-linejoin="round"{dash}/>'
                )
    # difference bars
    bar = 0.7 * (fx(centres[1]) - fx(centres[0])) if len(centres) > 1 else 6.0
    for f, v in zip(centres, c.band_diff_db, strict=True):
        if not math.isfinite(v):
            continue
        y0, y1 = sorted((fy2(0.0), fy2(v)))
        colour = _MIX_COLOUR if v > 0 else _REF_COLOUR
        p.append(
            f'<rect x="{fx(f) - bar / 2:.1f}" y="{y0:.1f}" width="{bar:.1f}" '
            f'height="{max(y1 - y0, 0.5):.1f}" fill="{colour}" fill-opacity="0.8"/>'
        )
    line(left, fy2(0.0), right, fy2(0.0), _MUTED)
    for y0, y1 in ((top1, bottom1), (top2, bottom2)):
        p.append(
            f'<rect x="{left:.1f}" y="{y0:.1f}" width="{right - left:.1f}" '
            f'height="{y1 - y0:.1f}" fill="none" stroke="#9aa1ab"/>'
        )
    # titles and legend
    text(left, 16, "band level (dB re loudness, aligned)", fill=_MUTED)
    text(
        right,
        16,
        f"tonal distance {c.tonal_distance_db:.1f} dB",
        "end",
    )
    for i, (name, colour) in enumerate((("mix", _MIX_COLOUR), ("reference", _REF_COLOUR))):
        x = left + 8 + 90 * i
        line(x, top1 + 12, x + 20, top1 + 12, colour, ' stroke-width="2.5"')
        text(x + 26, top1 + 16, name)
    text(left, top2 - 20, "mix minus reference (dB)", fill=_MUTED)
    text((left + right) / 2, height - 6, "frequency (Hz)", "middle", _MUTED)
    p.append("</svg>")
    return "".join(p)
