"""The render engine: a Session and its stems in, processed stems, mix and master out.

It reads top to bottom as the job's stages:

1. **mix pass** — block by block (64 k samples), every track runs its chain (region edits,
   trim, polarity, delay, filters, EQ, compressor, fader, pan) on a thread pool, the filters
   of all tracks together four channels at a time (:class:`LaneFilterBank`); group buses
   and aux returns (reverb, delay) are summed in a fixed order onto the mix bus; processed
   stems and ``mix.wav`` are written as the blocks come;
2. **master passes** — the master's filters, EQ and glue compressor run on each mix block in
   the mix pass, and their output (measured for loudness) goes to a temporary file; then gain
   and the true-peak limiter run over it, block by block. With a loudness target the gain starts
   at (target - measured loudness) and is corrected from what the limited master measures until
   it is within 0.1 LU of the target (usually two passes);
3. **report** — meters of the mix and master, the gain applied, the passes taken.

Memory stays bounded by the block size (beyond the stems themselves, held by the caller).
The same session and stems always render to the same bits: the per-track work is independent
and everything is summed in session order.

Group-bus processing is applied to each member separately (filters and EQ are linear; the
bus compressor's gain is computed once from the bus sum and applied to each member), so each
processed stem is exactly its share of the mix and the stems sum to ``mix.wav``. Aux returns
are written as extra stems named ``_return_<bus id>.wav``.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixwise.analysis.meters import LoudnessMeter
from mixwise.dsp.biquad import (
    LaneFilterBank,
    SosFilter,
    butterworth,
    chain_sos,
    is_neutral_band,
    rbj_biquad,
)
from mixwise.dsp.dynamics import Compressor, TruePeakLimiter, limit, true_peak
from mixwise.dsp.effects import FeedbackDelay, Reverb
from mixwise.dsp.pan import place, to_stereo
from mixwise.errors import NothingToMixError
from mixwise.io.audio import ArraySource, AtomicAudioWriter, FileSource, WavSubtype
from mixwise.session import model as m

log = logging.getLogger(__name__)

Progress = Callable[[float, float, str], None]
"""Progress callback: ``(seconds done, seconds in all, stage)``."""

Source = ArraySource | FileSource
"""Where a track's audio comes from: memory or a file streamed block by block."""

#: Loudness targeting stops when the master is this close to the target (LU).
LOUDNESS_TOLERANCE_LU = 0.1
MAX_MASTER_PASSES = 5
#: The gain search never raises the mix by more than this (dB).
MAX_MASTER_GAIN_DB = 36.0


def db_to_gain(db: float) -> float:
    """Linear gain for ``db`` decibels (``-inf`` -> 0)."""
    return 0.0 if db == -math.inf else 10.0 ** (db / 20.0)


def gain_to_db(gain: float) -> float:
    """Decibels for a linear gain (0 -> ``-inf``)."""
    return 20.0 * math.log10(gain) if gain > 0 else -math.inf


@dataclass
class RenderOptions:
    """How to render (not what: that is the session).

    block_size : samples per processing block
    workers : threads for the per-track work (0 = one per CPU core)
    write_stems / write_mix / write_master : which files to write
    stem_subtype, master_subtype : WAV sample formats ("FLOAT", "PCM_24", "PCM_16"); the mix is
        always 32-bit float, since a mix bus may peak above full scale before the master
    start_s, end_s : render only this stretch of the session timeline (s), e.g. for previews;
        processing starts fresh at ``start_s`` (filters and dynamics at rest)
    """

    block_size: int = 65_536
    workers: int = 0
    write_stems: bool = True
    write_mix: bool = True
    write_master: bool = True
    stem_subtype: WavSubtype = "FLOAT"
    master_subtype: WavSubtype = "PCM_24"
    start_s: float = 0.0
    end_s: float | None = None


