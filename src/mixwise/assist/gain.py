"""Gain staging: trims that bring every track to a common working loudness.

This first assistant sets each track's ``trim_db`` so its integrated loudness (BS.1770, the
gated, active parts of the stem) lands on ``target_lufs``; silence does not count because
the loudness gate leaves it out. Later assistants (balance, EQ, dynamics) start from here.
"""

from __future__ import annotations

import math

from mixwise.analysis.meters import Meters
from mixwise.session.edit import Suggestion
from mixwise.session.model import Session

#: Working loudness per stem (LUFS): the EBU R128 programme reference, leaving headroom for
#: a dozen or more stems to sum below full scale before the master stage.
STEM_TARGET_LUFS = -23.0
#: Trims are limited to this range (dB) to stay within the session's valid values.
MAX_TRIM_DB = 40.0


def suggest_gain_staging(
    session: Session, meters: dict[str, Meters], *, target_lufs: float = STEM_TARGET_LUFS
) -> list[Suggestion]:
    """One trim suggestion per track with a measurable loudness.

    ``meters`` maps track id -> :class:`~mixwise.analysis.meters.Meters` of the raw stem.
    """
    out: list[Suggestion] = []
    for t in session.tracks:
        mt = meters.get(t.id)
        if mt is None or not math.isfinite(mt.integrated_lufs):
            continue
        trim = max(-MAX_TRIM_DB, min(MAX_TRIM_DB, target_lufs - mt.integrated_lufs))
        trim = round(trim, 2)
        if abs(trim - t.chain.trim_db) < 0.01:
            continue
        out.append(
            Suggestion(
                task="gain",
                target=t.name,
                parameter=f"tracks[{t.id}].chain.trim_db",
                old=t.chain.trim_db,
                new=trim,
                unit="dB",
                reason=(
                    f"brings the stem from {mt.integrated_lufs:.1f} LUFS to the working "
                    f"level of {target_lufs:g} LUFS"
                ),
                evidence={
                    "integrated_lufs": round(mt.integrated_lufs, 2),
                    "sample_peak_dbfs": round(mt.sample_peak_dbfs, 2),
                    "target_lufs": target_lufs,
                },
                confidence=0.9,
            )
        )
    return out
