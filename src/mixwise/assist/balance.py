"""The rough fader mix: relative loudness targets by role and by what leads, solved on the mix.

Where the targets come from
---------------------------
* Engineers build a mix around what leads (the lead vocal, or the lead instrument of an
  instrumental) with drums and bass as the foundation close below it, and pads, effects and
  bright metalwork well below: the hierarchy taught in mixing texts and seen in measured
  multitrack datasets (e.g. the per-instrument levels reported from the "Mixing Secrets"
  multitrack library by De Man et al., AES 2017, where vocals sit on top and most other
  sources within a few LU below; hi-hats, cymbals and effects sit lowest).
* Fixed per-role offsets alone are weak: across real songs they miss the artists' balance
  by about as much as doing nothing (``DESIGN.md``, measured on 14 songs). So the targets are
  *relative to the song's lead*, the lead is found per song, and each target is a loudness
  *within the mix*: a track that the rest of the arrangement masks is heard more quietly than
  its own loudness says, and is brought up until its audible share meets its target
  (:func:`audible_lufs`). The numbers below were set from those sources and checked against the
  human mixes in ``shared/data`` with ``benchmarks/automix_quality.py``.

All faders are solved together: every iteration predicts every track in the mix from its band
frames (:class:`~mixwise.assist.mixmodel.MixModel`), so each decision sees all the others.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import numpy as np

from mixwise.analysis.spectrum import BandFrames, block_loudness, gated_lufs
from mixwise.assist.mixmodel import MixModel
from mixwise.session.edit import Suggestion
from mixwise.session.model import Session, Track

#: Target loudness in the mix of each role relative to the song's lead (LU).
ROLE_TARGET_LU: dict[str, float] = {
    "lead_vocal": 0.0,
    "kick": -1.0,
    "snare": 0.0,
    "drum_loop": -0.5,
    "toms": -1.0,
    "bass": -1.5,
    "percussion": -5.0,
    "hihat": -7.0,
    "cymbals": -7.0,
    "room": -7.0,
    "electric_guitar": -3.0,
    "acoustic_guitar": -3.0,
    "piano": -3.0,
    "keys": -6.0,
    "synth": -4.0,
    "brass_winds": -3.0,
    "strings": -5.0,
    "pad": -8.0,
    "backing_vocal": -5.0,
    "fx": -12.0,
    "other": -1.0,
}
#: Roles that can be the lead of an instrumental, in order of preference on a tie.
MELODIC_ROLES = (
    "synth",
    "brass_winds",
    "electric_guitar",
    "piano",
    "acoustic_guitar",
    "strings",
    "keys",
    "other",
)
#: How strongly masking counts (0 = plain loudness, 1 = only the cells where a track leads).
MASKING_WEIGHT = 0.5
#: The pre-master mix is placed at this loudness (LUFS), leaving headroom for the master.
MIX_LUFS = -18.0
FADER_RANGE_DB = (-40.0, 12.0)
_ITERATIONS = 12


def find_lead(session: Session, bands: Mapping[str, BandFrames]) -> Track | None:
    """The track the mix is built around: a lead vocal, else the melodic track that plays the
    most (active time x share of its energy in the 250 Hz-4 kHz melody range)."""
    tracks = [t for t in session.tracks if t.id in bands and not t.chain.mute]
    vocals = [t for t in tracks if t.role == "lead_vocal"]
    if vocals:
        return max(vocals, key=lambda t: _presence(bands[t.id]))
    melodic = [t for t in tracks if t.role in MELODIC_ROLES]
    if not melodic:
        return None
    return max(melodic, key=lambda t: (_presence(bands[t.id]), -MELODIC_ROLES.index(t.role)))


def _presence(bf: BandFrames) -> float:
    p = bf.power.sum(axis=0)
    frame = p.sum(axis=0)
    if frame.max() <= 0:
        return 0.0
    active = float(np.mean(frame > frame.max() * 1e-3))
    mid = (bf.centres_hz >= 250) & (bf.centres_hz <= 4000)
    share = float(p[mid].sum() / max(p.sum(), 1e-30))
    return active * share


def targets_lu(session: Session, lead: Track | None) -> dict[str, float]:
    """Each track's target (LU relative to the lead) with the reason's wording."""
    from mixwise.assist.profiles import role_offset_lu

    out = {}
    for t in session.tracks:
        out[t.id] = (
            0.0
            if lead is not None and t.id == lead.id
            else ROLE_TARGET_LU.get(t.role, -3.0) + role_offset_lu(session, t.role)
        )
    return out


def audible_lufs(model: MixModel, weight: float = MASKING_WEIGHT) -> dict[str, float]:
    """Each track's loudness as heard in the mix (LUFS): its K-weighted power per frame,
    scaled by the share of that power in cells (band x channel) where it is not buried under
    the rest of the mix, raised to ``weight``."""
    tracks = [t for t in model.session.tracks if t.id in model.bands]
    placed = {t.id: model.placed(t) for t in tracks}
    kwf = {t.id: model.weighted(t) for t in tracks}
    total = sum(placed.values())
    kw = model.kw[None, :, None]
    out = {}
    for t in tracks:
        p = placed[t.id]
        rest = np.asarray(total) - p
        share = p / np.maximum(p + rest, 1e-30)
        e = (p * kw).sum(axis=(0, 1))
        heard = (p * share * kw).sum(axis=(0, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(e > 0, heard / np.maximum(e, 1e-30), 1.0)
        w = kwf[t.id] * np.clip(frac, 1e-4, 1.0) ** weight
        out[t.id] = gated_lufs(block_loudness(w))
    return out


def solve_faders(
    session: Session,
    bands: Mapping[str, BandFrames],
    targets: Mapping[str, float],
    *,
    weight: float = MASKING_WEIGHT,
    mix_lufs: float = MIX_LUFS,
    fixed: frozenset[str] = frozenset(),
) -> dict[str, float]:
    """Faders (dB) that put every track at its target relative to the others, measured in the
    predicted mix, and the mix at ``mix_lufs``. Tracks with no measurable loudness keep
    their fader. Faders of ``fixed`` tracks (locked by the user) do not move: the others are
    placed relative to them, and the mix level follows from them."""
    trial = copy.deepcopy(session)
    by_id = {t.id: t for t in trial.tracks}
    model = MixModel(trial, bands)
    lo, hi = FADER_RANGE_DB
    ids = [t.id for t in trial.tracks if t.id in bands and t.id in targets and not t.chain.mute]
    for _ in range(_ITERATIONS):
        heard = audible_lufs(model, weight)
        live = [i for i in ids if math.isfinite(heard.get(i, -math.inf))]
        if not live:
            break
        anchors = [i for i in live if i in fixed] or live
        offset = float(np.median([heard[i] - targets[i] for i in anchors]))
        want = {
            i: by_id[i].chain.fader_db + targets[i] + offset - heard[i]
            for i in live
            if i not in fixed
        }
        if not want:
            break
        # keep the relations when a fader would leave its range: move everything together
        room = hi - max(want.values()) if not fixed else math.inf
        moved = 0.0
        for i in want:
            new = min(hi, max(lo, want[i] + min(0.0, room)))
            moved = max(moved, abs(new - by_id[i].chain.fader_db))
            by_id[i].chain.fader_db = new
        if moved < 0.02:
            break
    shift = mix_lufs - model.mix_lufs()
    if ids and math.isfinite(shift) and not fixed:
        shift = min(shift, hi - max(by_id[i].chain.fader_db for i in ids))
        for i in ids:
            by_id[i].chain.fader_db = min(hi, max(lo, by_id[i].chain.fader_db + shift))
    return {i: round(by_id[i].chain.fader_db, 2) for i in ids}


def suggest_balance(
    session: Session, bands: Mapping[str, BandFrames], fixed: frozenset[str] = frozenset()
) -> list[Suggestion]:
    """Fader suggestions for a balanced rough mix (see the module docstring); the faders of
    ``fixed`` tracks are held and the rest balanced around them."""
    if not bands:
        return []
    lead = find_lead(session, bands)
    targets = targets_lu(session, lead)
    faders = solve_faders(session, bands, targets, fixed=fixed)
    trial = copy.deepcopy(session)
    for t in trial.tracks:
        if t.id in faders:
            t.chain.fader_db = faders[t.id]
    heard = audible_lufs(MixModel(trial, bands))
    mix = MixModel(trial, bands).mix_lufs()
    out = []
    for t in session.tracks:
        if t.id not in faders or abs(faders[t.id] - t.chain.fader_db) < 0.05:
            continue
        is_lead = lead is not None and t.id == lead.id
        if is_lead:
            why = f"{t.name} leads the song, so the rest of the mix is balanced around it"
        else:
            rel = f"{targets[t.id]:+.0f} LU" if targets[t.id] else "level with"
            ref = f"the lead ({lead.name})" if lead is not None else "the loudest parts"
            why = f"a {t.role.replace('_', ' ')} sits about {rel} against {ref} in the mix"
        out.append(
            Suggestion(
                task="balance",
                target=t.name,
                parameter=f"tracks[{t.id}].chain.fader_db",
                old=t.chain.fader_db,
                new=faders[t.id],
                unit="dB",
                reason=why,
                evidence={
                    "target_rel_lead_lu": targets[t.id],
                    "heard_in_mix_lufs": round(heard.get(t.id, -math.inf), 2),
                    "predicted_mix_lufs": round(mix, 2),
                    "lead": lead.id if lead is not None else None,
                },
                confidence=0.6,
            )
        )
    return out
