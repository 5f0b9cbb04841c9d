"""One self-contained HTML page from a mix report (the content of ``report.json``).

:func:`render_html` draws a header (master loudness and true peak against the target, with a
pass/fail badge), the plots (per-track loudness, mix spectrum against the target, masking
before and after, loudness over time), the checks, every move by track, the bus and master
moves, and the problems and warnings.

The page needs nothing else: no external files, no fonts, no scripts. Plots are inline SVG
written here, each well-formed XML. Every text that comes from the report is escaped with
:func:`html.escape` (track names and reasons come from user files and sessions), and colours
are used only when they are ``#RRGGBB``.

A missing key, a ``None`` or a value of the wrong type skips the part it feeds; NaN and
infinities are drawn as gaps and written as "−∞" / "—". Levels are in dB (LUFS, dBFS, dBTP,
LU as named), frequencies in Hz, times in seconds.
"""

from __future__ import annotations

import datetime as _dt
import html
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

__all__ = ["render_html"]

log = logging.getLogger(__name__)

MINUS = "\u2212"
DASH = "\u2014"
ARROW = "\u2192"

#: Master loudness within this many LU of the target passes (LU).
LOUDNESS_TOLERANCE_LU = 1.0
#: A true peak this far above the ceiling still passes (rounding of the meter, dB).
PEAK_TOLERANCE_DB = 0.05

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
_PALETTE = (
    "#3a6ea5",
    "#c8553d",
    "#4f9d69",
    "#8e6bbf",
    "#d19a2a",
    "#2a9d9d",
    "#b5487a",
    "#6b7a8f",
    "#7a9a3a",
    "#a0522d",
)
_INK = "#1d2330"
_MUTED = "#5b6473"
_GRID = "#e4e6ea"
_AXIS = "#9aa1ab"
_ACCENT = "#2f5d8a"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


# --------------------------------------------------------------------------------------------
# the page


def render_html(report: dict[str, Any]) -> str:
    """The mix report as one self-contained HTML page.

    Parameters
    ----------
    report : dict
        The content of ``report.json`` (see the module docstring). Any key may be missing or
        ``None``; the sections it feeds are then left out.

    Returns
    -------
    str
        A complete HTML5 document (UTF-8 text), with inline CSS and inline SVG plots.
    """
    report = _dict(report)
    title = _page_title(report)
    sections = [
        _section(_header, report),
        _section(_plots_section, report),
        _section(_checks_section, report),
        _section(_control_section, report),
        _section(_reference_section, report),
        _section(_comments_section, report),
        _section(_track_moves_section, report),
        _section(_other_moves_section, report),
        _section(_problems_section, report),
        _section(_footer, report),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="mixwise">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f'<body>\n<main class="page">\n{body}\n</main>\n</body>\n</html>\n'
    )


def _section(draw: Callable[..., str], *args: Any) -> str:
    """``draw(*args)``, or a short note if it fails: one odd value must not cost the page."""
    try:
        return draw(*args)
    except Exception:  # a report is read after the work is done; show what can be shown
        log.warning("report page: could not draw %s", draw.__name__, exc_info=True)
        return '<p class="note">This part of the report could not be drawn.</p>'


def _page_title(report: dict[str, Any]) -> str:
    """ "Mix report", with the song's name when the report has one."""
    name = report.get("title") or report.get("song") or report.get("name")
    return f"Mix report {DASH} {name}" if isinstance(name, str) and name else "Mix report"


# --------------------------------------------------------------------------------------------
# small helpers: types, numbers, text


def _esc(text: object) -> str:
    """``text`` as HTML/XML text or attribute value (quotes escaped too)."""
    return html.escape(str(text), quote=True)


def _dict(x: object) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _list(x: object) -> list[Any]:
    return list(x) if isinstance(x, list | tuple) else []


def _dig(d: object, *path: str) -> Any:
    """``d[path[0]][path[1]]...``, or ``None`` where a level is missing or not a dict."""
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _first(*values: object) -> Any:
    """The first value that is not ``None``."""
    return next((v for v in values if v is not None), None)


def _number(x: object) -> float | None:
    """``x`` as a float (NaN and infinities kept; ``"-inf"`` strings read), else ``None``."""
    if x is None or isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        try:
            return float(x)
        except OverflowError:
            return math.inf if x > 0 else -math.inf
    if isinstance(x, str):
        try:
            return float(x.strip().replace(MINUS, "-"))
        except ValueError:
            return None
    return None


def _finite(x: object) -> float | None:
    """``x`` as a finite float, else ``None`` (None, bools, NaN, infinities, text)."""
    v = _number(x)
    return v if v is not None and math.isfinite(v) else None


def _colour(x: object, index: int = 0) -> str:
    """``x`` if it is a ``#RRGGBB`` colour, else a colour of the fallback palette."""
    if isinstance(x, str) and _HEX.match(x):
        return x.lower()
    return _PALETTE[index % len(_PALETTE)]


def fmt_number(value: object, unit: str = "", *, signed: bool = False) -> str:
    """A number for people: 0.01 below 10, 0.1 below 100, whole above; "−" as minus.

    ``-inf`` is "−∞", NaN and ``None`` are "—"; Hz above 1000 become kHz; ``signed`` writes a
    "+" on positive values (gains). Text that is not a number is returned as it is (unescaped).
    """
    v = _number(value)
    if v is None:
        return DASH if value is None else str(value)
    if math.isnan(v):
        return DASH
    tail = f" {unit}" if unit else ""
    if math.isinf(v):
        return (f"{MINUS}∞" if v < 0 else "+∞") + tail
    if unit == "Hz" and abs(v) >= 1000:
        v, tail = v / 1000, " kHz"
    a = abs(v)
    if isinstance(value, int) and not isinstance(value, bool) and tail != " kHz":
        digits = 0
    elif a >= 100:
        digits = 0 if round(a, 1).is_integer() else 1
    elif a >= 10:
        digits = 0 if unit == "Hz" and round(a, 1).is_integer() else 1
    elif round(a, 1) == round(a, 2):
        digits = 1
    else:
        digits = 2
    text = f"{a:.{digits}f}"
    if float(text) == 0:
        return text + tail
    sign = MINUS if v < 0 else ("+" if signed else "")
    return sign + text + tail


def fmt_duration(seconds: object) -> str:
    """Seconds as ``m:ss`` (``h:mm:ss`` past an hour); "—" when not a finite number."""
    s = _finite(seconds)
    if s is None or s < 0:
        return DASH
    total = round(s)
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fmt_date(iso: object) -> str:
    """An ISO 8601 time as "1 May 2024, 14:03"; other text as it is (unescaped)."""
    if not isinstance(iso, str) or not iso:
        return ""
    try:
        t = _dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return f"{t.day} {t:%B %Y, %H:%M}"


_UNIT_SUFFIXES = (
    ("_db_oct", "dB/oct"),
    ("_dbtp", "dBTP"),
    ("_dbfs", "dBFS"),
    ("_lufs", "LUFS"),
    ("_lu", "LU"),
    ("_db", "dB"),
    ("_hz", "Hz"),
    ("_ms", "ms"),
    ("_samples", "samples"),
    ("_s", "s"),
)


def split_unit(name: str) -> tuple[str, str]:
    """A parameter name and the unit its suffix names: ``"fader_db"`` -> ``("fader", "dB")``."""
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], unit
    return name, ""


_OWNER = re.compile(r"^(?:(?:tracks|buses)\[[^\]]*\]\.|master\.)")
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]*)\])?")
_NAMES = {
    "eq": "EQ",
    "sends": "send",
    "high_pass": "high-pass",
    "low_pass": "low-pass",
    "target": "target loudness",
    "polarity_inverted": "polarity",
    "regions": "regions",
}


