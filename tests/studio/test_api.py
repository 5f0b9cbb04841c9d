"""The studio's HTTP API (FastAPI TestClient): uploads and their limits, safe file names and
file serving, the mix job, edits, suggestions, comments, downloads, error messages."""

from __future__ import annotations

import io
import json
import math
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from studio_support import synthetic_stems, wait_job

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
with warnings.catch_warnings():  # starlette's note about httpx vs httpx2, not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mixwise.analysis.meters import integrated_loudness
from mixwise.session.io import load_session
from mixwise.studio import create_app
from mixwise.studio.workspace import Limits, safe_file_name

LIMITS = Limits(max_file_bytes=1_200_000, max_project_bytes=6_000_000, max_files=40)


def client_for(workspace: Path, **kw) -> TestClient:
    app = create_app(workspace, limits=LIMITS, **kw)
    return TestClient(app, headers={"X-Mixwise": "1"}, raise_server_exceptions=False)


def upload(client: TestClient, pid: str, name: str, data: bytes):
    return client.post(f"/api/projects/{pid}/stems", files=[("files", (name, data, "audio/wav"))])


@pytest.fixture()
def client(tmp_path) -> TestClient:
    return client_for(tmp_path / "ws")


@pytest.fixture()
def project(client) -> str:
    return client.post("/api/projects", json={"name": "Test song"}).json()["project"]["id"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, stems_dir):
    """A project mixed at the assist level (suggestions pending), shared by the module."""
    ws = tmp_path_factory.mktemp("ws")
    c = client_for(ws)
    pid = c.post("/api/projects", json={"name": "Shared"}).json()["project"]["id"]
    files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in sorted(stems_dir.iterdir())]
    assert c.post(f"/api/projects/{pid}/stems", files=files).status_code == 200
    body = {"level": "assist", "target_lufs": -14.0, "profile": "jazz"}
    res = c.post(f"/api/projects/{pid}/mix", json=body)
    assert res.status_code == 200, res.text
    job = wait_job(c, res.json()["job"]["id"])
    return c, pid, ws, job


# --------------------------------------------------------------------------------------------
# uploads: names, types, sizes


@pytest.mark.parametrize(
    "name", ["../../x.wav", "..\\x.wav", "/etc/x.wav", "sub/x.wav", "..", ".hidden.wav"]
)
def test_traversal_names_are_refused_with_a_message(client, project, tmp_path, stems_dir, name):
    data = (stems_dir / "Kick.wav").read_bytes()
    res = upload(client, project, name, data)
    assert res.status_code == 400
    body = res.json()
    assert set(body) == {"error"} and "refused" in body["error"]
    assert "Traceback" not in res.text
    # nothing landed outside (or inside) the project's stems folder
    assert not list(tmp_path.rglob("x.wav"))
    assert client.get(f"/api/projects/{project}").json()["stems"] == []


def test_odd_characters_are_sanitised_not_trusted():
    assert safe_file_name("Lead Vox <take 2>?.WAV") == "Lead Vox _take 2__.wav"
    assert safe_file_name("Bässe (DI).flac") == "Bässe (DI).flac"
    with pytest.raises(Exception, match="not accepted"):
        safe_file_name("song.exe")


def test_oversized_upload_is_refused_with_413(client, project):
    big = np.zeros((2, 400_000), dtype=np.float32)  # 3.2 MB as float WAV > 1.2 MB limit
    buf = io.BytesIO()
    sf.write(buf, big.T, 44_100, format="WAV", subtype="FLOAT")
    res = upload(client, project, "big.wav", buf.getvalue())
    assert res.status_code == 413
    assert "over the limit" in res.json()["error"]
    assert client.get(f"/api/projects/{project}").json()["stems"] == []


def test_project_total_limit(client, project, tmp_path):
    stems = synthetic_stems(tmp_path / "many", 12, seconds=3.0)  # ~530 KB each
    codes = [upload(client, project, p.name, p.read_bytes()).status_code for p in stems]
    assert codes[:10] == [200] * 10  # 10 x 530 KB fits 6 MB
    assert codes[-1] == 413
    total = sum(s["size_bytes"] for s in client.get(f"/api/projects/{project}").json()["stems"])
    assert total <= LIMITS.max_project_bytes


