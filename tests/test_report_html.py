"""The HTML mix report: one self-contained page, every move explained, nothing unescaped."""

from __future__ import annotations

import copy
import html
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixwise.report_html import (
    Scale,
    fmt_eq_band,
    fmt_number,
    heat_colour,
    render_html,
    short_parameter,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
#: Nominal third-octave centres (Hz), 20 Hz to 20 kHz.
FREQS = [20, 25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800,
         1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000,
         20000]  # fmt: skip


def _move(task: str, target: str, parameter: str, old: Any, new: Any, unit: str, reason: str,
          **evidence: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "time": "2024-05-01T14:03:00+00:00",
        "task": task,
        "target": target,
        "parameter": parameter,
        "old": old,
        "new": new,
        "unit": unit,
        "reason": reason,
        "evidence": evidence,
        "source": "auto",
    }


def full_report() -> dict[str, Any]:
    """A report with every section, as ``report.json`` holds it plus the plot data."""
    kick_moves = [
        _move("gain", "Kick", "tracks[kick].chain.fader_db", 0.0, -3.5, "dB",
              "The kick sits 3.5 dB above where kicks usually sit in this style.",
              loudness_lufs=-14.2, target_lufs=-17.7),
        _move("eq", "Kick", "tracks[kick].chain.eq", [],
              [{"type": "peak", "freq_hz": 250.0, "gain_db": -2.0, "q": 1.4, "enabled": True}],
              "", "Boxiness around 250 Hz masks the bass & guitars.", excess_db=3.1),
    ]  # fmt: skip
    bass_moves = [
        _move("pan", "Bass <DI>", "tracks[bass].chain.pan", 0.0, -0.3, "",
              "Moved left a little to leave the centre to the kick.", correlation=0.12),
        _move("space", "Bass <DI>", "tracks[bass].chain.sends[plate].level_db", "-inf", -18.0,
              "dB", "A touch of plate glues the bass to the room.", rt60_s=1.2),
    ]  # fmt: skip
    master_moves = [
        _move("master", "master", "master.target_lufs", -16.0, -14.0, "LUFS",
              "Streaming platforms play back near -14 LUFS.", platform="spotify"),
        _move("balance", "drums", "buses[drums].chain.fader_db", 0.0, 1.5, "dB",
              "The drum bus lost energy after the kick cut.", deficit_db=1.5),
    ]  # fmt: skip
    tracks = [
        {"id": "kick", "name": "Kick", "file": "01 kick.wav", "role": "kick",
         "colour": "#D94F3A",
         "meters": {"integrated_lufs": -14.2, "loudness_range_lu": 3.1,
                    "sample_peak_dbfs": -0.4, "crest_db": 14.0},
         "problems": ["Clipped 12 samples near 1:02."], "moves": kick_moves},
        {"id": "bass", "name": "Bass <DI>", "file": "02 bass.wav", "role": "bass",
         "meters": None, "problems": [], "moves": bass_moves},
        {"id": "vox", "name": "Lead vox", "file": "03 vox.wav", "role": "lead_vocal",
         "colour": "#3a6ea5", "meters": {"integrated_lufs": -20.0}, "problems": [],
         "moves": []},
    ]  # fmt: skip
    n = len(FREQS)
    return {
        "mixwise": "0.1.0",
        "created": "2024-05-01T14:03:00+00:00",
        "session": "session.json",
        "sample_rate": 48000,
        "master_target": {"integrated_lufs": -14.0, "ceiling_dbtp": -1.0},
        "render": {
            "duration_s": 185.0,
            "mix_lufs": -18.3,
            "master_lufs": -14.1,
            "master_true_peak_dbtp": -1.05,
            "master_gain_db": 4.2,
            "limiter_max_reduction_db": 2.3,
            "render_seconds": 12.4,
            "warnings": ["The mix clipped before the master by 0.4 dB."],
        },
        "tracks": tracks,
        "moves": kick_moves + bass_moves + master_moves,
        "skipped_files": [{"file": "notes.txt", "problem": "Not an audio file."}],
        "checks": {"master_lufs_error_lu": -0.1, "true_peak_ok": True, "no_clipping": False},
        "plots": {
            "track_loudness": [
                {"track": "Kick", "colour": "#d94f3a", "before_lufs": -14.2, "after_lufs": -20.1},
                {
                    "track": "Bass <DI>",
                    "colour": "#3a9d6e",
                    "before_lufs": -19.0,
                    "after_lufs": -21.5,
                },
                {
                    "track": "Lead vox",
                    "colour": "#3a6ea5",
                    "before_lufs": -20.0,
                    "after_lufs": None,
                },
            ],
            "spectrum": {
                "freqs_hz": list(FREQS),
                "mix_db": [-20 - 0.3 * k for k in range(n)],
                "target_db": [-22 - 0.3 * k for k in range(n)],
                "before_db": [-18 - 0.4 * k for k in range(n)],
            },
            "masking": {
                "tracks": ["Kick", "Bass <DI>", "Lead vox"],
                "before": [[0, 0.42, 0.05], [0.35, 0, 0.1], [0.0, 0.02, 0]],
                "after": [[0, 0.18, 0.04], [0.2, 0, 0.08], [0.0, 0.01, 0]],
            },
            "loudness_over_time": {
                "times_s": [float(t) for t in range(0, 186, 3)],
                "mix_short_term_lufs": [None, None] + [-18.0 + math.sin(t) for t in range(60)],
                "master_short_term_lufs": [None, None] + [-14.0 + math.sin(t) for t in range(60)],
                "target_lufs": -14.0,
            },
        },
    }


def _text(page: str) -> str:
    """The page's text as a reader sees it: tags removed, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


class _Balance(HTMLParser):
    """Checks that every element the page opens it also closes, in order."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _check_well_formed(page: str) -> None:
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    for svg in _svgs(page):
        ET.fromstring(svg)  # raises on anything that is not well-formed XML


# --------------------------------------------------------------------------------------------
# the full page


def test_full_report_renders_one_self_contained_page() -> None:
    page = render_html(full_report())
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    assert "<svg" in page
    # self-contained: no external resources, no scripts
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    _check_well_formed(page)


def test_one_svg_per_plot() -> None:
    report = full_report()
    assert len(_svgs(render_html(report))) == 4
    for key in ("track_loudness", "spectrum", "masking", "loudness_over_time"):
        fewer = copy.deepcopy(report)
        del fewer["plots"][key]
        assert len(_svgs(render_html(fewer))) == 3, key


def test_every_move_reason_appears_escaped() -> None:
    report = full_report()
    page = render_html(report)
    for move in report["moves"]:
        assert html.escape(move["reason"]) in page
    assert "bass &amp; guitars" in page


def test_moves_are_grouped_by_track_then_buses_and_master() -> None:
    page = render_html(full_report())
    moves_at = page.index('id="moves"')
    other_at = page.index('id="other-moves"')
    assert moves_at < page.index("The kick sits 3.5 dB") < other_at
    assert other_at < page.index("Streaming platforms") and other_at < page.index("drum bus lost")
    # the master group comes after the buses
    assert page.index("drum bus lost") < page.index("Streaming platforms")
    # a track with no moves says so
    assert "No changes" in page


def test_values_are_formatted_for_people() -> None:
    page = render_html(full_report())
    assert ">fader<" in page  # tracks[kick].chain.fader_db
    assert "send plate level" in page
    assert "0.0 dB" in page and "\u22123.5 dB" in page
    assert "peak 250 Hz \u22122.0 dB Q 1.4" in page
    assert "\u2212\u221e dB" in page  # the plate send was off
    assert "L 30" in page  # pan -0.3
    assert "loudness_lufs=\u221214.2" in page  # evidence as name=value


def test_header_shows_master_against_target_with_badges() -> None:
    page = render_html(full_report())
    header = _text(page[: page.index("</header>")])
    assert "\u221214.1 LUFS" in header and "target \u221214.0 LUFS" in header
    assert "\u22121.05 dBTP" in header and "ceiling \u22121.0 dBTP" in header
    assert "+4.2 dB" in header and "3:05" in header
    assert 'class="badge pass"' in page and "master on target" in header

    off = full_report()
    off["render"]["master_lufs"] = -11.0
    off["checks"] = {}
    page = render_html(off)
    assert 'class="badge fail"' in page
    assert "+3.0 LU off target" in _text(page)


def test_nested_render_dict_is_read_too() -> None:
    report = full_report()
    report["render"] = {
        "duration_s": 100.0,
        "mix": {"integrated_lufs": -18.0, "sample_peak_dbfs": -1.0},
        "master": {"integrated_lufs": -14.2, "true_peak_dbtp": -1.3, "gain_db": 4.0},
        "warnings": [],
    }
    text = _text(render_html(report))
    assert "\u221214.2 LUFS" in text and "\u22121.3 dBTP" in text and "+4.0 dB" in text


def test_checks_highlight_failures() -> None:
    page = render_html(full_report())
    rows = re.findall(r'<tr class="(\w*)"><td>([^<]*)</td>', page)
    assert ("fail", "no clipping") in rows
    assert ("pass", "true peak ok") in rows
    assert ("pass", "master lufs error") in rows


def test_problems_skipped_files_and_warnings_listed() -> None:
    page = render_html(full_report())
    section = page[page.index('id="problems"') :]
    assert "Clipped 12 samples near 1:02." in section
    assert "notes.txt (skipped)" in section and "Not an audio file." in section
    assert "clipped before the master by 0.4 dB" in section


# --------------------------------------------------------------------------------------------
# escaping


def test_script_in_names_is_escaped() -> None:
    report = full_report()
    evil = "<script>alert('x')</script>"
    report["tracks"][0]["name"] = evil
    report["tracks"][0]["file"] = evil + ".wav"
    report["tracks"][0]["problems"] = [evil]
    report["tracks"][0]["moves"][0]["reason"] = evil
    report["tracks"][0]["moves"][0]["evidence"] = {evil: evil}
    report["plots"]["track_loudness"][0]["track"] = evil
    report["plots"]["masking"]["tracks"][0] = evil
    report["skipped_files"][0]["file"] = evil
    report["render"]["warnings"] = [evil]
    report["checks"] = {evil: evil}
    report["title"] = evil
    page = render_html(report)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    _check_well_formed(page)


def test_bad_colours_are_not_used() -> None:
    report = full_report()
    report["tracks"][0]["colour"] = 'red;"><script>x</script>'
    report["plots"]["track_loudness"][0]["colour"] = "url(http://evil)"
    page = render_html(report)
    assert "<script" not in page.lower()
    assert "evil" not in page
    assert "#d94f3a" not in page.replace('"#d94f3a"', "")  # only the palette remains


# --------------------------------------------------------------------------------------------
# missing, None, NaN, infinities


def test_empty_report_renders_a_page() -> None:
    page = render_html({})
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" not in page
    for anchor in ("plots", "checks", "moves", "other-moves", "problems"):
        assert f'id="{anchor}"' not in page
    _check_well_formed(page)


@pytest.mark.parametrize(
    "key", ["plots", "tracks", "moves", "render", "checks", "master_target", "skipped_files"]
)
@pytest.mark.parametrize("value", [None, "nonsense", 3, [], {}])
def test_missing_or_wrong_sections_do_not_crash(key: str, value: object) -> None:
    report = full_report()
    report[key] = value
    page = render_html(report)
    assert "could not be drawn" not in page
    _check_well_formed(page)


def test_missing_sections_are_left_out() -> None:
    report = full_report()
    for key in ("plots", "checks", "skipped_files", "render"):
        report[key] = None
    for t in report["tracks"]:
        t["problems"] = []
    report["moves"] = [m for t in report["tracks"] for m in t["moves"]]
    page = render_html(report)
    assert 'id="plots"' not in page and "<svg" not in page
    assert 'id="checks"' not in page
    assert 'id="problems"' not in page
    assert 'id="other-moves"' not in page
    assert 'id="moves"' in page


def test_plot_with_no_finite_values_is_left_out() -> None:
    report = full_report()
    plots = report["plots"]
    plots["track_loudness"] = [{"track": "Kick", "before_lufs": None, "after_lufs": math.nan}]
    plots["spectrum"]["mix_db"] = [None] * len(FREQS)
    plots["spectrum"]["target_db"] = [math.inf] * len(FREQS)
    plots["spectrum"]["before_db"] = [-math.inf] * len(FREQS)
    plots["masking"]["tracks"] = []
    plots["loudness_over_time"]["mix_short_term_lufs"] = [None] * 62
    plots["loudness_over_time"]["master_short_term_lufs"] = None
    page = render_html(report)
    assert "<svg" not in page
    assert "could not be drawn" not in page


def test_nan_none_and_inf_values_are_handled() -> None:
    report = full_report()
    report["render"].update(master_lufs=math.nan, master_true_peak_dbtp=-math.inf,
                            master_gain_db=None, duration_s=math.inf)  # fmt: skip
    report["tracks"][0]["meters"] = {"integrated_lufs": -math.inf, "crest_db": math.nan}
    report["tracks"][0]["moves"][0].update(old=-math.inf, new=math.nan)
    report["tracks"][0]["moves"][0]["evidence"] = {"a_db": math.inf, "b": [math.nan, None]}
    report["checks"] = {"master_lufs_error_lu": math.nan, "x": math.inf}
    spectrum = report["plots"]["spectrum"]
    spectrum["mix_db"][3] = math.nan
    spectrum["mix_db"][5] = None
    spectrum["freqs_hz"][0] = -1.0
    report["plots"]["track_loudness"][0]["before_lufs"] = math.inf
    report["plots"]["masking"]["before"][0][1] = math.nan
    report["plots"]["masking"]["after"] = [[None]]  # wrong shape
    report["plots"]["loudness_over_time"]["times_s"][4] = math.nan
    page = render_html(report)
    assert "could not be drawn" not in page
    assert "\u2212\u221e" in page
    assert not re.search(r"\b(nan|NaN|inf|Infinity)\b", page.replace("information", ""))
    _check_well_formed(page)
    assert len(_svgs(page)) == 4


# --------------------------------------------------------------------------------------------
# plots


def _cells(svg: str) -> int:
    return len(re.findall(r'<rect class="mask-cell"', svg))


def test_masking_heatmaps_have_n_by_n_cells_each() -> None:
    report = full_report()
    names = ["a", "b", "c", "d", "e"]
    report["plots"]["masking"] = {
        "tracks": names,
        "before": [[0.1 * (i + j) / 8 for j in range(5)] for i in range(5)],
        "after": [[0.05 * (i + j) / 8 for j in range(5)] for i in range(5)],
    }
    svg = next(s for s in _svgs(render_html(report)) if "plot masking" in s)
    assert _cells(svg) == 2 * 25
    root = ET.fromstring(svg)
    assert len(root.findall(f".//{SVG_NS}g[@class='heatmap']")) == 2

    del report["plots"]["masking"]["after"]
    svg = next(s for s in _svgs(render_html(report)) if "plot masking" in s)
    assert _cells(svg) == 25


def test_masking_cells_use_the_colour_scale_and_explain_themselves() -> None:
    page = render_html(full_report())
    assert "Kick masks Bass &lt;DI&gt;: 42 %" in page
    assert heat_colour(0.42) in page
    assert "Kick over Bass &lt;DI&gt;: 42 % \u2192 18 %" in page  # the worst pair, then after


def test_spectrum_polyline_has_one_point_per_frequency() -> None:
    svg = next(s for s in _svgs(render_html(full_report())) if "plot spectrum" in s)
    root = ET.fromstring(svg)
    for cls in ("spectrum-mix", "spectrum-target", "spectrum-before"):
        lines = root.findall(f".//{SVG_NS}polyline[@class='{cls}']")
        assert len(lines) == 1, cls
        assert len(lines[0].get("points", "").split()) == len(FREQS), cls
    labels = {t.text for t in root.iter(f"{SVG_NS}text")}
    assert {"50", "100", "200", "500", "1k", "2k", "5k", "10k"} <= labels


def test_spectrum_x_axis_is_logarithmic() -> None:
    svg = next(s for s in _svgs(render_html(full_report())) if "plot spectrum" in s)
    points = ET.fromstring(svg).find(f".//{SVG_NS}polyline[@class='spectrum-mix']")
    assert points is not None
    xs = [float(p.split(",")[0]) for p in points.get("points", "").split()]
    at = dict(zip(FREQS, xs, strict=True))
    # decades are equally wide on a log axis
    assert at[200] - at[20] == pytest.approx(at[2000] - at[200], abs=0.2)
    assert at[2000] - at[200] == pytest.approx(at[20000] - at[2000], abs=0.2)


def test_gaps_break_the_line() -> None:
    report = full_report()
    report["plots"]["spectrum"]["mix_db"][10] = None
    svg = next(s for s in _svgs(render_html(report)) if "plot spectrum" in s)
    lines = ET.fromstring(svg).findall(f".//{SVG_NS}polyline[@class='spectrum-mix']")
    assert [len(line.get("points", "").split()) for line in lines] == [10, len(FREQS) - 11]


def test_loudness_over_time_draws_target_and_both_lines() -> None:
    svg = next(s for s in _svgs(render_html(full_report())) if "plot lot" in s)
    root = ET.fromstring(svg)
    assert root.find(f".//{SVG_NS}line[@class='lot-target']") is not None
    assert root.find(f".//{SVG_NS}polyline[@class='lot-mix']") is not None
    assert root.find(f".//{SVG_NS}polyline[@class='lot-master']") is not None
    # the target line sits where the master line centres (-14 LUFS)
    target_y = float(root.find(f".//{SVG_NS}line[@class='lot-target']").get("y1"))  # type: ignore[union-attr]
    master = root.find(f".//{SVG_NS}polyline[@class='lot-master']")
    ys = [float(p.split(",")[1]) for p in master.get("points", "").split()]  # type: ignore[union-attr]
    assert min(ys) < target_y < max(ys)


def test_track_loudness_dumbbells_in_track_colours() -> None:
    svg = next(s for s in _svgs(render_html(full_report())) if "plot loudness" in s)
    root = ET.fromstring(svg)
    before = root.findall(f".//{SVG_NS}circle[@class='tl-before']")
    after = root.findall(f".//{SVG_NS}circle[@class='tl-after']")
    assert len(before) == 3 and len(after) == 2  # the vox has no "after"
    assert after[0].get("fill") == "#d94f3a"
    # louder = further right
    assert float(before[0].get("cx", 0)) > float(after[0].get("cx", 0))


# --------------------------------------------------------------------------------------------
# helpers


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (-3.5, "dB", "\u22123.5 dB"),
        (0.0, "dB", "0.0 dB"),
        (-0.001, "dB", "0.0 dB"),  # no "−0.0"
        (-18.234, "LUFS", "\u221218.2 LUFS"),
        (0.7071, "", "0.71"),
        (250.0, "Hz", "250 Hz"),
        (2500, "Hz", "2.5 kHz"),
        (12, "dB/oct", "12 dB/oct"),
        (-math.inf, "dB", "\u2212\u221e dB"),
        ("-inf", "dB", "\u2212\u221e dB"),
        (math.nan, "dB", "\u2014"),
        (None, "", "\u2014"),
    ],
)
def test_fmt_number(value: object, unit: str, text: str) -> None:
    assert fmt_number(value, unit) == text