def short_parameter(parameter: object) -> str:
    """A parameter path as a musician says it: ``tracks[kick].chain.fader_db`` -> ``fader``,
    ``tracks[vox].chain.sends[plate].level_db`` -> ``send plate level``."""
    text = str(parameter or "")
    path = _OWNER.sub("", text).removeprefix("chain.")
    words = []
    for step in path.split("."):
        m = _STEP.fullmatch(step)
        if not m:
            words.append(step)
            continue
        name, index = m.groups()
        stem = split_unit(name)[0]
        word = _NAMES.get(stem, stem.replace("_", " "))
        words.append(f"{word} {index}" if index else word)
    return " ".join(w for w in words if w) or text


# --------------------------------------------------------------------------------------------
# move values: numbers, pans, EQ bands, regions, dicts


def fmt_value(value: object, unit: str = "", *, parameter: str = "") -> str:
    """A move's old or new value as plain text (unescaped): numbers with unit, pans as L/C/R,
    EQ bands as "peak 250 Hz −2.0 dB Q 1.4", other records as "name value" lists."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return _fmt_record(value)
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        return "; ".join(fmt_value(v, unit) for v in value)
    leaf = parameter.rsplit(".", 1)[-1]
    pan = _finite(value)
    if leaf == "pan" and pan is not None:
        return fmt_pan(pan)
    if _number(value) is not None:
        return fmt_number(value, unit, signed=unit in {"dB", "LU"})
    return str(value)


def fmt_pan(pan: float) -> str:
    """A pan position (−1 left … +1 right, clamped) as "L 30", "C", "R 45"."""
    percent = round(min(max(pan, -1.0), 1.0) * 100)
    if percent == 0:
        return "C"
    return f"{'L' if percent < 0 else 'R'} {abs(percent)}"


_GAIN_TYPES = {"peak", "low_shelf", "high_shelf"}


def _fmt_record(record: dict[str, Any]) -> str:
    if "freq_hz" in record and ("type" in record or "q" in record or "gain_db" in record):
        return fmt_eq_band(record)
    if "start_s" in record and "end_s" in record:
        return _fmt_region(record)
    if record.get("enabled") is False:
        return "off"
    parts = []
    for key, v in record.items():
        if key == "enabled" or key == "type":
            continue
        stem, unit = split_unit(str(key))
        parts.append(f"{stem.replace('_', ' ')} {fmt_value(v, unit)}")
    if isinstance(record.get("type"), str):
        parts.insert(0, record["type"].replace("_", " "))
    return ", ".join(parts) if parts else "on"


def fmt_eq_band(band: dict[str, Any]) -> str:
    """An EQ band as "peak 250 Hz −2.0 dB Q 1.4" (gain only for peaks and shelves)."""
    kind = str(band.get("type") or "peak")
    parts = [kind.replace("_", " "), fmt_number(band.get("freq_hz"), "Hz")]
    if kind in _GAIN_TYPES and band.get("gain_db") is not None:
        parts.append(fmt_number(band.get("gain_db"), "dB", signed=True))
    if band.get("q") is not None:
        parts.append(f"Q {fmt_number(band.get('q'))}")
    if band.get("enabled") is False:
        parts.append("(off)")
    return " ".join(parts)


def _fmt_region(region: dict[str, Any]) -> str:
    text = f"{fmt_number(region.get('start_s'))}{chr(0x2013)}{fmt_number(region.get('end_s'), 's')}"
    fades = [region.get("fade_in_ms"), region.get("fade_out_ms")]
    if any(_finite(f) for f in fades):
        text += f" (fades {fmt_number(fades[0])}/{fmt_number(fades[1], 'ms')})"
    return text


def fmt_evidence_value(value: object) -> str:
    """An evidence value, compact (unescaped): numbers to 0.01, records and lists shortened."""
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: DASH}[value]
    if _number(value) is not None and not isinstance(value, str):
        return fmt_number(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={fmt_evidence_value(v)}" for k, v in value.items())
        text = "{" + inner + "}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(fmt_evidence_value(v) for v in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= 90 else text[:88] + "…"


# --------------------------------------------------------------------------------------------
# header


def _header(report: dict[str, Any]) -> str:
    """Title, date, session, and the key numbers of the master with pass/fail badges."""
    meta = []
    created = fmt_date(report.get("created"))
    if created:
        meta.append(created)
    if isinstance(report.get("session"), str):
        meta.append(f"session {report['session']}")
    rate = _finite(report.get("sample_rate"))
    if rate:
        meta.append(f"{fmt_number(rate / 1000)} kHz")
    verdict = _verdict_badge(report)
    meta_html = " · ".join(_esc(m) for m in meta)
    return (
        '<header class="top">\n'
        f'<div class="title"><h1>{_esc(_page_title(report))}</h1>{verdict}</div>\n'
        f'<p class="meta">{meta_html}</p>\n'
        f"{_cards(report)}\n{_toc(report)}\n</header>"
    )


@dataclass(frozen=True)
class _Verdict:
    """A measured master value against its target: text for the badge, and pass or fail."""

    ok: bool | None
    text: str


def _loudness_verdict(report: dict[str, Any]) -> _Verdict:
    checks = _dict(report.get("checks"))
    measured = _finite(_master(report, "master_lufs", "integrated_lufs"))
    target = _finite(_dig(report, "master_target", "integrated_lufs"))
    error = _finite(checks.get("master_lufs_error_lu"))
    if error is None and measured is not None and target is not None:
        error = measured - target
    explicit = _first(checks.get("master_lufs_ok"), checks.get("loudness_ok"))
    ok = explicit if isinstance(explicit, bool) else None
    if ok is None and error is not None:
        ok = abs(error) <= LOUDNESS_TOLERANCE_LU
    if error is None:
        return _Verdict(ok, "")
    if ok:
        return _Verdict(ok, "on target")
    return _Verdict(ok, f"{fmt_number(error, 'LU', signed=True)} off target")


def _peak_verdict(report: dict[str, Any]) -> _Verdict:
    checks = _dict(report.get("checks"))
    peak = _finite(_master(report, "master_true_peak_dbtp", "true_peak_dbtp"))
    ceiling = _finite(_dig(report, "master_target", "ceiling_dbtp"))
    explicit = checks.get("true_peak_ok")
    ok = explicit if isinstance(explicit, bool) else None
    if ok is None and peak is not None and ceiling is not None:
        ok = peak <= ceiling + PEAK_TOLERANCE_DB
    if ok is None:
        return _Verdict(None, "")
    return _Verdict(ok, "under ceiling" if ok else "over ceiling")


def _verdict_badge(report: dict[str, Any]) -> str:
    verdicts = [_loudness_verdict(report), _peak_verdict(report)]
    known = [v.ok for v in verdicts if v.ok is not None]
    if not known:
        return ""
    if all(known):
        return _badge(True, "master on target")
    return _badge(False, "master needs a look")


def _badge(ok: bool | None, text: str) -> str:
    cls = {True: "pass", False: "fail", None: "info"}[ok]
    mark = {True: "✓", False: "✗", None: "•"}[ok]
    return f'<span class="badge {cls}">{mark} {_esc(text)}</span>'


def _master(report: dict[str, Any], flat: str, nested: str) -> Any:
    """A master value of ``render``: the flat key (``master_lufs``) or ``master.<nested>``."""
    render = _dict(report.get("render"))
    return _first(render.get(flat), _dig(render, "master", nested))


def _cards(report: dict[str, Any]) -> str:
    """The key numbers as cards: master loudness, true peak, gain and limiter, mix, length."""
    render = _dict(report.get("render"))
    cards = []
    lufs = _master(report, "master_lufs", "integrated_lufs")
    target = _dig(report, "master_target", "integrated_lufs")
    if lufs is not None or target is not None:
        v = _loudness_verdict(report)
        sub = f"target {fmt_number(target, 'LUFS')}" if target is not None else "no target"
        cards.append(_card("Master loudness", fmt_number(lufs), sub, v, unit="LUFS"))
    peak = _master(report, "master_true_peak_dbtp", "true_peak_dbtp")
    ceiling = _dig(report, "master_target", "ceiling_dbtp")
    if peak is not None or ceiling is not None:
        sub = f"ceiling {fmt_number(ceiling, 'dBTP')}" if ceiling is not None else "no limiter"
        cards.append(_card("True peak", fmt_number(peak), sub, _peak_verdict(report), unit="dBTP"))
    gain = _master(report, "master_gain_db", "gain_db")
    reduction = _master(report, "limiter_max_reduction_db", "limiter_max_reduction_db")
    if gain is not None or reduction is not None:
        sub = f"limiter up to {fmt_number(reduction, 'dB')}" if reduction is not None else ""
        cards.append(_card("Master gain", fmt_number(gain, signed=True), sub, unit="dB"))
    mix = _first(render.get("mix_lufs"), _dig(render, "mix", "integrated_lufs"))
    if mix is not None:
        cards.append(_card("Mix before master", fmt_number(mix), "integrated", unit="LUFS"))
    duration = _first(render.get("duration_s"), report.get("duration_s"))
    if _finite(duration) is not None:
        cards.append(_card("Length", fmt_duration(duration), _render_time(render, duration)))
    cards.append(_counts_card(report))
    return '<div class="cards">' + "".join(c for c in cards if c) + "</div>"


def _card(
    label: str, value: str, sub: str = "", verdict: _Verdict | None = None, *, unit: str = ""
) -> str:
    """One key number: ``value`` large with its ``unit`` small, a line below, a badge."""
    badge = _badge(verdict.ok, verdict.text) if verdict and verdict.ok is not None else ""
    sub_html = f'<div class="sub">{_esc(sub)}</div>' if sub else ""
    unit_html = f'<span class="unit">{_esc(unit)}</span>' if unit and value != DASH else ""
    return (
        f'<div class="card"><div class="label">{_esc(label)}</div>'
        f'<div class="value">{_esc(value)} {unit_html}</div>{sub_html}{badge}</div>'
    )


def _render_time(render: dict[str, Any], duration: object) -> str:
    seconds, length = _finite(render.get("render_seconds")), _finite(duration)
    if seconds is None or seconds <= 0:
        return ""
    text = f"rendered in {fmt_number(seconds, 's')}"
    if length:
        text += f" ({fmt_number(length / seconds)}× real time)"
    return text


def _counts_card(report: dict[str, Any]) -> str:
    tracks = [t for t in _list(report.get("tracks")) if isinstance(t, dict)]
    moves = [m for m in _list(report.get("moves")) if isinstance(m, dict)]
    if not moves:
        moves = [m for t in tracks for m in _list(t.get("moves")) if isinstance(m, dict)]
    if not tracks and not moves:
        return ""
    n_t, n_m = len(tracks), len(moves)
    return _card(
        "Session",
        f"{n_t} track{'s' * (n_t != 1)}",
        f"{n_m} move{'s' * (n_m != 1)} explained below",
    )


def _toc(report: dict[str, Any]) -> str:
    links = [("plots", "Plots", bool(_dict(report.get("plots"))))]
    links.append(("checks", "Checks", bool(_dict(report.get("checks")))))
    links.append(("moves", "Every move", bool(_list(report.get("tracks")))))
    links.append(("other-moves", "Bus & master", bool(_other_moves(report))))
    links.append(("problems", "Problems", bool(_problem_items(report))))
    items = "".join(f'<a href="#{a}">{_esc(t)}</a>' for a, t, on in links if on)
    return f'<nav class="toc">{items}</nav>' if items else ""


# --------------------------------------------------------------------------------------------
# SVG helpers: scales, ticks, axes, lines, colour scale


@dataclass(frozen=True)
class Scale:
    """Maps a domain ``[lo, hi]`` to pixels ``[p0, p1]``, linear or log10 (domain > 0).

    Values outside the domain are clamped to its edges, so a plot never draws outside.
    """

    lo: float
    hi: float
    p0: float
    p1: float
    log: bool = False

    def __call__(self, value: float) -> float:
        lo, hi, v = self.lo, self.hi, value
        if self.log:
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(max(v, self.lo))
        t = 0.5 if hi == lo else (v - lo) / (hi - lo)
        t = min(max(t, 0.0), 1.0) if math.isfinite(t) else 0.0
        return self.p0 + t * (self.p1 - self.p0)


def nice_range(values: Iterable[float], step: float, *, pad: float = 0.0) -> tuple[float, float]:
    """The smallest ``[lo, hi]`` on multiples of ``step`` holding ``values`` ± ``pad``.

    Values beyond ±1e12 are taken as ±1e12 (no level or time is that large; a broken value
    must not overflow the axis).
    """
    vals = [min(max(v, -1e12), 1e12) for v in values]
    lo = math.floor((min(vals) - pad) / step) * step
    hi = math.ceil((max(vals) + pad) / step) * step
    if hi <= lo:
        lo, hi = lo - step, hi + step
    return lo, hi


def ticks(lo: float, hi: float, step: float, *, most: int = 200) -> list[float]:
    """Multiples of ``step`` from ``lo`` to ``hi`` (inclusive); none if there would be more
    than ``most`` or the numbers are not finite."""
    if not all(math.isfinite(v) for v in (lo, hi, step)) or step <= 0:
        return []
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    if last - first > most:
        return []
    return [k * step for k in range(first, last + 1)]


def nice_step(span: float, *, most: int = 10) -> float:
    """A step of 1, 2 or 5 times a power of ten giving at most ``most`` ticks over ``span``."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(span / most))
    return next(m * magnitude for m in (1, 2, 5, 10) if span / (m * magnitude) <= most)


