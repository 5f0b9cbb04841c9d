"""Before mixing: labels, colours, clean names, track order, group buses and aux returns.

The repetitive set-up engineers do by hand on every session. Everything here is an ordinary
session edit recorded in the history with its evidence, and a role the user has locked
(``role_locked``) is never changed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from mixwise.analysis.roles import RoleGuess
from mixwise.roles import ROLE_LABELS, colour_of, family_of, order_of
from mixwise.session.edit import now_iso
from mixwise.session.model import Bus, Delay, Filter, HistoryEntry, Reverb, Send, Session

#: Group bus per family: (bus id, display name). A family gets a bus when it has 2+ tracks.
FAMILY_BUSES: dict[str, tuple[str, str]] = {
    "drums": ("drums", "Drums"),
    "bass": ("bass", "Bass"),
    "guitar": ("guitars", "Guitars"),
    "keys": ("keys", "Keys"),
    "vocals": ("vocals", "Vocals"),
    "other": ("music", "Music"),
}
REVERB_BUS = "reverb"
DELAY_BUS = "delay"

_PREFIX = re.compile(r"^\s*(?:\d+|[A-Za-z]\d+)\s*[-_.)\]:]*\s*")


def clean_display_name(name: str) -> str:
    """A tidy track name from a file's base name: no numbered prefix, separators as spaces.

    ``"01_Dirty_World_BD"`` -> ``"Dirty World BD"``; ``"07 - Ld Vox"`` -> ``"Ld Vox"``.
    Names that would become empty stay as they were.
    """
    stripped = _PREFIX.sub("", name, count=1)
    cleaned = re.sub(r"[_]+|\s+", " ", stripped).strip(" -.")
    return cleaned or name


def _entry(task: str, target: str, parameter: str, old, new, reason: str, evidence=None):
    return HistoryEntry(
        time=now_iso(),
        task=task,
        target=target,
        parameter=parameter,
        old=old,
        new=new,
        reason=reason,
        evidence=dict(evidence or {}),
    )


def apply_roles(session: Session, guesses: Mapping[str, RoleGuess]) -> None:
    """Set each unlocked track's role, confidence and colour from ``guesses`` (track id ->
    :class:`~mixwise.analysis.roles.RoleGuess`), recording why in the history."""
    for t in session.tracks:
        g = guesses.get(t.id)
        if g is None or t.role_locked:
            continue
        old_role, old_colour = t.role, t.colour
        t.role = g.role  # type: ignore[assignment]
        t.role_confidence = round(float(g.confidence), 3)
        t.colour = colour_of(g.role)
        how = {
            "name": "its name",
            "audio": "its sound",
            "name+audio": "its name and sound",
        }.get(g.source, g.source)
        evidence = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in g.evidence.items()}
        session.history.append(
            _entry(
                "prep",
                t.name,
                f"tracks[{t.id}].role",
                old_role,
                g.role,
                f"labelled {ROLE_LABELS.get(g.role, g.role)} from {how} "
                f"(confidence {g.confidence:.0%})",
                evidence,
            )
        )
        if old_colour != t.colour:
            session.history.append(
                _entry(
                    "prep",
                    t.name,
                    f"tracks[{t.id}].colour",
                    old_colour,
                    t.colour,
                    f"the {family_of(g.role)} colour",
                )
            )


def tidy_names_and_order(session: Session) -> None:
    """Clean display names and put tracks in console order (drums, bass, guitars, keys,
    other instruments, vocals, FX), keeping the original order within a role."""
    for t in session.tracks:
        clean = clean_display_name(t.name)
        if clean != t.name:
            session.history.append(
                _entry("prep", clean, f"tracks[{t.id}].name", t.name, clean, "a clean display name")
            )
            t.name = clean
    order = {t.id: i for i, t in enumerate(session.tracks)}
    session.tracks = sorted(session.tracks, key=lambda t: (order_of(t.role), order[t.id]))


def setup_buses(session: Session) -> None:
    """Group buses for families with two or more tracks (members routed to them), and a reverb
    and a delay return with a send from every track at -inf (off until a decision sets it).
    Buses that already exist are kept as they are."""
    existing = {b.id for b in session.buses}
    members: dict[str, list[int]] = {}
    for i, t in enumerate(session.tracks):
        members.setdefault(family_of(t.role), []).append(i)
    for family, idx in members.items():
        bus_id, bus_name = FAMILY_BUSES[family]
        if len(idx) < 2:
            continue
        if bus_id not in existing:
            session.buses.append(
                Bus(
                    id=bus_id,
                    name=bus_name,
                    kind="group",
                    colour=colour_of(session.tracks[idx[0]].role),
                )
            )
            existing.add(bus_id)
            session.history.append(
                _entry(
                    "prep",
                    bus_name,
                    f"buses[{bus_id}]",
                    None,
                    "group bus",
                    f"groups the {len(idx)} {family} tracks so they can be processed together",
                    {"members": [session.tracks[i].id for i in idx]},
                )
            )
        for i in idx:
            t = session.tracks[i]
            if t.bus is None:
                t.bus = bus_id
    if REVERB_BUS not in existing:
        reverb = Bus(id=REVERB_BUS, name="Reverb", kind="aux", effect=Reverb(), colour="#6C7A89")
        reverb.chain.high_pass = Filter(enabled=True, freq_hz=200.0, slope_db_oct=12)
        reverb.chain.low_pass = Filter(enabled=True, freq_hz=9000.0, slope_db_oct=12)
        session.buses.append(reverb)
    if DELAY_BUS not in existing:
        delay = Bus(id=DELAY_BUS, name="Delay", kind="aux", effect=Delay(), colour="#6C7A89")
        delay.chain.high_pass = Filter(enabled=True, freq_hz=250.0, slope_db_oct=12)
        delay.chain.low_pass = Filter(enabled=True, freq_hz=7000.0, slope_db_oct=12)
        session.buses.append(delay)
    for t in session.tracks:
        have = {s.bus for s in t.chain.sends}
        for bus in (REVERB_BUS, DELAY_BUS):
            if bus not in have:
                t.chain.sends = [*t.chain.sends, Send(bus=bus, level_db=-math.inf)]
