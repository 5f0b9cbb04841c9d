"""Test signal generators (shape (channels, n), float32 unless said otherwise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Real multitracks, beside the project (skipped cleanly when absent).
DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEMO_STEMS = Path(__file__).resolve().parents[1] / "demo" / "reggaetontry" / "stems"


def sine(
    freq_hz: float,
    *,
    seconds: float = 1.0,
    sample_rate: int = 48_000,
    amplitude: float = 0.5,
    channels: int = 1,
    fade_ms: float = 0.0,
) -> np.ndarray:
    """A sine of peak ``amplitude``; optional raised-cosine fades at both ends."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    x = amplitude * np.sin(2 * np.pi * freq_hz * t)
    if fade_ms > 0:
        x = x * fades(len(x), int(fade_ms * sample_rate / 1000))
    return np.tile(x, (channels, 1)).astype(np.float32)


def noise(
    *,
    seconds: float = 1.0,
    sample_rate: int = 48_000,
    rms: float = 0.1,
    channels: int = 2,
    seed: int = 0,
) -> np.ndarray:
    """Gaussian white noise with the given RMS per channel (independent channels)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    return (rng.standard_normal((channels, n)) * rms).astype(np.float32)


def fades(n: int, fade: int) -> np.ndarray:
    """A length-``n`` envelope with raised-cosine fade-in and fade-out of ``fade`` samples."""
    env = np.ones(n)
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
        env[:fade] = ramp
        env[-fade:] = ramp[::-1]
    return env


def rms_db(x: np.ndarray) -> float:
    """RMS level in dB of all samples of ``x``."""
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


def write_wav(
    path: Path,
    audio: np.ndarray,
    sample_rate: int,
    subtype: str = "FLOAT",
    format: str | None = None,
) -> Path:
    """Write ``audio`` (channels, n) with soundfile; returns the path."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.ascontiguousarray(audio.T), sample_rate, subtype=subtype, format=format)
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a file as (channels, n) float64 and its rate."""
    import soundfile as sf

    data, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return data.T, sr