def db_step(span_db: float) -> float:
    """A tick step for a dB axis spanning ``span_db``: 3, 6, 12 or 24 dB (about 4-10 ticks),
    coarser for absurd spans."""
    return next((s for s in (3.0, 6.0, 12.0, 24.0) if span_db / s <= 10), nice_step(span_db))


def tick_label(value: float) -> str:
    """An axis label: whole numbers without decimals ("−24"), others to 0.1, "−" as minus."""
    if round(value, 6).is_integer():
        return fmt_number(int(round(value)))
    return fmt_number(value)


def _f(x: float) -> str:
    """A pixel coordinate for SVG (0.1 px)."""
    return f"{x:.1f}"


def svg_open(width: float, height: float, *, label: str, cls: str) -> str:
    """The start of an inline SVG drawing of ``width`` × ``height`` user units (px)."""
    return (
        f'<svg class="plot {_esc(cls)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" height="{_f(height)}" '
        f'role="img" aria-label="{_esc(label)}" font-family="{_esc(_FONT)}" font-size="11" '
        f'fill="{_INK}"><title>{_esc(label)}</title>'
    )


def svg_text(x: float, y: float, text: str, *, anchor: str = "start", **attrs: object) -> str:
    """A text element; ``text`` is escaped, attribute names use ``_`` for ``-``."""
    extra = "".join(f' {k.replace("_", "-")}="{_esc(v)}"' for k, v in attrs.items())
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{_esc(text)}</text>'


def svg_line(
    x1: float, y1: float, x2: float, y2: float, *, stroke: str, cls: str = "", **attrs: object
) -> str:
    """A line element from ``(x1, y1)`` to ``(x2, y2)`` (px); attribute names use ``_``."""
    extra = "".join(f' {k.replace("_", "-")}="{_esc(v)}"' for k, v in attrs.items())
    cls_attr = f' class="{_esc(cls)}"' if cls else ""
    return (
        f'<line{cls_attr} x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" '
        f'stroke="{_esc(stroke)}"{extra}/>'
    )


