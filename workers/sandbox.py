"""Render one chunk in a child process with resource limits, under bubblewrap where it runs.

A project that gets past validation and still needs more memory, CPU time or disk than a chunk
may have kills only its own render process, and the chunk fails for good with one line ("ran
out of memory (limit 4.0 GB)") instead of taking the worker down and being redelivered to the
next one. The worker process keeps what needs the cluster: it polls for cancellation, forwards
progress, and uploads the segment; the child only reads its media and writes the segment into
the chunk's scratch directory (``workers.render_process`` is its side).

    worker pool process                      render process (workers.render_process)
    ├─ the request (a fork's memory,  ──>    rlimits: address space, CPU seconds, file size
    │  or request.pickle under bwrap)        [bwrap: no network, read-only system, own /tmp]
    ├─ polls should_stop, kills on stop
    └─ reads JSON lines from a pipe    <──   {"progress": [done, total]} ... {"done": {...}}

Under bubblewrap a chunk of a job (``job`` given, as the Celery task does) is forked by its job's
warm render process on this worker process (``workers.zygote``): it runs in the same sandbox,
imported the render stack once, and takes the job's chunks one after another; it renders in a
folder of the zygote's scratch, moved to ``output`` when done. A chunk it cannot take starts as
below.

Without bubblewrap the render process is a fork of the worker's (nothing to import again), unless
the worker holds more than half the chunk's memory limit itself (a fork could not allocate under
the limit): then, as under bubblewrap, it is a fresh ``python -m workers.render_process``, which
costs an interpreter start and the imports per chunk. Measured on a 2-core machine, a 10-frame
320x180 chunk: 57 ms in the worker itself, 82 ms in a fork, 316 ms under bubblewrap (bwrap's own
share about 5 ms, the imports of NumPy and PyAV most of the rest). A one-second 1080p chunk takes
3.4 s there, so bubblewrap adds about 8% to it, a fork under 1%.

The limits, and what a render process's end means, are in ``workers.chunk_limits``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import pickle
import selectors
import shutil
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery.signals import celeryd_init, worker_init, worker_ready

from chunking.timeline.model import Timeline
from common.errors import RenderCancelled, RenderError
from common.settings import Settings
from workers import arrays, render_process
from workers import isolation as iso
from workers import zygote as zygotes
from workers.atomic import write_error
from workers.child import Child
from workers.chunk_limits import (
    ChunkCrashed,
    ChunkLimits,
    chunk_limits,
    failure_of,
)
from workers.render import RenderSummary
from workers.sequences import files_for_frames
from workers.zygote_child import ZygoteChild, take

log = logging.getLogger(__name__)

#: Seconds between the parent's checks of its stop condition while the child is silent.
WAIT_STEP = 0.1
#: Seconds a render process may take to exit once it closed its stdout.
EXIT_GRACE = 30.0
#: Longest line the child may send (a report is a few hundred bytes).
MAX_LINE = 1 << 20


@dataclass(frozen=True)
class ChunkRun:
    """A finished sandboxed render: its summary and what the render process used."""

    summary: RenderSummary
    isolation: str
    peak_memory_bytes: int  # the render process's peak address space (VmPeak)
    peak_rss_bytes: int


def render_segment(
    timeline: Timeline,
    output: str,
    *,
    start: int,
    end: int,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    threads: int | None = None,
    time_limit: float | None = None,
    settings: Settings | None = None,
    job: str | None = None,
) -> ChunkRun:
    """Render frames [start, end) of ``timeline`` to the Matroska file ``output`` in a child.

    ``output``'s directory is the chunk's scratch: the only place the child may write. Raises
    RenderCancelled when ``cancelled`` turns true (the child is killed), ChunkLimitExceeded when
    a limit stopped it, the child's own RenderError, or ChunkCrashed. Under bubblewrap, chunks
    naming their ``job`` are forked by that job's warm render process (``workers.zygote``).
    """
    settings = settings or _settings()
    isolation = iso.current(settings.sandbox)
    if isolation.error is not None:
        raise iso.SandboxUnavailable(isolation.error)
    limits = chunk_limits(settings, timeline, end - start, time_limit)
    request = _request(timeline, output, start, end, threads)
    began = time.perf_counter()
    child, folder = _start(isolation, request, limits, settings, job)
    try:
        return _finish(child, request, progress, cancelled, limits, isolation, began, folder)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _finish(
    child: Child | ZygoteChild,
    request: dict[str, Any],
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
    limits: ChunkLimits,
    isolation: iso.Isolation,
    began: float,
    folder: str | None,
) -> ChunkRun:
    """Watch the started render process to its end; what it rendered (moved out of a zygote's
    ``folder`` to the request's output), or its failure raised."""
    output, start, end = request["output"], request["start"], request["end"]
    stopped = True  # until _watch says otherwise: an exception here must not leave the child
    try:
        report, stopped = _watch(child, progress, cancelled)
        if not stopped:
            child.wait(EXIT_GRACE)  # it closed its end of the pipe: it is exiting
    except TimeoutError:
        report = {"error": {"kind": "crash", "message": "did not exit after its report"}}
    finally:
        child.close()
    if stopped:
        raise RenderCancelled("render cancelled")
    status = child.status if child.status is not None else 1
    if isolation.kind == iso.BWRAP and folder is None and status > 128:
        status = -(status - 128)  # bwrap reports its child's death by signal N as 128 + N
    failure = failure_of(status, report, limits)
    if failure is not None:
        scratch = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(scratch):
            # The worker's own scratch folder removed under the chunk (a cleaner of /tmp): the
            # child's "output directory does not exist" is no fault of the job's, so retried.
            gone = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), scratch)
            raise write_error("the chunk's segment", gone, output) from failure
        raise failure
    assert report is not None  # failure_of returned None: a "done" report
    if folder is not None:
        take(folder, output)
    run = _run(report["done"], output, end - start, began, isolation.kind)
    log.debug(
        "frames %d-%d rendered (%s) in %.2f s: peak address space %d MB of %d MB, peak RSS %d MB",
        start,
        end - 1,
        run.isolation,
        run.summary.seconds,
        run.peak_memory_bytes >> 20,
        limits.memory_bytes >> 20,
        run.peak_rss_bytes >> 20,
    )
    return run


