"""What a worker lets a job ask for: the worker's own configuration decides, the job only asks.

A job document arrives through Redis, which anyone who can write to Redis controls, so nothing
in it is taken as given. A worker's ``Settings`` name its storage (``CLOUDRENDER_STORAGE_URL``),
the directories it may read media from (``CLOUDRENDER_MEDIA_ROOTS``) and those it may deliver
videos into (``CLOUDRENDER_OUTPUT_ROOTS``). A worker with any of the three set is *confined*:

* the job's storage must be the worker's own (compared as ``Storage.url``, so ``/srv/cr`` and
  ``file:///srv/cr/`` are the same);
* media it opens are its asset cache's files (content-addressed references resolved by
  ``workers.assets``) or files whose real path (symlinks resolved) lies under a media root;
* it delivers a local file only into a directory whose real path lies under an output root.

A worker with none of them set (a test cluster, a worker started by hand) takes the job's
storage, media paths and output directory as given, and says so once in its log. Whatever the
mode, a job's id must be a plain name (its storage prefix ``jobs/<id>/`` cannot escape), and an
output never replaces a file that is not the job's own or goes through a symlink
(``workers.delivery``). Refusals are ``JobRefused``: deterministic, one line, never retried.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chunking.timeline.model import FileSource, Timeline
from common.errors import MediaError, RenderError
from common.settings import Settings
from providers.storage import StorageError, open_storage
from workers.asset_sequences import sequence_names
from workers.assets import ASSET_REF_PREFIX, media_fields

__all__ = [
    "JobRefused",
    "WorkerPolicy",
    "admit",
    "check_identity",
    "check_loaded_media",
    "check_media",
    "current",
    "inside",
    "policy_env",
]

log = logging.getLogger(__name__)

#: What a job id may be: its storage prefix ``jobs/<id>/`` must not reach another job's.
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class JobRefused(RenderError):
    """A job asks for something this worker's configuration does not allow (never retried)."""


@dataclass(frozen=True)
class WorkerPolicy:
    """A worker's own limits on what jobs may name, from its settings."""

    #: the worker's storage as ``Storage.url``; None: none configured
    storage_url: str | None = None
    #: real paths of the directories media may be read from (besides the asset cache)
    media_roots: tuple[str, ...] = ()
    #: real paths of the directories finished videos may be delivered into
    output_roots: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerPolicy:
        """The policy a worker with these settings enforces."""
        storage = normalized_storage(settings.storage_url) if settings.storage_url else None
        return cls(
            storage_url=storage,
            media_roots=tuple(os.path.realpath(p) for p in settings.media_roots),
            output_roots=tuple(os.path.realpath(p) for p in settings.output_roots),
        )

    @property
    def confined(self) -> bool:
        """Whether this worker configured anything of its own (else it trusts each job)."""
        return bool(self.storage_url or self.media_roots or self.output_roots)


_warned = [False]


def current() -> WorkerPolicy:
    """This process's policy, from its settings (read each time: tests change the environment)."""
    policy = WorkerPolicy.from_settings(Settings.from_env())
    if not policy.confined and not _warned[0]:
        _warned[0] = True
        log.warning(
            "this worker has no CLOUDRENDER_STORAGE_URL, CLOUDRENDER_MEDIA_ROOTS or "
            "CLOUDRENDER_OUTPUT_ROOTS: it takes each job's storage, media paths and output "
            "directory as given; set them to confine it"
        )
    return policy


def policy_env(
    *, storage_url: str, media_roots: Iterable[str] = (), output_roots: Iterable[str] = ()
) -> dict[str, str]:
    """The environment (the variables ``Settings`` reads) that gives a worker this policy."""
    return {
        "CLOUDRENDER_STORAGE_URL": storage_url,
        "CLOUDRENDER_MEDIA_ROOTS": os.pathsep.join(media_roots),
        "CLOUDRENDER_OUTPUT_ROOTS": os.pathsep.join(output_roots),
    }


def normalized_storage(url: str) -> str:
    """One spelling of a storage URL (``Storage.url``), so equal storages compare equal."""
    try:
        return str(open_storage(url).url).rstrip("/")
    except StorageError as exc:
        raise JobRefused(f"job storage {url!r} cannot be used: {exc}") from None


def inside(path: str, root: str) -> bool:
    """Whether normalised absolute ``path`` is ``root`` or lies below it."""
    return os.path.commonpath([path, root]) == root


def admit(job_id: object, storage_url: object, policy: WorkerPolicy | None = None) -> None:
    """Refuse a job whose id is not a plain name or whose storage is not this worker's."""
    check_id(job_id)
    policy = current() if policy is None else policy
    if not isinstance(storage_url, str) or not storage_url:
        raise JobRefused(f"job {job_id}: its storage URL is missing")
    if policy.storage_url is None:
        return
    if normalized_storage(storage_url) != policy.storage_url:
        raise JobRefused(
            f"job {job_id} names storage {storage_url}, which is not this worker's storage "
            f"({policy.storage_url}): a worker writes only to its own CLOUDRENDER_STORAGE_URL"
        )


def check_id(job_id: object) -> str:
    """A job id that is a plain name (letters, digits, ``_``, ``-``); JobRefused otherwise."""
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        raise JobRefused(f"job id {str(job_id)[:80]!r} is not a plain name")
    return job_id


