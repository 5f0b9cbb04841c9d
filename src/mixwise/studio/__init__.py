"""The mixwise studio: a local web app over the library (``mixwise studio [STEMS_DIR]``).

Heavy imports (FastAPI, uvicorn) happen only when the studio is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app", "run_studio"]


def create_app(workspace: Path, **options) -> FastAPI:
    """The studio application for ``workspace`` (see :func:`mixwise.studio.server.create_app`)."""
    from mixwise.studio.server import create_app as _create

    return _create(workspace, **options)


def run_studio(
    stems_dir: Path | None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = True,
    workspace: Path | None = None,
) -> None:
    """Serve the studio until interrupted (see :func:`mixwise.studio.server.run_studio`)."""
    from mixwise.studio.server import run_studio as _run

    _run(stems_dir, host=host, port=port, open_browser=open_browser, workspace=workspace)
