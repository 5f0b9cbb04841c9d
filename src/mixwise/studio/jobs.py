"""Long work (analysis + mix, render, variations) in a background thread, with progress the
browser polls. One job runs at a time (the machine's cores go to the DSP); the rest queue."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mixwise.errors import MixwiseError

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One piece of long work. ``progress`` is 0-1; ``stage`` says what it is doing now."""

    id: str
    kind: str
    project: str
    state: str = "queued"  # queued | running | done | error
    progress: float = 0.0
    stage: str = "waiting"
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "project": self.project,
            "state": self.state,
            "progress": round(self.progress, 4),
            "stage": self.stage,
            "error": self.error,
            "result": self.result,
            "elapsed_s": round((self.finished or time.time()) - self.started, 2),
        }


class Reporter:
    """What a job's function gets: ``report(fraction, stage)`` moves the progress bar."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def __call__(self, fraction: float, stage: str | None = None) -> None:
        self.job.progress = min(max(float(fraction), self.job.progress), 1.0)
        if stage:
            self.job.stage = stage


class Jobs:
    """The job queue: :meth:`start` returns at once; :meth:`get` tells how it goes."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mixwise-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(
        self, kind: str, project: str, work: Callable[[Reporter], dict[str, Any] | None]
    ) -> Job:
        with self._lock:
            for j in self._jobs.values():
                if j.project == project and j.state in ("queued", "running"):
                    from mixwise.studio.workspace import StudioError

                    raise StudioError(
                        f"this project is busy ({j.kind}, {round(j.progress * 100)} %); "
                        "wait for it to finish",
                        409,
                    )
            job = Job(id=secrets.token_hex(6), kind=kind, project=project)
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Reporter], dict[str, Any] | None]) -> None:
        job.state, job.stage, job.started = "running", "starting", time.time()
        try:
            job.result = work(Reporter(job)) or {}
            job.progress, job.state, job.stage = 1.0, "done", "done"
        except MixwiseError as err:
            job.state, job.error = "error", str(err).splitlines()[0]
        except Exception as err:  # a bug: tell the page in one line, keep the story in the log
            log.exception("studio job %s (%s) failed", job.id, job.kind)
            job.state, job.error = "error", f"internal error ({type(err).__name__}: {err})"[:300]
        finally:
            job.finished = time.time()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def active(self, project: str) -> Job | None:
        """The queued or running job of ``project``, if any."""
        for j in self._jobs.values():
            if j.project == project and j.state in ("queued", "running"):
                return j
        return None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
