"""Suggestions and how they change a session: parameter paths, apply, history.

A parameter path names one value in the session the way a person would read it::

    tracks[kick].chain.fader_db          (a track by id)
    tracks[kick].chain.eq[2].gain_db     (a list item by index)
    buses[reverb].chain.fader_db         (a bus by id)
    master.target_lufs

Assistants return :class:`Suggestion` records; applying one sets the value and appends a
:class:`~mixwise.session.model.HistoryEntry` with its reason, so every automatic move is an
ordinary parameter with a recorded why.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from mixwise.errors import SessionError
from mixwise.session.model import Change, HistoryEntry, Proposal, Session

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]+)\])?")


@dataclass(frozen=True)
class Suggestion:
    """One proposed change of one parameter, with why.

    task : the assistant that proposes it (``gain``, ``balance``, ``eq`` ...)
    target : what it acts on, for people (a track's or bus's name, or ``master``)
    parameter : the parameter path (see the module docstring)
    old, new : values before and after, in ``unit``
    reason : one sentence a musician understands
    evidence : the measurements behind it (names carry units)
    confidence : 0-1
    """

    task: str
    target: str
    parameter: str
    old: Any
    new: Any
    unit: str = ""
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    confidence: float = 1.0


def _parse(path: str) -> list[tuple[str, str | None]]:
    steps = []
    for part in path.split("."):
        mt = _STEP.fullmatch(part)
        if not mt:
            raise SessionError(f"parameter path {path!r}: cannot read {part!r}")
        steps.append((mt.group(1), mt.group(2)))
    return steps


def _index(container: list[Any], key: str, path: str) -> int:
    if key.lstrip("-").isdigit():
        i = int(key)
        if -len(container) <= i < len(container):
            return i
        raise SessionError(f"parameter path {path!r}: index {key} is out of range")
    for i, item in enumerate(container):
        if getattr(item, "id", None) == key:
            return i
    raise SessionError(f"parameter path {path!r}: no item with id {key!r}")


def get_parameter(session: Session, path: str) -> Any:
    """The value at ``path`` in ``session``."""
    obj: Any = session
    for name, key in _parse(path):
        if not hasattr(obj, name):
            raise SessionError(f"parameter path {path!r}: no field {name!r}")
        obj = getattr(obj, name)
        if key is not None:
            obj = obj[_index(obj, key, path)]
    return obj


def set_parameter(session: Session, path: str, value: Any) -> None:
    """Set the value at ``path``; validated like a loaded session (SessionError if invalid)."""
    steps = _parse(path)
    obj: Any = session
    for name, key in steps[:-1]:
        obj = getattr(obj, name)
        if key is not None:
            obj = obj[_index(obj, key, path)]
    name, key = steps[-1]
    try:
        if key is None:
            if not isinstance(obj, BaseModel) or name not in type(obj).model_fields:
                raise SessionError(f"parameter path {path!r}: no field {name!r}")
            setattr(obj, name, value)
        else:
            items = getattr(obj, name)
            items[_index(items, key, path)] = value
            setattr(obj, name, items)  # re-validate the list
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        raise SessionError(f"{path}: {e['msg']} (got {value!r})") from None


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def apply_suggestion(session: Session, s: Suggestion, *, source: str = "auto") -> HistoryEntry:
    """Apply one suggestion to ``session`` (in place) and record it in the history."""
    old = get_parameter(session, s.parameter)
    set_parameter(session, s.parameter, s.new)
    entry = HistoryEntry(
        time=now_iso(),
        task=s.task,
        target=s.target,
        parameter=s.parameter,
        old=_plain(old),
        new=_plain(s.new),
        unit=s.unit,
        reason=s.reason,
        evidence=s.evidence,
        source=source,  # type: ignore[arg-type]
    )
    session.history.append(entry)
    return entry


def propose(session: Session, s: Suggestion) -> Proposal:
    """Record ``s`` in the session as a pending, numbered proposal (nothing changes yet)."""
    number = max((p.number for p in session.proposals), default=0) + 1
    p = Proposal(
        number=number,
        task=s.task,
        target=s.target,
        parameter=s.parameter,
        old=_plain(s.old),
        new=_plain(s.new),
        unit=s.unit,
        reason=s.reason,
        evidence=s.evidence,
        confidence=min(max(float(s.confidence), 0.0), 1.0),
    )
    session.proposals.append(p)
    return p


def find_proposal(session: Session, number: int) -> Proposal:
    """Proposal ``number`` of ``session`` (SessionError when there is none)."""
    for p in session.proposals:
        if p.number == number:
            return p
    raise SessionError(f"there is no proposal {number}")


def apply_proposal(
    session: Session, number: int, *, source: str = "auto", amount_pct: float = 100.0
) -> HistoryEntry:
    """Apply pending proposal ``number``: set its value (``amount_pct`` % of the way from the
    current value, see :func:`mixwise.assist.control.blend`), record it in the history with the
    proposal's number, and mark it applied."""
    from mixwise.assist.control import blend

    p = find_proposal(session, number)
    if p.status != "pending":
        raise SessionError(f"proposal {number} is already {p.status}")
    if not 0.0 <= amount_pct <= 100.0:
        raise SessionError(f"amount {amount_pct} % is outside 0-100 %")
    fields = p.model_dump(include=set(Change.model_fields))
    if amount_pct < 100.0:
        current = _plain(get_parameter(session, p.parameter))
        fields["new"] = blend(current, p.new, amount_pct / 100.0, p.parameter)
        fields["reason"] = f"{p.reason} ({amount_pct:.0f} % of the suggested move)"
    entry = apply_suggestion(session, Suggestion(**fields, confidence=p.confidence), source=source)
    entry.evidence = {**entry.evidence, "proposal": number}
    p.status = "applied"
    return entry


def reject_proposal(session: Session, number: int) -> Proposal:
    """Mark pending proposal ``number`` rejected (nothing changes; it stays listed)."""
    p = find_proposal(session, number)
    if p.status != "pending":
        raise SessionError(f"proposal {number} is already {p.status}")
    p.status = "rejected"
    return p


def undo(session: Session, count: int = 1) -> list[HistoryEntry]:
    """Undo the last ``count`` changes in the history, newest first: each parameter gets its
    old value back and leaves the history; a change that came from a proposal makes that
    proposal pending again. Returns the undone entries. A change that added or removed
    something the session cannot simply set back (a bus) is refused with SessionError, and
    nothing is undone."""
    if count < 1:
        return []
    if count > len(session.history):
        raise SessionError(
            f"cannot undo {count} change(s): the history holds {len(session.history)}"
        )
    entries = session.history[-count:][::-1]
    trial = session.model_copy(deep=True)
    for e in entries:
        try:
            set_parameter(trial, e.parameter, e.old)
        except SessionError as err:
            raise SessionError(f"cannot undo {e.parameter} ({e.reason}): {err}") from None
    for e in entries:
        set_parameter(session, e.parameter, e.old)
        number = e.evidence.get("proposal") if isinstance(e.evidence, dict) else None
        if number is not None:
            for p in session.proposals:
                if p.number == number and p.status == "applied":
                    p.status = "pending"
    del session.history[-count:]
    return entries


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value == float("-inf"):
        return "-inf"
    return value