@dataclass
class RenderResult:
    """What a render wrote and measured. Levels in LUFS / dBFS / dBTP, gains in dB, times in s."""

    out_dir: Path
    sample_rate: int
    duration_s: float
    mix_path: Path | None = None
    master_path: Path | None = None
    stem_paths: dict[str, Path] = field(default_factory=dict)
    mix_lufs: float = -math.inf
    mix_sample_peak_dbfs: float = -math.inf
    master_gain_db: float = 0.0
    master_lufs: float = -math.inf
    master_true_peak_dbtp: float = -math.inf
    limiter_max_reduction_db: float = 0.0
    master_passes: int = 0
    render_seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: each track's loudness (LUFS) as rendered into the mix (after its chain and group bus)
    track_lufs: dict[str, float] = field(default_factory=dict)
    #: short-term loudness (LUFS, 3 s windows) every second of the mix and of the master
    mix_short_term_lufs: list[float] = field(default_factory=list)
    master_short_term_lufs: list[float] = field(default_factory=list)

    @property
    def realtime_factor(self) -> float:
        return self.duration_s / self.render_seconds if self.render_seconds > 0 else math.inf

    def to_dict(self) -> dict[str, object]:
        def num(x: float) -> float | None:
            return round(x, 3) if math.isfinite(x) else None

        return {
            "sample_rate": self.sample_rate,
            "duration_s": num(self.duration_s),
            "files": {
                "mix": self.mix_path.name if self.mix_path else None,
                "master": self.master_path.name if self.master_path else None,
                "stems": {k: f"stems/{p.name}" for k, p in self.stem_paths.items()},
            },
            "mix": {
                "integrated_lufs": num(self.mix_lufs),
                "sample_peak_dbfs": num(self.mix_sample_peak_dbfs),
            },
            "master": {
                "gain_db": num(self.master_gain_db),
                "integrated_lufs": num(self.master_lufs),
                "true_peak_dbtp": num(self.master_true_peak_dbtp),
                "limiter_max_reduction_db": num(self.limiter_max_reduction_db),
                "passes": self.master_passes,
            },
            "render_seconds": num(self.render_seconds),
            "stage_seconds": {k: num(v) for k, v in self.stage_seconds.items()},
            "realtime_factor": num(self.realtime_factor),
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------------------------
# building processors from the session


def filter_sos(
    sample_rate: int,
    *,
    high_pass: m.Filter | None = None,
    low_pass: m.Filter | None = None,
    eq: list[m.EQBand] | None = None,
) -> np.ndarray:
    """The cascade for a high-pass, a low-pass and EQ bands; neutral and disabled parts are left
    out, so a neutral chain is an exact bypass. Frequencies above 0.49 x the sample rate are
    lowered to it (a 20 kHz band on 44.1 kHz audio stays valid)."""
    nyq_safe = 0.49 * sample_rate
    parts: list[np.ndarray] = []
    if high_pass is not None and high_pass.enabled:
        parts.append(
            butterworth(
                "high_pass",
                min(high_pass.freq_hz, nyq_safe),
                sample_rate,
                slope_db_oct=high_pass.slope_db_oct,
            )
        )
    if low_pass is not None and low_pass.enabled and low_pass.freq_hz < nyq_safe:
        parts.append(
            butterworth(
                "low_pass", low_pass.freq_hz, sample_rate, slope_db_oct=low_pass.slope_db_oct
            )
        )
    for band in eq or []:
        if not band.enabled or is_neutral_band(band.type, band.gain_db):
            continue
        parts.append(
            rbj_biquad(
                band.type, min(band.freq_hz, nyq_safe), sample_rate, gain_db=band.gain_db, q=band.q
            )
        )
    return chain_sos(parts)


def make_compressor(c: m.Compressor, sample_rate: int, channels: int) -> Compressor | None:
    """A :class:`~mixwise.dsp.dynamics.Compressor` for the session's settings (None if off)."""
    if not c.enabled:
        return None
    return Compressor(
        sample_rate=sample_rate,
        channels=channels,
        threshold_db=c.threshold_db,
        ratio=c.ratio,
        attack_ms=c.attack_ms,
        release_ms=c.release_ms,
        knee_db=c.knee_db,
        makeup_db=c.makeup_db,
        detector=c.detector,
    )


def fractional_delay_kernel(frac: float, taps: int = 32) -> np.ndarray:
    """Windowed-sinc taps ``h[j]``, j = -taps/2+1 .. taps/2, with
    ``y[n] = sum_j h[j] x[n - j]`` delaying by ``frac`` (0 <= frac < 1) samples."""
    half = taps // 2
    j = np.arange(-half + 1, half + 1, dtype=float)
    t = j - frac
    window = np.i0(8.0 * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, 1.0))) / np.i0(8.0)
    h = np.sinc(t) * window
    return h / h.sum()


class RepairedSource:
    """A source with click repairs applied on the fly: each read is widened by
    :attr:`CONTEXT` samples on both sides so the interpolation sees the music around a click,
    which gives the same samples as repairing the whole file."""

    CONTEXT = 1024

    def __init__(self, source: Source, repairs: list[m.Repair], sample_rate: int) -> None:
        self.source = source
        self.channels = source.channels
        self.n_samples = source.n_samples
        self.sample_rate = sample_rate
        self.spots = sorted(
            (round(r.time_s * sample_rate), r.length_samples, r.channel) for r in repairs
        )

    def read(self, start: int, length: int) -> np.ndarray:
        hits = [s for s in self.spots if s[0] < start + length and s[0] + s[1] > start]
        if not hits:
            return self.source.read(start, length)
        from mixwise.analysis.clicks import Click, repair_clicks

        lo = start - self.CONTEXT
        wide = self.source.read(lo, length + 2 * self.CONTEXT)
        clicks = [
            Click(
                time_s=(pos - lo) / self.sample_rate,
                channel=ch,
                strength_db=0.0,
                length_samples=n,
                start_sample=pos - lo,
                level_dbfs=0.0,
            )
            for pos, n, channel in hits
            for ch in ([channel] if channel is not None else range(self.channels))
            if ch < self.channels and pos - lo >= 0 and pos - lo + n <= wide.shape[1]
        ]
        fixed = repair_clicks(wide.astype(np.float32), self.sample_rate, clicks)
        return fixed[:, self.CONTEXT : self.CONTEXT + length].astype(np.float64)


