"""Saving and loading session documents, with one-line errors that name the bad field."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from mixwise.errors import SessionError
from mixwise.io.audio import write_text_atomic
from mixwise.session.model import FORMAT_VERSION, Session


def session_to_json(session: Session) -> str:
    """The session as indented, strict JSON text (minus infinity written as ``"-inf"``)."""
    return session.model_dump_json(indent=2) + "\n"


def session_from_json(text: str, *, origin: str = "session") -> Session:
    """Parse and validate session JSON; raises :class:`SessionError` naming the bad field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SessionError(
            f"{origin}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    if not isinstance(data, dict):
        raise SessionError(f"{origin}: a session must be a JSON object")
    version = data.get("format")
    if version != FORMAT_VERSION:
        raise SessionError(
            f"{origin}: format: this mixwise reads session format {FORMAT_VERSION}, "
            f"the file says {version!r}"
        )
    try:
        return Session.model_validate(data)
    except ValidationError as err:
        raise SessionError(f"{origin}: {_first_error(err, data)}") from None


def _first_error(err: ValidationError, data: object) -> str:
    e = err.errors(include_url=False)[0]
    loc = _location(e.get("loc", ()), data)
    msg = e.get("msg", "invalid value")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    more = err.error_count() - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    if e.get("type") == "missing":
        return f"{loc}: required field is missing{tail}"
    if (
        "input" in e
        and e.get("type") not in ("value_error",)
        and not isinstance(e["input"], (dict, list))
    ):
        return f"{loc}: {msg} (got {e['input']!r}){tail}"
    if not loc:
        return f"{msg}{tail}"
    return f"{loc}: {msg}{tail}"


def _location(loc: tuple, data: object) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part in ("reverb", "delay") and out.endswith("effect"):
            continue  # pydantic names the union branch; the user's path does not have it
        else:
            out += f".{part}" if out else str(part)
    return out


def save_session(session: Session, path: str | os.PathLike[str]) -> Path:
    """Write ``session`` to ``path`` as JSON, atomically."""
    return write_text_atomic(path, session_to_json(session))


def load_session(path: str | os.PathLike[str]) -> Session:
    """Read and validate a session file. Raises :class:`SessionError` with a one-line message.

    Relative source paths are resolved against the session file's folder.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(f"{p}: no such session file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SessionError(f"{p}: cannot be read ({err})") from None
    session = session_from_json(text, origin=p.name)
    return session


def resolve_source(session_path: str | os.PathLike[str] | None, source: str) -> Path:
    """The file a track's ``source.path`` points to (relative paths: from the session's folder)."""
    sp = Path(source)
    if sp.is_absolute() or session_path is None:
        return sp
    return Path(session_path).resolve().parent / sp
