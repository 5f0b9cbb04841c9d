"""Panning: the low end and the lead in the centre, pairs spread symmetrically, the rest placed
so the left and right halves of the mix carry about the same spectrum.

Conventions followed (common engineering practice, e.g. Izhaki, *Mixing Audio*, and the
automatic-panning studies of Perez-Gonzalez & Reiss, AES 2007 and 2010): sources below about
150 Hz, the kick, snare, bass and lead vocal stay central; hi-hat and percussion go a little off
centre; rhythm instruments and backing parts go wider, in symmetric pairs where the arrangement
has them; stereo stems (overheads, stereo keys, bounced loops) keep their recorded image, and
are only re-centred when a centre part arrives lopsided.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np

from mixwise.analysis.spectrum import BandFrames
from mixwise.session.edit import Suggestion
from mixwise.session.model import Session, Track

#: Roles that stay in the centre whatever else happens.
CENTRE_ROLES = {"kick", "snare", "bass", "lead_vocal", "drum_loop"}
#: How far from the centre a mono part of each role goes (pan units, 1 = hard).
ROLE_SPREAD: dict[str, float] = {
    "hihat": 0.3,
    "toms": 0.5,
    "cymbals": 0.5,
    "room": 0.6,
    "percussion": 0.45,
    "electric_guitar": 0.6,
    "acoustic_guitar": 0.5,
    "piano": 0.35,
    "keys": 0.4,
    "synth": 0.3,
    "pad": 0.5,
    "strings": 0.5,
    "brass_winds": 0.3,
    "backing_vocal": 0.5,
    "fx": 0.6,
    "other": 0.25,
}
#: A part with more than this share of its energy below 150 Hz is low end: centred.
LOW_END_SHARE = 0.5
#: A stereo centre part more lopsided than this (dB between channels) is re-centred.
LOPSIDED_DB = 1.5
_LEFT = re.compile(r"(?:^|[\s_\-.(])(l|left|links|gauche)(?:$|[\s_\-.)\d])", re.I)
_RIGHT = re.compile(r"(?:^|[\s_\-.(])(r|right|rechts|droite)(?:$|[\s_\-.)\d])", re.I)


def low_end_share(bf: BandFrames) -> float:
    """Share (0-1) of a stem's energy in bands centred below 150 Hz."""
    p = bf.power.sum(axis=(0, 2))
    return float(p[bf.centres_hz < 150].sum() / max(p.sum(), 1e-30))


def channel_balance_db(bf: BandFrames) -> float:
    """Left minus right level (dB) of a stereo stem; 0 for mono."""
    if bf.channels < 2:
        return 0.0
    left, right = (float(bf.power[c].sum()) for c in (0, 1))
    if left <= 0 or right <= 0:
        return 0.0
    return 10.0 * math.log10(left / right)


def _named_side(name: str) -> int:
    if _LEFT.search(name):
        return -1
    if _RIGHT.search(name):
        return 1
    return 0


def _recentre_pan(balance_db: float) -> float:
    """The balance setting that brings a stereo stem ``balance_db`` louder on the left back to
    equal channel levels (mixwise's balance law turns the louder side down)."""
    # balance p > 0 keeps the right at unity and scales the left by sqrt(2) cos((p+1) pi/4)
    target = 10 ** (-abs(balance_db) / 20.0)
    p = 4.0 / math.pi * math.acos(target / math.sqrt(2.0)) - 1.0
    return round(min(1.0, p) * (1 if balance_db > 0 else -1), 3)


