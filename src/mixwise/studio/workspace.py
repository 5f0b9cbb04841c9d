"""The studio's workspace on disk: projects, uploaded stems, the session, safe file access.

Layout (everything a project owns stays inside its folder)::

    WORKSPACE/projects/<id>/
        project.json        name, creation time, what was last done
        stems/              the uploaded stems (sanitised names, checked type and size)
        session.json        the mix document, saved atomically after every change
        render/             the latest render: master.wav, mix.wav, raw.wav (unity sum),
                            stems/*.wav, report.json, report.html, session.json (as rendered),
                            studio.json (meters the studio draws)
        reference/          a reference track
        variations/         alternative mixes
        exports/            DAW exports and zips, made on request

Names from the browser are never trusted: :func:`safe_file_name` refuses folders and ``..``
and keeps a conservative set of characters; :meth:`Project.resolve` serves only files inside
the project folder (after resolving links).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from mixwise.errors import MixwiseError, SessionError
from mixwise.io.audio import write_text_atomic
from mixwise.session.io import load_session, save_session
from mixwise.session.model import Session

#: Extensions accepted for stems and reference tracks (lower case, with the dot).
ALLOWED_EXTENSIONS = (".wav", ".wave", ".flac", ".aif", ".aiff", ".ogg", ".mp3")

_PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9\-]{0,63}$")
_UNSAFE_CHARS = re.compile(r"[^\w .()\[\]+,&'#@!~=-]", re.UNICODE)


class StudioError(MixwiseError):
    """A request the studio refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    """Upload limits (bytes). ``max_file_bytes`` per file, ``max_project_bytes`` for all the
    stems of a project together, ``max_files`` stems per project."""

    max_file_bytes: int = 1024 * 2**20
    max_project_bytes: int = 8 * 1024 * 2**20
    max_files: int = 128


def safe_file_name(name: str, *, allowed: tuple[str, ...] = ALLOWED_EXTENSIONS) -> str:
    """A file name from a browser made safe to store, or :class:`StudioError` (400/415).

    Names with a folder part (``/`` or ``\\``), a ``..`` or a leading dot are refused, not
    repaired, so a traversal attempt is reported; other odd characters become ``_``.
    """
    raw = name or ""
    shown = raw[:80]
    if "/" in raw or "\\" in raw or "\x00" in raw:
        raise StudioError(f"file name {shown!r} is refused: it names a folder (no / or \\)")
    if raw.strip() in ("", ".", "..") or ".." in raw or raw.startswith("."):
        raise StudioError(f"file name {shown!r} is refused: no '..' or leading dot allowed")
    clean = unicodedata.normalize("NFC", raw)
    clean = "".join(ch for ch in clean if unicodedata.category(ch)[0] != "C")
    clean = _UNSAFE_CHARS.sub("_", clean).strip(" .")
    clean = re.sub(r"\s+", " ", clean)
    stem, dot, ext = clean.rpartition(".")
    if not dot or not stem:
        raise StudioError(f"{shown}: has no file extension (allowed: {_ext_list(allowed)})", 415)
    ext = "." + ext.lower()
    if ext not in allowed:
        raise StudioError(
            f"{shown}: {ext} files are not accepted (allowed: {_ext_list(allowed)})", 415
        )
    return stem[:120] + ext


def _ext_list(allowed: tuple[str, ...]) -> str:
    return ", ".join(e.lstrip(".") for e in allowed)


def sniff_audio(head: bytes) -> str | None:
    """The container an audio file's first bytes announce (``wav``, ``flac``, ``aiff``,
    ``ogg``, ``mp3``), or ``None`` when they are not audio."""
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if len(head) >= 12 and head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def format_bytes(n: int) -> str:
    """``n`` bytes for people (MB with one decimal, or KB)."""
    if n >= 2**20:
        return f"{n / 2**20:.1f} MB"
    return f"{n / 1024:.0f} KB"


