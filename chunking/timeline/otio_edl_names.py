"""The names an EDL event's media may go by, for a relink (``otio_nle``): the file names its
comments give, and its reel."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from chunking.timeline.otio_edl_rate import MEDIA_COMMENT, NO_FILE_REELS
from chunking.timeline.otio_read import plain


def edl_media_names(clip: Any) -> list[str]:
    """The file names an EDL event's comments give its media (``* SOURCE FILE:``, which the
    adapter keeps as a comment, Avid's for AMA-linked media), with and without suffix, and
    last its reel: an EDL without clip-name comments names each event's camera file by its
    reel alone (``Z125C001_220217_ROLX``), the clip by its event number."""
    comments = _edl(clip).get("comments")
    names = []
    for line in comments if isinstance(comments, list) else []:
        for named in MEDIA_COMMENT.findall(f"* {line}"):
            name = re.split(r"[\\/]", named.strip())[-1]
            names += [name, os.path.splitext(name)[0]]
    reel = _edl(clip).get("reel")
    return [*names, reel] if isinstance(reel, str) and reel.upper() not in NO_FILE_REELS else names


def reel_too(clip: Any) -> str:
    """What a missing-media message adds where an EDL event's reel would relink it too (", or
    its reel 'A001'"), else nothing."""
    reel = _edl(clip).get("reel")
    return f", or its reel {reel!r}" if reel in edl_media_names(clip) else ""


def _edl(clip: Any) -> Mapping[str, Any]:
    """What the EDL adapter kept of a clip's event (its reel, its comments)."""
    found = plain(clip.metadata.get("cmx_3600"))
    return found if isinstance(found, Mapping) else {}
