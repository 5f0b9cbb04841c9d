"""EQ: a high-pass per track from what it actually plays, corrective cuts for resonances and mud,
and unmasking cuts where a more important track needs the room.

Every move is an ordinary filter or RBJ EQ band in the track's chain.

* **High-pass.** Below the lowest note a track plays there is only rumble, handling noise and
  bleed, which costs headroom and muddies the low end. The cut-off sits under the track's
  lowest content: the lower edge of its measured low-frequency content, or 0.75x its lowest
  pitch when it is pitched, bounded per role (a lead vocal never above 120 Hz, a kick or bass
  only rids the sub-sonic region).
* **Resonances.** A third-octave band standing more than 6 dB above the octave around it in
  the long-term spectrum rings; it gets a narrow cut of the excess, at most 6 dB and two per
  track.
* **Mud.** When the predicted mix bulges in 200-500 Hz above the line from 100 Hz to 1.6 kHz,
  the non-bass tracks that fill that region most get a broad cut there.
* **Unmasking** (after Hafezi & Reiss, "Autonomous multitrack equalization based on masking
  reduction", JAES 2015): the masking matrix of the predicted mix says which track buries
  which, in which bands and how much; where a lower-priority track covers more than 5 % of a
  higher-priority track's energy, the masker gets a cut centred on the band where it masks
  most, 2-5 dB deep, at most two such cuts per track.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from mixwise.analysis.spectrum import BandFrames
from mixwise.assist.balance import ROLE_TARGET_LU
from mixwise.assist.mixmodel import MixModel
from mixwise.session.edit import Suggestion
from mixwise.session.model import EQBand, Filter, Session, Track

#: Highest high-pass cut-off per role (Hz); roles not listed: 150 Hz.
HPF_MAX_HZ: dict[str, float] = {
    "kick": 30.0,
    "bass": 30.0,
    "toms": 60.0,
    "drum_loop": 30.0,
    "lead_vocal": 120.0,
    "backing_vocal": 150.0,
    "electric_guitar": 100.0,
    "acoustic_guitar": 100.0,
    "piano": 50.0,
    "keys": 80.0,
    "synth": 80.0,
    "pad": 100.0,
    "strings": 60.0,
    "brass_winds": 80.0,
    "snare": 100.0,
    "hihat": 250.0,
    "cymbals": 250.0,
    "room": 80.0,
    "percussion": 150.0,
    "fx": 100.0,
    "other": 40.0,
}
HPF_MIN_HZ = 20.0
#: A band counts as content when within this many dB of the track's loudest band.
CONTENT_RANGE_DB = 30.0
RESONANCE_DB = 6.0
MAX_CUT_DB = 6.0
UNMASK_MIN_SHARE = 0.05
UNMASK_MAX_PER_TRACK = 2
UNMASK_Q = 1.4
#: A track must be this much more important (LU of target level) to claim room from another.
PRIORITY_GAP_LU = 2.0


# -- high-pass ------------------------------------------------------------------------------


def hpf_cutoff(role: str, band_db: np.ndarray, centres_hz: np.ndarray, f0_low_hz: float) -> float:
    """A high-pass cut-off (Hz) below the track's content (see the module docstring).

    ``band_db`` is the long-term third-octave spectrum; ``f0_low_hz`` the track's lowest
    common pitch (0 when unpitched). Content below the role's maximum cut-off that stands
    apart from the rest (below a clear gap) counts as rumble, not content.
    """
    role_max = HPF_MAX_HZ.get(role, 150.0)
    if f0_low_hz > 0:
        return float(np.clip(0.75 * f0_low_hz, HPF_MIN_HZ, role_max))
    peak = float(band_db.max())
    content = band_db >= peak - CONTENT_RANGE_DB
    # ignore an isolated low island (rumble) separated from the body by a gap of >= 2 bands
    idx = np.nonzero(content)[0]
    if idx.size == 0:
        return HPF_MIN_HZ
    body = idx[-1]
    for k in range(idx.size - 1, 0, -1):
        if idx[k] - idx[k - 1] > 2 and centres_hz[idx[k - 1]] < role_max:
            body = idx[k]
            break
        body = idx[k - 1]
    lowest = centres_hz[body] * 2 ** (-1 / 6)
    return float(np.clip(0.8 * lowest, HPF_MIN_HZ, role_max))


def suggest_high_pass(
    session: Session,
    bands: Mapping[str, BandFrames],
    features: Mapping[str, Mapping[str, float]] | None = None,
) -> list[Suggestion]:
    """A 12 dB/oct high-pass per track (24 dB/oct where a rumble island sits below)."""
    out = []
    for t in session.tracks:
        bf = bands.get(t.id)
        if bf is None or t.chain.high_pass.enabled:
            continue
        f = (features or {}).get(t.id, {})
        f0_low = 0.0
        if f.get("voiced_share", 0.0) > 0.3 and f.get("f0_hz", 0.0) > 0:
            f0_low = f["f0_hz"] * 2 ** (-0.5 * f.get("f0_range_st", 0.0) / 12)
        spec = bf.long_term_db()
        cutoff = round(hpf_cutoff(t.role, spec, bf.centres_hz, f0_low), 1)
        if cutoff <= HPF_MIN_HZ + 0.5:
            continue
        below = spec[bf.centres_hz < cutoff]
        rumble_db = float(below.max() - spec.max()) if below.size else -math.inf
        slope = 24 if rumble_db > -30 else 12
        why = (
            f"clears rumble below the {'lowest note' if f0_low else 'lowest content'} "
            f"({f0_low or cutoff / 0.8:.0f} Hz); nothing musical lives under {cutoff:.0f} Hz here"
        )
        out.append(
            Suggestion(
                task="eq",
                target=t.name,
                parameter=f"tracks[{t.id}].chain.high_pass",
                old=t.chain.high_pass.model_dump(),
                new=Filter(enabled=True, freq_hz=cutoff, slope_db_oct=slope).model_dump(),
                reason=why,
                evidence={
                    "lowest_pitch_hz": round(f0_low, 1) if f0_low else None,
                    "energy_below_cutoff_db_re_peak": round(rumble_db, 1)
                    if math.isfinite(rumble_db)
                    else None,
                    "role_max_hz": HPF_MAX_HZ.get(t.role, 150.0),
                },
                confidence=0.8,
            )
        )
    return out


# -- resonances and mud ----------------------------------------------------------------------


def find_resonances(band_db: np.ndarray, centres_hz: np.ndarray) -> list[tuple[float, float]]:
    """(frequency Hz, excess dB) of bands standing more than :data:`RESONANCE_DB` above the
    median of the octave on either side, 150 Hz-8 kHz, strongest first."""
    found = []
    for b in range(3, len(centres_hz) - 3):
        if not 150 <= centres_hz[b] <= 8000:
            continue
        around = np.concatenate([band_db[b - 3 : b], band_db[b + 1 : b + 4]])
        excess = float(band_db[b] - np.median(around))
        if excess > RESONANCE_DB and band_db[b] >= band_db[b - 1] and band_db[b] >= band_db[b + 1]:
            found.append((float(centres_hz[b]), excess))
    return sorted(found, key=lambda r: -r[1])


def _band(kind: str, freq: float, gain: float, q: float) -> dict:
    return EQBand(type=kind, freq_hz=round(freq, 1), gain_db=round(gain, 1), q=q).model_dump()


def _eq_suggestion(
    t: Track, bands_list: list[dict], task: str, reason: str, evidence: dict, confidence: float
) -> Suggestion:
    return Suggestion(
        task=task,
        target=t.name,
        parameter=f"tracks[{t.id}].chain.eq",
        old=[b.model_dump() for b in t.chain.eq],
        new=bands_list,
        reason=reason,
        evidence=evidence,
        confidence=confidence,
    )


def suggest_corrective(session: Session, bands: Mapping[str, BandFrames]) -> list[Suggestion]:
    """Narrow cuts on ringing bands (at most two per track) and broad cuts where the mix is
    muddy (200-500 Hz)."""
    out = []
    for t in session.tracks:
        bf = bands.get(t.id)
        if bf is None or t.role in ("fx", "pad"):
            continue
        res = find_resonances(bf.long_term_db(), bf.centres_hz)[:2]
        if not res:
            continue
        new = [b.model_dump() for b in t.chain.eq]
        for f, excess in res:
            new.append(_band("peak", f, -min(MAX_CUT_DB, excess - 3.0), 4.3))
        desc = ", ".join(f"{f:.0f} Hz (+{e:.1f} dB)" for f, e in res)
        out.append(
            _eq_suggestion(
                t,
                new,
                "eq",
                f"tames ringing at {desc} above the octave around it",
                {"resonances_hz_excess_db": [[round(f), round(e, 1)] for f, e in res]},
                0.6,
            )
        )
    return out


def mud_excess_db(mix_db: np.ndarray, centres_hz: np.ndarray) -> float:
    """How far (dB) the mix's 200-500 Hz region stands above the straight line (dB over log
    frequency) from 100 Hz to 1.6 kHz."""
    lf = np.log2(centres_hz)
    i100, i1k6 = int(np.argmin(abs(centres_hz - 100))), int(np.argmin(abs(centres_hz - 1600)))
    region = (centres_hz >= 200) & (centres_hz <= 500)
    slope = (mix_db[i1k6] - mix_db[i100]) / (lf[i1k6] - lf[i100])
    line = mix_db[i100] + slope * (lf - lf[i100])
    return float(np.mean(mix_db[region] - line[region]))


def suggest_mud(session: Session, bands: Mapping[str, BandFrames]) -> list[Suggestion]:
    """Broad 300 Hz cuts on the two non-bass tracks that fill a muddy mix's low mids most."""
    model = MixModel(session, bands)
    mix_db = model.mix_spectrum_db()
    excess = mud_excess_db(mix_db, model.centres_hz)
    if excess < 2.0:
        return []
    region = (model.centres_hz >= 200) & (model.centres_hz <= 500)
    share = {}
    for t in session.tracks:
        if t.id in bands and t.role not in ("bass", "kick", "lead_vocal"):
            share[t.id] = float(model.placed(t).sum(axis=(0, 2))[region].sum())
    total = sum(share.values()) or 1.0
    out = []
    for tid in sorted(share, key=lambda k: -share[k])[:2]:
        t = next(x for x in session.tracks if x.id == tid)
        cut = -min(4.0, excess)
        new = [b.model_dump() for b in t.chain.eq] + [_band("peak", 315.0, cut, 1.0)]
        out.append(
            _eq_suggestion(
                t,
                new,
                "eq",
                f"the mix is {excess:.1f} dB heavy in the low mids (200-500 Hz) and this track "
                f"fills {100 * share[tid] / total:.0f} % of them",
                {"mud_excess_db": round(excess, 2), "low_mid_share": round(share[tid] / total, 3)},
                0.5,
            )
        )
    return out


