"""The public API: the few calls the CLI (and later the web app) are thin shells over.

``mix_folder`` reads as the job's stages: load -> analyse -> decide -> render -> report.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixwise import __version__
from mixwise.analysis.editing import (
    Alignment,
    MonoReport,
    SilenceReport,
    align,
    common_excerpt,
    energy_envelope,
    find_silences,
    mono_compatibility,
)
from mixwise.analysis.meters import Meters, measure
from mixwise.analysis.spectrum import BandFrames, band_frames
from mixwise.assist.automix import TASKS as AUTOMIX_TASKS
from mixwise.assist.automix import AutomixResult, apply_through, automix
from mixwise.assist.control import Policy
from mixwise.errors import MixwiseError, NothingToMixError
from mixwise.io.audio import (
    FileProblem,
    FileSource,
    LoadResult,
    Multitrack,
    Stem,
    choose_session_rate,
    load_stems,
    unique_stem_names,
)
from mixwise.io.audio import write_text_atomic as _write_text
from mixwise.render.engine import RenderOptions, RenderResult, render
from mixwise.roles import colour_of
from mixwise.session.edit import Suggestion, apply_proposal, now_iso, propose
from mixwise.session.io import load_session, resolve_source, save_session
from mixwise.session.model import (
    Change,
    HistoryEntry,
    Intent,
    Limiter,
    Master,
    Session,
    SourceFile,
    Track,
)

log = logging.getLogger(__name__)

Progress = Callable[[float, float, str], None]

#: Stems whose decoded audio would take more than this stay on disk and are streamed while
#: rendering (bytes); smaller sessions are held in memory. ``None``: decided by
#: :func:`in_memory_budget_bytes` from the memory this machine has available now.
IN_MEMORY_BUDGET_BYTES: int | None = None
#: The adaptive budget: this share of the available memory, within these bounds (bytes).
IN_MEMORY_SHARE = 0.25
IN_MEMORY_BOUNDS_BYTES = (768 * 2**20, 4 * 2**30)

#: Streaming-service master presets: (integrated loudness LUFS, true-peak ceiling dBTP).
MASTER_PRESETS: dict[str, tuple[float, float]] = {
    "streaming": (-14.0, -1.0),
    "spotify": (-14.0, -1.0),
    "youtube": (-14.0, -1.0),
    "tidal": (-14.0, -1.0),
    "apple": (-16.0, -1.0),
    "amazon": (-14.0, -2.0),
    "deezer": (-15.0, -1.0),
    "broadcast": (-23.0, -1.0),
    "club": (-9.0, -0.5),
}


@dataclass
class MixOutcome:
    """What a mix or render produced: the session, where the files are, and what went wrong."""

    session: Session
    out_dir: Path
    render: RenderResult
    problems: list[FileProblem] = field(default_factory=list)
    meters: dict[str, Meters] = field(default_factory=dict)
    report_path: Path | None = None
    session_path: Path | None = None
    automix: AutomixResult | None = None
    html_report_path: Path | None = None
    #: distance to the reference before and after matching (``mix --reference``)
    reference: dict[str, object] | None = None


# --------------------------------------------------------------------------------------------
# building a session from stems


def slugify(name: str) -> str:
    """An id for a track from its name: ASCII letters, digits, ``_ . -``; never empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", ascii_name).strip("-.").lower()
    return slug[:60] or "track"


def new_session(load: LoadResult, *, name: str = "Untitled mix") -> Session:
    """A neutral session for the loaded stems: one track per stem, every processor off."""
    mt = load.multitrack
    tracks: list[Track] = []
    used: set[str] = set()
    for stem in mt.stems:
        base = slugify(stem.name)
        tid, k = base, 2
        while tid in used:
            tid, k = f"{base}-{k}", k + 1
        used.add(tid)
        info = stem.info
        tracks.append(
            Track(
                id=tid,
                name=stem.name,
                source=SourceFile(
                    path=info.path,
                    format=info.format,
                    subtype=info.subtype,
                    sample_rate=info.sample_rate,
                    channels=info.channels,
                    frames=info.frames,
                    size_bytes=info.size_bytes,
                ),
                colour=colour_of("other"),
            )
        )
    return Session(
        name=name,
        sample_rate=mt.sample_rate,
        length_s=mt.n_samples / mt.sample_rate,
        tracks=tracks,
        created_by=f"mixwise {__version__}",
    )


@dataclass
class StemAnalysis:
    """What the loader measures on each stem while it is decoded (the audio need not stay).

    meters : loudness, peaks, RMS ... (:class:`~mixwise.analysis.meters.Meters`)
    features : the role labeller's audio features (:func:`mixwise.analysis.roles.audio_features`)
    silence : where it plays and where not (:func:`~mixwise.analysis.editing.find_silences`)
    clicks : clicks found (:func:`mixwise.analysis.clicks.find_clicks`)
    mono : fold-down check of a stereo stem (:func:`~mixwise.analysis.editing.mono_compatibility`)
    envelope : power every 0.25 s (for finding where two stems play together)
    bands : third-octave band power every 100 ms (:func:`mixwise.analysis.spectrum.band_frames`)
    """

    meters: Meters
    features: dict[str, float]
    silence: SilenceReport
    clicks: list
    mono: MonoReport
    envelope: np.ndarray
    bands: BandFrames


ENVELOPE_FRAME_S = 0.25


