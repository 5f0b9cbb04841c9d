"""A plain stems export for any DAW: dry and processed WAVs per track, and a mix sheet.

Layout of the output folder::

    OUT/dry/<track>.wav        the source at the session rate, untouched (32-bit float)
    OUT/processed/<track>.wav  the track through its whole chain (trim ... fader, pan, group
                               bus share) exactly as mixwise renders it into the mix, stereo;
                               aux returns as ``_return_<bus id>.wav``
    OUT/mix-sheet.txt          every parameter of every track, bus and the master, readable
    OUT/mix-sheet.csv          the same, one parameter a row: kind, id, name, parameter,
                               value, unit

Importing every file of ``processed/`` at time zero with faders at 0 dB and pans centred
sums to mixwise's ``mix.wav`` (the mix bus before the master chain). ``<track>`` is the
track's display name made safe for file names.

The export is atomic: it is built beside ``OUT`` and moved into place when complete; on any
error nothing is left behind.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from mixwise.errors import ExportError, MixwiseError, ParameterError
from mixwise.export.common import atomic_output, check_sources, source_paths
from mixwise.io.audio import FileSource, load_file, write_audio, write_text_atomic
from mixwise.session import model as m

#: Characters that are not safe in a file name on common file systems.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')

#: The unit written for times given as ``m:ss.mmm``.
TIME_UNIT = "m:ss.mmm"

PAN_LAW_NOTE = (
    "pan law: mono tracks constant power, -3.01 dB per side at centre; stereo tracks are a "
    "balance control, unity at centre"
)


# --------------------------------------------------------------------------------------------
# readable units


def format_time(seconds: float) -> str:
    """``seconds`` as ``m:ss.mmm`` (minutes are not wrapped into hours: ``75:00.000``)."""
    total_ms = round(max(0.0, seconds) * 1000.0)
    minutes, rest = divmod(total_ms, 60_000)
    return f"{minutes}:{rest // 1000:02d}.{rest % 1000:03d}"


def format_db(db: float) -> str:
    """A level in dB with sign and two decimals (``-inf`` for off)."""
    return "-inf" if db == -math.inf else f"{db:+.2f}"


def format_pan(pan: float) -> str:
    """Pan in [-1, 1] as ``C``, ``L50`` or ``R25`` (percent of the way to the side)."""
    pct = round(abs(pan) * 100)
    if pct == 0:
        return "C"
    return f"{'L' if pan < 0 else 'R'}{pct}"


def safe_file_stem(name: str, fallback: str) -> str:
    """``name`` made safe as a file base name (unsafe characters -> ``_``, at most 100
    characters); ``fallback`` when nothing usable is left."""
    stem = _UNSAFE.sub("_", name).strip().strip(".").strip()
    return stem[:100] or fallback


def stem_file_names(session: m.Session) -> dict[str, str]:
    """Track id -> base name of its stem files: the display name made safe, unique without
    regard to case (``Kick``, ``kick-2`` ...), never starting like an aux return's stem."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for t in session.tracks:
        base = safe_file_stem(t.name, t.id)
        if base.lower().startswith("_return_"):  # the renderer's names for aux returns
            base = base.lstrip("_")
        name, k = base, 2
        while name.lower() in taken:
            name, k = f"{base}-{k}", k + 1
        taken.add(name.lower())
        out[t.id] = name
    return out


# --------------------------------------------------------------------------------------------
# the mix sheet


@dataclass(frozen=True)
class SheetRow:
    """One parameter of one target. ``kind`` is ``session``, ``track``, ``bus``, ``master``,
    ``marker`` or ``comment``; ``value`` is text in ``unit`` (empty when unitless)."""

    kind: str
    target_id: str
    target_name: str
    parameter: str
    value: str
    unit: str = ""


def _onoff(flag: bool) -> str:
    return "on" if flag else "off"


def _filter_rows(label: str, f: m.Filter) -> list[tuple[str, str, str]]:
    rows = [(label, _onoff(f.enabled), "")]
    if f.enabled:
        rows += [
            (f"{label} frequency", f"{f.freq_hz:.1f}", "Hz"),
            (f"{label} slope", f"{f.slope_db_oct}", "dB/oct"),
        ]
    return rows


