"""The fixed vocabulary of track roles, their families, colours and display order.

A *role* says what a stem is (``kick``, ``lead_vocal`` ...); a *family* groups roles the way
engineers group tracks on a console (drums, bass, guitar, keys, vocals, other). Colours follow
the common console convention of one hue per family; the order is the usual top-to-bottom
(left-to-right) order of a mix session: drums, bass, guitars, keys, other, vocals, FX.
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal[
    "kick",
    "snare",
    "toms",
    "hihat",
    "cymbals",
    "room",
    "percussion",
    "drum_loop",
    "bass",
    "electric_guitar",
    "acoustic_guitar",
    "piano",
    "keys",
    "synth",
    "pad",
    "strings",
    "brass_winds",
    "lead_vocal",
    "backing_vocal",
    "fx",
    "other",
]
ROLES: tuple[str, ...] = get_args(Role)

Family = Literal["drums", "bass", "guitar", "keys", "vocals", "other"]
FAMILIES: tuple[str, ...] = get_args(Family)

ROLE_FAMILY: dict[str, str] = {
    "kick": "drums",
    "snare": "drums",
    "toms": "drums",
    "hihat": "drums",
    "cymbals": "drums",
    "room": "drums",
    "percussion": "drums",
    "drum_loop": "drums",
    "bass": "bass",
    "electric_guitar": "guitar",
    "acoustic_guitar": "guitar",
    "piano": "keys",
    "keys": "keys",
    "synth": "other",
    "pad": "other",
    "strings": "other",
    "brass_winds": "other",
    "lead_vocal": "vocals",
    "backing_vocal": "vocals",
    "fx": "other",
    "other": "other",
}

#: Human-readable role names, for tables and reports.
ROLE_LABELS: dict[str, str] = {
    "kick": "Kick",
    "snare": "Snare",
    "toms": "Toms",
    "hihat": "Hi-hat",
    "cymbals": "Overheads / cymbals",
    "room": "Room",
    "percussion": "Percussion",
    "drum_loop": "Drum loop",
    "bass": "Bass",
    "electric_guitar": "Electric guitar",
    "acoustic_guitar": "Acoustic guitar",
    "piano": "Piano",
    "keys": "Keys / organ",
    "synth": "Synth",
    "pad": "Pad",
    "strings": "Strings",
    "brass_winds": "Brass / winds",
    "lead_vocal": "Lead vocal",
    "backing_vocal": "Backing vocal",
    "fx": "FX",
    "other": "Other",
}

#: One colour per family (hex RGB), and FX apart from "other" so effects stand out.
FAMILY_COLOURS: dict[str, str] = {
    "drums": "#D94A3D",  # red
    "bass": "#E8A33D",  # amber
    "guitar": "#5DAA48",  # green
    "keys": "#3F8FD2",  # blue
    "vocals": "#B25FC7",  # purple
    "other": "#4FB7B0",  # teal (synths, pads, strings, brass)
}
FX_COLOUR = "#8A8F98"  # grey

#: Session order of roles, top to bottom.
ROLE_ORDER: tuple[str, ...] = (
    "kick",
    "snare",
    "toms",
    "hihat",
    "cymbals",
    "room",
    "percussion",
    "drum_loop",
    "bass",
    "electric_guitar",
    "acoustic_guitar",
    "piano",
    "keys",
    "synth",
    "pad",
    "strings",
    "brass_winds",
    "other",
    "lead_vocal",
    "backing_vocal",
    "fx",
)


def family_of(role: str) -> str:
    """The family (``drums``, ``bass``, ``guitar``, ``keys``, ``vocals``, ``other``) of ``role``."""
    return ROLE_FAMILY.get(role, "other")


def colour_of(role: str) -> str:
    """The conventional colour (``#RRGGBB``) for ``role``."""
    if role == "fx":
        return FX_COLOUR
    return FAMILY_COLOURS[family_of(role)]


def order_of(role: str) -> int:
    """Sort key placing ``role`` in the conventional session order."""
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)
