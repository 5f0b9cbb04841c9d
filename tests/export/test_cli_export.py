"""`mixwise export` and `mixwise import` from the command line: every format, and the refusals
that keep a user's files safe."""

from __future__ import annotations

import numpy as np
import pytest

from mixwise.cli import main
from mixwise.session.io import load_session, save_session
from mixwise.session.model import Session, SourceFile, Track
from signals import write_wav

SR = 48_000


@pytest.fixture()
def session_file(tmp_path):
    rng = np.random.default_rng(1)
    tracks = []
    for tid, fader in (("kick", -3.0), ("bass", -6.5)):
        f = tmp_path / "audio" / f"{tid}.wav"
        write_wav(f, (rng.standard_normal((2, SR * 2)) * 0.05).astype(np.float32), SR)
        t = Track(id=tid, name=tid.title(), source=SourceFile(path=str(f), channels=2))
        t.chain.fader_db = fader
        tracks.append(t)
    return save_session(Session(name="Song", sample_rate=SR, tracks=tracks), tmp_path / "s.json")


@pytest.mark.parametrize(
    ("fmt", "dest", "project"),
    [
        ("ardour", "ard", "ard"),
        ("dawproject", "x.dawproject", "x.dawproject"),
        ("reaper", "rpp", "rpp/Song.RPP"),
    ],
)
def test_export_then_import_gives_back_the_faders(session_file, tmp_path, fmt, dest, project):
    assert main(["export", str(session_file), "-f", fmt, "-o", str(tmp_path / dest)]) == 0
    back = tmp_path / "back"
    assert main(["import", str(tmp_path / project), "-o", str(back)]) == 0
    s = load_session(back / "session.json")
    got = {t.name: t.chain.fader_db + t.chain.trim_db for t in s.tracks}
    assert got == pytest.approx({"Kick": -3.0, "Bass": -6.5}, abs=0.01)
    # a second import into the same folder does not overwrite the session without --force
    assert main(["import", str(tmp_path / project), "-o", str(back)]) == 1
    assert main(["import", str(tmp_path / project), "-o", str(back), "--force"]) == 0


def test_stems_export_and_bad_requests_are_one_line(session_file, tmp_path, capsys):
    assert main(["export", str(session_file), "-f", "stems", "-o", str(tmp_path / "st")]) == 0
    assert (tmp_path / "st" / "mix-sheet.txt").is_file()
    assert main(["export", str(session_file), "-f", "protools", "-o", str(tmp_path / "p")]) == 1
    assert main(["import", str(session_file), "-o", str(tmp_path / "i")]) == 1
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(["export", str(session_file), "-f", "reaper", "-o", str(mine)]) == 1
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 3 and all(ln.startswith("mixwise: error:") for ln in err)
