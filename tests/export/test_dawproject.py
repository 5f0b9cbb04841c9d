"""DAWproject export and import: XSD validity, id references, round trips, hostile containers."""

from __future__ import annotations

import math
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from mixwise.errors import ExportError
from mixwise.export.dawproject import (
    export_dawproject,
    import_dawproject,
    percent_to_ratio,
    ratio_to_percent,
)
from mixwise.io.audio import load_file
from mixwise.session.model import (
    Bus,
    BusChain,
    Chain,
    Compressor,
    Delay,
    EQBand,
    Filter,
    GainRamp,
    Limiter,
    Marker,
    Master,
    Region,
    Reverb,
    Send,
    Session,
    SourceFile,
    Track,
)
from signals import DATA_DIR, noise, read_wav, sine, write_wav

SCHEMA_DIR = DATA_DIR.parent / "dawproject"
RATE = 48_000
XS = "{http://www.w3.org/2001/XMLSchema}"


# --------------------------------------------------------------------------------------------
# helpers


def _schema(name: str) -> etree.XMLSchema:
    path = SCHEMA_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return etree.XMLSchema(etree.parse(str(path)))


def _parts(dawproject: Path) -> tuple[etree._Element, etree._Element]:
    with zipfile.ZipFile(dawproject) as zf:
        return etree.fromstring(zf.read("project.xml")), etree.fromstring(zf.read("metadata.xml"))


def _stems(folder: Path, n: int, *, seconds: float = 0.4) -> list[Path]:
    """``n`` short test stems, mono and stereo in turn, each a different sine or noise."""
    paths = []
    for i in range(n):
        if i % 2:
            audio = noise(seconds=seconds, sample_rate=RATE, rms=0.05, channels=2, seed=i)
        else:
            audio = sine(80.0 + 37.0 * i, seconds=seconds, sample_rate=RATE, fade_ms=5.0)
        paths.append(write_wav(folder / f"stem{i:02d}.wav", audio, RATE))
    return paths


