"""Alternative mixes on synthetic sessions: each named variation changes what it says and
nothing it must not; sampled variations are reproducible and stay within their ranges."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from mixwise.analysis.meters import measure
from mixwise.analysis.spectrum import band_frames
from mixwise.assist.mastering import eq_response_db
from mixwise.assist.variations import (
    SAMPLE_FADER_DB,
    SAMPLE_PAN,
    SAMPLE_SEND_DB,
    SAMPLE_SHELF_DB,
    VARIATIONS,
    VariationContext,
    apply_variation,
    build_variation,
    canonical_name,
    choose,
    context_for,
    plan_variation,
    sample_variation,
)
from mixwise.errors import ParameterError
from mixwise.session.edit import get_parameter
from mixwise.session.model import (
    Bus,
    Compressor,
    Delay,
    EQBand,
    Reverb,
    Send,
    Session,
    SourceFile,
    Track,
)
from signals import noise, sine

SR = 48_000


def _track(tid: str, role: str, *, channels: int = 1, pan: float = 0.0, **chain) -> Track:
    t = Track(
        id=tid,
        name=tid.capitalize(),
        role=role,
        source=SourceFile(path=f"/stems/{tid}.wav", channels=channels, sample_rate=SR),
    )
    t.chain.pan = pan
    for k, v in chain.items():
        setattr(t.chain, k, v)
    return t


def band_session() -> Session:
    """A small band: drums on a group bus with glue, bass, a panned guitar pair, stereo keys,
    a lead and a backing vocal, reverb and delay returns, a master EQ and glue."""
    tracks = [
        _track("kick", "kick", fader_db=-2.0),
        _track("snare", "snare", fader_db=-3.0,
               compressor=Compressor(enabled=True, ratio=4.0, attack_ms=15.0, makeup_db=2.0)),
        _track("oh", "cymbals", channels=2, width=1.0, fader_db=-8.0),
        _track("bass", "bass", fader_db=-1.0,
               compressor=Compressor(enabled=True, ratio=3.0, attack_ms=15.0, makeup_db=3.0)),
        _track("gtr-l", "electric_guitar", pan=-0.6, fader_db=-4.0),
        _track("gtr-r", "electric_guitar", pan=0.6, fader_db=-4.0),
        _track("keys", "keys", channels=2, width=0.8, fader_db=-6.0),
        _track("vox", "lead_vocal", fader_db=0.5,
               compressor=Compressor(enabled=True, ratio=3.0, attack_ms=5.0, makeup_db=3.0)),
        _track("bv", "backing_vocal", pan=0.4, fader_db=-7.0),
    ]  # fmt: skip
    for tid in ("kick", "snare", "oh"):
        next(t for t in tracks if t.id == tid).bus = "drums"
    sends = {"vox": (-6.0, -18.0), "keys": (-12.0, -math.inf), "snare": (-15.0, -math.inf)}
    for t in tracks:
        rev, dly = sends.get(t.id, (-math.inf, -math.inf))
        t.chain.sends = [Send(bus="reverb", level_db=rev), Send(bus="delay", level_db=dly)]
    buses = [
        Bus(id="drums", name="Drums", kind="group"),
        Bus(id="reverb", name="Reverb", kind="aux", effect=Reverb(decay_s=1.6)),
        Bus(id="delay", name="Delay", kind="aux", effect=Delay()),
    ]
    buses[0].chain.compressor = Compressor(enabled=True, ratio=2.0, attack_ms=30.0, makeup_db=2.0)
    s = Session(sample_rate=SR, length_s=4.0, tracks=tracks, buses=buses)
    s.master.eq = [EQBand(type="low_shelf", freq_hz=250.0, gain_db=1.0)]
    s.master.compressor = Compressor(enabled=True, ratio=1.5, makeup_db=1.0)
    return s


def changes(session: Session, name: str, context: VariationContext | None = None):
    """Parameter path -> (old, new) of a named variation; checks the general contract too."""
    before = session.model_dump(mode="json")
    plan = plan_variation(session, name, context=context)
    assert session.model_dump(mode="json") == before, "the input session must not change"
    out = {}
    for s in plan.suggestions:
        assert s.task == "variation"
        assert s.reason.startswith(f"{plan.name}: ") and len(s.reason) > len(plan.name) + 10
        assert s.parameter not in out, "one move per parameter"
        current = get_parameter(session, s.parameter)
        dumped = (
            [b.model_dump(mode="json") for b in current]
            if isinstance(current, list)
            else current.model_dump(mode="json")
            if hasattr(current, "model_dump")
            else current
        )
        assert s.old == dumped
        out[s.parameter] = (s.old, s.new)
    varied = apply_variation(session, plan)  # valid: every move passes validation
    assert len(varied.history) == len(session.history) + len(plan.suggestions)
    assert session.model_dump(mode="json") == before
    return out, plan


def master_response(old_bands, new_bands, freqs):
    f = np.asarray(freqs, float)
    return eq_response_db(new_bands, f, SR) - eq_response_db(old_bands, f, SR)


def test_every_named_variation_moves_something_on_a_full_band_and_keeps_its_input():
    s = band_session()
    for name in VARIATIONS:
        moves, plan = changes(s, name)
        assert moves, f"{name} changed nothing: {plan.notes}"
        assert plan.description and plan.kind == "named"


def test_vocal_forward_lifts_the_lead_by_2_5_db_with_presence_and_touches_nothing_else():
    s = band_session()
    moves, _ = changes(s, "vocal-forward")
    assert set(moves) == {"tracks[vox].chain.fader_db", "tracks[vox].chain.eq"}
    old, new = moves["tracks[vox].chain.fader_db"]
    assert new - old == pytest.approx(2.5)
    old_eq, new_eq = moves["tracks[vox].chain.eq"]
    lift = master_response(old_eq, new_eq, [250.0, 4000.0])
    assert lift[1] == pytest.approx(1.5, abs=0.05) and abs(lift[0]) < 0.3


def test_vocal_forward_uses_the_lead_instrument_of_an_instrumental_and_notes_when_none():
    s = band_session()
    s.tracks = [t for t in s.tracks if t.id not in ("vox", "bv")]
    moves, plan = changes(s, "vocal-forward")
    assert moves == {} and plan.is_noop and "no lead" in plan.notes[0]
    ctx = context_for(s, lead="gtr-l")
    moves, _ = changes(s, "vocal-forward", ctx)
    assert moves["tracks[gtr-l].chain.fader_db"] == (-4.0, -1.5)


def test_wide_spreads_pairs_and_stereo_parts_but_never_moves_the_low_end_or_the_lead():
    s = band_session()
    moves, _ = changes(s, "wide")
    touched = {re.match(r"(tracks|buses)\[([^\]]+)\]", p).group(2) for p in moves}
    assert not touched & {"kick", "bass", "snare", "vox"}
    assert moves["tracks[gtr-l].chain.pan"] == (-0.6, -0.9)
    assert moves["tracks[gtr-r].chain.pan"] == (0.6, 0.9)
    assert moves["tracks[bv].chain.pan"][1] == pytest.approx(0.6)
    assert moves["tracks[keys].chain.width"] == (0.8, 1.2)
    assert moves["tracks[oh].chain.width"] == (1.0, 1.5)  # stereo drums: the kick stays mid
    assert moves["buses[reverb].chain.width"] == (1.0, 1.5)
    assert all(p.endswith((".pan", ".width")) for p in moves)


def test_wide_keeps_a_stereo_sub_part_narrow_when_bands_show_it_is_low_end():
    s = band_session()
    s.tracks.append(_track("sub", "synth", channels=2))
    t = np.arange(3 * SR) / SR
    low = np.vstack([np.sin(2 * np.pi * 50 * t), np.sin(2 * np.pi * 50 * t + 1)]) * 0.3
    high = noise(seconds=3, sample_rate=SR, rms=0.1)
    bands = {"sub": band_frames(low.astype(np.float32), SR), "keys": band_frames(high, SR)}
    ctx = context_for(s, bands=bands)
    assert "sub" in ctx.low_end_ids and "keys" not in ctx.low_end_ids
    moves, _ = changes(s, "wide", ctx)
    assert "tracks[sub].chain.width" not in moves and "tracks[keys].chain.width" in moves


def test_wide_places_centred_mono_like_side_parts_left_and_right_but_not_the_kick():
    s = band_session()
    s.tracks += [
        _track("hh", "hihat", channels=2),
        _track("piano", "piano", channels=2),
        _track("loop", "drum_loop", channels=2),
    ]
    corr = {"hh": 1.0, "piano": 0.99, "loop": 1.0, "keys": 0.5, "kick": 1.0}
    ctx = context_for(s, correlation=corr)
    assert set(ctx.mono_like_ids) == {"hh", "piano", "loop"}  # kick is a mono file
    moves, _ = changes(s, "wide", ctx)
    assert moves["tracks[hh].chain.pan"] == (0.0, -0.45)  # hi-hat: 1.5 x its usual spread
    assert moves["tracks[piano].chain.pan"] == (0.0, 0.525)  # the next one goes right
    for tid in ("hh", "piano", "loop"):  # a point in the image is moved, not widened
        assert f"tracks[{tid}].chain.width" not in moves
    assert "tracks[loop].chain.pan" not in moves  # drum loops stay central
    assert moves["tracks[keys].chain.width"] == (0.8, 1.2)
    narrow, _ = changes(s, "narrow", ctx)
    assert not any(p.startswith(("tracks[hh]", "tracks[piano]")) for p in narrow)


def test_narrow_halves_widths_and_pans_towards_the_centre_without_crossing_it():
    s = band_session()
    moves, _ = changes(s, "narrow")
    assert moves["tracks[gtr-l].chain.pan"] == (-0.6, -0.3)
    assert moves["tracks[keys].chain.width"] == (0.8, 0.4)
    assert moves["buses[reverb].chain.width"] == (1.0, 0.6)
    for path, (old, new) in moves.items():
        assert abs(new) < abs(old) and (new * old > 0), path


def test_punchy_brings_drums_and_bass_forward_with_slower_harder_drum_compression():
    s = band_session()
    moves, _ = changes(s, "punchy")
    for tid in ("kick", "snare", "oh", "bass"):
        old, new = moves[f"tracks[{tid}].chain.fader_db"]
        assert new - old == pytest.approx(1.5)
    for path in ("tracks[snare].chain.compressor", "buses[drums].chain.compressor"):
        old, new = moves[path]
        assert new["attack_ms"] == max(30.0, old["attack_ms"]) > 15.0
        assert new["ratio"] == pytest.approx(old["ratio"] + 1.5)
        assert new["makeup_db"] > old["makeup_db"]  # more ratio, more reduction made up
        assert new["threshold_db"] == old["threshold_db"]
    assert "tracks[bass].chain.compressor" not in moves  # the bass gets level, not squeeze
    # the kick is on a glued bus: no compressor of its own is added
    assert "tracks[kick].chain.compressor" not in moves
    old_eq, new_eq = moves["master.eq"]
    cut = master_response(old_eq, new_eq, [60.0, 350.0, 3000.0])
    assert cut[1] == pytest.approx(-2.0, abs=0.05) and abs(cut[0]) < 0.5 and abs(cut[2]) < 0.5
    assert not any("vox" in p or "gtr" in p or "keys" in p for p in moves)


def test_punchy_sets_up_a_compressor_on_loose_drums_only_when_their_level_is_known():
    s = band_session()
    s.buses[0].chain.compressor = Compressor()
    hits = np.zeros((1, 2 * SR), np.float32)
    for k in range(8):
        a = k * SR // 4
        hits[0, a : a + 2400] = 0.8 * np.exp(-np.arange(2400) / 400.0) * np.sin(np.arange(2400) / 3)
    _, plan = changes(s, "punchy")
    assert [n.split(":")[0] for n in plan.notes] == ["Kick"]  # cymbals get no compressor
    ctx = VariationContext(lead_ids=("vox",), meters={"kick": measure(hits, SR)})
    moves, _ = changes(s, "punchy", ctx)
    assert "tracks[oh].chain.compressor" not in moves
    new = moves["tracks[kick].chain.compressor"][1]
    assert new["enabled"] and new["ratio"] == 4.0 and new["attack_ms"] == 30.0
    assert new["threshold_db"] < measure(hits, SR).sample_peak_dbfs
    assert 0.5 < new["makeup_db"] < 6.0


def test_bright_and_warm_change_only_the_master_eq_in_opposite_directions():
    s = band_session()
    bright, _ = changes(s, "bright")
    warm, _ = changes(s, "warm")
    assert set(bright) == set(warm) == {"master.eq"}
    freqs = [100.0, 220.0, 1000.0, 4000.0, 12000.0]
    b = master_response(*bright["master.eq"], freqs)
    w = master_response(*warm["master.eq"], freqs)
    assert abs(b[0]) < 0.3 and b[3] > 1.5 and b[4] > 3.5  # presence and air
    assert w[1] > 1.2 and w[4] < -1.5 and abs(w[2]) < 0.6  # warmth and softened highs
    # the proposal's own bands stay as they were, the new ones are added after them
    assert bright["master.eq"][1][0] == s.master.eq[0].model_dump(mode="json")


def test_dry_lowers_every_active_send_and_leaves_switched_off_sends_off():
    s = band_session()
    moves, _ = changes(s, "dry")
    active = {
        f"tracks[{t.id}].chain.sends[{i}].level_db": x.level_db
        for t in s.tracks
        for i, x in enumerate(t.chain.sends)
        if x.level_db != -math.inf
    }
    assert set(moves) == set(active) and len(active) == 4
    for old, new in moves.values():
        assert new == pytest.approx(old - 10.0)


def test_dry_and_spacious_with_no_sends_are_no_ops_with_a_note_and_are_not_chosen():
    s = band_session()
    for t in s.tracks:
        for x in t.chain.sends:
            x.level_db = -math.inf
    for name in ("dry", "spacious", "wet"):
        plan = plan_variation(s, name)
        assert plan.is_noop and build_variation(s, name) == []
        assert "no reverb or delay send" in plan.notes[0]
    names = choose(9, session=s)
    assert "dry" not in names and "spacious" not in names
    assert names == ["vocal-forward", "wide", "punchy", "bright", "warm", "narrow",
                     "sampled-0", "sampled-1", "sampled-2"]  # fmt: skip


def test_spacious_raises_sends_and_lengthens_the_reverb():
    s = band_session()
    moves, _ = changes(s, "spacious")
    assert moves["tracks[vox].chain.sends[0].level_db"] == (-6.0, -2.0)
    assert moves["buses[reverb].effect.decay_s"] == (1.6, 2.0)
    assert all(new > old for old, new in moves.values())


def test_names_aliases_and_unknown_names():
    assert canonical_name("Wet") == "spacious"
    assert canonical_name("mono-ish") == "narrow"
    assert canonical_name("vocal forward") == "vocal-forward"
    assert canonical_name("sampled-12") == "sampled-12"
    with pytest.raises(ParameterError, match=r"unknown variation 'loud'.*vocal-forward"):
        canonical_name("loud")
    with pytest.raises(ParameterError, match="-1"):
        choose(-1)
    assert choose(0) == []
    assert choose(2) == ["vocal-forward", "wide"]
    assert choose(len(VARIATIONS) + 1, seed=7)[-1] == "sampled-7"


def test_a_locked_parameter_is_never_moved_and_the_note_says_so():
    s = band_session()
    s.intent.locks = ["tracks[vox].chain.fader_db"]
    moves, plan = changes(s, "vocal-forward")
    assert set(moves) == {"tracks[vox].chain.eq"}
    assert any("locked" in n and "fader_db" in n for n in plan.notes)
    s.intent.locks = ["role:kick", "task:variation tracks[snare].chain.compressor"]
    moves, plan = changes(s, "punchy")
    assert "tracks[kick].chain.fader_db" not in moves
    assert "tracks[snare].chain.compressor" not in moves
    assert "tracks[snare].chain.fader_db" in moves and "buses[drums].chain.compressor" in moves
    assert sum("locked" in n for n in plan.notes) == 2


def _deltas(session: Session, suggestions):
    out = {}
    for x in suggestions:
        if x.parameter == "master.eq":
            continue
        out[x.parameter] = x.new - get_parameter(session, x.parameter)
    return out


def test_sampled_variations_are_reproducible_differ_by_seed_and_stay_in_range():
    s = band_session()
    d0, a = sample_variation(s, 0)
    d0b, b = sample_variation(s, 0)
    assert (d0, a) == (d0b, b)
    seen = set()
    for seed in range(12):
        desc, moves = sample_variation(s, seed)
        seen.add(repr([(m.parameter, m.new) for m in moves]))
        assert desc and len(desc.split(", ")) <= 3
        assert all(m.task == "variation" for m in moves)
        for path, d in _deltas(s, moves).items():
            if path.endswith("fader_db"):
                assert abs(d) <= SAMPLE_FADER_DB + 1e-9
            elif path.endswith(".pan"):
                old = get_parameter(s, path)
                assert abs(d) <= SAMPLE_PAN + 1e-9 and old != 0.0
                assert old * (old + d) > 0  # never across the centre
            else:
                assert path.endswith("level_db") and abs(d) <= SAMPLE_SEND_DB + 1e-9
        (eq,) = [m for m in moves if m.parameter == "master.eq"]
        assert len(eq.new) == len(eq.old) + 1  # the low shelf is moved, a high shelf added
        assert abs(eq.new[0]["gain_db"] - 1.0) <= SAMPLE_SHELF_DB
        assert eq.new[1]["type"] == "high_shelf" and abs(eq.new[1]["gain_db"]) <= SAMPLE_SHELF_DB
        # centred parts keep their place; switched-off sends stay off
        assert not any(m.parameter in ("tracks[vox].chain.pan", "tracks[kick].chain.pan")
                       for m in moves)  # fmt: skip
        assert not any(m.parameter == "tracks[kick].chain.sends[0].level_db" for m in moves)
        apply_variation(s, moves)
    assert len(seen) == 12


def test_a_sampled_description_names_its_largest_fader_moves():
    s = band_session()
    for seed in range(20):
        desc, moves = sample_variation(s, seed)
        fader = {
            m.target: m.new - get_parameter(s, m.parameter)
            for m in moves
            if m.parameter.endswith("fader_db")
        }
        for part in desc.split(", "):
            mt = re.fullmatch(r"(.+) ([+-]\d+\.\d) dB", part)
            if mt:
                assert fader[mt.group(1)] == pytest.approx(float(mt.group(2)), abs=0.051)
                # nothing left out moved further
                assert abs(float(mt.group(2))) >= max(abs(v) for v in fader.values()) - 0.75
    descs = {sample_variation(s, seed)[0] for seed in range(20)}
    assert any("brighter" in d or "darker" in d for d in descs)
    assert len(descs) == 20


def test_plan_of_a_sampled_name_carries_its_seed():
    s = band_session()
    plan = plan_variation(s, "sampled-3")
    assert plan.kind == "sampled" and plan.seed == 3
    assert plan.suggestions == sample_variation(s, 3)[1]
    assert plan.description == sample_variation(s, 3)[0]
    with pytest.raises(ParameterError):
        sample_variation(s, -1)


def test_the_lead_comes_from_the_automix_or_the_roles():
    s = band_session()
    assert context_for(s).lead_ids == ("vox",)
    assert context_for(s, lead="gtr-r").lead_ids == ("gtr-r", "vox")
    assert set(context_for(s).low_end_ids) == {"kick", "bass"}
    sig = sine(440.0, seconds=2.0, sample_rate=SR)
    s2 = band_session()
    s2.tracks = [t for t in s2.tracks if t.role not in ("lead_vocal", "backing_vocal")]
    bands = {t.id: band_frames(sig, SR) for t in s2.tracks}
    assert len(context_for(s2, bands=bands).lead_ids) == 1
