"""DAWproject export and import: the open exchange format of Bitwig, Studio One and Cubase.

A ``.dawproject`` file is a ZIP container holding ``project.xml`` (the mixer and the
arrangement), ``metadata.xml`` (title, comment) and the audio the clips play. This module
writes one from a mixwise session (:func:`export_dawproject`) and reads one back into a
session (:func:`import_dawproject`). ``docs/dawproject.md`` holds the full mapping table; the
units are the format's own:

* channel and send ``Volume``: ``linear`` gain (1.0 = 0 dB, 0.0 = silence);
* ``Pan``: ``normalized``, 0.0 hard left, 0.5 centre, 1.0 hard right (mixwise: -1..+1);
* EQ ``Freq`` in ``hertz``, ``Gain`` in ``decibel``, ``Q`` ``linear``;
* compressor ``Threshold`` and ``OutputGain`` (make-up) in ``decibel``, ``Attack`` and
  ``Release`` in ``seconds``, ``Ratio`` in ``percent``: 100 * (1 - 1/ratio), so 1:1 is 0 %,
  2:1 is 50 %, 4:1 is 75 % and infinity:1 would be 100 %;
* limiter ``Threshold`` (the ceiling) in ``decibel``, ``Attack`` (the look-ahead) and
  ``Release`` in ``seconds``;
* the arrangement is written in ``seconds`` (``timeUnit="seconds"``); the tempo (120 BPM unless
  given) only sets the DAW's grid.

A mixer channel has no trim: a track's ``trim_db`` is folded into its ``Volume`` (the volume
written is ``trim_db + fader_db``), and an import gives it back as the fader (trim 0 dB).
High- and low-pass filters steeper than 12 dB/octave become cascades of ``highPass`` /
``lowPass`` bands at one frequency with the Butterworth Q of each section, which is exact for
12/24/36/48 dB/octave; 6 and 18 dB/octave have a first-order section that the format cannot
state, written as a Q = 0.5 band (approximate). What the format cannot hold at all (polarity,
stereo width, compressor knee/detector in other DAWs) is named in the channel's ``comment``;
click repairs are written into the exported audio.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree
from pydantic import ValidationError

from mixwise import __version__
from mixwise.errors import ExportError, MixwiseError, ParameterError
from mixwise.export.common import atomic_output, check_sources, write_track_wavs
from mixwise.session.model import (
    Bus,
    BusChain,
    Chain,
    Compressor,
    Delay,
    EQBand,
    Filter,
    GainRamp,
    HistoryEntry,
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

if TYPE_CHECKING:  # numpy is imported inside the functions that handle audio
    import numpy as np

log = logging.getLogger(__name__)

#: The DAWproject format version written into ``<Project version>``.
DAWPROJECT_VERSION = "1.0"
#: Tempo (BPM) written when the caller knows none.
DEFAULT_TEMPO_BPM = 120.0
#: Folder of the audio files inside the container.
AUDIO_FOLDER = "audio"
#: The container's XML parts.
PROJECT_XML = "project.xml"
METADATA_XML = "metadata.xml"
#: An XML part larger than this (bytes) is refused on import.
MAX_XML_BYTES = 64 * 1024 * 1024
#: Highest linear volume a DAW fader is told it may reach (+6 dB), unless the value is higher.
VOLUME_MAX_LINEAR = 2.0

_EQ_TYPE_OUT = {
    "peak": "bell",
    "low_shelf": "lowShelf",
    "high_shelf": "highShelf",
    "notch": "notch",
    "band_pass": "bandPass",
    "low_pass": "lowPass",
    "high_pass": "highPass",
}
_EQ_TYPE_IN = {v: k for k, v in _EQ_TYPE_OUT.items()}
_GAIN_TYPES = frozenset({"peak", "low_shelf", "high_shelf"})
#: Colour given to timed comments (markers of kind ``comment``) in the DAW.
COMMENT_COLOUR = "#E0B040"
_REVERB_ID = "mixwise.reverb"
_DELAY_ID = "mixwise.delay"
_XML_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ============================================================================================
# small shared helpers


def _num(x: float) -> str:
    """A number as xs:double text (12 significant digits; never ``inf`` or ``nan``)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot write {x!r} into a DAWproject")
    text = format(x, ".12g")
    return "0" if text == "-0" else text


def _text(s: str) -> str:
    """``s`` without the characters XML 1.0 cannot hold."""
    return _XML_BAD_CHARS.sub("", s)


def db_to_linear(level_db: float) -> float:
    """Linear gain of a level in dB (``-inf`` -> 0.0)."""
    return 0.0 if level_db == -math.inf else 10.0 ** (level_db / 20.0)


def linear_to_db(gain: float) -> float:
    """Level in dB of a linear gain (0 or less -> ``-inf``), rounded to 1e-6 dB."""
    return -math.inf if gain <= 0.0 else round(20.0 * math.log10(gain), 6)


def pan_to_normalized(pan: float) -> float:
    """mixwise pan (-1 left .. +1 right) -> DAWproject ``normalized`` pan (0 .. 1)."""
    return (min(max(pan, -1.0), 1.0) + 1.0) / 2.0


def normalized_to_pan(value: float) -> float:
    """DAWproject ``normalized`` pan (0 .. 1) -> mixwise pan (-1 .. +1)."""
    return round(min(max(2.0 * value - 1.0, -1.0), 1.0), 9)


def ratio_to_percent(ratio: float) -> float:
    """Compression ratio (``ratio``:1) -> the format's ``percent``: 100 * (1 - 1/ratio)."""
    return 100.0 * (1.0 - 1.0 / max(ratio, 1.0))


def percent_to_ratio(percent: float) -> float:
    """The format's ``percent`` ratio -> ``ratio``:1 (100 % and above -> 100:1)."""
    p = min(max(percent, 0.0), 100.0)
    return 100.0 if p >= 99.0 else round(1.0 / (1.0 - p / 100.0), 6)


