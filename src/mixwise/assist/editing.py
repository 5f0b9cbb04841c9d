"""Editing checks turned into suggestions: region trims, click repairs, polarity and delay.

Every suggestion is a non-destructive session change (regions, repairs, polarity, delay);
source files are never edited.
"""

from __future__ import annotations

from collections.abc import Mapping

from mixwise.analysis.editing import Alignment, SilenceReport
from mixwise.roles import family_of
from mixwise.session.edit import Suggestion
from mixwise.session.model import Region, Session, Track

#: Trim silences only when at least this much (s) of a stem is silent.
MIN_TRIMMED_S = 1.0
#: Pairs of stems correlated at least this much are checked for polarity and time offsets.
MIN_PAIR_CORRELATION = 0.4
#: Offsets smaller than this (ms) are left alone.
MIN_OFFSET_MS = 0.05
#: Families whose stems are often several pickups of one source (multi-mic drums, bass DI +
#: amp, double-tracked guitars and vocals).
PAIRED_FAMILIES = ("drums", "bass", "guitar", "vocals", "keys")


def suggest_region_trims(track: Track, report: SilenceReport) -> list[Suggestion]:
    """Kept regions with short fades where the stem holds enough silence to matter."""
    if report.silent_s < MIN_TRIMMED_S or not report.keep:
        return []
    regions = [
        Region(
            start_s=round(r.start_s, 4),
            end_s=round(r.end_s, 4),
            fade_in_ms=report.fade_ms if r.start_s > 0 else 0.0,
            fade_out_ms=report.fade_ms,
        )
        for r in report.keep
    ]
    gaps = [(round(s.start_s, 3), round(s.end_s, 3)) for s in report.silences]
    return [
        Suggestion(
            task="silence",
            target=track.name,
            parameter=f"tracks[{track.id}].regions",
            old=list(track.regions),
            new=regions,
            unit="regions",
            reason=(
                f"{report.silent_s:.1f} s of silence (below {report.threshold_db:.0f} dBFS, "
                f"{report.active_level_db - report.threshold_db:.0f} dB under the stem's level) "
                f"trimmed into {len(regions)} region(s) with {report.fade_ms:g} ms fades"
            ),
            evidence={
                "silent_s": round(report.silent_s, 3),
                "silences_s": gaps[:50],
                "active_level_dbfs": round(report.active_level_db, 1),
                "threshold_dbfs": round(report.threshold_db, 1),
            },
            confidence=0.8,
        )
    ]


def suggest_click_repairs(track: Track, clicks: list) -> list[Suggestion]:
    """One suggestion holding every click repair of a track (``clicks`` from
    :func:`mixwise.analysis.clicks.find_clicks`)."""
    if not clicks:
        return []
    repairs = [
        {"time_s": round(c.time_s, 6), "length_samples": int(c.length_samples),
         "channel": int(c.channel)}
        for c in sorted(clicks, key=lambda c: c.time_s)
    ]  # fmt: skip
    times = [round(c.time_s, 3) for c in clicks]
    return [
        Suggestion(
            task="clicks",
            target=track.name,
            parameter=f"tracks[{track.id}].repairs",
            old=list(track.repairs),
            new=repairs,
            unit="repairs",
            reason=(
                f"{len(clicks)} click(s) of 1-{max(c.length_samples for c in clicks)} samples "
                "repaired by interpolation from the music around them"
            ),
            evidence={
                "times_s": times[:100],
                "strongest_db": round(max(c.strength_db for c in clicks), 1),
            },
            confidence=0.85,
        )
    ]


def candidate_pairs(session: Session) -> list[tuple[str, str]]:
    """Pairs of tracks worth checking for phase: same family among those often recorded
    with several microphones or doubled, or the same role anywhere."""
    out = []
    tracks = session.tracks
    for i, a in enumerate(tracks):
        for b in tracks[i + 1 :]:
            fa, fb = family_of(a.role), family_of(b.role)
            if (fa == fb and fa in PAIRED_FAMILIES) or a.role == b.role:
                out.append((a.id, b.id))
    return out


def suggest_phase_fixes(
    session: Session,
    alignments: Mapping[tuple[str, str], Alignment],
    loudness: Mapping[str, float],
) -> list[Suggestion]:
    """Polarity flips and delays for correlated pairs (strongest pairs first; a track is
    adjusted once). The louder track of a pair is the reference; the quieter one is flipped;
    the earlier one is delayed so both line up."""
    out: list[Suggestion] = []
    touched: set[str] = set()
    pairs = sorted(alignments.items(), key=lambda kv: -kv[1].correlation)
    for (a_id, b_id), al in pairs:
        if al.correlation < MIN_PAIR_CORRELATION:
            continue
        a, b = session.track(a_id), session.track(b_id)
        ref, oth = (a, b) if loudness.get(a_id, 0) >= loudness.get(b_id, 0) else (b, a)
        # the offset of the quieter track against the louder one
        late_ms = al.delay_ms if ref is a else -al.delay_ms
        evidence = {
            "pair": [a.id, b.id],
            "correlation": round(al.correlation, 3),
            "offset_ms": round(late_ms, 3),
            "inverted": al.polarity_inverted,
        }
        if al.polarity_inverted and oth.id not in touched:
            out.append(
                Suggestion(
                    task="phase",
                    target=oth.name,
                    parameter=f"tracks[{oth.id}].chain.polarity_inverted",
                    old=oth.chain.polarity_inverted,
                    new=not oth.chain.polarity_inverted,
                    reason=(
                        f"{oth.name} is upside down against {ref.name} (correlation "
                        f"{al.correlation:.2f} once flipped): flipping it stops them cancelling"
                    ),
                    evidence=evidence,
                    confidence=min(0.95, al.correlation),
                )
            )
            touched.add(oth.id)
        if abs(late_ms) >= MIN_OFFSET_MS:
            early = ref if late_ms > 0 else oth
            if early.id in touched and early is not oth:
                continue
            shift = round(abs(late_ms), 3)
            out.append(
                Suggestion(
                    task="phase",
                    target=early.name,
                    parameter=f"tracks[{early.id}].chain.delay_ms",
                    old=early.chain.delay_ms,
                    new=round(early.chain.delay_ms + shift, 3),
                    unit="ms",
                    reason=(
                        f"{early.name} arrives {shift:.2f} ms before "
                        f"{(oth if early is ref else ref).name}: delaying it lines them up"
                    ),
                    evidence=evidence,
                    confidence=min(0.9, al.correlation),
                )
            )
            touched.add(early.id)
    return out
