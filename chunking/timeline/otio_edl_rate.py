"""The frame rate an EDL's timecodes were written at.

An EDL holds timecodes only. Drop-frame timecodes (``;``) mean 29.97 (59.94 where a frame
number reaches 30, or where its media are 59.94 and its frame numbers do not make 29.97 far
likelier); otherwise the smallest common rate above every frame number in them (24,
25, 30, 50, 60), unless the media its events name settle what the timecodes cannot (see
``chunking.timeline.otio_nle``'s docstring): a rate all of them share, where the timecodes
allow it and their frame numbers do not make a lower rate far likelier.
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
#: EDL reels that name no file: auxiliary source (Premiere's, Resolve's) and black.
NO_FILE_REELS = frozenset({"AX", "AUX", "BL", "BLACK"})
#: An event line's reel (its second field).
_REEL = re.compile(r"^[ \t]*\d+[ \t]+(\S+)[ \t]", re.M)
#: Media files probed for an EDL's frame rate: the first few settle it.
_RATE_PROBES = 8
_TIMECODE = re.compile(r"\b\d{2}[:;]\d{2}[:;]\d{2}([:;])(\d{2})\b")
#: Timecodes whose frame number is not 0 (a cut on a whole second says nothing of the rate).
_NONZERO = re.compile(r"\b\d{2}[:;]\d{2}[:;]\d{2}[:;](?!00\b)\d{2}\b")
#: How much likelier the media's rate is than a lower one the timecodes allow, before their
#: frame numbers are counted.
_MEDIA_ODDS = 100


def media_rates(text: str, base_dir: str, find: Callable[[str], str | None]) -> list[Fraction]:
    """The video frame rates of the media an EDL's comments name (else its events' reels, by
    which ``otio_edl_names`` relinks an EDL without clip names), where ``find`` (a relink's
    lookup by file name, giving a path relative to ``base_dir``) finds them (at most
    ``_RATE_PROBES`` files; unreadable ones are left to the media checks)."""
    paths: list[str] = []
    reels = [r for r in _REEL.findall(text) if r.upper() not in NO_FILE_REELS]
    for named in MEDIA_COMMENT.findall(text) or reels:
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
        if highest >= 30:
            return 60 * 1000 / 1001
        # Drop-frame timecodes with no frame number from 30 up fit 59.94 as well as 29.97:
        # 59.94 fps media settle it as they settle a non-drop EDL (their cut read at 29.97
        # played every event at twice its length).
        chosen = _media_choice(media, 30, text)
        if chosen is not None and round(chosen) == 60:
            p.warn(
                "edl",
                f"has no frame rate; read at {chosen:.5g} fps drop-frame, the rate of all its "
                "media (its timecodes would fit 29.97 fps drop-frame too)",
            )
            return chosen
        return 30 * 1000 / 1001
    least = next((rate for rate in EDL_RATES if highest < rate), EDL_RATES[-1])
    chosen = _media_choice(media, least, text)
    if chosen is not None:
        if round(chosen) > least and (least, round(chosen)) != (24, 25):
            p.warn(
                "edl",
                f"has no frame rate; read at {chosen:.5g} fps, the rate of all its media (its "
                f"timecodes would fit {least} fps too)",
            )
        return chosen
    if least == 24:
        p.warn(
            "edl",
            "has no frame rate and its timecodes fit 24 and 25 fps alike; read at 24 "
            "(export an OTIO or XML file to keep the sequence's rate)",
        )
    return float(least)


def other_rates(text: str, media: Sequence[Fraction]) -> list[float]:
    """Every rate an EDL's timecodes allow, lowest first (for a drop-frame EDL, 29.97 and 59.94
    where no frame number reaches 30, else none besides 59.94): the common ones and its
    media's (48 fps...); an NTSC one where media of that base are."""
    highest, drop_frame = _frame_numbers(text)
    if drop_frame:
        # Either drop-frame rate where both fit: the one not chosen is tried when the events
        # do not add up at the other (59.94 media in a 29.97 cut).
        return [30 * 1000 / 1001, 60 * 1000 / 1001] if highest < 30 else []
    ntsc = {round(rate) for rate in media if _is_ntsc(rate)}
    nominal = sorted({*EDL_RATES, *(round(rate) for rate in media)})
    return [r * 1000 / 1001 if r in ntsc else float(r) for r in nominal if highest < r]


def _frame_numbers(text: str) -> tuple[int, bool]:
    """The highest frame number an EDL's timecodes hold, and whether any is drop-frame."""
    found = _TIMECODE.findall(text)
    highest = max((int(frame) for _, frame in found), default=0)
    return highest, any(separator == ";" for separator, _ in found)


def _is_ntsc(rate: Fraction) -> bool:
    """Whether a rate is an NTSC one (a whole rate times 1000/1001)."""
    return abs(rate - Fraction(round(rate) * 1000, 1001)) < Fraction(1, 100)


def _media_choice(media: Sequence[Fraction], least: int, text: str) -> float | None:
    """The rate of the media where the timecodes, whose least possible rate is ``least``,
    allow it and do not make it unlikely; else None."""
    if not media:
        return None
    rate, _ = Counter(media).most_common(1)[0]
    nominal = round(rate)
    exact = nominal * 1000 / 1001 if _is_ntsc(rate) else float(nominal)
    # 24 against 25 is the one choice of nominal rates that frame numbers may leave open for a
    # whole cut: most of the media settle it.
    if nominal == least or (least, nominal) == (24, 25):
        return exact
    highest, _ = _frame_numbers(text)
    if highest >= nominal or any(round(other) != nominal for other in media):
        return None  # mixed-rate media: left to the timecodes
    if nominal < least:
        return exact  # 48 fps media of an EDL whose frame numbers reach 25 to 47
    # A cut may mix rates (60 fps media in a 30 fps cut): each frame number below the least
    # rate is that much likelier at it, which outweighs the media's word after a few.
    samples = len(set(_NONZERO.findall(text)))
    return exact if _MEDIA_ODDS * (least / nominal) ** samples >= 1 else None
