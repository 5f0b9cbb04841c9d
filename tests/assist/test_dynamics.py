"""Dynamics assistant: compressor settings from measured dynamics, makeup = measured reduction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixwise.analysis.levels import frame_stats
from mixwise.analysis.meters import Meters, integrated_loudness, measure
from mixwise.assist.dynamics import (
    expected_gain_reduction_db,
    suggest_compression,
    suggest_drum_bus,
)
from mixwise.dsp.dynamics import Compressor
from mixwise.dsp.pan import place
from mixwise.session.edit import apply_suggestion
from mixwise.session.model import Bus, Chain, Session, SourceFile, Track

SR = 48_000


# --------------------------------------------------------------------------------------------
# synthetic stems (mono, float32, shape (1, n))


def _harmonic(n: int, f0_hz: float = 220.0) -> np.ndarray:
    t = np.arange(n) / SR
    phase = 2 * np.pi * np.cumsum(f0_hz * (1 + 0.03 * np.sin(2 * np.pi * 0.5 * t))) / SR
    x = sum(0.8**k * np.sin(k * phase) for k in range(1, 25))
    return x / np.std(x)


def sung_line(
    seconds: float = 20.0,
    *,
    syllable_db: tuple[float, float] = (0.0, 0.0),
    phrase_db: tuple[float, float] = (0.0, 0.0),
    gap: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """Syllables (120-350 ms) of a harmonic tone in 2-4 s phrases; each syllable and phrase
    gets a random level drawn from the given ranges (dB), so wider ranges = more dynamic."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    env = np.zeros(n)
    pos = end = 0
    level = 1.0
    while pos < n:
        if pos >= end:
            level = 10 ** (rng.uniform(*phrase_db) / 20)
            end = pos + int(rng.uniform(2, 4) * SR)
            pos += int(0.4 * SR)
            continue
        k = int(rng.uniform(0.12, 0.35) * SR)
        a = level * 10 ** (rng.uniform(*syllable_db) / 20)
        m = min(k, n - pos)
        env[pos : pos + m] = (np.sin(np.pi * np.arange(k) / k) ** 0.7 * a)[:m]
        pos += k + int(rng.uniform(0.2, 1.0) * gap * SR)
    y = _harmonic(n) * env
    return (y / np.sqrt(np.mean(y[env > 0] ** 2)) * 0.1)[None].astype(np.float32)


def drum_hits(
    seconds: float = 20.0, *, velocity_db: tuple[float, float] = (-6.0, 0.0), seed: int = 0
) -> np.ndarray:
    """A kick: a 150 -> 50 Hz sweep decaying over ~80 ms, twice a second, random velocity."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n)
    k = int(0.3 * SR)
    t = np.arange(k) / SR
    hit = np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t / 0.02)) / SR) * np.exp(-t / 0.08)
    for p in range(0, n - k, SR // 2):
        y[p : p + k] += hit * 10 ** (rng.uniform(*velocity_db) / 20)
    return (0.5 * y)[None].astype(np.float32)


def bass_line(seconds: float = 20.0, *, seed: int = 0) -> np.ndarray:
    """Plucked bass notes (41-82 Hz, three harmonics, 0.6 s decay), velocities -8..0 dB."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n)
    pos = 0
    while pos < n:
        k = int(rng.choice([0.25, 0.5, 1.0]) * SR)
        f = rng.choice([41.2, 55.0, 61.7, 73.4, 82.4])
        t = np.arange(k) / SR
        note = sum(a * np.sin(2 * np.pi * h * f * t) for h, a in ((1, 1), (2, 0.5), (3, 0.2)))
        note *= np.exp(-t / 0.6) * np.minimum(1, t / 0.005) * np.minimum(1, (k - t * SR) / 480)
        m = min(k, n - pos)
        y[pos : pos + m] += note[:m] * 10 ** (rng.uniform(-8, 0) / 20)
        pos += k
    return (0.3 * y)[None].astype(np.float32)


def pad(seconds: float = 20.0) -> np.ndarray:
    """A steady sustained chord tone: no dynamics to speak of."""
    return (0.1 * _harmonic(int(seconds * SR)))[None].astype(np.float32)


def levels_100ms(x: np.ndarray) -> np.ndarray:
    """RMS (dBFS) of 100 ms blocks, -inf where silent."""
    p = frame_stats(np.ascontiguousarray(x), SR).pooled("mean", 100)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(p)


def session_for(stems: dict[str, tuple[str, np.ndarray]], *, bus: str | None = None) -> Session:
    """One track per stem (id -> (role, audio)), trimmed to -23 LUFS as gain staging does."""
    tracks = []
    for tid, (role, x) in stems.items():
        trim = round(-23.0 - integrated_loudness(x, SR), 2)
        tracks.append(
            Track(
                id=tid,
                name=tid,
                role=role,
                bus=bus,
                source=SourceFile(path=f"/{tid}.wav", channels=x.shape[0]),
                chain=Chain(trim_db=trim),
            )
        )
    buses = [Bus(id=bus, name=bus.title(), kind="group")] if bus else []
    return Session(sample_rate=SR, tracks=tracks, buses=buses)


