"""Tests of track role labelling: names, audio features, audio rules, combination, real data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from mixwise.analysis.roles import (
    FEATURE_NAMES,
    NAME_CONFIDENT,
    RoleGuess,
    audio_features,
    guess_role,
    guess_role_from_name,
    label_from_features,
    label_tracks,
)
from mixwise.errors import ParameterError
from mixwise.roles import ROLES, family_of
from signals import DATA_DIR, fades, noise, sine

SR = 44_100

# --------------------------------------------------------------------------------------------
# names

NAME_CASES = [
    # drums
    ("Kick In", "kick"),
    ("KD", "kick"),
    ("BD", "kick"),
    ("Bassdrum", "kick"),
    ("01_Kick Out.wav", "kick"),
    ("Bass Drum", "kick"),
    ("Grosse Caisse", "kick"),
    ("bombo", "kick"),
    ("Snr Top", "snare"),
    ("SN", "snare"),
    ("07 - Snare Bottom", "snare"),
    ("Caisse claire", "snare"),
    ("rullante", "snare"),
    ("Floor Tom", "toms"),
    ("Tom 2", "toms"),
    ("HH", "hihat"),
    ("HiHat", "hihat"),
    ("Hi-Hat", "hihat"),
    ("OH L", "cymbals"),
    ("Overheads", "cymbals"),
    ("OHs", "cymbals"),
    ("Ride", "cymbals"),
    ("Becken", "cymbals"),
    ("Room Mono", "room"),
    ("Shaker", "percussion"),
    ("Claps", "percussion"),
    ("Drums", "drum_loop"),
    ("Schlagzeug", "drum_loop"),
    ("batterie", "drum_loop"),
    ("Batería", "drum_loop"),
    ("Drum Loop 120bpm", "drum_loop"),
    # bass
    ("Bs", "bass"),
    ("Bass DI", "bass"),
    ("Bass Amp", "bass"),
    ("BassDI", "bass"),
    ("Synth Bass", "bass"),
    ("Bass Gtr", "bass"),
    ("basso", "bass"),
    ("Bajo", "bass"),
    # guitars
    ("Gtr DI", "electric_guitar"),
    ("E-Gtr", "electric_guitar"),
    ("Gitarre", "electric_guitar"),
    ("guitare", "electric_guitar"),
    ("guitarra", "electric_guitar"),
    ("chitarra", "electric_guitar"),
    ("Lead Gtr L", "electric_guitar"),
    ("Ac Gtr", "acoustic_guitar"),
    ("Acoustic Guitar", "acoustic_guitar"),
    ("AkustikGitarre", "acoustic_guitar"),
    # keys
    ("Keys", "keys"),
    ("Rhodes", "keys"),
    ("Organ", "keys"),
    ("06_E_Piano", "keys"),
    ("Orgel", "keys"),
    ("Pno", "piano"),
    ("Piano L", "piano"),
    ("Klavier", "piano"),
    # other
    ("Synth", "synth"),
    ("Synth Lead", "synth"),
    ("Pad", "pad"),
    ("Synth Pad", "pad"),
    ("Str", "strings"),
    ("Violin", "strings"),
    ("Streicher", "strings"),
    ("Brass", "brass_winds"),
    ("Tpt", "brass_winds"),
    ("Sax", "brass_winds"),
    ("Bass Clarinet", "brass_winds"),
    ("Riser FX", "fx"),
    ("Click", "other"),
    # vocals
    ("Vox", "lead_vocal"),
    ("Ld Vox", "lead_vocal"),
    ("Lead Vocal", "lead_vocal"),
    ("LeadVox", "lead_vocal"),
    ("VOX_LEAD", "lead_vocal"),
    ("Gesang", "lead_vocal"),
    ("Stimme", "lead_vocal"),
    ("voix", "lead_vocal"),
    ("voz", "lead_vocal"),
    ("voce", "lead_vocal"),
    ("BGV", "backing_vocal"),
    ("BVs", "backing_vocal"),
    ("Backing", "backing_vocal"),
    ("Backing Vocals", "backing_vocal"),
    ("BGVox", "backing_vocal"),
    ("Choir", "backing_vocal"),
    ("Chœurs", "backing_vocal"),
    ("Vox Dbl", "backing_vocal"),
    ("Harmony 2", "backing_vocal"),
    # data-set names
    ("13_bassslap01_ogg", "bass"),
    ("08_snare_acoustic01_ogg", "snare"),
    ("05_tom_low01_ogg", "toms"),
    ("08_Hat_Pedal", "hihat"),
    ("01_Dirty_World_BD", "kick"),
    ("BGVOX_SCATTER_OUTRO", "backing_vocal"),
]


@pytest.mark.parametrize(("name", "role"), NAME_CASES)
def test_name_known_answers(name: str, role: str) -> None:
    g = guess_role_from_name(name)
    assert g is not None, name
    assert (g.role, g.family) == (role, family_of(role)), name
    assert g.source == "name"
    assert g.confidence >= NAME_CONFIDENT, (name, g.confidence)
    assert g.role in ROLES


@pytest.mark.parametrize(
    "name", ["Audio 07", "track01", "Audio_1", "Untitled 3", "Bounce 2.wav", "Spur 5", ""]
)
def test_names_that_say_nothing(name: str) -> None:
    assert guess_role_from_name(name) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Bassdrum", "kick"),  # not "bass"
        ("Hatch", None),  # "hat" only as a whole word
        ("Subway", None),  # "sub" only as a whole word
        ("Kicker", None),
        ("Overheard", None),
        ("Bassoon", "brass_winds"),
        ("SNARE", "snare"),
        ("sNaRe", "snare"),
    ],
)
def test_words_match_whole_not_inside_words(name: str, expected: str | None) -> None:
    g = guess_role_from_name(name)
    assert (g.role if g else None) == expected


def test_ambiguous_names_are_not_confident() -> None:
    for name in ("Lead", "Texture", "Noise", "Fill Scratch"):
        g = guess_role_from_name(name)
        assert g is not None and g.confidence < NAME_CONFIDENT, name


def test_name_evidence_names_the_word() -> None:
    g = guess_role_from_name("07 - Ld Vox.wav")
    assert g is not None
    assert g.evidence["name_words"] == "ldvox"
    assert g.evidence["vocal_part"] == "lead"


# --------------------------------------------------------------------------------------------
# synthetic signals (stereo float32, faded edges)


def _fade(x: np.ndarray, ms: float = 5.0) -> np.ndarray:
    return x * fades(len(x), int(SR * ms / 1000))


def _stereo(x: np.ndarray) -> np.ndarray:
    return np.stack([x, x]).astype(np.float32)


def bass_line(seconds: float = 4.0) -> np.ndarray:
    """Eight notes between 55 and 98 Hz, four harmonics, gently decaying."""
    notes = [55.0, 73.42, 82.41, 98.0, 55.0, 65.41, 73.42, 82.41]
    n = int(SR * seconds / len(notes))
    t = np.arange(n) / SR
    parts = [
        _fade(sum(0.6 ** (k - 1) * np.sin(2 * np.pi * f * k * t) for k in range(1, 5)) * np.exp(-t))
        for f in notes
    ]
    return _stereo(0.3 * np.concatenate(parts))


def drum_loop(seconds: float = 4.0, bpm: float = 120.0) -> np.ndarray:
    """A kick (pitch falling 150 -> 50 Hz) on every beat, a noise burst on every off-beat."""
    rng = np.random.default_rng(1)
    x = np.zeros(int(SR * seconds))
    beat = int(SR * 60 / bpm)
    t = np.arange(int(0.3 * SR)) / SR
    kick = np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t / 0.03)) / SR) * np.exp(-t / 0.12)
    tn = np.arange(int(0.15 * SR)) / SR
    noise = rng.standard_normal(tn.size) * np.exp(-tn / 0.04)
    for i in range(0, x.size - kick.size, beat):
        x[i : i + kick.size] += kick
        j = i + beat // 2
        x[j : j + noise.size] += 0.5 * noise[: x.size - j]
    return _stereo(0.4 * x)


def hihats(seconds: float = 4.0, bpm: float = 120.0) -> np.ndarray:
    """Eighth-note bursts of noise above 7 kHz, 20 ms decay."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(2)
    x = np.zeros(int(SR * seconds))
    tn = np.arange(int(0.08 * SR)) / SR
    for i in range(0, x.size - tn.size, int(SR * 30 / bpm)):
        x[i : i + tn.size] += rng.standard_normal(tn.size) * np.exp(-tn / 0.02)
    return _stereo(0.3 * sosfilt(butter(4, 7000, "hp", fs=SR, output="sos"), x))


