"""The automatic mix's own assistants on synthetic stems: band analysis, high-pass, unmasking,
balance and panning, and the whole pipeline (report, re-render)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import scipy.signal

from mixwise.analysis.meters import integrated_loudness
from mixwise.analysis.spectrum import THIRD_OCTAVE_HZ, band_frames
from mixwise.assist.balance import find_lead, suggest_balance
from mixwise.assist.eq import hpf_cutoff, suggest_high_pass, suggest_unmasking
from mixwise.assist.mixmodel import MixModel
from mixwise.assist.panning import suggest_panning
from mixwise.cli import main
from mixwise.session.edit import apply_suggestion
from mixwise.session.model import Session, SourceFile, Track
from signals import noise, read_wav, write_wav

SR = 44_100


def vocal_like(seconds: float, f0: float = 200.0, seed: int = 0) -> np.ndarray:
    """A harmonic tone (fundamental ``f0`` Hz, falling harmonics, light vibrato), mono."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * f0 * t + 0.3 * np.sin(2 * np.pi * 5 * t)
    x = sum(np.sin(k * phase) / k for k in range(1, 25) if k * f0 < 10_000)
    x = x / np.max(np.abs(x)) * 0.3
    return x[None].astype(np.float32)


def band_noise(lo: float, hi: float, seconds: float, seed: int, rms: float = 0.1) -> np.ndarray:
    """Mono noise band-limited to ``lo``-``hi`` Hz."""
    x = noise(seconds=seconds, sample_rate=SR, rms=1.0, channels=1, seed=seed)[0]
    sos = scipy.signal.butter(6, [lo, hi], "bandpass", fs=SR, output="sos")
    y = scipy.signal.sosfilt(sos, x)
    return (y / np.sqrt(np.mean(y**2)) * rms)[None].astype(np.float32)


def session_of(stems: dict[str, tuple[np.ndarray, str]]) -> tuple[Session, dict]:
    tracks, bands = [], {}
    for name, (audio, role) in stems.items():
        tracks.append(
            Track(
                id=name,
                name=name,
                role=role,
                source=SourceFile(path=f"{name}.wav", channels=audio.shape[0], sample_rate=SR),
            )
        )
        bands[name] = band_frames(audio, SR)
    return Session(sample_rate=SR, tracks=tracks), bands


def test_band_frames_measure_a_sine_in_its_band_and_predict_loudness_exactly():
    t = np.arange(3 * SR) / SR
    x = np.sin(2 * np.pi * 1000 * t)[None].astype(np.float32)
    bf = band_frames(x, SR)
    k = int(np.argmin(abs(THIRD_OCTAVE_HZ - 1000)))
    assert bf.power[0, k, 5:25] == pytest.approx(0.5, abs=1e-4)  # mean square of a sine
    assert bf.power[0, :, 5:25].sum(axis=0) == pytest.approx(0.5, abs=1e-4)
    voc = vocal_like(4.0)
    s, bands = session_of({"v": (voc, "lead_vocal")})
    predicted = MixModel(s, bands).contributions_lufs()["v"]
    mono_in_stereo = voc * np.float32(np.sqrt(0.5))  # the -3 dB centre pan law
    measured = integrated_loudness(np.vstack([mono_in_stereo, mono_in_stereo]), SR)
    assert predicted == pytest.approx(measured, abs=0.05)


def test_a_rumble_under_a_vocal_gets_a_high_pass_above_it_and_below_the_voice():
    voc = vocal_like(4.0, f0=200.0)
    t = np.arange(voc.shape[1]) / SR
    rumble = (0.05 * np.sin(2 * np.pi * 60 * t)).astype(np.float32)
    s, bands = session_of({"vox": (voc + rumble, "lead_vocal")})
    (sug,) = suggest_high_pass(s, bands)
    cutoff = sug.new["freq_hz"]
    assert 60.0 < cutoff < 200.0
    assert sug.reason
    # without pitch information the spectrum alone also places it between the two
    spec = bands["vox"].long_term_db()
    assert 60.0 < hpf_cutoff("lead_vocal", spec, THIRD_OCTAVE_HZ, 0.0) < 200.0


def test_two_tracks_sharing_1_to_3_khz_cut_the_lower_priority_one_and_masking_drops():
    lead = band_noise(1000, 3000, 4.0, seed=1, rms=0.05)
    pad = band_noise(800, 3500, 4.0, seed=2, rms=0.1)
    s, bands = session_of({"vox": (lead, "lead_vocal"), "pad": (pad, "pad")})
    ids, before, _ = MixModel(s, bands).masking()
    i, j = ids.index("pad"), ids.index("vox")
    sugs = suggest_unmasking(s, bands, lead_id="vox")
    assert [x.target for x in sugs] == ["pad"]  # only the lower-priority track is cut
    (band,) = sugs[0].new
    assert 1000 <= band["freq_hz"] <= 3150 and -5.0 <= band["gain_db"] <= -2.0
    for x in sugs:
        apply_suggestion(s, x)
    _, after, _ = MixModel(s, bands).masking()
    assert after[i, j] < before[i, j] - 0.05


