"""Prep speed: ``mixwise prep`` on 16 stereo stems x 4 minutes at 44.1 kHz (WAV on disk).

Times the whole preparation (decode, meters, labelling features, silence, clicks, mono and
phase checks, session building) and prints it with the share of each per-stem analysis.
Target on the 2-core machine (issue 3): under 10 s.
Run:  .venv/bin/python benchmarks/prep_speed.py [--minutes 4] [--tracks 16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mixwise.api import prepare_folder
from render_speed import SR, write_stem


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--tracks", type=int, default=16)
    args = ap.parse_args()
    n = int(args.minutes * 60 * SR)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "stems"
        folder.mkdir()
        for i in range(args.tracks):
            write_stem(folder / f"{i + 1:02d} Track.wav", i, n)
        # warm up the compiled kernels on a short folder
        with tempfile.TemporaryDirectory() as w:
            write_stem(Path(w) / "a.wav", 0, 2 * SR)
            write_stem(Path(w) / "b.wav", 1, 2 * SR)
            prepare_folder(w)
        t = time.perf_counter()
        prep = prepare_folder(folder)
        wall = time.perf_counter() - t
    audio_s = args.tracks * args.minutes * 60
    print(f"{args.tracks} stereo stems x {args.minutes * 60:.0f} s at {SR} Hz")
    print(
        f"prep: {wall:.2f} s ({audio_s / wall:.0f}x real time over all stems), "
        f"{len(prep.alignments)} pairs checked for phase, "
        f"{len(prep.session.proposals)} suggestions"
    )
    print(f"target: < 10 s: {'met' if wall < 10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
