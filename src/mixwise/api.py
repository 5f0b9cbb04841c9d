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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixwise import __version__
from mixwise.analysis.meters import Meters, measure
from mixwise.assist.gain import suggest_gain_staging
from mixwise.errors import MixwiseError, NothingToMixError
from mixwise.io.audio import FileProblem, LoadResult, Multitrack, load_file, load_stems
from mixwise.io.audio import write_text_atomic as _write_text
from mixwise.render.engine import RenderOptions, RenderResult, render
from mixwise.roles import colour_of
from mixwise.session.edit import apply_suggestion, now_iso
from mixwise.session.io import load_session, resolve_source, save_session
from mixwise.session.model import Limiter, Master, Session, SourceFile, Track

log = logging.getLogger(__name__)

Progress = Callable[[float, float, str], None]

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
                    path=info.path, format=info.format, subtype=info.subtype,
                    sample_rate=info.sample_rate, channels=info.channels,
                    frames=info.frames, size_bytes=info.size_bytes,
                ),
                colour=colour_of("other"),
            )  # fmt: skip
        )
    return Session(
        name=name,
        sample_rate=mt.sample_rate,
        length_s=mt.n_samples / mt.sample_rate,
        tracks=tracks,
        created_by=f"mixwise {__version__}",
    )


def analyze_multitrack(
    mt: Multitrack, *, workers: int | None = None, progress: Progress | None = None
) -> dict[str, Meters]:
    """Meters for every stem (stem name -> :class:`Meters`), measured in parallel."""
    total = sum(s.n_source_samples for s in mt.stems) / mt.sample_rate
    done = 0.0

    def one(stem):
        return measure(stem.audio[:, : stem.n_source_samples], mt.sample_rate)

    out: dict[str, Meters] = {}
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for stem, meters in zip(mt.stems, pool.map(one, mt.stems), strict=True):
            out[stem.name] = meters
            done += stem.n_source_samples / mt.sample_rate
            if progress is not None:
                progress(done, total, "analyse")
    return out


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
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    sample_rate: int | None = None,
    options: RenderOptions | None = None,
    progress: Progress | None = None,
) -> MixOutcome:
    """Mix a folder of stems: load, analyse, gain-stage, render, master, report.

    Writes ``OUT/mix.wav``, ``OUT/master.wav``, ``OUT/stems/<stem>.wav``, ``OUT/session.json``
    and ``OUT/report.json``. ``target_lufs`` (LUFS) and ``ceiling_dbtp`` (dBTP) set the master.
    Raises :class:`NothingToMixError` when no stem is usable.
    """
    # load
    load = load_stems(stems_dir, sample_rate=sample_rate,
                      progress=(lambda s: progress(s, 0.0, "load")) if progress else None)  # fmt: skip
    out = Path(out_dir) if out_dir is not None else default_out_dir(stems_dir)
    _check_out_dir(out, [s.info.path for s in load.multitrack.stems])
    session = new_session(load, name=Path(stems_dir).resolve().name)
    session.master = Master(
        target_lufs=target_lufs, limiter=Limiter(ceiling_dbtp=ceiling_dbtp)
    )
    # analyse
    meters_by_name = analyze_multitrack(load.multitrack, progress=progress)
    ids = {t.name: t.id for t in session.tracks}
    meters = {ids[k]: v for k, v in meters_by_name.items()}
    # decide
    for s in suggest_gain_staging(session, meters):
        apply_suggestion(session, s)
    # render and report
    return _render_and_report(session, load, out, meters, options, progress)


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
    problems: list[FileProblem] = []
    sources: dict[str, np.ndarray] = {}
    stems = []
    n = round(session.length_s * session.sample_rate)

    def one(track: Track):
        path = resolve_source(session_path, track.source.path)
        try:
            audio, info, warnings = load_file(path, sample_rate=session.sample_rate)
            return track, audio, info, warnings, None
        except MixwiseError as err:
            return track, None, None, [], err

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        loaded = list(pool.map(one, session.tracks))
    from mixwise.io.audio import Stem

    for track, audio, info, warnings, err in loaded:
        if err is not None:
            problems.append(FileProblem(track.source.path, str(err).split(": ", 1)[-1],
                                        "skipped"))  # fmt: skip
            continue
        own = audio.shape[1]
        if n and own < n:
            audio = np.pad(audio, ((0, 0), (0, n - own)))
        elif n and own > n:
            audio = np.ascontiguousarray(audio[:, :n])
        sources[track.id] = audio
        problems.extend(FileProblem(track.source.path, w, "warning") for w in warnings)
        stems.append(Stem(track.name, audio, info, own, warnings))
    if not sources:
        raise NothingToMixError(
            f"{session_path}: none of the session's source files could be loaded"
        )
    load = LoadResult(Multitrack(session.sample_rate, stems), problems)
    out = Path(out_dir)
    _check_out_dir(out, [str(resolve_source(session_path, t.source.path)) for t in session.tracks])
    return _render_and_report(session, load, out, {}, options, progress, sources=sources)


def _render_and_report(
    session: Session,
    load: LoadResult,
    out: Path,
    meters: dict[str, Meters],
    options: RenderOptions | None,
    progress: Progress | None,
    *,
    sources: dict[str, np.ndarray] | None = None,
) -> MixOutcome:
    by_name = {s.name: s for s in load.multitrack.stems}
    if sources is None:
        sources = {t.id: by_name[t.name].audio for t in session.tracks if t.name in by_name}
    stem_names = {t.id: t.name for t in session.tracks}
    result = render(session, sources, out, options=options, stem_names=stem_names,
                    progress=progress)  # fmt: skip
    session_path = save_session(session, out / "session.json")
    outcome = MixOutcome(session, out, result, list(load.problems), meters,
                         session_path=session_path)  # fmt: skip
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
    }


def _targets(parameter: str, track_id: str) -> bool:
    return parameter.startswith(f"tracks[{track_id}].")


def write_report(outcome: MixOutcome) -> Path:
    """Write ``report.json`` into the outcome's folder (atomically)."""
    text = json.dumps(build_report(outcome), indent=2, ensure_ascii=False) + "\n"
    return _write_text(outcome.out_dir / "report.json", text)
