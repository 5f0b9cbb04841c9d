"""The automatic mix: every assistant in turn, each seeing what the earlier ones decided.

The pipeline reads top to bottom as the stages of a mix engineer's first pass:

1. gain staging: trims to a working level;
2. panning: centre, pairs, left/right balance;
3. high-pass and corrective EQ per track;
4. dynamics: per-role compression (make-up keeps each track's loudness);
5. balance: faders solved on the predicted mix, then unmasking and mud cuts with those faders,
   then the faders solved again with the cuts in place; then the drum bus's glue compressor;
6. space: reverb and delay sends;
7. mastering: tonal balance EQ, glue compression, the limiter and loudness target.

Each stage returns :class:`~mixwise.session.edit.Suggestion` records and they are applied
(with their reasons) to the session; nothing here renders. :func:`automix` also returns the
pictures' numbers for the report: masking before/after and the predicted mix spectrum.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from mixwise.analysis.meters import Meters
from mixwise.analysis.spectrum import BandFrames
from mixwise.assist.balance import find_lead, suggest_balance
from mixwise.assist.control import Policy
from mixwise.assist.dynamics import suggest_compression, suggest_drum_bus
from mixwise.assist.eq import suggest_corrective, suggest_high_pass, suggest_mud, suggest_unmasking
from mixwise.assist.gain import suggest_gain_staging
from mixwise.assist.mastering import suggest_master
from mixwise.assist.mixmodel import MixModel
from mixwise.assist.panning import suggest_panning
from mixwise.assist.space import suggest_space
from mixwise.session.edit import Suggestion, apply_suggestion
from mixwise.session.model import Session

#: The stages, in order; a caller may run a subset (``tasks``).
TASKS = ("gain", "pan", "eq", "dynamics", "balance", "unmask", "space", "master")


@dataclass
class AutomixResult:
    """What the automatic mix decided and the numbers behind the report's pictures."""

    applied: list[Suggestion] = field(default_factory=list)
    lead: str | None = None
    masking_ids: list[str] = field(default_factory=list)
    masking_before: np.ndarray | None = None
    masking_after: np.ndarray | None = None
    centres_hz: np.ndarray | None = None
    spectrum_before_db: np.ndarray | None = None
    spectrum_after_db: np.ndarray | None = None
    #: suggestions a lock held back, with the lock
    held: list[tuple[Suggestion, str]] = field(default_factory=list)


def apply_through(
    policy: Policy, session: Session, suggestions: list[Suggestion], result: AutomixResult
) -> None:
    """Apply ``suggestions`` as the user's policy allows: a locked one is held (and noted in
    ``result.held``), the others scaled by their task's amount and recorded in the history."""
    for s in suggestions:
        lock = policy.lock_for(session, s)
        if lock is not None:
            result.held.append((s, lock))
            continue
        scaled = policy.scale(session, s)
        if scaled is None:
            continue
        apply_suggestion(session, scaled)
        result.applied.append(scaled)


def automix(
    session: Session,
    bands: Mapping[str, BandFrames],
    meters: Mapping[str, Meters],
    features: Mapping[str, Mapping[str, float]] | None = None,
    activity: Mapping[str, float] | None = None,
    *,
    tasks: tuple[str, ...] = TASKS,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    policy: Policy | None = None,
) -> AutomixResult:
    """Run the assistants in ``tasks`` on ``session`` (changed in place). ``bands``, ``meters``,
    ``features`` and ``activity`` (share of the song each track plays, 0-1) are keyed by track
    id and describe the raw stems. ``policy`` holds the user's locks and amounts (default:
    none, everything at 100 %): a locked parameter never changes and the faders balance
    around locked faders."""
    result = AutomixResult()
    if not bands:
        return result
    policy = policy or Policy()

    def _apply(s: Session, suggestions: list[Suggestion], r: AutomixResult) -> None:
        apply_through(policy, s, suggestions, r)

    fixed = frozenset(
        t.id
        for t in session.tracks
        if policy.lock_for(
            session, Suggestion("balance", t.name, f"tracks[{t.id}].chain.fader_db", 0, 0)
        )
    )
    if "gain" in tasks:
        _apply(session, suggest_gain_staging(session, dict(meters)), result)
    before = MixModel(session, bands)
    result.centres_hz = before.centres_hz
    result.spectrum_before_db = before.mix_spectrum_db()
    result.masking_ids, result.masking_before, _ = before.masking()
    lead = find_lead(session, bands)
    result.lead = lead.id if lead is not None else None

    if "pan" in tasks:
        _apply(session, suggest_panning(session, bands), result)
    if "eq" in tasks:
        _apply(session, suggest_high_pass(session, bands, features), result)
        _apply(session, suggest_corrective(session, bands), result)
    levels = {tid: _levels_db(bf) for tid, bf in bands.items()}
    if "dynamics" in tasks:
        _apply(session, suggest_compression(session, meters, levels), result)
    if "balance" in tasks:
        if "unmask" in tasks:
            trial = copy.deepcopy(session)
            for s in suggest_balance(trial, bands, fixed):
                apply_suggestion(trial, s)
            cuts = suggest_unmasking(trial, bands, result.lead) + suggest_mud(trial, bands)
            _apply(session, _rebase(session, cuts), result)
        _apply(session, suggest_balance(session, bands, fixed), result)
    if "dynamics" in tasks:  # the drum bus reads the faders, so it comes after the balance
        _apply(session, suggest_drum_bus(session, meters, levels), result)
    if "unmask" in tasks and "balance" not in tasks:
        _apply(session, suggest_unmasking(session, bands, result.lead), result)
    if "space" in tasks:
        _apply(session, suggest_space(session, meters, dict(activity or {}) or None), result)
    after = MixModel(session, bands)
    result.spectrum_after_db = after.mix_spectrum_db()
    _, result.masking_after, _ = after.masking()
    if "master" in tasks:
        mix_meters, mix_levels = after.mix_meters(
            {tid: m.sample_peak_dbfs for tid, m in meters.items()}
        )
        _apply(
            session,
            suggest_master(
                session,
                result.spectrum_after_db,
                after.centres_hz,
                target_lufs=target_lufs,
                ceiling_dbtp=ceiling_dbtp,
                mix_meters=mix_meters,
                mix_levels=mix_levels,
            ),
            result,
        )
    return result


def _rebase(session: Session, suggestions: list[Suggestion]) -> list[Suggestion]:
    """EQ suggestions made on a trial copy, merged per track and re-based on ``session``'s
    current EQ (several assistants may add bands to the same track)."""
    from dataclasses import replace

    from mixwise.session.edit import get_parameter

    merged: dict[str, Suggestion] = {}
    for s in suggestions:
        base = get_parameter(session, s.parameter)
        old = [b.model_dump() for b in base]
        prev = merged.get(s.parameter)
        added = s.new[len(s.old) :]
        if prev is None:
            merged[s.parameter] = replace(s, old=old, new=old + list(added))
        else:
            merged[s.parameter] = replace(
                prev,
                new=list(prev.new) + list(added),
                reason=f"{prev.reason}; {s.reason}",
                evidence={**prev.evidence, **s.evidence},
            )
    return list(merged.values())


def _levels_db(bf: BandFrames) -> np.ndarray:
    """A stem's level every 100 ms (dBFS, mean square over its channels)."""
    return 10.0 * np.log10(bf.power.sum(axis=1).mean(axis=0) + 1e-20)
