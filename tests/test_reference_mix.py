"""`mix --reference` steers the mix and master toward a reference; `compare` reports the
differences in words (and none for a file against itself)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mixwise.cli import main
from signals import DATA_DIR, read_wav, write_wav

SONG = DATA_DIR / "hydrogen_jazzy"


@pytest.mark.realdata
@pytest.mark.skipif(not SONG.exists(), reason="../shared/data/hydrogen_jazzy is absent")
def test_matching_the_human_mix_halves_the_tonal_distance_within_the_ceiling(tmp_path):
    out = tmp_path / "out"
    ref = SONG / "mixture.flac"
    assert main(["mix", str(SONG / "stems"), "-o", str(out), "-q", "--reference", str(ref)]) == 0
    report = json.loads((out / "report.json").read_text())
    r = report["reference"]
    print(
        f"\ntonal distance to the reference: {r['tonal_distance_before_db']:.2f} dB unmatched, "
        f"{r['tonal_distance_after_db']:.2f} dB matched"
    )
    assert r["tonal_distance_after_db"] <= 0.5 * r["tonal_distance_before_db"]
    assert report["checks"]["true_peak_ok"] and report["checks"]["loudness_ok"]
    assert report["render"]["master"]["true_peak_dbtp"] <= -1.0 + 1e-6
    assert "Against the reference" in (out / "report.html").read_text()
    assert report["intent"]["reference"] == str(ref.resolve())


def test_compare_a_file_against_itself_reports_no_difference(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 3 * 44_100)) * 0.1).astype(np.float32)
    write_wav(tmp_path / "a.wav", x, 44_100)
    assert main(["compare", str(tmp_path / "a.wav"), str(tmp_path / "a.wav"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tonal_distance_db"] == pytest.approx(0.0, abs=0.01)
    assert (
        main(
            [
                "compare",
                str(tmp_path / "a.wav"),
                str(tmp_path / "a.wav"),
                "--plot",
                str(tmp_path / "c.svg"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "match" in text and (tmp_path / "c.svg").read_text().startswith("<svg")
    y, _ = read_wav(tmp_path / "a.wav")
    assert np.array_equal(x, y)  # the input is untouched
    assert main(["compare", str(tmp_path / "a.wav"), str(tmp_path / "missing.wav")]) == 1
