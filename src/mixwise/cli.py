"""The ``mixwise`` command: a thin shell over :mod:`mixwise.api`.

``main()`` turns errors into one-line messages and exit codes (0 done, 1 nothing could be
done, 2 bad usage, 3 internal error); ``--traceback`` shows the full story for developers.
Progress goes to stderr; results and ``--json`` output to stdout.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    name="mixwise",
    help=(
        "mixwise - an AI mixing assistant. Give it a folder of stems; it gives you a mixed and"
        " mastered song and an editable session that explains every move."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
# Piped output (files, CI logs) gets a wide console so tables are not squeezed to 80 columns.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _version(value: bool) -> None:
    if value:
        from mixwise import __version__

        out.print(f"mixwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """mixwise - an AI mixing assistant."""


class _Progress:
    """A rich progress bar on stderr, fed (seconds done, seconds in all, stage)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and err.is_terminal
        self._bar = None
        self._task = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                TextColumn("{task.fields[secs]}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("loading", total=1.0, secs="")
        return self

    def __call__(self, done_s: float, total_s: float, stage: str) -> None:
        if self._bar is None:
            return
        total = total_s if total_s > 0 else max(done_s, 1.0)
        self._bar.update(
            self._task,
            description=stage,
            completed=min(done_s / total, 1.0),
            secs=f"{done_s:6.0f} s of audio",
        )

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def _print_problems(problems) -> None:
    for p in problems:
        colour = "yellow" if p.severity == "warning" else "red"
        err.print(f"[{colour}]{p.severity}[/]: {escape(Path(p.path).name)}: {escape(p.message)}")


def _fmt(x: float | None, unit: str = "", digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-inf" if x is not None else "-"
    return f"{x:.{digits}f}{unit}"


def _preset(preset: str | None, target: float | None, ceiling: float | None) -> tuple[float, float]:
    from mixwise.api import MASTER_PRESETS

    t, c = MASTER_PRESETS["streaming"]
    if preset is not None:
        key = preset.lower()
        if key not in MASTER_PRESETS:
            raise typer.BadParameter(
                f"unknown preset {preset!r}; choose one of {', '.join(MASTER_PRESETS)}",
                param_hint="--preset",
            )
        t, c = MASTER_PRESETS[key]
    return (target if target is not None else t), (ceiling if ceiling is not None else c)


@app.command()
def mix(
    stems_dir: Annotated[
        Path, typer.Argument(help="Folder holding the stems (WAV, FLAC, AIFF, OGG, MP3).")
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option("-o", "--out", help="Output folder (default: STEMS_DIR-mixwise beside it)."),
    ] = None,
    target: Annotated[
        float | None,
        typer.Option("--target", help="Master loudness in LUFS (default -14).", min=-40, max=-3),
    ] = None,
    ceiling: Annotated[
        float | None,
        typer.Option(
            "--ceiling", help="Master true-peak ceiling in dBTP (default -1).", min=-20, max=0
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help="Loudness preset: streaming, spotify, apple, youtube, amazon, tidal, deezer, "
            "broadcast, club.",
        ),
    ] = None,
    sample_rate: Annotated[
        int | None,
        typer.Option(
            "--sample-rate",
            help="Session rate in Hz (default: the stems' own).",
            min=8000,
            max=384000,
        ),
    ] = None,
    no_stems: Annotated[
        bool, typer.Option("--no-stems", help="Do not write the processed stems.")
    ] = False,
    tasks: Annotated[
        str | None,
        typer.Option(
            "--tasks",
            help="Only these tasks, comma-separated: prep (editing fixes), gain, pan, eq, "
            "dynamics, balance, unmask, space, master (default: all; implies --level partial).",
        ),
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            "--level",
            help="Automation: auto (everything), conditional (everything the locks allow), "
            "partial (only --tasks), assist (suggest, apply nothing: see `mixwise apply`), "
            "manual (render OUT/session.json as written). Kept in the session for later runs.",
        ),
    ] = None,
    amount: Annotated[
        str | None,
        typer.Option(
            "--amount",
            help="How far the moves go, 0-100 %: one number for all, or per task "
            "(e.g. '70' or 'all=80,dynamics=50,eq=30').",
        ),
    ] = None,
    lock: Annotated[
        list[str] | None,
        typer.Option(
            "--lock",
            help="Never change this (repeat for more): a parameter path "
            "('tracks[vox].chain.fader_db'), 'track:ID', 'role:kick', 'family:drums', "
            "'task:dynamics', or terms combined ('task:dynamics family:drums').",
        ),
    ] = None,
    unlock: Annotated[
        bool, typer.Option("--unlock", help="Forget the locks kept in OUT/session.json.")
    ] = False,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference",
            help="A reference track to steer the mix and master toward ('none' forgets it).",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="Genre profile: pop, rock, hiphop, edm, jazz, acoustic (none clears it); shifts "
            "the balance, tone, space and dynamics targets.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Mix a folder of stems into OUT/master.wav (mastered) and OUT/mix.wav (before mastering).

    The automatic mix sets gain staging, pans, high-pass and corrective EQ, compression,
    faders (balanced on the mix), unmasking cuts, reverb/delay sends and the master chain.
    Also writes OUT/stems/ (each processed stem as it enters the mix), OUT/session.json (the
    editable mix), OUT/report.json and OUT/report.html (every move with its reason, plots).
    The level, tasks, amounts, locks, target and reference are kept in OUT/session.json and
    used again by the next run into OUT unless given anew.
    """
    from mixwise.api import mix_folder
    from mixwise.render.engine import RenderOptions

    if preset is not None or target is not None or ceiling is not None:
        tgt, ceil = _preset(preset, target, ceiling)
    else:
        tgt, ceil = None, None
    with _Progress(not quiet and not as_json) as progress:
        outcome = mix_folder(
            stems_dir,
            out_dir,
            target_lufs=tgt,
            ceiling_dbtp=ceil,
            sample_rate=sample_rate,
            options=RenderOptions(write_stems=not no_stems),
            progress=progress,
            tasks=_tasks(tasks),
            level=level.strip().lower() if level else None,
            amounts=_amounts(amount),
            locks=[] if unlock and not lock else (list(lock) if lock else None),
            reference=reference,
            profile=profile,
        )
    _report(outcome, as_json=as_json)
    if not as_json:
        _print_level(outcome)


def _tasks(text: str | None) -> tuple[str, ...] | None:
    from mixwise.api import ALL_TASKS
    from mixwise.errors import MixwiseError

    if text is None:
        return None
    chosen = tuple(t.strip().lower() for t in text.split(",") if t.strip())
    unknown = [t for t in chosen if t not in ALL_TASKS]
    if unknown:
        raise MixwiseError(f"--tasks: unknown task {unknown[0]!r} (known: {', '.join(ALL_TASKS)})")
    return chosen


def _amounts(text: str | None) -> dict[str, float] | None:
    """``--amount``: ``70`` (all) or ``all=80,dynamics=50`` (percent)."""
    from mixwise.errors import MixwiseError

    if text is None:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        key, sep, value = part.strip().rpartition("=")
        key = key.strip().lower() if sep else "all"
        try:
            out[key] = float(value.strip().rstrip("%"))
        except ValueError:
            raise MixwiseError(
                f"--amount: cannot read {part.strip()!r} (e.g. 70 or eq=30)"
            ) from None
    return out


def _print_level(outcome) -> None:
    """After a mix: the level it ran at, what locks held, and the proposals of an assist run."""
    intent = outcome.session.intent
    line = f"Level: {intent.level}"
    if intent.tasks is not None:
        line += f" (tasks: {', '.join(intent.tasks)})"
    if intent.profile:
        line += f", profile {intent.profile}"
    if intent.amount_pct:
        line += "; amounts " + ", ".join(f"{k} {v:.0f} %" for k, v in intent.amount_pct.items())
    out.print(line)
    if outcome.automix is not None and outcome.automix.held:
        out.print(
            f"  {len(outcome.automix.held)} move(s) held by locks ({'; '.join(intent.locks)})"
        )
    pending = [p for p in outcome.session.proposals if p.status == "pending"]
    if intent.level == "assist" and pending:
        out.print(f"{len(pending)} suggestion(s), none applied:")
        _print_proposals(pending)
        out.print(
            f"Apply some with: mixwise apply {escape(str(outcome.session_path))} 1 2 3 "
            "(or reject them with mixwise reject ...)"
        )


def _print_proposals(proposals) -> None:
    from rich.table import Table

    table = Table(show_edge=False, box=None, pad_edge=False)
    for col in ("#", "task", "track", "change", "why", "status"):
        table.add_column(col, overflow="fold")
    for p in proposals:
        table.add_row(
            str(p.number),
            p.task,
            escape(p.target),
            escape(_change_text(p.parameter, p.old, p.new, p.unit)),
            escape(p.reason),
            p.status,
        )
    out.print(table)


def _change_text(parameter: str, old, new, unit: str) -> str:
    """A parameter change in a few words: ``fader_db -3.0 -> -1.2 dB``."""
    name = parameter.rsplit(".", 1)[-1]
    if isinstance(new, int | float) and isinstance(old, int | float | str):
        return f"{name} {old} -> {new} {unit}".strip()
    if isinstance(new, list):
        return f"{name}: {len(new)} item(s) (was {len(old) if isinstance(old, list) else 0})"
    if isinstance(new, dict):
        keys = [k for k in new if not isinstance(old, dict) or old.get(k) != new[k]]
        return f"{name}: " + ", ".join(f"{k} {new[k]}" for k in keys[:4])
    return f"{name} -> {new}"


def _report(outcome, *, as_json: bool) -> None:
    """What mix and render print: problems on stderr, then the report (JSON) or a summary."""
    _print_problems(outcome.problems)
    if as_json:
        out.print_json(outcome.report_path.read_text(encoding="utf-8"))
    else:
        _summary(outcome)


def _summary(outcome) -> None:
    r = outcome.render
    used = sum(1 for k in r.stem_paths if not k.startswith("_return_"))
    out.print(
        f"Mixed {used} stem(s), {r.duration_s:.1f} s at {r.sample_rate} Hz, "
        f"in {r.render_seconds:.1f} s ({r.realtime_factor:.0f}x real time)."
    )
    tp = _fmt(r.master_true_peak_dbtp, " dBTP")
    gr = _fmt(r.limiter_max_reduction_db, " dB")
    out.print(
        f"  master.wav  {_fmt(r.master_lufs, ' LUFS')}, true peak {tp}"
        f" (gain {_fmt(r.master_gain_db, ' dB')}, limiter up to {gr})"
    )
    out.print(
        f"  mix.wav     {_fmt(r.mix_lufs, ' LUFS')}, sample peak "
        f"{_fmt(r.mix_sample_peak_dbfs, ' dBFS')}"
    )
    for w in r.warnings:
        err.print(f"[yellow]warning[/]: {escape(w)}")
    out.print(
        f"Outputs are in {escape(str(outcome.out_dir))}/ "
        "(master.wav, mix.wav, stems/, session.json, report.json, report.html)"
    )


def _issues(findings: dict, names: dict[str, str]) -> str:
    """One short line summarising a stem's editing findings for the prep table."""
    parts = [str(x) for x in findings["file"]]
    silent = findings["silence"]["silent_s"]
    if silent >= 1.0:
        parts.append(f"{silent:.0f} s silent")
    if findings["silence"]["low_level_s"]:
        parts.append(f"{len(findings['silence']['low_level_s'])} breath/bleed spot(s)")
    if findings["clicks"]:
        parts.append(f"{len(findings['clicks'])} click(s)")
    for ph in findings["phase"]:
        other = names.get(ph["with"], ph["with"])
        if ph["polarity_inverted"]:
            parts.append(f"inverted vs {other}")
        if abs(ph["offset_ms"]) >= 0.05:
            parts.append(f"{ph['offset_ms']:+.2f} ms vs {other}")
    parts += findings["mono"]["warnings"]
    return "; ".join(parts) or "-"


@app.command()
def prep(
    stems_dir: Annotated[Path, typer.Argument(help="Folder holding the stems.")],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "-o", "--out", help="Where to write session.json (default: STEMS_DIR-mixwise)."
        ),
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="Set a stem's role yourself, e.g. --role 'Audio 07.wav=lead_vocal' "
            "(repeatable; kept on later preps).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array, one object per input file.")
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Label, colour, name, order and group the stems, and check them; write the session."""
    from mixwise.api import prep_folder, prep_rows

    chosen: dict[str, str] = {}
    for item in role or []:
        name, sep, value = item.rpartition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected FILE=ROLE, got {item!r}", param_hint="--role")
        chosen[name.strip()] = value.strip()
    with _Progress(not quiet and not as_json) as progress:
        prepared, session_path = prep_folder(stems_dir, out_dir, roles=chosen, progress=progress)
    rows = prep_rows(prepared)
    if as_json:
        out.print_json(json.dumps(rows))
        return
    from rich.table import Table

    from mixwise.roles import ROLE_LABELS

    table = Table(
        title=f"{stems_dir} - {len(prepared.session.tracks)} track(s)", title_justify="left"
    )
    for col in ("track", "file", "role", "conf.", "colour", "group", "issues found"):
        table.add_column(col)
    by_file = {r["file"]: r for r in rows}
    names = {t.id: t.name for t in prepared.session.tracks}
    for t in prepared.session.tracks:
        r = by_file[Path(t.source.path).name]
        table.add_row(
            escape(t.name),
            escape(str(r["file"])),
            ROLE_LABELS.get(t.role, t.role),
            f"{t.role_confidence:.0%}",
            f"[{t.colour}]■[/] {t.colour}",
            t.bus or "-",
            escape(_issues(r["findings"], names)),
        )
    out.print(table)
    for r in rows:
        if "error" in r:
            err.print(f"[red]skipped[/]: {escape(str(r['file']))}: {escape(str(r['error']))}")
    pending = [p for p in prepared.session.proposals if p.status == "pending"]
    if pending:
        out.print(
            f"{len(pending)} suggested fix(es), kept in the session (mixwise mix applies them):"
        )
        for p in pending:
            out.print(f"  {p.number:>3}. {escape(p.target)}: {escape(p.reason)}")
    out.print(f"Session written to {escape(str(session_path))}")


@app.command()
def preview(
    session_file: Annotated[Path, typer.Argument(help="A session.json with suggested fixes.")],
    number: Annotated[int, typer.Argument(help="The suggestion's number (see mixwise prep).")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Where to write the two files.")],
    seconds: Annotated[float, typer.Option("--seconds", help="Length to render.", min=0.5)] = 4.0,
) -> None:
    """Hear a suggested fix before applying it: the track it changes, before and after."""
    from mixwise.api import preview_proposal

    before, after, start, end = preview_proposal(session_file, number, out_dir, seconds=seconds)
    out.print(f"{start:.2f}-{end:.2f} s of the session, master chain bypassed:")
    out.print(f"  before: {escape(str(before))}")
    out.print(f"  after:  {escape(str(after))}")


@app.command()
def render(
    session_file: Annotated[
        Path, typer.Argument(help="A session.json written by mixwise (and maybe edited by you).")
    ],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")],
    no_stems: Annotated[
        bool, typer.Option("--no-stems", help="Do not write the processed stems.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Render a session file exactly as written: stems, mix.wav and master.wav."""
    from mixwise.api import render_session_file
    from mixwise.render.engine import RenderOptions

    with _Progress(not quiet and not as_json) as progress:
        outcome = render_session_file(
            session_file,
            out_dir,
            options=RenderOptions(write_stems=not no_stems),
            progress=progress,
        )
    _report(outcome, as_json=as_json)


@app.command()
def analyze(
    stems_dir: Annotated[Path, typer.Argument(help="Folder holding the stems.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array, one object per file.")
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Measure every stem: loudness (LUFS), loudness range, peaks, RMS and crest factor."""
    from mixwise.api import analyze_folder

    with _Progress(not quiet and not as_json) as progress:
        load, meters = analyze_folder(stems_dir, progress=progress)
    rows = []
    for stem in load.multitrack.stems:
        m = meters[stem.name]
        rows.append(
            {
                "file": Path(stem.info.path).name,
                "name": stem.name,
                "channels": stem.info.channels,
                "sample_rate": stem.info.sample_rate,
                **m.to_dict(),
            }
        )
    skipped = [p for p in load.problems if p.severity == "skipped"]
    if as_json:
        rows += [{"file": Path(p.path).name, "error": p.message} for p in skipped]
        out.print_json(json.dumps(rows))
        _print_problems([p for p in load.problems if p.severity == "warning"])
        return
    from rich.table import Table

    table = Table(title=f"{stems_dir} - {len(rows)} stem(s)", title_justify="left")
    for col, just in [
        ("stem", "left"),
        ("ch", "right"),
        ("rate Hz", "right"),
        ("length s", "right"),
        ("LUFS", "right"),
        ("LRA LU", "right"),
        ("peak dBFS", "right"),
        ("true peak dBTP", "right"),
        ("RMS dBFS", "right"),
        ("crest dB", "right"),
    ]:
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(
            r["name"],
            str(r["channels"]),
            str(r["sample_rate"]),
            _fmt(r["duration_s"]),
            _fmt(r["integrated_lufs"]),
            _fmt(r["loudness_range_lu"]),
            _fmt(r["sample_peak_dbfs"]),
            _fmt(r["true_peak_dbtp"]),
            _fmt(r["rms_dbfs"]),
            _fmt(r["crest_db"]),
        )
    out.print(table)
    _print_problems(load.problems)


# the commands of the other modules register themselves on ``app``
from mixwise import cli_control, cli_more  # noqa: E402, F401


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 done, 1 failed, 2 usage, 3 internal error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    args = [a for a in args if a != "--traceback"]
    from mixwise.errors import MixwiseError

    try:
        # typer handles --help, usage errors and exit codes itself, ending with SystemExit
        app(args=args, prog_name="mixwise")
        return EXIT_OK
    except SystemExit as e:
        code = e.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_FAILED)
    except KeyboardInterrupt:
        err.print("mixwise: interrupted")
        return 130
    except MixwiseError as e:
        if show_traceback:
            raise
        err.print(f"[red]mixwise: error:[/] {escape(str(e))}")
        return EXIT_FAILED
    except Exception as e:  # the last line of defence: one line, never a traceback
        if show_traceback:
            raise
        err.print(
            f"[red]mixwise: internal error:[/] {type(e).__name__}: {escape(str(e))} "
            "(run again with --traceback and report it)"
        )
        return EXIT_INTERNAL
