"""A warm render process per worker slot and job, that forks each chunk's render process.

Under bubblewrap every chunk used to start a fresh ``python -m workers.render_process``: an
interpreter, NumPy, PyAV and our modules imported again per chunk (about 0.55 CPU-s and 0.5 s of
wall on a 2-core machine), and a private copy of their pages. A zygote
(``workers.zygote_process``) is started once per job on a worker slot, under the same sandbox a
chunk gets, with every medium of that job bound read-only and a scratch folder of its own
writable. It imports once; each chunk is a fork of it, with the chunk's own limits set after the
fork, reporting on its own pipe exactly as before (``workers.sandbox`` reads it the same way).

What stays as it was: a chunk's resource limits (set in the forked child, its CPU time counted
from the fork), its sandbox (no network, read-only system, its job's media only), progress and
error reports, death with the worker (bwrap's --die-with-parent; the zygote's PID namespace ends
with it). What is shared: chunks of one job on one slot run in one sandbox one after another, so
a chunk sees the files its job's earlier chunks left in the zygote's scratch (each chunk's folder
is removed after it; processes a chunk left behind are killed before the next one starts).

A zygote is never reused across jobs: a chunk of another job (or the same job with other media)
closes it and starts its own. It exits by itself after ``IDLE_TIMEOUT`` s without a chunk, and
when its worker closes it or dies. It is launched as a chunk's task begins (``prestart``, from
Celery's task_prerun: ``workers.zygote_warmup``), or as its job's plan task begins on a
one-process worker that also renders, and imports while the task does its checks; the render
waits for what is left of its start (``for_job``).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_init

from common.names import TASK_PLAN_JOB
from common.scratch import make_scratch, sweep_scratch
from workers import isolation as iso
from workers.chunk_limits import ChunkLimits
from workers.zygote_child import ANSWER_TIMEOUT, ZygoteChild

log = logging.getLogger(__name__)

#: Seconds a zygote waits for its next chunk before it exits.
IDLE_TIMEOUT = 30.0
#: A zygote this close to its idle timeout is replaced rather than sent a chunk it may not take.
IDLE_MARGIN = 2.0
#: Seconds a zygote may take to start (bwrap, the interpreter, the imports) on a loaded node.
START_TIMEOUT = 60.0
#: A job with more media files than this (a long image sequence) gets no zygote: every file is a
#: bwrap argument, and a chunk's render process binds only the images of its own frames.
MAX_MEDIA = 2000
#: Scratch folders of zygotes (``common.scratch``): a killed worker's are removed by the next.
ZYGOTE_SCRATCH = "zygote"


class ZygoteGone(RuntimeError):
    """The zygote did not take the chunk (it exited, idle, or died): render it another way."""


class Zygote:
    """A running zygote: its bwrap process, the control socket, its scratch folder."""

    def __init__(
        self,
        key: tuple[Any, ...],
        popen: subprocess.Popen[bytes],
        sock: socket.socket,
        scratch: str,
    ) -> None:
        self.key = key
        self.popen = popen
        self.sock = sock
        self.scratch = scratch
        self.last_used = time.monotonic()
        self.exits: dict[str, int] = {}
        self.gone = False
        self.ready = False  # it said it has imported (``await_ready``)

    @classmethod
    def start(
        cls,
        key: tuple[Any, ...],
        bwrap: str,
        media: Sequence[tuple[str, str]],
        environ: Mapping[str, str],
    ) -> Zygote:
        """Start one under bwrap and wait until it has imported; ZygoteGone if it cannot."""
        return cls.launch(key, bwrap, media, environ).await_ready()

    @classmethod
    def launch(
        cls,
        key: tuple[Any, ...],
        bwrap: str,
        media: Sequence[tuple[str, str]],
        environ: Mapping[str, str],
    ) -> Zygote:
        """Start one under bwrap without waiting for its imports; ZygoteGone if bwrap does not
        start. Its "ready" waits in the socket for ``await_ready``."""
        sweep_scratch(ZYGOTE_SCRATCH)
        scratch = make_scratch(ZYGOTE_SCRATCH)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        program = [
            sys.executable,
            "-m",
            "workers.zygote_process",
            str(IDLE_TIMEOUT),
            str(theirs.fileno()),
        ]
        env = iso.child_env(environ, scratch)
        argv = iso.sandbox_command(bwrap, program=program, env=env, scratch=scratch, media=media)
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                cwd=scratch,
                start_new_session=True,
                pass_fds=(theirs.fileno(),),
            )
        except OSError as exc:
            ours.close()
            shutil.rmtree(scratch, ignore_errors=True)
            raise ZygoteGone(f"bwrap does not start: {exc}") from exc
        finally:
            theirs.close()
        return cls(key, popen, ours, scratch)

    def await_ready(self) -> Zygote:
        """Wait until it has imported (at most START_TIMEOUT s); ZygoteGone, and it is killed,
        if it does not get there."""
        if not self.ready:
            if self._receive(START_TIMEOUT).get("ready") is None:
                self.terminate()
                raise ZygoteGone("the zygote did not start")
            self.ready = True
            self.last_used = time.monotonic()  # idle from its readiness, as it counts
        return self

    def usable(self, key: tuple[Any, ...]) -> bool:
        """Whether this zygote may take a chunk of ``key`` now."""
        idle = time.monotonic() - self.last_used
        return (
            key == self.key
            and not self.gone
            and self.popen.poll() is None
            and idle < IDLE_TIMEOUT - IDLE_MARGIN
        )

    def render(
        self,
        request: dict[str, Any],
        limits: dict[str, Any],
        write: Callable[[dict[str, Any], str], str],
    ) -> tuple[ZygoteChild, str]:
        """Fork a render process for ``request`` (written by ``write(request, folder)``), in a
        new folder of the zygote's scratch; it and the folder (the caller removes it)."""
        folder = tempfile.mkdtemp(prefix="chunk-", dir=self.scratch)
        inside = {**request, "output": os.path.join(folder, os.path.basename(request["output"]))}
        try:
            return self.run(write(inside, folder), limits), folder
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def run(self, request: str, limits: dict[str, Any]) -> ZygoteChild:
        """Have the zygote fork a render process for the request file ``request``."""
        chunk = uuid.uuid4().hex
        read, write = os.pipe()
        try:
            message = json.dumps({"run": chunk, "request": request, "limits": limits})
            socket.send_fds(self.sock, [message.encode()], [write])
        except OSError as exc:
            os.close(read)
            self.gone = True
            raise ZygoteGone(f"the zygote is gone ({exc})") from exc
        finally:
            os.close(write)
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while chunk not in self.exits and not self.gone:
            answer = self._receive(max(0.0, deadline - time.monotonic()))
            if answer.get("started") == chunk:
                self.last_used = time.monotonic()
                return ZygoteChild(self, chunk, read)
            if not answer and time.monotonic() >= deadline:
                break
        os.close(read)
        self.gone = True
        raise ZygoteGone("the zygote did not take the chunk")

    def exit_of(self, chunk: str, timeout: float) -> int | None:
        """The chunk's exit status once the zygote reported it (waiting up to ``timeout``)."""
        deadline = time.monotonic() + timeout
        while chunk not in self.exits:
            if self.gone:
                # The zygote died, and its PID namespace with it: so did the chunk.
                return -9
            left = deadline - time.monotonic()
            if left < 0:
                return None
            self._receive(left)
        self.last_used = time.monotonic()
        return self.exits.pop(chunk)

    def kill(self, chunk: str) -> None:
        """Ask the zygote to kill a chunk's render process (the whole zygote if it cannot)."""
        try:
            self.sock.send(json.dumps({"kill": chunk}).encode())
        except OSError:
            self.terminate()

    def close(self) -> None:
        """Stop it: the zygote kills what still runs when its socket closes."""
        self.sock.close()
        self.gone = True
        try:
            self.popen.wait(ANSWER_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def terminate(self) -> None:
        """Kill it outright: bwrap's death ends its PID namespace, every chunk in it too."""
        self.gone = True
        self.popen.kill()
        self.popen.wait()
        self.sock.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _receive(self, timeout: float) -> dict[str, Any]:
        """One message of the zygote's ({} after ``timeout``), exit reports kept in ``exits``."""
        if self.gone:
            return {}
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return {}
        except OSError:
            data = b""
        if not data:
            self.gone = True
            return {}
        try:
            message = json.loads(data)
        except ValueError:
            return {}
        if not isinstance(message, dict):
            return {}
        status = message.get("status")
        if "exit" in message and type(status) is int:
            self.exits[str(message["exit"])] = status
        return message


_current: list[Zygote] = []  # this worker process's zygote: at most one, of one job


def _key(
    job: str, bwrap: str, media: Sequence[tuple[str, str]], environ: Mapping[str, str]
) -> tuple[Any, ...]:
    """What a zygote serves: its job, sandbox, media and the environment its chunks get."""
    env = iso.child_env(environ, "")
    return (job, bwrap, tuple(sorted(media)), tuple(sorted(env.items())))


def prestart(
    job: str, bwrap: str, media: Sequence[tuple[str, str]], environ: Mapping[str, str]
) -> bool:
    """Launch the zygote for chunks of ``job`` now without waiting for its imports, unless this
    process has one for them: the chunk's checks before its render then overlap the zygote's
    start, and ``for_job`` waits for what is left of it. Whether one was launched."""
    if len(media) > MAX_MEDIA:
        return False
    key = _key(job, bwrap, media, environ)
    if _current and _current[0].usable(key):
        return False
    drop()  # another job's, or too idle: for_job would replace it anyway
    try:
        _current.append(Zygote.launch(key, bwrap, media, environ))
    except ZygoteGone as exc:
        log.warning("no warm render process for job %s (%s): chunks start their own", job, exc)
        return False
    return True


def for_job(
    job: str, bwrap: str, media: Sequence[tuple[str, str]], environ: Mapping[str, str]
) -> Zygote | None:
    """The zygote for chunks of ``job`` with these media (started if need be, or awaited if
    ``prestart`` launched it), or None when there can be none (too many media files, or it
    does not start: logged)."""
    if len(media) > MAX_MEDIA:
        return None
    key = _key(job, bwrap, media, environ)
    if _current and not _current[0].usable(key):
        drop()
    try:
        if not _current:
            _current.append(Zygote.launch(key, bwrap, media, environ))
        return _current[0].await_ready()
    except ZygoteGone as exc:
        _current.clear()  # killed and cleaned up by await_ready
        log.warning("no warm render process for job %s (%s): chunks start their own", job, exc)
        return None


def fork_chunk(
    job: str,
    bwrap: str,
    media: Sequence[tuple[str, str]],
    request: dict[str, Any],
    limits: ChunkLimits,
    write: Callable[[dict[str, Any], str], str],
) -> tuple[ZygoteChild, str] | None:
    """The chunk's render process forked by its job's zygote, and the folder it renders in;
    None where no zygote takes it (the caller starts a fresh process)."""
    for _ in range(2):  # a zygote that went idle just now is replaced once
        zygote = for_job(job, bwrap, media, os.environ)
        if zygote is None:
            return None
        try:
            return zygote.render(request, limits.as_json(), write)
        except ZygoteGone:
            drop()
    return None


def drop() -> None:
    """Close this process's zygote, if any (another job's chunk, or the worker's exit)."""
    while _current:
        _current.pop().close()


def _on_task_prerun(**signal: Any) -> None:
    """Celery's task_prerun, in the pool process: a chunk's task launches its job's zygote."""
    from workers.zygote_warmup import warm_for_task  # the job store: only in a worker

    warm_for_task(signal.get("task"), signal.get("args"), signal.get("kwargs"))


def _on_task_postrun(**signal: Any) -> None:
    """Celery's task_postrun: a plan task that planned nothing (cancelled, failed, planned by
    another copy) closes the zygote it launched."""
    from workers.zygote_warmup import plan_rendered_nothing

    args, kwargs = signal.get("args") or (), signal.get("kwargs") or {}
    job = args[0] if args else kwargs.get("job_id")
    if getattr(signal.get("task"), "name", None) == TASK_PLAN_JOB and signal.get("retval") == 0:
        if isinstance(job, str):
            plan_rendered_nothing(job)


def _on_worker_init(sender: Any = None, **_: Any) -> None:
    """Celery's worker_init, before the pool forks: whether plan tasks warm zygotes here."""
    from workers.zygote_warmup import note_worker

    note_worker(sender)


atexit.register(drop)
task_prerun.connect(_on_task_prerun, weak=False)
task_postrun.connect(_on_task_postrun, weak=False)
worker_init.connect(_on_worker_init, weak=False)
