"""Local Celery worker processes: one prefork ``celery worker`` with N pool processes in its own
process group, started through this module's entry point (``python -m orchestrator.local_workers``)
so that the worker's ``worker_ready`` signal turns into a file the parent can wait for, and so
that beat, when asked for, ticks in a thread of the worker's main process
(``orchestrator.beat_thread``) instead of a process of its own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from common.errors import RenderError
from common.names import QUEUES
from common.scratch import make_scratch, sweep_scratch
from common.settings import BROKER_URL_ENV, RESULT_BACKEND_ENV
from common.urls import redact_url
from orchestrator.processes import describe_exit as _describe_exit
from orchestrator.processes import group_members as _group_members
from orchestrator.processes import signals_deferred as _signals_deferred
from orchestrator.processes import start_process as _popen
from orchestrator.processes import stop_group as _stop_group
from orchestrator.processes import tail as _tail
from orchestrator.worker_start import run_worker, worker_options

#: The Celery app the local workers run unless told otherwise.
DEFAULT_APP = "orchestrator.celery_app:app"
#: Every queue of ours: a local render has no dedicated nodes, so one worker serves them all.
DEFAULT_QUEUES: tuple[str, ...] = QUEUES


#: How often ``wait_ready`` looks for the ready file: a look is a stat and a waitpid, and the
#: render waited out half of the 0.05 s step on average after its workers were ready.
READY_POLL_SECONDS = 0.005

#: Cores one render slot keeps busy: a chunk's render process composites in one thread while
#: its encoder works in another (workers.pipeline), so a slot per core oversubscribes the node.
#: On 2 cores, 1 slot x 2 encoder threads against 2 x 1 (docs/benchmarks.md, "Render slots on a
#: local node"): peak memory 593-645 MiB against 916-959 (one 1080p x264 and render process
#: fewer), the same CPU.
CORES_PER_SLOT = 2
#: Memory one render slot may need at its peak: a 1080p chunk render holds about 450 MiB
#: (x264's frames and lookahead 150-190, the decoder, the compositor's frames); the rest is
#: headroom for larger frames and the cluster's own processes.
SLOT_MEMORY_MIB = 1024


def local_slots(cores: int, memory_mib: int | None = None) -> int:
    """Render slots for this machine's own cluster (``render`` without ``--workers``): one per
    CORES_PER_SLOT cores, no more than SLOT_MEMORY_MIB each of ``memory_mib`` allows (None:
    unknown), and at least one."""
    slots = max(cores, 1) // CORES_PER_SLOT
    if memory_mib is not None:
        slots = min(slots, memory_mib // SLOT_MEMORY_MIB)
    return max(1, slots)


def threads_per_slot(cores: int, slots: int) -> int:
    """Encoder threads for each of a node's render slots: its cores shared out, at least one.

    Chunks are the parallelism: with x264 left to pick (1.5 threads per core in every slot), a
    16-core node running 16 slots would schedule 384 encoder threads on 16 cores; at the local
    cluster's one slot per two cores (16 cores: 8 slots x 2) the slots' x264 threads add up to
    the cores, and each slot's compositor thread overlaps its encoder's. Not x264's own choice
    even for one slot: on 2 cores, 1 slot, the 1080p bench project (docs/benchmarks.md, "x264
    threads for one slot"), 3 frame threads (FFmpeg's auto there, decoders likewise) took
    13-25 % more CPU-s and 15-43 MiB more peak Pss than 2 in each of 4 alternating pairs, and
    no less wall time (0.92-1.69x) on the shared machine.
    """
    return max(1, max(cores, 1) // max(slots, 1))


def machine_memory_mib() -> int | None:
    """This machine's physical memory in MiB, None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1 << 20)
    except (OSError, ValueError):
        return None


def check_pool(name: str, count: int, queues: Sequence[str]) -> None:
    """Refuse a pool of fewer than one process, or one that consumes no queue."""
    if count < 1:
        raise ValueError(f"{name} must be at least 1, not {count}")
    if not queues or isinstance(queues, str):
        raise ValueError("queues must be a non-empty sequence of queue names")


class LocalWorkers:
    """One local prefork Celery worker with ``concurrency`` pool processes, in its own group."""

    def __init__(
        self,
        broker_url: str,
        concurrency: int,
        queues: Sequence[str] = DEFAULT_QUEUES,
        env: Mapping[str, str] | None = None,
        *,
        app: str = DEFAULT_APP,
        ready_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        loglevel: str = "WARNING",
        beat: bool = False,
        die_with_parent: bool = True,
    ) -> None:
        check_pool("concurrency", concurrency, queues)
        self.broker_url = broker_url
        self.concurrency = concurrency
        self.queues = tuple(queues)
        self.app = app
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.loglevel = loglevel
        # Also run Celery beat in this worker (the orchestrator's periodic tick), in a thread of
        # its main process: ``--beat`` would fork a third Python (about 50 MiB of Pss).
        self.beat = beat
        self.die_with_parent = die_with_parent
        # Expanded here rather than by Celery's %h so that callers know the exact node name (for
        # control commands, or to find its processes); the uuid keeps concurrent clusters apart.
        self.hostname = f"local-{uuid.uuid4().hex}@{socket.gethostname()}"
        # Both URLs are set so that a result backend configured in the user's shell cannot send
        # our results elsewhere; an explicit ``env`` still wins.
        self._env = {
            **os.environ,
            BROKER_URL_ENV: broker_url,
            RESULT_BACKEND_ENV: broker_url,
            **(env or {}),
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def pid(self) -> int | None:
        """The worker's main process id (also its process group id) while running, else None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """The worker's combined stdout/stderr log while running, else None."""
        return self._dir / "worker.log" if self._dir is not None else None

    def command(self) -> list[str]:
        """Return the ``celery worker`` command line this object runs (via ``_celery_main``,
        which adds beat's thread when ``beat`` is set)."""
        return [
            "celery",
            "-A", self.app,
            "worker",
            "--pool", "prefork",
            "--concurrency", str(self.concurrency),
            "--queues", ",".join(self.queues),
            "--hostname", self.hostname,
            "--without-gossip",
            "--without-mingle",
            "--loglevel", self.loglevel,
        ]  # fmt: skip

    def pids(self) -> list[int]:
        """Return the live processes of the worker's group: the main process and its pool."""
        return _group_members(self._proc.pid) if self._proc is not None else []

    def exited(self) -> str | None:
        """How the worker ended ("killed by SIGKILL") if it was started and is gone, else
        None (running, or never started)."""
        status = self._proc.poll() if self._proc is not None else None
        return None if status is None else _describe_exit(status)

    def start(self) -> Self:
        """Launch the worker process without waiting for it; see ``wait_ready``."""
        if self._proc is not None or self._dir is not None:
            raise RuntimeError("LocalWorkers is already started")
        try:
            sweep_scratch("workers")  # what killed clients left
            self._dir = Path(make_scratch("workers"))
            ready_file = str(self._dir / "ready")
            beat = [BEAT_THREAD] if self.beat else []
            launch = [sys.executable, "-m", __spec__.name, ready_file, *beat, *self.command()[1:]]
            # Deferred so that a Ctrl-C cannot land between fork and our recording the child.
            with _signals_deferred():
                # Orphaned (the client killed outright), Celery shuts down cold on SIGQUIT:
                # a warm SIGTERM would finish the chunk it renders for nobody first.
                self._proc = _popen(
                    launch,
                    self._dir / "worker.log",
                    # Their temp files in the folder removed after them: Celery's pool leaves
                    # its pymp- folder behind in the system's /tmp at every stop.
                    {**self._env, "TMPDIR": str(self._dir)},
                    self.die_with_parent,
                    death_signal=signal.SIGQUIT,
                )
                self._finalizer = weakref.finalize(
                    self, _stop_group, self._proc, self._dir, self.stop_timeout
                )
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the worker consumes its queues; raise RenderError with its log if not."""
        if self._proc is None or self._dir is None:
            raise RuntimeError("LocalWorkers is not started")
        limit = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        ready_file = self._dir / "ready"
        while not ready_file.exists():
            status = self._proc.poll()
            if status is not None:
                raise RenderError(
                    f"celery worker for {self.app} exited with status {status} while starting:\n"
                    f"{_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise RenderError(
                    f"celery worker for {self.app} was not ready within {limit:g} s (is the "
                    f"broker {redact_url(self.broker_url)} reachable?):\n{_tail(self.log_path)}"
                )
            time.sleep(READY_POLL_SECONDS)

    def stop(self, grace: float | None = None) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``grace`` seconds (default
        ``stop_timeout``); reap it."""
        finalizer, self._finalizer = self._finalizer, None
        if finalizer is not None:
            finalizer.detach()
        proc, self._proc = self._proc, None
        directory, self._dir = self._dir, None
        _stop_group(proc, directory, self.stop_timeout if grace is None else grace)

    def __enter__(self) -> Self:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


#: ``_celery_main``'s flag (after the ready file) for beat in a thread of the worker.
BEAT_THREAD = "--beat-thread"
#: The longest a worker's "ready" waits for its first heartbeat (``_mark_ready``): a beat that
#: cannot be written (Redis away) is the render's to notice, with its own patience.
FIRST_BEAT_WAIT_S = 5.0
#: How long an orphaned worker group gets for Celery's cold shutdown before it is killed.
ORPHAN_GRACE_S = 5.0


def _end_when_orphaned(parent: int, grace: float = ORPHAN_GRACE_S, poll: float = 0.5) -> None:
    """Watch (in a daemon thread) for the parent's death and then kill this process group.

    The parent-death SIGQUIT asks Celery for a cold shutdown, but a worker whose broker died
    with the client retries the connection for minutes without looking at that request; its
    pool would stay behind, holding memory and the scratch folder, long after the render.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        time.sleep(grace)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _mark_ready(ready_file: Path, wait: float = FIRST_BEAT_WAIT_S) -> None:
    """Create the ready file once the worker's first heartbeat is written (at once when its app
    sends none): the render waiting for it then finds the orchestrator's beat at its first
    look, instead of polling for it after "ready" (0.1-0.2 s of every private render)."""
    beats = sys.modules.get("orchestrator.node_signals")
    if beats is None or not beats.BEATS_HERE.is_set():
        ready_file.touch()
        return

    def touch() -> None:
        beats.FIRST_BEAT.wait(wait)
        ready_file.touch()

    threading.Thread(target=touch, name="ready-file", daemon=True).start()


def _probe_sandbox_soon() -> None:
    """Start the chunks' sandbox probe (bwrap and a Python importing the render process in it)
    in a thread now, before the app's imports, rather than at Celery's celeryd_init after them:
    ``worker_init``, which waits for it before the pool forks, found it still running (0.15-0.45
    s of wall against 0.06-0.1 of render fingerprint hashing there, on a 2-core machine)."""
    from common.settings import Settings
    from workers import isolation

    isolation.detect_soon(Settings.from_env().sandbox)


def _celery_main(argv: list[str]) -> None:
    """Run ``celery argv[1:]``, creating the file ``argv[0]`` once the worker is ready (with
    ``BEAT_THREAD`` after it: beat in a thread of this process, from then to the shutdown)."""
    # The worker's own readiness signal, sent when its consumer has connected, declared its
    # queues and enters its event loop. A file says "ready" without the parent speaking the
    # broker protocol with the app's settings (key separator and prefix, serializer, signing),
    # which a ping from here would have to copy.
    from celery.signals import worker_ready, worker_shutdown

    ready_file = Path(argv[0])
    with_beat = argv[1:2] == [BEAT_THREAD]
    beats: list[Any] = []

    def announce(sender: Any = None, **_: object) -> None:
        if with_beat and sender is not None:
            # Once the pool's processes are forked: none of them inherits a ticking thread.
            from orchestrator.beat_thread import BeatThread

            beats.append(BeatThread(sender.app))
            beats[-1].start()
        _mark_ready(ready_file)

    def end_beat(**_: object) -> None:
        for beat in beats:
            beat.stop()

    worker_ready.connect(announce, weak=False)
    worker_shutdown.connect(end_beat, weak=False)
    if with_beat:
        argv = [argv[0], *argv[2:]]
    if os.getpgrp() == os.getpid():  # the leader of its own group, as LocalWorkers starts it
        _end_when_orphaned(os.getppid())
    _probe_sandbox_soon()
    direct = worker_options(argv[1:])
    if direct is not None:
        sys.exit(run_worker(*direct))
    from celery.__main__ import main

    sys.argv = ["celery", *argv[1:]]
    main()


if __name__ == "__main__":
    _celery_main(sys.argv[1:])
