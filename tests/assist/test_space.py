"""Space assistant: measured effect gains, and send levels that land the returns on target."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from mixwise.analysis.meters import integrated_loudness, measure
from mixwise.assist.gain import suggest_gain_staging
from mixwise.assist.organise import setup_buses
from mixwise.assist.space import delay_gain_lu, reverb_gain_lu, suggest_space
from mixwise.render.engine import RenderOptions, render
from mixwise.session.edit import apply_suggestion
from mixwise.session.model import (
    Chain,
    Delay,
    Master,
    Reverb,
    Session,
    SourceFile,
    Track,
)
from signals import read_wav

SR = 48_000


def reference_tone(seconds: float = 20.0) -> np.ndarray:
    """The calibration reference: a sustained sung-like tone, 220 Hz with 5 % vibrato at
    0.7 Hz, harmonics 1-29 at 1/k, through a 300-3500 Hz formant band plus 30 % unfiltered."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    phase = 2 * np.pi * np.cumsum(220.0 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 30))
    x = sosfilt(butter(2, [300, 3500], "bandpass", fs=SR, output="sos"), x) + 0.3 * x
    return (0.1 * x / np.std(x))[None].astype(np.float32)


def sung_phrases(seconds: float = 20.0, seed: int = 0) -> np.ndarray:
    """A test vocal unlike the reference: a 196 Hz tone with other formants, sung in
    syllables of varying level with gaps between them and between phrases."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    phase = 2 * np.pi * np.cumsum(196.0 * (1 + 0.03 * np.sin(2 * np.pi * 5.0 * t))) / SR
    x = sum(0.85**k * np.sin(k * phase) for k in range(1, 40))
    x = sosfilt(butter(2, [500, 2500], "bandpass", fs=SR, output="sos"), x) + 0.5 * x
    env = np.zeros(n)
    pos = 0
    while pos < n:
        for _ in range(rng.integers(4, 9)):  # a phrase
            k = int(rng.uniform(0.15, 0.45) * SR)
            m = min(k, n - pos)
            env[pos : pos + m] = (np.sin(np.pi * np.arange(k) / k) ** 0.5)[:m] * rng.uniform(0.4, 1)
            pos += k + int(rng.uniform(0.02, 0.15) * SR)
            if pos >= n:
                break
        pos += int(rng.uniform(0.5, 1.5) * SR)
    y = x * env
    return (0.1 * y / np.sqrt(np.mean(y[env > 0] ** 2)))[None].astype(np.float32)


def snare_hits(seconds: float = 20.0) -> np.ndarray:
    """A snare on 2 and 4: a noise burst (50 ms) and a 190 Hz body (40 ms), once a second."""
    rng = np.random.default_rng(1)
    n = int(seconds * SR)
    k = int(0.25 * SR)
    t = np.arange(k) / SR
    hit = rng.standard_normal(k) * np.exp(-t / 0.05) + np.sin(2 * np.pi * 190 * t) * np.exp(
        -t / 0.04
    )
    y = np.zeros(n)
    for p in range(SR // 2, n - k, SR):
        y[p : p + k] += hit
    return (0.3 * y)[None].astype(np.float32)


def one_track(role: str, x: np.ndarray, **chain) -> Session:
    s = Session(
        sample_rate=SR,
        tracks=[
            Track(
                id="t",
                name="t",
                role=role,
                source=SourceFile(path="/t.wav", channels=x.shape[0]),
                chain=Chain(**chain),
            )
        ],
        master=Master(target_lufs=None),
    )
    setup_buses(s)  # reverb and delay returns as the prep stage makes them
    return s


def returns_re_dry(s: Session, x: np.ndarray, tmp_path: Path) -> dict[str, float]:
    """Render; loudness (LU) of each aux return relative to the track's dry output."""
    r = render(s, {"t": x}, tmp_path, options=RenderOptions(write_master=False))
    dry = integrated_loudness(read_wav(r.stem_paths["t"])[0], SR)
    return {
        name.removeprefix("_return_"): integrated_loudness(read_wav(p)[0], SR) - dry
        for name, p in r.stem_paths.items()
        if name.startswith("_return_")
    }


def send_to(s: Session, bus: str, level_db: float) -> None:
    for snd in s.tracks[0].chain.sends:
        if snd.bus == bus:
            snd.level_db = level_db


# --------------------------------------------------------------------------------------------
# the calibrations re-measured


@pytest.mark.parametrize(
    ("decay_s", "damping"), [(1.6, 0.0), (1.6, 0.5), (1.6, 1.0), (0.8, 0.5), (3.0, 0.5)]
)
def test_reverb_gain_calibration_is_current(tmp_path, decay_s, damping):
    x = reference_tone()
    s = one_track("lead_vocal", x)
    s.bus("reverb").effect = Reverb(decay_s=decay_s, damping=damping)
    send_to(s, "reverb", 0.0)
    measured = returns_re_dry(s, x, tmp_path)["reverb"]
    assert measured == pytest.approx(reverb_gain_lu(s.bus("reverb").effect), abs=1.0)


