"""The faults of a chaos run: spot workers to abuse, the fault plan, and the injection loop.

Every render worker is a spot instance with a fake metadata service of its own
(``workers.spot_fake.FakeMetadataService``), so any of them can be sent a notice. The faults:
SIGKILL a worker's whole process group and start a replacement; kill Redis and restart it from
its append-only file; freeze a worker (SIGSTOP) for 7-10 s; send a spot notice to a worker and
start a replacement; and the MORE_KINDS below. ``inject_faults`` spreads them, at random
moments drawn from the run's ``random.Random``, over the estimated remaining render time.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.chaos_watch import POLL_S, Watch, busy_on
from bench.script import log
from bench.support import ORCHESTRATOR_QUEUES, ChaosCluster
from orchestrator.local_workers import LocalWorkers
from workers.spot_fake import FakeMetadataService

#: The kinds of fault the loop injects by default.
KINDS = ("kill", "redis", "freeze", "spot")
#: Kinds a run may name besides (``--kinds``): SIGKILL only the render process of a busy
#: worker (the deepest of its processes: the forked render, or bubblewrap's child), only a
#: Celery pool process, or only the worker's main process (its pool orphaned); SIGSTOP a
#: worker's group for 60 s, past the failover's stall limit, then resume it; fill the
#: storage's disk for 3-8 s (uploads and the merge's output fail with ENOSPC, some mid-write),
#: then free it (``FullDisk``: the store on a filesystem of its own); SIGKILL the orchestrator's
#: process group (its beat, and the plan, audio or merge it runs) and start another 0.5-3 s
#: later; fill the scratch disk of the cluster's processes (where chunks, mixes and merges
#: write their temporary files: a FullDisk that the workers' temporary directories are on) for
#: 3-8 s, then free it.
MORE_KINDS = ("render", "pool", "main", "stall", "disk", "orchestrator", "scratch")
#: Seconds a "stall" freezes its worker.
STALL_S = 60.0
#: Seconds a pre-empted worker may take to hand its chunk back and exit.
SPOT_EXIT_S = 30.0


@dataclass
class Node:
    """One render worker and the metadata server that can pre-empt it."""

    worker: LocalWorkers
    metadata: FakeMetadataService
    noticed_at: float | None = None  # monotonic time of its spot notice
    exited_after: float | None = None  # seconds from the notice until its processes were gone

    @property
    def name(self) -> str:
        """The Celery node name that job records show."""
        return self.worker.hostname


class FullDisk:
    """The cluster's storage on a small filesystem of its own (a tmpfs mounted on the store's
    directory, so the machine's disks are never filled), which a "disk" fault fills."""

    def __init__(self, root: Path, size_mb: int = 4096) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(
                f"the disk fault needs a filesystem of its own for the store (mount -t tmpfs, "
                f"as root): {done.stderr.strip() or done.returncode}"
            )
        self.filler = root / "disk-full-filler"

    def fill(self, seconds: float) -> int:
        """Fill the store's filesystem to the last byte for ``seconds``, then free it; the
        bytes the filler took."""
        taken = 0
        try:
            with open(self.filler, "wb") as handle:
                info = os.statvfs(self.root)
                with contextlib.suppress(OSError):
                    os.posix_fallocate(handle.fileno(), 0, info.f_bavail * info.f_frsize)
                taken = os.fstat(handle.fileno()).st_size
                block = b"\0" * 65536
                while True:  # what fallocate left (rounding, writes in flight)
                    try:
                        os.pwrite(handle.fileno(), block, taken)
                    except OSError:
                        break  # ENOSPC: full
                    taken += len(block)
            time.sleep(seconds)
        finally:
            self.free()
        return taken

    def free(self) -> None:
        """Remove the filler (the disk has room again)."""
        with contextlib.suppress(FileNotFoundError):
            self.filler.unlink()

    def close(self) -> None:
        """Unmount the store's filesystem (what it held goes with it)."""
        self.free()
        subprocess.run(["umount", "-l", str(self.root)], capture_output=True, check=False)