def melody(seconds: float = 4.0, vibrato_cents: float = 40.0, level: float = 0.2) -> np.ndarray:
    """Eight notes between 220 and 392 Hz, seven harmonics, 5.5 Hz vibrato."""
    notes = [220.0, 246.9, 261.6, 293.7, 329.6, 293.7, 261.6, 392.0]
    n = int(SR * seconds / len(notes))
    t = np.arange(n) / SR
    parts = []
    for k, f in enumerate(notes):
        inst = f * 2 ** (vibrato_cents / 1200 * np.sin(2 * np.pi * 5.5 * t + k))
        phase = 2 * np.pi * np.cumsum(inst) / SR
        parts.append(_fade(sum(np.sin(h * phase) / h for h in range(1, 8)), 30))
    return _stereo(level * np.concatenate(parts))


def test_bass_line_without_a_name_is_bass() -> None:
    g = guess_role("Audio 07", bass_line(), SR)
    assert (g.role, g.family, g.source) == ("bass", "bass", "audio")
    assert 0.3 <= g.confidence < NAME_CONFIDENT + 0.05
    assert g.evidence["low_share"] > 0.6
    assert g.evidence["pitch_glide_cents"] < 3.0
    assert 50.0 < g.evidence["f0_hz"] < 100.0


def test_drum_loop_without_a_name_is_drums() -> None:
    g = guess_role("track01", drum_loop(), SR)
    assert g.family == "drums"
    assert g.role in ("drum_loop", "kick")
    assert g.evidence["decay_db"] > 15.0
    assert 3.0 < g.evidence["onset_rate_hz"] < 5.0  # 4 hits per second at 120 bpm


