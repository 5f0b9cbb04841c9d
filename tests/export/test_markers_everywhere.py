"""Timestamped comments survive a save/load and arrive as markers in every DAW export, and the
exports refuse a session whose audio is missing without leaving anything behind."""

from __future__ import annotations

import numpy as np
import pytest

from mixwise.comments import add_comment
from mixwise.errors import ExportError
from mixwise.export.ardour import export_ardour, import_ardour
from mixwise.export.dawproject import export_dawproject, import_dawproject
from mixwise.export.reaper import export_reaper, parse_rpp
from mixwise.session.io import load_session, save_session
from mixwise.session.model import Marker, Session, SourceFile, Track
from signals import write_wav

SR = 48_000


@pytest.fixture()
def session_file(tmp_path):
    rng = np.random.default_rng(0)
    tracks = []
    for name in ("Kick", "Voix lead é"):
        f = tmp_path / "audio" / f"{name}.wav"
        write_wav(f, (rng.standard_normal((2, SR * 3)) * 0.05).astype(np.float32), SR)
        tracks.append(
            Track(id=name.split()[0].lower(), name=name, source=SourceFile(path=str(f), channels=2))
        )
    s = Session(name="Comments", sample_rate=SR, length_s=3.0, tracks=tracks)
    s.markers.append(Marker(time_s=0.5, name="Verse"))
    add_comment(s, 1.25, "vocal too quiet here", author="Ana")
    add_comment(s, 2.0, "snare harsh", end_s=2.5)
    path = save_session(s, tmp_path / "session.json")
    return path


def comments_of(markers) -> list[tuple[float, str]]:
    return sorted((round(m.time_s, 3), m.text or m.name) for m in markers if m.kind == "comment")


EXPECTED = [(1.25, "vocal too quiet here"), (2.0, "snare harsh")]


def test_comments_survive_save_and_load(session_file):
    s = load_session(session_file)
    assert comments_of(s.markers) == EXPECTED
    assert [m.author for m in s.markers if m.kind == "comment"] == ["Ana", ""]
    assert s.markers[-1].end_s == 2.5


def test_comments_are_markers_in_every_daw_export(session_file, tmp_path):
    s = load_session(session_file)
    # REAPER
    rpp = export_reaper(s, session_file, tmp_path / "reaper")
    got = parse_rpp(rpp)
    assert comments_of(got.markers) == EXPECTED
    assert any(m.name == "Verse" for m in got.markers)
    # DAWproject
    dp = export_dawproject(s, session_file, tmp_path / "x.dawproject")
    back = import_dawproject(dp, tmp_path / "dp-audio")
    assert comments_of(back.markers) == EXPECTED
    # Ardour
    ard = export_ardour(s, session_file, tmp_path / "ardour")
    back = import_ardour(ard)
    assert comments_of(back.markers) == EXPECTED


@pytest.mark.parametrize("fmt", ["ardour", "dawproject", "reaper"])
def test_missing_audio_is_refused_and_nothing_is_left(session_file, tmp_path, fmt):
    s = load_session(session_file)
    s.tracks[1].source.path = str(tmp_path / "gone.wav")
    dest = tmp_path / "export-out"
    with pytest.raises(ExportError, match="missing"):
        if fmt == "ardour":
            export_ardour(s, session_file, dest)
        elif fmt == "dawproject":
            export_dawproject(s, session_file, dest / "x.dawproject")
        else:
            export_reaper(s, session_file, dest)
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith((".export-out", "export-out"))]
    assert leftovers == [] or all(not any(p.iterdir()) for p in leftovers if p.is_dir())


@pytest.mark.parametrize("fmt", ["ardour", "reaper"])
def test_an_export_never_replaces_a_folder_holding_other_files(session_file, tmp_path, fmt):
    s = load_session(session_file)
    dest = tmp_path / "music"
    dest.mkdir()
    (dest / "thesis.txt").write_text("mine")
    export = export_ardour if fmt == "ardour" else export_reaper
    with pytest.raises(ExportError, match="holds other files"):
        export(s, session_file, dest)
    assert [p.name for p in dest.iterdir()] == ["thesis.txt"]
    # an earlier mixwise export in that place is replaced whole
    fresh = tmp_path / "fresh"
    export(s, session_file, fresh)
    (fresh / "stale.txt").write_text("from before")
    export(s, session_file, fresh)
    assert not (fresh / "stale.txt").exists() and (fresh / ".mixwise-export").is_file()


def test_click_repairs_are_written_into_the_exported_audio(tmp_path):
    from mixwise.session.model import Repair
    from signals import read_wav

    n, k = SR * 2, SR  # a click one second in
    t = np.arange(n) / SR
    clean = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None]
    clicked = clean.copy()
    clicked[0, k] += 0.6
    write_wav(tmp_path / "gtr.wav", clicked, SR)
    track = Track(id="gtr", name="Gtr", source=SourceFile(path=str(tmp_path / "gtr.wav")))
    track.repairs = [Repair(time_s=k / SR, length_samples=1)]
    s = Session(name="Clicks", sample_rate=SR, tracks=[track])
    sp = save_session(s, tmp_path / "s.json")
    out = export_reaper(s, sp, tmp_path / "rpp")
    y, _ = read_wav(out.parent / "Audio" / "gtr.wav")
    err = abs(float(y[0, k] - clean[0, k]))
    print(f"\nexported click sample error {err:.4f} (unrepaired 0.6)")
    assert err < 0.02
    assert np.array_equal(y[0, : k - 2048], clicked[0, : k - 2048])  # the rest untouched