def test_fmt_eq_band() -> None:
    band = {"type": "peak", "freq_hz": 250.0, "gain_db": -2.0, "q": 1.4}
    assert fmt_eq_band(band) == "peak 250 Hz \u22122.0 dB Q 1.4"
    shelf = {"type": "high_shelf", "freq_hz": 8000.0, "gain_db": 1.5, "q": 0.7071}
    assert fmt_eq_band(shelf) == "high shelf 8.0 kHz +1.5 dB Q 0.71"
    assert (
        fmt_eq_band({"type": "high_pass", "freq_hz": 80, "q": 0.7071}) == "high pass 80 Hz Q 0.71"
    )


@pytest.mark.parametrize(
    ("parameter", "short"),
    [
        ("tracks[kick].chain.fader_db", "fader"),
        ("tracks[kick].chain.compressor.threshold_db", "compressor threshold"),
        ("tracks[vox].chain.sends[plate].level_db", "send plate level"),
        ("tracks[vox].chain.high_pass.freq_hz", "high-pass freq"),
        ("buses[drums].chain.eq", "EQ"),
        ("master.target_lufs", "target loudness"),
        ("master.limiter.ceiling_dbtp", "limiter ceiling"),
        ("tracks[gtr].regions", "regions"),
    ],
)
def test_short_parameter(parameter: str, short: str) -> None:
    assert short_parameter(parameter) == short


