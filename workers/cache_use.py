"""The worker side of the segment cache (orchestrator.segment_cache), reached through the hooks.

A rendered segment or audio mix is also kept under its content key when the job uses the cache
and this worker renders exactly as the job's keys assume (its render fingerprint). The worker
works that key out itself, from the job's timeline and the media files it reads, and keeps
nothing when the job document names another (a Redis writer aiming at someone else's entry).
The merge takes the chunks planned as reused from the cache, and hands back to rendering any
it cannot read (``Hooks.cache_lost``), so they render after all and a new merge follows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av

from chunking.content_audio_key import audio_key
from chunking.content_key import as_encoded, chunk_key, video_cacheable
from chunking.timeline.model import Timeline
from common.errors import RenderError
from providers.storage.base import TMP_PREFIX, ObjectNotFound, Storage, StorageError
from workers import hooks
from workers.assets import sha256_file
from workers.encoder import encodes_in_software
from workers.fingerprint import render_fingerprint
from workers.job_spec import JobSpec
from workers.media_ids import LocalIds
from workers.media_open import open_media
from workers.stitch import MergeError, SegmentInfo, inspect_segment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheClaim:
    """The content key a part is kept under in the segment cache, worked out by this worker
    from the job's own timeline and the media files on its disk (``ids``), never taken from
    the job document (anyone who writes Redis writes that)."""

    key: str
    ids: LocalIds


def segment_claim(spec: JobSpec, index: int, start: int, end: int) -> CacheClaim | None:
    """What frames [start, end) of chunk ``index`` may be kept under, before they render; None
    when the job does not cache them, or its key for them is not the one worked out here."""
    wanted = spec.chunk_cache_key(index)
    timeline = _cacheable(spec, wanted)
    if wanted is None or timeline is None:
        return None
    software = encodes_in_software(timeline.export)
    if not (video_cacheable(timeline.export) or software):
        return None  # a hardware encoder opens here: its bytes are not a function of the key
    ids = LocalIds(timeline)
    try:
        # Keyed as the planner keys it where no hardware encoder opens (as one not asking).
        key = chunk_key(as_encoded(timeline, software), start, end, ids, spec.fingerprint)
    except (KeyError, RenderError):
        return None  # a file without an id here (unreadable), or a range the job has not
    return _claim(spec, f"chunk {index} (frames {start}-{end})", wanted, key, ids)


def audio_claim(spec: JobSpec) -> CacheClaim | None:
    """What the job's audio mix may be kept under, before it is mixed; as ``segment_claim``."""
    wanted = spec.audio_cache_key if spec.use_cache else None
    timeline = _cacheable(spec, wanted)
    if wanted is None or timeline is None:
        return None
    ids = LocalIds(timeline)
    try:
        key = audio_key(timeline, ids, spec.fingerprint)
    except KeyError:
        return None
    return _claim(spec, "audio mix", wanted, key, ids)


def _cacheable(spec: JobSpec, wanted: str | None) -> Timeline | None:
    """The job's timeline when it asks to cache a part and this worker renders as its keys
    assume (its render fingerprint); else None."""
    if not wanted or not spec.fingerprint or render_fingerprint() != spec.fingerprint:
        return None  # another renderer's output must not answer for the job's fingerprint
    return spec.timeline()


def _claim(spec: JobSpec, what: str, wanted: str, key: str, ids: LocalIds) -> CacheClaim | None:
    if key != wanted:
        # The document's key is not that of what renders here: a writer of the job's record
        # aiming at another job's entry, or media whose content id was misremembered.
        log.warning(
            "job %s: the segment cache key of its %s is not the content key of what it renders "
            "here; it is not kept in the cache",
            spec.id,
            what,
        )
        return None
    return CacheClaim(key, ids)