def test_non_audio_is_refused_with_a_clear_message(client, project):
    res = upload(client, project, "notes.txt", b"hello")
    assert res.status_code == 415
    assert "notes.txt" in res.json()["error"] and "not accepted" in res.json()["error"]
    res = upload(client, project, "fake.wav", b"this is not a wave file at all")
    assert res.status_code == 415
    assert res.json()["error"].startswith("fake.wav: not an audio file")
    broken = b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk"
    res = upload(client, project, "broken.wav", broken)
    assert res.status_code == 415 and "cannot be read as audio" in res.json()["error"]
    assert client.get(f"/api/projects/{project}").json()["stems"] == []


def test_changing_requests_need_the_studio_header(tmp_path):
    app = create_app(tmp_path / "ws")
    bare = TestClient(app)
    res = bare.post("/api/projects", json={"name": "x"})
    assert res.status_code == 403 and "studio page" in res.json()["error"]
    assert bare.get("/api/projects").status_code == 200
    evil = TestClient(app, base_url="http://evil.example")
    assert evil.get("/api/projects").status_code == 403


# --------------------------------------------------------------------------------------------
# serving files


def test_only_files_inside_the_project_are_served(mixed, tmp_path):
    c, pid, ws, _ = mixed
    secret = ws / "secret.txt"
    secret.write_text("outside")
    assert c.get(f"/api/projects/{pid}/files/render/master.wav").status_code == 200
    for rel in ["..%2F..%2Fsecret.txt", "%2E%2E/%2E%2E/secret.txt", "%2Fetc%2Fpasswd"]:
        res = c.get(f"/api/projects/{pid}/files/{rel}")
        assert res.status_code in (403, 404), rel
        assert "error" in res.json() and "outside" not in res.text
    link = ws / "projects" / pid / "render" / "link.txt"
    link.symlink_to(secret)
    res = c.get(f"/api/projects/{pid}/files/render/link.txt")
    assert res.status_code == 403 and "inside the project" in res.json()["error"]
    link.unlink()
    assert c.get("/api/projects/..%2F..%2Fetc/files/x").status_code == 404


def test_errors_are_one_line_json(client, project, monkeypatch):
    res = client.get("/api/projects/nope-123456")
    assert res.status_code == 404 and res.json() == {"error": "no project 'nope-123456'"}
    res = client.post(f"/api/projects/{project}/comments", json={"time_s": "soon"})
    assert res.status_code == 422 and set(res.json()) == {"error"}
    res = client.post(f"/api/projects/{project}/mix", json={})
    assert res.status_code == 409 and "upload some stems" in res.json()["error"]
    import mixwise.studio.server as server

    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(server, "features", boom)
    res = client.get(f"/api/projects/{project}")
    assert res.status_code == 500
    assert res.json()["error"].startswith("internal error (RuntimeError)")
    assert "Traceback" not in res.text and "secret internals" not in res.text


# --------------------------------------------------------------------------------------------
# the mix job and what it makes


def test_mix_job_lifecycle_and_outputs(mixed):
    c, pid, ws, job = mixed
    assert job["state"] == "done" and job["progress"] == 1.0
    st = c.get(f"/api/projects/{pid}").json()
    assert st["job"] is None and st["session"]["intent"]["level"] == "assist"
    assert st["session"]["intent"]["profile"] == "jazz"
    assert set(st["files"]) == {"master", "mix", "raw"}
    assert len(st["stem_files"]) >= 4
    # EQ curves come from the renderer's filters: the first track's high-pass shows in it
    freqs = st["curve_freqs_hz"]
    assert len(freqs) == 121 and abs(freqs[0] - 20) < 1e-6
    for key, curve in st["curves"].items():
        assert len(curve) == len(freqs), key
    # the rendered master meets its target
    master = ws / "projects" / pid / "render" / "master.wav"
    audio, rate = sf.read(master, always_2d=True)
    assert abs(integrated_loudness(audio.T, rate) - (-14.0)) < 0.5
    assert abs(st["studio"]["master_lufs"] - (-14.0)) < 0.5
    assert st["studio"]["raw_lufs"] < -5


