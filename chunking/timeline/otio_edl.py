"""Reading a CMX 3600 EDL through OpenTimelineIO's adapter, its text amended first.

The adapter is given the EDL's text (UTF-8, else Windows-1252, as an EDL written on Windows
with accented clip names is) with what it misreads corrected (``otio_edl_fcm``: the
drop-frame mode lines; ``otio_edl_events``: the events' channels and order;
``otio_edl_speed``: their M2 lines; ``otio_edl_fades``: a fade up from black at its head;
``otio_edl_lengths``: black's source times, events of no source timecode) and
is tried at the likeliest frame rate (``otio_edl_rate``), then at the other rates its
timecodes allow while it finds the sources' and records' durations apart at the one tried (a
rate they contradict).

What an event asks of its picture beyond the cut is not rendered, and is named in a warning
(``note_unrendered``): an ASC CDL grade (``*ASC_SOP``/``*ASC_SAT``, which the adapter keeps in
the clip's ``cdl`` metadata; the adapter's ``cdl.edl``; one warning counts the graded events)
and Avid's effect comments (``* AVX2 EFFECT, RESIZE``). Both were dropped without a word.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_edl_events import events_in_order
from chunking.timeline.otio_edl_fades import apply_opening_fades, opening_fades
from chunking.timeline.otio_edl_fcm import drop_frame_marked
from chunking.timeline.otio_edl_lengths import black_sources, mismatched, unknown_sources
from chunking.timeline.otio_edl_rate import edl_rate, media_rates, other_rates
from chunking.timeline.otio_edl_speed import apply_motions, marked_motions
from chunking.timeline.otio_read import plain, read_timeline
from chunking.timeline.text_files import by_mark, by_zero_bytes
from common.errors import TimelineError


def read_edl(path: str, p: Problems, find: Callable[[str], str | None]) -> Any:
    """The OTIO timeline of an EDL file, its media's rates found through ``find`` (a relink's
    lookup by file name, relative to the EDL's folder)."""
    try:
        with open(path, "rb") as handle:
            text = _decoded(handle.read(), p)
    except OSError:
        return read_timeline(path)  # the adapter reports the unreadable file
    ordered, opening = events_in_order(drop_frame_marked(text), path, p)
    declared, motions = marked_motions(ordered, path)
    declared = black_sources(declared)
    unknown_sources(declared, path)
    media = media_rates(declared, os.path.dirname(os.path.abspath(path)), find)
    chosen = Problems()
    first = edl_rate(declared, chosen, media)
    failed: TimelineError | None = None
    amended, fades = opening_fades(declared)
    rates = [first, *(r for r in other_rates(declared, media) if r != first)]
    for rate in rates:
        try:
            tl = read_timeline(path, rate=rate, text=amended)
        except TimelineError as exc:
            failed = failed or exc
            continue
        apply_opening_fades(tl, fades)
        if opening is not None:
            keep_opening(tl, opening, rate)
        apply_motions(tl, motions, rate, p)
        note_unrendered(tl, p)
        if rate == first:
            p.warnings.extend(chosen.warnings)
        else:
            p.warn("edl", f"its events do not add up at {first:.5g} fps; read at {rate:.5g}")
        return tl
    assert failed is not None
    if _cut_mid_line(text, str(failed)):
        said = str(failed).removeprefix(f"{path}: not a readable CMX 3600 EDL file (")
        raise TimelineError(
            f"{path}: not a readable CMX 3600 EDL file: it is truncated or damaged (it ends "
            f"mid-line, the line it cannot read: {said.removesuffix(')')}); export it again"
        )
    if len(rates) > 1 and "duration" in str(failed):  # the adapter's "durations don't match"
        tried = ", ".join(f"{rate:.5g}" for rate in rates)
        found = mismatched(declared, first)
        if found:
            more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
            raise TimelineError(
                f"{path}: {'; '.join(found[:3])}{more} (at {first:.5g} fps; no frame rate its "
                f"timecodes allow makes its events add up: {tried})"
            )
        raise TimelineError(f"{failed}; read at each frame rate its timecodes allow ({tried})")
    raise failed


def _cut_mid_line(text: str, failure: str) -> bool:
    """Whether an EDL ends without a line break in a line the adapter's failure quotes the end
    of (``... 00:0``, ``Input timecode '00:0'``): the file was cut off there."""
    if not text or text.endswith(("\n", "\r")):
        return False
    last = text.splitlines()[-1].split()
    return bool(last) and last[-1] in failure


