"""The ``local`` engine: a pool's nodes are ``cloudrender worker`` processes on this machine.

Each node is one detached worker process (its own session and process group, so it outlives the
orchestrator task that started it: the autoscaler runs inside a Celery pool process) with
``CLOUDRENDER_NODE_POOL`` and ``CLOUDRENDER_INSTANCE_ID`` in its environment, which its
heartbeat reports, plus the pool's ``env.NAME = "value"`` options (its worker settings). The
broker URL reaches it through the environment, never the command line (it may carry a password,
and command lines are public on this machine).

State lives in files, so that the engine object the autoscaler builds on every tick, or a new
orchestrator process, finds the nodes it started: under ``<state_dir>/<pool>/``,
``desired.json`` holds the pool's size and ``<node id>.json`` each node (pid, the process's
start time from ``/proc/<pid>/stat``, so that a reused pid is never taken for the node, its log,
its request time, its protection). ``<node id>.log`` is the node's output; the logs of the last
few gone nodes are kept for a post-mortem. A lock file serializes callers.

Like an Auto Scaling group, the engine holds ``desired`` nodes: ``set_desired`` starts missing
ones (a node that died is replaced then) and, shrinking, stops the newest unprotected ones
itself; the autoscaler avoids that by draining nodes and removing each with ``terminate``.
Linux only (process groups, signals, and ``/proc`` to tell a node's process by its start time).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self

from common.settings import BROKER_URL_ENV, RESULT_BACKEND_ENV
from providers.compute.base import RUNNING, ComputeError, ProviderNode
from providers.compute.local_procs import (
    PROC,
    kill_groups,
    live_groups,
    start_ticks,
    stat_fields,
    ticks_to_epoch,
    wait_until,
)
from providers.compute.pools import Pool

#: Where node state lives unless the orchestrator or the pool's options say.
STATE_DIR = "~/.cache/cloudrender/nodes"
#: Seconds a stopped node gets for Celery's warm shutdown before it is killed.
STOP_SECONDS = 30.0
#: Logs of gone nodes kept per pool (the newest).
KEPT_LOGS = 10

#: Nodes this process started, kept so that it can reap them (no zombie, no ResourceWarning).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class _Node:
    """One node's file."""

    id: str
    pid: int
    #: the process's start time in clock ticks since boot (/proc/<pid>/stat)
    start: int
    #: the same as epoch seconds
    launched_at: float
    log: str
    requested_at: float
    protected: bool = False


