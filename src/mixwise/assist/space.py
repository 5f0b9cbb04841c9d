"""Space: reverb and delay send levels by role and density, and tempo-timed effect settings.

The target: each track's reverb *return* sits a set number of loudness units (LU) below the
track's dry signal. In the listening test reported by Pestana & Reiss ("Intelligent audio
production strategies informed by best practices", AES 53rd International Conference on
Semantic Audio, London 2014), 30 listeners preferred a reverb about 9 LU below the dry signal,
and disliked reverb as loud as the dry signal in popular music. That figure is the starting
point for the most reverberant roles here (vocals, strings); drums, keys and guitars get
less; kick, bass, hi-hats, cymbals, room mics, drum loops and FX (already wet) get none, as in
common practice, because reverb on low-end or busy parts muddies a mix. The delay on a lead
vocal sits well under its reverb (18 LU below the dry voice), a common "touch of delay"
starting point (engineering practice, not from a listening test).

Busy and dense material gets less (``activity``, the fraction of the song each track plays):
a part that plays most of the time gets up to 3 LU less, and a dense arrangement (many parts
at once) takes up to 2 LU from everything.

From target to send level
-------------------------
Sends are post-fader by default (``Send.pre_fader = False``; see ``render/engine.py``: the
send taps the panned signal after the fader), so the return follows the track's fader and the
ratio of return to dry does not depend on it, nor on the pan law (both signals are panned
alike). The return's loudness is then

    return - dry  =  send level + effect gain + aux fader - duty correction

* **Effect gain** (:data:`REVERB_GAIN_LU`, :data:`DELAY_GAIN_LU`): loudness of the aux return
  minus loudness of the dry track for a 0 dB send, *measured* by rendering a reference signal
  through mixwise's own reverb and delay, on aux buses set up as ``assist/organise.py`` does
  (pre-filters: reverb high-pass 200 Hz and low-pass 9 kHz, delay 250 Hz and 7 kHz, 12 dB/oct).
  The reference is a sustained, sung-like harmonic tone (220 Hz with vibrato, a 300-3500 Hz
  formant band): most of the roles that get reverb have their energy in that range. The
  generated reverb's impulse response is normalised to unit energy, but its damping moves energy
  between frequencies the loudness weighting treats differently, so the gain depends on the
  damping (tabled below) and less on the decay time (within 0.7 LU from 0.6 to 4 s). The
  delay's gain depends on its repeat filter, and the repeats add ``-10 log10(1 - feedback^2)``.
  ``tests/assist/test_space.py`` re-measures every number so none can go stale. Material
  with much energy below 200 Hz loses more to the pre-filters (pink noise: ~2 LU more).
* **Duty correction**: a reverb fills the gaps between hits and notes, so for a sparse part
  (a snare) the return measures quieter against the dry track (whose loudness gate skips the
  gaps) than for a sustained one. With ``activity`` known, the correction is the active RMS
  minus the RMS over the time the part plays (``active_rms - rms - 10 log10(1/activity)``),
  0-10 dB, added to the send.

Filters on the aux buses run *before* the effect (``_AuxProc``: pre-filters, effect, then EQ,
compressor, fader), so the high- and low-pass keep mud and hiss out of the reverb itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from mixwise.analysis.meters import Meters
from mixwise.assist.profiles import reverb_offset_lu
from mixwise.session.edit import Suggestion
from mixwise.session.model import Bus, Delay, Filter, Reverb, Send, Session, Track

#: Reverb return relative to the dry track (LU) by role; roles not listed get no reverb.
REVERB_RETURN_LU: dict[str, float] = {
    "lead_vocal": -9.0,
    "backing_vocal": -9.0,
    "strings": -9.0,
    "pad": -11.0,
    "piano": -11.0,
    "acoustic_guitar": -11.0,
    "brass_winds": -11.0,
    "snare": -12.0,
    "keys": -12.0,
    "electric_guitar": -13.0,
    "synth": -13.0,
    "other": -13.0,
    "percussion": -14.0,
    "toms": -15.0,
}
#: Delay return relative to the dry track (LU) by role.
DELAY_RETURN_LU: dict[str, float] = {"lead_vocal": -18.0}

#: Measured reverb gain (LU, return minus dry at a 0 dB send) by the reverb's ``damping``;
#: linear in between. Mean over decay times 0.6-4 s (each within 0.7 LU of it), with the aux
#: pre-filters organise sets up.
REVERB_GAIN_LU: dict[float, float] = {0.0: -4.9, 0.5: -3.3, 1.0: -2.1}
#: Measured delay gain (LU) without feedback by the repeat filter's ``damping_hz``; linear in
#: log frequency in between. Feedback adds ``-10 log10(1 - feedback^2)``.
DELAY_GAIN_LU: dict[float, float] = {3000.0: -1.15, 6000.0: -0.75, 12000.0: -0.6}

#: Duty correction limits (dB).
MAX_DUTY_CORRECTION_DB = 10.0
#: A part playing more than this fraction of the song counts as busy...
BUSY_ACTIVITY = 0.6
#: ...and loses up to this much reverb (LU) when it plays all the time.
BUSY_CUT_LU = 3.0
#: Parts playing at once (sum of activities) above which the arrangement counts as dense, the
#: count at which the cut is full, and the cut (LU).
DENSE_PARTS = (6.0, 12.0)
DENSE_CUT_LU = 2.0
#: Aux pre-filters kept on (Hz), as organise sets them up.
REVERB_FILTERS_HZ = (200.0, 9000.0)
DELAY_FILTERS_HZ = (250.0, 7000.0)


def reverb_gain_lu(reverb: Reverb) -> float:
    """Loudness gain (LU) of the reverb return over the dry track at a 0 dB send."""
    x = sorted(REVERB_GAIN_LU)
    return float(np.interp(reverb.damping, x, [REVERB_GAIN_LU[k] for k in x]))


def delay_gain_lu(delay: Delay) -> float:
    """Loudness gain (LU) of the delay return over the dry track at a 0 dB send."""
    x = sorted(DELAY_GAIN_LU)
    base = float(np.interp(math.log(delay.damping_hz), np.log(x), [DELAY_GAIN_LU[k] for k in x]))
    return base - 10.0 * math.log10(1.0 - delay.feedback**2)


def duty_correction_db(mt: Meters, activity: float | None) -> float:
    """How much quieter (dB) a return measures against the dry track because the part is
    sparse: active RMS minus the RMS over the time it plays; 0 without ``activity``."""
    if activity is None or activity <= 0 or not math.isfinite(mt.rms_dbfs):
        return 0.0
    d = mt.active_rms_dbfs - mt.rms_dbfs + 10.0 * math.log10(min(activity, 1.0))
    return float(np.clip(d, 0.0, MAX_DUTY_CORRECTION_DB))


def density_cut_lu(role: str, activity: float | None, parts_at_once: float | None) -> float:
    """Reverb taken away (LU, <= 0) for a busy part and a dense arrangement."""
    cut = 0.0
    if activity is not None and role != "lead_vocal":
        cut -= BUSY_CUT_LU * float(np.clip((activity - BUSY_ACTIVITY) / (1 - BUSY_ACTIVITY), 0, 1))
    if parts_at_once is not None:
        lo, hi = DENSE_PARTS
        cut -= DENSE_CUT_LU * float(np.clip((parts_at_once - lo) / (hi - lo), 0, 1))
    return cut


def _aux_bus(session: Session, effect_type: type, preferred_id: str) -> Bus | None:
    found = [b for b in session.buses if b.kind == "aux" and isinstance(b.effect, effect_type)]
    for b in found:
        if b.id == preferred_id:
            return b
    return found[0] if found else None


def _send_index(t: Track, bus_id: str) -> int | None:
    for i, s in enumerate(t.chain.sends):
        if s.bus == bus_id:
            return i
    return None


def suggest_space(
    session: Session,
    meters: Mapping[str, Meters],
    activity: Mapping[str, float] | None = None,
    *,
    tempo_bpm: float | None = None,
) -> list[Suggestion]:
    """Reverb and delay send levels per track, the aux pre-filters, and (with ``tempo_bpm``)
    tempo-timed reverb decay and pre-delay and delay times.

    Parameters
    ----------
    session : the mix, with a reverb and a delay aux bus (``assist/organise.py`` sets them up
        with a send at ``-inf`` from every track); sends already set (not ``-inf``) are kept
    meters : track id -> :class:`~mixwise.analysis.meters.Meters` of the raw stem
    activity : optional track id -> fraction of the song the track plays (0-1), measured at
        the scale of phrases (seconds), not of single notes
    tempo_bpm : optional tempo (beats per minute)

    Send suggestions set ``tracks[<id>].chain.sends[<index>].level_db`` (sends have no id, so
    the path uses the send's index); a track without a send to the bus gets one suggestion for
    its whole ``sends`` list.
    """
    out: list[Suggestion] = []
    reverb = _aux_bus(session, Reverb, "reverb")
    delay = _aux_bus(session, Delay, "delay")
    parts = sum(activity.values()) if activity else None
    aux: list[tuple[Bus, dict[str, float], float, str]] = []
    if reverb is not None:
        aux.append((reverb, REVERB_RETURN_LU, reverb_gain_lu(reverb.effect), "reverb"))
    if delay is not None:
        aux.append((delay, DELAY_RETURN_LU, delay_gain_lu(delay.effect), "delay"))
    for t in session.tracks:
        mt = meters.get(t.id)
        if mt is None or not math.isfinite(mt.integrated_lufs):
            continue
        act = activity.get(t.id) if activity else None
        added: list[tuple[Send, str]] = []
        for bus, table, gain, word in aux:
            if t.role not in table or bus.chain.mute or bus.chain.fader_db == -math.inf:
                continue
            idx = _send_index(t, bus.id)
            if idx is not None and t.chain.sends[idx].level_db != -math.inf:
                continue  # set already, by the user or an earlier decision
            pre = idx is not None and t.chain.sends[idx].pre_fader
            cut = density_cut_lu(t.role, act, parts)
            target = table[t.role] + cut + reverb_offset_lu(session)
            duty = duty_correction_db(mt, act)
            send = target - gain - bus.chain.fader_db + duty + (t.chain.fader_db if pre else 0.0)
            send = round(float(np.clip(send, -60.0, 12.0)), 1)
            reason = (
                f"{word} return about {-target:.0f} LU under the dry {t.role.replace('_', ' ')}"
                + (" (a busy or dense part gets less)" if cut < -0.05 else "")
            )
            evidence = {
                "integrated_lufs": round(mt.integrated_lufs, 2),
                "return_target_lu": round(target, 2),
                "density_cut_lu": round(cut, 2),
                "effect_gain_lu": round(gain, 2),
                "aux_fader_db": bus.chain.fader_db,
                "duty_correction_db": round(duty, 2),
                "activity_fraction": act,
                "pre_fader": pre,
            }
            if idx is None:
                added.append((Send(bus=bus.id, level_db=send), reason))
                continue
            out.append(
                Suggestion(
                    task="space",
                    target=t.name,
                    parameter=f"tracks[{t.id}].chain.sends[{idx}].level_db",
                    old=t.chain.sends[idx].level_db,
                    new=send,
                    unit="dB",
                    reason=reason,
                    evidence=evidence,
                    confidence=0.6 if word == "reverb" else 0.5,
                )
            )
        if added:
            old = [s.model_dump(mode="json") for s in t.chain.sends]
            out.append(
                Suggestion(
                    task="space",
                    target=t.name,
                    parameter=f"tracks[{t.id}].chain.sends",
                    old=old,
                    new=old + [s.model_dump(mode="json") for s, _ in added],
                    unit="sends",
                    reason="; ".join(r for _, r in added),
                    evidence={"integrated_lufs": round(mt.integrated_lufs, 2)},
                    confidence=0.5,
                )
            )
    for bus, filters in ((reverb, REVERB_FILTERS_HZ), (delay, DELAY_FILTERS_HZ)):
        if bus is not None:
            out.extend(_pre_filters(bus, filters))
    if tempo_bpm is not None and tempo_bpm > 0:
        out.extend(_tempo(reverb, delay, tempo_bpm, parts))
    return out


def _pre_filters(bus: Bus, filters_hz: tuple[float, float]) -> list[Suggestion]:
    """Switch on an aux bus's high- and low-pass (before the effect) when they are off."""
    out = []
    for name, freq, why in (
        ("high_pass", filters_hz[0], "keeps low-end rumble out of the"),
        ("low_pass", filters_hz[1], "keeps hiss and sibilance out of the"),
    ):
        old: Filter = getattr(bus.chain, name)
        if old.enabled:
            continue
        new = Filter(enabled=True, freq_hz=freq, slope_db_oct=12).model_dump(mode="json")
        out.append(
            Suggestion(
                task="space",
                target=bus.name,
                parameter=f"buses[{bus.id}].chain.{name}",
                old=old.model_dump(mode="json"),
                new=new,
                unit="filter",
                reason=f"{why} {bus.name.lower()} (this filter runs before the effect)",
                evidence={"freq_hz": freq},
                confidence=0.7,
            )
        )
    return out


def _tempo(
    reverb: Bus | None, delay: Bus | None, bpm: float, parts: float | None
) -> list[Suggestion]:
    """Tempo-timed settings, common practice: reverb pre-delay of a 64th note (the reverb
    starts just after the note, keeping it clear), a decay of two beats in a dense
    arrangement to four in a sparse one (the tail dies before it blurs the next chord), and
    delay repeats on a dotted eighth (left) and a quarter note (right)."""
    beat_ms = 60_000.0 / bpm
    out: list[Suggestion] = []

    def add(bus: Bus, field: str, old: float, new: float, unit: str, reason: str) -> None:
        if abs(new - old) < (0.05 if unit == "s" else 1.0):
            return
        out.append(
            Suggestion(
                task="space",
                target=bus.name,
                parameter=f"buses[{bus.id}].effect.{field}",
                old=old,
                new=new,
                unit=unit,
                reason=reason,
                evidence={
                    "tempo_bpm": bpm,
                    "beat_ms": round(beat_ms, 1),
                    "parts_playing_at_once": parts,
                },
                confidence=0.5,
            )
        )

    if reverb is not None:
        fx = reverb.effect
        predelay = round(float(np.clip(beat_ms / 16.0, 10.0, 60.0)), 1)
        add(
            reverb,
            "predelay_ms",
            fx.predelay_ms,
            predelay,
            "ms",
            f"a 64th-note pre-delay at {bpm:g} BPM keeps the start of each note clear",
        )
        beats = 3.0
        if parts is not None:
            lo, hi = DENSE_PARTS
            beats = 4.0 - 2.0 * float(np.clip((parts - lo) / (hi - lo), 0, 1))
        decay = round(float(np.clip(beats * beat_ms / 1000.0, 0.8, 3.0)), 2)
        add(
            reverb,
            "decay_s",
            fx.decay_s,
            decay,
            "s",
            f"a tail of about {beats:g} beats dies away before it blurs the next chord",
        )
    if delay is not None:
        fx = delay.effect
        add(
            delay,
            "time_left_ms",
            fx.time_left_ms,
            round(0.75 * beat_ms, 1),
            "ms",
            f"left repeats on a dotted eighth note at {bpm:g} BPM",
        )
        add(
            delay,
            "time_right_ms",
            fx.time_right_ms,
            round(beat_ms, 1),
            "ms",
            f"right repeats on a quarter note at {bpm:g} BPM",
        )
    return out