def keep_opening(tl: Any, timecode: str, rate: float) -> None:
    """Start the program at record ``timecode`` (an event left out began it) rather than at the
    first event kept: a gap before the earliest track's first event. It began where the next
    kept event was recorded, every event that much early."""
    try:
        origin = otio.opentime.from_timecode(timecode, rate)
    except ValueError:
        return  # not a timecode at this rate: the events kept start the program
    starts = []
    for track in tl.tracks:
        sr = track.source_range
        if sr is not None and sr.start_time.value < 0 and len(track):
            starts.append((-sr.start_time, track))
    if not starts:
        return
    first, track = min(starts, key=lambda found: found[0].to_seconds())
    lead = (first - origin).rescaled_to(rate)
    if lead.value <= 0:
        return
    zero = otio.opentime.RationalTime(0, rate)
    track.insert(0, otio.schema.Gap(source_range=otio.opentime.TimeRange(zero, lead)))
    duration = track.source_range.duration.rescaled_to(rate) + lead
    track.source_range = otio.opentime.TimeRange(-origin, duration)


#: An Avid effect comment (``* AVX2 EFFECT, RESIZE``) and the effect's name in it.
_EFFECT_COMMENT = re.compile(r"^\s*AVX\d*\s+EFFECT\s*,\s*(?P<name>.+?)\s*$", re.IGNORECASE)


def note_unrendered(tl: Any, p: Problems) -> None:
    """Warn of the events' grades (ASC CDL; one warning for them all) and each Avid effect
    comment: neither is rendered."""
    graded: list[str] = []
    for clip in tl.find_clips():
        where = f"clip {str(clip.name)!r}"
        if isinstance(plain(clip.metadata.get("cdl")), Mapping):
            graded.append(str(clip.name))
        edl = plain(clip.metadata.get("cmx_3600"))
        comments = edl.get("comments") if isinstance(edl, Mapping) else None
        for line in comments if isinstance(comments, list) else []:
            found = _EFFECT_COMMENT.match(str(line))
            if found:
                p.warn(where, f"its Avid effect {found['name'][:80]!r} is not rendered")
    _note_grades(graded, p)


#: Clips a warning of graded events names before "and N more".
_NAMED = 3


def _note_grades(graded: list[str], p: Problems) -> None:
    """One warning for the events that carry an ASC CDL grade (a colourist's EDL grades every
    event: 78 alike warnings hid the others). The model's colour correction has no per-channel
    slope, offset and power, so the grade is not rendered."""
    if len(graded) == 1:
        p.warn(f"clip {graded[0]!r}", "its ASC CDL grade (ASC_SOP/ASC_SAT) is not rendered")
    if len(graded) < 2:
        return
    names = list(dict.fromkeys(graded))
    shown = ", ".join(repr(n) for n in names[:_NAMED])
    more = f" and {len(names) - _NAMED} more" if len(names) > _NAMED else ""
    clips = "clip" if len(names) == 1 else "clips"
    p.warn(
        "edl",
        f"{len(graded)} events carry an ASC CDL grade (ASC_SOP/ASC_SAT), which is not rendered "
        f"({clips} {shown}{more})",
    )


def _decoded(data: bytes, p: Problems) -> str:
    """An EDL's text: UTF-8, else the Windows code page that Avid and Premiere on Windows write
    clip names in (cp1252; Latin-1 where cp1252 leaves a byte undefined), with a warning.
    UTF-16 with its byte-order mark (what Windows PowerShell's Out-File and Notepad's "Unicode"
    write) is read as such, and without the mark when its zero bytes say it is UTF-16: as a
    code page its every other byte is a NUL."""
    try:
        text = by_mark(data, "")
        if text is None:
            text = by_zero_bytes(data, "")
    except TimelineError:
        text = None  # not what its mark says after all: read as the code pages below
    if text is not None:
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    try:
        text, code_page = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        text, code_page = data.decode("latin-1"), "Latin-1"
    p.warn(
        "edl",
        f"is not UTF-8 text (line {line}); read as {code_page}: if a clip name looks wrong, "
        "export the EDL as UTF-8",
    )
    return text
