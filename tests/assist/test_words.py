"""Requests in words: a table of phrasings checked against the parameters they should move.

EQ requests are judged on the filter response (the project's RBJ biquads, as the renderer
builds them), not on band fields: "warmer vocals" must raise the response at 150 Hz relative
to 6 kHz on the vocal tracks, whatever bands it uses.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixwise.assist.words import LEVEL_STEP_DB, MAX_BANDS, TweakPlan, interpret
from mixwise.dsp.biquad import sos_response_db
from mixwise.errors import MixwiseError
from mixwise.render.engine import filter_sos
from mixwise.session.edit import apply_suggestion
from mixwise.session.model import (
    Bus,
    Chain,
    Compressor,
    EQBand,
    Reverb,
    Send,
    Session,
    SourceFile,
    Track,
)

SR = 48_000
NEG_INF = -math.inf


def _track(tid, name, role, *, channels=1, sends=(), **chain) -> Track:
    return Track(
        id=tid,
        name=name,
        role=role,
        source=SourceFile(path=f"{tid}.wav", channels=channels, sample_rate=SR),
        chain=Chain(sends=[Send(bus=b, level_db=lv) for b, lv in sends], **chain),
    )


def make_session(*, reverb_bus: bool = True) -> Session:
    """Nine tracks of the usual roles and one aux reverb bus with sends on some tracks (the
    kick's send is off; without the bus, no track has sends)."""

    def rv(level_db: float) -> list[tuple[str, float]]:
        return [("reverb", level_db)] if reverb_bus else []

    comp = Compressor(enabled=True, ratio=4.0, attack_ms=5.0)
    tracks = [
        _track("vox", "Lead Vox", "lead_vocal", sends=rv(-12.0)),
        _track("bv", "Backing Vox", "backing_vocal", channels=2, sends=rv(-10.0)),
        _track("kick", "Kick In", "kick", sends=rv(NEG_INF)),
        _track("snare", "Snare Top", "snare", sends=rv(-15.0), compressor=comp),
        _track("hat", "Hi-Hat", "hihat"),
        _track("bass", "Bass DI", "bass"),
        _track("gtr", "Rhythm Gtr", "electric_guitar", channels=2),
        _track("piano", "Piano", "piano", channels=2),
        _track("pad", "Synth Pad", "pad", channels=2, pan=0.4, sends=rv(-8.0)),
    ]
    buses = [Bus(id="reverb", name="Reverb", kind="aux", effect=Reverb())] if reverb_bus else []
    return Session(sample_rate=SR, length_s=60.0, tracks=tracks, buses=buses)


def response_db(bands: list[EQBand], freq_hz: float) -> float:
    """The EQ's magnitude response (dB) at ``freq_hz``, built as the renderer builds it."""
    sos = filter_sos(SR, eq=bands)
    return float(sos_response_db(sos, np.array([freq_hz]), SR)[0])


def applied(session: Session, plan: TweakPlan) -> Session:
    out = session.model_copy(deep=True)
    for s in plan.changes:
        apply_suggestion(out, s, source="user")
    return out


def _send_db(t: Track) -> float:
    levels = [s.level_db for s in t.chain.sends if s.bus == "reverb"]
    return max(levels) if levels else NEG_INF


def _comp_amount(t: Track) -> float:
    c = t.chain.compressor
    return c.ratio if c.enabled else 1.0


def _measure(s: Session, check: tuple) -> float:
    """The number a check looks at, in the session ``s``."""
    kind = check[0]
    if kind == "tilt":  # response at lo minus response at hi (dB)
        _, tid, lo, hi, _ = check
        bands = s.track(tid).chain.eq
        return response_db(bands, lo) - response_db(bands, hi)
    if kind == "eq":
        return response_db(s.track(check[1]).chain.eq, check[2])
    if kind == "master_tilt":
        return response_db(s.master.eq, check[1]) - response_db(s.master.eq, check[2])
    if kind == "master_eq":
        return response_db(s.master.eq, check[1])
    if kind == "lufs":
        return s.master.target_lufs
    if kind == "bus":
        return s.bus(check[1]).chain.fader_db
    t = s.track(check[1])
    return {
        "fader": lambda: t.chain.fader_db,
        "send": lambda: max(_send_db(t), -200.0),
        "width": lambda: t.chain.width,
        "pan": lambda: abs(t.chain.pan) if check[2] == "abs" else t.chain.pan,
        "comp": lambda: _comp_amount(t),
        "attack": lambda: t.chain.compressor.attack_ms,
        "ramp": lambda: sum(r.gain_db for r in t.chain.automation),
    }[kind]()


#: The smallest move that counts (dB for levels and EQ responses; units otherwise).
MIN_MOVE = {"width": 0.1, "pan": 0.1, "comp": 0.3, "attack": 1.0}

#: (request, checks). A check is (kind, [track id | frequencies ...], sign); "refused" and
#: "says" look for text in the refusals / the summary; "nothing" expects no change at all.
#: Tracks without a check must not change.
CASES: list[tuple[str, list[tuple]]] = [
    ("warmer vocals", [("tilt", "vox", 150, 6000, +1), ("tilt", "bv", 150, 6000, +1)]),
    ("make the lead vox a bit colder", [("tilt", "vox", 150, 6000, -1)]),
    ("brighter guitars", [("eq", "gtr", 8000, +1)]),
    ("the piano is too dark", [("eq", "piano", 8000, +1)]),
    ("duller hi-hat", [("eq", "hat", 8000, -1)]),
    ("the guitars are muddy", [("eq", "gtr", 300, -1)]),
    ("clearer vocals", [("eq", "vox", 300, -1), ("eq", "vox", 4000, +1), ("eq", "bv", 300, -1)]),
    ("cleaner piano", [("eq", "piano", 300, -1)]),
    ("less boxy snare", [("eq", "snare", 600, -1)]),
    ("harsh guitars", [("eq", "gtr", 3500, -1)]),
    ("way too harsh vocals", [("eq", "vox", 3500, -1), ("eq", "bv", 3500, -1)]),
    ("more air on the vocals", [("eq", "vox", 12000, +1), ("eq", "bv", 12000, +1)]),
    ("airier pad", [("eq", "pad", 12000, +1)]),
    ("the bass sounds thin", [("eq", "bass", 150, +1)]),
    ("fatter kick", [("eq", "kick", 150, +1)]),
    ("fuller piano", [("eq", "piano", 150, +1)]),
    ("smoother guitars", [("eq", "gtr", 3500, -1)]),
    ("softer piano", [("eq", "piano", 3500, -1)]),
    (
        "punchier drums",
        [
            ("eq", "kick", 70, +1),
            ("eq", "kick", 3500, +1),
            ("eq", "snare", 200, +1),
            ("attack", "snare", +1),
            ("eq", "hat", 5000, +1),
        ],
    ),
    ("more punch on the kick", [("eq", "kick", 70, +1), ("eq", "kick", 3500, +1)]),
    ("wider pad", [("width", "pad", +1)]),
    ("make the guitars narrower", [("width", "gtr", -1)]),
    ("drier vocals", [("send", "vox", -1), ("send", "bv", -1)]),
    ("wetter snare", [("send", "snare", +1)]),
    ("more reverb on the kick", [("send", "kick", +1)]),
    ("less reverb on the snare", [("send", "snare", -1)]),
    ("no reverb on the pad", [("send", "pad", -1)]),
    ("less reverb on the kick", [("nothing",), ("says", "nothing to reduce")]),
    ("more echo on the vocals", [("nothing",), ("says", "no delay bus")]),
    (
        "vocals more upfront",
        [("fader", "vox", +1), ("send", "vox", -1), ("fader", "bv", +1), ("send", "bv", -1)],
    ),
    ("push the guitars back", [("fader", "gtr", -1), ("send", "gtr", +1)]),
    (
        "the vocals are buried",
        [("fader", "vox", +1), ("send", "vox", -1), ("fader", "bv", +1), ("send", "bv", -1)],
    ),
    ("bass a bit louder", [("fader", "bass", +1)]),
    ("turn down the hi-hat", [("fader", "hat", -1)]),
    ("kick up 3 dB", [("fader", "kick", +1)]),
    ("the vocals are too quiet", [("fader", "vox", +1), ("fader", "bv", +1)]),
    ("snare way too loud", [("fader", "snare", -1)]),
    ("not enough bass", [("fader", "bass", +1)]),
    ("lower the piano by 2 dB; raise the pad", [("fader", "piano", -1), ("fader", "pad", +1)]),
    ("more compression on the bass", [("comp", "bass", +1)]),
    ("squash the drums", [("comp", "kick", +1), ("comp", "snare", +1), ("comp", "hat", +1)]),
    ("the snare is too compressed", [("comp", "snare", -1)]),
    ("more dynamic piano", [("nothing",), ("says", "no compressor is on")]),
    ("pan the guitar left", [("pan", "gtr", -1)]),
    ("piano a bit to the right", [("pan", "piano", +1)]),
    ("centre the pad", [("pan", "pad", "abs", -1)]),
    ("everything warmer", [("master_tilt", 150, 6000, +1)]),
    ("the whole mix is a bit too bright", [("master_eq", 8000, -1)]),
    ("louder master", [("lufs", +1)]),
    ("less reverb overall", [("bus", "reverb", -1)]),
    ("more bass on the kick", [("eq", "kick", 100, +1)]),
    # typos
    ("warmr vocasl", [("tilt", "vox", 150, 6000, +1), ("tilt", "bv", 150, 6000, +1)]),
    ("punchyer kick", [("eq", "kick", 70, +1)]),
    ("gutiar louder", [("fader", "gtr", +1)]),
    ("sanre quieter", [("fader", "snare", -1)]),
    ("brigter piano", [("eq", "piano", 8000, +1)]),
    # several requests in one sentence
    (
        "warmer vocals, punchier drums, less reverb on the snare, bass a bit louder",
        [
            ("tilt", "vox", 150, 6000, +1),
            ("tilt", "bv", 150, 6000, +1),
            ("eq", "kick", 70, +1),
            ("eq", "snare", 200, +1),
            ("attack", "snare", +1),
            ("send", "snare", -1),
            ("eq", "hat", 5000, +1),
            ("fader", "bass", +1),
        ],
    ),
    ("kick and snare louder", [("fader", "kick", +1), ("fader", "snare", +1)]),
    ("warmer and brighter piano", [("eq", "piano", 150, +1), ("eq", "piano", 8000, +1)]),
    (
        "more air on the vocals and less mud on the guitars",
        [("eq", "vox", 12000, +1), ("eq", "bv", 12000, +1), ("eq", "gtr", 300, -1)],
    ),
    # refusals
    ("florp the zorp", [("nothing",), ("refused", "did not understand 'florp the zorp'")]),
    ("warmer violin", [("nothing",), ("refused", "no track called 'violin'")]),
    ("make it pop", [("nothing",), ("refused", "did not understand")]),
    ("more mids on the guitar", [("nothing",), ("refused", "did not understand 'mids'")]),
    ("more", [("nothing",), ("refused", "more or less of what?")]),
    ("turn the vocals up a bit", [("fader", "vox", +1), ("fader", "bv", +1)]),
    ("less hi-hat", [("fader", "hat", -1)]),
    # phrasings written after the vocabulary was settled (all passed on their first run)
    ("can you bring the backing vocals down a touch", [("fader", "bv", -1)]),
    ("the kick needs more low end", [("eq", "kick", 100, +1)]),
    ("give the snare more snap", [("eq", "snare", 4000, +1), ("attack", "snare", +1)]),
    ("the lead vocal is a little harsh", [("eq", "vox", 3500, -1)]),
    ("I'd like the piano further back", [("fader", "piano", -1), ("send", "piano", +1)]),
    ("make the hats less bright", [("eq", "hat", 8000, -1)]),
    ("bass is too boomy", [("eq", "bass", 100, -1)]),
    ("a little more delay on the lead", [("nothing",), ("says", "no delay bus")]),
    ("pad wider please", [("width", "pad", +1)]),
    ("kick drum louder", [("fader", "kick", +1)]),
    ("the guitar could be a bit fuller", [("eq", "gtr", 150, +1)]),
    ("reduce the sibilance on the vocals", [("eq", "vox", 7000, -1), ("eq", "bv", 7000, -1)]),
    ("vocals are too dry", [("send", "vox", +1), ("send", "bv", +1)]),
    ("get rid of the reverb on the backing vocals", [("send", "bv", -1)]),
    ("the mix sounds muddy", [("master_eq", 300, -1)]),
    ("more width on the guitars", [("width", "gtr", +1)]),
    ("vocal up 1.5 dB", [("fader", "vox", +1), ("fader", "bv", +1)]),
    ("snare: less reverb", [("send", "snare", -1)]),
    ("bring the bass forward", [("fader", "bass", +1)]),
    ("the drums feel too squashed", [("comp", "snare", -1)]),
    ("warm up the piano", [("tilt", "piano", 150, 6000, +1)]),
    (
        "make the vox brighter and more present",
        [
            ("eq", "vox", 8000, +1),
            ("fader", "vox", +1),
            ("eq", "bv", 8000, +1),
            ("fader", "bv", +1),
        ],
    ),
    ("the whole thing is too quiet", [("lufs", +1)]),
    ("cut some mud from the piano", [("eq", "piano", 300, -1)]),
    ("the overall mix needs more air", [("master_eq", 12000, +1)]),
]


def _track_state(s: Session) -> dict[str, dict]:
    return {t.id: t.chain.model_dump() for t in s.tracks}


def judge(text: str, checks: list[tuple]) -> tuple[bool, str]:
    """Run one case; (passed, why not)."""
    before = make_session()
    plan = interpret(text, before)
    after = applied(before, plan)
    problems = []
    for check in checks:
        kind = check[0]
        if kind == "nothing":
            if plan.changes:
                problems.append(f"expected no change, got {[c.parameter for c in plan.changes]}")
            continue
        if kind == "refused":
            if not any(check[1] in r for r in plan.not_understood):
                problems.append(f"no refusal containing {check[1]!r}: {plan.not_understood}")
            continue
        if kind == "says":
            if check[1] not in plan.summary():
                problems.append(f"summary lacks {check[1]!r}: {plan.summary()}")
            continue
        sign = check[-1]
        moved = _measure(after, check) - _measure(before, check)
        need = MIN_MOVE.get(kind, 0.5)
        if not (moved * sign >= need):
            problems.append(f"{check}: moved {moved:+.2f}")
    expected = {
        c[1] for c in checks if c[0] in MIN_MOVE or c[0] in ("tilt", "eq", "fader", "send", "ramp")
    }
    changed = {
        tid for tid, chain in _track_state(after).items() if chain != _track_state(before)[tid]
    }
    if changed - expected:
        problems.append(f"unexpected tracks changed: {sorted(changed - expected)}")
    touches_master = any(c[0] in ("master_tilt", "master_eq", "lufs") for c in checks)
    if not touches_master and after.master != before.master:
        problems.append("the master changed")
    if not any(c[0] == "bus" for c in checks) and after.buses != before.buses:
        problems.append("a bus changed")
    return not problems, "; ".join(problems)


def test_table_of_requests_scores_at_least_90_percent():
    assert len(CASES) >= 40
    failures = []
    for text, checks in CASES:
        ok, why = judge(text, checks)
        if not ok:
            failures.append(f"{text!r}: {why}")
    score = 1.0 - len(failures) / len(CASES)
    print(f"\nrequests in words: {len(CASES) - len(failures)}/{len(CASES)} handled ({score:.0%})")
    for f in failures:
        print("  FAILED", f)
    assert score >= 0.9, "\n".join(failures)


def test_warmer_vocals_raises_150_hz_relative_to_6_khz_on_the_vocals_only():
    s = make_session()
    plan = interpret("warmer vocals", s)
    assert len(plan.understood) == 1
    req = plan.understood[0]
    assert (req.descriptor, req.direction, req.strength) == ("warm", 1, 1.0)
    assert req.targets == ["vox", "bv"]
    assert "Lead Vox" in req.explanation and "low shelf at 250 Hz" in req.explanation
    assert {c.parameter for c in req.changes} == {"tracks[vox].chain.eq", "tracks[bv].chain.eq"}
    assert all(c.task == "tweak" and "warmer vocals" in c.reason for c in req.changes)
    out = applied(s, plan)
    for tid in ("vox", "bv"):
        eq = out.track(tid).chain.eq
        tilt = response_db(eq, 150) - response_db(eq, 6000)
        assert 2.0 < tilt < 5.0  # +2 dB shelf below, -1.5 dB shelf above
    assert out.track("kick").chain.eq == []


def test_nonsense_is_not_understood_and_changes_nothing():
    for text in ("florp the zorp", "zorp", "blarg the vocals", "think light revert decay black"):
        plan = interpret(text, make_session())
        assert plan.changes == [], text
        assert plan.understood == [], text
        assert any("did not understand" in r or "no track called" in r
                   for r in plan.not_understood), (text, plan.not_understood)  # fmt: skip
    assert interpret("florp the zorp", make_session()).not_understood == [
        "did not understand 'florp the zorp'"
    ]


def test_a_missing_track_is_refused_naming_the_tracks_that_exist():
    s = make_session()
    plan = interpret("warmer violin, louder strings", s)
    assert plan.changes == []
    assert len(plan.not_understood) == 2
    for reason in plan.not_understood:
        assert reason.startswith("no track called")
        for t in s.tracks:
            assert t.name in reason
    assert "'violin'" in plan.not_understood[0] and "'strings'" in plan.not_understood[1]
    # the working tracks still get the request; the missing one is refused once
    plan = interpret("warmer and brighter vocals and violin", s)
    assert [r.targets for r in plan.understood] == [["vox", "bv"], ["vox", "bv"]]
    assert len(plan.not_understood) == 1 and "'violin'" in plan.not_understood[0]


def test_applying_the_plan_validates_and_records_history_without_touching_the_input():
    s = make_session()
    snapshot = s.model_dump()
    text = (
        "warmer vocals, punchier drums, less reverb on the snare, bass a bit louder; more reverb "
        "on the hi-hat and wider pad; more compression on the bass, pan the piano left, "
        "everything a bit brighter"
    )
    plan = interpret(text, s)
    assert s.model_dump() == snapshot  # interpret never modifies its input
    assert not plan.not_understood, plan.not_understood
    assert len(plan.understood) == 9
    out = applied(s, plan)
    assert len(out.history) == len(plan.changes) > 10
    assert all(h.task == "tweak" and h.source == "user" for h in out.history)
    again = Session.model_validate_json(out.model_dump_json())  # strict JSON, validated
    assert again.model_dump() == out.model_dump()
    # the hi-hat had no send at all: a new one to the reverb bus at a sensible level
    hat_sends = out.track("hat").chain.sends
    assert [s.bus for s in hat_sends] == ["reverb"] and -30.0 < hat_sends[0].level_db < 0.0
    assert out.track("bass").chain.compressor.enabled
    lines = plan.summary().splitlines()
    assert len(lines) == len(plan.understood) and all(ln.startswith("understood:") for ln in lines)


def test_a_bit_louder_moves_less_than_much_louder():
    moves = {}
    for text in ("bass a bit louder", "bass louder", "bass much louder", "bass a lot louder"):
        out = applied(make_session(), interpret(text, make_session()))
        moves[text] = out.track("bass").chain.fader_db
    assert 0 < moves["bass a bit louder"] < moves["bass louder"] < moves["bass much louder"]
    assert moves["bass much louder"] == moves["bass a lot louder"]
    assert moves["bass a bit louder"] == pytest.approx(1.0)
    assert moves["bass much louder"] == pytest.approx(4.0)


def test_an_amount_in_db_is_taken_as_asked():
    out = applied(make_session(), interpret("kick up 3 dB, snare -2.5 dB", make_session()))
    assert out.track("kick").chain.fader_db == pytest.approx(3.0)
    assert out.track("snare").chain.fader_db == pytest.approx(-2.5)
    out = applied(make_session(), interpret("piano 2 dB brighter", make_session()))
    assert response_db(out.track("piano").chain.eq, 20000) == pytest.approx(2.0, abs=0.1)


def test_repeated_requests_deepen_one_band_and_opposites_cancel():
    s = make_session()
    tilts = []
    for _ in range(3):
        s = applied(s, interpret("warmer vocals", s))
        eq = s.track("vox").chain.eq
        tilts.append(response_db(eq, 150) - response_db(eq, 6000))
    assert len(s.track("vox").chain.eq) == 2  # deepened, not stacked
    assert [b.gain_db for b in s.track("vox").chain.eq] == [6.0, -4.5]
    assert tilts[0] < tilts[1] < tilts[2]
    # the same request said twice in one sentence compounds too
    plan = interpret("warmer vocals, warmer vocals", make_session())
    assert [b.gain_db for b in applied(make_session(), plan).track("vox").chain.eq] == [4.0, -3.0]
    # three times colder brings the shelves back to flat: the bands are removed
    for _ in range(3):
        s = applied(s, interpret("colder vocals", s))
    assert s.track("vox").chain.eq == []


def test_limits_of_the_model_are_respected():
    s = make_session()
    s.track("bass").chain.fader_db = 23.0
    s.track("piano").chain.eq = [EQBand(type="high_shelf", freq_hz=5000, gain_db=47.0)]
    s.track("gtr").chain.eq = [EQBand(type="peak", freq_hz=40 + 10 * i) for i in range(MAX_BANDS)]
    plan = interpret("bass much louder, much brighter piano, warmer guitars", s)
    out = applied(s, plan)
    assert out.track("bass").chain.fader_db == 24.0
    assert out.track("piano").chain.eq[0].gain_db == 48.0
    assert len(out.track("gtr").chain.eq) == MAX_BANDS
    assert f"{MAX_BANDS} bands" in plan.understood[2].explanation
    # at the limit nothing more changes, and the explanation says so
    plan = interpret("bass louder", out)
    assert plan.changes == [] and "limit" in plan.summary()


def test_a_time_range_gives_fader_automation_and_refuses_other_requests():
    s = make_session()
    plan = interpret("vocals louder, warmer vocals", s, start_s=12.0, end_s=20.5)
    assert [r.descriptor for r in plan.understood] == ["loud"]
    assert len(plan.not_understood) == 1
    assert "whole song" in plan.not_understood[0] and "warmer vocals" in plan.not_understood[0]
    assert {c.parameter for c in plan.changes} == {
        "tracks[vox].chain.automation",
        "tracks[bv].chain.automation",
    }
    out = applied(s, plan)
    (ramp,) = out.track("vox").chain.automation
    assert (ramp.start_s, ramp.end_s, ramp.gain_db) == (12.0, 20.5, 2.0)
    assert ramp.reason == "vocals louder"
    assert out.track("vox").chain.fader_db == 0.0  # the fader itself does not move
    assert out.track("vox").chain.eq == []
    # the same range again deepens the ramp; "upfront" gives its level part only
    out = applied(out, interpret("vocals a bit quieter", out, start_s=12.0, end_s=20.5))
    assert [r.gain_db for r in out.track("vox").chain.automation] == [1.0]
    plan = interpret("guitars more upfront", out, start_s=30, end_s=40)
    (c,) = plan.changes
    assert c.parameter == "tracks[gtr].chain.automation" and c.new[0].gain_db == 1.5
    assert "whole song only" in plan.understood[0].explanation


def test_a_bad_time_range_is_a_clear_error():
    with pytest.raises(MixwiseError, match="time range"):
        interpret("vocals louder", make_session(), start_s=20.0, end_s=10.0)
    with pytest.raises(MixwiseError, match="time range"):
        interpret("vocals louder", make_session(), start_s=-1.0, end_s=10.0)


def test_reverb_requests_without_a_reverb_bus_say_so():
    s = make_session(reverb_bus=False)
    plan = interpret("more reverb on the vocals, less reverb on the snare", s)
    assert plan.changes == []
    assert len(plan.understood) == 2
    assert "no reverb bus" in plan.understood[0].explanation
    assert "nothing to reduce" in plan.understood[1].explanation


def test_a_send_at_minus_infinity_is_opened_by_index():
    plan = interpret("more reverb on the kick", make_session())
    (c,) = plan.changes
    assert c.parameter == "tracks[kick].chain.sends[0].level_db"
    assert c.old == NEG_INF and -30.0 < c.new < 0.0
    applied(make_session(), plan)  # applies and validates


def test_common_words_are_never_typo_corrected_into_actions():
    words = (
        "think thing light lighter revert reverse decay chose black matter share spare stare "
        "scare single chair breath meant nearly loose hardly quit prevent fully"
    )
    for w in words.split(" "):
        plan = interpret(f"{w} the vocals", make_session())
        assert plan.changes == [], (w, plan.summary())


def test_roles_names_and_partial_names_find_the_tracks():
    s = make_session()
    cases = {
        "vox louder": ["vox", "bv"],
        "lead vox louder": ["vox"],
        "backing vocals louder": ["bv"],
        "drums louder": ["kick", "snare", "hat"],
        "keys louder": ["piano"],
        "synth pad louder": ["pad"],
        "rhythm louder": ["gtr"],
        "KICK IN louder": ["kick"],
        "everything louder": ["mix"],
        "the master louder": ["master"],
    }
    for text, targets in cases.items():
        plan = interpret(text, s)
        assert [r.targets for r in plan.understood] == [targets], text


def test_ids_a_path_cannot_hold_are_addressed_by_index():
    s = make_session()
    s.tracks[6].id = "gtr.1"  # a dot would split the path: use the track's index instead
    plan = interpret("brighter guitars", s)
    (c,) = plan.changes
    assert c.parameter == "tracks[6].chain.eq"
    out = applied(s, plan)
    assert response_db(out.track("gtr.1").chain.eq, 8000) > 1.0


def test_words_it_does_not_know_are_reported_not_acted_on():
    plan = interpret("warmer vocals in the chorus", make_session())
    assert "ignored 'chorus'" in plan.understood[0].explanation
    # without a descriptor the level would be a guess: refused
    plan = interpret("more mids on the guitar, drop the bass", make_session())
    assert plan.changes == [] and len(plan.not_understood) == 2


def test_a_family_on_its_own_group_bus_moves_the_bus_fader():
    s = make_session()
    s.buses.append(Bus(id="drums", name="Drums", kind="group"))
    for tid in ("kick", "snare", "hat"):
        s.track(tid).bus = "drums"
    out = applied(s, interpret("drums a bit louder", s))
    assert out.bus("drums").chain.fader_db == pytest.approx(LEVEL_STEP_DB * 0.5)
    assert all(out.track(t).chain.fader_db == 0.0 for t in ("kick", "snare", "hat"))
    # one drum alone still moves its own fader
    one = applied(s, interpret("kick louder", s))
    assert one.track("kick").chain.fader_db == pytest.approx(LEVEL_STEP_DB)
    assert one.bus("drums").chain.fader_db == 0.0
