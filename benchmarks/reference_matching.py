"""Reference matching: how far the master moves toward a reference track.

Songs: every set of ``../shared/data`` with a human mix (``mixture.*`` and ``labels.csv``). For
each song, an excerpt (``--seconds``, from the middle of the song) of its stems is normalised
to -23 LUFS per stem (the ``equal`` inputs of ``automix_quality.py``, whose helpers are reused
here) and mixed with ``mixwise.api.mix_folder`` (master -14 LUFS, -1 dBTP). Then, for two
references,

* ``own``: the song's own human mixture (the same excerpt), and
* ``other``: the next song's mixture (its excerpt),

the matching stage runs on the saved session:

1. the mix bus (``OUT/mix.wav``, before the master) is profiled
   (:func:`mixwise.analysis.compare.profile`); :func:`mixwise.assist.reference.
   reference_master` (EQ up to 8 bands of +-6 dB, a slow compressor when the reference's
   loudness range is clearly smaller) and :func:`~mixwise.assist.reference.reference_width`
   make suggestions; they are applied (:func:`mixwise.session.edit.apply_suggestion`), the
   session is saved and rendered again (:func:`mixwise.api.render_session_file`);
2. ``--refine`` closed-loop rounds (default 2): :func:`~mixwise.assist.reference.
   refine_reference_master` refits the EQ on the rendered master, and the session is
   rendered again (a round that would not improve the prediction stops the loop).

Metrics per song and reference, from the rendered masters (``unmatched``: the automix's own
master; ``1st pass``: after step 1; ``matched``: after the rounds, their number in brackets):

* tonal distance to the reference (dB, :func:`mixwise.analysis.compare.compare`: mean |band
  difference| 40 Hz-16 kHz at the best level match); target: matched <= 0.5 x unmatched;
* ``floor``: the part of the distance no EQ within the limits can remove (each band's
  difference beyond +-6 dB, and all of it where the mix is more than 12 dB below the reference,
  which is never boosted), from the mix bus;
* true peak of the matched master (dBTP) against the ceiling: must never exceed it;
* loudness error of the matched master (LU, master minus the -14 LUFS target);
* width difference (side/mid ratio, dB, 40 Hz-16 kHz) and loudness range difference (LU) to
  the reference, unmatched > matched, for information.

Prints one table and the PASS/FAIL checks, writes ``OUT/reference_matching.csv`` (with the
short-term crest differences too). Benchmarks never gate CI: the exit code is 0 whatever the
checks.

Run: ``.venv/bin/python benchmarks/reference_matching.py [--songs a,b] [--seconds 30]
[--refine 2] [--out DIR] [--verbose]`` (skips with a message when the data is absent).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import numpy as np  # noqa: E402

import automix_quality as aq  # noqa: E402  (sets up the src path too)
from mixwise.analysis.compare import Profile, compare, profile  # noqa: E402

DEFAULT_OUT = aq.REPO / "out" / "bench" / "reference_matching"
#: Excerpt length (s) taken from the middle of each song (the whole song when shorter).
DEFAULT_SECONDS = 30.0
#: The matched tonal distance should be at most this share of the unmatched one.
TARGET_RATIO = 0.5
CASES = ("own", "other")
#: The matching's limits (the defaults of reference_master).
MAX_BANDS = 8
MAX_GAIN_DB = 6.0
#: Closed-loop rounds after the first pass: refit the EQ on the rendered master, render again.
DEFAULT_REFINE = 2


@dataclass
class Row:
    """One song and reference."""

    song: str
    case: str
    reference: str
    unmatched_db: float
    matched_db: float
    first_pass_db: float
    rounds: int
    master_tp_dbtp: float
    master_lufs: float
    width_before_db: float
    width_after_db: float
    crest_before_db: float
    crest_after_db: float
    lra_before_lu: float
    lra_after_lu: float
    floor_db: float
    eq_bands: int
    compressor: str
    width_moves: int
    seconds: float
    sentences_before: list[str]
    sentences_after: list[str]

    @property
    def ratio(self) -> float:
        return self.matched_db / self.unmatched_db if self.unmatched_db > 0 else math.nan

    @property
    def loudness_error_lu(self) -> float:
        return self.master_lufs - aq.TARGET_LUFS

    @property
    def tp_over_db(self) -> float:
        return max(0.0, self.master_tp_dbtp - aq.CEILING_DBTP)


def excerpt(audio: np.ndarray, sr: int, seconds: float) -> np.ndarray:
    """``seconds`` of ``audio`` [shape=(c, n)] from the middle (all of it when shorter)."""
    n = audio.shape[1]
    m = min(n, int(round(seconds * sr)))
    start = (n - m) // 2
    return np.ascontiguousarray(audio[:, start : start + m])


@dataclass
class SongData:
    song: aq.Song
    sample_rate: int
    stems: dict[str, np.ndarray]  # the excerpt of each stem, as the human mixed it
    mixture: np.ndarray  # the excerpt of the human mixture


def load_song(song: aq.Song, seconds: float) -> SongData:
    human = aq.load_human(song)
    sr = human.sample_rate
    mixture, mixture_sr = aq.read_stereo(song.mixture)
    if mixture_sr != sr:
        raise SystemExit(f"{song.name}: mixture at {mixture_sr} Hz, stems at {sr} Hz")
    mixture = aq.pad_to(mixture, human.mix.shape[1])
    stems = {k: excerpt(x, sr, seconds) for k, x in human.stems.items()}
    return SongData(song, sr, stems, excerpt(mixture, sr, seconds))


def read_profile(path: Path) -> Profile:
    audio, sr = aq.read_stereo(path)
    return profile(audio, sr)


def match_and_render(
    out: Path,
    case: str,
    mix_p: Profile,
    ref_p: Profile,
    stems: dict[str, np.ndarray],
    refine: int,
    max_bands: int = MAX_BANDS,
    max_gain_db: float = MAX_GAIN_DB,
) -> tuple[list[Profile], dict[str, object]]:
    """Suggest, apply, save ``session-<case>.json`` beside ``session.json``, render it to
    ``out/<case>``; then ``refine`` closed-loop rounds (refit the EQ on the rendered master,
    render again). Returns the rendered masters' profiles (first pass, then each round) and
    what was changed."""
    from mixwise.api import render_session_file
    from mixwise.assist.reference import (
        reference_master,
        reference_width,
        refine_reference_master,
    )
    from mixwise.render.engine import RenderOptions
    from mixwise.session.edit import apply_suggestion
    from mixwise.session.io import load_session, resolve_source, save_session

    session_path = out / "session.json"
    session = load_session(session_path)
    track_audio = {}
    for t in session.tracks:
        key = resolve_source(session_path, t.source.path).stem
        if key in stems:
            track_audio[t.id] = stems[key]
    suggestions = reference_master(
        session,
        mix_p.bands_db,
        mix_p.centres_hz,
        ref_p,
        max_bands=max_bands,
        max_gain_db=max_gain_db,
        mix=mix_p,
    )
    suggestions += reference_width(session, track_audio, ref_p, mix=mix_p)
    comp = next((s.new for s in suggestions if s.parameter == "master.compressor"), None)
    masters = []
    for round_ in range(refine + 1):
        if round_:
            suggestions = refine_reference_master(
                session, masters[-1], ref_p, max_bands=max_bands, max_gain_db=max_gain_db
            )
            if not suggestions:
                break
        for s in suggestions:
            apply_suggestion(session, s)
        matched_path = save_session(session, out / f"session-{case}.json")
        result = render_session_file(
            matched_path, out / f"{case}-{round_}", options=RenderOptions(write_stems=False)
        )
        masters.append(read_profile(result.render.master_path))
    info = {
        "eq_bands": len(session.master.eq),
        "compressor": "-"
        if comp is None
        else (f"{comp['ratio']:g}:1" if comp["enabled"] else "off"),
        "width_moves": sum(1 for h in session.history if h.parameter.endswith(".width")),
    }
    return masters, info


def reachable_floor_db(mix_p: Profile, ref_p: Profile, max_gain_db: float = MAX_GAIN_DB) -> float:
    """The tonal distance (dB) no EQ within the matching's limits can remove: for each band
    of 40 Hz-16 kHz, the part of the mix's difference beyond +-``max_gain_db``, or all of it
    where the mix is more than ``MISSING_DB`` below the reference (never boosted)."""
    from mixwise.analysis.compare import aligned_difference_db, in_range
    from mixwise.assist.reference import MISSING_DB

    d, _ = aligned_difference_db(mix_p.bands_db, ref_p.bands_db, mix_p.centres_hz)
    use = in_range(mix_p.centres_hz) & np.isfinite(d)
    left = np.where(d < -MISSING_DB, np.abs(d), np.maximum(np.abs(d) - max_gain_db, 0.0))
    return float(np.mean(left[use]))


def evaluate(
    data: SongData,
    refs: dict[str, tuple[str, np.ndarray]],
    tmp: Path,
    refine: int,
    max_bands: int = MAX_BANDS,
    max_gain_db: float = MAX_GAIN_DB,
) -> list[Row]:
    """Mix the song's equal-loudness excerpt once, then match it to each reference."""
    from mixwise.api import mix_folder
    from mixwise.render.engine import RenderOptions

    sr = data.sample_rate
    inputs = aq.Inputs({k: aq.normalise_lufs(x, sr, aq.STEM_LUFS) for k, x in data.stems.items()})
    stem_dir = tmp / data.song.name / "stems"
    aq.write_inputs(inputs, stem_dir, sr)
    out = tmp / data.song.name / "out"
    t0 = time.perf_counter()
    outcome = mix_folder(
        stem_dir,
        out,
        target_lufs=aq.TARGET_LUFS,
        ceiling_dbtp=aq.CEILING_DBTP,
        options=RenderOptions(write_stems=False),
    )
    mix_seconds = time.perf_counter() - t0
    mix_p = read_profile(outcome.render.mix_path)
    master_p = read_profile(outcome.render.master_path)
    rows = []
    for case, (ref_name, ref_audio) in refs.items():
        t1 = time.perf_counter()
        ref_p = profile(ref_audio, sr)
        before = compare(master_p, ref_p)
        masters, info = match_and_render(
            out, case, mix_p, ref_p, inputs.audio, refine, max_bands, max_gain_db
        )
        matched_p = masters[-1]
        after = compare(matched_p, ref_p)
        rows.append(
            Row(
                song=data.song.name,
                case=case,
                reference=ref_name,
                unmatched_db=before.tonal_distance_db,
                matched_db=after.tonal_distance_db,
                first_pass_db=compare(masters[0], ref_p).tonal_distance_db,
                rounds=len(masters) - 1,
                master_tp_dbtp=matched_p.true_peak_dbtp,
                master_lufs=matched_p.integrated_lufs,
                width_before_db=before.width_diff_db,
                width_after_db=after.width_diff_db,
                crest_before_db=before.short_term_crest_diff_db,
                crest_after_db=after.short_term_crest_diff_db,
                lra_before_lu=before.lra_diff_lu,
                lra_after_lu=after.lra_diff_lu,
                floor_db=reachable_floor_db(mix_p, ref_p, max_gain_db),
                eq_bands=int(info["eq_bands"]),
                compressor=str(info["compressor"]),
                width_moves=int(info["width_moves"]),
                seconds=mix_seconds + time.perf_counter() - t1,
                sentences_before=before.sentences(),
                sentences_after=after.sentences(),
            )
        )
    return rows


