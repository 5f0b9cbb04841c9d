"""CLI commands for co-creation and the outside world: requests in words, reference
comparison, alternative mixes, DAW export and import, and the studio web app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mixwise.cli import _Progress, app, err, out
from mixwise.cli_control import RenderOpt, SessionArg, _load, _save_and_render

# --------------------------------------------------------------------------------------------
# requests in words


@app.command()
def tweak(
    session_file: SessionArg,
    request: Annotated[
        str, typer.Argument(help='What to change, in words: "warmer vocals, less reverb".')
    ],
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Only over this time range (1:23-1:40): level changes as automation."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would change; change nothing.")
    ] = False,
    render: RenderOpt = False,
) -> None:
    """Change the mix by describing it: timbre words (warm, bright, muddy, harsh, airy, thin,
    punchy ...), space (wide, dry, wet, upfront, distant) and levels (louder, a bit quieter),
    with the tracks or roles they are about. Says what it understood and what it changed."""
    from mixwise.assist.words import interpret
    from mixwise.comments import parse_time_range
    from mixwise.errors import MixwiseError
    from mixwise.session.edit import apply_suggestion

    session = _load(session_file)
    start = end = None
    if at is not None:
        start, end = parse_time_range(at)
    plan = interpret(request, session, start_s=start, end_s=end)
    for r in plan.understood:
        out.print(f"[green]understood[/]: {escape(r.explanation)}")
    for reason in plan.not_understood:
        err.print(f"[yellow]not done[/]: {escape(reason)}")
    if not plan.understood:
        raise MixwiseError(f"did not understand {request!r}; nothing changed")
    if dry_run or not plan.changes:
        return
    for s in plan.changes:
        apply_suggestion(session, s, source="user")
    _save_and_render(session, session_file, render)


# --------------------------------------------------------------------------------------------
# reference comparison


@app.command()
def compare(
    mix_file: Annotated[Path, typer.Argument(help="Your mix (any audio file).")],
    reference: Annotated[Path, typer.Argument(help="The reference track.")],
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the comparison plot (SVG) here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
) -> None:
    """Compare a mix with a reference, loudness-matched: tonal balance by region and band,
    loudness, loudness range, dynamics and stereo width, in numbers and in words."""
    from mixwise.analysis.compare import compare_files, comparison_svg
    from mixwise.io.audio import write_text_atomic

    c = compare_files(mix_file, reference)
    if plot is not None:
        write_text_atomic(plot, comparison_svg(c))
    if as_json:
        out.print_json(json.dumps(c.to_dict()))
        return
    out.print(f"{escape(mix_file.name)} against {escape(reference.name)} (loudness-matched):")
    for line in c.sentences():
        out.print(f"  {escape(line)}")
    if plot is not None:
        out.print(f"Plot: {escape(str(plot))}")


# --------------------------------------------------------------------------------------------
# alternative mixes


@app.command()
def variations(
    stems_dir: Annotated[Path, typer.Argument(help="Folder holding the stems.")],
    n: Annotated[int, typer.Option("-n", help="How many alternatives.", min=1, max=20)] = 5,
    out_dir: Annotated[
        Path | None,
        typer.Option("-o", "--out", help="Output folder (default: STEMS_DIR-variations)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sampled variations.")] = 0,
    target: Annotated[
        float, typer.Option("--target", help="Master loudness in LUFS.", min=-40, max=-3)
    ] = -14.0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Render several distinct alternative mixes (vocal-forward, wide, punchy, warm, bright,
    dry ... and sampled ones), each loudness-matched, with a line on how it differs. Continue
    from one with `mixwise render OUT/<k>-<name>/session.json` or edit it."""
    from mixwise.variations import default_variations_dir, make_variations

    dest = out_dir if out_dir is not None else default_variations_dir(stems_dir)
    with _Progress(not quiet) as progress:
        outcome = make_variations(
            stems_dir, dest, n=n, seed=seed, target_lufs=target, progress=progress
        )
    for line in outcome.summary_lines():
        out.print(escape(line))
    for w in outcome.warnings:
        err.print(f"[yellow]warning[/]: {escape(w)}")
    out.print(f"Listening page: {escape(str(dest / 'variations.html'))}")


