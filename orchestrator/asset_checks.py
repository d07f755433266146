"""Input safety of a project's media before anything is uploaded (``orchestrator.assets``).

A relative path must stay inside the project directory (after ``..`` and symlinks are
resolved), URLs are refused (download them first), and each file must be a readable regular
file no larger than the limit that a worker would open: an allowed media format whose first
frames decode (``workers.probe.media_problem``; Pillow's header for an image sequence's later
images).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from chunking.timeline.model import IMAGE_EXTENSIONS
from common.units import format_size

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class LocalFile:
    """A media file that passed the input checks."""

    full: str  # as the loader resolves it
    real: str  # with symlinks resolved: the identity used to hash each file once
    size: int
    mtime_ns: int


def resolve_path(path: str, base_dir: str) -> str:
    """The file ``path`` names, resolved against ``base_dir`` exactly as the loader does."""
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))


def path_problem(path: str, base_dir: str) -> str | None:
    """Why ``path`` may not be uploaded on its own terms (URL, escape), or None when it may."""
    if not path:
        return "media path is empty"
    if "\x00" in path:
        return f"media path {path!r} contains a NUL character"
    url = _URL.match(path)
    if url:
        return (
            f"media path {path!r} is a {url.group(1).lower()}:// URL, not a file; download it "
            "first and refer to the local copy"
        )
    if os.path.isabs(path):
        return None
    base = os.path.abspath(base_dir)
    if not _inside(os.path.normpath(os.path.join(base, path)), base):
        return f"media path {path!r} points outside the project directory {base}"
    # A symlink inside the project may lead anywhere; what it reaches must stay inside too.
    real_base = os.path.realpath(base)
    if not _inside(os.path.realpath(os.path.join(base, path)), real_base):
        return f"media path {path!r} leads through a symlink outside the project directory {base}"
    return None


def _inside(path: str, base: str) -> bool:
    """Whether normalised absolute ``path`` is ``base`` or lies below it."""
    return os.path.commonpath([path, base]) == base


def check_file(
    path: str, full: str, max_bytes: int, probed: dict[str, str | None], later: bool = False
) -> LocalFile | str:
    """The checked file ``path`` names, or what is wrong with it (``probed``: media checks done;
    ``later``: an image sequence's image after the first, whose format alone is checked)."""
    try:
        st = os.stat(full)
    except FileNotFoundError:
        return f"media file not found: {path!r} ({full})"
    except OSError as exc:
        return f"media file {path!r} cannot be read: {exc.strerror or exc}"
    if not os.path.isfile(full):
        # A directory, FIFO or device would hang or fail the hash; only regular files upload.
        return f"media path {path!r} is not a regular file"
    if not os.access(full, os.R_OK):
        return f"media file is not readable: {path!r}"
    if st.st_size > max_bytes:
        return (
            f"asset {path!r} is {format_size(st.st_size)}, above the limit of "
            f"{format_size(max_bytes)}"
        )
    real = os.path.realpath(full)
    if real not in probed:  # a file many clips use is opened once
        # The codec stack (PyAV, NumPy): loaded by the checks that open media, not by a render's
        # client, which resolves its media's paths here before it spawns its private workers.
        from workers.probe import media_problem

        probed[real] = image_problem(full) if later else media_problem(full)
    if probed[real]:
        # Checked before anything leaves the machine; also spares workers a doomed download.
        return f"media file {path!r} {probed[real]}; it was not uploaded"
    return LocalFile(full, real, st.st_size, st.st_mtime_ns)


def image_problem(path: str) -> str | None:
    """Why ``path`` is not an image in an allowed format, from its header only: decoding every
    image of a long sequence would take longer than uploading it."""
    from PIL import Image

    from workers.media_open import open_image
    from workers.probe import media_problem
    from workers.sources import MAX_SOURCE_PIXELS

    if os.path.splitext(path)[1].lower() not in IMAGE_EXTENSIONS:
        return media_problem(path)  # FFmpeg's single-image readers decode just this image
    try:
        with open_image(path):  # raises Pillow's over-the-limit warning
            return None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"is not a readable image (over {MAX_SOURCE_PIXELS} pixels)"
    except (OSError, ValueError, SyntaxError) as exc:
        return f"is not a readable image ({exc})"