class Fleet:
    """The render workers of one chaos cluster, every one a spot instance."""

    def __init__(
        self, cluster: ChaosCluster, disk: FullDisk | None = None, scratch: FullDisk | None = None
    ) -> None:
        self.cluster = cluster
        self.disk = disk  # the store's filesystem, for "disk" faults
        self.scratch = scratch  # the processes' temporary files' filesystem, for "scratch"
        self.stalls: list[tuple[threading.Timer, Node]] = []  # frozen until their timer
        self.live: list[Node] = []
        self.leaving: list[Node] = []
        self.gone: list[Node] = []

    def add(self) -> Node:
        """Start one more worker with a metadata server of its own."""
        metadata = FakeMetadataService()
        env = {
            "CLOUDRENDER_SPOT_PROVIDER": "gcp",
            "CLOUDRENDER_SPOT_ENDPOINT": metadata.url,
            "CLOUDRENDER_SPOT_INTERVAL": "0.3",
        }
        try:
            node = Node(self.cluster.add_worker(env), metadata)
        except BaseException:
            metadata.close()
            raise
        self.live.append(node)
        return node

    def kill(self, node: Node) -> None:
        """SIGKILL a worker's process group (main process and pool)."""
        self.cluster.kill_worker(node.worker)
        self.live.remove(node)
        self.gone.append(node)

    def stall(self, node: Node, seconds: float) -> None:
        """SIGSTOP a worker's group now and SIGCONT it ``seconds`` later (or at close)."""
        self.cluster.pause(node.worker)
        timer = threading.Timer(seconds, self.cluster.resume, (node.worker,))
        timer.daemon = True
        self.stalls.append((timer, node))
        timer.start()

    def notice(self, node: Node) -> None:
        """Tell a worker that its instance is being pre-empted."""
        node.metadata.notice = True
        node.noticed_at = time.monotonic()
        self.live.remove(node)
        self.leaving.append(node)

    def reap(self) -> None:
        """Note pre-empted workers whose processes are gone."""
        for node in list(self.leaving):
            if node.noticed_at is None:
                continue
            waited = time.monotonic() - node.noticed_at
            if not node.worker.pids():
                node.exited_after = round(waited, 1)
            elif waited < SPOT_EXIT_S:
                continue
            node.worker.stop()  # reaps it, or stops one that did not leave by itself
            self.leaving.remove(node)
            self.gone.append(node)

    def close(self) -> None:
        """Resume stalled workers, wait for pre-empted workers to leave, then close every
        metadata server."""
        for timer, node in self.stalls:
            timer.cancel()
            self.cluster.resume(node.worker)
        while self.leaving:
            self.reap()
            time.sleep(0.2)
        for node in self.live + self.gone:
            node.metadata.close()


def fault_plan(rng: random.Random, count: int, kinds_to_use: tuple[str, ...] = KINDS) -> list[str]:
    """`count` fault kinds in random order; every kind at least once when count allows."""
    if count < len(kinds_to_use):
        return rng.sample(kinds_to_use, count)
    kinds = list(kinds_to_use) + [
        rng.choice(kinds_to_use) for _ in range(count - len(kinds_to_use))
    ]
    rng.shuffle(kinds)
    return kinds


def inject(
    kind: str, rng: random.Random, cluster: ChaosCluster, fleet: Fleet, watch: Watch
) -> dict[str, Any]:
    """Inject one fault; return what was done."""
    fault: dict[str, Any] = {"kind": kind, "time": time.time()}
    if kind == "redis":
        down = round(rng.uniform(0.5, 2.0), 2)
        fault["seconds"] = down
        cluster.restart_redis(down)
        return fault
    if kind == "orchestrator":
        fault["seconds"] = round(rng.uniform(0.5, 3.0), 2)
        restart_orchestrator(cluster, fault["seconds"])
        return fault
    if kind in ("disk", "scratch"):
        full = fleet.disk if kind == "disk" else fleet.scratch
        if full is None:
            raise ValueError(f"a {kind} fault needs its filesystem on a FullDisk")
        fault["seconds"] = round(rng.uniform(3.0, 8.0), 2)
        fault["bytes"] = full.fill(fault["seconds"])
        return fault
    node = rng.choice(fleet.live)
    fault["worker"] = node.name.split("@")[0]
    fault["busy"] = busy_on(watch.now(), node.name)
    if kind == "kill":
        fleet.kill(node)
        fleet.add()
    elif kind == "freeze":
        fault["seconds"] = round(rng.uniform(7.0, 10.0), 2)
        cluster.freeze(node.worker, fault["seconds"])
    elif kind == "spot":
        fleet.notice(node)
        fleet.add()
        fault["node"] = node
    elif kind == "stall":
        # Resumed by a timer: the faults after it land during the 60 s freeze (a frozen node
        # through a Redis restart and a render kill elsewhere), as a 7-10 s freeze's cannot.
        fault["seconds"] = STALL_S
        fleet.stall(node, STALL_S)
    elif kind in ("render", "pool", "main"):
        # The render runs under a zygote in a session of its own (workers.zygote): not in the
        # worker's group, so looked for among the main process's descendants too. Found in
        # the group only, every "render" fault since the zygotes killed nothing.
        members = set(node.worker.pids())
        if node.worker.pid is not None:
            members |= set(descendants(node.worker.pid))
        victim = _victim(kind, node.worker.pid, sorted(members))
        fault["pid"] = victim
        if victim is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        if kind == "main":
            fleet.kill(node)  # what is left of its group goes too (as its supervisor would)
            fleet.add()
    return fault


