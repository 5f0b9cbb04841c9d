"""The alternative-mixes job: ``mixwise variations STEMS -n 5``.

Reads as its stages: prepare and auto-mix once -> choose the variations -> for each, apply its
moves to a copy of the proposal, render, measure -> check the masters are loudness-matched ->
write ``variations.json`` and ``variations.html``. The whole output folder is built beside its
destination and moved into place only when complete.

Measured features (:func:`features`), so variations can be compared by number as well as by
ear:

* ``tilt_db_per_oct``: slope of the master's long-term third-octave band levels from 50 Hz to
  16 kHz against log frequency (dB per octave; band power, so pink noise reads 0, a typical
  pop master about -2 to -3); higher is brighter.
* ``width_db``: side over mid energy of the master (dB; -inf for mono, 0 for two unrelated
  channels).
* ``vocal_lu``: loudness of the lead part(s) minus the loudness of the other dry parts (LU),
  from the rendered stems (effect returns not counted); ``None`` without a lead.
* ``rhythm_lu``: the same for drums and bass against the other dry parts.
* ``wet_lu``: loudness of the effect returns minus that of all the dry parts (LU).
* ``crest_db``: sample peak over RMS of the master (dB).
* ``loudness_lufs``: integrated loudness of the master (BS.1770, LUFS).
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mixwise import __version__
from mixwise.assist.variations import (
    VariationContext,
    VariationPlan,
    apply_variation,
    choose,
    context_for,
    plan_variation,
)
from mixwise.errors import MixwiseError, ParameterError
from mixwise.io.audio import FileProblem
from mixwise.roles import family_of
from mixwise.session.edit import Suggestion, now_iso
from mixwise.session.model import Session

log = logging.getLogger(__name__)

Progress = Callable[[float, float, str], None]

#: Masters whose integrated loudness spreads more than this (LU) are not loudness-matched.
LOUDNESS_MATCH_LU = 0.5
#: Band range (Hz) of the spectral tilt fit.
TILT_RANGE_HZ = (50.0, 16_000.0)
#: The size of a clearly measurable difference in each feature: two variations differ
#: measurably when some feature differs by at least its scale (:func:`feature_distance`).
DISTANCE_SCALES: dict[str, float] = {
    "tilt_db_per_oct": 0.1,
    "width_db": 1.0,
    "vocal_lu": 0.5,
    "rhythm_lu": 0.5,
    "wet_lu": 1.0,
    "crest_db": 0.5,
}
_BLOCK = 65_536


# --------------------------------------------------------------------------------------------
# features


@dataclass
class Features:
    """What a variation measures like (see the module docstring for each field's meaning)."""

    tilt_db_per_oct: float
    width_db: float
    crest_db: float
    loudness_lufs: float
    vocal_lu: float | None = None
    rhythm_lu: float | None = None
    wet_lu: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {
            k: (round(v, 3) if v is not None and math.isfinite(v) else None)
            for k, v in asdict(self).items()
        }


def spectral_tilt_db_per_oct(audio: np.ndarray, sample_rate: int) -> float:
    """Least-squares slope (dB per octave) of the long-term third-octave band levels of
    ``audio`` [shape=(channels, n)] from 50 Hz to 16 kHz (band power: pink noise reads 0)."""
    from mixwise.analysis.spectrum import band_frames

    bf = band_frames(audio, sample_rate)
    power = bf.power.astype(np.float64).sum(axis=0).mean(axis=1)
    lo, hi = TILT_RANGE_HZ
    keep = (bf.centres_hz >= lo) & (bf.centres_hz <= min(hi, 0.45 * sample_rate)) & (power > 0)
    if keep.sum() < 3:
        return math.nan
    x = np.log2(bf.centres_hz[keep])
    y = 10.0 * np.log10(power[keep])
    return float(np.polyfit(x, y, 1)[0])


def stereo_width_db(audio: np.ndarray) -> float:
    """Side over mid energy (dB) of a ``(2, n)`` signal; ``-inf`` for mono or identical
    channels, ``+inf`` for a signal with no mid."""
    if audio.shape[0] < 2:
        return -math.inf
    left = audio[0].astype(np.float64)
    right = audio[1].astype(np.float64)
    mid = float(np.sum((left + right) ** 2))
    side = float(np.sum((left - right) ** 2))
    if side <= 0:
        return -math.inf
    if mid <= 0:
        return math.inf
    return 10.0 * math.log10(side / mid)


def crest_db(audio: np.ndarray) -> float:
    """Sample peak over RMS (dB) of all channels together."""
    x = audio.astype(np.float64)
    rms = math.sqrt(float(np.mean(x * x))) if x.size else 0.0
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return 20.0 * math.log10(peak / rms) if rms > 0 else math.nan


def _blocks(stem: np.ndarray | Path) -> Iterator[np.ndarray]:
    """``(channels, n)`` float64 blocks of an array or a WAV file."""
    if isinstance(stem, np.ndarray):
        for a in range(0, stem.shape[1], _BLOCK):
            yield stem[:, a : a + _BLOCK].astype(np.float64)
        return
    import soundfile as sf

    with sf.SoundFile(str(stem)) as f:
        for block in f.blocks(blocksize=_BLOCK, dtype="float64", always_2d=True):
            yield np.ascontiguousarray(block.T)


def contribution_ratios_lu(
    stems: Mapping[str, np.ndarray | Path], kinds: Mapping[str, str], sample_rate: int
) -> dict[str, float | None]:
    """Loudness differences (LU) between groups of processed stems, summed sample by sample.

    stems : key -> stereo stem ``(2, n)`` (an array or a WAV file), as rendered into the mix
    kinds : key -> ``"lead"``, ``"rhythm"``, ``"other"`` (dry parts) or ``"return"`` (effect
        returns); keys without a kind are ignored
    Returns ``vocal_lu`` (lead minus the other dry parts), ``rhythm_lu`` (drums and bass minus
    the other dry parts) and ``wet_lu`` (returns minus all dry parts); ``None`` where a group
    is empty or silent. Streams the files block by block (bounded memory).
    """
    from mixwise.analysis.meters import LoudnessMeter

    groups = {
        "lead": {"lead"},
        "not_lead": {"rhythm", "other"},
        "rhythm": {"rhythm"},
        "not_rhythm": {"lead", "other"},
        "returns": {"return"},
        "dry": {"lead", "rhythm", "other"},
    }
    keys = [k for k in stems if kinds.get(k) in ("lead", "rhythm", "other", "return")]
    meters = {g: LoudnessMeter(sample_rate, 2) for g in groups}
    used = {g: False for g in groups}
    readers = {k: _blocks(stems[k]) for k in keys}
    while readers:
        blocks: dict[str, np.ndarray] = {}
        for k in list(readers):
            b = next(readers[k], None)
            if b is None:
                del readers[k]
            else:
                blocks[k] = b if b.shape[0] == 2 else np.vstack([b[0], b[0]])
        if not blocks:
            break
        n = max(b.shape[1] for b in blocks.values())
        for g, members in groups.items():
            total = np.zeros((2, n))
            for k, b in blocks.items():
                if kinds[k] in members:
                    total[:, : b.shape[1]] += b
                    used[g] = True
            meters[g].add(total)

    def diff(a: str, b: str) -> float | None:
        if not (used[a] and used[b]):
            return None
        la, lb = meters[a].integrated_lufs, meters[b].integrated_lufs
        return la - lb if math.isfinite(la) and math.isfinite(lb) else None

    return {
        "vocal_lu": diff("lead", "not_lead"),
        "rhythm_lu": diff("rhythm", "not_rhythm"),
        "wet_lu": diff("returns", "dry"),
    }


def features(
    master: np.ndarray,
    sample_rate: int,
    stems: Mapping[str, np.ndarray | Path] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Features:
    """The features of a variation: its master ``(2, n)`` at ``sample_rate`` Hz and, when
    given, its processed stems with their kinds (see :func:`contribution_ratios_lu`)."""
    from mixwise.analysis.meters import integrated_loudness

    ratios: dict[str, float | None] = {}
    if stems:
        ratios = contribution_ratios_lu(stems, kinds or {}, sample_rate)
    return Features(
        tilt_db_per_oct=spectral_tilt_db_per_oct(master, sample_rate),
        width_db=stereo_width_db(master),
        crest_db=crest_db(master),
        loudness_lufs=integrated_loudness(master, sample_rate),
        **ratios,
    )


def feature_distance(a: Features, b: Features) -> float:
    """How clearly two variations differ: the largest difference of any feature measured in
    units of :data:`DISTANCE_SCALES` (>= 1: measurably different). Features missing or
    infinite in either are skipped."""
    da, db = asdict(a), asdict(b)
    best = 0.0
    for key, scale in DISTANCE_SCALES.items():
        x, y = da.get(key), db.get(key)
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            continue
        best = max(best, abs(x - y) / scale)
    return best


def stem_kinds(
    session: Session, lead_ids: tuple[str, ...], stem_names: Mapping[str, str]
) -> dict[str, str]:
    """Stem file base name -> kind (``lead``, ``rhythm``, ``other``, ``return``) for the
    stems a render of ``session`` writes (``stem_names``: track id -> base name)."""
    kinds: dict[str, str] = {}
    for t in session.tracks:
        if t.id in lead_ids:
            kind = "lead"
        elif family_of(t.role) in ("drums", "bass"):
            kind = "rhythm"
        else:
            kind = "other"
        kinds[stem_names[t.id]] = kind
    return kinds


# --------------------------------------------------------------------------------------------
# the job


@dataclass
class VariationResult:
    """One rendered variation: where its files are, what it changed and how it measures."""

    index: int
    name: str
    kind: str
    description: str
    folder: Path
    session: Session
    changes: list[Suggestion]
    notes: list[str]
    features: Features
    master_lufs: float
    master_true_peak_dbtp: float
    seed: int | None = None

    @property
    def session_path(self) -> Path:
        return self.folder / "session.json"

    @property
    def master_path(self) -> Path:
        return self.folder / "master.wav"

    @property
    def mix_path(self) -> Path:
        return self.folder / "mix.wav"


@dataclass
class VariationsOutcome:
    """What :func:`make_variations` wrote: every variation (``0-proposal`` first), the
    listing files, the master loudness spread (LU) and any problems or warnings."""

    out_dir: Path
    variations: list[VariationResult]
    json_path: Path
    html_path: Path
    loudness_spread_lu: float
    problems: list[FileProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def loudness_matched(self) -> bool:
        return self.loudness_spread_lu <= LOUDNESS_MATCH_LU

    def distances(self) -> np.ndarray:
        """Pairwise :func:`feature_distance` of the variations, ``(k, k)``."""
        k = len(self.variations)
        d = np.zeros((k, k))
        for i in range(k):
            for j in range(i + 1, k):
                d[i, j] = d[j, i] = feature_distance(
                    self.variations[i].features, self.variations[j].features
                )
        return d

    def summary_lines(self) -> list[str]:
        """One line per variation (folder, description, key features) for a terminal."""
        lines = []
        for v in self.variations:
            f = v.features
            voc = f"{f.vocal_lu:+.1f} LU vocal" if f.vocal_lu is not None else "no lead"
            lines.append(
                f"{v.folder.name:<22} {v.description}  [{f.tilt_db_per_oct:+.2f} dB/oct, "
                f"width {f.width_db:.1f} dB, {voc}, {v.master_lufs:.1f} LUFS]"
            )
        return lines


def default_variations_dir(stems_dir: str | os.PathLike[str]) -> Path:
    """``<stems folder>-variations``, beside the stems folder (never inside it)."""
    p = Path(stems_dir).resolve()
    return p.parent / f"{p.name}-variations"


def _check_out_dir(out: Path, stems_dir: Path) -> None:
    o, s = out.resolve(), stems_dir.resolve()
    if o == s or o in s.parents or s in o.parents:
        raise MixwiseError(
            f"{out}: this folder holds or sits inside the input stems ({stems_dir}); choose "
            "another output folder (mixwise never writes over or among its inputs)"
        )
    if o.exists() and (
        not o.is_dir() or (any(o.iterdir()) and not (o / "variations.json").exists())
    ):
        raise MixwiseError(
            f"{out}: exists and is not a mixwise variations folder; choose a new or empty folder "
            "(a previous variations folder is replaced whole)"
        )


def _auto_mix(stems_dir: Path, target_lufs: float, ceiling_dbtp: float, progress: Progress | None):
    """Prepare and auto-mix the folder as :func:`mixwise.api.mix_folder` does, without
    rendering: the proposal session, the preparation and the automatic mix's result."""
    from mixwise.api import decide, prepare_folder
    from mixwise.session.model import Limiter, Master

    prep = prepare_folder(stems_dir, progress=progress)
    session = prep.session
    session.master = Master(target_lufs=target_lufs, limiter=Limiter(ceiling_dbtp=ceiling_dbtp))
    decided = decide(prep, session)
    return prep, session, decided


def make_variations(
    stems_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    n: int = 5,
    seed: int = 0,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    progress: Progress | None = None,
) -> VariationsOutcome:
    """Auto-mix a folder of stems once and render ``n`` alternative mixes around it.

    Writes ``OUT/0-proposal/`` (the automatic mix itself) and ``OUT/<k>-<name>/`` for each
    variation (:func:`mixwise.assist.variations.choose`: named ones first, then sampled ones
    with seeds ``seed``, ``seed+1``...), each holding ``session.json``, ``mix.wav`` (the mix
    bus) and ``master.wav`` (mastered to ``target_lufs`` LUFS integrated with a
    ``ceiling_dbtp`` dBTP true-peak ceiling, so every master is loudness-matched; checked:
    the spread must stay within 0.5 LU, else a warning), plus ``OUT/variations.json`` and
    ``OUT/variations.html`` listing each with its description, moves and measured features.

    **Pick one to continue from:** each ``session.json`` is an ordinary session (absolute
    source paths; its history ends with the variation's moves, task ``"variation"``, each
    with its reason). Render it with ``mixwise render OUT/<k>-<name>/session.json``, edit or
    undo it like any other, or copy it to a project folder; nothing ties it to this folder.

    Nothing is written until the whole set is rendered; an existing variations folder at
    ``out_dir`` is replaced whole, any other non-empty folder is refused
    (:class:`MixwiseError`). ``progress`` gets (seconds done, seconds in all, stage).
    """
    from mixwise.api import session_stem_names
    from mixwise.export.common import atomic_output
    from mixwise.render.engine import RenderOptions, render
    from mixwise.session.io import save_session

    if n < 0 or n > 50:
        raise ParameterError(f"the number of variations must be 0-50 (got {n})")
    if seed < 0:
        raise ParameterError(f"the seed must be 0 or more (got {seed})")
    stems = Path(stems_dir)
    out = Path(out_dir)
    _check_out_dir(out, stems)

    prep, proposal, decided = _auto_mix(stems, target_lufs, ceiling_dbtp, progress)
    for t in proposal.tracks:  # absolute, so each session file works wherever it is moved
        t.source.path = str(Path(t.source.path).resolve())
    context = context_for(
        proposal,
        bands={tid: a.bands for tid, a in prep.analyses.items()},
        meters=prep.meters,
        lead=decided.lead,
        correlation={tid: a.mono.correlation for tid, a in prep.analyses.items()},
    )
    plans = [VariationPlan("proposal", "proposal", "the automatic mix, as proposed")]
    plans += [
        plan_variation(proposal, name, context=context)
        for name in choose(n, session=proposal, context=context, seed=seed)
    ]
    names = session_stem_names(proposal)
    duration = proposal.length_s or 0.0
    total = duration * len(plans)
    results: list[VariationResult] = []
    with atomic_output(out, is_dir=True, checked=True) as tmp:
        for k, plan in enumerate(plans):
            folder = f"{k}-{plan.name}"
            session = apply_variation(proposal, plan)
            if plan.kind != "proposal":
                session.name = f"{proposal.name} ({plan.name})"
            dest = tmp / folder
            stage = f"variation {k}/{len(plans) - 1}: {plan.name}"

            def step(done: float, _all: float, _stage: str, k=k, stage=stage) -> None:
                if progress is not None:
                    progress(k * duration + min(done, duration), total, stage)

            res = render(
                session,
                prep.sources(),
                dest,
                options=RenderOptions(),
                stem_names=names,
                progress=step,
            )
            save_session(session, dest / "session.json")
            feats = _measure(res, session, context, names)
            log.info(
                "%s: %d move(s), master %.2f LUFS", folder, len(plan.suggestions), res.master_lufs
            )
            shutil.rmtree(dest / "stems", ignore_errors=True)
            results.append(
                VariationResult(
                    index=k,
                    name=plan.name,
                    kind=plan.kind,
                    description=plan.description,
                    folder=out / folder,
                    session=session,
                    changes=list(plan.suggestions),
                    notes=list(plan.notes),
                    features=feats,
                    master_lufs=res.master_lufs,
                    master_true_peak_dbtp=res.master_true_peak_dbtp,
                    seed=plan.seed,
                )
            )
        louds = [r.master_lufs for r in results if math.isfinite(r.master_lufs)]
        spread = max(louds) - min(louds) if louds else math.inf
        outcome = VariationsOutcome(
            out,
            results,
            out / "variations.json",
            out / "variations.html",
            spread,
            problems=list(prep.load.problems),
        )
        if not outcome.loudness_matched:
            outcome.warnings.append(
                f"the masters' loudness spreads {spread:.2f} LU (more than "
                f"{LOUDNESS_MATCH_LU:g} LU): compare them with care"
            )
        report = build_listing(
            outcome, stems_dir=stems, seed=seed, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp
        )
        text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        (tmp / "variations.json").write_text(text, encoding="utf-8")
        (tmp / "variations.html").write_text(render_listing_html(report), encoding="utf-8")
    return outcome


def _measure(res, session: Session, context: VariationContext, names: Mapping[str, str]):
    import soundfile as sf

    master, rate = sf.read(str(res.master_path), dtype="float32", always_2d=True)
    kinds = stem_kinds(session, context.lead_ids, names)
    stems: dict[str, Path] = {}
    for key, path in res.stem_paths.items():
        if key in kinds:
            stems[key] = path
        elif key.startswith("_return_"):
            stems[key] = path
            kinds[key] = "return"
    return features(np.ascontiguousarray(master.T), rate, stems, kinds)


# --------------------------------------------------------------------------------------------
# listing


def _plain(x):
    if isinstance(x, float):
        return None if not math.isfinite(x) else x
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def build_listing(
    outcome: VariationsOutcome,
    *,
    stems_dir: Path,
    seed: int,
    target_lufs: float,
    ceiling_dbtp: float,
) -> dict[str, object]:
    """The content of ``variations.json``: the settings, each variation with its folder,
    description, notes, moves and features, the pairwise feature distances and the loudness
    check."""
    d = outcome.distances()
    return _plain(
        {
            "mixwise": __version__,
            "created": now_iso(),
            "stems": str(stems_dir.resolve()),
            "seed": seed,
            "master_target": {"integrated_lufs": target_lufs, "ceiling_dbtp": ceiling_dbtp},
            "loudness": {
                "spread_lu": round(outcome.loudness_spread_lu, 3)
                if math.isfinite(outcome.loudness_spread_lu)
                else None,
                "matched": outcome.loudness_matched,
                "tolerance_lu": LOUDNESS_MATCH_LU,
            },
            "variations": [
                {
                    "index": v.index,
                    "name": v.name,
                    "kind": v.kind,
                    "seed": v.seed,
                    "folder": v.folder.name,
                    "session": f"{v.folder.name}/session.json",
                    "mix": f"{v.folder.name}/mix.wav",
                    "description": v.description,
                    "notes": v.notes,
                    "features": v.features.to_dict(),
                    "master": {
                        "file": f"{v.folder.name}/master.wav",
                        "integrated_lufs": round(v.master_lufs, 3),
                        "true_peak_dbtp": round(v.master_true_peak_dbtp, 3),
                    },
                    "changes": [
                        {
                            "target": s.target,
                            "parameter": s.parameter,
                            "old": s.old,
                            "new": s.new,
                            "unit": s.unit,
                            "reason": s.reason,
                        }
                        for s in v.changes
                    ],
                }
                for v in outcome.variations
            ],
            "distance_scales": DISTANCE_SCALES,
            "distances": [[round(float(x), 2) for x in row] for row in d],
            "warnings": outcome.warnings,
            "problems": [f"{Path(p.path).name}: {p.message}" for p in outcome.problems],
        }
    )


_FEATURE_COLUMNS = (
    ("tilt_db_per_oct", "tilt dB/oct", "{:+.2f}"),
    ("width_db", "width dB", "{:+.1f}"),
    ("vocal_lu", "vocal LU", "{:+.1f}"),
    ("rhythm_lu", "drums+bass LU", "{:+.1f}"),
    ("wet_lu", "effects LU", "{:+.1f}"),
    ("crest_db", "crest dB", "{:.1f}"),
    ("loudness_lufs", "LUFS", "{:.1f}"),
)


def render_listing_html(report: Mapping[str, object]) -> str:
    """A small self-contained page listing the variations (a player for each master, its
    description and features); ``report`` is :func:`build_listing`'s content."""
    e = html.escape
    rows = []
    for v in report["variations"]:  # type: ignore[union-attr]
        f = v["features"]
        cells = "".join(
            f"<td>{e(fmt.format(f[k])) if f.get(k) is not None else '&ndash;'}</td>"
            for k, _, fmt in _FEATURE_COLUMNS
        )
        notes = "".join(f"<li>{e(n)}</li>" for n in v["notes"])
        moves = "".join(
            f"<li><b>{e(c['target'])}</b>: {e(c['reason'].split(': ', 1)[-1])}</li>"
            for c in v["changes"]
        )
        detail = ""
        if moves or notes:
            detail = (
                f"<details><summary>{len(v['changes'])} change(s)</summary><ul>{moves}{notes}"
                "</ul></details>"
            )
        rows.append(
            f"<tr><td><b>{e(v['folder'])}</b><br><small>{e(v['description'])}</small>{detail}"
            f'</td><td><audio controls preload=none src="{e(v["master"]["file"])}"></audio>'
            f'<br><a href="{e(v["session"])}">session.json</a></td>{cells}</tr>'
        )
    head = "".join(f"<th>{e(label)}</th>" for _, label, _ in _FEATURE_COLUMNS)
    loud = report["loudness"]
    spread = loud["spread_lu"]  # type: ignore[index]
    check = (
        f"Masters loudness-matched within {spread:.2f} LU."
        if loud["matched"]  # type: ignore[index]
        else f"Warning: masters differ by {spread} LU in loudness."
    )
    warnings = "".join(f"<p class=warn>{e(w)}</p>" for w in report["warnings"])  # type: ignore[union-attr]
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>mixwise variations</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ddd; padding: 6px 10px;
vertical-align: top; text-align: left; }} td:nth-child(n+3) {{ text-align: right; }}
small {{ color: #555; }} .warn {{ color: #a40; }}
</style></head><body>
<h1>Alternative mixes</h1>
<p>Stems: {e(str(report["stems"]))}. {e(check)} Each folder's <code>session.json</code> is a
normal session: render it with <code>mixwise render</code> or keep editing it.</p>{warnings}
<table><tr><th>variation</th><th>listen</th>{head}</tr>
{chr(10).join(rows)}
</table>
<p><small>tilt: slope of the master's third-octave spectrum (higher = brighter); width: side over
mid energy; vocal / drums+bass: loudness of those parts minus the other dry parts; effects:
reverb and delay returns minus the dry parts; crest: peak over RMS.</small></p>
</body></html>
"""
