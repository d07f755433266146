"""FCPXML assets that do not say whether they have sound or picture: their files are read.

An ``<asset>`` without ``hasAudio`` (or ``hasVideo``) is what tools writing FCPXML for Final
Cut to finish leave out; Final Cut reads the file and plays its sound. The amendments read
the DTD's default (no sound), so each clip of such a video rendered silent without a word.
Now the asset's file (where its ``src`` or ``media-rep`` says, else a file of that name in the
export's folder or its ``media`` folder, where a relink looks; for an ``.fcpxmld`` bundle the
folder holding it) is opened and the attributes
set from its streams. A file that cannot be read keeps the default: the media checks name it.
The HTTP service's exports (media declared, not there: ``otio_timecode.declared_media``) are
not probed: the paths they name are the client's, and the server's own files must not answer.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from chunking.timeline.media_paths import file_name, local_path
from chunking.timeline.otio_timecode import media_declared
from common.media_formats import FFMPEG_INPUT_OPTIONS

#: Folders of the export's folder a file named by its name alone is looked for in.
_FOLDERS = ("", "media", "Media")
#: The most assets whose files one import opens: a hostile export must not make it open
#: thousands (each costs a file open and a header parse).
MAX_PROBED = 500


def probe_media_kinds(root: Any, base_dir: str) -> bool:
    """Set ``hasAudio``/``hasVideo`` on each asset without them from its file's streams (see
    the module docstring); whether any was set."""
    if media_declared():
        return False  # the HTTP service's export: its files are placeholders, and a path it
        # names must not make the server open its own files
    changed = False
    probed = 0
    for asset in root.iter("asset"):
        if asset.get("hasAudio") is not None and asset.get("hasVideo") is not None:
            continue
        if probed >= MAX_PROBED:
            break
        path = _file_of(asset, base_dir)
        if path is None:
            continue
        probed += 1
        kinds = _streams(path)
        if kinds is None:
            continue
        for name, present in zip(("hasVideo", "hasAudio"), kinds, strict=True):
            if asset.get(name) is None:
                asset.set(name, "1" if present else "0")
                changed = True
    return changed


def export_folder(path: str) -> str:
    """The folder an FCPXML's media are relinked in: its own, or the one holding its
    ``.fcpxmld`` bundle (Final Cut Pro 10.6's export: ``Info.fcpxml`` in a folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    return os.path.dirname(folder) if folder.lower().endswith(".fcpxmld") else folder


def _file_of(asset: Any, base_dir: str) -> str | None:
    """The local file an asset names, where it is on this machine, or None."""
    reps = asset.findall("media-rep")
    rep = next((r for r in reps if r.get("kind") == "original-media"), None)
    rep = rep if rep is not None else next(iter(reps), None)
    src = asset.get("src") or (rep.get("src") if rep is not None else None)
    if not src or "\x00" in src:
        return None
    path = local_path(src)
    if path.startswith("file:"):  # file:./a.mov, a relative URL
        path = path[5:]
    candidates = [path if os.path.isabs(path) else os.path.join(base_dir, path)]
    name = file_name(src)
    if name and name not in (".", ".."):
        candidates += [os.path.join(base_dir, folder, name) for folder in _FOLDERS]
    return next((c for c in candidates if _regular(c)), None)


def _regular(path: str) -> bool:
    """Whether ``path`` is a regular file: FFmpeg would wait on a FIFO's open for ever."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _streams(path: str) -> tuple[bool, bool] | None:
    """Whether a media file has (picture, sound), or None when it cannot be read."""
    import av  # only exports that leave the kinds out need the decoder library

    try:
        with av.open(
            "file:" + os.path.abspath(path),
            container_options=FFMPEG_INPUT_OPTIONS,
            metadata_errors="replace",
        ) as container:
            return bool(container.streams.video), bool(container.streams.audio)
    except (av.error.FFmpegError, OSError, ValueError):
        return None
