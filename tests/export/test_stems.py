"""Stems export: dry and processed WAVs, the mix sheet, atomic failure."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest

from mixwise.errors import ExportError, ParameterError
from mixwise.export.stems import export_stems, format_db, format_time, stem_file_names
from mixwise.io.audio import load_file
from mixwise.render.engine import RenderOptions, render
from mixwise.session.io import save_session
from mixwise.session.model import (
    Bus,
    Chain,
    EQBand,
    Marker,
    Master,
    Region,
    Reverb,
    Send,
    Session,
    SourceFile,
    Track,
)
from signals import noise, read_wav, rms_db, write_wav

SR = 48_000


def track(
    tid: str, *, channels: int = 2, name: str | None = None, bus: str | None = None, **chain
) -> Track:
    return Track(
        id=tid,
        name=name or tid,
        bus=bus,
        source=SourceFile(path=f"in/{tid}.wav", channels=channels),
        chain=Chain(**chain),
    )


def session(tmp: Path, *tracks: Track, rates: dict[str, int] | None = None, **kw) -> Path:
    """Write each track's source (0.5 s of noise, at ``rates`` or 48 kHz) and the session."""
    for i, t in enumerate(tracks):
        sr = (rates or {}).get(t.id, SR)
        x = noise(seconds=0.5, sample_rate=sr, channels=t.source.channels, seed=i, rms=0.1)
        write_wav(tmp / "in" / f"{t.id}.wav", x, sr)
    s = Session(sample_rate=SR, tracks=list(tracks), master=Master(target_lufs=None), **kw)
    return save_session(s, tmp / "session.json")


def load(path: Path) -> Session:
    from mixwise.session.io import load_session

    return load_session(path)


def test_writes_every_file(tmp_path):
    sp = session(
        tmp_path,
        track("kick", channels=1, fader_db=-3.0, sends=[Send(bus="verb", level_db=-12.0)]),
        track("gtr", name="Guitar / DI", pan=0.4),
        buses=[Bus(id="verb", name="Verb", kind="aux", effect=Reverb(decay_s=0.5))],
    )
    out = export_stems(load(sp), sp, tmp_path / "stems")
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == [
        ".mixwise-export",
        "dry/Guitar _ DI.wav",
        "dry/kick.wav",
        "mix-sheet.csv",
        "mix-sheet.txt",
        "processed/Guitar _ DI.wav",
        "processed/_return_verb.wav",
        "processed/kick.wav",
    ]
    dry, sr = read_wav(out / "dry" / "kick.wav")
    assert (dry.shape[0], sr) == (1, SR)  # dry stems keep their channels
    wet, sr = read_wav(out / "processed" / "kick.wav")
    assert (wet.shape[0], sr) == (2, SR)  # processed stems are placed in stereo
    assert not list(tmp_path.glob("*.part"))


def test_dry_stem_is_the_source_bit_for_bit(tmp_path):
    sp = session(tmp_path, track("a"), track("b"), rates={"b": 44_100})
    out = export_stems(load(sp), sp, tmp_path / "stems", processed=False)
    a, sr = read_wav(out / "dry" / "a.wav")
    src, _ = read_wav(tmp_path / "in" / "a.wav")
    assert sr == SR
    np.testing.assert_array_equal(a, src)
    # a 44.1 kHz source: resampled to the session rate exactly as mixwise renders it
    b, sr = read_wav(out / "dry" / "b.wav")
    ref, _info, _w = load_file(tmp_path / "in" / "b.wav", sample_rate=SR)
    assert sr == SR and b.shape == ref.shape
    assert np.max(np.abs(b - ref)) <= 1e-6
    assert not (out / "processed").exists()
    assert "processed stem" not in (out / "mix-sheet.txt").read_text()


def test_processed_stem_with_fader_minus_6_db_measures_minus_6(tmp_path):
    sp = session(tmp_path, track("pad", fader_db=-6.0, pan=0.0))
    out = export_stems(load(sp), sp, tmp_path / "stems")
    dry, _ = read_wav(out / "dry" / "pad.wav")
    wet, _ = read_wav(out / "processed" / "pad.wav")
    assert wet.shape == dry.shape
    assert rms_db(wet) - rms_db(dry) == pytest.approx(-6.00, abs=0.01)
    # a stereo track at centre is a balance at unity: the same waveform, 6 dB down
    np.testing.assert_allclose(wet, dry * 10 ** (-6 / 20), atol=1e-6)


