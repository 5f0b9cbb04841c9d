"""Render speed: 16 stereo stems x 4 minutes at 44.1 kHz, full chain on every track.

Every track: high-pass, 6 EQ bands (shelves and peaks), compressor, pan and a reverb send;
a drum group bus with a compressor; a reverb and a delay return; the master chain with EQ,
glue compressor, loudness target (-14 LUFS) and true-peak limiter (-1 dBTP).

The stems are written once as 32-bit float WAV files and the render streams them from disk
(as ``mixwise render`` does), so memory does not grow with the song's length. Prints seconds,
the real-time factor and the process's peak memory for:
  * render   : reading the stems, mix pass, master passes, writing mix.wav and master.wav
  * + stems  : the same, also writing the 16 processed stems (32-bit float WAV)

Target on the 2-core machine (issue 2): the render >= 30x real time (<= 8 s), peak memory
< 1.5 GB. Run:  .venv/bin/python benchmarks/render_speed.py [--minutes 4] [--tracks 16]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mixwise.io.audio import FileSource
from mixwise.render.engine import RenderOptions, render
from mixwise.session.model import (
    Bus,
    Chain,
    Compressor,
    Delay,
    EQBand,
    Filter,
    Master,
    Reverb,
    Send,
    Session,
    SourceFile,
    Track,
)

SR = 44_100


def synth_chunks(seed: int, n: int, chunk: int = SR * 10):
    """A stereo float32 stem in chunks: band-limited noise with a rhythmic envelope."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    lo = 40 * 2 ** (seed % 7)
    sos = butter(2, [lo, min(lo * 16, 18_000)], btype="bandpass", fs=SR, output="sos")
    zi = np.zeros((sos.shape[0], 2, 2))
    beat = SR // (2 + seed % 3)
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        x = rng.standard_normal((2, k))
        y, zi = sosfilt(sos, x, axis=-1, zi=zi)
        t = (np.arange(start, start + k) % beat) / SR
        env = 0.15 * np.exp(-t * (4 + seed % 5)) + 0.02
        yield (y * env).astype(np.float32)


def synth_stem(seed: int, n: int) -> np.ndarray:
    """A whole synthetic stem in memory, shape (2, n) float32."""
    return np.concatenate(list(synth_chunks(seed, n)), axis=1)


def write_stem(path: Path, seed: int, n: int) -> Path:
    import soundfile as sf

    with sf.SoundFile(str(path), "w", samplerate=SR, channels=2, subtype="FLOAT") as f:
        for block in synth_chunks(seed, n):
            f.write(block.T)
    return path


def build_session(n_tracks: int, seconds: float) -> Session:
    eq = [
        EQBand(type="low_shelf", freq_hz=90, gain_db=2.0),
        EQBand(freq_hz=250, gain_db=-3.0, q=1.2),
        EQBand(freq_hz=800, gain_db=1.5, q=1.0),
        EQBand(freq_hz=2500, gain_db=-2.0, q=2.0),
        EQBand(freq_hz=5000, gain_db=1.0, q=0.9),
        EQBand(type="high_shelf", freq_hz=10_000, gain_db=2.5),
    ]
    tracks = []
    for i in range(n_tracks):
        tracks.append(
            Track(
                id=f"t{i:02d}",
                name=f"Track {i + 1:02d}",
                source=SourceFile(path=f"/bench/t{i:02d}.wav", channels=2),
                bus="drums" if i < 4 else None,
                chain=Chain(
                    high_pass=Filter(enabled=True, freq_hz=40.0 + 5 * i, slope_db_oct=12),
                    eq=eq,
                    compressor=Compressor(
                        enabled=True,
                        threshold_db=-24,
                        ratio=3,
                        attack_ms=5,
                        release_ms=120,
                        knee_db=6,
                    ),
                    fader_db=-3.0,
                    pan=((i % 5) - 2) / 3,
                    sends=[Send(bus="verb", level_db=-18.0)]
                    + ([Send(bus="echo", level_db=-24.0)] if i % 4 == 0 else []),
                ),
            )
        )
    drums = Bus(id="drums", name="Drums", kind="group")
    drums.chain.compressor = Compressor(enabled=True, threshold_db=-18, ratio=2, attack_ms=10)
    verb = Bus(id="verb", name="Reverb", kind="aux", effect=Reverb(decay_s=1.8))
    verb.chain.high_pass = Filter(enabled=True, freq_hz=200)
    verb.chain.low_pass = Filter(enabled=True, freq_hz=9000)
    echo = Bus(id="echo", name="Delay", kind="aux", effect=Delay())
    master = Master(
        eq=[
            EQBand(type="low_shelf", freq_hz=60, gain_db=1.0),
            EQBand(type="high_shelf", freq_hz=12_000, gain_db=1.0),
        ],
        compressor=Compressor(
            enabled=True, threshold_db=-14, ratio=1.5, attack_ms=30, release_ms=200
        ),
        target_lufs=-14.0,
    )
    return Session(
        sample_rate=SR, length_s=seconds, tracks=tracks, buses=[drums, verb, echo], master=master
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--tracks", type=int, default=16)
    args = ap.parse_args()
    seconds = args.minutes * 60
    n = int(seconds * SR)

    session = build_session(args.tracks, seconds)
    workdir = tempfile.TemporaryDirectory()
    stem_dir = Path(workdir.name)
    t0 = time.perf_counter()
    paths = {t.id: write_stem(stem_dir / f"{t.id}.wav", i, n) for i, t in enumerate(session.tracks)}
    gen_s = time.perf_counter() - t0
    stems_mb = sum(p.stat().st_size for p in paths.values()) / 2**20
    print(
        f"{args.tracks} stereo stems x {seconds:.0f} s at {SR} Hz "
        f"({stems_mb:.0f} MB of float WAV on disk, written in {gen_s:.1f} s)"
    )

    # warm up the compiled kernels on a short render so compile time is not counted
    short = build_session(2, 2.0)
    with tempfile.TemporaryDirectory() as d:
        render(short, {t.id: synth_stem(i, 2 * SR) for i, t in enumerate(short.tracks)}, d)

    rows = []
    for label, stems in [("render (mix + master)", False), ("render + 16 stems written", True)]:
        sources = {k: FileSource(p, sample_rate=SR) for k, p in paths.items()}
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            res = render(session, sources, Path(d), options=RenderOptions(write_stems=stems))
            wall = time.perf_counter() - t
        rows.append((label, wall, seconds / wall, peak_rss_mb(), res))
    workdir.cleanup()

    print()
    print(
        f"{'case':<28}{'seconds':>9}{'x real time':>13}{'peak MB':>10}"
        f"{'master LUFS':>13}{'dBTP':>7}{'passes':>8}"
    )
    for label, wall, rtf, mem, res in rows:
        print(
            f"{label:<28}{wall:>9.2f}{rtf:>13.1f}{mem:>10.0f}"
            f"{res.master_lufs:>13.2f}{res.master_true_peak_dbtp:>7.2f}{res.master_passes:>8d}"
        )
    for label, _, _, _, res in rows:
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in res.stage_seconds.items())
        print(f"  {label}: {stages}")
    print()
    core = rows[0]
    ok = core[1] <= seconds / 30 and core[3] < 1536
    print(
        f"target: >= 30x real time (<= {seconds / 30:.1f} s) and < 1536 MB peak: "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
