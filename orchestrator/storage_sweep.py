"""The sweep of lost jobs' objects in storage: ``jobs/<id>/`` prefixes whose job has no record.

A job whose record Redis lost (restarted without persistence, FLUSHALL) while none of its chunks
ran kept its finished segments in storage for ever: nothing merges, cancels or expires a job
Redis does not know, and a chunk whose upload ended just after its job's objects were deleted
left one behind too. The orchestrator's beat runs this sweep every few minutes.

Conservative by design:

* a prefix is removed only when its job has no record, checked again just before the delete;
* and only once this process has seen it unchanged (the same keys) for the grace period
  (``CLOUDRENDER_SWEEP_GRACE``): storage backends give no uniform modification time, so "its
  newest object is older than the grace" is observed, and a new object restarts the wait. A
  restarted orchestrator starts watching again: a removal can come later, never sooner. The
  wait is the shorter of what the cluster's clock (Redis ``TIME``) and this process's own
  monotonic clock measured: a forward jump of the cluster's clock (its host's clock stepped,
  Redis moved to a host whose clock is ahead) once shortened every wait, and a day's jump swept
  live jobs' prefixes at the next sweep;
* a prefix holding a finished video (``output.*``) is never removed: that is a user's result,
  which a client may still fetch straight from storage;
* only this cluster's prefixes: planning a job writes an ownership marker (``OWNER_NAME``)
  naming the cluster (``CLOUDRENDER_CLUSTER_ID``, else an id kept in Redis) into its prefix, and
  a prefix whose marker names another cluster (or cannot be read) is never removed. Without it,
  a staging and a production cluster sharing one bucket each took the other's live jobs for lost
  and deleted their segments. ``CLOUDRENDER_SWEEP=off`` turns the sweep off altogether;
* a prefix with no marker at all (a job planned before markers existed, or whose marker could
  not be written) was kept for ever: whose it is cannot be told. It is removed once this process
  has seen it unchanged, with no record and no finished video, for ``unmarked_grace`` (24 times
  the grace, at least a day): no live job of any cluster leaves its prefix untouched that long
  (each chunk writes a segment; a merge writes the output, which is never removed), so what is
  left is an abandoned job's, this cluster's or an old one's;
* a local storage's temp files (a write killed mid-way; never listed) go alone, only from a
  finished or lost job's prefix (its record ended, or it holds its video, or it has no record
  and is marked as this cluster's), and only once seen unchanged for ``TMP_STALE`` (an hour:
  a live write touches its file at every buffer). A late chunk copy killed after its job
  completed left one beside the video for ever: that prefix is never removed.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from common.errors import RenderError
from orchestrator import keys
from providers.storage.base import TMP_PREFIX, ObjectNotFound, Storage
from providers.storage.local import TMP_STALE, LocalStorage

log = logging.getLogger(__name__)

#: Where every job's objects live (``workers.job_spec.job_prefix``).
JOBS_AREA = "jobs/"
#: The start of a finished video's name in its job's prefix (``JobSpec.output_key``).
OUTPUT_NAME = "output."
#: The ownership marker in a job's prefix: JSON ``{"cluster": id, "job": id}``.
OWNER_NAME = "owner.json"
#: How many grace periods an unmarked prefix must stay unchanged before it is removed...
UNMARKED_GRACES = 24
#: ... and at least so many seconds (a day).
UNMARKED_MIN_SECONDS = 24 * 3600.0


def unmarked_grace(grace: float) -> float:
    """Seconds an unmarked prefix (no owner.json) must stay unchanged before it is removed."""
    return max(UNMARKED_GRACES * grace, UNMARKED_MIN_SECONDS)


def is_marked(job_id: str, found: frozenset[str]) -> bool:
    """Whether a job's keys include its ownership marker."""
    return f"{JOBS_AREA}{job_id}/{OWNER_NAME}" in found


#: The cluster id this process has used: written back when Redis lost it (a FLUSHALL), so the
#: jobs marked before the loss stay this cluster's and their objects can still be swept.
_KNOWN_ID: str | None = None


