"""How much the automation may do: locks and amounts.

The user's :class:`~mixwise.session.model.Intent` (kept in the session) says which tasks run,
how far each move goes and what must never change. :class:`Policy` applies it to every
suggestion an assistant makes, before it touches the session:

* **Locks** hold a parameter, a track, a role, a family or a task. A lock is one or more terms
  separated by spaces; a suggestion is held when it matches every term of some lock:

  ================================  ==================================================
  ``tracks[vox].chain.fader_db``    that parameter (``*`` and ``?`` wildcards allowed);
                                    a lock on a field also holds the whole it belongs to
                                    (``...compressor.ratio`` holds ``...compressor``)
  ``track:vox``                     every parameter of that track
  ``role:kick`` / ``family:drums``  every parameter of tracks with that role / family
  ``task:dynamics``                 every move of that task
  ``task:dynamics family:drums``    compression on the drums only
  ================================  ==================================================

* **Amounts** (0-100 %) scale each move continuously between the value before (0 %) and the
  full suggestion (100 %), per task and globally (``"all"``; the two multiply). Scaling follows
  each parameter's own scale (:func:`blend`): dB and pan linearly, frequencies and Q
  geometrically, a send switched on from off by its linear gain (50 % = the full level -6 dB),
  a processor switched on from off from its neutral setting (a compressor from ratio 1:1, a
  high-pass from 10 Hz, a low-pass from 24 kHz, a new EQ band from 0 dB). A choice that has
  no in-between (a role, a region list, a polarity flip) happens from 50 % up.
"""

from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import replace
from typing import Any

from mixwise.roles import ROLE_FAMILY
from mixwise.session.edit import Suggestion, get_parameter
from mixwise.session.model import Intent, Session

_TRACK = re.compile(r"^tracks\[([^\]]+)\]")
_STEPPED = frozenset({"slope_db_oct", "length_samples", "channel", "seed", "type", "detector"})
_NEUTRAL_FREQ = {"high_pass": 10.0, "low_pass": 24_000.0}


class Policy:
    """The intent's locks and amounts, ready to judge suggestions."""

    def __init__(self, intent: Intent | None = None) -> None:
        self.intent = intent or Intent()
        self.locks = [lk.split() for lk in self.intent.locks if lk.strip()]

    # locks ---------------------------------------------------------------------------------
    def lock_for(self, session: Session, s: Suggestion) -> str | None:
        """The lock that holds suggestion ``s`` (as written), or ``None`` when it may apply."""
        for terms in self.locks:
            if all(_term_matches(t, session, s.parameter, s.task) for t in terms):
                return " ".join(terms)
        return None

    def holds_parameter(self, session: Session, parameter: str) -> bool:
        """Whether ``parameter`` is locked whatever task would change it."""
        return any(
            all(not t.startswith("task:") and _term_matches(t, session, parameter, "") for t in lk)
            for lk in self.locks
        )

    # amounts -------------------------------------------------------------------------------
    def amount(self, task: str) -> float:
        """The share (0-1) of a move of ``task`` that is applied."""
        from mixwise.assist.profiles import task_amount

        pct = self.intent.amount_pct
        user = pct.get("all", 100.0) / 100.0 * pct.get(task, 100.0) / 100.0
        return user * task_amount(self.intent.profile, task)

    def scale(self, session: Session, s: Suggestion) -> Suggestion | None:
        """``s`` scaled by its task's amount (``None`` when the amount leaves nothing to do)."""
        a = self.amount(s.task)
        if a >= 1.0:
            return s
        if a <= 0.0:
            return None
        old = get_parameter(session, s.parameter)
        old = old.model_dump() if hasattr(old, "model_dump") else _plain(old)
        new = blend(old, s.new, a, s.parameter)
        if new == old:
            return None
        return replace(
            s,
            old=old,
            new=new,
            reason=f"{s.reason} ({a * 100:.0f} % of the suggested move)",
            evidence={**s.evidence, "amount_pct": round(a * 100, 1), "full_move": s.new},
        )


def _glob(name: str, pattern: str) -> bool:
    """``fnmatch`` with only ``*`` and ``?`` as wildcards (brackets in paths are literal)."""
    escaped = "".join("[[]" if c == "[" else "[]]" if c == "]" else c for c in pattern)
    return fnmatch.fnmatchcase(name, escaped)


