"""REAPER project export (``.RPP``), a reader for the round trip, and a basic import.

An RPP file is plain text: ``<TAG args`` opens a block, a line holding only ``>`` closes it,
every other line is ``KEY value value ...``; strings are quoted with ``"``, ``'`` or a
backtick, whichever the string does not contain. What mixwise writes (docs/reaper.md has the
full mapping and what is *not* carried):

* ``SAMPLERATE``, ``TEMPO`` (120 BPM: a session has no tempo), ``MASTER_VOLUME``;
* ``MARKER`` lines: section markers, comments (``Comment (author): name — text``) and ranges
  as regions (two ``MARKER`` lines with the region flag, start and end);
* one ``<TRACK>`` per track, then per group bus a folder track (``ISBUS 1 1``) whose member
  tracks follow it (the last closes the folder, ``ISBUS 2 -1``), aux returns last with one
  ``AUXRECV`` per sending track (send level as linear gain; mode 0 post-fader, 3 pre-fader);
* per track ``NAME``, ``PEAKCOL`` (``0x01000000 | B<<16 | G<<8 | R``), ``VOLPAN`` (linear
  fader gain, pan in [-1, 1], per-track pan law), ``MUTESOLO``, ``IPHASE``;
* per track one ``<ITEM>`` per region (or one for the whole source) with ``POSITION``,
  ``LENGTH``, ``SOFFS`` (the source offset: regions and delay), ``FADEIN``/``FADEOUT``
  (lengths in s), item ``VOLPAN`` (trim as linear gain) and ``<SOURCE WAVE FILE "Audio/x.wav">``;
* click repairs are written into the exported audio;
* filters, EQ, compressors, width, effects and automation are not carried as plug-ins
  (REAPER's own plug-ins keep binary state, and the slider layout of its stock JSFX could not
  be verified): they are written as text into each track's ``<NOTES>`` and the project notes.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from mixwise.errors import ExportError
from mixwise.export.common import atomic_output, check_sources, write_track_wavs
from mixwise.export.stems import (
    PAN_LAW_NOTE,
    bus_rows,
    effect_rows,
    format_db,
    master_rows,
    safe_file_stem,
)
from mixwise.session import model as m

#: REAPER's flag bit on a custom track colour (``PEAKCOL``).
COLOUR_FLAG = 0x1000000
#: Send modes in ``AUXRECV``: post-fader (post-pan) and pre-fader (post-FX).
SEND_POST_FADER = 0
SEND_PRE_FADER = 3
#: Pan law written for mono tracks (linear gain at centre): constant power, -3.01 dB.
MONO_PAN_LAW = math.sqrt(0.5)
#: Tempo written to the project (BPM): a mixwise session has none.
DEFAULT_TEMPO_BPM = 120.0
_COMMENT = re.compile(r"^Comment(?: \((?P<author>[^)]*)\))?: (?P<rest>.*)$", re.DOTALL)
_TEXT_SEP = " — "


def _gain(db: float) -> float:
    return 0.0 if db == -math.inf else 10.0 ** (db / 20.0)


def _db(gain: float) -> float:
    return 20.0 * math.log10(gain) if gain > 0 else -math.inf


# --------------------------------------------------------------------------------------------
# writing


def quote(text: str) -> str:
    """``text`` as an RPP string: in the first of ``"``, ``'`` or a backtick it does not
    contain (a backtick inside a string holding all three becomes ``'``); newlines become
    spaces."""
    s = text.replace("\r", " ").replace("\n", " ")
    for q in ('"', "'", "`"):
        if q not in s:
            return f"{q}{s}{q}"
    return "`" + s.replace("`", "'") + "`"


def num(x: float) -> str:
    """A number for the file: up to 12 significant digits, no exponent for ordinary values."""
    if x == 0:
        return "0"
    return f"{x:.12g}"


def colour_to_peakcol(colour: str) -> int:
    """``#RRGGBB`` -> REAPER's ``PEAKCOL`` value (``0x01000000 | B<<16 | G<<8 | R``)."""
    v = int(colour.lstrip("#"), 16)
    r, g, b = (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF
    return COLOUR_FLAG | (b << 16) | (g << 8) | r


def peakcol_to_colour(value: int) -> str | None:
    """REAPER's ``PEAKCOL`` -> ``#RRGGBB`` (``None`` without the custom-colour flag)."""
    if not value & COLOUR_FLAG:
        return None
    r, g, b = value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF
    return f"#{r:02X}{g:02X}{b:02X}"


def _guid(*parts: str) -> str:
    """A stable GUID for an element, so the same session always writes the same file."""
    u = uuid.uuid5(uuid.NAMESPACE_URL, "mixwise-reaper:" + "\x1f".join(parts))
    return "{" + str(u).upper() + "}"


def marker_label(marker: m.Marker) -> str:
    """The name REAPER shows for a marker: its name (and `` — text``), comments as
    ``Comment (author): name — text``."""
    label = marker.name + (f"{_TEXT_SEP}{marker.text}" if marker.text else "")
    if marker.kind == "comment":
        who = f" ({marker.author})" if marker.author else ""
        label = f"Comment{who}: {label}"
    return label


@dataclass
class _Entry:
    """One track of the REAPER project, in project order."""

    kind: str  # "track", "group", "aux"
    id: str
    name: str
    colour: str
    chain: m.BusChain
    isbus: tuple[int, int] = (0, 0)
    track: m.Track | None = None
    bus: m.Bus | None = None
    notes: list[str] = field(default_factory=list)


def _project_order(session: m.Session) -> list[_Entry]:
    """Tracks in session order, each group bus as a folder track right before its members
    (at the place of its first member), group buses without members, then aux returns."""
    buses = {b.id: b for b in session.buses}
    members: dict[str, list[m.Track]] = {}
    for t in session.tracks:
        if t.bus is not None:
            members.setdefault(t.bus, []).append(t)
    out: list[_Entry] = []
    done: set[str] = set()
    for t in session.tracks:
        if t.bus is None:
            out.append(_Entry("track", t.id, t.name, t.colour, t.chain, track=t))
            continue
        if t.bus in done:
            continue
        done.add(t.bus)
        b = buses[t.bus]
        out.append(_Entry("group", b.id, b.name, b.colour, b.chain, isbus=(1, 1), bus=b))
        group = members[t.bus]
        for j, mt in enumerate(group):
            last = j == len(group) - 1
            entry = _Entry("track", mt.id, mt.name, mt.colour, mt.chain, track=mt)
            entry.isbus = (2, -1) if last else (0, 0)
            out.append(entry)
    for b in session.buses:
        if b.kind == "group" and b.id not in done:
            out.append(_Entry("group", b.id, b.name, b.colour, b.chain, bus=b))
    for b in session.buses:
        if b.kind == "aux":
            out.append(_Entry("aux", b.id, b.name, b.colour, b.chain, bus=b))
    return out


def _not_carried(ch: m.BusChain) -> list[str]:
    """Text lines for the parts of a chain the RPP does not carry as settings."""
    lines: list[str] = []
    for label, f in (("high-pass", ch.high_pass), ("low-pass", ch.low_pass)):
        if f.enabled:
            lines.append(f"{label}: {f.freq_hz:.1f} Hz, {f.slope_db_oct} dB/oct (Butterworth)")
    for i, b in enumerate(ch.eq, start=1):
        state = "" if b.enabled else " (bypassed)"
        gain = (
            f", {format_db(b.gain_db)} dB" if b.type in ("peak", "low_shelf", "high_shelf") else ""
        )
        kind = b.type.replace("_", "-")
        lines.append(f"EQ band {i}: {kind} {b.freq_hz:.1f} Hz{gain}, Q {b.q:.3f}{state}")
    c = ch.compressor
    if c.enabled:
        lines.append(
            f"compressor: threshold {c.threshold_db:.2f} dB, ratio {c.ratio:g}:1, attack "
            f"{c.attack_ms:g} ms, release {c.release_ms:g} ms, knee {c.knee_db:g} dB, makeup "
            f"{format_db(c.makeup_db)} dB, {c.detector} detector"
        )
    if ch.width != 1.0:
        lines.append(f"stereo width: {ch.width:.2f} (mid/side, before the pan)")
    return lines


def _track_notes(session: m.Session, t: m.Track) -> list[str]:
    c = t.chain
    lines = _not_carried(c)
    if c.delay_ms:
        lines.append(f"delay {c.delay_ms:g} ms: carried by the item positions/offsets")
    for r in t.repairs:
        ch = "all channels" if r.channel is None else f"channel {r.channel}"
        lines.append(
            f"click repair at {r.time_s:.3f} s, {r.length_samples} samples, {ch} "
            "(written into the item's audio)"
        )
    for a in c.automation:
        lines.append(
            f"fader automation {a.start_s:.3f}-{a.end_s:.3f} s: {format_db(a.gain_db)} dB, "
            f"ramps {a.ramp_ms:g} ms (not carried)"
        )
    for s in c.sends:
        if s.pre_fader:
            lines.append(
                f"send to {s.bus} is pre-fader: mixwise takes it after the pan, REAPER's "
                "pre-fader send before it"
            )
    if lines:
        lines.insert(0, "mixwise settings not carried by this project (set them by hand):")
    lines.append(f"role: {t.role}; source: {t.source.path}")
    return lines


def _bus_notes(session: m.Session, b: m.Bus) -> list[str]:
    lines = _not_carried(b.chain)
    if b.kind == "aux":
        fx = effect_rows(b.effect)
        lines += [f"{p}: {v}{' ' + u if u else ''}" for p, v, u in fx]
        if b.effect is not None:
            lines.append(
                "this return holds no effect: insert one (100% wet) to hear the "
                "reverb/delay; until then it plays the dry sends"
            )
    if lines:
        lines.insert(0, "mixwise settings not carried by this project (set them by hand):")
    lines += [f"{p}: {v}{' ' + u if u else ''}" for p, v, u in bus_rows(session, b)[:2]]
    return lines


def _project_notes(session: m.Session) -> list[str]:
    lines = [
        f"mixwise session: {session.name} ({session.sample_rate} Hz)",
        f"{PAN_LAW_NOTE}; so mono tracks carry a -3 dB per-track pan law and stereo "
        "tracks use the project's 0 dB law (balance)",
        "carried: names, colours, faders, pans, mutes, solos, polarity, trims (item volume), "
        "regions and fades (items), delays (item positions), group buses (folders), "
        "sends (receives on the returns), markers, comments, master volume",
        "not carried as plug-in settings: filters, EQ, compressors, width, reverb/delay, "
        "master chain; see each track's notes",
        "master chain (mixwise):",
    ]
    lines += [f"  {p}: {v}{' ' + u if u else ''}" for p, v, u in master_rows(session)]
    if session.master.target_lufs is not None:
        lines.append(
            "  the master gain for the loudness target is found while rendering; the master "
            "fader here is at 0 dB"
        )
    return lines


def _notes_block(lines: list[str], indent: str) -> list[str]:
    out = [f"{indent}<NOTES 0 2"]
    for line in lines:
        for part in line.splitlines() or [""]:
            out.append(f"{indent}  |{part}")
    out.append(f"{indent}>")
    return out


def _items(
    session: m.Session, t: m.Track, source_s: float
) -> list[tuple[float, float, float, float, float]]:
    """(position s, length s, source offset s, fade in s, fade out s) for each item."""
    d = t.chain.delay_ms / 1000.0
    end_cap = session.length_s if session.length_s > 0 else math.inf
    spans: list[tuple[float, float, float, float, float]] = []
    if not t.regions:
        pos, offs = max(d, 0.0), max(-d, 0.0)
        length = min(source_s - offs, end_cap - pos)
        if length > 0:
            spans.append((pos, length, offs, 0.0, 0.0))
        return spans
    for r in t.regions:
        pos, length, offs = r.start_s, r.end_s - r.start_s, r.start_s - d
        if offs < 0:  # the region starts before the delayed source does
            pos, length, offs = pos - offs, length + offs, 0.0
        length = min(length, end_cap - pos)
        if length > 0:
            spans.append((pos, length, offs, r.fade_in_ms / 1000.0, r.fade_out_ms / 1000.0))
    return spans


def _fade(kind: str, seconds: float) -> str:
    # the first field is the fade shape, the second the length (s), as REAPER writes them
    return f"{kind} 1 {num(seconds)} 0 1 0 0 0" if seconds > 0 else f"{kind} 0 0 0 0 0 0 0"


def rpp_text(session: m.Session, wavs: dict[str, str], durations_s: dict[str, float]) -> str:
    """The RPP project text for ``session``; ``wavs`` maps track id -> the audio file path
    relative to the project (``Audio/x.wav``), ``durations_s`` track id -> its length (s)."""
    sr = session.sample_rate
    ms = session.master
    master_gain = _gain(ms.gain_db) if ms.target_lufs is None else 1.0
    L: list[str] = ['<REAPER_PROJECT 0.1 "7.0/mixwise" 0']
    L += _notes_block(_project_notes(session), "  ")
    L += [
        "  PANLAW 1",
        "  PANMODE 3",
        f"  SAMPLERATE {sr} 1 0",
        f"  TEMPO {num(DEFAULT_TEMPO_BPM)} 4 4",
    ]
    for idx, mk in enumerate(session.markers, start=1):
        label = quote(marker_label(mk))
        guid = _guid(session.name, "marker", str(idx))
        if mk.end_s is None:
            L.append(f"  MARKER {idx} {num(mk.time_s)} {label} 0 0 1 B {guid} 0")
        else:
            L.append(f"  MARKER {idx} {num(mk.time_s)} {label} 1 0 1 R {guid} 0")
            L.append(f'  MARKER {idx} {num(mk.end_s)} "" 1 0 1 R {guid} 0')
    L += ["  MASTER_NCH 2 2", f"  MASTER_VOLUME {num(master_gain)} 0 -1 -1 1"]

    order = _project_order(session)
    index = {(e.kind, e.id): i for i, e in enumerate(order)}
    for e in order:
        guid = _guid(session.name, e.kind, e.id)
        ch = e.chain
        t = e.track
        polarity = 1 if (t is not None and t.chain.polarity_inverted) else 0
        solo = 2 if (t is not None and t.chain.solo) else 0
        law = MONO_PAN_LAW if (t is not None and t.source.channels == 1) else -1
        L += [
            f"  <TRACK {guid}",
            f"    NAME {quote(e.name)}",
            f"    PEAKCOL {colour_to_peakcol(e.colour)}",
            "    BEAT -1",
            "    AUTOMODE 0",
            f"    VOLPAN {num(_gain(ch.fader_db))} {num(ch.pan)} {num(law)} -1 1",
            f"    MUTESOLO {1 if ch.mute else 0} {solo} 0",
            f"    IPHASE {polarity}",
            f"    ISBUS {e.isbus[0]} {e.isbus[1]}",
            "    NCHAN 2",
            f"    TRACKID {guid}",
            "    MAINSEND 1 0",
        ]
        if e.kind == "aux":
            for src in session.tracks:
                for s in src.chain.sends:
                    if s.bus != e.id:
                        continue
                    mode = SEND_PRE_FADER if s.pre_fader else SEND_POST_FADER
                    i = index[("track", src.id)]
                    L.append(
                        f"    AUXRECV {i} {mode} {num(_gain(s.level_db))} 0 0 0 0 0 0 -1:U 0 -1 ''"
                    )
        if t is not None:
            L += _notes_block(_track_notes(session, t), "    ")
            for k, (pos, length, offs, fi, fo) in enumerate(_items(session, t, durations_s[t.id])):
                L += [
                    "    <ITEM",
                    f"      POSITION {num(pos)}",
                    "      SNAPOFFS 0",
                    f"      LENGTH {num(length)}",
                    "      LOOP 0",
                    "      ALLTAKES 0",
                    f"      {_fade('FADEIN', fi)}",
                    f"      {_fade('FADEOUT', fo)}",
                    "      MUTE 0 0",
                    f"      IGUID {_guid(session.name, 'item', t.id, str(k))}",
                    f"      NAME {quote(t.name)}",
                    f"      VOLPAN 1 0 {num(_gain(t.chain.trim_db))} -1",
                    f"      SOFFS {num(offs)}",
                    "      PLAYRATE 1 1 0 -1 0 0.0025",
                    "      CHANMODE 0",
                    f"      GUID {_guid(session.name, 'take', t.id, str(k))}",
                    "      <SOURCE WAVE",
                    f"        FILE {quote(wavs[t.id])}",
                    "      >",
                    "    >",
                ]
        elif e.bus is not None:
            L += _notes_block(_bus_notes(session, e.bus), "    ")
        L.append("  >")
    L.append(">")
    return "\n".join(L) + "\n"


def export_reaper(
    session: m.Session,
    session_path: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
) -> Path:
    """Write a REAPER project: ``out_dir/NAME.RPP`` and the track audio in ``out_dir/Audio/``.

    Parameters
    ----------
    session : the mix; the audio is written at ``session.sample_rate`` (Hz) as 32-bit float WAV,
        decoded and resampled exactly as mixwise renders from
    session_path : the session file, for resolving relative source paths (or ``None``)
    out_dir : the export folder; it appears whole (an existing one is replaced only once the
        new one is complete)
    name : the project file's base name (default: the session's name, made file-safe)

    Returns the path of the ``.RPP`` file. Raises :class:`ExportError` naming the files when
    sources are missing or unreadable; nothing is written then.
    """
    import soundfile as sf

    check_sources(session, session_path)
    base = safe_file_stem(name if name is not None else session.name, "mixwise")
    with atomic_output(out_dir, is_dir=True) as tmp:
        written = write_track_wavs(session, session_path, tmp / "Audio")
        wavs = {tid: f"Audio/{p.name}" for tid, p in written.items()}
        durations = {
            tid: sf.info(str(p)).frames / session.sample_rate for tid, p in written.items()
        }
        (tmp / f"{base}.RPP").write_text(rpp_text(session, wavs, durations), encoding="utf-8")
    return Path(out_dir) / f"{base}.RPP"


# --------------------------------------------------------------------------------------------
# reading


@dataclass
class RppItem:
    """A media item: ``file`` as written in the project; times in s; ``volume_db`` the item
    volume."""

    file: str
    position_s: float
    length_s: float
    offset_s: float = 0.0
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    volume_db: float = 0.0
    name: str = ""


@dataclass
class RppReceive:
    """A receive on a track: from the track at ``source_index`` (0-based, project order),
    ``level_db``, ``mode`` (0 post-fader, 1 pre-FX, 3 pre-fader/post-FX)."""

    source_index: int
    source_name: str
    level_db: float
    mode: int = 0
    muted: bool = False

    @property
    def pre_fader(self) -> bool:
        return self.mode != SEND_POST_FADER


@dataclass
class RppTrack:
    """One track. ``folder_depth`` is how deep in folders it sits (0 at the top);
    ``folder_change`` the ``ISBUS`` depth change (1 opens a folder, -n closes n levels)."""

    index: int
    name: str
    volume_db: float = 0.0
    pan: float = 0.0
    pan_law: float = -1.0
    mute: bool = False
    solo: bool = False
    polarity_inverted: bool = False
    colour: str | None = None
    folder_depth: int = 0
    folder_change: int = 0
    receives: list[RppReceive] = field(default_factory=list)
    items: list[RppItem] = field(default_factory=list)
    notes: str = ""

    @property
    def is_folder(self) -> bool:
        return self.folder_change > 0


@dataclass
class RppMarker:
    """A marker (``end_s`` None) or region. ``kind`` is ``comment`` for names written as
    ``Comment (author): name — text``, else ``marker``."""

    index: int
    time_s: float
    name: str
    end_s: float | None = None
    kind: str = "marker"
    text: str = ""
    author: str = ""
    label: str = ""


@dataclass
class RppProject:
    """What :func:`parse_rpp` reads from a project. Rates in Hz, tempo in BPM."""

    path: Path
    sample_rate: int | None = None
    tempo_bpm: float | None = None
    master_volume_db: float = 0.0
    tracks: list[RppTrack] = field(default_factory=list)
    markers: list[RppMarker] = field(default_factory=list)
    notes: str = ""

    def track(self, name: str) -> RppTrack:
        for t in self.tracks:
            if t.name == name:
                return t
        raise KeyError(name)


@dataclass
class _Node:
    tag: str
    args: list[str]
    lines: list[tuple[list[str], str]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)

    def first(self, key: str) -> list[str] | None:
        for toks, _raw in self.lines:
            if toks and toks[0] == key:
                return toks[1:]
        return None

    def all(self, key: str) -> list[list[str]]:
        return [toks[1:] for toks, _raw in self.lines if toks and toks[0] == key]

    def child(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)


def tokens(line: str) -> list[str]:
    """Split one RPP line into values; quoted strings (``"``, ``'``, backtick) lose their
    quotes."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c.isspace():
            i += 1
        elif c in "\"'`":
            j = line.find(c, i + 1)
            if j < 0:
                out.append(line[i + 1 :])
                break
            out.append(line[i + 1 : j])
            i = j + 1
        else:
            j = i
            while j < n and not line[j].isspace():
                j += 1
            out.append(line[i:j])
            i = j
    return out


def _tree(text: str, origin: str) -> _Node:
    root = _Node("", [])
    stack = [root]
    for lineno, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s:
            continue
        if s.startswith("<"):
            toks = tokens(s[1:])
            if not toks:
                raise ExportError(f"{origin}: line {lineno}: a block without a name")
            node = _Node(toks[0], toks[1:])
            stack[-1].children.append(node)
            stack.append(node)
        elif s == ">":
            if len(stack) == 1:
                raise ExportError(f"{origin}: line {lineno}: '>' closes no block")
            stack.pop()
        else:
            stack[-1].lines.append((tokens(s), s))
    if len(stack) != 1:
        raise ExportError(f"{origin}: the block <{stack[-1].tag} is never closed")
    if not root.children or root.children[0].tag != "REAPER_PROJECT":
        raise ExportError(f"{origin}: not a REAPER project (no <REAPER_PROJECT block)")
    return root.children[0]


def _f(values: list[str] | None, i: int, default: float = 0.0) -> float:
    try:
        return float(values[i]) if values is not None and len(values) > i else default
    except ValueError:
        return default


def _i(values: list[str] | None, i: int, default: int = 0) -> int:
    return int(_f(values, i, default))


def _notes_text(node: _Node | None) -> str:
    if node is None:
        return ""
    return "\n".join(raw[1:] if raw.startswith("|") else raw for _t, raw in node.lines)


def _source_file(node: _Node) -> str:
    src = node.child("SOURCE")
    while src is not None:
        f = src.first("FILE")
        if f:
            return f[0]
        src = src.child("SOURCE")
    return ""


def _decode_marker(label: str) -> tuple[str, str, str, str]:
    """(kind, name, text, author) from a marker's label."""
    kind, author, rest = "marker", "", label
    c = _COMMENT.match(label)
    if c:
        kind, author, rest = "comment", c.group("author") or "", c.group("rest")
    name, _sep, text = rest.partition(_TEXT_SEP)
    return kind, name, text, author


def parse_rpp(path: str | os.PathLike[str]) -> RppProject:
    """Read a REAPER project: sample rate, tempo, master volume, tracks (name, volume in dB,
    pan, mute, solo, polarity, colour, folder depth, receives, items with file, position and
    length) and markers/regions. Raises :class:`ExportError` naming the file when it cannot
    be read or is not an RPP project."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ExportError(f"{p}: no such REAPER project") from None
    except OSError as err:
        raise ExportError(f"{p}: cannot be read ({err.strerror or err})") from None
    top = _tree(text, str(p))
    proj = RppProject(path=p)
    sr = top.first("SAMPLERATE")
    proj.sample_rate = _i(sr, 0) if sr else None
    tempo = top.first("TEMPO")
    proj.tempo_bpm = _f(tempo, 0) if tempo else None
    master = top.first("MASTER_VOLUME")
    proj.master_volume_db = _db(_f(master, 0, 1.0)) if master else 0.0
    proj.notes = _notes_text(top.child("NOTES"))

    regions: dict[int, RppMarker] = {}
    for vals in top.all("MARKER"):
        idx, t = _i(vals, 0), _f(vals, 1)
        label = vals[2] if len(vals) > 2 else ""
        is_region = bool(_i(vals, 3) & 1)
        if is_region and idx in regions and regions[idx].end_s is None:
            regions[idx].end_s = t
            continue
        kind, name, text, author = _decode_marker(label)
        mk = RppMarker(idx, t, name, kind=kind, text=text, author=author, label=label)
        proj.markers.append(mk)
        if is_region:
            regions[idx] = mk

    depth = 0
    for i, node in enumerate(c for c in top.children if c.tag == "TRACK"):
        name = (node.first("NAME") or [""])[0]
        volpan = node.first("VOLPAN")
        mutesolo = node.first("MUTESOLO")
        isbus = node.first("ISBUS")
        peak = node.first("PEAKCOL")
        tr = RppTrack(
            index=i,
            name=name,
            volume_db=_db(_f(volpan, 0, 1.0)),
            pan=_f(volpan, 1),
            pan_law=_f(volpan, 2, -1.0),
            mute=_i(mutesolo, 0) != 0,
            solo=_i(mutesolo, 1) != 0,
            polarity_inverted=_i(node.first("IPHASE"), 0) != 0,
            colour=peakcol_to_colour(_i(peak, 0)) if peak else None,
            folder_depth=depth,
            folder_change=_i(isbus, 1),
            notes=_notes_text(node.child("NOTES")),
        )
        depth = max(0, depth + tr.folder_change)
        for vals in node.all("AUXRECV"):
            tr.receives.append(
                RppReceive(
                    source_index=_i(vals, 0),
                    source_name="",
                    level_db=_db(_f(vals, 2, 1.0)),
                    mode=_i(vals, 1),
                    muted=_i(vals, 4) != 0,
                )
            )
        for item in (c for c in node.children if c.tag == "ITEM"):
            vp = item.first("VOLPAN")
            tr.items.append(
                RppItem(
                    file=_source_file(item),
                    position_s=_f(item.first("POSITION"), 0),
                    length_s=_f(item.first("LENGTH"), 0),
                    offset_s=_f(item.first("SOFFS"), 0),
                    fade_in_s=_f(item.first("FADEIN"), 1),
                    fade_out_s=_f(item.first("FADEOUT"), 1),
                    volume_db=_db(_f(vp, 2, 1.0)) if vp else 0.0,
                    name=(item.first("NAME") or [""])[0],
                )
            )
        proj.tracks.append(tr)
    for tr in proj.tracks:
        for r in tr.receives:
            if 0 <= r.source_index < len(proj.tracks):
                r.source_name = proj.tracks[r.source_index].name
    return proj


# --------------------------------------------------------------------------------------------
# importing


def _ident(name: str, taken: set[str], fallback: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.\-]+", "_", name).strip("_")[:56] or fallback
    ident, k = base, 2
    while ident in taken:
        ident, k = f"{base}-{k}", k + 1
    taken.add(ident)
    return ident


def import_reaper(path: str | os.PathLike[str]) -> m.Session:
    """A mixwise session from a REAPER project (the inverse of :func:`export_reaper` for what
    the RPP carries).

    Tracks with audio items become tracks (the first item's file is the source, resolved
    against the project's folder; items become regions, the item volume the trim, item timing
    the delay); folder tracks without items become group buses of the tracks inside them;
    tracks without items that receive sends become aux buses (with no effect); receives become
    sends. Plug-in settings are not read. Raises :class:`ExportError` naming the file when the
    project cannot be read or a track plays more than one file.
    """
    import soundfile as sf

    proj = parse_rpp(path)
    folder = Path(path).resolve().parent
    taken_t: set[str] = set()
    taken_b: set[str] = set()
    sr = proj.sample_rate if proj.sample_rate and 8000 <= proj.sample_rate <= 384_000 else 48_000
    kinds: dict[int, tuple[str, str]] = {}  # project index -> ("track" | "group" | "aux", id)
    buses: list[m.Bus] = []
    tracks: list[m.Track] = []
    open_groups: list[str | None] = []
    for tr in proj.tracks:
        chain_kw = {
            "fader_db": min(tr.volume_db, 24.0),
            "pan": min(max(tr.pan, -1.0), 1.0),
            "mute": tr.mute,
        }
        colour = tr.colour or "#8A8F98"
        group = next((g for g in reversed(open_groups) if g is not None), None)
        if tr.items:
            files = {it.file for it in tr.items}
            if len(files) > 1:
                raise ExportError(
                    f"{path}: track {tr.name!r} plays {len(files)} files; mixwise plays one "
                    "file per track"
                )
            tid = _ident(tr.name, taken_t, f"track{tr.index + 1}")
            first = tr.items[0]
            src = Path(first.file)
            src = src if src.is_absolute() else folder / src
            delay_s = first.position_s - first.offset_s
            channels, source_s = 1, None
            if src.is_file():
                info = sf.info(str(src))
                channels, source_s = min(info.channels, 2), info.frames / info.samplerate
            whole = (
                len(tr.items) == 1
                and abs(first.offset_s - max(-delay_s, 0.0)) < 1e-6
                and source_s is not None
                and first.position_s + first.length_s >= delay_s + source_s - 1e-6
                and first.fade_in_s == 0
                and first.fade_out_s == 0
            )
            regions = (
                []
                if whole
                else [
                    m.Region(
                        start_s=it.position_s,
                        end_s=it.position_s + it.length_s,
                        fade_in_ms=min(it.fade_in_s * 1000.0, 10_000.0),
                        fade_out_ms=min(it.fade_out_s * 1000.0, 10_000.0),
                    )
                    for it in tr.items
                    if it.length_s > 0
                ]
            )
            tracks.append(
                m.Track(
                    id=tid,
                    name=tr.name or tid,
                    source=m.SourceFile(path=str(src), channels=channels),
                    colour=colour,
                    bus=group,
                    regions=regions,
                    chain=m.Chain(
                        **chain_kw,
                        trim_db=min(max(first.volume_db, -48.0), 48.0),
                        polarity_inverted=tr.polarity_inverted,
                        delay_ms=min(max(delay_s * 1000.0, -100.0), 2000.0),
                        solo=tr.solo,
                    ),
                )
            )
            kinds[tr.index] = ("track", tid)
        elif tr.is_folder:
            bid = _ident(tr.name, taken_b, f"bus{tr.index + 1}")
            buses.append(
                m.Bus(id=bid, name=tr.name or bid, kind="group", colour=colour,
                      chain=m.BusChain(**chain_kw))
            )  # fmt: skip
            kinds[tr.index] = ("group", bid)
        elif tr.receives:
            bid = _ident(tr.name, taken_b, f"aux{tr.index + 1}")
            buses.append(
                m.Bus(id=bid, name=tr.name or bid, kind="aux", colour=colour,
                      chain=m.BusChain(**chain_kw))
            )  # fmt: skip
            kinds[tr.index] = ("aux", bid)
        if tr.folder_change > 0:
            opened = kinds.get(tr.index, ("", ""))
            open_groups.append(opened[1] if opened[0] == "group" else None)
            open_groups += [None] * (tr.folder_change - 1)
        elif tr.folder_change < 0:
            del open_groups[len(open_groups) + tr.folder_change :]
    by_id = {t.id: t for t in tracks}
    for tr in proj.tracks:
        kind = kinds.get(tr.index)
        if kind is None or kind[0] != "aux":
            continue
        for r in tr.receives:
            src_kind = kinds.get(r.source_index)
            if src_kind is None or src_kind[0] != "track":
                continue
            by_id[src_kind[1]].chain.sends.append(
                m.Send(bus=kind[1], level_db=min(r.level_db, 24.0), pre_fader=r.pre_fader)
            )
    markers = [
        m.Marker(
            time_s=max(mk.time_s, 0.0),
            end_s=mk.end_s if mk.end_s is not None and mk.end_s > mk.time_s else None,
            name=mk.name,
            kind="comment" if mk.kind == "comment" else "marker",
            text=mk.text,
            author=mk.author,
        )
        for mk in proj.markers
    ]
    gain_db = min(max(proj.master_volume_db, -48.0), 48.0)
    return m.Session(
        name=Path(path).stem,
        sample_rate=sr,
        tracks=tracks,
        buses=buses,
        markers=markers,
        master=m.Master(gain_db=gain_db, target_lufs=None),
        created_by="import_reaper",
    )