def _rich_session(folder: Path) -> Session:
    """Every kind of thing the export carries: groups, aux sends, filters, EQ, compressor,
    regions, delay, automation, trims, markers and comments, the master chain."""
    p = _stems(folder, 5)
    src = [SourceFile(path=str(x), channels=1 if i % 2 == 0 else 2) for i, x in enumerate(p)]
    tracks = [
        Track(
            id="kick",
            name="Kick In",
            source=src[0],
            role="kick",
            colour="#D04040",
            bus="drums",
            chain=Chain(
                trim_db=2.5,
                fader_db=-6.25,
                pan=-0.1,
                high_pass=Filter(enabled=True, freq_hz=35.0, slope_db_oct=24),
                low_pass=Filter(enabled=True, freq_hz=9000.0, slope_db_oct=12),
                eq=[
                    EQBand(type="peak", freq_hz=62.0, gain_db=3.5, q=1.4),
                    EQBand(type="high_shelf", freq_hz=6000.0, gain_db=-2.0, q=0.7071),
                    EQBand(type="notch", freq_hz=400.0, q=8.0, enabled=False),
                ],
                compressor=Compressor(
                    enabled=True,
                    threshold_db=-21.5,
                    ratio=4.0,
                    attack_ms=3.0,
                    release_ms=120.0,
                    knee_db=3.0,
                    makeup_db=2.0,
                    detector="rms",
                ),
                sends=[Send(bus="verb", level_db=-18.5)],
                automation=[GainRamp(start_s=0.1, end_s=0.3, gain_db=-4.0, ramp_ms=40.0)],
            ),
        ),
        Track(
            id="snare",
            name="Snare",
            source=src[1],
            role="snare",
            colour="#E07030",
            bus="drums",
            regions=[
                Region(start_s=0.05, end_s=0.15, fade_in_ms=5.0, fade_out_ms=10.0),
                Region(start_s=0.2, end_s=0.35),
            ],
            chain=Chain(fader_db=-3.0, pan=0.35, delay_ms=12.5, solo=True),
        ),
        Track(
            id="bass",
            name="Bass DI",
            source=src[2],
            role="bass",
            colour="#3060C0",
            chain=Chain(fader_db=-math.inf, pan=0.0, mute=True),
        ),
        Track(
            id="vox",
            name="Lead Vox",
            source=src[3],
            role="lead_vocal",
            colour="#40B060",
            chain=Chain(
                fader_db=1.75,
                pan=-1.0,
                sends=[
                    Send(bus="verb", level_db=-12.0),
                    Send(bus="echo", level_db=-20.0, pre_fader=True),
                ],
            ),
        ),
        Track(
            id="gtr",
            name="Gtr",
            source=src[4],
            role="electric_guitar",
            chain=Chain(fader_db=-9.5, pan=1.0, trim_db=-3.0),
        ),
    ]
    buses = [
        Bus(
            id="drums",
            name="Drums",
            kind="group",
            colour="#C05050",
            chain=BusChain(
                fader_db=-1.5,
                pan=0.05,
                compressor=Compressor(enabled=True, threshold_db=-12.0, ratio=2.0),
            ),
        ),
        Bus(
            id="verb",
            name="Plate",
            kind="aux",
            effect=Reverb(decay_s=2.2, predelay_ms=30.0, damping=0.4, width=0.9, seed=7),
            chain=BusChain(
                fader_db=-2.0,
                high_pass=Filter(enabled=True, freq_hz=200.0),
                low_pass=Filter(enabled=True, freq_hz=9000.0),
                eq=[EQBand(type="peak", freq_hz=2500.0, gain_db=-3.0, q=2.0)],
            ),
        ),
        Bus(
            id="echo",
            name="Echo",
            kind="aux",
            effect=Delay(time_left_ms=250.0, time_right_ms=375.0, feedback=0.4, damping_hz=5000.0),
        ),
    ]
    return Session(
        name="Rich test",
        sample_rate=RATE,
        length_s=0.4,
        tracks=tracks,
        buses=buses,
        master=Master(
            high_pass=Filter(enabled=True, freq_hz=25.0, slope_db_oct=12),
            eq=[EQBand(type="low_shelf", freq_hz=120.0, gain_db=1.0)],
            compressor=Compressor(enabled=True, threshold_db=-10.0, ratio=1.5, attack_ms=30.0),
            target_lufs=None,
            gain_db=3.0,
            limiter=Limiter(ceiling_dbtp=-1.0, lookahead_ms=2.0, release_ms=60.0),
        ),
        markers=[
            Marker(time_s=0.0, name="Intro"),
            Marker(time_s=0.25, name="Chorus"),
            Marker(time_s=0.3, name="Note", kind="comment", text="snare too loud here"),
        ],
    )


def _idref_names(xsd: Path) -> tuple[set[str], set[str]]:
    """(names of xs:ID attributes, names of xs:IDREF/IDREFS attributes) declared in ``xsd``,
    checked to be unambiguous: no attribute name is declared with both kinds of type."""
    doc = etree.parse(str(xsd))
    types: dict[str, set[str]] = {}
    for a in doc.iter(f"{XS}attribute"):
        if a.get("name"):
            types.setdefault(a.get("name"), set()).add(a.get("type") or "inline")
    ids = {n for n, t in types.items() if "xs:ID" in t}
    refs = {n for n, t in types.items() if t & {"xs:IDREF", "xs:IDREFS"}}
    for name in ids | refs:
        assert len(types[name]) == 1, f"attribute {name} has several types: {types[name]}"
    return ids, refs


def _unresolved(doc: etree._Element, ids: set[str], refs: set[str]) -> list[str]:
    known = [e.get(n) for e in doc.iter() for n in ids if e.get(n) is not None]
    assert len(known) == len(set(known)), "duplicate ids"
    bad = []
    for e in doc.iter():
        for n in refs:
            value = e.get(n)
            if value is None:
                continue
            for ref in value.split():
                if ref not in set(known):
                    bad.append(f"<{e.tag} {n}={ref!r}>")
    return bad


def _ref_count(doc: etree._Element, refs: set[str]) -> dict[str, int]:
    return {n: sum(1 for e in doc.iter() if e.get(n) is not None) for n in sorted(refs)}


# --------------------------------------------------------------------------------------------
# export: validity and units


def test_export_validates_against_the_xsds(tmp_path: Path) -> None:
    project_xsd, metadata_xsd = _schema("Project.xsd"), _schema("MetaData.xsd")
    out = export_dawproject(_rich_session(tmp_path), None, tmp_path / "out" / "rich")
    assert out == tmp_path / "out" / "rich.dawproject"
    project, metadata = _parts(out)
    assert project_xsd.validate(project), project_xsd.error_log
    assert metadata_xsd.validate(metadata), metadata_xsd.error_log
    assert metadata.findtext("Title") == "Rich test"
    # the validator is live: the same document without its required <Application> fails
    project.remove(project.find("Application"))
    assert not project_xsd.validate(project)