class LocalCompute:
    """Pools of ``cloudrender worker`` processes on this machine (the ComputeProvider protocol)."""

    name = "local"

    def __init__(
        self,
        broker_url: str,
        storage_url: str,
        state_dir: str | Path = STATE_DIR,
        *,
        stop_seconds: float = STOP_SECONDS,
    ) -> None:
        self.broker_url = broker_url
        self.storage_url = storage_url
        self.state_dir = Path(state_dir).expanduser()
        self.stop_seconds = stop_seconds

    @classmethod
    def for_pool(cls, pool: Pool, **context: Any) -> Self:
        """The engine for `pool`: nodes join `broker_url` and use `storage_url`; state lives
        in `state_dir` (else ``options.state_dir``, else ~/.cache/cloudrender/nodes)."""
        where = f"pool {pool.name!r}"
        if not PROC.is_dir():
            raise ComputeError(f"{where}: the local engine needs Linux (it tells nodes by /proc)")
        for needed in ("broker_url", "storage_url"):
            if not context.get(needed):
                raise ComputeError(f"{where}: the local engine needs the cluster's {needed}")
        try:
            stop_seconds = float(pool.options.get("stop_seconds", STOP_SECONDS))
        except ValueError:
            raise ComputeError(f"{where}: options.stop_seconds must be a number") from None
        state_dir = context.get("state_dir") or pool.options.get("state_dir") or STATE_DIR
        return cls(
            str(context["broker_url"]),
            str(context["storage_url"]),
            state_dir,
            stop_seconds=stop_seconds,
        )

    # --- the ComputeProvider protocol ----------------------------------------------------------

    def ensure_pool(self, pool: Pool) -> None:
        """Create the pool's state directory."""
        self._dir(pool)

    def desired(self, pool: Pool) -> int:
        """The size stored for the pool (0 before the first set_desired)."""
        with self._locked(pool):
            return self._desired(pool)

    def set_desired(self, pool: Pool, count: int) -> None:
        """Hold `count` nodes: start missing ones; stop the newest unprotected if too many."""
        if not 0 <= count <= pool.max_nodes:
            raise ComputeError(
                f"pool {pool.name!r}: {count} nodes is outside 0..{pool.max_nodes} (max_nodes)"
            )
        with self._locked(pool):
            self._write(self._dir(pool) / "desired.json", {"desired": count})
            live = self._live(pool)
            for _ in range(count - len(live)):
                self._start(pool)
            surplus = len(live) - count
            if surplus > 0:
                newest = sorted(live, key=lambda n: n.requested_at, reverse=True)
                victims = [n for n in newest if not n.protected][:surplus]
                self._stop(pool, victims)

    def nodes(self, pool: Pool) -> list[ProviderNode]:
        """The pool's live processes, oldest first (dead ones are forgotten)."""
        with self._locked(pool):
            live = self._live(pool)
        return [
            ProviderNode(
                id=n.id,
                pool=pool.name,
                # Booting or running: only the node's heartbeat tells.
                state=RUNNING,
                # When it was asked for (to the microsecond; /proc's start time is only as
                # exact as the boot time's whole second): billing starts at the request.
                launched_at=n.requested_at,
                market=pool.market,
                protected=n.protected,
            )
            for n in sorted(live, key=lambda n: n.launched_at)
        ]

    def protect(self, pool: Pool, node_ids: Sequence[str], protected: bool) -> None:
        """Record the flag; set_desired's own scale-in passes protected nodes over."""
        with self._locked(pool):
            for node_id in node_ids:
                node = self._load(pool, node_id)
                if node is not None and node.protected != protected:
                    node.protected = protected
                    self._save(pool, node)

    def terminate(self, pool: Pool, node_id: str, *, replace: bool = False) -> None:
        """Stop one node (warm shutdown, killed after stop_seconds) and return once it is gone;
        the desired size drops by one unless `replace` starts a fresh node in its place."""
        with self._locked(pool):
            node = self._load(pool, node_id)
            if node is None:
                return  # already gone
            self._stop(pool, [node])
            if replace:
                self._start(pool)
            else:
                desired = self._dir(pool) / "desired.json"
                self._write(desired, {"desired": max(0, self._desired(pool) - 1)})

    # --- nodes ---------------------------------------------------------------------------------

    def _start(self, pool: Pool) -> _Node:
        """Launch one node process, detached, and record it."""
        node_id = f"{pool.name}-{uuid.uuid4().hex[:8]}"
        log = self._dir(pool) / f"{node_id}.log"
        command = [
            sys.executable, "-m", "cli", "worker",
            "--queues", ",".join(pool.queues),
            "--concurrency", str(pool.concurrency),
        ]  # fmt: skip
        env = {
            **os.environ,
            BROKER_URL_ENV: self.broker_url,
            RESULT_BACKEND_ENV: self.broker_url,
            "CLOUDRENDER_STORAGE_URL": self.storage_url,
            "CLOUDRENDER_NODE_POOL": pool.name,
            "CLOUDRENDER_INSTANCE_ID": node_id,
            # The pool's own worker settings: options "env.NAME" = "value".
            **{k[4:]: v for k, v in pool.options.items() if k.startswith("env.") and k[4:]},
        }
        requested = time.time()
        try:
            with open(log, "ab") as output:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=env,
                    # Its own session: it outlives whoever started it, and a stop reaches its
                    # whole process group (the worker and its pool processes) and nothing else.
                    start_new_session=True,
                )
        except OSError as exc:
            raise ComputeError(
                f"pool {pool.name!r}: cannot start a worker process: {exc.strerror or exc}"
            ) from None
        _CHILDREN[proc.pid] = proc
        # Read at once: the child cannot be gone (unreaped, it stays at least a zombie).
        start = start_ticks(proc.pid)
        node = _Node(node_id, proc.pid, start, ticks_to_epoch(start), str(log), requested)
        self._save(pool, node)
        return node

    def _stop(self, pool: Pool, nodes: Sequence[_Node]) -> None:
        """SIGTERM each node's worker (Celery's warm shutdown lets running tasks end), SIGKILL
        its group after stop_seconds, wait until every process is gone, forget the nodes."""
        # Only groups whose leader is still ours (running, or our unreaped zombie, which keeps
        # its pid, and so the group id, from being reused).
        groups = {n.pid for n in nodes if _ours(n)}
        for group in groups:
            # The leader only: SIGTERM to a Celery pool process would kill its task at once.
            with contextlib.suppress(ProcessLookupError):
                os.kill(group, signal.SIGTERM)

        def gone() -> bool:
            return not live_groups(groups)

        if not wait_until(gone, self.stop_seconds):
            kill_groups(live_groups(groups))
            wait_until(gone, self.stop_seconds)
        for node in nodes:
            _reap(node.pid)
            (self._dir(pool) / f"{node.id}.json").unlink(missing_ok=True)
        self._trim_logs(pool)

    def _live(self, pool: Pool) -> list[_Node]:
        """The pool's recorded nodes whose process still runs; the others are forgotten."""
        live = []
        for path in sorted(self._dir(pool).glob("*.json")):
            if path.name == "desired.json":
                continue
            node = self._read_node(path)
            if node is not None and _alive(node):
                live.append(node)
                continue
            if node is not None and _ours(node):
                # Its worker died (our zombie): what is left of its pool goes with it.
                kill_groups(live_groups({node.pid}))
            if node is not None:
                _reap(node.pid)
            path.unlink(missing_ok=True)
        self._trim_logs(pool)
        return live

    def _trim_logs(self, pool: Pool) -> None:
        """Keep the logs of live nodes and of the last few gone ones."""
        folder = self._dir(pool)
        gone = [p for p in folder.glob("*.log") if not p.with_suffix(".json").exists()]
        gone.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0.0, reverse=True)
        for path in gone[KEPT_LOGS:]:
            path.unlink(missing_ok=True)

    # --- files ---------------------------------------------------------------------------------

    def _dir(self, pool: Pool) -> Path:
        folder = self.state_dir / pool.name
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ComputeError(
                f"pool {pool.name!r}: cannot create the local engine's state directory "
                f"{folder}: {exc.strerror or exc}"
            ) from None
        return folder

    @contextlib.contextmanager
    def _locked(self, pool: Pool) -> Iterator[None]:
        """Hold the pool's lock file (other engine objects, other processes) for a call."""
        with open(self._dir(pool) / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _desired(self, pool: Pool) -> int:
        try:
            data = json.loads((self._dir(pool) / "desired.json").read_text())
            return max(0, int(data["desired"]))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, TypeError, KeyError):
            raise ComputeError(
                f"pool {pool.name!r}: {self._dir(pool) / 'desired.json'} is unreadable; "
                "remove it and set the size again"
            ) from None

    def _load(self, pool: Pool, node_id: str) -> _Node | None:
        if "/" in node_id or node_id.startswith("."):
            return None  # not an id this engine made
        return self._read_node(self._dir(pool) / f"{node_id}.json")

    def _read_node(self, path: Path) -> _Node | None:
        try:
            return _Node(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None  # gone meanwhile, or not a node file of ours

    def _save(self, pool: Pool, node: _Node) -> None:
        self._write(self._dir(pool) / f"{node.id}.json", asdict(node))

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        """Replace a state file whole, so that no reader sees half of it."""
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data))
        os.replace(temporary, path)


# --- processes -----------------------------------------------------------------------------------


def _ours(node: _Node) -> bool:
    """Whether the node's process still exists, running or as a zombie (its pid is not reused)."""
    return node.start >= 0 and start_ticks(node.pid) == node.start


def _alive(node: _Node) -> bool:
    """Whether the node's own process runs (not a zombie, not another process on its pid)."""
    fields = stat_fields(node.pid)
    return _ours(node) and fields is not None and fields[0] not in (b"Z", b"X")


def _reap(pid: int) -> None:
    """Collect the exit status of a node this process started, once it has exited."""
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:
        del _CHILDREN[pid]