class _TrackProc:
    """One track's chain as a block processor (state kept between blocks)."""

    def __init__(self, track: m.Track, source: Source, sample_rate: int, *, silenced: bool) -> None:
        c = track.chain
        self.track = track
        if track.repairs:
            source = RepairedSource(source, track.repairs, sample_rate)
        self.source = source
        self.channels = source.channels
        self.pre_gain = db_to_gain(c.trim_db) * (-1.0 if c.polarity_inverted else 1.0)
        delay = c.delay_ms * sample_rate / 1000.0
        self.d_int = math.floor(delay)
        frac = delay - self.d_int
        self.frac_h = fractional_delay_kernel(frac) if frac > 1e-9 else None
        #: the track's filters and EQ, run by the render's LaneFilterBank over ``lanes``
        self.sos = filter_sos(sample_rate, high_pass=c.high_pass, low_pass=c.low_pass, eq=c.eq)
        self.lanes = slice(0, 0)
        self.comp = make_compressor(c.compressor, sample_rate, self.channels)
        self.fader = 0.0 if (c.mute or silenced) else db_to_gain(c.fader_db)
        self.pan, self.width = c.pan, c.width
        self.sends: list[tuple[str, float, bool]] = [
            (s.bus, db_to_gain(s.level_db), s.pre_fader)
            for s in c.sends
            if s.level_db != -math.inf and not (c.mute or silenced)
        ]
        self.regions = [
            (
                round(r.start_s * sample_rate),
                round(r.end_s * sample_rate),
                round(r.fade_in_ms * sample_rate / 1000.0),
                round(r.fade_out_ms * sample_rate / 1000.0),
            )
            for r in track.regions
        ]
        self.audible = self.fader > 0 or bool(self.sends)
        #: fader automation: (start, end, ramp) in samples and the move in dB
        self.automation = [
            (
                round(a.start_s * sample_rate),
                round(a.end_s * sample_rate),
                max(1, round(a.ramp_ms * sample_rate / 1000.0)),
                a.gain_db,
            )
            for a in c.automation
            if a.gain_db != 0.0
        ]
        self._start = 0

    def _automation(self, start: int, n: int) -> np.ndarray | None:
        """The fader automation's linear gain for session samples [start, start+n), or None.

        Each move ramps in dB along a raised cosine ``ramp`` samples long, centred on each
        edge of its range; overlapping moves add in dB."""
        if not self.automation:
            return None
        db = None
        idx = np.arange(start, start + n, dtype=np.float64)
        for s0, s1, ramp, gain_db in self.automation:
            if s1 + ramp / 2 <= start or s0 - ramp / 2 >= start + n:
                continue
            rise = np.clip((idx - (s0 - ramp / 2)) / ramp, 0.0, 1.0)
            fall = np.clip(((s1 + ramp / 2) - idx) / ramp, 0.0, 1.0)
            w = np.minimum(0.5 - 0.5 * np.cos(np.pi * rise), 0.5 - 0.5 * np.cos(np.pi * fall))
            db = w * gain_db if db is None else db + w * gain_db
        return None if db is None else np.power(10.0, db / 20.0)

    def _read(self, start: int, n: int) -> np.ndarray:
        """Source samples for session samples [start, start+n), delayed; zeros outside."""
        h = self.frac_h
        if h is None:
            return self.source.read(start - self.d_int, n)
        half = len(h) // 2
        out = self.source.read(start - self.d_int - half, n + len(h) - 1)
        # y[i] = sum_j h[j] x[i - j], j = -half+1..half; out[k] holds x[lo + k]
        y = np.empty((self.channels, n))
        for ch in range(self.channels):
            y[ch] = np.convolve(out[ch], h, mode="valid")[:n]
        return y

    def _envelope(self, start: int, n: int) -> np.ndarray | None:
        if not self.regions:
            return None
        env = np.zeros(n)
        idx = np.arange(start, start + n)
        for s0, s1, fi, fo in self.regions:
            if s1 <= start or s0 >= start + n:
                continue
            g = ((idx >= s0) & (idx < s1)).astype(float)
            if fi > 0:
                ramp = (idx >= s0) & (idx < s0 + fi)
                g[ramp] = 0.5 - 0.5 * np.cos(np.pi * (idx[ramp] - s0 + 0.5) / fi)
            if fo > 0:
                ramp = (idx >= s1 - fo) & (idx < s1)
                g[ramp] = np.minimum(
                    g[ramp], 0.5 - 0.5 * np.cos(np.pi * (s1 - idx[ramp] - 0.5) / fo)
                )
            np.maximum(env, g, out=env)
        return env

    def prepare(self, start: int, n: int, lanes: np.ndarray) -> None:
        """Stage 1: the delayed, trimmed, region-edited source for session samples
        [start, start+n), written into this track's rows of the lane buffer."""
        self._start = start
        if not self.audible:
            lanes[self.lanes, :n] = 0.0
            return
        x = self._read(start, n)
        if self.pre_gain != 1.0:
            x *= self.pre_gain
        env = self._envelope(start, n)
        if env is not None:
            x *= env
        lanes[self.lanes, :n] = x

    def finish(self, x: np.ndarray) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
        """Stage 3, after the filters: compressor, fader, pan and sends. Returns the stereo
        output ``(2, n)`` at the fader and the send signals ``(bus id, (2, n))``."""
        n = x.shape[1]
        if not self.audible:
            return np.zeros((2, n)), []
        gains = self.comp.gains(x) if self.comp is not None else None
        if any(pre for _, _, pre in self.sends):
            placed = place(x, pan=self.pan, width=self.width, gains=gains)
            out = placed * self.fader
        else:  # the fader folds into the same pass
            out = placed = place(x, pan=self.pan, width=self.width, gain=self.fader, gains=gains)
        moves = self._automation(self._start, n)
        if moves is not None:
            out = out * moves
        sends = [(bus, (placed if pre else out) * level) for bus, level, pre in self.sends]
        return out, sends