HEADERS = [
    "song",
    "reference",
    "unmatched",
    "1st pass",
    "matched (rounds)",
    "ratio",
    "TP dBTP",
    "LU err",
    "width diff",
    "floor",
    "LRA diff",
    "EQ",
    "comp.",
    "widths",
    "s",
]


def table_rows(rows: list[Row]) -> list[list[str]]:
    f = aq.fmt
    return [
        [
            r.song,
            r.case if r.case == "own" else r.reference,
            f(r.unmatched_db),
            f(r.first_pass_db),
            f"{f(r.matched_db)} ({r.rounds})",
            f(r.ratio),
            f(r.master_tp_dbtp),
            f"{r.loudness_error_lu:+.2f}",
            f"{r.width_before_db:+.1f}>{r.width_after_db:+.1f}",
            f(r.floor_db),
            f"{r.lra_before_lu:+.1f}>{r.lra_after_lu:+.1f}",
            str(r.eq_bands),
            r.compressor,
            str(r.width_moves),
            f"{r.seconds:.0f}",
        ]
        for r in rows
    ]


def print_plain(title: str, headers: list[str], rows: list[list[str]]) -> None:
    """An aligned text table (nothing cut, whatever the terminal's width)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print(f"\n{title}")
    for r in [headers, *rows]:
        print(
            "  ".join(
                str(c).ljust(w) if i < 2 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def checks(rows: list[Row]) -> list[tuple[str, bool]]:
    out = []
    for case in CASES:
        rs = [r for r in rows if r.case == case]
        if not rs:
            continue
        worst = max(r.ratio for r in rs)
        mean_u = float(np.mean([r.unmatched_db for r in rs]))
        mean_m = float(np.mean([r.matched_db for r in rs]))
        out.append(
            (
                f"{case} reference: matched <= {TARGET_RATIO} x unmatched tonal distance on every "
                f"song (worst ratio {worst:.2f}; mean {mean_u:.2f} -> {mean_m:.2f} dB)",
                worst <= TARGET_RATIO,
            )
        )
    others = [r for r in rows if r.case == "other" and r.unmatched_db > r.floor_db]
    if others:
        share = max((r.matched_db - r.floor_db) / (r.unmatched_db - r.floor_db) for r in others)
        out.append(
            (
                "other reference: what the limits allow to correct (unmatched - floor) at least "
                f"halved on every song (worst share left {share:.2f})",
                share <= TARGET_RATIO,
            )
        )
    worst_tp = max(r.tp_over_db for r in rows)
    out.append(
        (
            f"true peak never above the {aq.CEILING_DBTP:g} dBTP ceiling (worst overshoot "
            f"{worst_tp:.3f} dB)",
            worst_tp == 0.0,
        )
    )
    worst_lu = max(abs(r.loudness_error_lu) for r in rows)
    out.append(
        (f"|loudness error| <= 0.5 LU on every master (worst {worst_lu:.2f})", worst_lu <= 0.5)
    )
    return out


def save_csv(out: Path, rows: list[Row]) -> Path:
    header = [
        "song",
        "case",
        "reference",
        "unmatched_tonal_distance_db",
        "first_pass_tonal_distance_db",
        "matched_tonal_distance_db",
        "refine_rounds",
        "ratio",
        "master_true_peak_dbtp",
        "master_loudness_error_lu",
        "width_diff_before_db",
        "width_diff_after_db",
        "crest_diff_before_db",
        "crest_diff_after_db",
        "lra_diff_before_lu",
        "lra_diff_after_lu",
        "reachable_floor_db",
        "eq_bands",
        "compressor",
        "width_moves",
    ]
    n = aq.csv_num
    data = [
        [
            r.song,
            r.case,
            r.reference,
            n(r.unmatched_db),
            n(r.first_pass_db),
            n(r.matched_db),
            r.rounds,
            n(r.ratio),
            n(r.master_tp_dbtp),
            n(r.loudness_error_lu),
            n(r.width_before_db),
            n(r.width_after_db),
            n(r.crest_before_db),
            n(r.crest_after_db),
            n(r.lra_before_lu),
            n(r.lra_after_lu),
            n(r.floor_db),
            r.eq_bands,
            r.compressor,
            r.width_moves,
        ]
        for r in rows
    ]
    return aq.write_csv(out / "reference_matching.csv", header, data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=aq.DEFAULT_DATA, help="folder of the data sets")
    ap.add_argument("--songs", help="comma-separated set names (default: all with a mixture)")
    ap.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="excerpt length (s)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the CSV")
    ap.add_argument(
        "--refine", type=int, default=DEFAULT_REFINE, help="closed-loop EQ rounds after the first"
    )
    ap.add_argument("--max-bands", type=int, default=MAX_BANDS, help="EQ bands at most")
    ap.add_argument("--max-gain", type=float, default=MAX_GAIN_DB, help="largest EQ gain (dB)")
    ap.add_argument("--verbose", action="store_true", help="print the comparisons in words")
    args = ap.parse_args(argv)

    if not args.data.is_dir():
        print(f"no data at {args.data}: skipped (see ../shared/data/README.md)")
        return 0
    songs = aq.discover_songs(args.data)
    if not songs:
        print(f"no set with a mixture in {args.data}: skipped")
        return 0
    names = aq.parse_list(args.songs, [s.name for s in songs], "song")
    songs = [s for s in songs if s.name in names]
    print(f"loading {len(songs)} songs ({args.seconds:g} s excerpts) ...", file=sys.stderr)
    data = [load_song(s, args.seconds) for s in songs]
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="mixwise-refmatch-") as tmp:
        for i, d in enumerate(data):
            refs = {"own": (d.song.name, d.mixture)}
            if len(data) > 1:
                other = data[(i + 1) % len(data)]
                refs["other"] = (other.song.name, other.mixture)
            print(f"{d.song.name}: mixing and matching ...", file=sys.stderr)
            song_rows = evaluate(d, refs, Path(tmp), args.refine, args.max_bands, args.max_gain)
            rows += song_rows
            if args.verbose:
                for r in song_rows:
                    print(f"\n{r.song} vs {r.reference} ({r.case}), before matching:")
                    for s in r.sentences_before:
                        print(f"  - {s}")
                    print("after matching:")
                    for s in r.sentences_after:
                        print(f"  - {s}")
    print_plain(
        f"reference matching: tonal distance to the reference (dB), EQ <= {args.max_bands} "
        f"bands of +-{args.max_gain:g} dB",
        HEADERS,
        table_rows(rows),
    )
    for text, ok in checks(rows):
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    print(f"wrote {save_csv(args.out, rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
