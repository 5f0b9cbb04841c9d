"""Band frames: the edge frames (copied, zero-padded) and the inner frames (read in place)
give what a plainly zero-padded signal gives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from mixwise.analysis.spectrum import THIRD_OCTAVE_HZ, _band_matrix, band_frames


def _reference(x: np.ndarray, sr: int, frame_s: float = 0.1) -> np.ndarray:
    """Band power per frame from the whole signal zero-padded, frame by frame (slow, plain)."""
    hop = round(frame_s * sr)
    win = 2 * hop
    w = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win))
    norm = 1.0 / (win * np.sum(w**2))
    band_of_bin, _ = _band_matrix(win, sr, THIRD_OCTAVE_HZ)
    frames = max(1, -(-x.shape[1] // hop))
    padded = np.zeros((x.shape[0], frames * hop + win))
    padded[:, hop // 2 : hop // 2 + x.shape[1]] = x
    out = np.zeros((x.shape[0], len(THIRD_OCTAVE_HZ), frames))
    for ch in range(x.shape[0]):
        for f in range(frames):
            p = np.abs(scipy.fft.rfft(padded[ch, f * hop : f * hop + win] * w)) ** 2 * norm
            p[1 : -1 if win % 2 == 0 else None] *= 2
            for b in range(len(THIRD_OCTAVE_HZ)):
                out[ch, b, f] = p[band_of_bin == b].sum()
    return out


@pytest.mark.parametrize(
    ("sr", "n"), [(44_100, 300), (44_100, 8_821), (22_050, 9_000), (48_000, 33_333)]
)
def test_edge_and_inner_frames_match_a_zero_padded_signal(sr, n):
    rng = np.random.default_rng(n)
    x = (0.3 * rng.standard_normal((2, n))).astype(np.float32)
    got = band_frames(x, sr, chunk_frames=2).power
    ref = _reference(x.astype(np.float64), sr)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=2e-4, atol=1e-9)