def test_processed_stems_sum_to_the_rendered_mix(tmp_path):
    sp = session(
        tmp_path,
        track("kick", channels=1, fader_db=-2.0, pan=-0.3, bus="drums"),
        track("snare", eq=[EQBand(freq_hz=2000.0, gain_db=4.0)], bus="drums"),
        track("vox", pan=0.2, sends=[Send(bus="verb", level_db=-10.0)]),
        buses=[
            Bus(id="drums", name="Drums", kind="group", chain={"fader_db": -1.5}),
            Bus(id="verb", name="Verb", kind="aux", effect=Reverb(decay_s=0.4)),
        ],
    )
    s = load(sp)
    out = export_stems(s, sp, tmp_path / "stems", dry=False)
    total = sum(read_wav(p)[0] for p in sorted((out / "processed").glob("*.wav")))
    sources = {
        t.id: load_file(tmp_path / "in" / f"{t.id}.wav", sample_rate=SR)[0] for t in s.tracks
    }
    r = render(s, sources, tmp_path / "ref", options=RenderOptions(write_master=False))
    mix, _ = read_wav(r.mix_path)
    assert total.shape == mix.shape
    assert np.max(np.abs(total - mix)) < 1e-5


def test_sheet_lists_every_track_with_its_fader(tmp_path):
    faders = {"kick": -6.0, "bass": 2.25, "vox": -math.inf, "gtr": -13.5}
    sp = session(
        tmp_path,
        *[track(k, fader_db=v) for k, v in faders.items()],
        markers=[
            Marker(time_s=65.25, name="Bridge"),
            Marker(time_s=5.0, end_s=12.5, name="Verse"),
            Marker(time_s=3.5, name="hi-hat", kind="comment", text="too bright", author="Bo"),
        ],
    )
    s = load(sp)
    s.tracks[0].regions = [Region(start_s=0.1, end_s=0.4, fade_in_ms=20.0)]
    out = export_stems(s, sp, tmp_path / "stems")
    text = (out / "mix-sheet.txt").read_text()
    blocks = {b.splitlines()[0]: b for b in text.split("\n\n")}
    for name, fader in faders.items():
        block = blocks[f"TRACK {name} (id {name})"]
        assert f"fader                        {format_db(fader)} dB" in block
    assert "region 1 start               0:00.100" in text
    assert "time                         1:05.250" in text
    assert "end                          0:12.500" in text
    assert "text                         too bright" in text
    rows = list(csv.DictReader(io.StringIO((out / "mix-sheet.csv").read_text())))
    got = {
        r["name"]: r["value"] for r in rows if r["kind"] == "track" and r["parameter"] == "fader"
    }
    assert got == {k: format_db(v) for k, v in faders.items()}
    assert {r["parameter"] for r in rows if r["kind"] == "master"} >= {"gain", "limiter"}


def test_missing_source_raises_and_leaves_nothing(tmp_path):
    sp = session(tmp_path, track("a"), track("b"))
    (tmp_path / "in" / "b.wav").unlink()
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(ExportError, match=r"missing.*b \("):
        export_stems(load(sp), sp, tmp_path / "stems")
    assert {p.name for p in tmp_path.iterdir()} == before


def test_unreadable_source_raises_and_leaves_nothing(tmp_path):
    sp = session(tmp_path, track("a"), track("b"))
    (tmp_path / "in" / "b.wav").write_bytes(b"RIFF....WAVEjunk")
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(ExportError, match=r"b: .*b\.wav"):
        export_stems(load(sp), sp, tmp_path / "stems")
    assert {p.name for p in tmp_path.iterdir()} == before


def test_nothing_asked_is_an_error(tmp_path):
    sp = session(tmp_path, track("a"))
    with pytest.raises(ParameterError, match="both False"):
        export_stems(load(sp), sp, tmp_path / "stems", processed=False, dry=False)


def test_file_names_are_safe_and_unique():
    s = Session(tracks=[track("a", name="Vox"), track("b", name="vox"), track("c", name="a/b:c"),
                        track("d", name="..."), track("e", name="_return_verb")])  # fmt: skip
    assert stem_file_names(s) == {
        "a": "Vox", "b": "vox-2", "c": "a_b_c", "d": "d", "e": "return_verb",
    }  # fmt: skip


def test_time_format():
    assert format_time(0.0) == "0:00.000"
    assert format_time(65.25) == "1:05.250"
    assert format_time(59.9996) == "1:00.000"
    assert format_time(4500.0) == "75:00.000"
