"""Where a finished video may go, and putting it there without replacing what is not the job's.

A job's own objects (segments, audio, output) live under its storage prefix ``jobs/<id>/``. A
job may also ask for the video at a local path (``destination``, a shared disk) or at an object
URL (``output_url``: ``file://``, ``s3://``, ``gs://``, ``az://``). Rules, checked by the client
at submit (``orchestrator.api``) and again by the merge before it writes:

* no output lies in the job storage's ``jobs/`` or ``assets/`` areas (another job's files, or
  media other jobs fetch by hash), whatever the spelling: local paths are compared after
  symlinks are resolved, object URLs after their storage URL is normalised;
* a local output (a path, or a ``file://`` URL) goes into a directory whose real path is under
  the worker's output roots (when the worker is confined, ``workers.job_policy``);
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
from urllib.parse import unquote, urlsplit

from common.errors import RenderError
from providers.storage import (
    LocalStorage,
    Storage,
    StorageError,
    open_object_url,
    open_storage,
    split_object_url,
)
from providers.storage.base import fsync_dir
from workers.atomic import partial_name, sweep_stale
from workers.job_policy import JobRefused, WorkerPolicy, current, inside

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

#: Areas of a job storage that belong to the service: no output may be delivered into them.
RESERVED_AREAS = ("jobs/", "assets/")
_COPY_BUFFER = 1 << 20
# Errors of link() on filesystems without hard links (FAT, some FUSE and SMB mounts).
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


def local_output(target: str) -> str | None:
    """The local path an output names (a path or a ``file://`` URL); None for cloud URLs."""
    if "://" not in target:
        return os.path.abspath(target)
    parts = urlsplit(target)
    if parts.scheme.lower() != "file":
        return None
    return os.path.normpath(unquote(parts.path))


def job_area(target: str, store_url: str) -> str | None:
    """The reserved area (``jobs/``, ``assets/``) of the job storage ``target`` lies in, or None."""
    store = open_storage(store_url)
    local = local_output(target)
    if isinstance(store, LocalStorage):
        if local is None:
            return None  # a cloud object cannot be inside a local store
        real_root = os.path.realpath(store.root)
        real = os.path.realpath(local)
        if not inside(real, real_root):
            return None
        relative = os.path.relpath(real, real_root).replace(os.sep, "/")
    else:
        if local is not None:
            return None
        # A well-formed object URL; a bucket name the backend refuses is still compared.
        split_object_url(target, names=False)
        full, base = _segments(target), _segments(store.url)
        if full[: len(base)] != base:
            return None
        relative = "/".join(full[len(base) :])
    for area in RESERVED_AREAS:
        if relative.startswith(area) or relative == area.rstrip("/"):
            return area
    return None


def _segments(url: str) -> list[str]:
    """A cloud URL as [scheme, bucket, path segments...], empty segments dropped."""
    parts = urlsplit(url)
    return [parts.scheme.lower(), parts.netloc.lower(), *(s for s in parts.path.split("/") if s)]


def check_outputs(
    job_id: str,
    destination: object,
    output_url: object,
    store_url: str,
    policy: WorkerPolicy | None = None,
) -> None:
    """Refuse outputs in reserved areas or (local ones) outside the output roots."""
    policy = current() if policy is None else policy
    for kind, target in (("destination", destination), ("output URL", output_url)):
        if target is None:
            continue
        if not isinstance(target, str) or not target or "\x00" in target:
            raise JobRefused(f"job {job_id}: its {kind} {str(target)[:80]!r} is not usable")
        if kind == "destination" and "://" in target:
            raise JobRefused(f"job {job_id}: its local destination {target!r} is a URL")
        if kind == "output URL":
            try:
                split_object_url(target)
            except StorageError as exc:
                raise JobRefused(f"job {job_id}: {exc}") from None
        area = job_area(target, store_url)
        if area is not None:
            raise JobRefused(
                f"output {target} lies in the job storage's {area} area, which holds other "
                "jobs' files: choose a place outside it"
            )
        local = local_output(target)
        if local is not None:
            output_directory(local, policy)


def check_new_outputs(destination: str | None, output_url: str | None, store_url: str) -> None:
    """At submit: refuse outputs every worker would refuse, in a reserved area or taken.

    Output roots are each worker's own and are checked by every task (``JobSpec.timeline``);
    a client cannot know them.
    """
    check_outputs("(new)", destination, output_url, store_url, WorkerPolicy())
    if destination is not None and os.path.isdir(destination):
        # "already exists: remove it" told the user to delete a folder they meant to write in.
        raise JobRefused(f"output {destination} is a folder: name the video's file in it")
    for target in (destination, output_url):
        if target is not None and _taken(target):
            raise JobRefused(
                f"output {target} already exists: workers never replace a file or object they "
                "did not write; remove it or choose another name"
            )


def check_free(target: str) -> None:
    """Refuse an output path or URL where something already is (a malformed URL too), or
    one this process, which writes it itself, cannot (a missing bucket, denied access)."""
    if "://" in target:
        split_object_url(target)
    try:
        taken = _taken(target, strict=True)
    except StorageError as exc:
        raise StorageError(
            f"output {target} cannot be written: {exc}", key=exc.key, transient=exc.transient
        ) from None
    if taken:
        raise JobRefused(
            f"output {target} already exists: a delivery never replaces a file or object; "
            "remove it or choose another name"
        )


def _taken(target: str, *, strict: bool = False) -> bool:
    """Whether something is at an output path or URL already (False when storage cannot say;
    with ``strict``, StorageError unless the failure may pass: the delivery retries those)."""
    local = local_output(target)
    if local is not None:
        return os.path.lexists(local)
    try:
        storage, key = open_object_url(target)
        return storage.exists(key)
    except StorageError as exc:
        if strict and not exc.transient:
            raise
        return False  # no rights to look from the client: the merge checks with its own


def output_directory(dest: str, policy: WorkerPolicy) -> str:
    """The real directory a local output goes into, if the worker may write there."""
    if not os.path.isabs(dest):
        raise JobRefused(f"output {dest!r} is not an absolute path")
    directory, name = os.path.split(dest)
    if name in ("", ".", ".."):
        raise JobRefused(f"output {dest!r} does not name a file")
    real = os.path.realpath(directory)
    if policy.confined and not any(inside(real, root) for root in policy.output_roots):
        raise JobRefused(
            f"output {dest} is outside this worker's output roots (CLOUDRENDER_OUTPUT_ROOTS"
            f"{'' if policy.output_roots else ': none configured'})"
        )
    return real


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