def axes(
    x: Scale,
    y: Scale,
    *,
    x_ticks: Sequence[tuple[float, str]],
    y_ticks: Sequence[tuple[float, str]],
    x_title: str = "",
    y_title: str = "",
) -> str:
    """Grid lines with labels at ``x_ticks`` / ``y_ticks`` (value, label) and a frame."""
    top, bottom = min(y.p0, y.p1), max(y.p0, y.p1)
    left, right = min(x.p0, x.p1), max(x.p0, x.p1)
    parts = ['<g class="axes">']
    for value, label in x_ticks:
        px = x(value)
        parts.append(svg_line(px, top, px, bottom, stroke=_GRID))
        parts.append(svg_text(px, bottom + 14, label, anchor="middle", fill=_MUTED))
    for value, label in y_ticks:
        py = y(value)
        parts.append(svg_line(left, py, right, py, stroke=_GRID))
        parts.append(svg_text(left - 6, py + 3.5, label, anchor="end", fill=_MUTED))
    parts.append(
        f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(right - left)}" '
        f'height="{_f(bottom - top)}" fill="none" stroke="{_AXIS}"/>'
    )
    if x_title:
        parts.append(svg_text((left + right) / 2, bottom + 30, x_title, anchor="middle"))
    if y_title:
        parts.append(svg_text(left, top - 8, y_title, anchor="start", fill=_MUTED))
    parts.append("</g>")
    return "".join(parts)


def polylines(
    xs: Sequence[object],
    ys: Sequence[object],
    x: Scale,
    y: Scale,
    *,
    cls: str,
    stroke: str,
    width: float = 1.5,
    dash: str = "",
) -> str:
    """Lines through the points ``(xs[i], ys[i])``; a point that is not finite breaks the line
    (silence, gaps), and a lone point between gaps is drawn as a dot."""
    runs: list[list[tuple[float, float]]] = [[]]
    for xv, yv in zip(xs, ys, strict=False):
        fx, fy = _finite(xv), _finite(yv)
        if fx is None or fy is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((x(fx), y(fy)))
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    parts = []
    for run in runs:
        if len(run) == 1:
            px, py = run[0]
            parts.append(
                f'<circle class="{cls}" cx="{_f(px)}" cy="{_f(py)}" r="{_f(width)}" '
                f'fill="{stroke}"/>'
            )
        elif run:
            points = " ".join(f"{_f(px)},{_f(py)}" for px, py in run)
            parts.append(
                f'<polyline class="{cls}" points="{points}" fill="none" stroke="{stroke}" '
                f'stroke-width="{width}" stroke-linejoin="round" stroke-linecap="round"'
                f"{dash_attr}/>"
            )
    return "".join(parts)


def legend(items: Sequence[tuple[str, str, str]], x: float, y: float) -> str:
    """A one-line legend at ``(x, y)``: (label, colour, dash) line samples, dash "" = solid."""
    parts = ['<g class="legend">']
    for label, colour, dash in items:
        dash_attr = {"stroke_dasharray": dash} if dash else {}
        parts.append(
            svg_line(x, y - 4, x + 22, y - 4, stroke=colour, stroke_width=2.5, **dash_attr)
        )
        parts.append(svg_text(x + 28, y, label))
        x += 40 + 6.2 * len(label)
    parts.append("</g>")
    return "".join(parts)


_HEAT_STOPS = (
    (0.0, (248, 246, 241)),
    (0.2, (253, 224, 168)),
    (0.45, (244, 162, 89)),
    (0.7, (217, 84, 59)),
    (1.0, (127, 23, 41)),
)


def heat_colour(value: float) -> str:
    """A colour for ``value`` in 0..1 (clamped): near-white through amber to deep red."""
    v = min(max(value, 0.0), 1.0)
    for (t0, c0), (t1, c1) in pairwise(_HEAT_STOPS):
        if v <= t1:
            t = (v - t0) / (t1 - t0)
            rgb = (round(a + t * (b - a)) for a, b in zip(c0, c1, strict=True))
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#{:02x}{:02x}{:02x}".format(*_HEAT_STOPS[-1][1])