def keep(
    service: hooks.Hooks, storage: Storage, spec: JobSpec, claim: CacheClaim | None, path: str
) -> None:
    """Put a finished segment or audio mix into the segment cache under the key claimed for it
    before it rendered, if its media files are still what that key was worked out from; never
    fails the task."""
    if claim is None:
        return
    if not claim.ids.unchanged():
        log.warning(
            "job %s: a media file changed while it rendered: not kept in the cache", spec.id
        )
        return
    try:
        service.cache_put(storage, claim.key, path)
    except Exception as exc:  # noqa: BLE001 - the job's own copy is stored; caching is a bonus
        log.warning("job %s: not kept in the segment cache: %s", spec.id, exc)


@dataclass
class MergeParts:
    """A merge's parts as local files: each chunk's segment (path, start, end), read and checked
    once (``infos``, by path, for the stitch to take as they are), and the audio mix."""

    segments: list[tuple[str, int, int]]
    audio: str | None
    infos: dict[str, SegmentInfo] = field(default_factory=dict)
    #: Hard links that pin stored objects read in place (``_local``); ``release`` removes them.
    pins: list[str] = field(default_factory=list)

    def release(self) -> None:
        """Remove the pins of the objects read in place (the objects themselves stay)."""
        pins, self.pins = self.pins, []
        for pin in pins:
            with contextlib.suppress(OSError):  # gone: a cancel removed the job's temps
                os.unlink(pin)
            with contextlib.suppress(OSError):  # not empty: another merge's pins are there
                os.rmdir(os.path.dirname(pin))


def merge_parts(
    service: hooks.Hooks,
    spec: JobSpec,
    storage: Storage,
    fps: Fraction,
    indexes: list[int],
    audio: bool,
    tmp: str,
) -> MergeParts | None:
    """A merge's parts, from the job's own objects or the segment cache; None when parts were
    lost (they are handed back to rendering, and a new merge follows). The caller calls
    ``release`` on what it gets once the stitch is done."""
    parts = MergeParts([], None)
    try:
        whole = _merge_parts(service, spec, storage, fps, indexes, audio, (tmp, parts))
    except BaseException:
        parts.release()
        raise
    if not whole:
        parts.release()
        return None
    return parts


def _merge_parts(
    service: hooks.Hooks,
    spec: JobSpec,
    storage: Storage,
    fps: Fraction,
    indexes: list[int],
    audio: bool,
    into: tuple[str, MergeParts],
) -> bool:
    """Fill ``parts`` (``into``: a temp directory, the parts) with merge_parts's parts;
    False when parts were lost (handed back to rendering)."""
    tmp, parts = into
    lost: list[int] = []
    digests = service.segment_digests(spec.id)
    renders = service.chunk_renders(spec.id)
    for i in indexes:
        start, end = spec.chunks[i]
        what = f"segment of chunk {i}"

        def check(path: str, i: int = i, start: int = start, end: int = end) -> None:
            # Stitching rebuilds timestamps from the chunk's start: a segment cached at another
            # offset (time inserted before it) lands where this job needs it.
            parts.infos[path] = inspect_segment(path, index=i, start=start, end=end, fps=fps)

        try:
            path, own = _part(service, storage, spec.segment_key(i), spec.chunk_cache_key(i),
                              (tmp, what, parts.pins), check)  # fmt: skip
            expected = digests.get(i)
            if path is not None and own:
                if expected and sha256_file(path) != expected:
                    raise MergeError(
                        f"merge: the segment of chunk {i} (frames {start}-{end}) in storage is "
                        "not the one its worker stored (its sha256 differs): the storage "
                        "damaged or replaced it"
                    )
                check(path)
        except (MergeError, SegmentMissing) as exc:
            # The job's own segment is gone or damaged: render the chunk again rather than
            # lose the job, unless it was rendered that often already (or the job keeps no
            # record of it: nothing would render it).
            rendered = renders.get(i)
            if rendered is None:
                raise
            if rendered >= MAX_SEGMENT_RENDERS:
                raise MergeError(f"{exc} (chunk {i} was rendered {rendered} times)") from None
            log.warning("job %s: %s; chunk %d renders again", spec.id, exc, i)
            if isinstance(exc, MergeError):
                # Gone from storage, or the render would find it there and take it as done.
                _discard(storage, spec.segment_key(i))
            path = None
        if path is None:
            lost.append(i)
            continue
        parts.segments.append((path, start, end))
    if audio:
        cached_audio = spec.audio_cache_key if spec.use_cache else None
        parts.audio, _ = _part(service, storage, spec.audio_key, cached_audio,
                               (tmp, "audio", parts.pins), _check_audio)  # fmt: skip
    audio_lost = audio and parts.audio is None
    if lost or audio_lost:
        service.cache_lost(spec.id, lost, audio_lost)
        return False
    return True


