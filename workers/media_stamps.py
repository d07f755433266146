"""The media a job reads, as they were when it was submitted: a file replaced or edited while
the job renders would give a video whose early chunks show the old file and later ones the new,
so each chunk (and the audio mix) checks every local media file before it renders and again
before it stores what it rendered: its size, time, inode and change time (``file_stamp``).

An image sequence (a VFX hand-off, re-exported by the artist while the edit renders) gets one
stamp for all its images, a digest of their names, sizes and times: a 10,000-image sequence
adds one entry to the job document, not 10,000.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from chunking.timeline.model import FileSource, Timeline
from common.errors import RenderError
from workers.job_policy import JobRefused

#: Starts the key of a sequence's stamp: no media path (absolute) starts so.
SEQUENCE_KEY = "sequence:"


def media_stamps(timeline: Timeline) -> dict[str, list[int]]:
    """``file_stamp`` of each local media file of the timeline (by path), and [images, digest]
    of each image sequence (by ``sequence_key``), as they are now."""
    stamps: dict[str, list[int]] = {}
    for track in timeline.tracks:
        for clip in track.clips:
            source = clip.source
            if not isinstance(source, FileSource):
                continue
            if source.sequence is not None:
                key = sequence_key(source)
                if key not in stamps:
                    stamps[key] = sequence_stamp(source)
            if source.path in stamps:
                continue
            try:
                stamps[source.path] = file_stamp(source.path)
            except OSError:
                continue  # the render names a missing file itself
    return stamps


def file_stamp(path: str) -> list[int]:
    """[size, mtime_ns, inode, ctime_ns] of a file: a copy over it that keeps its size and puts
    its time back (`cp -p`, `rsync -t`) still changes the last two, which nobody can set."""
    stat = os.stat(path)
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns]


def sequence_key(source: FileSource) -> str:
    """The stamp key of an image sequence: its first image and how its images are named."""
    images = source.sequence
    assert images is not None
    naming = f"{images.prefix}|{images.suffix}|{images.start_frame}|{images.frame_step}"
    return f"{SEQUENCE_KEY}{source.path}|{naming}|{images.padding}|{images.count}"


def sequence_stamp(source: FileSource) -> list[int]:
    """[images, digest]: the digest of every image's name and ``file_stamp`` (a missing image
    counts as such: the render names it)."""
    images = source.sequence
    assert images is not None
    folder = os.path.dirname(source.path)
    digest = hashlib.sha256()
    for n in range(images.count):
        name = images.name(n)
        try:
            stamp = "\0".join(str(v) for v in file_stamp(os.path.join(folder, name)))
            digest.update(f"{name}\0{stamp}\n".encode())
        except OSError:
            digest.update(f"{name}\0missing\n".encode())
    # 52 bits: a whole number any JSON reader keeps exactly.
    return [images.count, int(digest.hexdigest()[:13], 16)]


def check_stamps(stamps: dict[str, Any], timeline: Timeline) -> None:
    """RenderError naming the first media file or image sequence that changed since its stamp
    was taken, and the timeline's clips that show it.

    Only the timeline's own files are looked at (the worker vetted them against its media
    roots when it loaded the timeline): a stamp for any other path refuses the job before
    anything is looked up, with the same words whether such a file exists or not, so a job
    document cannot probe the worker's disk.
    """
    users: dict[str, list[str]] = {}
    for track in timeline.tracks:
        for clip in track.clips:
            if isinstance(clip.source, FileSource):
                users.setdefault(clip.source.path, []).append(clip.id)
    stranger = next(
        (key for key in stamps if not key.startswith(SEQUENCE_KEY) and key not in users), None
    )
    if stranger is not None:
        raise JobRefused(
            f"job document field media_stamps names {str(stranger)[:200]!r}, which is not a "
            "media file of the job's timeline"
        )
    for key, stamp in stamps.items():
        if key.startswith(SEQUENCE_KEY):
            # Looks only at the timeline's own sequences (their images are under its roots).
            _check_sequence(key, stamp, timeline)
            continue
        try:
            now = file_stamp(key)
        except OSError:
            continue  # gone: the render names it
        if now[: len(stamp)] != list(stamp):  # a job of an older client stamped two of them
            raise RenderError(
                f"clip {_named(users[key])}: media {key} changed while the job rendered (its "
                "size or time differs from when it was submitted): chunks would mix the old "
                "and the new file; render again"
            )


def _check_sequence(key: str, stamp: Any, timeline: Timeline) -> None:
    """RenderError when an image of the sequence stamped under ``key`` changed."""
    users = [
        c
        for t in timeline.tracks
        for c in t.clips
        if isinstance(c.source, FileSource)
        and c.source.sequence is not None
        and sequence_key(c.source) == key
    ]
    if not users:
        return  # not in this timeline: nothing of it is rendered
    source = users[0].source
    assert isinstance(source, FileSource)
    if sequence_stamp(source) != list(stamp):
        folder = os.path.dirname(source.path)
        raise RenderError(
            f"clip {_named([c.id for c in users])}: images of the image sequence {source.path} "
            f"(in {folder}) changed while the job rendered (an image's size or time differs "
            "from when it was submitted): chunks would mix the old and the new images; "
            "render again"
        )


def _named(users: list[str]) -> str:
    """The first few clip ids, quoted."""
    return ", ".join(repr(u) for u in users[:3]) or "(none)"
