"""mixwise prep: labels, colours, names, order, buses; the JSON interface."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mixwise.assist.organise import clean_display_name
from mixwise.cli import main
from mixwise.session.io import load_session
from signals import DEMO_STEMS, noise, sine, write_wav

SR = 44_100


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("01_Dirty_World_BD", "Dirty World BD"),
        ("07 - Ld Vox", "Ld Vox"),
        ("Kick In", "Kick In"),
        ("12", "12"),
        ("A3_gtr__di", "gtr di"),
        ("Snr_Top", "Snr Top"),
    ],
)
def test_clean_display_names(raw, clean):
    assert clean_display_name(raw) == clean


@pytest.fixture
def song(tmp_path):
    d = tmp_path / "song"
    t = np.arange(SR * 3) / SR
    kick = np.zeros(SR * 3)
    for beat in range(0, SR * 3, SR // 2):  # a decaying 55 Hz thump twice a second
        seg = t[: SR // 4]
        kick[beat : beat + len(seg)] += 0.8 * np.sin(2 * np.pi * 55 * seg) * np.exp(-seg * 20)
    write_wav(
        d / "05 Ld Vox.wav", sine(220.0, seconds=3.0, sample_rate=SR, amplitude=0.2, channels=1), SR
    )
    write_wav(d / "01_Kick In.wav", kick[None].astype(np.float32), SR)
    write_wav(d / "02_Snr Top.wav", noise(seconds=3.0, sample_rate=SR, rms=0.05, channels=1), SR)
    write_wav(
        d / "03 Bs DI.wav", sine(55.0, seconds=3.0, sample_rate=SR, amplitude=0.4, channels=1), SR
    )
    (d / "notes.txt").write_text("lyrics")
    return d


def test_prep_json_is_one_object_per_input_file(song, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["prep", str(song), "-o", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_file = {r["file"]: r for r in rows}
    assert set(by_file) == {
        "01_Kick In.wav",
        "02_Snr Top.wav",
        "03 Bs DI.wav",
        "05 Ld Vox.wav",
        "notes.txt",
    }
    assert "error" in by_file["notes.txt"]
    expect = {
        "01_Kick In.wav": ("kick", "drums"),
        "02_Snr Top.wav": ("snare", "drums"),
        "03 Bs DI.wav": ("bass", "bass"),
        "05 Ld Vox.wav": ("lead_vocal", "vocals"),
    }
    for file, (role, family) in expect.items():
        r = by_file[file]
        assert (r["role"], r["family"]) == (role, family), file
        assert 0.5 <= r["confidence"] <= 1.0
        assert r["colour"].startswith("#") and "findings" in r
    assert by_file["01_Kick In.wav"]["group"] == "drums"
    assert by_file["03 Bs DI.wav"]["group"] is None  # a family of one gets no bus


def test_prep_session_is_organised_and_renders_unchanged(song, tmp_path):
    out = tmp_path / "out"
    assert main(["prep", str(song), "-o", str(out), "-q"]) == 0
    s = load_session(out / "session.json")
    assert [t.name for t in s.tracks] == ["Kick In", "Snr Top", "Bs DI", "Ld Vox"]  # console order
    assert {b.id: b.kind for b in s.buses} == {"drums": "group", "reverb": "aux", "delay": "aux"}
    assert all(t.colour == "#D94A3D" for t in s.tracks[:2])
    for t in s.tracks:  # sends exist, switched off
        assert {x.bus: x.level_db for x in t.chain.sends} == {
            "reverb": -math.inf,
            "delay": -math.inf,
        }
    assert all(h.reason for h in s.history)


@pytest.mark.skipif(not DEMO_STEMS.exists(), reason="bundled demo absent")
def test_user_role_override_is_kept(tmp_path):
    from mixwise.analysis.roles import RoleGuess
    from mixwise.assist.organise import apply_roles

    out = tmp_path / "out"
    assert main(["prep", str(DEMO_STEMS), "-o", str(out), "-q"]) == 0
    s = load_session(out / "session.json")
    t = s.tracks[0]
    t.role, t.role_locked = "percussion", True
    apply_roles(s, {t.id: RoleGuess("kick", "drums", 0.99, "name")})
    assert t.role == "percussion"


def test_roles_set_by_the_user_are_locked_and_kept_on_the_next_prep(song, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["prep", str(song), "-o", str(out), "--json"]
    assert main([*args, "--role", "03 Bs DI.wav=synth", "--role", "05 Ld Vox=backing_vocal"]) == 0
    rows = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["03 Bs DI.wav"]["role"] == "synth" and rows["03 Bs DI.wav"]["confidence"] == 1.0
    assert rows["05 Ld Vox.wav"]["role"] == "backing_vocal"
    assert main(args) == 0  # again, without --role: the choices stay
    rows = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["03 Bs DI.wav"]["role"] == "synth"
    s = load_session(out / "session.json")
    assert {t.name: t.role_locked for t in s.tracks}["Bs DI"]
    assert main([*args, "--role", "03 Bs DI.wav=tuba"]) == 1
    assert "unknown role 'tuba'" in capsys.readouterr().err


def test_in_memory_budget_follows_the_available_memory(monkeypatch):
    from mixwise import api

    lo, hi = api.IN_MEMORY_BOUNDS_BYTES
    monkeypatch.setattr(api, "available_memory_bytes", lambda: 8 * 2**30)
    assert api.in_memory_budget_bytes() == 2 * 2**30  # a quarter of 8 GiB
    monkeypatch.setattr(api, "available_memory_bytes", lambda: 1 * 2**30)
    assert api.in_memory_budget_bytes() == lo
    monkeypatch.setattr(api, "available_memory_bytes", lambda: 64 * 2**30)
    assert api.in_memory_budget_bytes() == hi
    monkeypatch.setattr(api, "available_memory_bytes", lambda: None)
    assert api.in_memory_budget_bytes() == lo
    monkeypatch.setattr(api, "IN_MEMORY_BUDGET_BYTES", 12345)
    assert api.in_memory_budget_bytes() == 12345


def test_available_memory_is_read_from_the_system():
    from mixwise import api

    avail = api.available_memory_bytes()
    assert avail is None or 16 * 2**20 < avail < 2**50
