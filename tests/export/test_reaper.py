"""REAPER export: the project read back (round trip), items, markers, failures, import."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixwise.errors import ExportError
from mixwise.export.reaper import (
    colour_to_peakcol,
    export_reaper,
    import_reaper,
    parse_rpp,
    peakcol_to_colour,
    quote,
    tokens,
)
from mixwise.io.audio import load_file
from mixwise.session.io import save_session
from mixwise.session.model import (
    Bus,
    Chain,
    Compressor,
    EQBand,
    Filter,
    Marker,
    Master,
    Region,
    Reverb,
    Send,
    Session,
    SourceFile,
    Track,
)
from signals import DATA_DIR, noise, read_wav, write_wav

SR = 48_000


def make_track(tmp: Path, tid: str, *, channels: int = 2, seconds: float = 0.25, sr: int = SR,
               seed: int = 0, **kw) -> Track:  # fmt: skip
    """A track whose source is a short noise file ``tmp/in/<tid>.wav`` (relative path)."""
    write_wav(tmp / "in" / f"{tid}.wav", noise(seconds=seconds, sample_rate=sr,
              channels=channels, seed=seed), sr)  # fmt: skip
    chain = kw.pop("chain", Chain())
    return Track(
        id=tid,
        name=kw.pop("name", tid),
        source=SourceFile(path=f"in/{tid}.wav", channels=channels),
        chain=chain,
        **kw,
    )


def saved(tmp: Path, session: Session) -> Path:
    return save_session(session, tmp / "session.json")


def mixer_session(tmp: Path) -> Session:
    tracks = [
        make_track(tmp, "kick", channels=1, colour="#C04000", bus="drums",
                   chain=Chain(fader_db=-6.02, pan=-0.37, polarity_inverted=True,
                               sends=[Send(bus="verb", level_db=-18.5)])),
        make_track(tmp, "snare", bus="drums", colour="#00FF7F",
                   chain=Chain(fader_db=3.5, pan=1.0, mute=True,
                               sends=[Send(bus="verb", level_db=-9.25, pre_fader=True)])),
        make_track(tmp, "bass", channels=1, chain=Chain(fader_db=-math.inf, pan=-1.0)),
        make_track(tmp, "vox", colour="#123456",
                   chain=Chain(fader_db=-40.123, pan=0.5, solo=True,
                               sends=[Send(bus="verb", level_db=0.0),
                                      Send(bus="dly", level_db=-3.0)])),
    ]  # fmt: skip
    buses = [
        Bus(id="drums", name="Drums", kind="group", colour="#AA0000",
            chain={"fader_db": -2.0, "pan": 0.25}),
        Bus(id="verb", name="Plate", kind="aux", effect=Reverb(decay_s=2.2),
            chain={"fader_db": -4.5, "pan": -0.1}),
        Bus(id="dly", name="Echo", kind="aux", chain={"fader_db": -1.0, "mute": True}),
    ]  # fmt: skip
    markers = [
        Marker(time_s=0.0, name="Intro"),
        Marker(time_s=1.25, end_s=3.5, name="Chorus"),
        Marker(time_s=2.125, name="vocal", kind="comment", text="lift by 1 dB", author="Ann"),
        Marker(time_s=4.0, name="Outro", text="fade slowly"),
    ]
    return Session(name="Round trip", sample_rate=SR, tracks=tracks, buses=buses,
                   markers=markers, master=Master(gain_db=-2.5, target_lufs=None))  # fmt: skip


# --------------------------------------------------------------------------------------------
# the round trip


def test_round_trip_of_the_mixer(tmp_path):
    s = mixer_session(tmp_path)
    rpp = export_reaper(s, saved(tmp_path, s), tmp_path / "out")
    assert rpp == tmp_path / "out" / "Round trip.RPP"
    p = parse_rpp(rpp)
    assert p.sample_rate == SR
    assert p.master_volume_db == pytest.approx(-2.5, abs=0.01)
    # folder track first (where its first member was), members follow, returns last
    assert [t.name for t in p.tracks] == ["Drums", "kick", "snare", "bass", "vox", "Plate", "Echo"]
    assert [t.folder_depth for t in p.tracks] == [0, 1, 1, 0, 0, 0, 0]
    assert [t.is_folder for t in p.tracks] == [True, False, False, False, False, False, False]
    assert p.track("snare").folder_change == -1  # the last member closes the folder

    for t in s.tracks:
        r = p.track(t.name)
        if t.chain.fader_db == -math.inf:
            assert r.volume_db == -math.inf
        else:
            assert r.volume_db == pytest.approx(t.chain.fader_db, abs=0.01)
        assert r.pan == pytest.approx(t.chain.pan, abs=0.01)
        assert r.mute == t.chain.mute
        assert r.solo == t.chain.solo
        assert r.polarity_inverted == t.chain.polarity_inverted
        assert r.colour is not None and r.colour.upper() == t.colour.upper()
        assert r.receives == []
    for b in s.buses:
        r = p.track(b.name)
        assert r.volume_db == pytest.approx(b.chain.fader_db, abs=0.01)
        assert r.pan == pytest.approx(b.chain.pan, abs=0.01)
        assert r.mute == b.chain.mute
        assert r.colour.upper() == b.colour.upper()
        assert r.items == []

    plate = p.track("Plate")
    got = {(rc.source_name, round(rc.level_db, 2), rc.pre_fader) for rc in plate.receives}
    assert got == {("kick", -18.5, False), ("snare", -9.25, True), ("vox", 0.0, False)}
    for rc in plate.receives:
        assert p.tracks[rc.source_index].name == rc.source_name
    echo = p.track("Echo")
    assert [(rc.source_name, round(rc.level_db, 2)) for rc in echo.receives] == [("vox", -3.0)]


def test_mono_tracks_carry_the_minus_3_db_pan_law(tmp_path):
    s = mixer_session(tmp_path)
    p = parse_rpp(export_reaper(s, saved(tmp_path, s), tmp_path / "out"))
    assert 20 * math.log10(p.track("kick").pan_law) == pytest.approx(-3.01, abs=0.01)
    assert p.track("vox").pan_law == -1  # stereo: the project's 0 dB balance law


def test_markers_comments_and_regions_round_trip(tmp_path):
    s = mixer_session(tmp_path)
    p = parse_rpp(export_reaper(s, saved(tmp_path, s), tmp_path / "out"))
    got = [(mk.kind, mk.name, mk.time_s, mk.end_s, mk.text, mk.author) for mk in p.markers]
    assert got == [
        ("marker", "Intro", 0.0, None, "", ""),
        ("marker", "Chorus", 1.25, 3.5, "", ""),
        ("comment", "vocal", 2.125, None, "lift by 1 dB", "Ann"),
        ("marker", "Outro", 4.0, None, "fade slowly", ""),
    ]
    assert p.markers[2].label == "Comment (Ann): vocal — lift by 1 dB"


def test_whole_source_items_and_audio_files(tmp_path):
    s = mixer_session(tmp_path)
    out = tmp_path / "out"
    p = parse_rpp(export_reaper(s, saved(tmp_path, s), out))
    for t in s.tracks:
        (item,) = p.track(t.name).items
        assert item.file == f"Audio/{t.id}.wav"
        assert item.position_s == 0.0
        assert item.offset_s == 0.0
        assert item.length_s == pytest.approx(0.25, abs=1e-9)
        assert item.volume_db == pytest.approx(0.0, abs=1e-9)
        audio, sr = read_wav(out / item.file)
        src, _info, _w = load_file(tmp_path / "in" / f"{t.id}.wav", sample_rate=SR)
        assert sr == SR
        np.testing.assert_array_equal(audio.astype(np.float32), src)


def test_regions_delay_and_trim_become_items(tmp_path):
    t = make_track(
        tmp_path, "gtr", seconds=2.0,
        regions=[Region(start_s=0.2, end_s=0.7, fade_in_ms=15, fade_out_ms=40),
                 Region(start_s=1.0, end_s=1.5)],
        chain=Chain(delay_ms=10.0, trim_db=-4.0),
    )  # fmt: skip
    early = make_track(tmp_path, "early", seconds=1.0, chain=Chain(delay_ms=-25.0))
    s = Session(sample_rate=SR, tracks=[t, early], length_s=0.9)
    p = parse_rpp(export_reaper(s, saved(tmp_path, s), tmp_path / "out"))
    items = p.track("gtr").items
    # the session's length (0.9 s) cuts the second region
    assert len(items) == 1
    it = items[0]
    assert (it.position_s, it.length_s) == pytest.approx((0.2, 0.5), abs=1e-9)
    assert it.offset_s == pytest.approx(0.19, abs=1e-9)  # source time = session time - delay
    assert (it.fade_in_s, it.fade_out_s) == pytest.approx((0.015, 0.040), abs=1e-9)
    assert it.volume_db == pytest.approx(-4.0, abs=0.01)
    (e,) = p.track("early").items
    assert e.position_s == 0.0
    assert e.offset_s == pytest.approx(0.025, abs=1e-9)
    assert e.length_s == pytest.approx(0.9, abs=1e-9)


def test_unicode_and_quote_names(tmp_path):
    names = ["Bässe — 低音", 'Voix "lead"', 'it\'s "both"', "all `three` \"q\" 'x'"]
    tracks = [make_track(tmp_path, f"t{i}", name=n, seed=i) for i, n in enumerate(names)]
    s = Session(name="Chanson d’été 🎵", sample_rate=SR, tracks=tracks,
                markers=[Marker(time_s=1.0, name="Refrain «2»")])  # fmt: skip
    rpp = export_reaper(s, saved(tmp_path, s), tmp_path / "out")
    assert rpp.name == "Chanson d’été 🎵.RPP"
    p = parse_rpp(rpp)
    expected = [*names[:3], "all 'three' \"q\" 'x'"]  # a backtick cannot be quoted
    assert [t.name for t in p.tracks] == expected
    assert p.markers[0].name == "Refrain «2»"


def test_64_tracks_with_groups_and_one_return(tmp_path):
    groups = [Bus(id=f"g{k}", name=f"Group {k}", kind="group") for k in range(4)]
    verb = Bus(id="verb", name="Verb", kind="aux", effect=Reverb())
    tracks = [
        make_track(tmp_path, f"t{i:02d}", seconds=0.05, seed=i, bus=f"g{i % 4}",
                   chain=Chain(fader_db=-0.25 * i, pan=(i - 32) / 32,
                               sends=[Send(bus="verb", level_db=-i / 2)]))
        for i in range(64)
    ]  # fmt: skip
    s = Session(sample_rate=SR, tracks=tracks, buses=[*groups, verb])
    p = parse_rpp(export_reaper(s, saved(tmp_path, s), tmp_path / "out"))
    assert len(p.tracks) == 64 + 4 + 1
    assert len(list((tmp_path / "out" / "Audio").glob("*.wav"))) == 64
    folders = [t for t in p.tracks if t.is_folder]
    assert [f.name for f in folders] == [g.name for g in groups]
    for f in folders:
        members = p.tracks[f.index + 1 : f.index + 17]
        assert all(m.folder_depth == 1 for m in members)
        group_id = f"g{f.name[-1]}"
        assert {m.name for m in members} == {t.id for t in tracks if t.bus == group_id}
    assert p.tracks[-1].name == "Verb" and p.tracks[-1].folder_depth == 0
    assert len(p.tracks[-1].receives) == 64
    for t in tracks:
        r = p.track(t.name)
        assert r.volume_db == pytest.approx(t.chain.fader_db, abs=0.01)
        assert r.pan == pytest.approx(t.chain.pan, abs=0.01)
    levels = {rc.source_name: rc.level_db for rc in p.tracks[-1].receives}
    for t in tracks:
        assert levels[t.name] == pytest.approx(t.chain.sends[0].level_db, abs=0.01)


def test_settings_not_carried_are_in_the_notes(tmp_path):
    t = make_track(
        tmp_path, "vox", chain=Chain(
            high_pass=Filter(enabled=True, freq_hz=100.0, slope_db_oct=18),
            eq=[EQBand(type="peak", freq_hz=3150.0, gain_db=2.5, q=1.4)],
            compressor=Compressor(enabled=True, threshold_db=-21.5, ratio=3.0)),
    )  # fmt: skip
    s = Session(sample_rate=SR, tracks=[t], buses=[], master=Master(target_lufs=-12.0))
    p = parse_rpp(export_reaper(s, saved(tmp_path, s), tmp_path / "out"))
    notes = p.track("vox").notes
    assert "high-pass: 100.0 Hz, 18 dB/oct" in notes
    assert "EQ band 1: peak 3150.0 Hz, +2.50 dB, Q 1.400" in notes
    assert "threshold -21.50 dB, ratio 3:1" in notes
    assert "loudness target: -12 LUFS" in p.notes
    assert p.master_volume_db == 0.0  # the target's gain is found while rendering


def test_import_reaper_rebuilds_the_session(tmp_path):
    s = mixer_session(tmp_path)
    s.tracks[3].regions = [Region(start_s=0.05, end_s=0.2, fade_in_ms=5.0)]
    s.tracks[3].chain.trim_db = -2.0
    s.tracks[3].chain.delay_ms = 3.0
    back = import_reaper(export_reaper(s, saved(tmp_path, s), tmp_path / "out"))
    assert [t.name for t in back.tracks] == [t.name for t in s.tracks]
    for a, b in zip(s.tracks, back.tracks, strict=True):
        assert b.chain.fader_db == pytest.approx(a.chain.fader_db, abs=0.01)
        assert b.chain.pan == pytest.approx(a.chain.pan, abs=0.01)
        assert (b.chain.mute, b.chain.solo) == (a.chain.mute, a.chain.solo)
        assert b.chain.polarity_inverted == a.chain.polarity_inverted
        assert b.colour == a.colour
        assert b.source.channels == a.source.channels
        assert Path(b.source.path).is_file()
        assert [back.bus(x.bus).name for x in b.chain.sends] == [
            s.bus(x.bus).name for x in a.chain.sends
        ]
        for x, y in zip(a.chain.sends, b.chain.sends, strict=True):
            assert y.level_db == pytest.approx(x.level_db, abs=0.01)
            assert y.pre_fader == x.pre_fader
    assert back.tracks[0].bus is not None and back.bus(back.tracks[0].bus).name == "Drums"
    assert back.tracks[2].bus is None
    vox = back.tracks[3]
    assert vox.chain.trim_db == pytest.approx(-2.0, abs=0.01)
    assert vox.chain.delay_ms == pytest.approx(3.0, abs=1e-6)
    (region,) = vox.regions
    assert (region.start_s, region.end_s, region.fade_in_ms) == pytest.approx((0.05, 0.2, 5.0))
    assert back.tracks[0].regions == []  # a whole-source item is no region
    assert [(mk.kind, mk.name, mk.end_s) for mk in back.markers] == [
        (mk.kind, mk.name, mk.end_s) for mk in s.markers
    ]
    assert back.master.gain_db == pytest.approx(-2.5, abs=0.01)


# --------------------------------------------------------------------------------------------
# failures leave nothing behind


def _entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_missing_audio_raises_and_writes_nothing(tmp_path):
    s = mixer_session(tmp_path)
    (tmp_path / "in" / "snare.wav").unlink()
    before = _entries(tmp_path)
    with pytest.raises(ExportError, match=r"1 audio file\(s\) missing.*snare"):
        export_reaper(s, saved(tmp_path, s), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert _entries(tmp_path) == before | {"session.json"}


def test_unreadable_audio_raises_and_keeps_the_old_export(tmp_path):
    s = mixer_session(tmp_path)
    out = tmp_path / "out"
    export_reaper(s, saved(tmp_path, s), out)
    old = sorted(p.relative_to(out) for p in out.rglob("*"))
    (tmp_path / "in" / "vox.wav").write_bytes(b"RIFF\x00\x00not really a wave file")
    with pytest.raises(ExportError, match="vox"):
        export_reaper(s, saved(tmp_path, s), out)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == old
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_parse_rejects_what_is_not_a_project(tmp_path):
    with pytest.raises(ExportError, match="no such REAPER project"):
        parse_rpp(tmp_path / "none.RPP")
    bad = tmp_path / "bad.RPP"
    bad.write_text("<SOMETHING_ELSE\n>\n")
    with pytest.raises(ExportError, match=r"bad\.RPP: not a REAPER project"):
        parse_rpp(bad)
    bad.write_text('<REAPER_PROJECT 0.1 "7.0" 0\n  <TRACK\n    NAME x\n')
    with pytest.raises(ExportError, match="<TRACK is never closed"):
        parse_rpp(bad)


# --------------------------------------------------------------------------------------------
# encodings


def test_peakcol_matches_reapers_encoding():
    # a REAPER-saved project shows PEAKCOL 16793792 as #C04000 (flag | B<<16 | G<<8 | R)
    assert colour_to_peakcol("#C04000") == 16793792
    assert peakcol_to_colour(16793792) == "#C04000"
    assert peakcol_to_colour(16576) is None  # no custom-colour flag: the theme's colour


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")))
def test_quoted_strings_read_back(text):
    (back,) = tokens(f"NAME {quote(text)}")[1:]
    if all(q in text for q in "\"'`"):
        assert back == text.replace("`", "'")
    else:
        assert back == text


@pytest.mark.realdata
def test_real_multitrack_exports_at_the_session_rate(tmp_path):
    stems = sorted((DATA_DIR / "musdb_falcon69" / "stems").glob("*"))
    if not stems:
        pytest.skip("shared/data/musdb_falcon69 is not available")
    tracks = [
        Track(id=p.stem, name=p.stem, source=SourceFile(path=str(p), channels=2)) for p in stems
    ]
    s = Session(sample_rate=SR, tracks=tracks)  # the stems are 44.1 kHz: resampled
    p = parse_rpp(export_reaper(s, None, tmp_path / "out"))
    for t in tracks:
        (item,) = p.track(t.name).items
        audio, sr = read_wav(tmp_path / "out" / item.file)
        src, _info, _w = load_file(t.source.path, sample_rate=SR)
        assert sr == SR
        assert item.length_s == pytest.approx(src.shape[1] / SR, abs=1e-9)
        np.testing.assert_array_equal(audio.astype(np.float32), src)
