"""Image sequences in the asset cache: naming a sequence's images, and linking them together.

A synced document names each image of a sequence by content hash (``workers.assets``); the
decoder wants image ``n`` beside the first under its sequence name. ``sequence_folder`` fetches
every image into the cache and links them, under those names, into ``sequences/<hash>/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.model import ImageSequence
from common.errors import MediaError
from providers.storage.base import Storage
from workers.assets import _FETCH_ATTEMPTS, _TMP_PREFIX, SEQUENCES, AssetCache, AssetCacheBusy

#: Images one sequence may have (the OTIO importer's bound, chunking.timeline.otio_media).
MAX_SEQUENCE_IMAGES = 1_000_000


def sequence_names(sequence: Mapping[str, Any]) -> list[str]:
    """The file names of an ``image_sequence`` object's images, in order; MediaError when the
    object cannot name them (a name with a folder in it included)."""
    try:
        prefix, suffix = sequence["prefix"], sequence["suffix"]
        numbers = [sequence.get(k, d) for k, d in (("start_frame", 0), ("count", 0))]
        numbers += [sequence.get("frame_step", 1), sequence.get("padding", 0)]
        if not (isinstance(prefix, str) and isinstance(suffix, str)):
            raise TypeError("prefix and suffix must be strings")
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
            raise TypeError("start_frame, count, frame_step and padding must be integers")
    except (KeyError, TypeError) as exc:
        raise MediaError(f"image_sequence cannot name its images ({exc})") from None
    start, count, step, padding = numbers
    if any(bad in prefix + suffix for bad in ("/", "\\", "\x00")) or prefix + suffix in ("", "."):
        raise MediaError(f"image_sequence names {prefix!r}...{suffix!r} must not name a folder")
    if not (1 <= count <= MAX_SEQUENCE_IMAGES and step >= 1 and 0 <= padding <= 32):
        raise MediaError(
            f"image_sequence needs 1 to {MAX_SEQUENCE_IMAGES} images, a frame_step of 1 or more "
            "and a padding of 0 to 32"
        )
    images = ImageSequence(prefix, suffix, start, count, Fraction(1), step, padding)
    return [images.name(n) for n in range(count)]


def sequence_folder(
    cache: AssetCache, storage: Storage, names: list[str], refs: list[object]
) -> str:
    """A cache folder holding each asset of ``refs`` linked under the name at the same index of
    ``names``, every asset fetched and verified; the path of the first image."""
    if len(refs) != len(names) or not all(isinstance(r, str) for r in refs):
        raise MediaError(
            f"image_sequence assets must be {len(names)} asset references, one per image"
        )
    key = hashlib.sha256(json.dumps([names, refs]).encode()).hexdigest()[:40]
    folder = os.path.join(cache.root, SEQUENCES, key)
    for _ in range(_FETCH_ATTEMPTS):
        targets = [cache.path(storage, str(ref), evict=False) for ref in refs]
        # One eviction pass for the lot; the images just fetched are the most recently used.
        cache.evict()
        if not _linked(folder, names):
            _link_folder(folder, names, targets)
        # Every link must still lead to its image: others may have evicted some meanwhile.
        if _linked(folder, names):
            return os.path.join(folder, names[0])
    raise AssetCacheBusy(
        f"images of a sequence were evicted from the cache {cache.root} by other workers "
        f"{_FETCH_ATTEMPTS} times before all were there; raise the cache size"
    )


def _linked(folder: str, names: list[str]) -> bool:
    """Whether ``folder`` has every name, each leading to a file."""
    return all(os.path.isfile(os.path.join(folder, name)) for name in names)


def _link_folder(folder: str, names: list[str], targets: list[str]) -> None:
    """Make ``folder`` hold a relative link per name to its target, all at once."""
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    shutil.rmtree(folder, ignore_errors=True)  # a folder with a broken link is rebuilt
    tmp = os.path.join(parent, f"{_TMP_PREFIX}{secrets.token_hex(8)}")
    os.mkdir(tmp)
    try:
        for name, target in zip(names, targets, strict=True):
            os.symlink(os.path.relpath(target, folder), os.path.join(tmp, name))
        os.rename(tmp, folder)
    except OSError:
        if not os.path.isdir(folder):
            raise
        # Another process built the same folder first: theirs links the same files.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
