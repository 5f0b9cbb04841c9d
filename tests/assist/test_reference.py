"""Steering the master toward a reference: the EQ fit, the closed-loop refit, the compressor,
and the stereo width of the tracks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mixwise.analysis.compare import in_range, profile, tonal_distance_db
from mixwise.analysis.meters import loudness_range
from mixwise.assist.mastering import eq_response_db
from mixwise.assist.reference import (
    CENTRED_ROLES,
    MISSING_DB,
    WIDTH_RANGE_HZ,
    reference_layout,
    reference_master,
    reference_width,
    refine_reference_master,
)
from mixwise.dsp.biquad import sos_response_db
from mixwise.dsp.dynamics import Compressor as CompressorDSP
from mixwise.dsp.pan import place
from mixwise.errors import ParameterError
from mixwise.render.engine import filter_sos
from mixwise.session.edit import apply_suggestion
from mixwise.session.model import Compressor, EQBand, Session, SourceFile, Track

SR = 48_000


def pink(seconds: float = 3.0, *, seed: int = 0, channels: int = 2, sr: int = SR) -> np.ndarray:
    """Pink noise, independent channels, RMS 0.1."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    spec = np.fft.rfft(rng.standard_normal((channels, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / sr)
    f[0] = f[1]
    x = np.fft.irfft(spec / np.sqrt(f), n=n, axis=1)
    return (x / np.std(x) * 0.1).astype(np.float32)


@pytest.fixture(scope="module")
def ref():
    return profile(pink(seed=11), SR)


def octaves(c: np.ndarray, f: float) -> np.ndarray:
    return np.log2(c / f)


DEVIATIONS = {
    # a mix 1.2 dB/octave too dark
    "tilt": lambda c: -1.2 * octaves(c, 1000.0),
    # boomy low mids and a dull top
    "boom_dull": lambda c: (
        4.0 * np.exp(-0.5 * (octaves(c, 250.0) / 0.6) ** 2) - 4.0 / (1.0 + (c / 6000.0) ** -3)
    ),
    # too much low end below 120 Hz, a honky 1 kHz
    "bass_honk": lambda c: (
        5.0 / (1.0 + (c / 120.0) ** 3) + 3.0 * np.exp(-0.5 * (octaves(c, 1000.0) / 0.4) ** 2)
    ),
}


def eq_of(suggestions) -> list[EQBand]:
    (s,) = [s for s in suggestions if s.parameter == "master.eq"]
    assert s.task == "master" and s.target == "master" and s.unit == "EQ bands"
    return [EQBand.model_validate(b) for b in s.new]


def rendered_db(bands: list[EQBand], c: np.ndarray) -> np.ndarray:
    """The response the renderer applies (its own filter design), at ``c`` (Hz)."""
    return sos_response_db(filter_sos(SR, eq=bands), c, SR)


@pytest.mark.parametrize("shape", list(DEVIATIONS))
def test_the_master_eq_halves_the_tonal_distance_within_its_limits(ref, shape):
    c = ref.centres_hz
    mix = ref.bands_db + DEVIATIONS[shape](c) - 31.0  # any offset
    sug = reference_master(Session(sample_rate=SR), mix, c, ref)
    bands = eq_of(sug)
    assert 1 <= len(bands) <= 8
    assert all(abs(b.gain_db) <= 6.0 for b in bands)
    assert {b.type for b in bands} <= {"peak", "low_shelf", "high_shelf"}
    before = tonal_distance_db(mix, ref.bands_db, c)
    after = tonal_distance_db(mix + rendered_db(bands, c), ref.bands_db, c)
    assert before > 1.0
    assert after <= 0.5 * before, (shape, before, after)
    (s,) = [s for s in sug if s.parameter == "master.eq"]
    assert s.evidence["tonal_distance_before_db"] == pytest.approx(before, abs=0.01)
    assert s.evidence["tonal_distance_after_db"] == pytest.approx(after, abs=0.01)
    assert "toward the reference" in s.reason


@pytest.mark.parametrize(("max_bands", "max_gain_db"), [(2, 6.0), (4, 2.0), (12, 3.0)])
def test_the_band_count_and_gain_limits_hold(ref, max_bands, max_gain_db):
    c = ref.centres_hz
    mix = ref.bands_db + DEVIATIONS["boom_dull"](c) + 2.0 * DEVIATIONS["tilt"](c)
    sug = reference_master(
        Session(sample_rate=SR), mix, c, ref, max_bands=max_bands, max_gain_db=max_gain_db
    )
    bands = eq_of(sug)
    assert 1 <= len(bands) <= max_bands
    assert all(abs(b.gain_db) <= max_gain_db + 1e-9 for b in bands)
    after = tonal_distance_db(mix + rendered_db(bands, c), ref.bands_db, c)
    assert after < tonal_distance_db(mix, ref.bands_db, c) - 0.3


def test_a_mix_like_the_reference_gets_no_eq_and_no_compressor(ref):
    mix_profile = ref
    sug = reference_master(
        Session(sample_rate=SR), ref.bands_db + 7.5, ref.centres_hz, ref, mix=mix_profile
    )
    assert sug == []