def test_every_id_reference_resolves(tmp_path: Path) -> None:
    xsd = SCHEMA_DIR / "Project.xsd"
    if not xsd.is_file():
        pytest.skip(f"{xsd} is absent")
    ids, refs = _idref_names(xsd)
    assert ids == {"id"}
    assert {"destination", "track", "reference", "parameter"} <= refs
    project, _ = _parts(export_dawproject(_rich_session(tmp_path), None, tmp_path / "r.dawproject"))
    assert _unresolved(project, ids, refs) == []
    counts = _ref_count(project, refs)
    # channel routing (5 tracks, 1 group, 2 aux) + 3 sends; one lane per track; 1 automation
    assert counts["destination"] == 5 + 1 + 2 + 3
    assert counts["track"] == 5
    assert counts["parameter"] == 1
    # and the check can fail: a dangling destination is caught
    project.find(".//Send").set("destination", "nowhere")
    assert _unresolved(project, ids, refs) == ["<Send destination='nowhere'>"]


def test_units_follow_the_spec(tmp_path: Path) -> None:
    s = _rich_session(tmp_path)
    project, _ = _parts(export_dawproject(s, None, tmp_path / "u.dawproject", tempo_bpm=96.5))
    assert project.find("Transport/Tempo").attrib["value"] == "96.5"
    assert project.find("Transport/Tempo").attrib["unit"] == "bpm"
    kick = project.find(".//Track[@name='Kick In']/Channel")
    vol, pan = kick.find("Volume"), kick.find("Pan")
    assert vol.get("unit") == "linear"
    # trim (+2.5 dB) folded into the volume with the fader (-6.25 dB)
    assert float(vol.get("value")) == pytest.approx(10 ** (-3.75 / 20), rel=1e-9)
    assert pan.get("unit") == "normalized"
    assert float(pan.get("value")) == pytest.approx(0.45)
    assert kick.get("destination") == project.find(".//Channel[@role='submix']").get("id")
    comp = kick.find("Devices/Compressor")
    assert comp.find("Ratio").attrib == {**comp.find("Ratio").attrib, "unit": "percent"}
    assert float(comp.find("Ratio").get("value")) == pytest.approx(75.0)
    assert float(comp.find("Attack").get("value")) == pytest.approx(0.003)
    assert comp.find("Attack").get("unit") == "seconds"
    assert float(comp.find("Threshold").get("value")) == -21.5
    assert float(comp.find("OutputGain").get("value")) == 2.0
    bands = kick.findall("Devices/Equalizer/Band")
    # 24 dB/oct high-pass = 2 Butterworth sections, then the 12 dB/oct low-pass, then 3 bands
    assert [b.get("type") for b in bands] == [
        "highPass",
        "highPass",
        "lowPass",
        "bell",
        "highShelf",
        "notch",
    ]
    qs = sorted(float(b.find("Q").get("value")) for b in bands[:2])
    assert qs == pytest.approx([0.5412, 1.3066], abs=1e-4)
    assert bands[3].find("Freq").get("unit") == "hertz"
    assert bands[3].find("Gain").get("unit") == "decibel"
    assert bands[5].find("Gain") is None and bands[5].find("Enabled").get("value") == "false"
    send = kick.find("Sends/Send")
    assert float(send.find("Volume").get("value")) == pytest.approx(10 ** (-18.5 / 20))
    bass = project.find(".//Track[@name='Bass DI']/Channel")
    assert float(bass.find("Volume").get("value")) == 0.0  # -inf dB
    master = project.find(".//Channel[@role='master']")
    lim = master.find("Devices/Limiter")
    assert float(lim.find("Threshold").get("value")) == -1.0
    assert float(lim.find("Attack").get("value")) == pytest.approx(0.002)
    assert float(lim.find("InputGain").get("value")) == 3.0
    lanes = project.find("Arrangement/Lanes")
    assert lanes.get("timeUnit") == "seconds"
    snare_id = project.find(".//Track[@name='Snare']").get("id")
    snare_lane = lanes.find(f"Lanes[@track='{snare_id}']")
    clips = snare_lane.findall("Clips/Clip")
    # the regions, moved by the 12.5 ms delay; playStart is where in the file each starts
    got = [
        (float(c.get("time")), float(c.get("duration")), float(c.get("playStart"))) for c in clips
    ]
    np.testing.assert_allclose(got, [(0.0625, 0.1, 0.05), (0.2125, 0.15, 0.2)], atol=1e-9)
    assert float(clips[0].get("fadeOutTime")) == pytest.approx(0.01)
    assert clips[0].find("Audio").get("sampleRate") == str(RATE)
    markers = project.findall("Arrangement/Markers/Marker")
    assert [(m.get("name"), float(m.get("time"))) for m in markers] == [
        ("Intro", 0.0),
        ("Chorus", 0.25),
        ("Note", 0.3),
    ]
    assert markers[2].get("comment") == "snare too loud here"