def analyse_stem(audio: np.ndarray, sample_rate: int) -> StemAnalysis:
    """Everything measured per stem at load time (the loader's ``analyse`` hook)."""
    from mixwise.analysis.clicks import find_clicks
    from mixwise.analysis.levels import frame_stats
    from mixwise.analysis.meters import kweighted_step_power
    from mixwise.analysis.roles import audio_features
    from mixwise.analysis.spectrum import FRAME_S as BAND_FRAME_S

    stats = frame_stats(audio, sample_rate)
    # the K-weighted power of each channel summed over 100 ms (the band frames' hop) serves
    # the band frames and, added across channels, the loudness meters
    steps = kweighted_step_power(audio, sample_rate, round(BAND_FRAME_S * sample_rate))
    return StemAnalysis(
        meters=measure(audio, sample_rate, with_true_peak=False, stats=stats, step_power=steps),
        features=audio_features(audio, sample_rate),
        silence=find_silences(audio, sample_rate, stats=stats),
        clicks=find_clicks(audio, sample_rate),
        mono=mono_compatibility(audio, sample_rate),
        envelope=energy_envelope(audio, sample_rate, frame_s=ENVELOPE_FRAME_S, stats=stats),
        bands=band_frames(audio, sample_rate, channel_step_power=steps),
    )


@dataclass
class Prepared:
    """A folder of stems made ready to mix: the labelled, organised session and what was
    measured. ``track_of`` maps each loaded stem's name to its track id."""

    load: LoadResult
    session: Session
    analyses: dict[str, StemAnalysis]
    track_of: dict[str, str]
    audio_in_memory: bool
    alignments: dict[tuple[str, str], Alignment] = field(default_factory=dict)

    @property
    def meters(self) -> dict[str, Meters]:
        return {tid: a.meters for tid, a in self.analyses.items()}

    def sources(self) -> dict[str, np.ndarray | FileSource]:
        """Track id -> the audio to render (in memory, or streamed from the file)."""
        rate = self.session.sample_rate
        return {
            self.track_of[st.name]: (
                st.audio if self.audio_in_memory else FileSource(st.info.path, sample_rate=rate)
            )
            for st in self.load.multitrack.stems
        }