def test_hihats_without_a_name_are_hihat() -> None:
    g = guess_role("Audio 3", hihats(), SR)
    assert (g.role, g.family) == ("hihat", "drums")
    assert g.evidence["high_share"] > 0.9
    assert g.evidence["onset_rate_hz"] > 6.0


def test_vibrato_melody_reads_as_a_voice() -> None:
    g = guess_role("Audio 12", melody(), SR)
    assert g.family == "vocals"
    assert g.evidence["pitch_jitter_cents"] > 5.0
    assert 220.0 <= g.evidence["f0_hz"] <= 400.0


def test_steady_melody_is_not_a_voice() -> None:
    g = guess_role("Audio 12", melody(vibrato_cents=0.0), SR)
    assert g.family in ("other", "keys", "guitar")
    assert g.evidence["pitch_jitter_cents"] < 1.0


# --------------------------------------------------------------------------------------------
# features: known answers, shapes, purity


def test_sine_features_known_answers() -> None:
    f = audio_features(sine(440.0, seconds=2.0, sample_rate=SR, channels=2, fade_ms=5), SR)
    assert f["f0_hz"] == pytest.approx(440.0, rel=0.01)
    assert f["periodicity"] > 0.95
    assert f["centroid_hz"] == pytest.approx(440.0, rel=0.05)
    assert f["low_share"] < 0.01
    assert f["level_dbfs"] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.5)
    assert f["crest_db"] == pytest.approx(3.0, abs=0.5)
    assert f["side_share"] == pytest.approx(0.0, abs=1e-9)
    assert f["active_share"] > 0.95


def test_low_sine_is_all_low_band() -> None:
    f = audio_features(sine(50.0, seconds=2.0, sample_rate=SR, fade_ms=5), SR)
    assert f["low_share"] > 0.95
    assert f["f0_hz"] == pytest.approx(50.0, rel=0.02)


def test_white_noise_is_noisy_and_unpitched() -> None:
    f = audio_features(noise(seconds=2.0, sample_rate=SR, rms=0.1, channels=2), SR)
    assert f["noisy_share"] > 0.9
    assert f["periodicity"] < 0.5
    assert f["high_share"] == pytest.approx((SR / 2 - 5000) / (SR / 2), abs=0.05)
    assert f["side_share"] == pytest.approx(0.5, abs=0.05)  # independent channels


def test_opposite_channels_are_all_side() -> None:
    t = np.arange(SR) / SR
    x = 0.3 * np.sin(2 * np.pi * 300 * t)
    assert audio_features(np.stack([x, -x]), SR)["side_share"] > 0.99


def test_feature_names_are_stable() -> None:
    assert tuple(audio_features(bass_line(1.0), SR)) == FEATURE_NAMES
    assert tuple(audio_features(np.zeros((2, SR), np.float32), SR)) == FEATURE_NAMES


def test_mono_shapes_agree() -> None:
    x = bass_line(2.0)[0]
    a = audio_features(x, SR)
    b = audio_features(x[None, :], SR)
    c = audio_features(np.stack([x, x]), SR)
    assert a == b
    assert a["f0_hz"] == pytest.approx(c["f0_hz"], rel=1e-3)
    assert a["low_share"] == pytest.approx(c["low_share"], rel=1e-3)