def test_fader_change_moves_the_session_by_exactly_the_db_sent(mixed):
    c, pid, ws, _ = mixed
    before = load_session(ws / "projects" / pid / "session.json")
    t = before.tracks[1]
    old = t.chain.fader_db
    res = c.post(
        f"/api/projects/{pid}/param",
        json={"path": f"tracks[{t.id}].chain.fader_db", "value": old - 4.5},
    )
    assert res.status_code == 200, res.text
    after = load_session(ws / "projects" / pid / "session.json")  # autosaved on disk
    assert after.tracks[1].chain.fader_db == pytest.approx(old - 4.5, abs=1e-9)
    last = after.history[-1]
    assert (last.source, last.old, last.new) == ("user", old, old - 4.5)
    assert c.get(f"/api/projects/{pid}").json()["needs_render"] is True
    # an EQ edit answers with the new curve, measured from the real filter: +6 dB at 1 kHz
    band = {"type": "peak", "enabled": True, "freq_hz": 1000.0, "gain_db": 6.0, "q": 1.0}
    res = c.post(
        f"/api/projects/{pid}/param",
        json={"path": f"tracks[{t.id}].chain.eq", "value": [*t.chain.eq, band]},
    ).json()
    freqs = np.array(c.get(f"/api/projects/{pid}").json()["curve_freqs_hz"])
    i = int(np.argmin(np.abs(freqs - 1000)))
    hp_loss = res["curve"][i] - 6.0
    assert -0.5 < hp_loss <= 0.01
    # invalid values and protected fields are refused with a message
    bad = c.post(f"/api/projects/{pid}/param", json={"path": "master.target_lufs", "value": 5})
    assert bad.status_code == 400 and "master.target_lufs" in bad.json()["error"]
    src = c.post(
        f"/api/projects/{pid}/param",
        json={"path": f"tracks[{t.id}].source.path", "value": "/etc/passwd"},
    )
    assert src.status_code == 403


def test_render_job_renders_the_edit(mixed):
    c, pid, ws, _ = mixed
    res = c.post(f"/api/projects/{pid}/render", json={})
    wait_job(c, res.json()["job"]["id"])
    st = c.get(f"/api/projects/{pid}").json()
    assert st["needs_render"] is False
    rendered = load_session(ws / "projects" / pid / "render" / "session.json")
    now = load_session(ws / "projects" / pid / "session.json")
    assert rendered.tracks[1].chain.fader_db == now.tracks[1].chain.fader_db


def test_accept_reject_and_undo_suggestions(mixed):
    c, pid, ws, _ = mixed
    st = c.get(f"/api/projects/{pid}").json()
    pending = [p for p in st["session"]["proposals"] if p["status"] == "pending"]
    assert len(pending) >= 3
    a, r = pending[0], pending[1]
    res = c.post(f"/api/projects/{pid}/proposals/{a['number']}/accept", json={})
    assert res.status_code == 200, res.text
    res = c.post(f"/api/projects/{pid}/proposals/{r['number']}/reject")
    assert res.status_code == 200, res.text
    s = load_session(ws / "projects" / pid / "session.json")
    status = {p.number: p.status for p in s.proposals}
    assert status[a["number"]] == "applied" and status[r["number"]] == "rejected"
    from mixwise.session.edit import get_parameter

    assert get_parameter(s, a["parameter"]) == a["new"]
    again = c.post(f"/api/projects/{pid}/proposals/{a['number']}/accept", json={})
    assert again.status_code == 400 and "already applied" in again.json()["error"]
    res = c.post(f"/api/projects/{pid}/undo", json={"count": 1})
    assert res.status_code == 200
    s = load_session(ws / "projects" / pid / "session.json")
    assert {p.number: p.status for p in s.proposals}[a["number"]] == "pending"
    assert get_parameter(s, a["parameter"]) == a["old"]
    # a task at half the amount: each gain move goes half way (dB are linear)
    gains = [p for p in s.proposals if p.task == "gain" and p.status == "pending"]
    if gains:
        res = c.post(
            f"/api/projects/{pid}/proposals/accept-task", json={"task": "gain", "amount_pct": 50}
        )
        assert res.status_code == 200, res.text
        s = load_session(ws / "projects" / pid / "session.json")
        g = gains[0]
        assert get_parameter(s, g.parameter) == pytest.approx((g.old + g.new) / 2, abs=0.011)


