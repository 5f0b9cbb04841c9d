"""The command line: outputs, public file names, JSON, exit codes, re-rendering."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from mixwise.cli import main
from signals import DEMO_STEMS, noise, read_wav, sine, write_wav

SR = 48_000


@pytest.fixture
def stems(tmp_path):
    d = tmp_path / "My Song"
    write_wav(
        d / "01 Kick.wav", noise(seconds=3.0, sample_rate=SR, rms=0.2, channels=1), SR, "PCM_24"
    )
    write_wav(
        d / "02 Bass.flac",
        sine(55.0, seconds=3.0, sample_rate=SR, amplitude=0.3, channels=1),
        SR,
        "PCM_16",
    )
    write_wav(d / "03 Keys.wav", noise(seconds=2.5, sample_rate=SR, rms=0.01, seed=4), SR)
    return d


def test_mix_writes_the_public_outputs(stems, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["mix", str(stems), "-o", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "master.wav" in text and "LUFS" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "master.wav",
        "mix.wav",
        "report.html",
        "report.json",
        "session.json",
        "stems",
    ]
    assert sorted(p.name for p in (out / "stems").iterdir()) == [
        "01 Kick.wav",
        "02 Bass.wav",
        "03 Keys.wav",
        "_return_reverb.wav",
    ]
    mix, _ = read_wav(out / "mix.wav")
    total = sum(read_wav(p)[0] for p in (out / "stems").iterdir())
    np.testing.assert_allclose(total, mix, atol=1e-6)
    report = json.loads((out / "report.json").read_text())
    assert report["render"]["master"]["integrated_lufs"] == pytest.approx(-14.0, abs=0.1)
    assert report["render"]["master"]["true_peak_dbtp"] <= -1.0
    moves = report["moves"]
    assert all(m["reason"] for m in moves)
    assert len([m for m in moves if m["task"] == "gain"]) == 3
    # prepared: labelled, coloured, clean names, console order
    session = json.loads((out / "session.json").read_text())
    assert [t["name"] for t in session["tracks"]] == ["Kick", "Bass", "Keys"]
    assert [t["role"] for t in session["tracks"]][:2] == ["kick", "bass"]
    assert (out / "report.html").read_text().count("<svg") >= 3
    assert sf.info(str(out / "master.wav")).subtype == "PCM_24"


def test_mix_with_only_gain_staging_brings_every_stem_to_the_working_level(stems, tmp_path):
    out = tmp_path / "out"
    assert main(["mix", str(stems), "-o", str(out), "-q", "--tasks", "gain"]) == 0
    moves = json.loads((out / "report.json").read_text())["moves"]
    assert {m["task"] for m in moves} <= {"gain", "prep", "edit"}
    from mixwise.analysis.meters import integrated_loudness

    for p in (out / "stems").iterdir():
        y, _ = read_wav(p)
        own = int(2.5 * SR) if p.name.startswith("03") else y.shape[1]  # keys is shorter: padded
        assert integrated_loudness(y[:, :own], SR) == pytest.approx(-23.0, abs=0.05), p.name


def test_mix_refuses_an_unknown_task(stems, tmp_path, capsys):
    assert main(["mix", str(stems), "-o", str(tmp_path / "o"), "-q", "--tasks", "gain,magic"]) == 1
    assert "magic" in capsys.readouterr().err


def test_render_of_the_saved_session_reproduces_the_master_bit_for_bit(stems, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["mix", str(stems), "-o", str(a), "-q"]) == 0
    assert main(["render", str(a / "session.json"), "-o", str(b), "-q"]) == 0
    for name in ["master.wav", "mix.wav", "stems/01 Kick.wav"]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_edited_session_renders_the_edit(stems, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["mix", str(stems), "-o", str(a), "-q", "--no-stems"]) == 0
    assert not (a / "stems").exists()
    data = json.loads((a / "session.json").read_text())
    data["master"]["target_lufs"] = None
    data["master"]["limiter"]["enabled"] = False
    data["tracks"][0]["chain"]["fader_db"] -= 6.0
    (tmp_path / "edited.json").write_text(json.dumps(data))
    assert main(["render", str(tmp_path / "edited.json"), "-o", str(b), "-q"]) == 0
    first, _ = read_wav(b / "stems" / "01 Kick.wav")
    assert main(["render", str(a / "session.json"), "-o", str(tmp_path / "c"), "-q"]) == 0
    ref, _ = read_wav(tmp_path / "c" / "stems" / "01 Kick.wav")
    assert 20 * np.log10(np.std(first) / np.std(ref)) == pytest.approx(-6.0, abs=0.01)


def test_render_reports_a_malformed_session_in_one_line(tmp_path, capsys):
    bad = tmp_path / "s.json"
    bad.write_text(json.dumps({"format": 1, "sample_rate": "fast"}))
    assert main(["render", str(bad), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "sample_rate" in err


def test_render_goes_on_without_a_missing_source(stems, tmp_path, capsys):
    a = tmp_path / "a"
    assert main(["mix", str(stems), "-o", str(a), "-q"]) == 0
    data = json.loads((a / "session.json").read_text())
    data["tracks"][2]["source"]["path"] = str(tmp_path / "gone.wav")
    (tmp_path / "s.json").write_text(json.dumps(data))
    assert main(["render", str(tmp_path / "s.json"), "-o", str(tmp_path / "b"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "gone.wav" in err
    assert sorted(p.name for p in (tmp_path / "b" / "stems").iterdir()) == [
        "01 Kick.wav",
        "02 Bass.wav",
    ]


def test_analyze_json_is_one_object_per_file(stems, capsys):
    (stems / "broken.wav").write_text("x")
    assert main(["analyze", str(stems), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == ["01 Kick.wav", "02 Bass.flac", "03 Keys.wav", "broken.wav"]
    kick = rows[0]
    for key in [
        "integrated_lufs",
        "loudness_range_lu",
        "sample_peak_dbfs",
        "true_peak_dbtp",
        "rms_dbfs",
        "crest_db",
    ]:
        assert isinstance(kick[key], float)
    assert rows[1]["sample_peak_dbfs"] == pytest.approx(20 * np.log10(0.3), abs=0.01)
    assert "error" in rows[3]


def test_usage_errors_and_version(capsys):
    assert main(["mix"]) == 2
    assert main(["mix", "x", "--preset", "moon"]) == 2
    assert "unknown preset" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert "mixwise" in capsys.readouterr().out


def test_python_dash_m_help_is_quick_and_works():
    res = subprocess.run(
        [sys.executable, "-m", "mixwise", "--help"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0 and "mix" in res.stdout and "render" in res.stdout
    # no heavy imports at start-up
    res = subprocess.run(
        [sys.executable, "-c", "import mixwise.cli, sys; print('numba' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.stdout.strip() == "False"


@pytest.mark.skipif(not DEMO_STEMS.exists(), reason="bundled demo absent")
def test_mastered_demo_meets_its_target(tmp_path):
    pyebur128 = pytest.importorskip("pyebur128")
    out = tmp_path / "demo"
    assert (
        main(["mix", str(DEMO_STEMS), "-o", str(out), "-q", "--no-stems", "--preset", "apple"]) == 0
    )
    y, sr = read_wav(out / "master.wav")
    mode = pyebur128.MeasurementMode.MODE_I | pyebur128.MeasurementMode.MODE_TRUE_PEAK
    st = pyebur128.R128State(2, sr, mode)
    st.add_frames(np.ascontiguousarray(y.T).ravel(), y.shape[1])
    assert pyebur128.get_loudness_global(st) == pytest.approx(-16.0, abs=0.5)
    assert 20 * np.log10(max(pyebur128.get_true_peak(st, c) for c in range(2))) <= -1.0
    assert y.shape[1] / sr == pytest.approx(73.33, abs=0.05)