def _start(
    isolation: iso.Isolation,
    request: dict[str, Any],
    limits: ChunkLimits,
    settings: Settings,
    job: str | None,
) -> tuple[Child | ZygoteChild, str | None]:
    """Start the render process: forked by the job's zygote under bwrap, bwrap running a fresh
    Python, a fork of this process, or (this process grown too big to fork under the limit) a
    fresh Python without bwrap. With it, the zygote's folder the chunk renders in (or None)."""
    scratch = os.path.dirname(os.path.abspath(request["output"]))
    if isolation.bwrap is None and _forkable(limits):
        parent = os.getpid()
        forked = Child.fork(lambda fd: render_process.forked(request, limits.as_json(), fd, parent))
        return forked, None
    if isolation.bwrap is not None and job is not None:
        timeline = request["timeline"]
        media = _media(timeline, settings, 0, timeline.frames)  # every medium of the job
        warm = zygotes.fork_chunk(job, isolation.bwrap, media, request, limits, _write_request)
        if warm is not None:
            return warm
    path = _write_request(request, scratch)
    program = [
        sys.executable,
        "-m",
        "workers.render_process",
        path,
        json.dumps(limits.as_json()),
    ]
    env = iso.child_env(os.environ, scratch)  # the environment handed down, minus credentials
    if isolation.bwrap is None:
        return Child.spawn(program, env, scratch), None
    media = _media(request["timeline"], settings, request["start"], request["end"])
    argv = iso.sandbox_command(
        isolation.bwrap, program=program, env=env, scratch=scratch, media=media
    )
    return Child.spawn(argv, env, scratch), None


