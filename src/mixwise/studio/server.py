"""The studio's web server: a JSON API over :mod:`mixwise.api` and the single-page app.

Every error is answered as ``{"error": "one line"}`` with a 4xx/5xx status, never a
traceback. Only files inside a project's folder are served. Requests that change anything
must carry the ``X-Mixwise: 1`` header, which a page from another site cannot send without
the browser asking first (and this server never allows it), so other sites cannot drive it.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import logging
import math
import os
import re
import shutil
import socket
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from mixwise import __version__
from mixwise.errors import MixwiseError
from mixwise.studio.jobs import Jobs, Reporter
from mixwise.studio.views import (
    CURVE_FREQS_HZ,
    all_curves,
    chain_curve,
    measure_reference,
    measure_render,
    stem_files,
)
from mixwise.studio.workspace import (
    ALLOWED_EXTENSIONS,
    Limits,
    Project,
    StudioError,
    Workspace,
    format_bytes,
    safe_file_name,
    sniff_audio,
)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
LEVELS = ("auto", "conditional", "partial", "assist", "manual")
TASKS = ("prep", "gain", "pan", "eq", "dynamics", "balance", "unmask", "space", "master")
#: The header every changing request must carry (see the module docstring).
CSRF_HEADER = "x-mixwise"

_TRACK_FIELDS = {"name", "role", "colour", "role_locked", "bus", "chain", "regions"}
_BUS_FIELDS = {"name", "colour", "chain", "effect"}
_PATH_HEAD = re.compile(r"^(tracks|buses)\[([A-Za-z0-9_.\-]+)\]\.([A-Za-z_]+)")


# --------------------------------------------------------------------------------------------
# request bodies


class MixBody(BaseModel):
    level: str = "auto"
    target_lufs: float | None = -14.0
    ceiling_dbtp: float | None = -1.0
    tasks: list[str] | None = None
    amounts: dict[str, float] | None = None
    locks: list[str] | None = None
    profile: str | None = None
    use_reference: bool = False


class ParamBody(BaseModel):
    path: str = Field(max_length=200)
    value: Any = None


class CommentBody(BaseModel):
    time_s: float = Field(ge=0.0)
    end_s: float | None = None
    text: str = Field(min_length=1, max_length=2000)
    author: str = Field(default="", max_length=80)


class RequestBody(BaseModel):
    text: str = Field(min_length=1, max_length=500)
    start_s: float | None = None
    end_s: float | None = None


class AmountBody(BaseModel):
    amount_pct: float = Field(default=100.0, ge=0.0, le=100.0)


class TaskBody(AmountBody):
    task: str


class UndoBody(BaseModel):
    count: int = Field(default=1, ge=1, le=1000)


class NewProject(BaseModel):
    name: str = Field(default="Untitled mix", max_length=200)


class VariationsBody(BaseModel):
    n: int = Field(default=4, ge=2, le=8)


# --------------------------------------------------------------------------------------------
# what the library offers (the parts that arrive later answer 501 until they exist)


def _optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _mix_params() -> set[str]:
    from mixwise import api

    return set(inspect.signature(api.mix_folder).parameters)


EXPORTERS = {
    "ardour": ("mixwise.export.ardour", "export_ardour", "folder"),
    "reaper": ("mixwise.export.reaper", "export_reaper", "folder"),
    "dawproject": ("mixwise.export.dawproject", "export_dawproject", "file"),
}


def features() -> dict[str, bool]:
    """Which optional parts of the library this installation has."""
    from mixwise.session import edit

    params = _mix_params()
    out = {
        "levels": "level" in params,
        "amounts": "amounts" in params,
        "locks": "locks" in params,
        "reference_mix": "reference" in params,
        "reject": hasattr(edit, "reject_proposal"),
        "undo": hasattr(edit, "undo"),
        "amount_apply": "amount_pct" in inspect.signature(edit.apply_proposal).parameters,
        "words": _optional("mixwise.assist.words", "interpret") is not None,
        "compare": _optional("mixwise.analysis.compare", "compare_files") is not None,
        "variations": _optional("mixwise.variations", "make_variations") is not None,
    }
    for key, (mod, fn, _) in EXPORTERS.items():
        out[f"export_{key}"] = _optional(mod, fn) is not None
    return out


def _need(available: bool, what: str) -> None:
    if not available:
        raise StudioError(f"{what} is not available in this version of mixwise yet", 501)


# --------------------------------------------------------------------------------------------
# the app


def create_app(
    workspace: Path,
    *,
    limits: Limits | None = None,
    allowed_hosts: tuple[str, ...] | None = ("127.0.0.1", "localhost", "testserver"),
) -> FastAPI:
    """The studio application serving the projects of ``workspace`` (created if missing).

    ``limits`` caps uploads (bytes, see :class:`~mixwise.studio.workspace.Limits`);
    ``allowed_hosts`` are the ``Host`` names answered (``None``: any), which keeps pages of
    other sites from reaching the server through a rebound DNS name.
    """
    ws = Workspace(Path(workspace), limits)
    jobs = Jobs()
    app = FastAPI(title="mixwise studio", version=__version__, docs_url=None, redoc_url=None)
    app.state.workspace = ws
    app.state.jobs = jobs
    app.router.on_shutdown.append(jobs.shutdown)

    # ---- errors: always one line of JSON
    def err(message: str, status: int) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(StudioError)
    async def _studio_error(_: Request, e: StudioError) -> JSONResponse:
        return err(str(e), e.status)

    @app.exception_handler(MixwiseError)
    async def _mixwise_error(_: Request, e: MixwiseError) -> JSONResponse:
        return err(str(e).splitlines()[0] if str(e) else type(e).__name__, 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, e: StarletteHTTPException) -> JSONResponse:
        text = e.detail if isinstance(e.detail, str) else "request refused"
        if e.status_code == 404 and text == "Not Found":
            text = "no such page or file"
        return err(text, e.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return err(f"{where or 'request'}: {first.get('msg', 'invalid')}", 422)

    @app.exception_handler(Exception)
    async def _internal(_: Request, e: Exception) -> JSONResponse:
        log.exception("studio request failed")
        return err(f"internal error ({type(e).__name__}); see the server log", 500)

    @app.middleware("http")
    async def _guard(request: Request, call_next):
        host = request.headers.get("host", "").rsplit(":", 1)[0].strip("[]")
        if allowed_hosts is not None and host not in allowed_hosts:
            return err(f"host {host!r} is not served (open the studio on 127.0.0.1)", 403)
        changing = request.method in ("POST", "PUT", "PATCH", "DELETE")
        if (
            changing
            and request.url.path.startswith("/api/")
            and request.headers.get(CSRF_HEADER) != "1"
        ):
            return err("refused: requests must come from the studio page", 403)
        response = await call_next(request)
        if request.url.path.startswith(("/static/", "/api/")) or request.url.path == "/":
            response.headers.setdefault("Cache-Control", "no-cache")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    # ---- info and projects
    @app.get("/api/info")
    def info() -> dict:
        from mixwise.api import MASTER_PRESETS
        from mixwise.roles import FAMILY_COLOURS, ROLES

        lim = ws.limits
        return {
            "version": __version__,
            "levels": LEVELS,
            "tasks": TASKS,
            "presets": {k: {"lufs": v[0], "dbtp": v[1]} for k, v in MASTER_PRESETS.items()},
            "roles": ROLES,
            "colours": FAMILY_COLOURS,
            "limits": {
                "max_file_bytes": lim.max_file_bytes,
                "max_project_bytes": lim.max_project_bytes,
                "max_files": lim.max_files,
                "extensions": [e.lstrip(".") for e in ALLOWED_EXTENSIONS],
            },
            "features": features(),
        }

    @app.get("/api/projects")
    def list_projects() -> dict:
        return {"projects": ws.list()}

    @app.post("/api/projects")
    def new_project(body: NewProject) -> dict:
        p = ws.create(body.name)
        return {"project": p.meta()}

    @app.delete("/api/projects/{pid}")
    def delete_project(pid: str) -> dict:
        if jobs.active(pid):
            raise StudioError("this project is busy; wait for its job to finish", 409)
        ws.delete(pid)
        return {"deleted": pid}

    # ---- uploads
    @app.post("/api/projects/{pid}/stems")
    async def upload_stems(pid: str, request: Request) -> dict:
        p = ws.project(pid)
        lim = ws.limits
        length = int(request.headers.get("content-length") or 0)
        room = lim.max_project_bytes - p.stems_bytes()
        if length > lim.max_file_bytes * lim.max_files + 2**20 or length > room + 2**20:
            raise StudioError(
                f"upload refused: {format_bytes(length)} is over the limit "
                f"({format_bytes(lim.max_file_bytes)} per file, "
                f"{format_bytes(lim.max_project_bytes)} per project)",
                413,
            )
        form = await request.form(max_files=lim.max_files, max_fields=10)
        uploads = [v for _, v in form.multi_items() if hasattr(v, "filename")]
        if not uploads:
            raise StudioError("no file in the upload (send the stems as 'files')")
        if len(p.stems()) + len(uploads) > lim.max_files:
            raise StudioError(f"a project holds at most {lim.max_files} stems", 413)
        checked = []
        total = 0
        for up in uploads:
            name = safe_file_name(up.filename or "")
            size = up.size if up.size is not None else 0
            if size > lim.max_file_bytes:
                raise StudioError(
                    f"{name}: {format_bytes(size)} is over the limit of "
                    f"{format_bytes(lim.max_file_bytes)} per file",
                    413,
                )
            total += size
            await up.seek(0)
            head = await up.read(16)
            await up.seek(0)
            if sniff_audio(head) is None:
                raise StudioError(
                    f"{name}: not an audio file (allowed: "
                    f"{', '.join(e.lstrip('.') for e in ALLOWED_EXTENSIONS)})",
                    415,
                )
            checked.append((name, up))
        if total > room:
            raise StudioError(
                f"upload refused: the project would hold more than "
                f"{format_bytes(lim.max_project_bytes)} of stems",
                413,
            )
        saved = []
        with p.lock:
            p.stems_dir.mkdir(parents=True, exist_ok=True)
            for name, up in checked:
                dest = p.stems_dir / name
                tmp = p.stems_dir / f".{name}.part"
                try:
                    with open(tmp, "wb") as f:
                        while chunk := await up.read(2**20):
                            f.write(chunk)
                    _check_readable(tmp, name)
                    os.replace(tmp, dest)
                finally:
                    tmp.unlink(missing_ok=True)
                saved.append(name)
        p.update_meta(status="stems uploaded")
        return {"saved": saved, "stems": p.stems()}

    @app.delete("/api/projects/{pid}/stems/{name}")
    def delete_stem(pid: str, name: str) -> dict:
        p = ws.project(pid)
        safe = safe_file_name(name)
        target = p.stems_dir / safe
        if not target.is_file():
            raise StudioError(f"{safe}: no such stem", 404)
        target.unlink()
        return {"stems": p.stems()}

    @app.post("/api/projects/{pid}/session-file")
    async def open_session_file(pid: str, request: Request) -> dict:
        """Open a saved session.json: its tracks are matched to the uploaded stems by file
        name."""
        from mixwise.session.io import session_from_json

        p = ws.project(pid)
        form = await request.form(max_files=1, max_fields=5)
        up = next((v for _, v in form.multi_items() if hasattr(v, "filename")), None)
        if up is None:
            raise StudioError("no session file in the upload")
        if (up.size or 0) > 50 * 2**20:
            raise StudioError("session file is over 50 MB", 413)
        text = (await up.read()).decode("utf-8", errors="replace")
        session = session_from_json(text, origin=safe_file_name(up.filename, allowed=(".json",)))
        present = {s["name"] for s in p.stems()}
        missing = []
        for t in session.tracks:
            base = re.split(r"[\\/]", t.source.path)[-1]
            if base in present:
                t.source.path = str(p.stems_dir / base)
            else:
                missing.append(base)
        if missing:
            raise StudioError(
                f"the session needs stems that are not uploaded: {', '.join(missing[:6])}"
                + (" ..." if len(missing) > 6 else ""),
                409,
            )
        p.save(session)
        return {"opened": True}

    # ---- jobs
    @app.get("/api/jobs/{job_id}")
    def job_status(job_id: str) -> dict:
        job = jobs.get(job_id)
        if job is None:
            raise StudioError("no such job (the server may have restarted)", 404)
        return job.to_dict()

    @app.post("/api/projects/{pid}/mix")
    def mix(pid: str, body: MixBody) -> dict:
        p = ws.project(pid)
        if not p.stems():
            raise StudioError("upload some stems first", 409)
        if body.level not in LEVELS:
            raise StudioError(f"unknown level {body.level!r} (levels: {', '.join(LEVELS)})")
        params = _mix_params()
        kwargs: dict[str, Any] = {}
        if body.level != "auto" or "level" in params:
            _need("level" in params, f"the {body.level!r} level")
            kwargs["level"] = body.level
        if body.tasks is not None:
            kwargs["tasks"] = tuple(body.tasks)
        if body.amounts:
            _need("amounts" in params, "amounts per task")
            kwargs["amounts"] = body.amounts
        if body.locks:
            _need("locks" in params, "locks")
            kwargs["locks"] = body.locks
        if body.profile:
            _need("profile" in params, "genre profiles")
            kwargs["profile"] = body.profile
        if body.use_reference:
            _need("reference" in params, "mixing toward a reference")
            ref = _reference_file(p)
            if ref is None:
                raise StudioError("upload a reference track first", 409)
            kwargs["reference"] = ref
        for key in ("target_lufs", "ceiling_dbtp"):
            value = getattr(body, key)
            if value is not None:
                kwargs[key] = value
        job = jobs.start("mix", pid, lambda rep: _mix_job(p, kwargs, rep))
        return {"job": job.to_dict()}

    @app.post("/api/projects/{pid}/render")
    def render(pid: str) -> dict:
        p = ws.project(pid)
        p.load()
        job = jobs.start("render", pid, lambda rep: _render_job(p, rep))
        return {"job": job.to_dict()}

    # ---- the project's state, everything the page draws
    @app.get("/api/projects/{pid}")
    def project_state(pid: str) -> dict:
        p = ws.project(pid)
        active = jobs.active(pid)
        state: dict[str, Any] = {
            "project": p.meta(),
            "stems": p.stems(),
            "job": active.to_dict() if active else None,
            "session": None,
            "features": features(),
        }
        if not p.has_session():
            return state
        with p.lock:
            session = p.load()
        rendered = p.rendered_session()
        state["session"] = session.model_dump(mode="json")
        state["curves"] = all_curves(session)
        state["curve_freqs_hz"] = [round(float(f), 2) for f in CURVE_FREQS_HZ]
        state["rendered"] = _levels(rendered) if rendered else None
        state["needs_render"] = rendered is None or _mix_part(rendered) != _mix_part(session)
        rd = p.render_dir
        state["stem_files"] = stem_files(rendered or session, rd) if rendered else {}
        state["render"] = _read_json(rd / "report.json", "render")
        state["report_plots"] = _read_json(rd / "report.json", "plots")
        state["studio"] = _read_json(rd / "studio.json")
        state["analysis"] = _read_json(p.folder / "analysis.json")
        state["reference"] = _read_json(p.folder / "reference" / "reference.json")
        state["files"] = {
            k: f"render/{k}.wav" for k in ("master", "mix", "raw") if (rd / f"{k}.wav").is_file()
        }
        return state

    @app.get("/api/projects/{pid}/session")
    def get_session(pid: str) -> Response:
        p = ws.project(pid)
        with p.lock:
            return Response(
                p.session_path.read_bytes() if p.has_session() else b"null",
                media_type="application/json",
            )

    # ---- editing
    @app.post("/api/projects/{pid}/param")
    def set_param(pid: str, body: ParamBody) -> dict:
        from mixwise.session.edit import Suggestion, apply_suggestion, get_parameter

        p = ws.project(pid)
        path = body.path.strip()
        target_key, target_name = _check_editable(path)
        with p.lock:
            session = p.load()
            old = get_parameter(session, path)
            old_plain = old.model_dump(mode="json") if isinstance(old, BaseModel) else old
            value = body.value
            entry = apply_suggestion(
                session,
                Suggestion(
                    task="user",
                    target=_target_name(session, target_key) or target_name,
                    parameter=path,
                    old=old,
                    new=value,
                    unit=_unit_of(path),
                    reason="set in the studio",
                ),
                source="user",
            )
            if path.endswith(".role"):
                from mixwise.session.edit import set_parameter

                set_parameter(session, path.removesuffix(".role") + ".role_locked", True)
            p.save(session)
            new = get_parameter(session, path)
        out: dict[str, Any] = {
            "parameter": path,
            "old": _jsonable(old_plain),
            "new": _jsonable(new.model_dump(mode="json") if isinstance(new, BaseModel) else new),
            "history": len(session.history),
            "entry": entry.model_dump(mode="json"),
        }
        if target_key:
            out["target"] = target_key
            out["curve"] = chain_curve(session, target_key)
        return out

    @app.post("/api/projects/{pid}/proposals/{number}/accept")
    def accept(pid: str, number: int, body: AmountBody | None = None) -> dict:
        from mixwise.session import edit

        amount = body.amount_pct if body else 100.0
        p = ws.project(pid)
        with p.lock:
            session = p.load()
            if amount < 100.0:
                _need(features()["amount_apply"], "accepting part of a suggestion")
                edit.apply_proposal(session, number, source="user", amount_pct=amount)
            else:
                edit.apply_proposal(session, number, source="user")
            p.save(session)
        return {"proposals": _proposals(session), "history": len(session.history)}

    @app.post("/api/projects/{pid}/proposals/{number}/reject")
    def reject(pid: str, number: int) -> dict:
        from mixwise.session import edit

        _need(hasattr(edit, "reject_proposal"), "rejecting a suggestion")
        p = ws.project(pid)
        with p.lock:
            session = p.load()
            edit.reject_proposal(session, number)
            p.save(session)
        return {"proposals": _proposals(session)}

    @app.post("/api/projects/{pid}/proposals/accept-task")
    def accept_task(pid: str, body: TaskBody) -> dict:
        from mixwise.session import edit

        p = ws.project(pid)
        with p.lock:
            session = p.load()
            pending = [
                q for q in session.proposals if q.task == body.task and q.status == "pending"
            ]
            if not pending:
                raise StudioError(f"no pending suggestion in task {body.task!r}", 409)
            if body.amount_pct < 100.0:
                _need(features()["amount_apply"], "accepting part of a suggestion")
            for q in pending:
                if body.amount_pct < 100.0:
                    amount = body.amount_pct
                    edit.apply_proposal(session, q.number, source="user", amount_pct=amount)
                else:
                    edit.apply_proposal(session, q.number, source="user")
            p.save(session)
        return {"proposals": _proposals(session), "accepted": [q.number for q in pending]}

    @app.post("/api/projects/{pid}/undo")
    def undo(pid: str, body: UndoBody | None = None) -> dict:
        from mixwise.session import edit

        _need(hasattr(edit, "undo"), "undo")
        p = ws.project(pid)
        with p.lock:
            session = p.load()
            if not session.history:
                raise StudioError("nothing to undo", 409)
            undone = edit.undo(session, body.count if body else 1)
            p.save(session)
        return {
            "undone": [e.model_dump(mode="json") for e in undone],
            "history": len(session.history),
        }

    # ---- feedback: comments and requests in words
    @app.post("/api/projects/{pid}/comments")
    def add_comment(pid: str, body: CommentBody) -> dict:
        from mixwise.session.model import Marker

        p = ws.project(pid)
        with p.lock:
            session = p.load()
            end = body.end_s if body.end_s is not None and body.end_s > body.time_s else None
            text = " ".join(body.text.split())
            session.markers.append(
                Marker(
                    time_s=round(min(body.time_s, session.length_s or body.time_s), 3),
                    end_s=end,
                    name=text[:40],
                    kind="comment",
                    text=text,
                    author=body.author.strip(),
                )
            )
            p.save(session)
        return {"markers": _markers(session)}

    @app.delete("/api/projects/{pid}/comments/{index}")
    def delete_comment(pid: str, index: int) -> dict:
        p = ws.project(pid)
        with p.lock:
            session = p.load()
            if not 0 <= index < len(session.markers):
                raise StudioError(f"no comment number {index}", 404)
            del session.markers[index]
            p.save(session)
        return {"markers": _markers(session)}

    @app.post("/api/projects/{pid}/requests")
    def request_in_words(pid: str, body: RequestBody) -> dict:
        from mixwise.session.edit import apply_suggestion
        from mixwise.session.model import Marker

        p = ws.project(pid)
        interpret = _optional("mixwise.assist.words", "interpret")
        with p.lock:
            session = p.load()
            start = body.start_s if body.start_s is not None else 0.0
            end = body.end_s if body.end_s is not None and body.end_s > start else None
            text = " ".join(body.text.split())
            session.markers.append(
                Marker(
                    time_s=max(0.0, start),
                    end_s=end,
                    name="request",
                    kind="comment",
                    text=text,
                    author="request",
                )
            )
            if interpret is None:
                p.save(session)
                raise StudioError(
                    "your request is saved in the session, but this version of mixwise cannot "
                    "act on requests in words yet",
                    501,
                )
            plan = interpret(text, session, start_s=body.start_s, end_s=body.end_s)
            applied = []
            for item in plan.understood:
                for s in item.changes:
                    applied.append(
                        apply_suggestion(session, s, source="user").model_dump(mode="json")
                    )
            p.save(session)
        return {
            "summary": plan.summary(),
            "applied": applied,
            "not_understood": list(plan.not_understood),
            "markers": _markers(session),
        }

    # ---- reference, comparison, alternatives
    @app.post("/api/projects/{pid}/reference")
    async def upload_reference(pid: str, request: Request) -> dict:
        p = ws.project(pid)
        lim = ws.limits
        if int(request.headers.get("content-length") or 0) > lim.max_file_bytes + 2**20:
            raise StudioError(
                f"reference refused: over the limit of {format_bytes(lim.max_file_bytes)}", 413
            )
        form = await request.form(max_files=1, max_fields=5)
        up = next((v for _, v in form.multi_items() if hasattr(v, "filename")), None)
        if up is None:
            raise StudioError("no reference file in the upload")
        name = safe_file_name(up.filename or "")
        if (up.size or 0) > lim.max_file_bytes:
            raise StudioError(f"{name}: over the limit of {format_bytes(lim.max_file_bytes)}", 413)
        if sniff_audio(await up.read(16)) is None:
            raise StudioError(f"{name}: not an audio file", 415)
        await up.seek(0)
        ref_dir = p.folder / "reference"
        with p.lock:
            if ref_dir.exists():
                shutil.rmtree(ref_dir)
            ref_dir.mkdir()
            dest = ref_dir / name
            with open(dest, "wb") as f:
                while chunk := await up.read(2**20):
                    f.write(chunk)
            try:
                _check_readable(dest, name)
            except StudioError:
                shutil.rmtree(ref_dir)
                raise
            rate = p.load().sample_rate if p.has_session() else 44_100
            data = measure_reference(dest, rate)
            data["path"] = f"reference/{name}"
            (ref_dir / "reference.json").write_text(json.dumps(data) + "\n", encoding="utf-8")
        return {"reference": data}

    @app.get("/api/projects/{pid}/compare")
    def compare(pid: str) -> dict:
        compare_files = _optional("mixwise.analysis.compare", "compare_files")
        _need(compare_files is not None, "comparing with a reference")
        p = ws.project(pid)
        ref = _reference_file(p)
        master = p.render_dir / "master.wav"
        if ref is None or not master.is_file():
            raise StudioError("mix the song and upload a reference first", 409)
        c = compare_files(master, ref)
        svg_fn = _optional("mixwise.analysis.compare", "comparison_svg")
        return {
            "comparison": _jsonable(c.to_dict()),
            "sentences": list(c.sentences()),
            "svg": svg_fn(c) if svg_fn else None,
        }

    @app.post("/api/projects/{pid}/variations")
    def variations(pid: str, body: VariationsBody | None = None) -> dict:
        make = _optional("mixwise.variations", "make_variations")
        _need(make is not None, "alternative mixes")
        p = ws.project(pid)
        if not p.stems():
            raise StudioError("upload some stems first", 409)
        n = body.n if body else 4
        job = jobs.start("variations", pid, lambda rep: _variations_job(p, make, n, rep))
        return {"job": job.to_dict()}

    @app.get("/api/projects/{pid}/variations")
    def list_variations(pid: str) -> dict:
        p = ws.project(pid)
        return {"variations": _read_json(p.folder / "variations" / "studio.json") or []}

    @app.post("/api/projects/{pid}/variations/{name}/use")
    def use_variation(pid: str, name: str) -> dict:
        from mixwise.session.io import load_session

        p = ws.project(pid)
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name) or ".." in name:
            raise StudioError(f"no variation {name[:40]!r}", 404)
        src = p.folder / "variations" / name / "session.json"
        if not src.is_file():
            raise StudioError(f"no variation {name!r}", 404)
        with p.lock:
            chosen = load_session(src)
            if p.has_session():
                chosen.markers = p.load().markers
            p.save(chosen)
        return {"used": name}

    # ---- files and downloads
    @app.get("/api/projects/{pid}/files/{rel:path}")
    def project_file(pid: str, rel: str) -> FileResponse:
        p = ws.project(pid)
        return FileResponse(p.resolve(rel))

    @app.get("/api/projects/{pid}/download/{what}")
    def download(pid: str, what: str) -> Response:
        p = ws.project(pid)
        base = re.sub(r"[^A-Za-z0-9_.\-]+", "-", p.meta().get("name", p.id)).strip("-") or "mix"
        rd = p.render_dir
        simple = {
            "master": (rd / "master.wav", f"{base}-master.wav"),
            "mix": (rd / "mix.wav", f"{base}-mix.wav"),
            "report": (rd / "report.html", f"{base}-report.html"),
            "report-json": (rd / "report.json", f"{base}-report.json"),
            "session": (p.session_path, f"{base}-session.json"),
        }
        if what in simple:
            path, filename = simple[what]
            if not path.is_file():
                raise StudioError(f"no {what} yet: press 'Mix it' (or 'Render') first", 409)
            return FileResponse(path, filename=filename)
        if what == "stems":
            folder = rd / "stems"
            if not folder.is_dir():
                raise StudioError("no rendered stems yet: press 'Mix it' first", 409)
            return _zip_response(folder, f"{base}-stems.zip")
        if what in EXPORTERS:
            return _export(p, what, base)
        raise StudioError(f"unknown download {what!r}", 404)

    return app


# --------------------------------------------------------------------------------------------
# helpers


def _check_readable(path: Path, name: str) -> None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as e:
        msg = str(e).split(":")[-1].strip() or "unreadable"
        raise StudioError(f"{name}: cannot be read as audio ({msg})", 415) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise StudioError(f"{name}: holds no audio", 415)


def _read_json(path: Path, key: str | None = None) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get(key) if key and isinstance(data, dict) else data


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "-inf" if value < 0 else None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _check_editable(path: str) -> tuple[str | None, str]:
    """Refuse parameter paths the studio does not edit (sources, history ...); returns the
    curve key the path changes (``track:<id>``, ``bus:<id>``, ``master``) and a name."""
    if "source" in path or "history" in path or "proposals" in path:
        raise StudioError(f"{path}: cannot be changed from the studio", 403)
    if path.startswith("master."):
        return "master", "master"
    mt = _PATH_HEAD.match(path)
    if not mt:
        raise StudioError(f"{path}: not a track, bus or master parameter", 400)
    kind, ident, field_name = mt.groups()
    allowed = _TRACK_FIELDS if kind == "tracks" else _BUS_FIELDS
    if field_name not in allowed:
        raise StudioError(f"{path}: cannot be changed from the studio", 403)
    return ("track:" if kind == "tracks" else "bus:") + ident, ident


def _target_name(session, key: str | None) -> str | None:
    if key is None:
        return None
    if key == "master":
        return "master"
    kind, _, ident = key.partition(":")
    for it in session.tracks if kind == "track" else session.buses:
        if it.id == ident:
            return it.name
    return None


def _unit_of(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    for suffix, unit in (
        ("_db", "dB"),
        ("_hz", "Hz"),
        ("_ms", "ms"),
        ("_s", "s"),
        ("_lufs", "LUFS"),
        ("_dbtp", "dBTP"),
    ):
        if last.endswith(suffix):
            return unit
    return ""


def _levels(session) -> dict[str, dict[str, Any]]:
    """The levels the preview starts from: fader (dB), pan, mute of every track and bus."""
    out = {}
    for t in session.tracks:
        c = t.chain
        out[f"track:{t.id}"] = {
            "fader_db": _jsonable(c.fader_db),
            "pan": c.pan,
            "mute": c.mute,
            "solo": c.solo,
        }
    for b in session.buses:
        c = b.chain
        out[f"bus:{b.id}"] = {"fader_db": _jsonable(c.fader_db), "pan": c.pan, "mute": c.mute}
    out["master"] = {"gain_db": session.master.gain_db, "target_lufs": session.master.target_lufs}
    return out


def _mix_part(session) -> str:
    """What changes the sound: tracks, buses and master (not history, notes or intent)."""
    return json.dumps(
        [
            [
                t.model_dump(
                    mode="json",
                    exclude={"name", "colour", "role", "role_confidence", "role_locked"},
                )
                for t in session.tracks
            ],
            [b.model_dump(mode="json", exclude={"name", "colour"}) for b in session.buses],
            session.master.model_dump(mode="json"),
        ],
        sort_keys=True,
    )


def _proposals(session) -> list[dict]:
    return [q.model_dump(mode="json") for q in session.proposals]


def _markers(session) -> list[dict]:
    return [mk.model_dump(mode="json") for mk in session.markers]


def _reference_file(p: Project) -> Path | None:
    data = _read_json(p.folder / "reference" / "reference.json")
    if not data:
        return None
    path = p.folder / "reference" / data.get("file", "")
    return path if path.is_file() else None


def _fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _publish_render(p: Project, new: Path) -> None:
    """Put a finished render in place of the old one (two renames)."""
    old = p.folder / "render-old"
    if old.exists():
        shutil.rmtree(old)
    if p.render_dir.exists():
        p.render_dir.rename(old)
    new.rename(p.render_dir)
    shutil.rmtree(old, ignore_errors=True)


def _stems_seconds(folder: Path) -> float:
    import soundfile as sf

    total = 0.0
    for f in folder.iterdir():
        try:
            info = sf.info(str(f))
            total += info.frames / info.samplerate
        except Exception:
            continue
    return max(total, 1e-3)


def _progress_mapper(rep: Reporter, load_s: float, *, start: float, span: float):
    """mix_folder's (seconds done, seconds in all, stage) as the job's 0-1 progress."""

    def progress(done: float, total: float, stage: str) -> None:
        if stage.startswith("load"):
            rep(start + span * 0.55 * min(done / load_s, 1.0), "Analysing the stems")
        elif stage == "mix":
            frac = done / total if total > 0 else 0.0
            rep(start + span * (0.6 + 0.3 * frac), "Mixing")
        else:
            rep(start + span * 0.92, "Mastering")

    return progress


def _mix_job(p: Project, kwargs: dict[str, Any], rep: Reporter) -> dict[str, Any]:
    from mixwise.api import mix_folder
    from mixwise.session.io import load_session, save_session

    rep(0.01, "Reading the stems")
    out = _fresh_dir(p.folder / "render-new")
    previous = p.load() if p.has_session() else None
    if previous is not None:
        save_session(previous, out / "session.json")  # the intent, locks and levels carry over
    progress = _progress_mapper(rep, _stems_seconds(p.stems_dir), start=0.0, span=0.92)
    t0 = time.perf_counter()
    outcome = mix_folder(p.stems_dir, out, progress=progress, **kwargs)
    mixed_s = time.perf_counter() - t0
    rep(0.93, "Measuring the result")
    session = load_session(out / "session.json")
    if previous is not None and previous.markers and not session.markers:
        session.markers = previous.markers
        save_session(session, out / "session.json")
    measure_render(session, out / "session.json", out)
    plots = _read_json(out / "report.json", "plots") or {}
    with p.lock:
        _publish_render(p, out)
        (p.folder / "analysis.json").write_text(json.dumps(plots) + "\n", encoding="utf-8")
        p.save(session)
    p.update_meta(status="mixed", level=kwargs.get("level", "auto"))
    r = outcome.render
    return {
        "seconds": round(mixed_s, 2),
        "master_lufs": _jsonable(round(r.master_lufs, 2)),
        "master_true_peak_dbtp": _jsonable(round(r.master_true_peak_dbtp, 2)),
        "problems": [pr.message for pr in outcome.problems][:20],
    }


def _render_job(p: Project, rep: Reporter) -> dict[str, Any]:
    from mixwise.api import render_session_file
    from mixwise.session.io import save_session

    rep(0.02, "Rendering")
    out = _fresh_dir(p.folder / "render-new")
    with p.lock:
        session = p.load()
    snapshot = save_session(session, p.folder / ".render-session.json")
    length = max(session.length_s, 1e-3)

    def progress(done: float, total: float, stage: str) -> None:
        if stage == "mix":
            rep(0.05 + 0.7 * done / max(total, length), "Rendering")
        else:
            rep(0.8, "Mastering")

    try:
        outcome = render_session_file(snapshot, out, progress=progress)
    finally:
        snapshot.unlink(missing_ok=True)
    rep(0.9, "Measuring the result")
    measure_render(session, p.session_path, out)
    with p.lock:
        _publish_render(p, out)
    r = outcome.render
    return {
        "master_lufs": _jsonable(round(r.master_lufs, 2)),
        "master_true_peak_dbtp": _jsonable(round(r.master_true_peak_dbtp, 2)),
        "problems": [pr.message for pr in outcome.problems][:20],
    }


def _variations_job(p: Project, make, n: int, rep: Reporter) -> dict[str, Any]:
    rep(0.02, "Making alternative mixes")
    out = _fresh_dir(p.folder / "variations-new")
    total = max(1.0, _stems_seconds(p.stems_dir) / 4 * (n + 2))

    def progress(done: float, _total: float, stage: str) -> None:
        rep(0.02 + 0.95 * min(done / total, 1.0), f"Making alternative mixes ({stage})")

    outcome = make(p.stems_dir, out, n=n, progress=progress)
    rows = [
        {
            "name": v.folder.name,
            "description": getattr(v, "description", ""),
            "file": f"variations/{v.folder.name}/master.wav",
            "lufs": _jsonable(round(float(v.master_lufs), 2)),
        }
        for v in outcome.variations
        if (v.folder / "master.wav").is_file()
    ]
    (out / "studio.json").write_text(json.dumps(rows) + "\n", encoding="utf-8")
    final = p.folder / "variations"
    with p.lock:
        if final.exists():
            shutil.rmtree(final)
        out.rename(final)
    return {"variations": rows}


def _zip_response(folder: Path, filename: str) -> Response:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and not f.name.startswith("."):
                z.write(f, f.relative_to(folder.parent).as_posix())
    return Response(
        buf.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _export(p: Project, kind: str, base: str) -> Response:
    mod, fn, shape = EXPORTERS[kind]
    exporter = _optional(mod, fn)
    _need(exporter is not None, f"the {kind} export")
    with p.lock:
        session = p.load()
    dest = _fresh_dir(p.folder / "exports" / kind)
    if shape == "file":
        out_file = dest / f"{base}.dawproject"
        exporter(session, p.session_path, out_file)
        return FileResponse(out_file, filename=out_file.name)
    folder = dest / f"{base}-{kind}"
    exporter(session, p.session_path, folder)
    return _zip_response(folder, f"{base}-{kind}.zip")


# --------------------------------------------------------------------------------------------
# running it


def default_workspace() -> Path:
    """``$XDG_DATA_HOME/mixwise/studio`` (``~/.local/share/mixwise/studio`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mixwise" / "studio"


def import_folder(ws: Workspace, stems_dir: Path) -> Project:
    """A new project holding copies of the audio files of ``stems_dir`` (names sanitised,
    limits applied, other files left out). Raises :class:`StudioError` when none is usable."""
    folder = Path(stems_dir)
    if not folder.is_dir():
        raise StudioError(f"{folder}: not a folder of stems", 400)
    where = folder.resolve()
    generic = where.name.lower() in ("stems", "tracks", "audio", "multitracks", "multitrack")
    p = ws.create(where.parent.name if generic and where.parent.name else where.name)
    copied, total = 0, 0
    for f in sorted(folder.iterdir()):
        if not f.is_file() or f.suffix.lower() not in ALLOWED_EXTENSIONS:
            continue
        try:
            name = safe_file_name(f.name)
        except StudioError:
            continue
        size = f.stat().st_size
        with open(f, "rb") as fh:
            if sniff_audio(fh.read(16)) is None:
                log.warning("%s: left out (not an audio file)", f)
                continue
        if size > ws.limits.max_file_bytes or total + size > ws.limits.max_project_bytes:
            log.warning("%s: left out (over the upload limits)", f)
            continue
        shutil.copyfile(f, p.stems_dir / name)
        copied, total = copied + 1, total + size
    if not copied:
        ws.delete(p.id)
        raise StudioError(f"{folder}: no audio files (wav, flac, aiff, ogg, mp3) in it", 400)
    p.update_meta(status="stems uploaded", imported_from=str(folder.resolve()))
    return p


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve_in_thread(app: FastAPI, *, host: str = "127.0.0.1", port: int | None = None):
    """Start ``app`` with uvicorn in a daemon thread (tests, embedding). Returns
    ``(server, thread, url)``; stop with ``server.should_exit = True; thread.join()``."""
    import uvicorn

    port = port or free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="mixwise-studio")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise StudioError(f"the studio server did not start on {host}:{port}", 500)
        time.sleep(0.02)
    return server, thread, f"http://{host}:{port}"


def run_studio(
    stems_dir: Path | None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = True,
    workspace: Path | None = None,
) -> None:
    """Run the studio until interrupted: serve on ``host``:``port`` (a free port if ``None``),
    import ``stems_dir`` (if given) as a new project and open the browser on it."""
    import uvicorn

    ws_path = Path(workspace) if workspace else default_workspace()
    hosts = None if host not in ("127.0.0.1", "localhost") else ("127.0.0.1", "localhost")
    app = create_app(ws_path, allowed_hosts=hosts)
    path = "/"
    if stems_dir is not None:
        p = import_folder(app.state.workspace, Path(stems_dir))
        path = f"/#/project/{p.id}"
    port = port or free_port(host)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}{path}"
    print(f"mixwise studio: {url}  (workspace {ws_path}; Ctrl+C stops)", file=sys.stderr)
    if open_browser:
        import webbrowser

        threading.Timer(0.8, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