def test_ratio_percent_conversion() -> None:
    for ratio in (1.0, 1.5, 2.0, 4.0, 10.0, 20.0):
        assert percent_to_ratio(ratio_to_percent(ratio)) == pytest.approx(ratio, rel=1e-6)
    assert ratio_to_percent(2.0) == 50.0
    assert percent_to_ratio(100.0) == 100.0


def test_automation_becomes_volume_points(tmp_path: Path) -> None:
    project, _ = _parts(export_dawproject(_rich_session(tmp_path), None, tmp_path / "a"))
    points = project.find(".//Points")
    volume = project.find(".//Track[@name='Kick In']/Channel/Volume")
    assert points.find("Target").get("parameter") == volume.get("id")
    pts = [(float(p.get("time")), float(p.get("value"))) for p in points.findall("RealPoint")]
    base = 10 ** (-3.75 / 20)
    dipped = 10 ** (-7.75 / 20)
    assert pts[0] == pytest.approx((0.0, base))
    # ramps of 40 ms centred on 0.1 s and 0.3 s
    want = [(0.08, base), (0.12, dipped), (0.28, dipped), (0.32, base)]
    np.testing.assert_allclose(pts[1:], want, atol=1e-9)


# --------------------------------------------------------------------------------------------
# round trip


def test_round_trip_keeps_the_mix(tmp_path: Path) -> None:
    s = _rich_session(tmp_path)
    before = s.model_dump()
    out = export_dawproject(s, None, tmp_path / "rt.dawproject")
    assert s.model_dump() == before  # the input session is not modified
    back = import_dawproject(out, tmp_path / "imported")

    assert back.name == "Rich test"
    assert back.sample_rate == RATE
    assert [t.name for t in back.tracks] == [t.name for t in s.tracks]
    for a, b in zip(s.tracks, back.tracks, strict=True):
        want_fader = a.chain.fader_db + a.chain.trim_db  # trim is folded into the fader
        if math.isinf(want_fader):
            assert b.chain.fader_db == -math.inf
        else:
            assert abs(b.chain.fader_db - want_fader) <= 0.01, a.name
        assert abs(b.chain.pan - a.chain.pan) <= 0.01, a.name
        assert b.chain.mute == a.chain.mute
        assert b.chain.solo == a.chain.solo
        assert b.colour == a.colour
        assert b.role == a.role
        assert b.chain.delay_ms == pytest.approx(a.chain.delay_ms, abs=1e-6)
        assert b.chain.high_pass == a.chain.high_pass
        assert b.chain.low_pass == a.chain.low_pass
        assert b.chain.eq == a.chain.eq
        assert b.chain.compressor.model_dump() == pytest.approx(a.chain.compressor.model_dump())
        # the extracted audio is the source, sample for sample
        x, _ = read_wav(Path(b.source.path))
        y, _ = read_wav(Path(a.source.path))
        assert x.shape == y.shape and np.array_equal(x, y), a.name
        assert Path(b.source.path).is_relative_to((tmp_path / "imported").resolve())
    by = {t.name: t for t in back.tracks}
    regions = [(r.start_s, r.end_s, r.fade_in_ms, r.fade_out_ms) for r in by["Snare"].regions]
    np.testing.assert_allclose(regions, [(0.05, 0.15, 5.0, 10.0), (0.2, 0.35, 0.0, 0.0)], atol=1e-9)
    assert by["Kick In"].bus == by["Snare"].bus == "drums"
    assert by["Lead Vox"].bus is None
    sends = {(x.bus, x.pre_fader): x.level_db for x in by["Lead Vox"].chain.sends}
    assert sends == pytest.approx({("plate", False): -12.0, ("echo", True): -20.0})
    buses = {b.name: b for b in back.buses}
    assert set(buses) == {"Drums", "Plate", "Echo"}
    assert buses["Drums"].kind == "group" and buses["Plate"].kind == "aux"
    assert buses["Drums"].chain.fader_db == pytest.approx(-1.5)
    assert buses["Drums"].chain.pan == pytest.approx(0.05)
    assert buses["Drums"].chain.compressor.ratio == pytest.approx(2.0)
    assert buses["Plate"].effect == s.bus("verb").effect
    assert buses["Echo"].effect == s.bus("echo").effect
    assert buses["Plate"].chain.high_pass == s.bus("verb").chain.high_pass
    assert buses["Plate"].chain.eq == s.bus("verb").chain.eq
    m, want = back.master, s.master
    assert (m.high_pass, m.eq, m.gain_db, m.target_lufs) == (
        want.high_pass,
        want.eq,
        want.gain_db,
        want.target_lufs,
    )
    assert m.compressor.model_dump() == pytest.approx(want.compressor.model_dump())
    assert m.limiter.model_dump() == pytest.approx(want.limiter.model_dump())
    assert [(m.time_s, m.name, m.kind, m.text) for m in back.markers] == [
        (m.time_s, m.name, m.kind, m.text) for m in s.markers
    ]
    assert back.history == []  # nothing had to be approximated


