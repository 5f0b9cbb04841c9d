"""What every DAW export needs: the track audio as WAV files, and outputs that appear whole.

An export never half-exists: it is built in a temporary sibling of its destination and moved
into place only when complete (:func:`atomic_output`). Missing or unreadable source audio is
found before anything is written (:func:`check_sources`), with one line per file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from mixwise.errors import ExportError, MixwiseError
from mixwise.io.audio import load_file, write_audio
from mixwise.session.io import resolve_source
from mixwise.session.model import Session, Track


def source_paths(session: Session, session_path: str | os.PathLike[str] | None) -> dict[str, Path]:
    """Track id -> the audio file its ``source.path`` points to (relative to the session)."""
    return {t.id: resolve_source(session_path, t.source.path) for t in session.tracks}


def check_sources(session: Session, session_path: str | os.PathLike[str] | None) -> None:
    """Raise :class:`ExportError` listing every track whose audio file is missing."""
    missing = [
        f"{t.name} ({p})" for t in session.tracks if not (p := _path(t, session_path)).is_file()
    ]
    if missing:
        raise ExportError(
            f"{len(missing)} audio file(s) missing, nothing exported: " + "; ".join(missing)
        )


def _path(track: Track, session_path: str | os.PathLike[str] | None) -> Path:
    return resolve_source(session_path, track.source.path)


def wav_name(track: Track, taken: set[str]) -> str:
    """A file name for a track's audio inside an export: its id, ``.wav``, unique in ``taken``."""
    base = track.id
    name, k = f"{base}.wav", 2
    while name.lower() in taken:
        name, k = f"{base}-{k}.wav", k + 1
    taken.add(name.lower())
    return name


def write_track_wavs(
    session: Session,
    session_path: str | os.PathLike[str] | None,
    dest_dir: str | os.PathLike[str],
    *,
    subtype: str = "FLOAT",
) -> dict[str, Path]:
    """Decode every track's source at the session rate and write it as WAV into ``dest_dir``.

    Returns track id -> written file. The audio is exactly what mixwise renders from (same
    decoder, same resampler, the track's click repairs written in), so a DAW playing these
    files hears mixwise's input. Raises :class:`ExportError` naming the file when a source
    cannot be read.
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    taken: set[str] = set()
    for t in session.tracks:
        src = _path(t, session_path)
        try:
            audio, _info, _w = load_file(src, sample_rate=session.sample_rate)
        except MixwiseError as err:
            raise ExportError(f"{t.name}: {err}") from None
        if t.repairs:  # non-destructive in mixwise; a DAW needs them in the file
            from mixwise.io.audio import ArraySource
            from mixwise.render.engine import RepairedSource

            fixed = RepairedSource(ArraySource(audio), t.repairs, session.sample_rate)
            audio = fixed.read(0, audio.shape[1]).astype(np.float32)
        out[t.id] = write_audio(
            dest / wav_name(t, taken),
            audio,
            sample_rate=session.sample_rate,
            subtype=subtype,  # type: ignore[arg-type]
        )
    return out


#: Written into every folder export, so a later export may replace it (and nothing else).
EXPORT_MARKER = ".mixwise-export"


def _check_replaceable(target: Path, is_dir: bool) -> None:
    """Refuse to replace anything but an earlier mixwise export (or an empty folder)."""
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink():
        raise ExportError(f"{target} is a link; choose a new folder or file name")
    if is_dir:
        if not target.is_dir():
            raise ExportError(f"{target} is a file; choose a folder name for this export")
        if any(target.iterdir()) and not (target / EXPORT_MARKER).is_file():
            raise ExportError(
                f"{target} exists and holds other files; choose a new or empty folder "
                "(mixwise replaces only its own earlier exports)"
            )
    elif target.is_dir():
        raise ExportError(f"{target} is a folder; give a file name for this export")


@contextlib.contextmanager
def atomic_output(
    dest: str | os.PathLike[str], *, is_dir: bool, checked: bool = False
) -> Iterator[Path]:
    """Build an output (a folder when ``is_dir``, else a file) at a temporary sibling path and
    move it to ``dest`` when the block ends without error; on error nothing is left behind.

    An existing ``dest`` is replaced only after the new one is complete, and only when it is
    an earlier mixwise export (a folder holding :data:`EXPORT_MARKER`), an empty folder or,
    for a file output, a file: anything else raises :class:`ExportError` before any work.
    ``checked=True`` means the caller has made its own such check (and no marker is written).
    """
    target = Path(dest)
    if not checked:
        _check_replaceable(target, is_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    tmp = tmp_root / target.name
    if is_dir:
        tmp.mkdir()
    try:
        yield tmp
        if is_dir and not checked:
            (tmp / EXPORT_MARKER).write_text(
                "Written by mixwise. A new export to this folder replaces it whole.\n",
                encoding="utf-8",
            )
        if target.exists():
            old = tmp_root / (target.name + ".old")
            os.replace(target, old)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
