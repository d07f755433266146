"""Reading OpenTimelineIO: a file through OTIO's adapters, and OTIO values as exact Python ones.

Adapter failures become TimelineError naming the file; OTIO's double-precision times and rates
become Fractions (NTSC decimals snapped to their rationals) and its AnyDictionary/AnyVector
containers plain dicts and lists.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
import re
import struct
import traceback
import warnings
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from importlib import metadata
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_bundle import check_json_depth
from chunking.timeline.otio_schema_versions import readable_text
from chunking.timeline.schema import MAX_ENTRIES
from chunking.timeline.text_files import read_text
from common.errors import TimelineError

#: What reading an OTIO item's times can raise on an odd document (NotImplementedError: a Gap
#: without a source_range).
TIME_ERRORS = (ValueError, ZeroDivisionError, NotImplementedError, otio.exceptions.OTIOError)

#: OTIO stores rates as doubles; these are the rationals NTSC decimals stand for.
_NTSC = tuple(Fraction(n, 1001) for n in (24000, 30000, 48000, 60000, 120000))


@contextlib.contextmanager
def _adapter_logging_quiet() -> Iterator[None]:
    """Keep adapters' log lines (the AAF library's ``logging.warning`` of each odd rational)
    off the user's terminal: module-level ``logging.warning`` would otherwise install a
    stderr handler on the root logger. The loader says what matters in its own warnings."""
    root = logging.getLogger()
    quiet = logging.NullHandler()
    root.addHandler(quiet)
    try:
        yield
    finally:
        root.removeHandler(quiet)


def read_timeline(path: str, *, text: str | None = None, **arguments: Any) -> Any:
    """The one OTIO Timeline in a file (through the adapter its suffix names, given these extra
    arguments; ``text``: the file's content as it is to be read, when the caller amended it);
    raise TimelineError if it is unreadable or holds another."""
    check_has_bytes(path)
    if path.lower().endswith(".otio"):
        if text is None:
            text = _text(path)
        check_json_depth(path, text)
        text = readable_text(path, text)  # a newer OpenTimelineIO's schemas written down
    failure: str | None = None
    try:
        with _adapter_logging_quiet():
            if text is None:
                result = otio.adapters.read_from_file(path, **arguments)
            else:
                adapter = otio.adapters.from_filepath(path).name
                result = otio.adapters.read_from_string(text, adapter, **arguments)
    except Exception as exc:  # adapters raise ValueError, KeyError, OTIOError...: all mean "bad"
        failure = _failure(path, exc, text)
        _collect_quietly(exc)
    if failure is not None:
        # Raised out of the except block: the TimelineError's __context__ would otherwise
        # keep the adapter's exception, and with it what its frames hold, alive.
        kind = _KINDS.get(os.path.splitext(path)[1].lower(), "OpenTimelineIO")
        if failure.startswith(_CUT):
            raise TimelineError(f"{path}: not a readable {kind} file: it is {failure}")
        raise TimelineError(f"{path}: not a readable {kind} file ({failure})")
    if isinstance(result, otio.schema.SerializableCollection):
        found = list(_timelines(result))
        if not found:
            raise TimelineError(
                f"{path}: holds no timeline (a library, event or bin of clips without a "
                "project or sequence); export the project or sequence to render"
            )
        if len(found) > 1:
            names = ", ".join(repr(str(t.name)) for t in found[:8])
            more = f" and {len(found) - 8} more" if len(found) > 8 else ""
            raise TimelineError(
                f"{path}: holds {len(found)} timelines ({names}{more}); export the one project "
                "or sequence to render on its own"
            )
        result = found[0]
    if result is None:  # FCPXML's adapter, given a document of no project or clip
        raise TimelineError(
            f"{path}: holds no timeline (no project, sequence or clip); export the project "
            "or sequence to render"
        )
    if not isinstance(result, otio.schema.Timeline):
        raise TimelineError(f"{path}: holds a {type(result).__name__}, not an OTIO Timeline")
    if result.tracks is None:  # "tracks": null reads, and OTIO then crashes the process on use
        raise TimelineError(f"{path}: the timeline has no tracks")
    _check_size(path, result)
    return result


def check_has_bytes(path: str) -> None:
    """Refuse a file of no bytes as such (the readers call it "no element found", "The
    document is empty", or an EDL of no events)."""
    try:
        empty = os.path.getsize(path) == 0
    except OSError:
        return  # the reader names a file it cannot open
    if empty:
        raise TimelineError(
            f"{path}: is empty (0 bytes): the export or its copy did not finish; export it again"
        )


#: How a failure that means the file is cut short or damaged begins.
_CUT = "truncated or damaged"
#: What the AAF library raises reading a compound file that ends before what it points to.
_AAF_CUT = (IndexError, EOFError, struct.error, UnicodeDecodeError, OverflowError)
#: The XML reader's words for a document that ends before its elements do.
_XML_CUT = ("no element found", "unclosed token", "partial character")
#: Where OTIO's JSON reader says its error is.
_JSON_AT = re.compile(r"\(line (\d+), column (\d+)\)")


def _failure(path: str, exc: Exception, text: str | None) -> str:
    """What an adapter's exception says of the file: "truncated or damaged ..." where it ended
    before its structure did (the libraries' "array index out of range", "no element found")."""
    found = reason(exc)
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".aaf" and isinstance(exc, _AAF_CUT):
        return f"{_CUT} (its structure points past what is there); export it again"
    if suffix == ".aaf" and _raised_in(exc, _AAF_LIBRARY):
        # The AAF library reads the compound file's structure: what it cannot read there
        # ("AssertionError", "be byteorder") is bytes that are not what an AAF writer wrote.
        return f"{_CUT} (its structure cannot be read); export it again"
    if isinstance(exc, AttributeError | TypeError):  # the adapter's slip, not the user's
        return "its reader fails on a line it does not expect there"
    where = found.split(":", 1)[1].strip() if ":" in found else "at its end"
    if suffix in (".xml", ".fcpxml") and found.startswith(_XML_CUT):
        return f"{_CUT} (its XML ends before its elements are closed, {where}); export it again"
    if suffix in (".xml", ".fcpxml") and found.startswith(("syntax error", "not well-formed")):
        return f"its text is not well-formed XML at {where}"
    at = _JSON_AT.search(found)
    if suffix == ".otio" and text is not None and at and _at_end(text, int(at[1]), int(at[2])):
        return f"{_CUT} (its JSON ends unfinished at line {at[1]}); export it again"
    if suffix == ".otio" and at and _JSON_SAYS in found:
        said = found.rsplit(_JSON_SAYS, 1)[1][: at.start() - len(found)].strip().rstrip(".")
        return f"its text is not valid JSON: {said} at line {at[1]}, column {at[2]}"
    return found


#: Where the AAF library's modules are (the adapter's are beside it, not in it).
_AAF_LIBRARY = f"{os.sep}aaf2{os.sep}"
#: What comes before RapidJSON's own words in OTIO's JSON errors.
_JSON_SAYS = "input string:"


def _raised_in(exc: BaseException, folder: str) -> bool:
    """Whether an exception was raised by code in a folder of that name."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and folder in frames[-1].filename


def _at_end(text: str, line: int, column: int) -> bool:
    """Whether only blanks follow a line and column (from 1 and 0) of a text: a JSON reader
    that fails there ran out of document."""
    lines = text.split("\n")
    if line > len(lines):
        return True
    return not "".join([lines[line - 1][column:], *lines[line:]]).strip()


#: Clips, gaps and transitions a timeline holds at most: a project's clips (schema.MAX_ENTRIES)
#: and a gap or a transition beside each. Reading each takes the converter milliseconds.
MAX_ITEMS = 2 * MAX_ENTRIES


def _check_size(path: str, tl: Any) -> None:
    """Refuse a timeline of more items than any cut before anything walks them one by one."""
    items = 0
    for item in tl.find_children():
        if not isinstance(item, otio.schema.Track):
            items += 1
            if items > MAX_ITEMS:
                raise TimelineError(
                    f"{path}: holds more than {MAX_ITEMS} clips, gaps and transitions; "
                    "not a cut an editor writes (split the timeline)"
                )


def _text(path: str) -> str:
    """An .otio file's text; TimelineError when it is not UTF-8 text (or UTF-16/32 with a
    byte-order mark, which OTIO's JSON reader refuses as "Invalid value" at line 1)."""
    return read_text(path)


def _timelines(collection: Any, depth: int = 0) -> Iterator[Any]:
    """The Timelines in a collection and the collections it holds (a library's events)."""
    if depth > _MAX_NESTING:
        return
    for item in collection:
        if isinstance(item, otio.schema.Timeline):
            yield item
        elif isinstance(item, otio.schema.SerializableCollection):
            yield from _timelines(item, depth + 1)


#: Collections in collections followed when looking for timelines (a library's events' bins).
_MAX_NESTING = 16

#: What a file of each suffix should be, for the error when its adapter cannot read it.
_KINDS = {
    ".edl": "CMX 3600 EDL",
    ".xml": "Final Cut Pro 7 XML",
    ".fcpxml": "FCPXML",
    ".aaf": "AAF",
}


def _collect_quietly(exc: BaseException) -> None:
    """Close what a failed adapter left open (the AAF one leaks its file when the file is no
    AAF: its reader opens it before the ``with`` that would close it), now rather than when
    the exception is collected, and without the ResourceWarning collecting it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        # The adapter's frames hold the half-made reader and its file: freed with them.
        traceback.clear_frames(exc.__traceback__)
        gc.collect()


def reason(exc: Exception) -> str:
    """An exception's message for a problem text (a KeyError's key without quotes)."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return text.strip() or type(exc).__name__


def rate(value: float) -> Fraction:
    """An OTIO rate as an exact Fraction; raise ValueError unless it is finite and positive."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"frame rate {value!r} is not positive")
    for exact in _NTSC:
        if abs(value - float(exact)) < 0.01:
            return exact
    exact = Fraction(value).limit_denominator(1001)
    if exact <= 0:  # a positive rate too small to write with a denominator up to 1001
        raise ValueError(f"frame rate {value!r} is too small")
    return exact


#: Seconds beyond which an OTIO time is nonsense (about 30 years): refused before sums of such
#: times overflow a float; the loader's own limits are far smaller.
MAX_TIME = 10**9


def seconds(rt: Any) -> Fraction:
    """An OTIO RationalTime in exact seconds; raise ValueError for a non-finite or absurd time or
    rate."""
    value = float(rt.value)
    if not math.isfinite(value):
        raise ValueError(f"time value {value!r} is not finite")
    result = Fraction(value).limit_denominator(10**6) / rate(float(rt.rate))
    if abs(result) > MAX_TIME:
        raise ValueError(f"time {value:g} at rate {float(rt.rate):g} is over {MAX_TIME:g} seconds")
    return result


def is_release(distribution: str, release: str) -> bool:
    """Whether ``release`` of ``distribution`` is the one installed (the adapter corrections
    are written for one release: another is left as it is)."""
    try:
        return metadata.version(distribution) == release
    except metadata.PackageNotFoundError:
        return False


def forget_unusable_ranges(tl: Any) -> None:
    """Forget media references' available ranges whose rate is not a positive number, as
    Kdenlive writes a still's or colour clip's (``RationalTime(0, 0)``, OTIO's default time):
    they say nothing about where the media start."""
    for clip in tl.find_clips():
        for ref in clip.media_references().values():
            found = getattr(ref, "available_range", None)
            if found is None:
                continue
            rates = (float(found.start_time.rate), float(found.duration.rate))
            if not all(math.isfinite(r) and r > 0 for r in rates):
                ref.available_range = None


def track_places(track: Any) -> dict[Any, Any]:
    """Each item's range in the track, all found in one pass (asking each item for its own
    walks the track from its start: a track of thousands of clips took minutes); items from
    one whose length cannot be read on are left out."""
    try:
        return dict(track.range_of_all_children())
    except TIME_ERRORS:
        pass
    places: dict[Any, Any] = {}
    at = None
    try:
        for item in track:
            if isinstance(item, otio.schema.Transition):
                if at is not None:
                    length = item.in_offset + item.out_offset
                    places[item] = otio.opentime.TimeRange(at - item.in_offset, length)
                continue
            length = item.trimmed_range().duration
            at = at if at is not None else otio.opentime.RationalTime(0, length.rate)
            places[item] = otio.opentime.TimeRange(at, length)
            at = at + length
    except TIME_ERRORS:
        pass
    return places


def plain(value: Any) -> Any:
    """OTIO's AnyDictionary/AnyVector as plain dicts and lists, for the JSON loader."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    return value


def frames(secs: Fraction, fps: Fraction) -> int:
    """The nearest frame count to an exact time in seconds (halves round up)."""
    return math.floor(secs * fps + Fraction(1, 2))