def cluster_id(client: Any, configured: str | None = None) -> str:
    """This cluster's id: ``configured`` (CLOUDRENDER_CLUSTER_ID), else the one kept in Redis
    (created by the first caller)."""
    global _KNOWN_ID
    if configured:
        return configured
    candidate = _KNOWN_ID or uuid.uuid4().hex
    try:
        client.set(keys.CLUSTER_ID, candidate, nx=True)
    except redis.exceptions.NoPermissionError:
        pass  # a worker's user reads it only: the orchestrator wrote it
    found = client.get(keys.CLUSTER_ID)
    if found is None:
        raise RenderError("this cluster has no id in Redis yet (cr:cluster:id)")
    _KNOWN_ID = found.decode() if isinstance(found, bytes) else str(found)
    return _KNOWN_ID


def mark_owner(storage: Storage, job_id: str, cluster: str) -> None:
    """Write the marker that makes ``jobs/<job_id>/`` this cluster's to sweep."""
    fd, path = tempfile.mkstemp(prefix="owner-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump({"cluster": cluster, "job": job_id}, out)
        storage.put_file(f"{JOBS_AREA}{job_id}/{OWNER_NAME}", path)
    finally:
        os.unlink(path)


def claim_prefix(
    client: Any, storage: Callable[[], Storage], job_id: str, configured: str | None
) -> None:
    """Mark a job's prefix as this cluster's before anything is written in it. A failure is
    logged, not raised: the job renders as well, only the sweep will never remove its objects."""
    try:
        mark_owner(storage(), job_id, cluster_id(client, configured))
    except (RenderError, OSError, redis.RedisError) as exc:
        log.warning(
            "could not mark job %s's storage as this cluster's (%s): the storage "
            "sweep will leave its objects alone",
            job_id,
            exc,
        )


def owner_of(storage: Storage, job_id: str) -> str | None:
    """The cluster a job's marker names; None without a (readable) marker."""
    fd, path = tempfile.mkstemp(prefix="owner-", suffix=".json")
    os.close(fd)
    try:
        storage.get_file(f"{JOBS_AREA}{job_id}/{OWNER_NAME}", path)
        with open(path, encoding="utf-8") as handle:
            found = json.load(handle).get("cluster")
    except ObjectNotFound:
        return None
    except (ValueError, AttributeError):
        log.warning("storage sweep: job %s's %s is unreadable: kept", job_id, OWNER_NAME)
        return None
    finally:
        os.unlink(path)
    return found if isinstance(found, str) else None


def group_by_job(keys: Iterable[str]) -> dict[str, frozenset[str]]:
    """The keys under ``jobs/``, grouped by the job id their second part names."""
    groups: dict[str, set[str]] = {}
    for key in keys:
        job_id, slash, _ = key.removeprefix(JOBS_AREA).partition("/")
        if key.startswith(JOBS_AREA) and job_id and slash:
            groups.setdefault(job_id, set()).add(key)
    return {job_id: frozenset(found) for job_id, found in groups.items()}


def holds_output(job_id: str, found: frozenset[str]) -> bool:
    """Whether a job's keys include its finished video."""
    return any(k.startswith(f"{JOBS_AREA}{job_id}/{OUTPUT_NAME}") for k in found)


@dataclass
class _Seen:
    since: float  # cluster time
    keys: frozenset[str]
    local: float  # this process's monotonic clock then


@dataclass
class SweepWatch:
    """What one orchestrator process has seen of prefixes without a job record, and since when."""

    seen: dict[str, _Seen] = field(default_factory=dict)
    #: This process's own clock, which no clock step moves.
    clock: Callable[[], float] = time.monotonic
    #: A local storage's temp files by name ("jobs/<id>/.../.cloudrender-tmp-..."), their size
    #: and file time as first seen so.
    temps: dict[str, _Seen] = field(default_factory=dict)

    def saw(self, job_id: str, found: frozenset[str], now: float) -> None:
        """Start (again) the wait of ``job_id``'s prefix, now holding ``found``."""
        self.seen[job_id] = _Seen(now, found, self.clock())

    def waited(self, job_id: str, now: float) -> float:
        """Seconds ``job_id``'s prefix has been seen unchanged: the shorter of the cluster's
        and this process's measure, so that neither clock's jump can shorten the wait."""
        seen = self.seen[job_id]
        return min(now - seen.since, self.clock() - seen.local)

    def stale_temps(self, found: Mapping[str, str], now: float, wait: float) -> list[str]:
        """The temp files (name: their size and time) seen unchanged for ``wait`` seconds, by
        both clocks as ``waited``; a file's own time is never read as an age (its storage's
        clock may be hours off this one)."""
        ready: list[str] = []
        for name, state in sorted(found.items()):
            seen = self.temps.get(name)
            if seen is None or seen.keys != frozenset({state}):
                self.temps[name] = _Seen(now, frozenset({state}), self.clock())
            elif min(now - seen.since, self.clock() - seen.local) >= wait:
                ready.append(name)
        for gone in set(self.temps) - set(found):
            del self.temps[gone]
        return ready

    def due(
        self, groups: Mapping[str, frozenset[str]], known: set[str], now: float, grace: float
    ) -> list[str]:
        """Job ids to remove: no record, no output, and unchanged for ``grace`` seconds."""
        ready: list[str] = []
        for job_id, found in sorted(groups.items()):
            if job_id in known or holds_output(job_id, found):
                self.seen.pop(job_id, None)
                continue
            seen = self.seen.get(job_id)
            if seen is None or seen.keys != found:
                self.saw(job_id, found, now)
            elif self.waited(job_id, now) >= grace:
                ready.append(job_id)
        for gone in set(self.seen) - set(groups):
            del self.seen[gone]
        return ready


def sweep(
    storage: Storage,
    keep: Callable[[str], bool],
    watch: SweepWatch,
    now: float,
    grace: float,
    cluster: str,
    ended: Callable[[str], bool] | None = None,
) -> int:
    """One sweep of ``storage``: remove the due prefixes marked as ``cluster``'s; return how
    many objects went. A storage error is logged and ends this sweep only (the next one tries
    again). ``keep`` says whether a job id's prefix must stay (its job has a record that did
    not end cancelled or failed); ``ended`` whether a job's record says it was cancelled or
    failed: its prefix is this cluster's whatever its marker (removed with its objects)."""
    try:
        groups = group_by_job(storage.list(JOBS_AREA))
    except (RenderError, OSError) as exc:
        log.warning("storage sweep: could not list %s: %s", JOBS_AREA, exc)
        return 0
    known = {job_id for job_id in groups if keep(job_id)}
    removed = 0
    for job_id in watch.due(groups, known, now, grace):
        if keep(job_id):  # its record appeared since the listing: keep it
            continue
        left = ended is not None and ended(job_id)
        try:
            if left:
                pass  # our record names it: ours, though its marker went with its objects
            elif not is_marked(job_id, groups[job_id]):
                # Whose it is cannot be told: only abandoned for much longer is it removed
                # (the wait goes on: its "since" is kept).
                if watch.waited(job_id, now) < unmarked_grace(grace):
                    continue
            elif owner_of(storage, job_id) != cluster:
                # Another cluster's (or an unreadable marker): look again a grace period later.
                watch.saw(job_id, groups[job_id], now)
                continue
            count = storage.delete_prefix(f"{JOBS_AREA}{job_id}/")
        except (RenderError, OSError) as exc:
            log.warning("storage sweep: could not remove job %s's objects: %s", job_id, exc)
            continue
        watch.seen.pop(job_id, None)
        removed += count
        if left:
            log.warning(
                "storage sweep: removed %d objects of job %s, stored after it was cancelled or "
                "failed (a chunk still uploading then)",
                count,
                job_id,
            )
            continue
        marked = is_marked(job_id, groups[job_id])
        log.warning(
            "storage sweep: removed %d objects of job %s, which has no record (Redis lost it?) "
            "and whose objects did not change for %.0f s%s",
            count,
            job_id,
            grace if marked else unmarked_grace(grace),
            "" if marked else " (no ownership marker: planned before markers existed)",
        )
    finished = _finished(storage, keep, ended, cluster, groups)
    return removed + sweep_temps(storage, finished, watch, now, max(grace, TMP_STALE))


def _finished(
    storage: Storage,
    keep: Callable[[str], bool],
    ended: Callable[[str], bool] | None,
    cluster: str,
    groups: Mapping[str, frozenset[str]],
) -> Callable[[str], bool]:
    """Whether no write into a job's prefix is wanted any more: its record ended cancelled or
    failed, or the prefix is this cluster's and holds the job's video or has no record."""

    def finished(job_id: str) -> bool:
        if ended is not None and ended(job_id):
            return True
        found = groups.get(job_id, frozenset())
        if keep(job_id) and not holds_output(job_id, found):
            return False  # a live job's (or a name that is no job id)
        return is_marked(job_id, found) and owner_of(storage, job_id) == cluster

    return finished


def sweep_temps(
    storage: Storage, finished: Callable[[str], bool], watch: SweepWatch, now: float, wait: float
) -> int:
    """Remove the temp files of a local ``storage`` (or the one it wraps) under ``jobs/`` seen
    unchanged for ``wait`` seconds, in the prefixes of jobs ``finished`` says are; how many."""
    local = _local(storage)
    if local is None:
        return 0  # other backends keep no file of a killed write (S3: see its lifecycle rules)
    try:
        stale = watch.stale_temps(_temp_files(local.root), now, wait)
    except OSError as exc:
        log.warning("storage sweep: could not list temp files under %s: %s", JOBS_AREA, exc)
        return 0
    removed = 0
    verdicts: dict[str, bool] = {}
    for name in stale:
        job_id = name.removeprefix(JOBS_AREA).partition("/")[0]
        try:
            if job_id not in verdicts:
                verdicts[job_id] = finished(job_id)  # a marker read: once a job a sweep
            if not verdicts[job_id]:
                continue
            os.unlink(os.path.join(local.root, *name.split("/")))
        except FileNotFoundError:
            pass  # removed meanwhile (its job's merge, a write beside it)
        except (RenderError, OSError) as exc:
            log.warning("storage sweep: could not remove %s: %s", name, exc)
            continue
        watch.temps.pop(name, None)
        removed += 1
        _prune(local.root, name)
        log.warning(
            "storage sweep: removed %s, left by a write killed mid-way after job %s ended "
            "(unchanged for %.0f s)",
            name,
            job_id,
            wait,
        )
    return removed


def _local(storage: object) -> LocalStorage | None:
    """``storage`` or the storage it wraps (``inner``, as the encrypting wrappers hold it) when
    it is a local one."""
    while not isinstance(storage, LocalStorage):
        storage = getattr(storage, "inner", None)
        if storage is None:
            return None
    return storage


def _temp_files(root: str) -> dict[str, str]:
    """The temp files under ``root``'s ``jobs/`` by name, each with its size and file time."""
    found: dict[str, str] = {}
    base = os.path.join(root, JOBS_AREA.rstrip("/"))

    def fail(exc: OSError) -> None:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise exc  # an unreadable folder must not pass for an empty one

    for dirpath, _, filenames in os.walk(base, onerror=fail):
        at = os.path.relpath(dirpath, root).replace(os.sep, "/")
        for name in filenames:
            if not name.startswith(TMP_PREFIX):
                continue
            try:
                info = os.stat(os.path.join(dirpath, name), follow_symlinks=False)
            except FileNotFoundError:
                continue  # renamed into place (or removed) as the walk went
            found[f"{at}/{name}"] = f"{info.st_size}:{info.st_mtime_ns}"
    return found


def _prune(root: str, name: str) -> None:
    """Remove the folders left empty under ``jobs/`` by removing ``name`` (a cancelled job's
    folder held only it), as LocalStorage does when it deletes an object: a write that
    creates one again meanwhile retries (providers.storage.base.write_atomic)."""
    parts = name.split("/")[:-1]
    while len(parts) > 1:
        try:
            os.rmdir(os.path.join(root, *parts))
        except OSError:
            return  # not empty
        parts.pop()
