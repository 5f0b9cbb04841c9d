"""Timestamped feedback: comments pinned to times or time ranges of the song.

A comment is a :class:`~mixwise.session.model.Marker` with ``kind="comment"`` (so it travels
with the session, is listed in the report and exported to DAWs as a marker). A comment that is
a request in words ("vocal too quiet here") can be applied to its time range: level requests
become fader automation over that range (:mod:`mixwise.assist.words`).

Times are written the way people say them: ``83.5`` (seconds), ``1:23``, ``1:23.5``,
``1:02:03`` (h:mm:ss), and ranges ``1:23-1:40``.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixwise.errors import MixwiseError
from mixwise.session.edit import apply_suggestion
from mixwise.session.model import Marker, Session

#: A comment at one moment applies to this many seconds after it when used as a request.
POINT_COMMENT_SPAN_S = 8.0

_CLOCK = re.compile(r"^\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)\s*$")


def parse_time(text: str) -> float:
    """Seconds from ``83.5``, ``1:23``, ``1:23.5`` or ``1:02:03``; MixwiseError otherwise."""
    mt = _CLOCK.match(str(text))
    if not mt:
        raise MixwiseError(f"cannot read the time {text!r} (use 1:23, 1:23.5 or 83.5)")
    a, b, sec = mt.groups()
    parts = [int(x) for x in (a, b) if x is not None]
    seconds = float(sec)
    if parts and seconds >= 60:
        raise MixwiseError(f"cannot read the time {text!r}: seconds must be below 60")
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total * 60 + seconds if parts else seconds


def parse_time_range(text: str) -> tuple[float, float | None]:
    """``(start, end)`` seconds from ``1:23`` (end ``None``) or ``1:23-1:40``."""
    if "-" in text.strip().lstrip("-"):
        a, b = text.split("-", 1)
        start, end = parse_time(a), parse_time(b)
        if end <= start:
            raise MixwiseError(f"the range {text!r} ends before it starts")
        return start, end
    return parse_time(text), None


def format_time(seconds: float) -> str:
    """``m:ss.s`` (or ``h:mm:ss.s``) for a time in seconds."""
    s = max(0.0, float(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{int(h)}:{int(m):02d}:{sec:04.1f}"
    return f"{int(m)}:{sec:04.1f}"


def add_comment(
    session: Session,
    time_s: float,
    text: str,
    *,
    end_s: float | None = None,
    author: str = "",
) -> Marker:
    """Pin ``text`` at ``time_s`` (to ``end_s``) seconds; returns the new marker.

    Raises MixwiseError for an empty text or a time after the end of the song.
    """
    text = text.strip()
    if not text:
        raise MixwiseError("a comment needs some text")
    length = session.length_s or _tracks_length_s(session)
    if length and time_s > length + 0.5:
        raise MixwiseError(
            f"{format_time(time_s)} is after the end of the song ({format_time(length)})"
        )
    name = text if len(text) <= 40 else text[:39] + "…"
    marker = Marker(
        time_s=round(float(time_s), 3),
        end_s=None if end_s is None else round(float(end_s), 3),
        name=name,
        kind="comment",
        text=text,
        author=author,
    )
    session.markers.append(marker)
    session.markers.sort(key=lambda m: m.time_s)
    return marker


def _tracks_length_s(session: Session) -> float:
    lengths = [
        t.source.frames / t.source.sample_rate for t in session.tracks if t.source.sample_rate
    ]
    return max(lengths, default=0.0)


@dataclass(frozen=True)
class CommentRow:
    """One comment read from a file."""

    time_s: float
    text: str
    end_s: float | None = None
    author: str = ""


def read_comments(path: str | os.PathLike[str]) -> list[CommentRow]:
    """Comments from a CSV (columns ``time,text`` and optionally ``end``, ``author``; a header
    row is recognised) or a JSON list of objects with the same keys (``time`` may also be
    ``time_s``). Raises MixwiseError naming the file and the row for anything unreadable."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise MixwiseError(f"{p}: cannot be read ({err})") from None
    rows: list[dict[str, Any]]
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise MixwiseError(f"{p}: not valid JSON ({err.msg}, line {err.lineno})") from None
        if isinstance(data, dict):
            data = data.get("comments", [])
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise MixwiseError(f"{p}: expected a list of comments ({{'time': ..., 'text': ...}})")
        rows = data
    else:
        lines = [r for r in csv.reader(raw.splitlines()) if any(c.strip() for c in r)]
        if lines and lines[0] and lines[0][0].strip().lower() in ("time", "time_s", "start"):
            header = [h.strip().lower() for h in lines[0]]
            rows = [dict(zip(header, r, strict=False)) for r in lines[1:]]
        else:
            keys = ["time", "text", "end", "author"]
            rows = [dict(zip(keys, r, strict=False)) for r in lines]
    out = []
    for i, r in enumerate(rows, start=1):
        t = r.get("time", r.get("time_s", r.get("start")))
        text = str(r.get("text", r.get("comment", ""))).strip()
        if t is None or not text:
            raise MixwiseError(f"{p}: comment {i} needs a time and a text")
        try:
            start = float(t) if isinstance(t, int | float) else parse_time(str(t))
            end_raw = r.get("end", r.get("end_s"))
            end = None
            if end_raw not in (None, ""):
                end = float(end_raw) if isinstance(end_raw, int | float) else parse_time(end_raw)
        except MixwiseError as err:
            raise MixwiseError(f"{p}: comment {i}: {err}") from None
        out.append(CommentRow(start, text, end, str(r.get("author", "") or "")))
    return out


def apply_comment(session: Session, marker: Marker):
    """Apply a comment as a request in words over its time range (a point comment covers
    :data:`POINT_COMMENT_SPAN_S` seconds from its time). Level requests become fader
    automation over the range; others are refused for a range (see
    :func:`mixwise.assist.words.interpret`). Returns the interpretation (its ``summary()``
    says what changed)."""
    from mixwise.assist.words import interpret

    end = marker.end_s if marker.end_s is not None else marker.time_s + POINT_COMMENT_SPAN_S
    plan = interpret(marker.text, session, start_s=marker.time_s, end_s=end)
    for request in plan.understood:
        for s in request.changes:
            apply_suggestion(session, s, source="user")
    return plan
