"""Automatic-mix quality: how close ``mix_folder`` gets to a human mix of the same stems.

Songs: every set of ``../shared/data`` with a human mix: a folder holding ``mixture.*`` and
``labels.csv``, or a set named in :data:`UNITY_SUM_SETS`, whose stems at unity gain are the
artist's own balance by the data README (francium: "the unity sum is the artist's pre-master
balance"). The reference is the original stems summed at unity gain (they add up to the human
mix; where a ``mixture.*`` exists the sum is checked against it). For each song and input
variant:

1. **inputs** (float32 stereo WAVs in a temporary folder, the stems' names with ``.wav``):
   ``equal``: every stem normalised to -23 LUFS; ``tilted``: also a random tilt EQ per stem
   (linear in log frequency, pivot 1 kHz, the 20 Hz end within +-6 dB and the 20 kHz end
   within +-4.6 dB) and a random constant-power pan in [-1, 1], then re-normalised to
   -23 LUFS (seeded: ``numpy.random.default_rng``). Silent stems are left as they are.
2. **automix**: ``mixwise.api.mix_folder`` (master target -14 LUFS, ceiling -1 dBTP) with
   processed stems written; compared with two baselines built from the same inputs:
   A "input as given" (the inputs summed at unity) and B "per-role fixed offsets" (each input
   moved by a fixed dB offset for the role mixwise gave it, :data:`ROLE_OFFSETS_DB`). A third
   line, C "role oracle", is no baseline but a bound: each input moved to the mean loudness
   that stems of its *labelled* role have in the human mixes of all the songs benchmarked
   (fitted in-sample, on the very mixes it is scored against). No table of per-role levels,
   however tuned, does better on these songs, so C shows how much of the human balance a
   role rule can explain at all.
3. **metrics** against the human mix (all in dB or LU, lower is better):
   balance error (mean |stem-minus-mix loudness - the human's|), spectral error (mean |third-
   octave band level difference| of the mixes normalised to -23 LUFS, 40 Hz..16 kHz), width
   difference (|side/mid energy ratio difference|), LRA difference; for the automix also the
   master's loudness error and true-peak overshoot.

Acceptance (averaged over songs, per variant): automix balance error <= 0.5 x baseline A's;
automix spectral error below both baselines; |master loudness error| <= 0.5 LU and no
true-peak overshoot on every song. Prints one table per song and variant, the automix's
per-stem balance, and the summary with PASS/FAIL; writes ``OUT/automix_quality.csv``,
``OUT/automix_quality_stems.csv`` and ``OUT/automix_quality.png`` (needs matplotlib:
``pip install -e .[bench]``). Benchmarks never gate CI: the exit code is 0 whatever the checks.

Run: ``.venv/bin/python benchmarks/automix_quality.py [--songs a,b] [--out DIR]
[--variants equal,tilted] [--seed N] [--keep-renders]`` (skips with a message when the data
is absent).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "out" / "bench" / "automix_quality"
sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402

from mixwise.analysis.meters import integrated_loudness, loudness_range  # noqa: E402

# --------------------------------------------------------------------------------------------
# settings

VARIANTS = ("equal", "tilted")
MIXES = ("automix", "baseline_a", "baseline_b", "oracle_c")
MIX_TITLES = {
    "automix": "automix",
    "baseline_a": "A: as given",
    "baseline_b": "B: role offsets",
    "oracle_c": "C: role oracle",
}

#: Loudness every input stem is normalised to (LUFS), and the reference for spectral levels.
STEM_LUFS = -23.0
#: The automix's master settings: integrated loudness (LUFS) and true-peak ceiling (dBTP).
TARGET_LUFS = -14.0
CEILING_DBTP = -1.0

#: Tilt EQ of the ``tilted`` variant: pivot (Hz), largest level change at 20 Hz (dB), range
#: over which the tilt is applied (Hz; constant outside it).
TILT_PIVOT_HZ = 1_000.0
TILT_MAX_DB = 6.0
TILT_RANGE_HZ = (20.0, 20_000.0)
DEFAULT_SEED = 20_240_601

#: Baseline B: stem loudness relative to the lead (dB) per mixwise role. A typical mixing
#: engineer's rule of thumb for a first balance (vocal on top, kick/snare close, bass a little
#: below, cymbals and effects well below) -- not taken from a study.
ROLE_OFFSETS_DB: dict[str, float] = {
    "lead_vocal": 0.0,
    "kick": -2.0,
    "snare": -2.0,
    "bass": -3.0,
    "drum_loop": -3.0,
    "toms": -6.0,
    "hihat": -10.0,
    "cymbals": -10.0,
    "room": -8.0,
    "percussion": -8.0,
    "electric_guitar": -5.0,
    "acoustic_guitar": -5.0,
    "keys": -6.0,
    "piano": -6.0,
    "synth": -5.0,
    "pad": -9.0,
    "strings": -7.0,
    "brass_winds": -6.0,
    "backing_vocal": -7.0,
    "fx": -12.0,
    "other": -5.0,
}

#: IEC 61260 third-octave band centres from 40 Hz to 16 kHz (base-two: 1000 * 2^(k/3), Hz).
BAND_CENTRES_HZ = 1000.0 * 2.0 ** (np.arange(-14, 13) / 3.0)
#: Welch segment length for the long-term spectrum (samples at 44.1 kHz: 2.7 Hz resolution).
WELCH_SEGMENT = 16_384
#: Width (side/mid energy ratio) floor, so a mono mix reads a finite value (dB).
WIDTH_FLOOR_DB = -60.0

#: Sets without a ``mixture.*`` whose stems, summed at unity gain, are the artist's balance
#: (set name -> what ``shared/data/README.md`` says of it).
UNITY_SUM_SETS: dict[str, str] = {
    "francium": "the unity sum is the artist's pre-master balance",
}

#: The human stem sum should measure within this of ``mixture.*`` (LU).
SANITY_TOLERANCE_LU = 0.2


# --------------------------------------------------------------------------------------------
# songs and the human reference


@dataclass
class Song:
    """A set with a human mix: ``stems`` maps stem key (file base name) -> file."""

    name: str
    folder: Path
    mixture: Path | None  # None: the stems' unity sum is the human mix (UNITY_SUM_SETS)
    stems: dict[str, Path]
    labels: dict[str, str]  # stem key -> role in labels.csv


@dataclass
class HumanRef:
    """The human mix of one song.

    sample_rate : Hz
    stems : key -> audio [shape=(2, n), float32], zero-padded to the longest stem
    mix : the stems' unity sum [shape=(2, n), float32]
    rel_lufs : key -> stem loudness minus mix loudness (LU; -inf for a silent stem)
    mixture_lufs, sum_lufs : loudness of ``mixture.*`` and of the stem sum (LUFS; the mixture's
        is NaN for a set without one)
    mixture_band_error_db : mean |band level difference| between the two (dB; NaN without one)
    """

    sample_rate: int
    stems: dict[str, np.ndarray]
    mix: np.ndarray
    rel_lufs: dict[str, float]
    mixture_lufs: float
    sum_lufs: float
    mixture_band_error_db: float


def discover_songs(data: Path) -> list[Song]:
    """Every folder of ``data`` holding ``labels.csv``, ``stems/`` and either ``mixture.*`` or a
    name in :data:`UNITY_SUM_SETS`."""
    songs = []
    for d in sorted(p for p in data.iterdir() if p.is_dir()):
        mixtures = sorted(d.glob("mixture.*"))
        if not (d / "labels.csv").is_file() or not (d / "stems").is_dir():
            continue
        if not mixtures and d.name not in UNITY_SUM_SETS:
            continue
        labels: dict[str, str] = {}
        stems: dict[str, Path] = {}
        with open(d / "labels.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["role"] == "mix":
                    continue
                path = d / row["file"]
                if path.stem in stems:
                    raise ValueError(f"{d.name}: two stems share the base name {path.stem!r}")
                stems[path.stem] = path
                labels[path.stem] = row["role"]
        songs.append(Song(d.name, d, mixtures[0] if mixtures else None, stems, labels))
    return songs


def read_stereo(path: Path) -> tuple[np.ndarray, int]:
    """Audio file -> (audio [shape=(2, n), float32], sample rate Hz); mono is duplicated."""
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = np.ascontiguousarray(x.T)
    if x.shape[0] == 1:
        x = np.concatenate([x, x])
    if x.shape[0] != 2:
        raise ValueError(f"{path}: {x.shape[0]} channels (expected 1 or 2)")
    return x, int(sr)


def pad_to(audio: np.ndarray, n: int) -> np.ndarray:
    """``audio`` [shape=(c, m)] zero-padded (or cut) to ``n`` samples."""
    if audio.shape[1] >= n:
        return audio[:, :n]
    return np.pad(audio, ((0, 0), (0, n - audio.shape[1])))


def gain_to_db(gain: float) -> float:
    """Decibels of a linear gain or amplitude (0 -> ``-inf``)."""
    return 20.0 * math.log10(gain) if gain > 0 else -math.inf


def sum_audio(parts: list[np.ndarray]) -> np.ndarray:
    """Unity sum of equal-shape ``(2, n)`` arrays (accumulated in float64), float32."""
    acc = np.zeros(parts[0].shape, dtype=np.float64)
    for p in parts:
        acc += p
    return acc.astype(np.float32)


def load_human(song: Song) -> HumanRef:
    """Read the stems and the mixture; build the human reference and its sanity numbers."""
    raw: dict[str, np.ndarray] = {}
    rates = set()
    for key, path in song.stems.items():
        raw[key], sr = read_stereo(path)
        rates.add(sr)
    mixture = None
    if song.mixture is not None:
        mixture, mixture_sr = read_stereo(song.mixture)
        rates.add(mixture_sr)
    if len(rates) != 1:
        raise ValueError(f"{song.name}: stems and mixture at different rates {sorted(rates)}")
    sr = rates.pop()
    n = max(x.shape[1] for x in raw.values())
    stems = {k: pad_to(x, n) for k, x in raw.items()}
    mix = sum_audio(list(stems.values()))
    sum_lufs = integrated_loudness(mix, sr)
    bands_sum = band_levels_db(mix, sr)
    bands_mixture = band_levels_db(mixture, sr) if mixture is not None else None
    return HumanRef(
        sample_rate=sr,
        stems=stems,
        mix=mix,
        rel_lufs=relative_lufs(stems, mix, sr),
        mixture_lufs=integrated_loudness(mixture, sr) if mixture is not None else math.nan,
        sum_lufs=sum_lufs,
        mixture_band_error_db=(
            float(np.mean(np.abs(bands_sum - bands_mixture)))
            if bands_mixture is not None
            else math.nan
        ),
    )


# --------------------------------------------------------------------------------------------
# inputs: equal loudness, optionally tilted and panned


def normalise_lufs(audio: np.ndarray, sample_rate: int, target_lufs: float) -> np.ndarray:
    """``audio`` scaled to ``target_lufs`` integrated loudness; silent audio returned as is."""
    lufs = integrated_loudness(audio, sample_rate)
    if not math.isfinite(lufs):
        return audio
    return (audio * 10.0 ** ((target_lufs - lufs) / 20.0)).astype(np.float32)


def tilt_gain_db(freqs_hz: np.ndarray, tilt_db: float) -> np.ndarray:
    """Tilt EQ response (dB) at ``freqs_hz``: linear in log frequency through 0 dB at
    :data:`TILT_PIVOT_HZ`, ``-tilt_db`` at 20 Hz (so about +0.77 ``tilt_db`` at 20 kHz), flat
    beyond 20 Hz..20 kHz. Positive ``tilt_db`` brightens."""
    lo, hi = TILT_RANGE_HZ
    f = np.clip(freqs_hz, lo, hi)
    return tilt_db * np.log2(f / TILT_PIVOT_HZ) / math.log2(TILT_PIVOT_HZ / lo)


def apply_tilt(audio: np.ndarray, sample_rate: int, tilt_db: float) -> np.ndarray:
    """Zero-phase tilt EQ by FFT of the whole signal [shape=(c, n)] (padded by 1 s so the
    circular wrap of the short filter response falls into the padding)."""
    from scipy import fft

    n = audio.shape[1]
    n_fft = fft.next_fast_len(n + sample_rate, real=True)
    spec = fft.rfft(audio.astype(np.float64), n=n_fft, axis=1)
    freqs = fft.rfftfreq(n_fft, 1.0 / sample_rate)
    spec *= 10.0 ** (tilt_gain_db(freqs, tilt_db) / 20.0)
    return fft.irfft(spec, n=n_fft, axis=1)[:, :n].astype(np.float32)


def apply_pan(audio: np.ndarray, pan: float) -> np.ndarray:
    """Constant-power balance of a stereo ``audio`` [shape=(2, n)] at ``pan`` in [-1, 1]
    (mixwise's own stereo pan law: unity at the centre)."""
    from mixwise.dsp.pan import pan_gains

    gl, gr = pan_gains(pan, channels=2)
    return (audio * np.array([[gl], [gr]], dtype=np.float32)).astype(np.float32)


@dataclass
class Inputs:
    """The stems mixwise is given: key -> audio [shape=(2, n), float32], and the random
    tilt (dB) and pan per stem (0 for the ``equal`` variant)."""

    audio: dict[str, np.ndarray]
    tilt_db: dict[str, float] = field(default_factory=dict)
    pan: dict[str, float] = field(default_factory=dict)


def make_inputs(human: HumanRef, variant: str, rng: np.random.Generator) -> Inputs:
    """The input stems of one variant (see the module docstring)."""
    sr = human.sample_rate
    out = Inputs({})
    for key, x in human.stems.items():
        tilt, pan = 0.0, 0.0
        if variant == "tilted":
            tilt = float(rng.uniform(-TILT_MAX_DB, TILT_MAX_DB))
            pan = float(rng.uniform(-1.0, 1.0))
            x = apply_pan(apply_tilt(x, sr, tilt), pan)
        out.audio[key] = normalise_lufs(x, sr, STEM_LUFS)
        out.tilt_db[key], out.pan[key] = tilt, pan
    return out


def write_inputs(inputs: Inputs, folder: Path, sample_rate: int) -> dict[str, Path]:
    """Write each input as ``folder/<key>.wav`` (float32 stereo); returns key -> path."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, x in inputs.audio.items():
        paths[key] = folder / f"{key}.wav"
        sf.write(str(paths[key]), x.T, sample_rate, subtype="FLOAT")
    return paths


# --------------------------------------------------------------------------------------------
# the three mixes


@dataclass
class Mix:
    """One mix to score.

    stems : key -> that stem's contribution to the mix [shape=(2, n)] (absent: not in the mix)
    mix : the whole mix [shape=(2, n)] (stems plus any aux returns)
    roles : key -> the mixwise role used
    """

    stems: dict[str, np.ndarray]
    mix: np.ndarray
    roles: dict[str, str]


@dataclass
class Automix(Mix):
    """The automix, its master's readings and what could not be mapped back.

    master_lufs : integrated loudness of ``master.wav`` (LUFS; NaN without a master)
    master_tp_dbtp : its true peak (dBTP, 4x oversampled; NaN without a master)
    stem_sum_error_db : max |sum of processed stems and returns - mix.wav| (dBFS)
    """

    master_lufs: float = math.nan
    master_tp_dbtp: float = math.nan
    unmapped: list[str] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)
    stem_sum_error_db: float = -math.inf


def run_automix(in_dir: Path, out_dir: Path):
    """``mix_folder`` on the inputs with the benchmark's master settings; the MixOutcome."""
    from mixwise.api import mix_folder
    from mixwise.render.engine import RenderOptions

    return mix_folder(
        in_dir,
        out_dir,
        target_lufs=TARGET_LUFS,
        ceiling_dbtp=CEILING_DBTP,
        options=RenderOptions(write_stems=True),
    )


def read_automix(outcome, input_paths: dict[str, Path], n: int) -> Automix:
    """Map the automix's processed stems back to the input stems.

    Each session track's source file is one of ``input_paths``; its processed stem is named
    by :func:`mixwise.api.session_stem_names` (the key the render's ``stem_paths`` uses).
    Stems written by the render that belong to no track (aux returns ``_return_<bus>``) are
    part of the mix but not stems. Inputs with no track (skipped by the loader) are listed in
    ``unmapped``. Everything is read here, so the render folder may be deleted afterwards.
    """
    from mixwise.api import session_stem_names
    from mixwise.dsp.dynamics import true_peak

    by_file = {p.resolve(): k for k, p in input_paths.items()}
    names = session_stem_names(outcome.session)
    stem_paths = dict(outcome.render.stem_paths)
    stems: dict[str, np.ndarray] = {}
    roles: dict[str, str] = {}
    used: set[str] = set()
    for t in outcome.session.tracks:
        key = by_file.get(Path(t.source.path).resolve())
        path = stem_paths.get(names[t.id])
        if key is None or path is None:
            continue
        stems[key] = pad_to(read_stereo(path)[0], n)
        roles[key] = t.role
        used.add(names[t.id])
    returns = sorted(set(stem_paths) - used)
    mix = pad_to(read_stereo(outcome.render.mix_path)[0], n)
    parts = list(stems.values()) + [pad_to(read_stereo(stem_paths[r])[0], n) for r in returns]
    residual = float(np.max(np.abs(sum_audio(parts) - mix))) if parts else math.inf
    master_lufs = master_tp = math.nan
    if outcome.render.master_path is not None:
        master, sr = read_stereo(outcome.render.master_path)
        master_lufs = integrated_loudness(master, sr)
        master_tp = gain_to_db(true_peak(master))
    return Automix(
        stems=stems,
        mix=mix,
        roles=roles,
        master_lufs=master_lufs,
        master_tp_dbtp=master_tp,
        unmapped=sorted(set(input_paths) - set(stems)),
        returns=returns,
        stem_sum_error_db=gain_to_db(residual),
    )


def baseline_as_given(inputs: Inputs, roles: dict[str, str]) -> Mix:
    """Baseline A: the input stems summed at unity gain."""
    return Mix(dict(inputs.audio), sum_audio(list(inputs.audio.values())), roles)


def baseline_role_offsets(inputs: Inputs, roles: dict[str, str]) -> Mix:
    """Baseline B: each input moved by :data:`ROLE_OFFSETS_DB` for its mixwise role (a stem
    without a role counts as ``other``), then summed."""
    stems = {
        k: (x * 10.0 ** (ROLE_OFFSETS_DB[roles.get(k, "other")] / 20.0)).astype(np.float32)
        for k, x in inputs.audio.items()
    }
    return Mix(stems, sum_audio(list(stems.values())), roles)


def fit_role_oracle(human_rel: dict[str, dict[str, float]], labels: dict[str, dict[str, str]]):
    """Labelled role -> mean stem-minus-mix loudness (LU) over every song's human mix: the
    in-sample best constant per role (``human_rel`` and ``labels``: song -> key -> value)."""
    by_role: dict[str, list[float]] = {}
    for song, rel in human_rel.items():
        for key, value in rel.items():
            if math.isfinite(value):
                by_role.setdefault(labels[song].get(key, "other"), []).append(value)
    return {role: float(np.mean(v)) for role, v in by_role.items()}


def role_oracle(inputs: Inputs, labels: dict[str, str], offsets: dict[str, float]) -> Mix:
    """Bound C: each input (all at the same loudness) moved to its labelled role's mean level
    in the human mixes (:func:`fit_role_oracle`), then summed."""
    fallback = float(np.mean(list(offsets.values()))) if offsets else 0.0
    stems = {
        k: (x * 10.0 ** (offsets.get(labels.get(k, "other"), fallback) / 20.0)).astype(np.float32)
        for k, x in inputs.audio.items()
    }
    return Mix(stems, sum_audio(list(stems.values())), labels)


# --------------------------------------------------------------------------------------------
# metrics


def relative_lufs(stems: dict[str, np.ndarray], mix: np.ndarray, sr: int) -> dict[str, float]:
    """Key -> stem loudness minus mix loudness (LU); ``-inf`` for a silent stem."""
    mix_lufs = integrated_loudness(mix, sr)
    return {k: integrated_loudness(x, sr) - mix_lufs for k, x in stems.items()}


def balance_errors(rel: dict[str, float], human_rel: dict[str, float]) -> dict[str, float]:
    """Key -> signed balance error (dB): the mix's relative loudness minus the human's, for
    stems audible in both."""
    return {
        k: rel[k] - h
        for k, h in human_rel.items()
        if k in rel and math.isfinite(h) and math.isfinite(rel[k])
    }


def band_levels_db(audio: np.ndarray, sr: int) -> np.ndarray:
    """Third-octave band levels (dB, shape ``(27,)``, 40 Hz..16 kHz) of the long-term power
    spectrum (Welch, both channels' power added) of ``audio`` normalised to -23 LUFS."""
    from scipy.signal import welch

    freqs, psd = welch(audio, fs=sr, nperseg=WELCH_SEGMENT, axis=-1)
    power = psd.sum(axis=0) * (freqs[1] - freqs[0])
    edges_lo = BAND_CENTRES_HZ * 2.0 ** (-1 / 6)
    edges_hi = BAND_CENTRES_HZ * 2.0 ** (1 / 6)
    bands = np.array(
        [
            power[(freqs >= lo) & (freqs < hi)].sum()
            for lo, hi in zip(edges_lo, edges_hi, strict=True)
        ]
    )
    levels = 10.0 * np.log10(np.maximum(bands, 1e-20))
    return levels + (STEM_LUFS - integrated_loudness(audio, sr))


def width_db(audio: np.ndarray) -> float:
    """Stereo width (dB): side / mid energy, ``S = (L - R) / 2``, ``M = (L + R) / 2``; floored
    at :data:`WIDTH_FLOOR_DB`."""
    x = audio.astype(np.float64)
    side = float(np.sum(((x[0] - x[1]) / 2) ** 2))
    mid = float(np.sum(((x[0] + x[1]) / 2) ** 2))
    if mid <= 0:
        return -WIDTH_FLOOR_DB if side > 0 else WIDTH_FLOOR_DB
    return max(WIDTH_FLOOR_DB, 10.0 * math.log10(side / mid) if side > 0 else WIDTH_FLOOR_DB)


@dataclass
class Scores:
    """Metrics of one mix against the human mix (dB / LU; NaN where not applicable)."""

    balance_error_db: float
    spectral_error_db: float
    width_diff_db: float
    lra_diff_lu: float
    master_error_lu: float = math.nan
    tp_overshoot_db: float = math.nan
    rel_lufs: dict[str, float] = field(default_factory=dict)
    errors_db: dict[str, float] = field(default_factory=dict)


METRICS: dict[str, str] = {
    "balance_error_db": "balance error (dB)",
    "spectral_error_db": "spectral error (dB)",
    "width_diff_db": "|width diff| (dB)",
    "lra_diff_lu": "|LRA diff| (LU)",
    "master_error_lu": "master loudness error (LU)",
    "tp_overshoot_db": "true-peak overshoot (dB)",
}


@dataclass
class HumanFeatures:
    """What every mix is compared with, computed once per song."""

    rel_lufs: dict[str, float]
    bands_db: np.ndarray
    width_db: float
    lra_lu: float


def human_features(human: HumanRef) -> HumanFeatures:
    sr = human.sample_rate
    return HumanFeatures(
        human.rel_lufs,
        band_levels_db(human.mix, sr),
        width_db(human.mix),
        loudness_range(human.mix, sr),
    )


def score_mix(mix: Mix, ref: HumanFeatures, sr: int) -> Scores:
    """Balance, spectral, width and LRA scores of ``mix`` against the human features."""
    rel = relative_lufs(mix.stems, mix.mix, sr)
    errors = balance_errors(rel, ref.rel_lufs)
    return Scores(
        balance_error_db=float(np.mean(np.abs(list(errors.values())))) if errors else math.nan,
        spectral_error_db=float(np.mean(np.abs(band_levels_db(mix.mix, sr) - ref.bands_db))),
        width_diff_db=abs(width_db(mix.mix) - ref.width_db),
        lra_diff_lu=abs(loudness_range(mix.mix, sr) - ref.lra_lu),
        rel_lufs=rel,
        errors_db=errors,
    )


def score_master(scores: Scores, auto: Automix) -> None:
    """Fill the master loudness error (LU) and true-peak overshoot (dB, >= 0)."""
    scores.master_error_lu = auto.master_lufs - TARGET_LUFS
    scores.tp_overshoot_db = max(0.0, auto.master_tp_dbtp - CEILING_DBTP)


# --------------------------------------------------------------------------------------------
# one song, one variant


@dataclass
class Result:
    song: str
    variant: str
    scores: dict[str, Scores]  # mix name -> scores
    roles: dict[str, str]  # key -> mixwise role
    labels: dict[str, str]  # key -> labels.csv role
    human_rel: dict[str, float]
    automix: Automix
    seconds: float


def evaluate(
    song: Song,
    human: HumanRef,
    ref: HumanFeatures,
    variant: str,
    *,
    seed: int,
    oracle: dict[str, float],
    keep_dir: Path | None = None,
) -> Result:
    """Build the inputs, run the automix, score the three mixes. The render goes to a
    temporary folder, or to ``keep_dir/<song>-<variant>`` to keep it."""
    t0 = time.perf_counter()
    sr, n = human.sample_rate, human.mix.shape[1]
    rng = np.random.default_rng([seed, zlib.crc32(song.name.encode())])
    inputs = make_inputs(human, variant, rng)
    with tempfile.TemporaryDirectory(prefix="mixwise-bench-") as tmp:
        paths = write_inputs(inputs, Path(tmp) / "stems", sr)
        name = f"{song.name}-{variant}"
        out_dir = keep_dir / name if keep_dir is not None else Path(tmp) / name
        outcome = run_automix(Path(tmp) / "stems", out_dir)
        auto = read_automix(outcome, paths, n)
    roles = {k: auto.roles.get(k, "other") for k in inputs.audio}
    mixes: dict[str, Mix] = {
        "automix": auto,
        "baseline_a": baseline_as_given(inputs, roles),
        "baseline_b": baseline_role_offsets(inputs, roles),
        "oracle_c": role_oracle(inputs, song.labels, oracle),
    }
    scores = {name: score_mix(m, ref, sr) for name, m in mixes.items()}
    score_master(scores["automix"], auto)
    return Result(
        song.name,
        variant,
        scores,
        roles,
        song.labels,
        human.rel_lufs,
        auto,
        time.perf_counter() - t0,
    )


# --------------------------------------------------------------------------------------------
# printing


def fmt(x: float, digits: int = 2) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return f"{x:.{digits}f}"


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    """A table with rich when it is installed, else plain aligned text."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
        print(f"\n{title}")
        for r in [headers, *rows]:
            print(
                "  ".join(
                    str(c).rjust(w) if i else str(c).ljust(w)
                    for i, (c, w) in enumerate(zip(r, widths, strict=True))
                )
            )
        return
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*r)
    Console(width=140).print(table)


def metric_rows(scores: dict[str, Scores]) -> list[list[str]]:
    return [
        [label] + [fmt(getattr(scores[m], key)) for m in MIXES] for key, label in METRICS.items()
    ]


def print_result(r: Result) -> None:
    print_table(
        f"{r.song} / {r.variant}  ({r.seconds:.0f} s)",
        ["metric", *(MIX_TITLES[m] for m in MIXES)],
        metric_rows(r.scores),
    )
    auto = r.scores["automix"]
    rows = []
    for key, h in r.human_rel.items():
        err = auto.errors_db.get(key, math.nan)
        rows.append(
            [
                key,
                r.roles.get(key, "-"),
                r.labels.get(key, "-"),
                fmt(h),
                fmt(auto.rel_lufs.get(key, math.nan)),
                fmt(err),
            ]
        )
    print_table(
        f"{r.song} / {r.variant}: automix per stem (LU relative to the mix)",
        ["stem", "mixwise role", "labelled role", "human", "automix", "error"],
        rows,
    )
    notes = []
    if r.automix.unmapped:
        notes.append(f"inputs with no automix track: {', '.join(r.automix.unmapped)}")
    if r.automix.returns:
        notes.append(f"aux returns counted in the mix: {', '.join(r.automix.returns)}")
    notes.append(
        f"processed stems + returns vs mix.wav: max diff {fmt(r.automix.stem_sum_error_db, 1)} dBFS"
    )
    for line in notes:
        print(f"  {line}")


@dataclass
class Summary:
    variant: str
    means: dict[str, dict[str, float]]  # mix -> metric -> mean over songs
    worst_master_error_lu: float
    worst_tp_overshoot_db: float
    checks: list[tuple[str, bool]]


def mean_of_numbers(values: list[float]) -> float:
    """Mean of the values that are not NaN (NaN when none is)."""
    kept = [v for v in values if not math.isnan(v)]
    return float(np.mean(kept)) if kept else math.nan


def summarise(results: list[Result], variant: str) -> Summary | None:
    rs = [r for r in results if r.variant == variant]
    if not rs:
        return None
    means = {
        m: {k: mean_of_numbers([getattr(r.scores[m], k) for r in rs]) for k in METRICS}
        for m in MIXES
    }
    master = [abs(r.scores["automix"].master_error_lu) for r in rs]
    tp = [r.scores["automix"].tp_overshoot_db for r in rs]
    # a song without a master reads NaN here, and NaN fails the checks below
    worst_master, worst_tp = float(np.max(master)), float(np.max(tp))
    a, b, auto = means["baseline_a"], means["baseline_b"], means["automix"]
    checks = [
        (
            f"automix balance error {fmt(auto['balance_error_db'])} <= 0.5 x baseline A's "
            f"{fmt(a['balance_error_db'])}",
            auto["balance_error_db"] <= 0.5 * a["balance_error_db"],
        ),
        (
            f"automix spectral error {fmt(auto['spectral_error_db'])} < baselines "
            f"{fmt(a['spectral_error_db'])} / {fmt(b['spectral_error_db'])}",
            auto["spectral_error_db"] < min(a["spectral_error_db"], b["spectral_error_db"]),
        ),
        (
            f"|master loudness error| <= 0.5 LU on every song (worst {fmt(worst_master)})",
            worst_master <= 0.5,
        ),
        (f"true-peak overshoot == 0 on every song (worst {fmt(worst_tp, 3)} dB)", worst_tp == 0.0),
    ]
    return Summary(variant, means, worst_master, worst_tp, checks)


def print_summary(s: Summary, n_songs: int) -> None:
    rows = [[label] + [fmt(s.means[m][k]) for m in MIXES] for k, label in METRICS.items()]
    print_table(
        f"SUMMARY / {s.variant}: mean over {n_songs} songs",
        ["metric", *(MIX_TITLES[m] for m in MIXES)],
        rows,
    )
    for text, ok in s.checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    a, c = s.means["baseline_a"]["balance_error_db"], s.means["oracle_c"]["balance_error_db"]
    print(
        f"  note  C, per-role levels fitted in-sample to these human mixes, reaches "
        f"{fmt(c)} dB = {c / a:.2f} x A's balance error: the part of the human balance that "
        "any per-role rule can explain here"
    )


def print_sanity(song: Song, human: HumanRef) -> None:
    if song.mixture is None:
        print(
            f"{song.name}: {len(human.stems)} stems, "
            f"{human.mix.shape[1] / human.sample_rate:.1f} s; no mixture file: the stem sum "
            f"({fmt(human.sum_lufs)} LUFS) is the human mix ({UNITY_SUM_SETS[song.name]})",
            file=sys.stderr,
        )
        return
    diff = human.sum_lufs - human.mixture_lufs
    verdict = "ok" if abs(diff) <= SANITY_TOLERANCE_LU else "CHECK"
    print(
        f"{song.name}: {len(human.stems)} stems, {human.mix.shape[1] / human.sample_rate:.1f} s; "
        f"stem sum {fmt(human.sum_lufs)} LUFS vs mixture {fmt(human.mixture_lufs)} LUFS "
        f"({diff:+.2f} LU, {verdict}); band levels differ by {human.mixture_band_error_db:.2f} "
        "dB on average",
        file=sys.stderr,
    )


# --------------------------------------------------------------------------------------------
# files


def publish(tmp: Path, dest: Path) -> None:
    os.replace(tmp, dest)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """Write a CSV beside ``path`` and rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    publish(tmp, path)
    return path


def csv_num(x: float) -> str:
    return "" if isinstance(x, float) and (math.isnan(x) or math.isinf(x)) else f"{x:.4f}"


def save_csvs(out: Path, results: list[Result], summaries: list[Summary]) -> list[Path]:
    header = ["song", "variant", "mix", *METRICS]
    rows: list[list[object]] = [
        [r.song, r.variant, m, *(csv_num(getattr(r.scores[m], k)) for k in METRICS)]
        for r in results
        for m in MIXES
    ]
    rows += [
        ["MEAN", s.variant, m, *(csv_num(s.means[m][k]) for k in METRICS)]
        for s in summaries
        for m in MIXES
    ]
    stem_rows: list[list[object]] = []
    for r in results:
        for key, h in r.human_rel.items():
            stem_rows.append(
                [
                    r.song,
                    r.variant,
                    key,
                    r.roles.get(key, ""),
                    r.labels.get(key, ""),
                    csv_num(h),
                    *(csv_num(r.scores[m].rel_lufs.get(key, math.nan)) for m in MIXES),
                    csv_num(r.scores["automix"].errors_db.get(key, math.nan)),
                ]
            )
    stem_header = [
        "song",
        "variant",
        "stem",
        "mixwise_role",
        "labelled_role",
        "human_rel_lu",
        *(f"{m}_rel_lu" for m in MIXES),
        "automix_error_db",
    ]
    return [
        write_csv(out / "automix_quality.csv", header, rows),
        write_csv(out / "automix_quality_stems.csv", stem_header, stem_rows),
    ]


def save_plot(out: Path, results: list[Result], variants: list[str]) -> Path | None:
    """Grouped bars (one group per song, one bar per mix) of balance and spectral error, one
    column per variant. ``None`` (with a message) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e .[bench])", file=sys.stderr)
        return None
    metrics = [
        ("balance_error_db", "balance error (dB)"),
        ("spectral_error_db", "spectral error (dB)"),
    ]
    fig, axes = plt.subplots(
        len(metrics), len(variants), figsize=(6 * len(variants), 7), squeeze=False
    )
    width = 0.8 / len(MIXES)
    for col, variant in enumerate(variants):
        rs = [r for r in results if r.variant == variant]
        x = np.arange(len(rs))
        for row, (key, label) in enumerate(metrics):
            ax = axes[row][col]
            for i, m in enumerate(MIXES):
                ax.bar(
                    x + (i - 1) * width,
                    [getattr(r.scores[m], key) for r in rs],
                    width,
                    label=MIX_TITLES[m],
                )
            ax.set_xticks(x, [r.song for r in rs], rotation=20, ha="right", fontsize=8)
            ax.set_ylabel(label)
            ax.set_title(f"{variant} inputs")
            ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("automatic mix vs human mix (lower is better)")
    fig.tight_layout()
    path = out / "automix_quality.png"
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    publish(tmp, path)
    return path


# --------------------------------------------------------------------------------------------
# main


def parse_list(text: str | None, allowed: list[str] | tuple[str, ...], what: str) -> list[str]:
    if not text:
        return list(allowed)
    items = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in items if s not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the data sets")
    ap.add_argument("--songs", help="comma-separated set names (default: all with a mixture)")
    ap.add_argument(
        "--variants", help=f"comma-separated, from {', '.join(VARIANTS)} (default: all)"
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for CSV and PNG")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the tilted variant")
    ap.add_argument(
        "--keep-renders",
        action="store_true",
        help="keep the automix renders in OUT/renders/<song>-<variant>",
    )
    args = ap.parse_args(argv)

    if not args.data.is_dir():
        print(f"no data at {args.data}: skipped (see ../shared/data/README.md)")
        return 0
    songs = discover_songs(args.data)
    if not songs:
        print(f"no set with a mixture in {args.data}: skipped")
        return 0
    names = parse_list(args.songs, [s.name for s in songs], "song")
    songs = [s for s in songs if s.name in names]
    variants = parse_list(args.variants, VARIANTS, "variant")
    args.out.mkdir(parents=True, exist_ok=True)

    # the role oracle is fitted on every benchmarked song's human balance first
    human_rel: dict[str, dict[str, float]] = {}
    for song in songs:
        human = load_human(song)
        human_rel[song.name] = human.rel_lufs
        del human
    oracle = fit_role_oracle(human_rel, {s.name: s.labels for s in songs})
    print(
        "C: role oracle (labelled role -> mean LU relative to the mix in the human mixes): "
        + ", ".join(f"{r} {v:+.1f}" for r, v in sorted(oracle.items(), key=lambda kv: -kv[1])),
        file=sys.stderr,
    )

    results: list[Result] = []
    keep_dir = args.out / "renders" if args.keep_renders else None
    for song in songs:
        human = load_human(song)
        print_sanity(song, human)
        ref = human_features(human)
        for variant in variants:
            print(f"{song.name} / {variant}: mixing ...", file=sys.stderr)
            r = evaluate(
                song, human, ref, variant, seed=args.seed, oracle=oracle, keep_dir=keep_dir
            )
            print_result(r)
            results.append(r)

    summaries = [s for v in variants if (s := summarise(results, v)) is not None]
    for s in summaries:
        print_summary(s, len(songs))
    written = save_csvs(args.out, results, summaries)
    plot = save_plot(args.out, results, variants)
    for p in [*written, *([plot] if plot else [])]:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