class _GroupProc:
    """A group bus applied to each member separately (see the module docstring)."""

    def __init__(self, bus: m.Bus, members: list[int], sample_rate: int) -> None:
        ch = bus.chain
        sos = filter_sos(sample_rate, high_pass=ch.high_pass, low_pass=ch.low_pass, eq=ch.eq)
        self.members = members
        self.filters = {i: SosFilter(sos, 2) for i in members}
        self.comp = make_compressor(ch.compressor, sample_rate, 2)
        self.gain = 0.0 if ch.mute else db_to_gain(ch.fader_db)
        self.pan, self.width = ch.pan, ch.width

    def process(self, outs: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        filtered = {i: self.filters[i].process(outs[i]) for i in self.members}
        g = None
        if self.comp is not None and filtered:
            total = np.zeros_like(next(iter(filtered.values())))
            for i in self.members:
                total += filtered[i]
            g = self.comp.gains(total)
        result = {}
        for i in self.members:
            y = to_stereo(filtered[i], pan=self.pan, width=self.width, gain=self.gain)
            result[i] = y * g if g is not None else y
        return result


class _AuxProc:
    """An aux return: pre-filters -> effect -> EQ -> compressor -> fader/balance."""

    def __init__(self, bus: m.Bus, sample_rate: int, block_size: int) -> None:
        ch = bus.chain
        self.pre = SosFilter(
            filter_sos(sample_rate, high_pass=ch.high_pass, low_pass=ch.low_pass), 2
        )
        self.post = SosFilter(filter_sos(sample_rate, eq=ch.eq), 2)
        fx = bus.effect
        if isinstance(fx, m.Reverb):
            self.effect = Reverb(
                sample_rate=sample_rate,
                block_size=block_size,
                decay_s=fx.decay_s,
                predelay_ms=fx.predelay_ms,
                damping=fx.damping,
                width=fx.width,
                seed=fx.seed,
            )
        elif isinstance(fx, m.Delay):
            self.effect = FeedbackDelay(
                sample_rate=sample_rate,
                time_left_ms=fx.time_left_ms,
                time_right_ms=fx.time_right_ms,
                feedback=fx.feedback,
                damping_hz=fx.damping_hz,
            )
        else:
            self.effect = None
        self.comp = make_compressor(ch.compressor, sample_rate, 2)
        self.gain = 0.0 if ch.mute else db_to_gain(ch.fader_db)
        self.pan, self.width = ch.pan, ch.width

    def process(self, x: np.ndarray) -> np.ndarray:
        y = self.pre.process(x)
        if self.effect is not None:
            y = self.effect.process(y)
        y = self.post.process(y)
        if self.comp is not None:
            y = self.comp.process(y)
        return to_stereo(y, pan=self.pan, width=self.width, gain=self.gain)


class _MasterPre:
    """The master chain before the gain stage: filters, EQ, glue compressor."""

    def __init__(self, master: m.Master, sample_rate: int) -> None:
        self.filter = SosFilter(
            filter_sos(sample_rate, high_pass=master.high_pass, eq=master.eq), 2
        )
        self.comp = make_compressor(master.compressor, sample_rate, 2)

    @property
    def is_identity(self) -> bool:
        return self.filter.is_identity and self.comp is None

    def process(self, x: np.ndarray) -> np.ndarray:
        y = self.filter.process(x)
        return self.comp.process(y) if self.comp is not None else y


# --------------------------------------------------------------------------------------------
# the render


def return_stem_name(bus_id: str, taken: set[str]) -> str:
    """File base name for an aux return's stem, distinct from every track's name."""
    name = f"_return_{bus_id}"
    while name in taken:
        name = "_" + name
    return name


def render(
    session: m.Session,
    sources: Mapping[str, np.ndarray | Source],
    out_dir: str | Path,
    *,
    options: RenderOptions | None = None,
    stem_names: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> RenderResult:
    """Render ``session`` to ``out_dir``: ``stems/*.wav``, ``mix.wav``, ``master.wav``.

    Parameters
    ----------
    session : the mix document; ``session.sample_rate`` is the render rate (Hz)
    sources : track id -> audio ``(channels, n)`` float32 at the session rate, or a
        :class:`~mixwise.io.audio.FileSource` streaming it; tracks without audio here are left
        out with a warning
    out_dir : folder for the outputs (created; files appear atomically)
    stem_names : track id -> base name of its stem file (default: the source file's base name)
    progress : called with (seconds done, seconds in all, stage)

    Raises :class:`NothingToMixError` when no track has audio.
    """
    opts = options or RenderOptions()
    t0 = time.perf_counter()
    sr = session.sample_rate
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    B = int(opts.block_size)
    result = RenderResult(out_dir=out, sample_rate=sr, duration_s=0.0)

    srcs = {k: ArraySource(v) if isinstance(v, np.ndarray) else v for k, v in sources.items()}
    tracks = [t for t in session.tracks if t.id in srcs]
    for t in session.tracks:
        if t.id not in srcs:
            result.warnings.append(f"{t.name}: no audio for this track; left out of the render")
    if not tracks:
        raise NothingToMixError("no track of the session has audio to render")
    n_total = max(srcs[t.id].n_samples for t in tracks)
    if session.length_s > 0:
        n_total = round(session.length_s * sr)
    first = min(max(0, round(opts.start_s * sr)), n_total)
    if opts.end_s is not None:
        n_total = max(first, min(n_total, round(opts.end_s * sr)))
    result.duration_s = (n_total - first) / sr
    any_solo = any(t.chain.solo for t in tracks)
    procs = [_TrackProc(t, srcs[t.id], sr, silenced=any_solo and not t.chain.solo) for t in tracks]
    groups = {
        b.id: _GroupProc(b, [i for i, t in enumerate(tracks) if t.bus == b.id], sr)
        for b in session.buses
        if b.kind == "group"
    }
    lane = 0
    for p in procs:
        p.lanes = slice(lane, lane + p.channels)
        lane += p.channels
    bank = LaneFilterBank([p.sos for p in procs for _ in range(p.channels)])
    lane_buf = np.zeros((lane, B))
    used_aux = {bus for p in procs for bus, _, _ in p.sends}
    auxes = {
        b.id: _AuxProc(b, sr, B) for b in session.buses if b.kind == "aux" and b.id in used_aux
    }

    names = dict(stem_names or {})
    for t in tracks:
        names.setdefault(t.id, Path(t.source.path).stem or t.id)
    taken = set(names.values())
    writers: dict[str, AtomicAudioWriter] = {}
    stems_dir = out / "stems"
    try:
        if opts.write_stems:
            for t in tracks:
                path = stems_dir / f"{names[t.id]}.wav"
                writers[t.id] = AtomicAudioWriter(
                    path, sample_rate=sr, channels=2, subtype=opts.stem_subtype
                )
            for bus_id in auxes:
                rname = return_stem_name(bus_id, taken)
                taken.add(rname)
                writers[f"aux:{bus_id}"] = AtomicAudioWriter(
                    stems_dir / f"{rname}.wav",
                    sample_rate=sr,
                    channels=2,
                    subtype=opts.stem_subtype,
                )
        mix_path = out / "mix.wav"
        mix_writer = AtomicAudioWriter(mix_path, sample_rate=sr, channels=2, subtype="FLOAT")
        writers["mix"] = mix_writer
        # the master's filters, EQ and glue compressor run here, on each mix block; their output
        # (the master input) goes to a hidden temporary file the limiter passes then read
        master_pre = _MasterPre(session.master, sr)
        pre_writer = None
        if opts.write_master and not master_pre.is_identity:
            pre_writer = AtomicAudioWriter(
                out / ".master-input.wav", sample_rate=sr, channels=2, subtype="FLOAT"
            )
    except BaseException:
        for w in writers.values():
            w.abort()
        raise

    mix_meter = LoudnessMeter(sr, 2)
    pre_meter = LoudnessMeter(sr, 2) if pre_writer is not None else mix_meter
    track_meters = {t.id: LoudnessMeter(sr, 2) for t in tracks}
    mix_peak = 0.0

    def submit_buses(
        results: list[tuple[np.ndarray, list]], n: int
    ) -> tuple[list[Future], dict[str, Future]]:
        """Start the group and aux buses of one block on the worker pool (one task each; each
        keeps its state from block to block, so a block's tasks start only after the previous
        block's have finished). They run while the pool goes on with the next block's tracks."""

        def aux(bus: str) -> np.ndarray:
            acc = np.zeros((2, n))
            for _, sends in results:  # in track order, so the sum is always the same
                for b, snd in sends:
                    if b == bus:
                        acc += snd
            return auxes[bus].process(acc)

        group_jobs = [
            pool.submit(gp.process, {i: results[i][0] for i in gp.members})
            for gp in groups.values()
        ]
        return group_jobs, {bus: pool.submit(aux, bus) for bus in auxes}

    def combine(
        results: list[tuple[np.ndarray, list]],
        jobs: tuple[list[Future], dict[str, Future]],
        n: int,
    ) -> None:
        """One block's track meters, mix sum and its meter, the master's pre-chain and the
        writing, once its buses are done."""
        group_jobs, aux_jobs = jobs
        contributions: dict[int, np.ndarray] = {
            i: y for i, (y, _) in enumerate(results) if tracks[i].bus is None
        }
        for job in group_jobs:
            contributions.update(job.result())
        aux_out = {bus: job.result() for bus, job in aux_jobs.items()}
        meter_jobs = [
            pool.submit(track_meters[t.id].add, contributions[i])
            for i, t in enumerate(tracks)
            if i in contributions
        ]
        mix = np.zeros((2, n))
        for i in range(len(procs)):
            if i in contributions:
                mix += contributions[i]
        for bus in auxes:
            mix += aux_out[bus]
        after_mix(mix.astype(np.float32))
        if opts.write_stems:
            # the stems (most of the bytes written) go to disk on their own thread, in block
            # order, while this one goes on with the next block (one block in flight)
            blocks = [(writers[t.id], contributions.get(i)) for i, t in enumerate(tracks)]
            blocks += [(writers[f"aux:{bus}"], aux_out[bus]) for bus in auxes]
            for f in stem_pending:
                f.result()
            stem_pending[:] = [stem_pool.submit(write_stems, blocks, n)]
        for job in meter_jobs:
            job.result()

    def write_stems(blocks: list[tuple[AtomicAudioWriter, np.ndarray | None]], n: int) -> None:
        silence = None
        for writer, y in blocks:
            if y is None:
                if silence is None:
                    silence = np.zeros((2, n), dtype=np.float32)
                writer.write(silence)
            else:
                writer.write(y)

    def after_mix(mix32: np.ndarray) -> None:
        nonlocal mix_peak
        mix_meter.add(mix32)
        if mix32.size:
            mix_peak = max(mix_peak, float(np.max(np.abs(mix32))))
        mix_writer.write(mix32)
        if pre_writer is not None:
            pre32 = master_pre.process(mix32.astype(np.float64)).astype(np.float32)
            pre_meter.add(pre32)
            pre_writer.write(pre32)

    workers = opts.workers or min(len(procs), _cpu_count())
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    io_pool = ThreadPoolExecutor(max_workers=1)
    stem_pool = ThreadPoolExecutor(max_workers=1)
    pending: list[Future] = []
    bus_pending: list[Future] = []
    stem_pending: list[Future] = []
    try:
        for start in range(first, n_total, B):
            n = min(B, n_total - start)
            list(pool.map(lambda p, s=start, k=n: p.prepare(s, k, lane_buf), procs))
            view = lane_buf[:, :n]
            list(pool.map(lambda g, v=view: bank.process_group(g, v), range(len(bank.groups))))
            results = list(pool.map(lambda p, v=view: p.finish(v[p.lanes]), procs))
            # the buses of this block start once the previous block's are done; the meters, the
            # mix sum, the master's pre-chain and writing follow on the I/O thread in block
            # order, all overlapping the next block's track processing (one block in flight
            # keeps memory bounded)
            for f in bus_pending:
                f.result()
            jobs = submit_buses(results, n)
            bus_pending = [*jobs[0], *jobs[1].values()]
            for f in pending:
                f.result()
            pending = [io_pool.submit(combine, results, jobs, n)]
            if progress is not None:
                progress((start + n) / sr, n_total / sr, "mix")
        for f in pending:
            f.result()
        for f in stem_pending:
            f.result()
        if pre_writer is not None:
            pre_writer.close()
        for key, w in writers.items():
            p = w.close()
            if key in names:
                result.stem_paths[names[key]] = p
            elif key.startswith("aux:"):
                result.stem_paths[p.stem] = p
    except BaseException:
        # let the threads still writing finish before their files are closed and removed
        concurrent.futures.wait([*pending, *bus_pending, *stem_pending])
        for w in [*writers.values(), pre_writer]:
            if w is not None:
                w.abort()
        raise
    finally:
        pool.shutdown()
        io_pool.shutdown()
        stem_pool.shutdown()
        for src in srcs.values():
            if isinstance(src, FileSource):
                src.close()

    result.mix_path = mix_path
    result.mix_lufs = mix_meter.integrated_lufs
    result.mix_short_term_lufs = mix_meter.short_term_lufs().tolist()
    result.track_lufs = {tid: m_.integrated_lufs for tid, m_ in track_meters.items()}
    result.mix_sample_peak_dbfs = gain_to_db(mix_peak)
    result.stage_seconds["mix"] = time.perf_counter() - t0
    if opts.write_master:
        t1 = time.perf_counter()
        master_input = pre_writer.path if pre_writer is not None else mix_path
        try:
            _master(session, master_input, pre_meter.integrated_lufs, out / "master.wav",
                    result, opts, progress)  # fmt: skip
        finally:
            if pre_writer is not None:
                pre_writer.path.unlink(missing_ok=True)
        result.stage_seconds["master"] = time.perf_counter() - t1
    if not opts.write_mix:
        mix_path.unlink(missing_ok=True)
        result.mix_path = None
    result.render_seconds = time.perf_counter() - t0
    return result


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def _master_pass(
    session: m.Session,
    input_path: Path,
    master_path: Path,
    gain_db: float,
    opts: RenderOptions,
) -> tuple[float, float, list[float]]:
    """One pass of gain and limiter over the master input (the mix after the master's filters,
    EQ and glue compressor), writing ``master_path``. Returns (LUFS, limiter max GR dB,
    short-term loudness every second).
    """
    import soundfile as sf

    sr = session.sample_rate
    lim_cfg = session.master.limiter
    lim = (
        TruePeakLimiter(
            sample_rate=sr,
            channels=2,
            ceiling_dbtp=lim_cfg.ceiling_dbtp,
            lookahead_ms=lim_cfg.lookahead_ms,
            release_ms=lim_cfg.release_ms,
        )
        if lim_cfg.enabled
        else None
    )
    gain = db_to_gain(gain_db)
    meter = LoudnessMeter(sr, 2)
    writer = AtomicAudioWriter(master_path, sample_rate=sr, channels=2, subtype=opts.master_subtype)

    def emit(y: np.ndarray) -> None:
        meter.add(y)
        writer.write(y)

    # metering and writing run on their own thread, in block order, while the limiter works
    # on the next block (one block in flight)
    pending: list[Future] = []

    def hand_over(y: np.ndarray) -> None:
        for f in pending:
            f.result()
        pending[:] = [out_pool.submit(emit, y)]

    out_pool = ThreadPoolExecutor(max_workers=1)
    try:
        with sf.SoundFile(str(input_path)) as f:
            for block in f.blocks(blocksize=opts.block_size, dtype="float32", always_2d=True):
                y = np.ascontiguousarray(block.T, dtype=np.float64)
                if gain != 1.0:
                    y *= gain
                if lim is not None:
                    y = lim.process(y)
                if y.shape[1]:
                    hand_over(y)
        if lim is not None:
            hand_over(lim.flush())
        for f in pending:
            f.result()
        writer.close()
    except BaseException:
        concurrent.futures.wait(pending)
        writer.abort()
        raise
    finally:
        out_pool.shutdown()
    gr = lim.max_gain_reduction_db if lim is not None else 0.0
    return meter.integrated_lufs, gr, meter.short_term_lufs().tolist()


#: The limiter-loss estimate runs on chunks of this length (s), one every SAMPLE_EVERY_S.
SAMPLE_CHUNK_S = 6.0
SAMPLE_EVERY_S = 12.0


def _limiter_loss_estimate(
    session: m.Session, input_path: Path, gain_db: float, opts: RenderOptions
) -> float:
    """How much loudness (LU) the limiter will take away at ``gain_db``, estimated on half
    of the song (6 s chunks every 12 s), so the first full master pass usually lands within
    tolerance (a quarter of the song missed it often enough to cost a second full pass).
    Returns 0 for songs too short to sample (the full passes then converge)."""
    import soundfile as sf

    sr = session.sample_rate
    lim_cfg = session.master.limiter
    chunk = round(SAMPLE_CHUNK_S * sr)
    every = round(SAMPLE_EVERY_S * sr)
    gain = db_to_gain(gain_db)
    chunks = []
    with sf.SoundFile(str(input_path)) as f:
        if f.frames < 2 * every:
            return 0.0
        for start in range(0, f.frames - chunk, every):
            f.seek(start)
            chunks.append(
                np.ascontiguousarray(f.read(chunk, dtype="float64", always_2d=True).T) * gain
            )

    def limited(x: np.ndarray) -> np.ndarray:
        return limit(
            x,
            sample_rate=sr,
            ceiling_dbtp=lim_cfg.ceiling_dbtp,
            lookahead_ms=lim_cfg.lookahead_ms,
            release_ms=lim_cfg.release_ms,
        )

    # the chunks are limited independently, so on all cores (the limiter frees the GIL); the
    # meters then take them in song order, as one pass would
    workers = max(1, min(len(chunks), opts.workers or _cpu_count()))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outs = list(pool.map(limited, chunks))
    before, after = LoudnessMeter(sr, 2), LoudnessMeter(sr, 2)
    for x, y in zip(chunks, outs, strict=True):
        before.add(x)
        after.add(y)
    loss = before.integrated_lufs - after.integrated_lufs
    return loss if math.isfinite(loss) else 0.0


def file_true_peak_db(path: Path, block_size: int = 65_536) -> float:
    """True peak (dBTP) of an audio file, read block by block."""
    import soundfile as sf

    peak = 0.0
    context = np.zeros((2, 0))
    with sf.SoundFile(str(path)) as f:
        for block in f.blocks(blocksize=block_size, dtype="float64", always_2d=True):
            y = block.T
            # the previous block's last samples give the interpolator its left context
            peak = max(peak, true_peak(np.concatenate([context, y], axis=1)))
            context = y[:, -32:]
    return gain_to_db(peak)


def _master(
    session: m.Session,
    input_path: Path,
    pre_lufs: float,
    master_path: Path,
    result: RenderResult,
    opts: RenderOptions,
    progress: Progress | None,
) -> None:
    """Gain and limiter passes over the master input until the loudness target is met.

    ``pre_lufs`` is the master input's loudness, measured during the mix pass."""
    master = session.master
    target = master.target_lufs
    gain_db = master.gain_db
    if target is not None:
        if not math.isfinite(pre_lufs):
            result.warnings.append("the mix is silent: no loudness target can be reached")
            gain_db = 0.0
        else:
            gain_db = target - pre_lufs
            if master.limiter.enabled:
                gain_db += _limiter_loss_estimate(session, input_path, gain_db, opts)
            gain_db = min(gain_db, MAX_MASTER_GAIN_DB)
    history: list[tuple[float, float]] = []
    while True:
        lufs, gr, result.master_short_term_lufs = _master_pass(
            session, input_path, master_path, gain_db, opts
        )
        result.master_passes += 1
        if progress is not None:
            progress(result.duration_s, result.duration_s, f"master pass {result.master_passes}")
        history.append((gain_db, lufs))
        log.debug("master pass %d: gain %.3f dB -> %.3f LUFS", len(history), gain_db, lufs)
        if target is None or not math.isfinite(lufs):
            break
        error = target - lufs
        if abs(error) <= LOUDNESS_TOLERANCE_LU or len(history) >= MAX_MASTER_PASSES:
            break
        slope = 1.0
        if len(history) >= 2:
            (g0, l0), (g1, l1) = history[-2], history[-1]
            slope = (l1 - l0) / (g1 - g0) if g1 != g0 else 1.0
            if slope < 0.05:
                break  # the limiter is saturated: more gain no longer makes it louder
            slope = min(slope, 1.0)
        new_gain = min(gain_db + error / slope, MAX_MASTER_GAIN_DB)
        if new_gain == gain_db:
            break
        gain_db = new_gain
    if (
        target is not None
        and math.isfinite(lufs)
        and abs(target - lufs) > 2 * LOUDNESS_TOLERANCE_LU
    ):
        result.warnings.append(
            f"loudness target {target:g} LUFS not reached: the master measures {lufs:.1f} LUFS "
            f"(the limiter at {master.limiter.ceiling_dbtp:g} dBTP already removes up to "
            f"{gr:.1f} dB)"
        )
    result.master_path = master_path
    result.master_gain_db = gain_db
    result.master_lufs = lufs
    result.master_true_peak_dbtp = file_true_peak_db(master_path, opts.block_size)
    result.limiter_max_reduction_db = gr