def _eq_rows(bands: list[m.EQBand]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = [("eq bands", str(len(bands)), "")]
    for i, b in enumerate(bands, start=1):
        p = f"eq band {i}"
        rows += [
            (f"{p} type", b.type.replace("_", "-"), ""),
            (f"{p} enabled", _onoff(b.enabled), ""),
            (f"{p} frequency", f"{b.freq_hz:.1f}", "Hz"),
            (f"{p} gain", format_db(b.gain_db), "dB"),
            (f"{p} Q", f"{b.q:.3f}", ""),
        ]
    return rows


def _compressor_rows(label: str, c: m.Compressor) -> list[tuple[str, str, str]]:
    rows = [(label, _onoff(c.enabled), "")]
    if c.enabled:
        rows += [
            (f"{label} threshold", f"{c.threshold_db:.2f}", "dB"),
            (f"{label} ratio", f"{c.ratio:g}:1", ""),
            (f"{label} attack", f"{c.attack_ms:g}", "ms"),
            (f"{label} release", f"{c.release_ms:g}", "ms"),
            (f"{label} knee", f"{c.knee_db:g}", "dB"),
            (f"{label} makeup", format_db(c.makeup_db), "dB"),
            (f"{label} detector", c.detector, ""),
        ]
    return rows


def _bus_chain_rows(ch: m.BusChain) -> list[tuple[str, str, str]]:
    return [
        *_filter_rows("high-pass", ch.high_pass),
        *_filter_rows("low-pass", ch.low_pass),
        *_eq_rows(ch.eq),
        *_compressor_rows("compressor", ch.compressor),
        ("fader", format_db(ch.fader_db), "dB"),
        ("width", f"{ch.width:.2f}", ""),
        ("pan", f"{ch.pan:+.2f} ({format_pan(ch.pan)})", ""),
        ("mute", "yes" if ch.mute else "no", ""),
    ]


def track_rows(
    session: m.Session, t: m.Track, *, files: dict[str, str] | None = None
) -> list[tuple[str, str, str]]:
    """(parameter, value, unit) for every parameter of track ``t``, in signal-flow order."""
    c = t.chain
    bus_names = {b.id: b.name for b in session.buses}
    rows: list[tuple[str, str, str]] = [
        ("source", t.source.path, ""),
        ("channels", str(t.source.channels), ""),
        ("role", t.role, ""),
        ("colour", t.colour, ""),
        ("group bus", bus_names.get(t.bus, t.bus) if t.bus else "none", ""),
    ]
    for label, path in (files or {}).items():
        rows.append((label, path, ""))
    for i, r in enumerate(t.repairs, start=1):
        ch = "all" if r.channel is None else str(r.channel)
        rows.append(
            (f"click repair {i}", f"{format_time(r.time_s)}, {r.length_samples} samples, "
             f"channel {ch}", TIME_UNIT)
        )  # fmt: skip
    for i, r in enumerate(t.regions, start=1):
        p = f"region {i}"
        rows += [
            (f"{p} start", format_time(r.start_s), TIME_UNIT),
            (f"{p} end", format_time(r.end_s), TIME_UNIT),
            (f"{p} fade in", f"{r.fade_in_ms:g}", "ms"),
            (f"{p} fade out", f"{r.fade_out_ms:g}", "ms"),
        ]
    rows += [
        ("trim", format_db(c.trim_db), "dB"),
        ("polarity", "inverted" if c.polarity_inverted else "normal", ""),
        ("delay", f"{c.delay_ms:.2f}", "ms"),
        *_bus_chain_rows(c),
        ("solo", "yes" if c.solo else "no", ""),
    ]
    for i, s in enumerate(c.sends, start=1):
        p = f"send {i}"
        rows += [
            (f"{p} to", bus_names.get(s.bus, s.bus), ""),
            (f"{p} level", format_db(s.level_db), "dB"),
            (f"{p} point", "pre-fader" if s.pre_fader else "post-fader", ""),
        ]
    for i, a in enumerate(c.automation, start=1):
        p = f"fader automation {i}"
        rows += [
            (f"{p} start", format_time(a.start_s), TIME_UNIT),
            (f"{p} end", format_time(a.end_s), TIME_UNIT),
            (f"{p} gain", format_db(a.gain_db), "dB"),
            (f"{p} ramp", f"{a.ramp_ms:g}", "ms"),
        ]
    return rows


def effect_rows(fx: m.Reverb | m.Delay | None) -> list[tuple[str, str, str]]:
    """(parameter, value, unit) of an aux bus's effect."""
    if isinstance(fx, m.Reverb):
        return [
            ("effect", "reverb (generated noise tail)", ""),
            ("reverb decay (RT60)", f"{fx.decay_s:g}", "s"),
            ("reverb pre-delay", f"{fx.predelay_ms:g}", "ms"),
            ("reverb damping (0-1)", f"{fx.damping:g}", ""),
            ("reverb width (0-1)", f"{fx.width:g}", ""),
            ("reverb seed", str(fx.seed), ""),
        ]
    if isinstance(fx, m.Delay):
        return [
            ("effect", "stereo feedback delay", ""),
            ("delay time left", f"{fx.time_left_ms:g}", "ms"),
            ("delay time right", f"{fx.time_right_ms:g}", "ms"),
            ("delay feedback (0-0.95)", f"{fx.feedback:g}", ""),
            ("delay damping", f"{fx.damping_hz:g}", "Hz"),
        ]
    return [("effect", "none", "")]


def bus_rows(session: m.Session, b: m.Bus) -> list[tuple[str, str, str]]:
    """(parameter, value, unit) for every parameter of bus ``b``."""
    if b.kind == "group":
        members = [t.name for t in session.tracks if t.bus == b.id]
        head = [("kind", "group bus", ""), ("members", ", ".join(members) or "none", "")]
    else:
        senders = [t.name for t in session.tracks if any(s.bus == b.id for s in t.chain.sends)]
        head = [
            ("kind", "aux return", ""),
            ("fed by", ", ".join(senders) or "none", ""),
            *effect_rows(b.effect),
        ]
    return [*head, ("colour", b.colour, ""), *_bus_chain_rows(b.chain)]


def master_rows(session: m.Session) -> list[tuple[str, str, str]]:
    """(parameter, value, unit) of the master chain, in signal-flow order."""
    ms = session.master
    lim = ms.limiter
    target = "none" if ms.target_lufs is None else f"{ms.target_lufs:g}"
    rows = [
        *_filter_rows("high-pass", ms.high_pass),
        *_eq_rows(ms.eq),
        *_compressor_rows("glue compressor", ms.compressor),
        ("gain", format_db(ms.gain_db), "dB"),
        ("loudness target", target, "LUFS integrated" if ms.target_lufs is not None else ""),
        ("limiter", _onoff(lim.enabled), ""),
    ]
    if lim.enabled:
        rows += [
            ("limiter ceiling", f"{lim.ceiling_dbtp:g}", "dBTP"),
            ("limiter look-ahead", f"{lim.lookahead_ms:g}", "ms"),
            ("limiter release", f"{lim.release_ms:g}", "ms"),
        ]
    return rows


def mix_sheet_rows(
    session: m.Session, *, files: dict[str, dict[str, str]] | None = None
) -> list[SheetRow]:
    """Every parameter of the session as rows: session, tracks, buses, master, markers.

    ``files`` maps track id -> {label: path} of exported files to list with each track.
    """
    rows = [
        SheetRow("session", "", session.name, "sample rate", str(session.sample_rate), "Hz"),
        SheetRow(
            "session", "", session.name, "length",
            format_time(session.length_s) if session.length_s > 0 else "whole sources",
            TIME_UNIT if session.length_s > 0 else "",
        ),
        SheetRow("session", "", session.name, "pan law", PAN_LAW_NOTE),
    ]  # fmt: skip
    for t in session.tracks:
        for p, v, u in track_rows(session, t, files=(files or {}).get(t.id)):
            rows.append(SheetRow("track", t.id, t.name, p, v, u))
    for b in session.buses:
        for p, v, u in bus_rows(session, b):
            rows.append(SheetRow("bus", b.id, b.name, p, v, u))
    for p, v, u in master_rows(session):
        rows.append(SheetRow("master", "master", "Master", p, v, u))
    for i, mk in enumerate(session.markers, start=1):
        key = f"{mk.kind}-{i}"
        rows.append(SheetRow(mk.kind, key, mk.name, "time", format_time(mk.time_s), TIME_UNIT))
        if mk.end_s is not None:
            rows.append(SheetRow(mk.kind, key, mk.name, "end", format_time(mk.end_s), TIME_UNIT))
        if mk.text:
            rows.append(SheetRow(mk.kind, key, mk.name, "text", mk.text))
        if mk.author:
            rows.append(SheetRow(mk.kind, key, mk.name, "author", mk.author))
    return rows


_TITLES = {
    "session": "SESSION",
    "track": "TRACK",
    "bus": "BUS",
    "master": "MASTER",
    "marker": "MARKER",
    "comment": "COMMENT",
}


def mix_sheet_text(rows: list[SheetRow], *, title: str) -> str:
    """The rows as a readable text sheet, one block per target."""
    out = [f"mixwise mix sheet: {title}", ""]
    current: tuple[str, str, str] | None = None
    for r in rows:
        key = (r.kind, r.target_id, r.target_name)
        if key != current:
            if current is not None:
                out.append("")
            ident = f" (id {r.target_id})" if r.kind in ("track", "bus") else ""
            out.append(f"{_TITLES.get(r.kind, r.kind.upper())} {r.target_name}{ident}")
            current = key
        unit = f" {r.unit}" if r.unit and r.unit != TIME_UNIT else ""
        out.append(f"  {r.parameter:<28} {r.value}{unit}")
    return "\n".join(out) + "\n"


def mix_sheet_csv(rows: list[SheetRow]) -> str:
    """The rows as CSV with a header: kind, id, name, parameter, value, unit."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "id", "name", "parameter", "value", "unit"])
    for r in rows:
        w.writerow([r.kind, r.target_id, r.target_name, r.parameter, r.value, r.unit])
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# the export


def export_stems(
    session: m.Session,
    session_path: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    *,
    processed: bool = True,
    dry: bool = True,
) -> Path:
    """Write dry and/or processed stems and the mix sheet to ``out_dir`` (see the module
    docstring for the layout); returns ``out_dir``.

    Parameters
    ----------
    session : the mix; stems are written at ``session.sample_rate`` (Hz) as 32-bit float WAV
    session_path : the session file, for resolving relative source paths (or ``None``)
    out_dir : the export folder; an existing one is replaced only once the new one is complete
    processed : write ``processed/``: each track rendered through its chain by mixwise's
        renderer (stereo, time-aligned from 0 s, the session's length)
    dry : write ``dry/``: each source decoded and resampled to the session rate, unprocessed

    Raises :class:`ExportError` naming the files when sources are missing or unreadable (nothing
    is written), :class:`ParameterError` when both ``processed`` and ``dry`` are off.
    """
    if not (processed or dry):
        raise ParameterError("export_stems: processed and dry are both False; nothing to export")
    if not session.tracks:
        raise ExportError(f"{session.name}: the session has no tracks; nothing to export")
    check_sources(session, session_path)
    paths = source_paths(session, session_path)
    names = stem_file_names(session)
    sr = session.sample_rate
    files: dict[str, dict[str, str]] = {t.id: {} for t in session.tracks}
    with atomic_output(out_dir, is_dir=True) as tmp:
        if dry:
            for t in session.tracks:
                try:
                    audio, _info, _w = load_file(paths[t.id], sample_rate=sr)
                except MixwiseError as err:
                    raise ExportError(f"{t.name}: {err}") from None
                rel = f"dry/{names[t.id]}.wav"
                write_audio(tmp / rel, audio, sample_rate=sr, subtype="FLOAT")
                files[t.id]["dry stem"] = rel
        if processed:
            _render_processed(session, paths, names, tmp)
            for t in session.tracks:
                files[t.id]["processed stem"] = f"processed/{names[t.id]}.wav"
        rows = mix_sheet_rows(session, files=files)
        write_text_atomic(tmp / "mix-sheet.txt", mix_sheet_text(rows, title=session.name))
        write_text_atomic(tmp / "mix-sheet.csv", mix_sheet_csv(rows))
    return Path(out_dir)


def _render_processed(
    session: m.Session, paths: dict[str, Path], names: dict[str, str], dest: Path
) -> None:
    """Render every track's processed stem (no mix, no master) into ``dest/processed``."""
    from mixwise.render.engine import RenderOptions, render

    sources: dict[str, FileSource] = {}
    try:
        for t in session.tracks:
            try:
                sources[t.id] = FileSource(paths[t.id], sample_rate=session.sample_rate)
            except MixwiseError as err:
                raise ExportError(f"{t.name}: {err}") from None
        work = dest / ".render"
        options = RenderOptions(write_mix=False, write_master=False, stem_subtype="FLOAT")
        try:
            render(session, sources, work, options=options, stem_names=names)
        except ExportError:
            raise
        except MixwiseError as err:
            raise ExportError(f"{session.name}: {err}") from None
        os.replace(work / "stems", dest / "processed")
        shutil.rmtree(work, ignore_errors=True)
    finally:
        for src in sources.values():
            src.close()
