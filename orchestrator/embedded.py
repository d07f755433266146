"""A private Redis and local Celery workers, so ``cloudrender render`` needs no server (DESIGN 1).

    EmbeddedCluster(workers=N)      what the CLI enters when no --broker is given
    ├── EmbeddedRedis               redis-server on a free 127.0.0.1 port, a random password,
    │                               nothing persisted
    └── LocalWorkers                one prefork ``celery worker`` with N pool processes

Ready means: Redis answers PING and INFO names our pid (a server that took the port first cannot
answer for ours); the worker has sent Celery's ``worker_ready`` signal, which its entry point,
``python -m orchestrator.local_workers``, turns into a file.

Cleanup: each child runs in its own session, so the terminal's Ctrl-C reaches only the CLI, which
stops the workers first (none logs a lost broker) and Redis last, in ``try/finally``. Meanwhile a
further Ctrl-C or SIGTERM is held until cleanup ends and only skips the graceful waits. SIGTERM
and SIGHUP become SystemExit so that cleanup runs for them too; ``weakref.finalize`` covers
objects dropped or still running at exit; on Linux a parent-death signal stops the children even
when the CLI is killed outright.

POSIX only (process groups, signals); the prefork pool is POSIX-only anyway.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping, Sequence
from types import FrameType, TracebackType
from typing import Any, NoReturn, Self

from orchestrator.embedded_redis import EmbeddedRedis
from orchestrator.local_workers import DEFAULT_APP, DEFAULT_QUEUES, LocalWorkers, check_pool
from orchestrator.processes import in_main_thread as _in_main_thread
from orchestrator.processes import signals_deferred as _signals_deferred


class EmbeddedCluster:
    """A private Redis plus ``workers`` local Celery pool processes; a context manager."""

    def __init__(
        self,
        workers: int,
        *,
        app: str = DEFAULT_APP,
        queues: Sequence[str] = DEFAULT_QUEUES,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
        beat: bool = False,
        handle_signals: bool = True,
        die_with_parent: bool = True,
        meanwhile: Callable[[], object] | None = None,
    ) -> None:
        check_pool("workers", workers, queues)
        self.worker_count = workers
        self.app = app
        self.queues = tuple(queues)
        self.env = dict(env or {})
        self.ready_timeout = ready_timeout
        self.beat = beat
        self.handle_signals = handle_signals
        self.die_with_parent = die_with_parent
        # The caller's own work that needs no worker, run while the workers start (a Python
        # with the codec stack and Celery takes seconds): its failure stops the cluster.
        self.meanwhile = meanwhile
        self.redis = EmbeddedRedis(die_with_parent=die_with_parent)
        self.workers: LocalWorkers | None = None
        self._saved_handlers: dict[int, Any] = {}

    @property
    def broker_url(self) -> str:
        """The private Redis URL; the workers use it as broker and result backend."""
        return self.redis.url

    def start(self) -> Self:
        """Start Redis, then the workers; run ``meanwhile`` while they start; return once the
        workers consume their queues."""
        if self.workers is not None or self.redis.pid is not None:
            raise RuntimeError("EmbeddedCluster is already started")
        try:
            self._install_signal_handlers()
            self.redis.start()
            self.workers = LocalWorkers(
                self.redis.url,
                self.worker_count,
                self.queues,
                self.env,
                app=self.app,
                ready_timeout=self.ready_timeout,
                die_with_parent=self.die_with_parent,
                beat=self.beat,
            )
            self.workers.start()
            if self.meanwhile is not None:
                self.meanwhile()
            self.workers.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def lost(self) -> str | None:
        """What of this running cluster died on its own (the OOM killer, a crash), in one line,
        or None: a job on it would wait for ever without its workers or its Redis."""
        if self.redis.pid is None and self.workers is None:
            return None  # not started, or stopped on purpose
        redis_end = self.redis.exited()
        if redis_end is not None:
            return f"the private Redis of this render died ({redis_end})"
        workers_end = self.workers.exited() if self.workers is not None else None
        if workers_end is not None:
            return f"the local render workers died ({workers_end})"
        return None

    def stop(self, grace: float | None = None) -> None:
        """Stop the workers, then Redis, whatever fails or interrupts on the way; ``grace``:
        how long the workers may take to shut down warm before they are killed (default their
        ``stop_timeout``)."""
        try:
            with _signals_deferred():
                workers, self.workers = self.workers, None
                try:
                    if workers is not None:
                        workers.stop(grace)
                finally:
                    self.redis.stop()
        finally:
            # After the deferral: a SIGTERM held during cleanup still ends us as SystemExit.
            self._restore_signal_handlers()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _install_signal_handlers(self) -> None:
        # SIGTERM and SIGHUP (closed terminal) would end Python without running finally blocks,
        # orphaning the workers; turn them into SystemExit, but never override a handler the
        # application installed, and only where Python allows it (the main thread).
        if not self.handle_signals or not _in_main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) is signal.SIG_DFL:
                self._saved_handlers[signum] = signal.signal(signum, _exit_on_signal)

    def _restore_signal_handlers(self) -> None:
        saved, self._saved_handlers = self._saved_handlers, {}
        if not _in_main_thread():
            return
        for signum, handler in saved.items():
            if signal.getsignal(signum) is _exit_on_signal:
                signal.signal(signum, handler)


def _exit_on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)