def _part(
    service: hooks.Hooks,
    storage: Storage,
    own: str,
    cached: str | None,
    paths: tuple[str, str, list[str]],
    check: Callable[[str], object],
) -> tuple[str | None, bool]:
    """A local path of a part of the job (``paths``: a temp directory, what messages call it,
    the pins made so far) and whether it is the job's own object ``own``; else, for a part
    reused at planning, its segment cache entry ``cached`` once ``check`` passes it
    (MergeError: unusable). The path is None when the cache cannot give it now."""
    tmp, what, pins = paths
    if cached is None or storage.exists(own):
        return _local(storage, own, (tmp, what), pins), True
    path = os.path.join(tmp, "cached-" + own.replace("/", "_"))
    try:
        service.cache_get(storage, cached, path)
        check(path)
    except ObjectNotFound:
        return None, False
    except MergeError as exc:
        log.warning("cached %s unusable: %s", what, exc)
        service.cache_discard(storage, cached)
        return None, False
    return path, False


def _check_audio(path: str) -> None:
    """Raise MergeError unless an audio file opens and holds audio packets."""
    try:
        with open_media(path) as container:
            if container.streams.audio and any(
                p.size for p in container.demux(container.streams.audio[0])
            ):
                return
    except (RenderError, av.error.FFmpegError, OSError, ValueError):
        pass
    raise MergeError(f"{path} holds no readable audio")


class SegmentMissing(RenderError):
    """A part the merge needs is not in storage."""


#: Renders of a chunk after which a segment of it lost or damaged in storage fails the job
#: (it is rendered again until then).
MAX_SEGMENT_RENDERS = 3


def _local(storage: Any, key: str, paths: tuple[str, str], pins: list[str]) -> str:
    """A local path for a stored object (``paths``: a temp directory, what messages call it):
    a pin of the object itself on local storage (added to ``pins``), else a copy."""
    tmp, what = paths
    path: str | None = storage.local_path(key)
    if path is not None and os.path.exists(path):
        pin = _pin(path)
        if pin is not None:
            pins.append(pin)
            return pin
    dest = os.path.join(tmp, key.replace("/", "_"))
    try:
        storage.get_file(key, dest)
    except ObjectNotFound:
        raise SegmentMissing(f"merge: the {what} is missing from storage ({key})") from None
    return dest


#: The folder beside a stored object that holds merges' pins of it: a temp name of the storage
#: (never listed, removed with the job's temps), and not the object's own folder, whose temps
#: an hour older than a new write there are removed as a killed writer's (a pin has the age
#: of its object).
PIN_FOLDER = TMP_PREFIX + "pins"


def _pin(path: str) -> str | None:
    """A hard link to the file at ``path``, or None where the file system has none (or the
    file just went). The merge checks and stitches the link: a write that renames a new file
    over the object's name (a late copy of its chunk finishing during the merge) would
    otherwise have the stitch read bytes its checks never saw."""
    folder = os.path.join(os.path.dirname(path), PIN_FOLDER)
    pin = os.path.join(folder, f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}-{os.path.basename(path)}")
    try:
        # Not makedirs: an object's folder removed meanwhile (a cancel) must not be made again.
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder)
        os.link(path, pin)
    except OSError:
        with contextlib.suppress(OSError):
            os.rmdir(folder)
        return None
    return pin


def _discard(storage: Storage, key: str) -> None:
    """Delete a damaged object; one that cannot be deleted is found damaged again next time."""
    try:
        storage.delete(key)
    except StorageError as exc:
        log.warning("cannot delete the damaged %s: %s", key, exc)
