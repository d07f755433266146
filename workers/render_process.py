"""The render process of one chunk, started by ``workers.sandbox`` (read it first).

Under bubblewrap it is a program, ``python -m workers.render_process REQUEST LIMITS``; without,
a fork of the worker process (``forked``), which costs no interpreter start. Either way it sets
its resource limits first, renders the chunk into its scratch directory, and reports in JSON
lines: ``{"progress": [done, total]}`` per frame, then ``{"done": {...}}`` or ``{"error": {...}}``.

It dies with its worker: a fork by its parent-death signal, a program by bwrap's
--die-with-parent. Should either miss (bwrap 0.8 misses a death during its own setup), the next
progress report finds nobody reading the pipe and the render stops there.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import pickle
import resource
import signal
import sys
import traceback
from collections.abc import Callable
from typing import IO, Any

from common.errors import DecodeError, MediaError, RenderError, summarize

#: prctl(PR_SET_PDEATHSIG): a signal the kernel sends us when our parent dies.
_PR_SET_PDEATHSIG = 1
#: prctl(PR_SET_DUMPABLE, 0) / PR_GET_DUMPABLE: no core dump, and no other process of our user
#: may ptrace us or read our memory (/proc/PID/mem, environ); root and our worker still may.
_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3
_LIMITS = {"AS": resource.RLIMIT_AS, "DATA": resource.RLIMIT_DATA}
#: mallopt(M_ARENA_MAX, n): at most n malloc arenas besides the main one.
_M_ARENA_MAX = -8
_ARENAS = 4
#: Seconds between SIGXCPU (the soft CPU limit) and SIGKILL (the hard one).
_CPU_GRACE = 5
#: Exit status of a render process that reported its own failure.
REPORTED = 3
#: Which limit stopped a render (the "kind" of an error report).
MEMORY = "memory"
CPU = "cpu"
FILE_SIZE = "file size"


def main(argv: list[str]) -> int:
    """Run the chunk the request file ``argv[0]`` names, under the limits ``argv[1]``."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # fd 1 is for reports only: a library's print goes to stderr instead
    apply_limits(json.loads(argv[1]))
    return serve(argv[0], channel)


def forked(request: dict[str, Any] | str, limits: dict[str, Any], fd: int, parent: int) -> int:
    """The same in a child forked from the worker (or from a zygote, ``workers.zygote``: the
    request file's path), reporting on the pipe ``fd``."""
    channel = os.fdopen(fd, "w", buffering=1)
    apply_limits(limits)
    _die_with(parent)
    return serve(request, channel)


def serve(request: dict[str, Any] | str, channel: IO[str]) -> int:
    """Render the request (or the request file), report on ``channel``; the exit status."""
    try:
        if isinstance(request, str):
            with open(request, "rb") as fh:
                request = pickle.load(fh)  # written by our own parent, the worker
        assert isinstance(request, dict)
        done = _render(request, channel)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one report
        try:
            _send(channel, {"error": _describe(exc)})
        except OSError:
            pass  # nobody reads any more: the worker is gone
        return REPORTED
    _send(channel, {"done": {**done, **_peaks()}})
    return 0


def apply_limits(limits: dict[str, Any]) -> None:
    """Limit this process's memory, CPU time and file sizes; no core dumps, not dumpable."""
    not_dumpable()
    memory = int(limits["memory_bytes"])
    which = _LIMITS[str(limits.get("memory_rlimit", "AS"))]
    _limit(which, memory, memory)
    cpu = limits.get("cpu_seconds")
    if cpu:
        _limit(resource.RLIMIT_CPU, int(cpu), int(cpu) + _CPU_GRACE)
    size = int(limits["file_bytes"])
    _limit(resource.RLIMIT_FSIZE, size, size)
    _limit(resource.RLIMIT_CORE, 0, 0)
    _cap_arenas()


