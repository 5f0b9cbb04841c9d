"""Stem import: every format mixwise promises, and a corpus of bad inputs.

Each bad file gets one line naming it; the rest still loads and mixes; nothing crashes;
the inputs are never touched.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
import soundfile as sf

from mixwise.cli import main
from mixwise.errors import NothingToMixError
from mixwise.io.audio import choose_session_rate, load_stems
from signals import noise, sine, write_wav

SR = 44_100


def _digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def good_formats(tmp_path):
    d = tmp_path / "formats"
    x = sine(440.0, seconds=1.0, sample_rate=SR, amplitude=0.5, channels=2, fade_ms=5)
    write_wav(d / "pcm16.wav", x, SR, "PCM_16")
    write_wav(d / "pcm24.wav", x, SR, "PCM_24")
    write_wav(d / "pcm32.wav", x, SR, "PCM_32")
    write_wav(d / "float.wav", x, SR, "FLOAT")
    write_wav(d / "mono.flac", x[:1], SR, "PCM_16")
    write_wav(d / "stereo.aiff", x, SR, "PCM_24")
    write_wav(d / "vorbis.ogg", x, SR, "VORBIS")
    write_wav(d / "mpeg.mp3", x, SR, "MPEG_LAYER_III")
    write_wav(
        d / "at48k.wav",
        sine(440.0, seconds=1.0, sample_rate=48_000, amplitude=0.5, channels=2),
        48_000,
    )
    return d


def test_every_promised_format_loads(good_formats):
    res = load_stems(good_formats)
    names = sorted(s.name for s in res.multitrack)
    assert names == [
        "at48k",
        "float",
        "mono",
        "mpeg",
        "pcm16",
        "pcm24",
        "pcm32",
        "stereo",
        "vorbis",
    ]
    assert res.problems == []
    mt = res.multitrack
    assert mt.sample_rate == SR  # the most common rate among the stems
    for stem in mt:
        assert stem.audio.dtype == np.float32 and stem.audio.flags.c_contiguous
        assert stem.audio.shape[1] == mt.n_samples
        peak = float(np.abs(stem.audio[:, SR // 4 : SR // 2]).max())
        assert peak == pytest.approx(0.5, abs=0.02), stem.name  # lossy codecs within 0.2 dB
    by = mt.by_name()
    assert by["mono"].channels == 1 and by["pcm24"].info.subtype == "PCM_24"
    assert by["at48k"].info.sample_rate == 48_000
    assert by["at48k"].n_source_samples == pytest.approx(SR, abs=2)  # resampled, same duration


def _bad_corpus(d):
    x = noise(seconds=2.0, sample_rate=SR, rms=0.1)
    write_wav(d / "good one.wav", x, SR, "PCM_24")
    write_wav(d / "Ünïcode stem – ça.flac", x, SR, "PCM_16")
    write_wav(d / "shorter.wav", x[:, : SR // 2], SR)  # differing lengths
    full = write_wav(d / "_truncated_source.wav", x, SR, "PCM_16")
    data = full.read_bytes()
    (d / "truncated.wav").write_bytes(data[: len(data) // 2])
    full.unlink()
    (d / "empty.wav").write_bytes(b"")
    (d / "notes.wav").write_text("these are my lyrics, not audio\n" * 10)
    nan = x.copy()
    nan[0, 1000:1010] = np.nan
    write_wav(d / "nan.wav", nan, SR, "FLOAT")
    write_wav(d / "surround51.wav", np.tile(x[:1] * 0.5, (6, 1)), SR, "PCM_16")
    write_wav(
        d / "phone 8k.wav",
        sine(300.0, seconds=1.0, sample_rate=8000, amplitude=0.3),
        8000,
        "PCM_16",
    )
    write_wav(
        d / "hires 192k.wav",
        sine(1000.0, seconds=1.0, sample_rate=192_000, amplitude=0.3, channels=2),
        192_000,
        "FLOAT",
    )
    write_wav(d / "silent.wav", np.zeros((2, SR), np.float32), SR, "PCM_16")
    clipped = np.clip(x * 20, -1, 1)
    write_wav(d / "clipped.wav", clipped, SR, "PCM_16")
    (d / "README.txt").write_text("not a stem")
    (d / ".DS_Store").write_bytes(b"\x00\x01")


EXPECTED = {
    "truncated.wav": ("warning", "truncated"),
    "empty.wav": ("skipped", "empty file"),
    "notes.wav": ("skipped", "not a readable audio file"),
    "nan.wav": ("skipped", "NaN"),
    "surround51.wav": ("skipped", "6 channels"),
    "phone 8k.wav": ("warning", "low sample rate 8000 Hz"),
    "silent.wav": ("skipped", "silent"),
    "clipped.wav": ("warning", "clipped"),
    "README.txt": ("skipped", "not an audio file"),
}


def test_bad_input_corpus_gives_one_line_each_and_the_rest_loads(tmp_path):
    d = tmp_path / "stems"
    _bad_corpus(d)
    before = _digest(d)
    res = load_stems(d)
    got = {os.path.basename(p.path): p for p in res.problems}
    assert set(got) == set(EXPECTED)
    for name, (severity, words) in EXPECTED.items():
        p = got[name]
        assert p.severity == severity, name
        assert words in p.message, (name, p.message)
        assert "\n" not in str(p) and name in str(p)
    loaded = sorted(s.name for s in res.multitrack)
    assert loaded == sorted(
        [
            "good one",
            "Ünïcode stem – ça",
            "shorter",
            "truncated",
            "phone 8k",
            "hires 192k",
            "clipped",
        ]
    )
    mt = res.multitrack
    assert mt.sample_rate == SR
    assert all(s.audio.shape == (s.channels, mt.n_samples) for s in mt)
    assert all(np.isfinite(s.audio).all() for s in mt)
    assert mt.by_name()["shorter"].n_source_samples == SR // 2
    assert _digest(d) == before  # inputs untouched, nothing written next to them


def test_cli_mixes_what_it_can_from_the_bad_corpus(tmp_path, capsys):
    d = tmp_path / "stems"
    _bad_corpus(d)
    before = _digest(d)
    out = tmp_path / "out"
    code = main(["mix", str(d), "-o", str(out), "-q"])
    captured = capsys.readouterr()
    assert code == 0
    assert "Traceback" not in captured.err + captured.out
    for name in EXPECTED:
        lines = [ln for ln in captured.err.splitlines() if name in ln]
        assert len(lines) == 1, (name, captured.err)
    stems = sorted(p.name for p in (out / "stems").iterdir() if not p.name.startswith("_return_"))
    assert stems == sorted(
        f"{n}.wav"
        for n in [
            "good one",
            "Ünïcode stem – ça",
            "shorter",
            "truncated",
            "phone 8k",
            "hires 192k",
            "clipped",
        ]
    )
    info = sf.info(str(out / "master.wav"))
    assert info.samplerate == SR and info.channels == 2
    assert _digest(d) == before
    assert not list(out.rglob("*.part*"))  # no temporary files left behind


def test_nothing_usable_is_one_line_and_exit_1(tmp_path, capsys):
    d = tmp_path / "junk"
    d.mkdir()
    (d / "a.wav").write_text("nope")
    (d / "b.wav").write_bytes(b"")
    with pytest.raises(NothingToMixError, match="no usable audio stems"):
        load_stems(d)
    code = main(["mix", str(d), "-o", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert "no usable audio stems" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "master.wav").exists()


def test_output_folder_may_not_be_the_stems_folder(tmp_path, capsys):
    d = tmp_path / "stems"
    write_wav(d / "a.wav", noise(seconds=1.0, sample_rate=SR), SR)
    before = _digest(d)
    assert main(["mix", str(d), "-o", str(d), "-q"]) == 1
    assert "holds the input stems" in capsys.readouterr().err
    assert _digest(d) == before


def test_session_rate_choice():
    assert choose_session_rate([44_100, 44_100, 48_000]) == 44_100
    assert choose_session_rate([44_100, 48_000]) == 48_000
    assert choose_session_rate([8000]) == 44_100
    assert choose_session_rate([192_000, 192_000]) == 96_000
