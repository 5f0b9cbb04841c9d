"""The fast WAV decoder gives libsndfile's bits, or steps aside."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from mixwise.io.audio import read_audio
from mixwise.io.wavfast import read_wav_planar


def _signal(channels: int, n: int = 20_000) -> np.ndarray:
    rng = np.random.default_rng(11)
    x = np.clip(0.4 * rng.standard_normal((n, channels)), -1.0, 1.0).astype(np.float32)
    x[10] = 1.0
    x[11] = -1.0
    return x


def _libsndfile(path) -> np.ndarray:
    return np.ascontiguousarray(sf.read(str(path), dtype="float32", always_2d=True)[0].T)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
@pytest.mark.parametrize("channels", [1, 2])
def test_same_bits_as_libsndfile(tmp_path, subtype, channels):
    path = tmp_path / "x.wav"
    sf.write(str(path), _signal(channels), 44_100, subtype=subtype)
    got = read_wav_planar(path, sf.info(str(path)).frames)
    assert got is not None
    audio, peak = got
    expected = _libsndfile(path)
    assert audio.dtype == np.float32 and audio.flags.c_contiguous
    np.testing.assert_array_equal(audio, expected)
    if subtype == "FLOAT":
        assert peak is None
    else:
        assert peak == float(np.max(np.abs(expected)))


def _wav_with_list_chunk(path, x: np.ndarray, rate: int) -> None:
    """A 16-bit stereo WAV with a LIST chunk of odd length (padded) before the data."""
    pcm = np.round(x * 32767).astype("<i2").tobytes()
    info = b"INFOISFT" + struct.pack("<I", 5) + b"mixw\x00"  # odd-length text
    lst = b"LIST" + struct.pack("<I", len(info)) + info + b"\x00"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, rate, rate * 4, 4, 16)
    data = b"data" + struct.pack("<I", len(pcm)) + pcm
    body = b"WAVE" + fmt + lst + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_chunks_before_the_data_are_skipped(tmp_path):
    path = tmp_path / "list.wav"
    _wav_with_list_chunk(path, _signal(2) * 0.5, 48_000)
    got = read_wav_planar(path, sf.info(str(path)).frames)
    assert got is not None
    np.testing.assert_array_equal(got[0], _libsndfile(path))


def test_formats_it_does_not_know_are_left_to_libsndfile(tmp_path):
    x = _signal(2)
    u8 = tmp_path / "u8.wav"
    sf.write(str(u8), x, 44_100, subtype="PCM_U8")
    assert read_wav_planar(u8, sf.info(str(u8)).frames) is None
    ext = tmp_path / "ext.wav"
    sf.write(str(ext), x, 44_100, subtype="PCM_24", format="WAVEX")
    assert read_wav_planar(ext, sf.info(str(ext)).frames) is None
    flac = tmp_path / "x.flac"
    sf.write(str(flac), x, 44_100, subtype="PCM_24")
    assert read_wav_planar(flac, sf.info(str(flac)).frames) is None
    # asking for more frames than the data chunk holds
    wav = tmp_path / "x.wav"
    sf.write(str(wav), x, 44_100, subtype="PCM_24")
    assert read_wav_planar(wav, sf.info(str(wav)).frames + 1) is None


def test_read_audio_gives_the_same_audio_either_way(tmp_path, monkeypatch):
    from mixwise.io import audio as audio_module

    path = tmp_path / "stem.wav"
    sf.write(str(path), _signal(2), 48_000, subtype="PCM_24")
    fast, _, _, _ = read_audio(path)
    monkeypatch.setattr(audio_module, "read_wav_planar", lambda *a: None)
    slow, _, _, _ = read_audio(path)
    np.testing.assert_array_equal(fast, slow)


def test_truncated_wav_still_warns_and_keeps_what_is_there(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(str(path), _signal(2), 44_100, subtype="PCM_24")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 6000])  # 1000 frames of 6 bytes lost
    audio, _, _, warnings = read_audio(path)
    assert audio.shape == (2, 19_000)
    assert any(w.startswith("truncated") for w in warnings)
    np.testing.assert_array_equal(audio, _libsndfile(path))
