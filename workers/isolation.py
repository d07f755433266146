"""Which isolation a chunk's render process gets on this node, and the bubblewrap command line.

Every chunk renders in a child process with resource limits (``workers.sandbox``). Where
bubblewrap (Debian ``bubblewrap``) is installed and the machine lets it create namespaces, the
child also runs inside it: no network, no other processes, a fresh /tmp, the system and the
Python install read-only, the chunk's media files read-only one by one, and only the chunk's
scratch directory writable. Container runtimes often forbid the namespaces (Docker's default
seccomp profile does), so "auto" probes bwrap once and falls back to resource limits alone;
"bwrap" refuses to render without it; "off" never uses it. The worker logs once which it has.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

BWRAP = "bwrap"
RLIMITS = "rlimits"
#: System directories the child reads (libraries, Python's own dependencies); /etc only in part.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/fonts",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
)
#: GPU device nodes an encoder may open (NVENC, VAAPI/QSV), bound only where they exist.
DEVICE_GLOBS = ("/dev/nvidia*", "/dev/dri")
#: Variables of this process's environment a render process may see: never credentials.
ENV_ALLOWED = (
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_DRIVER_CAPABILITIES",
    "CLOUDRENDER_KERNELS",  # C kernels or NumPy: the render process must use the worker's
    "CLOUDRENDER_COMPOSITOR",  # GPU or CPU (workers.arrays): the worker's, as its fingerprint says
    # Which CPU kernels BLAS and NumPy pick: another choice sums in another order, and a chunk
    # would differ from a direct render of the same frames in the last bit (a blur's pixel).
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "NPY_DISABLE_CPU_FEATURES",
    "NPY_ENABLE_CPU_FEATURES",
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
)
PROBE_TIMEOUT = 20.0


class SandboxUnavailable(RuntimeError):
    """Bubblewrap is required (CLOUDRENDER_SANDBOX=bwrap) but cannot run here: a node problem."""


@dataclass(frozen=True)
class Isolation:
    """What chunk renders get on this node."""

    kind: str  # BWRAP or RLIMITS
    bwrap: str | None  # the bwrap binary when kind is BWRAP
    reason: str  # one line for the log: why this kind
    error: str | None = None  # set when bwrap is required and unusable: every chunk refuses

    def describe(self) -> str:
        """The line the worker logs once."""
        if self.kind == BWRAP:
            return f"chunk renders run under bubblewrap ({self.reason}) with resource limits"
        return f"chunk renders run with resource limits only, no sandbox: {self.reason}"


Probe = Callable[[list[str]], str | None]


def detect(
    mode: str, *, which: Callable[[str], str | None] = shutil.which, probe: Probe | None = None
) -> Isolation:
    """The isolation ``mode`` ("auto", "bwrap", "off") gives on this machine (runs bwrap once)."""
    if mode == "off":
        return Isolation(RLIMITS, None, "the sandbox is off (CLOUDRENDER_SANDBOX=off)")
    path = which("bwrap")
    if path is None:
        problem: str | None = "bubblewrap (bwrap) is not installed"
    else:
        problem = (probe or run_probe)(probe_command(path))
    if problem is None and path is not None:
        return Isolation(BWRAP, path, path)
    problem = problem or "bubblewrap cannot run here"
    if mode == "bwrap":
        error = f"CLOUDRENDER_SANDBOX=bwrap, but {problem}"
        return Isolation(RLIMITS, None, problem, error=error)
    return Isolation(RLIMITS, None, problem)


def probe_command(bwrap: str) -> list[str]:
    """Python importing the render process's module inside the same sandbox a chunk gets,
    minus media and scratch."""
    program = [sys.executable, "-c", "import workers.render_process"]
    return sandbox_command(bwrap, program=program, env=child_env({}, "/tmp"))


def run_probe(command: list[str]) -> str | None:
    """None when ``command`` (a sandboxed no-op) succeeds, else why it did not."""
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap does not run ({exc})"
    if done.returncode == 0:
        return None
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    why = lines[-1] if lines else f"exit status {done.returncode}"
    return f"bwrap cannot create its sandbox here ({why})"


def sandbox_command(
    bwrap: str,
    *,
    program: list[str],
    env: Mapping[str, str],
    scratch: str | None = None,
    media: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """The bwrap command line that runs ``program`` isolated: see the module docstring."""
    args = [
        bwrap,
        "--unshare-all",  # user, pid, network, IPC, UTS and cgroup namespaces
        "--die-with-parent",
        "--new-session",  # no ioctl on the worker's terminal
        "--cap-drop",
        "ALL",
        "--clearenv",
    ]
    for name, value in env.items():
        args += ["--setenv", name, value]
    # The private /tmp first: binds under it come after, so a worker installed under /tmp (a
    # checkout there, a virtualenv in it) still finds its Python inside.
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    bound: list[str] = []
    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
            bound.append(directory)
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    for path in _python_paths():
        if not _inside(path, bound):
            args += ["--ro-bind", path, path]
            bound.append(path)
    for pattern in DEVICE_GLOBS:
        for device in sorted(glob.glob(pattern)):
            args += ["--dev-bind-try", device, device]
    for source, path in sorted(set(media), key=lambda pair: pair[1]):
        # One file at a time, and only those that exist: a missing one stays missing inside,
        # so the render reports it by the clip's name as it would outside. The file bound is
        # the one the worker checked (``source``, symlinks resolved), seen at the timeline's
        # path: bwrap resolving a symlink again could find it pointed elsewhere since.
        args += ["--ro-bind-try", source, path]
    if scratch is not None:
        args += ["--bind", scratch, scratch, "--chdir", scratch]
    # The sandbox's own root (where bwrap made the mount points) becomes read-only too: what
    # the process can write is its scratch directory and its private /tmp, nothing else.
    args += ["--remount-ro", "/"]
    return [*args, "--", *program]


def child_env(environ: Mapping[str, str], scratch: str) -> dict[str, str]:
    """The environment of a render process: the allowed variables, home and temp in scratch."""
    env = {k: environ[k] for k in ENV_ALLOWED if k in environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    # Our packages, wherever this worker found them (an install, or a checkout it runs from).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (project_root(), env.get("PYTHONPATH")) if p)
    env.update(HOME=scratch, TMPDIR=scratch, PYTHONDONTWRITEBYTECODE="1")
    # Rendering pins BLAS to one thread anyway (workers.blas): saying so before NumPy loads
    # spares the process a thread pool, and its stacks and buffers in the address space.
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _python_paths() -> list[str]:
    """Where this Python, its packages and ours live: bound read-only into the sandbox.

    Only those: a worker started with ``python -m`` has its working directory on ``sys.path``
    (a user's home, say), which the sandbox must not show.
    """
    ours = project_root()
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    packages = [
        p
        for p in sys.path
        if p
        and (
            os.path.basename(p.rstrip("/")) in ("site-packages", "dist-packages")
            or _inside(os.path.abspath(p), prefixes)
        )
    ]
    candidates = [
        *prefixes,
        os.path.dirname(os.path.realpath(sys.executable)),
        os.path.dirname(os.path.abspath(sys.executable)),
        ours,
        *packages,
    ]
    paths: list[str] = []
    for path in candidates:
        path = os.path.abspath(path)
        if os.path.exists(path) and path != "/" and path not in paths:
            paths.append(path)
    # Parents first, so that a child path already covered is skipped.
    return sorted(paths, key=len)


def project_root() -> str:
    """The directory holding our packages (``workers``, ``common``, ...)."""
    import workers

    return os.path.dirname(os.path.dirname(os.path.abspath(workers.__file__)))


def _inside(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


_detected: dict[str, Isolation] = {}
#: Detections under way in a thread (``detect_soon``), joined by the next ``current``.
_pending: dict[str, threading.Thread] = {}
_lock = threading.Lock()


def detect_soon(mode: str) -> None:
    """Start detecting ``mode``'s isolation in a thread: the probe (bwrap and a Python in it,
    ~0.1 s of wall, little CPU) then overlaps what the worker does next at its start (the
    render fingerprint's hashing) instead of following it. ``current`` waits for it."""
    with _lock:
        if mode in _detected or mode in _pending:
            return

        def run() -> None:
            found = detect(mode)
            with _lock:
                _detected.setdefault(mode, found)

        thread = threading.Thread(target=run, name="sandbox-probe", daemon=True)
        _pending[mode] = thread
        thread.start()


def current(mode: str) -> Isolation:
    """This process's isolation in ``mode``, detected on first use (forked pool processes
    inherit the answer of the worker's main process, which waits for a ``detect_soon``)."""
    with _lock:
        thread = _pending.pop(mode, None)
    if thread is not None:
        thread.join()  # its failure leaves no answer: detected again below
    with _lock:
        if mode not in _detected:
            _detected[mode] = detect(mode)
        return _detected[mode]


def announce(mode: str) -> Isolation:
    """Log this process's isolation (detecting it if need be): once, when the worker is up."""
    isolation = current(mode)
    if isolation.error is not None:
        log.error("%s: chunks sent to this worker are handed to others", isolation.error)
    elif isolation.kind == BWRAP:
        log.info(isolation.describe())
    else:
        log.warning(isolation.describe())
    return isolation


def forget() -> None:
    """Drop the cached detection (tests that change the machine's answer)."""
    with _lock:
        pending = list(_pending.values())
        _pending.clear()
    for thread in pending:
        thread.join()
    with _lock:
        _detected.clear()