def restart_orchestrator(cluster: ChaosCluster, down: float) -> None:
    """SIGKILL the orchestrator's whole process group (its machine died) and start another
    ``down`` seconds later, as its supervisor would."""
    if cluster.orchestrator is not None:
        cluster.kill_worker(cluster.orchestrator)
    time.sleep(down)
    replacement = LocalWorkers(cluster.redis.url, 1, ORCHESTRATOR_QUEUES, cluster.env, beat=True)
    cluster.orchestrator = replacement  # stopped by the cluster's close even if never ready
    replacement.start()
    replacement.wait_ready()


def _parent(pid: int) -> int | None:
    """A process's parent pid, from /proc; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    return int(raw[raw.rfind(")") + 2 :].split()[1])


def descendants(root: int) -> list[int]:
    """The live processes below ``root`` (children, theirs, ...), whatever their group."""
    below: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (parent := _parent(int(name))) is not None:
            below.setdefault(parent, []).append(int(name))
    found, todo = [], list(below.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(below.get(pid, []))
    return found


def _victim(kind: str, main: int | None, members: list[int]) -> int | None:
    """The process a "render", "pool" or "main" fault kills among a worker's group."""
    if main is None:
        return None
    if kind == "main":
        return main
    parents = {pid: _parent(pid) for pid in members}
    pool = [pid for pid, parent in parents.items() if parent == main]
    if kind == "pool":
        return pool[0] if pool else None
    # The render: the deepest descendant of a pool process (none while it idles).
    depth: dict[int, int] = {}

    def level(pid: int) -> int:
        if pid not in depth:
            parent = parents.get(pid)
            depth[pid] = 0 if parent not in parents else level(parent) + 1  # type: ignore[arg-type]
        return depth[pid]

    below = [pid for pid in members if level(pid) >= 2]
    return max(below, key=level) if below else None


def inject_faults(
    label: str,
    plan: list[str],
    rng: random.Random,
    cluster: ChaosCluster,
    fleet: Fleet,
    watch: Watch,
    began: float,
    expected: float | None,
    frames: int,
) -> list[dict[str, Any]]:
    """Inject the planned faults spread over the estimated remaining time; what was injected.

    `expected` is the baseline's wall time (None: none yet), `frames` the run's total frames.
    """
    injected: list[dict[str, Any]] = []
    for number, kind in enumerate(plan):
        records = watch.records
        done = sum(r.frames_done for r in records or [])
        total = sum(r.frames for r in records or []) or frames
        elapsed = time.monotonic() - began
        share = done / total
        left = elapsed * (1 - share) / share if share > 0.05 else (expected or 60.0)
        gap = rng.uniform(0.3, 1.0) * left / (len(plan) - number + 1)
        until = time.monotonic() + gap
        while time.monotonic() < until and not watch.finished():
            time.sleep(POLL_S)
        if watch.finished():
            log(f"[{label}] jobs ended before fault {number + 1} of {len(plan)}")
            break
        at = round(time.monotonic() - began, 1)
        fault = {"at": at, **inject(kind, rng, cluster, fleet, watch)}
        injected.append(fault)
        who = f"{fault.get('worker', '')} busy={fault.get('busy')}"
        log(f"[{label}] fault {number + 1}/{len(plan)} at {at:.1f}s: {kind} {who}")
    return injected
