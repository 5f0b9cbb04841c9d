"""Genre profiles: how a style shifts the automatic mix's defaults.

A profile (``mix --profile rock``, kept in the session's intent) is a small set of offsets on
what the assistants aim for, never a different engine:

* ``role_lu``: added to the balance targets (LU relative to the lead, ``balance.ROLE_TARGET_LU``);
* ``tone``: a tilt (dB per octave around 1 kHz) and a low-end offset (dB below ~120 Hz) added
  to the mastering tonal target (``mastering.TONAL_TARGET``);
* ``reverb_lu``: added to every reverb/delay return target (``space``);
* ``amounts``: per-task amounts (0-1) multiplied with the user's (``control.Policy``), e.g. a
  jazz profile compresses half as much.

The directions follow what engineering texts and measurements of commercial mixes report for
each style (facts, in mixwise's own numbers): hip-hop and electronic dance music put kick and
bass forward with a heavier low end and drier vocals; rock puts guitars and drums up with the
vocal slightly inside the band; jazz and acoustic music keep more dynamics, more room and a
lighter low end; pop keeps the vocal on top, bright and controlled. The sizes are modest
(1-3 dB), so a profile steers without overriding what the stems themselves call for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mixwise.session.model import Session


@dataclass(frozen=True)
class Profile:
    """One style's offsets (see the module docstring for the units)."""

    description: str
    role_lu: dict[str, float] = field(default_factory=dict)
    tilt_db_per_oct: float = 0.0
    low_end_db: float = 0.0
    reverb_lu: float = 0.0
    amounts: dict[str, float] = field(default_factory=dict)


PROFILES: dict[str, Profile] = {
    "pop": Profile(
        "vocal on top, bright and controlled",
        role_lu={"backing_vocal": -0.5, "pad": -1.0},
        tilt_db_per_oct=0.3,
    ),
    "rock": Profile(
        "guitars and drums up, the vocal inside the band, little reverb",
        role_lu={"electric_guitar": 1.5, "snare": 1.0, "kick": 0.5, "toms": 1.0, "keys": -1.0},
        tilt_db_per_oct=0.1,
        reverb_lu=-2.0,
    ),
    "hiphop": Profile(
        "kick and bass forward, heavy low end, a dry upfront vocal",
        role_lu={"kick": 2.0, "bass": 2.5, "drum_loop": 1.5, "snare": 0.5, "pad": -2.0},
        low_end_db=2.0,
        reverb_lu=-4.0,
    ),
    "edm": Profile(
        "kick and bass drive it, bright top, wide synths",
        role_lu={"kick": 2.0, "bass": 2.0, "synth": 1.0, "drum_loop": 1.0},
        tilt_db_per_oct=0.4,
        low_end_db=1.5,
        reverb_lu=-1.0,
    ),
    "jazz": Profile(
        "natural dynamics and room, a light low end, the band around the soloist",
        role_lu={"piano": 1.0, "brass_winds": 1.0, "room": 2.0, "cymbals": 1.0, "kick": -1.5},
        tilt_db_per_oct=-0.2,
        low_end_db=-1.5,
        reverb_lu=2.0,
        amounts={"dynamics": 0.5},
    ),
    "acoustic": Profile(
        "voice and acoustic instruments forward, gentle dynamics, a little more space",
        role_lu={"acoustic_guitar": 1.5, "piano": 0.5, "kick": -1.0, "synth": -1.0},
        low_end_db=-1.0,
        reverb_lu=1.5,
        amounts={"dynamics": 0.6},
    ),
}


def profile_of(session: Session) -> Profile | None:
    """The profile the session's intent names, or ``None``."""
    name = session.intent.profile
    return PROFILES.get(name) if name else None


def role_offset_lu(session: Session, role: str) -> float:
    """The profile's offset (LU) on the balance target of ``role``."""
    p = profile_of(session)
    return p.role_lu.get(role, 0.0) if p is not None else 0.0


def tone_offset_db(session: Session, centres_hz: np.ndarray) -> np.ndarray:
    """The profile's change to the mastering tonal target at ``centres_hz`` (dB)."""
    c = np.asarray(centres_hz, float)
    p = profile_of(session)
    if p is None:
        return np.zeros(len(c))
    tilt = p.tilt_db_per_oct * np.log2(c / 1000.0)
    low = p.low_end_db * np.clip(np.log2(240.0 / c), 0.0, 1.0)  # full below 120 Hz
    return tilt + low


def reverb_offset_lu(session: Session) -> float:
    """The profile's offset (LU) on the reverb/delay return targets."""
    p = profile_of(session)
    return p.reverb_lu if p is not None else 0.0


def task_amount(session_profile: str | None, task: str) -> float:
    """The profile's amount (0-1) for ``task``."""
    p = PROFILES.get(session_profile) if session_profile else None
    return p.amounts.get(task, 1.0) if p is not None else 1.0
