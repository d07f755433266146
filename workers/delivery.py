"""Putting a finished video where the job asked, without replacing what is not the job's.

Where an output may go (outside the job storage's reserved areas, under the worker's output
roots) is ``workers.output_rules``; this module puts it there, where:

* an output never replaces anything that is not this job's video. How a worker knows: it only
  ever creates a new name. A local file is written to a temp name in the destination directory
  (opened through a directory descriptor, with O_NOFOLLOW and O_EXCL) and hard-linked to its
  name, which fails if the name exists in any form, a symlink included; so there is no moment
  when an existing file could be replaced. If the name exists, the delivery succeeds only when
  the file there holds exactly this job's video (a merge run again after it had delivered),
  and fails otherwise. An object is checked for existence before the put (object stores offer
  no create-only put here); an existing one again must hold this job's video.

So a second job cannot overwrite the first one's delivered video, and a job sent through Redis
cannot replace a file a worker can write (a shell rc file, say). Re-rendering to the same place
means removing the old file first; ``cloudrender render`` replaces its own output itself.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable

from common.errors import RenderError
from providers.storage import (
    LocalStorage,
    Storage,
    StorageError,
    open_object_url,
)
from providers.storage.base import fsync_dir
from workers.atomic import partial_name, sweep_stale
from workers.job_policy import JobRefused, WorkerPolicy, current
from workers.output_rules import (
    RESERVED_AREAS,
    check_free,
    check_new_outputs,
    check_outputs,
    job_area,
    local_output,
    output_directory,
)

# The output checks (workers.output_rules) are re-exported: the merge and the client take both
# the checks and the delivery from here.
__all__ = [
    "RESERVED_AREAS",
    "check_free",
    "check_new_outputs",
    "check_outputs",
    "deliver",
    "job_area",
    "local_output",
    "put_object",
    "put_output",
    "remove_output",
    "same_bytes",
    "stored_same",
]

_COPY_BUFFER = 1 << 20
# Errors of link() on filesystems without hard links (FAT, some FUSE and SMB mounts).
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


def deliver(
    path: str,
    destination: str,
    *,
    policy: WorkerPolicy | None = None,
    same: Callable[[str], bool] | None = None,
) -> None:
    """Create ``destination`` holding ``path``'s bytes; never replace a file, never follow links.

    ``same(existing)`` tells whether a regular file already at the name is this job's video
    (default: the same bytes as ``path``); if it is, nothing is written, otherwise JobRefused.
    """
    policy = current() if policy is None else policy
    real = output_directory(destination, policy)
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        # The resolved directory, opened without following a link swapped in meanwhile: every
        # name below is looked up in this very directory.
        dir_fd = os.open(real, flags)
    except FileNotFoundError:
        raise RenderError(
            f"output directory does not exist: {os.path.dirname(destination)}"
        ) from None
    except OSError as exc:
        raise RenderError(f"cannot write into {real}: {exc.strerror or exc}") from None
    try:
        is_same = same or (lambda existing: same_bytes(existing, path))
        _create(path, destination, real, dir_fd, is_same)
    finally:
        os.close(dir_fd)
    fsync_dir(real)


def _create(
    path: str, destination: str, real: str, dir_fd: int, same: Callable[[str], bool]
) -> None:
    """Write a temp file in ``dir_fd`` and link it to the destination's name, never replacing."""
    name = os.path.basename(destination)
    # A delivery killed outright (SIGKILL, the OOM killer) left a whole copy of a video here.
    sweep_stale(real, name)
    partial = partial_name(name)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(partial, flags, 0o666, dir_fd=dir_fd)  # 0666 less the umask
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            shutil.copyfileobj(src, out, _COPY_BUFFER)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
        except FileExistsError:
            _existing(destination, os.path.join(real, name), name, dir_fd, same)
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            # No hard links on this filesystem: check, then rename (the same rule, with a
            # window between the two where a file created by someone else would be replaced).
            if _lexists(name, dir_fd):
                _existing(destination, os.path.join(real, name), name, dir_fd, same)
            else:
                os.rename(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError as exc:
        raise RenderError(f"cannot write {destination}: {exc.strerror or exc}") from None
    finally:
        try:
            os.unlink(partial, dir_fd=dir_fd)
        except OSError:
            pass  # linked and renamed away, or never created


def _lexists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _existing(
    destination: str, full: str, name: str, dir_fd: int, same: Callable[[str], bool]
) -> None:
    """Something is already at the name: fine if it is this job's video, JobRefused if not."""
    # Only read, never written: a symlink, device or FIFO there is simply not ours.
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not (stat.S_ISREG(info.st_mode) and same(full)):
        raise JobRefused(
            f"output {destination} already exists and is not this job's video: a worker never "
            "replaces a file it did not write; remove it or choose another name"
        )


def same_bytes(a: str, b: str) -> bool:
    """Whether two files hold the same bytes."""
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(_COPY_BUFFER), fb.read(_COPY_BUFFER)
            if x != y:
                return False
            if not x:
                return True


def put_object(storage: Storage, key: str, path: str, what: str) -> None:
    """Put ``path`` at ``key`` unless an object is there; one holding the same video is fine.

    Object stores here offer no create-only put, so this checks, then puts: a window remains
    in which an object written by someone else at that moment would be replaced.
    """
    if storage.exists(key):
        if not stored_same(storage, key, path):
            raise JobRefused(
                f"output {what} already exists and is not this job's video: a worker never "
                "replaces an object it did not write; remove it or choose another name"
            )
        return
    storage.put_file(key, path)


def put_output(
    url: str,
    path: str,
    scratch: str,
    *,
    seal: Callable[[Storage], Storage] = lambda storage: storage,
    policy: WorkerPolicy | None = None,
) -> None:
    """Put the video at ``path`` at an output URL, never over what is not this video.

    ``seal`` wraps a storage as the caller must write through it (encryption); a ``file://``
    URL is a local file and follows the local rules (``deliver``: ``policy``'s output roots,
    no symlinks); ``scratch`` is a directory for staging it.
    """
    try:
        target, key = open_object_url(url)
        sealed = seal(target)
        local = local_output(url)
        if local is None:
            put_object(sealed, key, path, url)
            return
        # Sealed as the object it is (bound to its key), then created like any local output.
        staging = LocalStorage(os.path.join(scratch, "sealed"))
        seal(staging).put_file(key, path)
        staged = os.path.join(staging.root, key)

        def same(_existing: str) -> bool:
            return stored_same(sealed, key, path)

        deliver(staged, local, policy=policy, same=same)
    except StorageError as exc:
        raise StorageError(
            f"cannot deliver the video to {url}: {exc}", key=exc.key, transient=exc.transient
        ) from None


def remove_output(
    url: str, digest: str, *, seal: Callable[[Storage], Storage] = lambda storage: storage
) -> None:
    """Remove the video a job put at an output URL (or a local path), if what is there is
    still the video of that ``digest`` (sha256): never anything else."""
    local = local_output(url) if "://" in url else os.path.abspath(url)
    if local is not None:
        try:
            info = os.stat(local, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISREG(info.st_mode) and _sha256(local) == digest:
            os.unlink(local)
        return
    target, key = open_object_url(url)
    with tempfile.TemporaryDirectory(prefix="cloudrender-check-") as tmp:
        there = os.path.join(tmp, "existing")
        try:
            seal(target).get_file(key, there)
        except StorageError:
            return  # gone, or not this job's
        if _sha256(there) == digest:
            target.delete(key)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_COPY_BUFFER), b""):
            digest.update(block)
    return digest.hexdigest()


def stored_same(storage: Storage, key: str, path: str) -> bool:
    """Whether the object at ``key`` (decrypted, if ``storage`` decrypts) is ``path``'s bytes."""
    with tempfile.TemporaryDirectory(prefix="cloudrender-check-") as tmp:
        there = os.path.join(tmp, "existing")
        try:
            storage.get_file(key, there)
        except StorageError:
            return False  # gone meanwhile, or not readable as this job's: not ours either way
        return same_bytes(there, path)