def test_a_very_quiet_lead_vocal_ends_up_above_the_accompaniment():
    voc = vocal_like(6.0, f0=220.0) * np.float32(0.03)  # about 30 dB under the band
    keys = band_noise(200, 4000, 6.0, seed=3, rms=0.2)
    gtr = band_noise(150, 5000, 6.0, seed=4, rms=0.2)
    s, bands = session_of(
        {"vox": (voc, "lead_vocal"), "keys": (keys, "keys"), "gtr": (gtr, "electric_guitar")}
    )
    assert find_lead(s, bands).id == "vox"
    for x in suggest_balance(s, bands):
        assert x.reason and x.task == "balance"
        apply_suggestion(s, x)
    heard = MixModel(s, bands).contributions_lufs()
    assert heard["vox"] > heard["keys"] + 2.0
    assert heard["vox"] > heard["gtr"] + 1.0


def test_panning_keeps_low_end_central_and_spreads_a_pair():
    bass = band_noise(40, 120, 3.0, seed=5)
    g1 = band_noise(300, 3000, 3.0, seed=6)
    g2 = band_noise(300, 3000, 3.0, seed=7)
    s, bands = session_of(
        {"bass": (bass, "bass"), "gtr1": (g1, "electric_guitar"), "gtr2": (g2, "electric_guitar")}
    )
    pans = {x.target: x.new for x in suggest_panning(s, bands)}
    assert "bass" not in pans  # stays at 0
    assert pans["gtr1"] == pytest.approx(-pans["gtr2"]) and abs(pans["gtr1"]) >= 0.4


@pytest.fixture()
def song(tmp_path):
    d = tmp_path / "stems"
    write_wav(d / "Lead Vox.wav", vocal_like(5.0) * np.float32(0.2), SR)
    write_wav(d / "Bass.wav", band_noise(40, 200, 5.0, seed=8, rms=0.2), SR)
    write_wav(d / "Keys.wav", band_noise(200, 4000, 5.0, seed=9, rms=0.05), SR)
    write_wav(d / "Hats.wav", band_noise(6000, 15000, 5.0, seed=10, rms=0.02), SR)
    return d


def test_full_automix_explains_every_move_and_rerenders_bit_identically(song, tmp_path):
    out = tmp_path / "out"
    assert main(["mix", str(song), "-o", str(out), "-q"]) == 0
    report = json.loads((out / "report.json").read_text())
    moves = report["moves"]
    tasks = {m["task"] for m in moves}
    assert {"gain", "pan", "eq", "balance", "master"} <= tasks
    assert all(m["reason"].strip() for m in moves)
    assert report["checks"]["loudness_ok"] and report["checks"]["true_peak_ok"]
    assert abs(report["checks"]["master_lufs_error_lu"]) <= 0.5
    assert len(report["plots"]["masking"]["before"]) == 4
    html = (out / "report.html").read_text()
    assert all(m["reason"].split(";")[0][:40] in html for m in moves if m["task"] == "balance")
    # the session alone reproduces the master, bit for bit
    again = tmp_path / "again"
    assert main(["render", str(out / "session.json"), "-o", str(again), "-q"]) == 0
    digest = [hashlib.sha256((d / "master.wav").read_bytes()).hexdigest() for d in (out, again)]
    assert digest[0] == digest[1]
    y, _ = read_wav(out / "master.wav")
    assert integrated_loudness(y, SR) == pytest.approx(-14.0, abs=0.5)


def test_the_mix_model_predicts_the_mix_meters_the_glue_compressor_reads():
    from mixwise.analysis.meters import measure
    from mixwise.dsp.pan import to_stereo

    t = np.arange(12 * SR) / SR
    swell = (0.2 + 0.8 * (np.sin(2 * np.pi * t / 6.0) > 0)).astype(np.float32)  # a 6 s cycle
    voc = vocal_like(12.0) * swell
    bass = band_noise(40, 200, 12.0, seed=3, rms=0.1)
    s, bands = session_of({"v": (voc, "lead_vocal"), "b": (bass, "bass")})
    s.track("b").chain.fader_db = -4.0
    raw_peaks = {"v": 20 * np.log10(np.abs(voc).max()), "b": 20 * np.log10(np.abs(bass).max())}
    predicted, levels = MixModel(s, bands).mix_meters(raw_peaks)
    mix = to_stereo(voc, pan=0.0) + to_stereo(bass, pan=0.0, gain=10 ** (-4 / 20))
    real = measure(mix.astype(np.float32), SR)
    assert predicted.integrated_lufs == pytest.approx(real.integrated_lufs, abs=0.1)
    assert predicted.loudness_range_lu == pytest.approx(real.loudness_range_lu, abs=0.5)
    assert predicted.active_rms_dbfs == pytest.approx(real.active_rms_dbfs, abs=0.3)
    assert real.loudness_range_lu > 5.0  # the swell makes it a dynamic mix
    # uncorrelated peaks: never below the loudest part's peak, never above their coherent sum
    assert predicted.sample_peak_dbfs >= max(raw_peaks["v"] - 3.02, raw_peaks["b"] - 7.02)
    assert predicted.sample_peak_dbfs <= real.sample_peak_dbfs + 6.0
    assert len(levels) == pytest.approx(120, abs=2)