@pytest.mark.parametrize("slope", [6, 12, 18, 24, 36, 48])
def test_filter_slopes_round_trip(tmp_path: Path, slope: int) -> None:
    (p,) = _stems(tmp_path, 1)
    hp = Filter(enabled=True, freq_hz=90.0, slope_db_oct=slope)
    lp = Filter(enabled=True, freq_hz=12_000.0, slope_db_oct=slope)
    s = Session(
        tracks=[Track(id="t", name="T", source=SourceFile(path=str(p)), chain=Chain(high_pass=hp))],
        master=Master(high_pass=Filter(enabled=True, freq_hz=20.0, slope_db_oct=slope)),
    )
    s.tracks[0].chain.low_pass = lp
    back = import_dawproject(export_dawproject(s, None, tmp_path / "f"), tmp_path / "in")
    assert back.tracks[0].chain.high_pass == hp
    assert back.tracks[0].chain.low_pass == lp
    assert back.tracks[0].chain.eq == []
    assert back.master.high_pass == s.master.high_pass


def test_unicode_names(tmp_path: Path) -> None:
    p = _stems(tmp_path, 3)
    names = ["Bäss – tiefe Töne", "人声 主唱", "Gitarre 🎸 links\x07"]
    s = Session(
        name="Çanción número 1 — 混音",
        tracks=[
            Track(id=f"t{i}", name=n, source=SourceFile(path=str(x)))
            for i, (n, x) in enumerate(zip(names, p, strict=True))
        ],
        markers=[
            Marker(time_s=0.1, name="Refrão ♪", kind="comment", text="mais alto, s’il vous plaît")
        ],
    )
    out = export_dawproject(s, None, tmp_path)  # a folder: the session name names the file
    assert out.parent == tmp_path and out.name == "Çanción número 1 — 混音.dawproject"
    project, metadata = _parts(out)
    if SCHEMA_DIR.is_dir():
        assert _schema("Project.xsd").validate(project)
    assert metadata.findtext("Title") == s.name
    back = import_dawproject(out, tmp_path / "back")
    # a control character XML cannot hold is dropped; everything else comes back
    assert [t.name for t in back.tracks] == [*names[:2], "Gitarre 🎸 links"]
    assert back.name == s.name
    assert back.markers[0].name == "Refrão ♪"
    assert back.markers[0].text == "mais alto, s’il vous plaît"
    assert all(t.id.isascii() for t in back.tracks)


