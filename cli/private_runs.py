"""A private render's run folder (``cloudrender-run-PID-...``) and the job it names.

A private cluster's job dies with its Redis, but its objects (segments, audio, the video) stay in
the lasting storage the segment cache lives in. The run folder names the job, so whatever ends
the render (its Redis or workers died, Ctrl-C, or SIGKILL of the client: then the next private
render's sweep) its objects are removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from common.errors import RenderError
from common.scratch import process_alive, sweep_scratch
from common.settings import Settings
from providers.storage import StorageError, open_storage

#: The file in a run folder that names its job.
RUN_JOB = "job"
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def lasting_storage(settings: Settings) -> str:
    """The private renders' lasting storage folder (the segment cache lives there), made if
    missing, readable by this user alone; a RenderError naming it and CLOUDRENDER_EMBEDDED_DIR
    when it cannot be (a file in the way, no permission), not a traceback."""
    folder = settings.embedded_storage
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise RenderError(
            f"cannot use {folder} for the local renders' storage and segment cache: "
            f"{exc.strerror or exc}; set CLOUDRENDER_EMBEDDED_DIR to a folder you can write"
        ) from None
    return folder


def record_run_job(run: str, job_id: str) -> None:
    """Name the run's job in its folder (before the render can end)."""
    Path(run, RUN_JOB).write_text(job_id)


@contextlib.contextmanager
def dropping_run_job(run: str, storage_dir: str) -> Iterator[None]:
    """Around a private cluster (entered before it, left after its workers stopped): remove the
    objects of the job the run recorded, however the render ended (its Redis died, Ctrl-C)."""
    try:
        yield
    finally:
        _drop_run_job(run, storage_dir)


def sweep_dead_runs(storage_dir: str) -> None:
    """Remove the run folders of private renders killed outright (SIGKILL, the OOM killer), and
    their jobs' objects from the lasting storage, which nothing else would ever remove."""
    root = tempfile.gettempdir()
    head = "cloudrender-run-"
    try:
        names = os.listdir(root)
    except OSError:
        names = []
    for name in names:
        pid = name[len(head) :].split("-", 1)[0]
        if name.startswith(head) and pid.isdigit() and not process_alive(int(pid)):
            _drop_run_job(os.path.join(root, name), storage_dir)
    sweep_scratch("run")


def _drop_run_job(run: str, storage_dir: str) -> None:
    """Remove from the lasting storage the objects of the job a run folder names."""
    try:
        job_id = Path(run, RUN_JOB).read_text().strip()
    except OSError:
        return
    if _JOB_ID.fullmatch(job_id):
        # The job spec pulls in the codec stack (NumPy, PyAV): imported only when a run is left.
        from workers.job_spec import job_prefix

        with contextlib.suppress(StorageError):
            open_storage(Path(storage_dir).as_uri()).delete_prefix(job_prefix(job_id))
