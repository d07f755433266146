"""The frame rate an EDL's timecodes were written at.

An EDL holds timecodes only. Drop-frame timecodes (``;``) mean 29.97 (59.94 where a frame
number reaches 30); otherwise the smallest common rate above every frame number in them (24,
25, 30, 50, 60), unless the media its events name settle what the timecodes cannot (see
``chunking.timeline.otio_nle``'s docstring).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from fractions import Fraction

from chunking.timeline.fields import Problems
from chunking.timeline.model import IMAGE_EXTENSIONS
from chunking.timeline.otio_timecode import video_header

#: Frame rates an EDL is read at, by the largest frame number its timecodes hold.
EDL_RATES = (24, 25, 30, 50, 60)
#: Comments naming an event's media (CMX 3600 as Avid, Premiere, Resolve and Nucoda write it).
MEDIA_COMMENT = re.compile(
    r"^\*\s*(?:FROM CLIP NAME|FROM CLIP|FROM FILE|SOURCE FILE)\s*:\s*(.+?)\s*$", re.M | re.I
)
#: Media files probed for an EDL's frame rate: the first few settle it.
_RATE_PROBES = 8
_TIMECODE = re.compile(r"\b\d{2}[:;]\d{2}[:;]\d{2}([:;])(\d{2})\b")


def media_rates(text: str, base_dir: str, find: Callable[[str], str | None]) -> list[Fraction]:
    """The video frame rates of the media an EDL's comments name, where ``find`` (a relink's
    lookup by file name, giving a path relative to ``base_dir``) finds them (at most
    ``_RATE_PROBES`` files; unreadable ones are left to the media checks)."""
    paths: list[str] = []
    for named in MEDIA_COMMENT.findall(text):
        found = find(re.split(r"[\\/]", named.strip())[-1])
        still = os.path.splitext(found or "")[1].lower() in IMAGE_EXTENSIONS
        if found and found not in paths and not still:
            paths.append(found)
    rates = []
    for relative in paths[:_RATE_PROBES]:
        header = video_header(os.path.join(base_dir, relative))
        if header is not None:
            rates.append(header[0])
    return rates


def edl_rate(text: str, p: Problems, media: Sequence[Fraction] = ()) -> float:
    """The frame rate an EDL's timecodes were written at, given its media's frame rates (see
    the module docstring)."""
    highest, drop_frame = _frame_numbers(text)
    if drop_frame:
        return (60 if highest >= 30 else 30) * 1000 / 1001
    least = next((rate for rate in EDL_RATES if highest < rate), EDL_RATES[-1])
    chosen = _media_choice(media, least)
    if chosen is not None:
        return chosen
    if least == 24:
        p.warn(
            "edl",
            "has no frame rate and its timecodes fit 24 and 25 fps alike; read at 24 "
            "(export an OTIO or XML file to keep the sequence's rate)",
        )
    return float(least)


def other_rates(text: str, media: Sequence[Fraction]) -> list[float]:
    """Every rate an EDL's timecodes allow, lowest first (none besides drop-frame's for a
    drop-frame EDL); an NTSC one where media of that base are."""
    highest, drop_frame = _frame_numbers(text)
    if drop_frame:
        return []
    ntsc = {round(rate) for rate in media if _is_ntsc(rate)}
    return [r * 1000 / 1001 if r in ntsc else float(r) for r in EDL_RATES if highest < r]


def _frame_numbers(text: str) -> tuple[int, bool]:
    """The highest frame number an EDL's timecodes hold, and whether any is drop-frame."""
    found = _TIMECODE.findall(text)
    highest = max((int(frame) for _, frame in found), default=0)
    return highest, any(separator == ";" for separator, _ in found)


def _is_ntsc(rate: Fraction) -> bool:
    """Whether a rate is an NTSC one (a whole rate times 1000/1001)."""
    return abs(rate - Fraction(round(rate) * 1000, 1001)) < Fraction(1, 100)


def _media_choice(media: Sequence[Fraction], least: int) -> float | None:
    """The rate of most of the media where timecodes whose least possible rate is ``least``
    cannot tell it from that rate, else None."""
    if not media:
        return None
    rate, _ = Counter(media).most_common(1)[0]
    nominal = round(rate)
    # 24 against 25 is the one choice of nominal rates that frame numbers may leave open for a
    # whole cut; a higher rate than that is no more likely for media of that rate (mixed-rate
    # edits are common), so it is left to the timecodes.
    if nominal != least and (least, nominal) != (24, 25):
        return None
    return nominal * 1000 / 1001 if _is_ntsc(rate) else float(nominal)