def test_what_the_mix_lacks_is_not_boosted(ref):
    c = ref.centres_hz
    mix = ref.bands_db + DEVIATIONS["tilt"](c)
    gone = c >= 12_000.0
    mix[gone] -= MISSING_DB + 18.0  # nothing up there: a low-passed mix
    bands = eq_of(reference_master(Session(sample_rate=SR), mix, c, ref))
    response = rendered_db(bands, c)
    assert response[gone].max() < 1.0
    # the rest is still corrected
    keep = in_range(c) & ~gone
    before = tonal_distance_db(mix[keep], ref.bands_db[keep], c[keep])
    after = tonal_distance_db((mix + response)[keep], ref.bands_db[keep], c[keep])
    assert after < 0.6 * before


def test_the_suggestion_replaces_the_master_eq_and_applies(ref):
    c = ref.centres_hz
    session = Session(sample_rate=SR)
    session.master.eq = [EQBand(type="high_shelf", freq_hz=8000.0, gain_db=2.0)]
    old = [b.model_dump(mode="json") for b in session.master.eq]
    sug = reference_master(session, ref.bands_db + DEVIATIONS["tilt"](c), c, ref)
    (s,) = [s for s in sug if s.parameter == "master.eq"]
    assert s.old == old
    apply_suggestion(session, s)
    assert session.master.eq == [EQBand.model_validate(b) for b in s.new]
    assert session.history[-1].parameter == "master.eq"


def test_the_closed_loop_refit_takes_off_what_the_chain_did(ref):
    """The master measured after the first fit carries an extra tilt the limiter made; the
    refit on that measurement brings the master itself to the reference."""
    c = ref.centres_hz
    session = Session(sample_rate=SR)
    mix = ref.bands_db + DEVIATIONS["bass_honk"](c)
    first = eq_of(reference_master(session, mix, c, ref))
    session.master.eq = first
    chain = -2.5 / (1.0 + (c / 800.0) ** 2)  # the limiter lowered the hits' low bands
    measured = mix + eq_response_db(first, c, SR) + chain
    master = dataclasses.replace(ref, bands_db=measured)
    before = tonal_distance_db(measured, ref.bands_db, c)
    refit = eq_of(refine_reference_master(session, master, ref))
    after = tonal_distance_db(mix + chain + rendered_db(refit, c), ref.bands_db, c)
    assert before > 0.8
    assert after <= 0.5 * before
    # a master already on the reference needs no new EQ
    on_target = dataclasses.replace(
        ref, bands_db=ref.bands_db + eq_response_db(first, c, SR) - eq_response_db(first, c, SR)
    )
    assert refine_reference_master(session, on_target, ref) == []


# --------------------------------------------------------------------------------------------
# the compressor

LOW_SR = 16_000  # loudness range needs several seconds; a low rate keeps this quick