def not_dumpable() -> None:
    """Make this process non-dumpable: a chunk renders a job's media, which a process of the
    same user elsewhere on the node (another job's render escaping its sandbox) must not read
    out of its memory. Kept across fork (the zygote's children), reset by exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def dumpable() -> bool:
    """Whether this process is dumpable (prctl PR_GET_DUMPABLE)."""
    return bool(ctypes.CDLL(None).prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))


def held_memory(rlimit: str = "AS") -> int:
    """Bytes of address space (``AS``) or data segment (``DATA``) this process holds now."""
    field = "VmData:" if rlimit == "DATA" else "VmSize:"
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _limit(which: int, soft: int, hard: int) -> None:
    """Lower a limit to (soft, hard), never above the hard limit this process inherited (a
    worker started under ``ulimit -f``): an unprivileged process may not raise it."""
    _, inherited = resource.getrlimit(which)
    if inherited != resource.RLIM_INFINITY:
        soft, hard = min(soft, inherited), min(hard, inherited)
    resource.setrlimit(which, (soft, hard))


def _cap_arenas() -> None:
    """Few malloc arenas: glibc reserves 64 MB of address space for each new thread's arena
    (up to eight per core), so a many-core node's decoder and encoder threads would spend the
    address-space limit on reservations they never touch."""
    libc = ctypes.CDLL(None)
    mallopt = getattr(libc, "mallopt", None)  # glibc only
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, _ARENAS)


def _render(request: dict[str, Any], channel: IO[str]) -> dict[str, Any]:
    """Render the request's frame range; what the parent needs of the summary."""
    import workers.encoder
    from workers import read_watchdog
    from workers.probe_ranges import span_cut_problems
    from workers.read_watchdog import watch_reads
    from workers.render import render_to_file

    known: dict[str, bool] = request["hardware"]
    # The worker probed the hardware encoders once; a fresh process must not probe per chunk.
    workers.encoder.hardware_encoder_works = lambda name: known.get(name, False)  # type: ignore[assignment]

    def progress(done: int, total: int) -> None:
        _send(channel, {"progress": [done, total]})

    # Uploads accept a file cut short (they know no clips): a chunk whose clips play past the
    # cut is refused naming them, where a Matroska one rendered its last frame frozen.
    cut = span_cut_problems(request["timeline"], (request["start"], request["end"]))
    if cut:
        raise DecodeError(summarize(cut))
    with watch_reads(_stuck(channel), seconds=read_watchdog.CHUNK_READ_SECONDS):
        summary = render_to_file(
            request["timeline"],
            request["output"],
            start=request["start"],
            end=request["end"],
            audio=False,
            progress=progress,
            file_format=workers.encoder.segment_format(request["timeline"].export),
            threads=request["threads"],
        )
    return {
        "encoder": summary.encoder,
        "hardware": summary.hardware,
        "warnings": summary.warnings,
        "compositor": summary.compositor,
    }


def _stuck(channel: IO[str]) -> Callable[[str, float], None]:
    """What a read of media that never returns does (``workers.read_watchdog``): report it,
    naming the file, and end the process; the thread blocked in the kernel cannot be stopped."""

    from workers.read_watchdog import stuck_read

    def stuck(path: str, seconds: float) -> None:
        error = MediaError(stuck_read(path, seconds))
        error.transient = True  # another node's mount may answer: retried as a node's trouble
        try:
            _send(channel, {"error": _describe(error)})
        finally:
            os._exit(REPORTED)

    return stuck


def _describe(exc: BaseException) -> dict[str, Any]:
    """The report of a failure: a limit, one of our RenderErrors, or a crash."""
    kind = classify(exc)
    if kind is not None:
        return {"kind": kind, "message": str(exc)[:2000]}
    if isinstance(exc, RenderError):
        return {
            "kind": "render",
            "class": type(exc).__name__,
            "message": str(exc),
            "transient": exc.transient,
        }
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"kind": "crash", "message": text[:2000]}


def classify(exc: BaseException) -> str | None:
    """MEMORY, FILE_SIZE or None: whether an exception (or one it wraps) means a limit was hit."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "errno", None)
        text = str(current)
        if isinstance(current, MemoryError) or code == errno.ENOMEM:
            return MEMORY
        if "Cannot allocate memory" in text or "can't start new thread" in text:
            return MEMORY
        if code == errno.EFBIG or "File too large" in text:
            return FILE_SIZE
        current = current.__cause__ or current.__context__
    return None


def _peaks() -> dict[str, int]:
    """This process's peak address space and resident memory, in bytes."""
    peaks = {"peak_memory_bytes": 0, "peak_rss_bytes": 0}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmPeak:"):
                    peaks["peak_memory_bytes"] = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    peaks["peak_rss_bytes"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return peaks


def _send(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")


def _die_with(parent: int) -> None:
    """Die when the worker does (bwrap's --die-with-parent does this for the program)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