@pytest.mark.parametrize(
    ("feedback", "damping_hz"), [(0.0, 6000.0), (0.3, 6000.0), (0.6, 3000.0), (0.3, 12000.0)]
)
def test_delay_gain_calibration_is_current(tmp_path, feedback, damping_hz):
    x = reference_tone()
    s = one_track("lead_vocal", x)
    s.bus("delay").effect = Delay(feedback=feedback, damping_hz=damping_hz)
    send_to(s, "delay", 0.0)
    measured = returns_re_dry(s, x, tmp_path)["delay"]
    assert measured == pytest.approx(delay_gain_lu(s.bus("delay").effect), abs=1.0)


# --------------------------------------------------------------------------------------------
# suggestions


def _suggest_and_apply(s: Session, x: np.ndarray, activity=None):
    meters = {"t": measure(x, SR)}
    for g in suggest_gain_staging(s, meters):
        apply_suggestion(s, g)
    before = s.model_dump()
    sug = suggest_space(s, meters, activity)
    assert s.model_dump() == before  # suggesting changes nothing
    for g in sug:
        apply_suggestion(s, g)
    return sug


def test_vocal_reverb_returns_9_lu_under_the_dry_voice(tmp_path):
    x = sung_phrases()
    s = one_track("lead_vocal", x)
    sug = _suggest_and_apply(s, x)
    params = {g.parameter for g in sug}
    assert params == {"tracks[t].chain.sends[0].level_db", "tracks[t].chain.sends[1].level_db"}
    rel = returns_re_dry(s, x, tmp_path)
    assert rel["reverb"] == pytest.approx(-9.0, abs=1.5)
    assert rel["delay"] == pytest.approx(-18.0, abs=2.0)  # a touch of delay, under the reverb


def test_pre_fader_send_follows_the_dry_signal_after_the_fader(tmp_path):
    x = sung_phrases(seed=2)
    s = one_track("lead_vocal", x, fader_db=-8.0)
    s.tracks[0].chain.sends[0].pre_fader = True
    _suggest_and_apply(s, x)
    post = one_track("lead_vocal", x, fader_db=-8.0)
    _suggest_and_apply(post, x)
    pre_level = s.tracks[0].chain.sends[0].level_db
    assert pre_level == pytest.approx(post.tracks[0].chain.sends[0].level_db - 8.0, abs=0.05)
    assert returns_re_dry(s, x, tmp_path)["reverb"] == pytest.approx(-9.0, abs=1.5)


def test_sparse_snare_gets_its_return_on_target_with_the_duty_correction(tmp_path):
    x = snare_hits()
    s = one_track("snare", x)
    (sug,) = _suggest_and_apply(s, x, activity={"t": 1.0})
    assert sug.evidence["duty_correction_db"] > 3.0
    rel = returns_re_dry(s, x, tmp_path)
    assert rel["reverb"] == pytest.approx(sug.evidence["return_target_lu"], abs=2.0)
    assert sug.evidence["return_target_lu"] < -10.0  # drier than a vocal


@pytest.mark.parametrize("role", ["kick", "bass", "hihat", "cymbals", "fx"])
def test_low_end_and_cymbals_get_no_reverb(role):
    x = reference_tone(5.0)
    s = one_track(role, x)
    assert suggest_space(s, {"t": measure(x, SR)}) == []


def test_busy_parts_in_a_dense_arrangement_get_less():
    x = reference_tone(5.0)
    meters = {"t": measure(x, SR)}
    s = one_track("keys", x)

    def level(activity):
        (g,) = suggest_space(s, meters, activity)
        return g.new

    sparse = level({"t": 0.3})
    busy = level({"t": 1.0})
    dense = level({"t": 1.0, **{f"o{i}": 1.0 for i in range(12)}})
    assert sparse > busy + 2.5 > dense + 4.0


def test_missing_send_is_added_and_the_filters_switched_on():
    x = reference_tone(5.0)
    s = one_track("lead_vocal", x)
    s.tracks[0].chain.sends = []
    s.bus("reverb").chain.high_pass.enabled = False
    sug = {g.parameter: g for g in suggest_space(s, {"t": measure(x, SR)})}
    assert set(sug) == {"tracks[t].chain.sends", "buses[reverb].chain.high_pass"}
    assert [d["bus"] for d in sug["tracks[t].chain.sends"].new] == ["reverb", "delay"]
    assert sug["buses[reverb].chain.high_pass"].new["freq_hz"] == 200.0
    for g in sug.values():
        apply_suggestion(s, g)
    assert [snd.bus for snd in s.tracks[0].chain.sends] == ["reverb", "delay"]
    assert all(math.isfinite(snd.level_db) for snd in s.tracks[0].chain.sends)
    # sends already set are kept: nothing more to suggest
    assert suggest_space(s, {"t": measure(x, SR)}) == []


def test_tempo_times_the_reverb_and_delay():
    x = reference_tone(5.0)
    s = one_track("lead_vocal", x)
    sug = {g.parameter: g.new for g in suggest_space(s, {"t": measure(x, SR)}, tempo_bpm=100)}
    assert sug["buses[delay].effect.time_left_ms"] == pytest.approx(450.0)
    assert sug["buses[delay].effect.time_right_ms"] == pytest.approx(600.0)
    assert sug["buses[reverb].effect.predelay_ms"] == pytest.approx(37.5)
    assert sug["buses[reverb].effect.decay_s"] == pytest.approx(1.8)
    # at 120 BPM the default delay times (375 / 500 ms) already fit
    at_120 = {g.parameter for g in suggest_space(s, {"t": measure(x, SR)}, tempo_bpm=120)}
    assert not any("time_" in p for p in at_120)
