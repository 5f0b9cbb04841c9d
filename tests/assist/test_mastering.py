"""Mastering assistant: tonal-balance EQ toward the target, glue compression, limiter, loudness."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixwise.analysis.levels import frame_stats
from mixwise.analysis.meters import integrated_loudness, measure
from mixwise.assist.mastering import (
    MAX_EQ_DB,
    MIN_BAND_DB,
    TONAL_TARGET,
    eq_response_db,
    suggest_master,
    target_db,
    tonal_distance_db,
)
from mixwise.dsp.biquad import sos_response_db
from mixwise.dsp.dynamics import Compressor
from mixwise.render.engine import filter_sos
from mixwise.session.edit import apply_suggestion
from mixwise.session.model import EQBand, Session

SR = 48_000
#: exact base-2 third-octave centres, 20 Hz - 20 kHz (the IEC nominal ones are rounded)
CENTRES = 1000.0 * 2.0 ** (np.arange(-17, 14) / 3)


def low_heavy(extra_db: float = 6.0) -> np.ndarray:
    """The target with ``extra_db`` too much below ~150 Hz, at an arbitrary offset."""
    return target_db(CENTRES) + extra_db / (1 + (CENTRES / 150.0) ** 4) - 37.0


def master_eq(session: Session, bands_db: np.ndarray):
    return [
        s
        for s in suggest_master(session, bands_db, CENTRES, target_lufs=-14.0, ceiling_dbtp=-1.0)
        if s.parameter == "master.eq"
    ]


def test_target_covers_the_iec_bands_with_a_falling_top_and_a_low_plateau():
    f = sorted(TONAL_TARGET)
    assert len(f) == 31 and f[0] == 20.0 and f[-1] == 20000.0
    assert TONAL_TARGET[1000.0] == 0.0
    above = [TONAL_TARGET[k] for k in f if k >= 100.0]
    assert all(a > b for a, b in itertools.pairwise(above))
    assert max(TONAL_TARGET, key=TONAL_TARGET.get) in (63.0, 80.0)
    # exact centres read the same as nominal ones
    assert target_db(np.array([1000.0 * 2 ** (-10 / 3)]))[0] == pytest.approx(
        TONAL_TARGET[100.0], abs=0.1
    )


def test_too_much_low_end_gets_a_low_shelf_cut_that_brings_it_closer():
    s = Session(sample_rate=SR)
    mix = low_heavy(6.0)
    (sug,) = master_eq(s, mix)
    bands = [EQBand.model_validate(b) for b in sug.new]
    assert 1 <= len(bands) <= 4
    assert all(MIN_BAND_DB <= abs(b.gain_db) <= MAX_EQ_DB for b in bands)
    assert all(0.5 <= b.q <= 1.0 for b in bands)
    shelves = [b for b in bands if b.type == "low_shelf"]
    assert shelves and shelves[0].gain_db <= -2.0 and shelves[0].freq_hz <= 300.0
    before = sug.evidence["tonal_distance_before_db"]
    after = sug.evidence["tonal_distance_after_db"]
    assert before == pytest.approx(tonal_distance_db(mix, CENTRES), abs=0.01)
    assert after < before - 0.5
    # the response the fit used is the one the renderer applies
    rendered = sos_response_db(filter_sos(SR, eq=bands), CENTRES, SR)
    np.testing.assert_allclose(eq_response_db(bands, CENTRES, SR), rendered, atol=1e-6)
    assert tonal_distance_db(mix + rendered, CENTRES) == pytest.approx(after, abs=0.01)
    apply_suggestion(s, sug)
    assert s.master.eq == bands


def test_a_bright_mix_is_darkened():
    tilt = 5.0 * np.clip(np.log2(CENTRES / 1000.0), 0, None) / 4  # +5 dB at 16 kHz
    mix = target_db(CENTRES) + tilt
    (sug,) = master_eq(Session(sample_rate=SR), mix)
    response = eq_response_db(sug.new, CENTRES, SR)
    at = dict(zip(np.round(CENTRES), response, strict=True))
    assert at[round(CENTRES[27])] - at[1000.0] < -1.0  # 10 kHz relative to 1 kHz
    assert sug.evidence["tonal_distance_after_db"] < sug.evidence["tonal_distance_before_db"]


@pytest.mark.parametrize("offset_db", [0.0, -41.0, 12.5])
def test_a_mix_on_target_gets_no_eq_at_any_offset(offset_db):
    assert master_eq(Session(sample_rate=SR), target_db(CENTRES) + offset_db) == []


def test_missing_sub_is_not_boosted():
    mix = target_db(CENTRES).copy()
    mix[CENTRES < 45.0] -= 30.0  # no content below 45 Hz at all
    sug = master_eq(Session(sample_rate=SR), mix)
    for s in sug:
        response = eq_response_db(s.new, CENTRES, SR)
        assert response[CENTRES < 45.0].max() < 1.0


def test_a_user_eq_is_left_alone():
    s = Session(sample_rate=SR)
    s.master.eq = [EQBand(type="peak", freq_hz=3000.0, gain_db=1.0)]
    assert master_eq(s, low_heavy()) == []


# --------------------------------------------------------------------------------------------
# glue compression


def dynamic_mix(seconds: float = 20.0) -> np.ndarray:
    """A mix with real level changes: a kick every 0.5 s, a bass and a sung line, with a quiet
    verse (-8 dB) and a loud chorus taking turns every 5 s, stereo."""
    rng = np.random.default_rng(0)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    k = int(0.3 * SR)
    tk = np.arange(k) / SR
    hit = np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-tk / 0.02)) / SR) * np.exp(-tk / 0.08)
    kick = np.zeros(n)
    for p in range(0, n - k, SR // 2):
        kick[p : p + k] += hit * 10 ** (rng.uniform(-4, 0) / 20)
    bass = 0.3 * np.sin(2 * np.pi * 55 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t) ** 2)
    voice = sum(np.sin(2 * np.pi * 220 * h * t) * 0.8**h for h in range(1, 20))
    section = np.where((t % 10) < 5, 10 ** (-8 / 20), 1.0)  # verse / chorus
    syllables = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 0.5
    x = (kick + 0.5 * bass + 0.1 * voice * syllables) * section
    return (0.25 * np.stack([x, x])).astype(np.float32)


def levels_100ms(x: np.ndarray) -> np.ndarray:
    p = frame_stats(np.ascontiguousarray(x), SR).pooled("mean", 100)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(p)


def glue(session: Session, x: np.ndarray, *, with_levels: bool):
    return [
        s
        for s in suggest_master(
            session,
            target_db(CENTRES),
            CENTRES,
            target_lufs=-14.0,
            ceiling_dbtp=-1.0,
            mix_meters=measure(x, SR),
            mix_levels=levels_100ms(x) if with_levels else None,
        )
        if s.parameter == "master.compressor"
    ]


@pytest.mark.parametrize("with_levels", [True, False])
def test_glue_compressor_does_one_to_two_db(with_levels):
    x = dynamic_mix()
    (sug,) = glue(Session(sample_rate=SR), x, with_levels=with_levels)
    c = sug.new
    assert 1.5 <= c["ratio"] <= 2.0 and c["attack_ms"] == 30.0 and c["release_ms"] == 200.0
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
    y = x.astype(np.float64)
    drop = integrated_loudness(y, SR) - integrated_loudness(comp.process(y), SR)
    assert 0.75 <= drop <= 2.5
    assert c["makeup_db"] == pytest.approx(drop, abs=1.0)


def test_a_dense_mix_gets_no_glue():
    t = np.arange(10 * SR) / SR
    chord = sum(np.sin(2 * np.pi * f * t) for f in (110.0, 138.6, 164.8, 220.0))  # sustained
    steady = (0.05 * np.stack([chord, chord])).astype(np.float32)
    assert glue(Session(sample_rate=SR), steady, with_levels=True) == []
    assert glue(Session(sample_rate=SR), dynamic_mix(), with_levels=True) != []


def test_limiter_and_loudness_follow_the_chosen_delivery():
    s = Session(sample_rate=SR)  # defaults: -14 LUFS, limiter on at -1 dBTP
    flat = target_db(CENTRES)
    assert suggest_master(s, flat, CENTRES, target_lufs=-14.0, ceiling_dbtp=-1.0) == []
    s.master.limiter.enabled = False
    sug = suggest_master(s, flat, CENTRES, target_lufs=-16.0, ceiling_dbtp=-2.0)
    assert {g.parameter: g.new for g in sug} == {
        "master.target_lufs": -16.0,
        "master.limiter.enabled": True,
        "master.limiter.ceiling_dbtp": -2.0,
    }
    for g in sug:
        apply_suggestion(s, g)
    assert s.master.target_lufs == -16.0 and s.master.limiter.ceiling_dbtp == -2.0