def sections(seconds: float, swing_db: float, seed: int) -> np.ndarray:
    """Noise whose level alternates by ``swing_db`` every 3 s (a verse/chorus swing)."""
    x = pink(seconds, seed=seed, sr=LOW_SR)
    t = np.arange(x.shape[1]) / LOW_SR
    gain = np.where((t // 3.0) % 2 == 0, 10 ** (-swing_db / 20), 1.0)
    return (x * gain).astype(np.float32)


def compressor_of(suggestions) -> dict:
    (s,) = [s for s in suggestions if s.parameter == "master.compressor"]
    assert s.task == "master"
    return s.new


def test_a_steadier_reference_gets_a_gentle_slow_compressor_that_narrows_the_range():
    mix_audio = sections(18.0, 10.0, seed=1)
    mix = profile(mix_audio, LOW_SR)
    ref = profile(sections(18.0, 1.0, seed=2), LOW_SR)
    assert mix.loudness_range_lu - ref.loudness_range_lu > 6.0
    session = Session(sample_rate=LOW_SR)
    new = Compressor.model_validate(
        compressor_of(reference_master(session, mix.bands_db, mix.centres_hz, ref, mix=mix))
    )
    assert new.enabled and new.detector == "rms"
    assert 1.5 <= new.ratio <= 2.5 and new.attack_ms >= 20.0 and new.release_ms >= 200.0
    # what the compressor really does to the mix: the loudness range shrinks toward the ref
    dsp = CompressorDSP(
        sample_rate=LOW_SR,
        channels=2,
        **new.model_dump(exclude={"enabled"}),
    )
    squeezed = dsp.process(mix_audio.astype(np.float64))
    lra_after = loudness_range(squeezed, LOW_SR)
    assert lra_after < mix.loudness_range_lu - 1.5
    assert lra_after > ref.loudness_range_lu  # gentle: part of the way


def test_a_more_dynamic_reference_switches_the_master_compressor_off():
    mix = profile(sections(18.0, 1.0, seed=3), LOW_SR)
    ref = profile(sections(18.0, 10.0, seed=4), LOW_SR)
    session = Session(sample_rate=LOW_SR)
    session.master.compressor = Compressor(enabled=True, threshold_db=-20.0, ratio=2.0)
    new = compressor_of(reference_master(session, mix.bands_db, mix.centres_hz, ref, mix=mix))
    assert new["enabled"] is False and new["ratio"] == 2.0
    # without a profile of the mix, nothing is said about dynamics
    sug = reference_master(session, mix.bands_db, mix.centres_hz, ref)
    assert not [s for s in sug if s.parameter == "master.compressor"]


def test_match_loudness_sets_the_target_to_the_reference(ref):
    sug = reference_master(
        Session(sample_rate=SR), ref.bands_db, ref.centres_hz, ref, match_loudness=True
    )
    (s,) = [s for s in sug if s.parameter == "master.target_lufs"]
    assert s.new == pytest.approx(round(ref.integrated_lufs, 1))


# --------------------------------------------------------------------------------------------
# width


def track(tid: str, role: str, channels: int, *, width: float = 1.0) -> Track:
    t = Track(
        id=tid,
        name=tid,
        role=role,
        source=SourceFile(path=f"{tid}.wav", channels=channels, sample_rate=SR),
    )
    t.chain.width = width
    return t


def mixed(session: Session, stems: dict[str, np.ndarray]) -> np.ndarray:
    """The tracks summed through their fader, width and pan (as the renderer places them)."""
    out = sum(
        place(stems[t.id], pan=t.chain.pan, width=t.chain.width, gain=10 ** (t.chain.fader_db / 20))
        for t in session.tracks
    )
    return np.asarray(out, dtype=np.float32)


def width_db(p) -> float:
    return p.region_width_db(in_range(p.centres_hz, WIDTH_RANGE_HZ))


def mono_ish(seed: int, side_db: float) -> np.ndarray:
    """A stereo signal whose side is ``side_db`` below its mid (independent noises)."""
    mid = pink(seed=seed, channels=1)[0]
    side = pink(seed=seed + 100, channels=1)[0] * 10 ** (side_db / 20)
    return np.stack([mid + side, mid - side]).astype(np.float32)


def test_a_narrower_reference_narrows_the_stereo_tracks_as_predicted():
    stems = {
        "pad": pink(seed=21),  # unrelated channels: side = mid
        "keys": pink(seed=22),
        "bass": pink(seed=23, channels=1),  # mono, centred
    }
    session = Session(
        sample_rate=SR,
        tracks=[track("pad", "pad", 2), track("keys", "keys", 2), track("bass", "bass", 1)],
    )
    session.track("keys").chain.fader_db = -4.0
    mix = profile(mixed(session, stems), SR)
    ref = profile(mono_ish(31, -8.0), SR)
    gap = width_db(ref) - width_db(mix)
    assert gap < -3.0
    sug = reference_width(session, stems, ref, mix=mix)
    assert sorted(s.parameter for s in sug) == [
        "tracks[keys].chain.width",
        "tracks[pad].chain.width",
    ]
    for s in sug:
        assert s.task == "pan" and 0.5 <= s.new < 1.0
        apply_suggestion(session, s)
    after = profile(mixed(session, stems), SR)
    change = width_db(after) - width_db(mix)
    assert change == pytest.approx(sug[0].evidence["predicted_change_db"], abs=0.5)
    assert abs(width_db(after) - width_db(ref)) < 0.5 * abs(gap)


def test_a_wider_reference_widens_but_leaves_the_centre_roles_alone():
    stems = {
        "kick": mono_ish(41, -12.0),
        "gtr": mono_ish(42, -12.0),
        "keys": mono_ish(43, -12.0),
    }
    session = Session(
        sample_rate=SR,
        tracks=[
            track("kick", "kick", 2),
            track("gtr", "electric_guitar", 2),
            track("keys", "keys", 2),
        ],
    )
    assert "kick" in CENTRED_ROLES
    mix = profile(mixed(session, stems), SR)
    ref = profile(mono_ish(44, -6.0), SR)
    sug = reference_width(session, stems, ref, mix=mix)
    targets = {s.parameter: s.new for s in sug}
    assert set(targets) == {"tracks[gtr].chain.width", "tracks[keys].chain.width"}
    assert all(1.0 < w <= 1.5 for w in targets.values())
    # and a mix as wide as the reference is left as it is
    assert reference_width(session, stems, mix, mix=mix) == []


# --------------------------------------------------------------------------------------------
# bad input


def test_bad_parameters_are_refused(ref):
    c = ref.centres_hz
    with pytest.raises(ParameterError, match="max_bands"):
        reference_master(Session(sample_rate=SR), ref.bands_db, c, ref, max_bands=0)
    with pytest.raises(ParameterError, match="max_gain_db"):
        reference_master(Session(sample_rate=SR), ref.bands_db, c, ref, max_gain_db=40.0)
    with pytest.raises(ParameterError, match="bands"):
        reference_master(Session(sample_rate=SR), ref.bands_db[:-1], c, ref)
    assert len(reference_layout(5)) == 5