def test_sixty_four_tracks(tmp_path: Path) -> None:
    paths = _stems(tmp_path / "stems", 64, seconds=0.1)
    groups = [Bus(id=f"g{k}", name=f"Group {k}", kind="group") for k in range(4)]
    tracks = [
        Track(
            id=f"t{i:02d}",
            name=f"Track {i + 1}",
            source=SourceFile(path=str(p)),
            bus=f"g{i % 4}" if i % 3 else None,
            chain=Chain(fader_db=-0.25 * i, pan=((i % 9) - 4) / 4.0, mute=i % 7 == 0),
        )
        for i, p in enumerate(paths)
    ]
    s = Session(name="Big", tracks=tracks, buses=groups)
    t0 = time.perf_counter()
    out = export_dawproject(s, None, tmp_path / "big.dawproject")
    export_s = time.perf_counter() - t0
    project, _ = _parts(out)
    if SCHEMA_DIR.is_dir():
        schema = _schema("Project.xsd")
        assert schema.validate(project), schema.error_log
        ids, refs = _idref_names(SCHEMA_DIR / "Project.xsd")
        assert _unresolved(project, ids, refs) == []
    assert len(project.findall(".//Channel[@role='regular']")) == 64
    assert len(project.findall(".//Channel[@role='submix']")) == 4
    t0 = time.perf_counter()
    back = import_dawproject(out, tmp_path / "big")
    import_s = time.perf_counter() - t0
    assert [t.name for t in back.tracks] == [t.name for t in tracks]
    for a, b in zip(tracks, back.tracks, strict=True):
        assert abs(b.chain.fader_db - a.chain.fader_db) <= 0.01
        assert abs(b.chain.pan - a.chain.pan) <= 0.01
        assert b.chain.mute == a.chain.mute
        assert (b.bus is None) == (a.bus is None)
    assert export_s < 20 and import_s < 20, (export_s, import_s)


# --------------------------------------------------------------------------------------------
# errors and hostile input


def test_missing_audio_exports_nothing(tmp_path: Path) -> None:
    (p,) = _stems(tmp_path, 1)
    s = Session(
        tracks=[
            Track(id="ok", name="OK", source=SourceFile(path=str(p))),
            Track(id="gone", name="Gone", source=SourceFile(path=str(tmp_path / "gone.wav"))),
        ]
    )
    out_dir = tmp_path / "out"
    with pytest.raises(ExportError, match=r"gone\.wav"):
        export_dawproject(s, None, out_dir / "x.dawproject")
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_unreadable_audio_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF this is not audio")
    s = Session(tracks=[Track(id="bad", name="Bad", source=SourceFile(path=str(bad)))])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(ExportError, match=r"bad\.wav"):
        export_dawproject(s, None, out_dir / "x.dawproject")
    assert list(out_dir.iterdir()) == []


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


@pytest.mark.parametrize("evil", ["../evil.wav", "audio/../../evil.wav", "/tmp/evil.wav"])
def test_path_traversal_is_refused(tmp_path: Path, evil: str) -> None:
    (p,) = _stems(tmp_path, 1)
    s = Session(tracks=[Track(id="t", name="T", source=SourceFile(path=str(p)))])
    good = export_dawproject(s, None, tmp_path / "good.dawproject")
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members[evil] = p.read_bytes()
    bad = _zip(tmp_path / "bad.dawproject", members)
    dest = tmp_path / "deep" / "dest"
    with pytest.raises(ExportError, match="refused") as err:
        import_dawproject(bad, dest)
    assert evil in str(err.value) and "bad.dawproject" in str(err.value)
    assert not (tmp_path / "deep" / "evil.wav").exists()
    assert not dest.exists()


def test_project_referencing_a_climbing_path_is_refused(tmp_path: Path) -> None:
    (p,) = _stems(tmp_path, 1)
    s = Session(tracks=[Track(id="t", name="T", source=SourceFile(path=str(p)))])
    good = export_dawproject(s, None, tmp_path / "good.dawproject")
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["project.xml"] = members["project.xml"].replace(b"audio/t.wav", b"../t.wav")
    bad = _zip(tmp_path / "bad.dawproject", members)
    with pytest.raises(ExportError, match=r"refused.*\.\./t\.wav"):
        import_dawproject(bad, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    # a destination that already exists is left as it was
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "mine.txt").write_text("mine")
    with pytest.raises(ExportError, match="refused"):
        import_dawproject(bad, keep)
    assert [p.name for p in keep.iterdir()] == ["mine.txt"]