class Project:
    """One project folder; the lock serialises changes to its session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.id = folder.name
        self.lock = threading.RLock()

    # ---- paths
    @property
    def stems_dir(self) -> Path:
        return self.folder / "stems"

    @property
    def session_path(self) -> Path:
        return self.folder / "session.json"

    @property
    def render_dir(self) -> Path:
        return self.folder / "render"

    @property
    def meta_path(self) -> Path:
        return self.folder / "project.json"

    def resolve(self, relative: str) -> Path:
        """The file ``relative`` names inside the project, or :class:`StudioError` (404) when
        it is missing or lies outside the project folder (``..``, absolute, a link out)."""
        root = self.folder.resolve()
        rel = (relative or "").replace("\\", "/")
        if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
            raise StudioError(f"{relative!r}: only files inside the project are served", 403)
        target = (root / rel).resolve()
        if not target.is_relative_to(root):
            raise StudioError(f"{relative!r}: only files inside the project are served", 403)
        if not target.is_file():
            raise StudioError(f"{relative!r}: no such file in this project", 404)
        return target

    # ---- metadata
    def meta(self) -> dict:
        try:
            return json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"id": self.id, "name": self.id}

    def update_meta(self, **fields: object) -> dict:
        with self.lock:
            data = {**self.meta(), **fields}
            write_text_atomic(self.meta_path, json.dumps(data, indent=2) + "\n")
            return data

    # ---- stems
    def stems(self) -> list[dict]:
        """The uploaded stems: name and size (bytes), sorted by name."""
        if not self.stems_dir.is_dir():
            return []
        return [
            {"name": p.name, "size_bytes": p.stat().st_size}
            for p in sorted(self.stems_dir.iterdir(), key=lambda q: q.name.lower())
            if p.is_file() and not p.name.startswith(".")
        ]

    def stems_bytes(self) -> int:
        return sum(s["size_bytes"] for s in self.stems())

    # ---- the session
    def has_session(self) -> bool:
        return self.session_path.is_file()

    def load(self) -> Session:
        if not self.has_session():
            raise StudioError("this project has no mix yet: press 'Mix it' first", 409)
        return load_session(self.session_path)

    def save(self, session: Session) -> Path:
        """Save the session atomically (the autosave after every change)."""
        with self.lock:
            path = save_session(session, self.session_path)
            self.update_meta(saved=_now())
            return path

    def rendered_session(self) -> Session | None:
        """The session as it was when ``render/`` was made (the preview's reference)."""
        p = self.render_dir / "session.json"
        if not p.is_file():
            return None
        try:
            return load_session(p)
        except SessionError:
            return None


def _now() -> str:
    from mixwise.session.edit import now_iso

    return now_iso()


class Workspace:
    """The folder that holds every project."""

    def __init__(self, root: Path, limits: Limits | None = None) -> None:
        self.root = Path(root)
        self.limits = limits or Limits()
        (self.root / "projects").mkdir(parents=True, exist_ok=True)
        self._projects: dict[str, Project] = {}
        self._lock = threading.Lock()

    def project(self, project_id: str) -> Project:
        """The project ``project_id`` or :class:`StudioError` (404)."""
        if not _PROJECT_ID.match(project_id or ""):
            raise StudioError(f"no project {project_id[:40]!r}", 404)
        folder = self.root / "projects" / project_id
        if not folder.is_dir():
            raise StudioError(f"no project {project_id!r}", 404)
        with self._lock:
            return self._projects.setdefault(project_id, Project(folder))

    def create(self, name: str) -> Project:
        """A new, empty project called ``name``."""
        title = " ".join((name or "").split())[:80] or "Untitled mix"
        slug = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", title).lower())
        slug = slug.encode("ascii", "ignore").decode().strip("-")[:40] or "mix"
        pid = f"{slug}-{secrets.token_hex(3)}"
        folder = self.root / "projects" / pid
        (folder / "stems").mkdir(parents=True)
        p = self.project(pid)
        p.update_meta(id=pid, name=title, created=_now())
        return p

    def delete(self, project_id: str) -> None:
        p = self.project(project_id)
        with p.lock:
            shutil.rmtree(p.folder)
        with self._lock:
            self._projects.pop(project_id, None)

    def list(self) -> list[dict]:
        """Every project's metadata, the most recently saved first."""
        out = []
        for folder in (self.root / "projects").iterdir():
            if folder.is_dir() and _PROJECT_ID.match(folder.name):
                p = self.project(folder.name)
                meta = p.meta()
                meta.update(
                    id=p.id,
                    stems=len(p.stems()),
                    has_mix=p.has_session(),
                    has_render=(p.render_dir / "master.wav").is_file(),
                )
                out.append(meta)
        out.sort(key=lambda m: str(m.get("saved") or m.get("created") or ""), reverse=True)
        return out
