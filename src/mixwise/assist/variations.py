"""Alternative mixes: distinct, musically sensible variations built on the automatic mix.

A variation is a list of :class:`~mixwise.session.edit.Suggestion` records (task
``"variation"``, each with its reason) applied to a *copy* of the proposal session, so every
alternative stays an ordinary editable session whose history says how it differs.

Two kinds:

* **Named** (:data:`VARIATIONS`): a recognisable direction an engineer would offer a client,
  each a small set of moves on ordinary parameters:

  =================  ===========================================================================
  ``vocal-forward``  the lead +2.5 dB against the rest, a presence lift on it
  ``wide``           stereo parts wider, pans spread, centred side parts moved out; low end stays
  ``punchy``         drums and bass forward, drum compression slower and harder, low-mid cut
  ``bright``         presence and air shelves on the master
  ``dry``            reverb and delay sends well down: close and intimate
  ``warm``           low-mid warmth on the master, highs softened
  ``spacious``       sends up and a longer reverb (alias ``wet``)
  ``narrow``         pans and stereo widths halfway to mono (alias ``mono-ish``)
  =================  ===========================================================================

  Amounts (dB, widths, pan factors) are the module constants below; they are common
  engineering moves of a size a listener hears at once (1.5-3 dB, widths by half), not
  measured optima.
* **Sampled** (:func:`sample_variation`): a random perturbation of the proposal for a fixed
  seed, within what still sounds like the same mix: faders +-1.5 dB, pans of off-centre parts
  +-0.15, the master's low and high shelves +-1.5 dB, active sends +-3 dB. Each is described
  by its largest differences ("Drums +1.2 dB, Vocals -0.8 dB, brighter").

The builders read the session and a :class:`VariationContext` (the lead, the low-end parts,
optional stem meters) and never change their input. A parameter the user has locked
(``session.intent.locks``, see :class:`~mixwise.assist.control.Policy`) is never moved: the
move is dropped with a note.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mixwise.analysis.meters import Meters
from mixwise.analysis.spectrum import BandFrames
from mixwise.errors import ParameterError
from mixwise.roles import family_of
from mixwise.session.edit import Suggestion, apply_suggestion, get_parameter
from mixwise.session.model import Compressor, EQBand, Reverb, Session, Track

TASK = "variation"
_CONFIDENCE = 0.5

#: vocal-forward: lift of the lead (dB) and its presence band (Hz, dB, Q).
LEAD_LIFT_DB = 2.5
PRESENCE_BAND = (4000.0, 1.5, 0.9)
#: wide: stereo width multiplier (capped at 2), pan spread multiplier (capped at +-1), width of
#: a used aux return.
WIDE_WIDTH_FACTOR = 1.5
WIDE_PAN_FACTOR = 1.5
WIDE_AUX_WIDTH = 1.5
#: wide also moves a centred mono (or mono-like) part of a role that need not be central out to
#: the pan factor times its role's usual spread (``assist.panning.ROLE_SPREAD``), sides
#: alternating from the left.
#: narrow: the same, towards mono.
NARROW_WIDTH_FACTOR = 0.5
NARROW_PAN_FACTOR = 0.5
NARROW_AUX_WIDTH = 0.6
#: punchy: drums and bass lifts (dB), the drum compressors' slowest attack (ms) and added
#: ratio, a new drum compressor's settings and aimed reduction (dB), the master low-mid cut.
PUNCH_DRUMS_DB = 1.5
PUNCH_BASS_DB = 1.5
PUNCH_ATTACK_MS = 30.0
PUNCH_EXTRA_RATIO = 1.5
PUNCH_MAX_RATIO = 10.0
PUNCH_NEW_RATIO = 4.0
PUNCH_RELEASE_MS = 120.0
PUNCH_KNEE_DB = 3.0
PUNCH_REDUCTION_DB = 3.0
PUNCH_LOW_MID_CUT = (350.0, -2.0, 1.0)
#: bright: presence and air shelves on the master (Hz, dB, Q).
BRIGHT_SHELVES = ((2500.0, 2.0, 0.7071), (10_000.0, 2.5, 0.7071))
#: warm: low-mid warmth (peak) and softened highs (high shelf) on the master (Hz, dB, Q).
WARM_LOW_MID = (220.0, 1.5, 0.8)
WARM_HIGH_SHELF = (6000.0, -2.0, 0.7071)
#: dry / spacious: change of every active send (dB); spacious reverb decay factor and limit (s).
DRY_SEND_DB = -10.0
WET_SEND_DB = 4.0
WET_DECAY_FACTOR = 1.25
WET_MAX_DECAY_S = 4.0
#: sampled: the perturbation ranges (uniform, +-).
SAMPLE_FADER_DB = 1.5
SAMPLE_PAN = 0.15
SAMPLE_SHELF_DB = 1.5
SAMPLE_SEND_DB = 3.0
#: sampled: shelf frequencies (Hz) used when the master has no shelf yet.
SAMPLE_LOW_SHELF_HZ = 150.0
SAMPLE_HIGH_SHELF_HZ = 6000.0

#: A part with more than this share of its energy below 150 Hz is low end (never widened).
LOW_END_SHARE = 0.5
#: A stereo stem whose L/R correlation is at least this is a point in the image (mono-like).
MONO_LIKE_CORRELATION = 0.98
_LOW_END_ROLES = frozenset({"kick", "bass"})
_CENTRE_ROLES = frozenset({"kick", "snare", "bass", "lead_vocal", "drum_loop"})
#: Drum parts that get a compressor of their own in ``punchy`` (metalwork and room mics don't).
_HIT_ROLES = frozenset({"kick", "snare", "toms", "percussion", "drum_loop"})
_MAX_EQ_BANDS = 32


# --------------------------------------------------------------------------------------------
# what the builders know


@dataclass(frozen=True)
class VariationContext:
    """What the builders know beyond the session.

    lead_ids : the track(s) the mix is built around: the lead vocal(s), else the lead
        instrument (``AutomixResult.lead``)
    low_end_ids : kick, bass and any other part (drums aside) with most of its energy below
        150 Hz: never panned or widened. A stereo drum recording (a loop, overheads) is not in
        it: its kick sits in the middle of the image, and widening scales only the sides
    meters : optional track id -> meters of the raw stem; with them ``punchy`` can set up a
        compressor on drums that have none (its threshold needs the level)
    mono_like_ids : stereo stems whose channels are (nearly) the same (L/R correlation of at
        least :data:`MONO_LIKE_CORRELATION`): a point in the image, which widening cannot
        spread, so ``wide`` places them like mono parts
    """

    lead_ids: tuple[str, ...] = ()
    low_end_ids: tuple[str, ...] = ()
    meters: Mapping[str, Meters] | None = field(default=None, compare=False)
    mono_like_ids: tuple[str, ...] = ()


def context_for(
    session: Session,
    *,
    bands: Mapping[str, BandFrames] | None = None,
    meters: Mapping[str, Meters] | None = None,
    lead: str | None = None,
    correlation: Mapping[str, float] | None = None,
) -> VariationContext:
    """The context of ``session``: ``lead`` (a track id, e.g. the automatic mix's) plus every
    lead-vocal track; without either, the lead found from ``bands`` (see
    :func:`mixwise.assist.balance.find_lead`). Low end from roles and, with ``bands``, from
    each stem's share of energy below 150 Hz. ``correlation``: track id -> L/R correlation of
    the raw stem (``MonoReport.correlation``), to find mono-like stereo stems."""
    ids = {t.id for t in session.tracks}
    leads = [lead] if lead in ids else []
    leads += [t.id for t in session.tracks if t.role == "lead_vocal" and t.id not in leads]
    if not leads and bands:
        from mixwise.assist.balance import find_lead

        found = find_lead(session, bands)
        if found is not None:
            leads = [found.id]
    low = [t.id for t in session.tracks if t.role in _LOW_END_ROLES]
    if bands:
        from mixwise.assist.panning import low_end_share

        low += [
            t.id
            for t in session.tracks
            if t.id in bands
            and t.id not in low
            and family_of(t.role) != "drums"
            and low_end_share(bands[t.id]) > LOW_END_SHARE
        ]
    mono_like = tuple(
        t.id
        for t in session.tracks
        if t.source.channels == 2 and (correlation or {}).get(t.id, 0.0) >= MONO_LIKE_CORRELATION
    )
    return VariationContext(tuple(leads), tuple(low), meters, mono_like)


@dataclass
class VariationPlan:
    """A variation ready to apply: its name, kind (``named`` or ``sampled``), a one-line
    description of how it differs from the proposal, the moves, and notes on what could not be
    done (nothing to change, a lock)."""

    name: str
    kind: str
    description: str
    suggestions: list[Suggestion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seed: int | None = None

    @property
    def is_noop(self) -> bool:
        return not self.suggestions


Built = tuple[list[Suggestion], list[str]]


@dataclass(frozen=True)
class NamedVariation:
    """A named variation: what it does (one line) and the function that builds its moves."""

    name: str
    description: str
    build: Callable[[Session, VariationContext], Built]


# --------------------------------------------------------------------------------------------
# helpers


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def _move(
    session: Session,
    name: str,
    target: str,
    parameter: str,
    new: Any,
    unit: str,
    reason: str,
    evidence: Mapping[str, Any] | None = None,
) -> Suggestion:
    return Suggestion(
        task=TASK,
        target=target,
        parameter=parameter,
        old=_dump(get_parameter(session, parameter)),
        new=new,
        unit=unit,
        reason=f"{name}: {reason}",
        evidence={"variation": name, **dict(evidence or {})},
        confidence=_CONFIDENCE,
    )


def _playing(t: Track) -> bool:
    return not t.chain.mute and t.chain.fader_db != -math.inf


def _fader(session: Session, name: str, t: Track, delta_db: float, why: str) -> Suggestion:
    new = round(min(24.0, t.chain.fader_db + delta_db), 2)
    return _move(
        session,
        name,
        t.name,
        f"tracks[{t.id}].chain.fader_db",
        new,
        "dB",
        why,
        {"change_db": round(delta_db, 2)},
    )


def _band(kind: str, freq_hz: float, gain_db: float, q: float) -> dict[str, Any]:
    band = EQBand(type=kind, freq_hz=freq_hz, gain_db=round(gain_db, 2), q=q)  # type: ignore[arg-type]
    return band.model_dump(mode="json")


def _add_bands(
    session: Session, name: str, parameter: str, target: str, bands: list[dict], why: str
) -> Built:
    current = get_parameter(session, parameter)
    if len(current) + len(bands) > _MAX_EQ_BANDS:
        return [], [f"{target}: its EQ is full ({len(current)} bands); {why} left out"]
    old = _dump(current)
    s = _move(session, name, target, parameter, old + bands, "EQ bands", why)
    return [s], []


def _active_sends(session: Session) -> list[tuple[Track, int]]:
    return [
        (t, i)
        for t in session.tracks
        if _playing(t)
        for i, s in enumerate(t.chain.sends)
        if s.level_db != -math.inf
    ]


def _used_aux(session: Session) -> list[str]:
    used = {t.chain.sends[i].bus for t, i in _active_sends(session)}
    return [b.id for b in session.buses if b.kind == "aux" and b.id in used]


def _scaled_compressor(c: Compressor, ratio: float, **changes: float) -> dict[str, Any]:
    """``c`` with a new ratio; makeup follows the change of the static curve's slope above the
    threshold (``1 - 1/ratio``), so the part's level stays about where it was."""
    old_slope = 1.0 - 1.0 / c.ratio
    new_slope = 1.0 - 1.0 / ratio
    makeup = c.makeup_db * new_slope / old_slope if old_slope > 1e-9 else c.makeup_db
    d = c.model_dump(mode="json")
    d.update(ratio=round(ratio, 2), makeup_db=round(float(np.clip(makeup, -24.0, 24.0)), 2))
    d.update(changes)
    return d


# --------------------------------------------------------------------------------------------
# the named builders


def _vocal_forward(session: Session, ctx: VariationContext) -> Built:
    name = "vocal-forward"
    leads = [t for t in session.tracks if t.id in ctx.lead_ids and _playing(t)]
    if not leads:
        return [], ["no lead part was found, so nothing is brought forward"]
    out: list[Suggestion] = []
    notes: list[str] = []
    f, g, q = PRESENCE_BAND
    for t in leads:
        out.append(
            _fader(
                session,
                name,
                t,
                LEAD_LIFT_DB,
                f"the lead sits {LEAD_LIFT_DB:g} dB further in front of the band",
            )
        )
        s, n = _add_bands(
            session,
            name,
            f"tracks[{t.id}].chain.eq",
            t.name,
            [_band("peak", f, g, q)],
            f"a {g:g} dB presence lift at {f / 1000:g} kHz for diction and focus",
        )
        out += s
        notes += n
    return out, notes


def _spread(
    session: Session,
    ctx: VariationContext,
    name: str,
    width_factor: float,
    pan_factor: float,
    aux_width: float,
) -> Built:
    from mixwise.assist.panning import ROLE_SPREAD

    wider = width_factor > 1.0
    keep = set(ctx.low_end_ids) | set(ctx.lead_ids) if wider else set()
    out: list[Suggestion] = []
    side = -1.0
    for t in session.tracks:
        if t.id in keep or not _playing(t):
            continue
        c = t.chain
        point = t.source.channels == 1 or t.id in ctx.mono_like_ids
        if t.source.channels == 2 and t.id not in ctx.mono_like_ids:
            new = round(float(np.clip(c.width * width_factor, 0.0, 2.0)), 3)
            if abs(new - c.width) > 1e-3:
                how = "opens up" if wider else "folds towards mono"
                why = f"stereo width {c.width:g} -> {new:g}: the image {how}"
                path = f"tracks[{t.id}].chain.width"
                out.append(_move(session, name, t.name, path, new, "", why))
        if not point or (wider and t.role in _CENTRE_ROLES):
            continue
        new = round(float(np.clip(c.pan * pan_factor, -1.0, 1.0)), 3)
        how = "spread further to its side" if wider else "drawn in towards the centre"
        if wider and abs(c.pan) <= 0.01 and t.role in ROLE_SPREAD:
            new = round(side * min(1.0, ROLE_SPREAD[t.role] * pan_factor), 3)
            how = f"moves out of the crowded centre to the {'left' if side < 0 else 'right'}"
            side = -side
        if abs(new - c.pan) > 1e-3:
            path = f"tracks[{t.id}].chain.pan"
            why = f"pan {c.pan:+g} -> {new:+g}: {how}"
            out.append(_move(session, name, t.name, path, new, "", why))
    for bus_id in _used_aux(session):
        bus = session.bus(bus_id)
        if abs(bus.chain.width - aux_width) > 1e-3 and (bus.chain.width < aux_width) == wider:
            how = "wraps around the mix" if wider else "keeps the image focused"
            why = f"return width {bus.chain.width:g} -> {aux_width:g}: the effect {how}"
            path = f"buses[{bus.id}].chain.width"
            out.append(_move(session, name, bus.name, path, aux_width, "", why))
    if not out:
        what = "widen" if wider else "narrow"
        return [], [f"no stereo or off-centre part to {what} (low end and lead stay centred)"]
    return out, []


def _wide(session: Session, ctx: VariationContext) -> Built:
    return _spread(session, ctx, "wide", WIDE_WIDTH_FACTOR, WIDE_PAN_FACTOR, WIDE_AUX_WIDTH)


def _narrow(session: Session, ctx: VariationContext) -> Built:
    return _spread(session, ctx, "narrow", NARROW_WIDTH_FACTOR, NARROW_PAN_FACTOR, NARROW_AUX_WIDTH)


def _new_drum_compressor(t: Track, mt: Meters) -> dict[str, Any] | None:
    """A compressor for a drum part that has none: 4:1, 30 ms attack, about 3 dB of average
    reduction on the hits' bodies, made up (see :mod:`mixwise.assist.dynamics`)."""
    from mixwise.assist.dynamics import (
        TRANSIENT_MS,
        expected_gain_reduction_db,
        level_spread_db,
        model_levels_db,
        threshold_for_reduction_db,
    )

    if not (math.isfinite(mt.active_rms_dbfs) and math.isfinite(mt.sample_peak_dbfs)):
        return None
    lv, w = model_levels_db(mt.active_rms_dbfs + t.chain.trim_db, level_spread_db(mt))
    passed = math.exp(-PUNCH_ATTACK_MS / TRANSIENT_MS)
    curve = dict(
        ratio=PUNCH_NEW_RATIO, knee_db=PUNCH_KNEE_DB, release_ms=PUNCH_RELEASE_MS, weights=w
    )
    threshold = threshold_for_reduction_db(PUNCH_REDUCTION_DB / passed, lv, **curve)
    threshold = float(np.clip(threshold, -80.0, 0.0))
    reduction = passed * expected_gain_reduction_db(lv, threshold_db=threshold, **curve)
    return Compressor(
        enabled=True,
        threshold_db=round(threshold, 1),
        ratio=PUNCH_NEW_RATIO,
        attack_ms=PUNCH_ATTACK_MS,
        release_ms=PUNCH_RELEASE_MS,
        knee_db=PUNCH_KNEE_DB,
        makeup_db=round(float(np.clip(reduction, 0.0, 24.0)), 1),
        detector="rms",
    ).model_dump(mode="json")


def _punchier(c: Compressor) -> dict[str, Any]:
    ratio = max(c.ratio, min(PUNCH_MAX_RATIO, c.ratio + PUNCH_EXTRA_RATIO))
    return _scaled_compressor(c, ratio, attack_ms=max(c.attack_ms, PUNCH_ATTACK_MS))


def _punchy(session: Session, ctx: VariationContext) -> Built:
    name = "punchy"
    out: list[Suggestion] = []
    notes: list[str] = []
    drums = [t for t in session.tracks if family_of(t.role) == "drums" and _playing(t)]
    basses = [t for t in session.tracks if t.role == "bass" and _playing(t)]
    for t in drums:
        out.append(_fader(session, name, t, PUNCH_DRUMS_DB, "the drums come forward"))
    for t in basses:
        out.append(_fader(session, name, t, PUNCH_BASS_DB, "the bass comes forward"))
    why = (
        f"slower attack (at least {PUNCH_ATTACK_MS:g} ms) lets each hit's front through, "
        f"more ratio holds the body down: more snap"
    )
    glued = set()
    for bus in session.buses:
        members = [t for t in drums if t.bus == bus.id]
        if bus.kind == "group" and members and bus.chain.compressor.enabled:
            glued |= {t.id for t in members}
            out.append(
                _move(
                    session,
                    name,
                    bus.name,
                    f"buses[{bus.id}].chain.compressor",
                    _punchier(bus.chain.compressor),
                    "compressor",
                    why,
                )
            )
    for t in drums:
        c = t.chain.compressor
        path = f"tracks[{t.id}].chain.compressor"
        if c.enabled:
            out.append(_move(session, name, t.name, path, _punchier(c), "compressor", why))
        elif t.id not in glued and t.role in _HIT_ROLES:
            mt = (ctx.meters or {}).get(t.id)
            new = _new_drum_compressor(t, mt) if mt is not None else None
            if new is None:
                notes.append(f"{t.name}: no compressor to make punchier (no level measured)")
                continue
            out.append(
                _move(
                    session,
                    name,
                    t.name,
                    path,
                    new,
                    "compressor",
                    f"a {PUNCH_NEW_RATIO:g}:1 compressor with a {PUNCH_ATTACK_MS:g} ms "
                    "attack lets each hit's front through and holds the body down",
                )
            )
    if not out:
        return [], ["no drums or bass to bring forward"]
    f, g, q = PUNCH_LOW_MID_CUT
    s, n = _add_bands(
        session,
        name,
        "master.eq",
        "master",
        [_band("peak", f, g, q)],
        f"a {-g:g} dB cut around {f:g} Hz clears boxiness so kick and bass hit cleaner",
    )
    return out + s, notes + n


def _bright(session: Session, ctx: VariationContext) -> Built:
    (f1, g1, q1), (f2, g2, q2) = BRIGHT_SHELVES
    return _add_bands(
        session,
        "bright",
        "master.eq",
        "master",
        [_band("high_shelf", f1, g1, q1), _band("high_shelf", f2, g2, q2)],
        f"presence (+{g1:g} dB from {f1 / 1000:g} kHz) and air (+{g2:g} dB from "
        f"{f2 / 1000:g} kHz) shelves open up the top",
    )


def _warm(session: Session, ctx: VariationContext) -> Built:
    (f1, g1, q1), (f2, g2, q2) = WARM_LOW_MID, WARM_HIGH_SHELF
    return _add_bands(
        session,
        "warm",
        "master.eq",
        "master",
        [_band("peak", f1, g1, q1), _band("high_shelf", f2, g2, q2)],
        f"+{g1:g} dB of low-mid warmth around {f1:g} Hz and highs softened "
        f"({g2:g} dB from {f2 / 1000:g} kHz)",
    )


def _sends(session: Session, name: str, delta_db: float, why: str) -> list[Suggestion]:
    out = []
    for t, i in _active_sends(session):
        s = t.chain.sends[i]
        new = round(float(np.clip(s.level_db + delta_db, -80.0, 12.0)), 1)
        out.append(
            _move(
                session,
                name,
                t.name,
                f"tracks[{t.id}].chain.sends[{i}].level_db",
                new,
                "dB",
                f"{s.bus} send {delta_db:+g} dB: {why}",
                {"change_db": delta_db},
            )
        )
    return out


def _dry(session: Session, ctx: VariationContext) -> Built:
    out = _sends(session, "dry", DRY_SEND_DB, "closer and more intimate")
    if not out:
        return [], ["no reverb or delay send is switched on, so there is nothing to dry out"]
    return out, []


def _spacious(session: Session, ctx: VariationContext) -> Built:
    name = "spacious"
    out = _sends(session, name, WET_SEND_DB, "more room around the parts")
    if not out:
        return [], ["no reverb or delay send is switched on, so there is nothing to open up"]
    for bus_id in _used_aux(session):
        bus = session.bus(bus_id)
        if isinstance(bus.effect, Reverb) and bus.effect.decay_s < WET_MAX_DECAY_S:
            new = round(min(WET_MAX_DECAY_S, bus.effect.decay_s * WET_DECAY_FACTOR), 2)
            out.append(
                _move(
                    session,
                    name,
                    bus.name,
                    f"buses[{bus.id}].effect.decay_s",
                    new,
                    "s",
                    "a longer tail makes the room bigger",
                )
            )
    return out, []


#: The named variations, in the order :func:`choose` offers them.
VARIATIONS: dict[str, NamedVariation] = {
    v.name: v
    for v in (
        NamedVariation(
            "vocal-forward",
            "the lead 2.5 dB further in front, with a touch of presence",
            _vocal_forward,
        ),
        NamedVariation(
            "wide",
            "stereo parts wider, panned parts spread further, centred side parts moved out; "
            "low end and lead stay centred",
            _wide,
        ),
        NamedVariation(
            "punchy",
            "drums and bass forward, drum compression slower and harder, a low-mid cut",
            _punchy,
        ),
        NamedVariation("bright", "presence and air shelves: a more open, airy top", _bright),
        NamedVariation("dry", "reverb and delay sends well down: close and intimate", _dry),
        NamedVariation("warm", "low-mid warmth on the master, highs softened", _warm),
        NamedVariation(
            "spacious", "reverb and delay sends up and a longer reverb: a bigger room", _spacious
        ),
        NamedVariation(
            "narrow", "pans and stereo widths halfway to mono: focused and mono-safe", _narrow
        ),
    )
}
#: Other names for named variations.
ALIASES: dict[str, str] = {"wet": "spacious", "mono-ish": "narrow", "mono": "narrow"}

_SAMPLED = re.compile(r"^sampled-(\d+)$")


# --------------------------------------------------------------------------------------------
# locks


def _unlocked(session: Session, suggestions: list[Suggestion]) -> Built:
    if not session.intent.locks:
        return suggestions, []
    from mixwise.assist.control import Policy

    policy = Policy(session.intent)
    kept, notes = [], []
    for s in suggestions:
        lock = policy.lock_for(session, s)
        if lock is None:
            kept.append(s)
        else:
            notes.append(f"{s.parameter} is locked ({lock}); left as it is")
    return kept, notes


# --------------------------------------------------------------------------------------------
# public API


def canonical_name(name: str) -> str:
    """The registry name for ``name`` (aliases resolved, case and spaces ignored); sampled
    names (``sampled-<seed>``) pass through. Raises :class:`ParameterError` for others."""
    key = name.strip().lower().replace(" ", "-").replace("_", "-")
    key = ALIASES.get(key, key)
    if key in VARIATIONS or _SAMPLED.match(key):
        return key
    raise ParameterError(
        f"unknown variation {name!r} (named: {', '.join(VARIATIONS)}; aliases: "
        f"{', '.join(ALIASES)}; or sampled-<seed>)"
    )


def plan_variation(
    session: Session, name: str, *, context: VariationContext | None = None
) -> VariationPlan:
    """The moves of variation ``name`` (named, an alias, or ``sampled-<seed>``) on
    ``session``, with its description and notes. ``session`` is not changed."""
    key = canonical_name(name)
    mt = _SAMPLED.match(key)
    if mt:
        seed = int(mt.group(1))
        description, moves = sample_variation(session, seed)
        kept, notes = _unlocked(session, moves)
        return VariationPlan(key, "sampled", description, kept, notes, seed)
    v = VARIATIONS[key]
    moves, notes = v.build(session, context or context_for(session))
    kept, held = _unlocked(session, moves)
    return VariationPlan(key, "named", v.description, kept, notes + held)


def build_variation(
    session: Session, name: str, *, context: VariationContext | None = None
) -> list[Suggestion]:
    """The suggestions (task ``"variation"``) that turn ``session`` into variation ``name``;
    empty when it has nothing to change here (see :func:`plan_variation` for why)."""
    return plan_variation(session, name, context=context).suggestions


def apply_variation(session: Session, plan: VariationPlan | list[Suggestion]) -> Session:
    """A copy of ``session`` with the variation's moves applied and recorded in its history
    (``session`` itself is not changed)."""
    moves = plan.suggestions if isinstance(plan, VariationPlan) else plan
    out = session.model_copy(deep=True)
    for s in moves:
        apply_suggestion(out, s)
    return out


def choose(
    n: int,
    *,
    session: Session | None = None,
    context: VariationContext | None = None,
    seed: int = 0,
) -> list[str]:
    """``n`` variation names: the named ones in :data:`VARIATIONS` order (with ``session``,
    only those that change something in it), then ``sampled-<seed>``, ``sampled-<seed+1>``...
    Raises :class:`ParameterError` for a negative ``n`` or seed."""
    if n < 0:
        raise ParameterError(f"the number of variations must be 0 or more (got {n})")
    if seed < 0:
        raise ParameterError(f"the seed must be 0 or more (got {seed})")
    names: list[str] = []
    for key in VARIATIONS:
        if len(names) >= n:
            break
        if session is None or not plan_variation(session, key, context=context).is_noop:
            names.append(key)
    k = seed
    while len(names) < n:
        names.append(f"sampled-{k}")
        k += 1
    return names


def sample_variation(session: Session, seed: int) -> tuple[str, list[Suggestion]]:
    """A random variation around ``session`` for ``seed`` (the same seed, the same moves):
    faders +-1.5 dB, pans of off-centre parts +-0.15 (never across the centre), the master's
    low and high shelves +-1.5 dB (added at 150 Hz / 6 kHz when missing), active sends +-3 dB.
    Returns a description of its largest differences and the suggestions."""
    if seed < 0:
        raise ParameterError(f"the seed must be 0 or more (got {seed})")
    name = f"sampled-{seed}"
    rng = np.random.default_rng(seed)
    out: list[Suggestion] = []
    phrases: list[tuple[float, str]] = []
    pan_moves: list[float] = []
    send_moves: list[float] = []
    for t in session.tracks:
        d_fader, d_pan = rng.uniform(-1.0, 1.0, size=2)
        d_sends = rng.uniform(-1.0, 1.0, size=len(t.chain.sends))
        if not _playing(t):
            continue
        d = round(float(d_fader) * SAMPLE_FADER_DB, 2)
        if abs(d) >= 0.05:
            out.append(_fader(session, name, t, d, f"{t.name} {d:+.1f} dB"))
            phrases.append((abs(d) / SAMPLE_FADER_DB, f"{t.name} {d:+.1f} dB"))
        p = t.chain.pan
        if abs(p) > 0.01:
            side = math.copysign(1.0, p)
            new = round(side * float(np.clip(abs(p) + d_pan * SAMPLE_PAN, 0.02, 1.0)), 3)
            if abs(new - p) > 1e-3:
                pan_moves.append(abs(new) - abs(p))
                out.append(
                    _move(
                        session,
                        name,
                        t.name,
                        f"tracks[{t.id}].chain.pan",
                        new,
                        "",
                        f"pan {new - p:+.2f}",
                    )
                )
        for i, s in enumerate(t.chain.sends):
            if s.level_db == -math.inf:
                continue
            ds = float(d_sends[i]) * SAMPLE_SEND_DB
            new = round(float(np.clip(s.level_db + ds, -80.0, 12.0)), 1)
            send_moves.append(new - s.level_db)
            out.append(
                _move(
                    session,
                    name,
                    t.name,
                    f"tracks[{t.id}].chain.sends[{i}].level_db",
                    new,
                    "dB",
                    f"{s.bus} send {new - s.level_db:+.1f} dB",
                )
            )
    low, high = (float(x) * SAMPLE_SHELF_DB for x in rng.uniform(-1.0, 1.0, size=2))
    eq = _dump(session.master.eq)
    for kind, freq, delta, up, down in (
        ("low_shelf", SAMPLE_LOW_SHELF_HZ, low, "fuller low end", "leaner low end"),
        ("high_shelf", SAMPLE_HIGH_SHELF_HZ, high, "brighter", "darker"),
    ):
        idx = [i for i, b in enumerate(eq) if b["type"] == kind and b["enabled"]]
        delta = round(delta, 2)
        if idx:
            band = eq[idx[-1] if kind == "high_shelf" else idx[0]]
            band["gain_db"] = round(float(np.clip(band["gain_db"] + delta, -48.0, 48.0)), 2)
        elif len(eq) < _MAX_EQ_BANDS:
            eq.append(_band(kind, freq, delta, 0.7071))
        else:
            continue
        phrases.append((abs(delta) / SAMPLE_SHELF_DB, up if delta > 0 else down))
    if eq != _dump(session.master.eq):
        out.append(
            _move(
                session,
                name,
                "master",
                "master.eq",
                eq,
                "EQ bands",
                f"master shelves: low {low:+.1f} dB, high {high:+.1f} dB",
            )
        )
    if send_moves:
        mean = float(np.mean(send_moves))
        phrases.append((abs(mean) / SAMPLE_SEND_DB, "wetter" if mean > 0 else "drier"))
    if pan_moves:
        mean = float(np.mean(pan_moves))
        phrases.append((abs(mean) / SAMPLE_PAN, "wider" if mean > 0 else "narrower"))
    top = [p for score, p in sorted(phrases, key=lambda x: -x[0]) if score >= 0.33][:3]
    description = ", ".join(top) if top else "small changes all round"
    return description, out