def check_identity(spec_id: object, job_id: str) -> None:
    """Refuse a document that names another job than the one the task was sent for."""
    if spec_id != job_id:
        raise JobRefused(
            f"job {job_id}: its document names job {str(spec_id)[:80]!r}; a job writes only "
            "under its own storage prefix"
        )


def check_media(
    document: Mapping[str, Any],
    base_dir: object,
    *,
    assets: bool,
    policy: WorkerPolicy | None = None,
) -> None:
    """Refuse media paths outside the media roots, before anything is opened or even looked at.

    Asset references (a synced job) are resolved into the worker's cache and pass; plain paths
    are resolved against ``base_dir`` as the loader does, symlinks included. The message is the
    same whether the file exists or not.
    """
    policy = current() if policy is None else policy
    if not policy.confined:
        return
    problems: list[str] = []
    for field in media_fields(dict(document)):
        raw = field.value
        if assets and isinstance(raw, str) and raw.startswith(ASSET_REF_PREFIX):
            continue  # resolved into the cache by content hash, verified on download
        if not isinstance(raw, str) or not isinstance(base_dir, str) or "\x00" in raw:
            problems.append(f"media of clip {field.clip_id!r} is not a path")
            continue
        full = raw if os.path.isabs(raw) else os.path.join(base_dir, raw)
        files = [full]
        if field.sequence is not None:
            # Every image of a sequence is opened, not just the first the field names.
            try:
                files = [
                    os.path.join(os.path.dirname(full), n) for n in sequence_names(field.sequence)
                ]
            except MediaError as exc:
                problems.append(f"clip {field.clip_id!r}: {exc}")
                continue
        outside = next(
            (f for f in files if not _allowed(os.path.realpath(f), policy.media_roots)), None
        )
        if outside is not None:
            problems.append(_outside(raw if outside == full else outside, field.clip_id))
    if problems:
        raise JobRefused("; ".join(problems))


def check_loaded_media(
    timeline: Timeline, cache_root: str, policy: WorkerPolicy | None = None
) -> None:
    """Refuse a loaded timeline with any file source outside the media roots and the cache.

    The second line of defence behind ``check_media``: whatever the loader made of the
    document, no file outside the roots reaches a decoder.
    """
    policy = current() if policy is None else policy
    if not policy.confined:
        return
    # The codec stack (NumPy, PyAV, Pillow): loaded by the worker that checks a timeline, not
    # by a render's client, which imports this module for its workers' environment before it
    # spawns them.
    from workers.sequences import sequence_files

    allowed = (*policy.media_roots, os.path.realpath(cache_root))
    for track in timeline.tracks:
        for clip in track.clips:
            if not isinstance(clip.source, FileSource):
                continue
            for path in sequence_files(clip.source):  # each image of a sequence
                if not _allowed(os.path.realpath(path), allowed):
                    raise JobRefused(_outside(path, clip.id))


def _allowed(real: str, roots: Sequence[str]) -> bool:
    return any(inside(real, root) for root in roots)


def _outside(path: str, clip_id: str) -> str:
    return (
        f"media {path!r} of clip {clip_id!r} is outside this worker's media roots "
        "(CLOUDRENDER_MEDIA_ROOTS; or submit with asset sync)"
    )


#: The job document's fields and the JSON types each may hold (None: optional, null allowed).
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": ((str,), True),
    "project": ((dict,), True),
    "base_dir": ((str,), True),
    "export": ((dict,), True),
    "storage_url": ((str,), True),
    "frames": ((int,), True),
    "output_ext": ((str,), True),
    "keep_segments": ((bool,), False),
    "chunks": ((list,), False),
    "chunk_frames": ((int, type(None)), False),
    "destination": ((str, type(None)), False),
    "output_url": ((str, type(None)), False),
    "encrypted": ((bool,), False),
    "assets": ((bool,), False),
    "media_stamps": ((dict,), False),
}
_EXT = re.compile(r"^[a-z0-9]{1,8}$")


def check_document(data: object) -> None:
    """Refuse a job document with a missing field or a field of the wrong JSON type."""
    if not isinstance(data, Mapping):
        raise JobRefused("job document is not a JSON object")
    for name, (types, required) in _FIELDS.items():
        if name not in data:
            if required:
                raise JobRefused(f"job document has no {name}")
            continue
        value = data[name]
        # bool is an int in Python; JSON keeps them apart, and so does this check.
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            raise JobRefused(f"job document field {name} has the wrong type")
    check_id(data["id"])
    if not _EXT.match(data["output_ext"]):
        raise JobRefused(
            f"job document field output_ext {data['output_ext'][:20]!r} is not a file extension"
        )
    for path, stamp in (data.get("media_stamps") or {}).items():
        if not (
            isinstance(stamp, list)
            and len(stamp) in (2, 4)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in stamp)
        ):
            raise JobRefused(
                f"job document field media_stamps holds {str(path)[:200]!r} with a stamp that is "
                "not [size, mtime_ns, inode, ctime_ns]"
            )
    for pair in data.get("chunks") or []:
        if not (
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
        ):
            raise JobRefused("job document field chunks must hold [start, end] frame pairs")
