"""Helpers of the studio tests: short synthetic stems and a job-polling helper."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from signals import fades, write_wav

RATE = 44_100


def synthetic_stems(folder: Path, n: int = 4, *, seconds: float = 3.0) -> list[Path]:
    """``n`` short stems that sound like parts of a song: a kick-like pulse, a bass line, a
    chord pad, hi-hat noise, then detuned tones; 16-bit stereo WAV at 44.1 kHz."""
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * RATE)) / RATE
    env = fades(len(t), int(0.01 * RATE))
    paths = []
    for k in range(n):
        kind = k % 4
        if kind == 0:  # kick: a decaying 55 Hz thump every half second
            phase = (t % 0.5) / 0.5
            x = np.sin(2 * np.pi * 55 * t) * np.exp(-phase * 12) * 0.8
            name = "Kick"
        elif kind == 1:
            x = 0.4 * np.sin(2 * np.pi * (82.4 + 2 * k) * t)
            name = "Bass"
        elif kind == 2:
            x = sum(0.12 * np.sin(2 * np.pi * f * (1 + k / 500) * t) for f in (261.6, 329.6, 392.0))
            name = "Keys"
        else:
            x = rng.standard_normal(len(t)) * 0.05 * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
            name = "Hats"
        x = (x * env).astype(np.float32)
        stereo = np.vstack([x, x * 0.9])
        suffix = f" {k // 4 + 1}" if n > 4 else ""
        paths.append(write_wav(folder / f"{name}{suffix}.wav", stereo, RATE, subtype="PCM_16"))
    return paths


def wait_job(client, job_id: str, timeout_s: float = 90.0) -> dict:
    """Poll a studio job until it ends; fail the test on an error or a time-out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] == "done":
            return job
        if job["state"] == "error":
            pytest.fail(f"job failed: {job['error']}")
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not finish in {timeout_s} s")