def _short_label(text: object, limit: int = 16) -> str:
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _figure(anchor: str, title: str, svg: str, caption: str, extra: str = "") -> str:
    return (
        f'<figure class="plot-card" id="{anchor}"><h3>{_esc(title)}</h3>'
        f'<div class="svg-wrap">{svg}</div>{extra}'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


# --------------------------------------------------------------------------------------------
# plots


def _plots_section(report: dict[str, Any]) -> str:
    """Every plot present in ``report["plots"]``; nothing when none can be drawn."""
    plots = _dict(report.get("plots"))
    colours = _track_colours(report)
    figures = [
        _section(_plot_track_loudness, plots.get("track_loudness"), colours),
        _section(_plot_spectrum, plots.get("spectrum")),
        _section(_plot_masking, plots.get("masking")),
        _section(_plot_loudness_over_time, plots.get("loudness_over_time")),
    ]
    figures = [f for f in figures if f]
    if not figures:
        return ""
    return '<section id="plots"><h2>The mix at a glance</h2>' + "".join(figures) + "</section>"


def _track_colours(report: dict[str, Any]) -> dict[str, str]:
    """Track name (and id) -> its colour: the track's own, else the one the loudness plot
    gives it, else one of the palette (by position), so cards and plots agree."""
    plotted = {
        str(r.get("track")): r.get("colour")
        for r in _list(_dig(report, "plots", "track_loudness"))
        if isinstance(r, dict)
    }
    colours: dict[str, str] = {}
    for i, t in enumerate(_list(report.get("tracks"))):
        if not isinstance(t, dict):
            continue
        own = t.get("colour")
        if not (isinstance(own, str) and _HEX.match(own)):
            own = plotted.get(str(t.get("name")), plotted.get(str(t.get("id"))))
        for key in ("name", "id"):
            if isinstance(t.get(key), str):
                colours.setdefault(t[key], _colour(own, i))
    return colours


def _plot_track_loudness(rows: object, colours: dict[str, str]) -> str:
    """Per-track loudness as dumbbells: hollow dot = the stem as recorded (LUFS), filled dot =
    its contribution to the final mix (LUFS), in the track's colour."""
    rows = [r for r in _list(rows) if isinstance(r, dict)]
    values = [
        v for r in rows for v in (_finite(r.get("before_lufs")), _finite(r.get("after_lufs")))
    ]
    values = [v for v in values if v is not None]
    if not rows or not values:
        return ""
    label_w, plot_w, value_w, row_h, top = 160.0, 580.0, 140.0, 26.0, 40.0
    height = top + row_h * len(rows) + 40
    lo, hi = nice_range(values, 3.0, pad=1.0)
    step = db_step(hi - lo)
    lo, hi = nice_range([lo, hi], step)
    x = Scale(lo, hi, label_w, label_w + plot_w)
    y = Scale(0, len(rows), top, top + row_h * len(rows))
    parts = [svg_open(label_w + plot_w + value_w, height, label="Track loudness", cls="loudness")]
    parts.append(_dumbbell_legend(label_w, 18))
    for i in range(0, len(rows), 2):
        parts.append(
            f'<rect x="0" y="{_f(y(i))}" width="{_f(label_w + plot_w + value_w)}" '
            f'height="{_f(row_h)}" fill="#f7f8fa"/>'
        )
    x_ticks = [(t, tick_label(t)) for t in ticks(lo, hi, step)]
    parts.append(axes(x, y, x_ticks=x_ticks, y_ticks=[], x_title="LUFS"))
    for i, row in enumerate(rows):
        parts.append(_dumbbell_row(row, i, x, y(i + 0.5), colours))
    parts.append("</svg>")
    caption = (
        "Hollow dot: each stem as recorded. Filled dot: how loud it plays in the final mix "
        "(integrated LUFS)."
    )
    return _figure(
        "plot-track-loudness", "Track loudness, before and after", "".join(parts), caption
    )


def _dumbbell_legend(x0: float, y0: float) -> str:
    return (
        f'<g class="legend"><circle cx="{_f(x0 + 6)}" cy="{_f(y0 - 4)}" r="5" fill="#fff" '
        f'stroke="{_INK}" stroke-width="2"/>{svg_text(x0 + 16, y0, "stem as recorded")}'
        f'<circle cx="{_f(x0 + 136)}" cy="{_f(y0 - 4)}" r="5.5" fill="{_INK}"/>'
        f"{svg_text(x0 + 146, y0, 'in the final mix')}</g>"
    )


def _dumbbell_row(
    row: dict[str, Any], index: int, x: Scale, cy: float, colours: dict[str, str]
) -> str:
    name = str(row.get("track", ""))
    colour = _colour(row.get("colour") or colours.get(name), index)
    before, after = _finite(row.get("before_lufs")), _finite(row.get("after_lufs"))
    parts = [f'<g class="tl-row"><title>{_esc(name)}</title>']
    parts.append(svg_text(x.p0 - 10, cy + 4, _short_label(name, 22), anchor="end"))
    if before is not None and after is not None:
        parts.append(
            svg_line(x(before), cy, x(after), cy, stroke=colour, stroke_width=3, opacity=0.55)
        )
    if before is not None:
        parts.append(
            f'<circle class="tl-before" cx="{_f(x(before))}" cy="{_f(cy)}" r="5" fill="#fff" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
    if after is not None:
        parts.append(
            f'<circle class="tl-after" cx="{_f(x(after))}" cy="{_f(cy)}" r="5.5" fill="{colour}"/>'
        )
    if before is None and after is None:
        label = "silent"
    else:
        label = f"{fmt_number(before)} {ARROW} {fmt_number(after)}"
    parts.append(svg_text(x.p1 + 12, cy + 4, label, fill=_MUTED))
    parts.append("</g>")
    return "".join(parts)


_GRID_HZ = (50, 100, 200, 500, 1000, 2000, 5000, 10000)
_BANDS_HZ = (
    ("sub", 20, 60),
    ("bass", 60, 250),
    ("low mids", 250, 800),
    ("mids", 800, 2500),
    ("presence", 2500, 6000),
    ("air", 6000, 20000),
)


def _hz_label(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def _plot_spectrum(spectrum: object) -> str:
    """The mix's third-octave spectrum (dB, loudness-normalised) against the target, on a
    log-frequency axis; the mix before the automatic moves when given."""
    spec = _dict(spectrum)
    freqs = _list(spec.get("freqs_hz"))
    good = [f for f in (_finite(v) for v in freqs) if f is not None and f > 0]
    series = {k: _list(spec.get(k)) for k in ("target_db", "before_db", "mix_db")}
    levels = [v for s in series.values() for v in (_finite(x) for x in s) if v is not None]
    if not good or not levels or not series["mix_db"]:
        return ""
    freqs = [f if (_finite(f) or 0) > 0 else None for f in freqs]
    left, top, plot_w, plot_h = 52.0, 40.0, 800.0, 280.0
    lo, hi = nice_range(levels, 3.0, pad=1.5)
    step = db_step(hi - lo)
    lo, hi = nice_range([lo, hi], step)
    x = Scale(min(20.0, min(good)), max(20000.0, max(good)), left, left + plot_w, log=True)
    y = Scale(lo, hi, top + plot_h, top)
    parts = [svg_open(left + plot_w + 20, top + plot_h + 42, label="Mix spectrum", cls="spectrum")]
    x_ticks = [(f, _hz_label(f)) for f in _GRID_HZ if x.lo <= f <= x.hi]
    y_ticks = [(t, tick_label(t)) for t in ticks(lo, hi, step)]
    parts.append(axes(x, y, x_ticks=x_ticks, y_ticks=y_ticks, x_title="Hz", y_title="dB"))
    for name, f0, f1 in _BANDS_HZ:
        if f0 >= x.lo and f1 <= x.hi:
            parts.append(
                svg_text(x(math.sqrt(f0 * f1)), top + 14, name, anchor="middle", fill=_AXIS)
            )
    styles = {
        "target_db": ("spectrum-target", "#8a8f98", 1.6, "6 4", "target"),
        "before_db": ("spectrum-before", "#c9a66b", 1.4, "", "before the moves"),
        "mix_db": ("spectrum-mix", _ACCENT, 2.4, "", "mix"),
    }
    legend_items = []
    for key, (cls, colour, width, dash, label) in styles.items():
        if any(_finite(v) is not None for v in series[key]):
            parts.append(
                polylines(freqs, series[key], x, y, cls=cls, stroke=colour, width=width, dash=dash)
            )
            legend_items.append((label, colour, dash))
    parts.append(legend(legend_items, left, 18))
    parts.append("</svg>")
    caption = (
        "Third-octave levels of the mix, loudness-normalised, against the target curve. "
        "Above the dashed line: more of that range than the target; below: less."
    )
    return _figure("plot-spectrum", "Mix spectrum against the target", "".join(parts), caption)


@dataclass(frozen=True)
class _HeatLayout:
    """Where a heatmap sits (px): its grid's top-left corner and the side of a cell."""

    left: float
    top: float
    cell: float


def _plot_masking(masking: object) -> str:
    """Masking before and after as heatmaps: row = the masking track, column = the masked
    one, colour = the fraction (0-1) of the masked track the masker hides."""
    m = _dict(masking)
    names = [str(n) for n in _list(m.get("tracks"))]
    n = len(names)
    matrices = [(t, _list(m.get(k))) for t, k in (("Before", "before"), ("After", "after"))]
    matrices = [(t, mat) for t, mat in matrices if mat]
    if n == 0 or not matrices:
        return ""
    cell = min(max(300.0 / n, 14.0), 40.0)
    label_w, col_h, title_h, gap = 118.0, 86.0, 22.0, 36.0
    panel_w = label_w + n * cell
    width = panel_w * len(matrices) + gap * (len(matrices) - 1) + 10
    grid_top = title_h + col_h
    height = grid_top + n * cell + 56
    parts = [svg_open(width, height, label="Masking between tracks", cls="masking")]
    for k, (title, matrix) in enumerate(matrices):
        layout = _HeatLayout(k * (panel_w + gap) + label_w, grid_top, cell)
        parts.append(_heatmap(title, names, matrix, layout))
    parts.append(_heat_legend(label_w, grid_top + n * cell + 22, min(260.0, width - label_w - 10)))
    parts.append("</svg>")
    caption = (
        "Rows mask columns: a dark cell means the row's track hides much of the column's "
        "track (0-100 % of its audible energy). The diagonal is left blank."
    )
    return _figure(
        "plot-masking", "Masking between tracks", "".join(parts), caption, _masking_notes(m, names)
    )


def _cell_value(matrix: list[Any], i: int, j: int) -> float | None:
    """``matrix[i][j]`` clamped to 0..1, or ``None`` where it is missing or not finite."""
    row = _list(matrix[i]) if i < len(matrix) else []
    v = _finite(row[j]) if j < len(row) else None
    return None if v is None else min(max(v, 0.0), 1.0)


def _heatmap(title: str, names: list[str], matrix: list[Any], at: _HeatLayout) -> str:
    """One masking matrix as ``n × n`` cells of class ``mask-cell`` with labels."""
    n, c = len(names), at.cell
    parts = [f'<g class="heatmap">{svg_text(at.left, 14, title, font_weight="600")}']
    for j, name in enumerate(names):
        cx = at.left + (j + 0.5) * c
        parts.append(
            f'<text transform="translate({_f(cx + 3)},{_f(at.top - 6)}) rotate(-50)" '
            f'text-anchor="start" fill="{_MUTED}">{_esc(_short_label(name, 14))}</text>'
        )
    for i, name in enumerate(names):
        cy = at.top + (i + 0.5) * c
        parts.append(svg_text(at.left - 6, cy + 4, _short_label(name, 16), anchor="end"))
        for j in range(n):
            parts.append(_heat_cell(names, i, j, _cell_value(matrix, i, j), at))
    parts.append("</g>")
    return "".join(parts)


def _heat_cell(names: list[str], i: int, j: int, value: float | None, at: _HeatLayout) -> str:
    c = at.cell
    x, y = at.left + j * c, at.top + i * c
    if i == j or value is None:
        fill, tip, label = "#eceef1", f"{names[i]} / {names[j]}: {DASH}", ""
    else:
        v = min(max(value, 0.0), 1.0)
        fill, label = heat_colour(v), f"{round(v * 100)}"
        tip = f"{names[i]} masks {names[j]}: {label} %"
    text = ""
    if label and c >= 24:
        ink = "#ffffff" if (value or 0) > 0.55 else _INK
        text = svg_text(x + c / 2, y + c / 2 + 3.5, label, anchor="middle", font_size=10, fill=ink)
    return (
        f'<rect class="mask-cell" x="{_f(x)}" y="{_f(y)}" width="{_f(c - 1)}" '
        f'height="{_f(c - 1)}" fill="{fill}"><title>{_esc(tip)}</title></rect>{text}'
    )


def _heat_legend(x: float, y: float, width: float) -> str:
    """The colour scale of the masking heatmaps, 0-100 %."""
    steps = 20
    w = width / steps
    parts = ['<g class="legend">']
    for k in range(steps):
        parts.append(
            f'<rect x="{_f(x + k * w)}" y="{_f(y)}" width="{_f(w + 0.5)}" height="10" '
            f'fill="{heat_colour((k + 0.5) / steps)}"/>'
        )
    parts.append(svg_text(x, y + 24, "0 %", fill=_MUTED))
    parts.append(svg_text(x + width / 2, y + 24, "hidden", anchor="middle", fill=_MUTED))
    parts.append(svg_text(x + width, y + 24, "100 %", anchor="end", fill=_MUTED))
    parts.append("</g>")
    return "".join(parts)


def _masking_notes(masking: dict[str, Any], names: list[str]) -> str:
    """The three worst masking pairs before the moves, with where they ended up."""
    before, after = _list(masking.get("before")), _list(masking.get("after"))
    pairs = []
    for i in range(len(names)):
        for j in range(len(names)):
            v = _cell_value(before, i, j) if i != j and before else None
            if v is not None and v >= 0.1:
                pairs.append((v, i, j))
    if not pairs:
        return ""
    items = []
    for v, i, j in sorted(pairs, reverse=True)[:3]:
        a = _cell_value(after, i, j) if after else None
        then = f" {ARROW} {round(a * 100)} %" if a is not None else ""
        items.append(f"<li>{_esc(names[i])} over {_esc(names[j])}: {round(v * 100)} %{then}</li>")
    return '<ul class="notes">' + "".join(items) + "</ul>"


def _time_step(duration_s: float) -> float:
    """A tick step (s) giving at most about 10 ticks over ``duration_s``."""
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
    return next((s for s in steps if duration_s / s <= 10), nice_step(duration_s))


def _plot_loudness_over_time(lot: object) -> str:
    """Short-term loudness (LUFS, 3 s) of the mix and master over time, with the target."""
    d = _dict(lot)
    times = _list(d.get("times_s"))
    mix, master = _list(d.get("mix_short_term_lufs")), _list(d.get("master_short_term_lufs"))
    target = _finite(d.get("target_lufs"))
    good_t = [t for t in (_finite(v) for v in times) if t is not None]
    levels = [v for v in (_finite(x) for x in mix + master) if v is not None]
    if len(good_t) < 2 or not levels:
        return ""
    left, top, plot_w, plot_h = 52.0, 40.0, 800.0, 230.0
    top_db = max(levels + ([target] if target is not None else []))
    lo, hi = nice_range([max(min(levels), top_db - 42.0), top_db], 3.0, pad=1.5)
    step = db_step(hi - lo)
    lo, hi = nice_range([lo, hi], step)
    t0, t1 = min(good_t), max(good_t)
    x = Scale(t0, t1 if t1 > t0 else t0 + 1, left, left + plot_w)
    y = Scale(lo, hi, top + plot_h, top)
    parts = [svg_open(left + plot_w + 20, top + plot_h + 42, label="Loudness over time", cls="lot")]
    x_ticks = [(t, fmt_duration(t)) for t in ticks(t0, t1, _time_step(t1 - t0))]
    y_ticks = [(v, tick_label(v)) for v in ticks(lo, hi, step)]
    parts.append(axes(x, y, x_ticks=x_ticks, y_ticks=y_ticks, x_title="time", y_title="LUFS"))
    legend_items = []
    if any(_finite(v) is not None for v in master):
        parts.append(polylines(times, mix, x, y, cls="lot-mix", stroke="#a9b4c2", width=1.4))
        parts.append(polylines(times, master, x, y, cls="lot-master", stroke=_ACCENT, width=2.2))
        legend_items += [("mix", "#a9b4c2", ""), ("master", _ACCENT, "")]
    else:
        parts.append(polylines(times, mix, x, y, cls="lot-mix", stroke=_ACCENT, width=2.2))
        legend_items.append(("mix", _ACCENT, ""))
    if target is not None:
        parts.append(_target_line(x, y, target))
        legend_items.append((f"target {fmt_number(target, 'LUFS')}", "#b3261e", "6 4"))
    parts.append(legend(legend_items, left, 18))
    parts.append("</svg>")
    caption = "Short-term loudness (3 s windows); gaps are silence."
    return _figure("plot-loudness-time", "Loudness over time", "".join(parts), caption)


def _target_line(x: Scale, y: Scale, target_lufs: float) -> str:
    py = y(target_lufs)
    return svg_line(
        x.p0,
        py,
        x.p1,
        py,
        stroke="#b3261e",
        cls="lot-target",
        stroke_width=1.5,
        stroke_dasharray="6 4",
        opacity=0.85,
    )


# --------------------------------------------------------------------------------------------
# checks


def _check_ok(name: str, value: object) -> bool | None:
    """Whether a check passed: bools as they are, ``{"ok": bool}`` records, and numbers named
    ``*_error_lu`` / ``*_error_db`` within ±1; ``None`` when the value does not say."""
    if isinstance(value, bool):
        return value
    if isinstance(value, dict) and isinstance(value.get("ok"), bool):
        return value["ok"]
    v = _finite(value)
    if v is not None and name.endswith(("_error_lu", "_error_db")):
        return abs(v) <= LOUDNESS_TOLERANCE_LU
    return None


def _checks_section(report: dict[str, Any]) -> str:
    """The checks as a small table, failures highlighted; mono compatibility when measured."""
    checks = _dict(report.get("checks"))
    rows = []
    for name, value in checks.items():
        ok = _check_ok(str(name), value)
        stem, unit = split_unit(str(name))
        shown = value.get("value") if isinstance(value, dict) and "value" in value else value
        text = fmt_value(shown, unit) if not isinstance(shown, bool) else ("yes" if shown else "no")
        cls = {True: "pass", False: "fail", None: ""}[ok]
        mark = {True: "✓", False: "✗", None: ""}[ok]
        rows.append(
            f'<tr class="{cls}"><td>{_esc(stem.replace("_", " "))}</td>'
            f'<td class="num">{_esc(text)}</td><td class="mark">{mark}</td></tr>'
        )
    mono = _mono_rows(_dict(report.get("mix_mono")))
    if not rows and not mono:
        return ""
    table = f'<table class="checks"><tbody>{"".join(rows + mono)}</tbody></table>'
    return f'<section id="checks"><h2>Checks</h2>{table}</section>'


def _mono_rows(mono: dict[str, Any]) -> list[str]:
    rows = []
    if mono.get("correlation") is not None:
        rows.append(("mono correlation", fmt_number(mono["correlation"])))
    if mono.get("loss_db") is not None:
        rows.append(("mono loss", fmt_number(mono["loss_db"], "dB")))
    return [
        f'<tr><td>{_esc(a)}</td><td class="num">{_esc(b)}</td><td class="mark"></td></tr>'
        for a, b in rows
    ]


# --------------------------------------------------------------------------------------------
# moves


_TASK_COLOURS = {
    "gain": "#3a6ea5",
    "balance": "#2a9d9d",
    "pan": "#8e6bbf",
    "eq": "#c8553d",
    "unmask": "#d19a2a",
    "dynamics": "#b5487a",
    "space": "#4f9d69",
    "master": "#1d2330",
    "edit": "#6b7a8f",
    "organise": "#7a9a3a",
}


def _moves_table(moves: list[dict[str, Any]]) -> str:
    """Moves as a table: task, parameter (short), old → new with unit, why."""
    if not moves:
        return '<p class="quiet">No changes: left as it came.</p>'
    rows = "".join(_move_row(m) for m in moves)
    return (
        '<table class="moves"><colgroup><col class="c-task"><col class="c-param">'
        '<col class="c-change"><col class="c-why"></colgroup>'
        "<thead><tr><th>Task</th><th>Parameter</th><th>Change</th><th>Why</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _move_row(move: dict[str, Any]) -> str:
    task = str(move.get("task") or "")
    colour = _TASK_COLOURS.get(task, "#6b7a8f")
    parameter = str(move.get("parameter") or "")
    source = move.get("source")
    tag = (
        f' <span class="src">{_esc(source)}</span>'
        if isinstance(source, str) and source and source != "auto"
        else ""
    )
    return (
        f'<tr><td><span class="task" style="--t:{colour}">{_esc(task or DASH)}</span>{tag}</td>'
        f'<td class="param" title="{_esc(parameter)}">{_esc(short_parameter(parameter))}</td>'
        f'<td class="change">{_change(move)}</td>'
        f'<td class="why"><div class="reason">{_esc(move.get("reason") or "")}</div>'
        f"{_evidence(move.get('evidence'))}</td></tr>"
    )


def _change(move: dict[str, Any]) -> str:
    """Old → new with unit; EQ band lists one band a line; the difference for dB moves."""
    unit = str(move.get("unit") or "")
    parameter = str(move.get("parameter") or "")
    old, new = move.get("old"), move.get("new")

    def side(value: object) -> str:
        if isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
            return "<br>".join(_esc(fmt_value(v, unit)) for v in value)
        return _esc(fmt_value(value, unit, parameter=parameter))

    delta = ""
    a, b = _finite(old), _finite(new)
    if a is not None and b is not None and unit in {"dB", "LU", "LUFS"} and b != a:
        delta = f' <span class="delta">({_esc(fmt_number(b - a, signed=True))})</span>'
    return (
        f'<span class="old">{side(old)}</span> <span class="arrow">{ARROW}</span> '
        f'<span class="new">{side(new)}</span>{delta}'
    )


def _evidence(evidence: object) -> str:
    """Evidence as a compact ``name=value`` list."""
    items = _dict(evidence)
    if not items:
        return ""
    spans = "".join(
        f"<span>{_esc(k)}={_esc(fmt_evidence_value(v))}</span>" for k, v in items.items()
    )
    return f'<div class="evidence">{spans}</div>'


def _track_moves(report: dict[str, Any], track: dict[str, Any]) -> list[dict[str, Any]]:
    """A track's moves: its own list, else the report's moves whose parameter names it."""
    if isinstance(track.get("moves"), list):
        return [m for m in track["moves"] if isinstance(m, dict)]
    prefix = f"tracks[{track.get('id')}]."
    moves = _list(report.get("moves"))
    return [m for m in moves if isinstance(m, dict) and str(m.get("parameter")).startswith(prefix)]


def _track_moves_section(report: dict[str, Any]) -> str:
    """ "Every move, by track": a card per track with its meters, problems and moves."""
    tracks = [t for t in _list(report.get("tracks")) if isinstance(t, dict)]
    if not tracks:
        return ""
    colours = _track_colours(report)
    cards = "".join(_track_card(report, t, i, colours) for i, t in enumerate(tracks))
    return f'<section id="moves"><h2>Every move, by track</h2>{cards}</section>'


def _track_card(
    report: dict[str, Any], track: dict[str, Any], index: int, colours: dict[str, str]
) -> str:
    """A track's card: colour, name, role, file, meters, problems, then its moves."""
    colour = colours.get(str(track.get("name")), colours.get(str(track.get("id"))))
    colour = _colour(colour, index)
    name = track.get("name") or track.get("id") or f"track {index + 1}"
    role = track.get("role")
    role_html = f'<span class="role">{_esc(str(role).replace("_", " "))}</span>' if role else ""
    file_html = f'<span class="file">{_esc(track["file"])}</span>' if track.get("file") else ""
    problems = [p for p in _list(track.get("problems")) if p]
    problem_html = (
        '<ul class="problems">' + "".join(f"<li>{_esc(p)}</li>" for p in problems) + "</ul>"
        if problems
        else ""
    )
    return (
        f'<article class="track" style="--c:{colour}">'
        f'<div class="track-head"><span class="swatch"></span><h3>{_esc(name)}</h3>'
        f"{role_html}{file_html}</div>{_meter_line(track.get('meters'))}{problem_html}"
        f"{_moves_table(_track_moves(report, track))}</article>"
    )


_METERS = (
    ("integrated_lufs", "", "LUFS"),
    ("loudness_range_lu", "range", "LU"),
    ("sample_peak_dbfs", "peak", "dBFS"),
    ("true_peak_dbtp", "true peak", "dBTP"),
    ("crest_db", "crest", "dB"),
)


def _meter_line(meters: object) -> str:
    """A track's meters as one line: loudness, range, peak, crest."""
    m = _dict(meters)
    parts = []
    for key, label, unit in _METERS:
        if key in m and m[key] is not None:
            text = fmt_number(m[key], unit)
            parts.append(f"{label} {text}" if label else text)
    if not parts:
        return ""
    return f'<p class="meters">{_esc(" · ".join(parts))}</p>'


def _other_moves(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Moves on buses, the master and anything that is not one of the report's tracks."""
    ids = {str(t.get("id")) for t in _list(report.get("tracks")) if isinstance(t, dict)}
    out = []
    for m in _list(report.get("moves")):
        if not isinstance(m, dict):
            continue
        owner = re.match(r"^tracks\[([^\]]*)\]\.", str(m.get("parameter") or ""))
        if owner is None or owner.group(1) not in ids:
            out.append(m)
    return out


def _other_moves_section(report: dict[str, Any]) -> str:
    """Bus and master moves, grouped by target."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in _other_moves(report):
        groups.setdefault(str(m.get("target") or "other"), []).append(m)
    if not groups:
        return ""
    order = sorted(groups, key=lambda k: (k == "master", k.lower()))
    blocks = "".join(
        f'<article class="track bus"><div class="track-head"><h3>{_esc(name)}</h3></div>'
        f"{_moves_table(groups[name])}</article>"
        for name in order
    )
    return f'<section id="other-moves"><h2>Buses and master</h2>{blocks}</section>'


# --------------------------------------------------------------------------------------------
# problems, warnings, footer


def _problem_items(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, what) for every track problem, skipped file and warning."""
    items: list[tuple[str, str]] = []
    for t in _list(report.get("tracks")):
        if isinstance(t, dict):
            where = str(t.get("name") or t.get("file") or "")
            items += [(where, str(p)) for p in _list(t.get("problems")) if p]
    for s in _list(report.get("skipped_files")):
        if isinstance(s, dict):
            items.append((f"{s.get('file', '')} (skipped)", str(s.get("problem") or "")))
    for w in _list(_dig(report, "render", "warnings")):
        items.append(("render", str(w)))
    for w in _list(_dig(report, "mix_mono", "warnings")):
        items.append(("mono", str(w)))
    return items


def _control_section(report: dict[str, Any]) -> str:
    """The level of automation, the locks and what they held, the amounts, and the
    suggestions waiting for a decision (an assist run)."""
    intent = _dict(report.get("intent"))
    held = [h for h in _list(report.get("held")) if isinstance(h, dict)]
    pending = [p for p in _list(report.get("proposals")) if isinstance(p, dict)]
    if not intent and not held and not pending:
        return ""
    facts = [f"Level: <b>{_esc(intent.get('level') or 'auto')}</b>"]
    if intent.get("tasks"):
        facts.append("tasks: " + _esc(", ".join(str(t) for t in _list(intent.get("tasks")))))
    amounts = _dict(intent.get("amount_pct"))
    if amounts:
        facts.append(
            "amounts: " + _esc(", ".join(f"{k} {fmt_number(v)} %" for k, v in amounts.items()))
        )
    if intent.get("profile"):
        facts.append(f"profile: {_esc(intent.get('profile'))}")
    locks = _list(intent.get("locks"))
    if locks:
        facts.append("locks: " + ", ".join(f"<code>{_esc(lk)}</code>" for lk in locks))
    parts = [f"<p>{' · '.join(facts)}</p>"]
    if held:
        rows = "".join(
            f"<tr><td>{_esc(h.get('target'))}</td>"
            f"<td>{_esc(short_parameter(h.get('parameter')))}</td>"
            f"<td>{_esc(_held_value(h))}</td>"
            f"<td><code>{_esc(h.get('lock'))}</code></td></tr>"
            for h in held
        )
        parts.append(
            '<h3>Held by your locks</h3><table class="problems-table"><thead><tr><th>Track</th>'
            "<th>Parameter</th><th>Would have been</th><th>Lock</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    if pending:
        rows = "".join(
            f"<tr><td>#{_esc(p.get('number'))}</td><td>{_esc(p.get('task'))}</td>"
            f"<td>{_esc(p.get('target'))}</td><td>{_change(p)}</td>"
            f"<td>{_esc(p.get('reason'))}</td></tr>"
            for p in pending
        )
        parts.append(
            f"<h3>{len(pending)} suggestion(s) waiting for you</h3>"
            '<p class="quiet">Apply with <code>mixwise apply SESSION 3 5 7</code>, reject with '
            "<code>mixwise reject SESSION 4</code>.</p>"
            '<table class="problems-table"><thead><tr><th>#</th><th>Task</th><th>Track</th>'
            f"<th>Change</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return f'<section id="control"><h2>Automation</h2>{"".join(parts)}</section>'


def _reference_section(report: dict[str, Any]) -> str:
    """How far the master is from the reference, before and after matching, in words."""
    ref = _dict(report.get("reference"))
    if not ref:
        return ""
    before, after = (
        _number(ref.get("tonal_distance_before_db")),
        _number(ref.get("tonal_distance_after_db")),
    )

    def items(key: str) -> str:
        return "".join(f"<li>{_esc(x)}</li>" for x in _list(ref.get(key))) or "<li>matches</li>"

    return (
        '<section id="reference"><h2>Against the reference</h2>'
        f"<p>{_esc(Path(str(ref.get('path') or '')).name)}: tonal distance (mean third-octave "
        f"difference, 40 Hz–16 kHz, loudness-matched) <b>{fmt_number(before, ' dB')}</b> before "
        f"matching, <b>{fmt_number(after, ' dB')}</b> after.</p>"
        f"<h3>Before</h3><ul>{items('before')}</ul><h3>After</h3><ul>{items('after')}</ul>"
        "</section>"
    )


def _held_value(h: dict[str, Any]) -> str:
    unit, parameter = str(h.get("unit") or ""), str(h.get("parameter") or "")
    return fmt_value(h.get("new"), unit, parameter=parameter)


def _comments_section(report: dict[str, Any]) -> str:
    """Timestamped feedback pinned to the song."""
    comments = [c for c in _list(report.get("comments")) if isinstance(c, dict)]
    if not comments:
        return ""
    rows = []
    for c in comments:
        when = fmt_duration(c.get("time_s"))
        if c.get("end_s") is not None:
            when += f"–{fmt_duration(c.get('end_s'))}"
        who = f' <span class="quiet">({_esc(c.get("author"))})</span>' if c.get("author") else ""
        rows.append(f"<tr><td>{_esc(when)}</td><td>{_esc(c.get('text'))}{who}</td></tr>")
    return (
        '<section id="comments"><h2>Comments</h2>'
        f'<table class="problems-table"><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _problems_section(report: dict[str, Any]) -> str:
    """Problems of the tracks, skipped files and render warnings."""
    items = _problem_items(report)
    if not items:
        return ""
    rows = "".join(f"<tr><td>{_esc(a)}</td><td>{_esc(b)}</td></tr>" for a, b in items)
    return (
        '<section id="problems"><h2>Problems and warnings</h2>'
        f'<table class="problems-table"><tbody>{rows}</tbody></table></section>'
    )


def _footer(report: dict[str, Any]) -> str:
    version = report.get("mixwise")
    made = f"Made by mixwise {version}" if version else "Made by mixwise"
    created = fmt_date(report.get("created"))
    return f"<footer>{_esc(made)}{' · ' + _esc(created) if created else ''}</footer>"


# --------------------------------------------------------------------------------------------
# style

_CSS = """
:root { --ink: #1d2330; --muted: #5b6473; --line: #e3e6eb; --bg: #f5f4f0; --card: #ffffff;
  --accent: #2f5d8a; --ok: #2e7d4f; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.page { max-width: 1120px; margin: 0 auto; padding: 28px 20px 48px; }
h1 { font-size: 26px; margin: 0; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0; }
.title { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; }
.meta { color: var(--muted); margin: 4px 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .05em; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.card .unit { font-size: 14px; font-weight: 500; color: var(--muted); }
.card .sub { color: var(--muted); font-size: 13px; }
.card .badge { margin-top: 6px; }
.badge { display: inline-block; white-space: nowrap; border-radius: 999px; padding: 1px 10px;
  font-size: 13px; font-weight: 600; }
.badge.pass { background: #e3f1e8; color: var(--ok); }
.badge.fail { background: #f9e1df; color: var(--bad); }
.badge.info { background: #e8edf3; color: var(--accent); }
.toc { margin-top: 16px; display: flex; gap: 16px; flex-wrap: wrap; font-size: 14px; }
.toc a { color: var(--accent); text-decoration: none; }
.toc a:hover { text-decoration: underline; }
.plot-card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  margin: 0 0 16px; padding: 14px 16px; break-inside: avoid; }
.plot-card h3 { margin-bottom: 8px; }
.svg-wrap { overflow-x: auto; }
svg.plot { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.notes { margin: 8px 0 0; padding-left: 18px; font-size: 14px; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
table.checks { max-width: 520px; border: 1px solid var(--line); border-radius: 10px; }
table.checks tr.fail td { background: #fbeceb; color: var(--bad); font-weight: 600; }
table.checks tr.pass td.mark { color: var(--ok); }
.track { background: var(--card); border: 1px solid var(--line);
  border-left: 5px solid var(--c, #6b7a8f);
  border-radius: 10px; padding: 12px 16px; margin: 0 0 14px; break-inside: avoid; }
.track.bus { --c: var(--ink); }
.track-head { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.swatch { width: 12px; height: 12px; border-radius: 3px; background: var(--c);
  display: inline-block; }
.role { font-size: 12px; background: #eef0f3; border-radius: 999px; padding: 0 8px;
  color: var(--muted); }
.file { font-size: 13px; color: var(--muted);
  font-family: ui-monospace, Menlo, Consolas, monospace; }
.meters { color: var(--muted); font-size: 13px; margin: 4px 0 8px;
  font-variant-numeric: tabular-nums; }
.quiet { color: var(--muted); font-style: italic; margin: 6px 0 0; }
ul.problems { color: var(--bad); margin: 4px 0 8px; padding-left: 18px; font-size: 14px; }
table.moves { margin-top: 6px; font-size: 14px; table-layout: fixed; }
table.moves col.c-task { width: 92px; }
table.moves col.c-param { width: 160px; }
table.moves col.c-change { width: 34%; }
table.moves td.param { font-weight: 600; overflow-wrap: anywhere; }
table.moves td.change { font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.arrow { color: var(--muted); }
.new { font-weight: 600; }
.delta { color: var(--muted); font-size: 13px; }
.task { display: inline-block; font-size: 12px; font-weight: 600; color: #fff; background: var(--t);
  border-radius: 4px; padding: 0 7px; }
.src { font-size: 11px; color: var(--muted); }
.evidence { margin-top: 3px; display: flex; flex-wrap: wrap; gap: 4px 10px; font-size: 12px;
  color: var(--muted); font-family: ui-monospace, Menlo, Consolas, monospace; }
.note { color: var(--bad); }
table.problems-table td:first-child { width: 28%; color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
@media print { body { background: #fff; } .toc { display: none; } }
"""