def test_unreadable_audio_in_the_container_leaves_nothing(tmp_path: Path) -> None:
    (p,) = _stems(tmp_path, 1)
    s = Session(tracks=[Track(id="t", name="T", source=SourceFile(path=str(p)))])
    good = export_dawproject(s, None, tmp_path / "good.dawproject")
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["audio/t.wav"] = b"RIFF....WAVE but not really"
    bad = _zip(tmp_path / "bad.dawproject", members)
    with pytest.raises(ExportError, match=r"bad\.dawproject: audio/t\.wav is not readable audio"):
        import_dawproject(bad, tmp_path / "new" / "dest")
    assert list((tmp_path / "new").iterdir()) == []


def test_bad_containers_give_one_line_errors(tmp_path: Path) -> None:
    not_zip = tmp_path / "a.dawproject"
    not_zip.write_text("hello")
    no_project = _zip(tmp_path / "b.dawproject", {"metadata.xml": b"<MetaData/>"})
    broken = _zip(tmp_path / "c.dawproject", {"project.xml": b"<Project><Structure>"})
    missing_audio = _zip(
        tmp_path / "d.dawproject",
        {
            "project.xml": b"""<Project version="1.0"><Application name="x" version="1"/>
<Structure><Track id="t" name="T"><Channel id="c"/></Track></Structure>
<Arrangement><Lanes timeUnit="seconds"><Lanes track="t"><Clips><Clip time="0" duration="1">
<Audio channels="1" sampleRate="48000" duration="1"><File path="audio/none.wav"/></Audio>
</Clip></Clips></Lanes></Lanes></Arrangement></Project>"""
        },
    )
    cases = [
        (not_zip, "not a ZIP"),
        (no_project, "project.xml is missing"),
        (broken, "not valid XML"),
        (missing_audio, "audio/none.wav"),
        (tmp_path / "nothing.dawproject", "no such file"),
    ]
    for path, words in cases:
        with pytest.raises(ExportError) as err:
            import_dawproject(path, tmp_path / "dest")
        msg = str(err.value)
        assert path.name in msg and words in msg and "\n" not in msg, msg


def test_external_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    meta = f"""<?xml version="1.0"?>
<!DOCTYPE MetaData [<!ENTITY x SYSTEM "file://{secret}">]>
<MetaData><Title>&x;</Title></MetaData>""".encode()
    project = b'<Project version="1.0"><Application name="x" version="1"/></Project>'
    src = _zip(tmp_path / "x.dawproject", {"project.xml": project, "metadata.xml": meta})
    s = import_dawproject(src, tmp_path / "dest")
    # the title would be the file's text if the entity were resolved; it falls back instead
    assert s.name == "x"
    assert s.tracks == []


# --------------------------------------------------------------------------------------------
# projects written by other DAWs