def plan_panning(session: Session, bands: Mapping[str, BandFrames]) -> dict[str, tuple[float, str]]:
    """Track id -> (pan, why) for every track (see the module docstring)."""
    plan: dict[str, tuple[float, str]] = {}
    free: list[Track] = []
    for t in session.tracks:
        bf = bands.get(t.id)
        if bf is None:
            continue
        low = low_end_share(bf)
        if bf.channels == 2:
            bal = channel_balance_db(bf)
            if (t.role in CENTRE_ROLES or low > LOW_END_SHARE) and abs(bal) > LOPSIDED_DB:
                plan[t.id] = (
                    _recentre_pan(bal),
                    f"re-centres a {bal:+.1f} dB lopsided centre part",
                )
            else:
                plan[t.id] = (0.0, "a stereo stem keeps its recorded image")
        elif t.role in CENTRE_ROLES or low > LOW_END_SHARE:
            why = "low end stays in the centre" if low > LOW_END_SHARE else "stays in the centre"
            plan[t.id] = (0.0, f"{t.role.replace('_', ' ')}: {why}")
        else:
            free.append(t)
    _place_free(free, bands, plan, session)
    return plan


def _place_free(
    free: list[Track],
    bands: Mapping[str, BandFrames],
    plan: dict[str, tuple[float, str]],
    session: Session,
) -> None:
    """Named sides first, then same-role pairs mirrored, then one by one (loudest first) to
    the side whose spectrum is weaker so far."""
    lr = np.zeros((2, len(next(iter(bands.values())).centres_hz)))

    def spectrum(t: Track) -> np.ndarray:
        bf = bands[t.id]
        return bf.power.sum(axis=(0, 2)) * 10 ** ((t.chain.trim_db + t.chain.fader_db) / 10)

    def put(t: Track, pan: float, why: str) -> None:
        plan[t.id] = (round(pan, 2), why)
        s = spectrum(t)
        theta = (pan + 1) * math.pi / 4
        lr[0] += s * math.cos(theta) ** 2
        lr[1] += s * math.sin(theta) ** 2

    rest = []
    for t in free:
        side = _named_side(t.name)
        if side:
            spread = max(ROLE_SPREAD.get(t.role, 0.3), 0.6)
            put(t, side * spread, "its name says which side it belongs to")
        else:
            rest.append(t)
    by_role: dict[str, list[Track]] = {}
    for t in rest:
        by_role.setdefault(t.role, []).append(t)
    singles = []
    for role, group in by_role.items():
        spread = ROLE_SPREAD.get(role, 0.3)
        group.sort(key=lambda t: -float(spectrum(t).sum()))
        while len(group) >= 2:
            a, b = group.pop(0), group.pop(0)
            side = -1 if lr[0].sum() <= lr[1].sum() else 1
            why = f"paired with {b.name}: two {role.replace('_', ' ')} parts spread symmetrically"
            put(a, side * spread, why)
            put(b, -side * spread, why.replace(b.name, a.name))
        singles.extend(group)
    singles.sort(key=lambda t: -float(spectrum(t).sum()))
    for t in singles:
        spread = ROLE_SPREAD.get(t.role, 0.3)
        s = spectrum(t)
        # choose the side that leaves the smaller left/right difference across the bands (dB-ish)
        costs = []
        for side in (-1, 1):
            theta = (side * spread + 1) * math.pi / 4
            L = lr[0] + s * math.cos(theta) ** 2
            R = lr[1] + s * math.sin(theta) ** 2
            costs.append(float(np.sum(np.abs(np.log10((L + 1e-12) / (R + 1e-12))) * (L + R))))
        side = -1 if costs[0] <= costs[1] else 1
        where = "left" if side < 0 else "right"
        put(t, side * spread, f"placed {where} where the mix's spectrum was weaker, for balance")


def suggest_panning(session: Session, bands: Mapping[str, BandFrames]) -> list[Suggestion]:
    """Pan suggestions for every track whose pan should change."""
    out = []
    plan = plan_panning(session, bands)
    for t in session.tracks:
        if t.id not in plan:
            continue
        pan, why = plan[t.id]
        if abs(pan - t.chain.pan) < 0.005:
            continue
        out.append(
            Suggestion(
                task="pan",
                target=t.name,
                parameter=f"tracks[{t.id}].chain.pan",
                old=t.chain.pan,
                new=pan,
                reason=why,
                evidence={
                    "low_end_share": round(low_end_share(bands[t.id]), 3),
                    "channel_balance_db": round(channel_balance_db(bands[t.id]), 2),
                    "channels": bands[t.id].channels,
                },
                confidence=0.7,
            )
        )
    return out
