"""The session document: exact round trips and one-line errors that name the field."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixwise.errors import SessionError
from mixwise.session.edit import Suggestion, apply_suggestion, get_parameter, set_parameter
from mixwise.session.io import load_session, save_session, session_from_json, session_to_json
from mixwise.session.model import (
    Bus,
    Chain,
    Compressor,
    Delay,
    EQBand,
    Filter,
    Marker,
    Region,
    Reverb,
    Send,
    Session,
    SourceFile,
    Track,
)


def example_session() -> Session:
    return Session(
        name="Song – demo",
        sample_rate=44_100,
        length_s=12.5,
        tracks=[
            Track(
                id="kick",
                name="Kick In",
                source=SourceFile(path="/stems/Kick In.wav", channels=1),
                role="kick",
                colour="#D94A3D",
                bus="drums",
                regions=[Region(start_s=0.5, end_s=10.0, fade_in_ms=5, fade_out_ms=20)],
                chain=Chain(
                    trim_db=-3.5,
                    polarity_inverted=True,
                    delay_ms=0.37,
                    high_pass=Filter(enabled=True, freq_hz=30.0, slope_db_oct=24),
                    eq=[
                        EQBand(type="low_shelf", freq_hz=80, gain_db=2.0),
                        EQBand(freq_hz=400, gain_db=-4, q=2.5),
                        EQBand(type="high_shelf", freq_hz=8000, gain_db=1.5),
                    ],
                    compressor=Compressor(enabled=True, threshold_db=-20, ratio=4, attack_ms=2),
                    fader_db=-2.25,
                    pan=0.0,
                    sends=[Send(bus="verb", level_db=-18.0)],
                ),
            ),
            Track(
                id="vox",
                name="Ld Vox",
                source=SourceFile(path="vox.flac", channels=2),
                chain=Chain(fader_db=-math.inf, sends=[Send(bus="verb")]),
            ),
        ],
        buses=[
            Bus(id="drums", name="Drums", kind="group"),
            Bus(id="verb", name="Reverb", kind="aux", effect=Reverb(decay_s=2.2)),
            Bus(id="dly", name="Delay", kind="aux", effect=Delay(feedback=0.4)),
        ],
        markers=[
            Marker(time_s=4.0, name="Chorus"),
            Marker(time_s=6.5, name="too much low end", kind="comment"),
        ],
    )


def test_round_trip_is_exact(tmp_path):
    s = example_session()
    path = save_session(s, tmp_path / "session.json")
    again = load_session(path)
    assert again == s
    assert session_to_json(again) == path.read_text(encoding="utf-8")


def test_minus_infinity_is_strict_json():
    text = session_to_json(example_session())
    data = json.loads(text)  # strict parser: no Infinity / NaN tokens
    assert data["tracks"][1]["chain"]["fader_db"] == "-inf"
    assert "Infinity" not in text
    assert session_from_json(text).tracks[1].chain.fader_db == -math.inf


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    fader=st.one_of(st.just(-math.inf), st.floats(-100, 24, allow_nan=False)),
    pan=st.floats(-1, 1, allow_nan=False),
    gains=st.lists(st.floats(-48, 48, allow_nan=False), max_size=8),
    freq=st.floats(10, 24_000, allow_nan=False),
    q=st.floats(0.1, 40, allow_nan=False),
    name=st.text(max_size=30),
)
def test_round_trip_property(fader, pan, gains, freq, q, name):
    s = example_session()
    t = s.tracks[0]
    t.name = name
    t.chain.fader_db = fader
    t.chain.pan = pan
    t.chain.eq = [EQBand(freq_hz=freq, gain_db=g, q=q) for g in gains]
    assert session_from_json(session_to_json(s)) == s


def _broken(mutate) -> str:
    data = json.loads(session_to_json(example_session()))
    mutate(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["tracks"][0]["chain"].__setitem__("fader_db", 40), "tracks[0].chain.fader_db"),
        (
            lambda d: d["tracks"][0]["chain"]["eq"][1].__setitem__("type", "bell"),
            "tracks[0].chain.eq[1].type",
        ),
        (
            lambda d: d["tracks"][0]["chain"]["eq"][1].__setitem__("freq_hz", "loud"),
            "tracks[0].chain.eq[1].freq_hz",
        ),
        (lambda d: d["buses"][1]["effect"].__setitem__("decay_s", -1), "buses[1].effect.decay_s"),
        (
            lambda d: d["tracks"][0]["chain"]["sends"][0].__setitem__("bus", "nowhere"),
            "tracks[0].chain.sends[0].bus",
        ),
        (lambda d: d["tracks"][0].__setitem__("bus", "verb"), "tracks[0].bus"),
        (lambda d: d["tracks"][1].__setitem__("id", "kick"), "tracks[1].id"),
        (lambda d: d["tracks"][0].pop("name"), "tracks[0].name"),
        (lambda d: d["tracks"][0].__setitem__("colour", "red"), "tracks[0].colour"),
        (lambda d: d["tracks"][0]["chain"].__setitem__("gain", 3), "tracks[0].chain.gain"),
        (lambda d: d["tracks"][0]["regions"][0].__setitem__("end_s", 0.1), "tracks[0].regions[0]"),
        (lambda d: d.__setitem__("format", 2), "format"),
    ],
)
def test_malformed_session_gives_one_line_naming_the_field(mutate, expected):
    with pytest.raises(SessionError) as info:
        session_from_json(_broken(mutate), origin="session.json")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("session.json: ")
    assert expected in message


def test_not_json_and_missing_file(tmp_path):
    with pytest.raises(SessionError, match=r"not valid JSON \(line 1"):
        session_from_json("{nope", origin="s.json")
    with pytest.raises(SessionError, match="no such session file"):
        load_session(tmp_path / "absent.json")


def test_parameter_paths_and_history():
    s = example_session()
    assert get_parameter(s, "tracks[kick].chain.eq[1].gain_db") == -4
    set_parameter(s, "tracks[vox].chain.pan", -0.5)
    assert s.tracks[1].chain.pan == -0.5
    with pytest.raises(SessionError, match=r"tracks\[vox\].chain.pan"):
        set_parameter(s, "tracks[vox].chain.pan", 3.0)
    with pytest.raises(SessionError, match="no item with id 'bass'"):
        get_parameter(s, "tracks[bass].chain.pan")
    entry = apply_suggestion(
        s,
        Suggestion(
            task="balance",
            target="Ld Vox",
            parameter="tracks[vox].chain.fader_db",
            old=-math.inf,
            new=-3.0,
            unit="dB",
            reason="the lead sits on top",
        ),
    )
    assert s.tracks[1].chain.fader_db == -3.0
    assert entry.old == "-inf" and entry.new == -3.0 and entry.reason
    assert session_from_json(session_to_json(s)).history[-1] == entry