def test_import_beats_warps_and_other_units(tmp_path: Path) -> None:
    """A project in the style DAWs write: arrangement in beats, audio inside Warps, volume in
    decibel, tracks nested in a group, a clip later than mixwise's delay can reach (bounced),
    an unknown reverb plug-in."""
    one_s = sine(440.0, seconds=1.0, sample_rate=44_100, amplitude=0.5)
    write_wav(tmp_path / "src" / "kick.wav", one_s, 44_100)
    project = b"""<?xml version="1.0" encoding="UTF-8"?>
<Project version="1.0">
  <Application name="Other DAW" version="5"/>
  <Transport><Tempo unit="bpm" value="120"/></Transport>
  <Structure>
    <Track id="tg" name="Drums" contentType="tracks">
      <Channel id="cg" role="submix" destination="cm"><Volume unit="linear" value="0.5"/></Channel>
      <Track id="t1" name="Kick" color="#112233FF" contentType="audio">
        <Channel id="c1" role="regular" audioChannels="1">
          <Mute value="true"/>
          <Pan unit="normalized" value="0.25"/>
          <Sends><Send destination="cfx"><Volume unit="linear" value="0.5"/></Send></Sends>
          <Volume unit="decibel" value="-4.5"/>
        </Channel>
      </Track>
    </Track>
    <Track id="t2" name="Late" contentType="audio">
      <Channel id="c2" role="regular" destination="cm"><Volume unit="linear" value="1"/></Channel>
    </Track>
    <Track id="tfx" name="Hall" contentType="audio">
      <Channel id="cfx" role="effect" destination="cm">
        <Devices><Vst3Plugin deviceName="ValhallaRoom" deviceRole="audioFX"/></Devices>
      </Channel>
    </Track>
    <Track id="tm" name="Master"><Channel id="cm" role="master"/></Track>
  </Structure>
  <Arrangement>
    <Lanes timeUnit="beats">
      <Lanes track="t1"><Clips track="t1">
        <Clip time="0" duration="2" playStart="0">
          <Warps contentTimeUnit="seconds" timeUnit="beats">
            <Audio channels="1" sampleRate="44100" duration="1" timeUnit="seconds">
              <File path="samples/kick.wav"/></Audio>
            <Warp time="0" contentTime="0"/><Warp time="2" contentTime="1"/>
          </Warps>
        </Clip>
      </Clips></Lanes>
      <Lanes track="t2"><Clips>
        <Clip time="8" duration="1.5" playStart="0.25" contentTimeUnit="seconds">
          <Audio channels="1" sampleRate="44100" duration="1" timeUnit="seconds">
            <File path="samples/kick.wav"/></Audio>
        </Clip>
      </Clips></Lanes>
    </Lanes>
    <Markers><Marker time="4" name="Verse"/></Markers>
  </Arrangement>
</Project>"""
    src = _zip(
        tmp_path / "other.dawproject",
        {"project.xml": project, "samples/kick.wav": (tmp_path / "src" / "kick.wav").read_bytes()},
    )
    s = import_dawproject(src, tmp_path / "dest")
    assert s.name == "other" and s.sample_rate == 44_100
    kick, late = s.tracks
    assert kick.role == "kick"  # from the name
    assert kick.colour == "#112233"
    assert kick.chain.fader_db == -4.5 and kick.chain.mute
    assert kick.chain.pan == pytest.approx(-0.5)
    assert kick.regions == [] and kick.chain.delay_ms == 0.0
    assert kick.chain.sends[0].level_db == pytest.approx(-6.0206, abs=1e-3)
    # nested in a submix track without a destination of its own: routed to the group
    assert kick.bus == "drums" and late.bus is None
    drums, hall = s.buses
    assert drums.kind == "group" and drums.chain.fader_db == pytest.approx(-6.0206, abs=1e-3)
    assert hall.kind == "aux" and isinstance(hall.effect, Reverb)
    assert kick.chain.sends[0].bus == "hall"
    assert s.markers[0].time_s == pytest.approx(2.0)  # beat 4 at 120 BPM
    # beat 8 = 4 s, beyond the delay range: bounced to a file aligned to the session start
    assert Path(late.source.path).parent.name == "consolidated"
    audio, _info, _ = load_file(late.source.path)
    assert audio.shape[1] == round(4.75 * 44_100)  # 1.5 beats = 0.75 s from 4 s
    assert np.abs(audio[:, : 4 * 44_100]).max() == 0.0
    np.testing.assert_allclose(audio[0, 4 * 44_100 :], one_s[0, round(0.25 * 44_100) :], atol=0)
    assert any("bounced" in h.reason for h in s.history)
    assert any("ValhallaRoom" in h.reason for h in s.history)


# --------------------------------------------------------------------------------------------
# real song excerpt


@pytest.mark.realdata
def test_real_song_excerpt_round_trip(tmp_path: Path) -> None:
    stems = sorted((DATA_DIR / "musdb_falcon69" / "stems").glob("*"))
    if not stems:
        pytest.skip("musdb_falcon69 is absent")
    tracks = [
        Track(
            id=f"s{i}",
            name=p.stem,
            source=SourceFile(path=str(p)),
            regions=[Region(start_s=1.0, end_s=3.0, fade_in_ms=20.0, fade_out_ms=50.0)],
            chain=Chain(fader_db=-2.0 * i, pan=0.2 * i - 0.3),
        )
        for i, p in enumerate(stems)
    ]
    s = Session(name="falcon69 excerpt", sample_rate=44_100, tracks=tracks)
    out = export_dawproject(s, None, tmp_path / "falcon.dawproject")
    if SCHEMA_DIR.is_dir():
        project, _ = _parts(out)
        assert _schema("Project.xsd").validate(project)
    back = import_dawproject(out, tmp_path / "falcon")
    for a, b in zip(tracks, back.tracks, strict=True):
        assert b.regions == a.regions
        assert abs(b.chain.fader_db - a.chain.fader_db) <= 0.01
        want, _, _ = load_file(a.source.path, sample_rate=44_100)
        got, _, _ = load_file(b.source.path)
        assert np.array_equal(want, got), a.name