def test_inputs_are_never_modified() -> None:
    audios = [drum_loop(2.0), bass_line(2.0), melody(2.0)]
    copies = [a.copy() for a in audios]
    for a in audios:
        a.setflags(write=False)  # any write would raise
    audio_features(audios[0], SR)
    guess_role("Kick", audios[0], SR)
    label_tracks(["a", "b", "c"], audios, SR)
    for a, c in zip(audios, copies, strict=True):
        assert np.array_equal(a, c)


def test_silence_and_very_short_audio() -> None:
    g = guess_role("Audio 1", np.zeros((2, SR), np.float32), SR)
    assert g.role == "other" and g.confidence <= 0.2
    f = audio_features(np.full((2, 100), 0.1, np.float32), SR)
    assert np.isfinite(list(f.values())).all()
    assert guess_role("Kick", np.zeros((1, 10), np.float32), SR).role == "kick"


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ParameterError, match="shape"):
        audio_features(np.zeros((3, 1000), np.float32), SR)
    with pytest.raises(ParameterError):
        label_tracks(["a", "b"], [np.zeros((2, 1000), np.float32)], SR)


def test_features_are_fast() -> None:
    import time

    x = np.random.default_rng(0).standard_normal((2, 60 * SR)).astype(np.float32) * 0.1
    audio_features(x, SR)
    t0 = time.perf_counter()
    audio_features(x, SR)
    assert time.perf_counter() - t0 < 0.5  # ~0.05 s here; a 4-minute stem costs about as much


# --------------------------------------------------------------------------------------------
# combining name and audio, and cross-track context


def test_confident_name_wins_over_audio() -> None:
    g = guess_role("Kick In", melody(2.0), SR)
    assert (g.role, g.source) == ("kick", "name")
    agreeing = guess_role("Kick In", drum_loop(2.0), SR)
    assert agreeing.confidence > g.confidence  # the audio agreeing raises it a little


def test_ambiguous_name_is_settled_by_audio() -> None:
    g = guess_role("Texture", bass_line(), SR)
    assert (g.family, g.source) == ("bass", "name+audio")
    lead = guess_role("Lead", melody(), SR)
    assert lead.role == "lead_vocal" and lead.source == "name+audio"
    lead_synth = guess_role("Lead", melody(vibrato_cents=0.0), SR)
    assert lead_synth.role == "synth"


def test_loudest_unnamed_vocal_is_the_lead() -> None:
    loud, quiet = melody(level=0.3), melody(level=0.05)
    out = label_tracks(["Audio 1", "Audio 2", "Audio 3"], [quiet, bass_line(), loud], SR)
    assert [g.role for g in out] == ["backing_vocal", "bass", "lead_vocal"]
    assert all(isinstance(g, RoleGuess) for g in out)


def test_named_lead_makes_other_vocals_backing() -> None:
    out = label_tracks(["Vox 2", "Ld Vox"], [melody(level=0.3), melody(level=0.1)], SR)
    assert [g.role for g in out] == ["backing_vocal", "lead_vocal"]


# --------------------------------------------------------------------------------------------
# real multitracks (../shared/data), skipped where absent


def _real_sets() -> list[Path]:
    if not DATA_DIR.is_dir():
        return []
    return sorted(
        d for d in DATA_DIR.iterdir() if (d / "labels.csv").is_file() and (d / "stems").is_dir()
    )


@pytest.fixture(scope="module")
def real_labels() -> list[tuple[str, str, str, str]]:
    """(set, true family, family with names, family anonymised) for every labelled stem."""
    from mixwise.io.audio import load_stems

    sets = _real_sets()
    if not sets:
        pytest.skip(f"no real data at {DATA_DIR}")
    out = []
    for d in sets:
        with open(d / "labels.csv", newline="", encoding="utf-8") as f:
            truth = {
                Path(r["file"]).name: r["family"] for r in csv.DictReader(f) if r["role"] != "mix"
            }
        mt = load_stems(d / "stems").multitrack
        stems = [s for s in mt.stems if Path(s.info.path).name in truth]
        feats = [audio_features(s.audio, mt.sample_rate) for s in stems]
        named = label_from_features([s.name for s in stems], feats)
        anon = label_from_features([f"track{i + 1:02d}" for i in range(len(stems))], feats)
        for s, a, b in zip(stems, named, anon, strict=True):
            out.append((d.name, truth[Path(s.info.path).name], a.family, b.family))
    return out


@pytest.mark.realdata
def test_real_data_family_accuracy(real_labels) -> None:
    n = len(real_labels)
    with_names = sum(t == a for _, t, a, _ in real_labels) / n
    anonymised = sum(t == b for _, t, _, b in real_labels) / n
    assert with_names >= 0.95, with_names
    assert anonymised >= 0.75, anonymised