def _write_request(request: dict[str, Any], folder: str) -> str:
    """Write the request where the render process reads it; its path."""
    path = os.path.join(folder, "request.pickle")
    try:
        with open(path, "wb") as fh:
            pickle.dump(request, fh, pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        # The scratch disk full or gone: retried like a segment that cannot be written (a bare
        # OSError failed the chunk as a crash, naming no file).
        raise write_error("the chunk's request", exc, path) from exc
    return path


def _forkable(limits: ChunkLimits) -> bool:
    """Whether a fork of this process keeps at least half the chunk's memory for the chunk.

    A fork inherits the worker's whole address space, and the limit is absolute: a worker grown
    past it (many jobs, fragmentation; a test runner) would fork children that cannot allocate
    at all, and some library threads then wait for ever instead of failing."""
    held = render_process.held_memory(limits.memory_rlimit)
    return held <= limits.memory_bytes // 2


def _watch(
    child: Child | ZygoteChild,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
) -> tuple[dict[str, Any] | None, bool]:
    """Forward the child's progress until it closes its pipe; (its last report, whether we
    stopped it)."""
    last: dict[str, Any] | None = None
    pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(child.fd, selectors.EVENT_READ)
        while True:
            if cancelled is not None and cancelled():
                child.kill()
                return last, True
            if not selector.select(WAIT_STEP):
                continue
            data = os.read(child.fd, 65536)
            if not data:
                return last, False
            pending += data
            *lines, pending = pending.split(b"\n")
            if len(pending) > MAX_LINE:
                child.kill()
                return {"error": {"kind": "crash", "message": "sent an oversized line"}}, False
            for line in lines:
                message = _parse(line)
                if message is None:
                    continue
                if "progress" in message:
                    if progress is not None:
                        done, total = message["progress"]
                        progress(done, total)
                else:
                    last = message


def _parse(line: bytes) -> dict[str, Any] | None:
    """A message of the child's, or None for anything that is not one (the child is not trusted)."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict) or len(message) != 1:
        return None
    if "progress" in message:
        value = message["progress"]
        ok = isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)
        return message if ok else None
    return message if ("done" in message or "error" in message) else None


def _run(done: dict[str, Any], output: str, frames: int, began: float, kind: str) -> ChunkRun:
    """The summary of a successful child render, from its report (type-checked) and the file."""
    try:
        regular = stat.S_ISREG(os.lstat(output).st_mode)
    except FileNotFoundError:
        regular = False
    if not regular:  # a symlink would have the worker upload whatever it points at
        raise ChunkCrashed("the chunk's render process reported success but wrote no segment")
    seconds = time.perf_counter() - began
    warnings = done.get("warnings", [])
    if not isinstance(warnings, list):
        warnings = []
    summary = RenderSummary(
        output=output,
        frames=frames,
        seconds=round(seconds, 3),
        fps=round(frames / seconds, 2) if seconds > 0 else 0.0,
        encoder=str(done.get("encoder", ""))[:100],
        hardware=done.get("hardware") is True,
        audio=None,
        bytes=os.path.getsize(output),
        warnings=[str(w)[:1000] for w in warnings[:100]],
        compositor=str(done.get("compositor", ""))[:200],
    )
    peak = done.get("peak_memory_bytes")
    rss = done.get("peak_rss_bytes")
    return ChunkRun(
        summary,
        kind,
        peak if type(peak) is int else 0,
        rss if type(rss) is int else 0,
    )


def _request(
    timeline: Timeline, output: str, start: int, end: int, threads: int | None
) -> dict[str, Any]:
    """What the child renders; hardware encoders are probed here, once per worker process."""
    from workers.encoder import HARDWARE, hardware_encoder_works

    export = timeline.export
    hardware: dict[str, bool] = {}
    if export.hardware_acceleration and not export.lossless:
        hardware = {name: hardware_encoder_works(name) for name in HARDWARE.get(export.codec, ())}
    return {
        "timeline": timeline,
        "output": output,
        "start": start,
        "end": end,
        "threads": threads,
        "hardware": hardware,
    }


def _media(timeline: Timeline, settings: Settings, start: int, end: int) -> list[tuple[str, str]]:
    """The media files the sandbox shows the child rendering frames [start, end), as (the file
    bound, the path it is seen at): the timeline's (of an image sequence the images those frames
    show), inside the allowed roots.

    Each is bound by where it really is, resolved here, once: a symlink in the project swapped
    for one to another file after this check still shows the child what was checked.
    """
    paths = {os.path.abspath(path) for path in files_for_frames(timeline, start, end)}
    resolved = sorted((os.path.realpath(p), p) for p in paths)
    if not settings.media_roots:
        return resolved  # the worker's own path checks decided what a job may name
    roots = [*settings.media_roots, os.path.expanduser(settings.cache_dir)]
    real = [os.path.realpath(r).rstrip("/") + "/" for r in roots]
    # By where a file really is: a symlink in a root that leads out of it is not shown.
    return [(r, p) for r, p in resolved if any(r.startswith(root) for root in real)]


_SETTINGS: list[Settings] = []


def _settings() -> Settings:
    """This worker's settings, read once per process."""
    if not _SETTINGS:
        _SETTINGS.append(Settings.from_env())
    return _SETTINGS[0]


def _detect_soon(**_: object) -> None:
    """As the worker program starts (Celery's celeryd_init, before worker_init): start the
    isolation's probe in a thread, while the worker computes its render fingerprint."""
    iso.detect_soon(_settings().sandbox)


def _detect(**_: object) -> None:
    """At worker start, before the pool forks: detect the isolation once for every process
    (or wait for the probe ``_detect_soon`` started: no thread is left running at the fork)."""
    iso.current(_settings().sandbox)


def _announce(**_: object) -> None:
    """Once the worker is up (its logging too): say which isolation chunk renders get, and
    where they composite."""
    iso.announce(_settings().sandbox)
    try:
        log.info("chunk renders composite on %s", arrays.planned().describe())
    except RenderError as exc:
        log.error("%s: chunks sent to this worker fail", exc)


celeryd_init.connect(_detect_soon, weak=False)
worker_init.connect(_detect, weak=False)
worker_ready.connect(_announce, weak=False)