def test_comment_is_stored_in_the_session(mixed):
    c, pid, ws, _ = mixed
    res = c.post(
        f"/api/projects/{pid}/comments",
        json={"time_s": 1.25, "text": "  snare  too loud here ", "author": "Ana"},
    )
    assert res.status_code == 200
    s = load_session(ws / "projects" / pid / "session.json")
    m = [mk for mk in s.markers if mk.kind == "comment" and mk.author == "Ana"][-1]
    assert (m.time_s, m.text) == (1.25, "snare too loud here")
    listed = c.get(f"/api/projects/{pid}").json()["session"]["markers"]
    assert any(mk["text"] == "snare too loud here" for mk in listed)


def test_request_in_words_is_stored_and_applied(mixed):
    c, pid, ws, _ = mixed
    n_hist = len(load_session(ws / "projects" / pid / "session.json").history)
    res = c.post(f"/api/projects/{pid}/requests", json={"text": "bass a bit louder"})
    s = load_session(ws / "projects" / pid / "session.json")
    assert any(mk.text == "bass a bit louder" for mk in s.markers)
    if res.status_code == 501:
        assert "saved in the session" in res.json()["error"]
        return
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["summary"]
    assert len(s.history) == n_hist + len(body["applied"])


def test_downloads(mixed):
    c, pid, _, _ = mixed
    res = c.get(f"/api/projects/{pid}/download/master")
    assert res.status_code == 200 and "attachment" in res.headers["content-disposition"]
    audio, rate = sf.read(io.BytesIO(res.content), always_2d=True)
    lufs = integrated_loudness(audio.T, rate)
    assert math.isfinite(lufs)
    zres = c.get(f"/api/projects/{pid}/download/stems")
    names = zipfile.ZipFile(io.BytesIO(zres.content)).namelist()
    assert len(names) >= 4 and all(n.startswith("stems/") for n in names)
    session = json.loads(c.get(f"/api/projects/{pid}/download/session").content)
    assert session["format"] == 1
    assert c.get(f"/api/projects/{pid}/download/nothing").status_code == 404
    features = c.get("/api/info").json()["features"]
    if features["export_reaper"]:
        r = c.get(f"/api/projects/{pid}/download/reaper")
        assert r.status_code == 200, r.text
        assert any(n.endswith(".RPP") for n in zipfile.ZipFile(io.BytesIO(r.content)).namelist())


def test_open_a_saved_session_file(mixed, stems_dir):
    c, pid, ws, _ = mixed
    text = (ws / "projects" / pid / "session.json").read_text()
    new = c.post("/api/projects", json={"name": "Reopened"}).json()["project"]["id"]
    res = c.post(
        f"/api/projects/{new}/session-file",
        files=[("files", ("session.json", text.encode(), "application/json"))],
    )
    assert res.status_code == 409 and "not uploaded" in res.json()["error"]
    for p in sorted(stems_dir.iterdir()):
        assert upload(c, new, p.name, p.read_bytes()).status_code == 200
    res = c.post(
        f"/api/projects/{new}/session-file",
        files=[("files", ("session.json", text.encode(), "application/json"))],
    )
    assert res.status_code == 200, res.text
    s = load_session(ws / "projects" / new / "session.json")
    assert all(Path(t.source.path).parent == ws / "projects" / new / "stems" for t in s.tracks)


def test_import_a_folder_of_stems(tmp_path, stems_dir):
    from mixwise.studio.server import import_folder
    from mixwise.studio.workspace import StudioError, Workspace

    song = tmp_path / "My Song" / "stems"
    song.mkdir(parents=True)
    for p in sorted(stems_dir.iterdir())[:2]:
        (song / p.name).write_bytes(p.read_bytes())
    (song / "notes.txt").write_text("not audio")
    (song / "fake.wav").write_text("not audio either")
    ws = Workspace(tmp_path / "ws")
    project = import_folder(ws, song)
    assert project.meta()["name"] == "My Song"  # a folder called "stems" is named by its parent
    assert [s["name"] for s in project.stems()] == sorted(p.name for p in stems_dir.iterdir())[:2]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StudioError, match="no audio files"):
        import_folder(ws, empty)
    assert len(ws.list()) == 1