def loudness_drop_db(x: np.ndarray, comp: dict, trim_db: float) -> float:
    """Loudness (LU) the compressor takes away from the trimmed stem, makeup left out."""
    y = x.astype(np.float64) * 10 ** (trim_db / 20)
    c = Compressor(
        sample_rate=SR,
        channels=x.shape[0],
        threshold_db=comp["threshold_db"],
        ratio=comp["ratio"],
        attack_ms=comp["attack_ms"],
        release_ms=comp["release_ms"],
        knee_db=comp["knee_db"],
        detector=comp["detector"],
    )
    return integrated_loudness(y, SR) - integrated_loudness(c.process(y), SR)


@pytest.fixture(scope="module")
def stems() -> dict[str, np.ndarray]:
    return {
        "vocal_dynamic": sung_line(syllable_db=(-8, 0), phrase_db=(-10, 0)),
        "vocal_even": sung_line(syllable_db=(-4, 0), phrase_db=(-4, 0), seed=1),
        "vocal_dense": sung_line(syllable_db=(-1, 0), gap=0.02, seed=2),
        "kick": drum_hits(),
        "bass": bass_line(),
        "pad": pad(),
    }


def _one(session: Session, meters: dict[str, Meters], levels=None) -> dict[str, dict]:
    return {
        s.parameter.split("]")[0].split("[")[1]: s.new
        for s in suggest_compression(session, meters, levels)
    }


# --------------------------------------------------------------------------------------------


def test_expected_reduction_of_a_steady_level_is_the_static_curve():
    levels = np.full(50, -10.0)
    gr = expected_gain_reduction_db(
        levels, threshold_db=-20.0, ratio=4.0, knee_db=0.0, release_ms=100.0, detector_offset_db=0
    )
    assert gr == pytest.approx(10.0 * (1 - 1 / 4), abs=1e-9)
    # below the threshold nothing happens; silence does not count
    quiet = np.array([-30.0, -np.inf, -25.0])
    assert (
        expected_gain_reduction_db(
            quiet,
            threshold_db=-20.0,
            ratio=4.0,
            knee_db=0.0,
            release_ms=100.0,
            detector_offset_db=0,
        )
        == 0.0
    )


def test_release_holds_the_reduction_after_a_loud_block():
    levels = np.array([-10.0] + [-25.0] * 9)
    kw = dict(threshold_db=-20.0, ratio=4.0, knee_db=0.0, detector_offset_db=0.0)
    fast = expected_gain_reduction_db(levels, release_ms=1.0, **kw)
    slow = expected_gain_reduction_db(levels, release_ms=300.0, **kw)
    assert slow > fast + 0.1


def test_dynamic_vocal_gets_more_ratio_and_a_lower_threshold_than_an_even_one(stems):
    s = session_for(
        {"dyn": ("lead_vocal", stems["vocal_dynamic"]), "even": ("lead_vocal", stems["vocal_even"])}
    )
    meters = {
        t.id: measure(stems[f"vocal_{'dynamic' if t.id == 'dyn' else 'even'}"], SR)
        for t in s.tracks
    }
    sug = {x.parameter: x for x in suggest_compression(s, meters)}
    dyn = sug["tracks[dyn].chain.compressor"]
    even = sug["tracks[even].chain.compressor"]
    assert dyn.new["ratio"] > even.new["ratio"]
    assert 2.5 <= even.new["ratio"] < dyn.new["ratio"] <= 4.0
    # thresholds relative to the level entering the compressor (active RMS + trim)
    rel_dyn = dyn.new["threshold_db"] - dyn.evidence["entering_level_dbfs"]
    rel_even = even.new["threshold_db"] - even.evidence["entering_level_dbfs"]
    assert rel_dyn < rel_even - 1.0
    assert dyn.evidence["dynamics_score"] > even.evidence["dynamics_score"]


def test_dense_tracks_and_pads_get_no_compressor(stems):
    s = session_for(
        {
            "vox": ("lead_vocal", stems["vocal_dense"]),
            "pad": ("pad", stems["pad"]),
            "pad2": ("lead_vocal", stems["pad"]),
        }
    )
    meters = {
        "vox": measure(stems["vocal_dense"], SR),
        "pad": measure(stems["pad"], SR),
        "pad2": measure(stems["pad"], SR),
    }
    assert suggest_compression(s, meters) == []
    # the same role with a dynamic part does get one: the rule is the dynamics, not the role
    s2 = session_for({"vox": ("lead_vocal", stems["vocal_dynamic"])})
    assert len(suggest_compression(s2, {"vox": measure(stems["vocal_dynamic"], SR)})) == 1


