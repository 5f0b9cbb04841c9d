"""Real stems for the editing-check tests (``../shared/data``, skipped cleanly when absent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

#: The shared multitracks beside the repository (``/work/main/../shared/data``).
DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

Excerpt = Callable[..., tuple[np.ndarray, int]]


def read_excerpt(relpath: str, start_s: float = 0.0, seconds: float | None = None):
    """``(audio, sample_rate)`` of ``DATA_DIR / relpath`` from ``start_s`` for ``seconds``.

    ``audio`` is float32 [shape=(n_channels, n_samples)]. Skips the calling test when the file
    is absent.
    """
    path = DATA_DIR / relpath
    if not path.is_file():
        pytest.skip(f"real stem {relpath} absent ({DATA_DIR} not found)")
    import soundfile as sf

    rate = sf.info(str(path)).samplerate
    start = int(round(start_s * rate))
    stop = None if seconds is None else start + int(round(seconds * rate))
    data, rate = sf.read(str(path), start=start, stop=stop, dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), int(rate)


@pytest.fixture
def excerpt() -> Excerpt:
    """The :func:`read_excerpt` function (a fixture, so tests need no import path tricks)."""
    return read_excerpt
