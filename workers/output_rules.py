"""Where a finished video may go: the rules an output is checked against before it is written.

A job's own objects (segments, audio, output) live under its storage prefix ``jobs/<id>/``. A
job may also ask for the video at a local path (``destination``, a shared disk) or at an object
URL (``output_url``: ``file://``, ``s3://``, ``gs://``, ``az://``). Rules, checked by the client
at submit (``orchestrator.api``) and again by the merge before it writes:

* no output lies in the job storage's ``jobs/`` or ``assets/`` areas (another job's files, or
  media other jobs fetch by hash), whatever the spelling: local paths are compared after
  symlinks are resolved, object URLs after their storage URL is normalised;
* a local output (a path, or a ``file://`` URL) goes into a directory whose real path is under
  the worker's output roots (when the worker is confined, ``workers.job_policy``);
* nothing is at the output already (``workers.delivery`` never replaces what is not this job's).

The checks run at submit (``check_new_outputs``, in the client), for ``cloudrender render``'s own
output (``check_free``) and in every worker's task (``check_outputs``); ``workers.delivery``
writes the video once they pass.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from providers.storage import (
    LocalStorage,
    StorageError,
    open_object_url,
    open_storage,
    split_object_url,
)
from workers.job_policy import JobRefused, WorkerPolicy, current, inside

#: Areas of a job storage that belong to the service: no output may be delivered into them.
RESERVED_AREAS = ("jobs/", "assets/")


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