def test_scale_linear_log_and_clamped() -> None:
    lin = Scale(-30.0, 0.0, 100.0, 0.0)
    assert lin(-30.0) == 100.0 and lin(0.0) == 0.0 and lin(-15.0) == 50.0
    assert lin(-90.0) == 100.0  # clamped
    log = Scale(20.0, 20000.0, 0.0, 300.0, log=True)
    assert log(200.0) == pytest.approx(100.0) and log(2000.0) == pytest.approx(200.0)


# --------------------------------------------------------------------------------------------
# whatever the values, a page


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.none() | st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.dictionaries(st.text(max_size=5), st.none() | st.floats(), max_size=3),
)
_PATHS = [
    ("render", "master_lufs"),
    ("render", "master_true_peak_dbtp"),
    ("render", "duration_s"),
    ("render", "render_seconds"),
    ("master_target", "integrated_lufs"),
    ("master_target", "ceiling_dbtp"),
    ("tracks", 0, "colour"),
    ("tracks", 0, "meters"),
    ("tracks", 1, "moves", 0, "old"),
    ("tracks", 1, "moves", 0, "new"),
    ("tracks", 1, "moves", 0, "evidence"),
    ("tracks", 0, "moves", 1, "new"),
    ("moves", 4, "parameter"),
    ("plots", "track_loudness", 1, "after_lufs"),
    ("plots", "spectrum", "mix_db", 7),
    ("plots", "spectrum", "freqs_hz"),
    ("plots", "masking", "before", 1),
    ("plots", "masking", "after", 0, 1),
    ("plots", "loudness_over_time", "times_s"),
    ("plots", "loudness_over_time", "target_lufs"),
    ("checks", "true_peak_ok"),
    ("created",),
    ("title",),
    ("tracks", 0),
    ("tracks", 0, "name"),
    ("tracks", 1, "moves"),
    ("tracks", 2, "problems"),
    ("moves", 0),
    ("moves", 5, "evidence"),
    ("plots", "masking", "tracks"),
    ("plots", "spectrum"),
    ("skipped_files", 0),
    ("render", "warnings"),
    ("mix_mono",),
]


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    """``node[path[0]]...[path[-1]] = value`` where the path still exists (an earlier change
    may have replaced a parent)."""
    try:
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _JUNK), min_size=1, max_size=6))
def test_any_values_give_a_well_formed_page(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    report = full_report()
    for path, value in changes:
        _set(report, path, value)
    page = render_html(report)
    assert "could not be drawn" not in page
    _check_well_formed(page)


@pytest.mark.parametrize("huge", [1.7976931348623157e308, -1e300, 10**400])
def test_absurd_values_do_not_break_the_axes(huge: float) -> None:
    report = full_report()
    plots = report["plots"]
    plots["track_loudness"][1]["after_lufs"] = huge
    plots["spectrum"]["mix_db"][4] = huge
    plots["masking"]["before"][1][0] = huge
    plots["loudness_over_time"]["times_s"][-1] = huge
    plots["loudness_over_time"]["mix_short_term_lufs"][5] = huge
    report["tracks"][1]["moves"][0]["old"] = huge  # a pan
    page = render_html(report)
    assert "could not be drawn" not in page
    assert len(_svgs(page)) == 4
    _check_well_formed(page)