def test_kick_keeps_its_transient_with_a_slow_attack(stems):
    s = session_for({"kick": ("kick", stems["kick"])})
    lv = {"kick": levels_100ms(stems["kick"])}
    (sug,) = suggest_compression(s, {"kick": measure(stems["kick"], SR)}, lv)
    assert 10.0 <= sug.new["attack_ms"] <= 30.0
    assert 3.0 <= sug.new["ratio"] <= 4.0


@pytest.mark.parametrize("with_levels", [True, False])
@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("vocal_dynamic", "lead_vocal"),
        ("vocal_even", "backing_vocal"),
        ("bass", "bass"),
        ("kick", "kick"),
    ],
)
def test_makeup_matches_the_measured_gain_reduction(stems, name, role, with_levels):
    x = stems[name]
    s = session_for({"t": (role, x)})
    levels = {"t": levels_100ms(x)} if with_levels else None
    (sug,) = suggest_compression(s, {"t": measure(x, SR)}, levels)
    drop = loudness_drop_db(x, sug.new, s.tracks[0].chain.trim_db)
    assert drop > 0.5
    assert sug.new["makeup_db"] == pytest.approx(drop, abs=1.0)


def test_suggestions_apply_and_leave_the_session_untouched(stems):
    s = session_for(
        {"vox": ("lead_vocal", stems["vocal_dynamic"]), "bass": ("bass", stems["bass"])}
    )
    meters = {"vox": measure(stems["vocal_dynamic"], SR), "bass": measure(stems["bass"], SR)}
    before = s.model_dump()
    sug = suggest_compression(s, meters)
    assert s.model_dump() == before
    assert {x.parameter for x in sug} == {
        "tracks[vox].chain.compressor",
        "tracks[bass].chain.compressor",
    }
    for x in sug:
        apply_suggestion(s, x)
        assert x.reason and x.unit == "compressor"
        assert all(k.endswith(("_db", "_dbfs", "_lu", "_score", "_used")) for k in x.evidence)
    comp = s.track("vox").chain.compressor
    assert comp.enabled and comp.detector == "rms" and comp.makeup_db > 0
    # a compressor the user switched on already is left alone
    assert suggest_compression(s, meters) == []


def _bus_sum(session: Session, audio: dict[str, np.ndarray]) -> np.ndarray:
    """The drum bus input as the renderer builds it: each track trimmed, faded and panned."""
    total = 0.0
    for t in session.tracks:
        g = 10 ** ((t.chain.trim_db + t.chain.fader_db) / 20)
        total = total + place(audio[t.id].astype(np.float64) * g, pan=t.chain.pan)
    return total


@pytest.mark.parametrize("with_levels", [True, False])
def test_drum_bus_glue_does_two_or_three_db(with_levels):
    kick = drum_hits(velocity_db=(-8, 0), seed=3)
    snare = np.roll(drum_hits(velocity_db=(-8, 0), seed=4), SR // 4, axis=1)  # the backbeat
    s = session_for({"kick": ("kick", kick), "snare": ("snare", snare)}, bus="drums")
    s.tracks[1].chain.pan = 0.2
    audio = {"kick": kick, "snare": snare}
    meters = {k: measure(v, SR) for k, v in audio.items()}
    levels = {k: levels_100ms(v) for k, v in audio.items()} if with_levels else None
    (sug,) = suggest_drum_bus(s, meters, levels)
    c = sug.new
    assert sug.parameter == "buses[drums].chain.compressor"
    assert c["ratio"] == 2.0 and c["attack_ms"] == 30.0 and 100.0 <= c["release_ms"] <= 200.0
    assert c["threshold_db"] < sug.evidence["bus_level_dbfs"]
    x = _bus_sum(s, audio)
    comp = Compressor(
        sample_rate=SR,
        channels=2,
        threshold_db=c["threshold_db"],
        ratio=c["ratio"],
        attack_ms=c["attack_ms"],
        release_ms=c["release_ms"],
        knee_db=c["knee_db"],
        detector=c["detector"],
    )
    drop = integrated_loudness(x, SR) - integrated_loudness(comp.process(x), SR)
    assert 1.0 <= drop <= 3.5
    assert c["makeup_db"] == pytest.approx(drop, abs=1.0)
    apply_suggestion(s, sug)
    assert s.bus("drums").chain.compressor.enabled


def test_drum_bus_needs_two_drum_tracks():
    kick = drum_hits()
    s = session_for({"kick": ("kick", kick)}, bus="drums")
    assert suggest_drum_bus(s, {"kick": measure(kick, SR)}) == []
    assert suggest_drum_bus(session_for({"kick": ("kick", kick)}), {}) == []  # no bus at all
    assert math.isfinite(measure(kick, SR).active_rms_dbfs)