# -- unmasking ------------------------------------------------------------------------------


def priority(t: Track, lead_id: str | None) -> float:
    """How important a track is to hear (LU of its balance target; the lead highest)."""
    return 1.0 if t.id == lead_id else ROLE_TARGET_LU.get(t.role, -3.0)


def plan_unmasking(
    session: Session, bands: Mapping[str, BandFrames], lead_id: str | None
) -> dict[str, list[tuple[float, float, str, float]]]:
    """Masker track id -> [(frequency Hz, cut dB, masked track id, share masked)]."""
    model = MixModel(session, bands)
    ids, M, per_band = model.masking()
    sel = (model.centres_hz >= 40.0) & (model.centres_hz <= 16000.0)
    centres = model.centres_hz[sel]
    by_id = {t.id: t for t in session.tracks}
    cuts: dict[str, list[tuple[float, float, str, float]]] = {}
    pairs = []
    for i, masker in enumerate(ids):
        for j, masked in enumerate(ids):
            if i == j:
                continue
            gap = priority(by_id[masked], lead_id) - priority(by_id[masker], lead_id)
            if gap >= PRIORITY_GAP_LU and M[i, j] >= UNMASK_MIN_SHARE:
                pairs.append((float(M[i, j]), i, j))
    for share, i, j in sorted(pairs, reverse=True):
        masker = ids[i]
        have = cuts.setdefault(masker, [])
        if len(have) >= UNMASK_MAX_PER_TRACK:
            continue
        b = int(np.argmax(per_band[i, j]))
        f = float(centres[b])
        if any(abs(math.log2(f / g)) < 0.5 for g, *_ in have):
            continue
        depth = float(np.clip(2.0 + 10.0 * share, 2.0, 5.0))
        have.append((f, round(depth, 1), ids[j], share))
    return {k: v for k, v in cuts.items() if v}


def suggest_unmasking(
    session: Session, bands: Mapping[str, BandFrames], lead_id: str | None = None
) -> list[Suggestion]:
    """Cuts on the maskers where a higher-priority track needs the room."""
    plan = plan_unmasking(session, bands, lead_id)
    by_id = {t.id: t for t in session.tracks}
    out = []
    for tid, cuts in plan.items():
        t = by_id[tid]
        new = [b.model_dump() for b in t.chain.eq]
        new += [_band("peak", f, -d, UNMASK_Q) for f, d, _, _ in cuts]
        names = ", ".join(
            f"{by_id[j].name} at {f:.0f} Hz ({100 * s:.0f} % of it masked)" for f, _, j, s in cuts
        )
        out.append(
            _eq_suggestion(
                t,
                new,
                "unmask",
                f"makes room for {names}",
                {
                    "cuts": [
                        {"freq_hz": f, "cut_db": d, "for": j, "masked_share": round(s, 3)}
                        for f, d, j, s in cuts
                    ]
                },
                0.6,
            )
        )
    return out
