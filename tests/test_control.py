"""Levels of automation, locks and amounts, assist/apply/reject/undo, comments: on short
synthetic stems through the CLI, the way a user drives them."""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from mixwise.assist.control import Policy, blend
from mixwise.cli import main
from mixwise.comments import add_comment, parse_time, parse_time_range, read_comments
from mixwise.errors import MixwiseError
from mixwise.session.edit import Suggestion
from mixwise.session.io import load_session, save_session
from mixwise.session.model import Chain, Intent, Session, SourceFile, Track
from signals import write_wav

sys.path.insert(0, str(Path(__file__).parent / "assist"))
from test_automix import SR, band_noise, vocal_like


@pytest.fixture(scope="module")
def stems(tmp_path_factory):
    d = tmp_path_factory.mktemp("song") / "stems"
    write_wav(d / "Lead Vox.wav", vocal_like(5.0) * np.float32(0.2), SR)
    write_wav(d / "Bass.wav", band_noise(40, 200, 5.0, seed=8, rms=0.2), SR)
    write_wav(d / "Keys.wav", band_noise(200, 4000, 5.0, seed=9, rms=0.05), SR)
    write_wav(d / "Hats.wav", band_noise(6000, 15000, 5.0, seed=10, rms=0.02), SR)
    return d


@pytest.fixture(scope="module")
def auto(stems, tmp_path_factory):
    out = tmp_path_factory.mktemp("auto") / "out"
    assert main(["mix", str(stems), "-o", str(out), "-q"]) == 0
    return load_session(out / "session.json")


def mix(stems: Path, out: Path, *args: str) -> Session:
    assert main(["mix", str(stems), "-o", str(out), "-q", *args]) == 0
    return load_session(out / "session.json")


def faders(s: Session) -> dict[str, float]:
    return {t.id: t.chain.fader_db for t in s.tracks}


