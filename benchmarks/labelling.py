"""Benchmark of track role labelling on real multitracks with known roles.

Runs :func:`mixwise.analysis.roles.label_tracks` on every set of ``../shared/data`` (each a
folder with ``stems/`` and ``labels.csv``: ``file,role,family``; rows with role ``mix`` are
ignored), or on one set given with ``--labels FILE --stems DIR``, twice:

(a) with the original file names;
(b) with the names replaced by ``track01``, ``track02`` ... (audio unchanged), so only the
    audio speaks.

Prints role and family accuracy for both, per set, a family confusion table (rows: truth,
columns: predicted), the mistakes, and the time spent labelling (loading not included).
Issue targets: family accuracy >= 95 % with names, >= 75 % anonymised.

Run: ``.venv/bin/python benchmarks/labelling.py`` (skips with a message when the data is absent).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402

from mixwise.analysis.roles import RoleGuess, label_tracks  # noqa: E402
from mixwise.io.audio import load_stems  # noqa: E402
from mixwise.roles import FAMILIES  # noqa: E402

MODES = ("names", "anonymised")


@dataclass
class Result:
    set_name: str
    file: str
    true_role: str
    true_family: str
    guesses: dict[str, RoleGuess]


def read_labels(path: Path) -> dict[str, tuple[str, str]]:
    """File name (no folder) -> (role, family), without the mixture rows."""
    out: dict[str, tuple[str, str]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["role"] == "mix":
                continue
            out[Path(row["file"]).name] = (row["role"], row["family"])
    return out


def run_set(name: str, labels_csv: Path, stems_dir: Path) -> tuple[list[Result], dict]:
    labels = read_labels(labels_csv)
    loaded = load_stems(stems_dir)
    mt = loaded.multitrack
    stems = [s for s in mt.stems if Path(s.info.path).name in labels]
    missing = sorted(set(labels) - {Path(s.info.path).name for s in stems})
    if missing:
        print(f"  {name}: no audio for labelled file(s) {', '.join(missing)}", file=sys.stderr)
    audios = [s.audio for s in stems]
    names = {
        "names": [s.name for s in stems],
        "anonymised": [f"track{i + 1:02d}" for i in range(len(stems))],
    }
    guesses: dict[str, list[RoleGuess]] = {}
    timing = {"stems": len(stems), "audio_s": sum(s.info.duration_s for s in stems)}
    for mode in MODES:
        t0 = time.perf_counter()
        guesses[mode] = label_tracks(names[mode], audios, mt.sample_rate)
        timing[mode] = time.perf_counter() - t0
    results = [
        Result(name, Path(s.info.path).name, *labels[Path(s.info.path).name],
               {m: guesses[m][i] for m in MODES})
        for i, s in enumerate(stems)
    ]  # fmt: skip
    return results, timing


def accuracy(results: list[Result], mode: str, level: str) -> tuple[int, int]:
    if level == "role":
        ok = sum(r.guesses[mode].role == r.true_role for r in results)
    else:
        ok = sum(r.guesses[mode].family == r.true_family for r in results)
    return ok, len(results)


def pct(ok: int, n: int) -> str:
    return f"{100.0 * ok / n:5.1f} % ({ok}/{n})" if n else "  n/a"


def confusion(results: list[Result], mode: str) -> str:
    fams = list(FAMILIES)
    width = max(len(f) for f in fams) + 2
    lines = [" " * width + "".join(f"{f:>{width}}" for f in fams)]
    for t in fams:
        row = [sum(r.true_family == t and r.guesses[mode].family == p for r in results)
               for p in fams]  # fmt: skip
        lines.append(f"{t:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def discover(data: Path) -> list[tuple[str, Path, Path]]:
    sets = []
    for d in sorted(p for p in data.iterdir() if p.is_dir()):
        if (d / "labels.csv").is_file() and (d / "stems").is_dir():
            sets.append((d.name, d / "labels.csv", d / "stems"))
    return sets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of labelled sets")
    ap.add_argument("--labels", type=Path, help="labels.csv of one set (with --stems)")
    ap.add_argument("--stems", type=Path, help="stems folder of one set (with --labels)")
    ap.add_argument("--quiet", action="store_true", help="do not list the mistakes")
    args = ap.parse_args(argv)

    if (args.labels is None) != (args.stems is None):
        ap.error("--labels and --stems go together")
    if args.labels is not None:
        sets = [(args.stems.parent.name or "set", args.labels, args.stems)]
    else:
        if not args.data.is_dir():
            print(f"labelling benchmark skipped: no data folder at {args.data}")
            return 0
        sets = discover(args.data)
        if not sets:
            print(f"labelling benchmark skipped: no labelled sets in {args.data}")
            return 0

    t0 = time.perf_counter()
    noise = np.random.default_rng(0).standard_normal((2, 48_000)).astype(np.float32)
    label_tracks(["warm-up"], [0.1 * noise], 48_000)  # lazy imports
    warm_up_s = time.perf_counter() - t0

    results: list[Result] = []
    timings: dict[str, dict] = {}
    for name, labels_csv, stems_dir in sets:
        res, timing = run_set(name, labels_csv, stems_dir)
        results.extend(res)
        timings[name] = timing

    print(f"Role labelling on {len(results)} stems in {len(sets)} set(s)\n")
    print(f"{'set':<28}{'stems':>6}   {'family (names)':>20}   {'family (anon.)':>20}"
          f"   {'role (names)':>20}   {'role (anon.)':>20}")  # fmt: skip
    for name, *_ in sets:
        rs = [r for r in results if r.set_name == name]
        print(f"{name:<28}{len(rs):>6}   "
              f"{pct(*accuracy(rs, 'names', 'family')):>20}   "
              f"{pct(*accuracy(rs, 'anonymised', 'family')):>20}   "
              f"{pct(*accuracy(rs, 'names', 'role')):>20}   "
              f"{pct(*accuracy(rs, 'anonymised', 'role')):>20}")  # fmt: skip
    print()
    targets = {"names": 0.95, "anonymised": 0.75}
    for mode in MODES:
        fam_ok, n = accuracy(results, mode, "family")
        role_ok, _ = accuracy(results, mode, "role")
        verdict = "meets" if n and fam_ok / n >= targets[mode] else "MISSES"
        print(
            f"{mode:<11} family accuracy {pct(fam_ok, n)}  ({verdict} the "
            f"{targets[mode]:.0%} target);  role accuracy {pct(role_ok, n)}"
        )
    for mode in MODES:
        print(f"\nFamily confusion, {mode} (rows: truth, columns: predicted)")
        print(confusion(results, mode))
        if not args.quiet:
            wrong = [r for r in results if r.guesses[mode].role != r.true_role]
            if wrong:
                print(f"role mistakes ({mode}): truth -> guess [source, confidence]")
            for r in wrong:
                g = r.guesses[mode]
                mark = "  " if g.family == r.true_family else "F "
                print(
                    f"  {mark}{r.set_name}/{r.file}: {r.true_role} -> {g.role} "
                    f"[{g.source}, {g.confidence:.2f}]"
                )

    print(
        "\nTiming (label_tracks on already-loaded audio: features + rules + context; "
        f"one-off lazy imports before the first call, {warm_up_s:.2f} s, not included)"
    )
    total = {m: 0.0 for m in MODES}
    audio_s = 0.0
    for name, t in timings.items():
        audio_s += t["audio_s"]
        for m in MODES:
            total[m] += t[m]
        print(
            f"  {name:<28}{t['stems']:>3} stems, {t['audio_s']:7.1f} s of audio: "
            f"{t['names']:.2f} s (names), {t['anonymised']:.2f} s (anonymised)"
        )
    for m in MODES:
        rtf = audio_s / total[m] if total[m] else float("inf")
        print(
            f"  all, {m}: {total[m]:.2f} s for {audio_s:.0f} s of stem audio "
            f"({rtf:,.0f} s of stem audio per second)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
