"""CLI commands that work on a saved session: suggestions, apply / reject / undo, comments.

They change ``session.json`` in place (atomically) and print what changed; ``--render`` renders
the session again into its own folder so the mix and master follow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mixwise.cli import _print_proposals, _Progress, _report, app, out


def _load(path: Path):
    from mixwise.session.io import load_session

    return load_session(path)


def _save_and_render(session, path: Path, render: bool, quiet: bool = False) -> None:
    from mixwise.api import render_session_file
    from mixwise.session.io import save_session

    save_session(session, path)
    out.print(f"Saved {escape(str(path))}")
    if render:
        with _Progress(not quiet) as progress:
            outcome = render_session_file(path, path.parent, progress=progress)
        _report(outcome, as_json=False)


SessionArg = Annotated[Path, typer.Argument(help="A session.json written by mixwise.")]
RenderOpt = Annotated[
    bool, typer.Option("--render", "-r", help="Render the session again into its folder.")
]


@app.command()
def suggestions(
    session_file: SessionArg,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list applied and rejected ones.")
    ] = False,
) -> None:
    """List the numbered suggestions of a session (from `mix --level assist` or `prep`)."""
    session = _load(session_file)
    shown = [p for p in session.proposals if show_all or p.status == "pending"]
    if not shown:
        out.print("No pending suggestions." if not show_all else "No suggestions.")
        return
    _print_proposals(shown)


@app.command()
def apply(
    session_file: SessionArg,
    numbers: Annotated[
        list[str], typer.Argument(help="Suggestion numbers, or 'all', or a task name.")
    ],
    amount: Annotated[
        float, typer.Option("--amount", help="How far to go, 0-100 %.", min=0, max=100)
    ] = 100.0,
    render: RenderOpt = False,
) -> None:
    """Apply suggestions by number (each is recorded in the history and can be undone)."""
    from mixwise.session.edit import apply_proposal

    session = _load(session_file)
    chosen = _numbers(session, numbers)
    for n in chosen:
        entry = apply_proposal(session, n, source="user", amount_pct=amount)
        out.print(
            f"applied #{n}: {escape(entry.target)} {escape(entry.parameter.rsplit('.', 1)[-1])}"
            f" - {escape(entry.reason)}"
        )
    _save_and_render(session, session_file, render)


@app.command()
def reject(
    session_file: SessionArg,
    numbers: Annotated[
        list[str], typer.Argument(help="Suggestion numbers, or 'all', or a task name.")
    ],
) -> None:
    """Reject suggestions by number (they stay listed as rejected; nothing changes)."""
    from mixwise.session.edit import reject_proposal

    session = _load(session_file)
    for n in _numbers(session, numbers):
        p = reject_proposal(session, n)
        out.print(f"rejected #{n}: {escape(p.target)} - {escape(p.reason)}")
    _save_and_render(session, session_file, False)


@app.command()
def undo(
    session_file: SessionArg,
    count: Annotated[int, typer.Option("-n", help="How many changes to undo.", min=1)] = 1,
    render: RenderOpt = False,
) -> None:
    """Undo the last change(s) in the session's history (an applied suggestion becomes
    pending again)."""
    from mixwise.session.edit import undo as undo_changes

    session = _load(session_file)
    for e in undo_changes(session, count):
        out.print(f"undone: {escape(e.target)} {escape(e.parameter)} back to {e.old!r}")
    _save_and_render(session, session_file, render)


def _numbers(session, items: list[str]) -> list[int]:
    """Proposal numbers from ``3 5 7``, ``3-7``, ``all`` (pending) or a task name."""
    from mixwise.errors import MixwiseError

    pending = [p for p in session.proposals if p.status == "pending"]
    out_numbers: list[int] = []
    for item in items:
        word = item.strip().lower()
        if word == "all":
            out_numbers += [p.number for p in pending]
        elif word.replace("-", "").isdigit() and "-" in word.strip("-"):
            lo, hi = (int(x) for x in word.split("-", 1))
            out_numbers += list(range(lo, hi + 1))
        elif word.isdigit():
            out_numbers.append(int(word))
        elif any(p.task == word for p in pending):
            out_numbers += [p.number for p in pending if p.task == word]
        else:
            raise MixwiseError(
                f"cannot read {item!r}: give numbers (3 5 7), a range, all or a task"
            )
    return list(dict.fromkeys(out_numbers))


# --------------------------------------------------------------------------------------------
# comments


@app.command()
def comment(
    session_file: SessionArg,
    at: Annotated[
        str | None,
        typer.Argument(help="When: 1:23, 83.5, or a range 1:23-1:40."),
    ] = None,
    text: Annotated[str | None, typer.Argument(help="The comment.")] = None,
    author: Annotated[str, typer.Option("--author", help="Who said it.")] = "",
    import_file: Annotated[
        Path | None,
        typer.Option(
            "--import", help="Read comments from a CSV (time,text[,end,author]) or JSON file."
        ),
    ] = None,
    apply_words: Annotated[
        bool,
        typer.Option(
            "--apply", help="Also apply the comment as a request in words over its time range."
        ),
    ] = False,
    render: RenderOpt = False,
) -> None:
    """Pin timestamped feedback to the session (kept as markers; exported to DAWs), or list
    the comments when only the session is given."""
    from mixwise.comments import add_comment, read_comments
    from mixwise.errors import MixwiseError

    session = _load(session_file)
    added = []
    if import_file is not None:
        for c in read_comments(import_file):
            added.append(add_comment(session, c.time_s, c.text, end_s=c.end_s, author=c.author))
    if at is not None:
        if text is None:
            raise MixwiseError(
                "comment: give the text after the time (e.g. 1:23 'vocal too quiet')"
            )
        from mixwise.comments import parse_time_range

        start, end = parse_time_range(at)
        added.append(add_comment(session, start, text, end_s=end, author=author))
    if not added:
        _list_comments(session)
        return
    for m in added:
        out.print(f"comment at {_clock(m.time_s, m.end_s)}: {escape(m.text)}")
        if apply_words:
            _apply_comment(session, m)
    _save_and_render(session, session_file, render)


def _apply_comment(session, marker) -> None:
    from mixwise.comments import apply_comment

    plan = apply_comment(session, marker)
    out.print(escape(plan.summary()))


def _list_comments(session) -> None:
    comments = [m for m in session.markers if m.kind == "comment"]
    if not comments:
        out.print("No comments.")
        return
    for m in sorted(comments, key=lambda m: m.time_s):
        who = f" ({escape(m.author)})" if m.author else ""
        out.print(f"{_clock(m.time_s, m.end_s)}{who}: {escape(m.text)}")


def _clock(start: float, end: float | None) -> str:
    from mixwise.comments import format_time

    return format_time(start) + (f"-{format_time(end)}" if end is not None else "")