def _butterworth_qs(slope_db_oct: int) -> list[float]:
    """Q of each second-order section of a Butterworth filter of ``slope_db_oct``; the
    first-order section of an odd order is given as Q = 0.5 (its nearest biquad stand-in)."""
    order = slope_db_oct // 6
    qs = [0.5] if order % 2 else []
    if order % 2:
        angles = [k * math.pi / order for k in range(1, (order - 1) // 2 + 1)]
    else:
        angles = [(2 * k - 1) * math.pi / (2 * order) for k in range(1, order // 2 + 1)]
    qs.extend(1.0 / (2.0 * math.cos(a)) for a in angles)
    return sorted(qs)


_SLOPE_QS = {s: _butterworth_qs(s) for s in (6, 12, 18, 24, 36, 48)}


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


# ============================================================================================
# export


@dataclass(frozen=True)
class _Media:
    """One track's audio inside the container: its path, channels, rate (Hz), length (s)."""

    member: str
    channels: int
    sample_rate: int
    duration_s: float


class _Ids:
    """Document-unique ids (``id1``, ``id2`` ...), valid as xs:ID."""

    def __init__(self) -> None:
        self.n = 0

    def new(self) -> str:
        self.n += 1
        return f"id{self.n}"


def _el(parent: etree._Element, tag: str, **attrs: object) -> etree._Element:
    """A child element; ``None`` attributes are left out, booleans written as xs:boolean."""
    e = etree.SubElement(parent, tag)
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, bool):
            e.set(k, "true" if v else "false")
        elif isinstance(v, (int, float)):
            e.set(k, _num(v) if isinstance(v, float) else str(v))
        else:
            e.set(k, _text(str(v)))
    return e


def _real(
    parent: etree._Element,
    tag: str,
    value: float,
    unit: str,
    *,
    pid: str | None = None,
    name: str | None = None,
    lo: float | None = None,
    hi: float | None = None,
) -> etree._Element:
    return _el(
        parent,
        tag,
        id=pid,
        name=name,
        unit=unit,
        value=float(value),
        min=None if lo is None else float(lo),
        max=None if hi is None else float(hi),
    )


def _boolean(
    parent: etree._Element, tag: str, value: bool, *, pid: str | None = None
) -> etree._Element:
    return _el(parent, tag, id=pid, value=bool(value))


def _filter_bands(f: Filter, kind: str) -> list[tuple[str, float, float | None, float, bool]]:
    """(type, freq Hz, gain dB or None, Q, enabled) of the bands that make filter ``f``."""
    if not f.enabled:
        return []
    return [(kind, f.freq_hz, None, q, True) for q in _SLOPE_QS[f.slope_db_oct]]


def _eq_bands(bands: Iterable[EQBand]) -> list[tuple[str, float, float | None, float, bool]]:
    return [
        (
            _EQ_TYPE_OUT[b.type],
            b.freq_hz,
            b.gain_db if b.type in _GAIN_TYPES else None,
            b.q,
            b.enabled,
        )
        for b in bands
    ]


def _equalizer(
    devices: etree._Element,
    ids: _Ids,
    bands: Sequence[tuple[str, float, float | None, float, bool]],
    *,
    name: str = "EQ",
) -> None:
    if not bands:
        return
    eq = _el(devices, "Equalizer", id=ids.new(), deviceName=name, deviceRole="audioFX")
    _boolean(eq, "Enabled", True, pid=ids.new())
    for i, (kind, freq, gain, q, enabled) in enumerate(bands):
        band = _el(eq, "Band", type=kind, order=i)
        _real(band, "Freq", freq, "hertz", pid=ids.new(), lo=10.0, hi=24_000.0)
        if gain is not None:
            _real(band, "Gain", gain, "decibel", pid=ids.new(), lo=-48.0, hi=48.0)
        _real(band, "Q", q, "linear", pid=ids.new(), lo=0.1, hi=40.0)
        _boolean(band, "Enabled", enabled, pid=ids.new())


def _compressor(devices: etree._Element, ids: _Ids, c: Compressor) -> None:
    if not c.enabled and c == Compressor():
        return
    comp = _el(devices, "Compressor", id=ids.new(), deviceName="Compressor", deviceRole="audioFX")
    params = _el(comp, "Parameters")
    # knee and detector have no element of their own; they travel as named parameters
    _real(params, "RealParameter", c.knee_db, "decibel", pid=ids.new(), name="Knee", lo=0, hi=24)
    _el(
        params,
        "EnumParameter",
        id=ids.new(),
        name="Detector",
        count=2,
        labels="peak rms",
        value=0 if c.detector == "peak" else 1,
    )
    _boolean(comp, "Enabled", c.enabled, pid=ids.new())
    _real(comp, "Attack", c.attack_ms / 1000.0, "seconds", pid=ids.new())
    _boolean(comp, "AutoMakeup", False, pid=ids.new())
    _real(comp, "OutputGain", c.makeup_db, "decibel", pid=ids.new())
    _real(comp, "Ratio", ratio_to_percent(c.ratio), "percent", pid=ids.new(), lo=0, hi=100)
    _real(comp, "Release", c.release_ms / 1000.0, "seconds", pid=ids.new())
    _real(comp, "Threshold", c.threshold_db, "decibel", pid=ids.new())


def _limiter(devices: etree._Element, ids: _Ids, master: Master) -> None:
    lim = master.limiter
    dev = _el(devices, "Limiter", id=ids.new(), deviceName="Limiter", deviceRole="audioFX")
    if master.target_lufs is not None:
        params = _el(dev, "Parameters")
        # the gain that reaches the target is found when rendering; the target itself is kept
        p = _real(params, "RealParameter", master.target_lufs, "decibel", pid=ids.new())
        p.set("name", "TargetLoudness")
        p.set("comment", "integrated loudness target, LUFS (BS.1770)")
    _boolean(dev, "Enabled", lim.enabled, pid=ids.new())
    _real(dev, "Attack", lim.lookahead_ms / 1000.0, "seconds", pid=ids.new())
    if master.target_lufs is None:
        _real(dev, "InputGain", master.gain_db, "decibel", pid=ids.new())
    _real(dev, "Release", lim.release_ms / 1000.0, "seconds", pid=ids.new())
    _real(dev, "Threshold", lim.ceiling_dbtp, "decibel", pid=ids.new())


def _effect(devices: etree._Element, ids: _Ids, fx: Reverb | Delay) -> None:
    name, device_id = ("Reverb", _REVERB_ID) if isinstance(fx, Reverb) else ("Delay", _DELAY_ID)
    dev = _el(
        devices,
        "BuiltinDevice",
        id=ids.new(),
        deviceName=name,
        deviceRole="audioFX",
        deviceID=device_id,
        deviceVendor="mixwise",
    )
    params = _el(dev, "Parameters")
    if isinstance(fx, Reverb):
        _real(params, "RealParameter", fx.decay_s, "seconds", pid=ids.new(), name="Decay")
        _real(
            params,
            "RealParameter",
            fx.predelay_ms / 1000,
            "seconds",
            pid=ids.new(),
            name="Predelay",
        )
        _real(params, "RealParameter", fx.damping * 100, "percent", pid=ids.new(), name="Damping")
        _real(params, "RealParameter", fx.width * 100, "percent", pid=ids.new(), name="Width")
        _el(params, "IntegerParameter", id=ids.new(), name="Seed", value=int(fx.seed))
    else:
        for name, ms in (("TimeLeft", fx.time_left_ms), ("TimeRight", fx.time_right_ms)):
            _real(params, "RealParameter", ms / 1000, "seconds", pid=ids.new(), name=name)
        _real(params, "RealParameter", fx.feedback * 100, "percent", pid=ids.new(), name="Feedback")
        _real(params, "RealParameter", fx.damping_hz, "hertz", pid=ids.new(), name="Damping")
    _boolean(dev, "Enabled", True, pid=ids.new())


@dataclass
class _ChannelSpec:
    """What one mixer channel carries (levels in dB, pan -1..+1)."""

    channel_id: str
    role: str
    audio_channels: int
    destination: str | None
    volume_db: float
    pan: float
    mute: bool
    solo: bool | None = None
    comment: str = ""
    sends: list[tuple[str, Send]] = field(default_factory=list)
    volume_id: str | None = None


def _channel(
    parent: etree._Element,
    ids: _Ids,
    spec: _ChannelSpec,
    add_devices: Callable[[etree._Element], None],
) -> etree._Element:
    ch = _el(
        parent,
        "Channel",
        id=spec.channel_id,
        comment=spec.comment or None,
        audioChannels=spec.audio_channels,
        destination=spec.destination,
        role=spec.role,
        solo=spec.solo,
    )
    devices = _el(ch, "Devices")
    add_devices(devices)
    if len(devices) == 0:
        ch.remove(devices)
    _boolean(ch, "Mute", spec.mute, pid=ids.new())
    _real(ch, "Pan", pan_to_normalized(spec.pan), "normalized", pid=ids.new(), lo=0.0, hi=1.0)
    if spec.sends:
        sends = _el(ch, "Sends")
        for dest, s in spec.sends:
            send = _el(
                sends, "Send", id=ids.new(), destination=dest, type="pre" if s.pre_fader else "post"
            )
            _boolean(send, "Enable", s.level_db != -math.inf, pid=ids.new())
            v = db_to_linear(s.level_db)
            _real(send, "Volume", v, "linear", pid=ids.new(), lo=0.0, hi=max(VOLUME_MAX_LINEAR, v))
    v = db_to_linear(spec.volume_db)
    spec.volume_id = ids.new()
    _real(ch, "Volume", v, "linear", pid=spec.volume_id, lo=0.0, hi=max(VOLUME_MAX_LINEAR, v))
    return ch


def _track_notes(t: Track) -> str:
    c = t.chain
    notes = []
    if c.trim_db:
        notes.append(f"trim {c.trim_db:+.2f} dB folded into Volume")
    if c.delay_ms:
        notes.append(f"delay {c.delay_ms:+.2f} ms applied to the clip positions")
    if c.polarity_inverted:
        notes.append("polarity inverted in mixwise (not exported)")
    if c.width != 1.0:
        notes.append(f"stereo width {c.width:.2f} in mixwise (not exported)")
    if t.repairs:
        notes.append(f"{len(t.repairs)} click repair(s) written into the clip's audio")
    if c.automation:
        notes.append("fader automation exported as Volume points")
    return "; ".join(notes)


def _bus_notes(chain: BusChain) -> str:
    return f"stereo width {chain.width:.2f} in mixwise (not exported)" if chain.width != 1 else ""


def _clip_spans(track: Track, duration_s: float) -> list[tuple[float, float, float, float, float]]:
    """(timeline start s, duration s, start in the file s, fade in s, fade out s) per clip:
    the track's regions (or the whole file) moved by its delay."""
    delay_s = track.chain.delay_ms / 1000.0
    if track.regions:
        spans = [
            (r.start_s, min(r.end_s, duration_s), r.fade_in_ms / 1000, r.fade_out_ms / 1000)
            for r in sorted(track.regions, key=lambda r: r.start_s)
        ]
    else:
        spans = [(0.0, duration_s, 0.0, 0.0)]
    out = []
    for start, end, fade_in, fade_out in spans:
        at = start + delay_s
        if at < 0.0:  # a negative delay moves audio before the session start: cut it there
            start, at = start - at, 0.0
        if end - start <= 1e-9:
            continue
        length = end - start
        out.append((at, length, start, min(fade_in, length), min(fade_out, length)))
    return out


def _automation_points(chain: Chain) -> list[tuple[float, float]]:
    """(time s, level dB) breakpoints of the fader automation (ramps linear in dB)."""
    base = chain.trim_db + chain.fader_db
    ramps: list[GainRamp] = chain.automation
    times: set[float] = {0.0}
    for r in ramps:
        half = r.ramp_ms / 2000.0
        for t in (r.start_s - half, r.start_s + half, r.end_s - half, r.end_s + half):
            times.add(max(t, 0.0))

    def offset(t: float) -> float:
        total = 0.0
        for r in ramps:
            half = r.ramp_ms / 2000.0
            if half <= 0:
                up = 1.0 if t >= r.start_s else 0.0
                down = 1.0 if t < r.end_s else 0.0
            else:
                up = _clamp((t - (r.start_s - half)) / (2 * half), 0.0, 1.0)
                down = _clamp(((r.end_s + half) - t) / (2 * half), 0.0, 1.0)
            total += r.gain_db * min(up, down)
        return total

    return [(t, base + offset(t)) for t in sorted(times)]


def _build_project(
    session: Session, media: dict[str, _Media], *, tempo_bpm: float
) -> etree._Element:
    ids = _Ids()
    project = etree.Element("Project", version=DAWPROJECT_VERSION)
    _el(project, "Application", name="mixwise", version=__version__)
    transport = _el(project, "Transport")
    _real(transport, "Tempo", tempo_bpm, "bpm", pid=ids.new(), name="Tempo", lo=20.0, hi=999.0)
    _el(transport, "TimeSignature", id=ids.new(), numerator=4, denominator=4)
    structure = _el(project, "Structure")

    master_ch = ids.new()
    bus_ch = {b.id: ids.new() for b in session.buses}
    track_el_ids = {t.id: ids.new() for t in session.tracks}
    track_specs: dict[str, _ChannelSpec] = {}

    def add_track(parent: etree._Element, t: Track) -> None:
        c = t.chain
        spec = _ChannelSpec(
            channel_id=ids.new(),
            role="regular",
            audio_channels=media[t.id].channels,
            destination=bus_ch[t.bus] if t.bus else master_ch,
            volume_db=(c.fader_db + c.trim_db) if c.fader_db != -math.inf else -math.inf,
            pan=c.pan,
            mute=c.mute,
            solo=c.solo,
            comment=_track_notes(t),
            sends=[(bus_ch[s.bus], s) for s in c.sends],
        )
        el = _el(
            parent,
            "Track",
            id=track_el_ids[t.id],
            name=t.name,
            color=t.colour,
            comment=f"role: {t.role}",
            contentType="audio",
            loaded=True,
        )

        def devices(d: etree._Element) -> None:
            bands = _filter_bands(c.high_pass, "highPass") + _filter_bands(c.low_pass, "lowPass")
            _equalizer(d, ids, bands + _eq_bands(c.eq))
            _compressor(d, ids, c.compressor)

        _channel(el, ids, spec, devices)
        track_specs[t.id] = spec

    def bus_spec(b: Bus, role: str) -> _ChannelSpec:
        return _ChannelSpec(
            channel_id=bus_ch[b.id],
            role=role,
            audio_channels=2,
            destination=master_ch,
            volume_db=b.chain.fader_db,
            pan=b.chain.pan,
            mute=b.chain.mute,
            comment=_bus_notes(b.chain),
        )

    def bus_devices(b: Bus) -> Callable[[etree._Element], None]:
        ch = b.chain

        def devices(d: etree._Element) -> None:
            filters = _filter_bands(ch.high_pass, "highPass") + _filter_bands(
                ch.low_pass, "lowPass"
            )
            if b.effect is not None:  # an aux bus filters its input, before the effect
                _equalizer(d, ids, filters, name="Filters")
                _effect(d, ids, b.effect)
                _equalizer(d, ids, _eq_bands(ch.eq))
            else:
                _equalizer(d, ids, filters + _eq_bands(ch.eq))
            _compressor(d, ids, ch.compressor)

        return devices

    groups = {b.id: b for b in session.buses if b.kind == "group"}
    emitted: set[str] = set()

    def add_group(b: Bus) -> None:
        emitted.add(b.id)
        el = _el(
            structure,
            "Track",
            id=ids.new(),
            name=b.name,
            color=b.colour,
            contentType="tracks",
            loaded=True,
        )
        _channel(el, ids, bus_spec(b, "submix"), bus_devices(b))
        for member in session.tracks:
            if member.bus == b.id:
                add_track(el, member)

    for t in session.tracks:
        if t.bus is None:
            add_track(structure, t)
        elif t.bus not in emitted:
            add_group(groups[t.bus])
    for b in groups.values():
        if b.id not in emitted:
            add_group(b)
    for b in session.buses:
        if b.kind == "aux":
            el = _el(
                structure,
                "Track",
                id=ids.new(),
                name=b.name,
                color=b.colour,
                contentType="audio",
                loaded=True,
            )
            _channel(el, ids, bus_spec(b, "effect"), bus_devices(b))

    m = session.master
    master_track = _el(structure, "Track", id=ids.new(), name="Master", loaded=True)
    master_spec = _ChannelSpec(
        channel_id=master_ch,
        role="master",
        audio_channels=2,
        destination=None,
        volume_db=0.0,
        pan=0.0,
        mute=False,
        comment=(
            f"loudness target {m.target_lufs:g} LUFS (the gain before the limiter is set when "
            "mixwise renders)"
            if m.target_lufs is not None
            else ""
        ),
    )

    def master_devices(d: etree._Element) -> None:
        _equalizer(d, ids, _filter_bands(m.high_pass, "highPass") + _eq_bands(m.eq))
        _compressor(d, ids, m.compressor)
        _limiter(d, ids, m)

    _channel(master_track, ids, master_spec, master_devices)

    # the arrangement: one lane per track holding its clips (and its fader automation)
    arrangement = _el(project, "Arrangement", id=ids.new())
    lanes = _el(arrangement, "Lanes", id=ids.new(), timeUnit="seconds")
    for t in session.tracks:
        md = media[t.id]
        lane = _el(lanes, "Lanes", id=ids.new(), track=track_el_ids[t.id])
        clips = _el(lane, "Clips", id=ids.new())
        for at, length, start, fade_in, fade_out in _clip_spans(t, md.duration_s):
            clip = _el(
                clips,
                "Clip",
                name=t.name,
                time=float(at),
                duration=float(length),
                contentTimeUnit="seconds",
                playStart=float(start),
                fadeTimeUnit="seconds" if (fade_in or fade_out) else None,
                fadeInTime=float(fade_in) if fade_in else None,
                fadeOutTime=float(fade_out) if fade_out else None,
            )
            audio = _el(
                clip,
                "Audio",
                id=ids.new(),
                timeUnit="seconds",
                duration=float(md.duration_s),
                channels=md.channels,
                sampleRate=md.sample_rate,
            )
            _el(audio, "File", path=md.member)
        c = t.chain
        if c.automation and c.fader_db != -math.inf:
            points = _el(lane, "Points", id=ids.new(), unit="linear")
            _el(points, "Target", parameter=track_specs[t.id].volume_id)
            for time_s, level_db in _automation_points(c):
                _el(
                    points,
                    "RealPoint",
                    time=_num(time_s),
                    value=_num(db_to_linear(level_db)),
                    interpolation="linear",
                )
    if session.markers:
        markers = _el(arrangement, "Markers", id=ids.new(), timeUnit="seconds")
        for mk in sorted(session.markers, key=lambda x: x.time_s):
            _el(
                markers,
                "Marker",
                name=mk.name,
                # a marker with a comment reads back as a timed comment
                comment=(mk.text or mk.name) if mk.kind == "comment" else (mk.text or None),
                color=COMMENT_COLOUR if mk.kind == "comment" else None,
                time=float(mk.time_s),
            )
    return project


def _build_metadata(session: Session) -> etree._Element:
    meta = etree.Element("MetaData")
    etree.SubElement(meta, "Title").text = _text(session.name)
    etree.SubElement(meta, "Comment").text = f"Exported by mixwise {__version__}"
    return meta


def _xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", standalone=True, pretty_print=True
    )


def _safe_file_name(name: str) -> str:
    cleaned = re.sub(r'[\x00-\x1f/\\:*?"<>|]+', "_", name).strip(" ._")
    return cleaned[:120] or "mix"


def _media_of(wavs: dict[str, Path]) -> dict[str, _Media]:
    import soundfile as sf

    out = {}
    for tid, p in wavs.items():
        info = sf.info(str(p))
        out[tid] = _Media(
            member=f"{AUDIO_FOLDER}/{p.name}",
            channels=int(info.channels),
            sample_rate=int(info.samplerate),
            duration_s=info.frames / info.samplerate,
        )
    return out


def export_dawproject(
    session: Session,
    session_path: str | os.PathLike[str] | None,
    out_file: str | os.PathLike[str],
    *,
    tempo_bpm: float | None = None,
) -> Path:
    """Write ``session`` as a DAWproject file (a ZIP with project.xml, metadata.xml, audio).

    Parameters
    ----------
    session : the mix document; it is not modified.
    session_path : the session file its relative ``source.path`` entries are relative to
        (``None``: relative to the working directory).
    out_file : the ``.dawproject`` file to write (the suffix is added when missing), or an
        existing folder, which receives ``<session name>.dawproject``.
    tempo_bpm : the song's tempo in beats per minute, when known (default 120 BPM); the
        arrangement is in seconds, so the tempo only sets the DAW's bar grid.

    Returns the path written. Every track's audio is decoded at the session rate and stored
    as 32-bit float WAV under ``audio/``. Raises :class:`ExportError` naming every missing
    audio file before anything is written; on any error no file is left behind.
    """
    tempo = DEFAULT_TEMPO_BPM if tempo_bpm is None else float(tempo_bpm)
    if not (math.isfinite(tempo) and 20.0 <= tempo <= 999.0):
        raise ParameterError(f"tempo_bpm must be 20-999 BPM, got {tempo_bpm!r}")
    out = Path(out_file)
    if out.is_dir():
        out = out / f"{_safe_file_name(session.name)}.dawproject"
    elif out.suffix.lower() != ".dawproject":
        out = out.with_name(out.name + ".dawproject")
    check_sources(session, session_path)
    with atomic_output(out, is_dir=False) as tmp:
        wavs = write_track_wavs(session, session_path, tmp.parent / "audio-files")
        media = _media_of(wavs)
        project = _build_project(session, media, tempo_bpm=tempo)
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
            zf.writestr(PROJECT_XML, _xml_bytes(project), compress_type=zipfile.ZIP_DEFLATED)
            zf.writestr(
                METADATA_XML,
                _xml_bytes(_build_metadata(session)),
                compress_type=zipfile.ZIP_DEFLATED,
            )
            for tid, p in wavs.items():
                # float WAV barely compresses: store it, which is fast
                zf.write(p, media[tid].member, compress_type=zipfile.ZIP_STORED)
    return out


# ============================================================================================
# import


def safe_member_name(name: str) -> str | None:
    """The normalised relative path of a ZIP member, or ``None`` when it is unsafe to
    extract: absolute (``/x``, ``C:x``, ``\\\\server``), climbing (``..``) or holding NUL."""
    n = name.replace("\\", "/")
    if not n or "\x00" in n or n.startswith("/") or re.match(r"^[A-Za-z]:", n):
        return None
    parts = [p for p in n.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


@dataclass
class _ClipRef:
    """One audio clip on the session timeline (seconds)."""

    file: str  # container member (or an external absolute path, see ``external``)
    external: bool
    at_s: float
    length_s: float
    offset_s: float  # where in the file the clip starts
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0


@dataclass
class _TrackPlan:
    name: str
    colour: str | None
    role_comment: str
    channel: etree._Element | None
    bus: str | None
    clips: list[_ClipRef] = field(default_factory=list)


class _Reader:
    """Turns a parsed project.xml into the parts of a session."""

    def __init__(self, root: etree._Element, origin: str) -> None:
        self.root = root
        self.origin = origin
        self.by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
        self.tempo = self._tempo()
        self.notes: list[tuple[str, str]] = []  # (target, what was approximated)

    def note(self, target: str, what: str) -> None:
        self.notes.append((target, what))
        log.info("%s: %s: %s", self.origin, target, what)

    def _tempo(self) -> float:
        t = self.root.find("Transport/Tempo")
        value = _float(t.get("value") if t is not None else None, DEFAULT_TEMPO_BPM)
        return value if 1.0 <= value <= 2000.0 else DEFAULT_TEMPO_BPM

    def seconds(self, value: float, unit: str) -> float:
        return value * 60.0 / self.tempo if unit == "beats" else value


def _float(text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        x = float(text)
    except ValueError:
        return default
    return x if math.isfinite(x) else default


def _inherited_unit(e: etree._Element) -> str:
    """The time unit ``e``'s own position is in: its nearest ancestor's ``timeUnit`` (beats
    when none says, as the format defines)."""
    for a in e.iterancestors():
        unit = a.get("timeUnit")
        if unit in ("beats", "seconds"):
            return unit
    return "beats"


def _level_db(param: etree._Element | None, default: float = 0.0) -> float:
    """A volume parameter in dB, whatever its unit (linear / decibel / percent)."""
    if param is None:
        return default
    value = _float(param.get("value"), math.nan)
    if math.isnan(value):
        return default
    unit = param.get("unit", "linear")
    if unit == "decibel":
        db = value
    elif unit == "percent":
        db = linear_to_db(value / 100.0)
    else:  # linear, and normalized read as a linear gain
        db = linear_to_db(value)
    return min(db, 24.0)


def _pan(param: etree._Element | None) -> float:
    if param is None:
        return 0.0
    value = _float(param.get("value"), math.nan)
    if math.isnan(value):
        return 0.0
    unit = param.get("unit", "normalized")
    if unit == "normalized":
        return normalized_to_pan(value)
    if unit == "percent":
        return round(_clamp(value / 100.0, -1.0, 1.0), 9)
    return round(_clamp(value, -1.0, 1.0), 9)


def _bool_value(param: etree._Element | None, default: bool) -> bool:
    if param is None or param.get("value") is None:
        return default
    return param.get("value", "").strip().lower() in ("true", "1")


def _param(device: etree._Element, name: str) -> etree._Element | None:
    for p in device.findall("Parameters/*"):
        if (p.get("name") or "").lower() == name.lower():
            return p
    return None


def _seconds_param(e: etree._Element | None, default_ms: float) -> float:
    """A time parameter in ms: ``seconds`` as the format says; a value in any other unit is
    taken to be in ms already."""
    if e is None:
        return default_ms
    value = _float(e.get("value"), math.nan)
    if math.isnan(value):
        return default_ms
    return value * 1000.0 if e.get("unit", "seconds") == "seconds" else value


def _colour(text: str | None, default: str) -> str:
    if text and re.fullmatch(r"#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?", text.strip()):
        return text.strip()[:7].upper()
    return default


@dataclass
class _Band:
    kind: str
    freq: float
    gain: float
    q: float | None
    enabled: bool


def _bands_of(devices: Iterable[etree._Element]) -> list[_Band]:
    bands = []
    for dev in devices:
        bypassed = not _bool_value(dev.find("Enabled"), True)
        for b in dev.findall("Band"):
            kind = b.get("type", "bell")
            if kind not in _EQ_TYPE_IN:
                continue
            q = b.find("Q")
            bands.append(
                _Band(
                    kind=kind,
                    freq=_clamp(_float(_get(b.find("Freq")), 1000.0), 10.0, 24_000.0),
                    gain=_clamp(_float(_get(b.find("Gain")), 0.0), -48.0, 48.0),
                    q=None if q is None else _clamp(_float(q.get("value"), 0.7071), 0.1, 40.0),
                    enabled=_bool_value(b.find("Enabled"), True) and not bypassed,
                )
            )
    return bands


def _get(e: etree._Element | None) -> str | None:
    return None if e is None else e.get("value")


def _slope_of(qs: list[float | None]) -> int | None:
    """The filter slope (dB/oct) a run of same-frequency pass bands with these Qs makes, or
    ``None`` when they are not a Butterworth cascade."""
    if len(qs) == 1 and qs[0] is None:
        return 12
    if any(q is None for q in qs):
        return None
    got = sorted(q for q in qs if q is not None)
    for slope, want in _SLOPE_QS.items():
        if len(want) == len(got) and all(
            abs(a - b) <= 0.02 * b for a, b in zip(got, want, strict=True)
        ):
            return slope
    return None


def _split_filters(
    bands: list[_Band], kinds: Sequence[str]
) -> tuple[dict[str, Filter], list[EQBand]]:
    """The leading Butterworth runs of ``kinds`` (``highPass``/``lowPass``) become filters;
    every other band an EQ band."""
    filters: dict[str, Filter] = {}
    i = 0
    while i < len(bands) and bands[i].kind in kinds and bands[i].kind not in filters:
        b = bands[i]
        j = i + 1
        while (
            j < len(bands)
            and bands[j].kind == b.kind
            and abs(bands[j].freq - b.freq) <= 0.005 * b.freq
        ):
            j += 1
        slope = _slope_of([x.q for x in bands[i:j]])
        if slope is None:
            break
        filters[b.kind] = Filter(
            enabled=all(x.enabled for x in bands[i:j]), freq_hz=b.freq, slope_db_oct=slope
        )
        i = j
    eq = [
        EQBand(
            type=_EQ_TYPE_IN[b.kind],
            enabled=b.enabled,
            freq_hz=b.freq,
            gain_db=b.gain if _EQ_TYPE_IN[b.kind] in _GAIN_TYPES else 0.0,
            q=0.7071 if b.q is None else b.q,
        )
        for b in bands[i:]
    ]
    return filters, eq[:32]


def _compressor_of(devices: Iterable[etree._Element]) -> Compressor | None:
    for dev in devices:
        if dev.tag != "Compressor":
            continue
        ratio_el = dev.find("Ratio")
        ratio = 2.0
        if ratio_el is not None:
            value = _float(ratio_el.get("value"), 50.0)
            ratio = (
                percent_to_ratio(value)
                if ratio_el.get("unit", "percent") == "percent"
                else _clamp(value, 1.0, 100.0)
            )
        knee = _param(dev, "Knee")
        detector = _param(dev, "Detector")
        return Compressor(
            enabled=_bool_value(dev.find("Enabled"), True),
            threshold_db=_clamp(_float(_get(dev.find("Threshold")), -18.0), -80.0, 0.0),
            ratio=_clamp(ratio, 1.0, 100.0),
            attack_ms=_clamp(_seconds_param(dev.find("Attack"), 10.0), 0.01, 1000.0),
            release_ms=_clamp(_seconds_param(dev.find("Release"), 100.0), 1.0, 5000.0),
            knee_db=_clamp(_float(_get(knee), 6.0), 0.0, 24.0),
            makeup_db=_clamp(_float(_get(dev.find("OutputGain")), 0.0), -24.0, 24.0),
            detector="rms" if _get(detector) == "1" else "peak",
        )
    return None


def _effect_of(devices: Iterable[etree._Element]) -> tuple[Reverb | Delay | None, int]:
    """The aux effect among ``devices`` and its position (-1 when none)."""
    for i, dev in enumerate(devices):
        ident = (dev.get("deviceID") or "").lower()
        name = (dev.get("deviceName") or dev.get("name") or "").lower()

        def p(n: str, default: float, scale: float = 1.0, *, dev=dev) -> float:
            return _float(_get(_param(dev, n)), default / scale) * scale

        if ident == _REVERB_ID:
            return (
                Reverb(
                    decay_s=_clamp(p("Decay", 1.6), 0.1, 10.0),
                    predelay_ms=_clamp(p("Predelay", 20.0, 1000.0), 0.0, 250.0),
                    damping=_clamp(p("Damping", 0.5, 0.01), 0.0, 1.0),
                    width=_clamp(p("Width", 1.0, 0.01), 0.0, 1.0),
                    seed=max(0, int(p("Seed", 1.0))),
                ),
                i,
            )
        if ident == _DELAY_ID:
            return (
                Delay(
                    time_left_ms=_clamp(p("TimeLeft", 375.0, 1000.0), 1.0, 4000.0),
                    time_right_ms=_clamp(p("TimeRight", 500.0, 1000.0), 1.0, 4000.0),
                    feedback=_clamp(p("Feedback", 0.3, 0.01), 0.0, 0.95),
                    damping_hz=_clamp(p("Damping", 6000.0), 10.0, 24_000.0),
                ),
                i,
            )
        if "reverb" in name or "verb" in name or "hall" in name or "room" in name:
            return Reverb(), i
        if "delay" in name or "echo" in name:
            return Delay(), i
    return None, -1


def _devices(channel: etree._Element | None) -> list[etree._Element]:
    if channel is None:
        return []
    d = channel.find("Devices")
    return [] if d is None else list(d)


def _bus_chain(channel: etree._Element, devices: list[etree._Element]) -> BusChain:
    filters, eq = _split_filters(
        _bands_of(x for x in devices if x.tag == "Equalizer"), ("highPass", "lowPass")
    )
    chain = BusChain(
        eq=eq,
        fader_db=_level_db(channel.find("Volume")),
        pan=_pan(channel.find("Pan")),
        mute=_bool_value(channel.find("Mute"), False),
    )
    if "highPass" in filters:
        chain.high_pass = filters["highPass"]
    if "lowPass" in filters:
        chain.low_pass = filters["lowPass"]
    comp = _compressor_of(devices)
    if comp is not None:
        chain.compressor = comp
    return chain


def _slug(name: str, used: set[str]) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_.\-]+", "-", ascii_name).strip("-.").lower()[:56] or "track"
    ident, k = base, 2
    while ident in used:
        ident, k = f"{base}-{k}", k + 1
    used.add(ident)
    return ident


def _clip_refs(reader: _Reader, holder: etree._Element, track_name: str) -> list[_ClipRef]:
    """The audio clips under the arrangement element ``holder`` (a track's lanes)."""
    refs: list[_ClipRef] = []
    for clip in holder.iter("Clip"):
        if any(a.tag == "Clip" for a in clip.iterancestors()):
            continue  # clips inside clips are handled through their parent
        if clip.get("enable", "true").strip().lower() in ("false", "0"):
            continue
        content = next((c for c in clip if isinstance(c.tag, str)), None)
        if content is None and clip.get("reference"):
            content = reader.by_id.get(clip.get("reference"))
        if content is None or content.tag not in ("Audio", "Warps"):
            if content is not None and content.tag != "Notes":
                reader.note(track_name, f"a clip holding <{content.tag}> was not imported")
            continue
        outer = _inherited_unit(clip)
        at_s = reader.seconds(_float(clip.get("time"), 0.0), outer)
        inner = clip.get("contentTimeUnit") or content.get("timeUnit") or outer
        play_start = _float(clip.get("playStart"), 0.0)
        if content.tag == "Audio":
            audio = content
            offset_s = reader.seconds(play_start, inner)
        else:
            audio = content.find("Audio")
            if audio is None:
                reader.note(track_name, "a warped clip without audio was not imported")
                continue
            offset_s = _warp_offset(reader, content, play_start, inner, track_name)
        file_el = audio.find("File")
        if file_el is None or not file_el.get("path"):
            continue
        audio_unit = audio.get("timeUnit") or (
            inner if content.tag == "Audio" else content.get("contentTimeUnit", "seconds")
        )
        audio_s = reader.seconds(_float(audio.get("duration"), 0.0), audio_unit)
        if clip.get("duration") is not None:
            length_s = reader.seconds(_float(clip.get("duration"), 0.0), outer)
        else:
            length_s = max(audio_s - offset_s, 0.0)
        fade_unit = clip.get("fadeTimeUnit") or outer
        refs.append(
            _ClipRef(
                file=file_el.get("path", ""),
                external=_bool_value_attr(file_el.get("external")),
                at_s=at_s,
                length_s=length_s,
                offset_s=offset_s,
                fade_in_s=reader.seconds(_float(clip.get("fadeInTime"), 0.0), fade_unit),
                fade_out_s=reader.seconds(_float(clip.get("fadeOutTime"), 0.0), fade_unit),
            )
        )
    return refs


def _bool_value_attr(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1")


def _warp_offset(
    reader: _Reader, warps: etree._Element, play_start: float, unit: str, track_name: str
) -> float:
    """Seconds into the audio file where a warped clip starts (stretching is not imported)."""
    points = sorted(
        (_float(w.get("time"), 0.0), _float(w.get("contentTime"), 0.0))
        for w in warps.findall("Warp")
    )
    content_unit = warps.get("contentTimeUnit", "seconds")
    unit = warps.get("timeUnit") or unit
    if len(points) < 2:
        base = points[0] if points else (0.0, 0.0)
        return max(reader.seconds(base[1] + (play_start - base[0]), content_unit), 0.0)
    (t0, c0), (t1, c1) = points[0], points[-1]
    span_s = reader.seconds(t1 - t0, unit)
    rate = reader.seconds(c1 - c0, content_unit) / span_s if span_s > 0 else 1.0
    if abs(rate - 1.0) > 0.005:
        reader.note(
            track_name, f"a clip time-stretched by {rate:.3f}x was imported at its own speed"
        )
    # the warp segment holding play_start maps it into the file
    for (a, ca), (b, cb) in itertools.pairwise(points):
        if play_start <= b or (b, cb) == points[-1]:
            frac = (play_start - a) / (b - a) if b != a else 0.0
            return max(reader.seconds(ca + frac * (cb - ca), content_unit), 0.0)
    return 0.0


def _direct_layout(clips: list[_ClipRef], audio_s: float) -> tuple[float, list[Region]] | None:
    """(delay ms, regions) that play ``clips`` from one file, or ``None`` when the clips need
    consolidating (several files, different offsets, or a shift beyond the delay's range)."""
    if len({(c.file, c.external) for c in clips}) != 1:
        return None
    shifts = [c.at_s - c.offset_s for c in clips]
    if max(shifts) - min(shifts) > 1e-6:
        return None
    delay_ms = round(shifts[0] * 1000.0, 6)
    if not -100.0 <= delay_ms <= 2000.0:
        return None
    if len(clips) == 1:
        c = clips[0]
        whole = (
            c.offset_s <= 1e-6
            and c.offset_s + c.length_s >= audio_s - 1e-3
            and not c.fade_in_s
            and not c.fade_out_s
        )
        if whole:
            return delay_ms, []
    regions = []
    for c in sorted(clips, key=lambda c: c.offset_s):
        end = c.offset_s + c.length_s
        if end - c.offset_s <= 1e-9:
            continue
        regions.append(
            Region(
                start_s=max(c.offset_s, 0.0),
                end_s=end,
                fade_in_ms=_clamp(c.fade_in_s * 1000.0, 0.0, 10_000.0),
                fade_out_ms=_clamp(c.fade_out_s * 1000.0, 0.0, 10_000.0),
            )
        )
    return delay_ms, regions


def _fade(n: int, fade_in: int, fade_out: int) -> np.ndarray:
    import numpy as np

    env = np.ones(n)
    if fade_in > 0:
        k = min(fade_in, n)
        env[:k] = 0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / fade_in)
    if fade_out > 0:
        k = min(fade_out, n)
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / fade_out)
        env[n - k :] = np.minimum(env[n - k :], ramp[::-1])
    return env


def _consolidate(
    clips: list[_ClipRef], files: dict[tuple[str, bool], Path], rate: int, out: Path
) -> None:
    """Bounce ``clips`` onto one file aligned to the session start (overlaps are summed)."""
    import numpy as np

    from mixwise.io.audio import load_file, write_audio

    loaded = {}
    for c in clips:
        key = (c.file, c.external)
        if key not in loaded:
            loaded[key] = load_file(files[key], sample_rate=rate)[0]
    channels = max(a.shape[0] for a in loaded.values())
    end = max(round((c.at_s + c.length_s) * rate) for c in clips)
    mix = np.zeros((channels, max(end, 1)), dtype=np.float32)
    for c in clips:
        audio = loaded[(c.file, c.external)]
        s0 = round(c.offset_s * rate)
        seg = audio[:, s0 : s0 + round(c.length_s * rate)]
        at = round(c.at_s * rate)
        if at < 0:
            seg, at = seg[:, -at:], 0
        n = seg.shape[1]
        if n <= 0:
            continue
        env = _fade(n, round(c.fade_in_s * rate), round(c.fade_out_s * rate))
        mix[:, at : at + n] += (seg * env).astype(np.float32)
    write_audio(out, mix, sample_rate=rate)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExportError(f"{path}: is a folder, not a DAWproject file") from None
    except (zipfile.BadZipFile, OSError) as err:
        raise ExportError(f"{path}: not a DAWproject file (not a ZIP container: {err})") from None


def _parse_xml(zf: zipfile.ZipFile, member: str, path: Path) -> etree._Element:
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise ExportError(f"{path}: not a DAWproject file ({member} is missing)") from None
    if info.file_size > MAX_XML_BYTES:
        raise ExportError(f"{path}: {member} is implausibly large ({info.file_size} bytes)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(zf.read(member), parser)
    except etree.XMLSyntaxError as err:
        raise ExportError(f"{path}: {member} is not valid XML ({err})") from None
    except (zipfile.BadZipFile, OSError, RuntimeError) as err:
        raise ExportError(f"{path}: {member} cannot be read ({err})") from None


def import_dawproject(path: str | os.PathLike[str], dest_dir: str | os.PathLike[str]) -> Session:
    """Read a DAWproject file into a new session; its audio is extracted into ``dest_dir``.

    The session gets one track per audio track (name, colour, audio file, Volume as
    ``fader_db``, pan, mute, solo, group routing, sends, EQ and compressor where present),
    group buses for submix channels, aux buses for effect channels, the master chain's EQ,
    compressor and limiter, and the arrangement's markers. Source paths are absolute paths
    of the extracted files. A track whose clips play several files, or one file at a shift
    mixwise's delay cannot hold (-100..2000 ms), is bounced to one WAV aligned to the session
    start. What could only be approximated is listed in the session's history (``source``
    ``"import"``).

    Raises :class:`ExportError` with the file's name when it is not a readable DAWproject,
    and refuses (extracting nothing) a container with a member whose name is absolute or
    climbs out of ``dest_dir`` (``..``). On error nothing is left in ``dest_dir``.
    """
    src = Path(path)
    dest = Path(dest_dir)
    with _open_zip(src) as zf:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            safe = safe_member_name(info.filename)
            if safe is None:
                raise ExportError(
                    f"{src}: refused: the container member {info.filename!r} has an absolute "
                    "or climbing ('..') path that would land outside the destination folder; "
                    "nothing was extracted"
                )
            if not info.is_dir():
                members[safe] = info
        root = _parse_xml(zf, PROJECT_XML, src)
        if root.tag != "Project":
            raise ExportError(f"{src}: {PROJECT_XML} is not a DAWproject (root <{root.tag}>)")
        title = None
        if METADATA_XML in members:
            meta = _parse_xml(zf, METADATA_XML, src)
            title = (meta.findtext("Title") or "").strip() or None
        reader = _Reader(root, src.name)
        try:
            plan = _plan(reader)
        except ValidationError as err:
            raise _not_a_session(src, err) from None
        return _materialise(reader, plan, zf, members, src, dest, title or src.stem)


def _not_a_session(src: Path, err: ValidationError) -> ExportError:
    e = err.errors(include_url=False)[0]
    where = ".".join(str(x) for x in e.get("loc", ()))
    return ExportError(f"{src}: cannot be turned into a session ({where}: {e.get('msg')})")


@dataclass
class _Plan:
    tracks: list[_TrackPlan]
    buses: list[Bus]
    bus_of_channel: dict[str, str]
    master: Master
    markers: list[Marker]


def _plan(reader: _Reader) -> _Plan:
    root = reader.root
    structure = root.find("Structure")
    entries: list[tuple[etree._Element | None, etree._Element, etree._Element | None]] = []

    def walk(e: etree._Element, parent_track: etree._Element | None) -> None:
        for child in e:
            if child.tag == "Track":
                entries.append((child, child.find("Channel"), parent_track))
                walk(child, child)
            elif child.tag == "Channel" and e.tag == "Structure":
                entries.append((None, child, parent_track))

    if structure is not None:
        walk(structure, None)

    used: set[str] = set()
    buses: list[Bus] = []
    bus_of_channel: dict[str, str] = {}
    master = Master()
    master_seen = False
    for track_el, channel, _parent in entries:
        if channel is None:
            continue
        role = channel.get("role", "regular")
        name = (track_el.get("name") if track_el is not None else None) or channel.get("name")
        devices = _devices(channel)
        if role in ("submix", "effect"):
            name = name or ("Group" if role == "submix" else "FX")
            effect, at = _effect_of(devices) if role == "effect" else (None, -1)
            chain = _bus_chain(channel, devices)
            bus = Bus(
                id=_slug(name, used),
                name=name,
                kind="group" if role == "submix" else "aux",
                colour=_colour(track_el.get("color") if track_el is not None else None, "#8A8F98"),
                effect=effect,
                chain=chain,
            )
            if at >= 0 and devices[at].get("deviceID") not in (_REVERB_ID, _DELAY_ID):
                reader.note(
                    name,
                    f"effect {devices[at].get('deviceName')!r} replaced by mixwise's "
                    f"{effect.type if effect else 'effect'} with default settings",
                )
            buses.append(bus)
            if channel.get("id"):
                bus_of_channel[channel.get("id")] = bus.id
        elif role == "master" and not master_seen:
            master_seen = True
            master = _master_of(devices)
    kinds = {b.id: b.kind for b in buses}

    lanes_of: dict[str, list[etree._Element]] = {}
    arrangement = root.find("Arrangement")
    if arrangement is not None:
        for e in arrangement.iter():
            if e.get("track"):
                lanes_of.setdefault(e.get("track"), []).append(e)

    lane_order = {tid: i for i, tid in enumerate(lanes_of)}
    tracks: list[tuple[int, _TrackPlan]] = []
    for track_el, channel, parent in entries:
        if track_el is None or channel is None:
            continue
        if channel.get("role", "regular") != "regular":
            continue
        name = track_el.get("name") or channel.get("name") or "Track"
        bus = None
        dest = channel.get("destination")
        if dest in bus_of_channel and kinds[bus_of_channel[dest]] == "group":
            bus = bus_of_channel[dest]
        elif dest is None and parent is not None:
            pch = parent.find("Channel")
            if pch is not None and bus_of_channel.get(pch.get("id", "")) is not None:
                bus = bus_of_channel[pch.get("id")]
        holders = lanes_of.get(track_el.get("id", ""), [])
        clips: list[_ClipRef] = []
        for holder in holders:
            if not any(a in holders for a in holder.iterancestors()):  # each clip once
                clips.extend(_clip_refs(reader, holder, name))
        if not clips:
            if "audio" in (track_el.get("contentType") or "audio").split():
                reader.note(name, "a track without audio clips was not imported")
            continue
        order = lane_order.get(track_el.get("id", ""), len(lane_order))
        tracks.append(
            (
                order,
                _TrackPlan(
                    name=name,
                    colour=track_el.get("color"),
                    role_comment=track_el.get("comment") or "",
                    channel=channel,
                    bus=bus if bus is not None and kinds.get(bus) == "group" else None,
                    clips=clips,
                ),
            )
        )
    # the arrangement lists the tracks top to bottom; the structure may nest them in groups
    tracks.sort(key=lambda ot: ot[0])

    markers = []
    if arrangement is not None:
        holder = arrangement.find("Markers")
        for mk in [] if holder is None else holder.findall("Marker"):
            unit = holder.get("timeUnit") or _inherited_unit(holder)
            t = max(reader.seconds(_float(mk.get("time"), 0.0), unit), 0.0)
            comment = (mk.get("comment") or "").strip()
            markers.append(
                Marker(
                    time_s=round(t, 9),
                    name=mk.get("name") or "Marker",
                    kind="comment" if comment else "marker",
                    text=comment,
                )
            )
    return _Plan([t for _, t in tracks], buses, bus_of_channel, master, markers)


def _master_of(devices: list[etree._Element]) -> Master:
    filters, eq = _split_filters(
        _bands_of(d for d in devices if d.tag == "Equalizer"), ("highPass",)
    )
    master = Master(eq=eq)
    if "highPass" in filters:
        master.high_pass = filters["highPass"]
    comp = _compressor_of(devices)
    if comp is not None:
        master.compressor = comp
    for dev in devices:
        if dev.tag != "Limiter":
            continue
        master.limiter = Limiter(
            enabled=_bool_value(dev.find("Enabled"), True),
            ceiling_dbtp=_clamp(_float(_get(dev.find("Threshold")), -1.0), -20.0, 0.0),
            lookahead_ms=_clamp(_seconds_param(dev.find("Attack"), 1.5), 0.5, 10.0),
            release_ms=_clamp(_seconds_param(dev.find("Release"), 80.0), 5.0, 2000.0),
        )
        target = _param(dev, "TargetLoudness")
        gain = dev.find("InputGain")
        if target is not None:
            master.target_lufs = _clamp(_float(target.get("value"), -14.0), -40.0, -3.0)
        elif gain is not None:
            master.target_lufs = None
            master.gain_db = _clamp(_float(gain.get("value"), 0.0), -48.0, 48.0)
        break
    return master


def _materialise(
    reader: _Reader,
    plan: _Plan,
    zf: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    src: Path,
    dest: Path,
    title: str,
) -> Session:
    """Extract the audio into ``dest`` (through a staging folder) and build the session."""
    import soundfile as sf

    # every referenced file, checked before anything is written
    needed: dict[tuple[str, bool], str] = {}
    for tp in plan.tracks:
        for c in tp.clips:
            key = (c.file, c.external)
            if key in needed:
                continue
            if c.external:
                p = Path(c.file)
                p = p if p.is_absolute() else src.resolve().parent / p
                if not p.is_file():
                    raise ExportError(f"{src}: the external audio file {c.file!r} is missing")
                needed[key] = str(p)
            else:
                safe = safe_member_name(c.file)
                if safe is None:
                    raise ExportError(
                        f"{src}: refused: the audio path {c.file!r} is absolute or climbs "
                        "out of the container ('..'); nothing was extracted"
                    )
                if safe not in members:
                    raise ExportError(f"{src}: the audio file {c.file!r} is not in the container")
                needed[key] = safe

    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".dawproject-import.", dir=dest))
    placed: list[Path] = []
    try:
        staged: dict[tuple[str, bool], Path] = {}
        for key, where in needed.items():
            if key[1]:
                staged[key] = Path(where)
                continue
            out = staging / where
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(members[where]) as fin, open(out, "wb") as fout:
                    shutil.copyfileobj(fin, fout, 1 << 20)
            except (zipfile.BadZipFile, OSError, RuntimeError) as err:
                raise ExportError(f"{src}: {where} cannot be extracted ({err})") from None
            staged[key] = out

        rates: Counter[int] = Counter()
        for key, p in staged.items():
            try:
                rates[int(sf.info(str(p)).samplerate)] += 1
            except Exception as err:  # libsndfile reports every decoding failure as one type
                raise ExportError(f"{src}: {key[0]} is not readable audio ({err})") from None
        rate = max(rates.items(), key=lambda kv: (kv[1], kv[0]))[0] if rates else 48_000
        rate = rate if 8000 <= rate <= 384_000 else 48_000

        final = {k: (p if k[1] else dest / needed[k]) for k, p in staged.items()}
        try:
            session = _session(reader, plan, title, rate, staged, final, staging, dest)
        except ValidationError as err:
            raise _not_a_session(src, err) from None
        for key, p in staged.items():
            if key[1]:
                continue
            target = final[key]
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(p, target)
            placed.append(target)
        bounced = staging / "consolidated"
        if bounced.is_dir():
            for p in sorted(bounced.iterdir()):
                target = dest / "consolidated" / p.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(p, target)
                placed.append(target)
        return session
    except BaseException:
        for p in placed:
            p.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _session(
    reader: _Reader,
    plan: _Plan,
    title: str,
    rate: int,
    staged: dict[tuple[str, bool], Path],
    final: dict[tuple[str, bool], Path],
    staging: Path,
    dest: Path,
) -> Session:
    """The session for ``plan``; audio already extracted to ``staged``, to be moved to
    ``final`` (bounced tracks are written to ``staging/consolidated``)."""
    import soundfile as sf

    from mixwise.analysis.roles import guess_role_from_name
    from mixwise.roles import ROLES, colour_of
    from mixwise.session.edit import now_iso

    kinds = {b.id: b.kind for b in plan.buses}
    used = set(kinds)
    tracks: list[Track] = []
    for tp in plan.tracks:
        tid = _slug(tp.name, used)
        ch = tp.channel
        role_text = tp.role_comment.removeprefix("role: ").strip()
        if role_text in ROLES:  # written by mixwise
            role, confidence = role_text, 1.0 if role_text != "other" else 0.0
        else:
            guess = guess_role_from_name(tp.name)
            role = guess.role if guess is not None else "other"
            confidence = guess.confidence if guess is not None else 0.0
        key = (tp.clips[0].file, tp.clips[0].external)
        info = sf.info(str(staged[key]))
        layout = _direct_layout(tp.clips, info.frames / info.samplerate)
        if layout is None:
            bounced = staging / "consolidated" / f"{tid}.wav"
            bounced.parent.mkdir(parents=True, exist_ok=True)
            try:
                _consolidate(tp.clips, staged, rate, bounced)
            except MixwiseError as err:
                raise ExportError(f"{reader.origin}: {tp.name}: {err}") from None
            reader.note(tp.name, "clips bounced to one file aligned to the session start")
            info = sf.info(str(bounced))
            audio_path, size = dest / "consolidated" / bounced.name, bounced.stat().st_size
            delay_ms, regions = 0.0, []
        else:
            delay_ms, regions = layout
            audio_path, size = final[key], staged[key].stat().st_size
        chain = Chain(
            fader_db=_level_db(ch.find("Volume")),
            pan=_pan(ch.find("Pan")),
            mute=_bool_value(ch.find("Mute"), False),
            solo=_bool_value_attr(ch.get("solo")),
            delay_ms=delay_ms,
        )
        bus_chain = _bus_chain(ch, _devices(ch))
        chain.high_pass, chain.low_pass = bus_chain.high_pass, bus_chain.low_pass
        chain.eq, chain.compressor = bus_chain.eq, bus_chain.compressor
        for s in ch.findall("Sends/Send"):
            bus = plan.bus_of_channel.get(s.get("destination", ""))
            if bus is None or kinds[bus] != "aux":
                continue
            level = _level_db(s.find("Volume"), -math.inf)
            if not _bool_value(s.find("Enable"), True):
                level = -math.inf
            chain.sends.append(Send(bus=bus, level_db=level, pre_fader=s.get("type") == "pre"))
        tracks.append(
            Track(
                id=tid,
                name=tp.name,
                source=SourceFile(
                    path=str(audio_path.resolve()),
                    format=str(info.format),
                    subtype=str(info.subtype),
                    sample_rate=int(info.samplerate),
                    channels=min(max(int(info.channels), 1), 2),
                    frames=int(info.frames),
                    size_bytes=size,
                ),
                role=role,  # type: ignore[arg-type]
                role_confidence=round(float(confidence), 3),
                colour=_colour(tp.colour, colour_of(role)),
                bus=tp.bus,
                regions=regions,
                chain=chain,
            )
        )
    length = max((c.at_s + c.length_s for tp in plan.tracks for c in tp.clips), default=0.0)
    history = [
        HistoryEntry(
            time=now_iso(), task="import", target=target, parameter="", reason=what, source="import"
        )
        for target, what in reader.notes
    ]
    return Session(
        name=title,
        sample_rate=rate,
        length_s=round(max(length, 0.0), 6),
        tracks=tracks,
        buses=plan.buses,
        master=plan.master,
        markers=plan.markers,
        history=history,
        created_by=f"mixwise {__version__} (DAWproject import of {reader.origin})",
    )