def _term_matches(term: str, session: Session, parameter: str, task: str) -> bool:
    kind, _, value = term.partition(":")
    if value and kind in ("task", "track", "role", "family"):
        if kind == "task":
            return fnmatch.fnmatchcase(task, value)
        mt = _TRACK.match(parameter)
        if not mt:
            return False
        if kind == "track":
            return fnmatch.fnmatchcase(mt.group(1), value)
        try:
            track = session.track(mt.group(1))
        except KeyError:
            return False
        if kind == "role":
            return fnmatch.fnmatchcase(track.role, value)
        return ROLE_FAMILY.get(track.role, "") == value
    # a parameter path: the lock holds the parameter, its parts and what contains it
    if _glob(parameter, term) or _glob(parameter, term + ".*") or _glob(parameter, term + "[*"):
        return True
    # a lock on a part holds a move of the whole (``...compressor.ratio`` holds ``...compressor``)
    steps, lock_steps = _steps(parameter), _steps(term)
    return len(lock_steps) > len(steps) and _glob(parameter, ".".join(lock_steps[: len(steps)]))


def _steps(path: str) -> list[str]:
    """``tracks[a.b].chain.eq[2]`` -> ``["tracks[a.b]", "chain", "eq[2]"]`` (dots in brackets
    stay)."""
    out, depth, cur = [], 0, []
    for c in path:
        depth += (c == "[") - (c == "]")
        if c == "." and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return out


# --------------------------------------------------------------------------------------------
# blending


def blend(old: Any, new: Any, a: float, path: str = "") -> Any:
    """The value ``a`` (0-1) of the way from ``old`` to ``new`` on the parameter's own scale
    (see the module docstring); ``path`` names the parameter (its last part picks the scale)."""
    if a >= 1.0:
        return new
    if a <= 0.0:
        return old
    name = path.rsplit(".", 1)[-1].split("[", 1)[0]
    if isinstance(new, dict):
        return _blend_dict(old if isinstance(old, dict) else None, new, a, name)
    if isinstance(new, list):
        return _blend_list(old if isinstance(old, list) else [], new, a, name)
    if isinstance(new, bool) or isinstance(old, bool):
        return new if a >= 0.5 else old
    fo, fn = _num(old), _num(new)
    if fo is None or fn is None:
        return new if a >= 0.5 else old
    if name in _STEPPED:
        return new if a >= 0.5 else old
    return _blend_number(fo, fn, a, name)


def _blend_number(old: float, new: float, a: float, name: str) -> float:
    if old == new:
        return new
    if name.endswith("_db") and (old == -math.inf or new == -math.inf):
        if old == -math.inf:  # switching a level on: scale its linear gain
            return round(new + 20.0 * math.log10(a), 2)
        return old + 20.0 * math.log10(1.0 - a) if a < 1.0 else new
    if (name.endswith("_hz") or name in ("q", "ratio")) and old > 0 and new > 0:
        return round(math.exp(math.log(old) + a * (math.log(new) - math.log(old))), 3)
    return round(old + a * (new - old), 4)


def _blend_dict(old: dict | None, new: dict, a: float, name: str) -> dict:
    base = dict(old) if old is not None else _neutral(new, name)
    if not base.get("enabled", True) and new.get("enabled", False):
        base = {**base, **_neutral(new, name)}  # switched on: grow from its neutral setting
    out = {}
    for key, value in new.items():
        if key == "enabled":
            out[key] = bool(value) if (value or a >= 0.5) else base.get(key, value)
        elif key in base:
            out[key] = blend(base[key], value, a, f"{name}.{key}")
        else:
            out[key] = value
    return out


def _neutral(new: dict, name: str) -> dict:
    """The setting of a processor (or list item) that changes nothing."""
    n = dict(new)
    if "ratio" in n:  # a compressor
        n.update(ratio=1.0, makeup_db=0.0)
    if "freq_hz" in n and name in _NEUTRAL_FREQ and "gain_db" not in n:
        n["freq_hz"] = _NEUTRAL_FREQ[name]
    if "gain_db" in n and n.get("type", "peak") in ("peak", "low_shelf", "high_shelf"):
        n["gain_db"] = 0.0
    if "level_db" in n:
        n["level_db"] = -math.inf
    return n


def _blend_list(old: list, new: list, a: float, name: str) -> list:
    out = []
    for i, item in enumerate(new):
        if i < len(old):
            out.append(blend(old[i], item, a, name))
        elif isinstance(item, dict) and ("gain_db" in item or "level_db" in item):
            out.append(blend(_neutral(item, name), item, a, name))
        elif a >= 0.5:
            out.append(item)
    if len(old) > len(new) and a < 0.5:
        out.extend(old[len(new) :])
    return out


def _num(x: Any) -> float | None:
    if isinstance(x, str) and x.strip().lower() == "-inf":
        return -math.inf
    if isinstance(x, int | float) and not isinstance(x, bool):
        return float(x)
    return None


def _plain(x: Any) -> Any:
    if isinstance(x, list):
        return [v.model_dump() if hasattr(v, "model_dump") else v for v in x]
    return x