def prepare_folder(
    stems_dir: str | os.PathLike[str],
    *,
    sample_rate: int | None = None,
    roles: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Prepared:
    """Load, measure and label every stem; build the organised session.

    The session has one track per usable stem with its role, confidence, colour, clean display
    name, console order, group buses by family and reverb / delay returns (sends off), every
    step recorded in the history. Audio stays in memory only when it fits
    :func:`in_memory_budget_bytes` (else it is streamed from the files). ``roles`` maps input
    file names (or base names) to roles the user has chosen; those are locked and never
    relabelled.
    """
    from mixwise.analysis.roles import label_from_features
    from mixwise.assist.organise import apply_roles, setup_buses, tidy_names_and_order

    keep = estimated_decoded_bytes(stems_dir, sample_rate) <= in_memory_budget_bytes()
    load = load_stems(
        stems_dir,
        sample_rate=sample_rate,
        keep_audio=keep,
        analyse=analyse_stem,
        progress=_load_progress(progress),
    )
    session = new_session(load, name=Path(stems_dir).resolve().name)
    stems = load.multitrack.stems
    track_of = {st.name: t.id for st, t in zip(stems, session.tracks, strict=True)}
    analyses = {track_of[st.name]: st.analysis for st in stems}
    if roles:
        lock_roles(session, roles)
    guesses = label_from_features(
        [st.name for st in stems], [analyses[track_of[st.name]].features for st in stems]
    )
    apply_roles(session, {track_of[st.name]: g for st, g in zip(stems, guesses, strict=True)})
    tidy_names_and_order(session)
    setup_buses(session)
    prep = Prepared(load, session, analyses, track_of, keep)
    prep.alignments = check_phase(prep)
    for suggestion in editing_suggestions(prep):
        propose(session, suggestion)
    return prep


#: Seconds of common audio compared for each pair in the phase check.
PHASE_EXCERPT_S = 5.0


def _excerpt(prep: Prepared, track_id: str, start_s: float, end_s: float) -> np.ndarray:
    """``(channels, n)`` audio of one track between two times (s), from memory or its file
    (read from that point on and resampled to the session rate)."""
    rate = prep.session.sample_rate
    a, b = round(start_s * rate), round(end_s * rate)
    stem = next(st for st in prep.load.multitrack.stems if prep.track_of[st.name] == track_id)
    if prep.audio_in_memory:
        return stem.audio[:, a:b]
    import soundfile as sf

    from mixwise.io.audio import resample

    with sf.SoundFile(stem.info.path) as f:
        own = f.samplerate
        f.seek(min(round(start_s * own), f.frames))
        x = f.read(round((end_s - start_s) * own), dtype="float32", always_2d=True)
    x = np.nan_to_num(np.ascontiguousarray(x.T))
    return resample(x, own, rate)[:, : b - a]


def check_phase(prep: Prepared) -> dict[tuple[str, str], Alignment]:
    """Alignment of every candidate pair (see :func:`~mixwise.assist.editing.candidate_pairs`),
    measured on the 5 s where both play the most."""
    from mixwise.assist.editing import candidate_pairs

    out: dict[tuple[str, str], Alignment] = {}
    rate = prep.session.sample_rate
    pairs = candidate_pairs(prep.session)
    cache: dict[tuple[str, float, float], np.ndarray] = {}

    def one(pair: tuple[str, str]) -> tuple[tuple[str, str], Alignment]:
        a, b = pair
        ea, eb = prep.analyses[a].envelope, prep.analyses[b].envelope
        t0, t1 = common_excerpt(ea, eb, frame_s=ENVELOPE_FRAME_S, length_s=PHASE_EXCERPT_S)
        xa = cache.get((a, t0, t1))
        if xa is None:
            xa = cache[(a, t0, t1)] = _excerpt(prep, a, t0, t1)
        xb = _excerpt(prep, b, t0, t1)
        return pair, align(xa, xb, rate)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for pair, al in pool.map(one, pairs):
            out[pair] = al
    return out


def editing_suggestions(prep: Prepared) -> list[Suggestion]:
    """The editing checks as suggestions: silence trims, click repairs, phase fixes."""
    from mixwise.assist.editing import (
        suggest_click_repairs,
        suggest_phase_fixes,
        suggest_region_trims,
    )

    out: list[Suggestion] = []
    for t in prep.session.tracks:
        a = prep.analyses[t.id]
        out += suggest_click_repairs(t, a.clicks)
        out += suggest_region_trims(t, a.silence)
    loud = {tid: a.meters.integrated_lufs for tid, a in prep.analyses.items()}
    out += suggest_phase_fixes(prep.session, prep.alignments, loud)
    return out


def measure_stem(audio: np.ndarray, sample_rate: int) -> Meters:
    """Meters of one decoded stem (the loader's ``analyse`` hook)."""
    return measure(audio, sample_rate)


def stem_meters(load: LoadResult) -> dict[str, Meters]:
    """Stem name -> :class:`Meters`, from a load made with ``analyse=measure_stem``."""
    return {s.name: s.analysis for s in load.multitrack.stems if isinstance(s.analysis, Meters)}


def session_stem_names(session: Session) -> dict[str, str]:
    """Track id -> base name of its file in ``stems/``: the source file's base name (with its
    extension too when two sources share a base name), whatever the track's display name."""
    paths = [Path(t.source.path) for t in session.tracks]
    return {t.id: n for t, n in zip(session.tracks, unique_stem_names(paths), strict=True)}


def analyze_folder(
    stems_dir: str | os.PathLike[str], *, progress: Progress | None = None
) -> tuple[LoadResult, dict[str, Meters]]:
    """Decode and measure every stem of a folder in bounded memory (no audio is kept)."""
    load = load_stems(
        stems_dir, keep_audio=False, analyse=measure_stem, progress=_load_progress(progress)
    )
    return load, stem_meters(load)


def _load_progress(progress: Progress | None):
    return (lambda s: progress(s, 0.0, "load + analyse")) if progress else None


def available_memory_bytes() -> int | None:
    """Memory the system can give a new task now without swapping (bytes; ``None`` when unknown):
    ``MemAvailable`` of ``/proc/meminfo``, else the free physical pages."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def in_memory_budget_bytes() -> int:
    """How many bytes of decoded stems are held in memory rather than streamed from disk while
    rendering: :data:`IN_MEMORY_BUDGET_BYTES` when set, else :data:`IN_MEMORY_SHARE` of the
    memory available now, kept within :data:`IN_MEMORY_BOUNDS_BYTES` (16 stereo stems x 4 min
    at 44.1 kHz take 1.35 GB). Held in memory, the stems are decoded once instead of twice."""
    if IN_MEMORY_BUDGET_BYTES is not None:
        return int(IN_MEMORY_BUDGET_BYTES)
    lo, hi = IN_MEMORY_BOUNDS_BYTES
    avail = available_memory_bytes()
    if avail is None:
        return lo
    return int(min(hi, max(lo, IN_MEMORY_SHARE * avail)))


def estimated_decoded_bytes(stems_dir: str | os.PathLike[str], sample_rate: int | None) -> int:
    """How much memory (bytes) the stems of a folder take decoded as float32 at the session
    rate (estimated from the file headers; unreadable files count as nothing)."""
    import soundfile as sf

    from mixwise.io.audio import list_audio_files

    files, _ = list_audio_files(stems_dir)
    infos = []
    for f in files:
        try:
            infos.append(sf.info(str(f)))
        except Exception:
            continue
    if not infos:
        return 0
    rate = sample_rate or choose_session_rate(i.samplerate for i in infos)
    return int(sum(i.frames * rate / i.samplerate * i.channels * 4 for i in infos))


def _check_out_dir(out_dir: Path, inputs: list[str]) -> None:
    out = out_dir.resolve()
    for p in inputs:
        if Path(p).resolve().parent == out:
            raise MixwiseError(
                f"{out_dir}: this folder holds the input stems; choose another output folder "
                "(mixwise never writes next to or over its inputs)"
            )


def default_out_dir(stems_dir: str | os.PathLike[str]) -> Path:
    """``<stems folder>-mixwise``, beside the stems folder (never inside it)."""
    p = Path(stems_dir).resolve()
    return p.parent / f"{p.name}-mixwise"


# --------------------------------------------------------------------------------------------
# the jobs


def mix_folder(
    stems_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    target_lufs: float | None = None,
    ceiling_dbtp: float | None = None,
    sample_rate: int | None = None,
    options: RenderOptions | None = None,
    progress: Progress | None = None,
    tasks: tuple[str, ...] | None = None,
    level: str | None = None,
    amounts: Mapping[str, float] | None = None,
    locks: list[str] | None = None,
    reference: str | os.PathLike[str] | None = None,
    profile: str | None = None,
) -> MixOutcome:
    """Mix a folder of stems at a level of automation: prepare (load, measure, label,
    organise), decide (the editing fixes and :func:`mixwise.assist.automix.automix`), render,
    master, report.

    Writes ``OUT/mix.wav``, ``OUT/master.wav``, ``OUT/stems/<stem>.wav``, ``OUT/session.json``
    and ``OUT/report.json`` / ``report.html``.

    The user's intent (:class:`~mixwise.session.model.Intent`) persists in ``OUT/session.json``:
    arguments left ``None`` keep what an earlier run there chose. ``level``: ``auto`` and
    ``conditional`` apply every allowed move (``conditional`` is ``auto`` under constraints:
    ``locks``, a target, a reference); ``partial`` runs only ``tasks`` (``prep`` = the editing
    fixes, then :data:`AUTOMIX_TASKS`); ``assist`` applies nothing and records every move as a
    numbered pending proposal; ``manual`` renders an existing ``OUT/session.json`` exactly as
    written (or, on a first run, the plain unity mix). ``amounts`` are percentages per task and
    ``"all"``. Locked parameters keep the values they have in the earlier ``OUT/session.json``.
    ``target_lufs`` (LUFS) and ``ceiling_dbtp`` (dBTP) set the master (default -14 / -1).
    ``reference`` (an audio file) steers the mix and master toward it; ``profile`` names a
    genre profile (:mod:`mixwise.assist.profiles`, ``"none"`` clears it).
    Raises :class:`NothingToMixError` when no stem is usable.
    """
    out = Path(out_dir) if out_dir is not None else default_out_dir(stems_dir)
    previous = _previous_session(out / "session.json")
    intent = _intent(
        previous.intent if previous is not None else Intent(),
        level=level,
        tasks=tasks,
        amounts=amounts,
        locks=locks,
        target_lufs=target_lufs,
        ceiling_dbtp=ceiling_dbtp,
        reference=reference,
        profile=profile,
    )
    if (
        intent.level == "manual"
        and previous is not None
        and _from_folder(previous, out / "session.json", stems_dir)
    ):
        if previous.intent != intent:  # remember the choice; the mix itself is as written
            previous.intent = intent
            save_session(previous, out / "session.json")
        return render_session_file(out / "session.json", out, options=options, progress=progress)
    prep = prepare_folder(
        stems_dir,
        sample_rate=sample_rate,
        roles=_locked_role_map(previous, stems_dir),
        progress=progress,
    )
    _check_out_dir(out, [st.info.path for st in prep.load.multitrack.stems])
    session = prep.session
    session.intent = intent
    tgt = intent.target_lufs if intent.target_lufs is not None else -14.0
    ceil = intent.ceiling_dbtp if intent.ceiling_dbtp is not None else -1.0
    session.master = Master(target_lufs=tgt, limiter=Limiter(ceiling_dbtp=ceil))
    policy = Policy(intent)
    if previous is not None and _same_song(previous, session, out / "session.json"):
        _carry_locked(previous, session, policy)
        session.markers = [m.model_copy() for m in previous.markers]  # comments persist
    decided = None
    reference_profile = None
    chosen = tuple(intent.tasks) if intent.tasks is not None else ALL_TASKS
    steer = intent.reference is not None and "master" in chosen and intent.level != "manual"
    if steer:
        from mixwise.analysis.compare import load_profile

        reference_profile = load_profile(intent.reference, sample_rate=session.sample_rate)
    if intent.level != "manual":
        work = session.model_copy(deep=True) if intent.level == "assist" else session
        decided = decide(prep, work, tasks=chosen, policy=policy)
        if intent.level == "assist":
            if reference_profile is not None and decided.spectrum_after_db is not None:
                from mixwise.assist.reference import reference_master

                apply_through(
                    policy,
                    work,
                    reference_master(
                        work, decided.spectrum_after_db, decided.centres_hz, reference_profile
                    ),
                    decided,
                )
            _propose_all(session, decided.applied)
    outcome = _render_and_report(
        session, prep.load, out, prep.meters, prep.sources(), options, progress, decided
    )
    if reference_profile is not None and intent.level != "assist" and decided is not None:
        outcome = _match_reference(outcome, prep, reference_profile, policy, options, progress)
    return outcome


#: Closed-loop rounds of the reference tone match (render, measure, refit the master EQ).
REFERENCE_ROUNDS = 2


def _match_reference(
    outcome: MixOutcome,
    prep: Prepared,
    reference: object,
    policy: Policy,
    options: RenderOptions | None,
    progress: Progress | None,
) -> MixOutcome:
    """Steer the rendered mix toward the reference: master EQ and compression from the
    measured mix, stereo width of the stereo tracks, then :data:`REFERENCE_ROUNDS` rounds of
    refitting the master EQ on the rendered master. The report gets the distance to the
    reference before and after."""
    from mixwise.analysis.compare import compare, load_profile
    from mixwise.assist.reference import (
        reference_master,
        reference_width,
        refine_reference_master,
    )

    session, decided = outcome.session, outcome.automix
    assert decided is not None
    mix_p = load_profile(outcome.render.mix_path)  # type: ignore[arg-type]
    before = compare(load_profile(outcome.render.master_path), reference)  # type: ignore[arg-type]
    moves = reference_master(session, mix_p.bands_db, mix_p.centres_hz, reference, mix=mix_p)
    audio = {tid: a for tid, a in prep.sources().items() if isinstance(a, np.ndarray)}
    if audio:
        moves += reference_width(session, audio, reference, mix=mix_p)
    apply_through(policy, session, moves, decided)
    sources = prep.sources()
    outcome = _render_and_report(
        session, prep.load, outcome.out_dir, prep.meters, sources, options, progress, decided
    )
    for _ in range(REFERENCE_ROUNDS):
        master_p = load_profile(outcome.render.master_path)  # type: ignore[arg-type]
        moves = refine_reference_master(session, master_p, reference)
        if not moves:
            break
        apply_through(policy, session, moves, decided)
        outcome = _render_and_report(
            session, prep.load, outcome.out_dir, prep.meters, sources, options, progress, decided
        )
    after = compare(load_profile(outcome.render.master_path), reference)  # type: ignore[arg-type]
    outcome.reference = {
        "path": str(session.intent.reference),
        "tonal_distance_before_db": round(before.tonal_distance_db, 2),
        "tonal_distance_after_db": round(after.tonal_distance_db, 2),
        "before": before.sentences(),
        "after": after.sentences(),
    }
    outcome.report_path = write_report(outcome)
    return outcome


def decide(
    prep: Prepared,
    session: Session | None = None,
    *,
    tasks: tuple[str, ...] | None = None,
    policy: Policy | None = None,
) -> AutomixResult:
    """The decisions of a mix, applied to ``session`` (default: ``prep.session``) in place:
    the editing fixes (task ``prep``), then the automatic mix's ``tasks`` (default: all),
    through ``policy`` (locks and amounts). The master target comes from
    ``session.master`` (set it first). Nothing is rendered."""
    from mixwise.assist.control import Policy

    session = prep.session if session is None else session
    policy = policy or Policy(session.intent)
    chosen = ALL_TASKS if tasks is None else tasks
    if "prep" in chosen:
        _apply_prep_fixes(session, policy)
    target = session.master.target_lufs if session.master.target_lufs is not None else -14.0
    return automix(
        session,
        {tid: a.bands for tid, a in prep.analyses.items()},
        prep.meters,
        {tid: a.features for tid, a in prep.analyses.items()},
        {tid: a.features.get("active_share", 1.0) for tid, a in prep.analyses.items()},
        tasks=tuple(t for t in chosen if t != "prep"),
        target_lufs=target,
        ceiling_dbtp=session.master.limiter.ceiling_dbtp,
        policy=policy,
    )


#: Every task a level may run: the editing fixes (``prep``), then the automatic mix's.
ALL_TASKS: tuple[str, ...] = ("prep", *AUTOMIX_TASKS)
LEVELS: tuple[str, ...] = ("auto", "conditional", "partial", "assist", "manual")


def _intent(base: Intent, **given: object) -> Intent:
    """``base`` with every argument that was given replacing its field, checked."""
    data = base.model_dump()
    if given.get("level") is not None:
        if given["level"] not in LEVELS:
            raise MixwiseError(f"unknown level {given['level']!r} (levels: {', '.join(LEVELS)})")
        data["level"] = given["level"]
    if given.get("tasks") is not None:
        unknown = [t for t in given["tasks"] if t not in ALL_TASKS]  # type: ignore[union-attr]
        if unknown:
            raise MixwiseError(f"unknown task {unknown[0]!r} (tasks: {', '.join(ALL_TASKS)})")
        data["tasks"] = list(given["tasks"])  # type: ignore[call-overload]
        if given.get("level") is None and data["level"] in ("auto", "conditional"):
            data["level"] = "partial"
    elif given.get("level") in ("auto", "conditional", "assist"):
        data["tasks"] = None
    if given.get("amounts") is not None:
        amounts = dict(given["amounts"])  # type: ignore[call-overload]
        for k, v in amounts.items():
            if k != "all" and k not in ALL_TASKS:
                raise MixwiseError(f"amount for unknown task {k!r} (tasks: {', '.join(ALL_TASKS)})")
            if not 0.0 <= float(v) <= 100.0:
                raise MixwiseError(f"amount {v} % for {k!r} is outside 0-100 %")
        data["amount_pct"] = {k: float(v) for k, v in amounts.items()}
    if given.get("locks") is not None:
        data["locks"] = list(given["locks"])  # type: ignore[call-overload]
    for key in ("target_lufs", "ceiling_dbtp"):
        if given.get(key) is not None:
            data[key] = float(given[key])  # type: ignore[arg-type]
    if given.get("profile") is not None:
        from mixwise.assist.profiles import PROFILES

        name = str(given["profile"]).strip().lower()
        if name in ("none", ""):
            data["profile"] = None
        elif name not in PROFILES:
            raise MixwiseError(f"unknown profile {name!r} (profiles: {', '.join(PROFILES)})")
        else:
            data["profile"] = name
    if given.get("reference") is not None:
        ref = str(given["reference"]).strip()
        if ref.lower() in ("", "none"):
            data["reference"] = None
        else:
            data["reference"] = str(Path(ref).resolve())
    if data["level"] == "partial" and not data.get("tasks"):
        raise MixwiseError("level partial needs the tasks to run (e.g. --tasks prep,gain,balance)")
    try:
        return Intent.model_validate(data)
    except Exception as err:  # pydantic's message, reduced to one line
        raise MixwiseError(f"intent: {str(err).splitlines()[-1].strip()}") from None


def _previous_session(path: Path) -> Session | None:
    """The session an earlier run left in the output folder, or ``None``."""
    if not path.exists():
        return None
    try:
        return load_session(path)
    except MixwiseError as err:
        log.warning("%s", err)
        return None


def _from_folder(previous: Session, previous_path: Path, stems_dir: str | os.PathLike[str]) -> bool:
    """Whether an earlier session's sources lie in ``stems_dir`` (it mixed these stems)."""
    folder = Path(stems_dir).resolve()
    return any(
        resolve_source(previous_path, t.source.path).resolve().parent == folder
        for t in previous.tracks
    )


def _same_song(previous: Session, session: Session, previous_path: Path) -> bool:
    """Whether an earlier session in the output folder mixed the same stems (same folder and
    at least one same file), so its comments and locked values belong to this song."""

    def files(s: Session, path: Path | None) -> set[Path]:
        return {resolve_source(path, t.source.path).resolve() for t in s.tracks}

    return bool(files(previous, previous_path) & files(session, None))


def _locked_role_map(
    previous: Session | None, stems_dir: str | os.PathLike[str]
) -> dict[str, str] | None:
    """Roles the user locked in an earlier session, for the stems of this folder that had them."""
    if previous is None:
        return None
    folder = Path(stems_dir)
    roles = {
        Path(t.source.path).name: t.role
        for t in previous.tracks
        if t.role_locked and (folder / Path(t.source.path).name).is_file()
    }
    return roles or None


def _carry_locked(previous: Session, session: Session, policy: Policy) -> None:
    """Give every locked parameter of ``session`` the value the user left in ``previous``."""
    from mixwise.session.edit import get_parameter, set_parameter

    old_tracks = {t.id: t for t in previous.tracks}
    for t in session.tracks:
        if t.id not in old_tracks:
            continue
        for name in type(t.chain).model_fields:
            path = f"tracks[{t.id}].chain.{name}"
            if policy.holds_parameter(session, path):
                try:
                    set_parameter(session, path, get_parameter(previous, path))
                except MixwiseError as err:
                    log.warning("lock on %s: %s", path, err)
    for name in type(session.master).model_fields:
        path = f"master.{name}"
        if policy.holds_parameter(session, path):
            set_parameter(session, path, get_parameter(previous, path))


def _apply_prep_fixes(session: Session, policy: Policy) -> None:
    """Apply the pending editing fixes (silence trims, click repairs, phase) the policy allows."""
    from mixwise.session.edit import apply_suggestion

    for p in list(session.proposals):
        if p.status != "pending":
            continue
        s = Suggestion(**p.model_dump(include=set(Change.model_fields)), confidence=p.confidence)
        s = Suggestion(**{**s.__dict__, "task": "prep"}) if s.task not in ALL_TASKS else s
        if policy.lock_for(session, s) is not None:
            continue
        scaled = policy.scale(session, s)
        if scaled is None:
            continue
        if scaled is s:
            apply_proposal(session, p.number)
        else:
            apply_suggestion(session, scaled)
            p.status = "applied"


def _propose_all(session: Session, applied: list[Suggestion]) -> None:
    """Record the moves an assist run made on a copy as pending proposals of ``session``, one
    per parameter (several moves of one parameter merge into the last, reasons joined)."""
    from dataclasses import replace

    merged: dict[str, Suggestion] = {}
    for s in applied:
        prev = merged.get(s.parameter)
        if prev is None:
            merged[s.parameter] = s
        else:
            merged[s.parameter] = replace(
                s, old=prev.old, reason=f"{prev.reason}; {s.reason}", task=prev.task
            )
    for s in merged.values():
        propose(session, s)


def lock_roles(session: Session, roles: Mapping[str, str]) -> None:
    """Give tracks the roles a user chose (keys: input file name or its base name) and lock
    them. Raises :class:`MixwiseError` for an unknown role or a name that matches no track."""
    from mixwise.roles import ROLES

    by_key: dict[str, Track] = {}
    for t in session.tracks:
        by_key[Path(t.source.path).name] = t
        by_key.setdefault(Path(t.source.path).stem, t)
    for key, role in roles.items():
        if role not in ROLES:
            raise MixwiseError(f"unknown role {role!r} for {key!r} (roles: {', '.join(ROLES)})")
        t = by_key.get(key)
        if t is None:
            raise MixwiseError(f"no stem is called {key!r}")
        old = t.role
        t.role, t.role_locked, t.role_confidence = role, True, 1.0  # type: ignore[assignment]
        t.colour = colour_of(role)
        session.history.append(
            HistoryEntry(
                time=now_iso(),
                task="prep",
                target=t.name,
                parameter=f"tracks[{t.id}].role",
                old=old,
                new=role,
                reason="set by the user",
                source="user",
            )
        )


def locked_roles(session_path: Path) -> dict[str, str]:
    """Roles locked in an existing session (file name -> role), to keep them on a new prep."""
    if not session_path.exists():
        return {}
    try:
        old = load_session(session_path)
    except MixwiseError:
        return {}
    return {Path(t.source.path).name: t.role for t in old.tracks if t.role_locked}


def prep_folder(
    stems_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    sample_rate: int | None = None,
    roles: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> tuple[Prepared, Path]:
    """Prepare a folder (see :func:`prepare_folder`) and save its session as
    ``OUT/session.json``; returns the preparation and the session's path. Roles locked in a
    session already there are kept; ``roles`` (file name -> role) adds or overrides them."""
    out = Path(out_dir) if out_dir is not None else default_out_dir(stems_dir)
    kept = locked_roles(out / "session.json")
    present = {p.name for p in Path(stems_dir).iterdir()} if Path(stems_dir).is_dir() else set()
    chosen = {**{k: v for k, v in kept.items() if k in present}, **dict(roles or {})}
    prep = prepare_folder(stems_dir, sample_rate=sample_rate, roles=chosen, progress=progress)
    _check_out_dir(out, [st.info.path for st in prep.load.multitrack.stems])
    return prep, save_session(prep.session, out / "session.json")


def prep_rows(prep: Prepared) -> list[dict[str, object]]:
    """One JSON-friendly row per input file (the ``mixwise prep --json`` interface): file,
    name, role, family, confidence, colour, group and findings; unusable files with an error."""
    from mixwise.roles import family_of

    by_id = {t.id: t for t in prep.session.tracks}
    rows: list[dict[str, object]] = []
    problems: dict[str, list[str]] = {}
    for p in prep.load.problems:
        problems.setdefault(Path(p.path).name, []).append(p.message)
    phase: dict[str, list[dict[str, object]]] = {}
    for (a, b), al in prep.alignments.items():
        if al.correlation >= 0.4:
            for me, other in ((a, b), (b, a)):
                phase.setdefault(me, []).append(
                    {
                        "with": other,
                        "correlation": round(al.correlation, 3),
                        "offset_ms": round(al.delay_ms if me == a else -al.delay_ms, 3),
                        "polarity_inverted": al.polarity_inverted,
                    }
                )
    proposals: dict[str, list[int]] = {}
    for p in prep.session.proposals:
        tid = p.parameter.split("]")[0].removeprefix("tracks[")
        proposals.setdefault(tid, []).append(p.number)
    for st in prep.load.multitrack.stems:
        t = by_id[prep.track_of[st.name]]
        file = Path(st.info.path).name
        a = prep.analyses[t.id]
        rows.append(
            {
                "file": file,
                "track_id": t.id,
                "name": t.name,
                "role": t.role,
                "family": family_of(t.role),
                "confidence": t.role_confidence,
                "colour": t.colour,
                "group": t.bus,
                "findings": {
                    "file": problems.get(file, []),
                    "silence": {
                        "silent_s": round(a.silence.silent_s, 3),
                        "gaps_s": [
                            [round(g.start_s, 3), round(g.end_s, 3)] for g in a.silence.silences
                        ],
                        "low_level_s": [
                            [round(g.start_s, 3), round(g.end_s, 3), round(g.level_db, 1)]
                            for g in a.silence.low_level
                        ],
                    },
                    "clicks": [
                        {
                            "time_s": round(c.time_s, 4),
                            "channel": c.channel,
                            "length_samples": c.length_samples,
                        }
                        for c in a.clicks
                    ],
                    "phase": phase.get(t.id, []),
                    "mono": {
                        "correlation": a.mono.correlation,
                        "loss_db": a.mono.loss_db,
                        "warnings": a.mono.warnings,
                    },
                },
                "proposals": proposals.get(t.id, []),
            }
        )
    for p in prep.load.skipped:
        rows.append({"file": Path(p.path).name, "error": p.message})
    return rows


def render_session_file(
    session_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    options: RenderOptions | None = None,
    progress: Progress | None = None,
) -> MixOutcome:
    """Render a (possibly hand-edited) session file exactly as written.

    Source files are loaded and resampled to the session rate; a missing or unusable source
    leaves its track out with a one-line problem, and the rest renders.
    """
    session = load_session(session_path)
    sources, problems, stems = _session_sources(session, session_path)
    load = LoadResult(Multitrack(session.sample_rate, stems), problems)
    out = Path(out_dir)
    _check_out_dir(out, [str(resolve_source(session_path, t.source.path)) for t in session.tracks])
    outcome = _render_and_report(session, load, out, {}, sources, options, progress)
    for src in sources.values():
        if src.repaired_samples:
            outcome.problems.append(
                FileProblem(
                    src.path,
                    f"{src.repaired_samples} damaged (NaN/inf) samples rendered as silence",
                    "warning",
                )
            )
    return outcome


def _session_sources(
    session: Session, session_path: str | os.PathLike[str]
) -> tuple[dict[str, FileSource], list[FileProblem], list[Stem]]:
    """A streaming source per track whose file can be read; one problem line per other track."""
    problems: list[FileProblem] = []
    sources: dict[str, FileSource] = {}
    stems: list[Stem] = []
    for track in session.tracks:
        path = resolve_source(session_path, track.source.path)
        try:
            sources[track.id] = FileSource(path, sample_rate=session.sample_rate)
        except MixwiseError as err:
            message = str(err).split(": ", 1)[-1]
            if not path.exists():
                message = "the source file is missing"
            problems.append(FileProblem(str(path), message, "skipped"))
            continue
        empty = np.zeros((sources[track.id].channels, 0), dtype=np.float32)
        stems.append(Stem(track.name, empty, _info_of(track, path), 0))
    if not sources:
        raise NothingToMixError(
            f"{session_path}: none of the session's source files could be loaded"
        )
    return sources, problems, stems


def _preview_window(p, length_s: float, seconds: float) -> tuple[float, float]:
    """Where to listen to a proposal: around its first click or silence edge, else mid-song."""
    ev = p.evidence or {}
    if ev.get("times_s"):
        centre = float(ev["times_s"][0])
    elif ev.get("silences_s"):
        inner = [g for g in ev["silences_s"] if g[0] > 0] or ev["silences_s"]
        centre = float(inner[0][0])
    else:
        centre = length_s / 2
    start = min(max(0.0, centre - seconds / 2), max(0.0, length_s - seconds))
    return start, min(length_s, start + seconds)


def preview_proposal(
    session_path: str | os.PathLike[str],
    number: int,
    out_dir: str | os.PathLike[str],
    *,
    seconds: float = 4.0,
) -> tuple[Path, Path, float, float]:
    """Render a few seconds of the track a proposal changes, before and after it, with the
    master chain bypassed, so it can be heard before it is applied. Nothing is changed in the
    session. Returns (before.wav, after.wav, start s, end s)."""
    import shutil
    import tempfile

    from mixwise.errors import SessionError
    from mixwise.session.model import Limiter

    session = load_session(session_path)
    match = [p for p in session.proposals if p.number == number]
    if not match:
        raise SessionError(f"{session_path}: there is no proposal {number}")
    proposal = match[0]
    track_id = None
    if proposal.parameter.startswith("tracks["):
        track_id = proposal.parameter[len("tracks[") :].split("]", 1)[0]
    start, end = _preview_window(proposal, session.length_s, seconds)
    before = session.model_copy(deep=True)
    before.master = Master(target_lufs=None, limiter=Limiter(enabled=False))
    for t in before.tracks:
        t.chain.solo = t.id == track_id if track_id else t.chain.solo
    after = before.model_copy(deep=True)
    if proposal.status == "pending":
        apply_proposal(after, number)
    out = Path(out_dir)
    paths = []
    for label, version in (("before", before), ("after", after)):
        sources, _, _ = _session_sources(version, session_path)
        with tempfile.TemporaryDirectory(dir=out if out.exists() else None) as tmp:
            res = render(
                version,
                sources,
                Path(tmp),
                options=RenderOptions(
                    write_stems=False, write_master=False, start_s=start, end_s=end
                ),
            )
            dest = out / f"preview-{number}-{label}.wav"
            out.mkdir(parents=True, exist_ok=True)
            shutil.move(str(res.mix_path), dest)
        paths.append(dest)
    return paths[0], paths[1], start, end


def _info_of(track: Track, path: Path):
    from mixwise.io.audio import SourceInfo

    src = track.source
    return SourceInfo(
        path=str(path),
        format=src.format,
        subtype=src.subtype,
        sample_rate=src.sample_rate,
        channels=src.channels,
        frames=src.frames,
        size_bytes=src.size_bytes,
    )


def _render_and_report(
    session: Session,
    load: LoadResult,
    out: Path,
    meters: dict[str, Meters],
    sources: dict[str, np.ndarray | FileSource],
    options: RenderOptions | None,
    progress: Progress | None,
    decided: AutomixResult | None = None,
) -> MixOutcome:
    stem_names = session_stem_names(session)
    result = render(
        session, sources, out, options=options, stem_names=stem_names, progress=progress
    )
    session_path = save_session(session, out / "session.json")
    outcome = MixOutcome(
        session, out, result, list(load.problems), meters, session_path=session_path
    )
    outcome.automix = decided
    outcome.report_path = write_report(outcome)
    return outcome


# --------------------------------------------------------------------------------------------
# report


def _num(x: float) -> float | None:
    return round(x, 2) if isinstance(x, float) and math.isfinite(x) else None


def build_report(outcome: MixOutcome) -> dict[str, object]:
    """The content of ``report.json``: inputs, tracks with their meters and moves, the render."""
    s = outcome.session
    problems_by_file: dict[str, list[FileProblem]] = {}
    for p in outcome.problems:
        problems_by_file.setdefault(Path(p.path).name, []).append(p)
    tracks = []
    for t in s.tracks:
        moves = [h.model_dump(mode="json") for h in s.history if _targets(h.parameter, t.id)]
        m = outcome.meters.get(t.id)
        tracks.append(
            {
                "id": t.id,
                "name": t.name,
                "file": Path(t.source.path).name,
                "role": t.role,
                "channels": t.source.channels,
                "source_sample_rate": t.source.sample_rate,
                "meters": m.to_dict() if m else None,
                "problems": [p.message for p in problems_by_file.get(Path(t.source.path).name, [])],
                "moves": moves,
            }
        )
    used = {Path(t.source.path).name for t in s.tracks}
    skipped = [
        {"file": Path(p.path).name, "problem": p.message}
        for p in outcome.problems
        if p.severity == "skipped" and Path(p.path).name not in used
    ]
    return {
        "mixwise": __version__,
        "created": now_iso(),
        "session": "session.json",
        "sample_rate": s.sample_rate,
        "master_target": {
            "integrated_lufs": s.master.target_lufs,
            "ceiling_dbtp": s.master.limiter.ceiling_dbtp if s.master.limiter.enabled else None,
        },
        "tracks": tracks,
        "skipped_files": skipped,
        "moves": [h.model_dump(mode="json") for h in s.history],
        "render": outcome.render.to_dict(),
        "mix_mono": _mix_mono(outcome),
        "checks": _checks(outcome),
        "plots": _plots(outcome),
        "intent": s.intent.model_dump(mode="json"),
        "held": [
            {
                "task": h.task,
                "target": h.target,
                "parameter": h.parameter,
                "new": _plain_value(h.new),
                "unit": h.unit,
                "lock": lock,
            }
            for h, lock in (outcome.automix.held if outcome.automix is not None else [])
        ],
        "proposals": [p.model_dump(mode="json") for p in s.proposals if p.status == "pending"],
        "comments": [m.model_dump(mode="json") for m in s.markers if m.kind == "comment"],
        "reference": outcome.reference,
    }


def _plain_value(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _checks(outcome: MixOutcome) -> dict[str, object]:
    """The final loudness and true-peak check of the master against its targets."""
    s, r = outcome.session, outcome.render
    out: dict[str, object] = {}
    if r.master_path is None:
        return out
    if s.master.target_lufs is not None and math.isfinite(r.master_lufs):
        err = r.master_lufs - s.master.target_lufs
        out["master_lufs_error_lu"] = round(err, 2)
        out["loudness_ok"] = abs(err) <= 0.5
    if s.master.limiter.enabled and math.isfinite(r.master_true_peak_dbtp):
        over = r.master_true_peak_dbtp - s.master.limiter.ceiling_dbtp
        out["true_peak_margin_db"] = round(-over, 2)
        out["true_peak_ok"] = over <= 0.0
    return out


def _plots(outcome: MixOutcome) -> dict[str, object]:
    """The numbers behind the report's pictures (see :mod:`mixwise.report_html`)."""
    s, r, a = outcome.session, outcome.render, outcome.automix
    names = {t.id: t.name for t in s.tracks}
    plots: dict[str, object] = {
        "track_loudness": [
            {
                "track": t.name,
                "colour": t.colour,
                "before_lufs": _num(outcome.meters[t.id].integrated_lufs)
                if t.id in outcome.meters
                else None,
                "after_lufs": _num(r.track_lufs.get(t.id, -math.inf)),
            }
            for t in s.tracks
        ],
        "loudness_over_time": {
            "times_s": [3.0 + i for i in range(len(r.mix_short_term_lufs))],
            "mix_short_term_lufs": [_num(v) for v in r.mix_short_term_lufs],
            "master_short_term_lufs": [_num(v) for v in r.master_short_term_lufs],
            "target_lufs": s.master.target_lufs,
        },
    }
    if a is not None and a.centres_hz is not None:
        from mixwise.assist.mastering import target_db

        def norm(x: np.ndarray) -> list[float]:
            mid = (a.centres_hz >= 100) & (a.centres_hz <= 8000)
            return [round(float(v), 2) for v in x - np.mean(x[mid])]

        plots["spectrum"] = {
            "freqs_hz": [float(f) for f in a.centres_hz],
            "mix_db": norm(a.spectrum_after_db),
            "before_db": norm(a.spectrum_before_db),
            "target_db": norm(target_db(a.centres_hz)),
        }
        if a.masking_before is not None and a.masking_after is not None:
            plots["masking"] = {
                "tracks": [names.get(i, i) for i in a.masking_ids],
                "before": np.round(a.masking_before, 3).tolist(),
                "after": np.round(a.masking_after, 3).tolist(),
            }
    return plots


def _mix_mono(outcome: MixOutcome) -> dict[str, object] | None:
    """Mono compatibility of the rendered mix (``mix.wav``): correlation, loss, per band."""
    path = outcome.render.mix_path
    if path is None or not path.exists():
        return None
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    rep = mono_compatibility(np.ascontiguousarray(data.T), rate)
    return {
        "correlation": rep.correlation,
        "loss_db": rep.loss_db,
        "bands": {f"{k:g}": {"correlation": c, "loss_db": d} for k, (c, d) in rep.bands.items()},
        "warnings": rep.warnings,
    }


def _targets(parameter: str, track_id: str) -> bool:
    return parameter.startswith(f"tracks[{track_id}].")


def write_report(outcome: MixOutcome) -> Path:
    """Write ``report.json`` into the outcome's folder (atomically)."""
    from mixwise.report_html import render_html

    report = build_report(outcome)
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    path = _write_text(outcome.out_dir / "report.json", text)
    outcome.html_report_path = _write_text(outcome.out_dir / "report.html", render_html(report))
    return path