# --------------------------------------------------------------------------------------------
# DAWs

FORMATS = ("ardour", "dawproject", "reaper", "stems")


@app.command("export")
def export_cmd(
    session_file: SessionArg,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="ardour, dawproject, reaper or stems.")
    ],
    out_path: Annotated[
        Path,
        typer.Option(
            "-o", "--out", help="Output folder (a .dawproject file for --format dawproject)."
        ),
    ],
) -> None:
    """Export a session to a DAW: tracks with their audio, faders, pans, EQ and compressor
    settings, buses and sends, markers and comments (see docs/ for each format's mapping)."""
    from mixwise.errors import MixwiseError

    session = _load(session_file)
    fmt = fmt.strip().lower()
    if fmt == "ardour":
        from mixwise.export.ardour import export_ardour

        written = export_ardour(session, session_file, out_path)
    elif fmt == "dawproject":
        from mixwise.export.dawproject import export_dawproject

        if out_path.suffix.lower() != ".dawproject":
            out_path = out_path / f"{out_path.name or 'mix'}.dawproject"
        written = export_dawproject(session, session_file, out_path)
    elif fmt == "reaper":
        from mixwise.export.reaper import export_reaper

        written = export_reaper(session, session_file, out_path)
    elif fmt == "stems":
        from mixwise.export.stems import export_stems

        written = export_stems(session, session_file, out_path)
    else:
        raise MixwiseError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    out.print(f"Exported {len(session.tracks)} track(s) to {escape(str(written))}")


@app.command("import")
def import_cmd(
    project: Annotated[
        Path, typer.Argument(help="An Ardour session (.ardour or its folder) or a .dawproject.")
    ],
    out_dir: Annotated[
        Path, typer.Option("-o", "--out", help="Folder for session.json (and extracted audio).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing OUT/session.json.")
    ] = False,
) -> None:
    """Start from a DAW session: read its tracks (audio, names, colours, faders, pans, mutes)
    and markers into OUT/session.json."""
    from mixwise.errors import MixwiseError
    from mixwise.session.io import save_session

    if (out_dir / "session.json").exists() and not force:
        raise MixwiseError(
            f"{out_dir / 'session.json'} exists; choose another folder or add --force to replace it"
        )
    suffix = project.suffix.lower()
    if suffix == ".dawproject":
        from mixwise.export.dawproject import import_dawproject

        session = import_dawproject(project, out_dir / "audio")
    elif suffix == ".ardour" or (project.is_dir() and any(project.glob("*.ardour"))):
        from mixwise.export.ardour import import_ardour

        session = import_ardour(project)
    elif suffix == ".rpp":
        from mixwise.export.reaper import import_reaper

        session = import_reaper(project)
    else:
        raise MixwiseError(
            f"{project}: not a project mixwise can import (an .ardour session, its folder, "
            "a .dawproject or a .RPP)"
        )
    path = save_session(session, out_dir / "session.json")
    out.print(f"Imported {len(session.tracks)} track(s) into {escape(str(path))}")


# --------------------------------------------------------------------------------------------
# the studio


@app.command()
def studio(
    stems_dir: Annotated[
        Path | None, typer.Argument(help="A folder of stems to open (optional).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option("--port", help="Port (default: a free one).")] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser.")
    ] = False,
    workspace: Annotated[
        Path | None, typer.Option("--workspace", help="Where projects are kept.")
    ] = None,
) -> None:
    """Open the mixwise studio, a local web app: drop stems, press "Mix it", listen, adjust,
    accept or reject suggestions, compare with a reference, download the master and DAW
    sessions."""
    from mixwise.studio import run_studio

    run_studio(stems_dir, host=host, port=port, open_browser=not no_browser, workspace=workspace)