def untouched(chain: Chain, *, but: frozenset[str] = frozenset()) -> bool:
    """A chain as prepared: neutral, its sends (set up by prep) off."""
    skip = {"sends", *but}
    return chain.model_dump(exclude=skip) == Chain().model_dump(exclude=skip) and all(
        s.level_db == -math.inf for s in chain.sends
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# levels


@pytest.mark.parametrize("level", ["auto", "conditional"])
def test_a_locked_fader_holds_and_the_other_faders_adapt_to_it(stems, auto, tmp_path, level):
    out = tmp_path / "out"
    first = mix(stems, out)
    assert faders(first) == faders(auto)  # deterministic
    # the user pushes the vocal up 4 dB and locks it
    first.track("lead-vox").chain.fader_db = round(auto.track("lead-vox").chain.fader_db + 4.0, 2)
    save_session(first, out / "session.json")
    lock = "tracks[lead-vox].chain.fader_db"
    second = mix(stems, out, "--level", level, "--lock", lock)
    assert second.intent.locks == [lock] and second.intent.level == level
    assert second.track("lead-vox").chain.fader_db == first.track("lead-vox").chain.fader_db
    shifts = [faders(second)[i] - faders(auto)[i] for i in faders(auto) if i != "lead-vox"]
    # the rest keeps its balance against the vocal: every other fader follows it up ~4 dB
    assert np.mean(shifts) == pytest.approx(4.0, abs=1.0), shifts
    assert all(s > 2.0 for s in shifts), shifts
    # the lock persists: a plain re-run keeps it
    third = mix(stems, out)
    assert third.intent.locks == [lock]
    assert third.track("lead-vox").chain.fader_db == first.track("lead-vox").chain.fader_db


def test_a_task_lock_on_a_family_keeps_compression_off_there(stems, tmp_path):
    s = mix(stems, tmp_path / "o", "--lock", "task:dynamics role:bass")
    assert not s.track("bass").chain.compressor.enabled
    assert not any(h.task == "dynamics" and "bass" in h.parameter for h in s.history)


def test_partial_with_gain_changes_only_trims(stems, auto, tmp_path):
    s = mix(stems, tmp_path / "o", "--tasks", "gain")
    assert s.intent.level == "partial" and s.intent.tasks == ["gain"]
    chain_moves = {h.parameter.split(".")[-1] for h in s.history if ".chain." in h.parameter}
    assert chain_moves == {"trim_db"}
    for t in s.tracks:
        assert t.chain.trim_db == auto.track(t.id).chain.trim_db != 0.0
        assert untouched(t.chain, but=frozenset({"trim_db"}))
        assert t.regions == []  # no prep fixes either
    assert s.master.eq == []


def test_assist_changes_nothing_until_apply_and_undo_takes_it_back(stems, auto, tmp_path):
    out = tmp_path / "o"
    s = mix(stems, out, "--level", "assist")
    path = out / "session.json"
    assert all(untouched(t.chain) for t in s.tracks)
    pending = [p for p in s.proposals if p.status == "pending"]
    assert len(pending) >= 10 and all(p.reason for p in pending)
    # the proposals are the automatic mix's moves
    vox = next(p for p in pending if p.parameter == "tracks[lead-vox].chain.fader_db")
    assert vox.new == auto.track("lead-vox").chain.fader_db
    trim = next(p for p in pending if p.parameter == "tracks[bass].chain.trim_db")
    assert main(["apply", str(path), str(vox.number), str(trim.number)]) == 0
    s = load_session(path)
    assert s.track("lead-vox").chain.fader_db == vox.new
    assert s.track("bass").chain.trim_db == trim.new
    assert s.history[-1].parameter == trim.parameter and s.history[-1].source == "user"
    assert main(["reject", str(path), "space"]) == 0
    s = load_session(path)
    assert all(p.status == "rejected" for p in s.proposals if p.task == "space")
    assert main(["undo", str(path)]) == 0
    s = load_session(path)
    assert s.track("bass").chain.trim_db == 0.0
    assert s.track("lead-vox").chain.fader_db == vox.new
    assert next(p for p in s.proposals if p.number == trim.number).status == "pending"
    # applying half a suggestion goes half way (dB)
    assert main(["apply", str(path), str(trim.number), "--amount", "50"]) == 0
    s = load_session(path)
    assert s.track("bass").chain.trim_db == pytest.approx(trim.new / 2, abs=0.01)
    assert main(["apply", str(path), str(trim.number)]) == 1  # already applied


def test_manual_renders_the_session_as_written_bit_identically(stems, tmp_path):
    out = tmp_path / "o"
    s = mix(stems, out)
    s.track("keys").chain.fader_db = -9.0  # a hand edit
    save_session(s, out / "session.json")
    again = mix(stems, out, "--level", "manual")
    assert again.track("keys").chain.fader_db == -9.0
    assert again.intent.level == "manual"  # kept: a plain re-run will not re-mix the edits away
    assert mix(stems, out).track("keys").chain.fader_db == -9.0
    assert main(["render", str(out / "session.json"), "-o", str(tmp_path / "r"), "-q"]) == 0
    assert digest(out / "master.wav") == digest(tmp_path / "r" / "master.wav")


def test_amount_zero_renders_the_unprocessed_session(stems, tmp_path):
    zero = mix(stems, tmp_path / "zero", "--amount", "0")
    mix(stems, tmp_path / "plain", "--level", "manual")
    assert all(untouched(t.chain) and not t.regions for t in zero.tracks)
    assert digest(tmp_path / "zero" / "master.wav") == digest(tmp_path / "plain" / "master.wav")


def test_amount_fifty_moves_each_db_parameter_half_way(stems, auto, tmp_path):
    half = mix(stems, tmp_path / "h", "--amount", "50")
    for t in half.tracks:
        assert t.chain.trim_db == pytest.approx(auto.track(t.id).chain.trim_db / 2, abs=0.01)
    bal = mix(stems, tmp_path / "b", "--amount", "balance=50")
    moved = 0
    for t in bal.tracks:
        full = auto.track(t.id).chain.fader_db
        assert t.chain.fader_db == pytest.approx(full / 2, abs=0.01)
        moved += abs(full) > 0.5
    assert moved >= 2
    assert bal.intent.amount_pct == {"balance": 50.0}


def test_bad_level_task_or_amount_is_one_clear_line(stems, tmp_path, capsys):
    assert main(["mix", str(stems), "-o", str(tmp_path / "x"), "--level", "turbo", "-q"]) == 1
    assert main(["mix", str(stems), "-o", str(tmp_path / "x"), "--amount", "eq=150", "-q"]) == 1
    assert main(["mix", str(stems), "-o", str(tmp_path / "x"), "--level", "partial", "-q"]) == 1
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 3 and all(ln.startswith("mixwise: error:") for ln in lines)
    assert "turbo" in lines[0] and "150" in lines[1] and "--tasks" in lines[2]


# --------------------------------------------------------------------------------------------
# blend and locks, without audio


def test_blend_follows_each_parameters_scale():
    assert blend(0.0, -6.0, 0.5, "tracks[a].chain.fader_db") == pytest.approx(-3.0)
    # a send switched on: half the linear gain
    assert blend("-inf", -10.0, 0.5, "tracks[a].chain.sends[0].level_db") == pytest.approx(
        -10.0 - 20 * math.log10(2), abs=0.01
    )
    hp = blend(
        {"enabled": False, "freq_hz": 80.0, "slope_db_oct": 12},
        {"enabled": True, "freq_hz": 160.0, "slope_db_oct": 12},
        0.5,
        "tracks[a].chain.high_pass",
    )
    assert hp["enabled"] and hp["freq_hz"] == pytest.approx(math.sqrt(10 * 160), rel=1e-3)
    comp = blend(
        Chain().compressor.model_dump(),
        {**Chain().compressor.model_dump(), "enabled": True, "ratio": 4.0, "makeup_db": 3.0},
        0.5,
        "tracks[a].chain.compressor",
    )
    assert comp["ratio"] == pytest.approx(2.0) and comp["makeup_db"] == pytest.approx(1.5)
    eq = blend([], [{"type": "peak", "freq_hz": 300.0, "gain_db": -4.0, "q": 1.0}], 0.25, "eq")
    assert eq[0]["gain_db"] == pytest.approx(-1.0) and eq[0]["freq_hz"] == 300.0


def test_locks_match_paths_tracks_roles_families_and_tasks():
    s = Session(
        tracks=[
            Track(id="kick", name="Kick", role="kick", source=SourceFile(path="k.wav")),
            Track(id="vox", name="Vox", role="lead_vocal", source=SourceFile(path="v.wav")),
        ]
    )

    def held(lock: str, task: str, path: str) -> bool:
        pol = Policy(Intent(locks=[lock]))
        return pol.lock_for(s, Suggestion(task, "x", path, 0, 1)) is not None

    assert held("tracks[vox].chain.fader_db", "balance", "tracks[vox].chain.fader_db")
    assert not held("tracks[vox].chain.fader_db", "balance", "tracks[kick].chain.fader_db")
    assert held("tracks[*].chain.compressor.ratio", "dynamics", "tracks[kick].chain.compressor")
    assert held("track:vox", "eq", "tracks[vox].chain.eq")
    assert held("family:drums", "eq", "tracks[kick].chain.eq")
    assert not held("family:drums", "eq", "tracks[vox].chain.eq")
    assert held("task:dynamics role:kick", "dynamics", "tracks[kick].chain.compressor")
    assert not held("task:dynamics role:kick", "balance", "tracks[kick].chain.fader_db")
    assert held("task:master", "master", "master.eq")


# --------------------------------------------------------------------------------------------
# comments


def test_times_and_ranges_read_the_way_people_write_them():
    assert parse_time("83.5") == 83.5
    assert parse_time("1:23") == 83.0
    assert parse_time("1:02:03.5") == 3723.5
    assert parse_time_range("1:23-1:40") == (83.0, 100.0)
    for bad in ("1:75", "abc", "-3"):
        with pytest.raises(MixwiseError):
            parse_time(bad)
    with pytest.raises(MixwiseError, match="ends before"):
        parse_time_range("1:40-1:23")


def test_comments_survive_save_and_load_and_import_from_csv_and_json(stems, tmp_path):
    out = tmp_path / "o"
    mix(stems, out, "--tasks", "gain")
    path = out / "session.json"
    assert main(["comment", str(path), "0:02.5", "vocal too quiet here", "--author", "Ana"]) == 0
    (tmp_path / "c.csv").write_text("time,text,end\n0:01,intro is thin,0:02\n3.5,nice fill,\n")
    (tmp_path / "c.json").write_text(json.dumps([{"time": "0:04", "text": "end too abrupt"}]))
    assert main(["comment", str(path), "--import", str(tmp_path / "c.csv")]) == 0
    assert main(["comment", str(path), "--import", str(tmp_path / "c.json")]) == 0
    s = load_session(path)
    got = [(m.time_s, m.end_s, m.text, m.author) for m in s.markers if m.kind == "comment"]
    assert got == [
        (1.0, 2.0, "intro is thin", ""),
        (2.5, None, "vocal too quiet here", "Ana"),
        (3.5, None, "nice fill", ""),
        (4.0, None, "end too abrupt", ""),
    ]
    # they survive a new mix into the same folder and are listed in the report
    s = mix(stems, out, "--tasks", "gain")
    assert [m.text for m in s.markers if m.kind == "comment"] == [g[2] for g in got]
    report = json.loads((out / "report.json").read_text())
    assert [c["text"] for c in report["comments"]] == [g[2] for g in got]
    assert "vocal too quiet here" in (out / "report.html").read_text()
    # a comment after the end of the song, and a broken import, are refused with one line
    assert main(["comment", str(path), "9:00", "too late"]) == 1
    (tmp_path / "bad.csv").write_text("time,text\nsoon,hmm\n")
    with pytest.raises(MixwiseError, match="comment 1"):
        read_comments(tmp_path / "bad.csv")
    with pytest.raises(MixwiseError, match="text"):
        add_comment(s, 1.0, "  ")


def test_fader_automation_moves_the_level_over_its_range_only(tmp_path):
    from mixwise.render.engine import render
    from mixwise.session.model import GainRamp
    from signals import read_wav, sine

    x = sine(1000.0, seconds=3.0, sample_rate=SR, amplitude=0.25, channels=2)
    s = Session(
        sample_rate=SR,
        tracks=[Track(id="a", name="A", source=SourceFile(path="a.wav", channels=2))],
    )
    s.master.target_lufs = None
    s.master.limiter.enabled = False
    s.tracks[0].chain.automation = [GainRamp(start_s=1.0, end_s=2.0, gain_db=6.0, ramp_ms=20.0)]
    render(s, {"a": x}, tmp_path)
    y, _ = read_wav(tmp_path / "mix.wav")

    def level(t0: float, t1: float) -> float:
        seg = y[0, int(t0 * SR) : int(t1 * SR)]
        return 20 * math.log10(np.sqrt(np.mean(seg**2)) / (0.25 / math.sqrt(2)))

    assert level(0.2, 0.9) == pytest.approx(0.0, abs=0.01)
    assert level(1.1, 1.9) == pytest.approx(6.0, abs=0.01)
    assert level(2.1, 2.9) == pytest.approx(0.0, abs=0.01)


def test_tweak_and_a_comment_as_a_request_change_the_session(stems, tmp_path, capsys):
    out = tmp_path / "o"
    before = mix(stems, out, "--tasks", "gain,balance")
    path = str(out / "session.json")
    assert main(["tweak", path, "bass a bit louder, florp the zorp"]) == 0
    s = load_session(out / "session.json")
    assert s.track("bass").chain.fader_db > before.track("bass").chain.fader_db + 0.4
    assert s.history[-1].source == "user" and s.history[-1].task == "tweak"
    assert "did not understand 'florp the zorp'" in capsys.readouterr().err
    assert main(["tweak", path, "florp the zorp"]) == 1
    assert load_session(out / "session.json") == s  # nothing changed
    assert main(["comment", path, "0:01-0:03", "keys louder here", "--apply"]) == 0
    (ramp,) = load_session(out / "session.json").track("keys").chain.automation
    assert (ramp.start_s, ramp.end_s) == (1.0, 3.0) and ramp.gain_db > 0


def test_a_genre_profile_shifts_balance_space_and_dynamics(stems, auto, tmp_path):
    hh = mix(stems, tmp_path / "hh", "--profile", "hiphop")
    jazz = mix(stems, tmp_path / "jazz", "--profile", "jazz")
    assert hh.intent.profile == "hiphop"

    def rel(s: Session, tid: str) -> float:
        return s.track(tid).chain.fader_db - s.track("lead-vox").chain.fader_db

    # bass forward by about the profile's +2.5 LU against the lead
    assert rel(hh, "bass") - rel(auto, "bass") == pytest.approx(2.5, abs=1.0)
    # drier: the vocal's reverb send about 4 dB lower
    send = {s.bus: s.level_db for s in auto.track("lead-vox").chain.sends}
    send_hh = {s.bus: s.level_db for s in hh.track("lead-vox").chain.sends}
    assert send_hh["reverb"] - send["reverb"] == pytest.approx(-4.0, abs=0.5)
    # jazz compresses half as much: each ratio half way to 1:1 on the ratio's log scale
    for t in auto.tracks:
        full = t.chain.compressor
        if full.enabled:
            got = jazz.track(t.id).chain.compressor.ratio
            assert got == pytest.approx(math.sqrt(full.ratio), rel=0.02)
    assert main(["mix", str(stems), "-o", str(tmp_path / "x"), "--profile", "polka", "-q"]) == 1


def test_an_output_folder_reused_for_another_song_keeps_no_comments_or_locks(stems, tmp_path):
    out = tmp_path / "o"
    s = mix(stems, out, "--tasks", "gain")
    s.track("bass").role_locked = True
    add_comment(s, 1.0, "bass too loud")
    save_session(s, out / "session.json")
    other = tmp_path / "other"
    write_wav(other / "Piano.wav", band_noise(200, 3000, 4.0, seed=4, rms=0.05), SR)
    again = mix(other, out)
    assert [t.name for t in again.tracks] == ["Piano"]
    assert again.markers == []


def test_a_reference_can_be_forgotten_and_manual_needs_the_same_song(stems, tmp_path):
    out = tmp_path / "o"
    ref = tmp_path / "ref.wav"
    write_wav(ref, band_noise(60, 8000, 4.0, seed=5, rms=0.1), SR)
    s = mix(stems, out, "--tasks", "gain,master", "--reference", str(ref))
    assert s.intent.reference == str(ref.resolve())
    assert json.loads((out / "report.json").read_text())["reference"] is not None
    s = mix(stems, out, "--reference", "none")
    assert s.intent.reference is None
    # manual on a folder that held another song mixes the new stems, not the old session
    other = tmp_path / "other"
    write_wav(other / "Piano.wav", band_noise(200, 3000, 4.0, seed=4, rms=0.05), SR)
    again = mix(other, out, "--level", "manual")
    assert [t.name for t in again.tracks] == ["Piano"]
