"""The session document: the whole mix as plain, editable, validated data.

A session is JSON on disk (``format: 1``). Every value is an ordinary mixing parameter with its
unit in its name: gains in dB, frequencies in Hz, times in ms (``_s`` for seconds), pan in
[-1 (hard left), +1 (hard right)]. A level of minus infinity (a send switched off, a muted
fader) is written as the string ``"-inf"`` so the file stays strict JSON.

Signal flow of a track (in this order)::

    click repairs -> region edits -> trim -> polarity -> delay -> high-pass -> low-pass -> EQ bands
      -> compressor -> fader -> width/pan -> (group bus | mix bus), sends -> aux buses

Group buses sum their member tracks and have their own chain; aux buses (reverb, delay) take
sends and return to the mix bus. The master chain takes the mix bus:
``high-pass -> EQ -> glue compressor -> gain (or loudness target) -> true-peak limiter``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from mixwise.roles import Role

FORMAT_VERSION = 1


def _parse_db(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("-inf", "-infinity", "off"):
        return -math.inf
    return value


def _dump_db(value: float) -> float | str:
    return "-inf" if value == -math.inf else value


#: A level in dB that may be minus infinity (written as ``"-inf"``).
LevelDb = Annotated[
    float,
    BeforeValidator(_parse_db),
    PlainSerializer(_dump_db, return_type=Any, when_used="json"),
    Field(le=24.0),
]

Hz = Annotated[float, Field(ge=10.0, le=24_000.0)]
Gain = Annotated[float, Field(ge=-48.0, le=48.0)]
Q = Annotated[float, Field(ge=0.1, le=40.0)]
Colour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, allow_inf_nan=True, ser_json_inf_nan="strings"
    )


# --------------------------------------------------------------------------------------------
# processors


class Filter(_Model):
    """A high- or low-pass filter: Butterworth, ``slope_db_oct`` of 6-48 dB per octave.

    12 dB/oct is the RBJ cookbook HPF/LPF with Q = 0.7071; steeper slopes cascade Butterworth
    sections, so the -3 dB point is ``freq_hz`` for every slope.
    """

    enabled: bool = False
    freq_hz: Hz = 80.0
    slope_db_oct: Literal[6, 12, 18, 24, 36, 48] = 12


EQType = Literal["peak", "low_shelf", "high_shelf", "notch", "band_pass", "low_pass", "high_pass"]


class EQBand(_Model):
    """One parametric EQ band, an RBJ "Audio EQ Cookbook" biquad.

    ``gain_db`` applies to ``peak`` and the shelves; ``q`` is the cookbook Q (for shelves, Q =
    0.7071 is the steepest shelf without overshoot, i.e. the cookbook's S = 1).
    """

    type: EQType = "peak"
    enabled: bool = True
    freq_hz: Hz = 1000.0
    gain_db: Gain = 0.0
    q: Q = 0.7071


class Compressor(_Model):
    """Feed-forward compressor with a soft knee, linked across channels.

    Static curve: above ``threshold_db`` the output rises ``1/ratio`` dB per input dB; the knee
    spreads the bend over ``knee_db`` centred on the threshold. ``detector`` ``"peak"`` follows
    the signal's peak envelope (a sine's level is its peak level, dBFS), ``"rms"`` its RMS
    over ~10 ms. Attack and release (ms) are the time constants of the gain change.
    """

    enabled: bool = False
    threshold_db: Annotated[float, Field(ge=-80.0, le=0.0)] = -18.0
    ratio: Annotated[float, Field(ge=1.0, le=100.0)] = 2.0
    attack_ms: Annotated[float, Field(ge=0.01, le=1000.0)] = 10.0
    release_ms: Annotated[float, Field(ge=1.0, le=5000.0)] = 100.0
    knee_db: Annotated[float, Field(ge=0.0, le=24.0)] = 6.0
    makeup_db: Annotated[float, Field(ge=-24.0, le=24.0)] = 0.0
    detector: Literal["peak", "rms"] = "peak"


class Limiter(_Model):
    """Look-ahead true-peak limiter: the output never exceeds ``ceiling_dbtp`` (dBTP)."""

    enabled: bool = True
    ceiling_dbtp: Annotated[float, Field(ge=-20.0, le=0.0)] = -1.0
    lookahead_ms: Annotated[float, Field(ge=0.5, le=10.0)] = 1.5
    release_ms: Annotated[float, Field(ge=5.0, le=2000.0)] = 80.0


class Send(_Model):
    """A send from a track to an aux bus, ``level_db`` (``"-inf"`` = off)."""

    bus: Ident
    level_db: LevelDb = -math.inf
    pre_fader: bool = False


class Region(_Model):
    """A kept part of the source, in seconds of the session timeline, with fades (ms).

    A track with no regions plays its whole source; with regions, only their union plays
    (non-destructive trims: the source file is never edited).
    """

    start_s: Annotated[float, Field(ge=0.0)]
    end_s: Annotated[float, Field(gt=0.0)]
    fade_in_ms: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    fade_out_ms: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0

    @model_validator(mode="after")
    def _ordered(self) -> Region:
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be after start_s ({self.start_s})")
        return self


class Repair(_Model):
    """A click repair: ``length_samples`` samples of the source from ``time_s`` (session
    timeline, s) re-estimated by interpolation from the music around them while rendering
    (the file itself is untouched). ``channel`` 0/1, or ``None`` for every channel."""

    time_s: Annotated[float, Field(ge=0.0)]
    length_samples: Annotated[int, Field(ge=1, le=64)] = 1
    channel: Annotated[int, Field(ge=0, le=1)] | None = None


class GainRamp(_Model):
    """Fader automation: from ``start_s`` to ``end_s`` (s, session timeline) the fader is moved
    by ``gain_db``, ramping in and out over ``ramp_ms`` (ms) centred on each edge."""

    start_s: Annotated[float, Field(ge=0.0)]
    end_s: Annotated[float, Field(gt=0.0)]
    gain_db: Gain = 0.0
    ramp_ms: Annotated[float, Field(ge=0.0, le=5000.0)] = 50.0
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> GainRamp:
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be after start_s ({self.start_s})")
        return self


class BusChain(_Model):
    """The processing every channel has (a bus's whole chain): filters, EQ, compressor, fader,
    width and pan (balance for stereo)."""

    high_pass: Filter = Field(default_factory=Filter)
    low_pass: Filter = Field(default_factory=lambda: Filter(freq_hz=20_000.0))
    eq: Annotated[list[EQBand], Field(max_length=32)] = Field(default_factory=list)
    compressor: Compressor = Field(default_factory=Compressor)
    fader_db: LevelDb = 0.0
    width: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0
    pan: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    mute: bool = False


class Chain(BusChain):
    """A track's chain: a bus chain plus trim, polarity and delay before the filters, solo,
    and sends. The signal flows in the order of the module docstring."""

    trim_db: Gain = 0.0
    polarity_inverted: bool = False
    delay_ms: Annotated[float, Field(ge=-100.0, le=2000.0)] = 0.0
    solo: bool = False
    sends: list[Send] = Field(default_factory=list)
    automation: list[GainRamp] = Field(default_factory=list)


class SourceFile(_Model):
    """The input file a track plays and what it was (rates in Hz, sizes in bytes)."""

    path: str
    format: str = ""
    subtype: str = ""
    sample_rate: int = 0
    channels: Annotated[int, Field(ge=1, le=2)] = 1
    frames: Annotated[int, Field(ge=0)] = 0
    size_bytes: Annotated[int, Field(ge=0)] = 0


class Track(_Model):
    """One stem in the mix."""

    id: Ident
    name: str
    source: SourceFile
    role: Role = "other"
    role_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    role_locked: bool = False
    colour: Colour = "#8A8F98"
    bus: Ident | None = None
    regions: list[Region] = Field(default_factory=list)
    repairs: list[Repair] = Field(default_factory=list)
    chain: Chain = Field(default_factory=Chain)


# --------------------------------------------------------------------------------------------
# buses and master


class Reverb(_Model):
    """A generated (not sampled) stereo reverb: a seeded, exponentially decaying noise tail.

    ``decay_s`` is RT60 at mid frequencies; ``damping`` (0-1) shortens the high-frequency
    decay (1 = highs decay twice as fast); ``width`` (0-1) the stereo decorrelation.
    """

    type: Literal["reverb"] = "reverb"
    decay_s: Annotated[float, Field(ge=0.1, le=10.0)] = 1.6
    predelay_ms: Annotated[float, Field(ge=0.0, le=250.0)] = 20.0
    damping: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    width: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    seed: Annotated[int, Field(ge=0)] = 1


class Delay(_Model):
    """A stereo feedback delay; each repeat is low-passed at ``damping_hz``."""

    type: Literal["delay"] = "delay"
    time_left_ms: Annotated[float, Field(ge=1.0, le=4000.0)] = 375.0
    time_right_ms: Annotated[float, Field(ge=1.0, le=4000.0)] = 500.0
    feedback: Annotated[float, Field(ge=0.0, le=0.95)] = 0.3
    damping_hz: Hz = 6000.0


Effect = Annotated[Reverb | Delay, Field(discriminator="type")]


class Bus(_Model):
    """A group bus (sums member tracks) or an aux bus (takes sends, holds an effect).

    On an aux bus the filters run *before* the effect (sends are pre-filtered) and the EQ,
    compressor and fader after it.
    """

    id: Ident
    name: str
    kind: Literal["group", "aux"]
    colour: Colour = "#8A8F98"
    effect: Effect | None = None
    chain: BusChain = Field(default_factory=BusChain)


class Master(_Model):
    """The master chain on the mix bus.

    With ``target_lufs`` set, the renderer finds the gain before the limiter that makes the
    master measure ``target_lufs`` (integrated, BS.1770); otherwise it applies ``gain_db``.
    """

    high_pass: Filter = Field(default_factory=lambda: Filter(freq_hz=20.0))
    eq: Annotated[list[EQBand], Field(max_length=32)] = Field(default_factory=list)
    compressor: Compressor = Field(default_factory=Compressor)
    gain_db: Gain = 0.0
    target_lufs: Annotated[float, Field(ge=-40.0, le=-3.0)] | None = -14.0
    limiter: Limiter = Field(default_factory=Limiter)


class Marker(_Model):
    """A named point in time (s), or a range to ``end_s``; ``kind`` tells a section marker from
    a timed comment (feedback from the artist or a collaborator)."""

    time_s: Annotated[float, Field(ge=0.0)]
    end_s: Annotated[float, Field(ge=0.0)] | None = None
    name: str
    kind: Literal["marker", "comment"] = "marker"
    text: str = ""
    author: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Marker:
        if self.end_s is not None and self.end_s <= self.time_s:
            raise ValueError(f"end_s ({self.end_s}) must be after time_s ({self.time_s})")
        return self


Level = Literal["auto", "conditional", "partial", "assist", "manual"]


class Intent(_Model):
    """What the user asked the automation to do, kept in the session so it persists across runs.

    level : ``auto`` applies everything; ``conditional`` applies what respects ``locks`` (the
        rest adapts); ``partial`` runs only ``tasks``; ``assist`` proposes and applies nothing;
        ``manual`` renders the session as written.
    tasks : the automatic-mix tasks that may run (``gain``, ``pan``, ``eq``, ...).
    amount_pct : how far each move goes, 0-100 %, per task and under ``"all"`` (the global
        amount, multiplied with the task's): 0 % leaves a parameter as it was, 50 % moves it
        halfway (in its own unit: dB, Hz on a log scale, pan), 100 % is the full suggestion.
    locks : what automation must never change: parameter paths with ``*`` wildcards
        (``tracks[vox].chain.fader_db``, ``tracks[*].chain.compressor*``), whole tracks
        (``track:vox``), roles (``role:kick``) or tasks (``task:dynamics``).
    target_lufs, ceiling_dbtp : the master target (LUFS integrated, dBTP).
    reference : a reference track (path) the mix and master are steered toward.
    profile : a genre profile (``pop``, ``rock``, ``hiphop``, ``edm``, ``jazz``, ``acoustic``)
        that shifts the balance, tone, space and dynamics targets (``assist/profiles.py``).
    """

    level: Level = "auto"
    tasks: list[str] | None = None
    amount_pct: dict[str, Annotated[float, Field(ge=0.0, le=100.0)]] = Field(default_factory=dict)
    locks: list[str] = Field(default_factory=list)
    target_lufs: Annotated[float, Field(ge=-40.0, le=-3.0)] | None = None
    ceiling_dbtp: Annotated[float, Field(ge=-20.0, le=0.0)] | None = None
    reference: str | None = None
    profile: str | None = None


class Change(_Model):
    """What a change of one parameter is, and why.

    ``parameter`` is a path into the session (``tracks[kick].chain.fader_db``); ``old`` and
    ``new`` are the values before and after, in ``unit``; ``evidence`` holds the measurements
    behind ``reason`` (their names carry units).
    """

    task: str
    target: str
    parameter: str
    old: Any = None
    new: Any = None
    unit: str = ""
    reason: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)


class HistoryEntry(Change):
    """One applied change, with when and by whom, so a mix can be explained and undone."""

    time: str
    source: Literal["auto", "user", "import"] = "auto"


class Proposal(Change):
    """A suggested change not applied yet, numbered (for "apply 3 5 7"), with its status."""

    number: Annotated[int, Field(ge=1)]
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    status: Literal["pending", "applied", "rejected"] = "pending"


class Session(_Model):
    """The mix document. ``sample_rate`` (Hz) is the rate every stem is rendered at."""

    format: Literal[1] = FORMAT_VERSION
    name: str = "Untitled mix"
    sample_rate: Annotated[int, Field(ge=8000, le=384_000)] = 48_000
    length_s: Annotated[float, Field(ge=0.0)] = 0.0
    tracks: list[Track] = Field(default_factory=list)
    buses: list[Bus] = Field(default_factory=list)
    master: Master = Field(default_factory=Master)
    markers: list[Marker] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    proposals: list[Proposal] = Field(default_factory=list)
    intent: Intent = Field(default_factory=Intent)
    created_by: str = ""

    @model_validator(mode="after")
    def _references(self) -> Session:
        _check_unique("tracks", [t.id for t in self.tracks])
        _check_unique("buses", [b.id for b in self.buses])
        kinds = {b.id: b.kind for b in self.buses}
        for i, t in enumerate(self.tracks):
            if t.bus is not None and kinds.get(t.bus) != "group":
                raise ValueError(
                    f"tracks[{i}].bus: {t.bus!r} is not the id of a group bus "
                    f"(group buses: {_ids(kinds, 'group')})"
                )
            for j, s in enumerate(t.chain.sends):
                if kinds.get(s.bus) != "aux":
                    raise ValueError(
                        f"tracks[{i}].chain.sends[{j}].bus: {s.bus!r} is not the id of an aux "
                        f"bus (aux buses: {_ids(kinds, 'aux')})"
                    )
        for i, b in enumerate(self.buses):
            if b.kind == "group" and b.effect is not None:
                raise ValueError(f"buses[{i}].effect: a group bus holds no effect")
        return self

    # convenience look-ups ---------------------------------------------------------------
    def track(self, track_id: str) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(track_id)

    def bus(self, bus_id: str) -> Bus:
        for b in self.buses:
            if b.id == bus_id:
                return b
        raise KeyError(bus_id)


def _check_unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise ValueError(f"{what}[{i}].id: {x!r} is used twice; ids must be unique")
        seen.add(x)


def _ids(kinds: dict[str, str], kind: str) -> str:
    found = [k for k, v in kinds.items() if v == kind]
    return ", ".join(found) if found else "none"
