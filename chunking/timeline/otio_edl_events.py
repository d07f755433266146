"""An EDL's events as the CMX 3600 adapter is to read them: their channels and their order.

* **Channels.** The adapter knows the codes V, A, AA, B, A2/V and AA/V; any other became a
  track of that name, its kind guessed from its first letter: an event on audio channels 3
  and 4 (channel ``NONE`` and an ``AUD 3 4`` line, as Avid and other CMX 3600 writers give
  them) became a video track drawn over the cut, ``A/V`` an audio track (its picture lost).
  Each event's channels, its ``AUD`` line's included, are written as the tracks they name
  (V, V2..., A1, A2...; several joined by ``/`` and made known to the adapter); a code that
  names none is refused, naming the event, and an event on ``NONE`` alone is left out.
* **Order.** Avid's EDL Manager sorts events by source reel or timecode (its B to E modes);
  the adapter appends events to their tracks in the file's order and refused such a file
  ("Overlapping record in"). The events are put in record order first, and events that do
  overlap on a track are named in the error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import opentimelineio as otio

from chunking.timeline.fields import Problems
from common.errors import TimelineError

_TC = r"\d\d:\d\d:\d\d[:;]\d\d"  # as otio_edl_fcm writes every event's timecodes
_EVENT = re.compile(
    r"^\s*(?P<num>\d+)\s+(?P<reel>\S+)\s+(?P<chan>\S+)\s+(?P<kind>\S+)\s+(?:\d+\s+)?"
    rf"(?P<src_in>{_TC})\s+(?P<src_out>{_TC})\s+(?P<rec_in>{_TC})\s+(?P<rec_out>{_TC})\s*$"
)
_NUMBERED = re.compile(r"^\s*(\d+)\s")
_SPLIT = re.compile(r"^\s*SPLIT\b", re.IGNORECASE)
_AUD = re.compile(r"^\s*AUD\s+(\d+)(?:\s+(\d+))?\s*$", re.IGNORECASE)
#: One channel of a channel code: V, V2, A, A3, AA (CMX 3600, Avid, Premiere, Resolve).
_CHANNEL = re.compile(r"AA|A\d*|V\d*")
#: Event numbers of a whole EDL, and one longer than any writer's (CMX 3600 has three digits,
#: Avid's and Premiere's files six): Python refuses to read an integer of thousands of digits.
#: Blanks before the number are spaces and tabs: ``\s*`` crossed line ends, and 20,000
#: blank lines took every line start through all the lines after it (11 s).
_NUMBERS = re.compile(r"^[ \t]*(\d+)\s", re.MULTILINE)
_MAX_NUMBER_DIGITS = 9
#: More events than any cut holds (a feature film has a few thousand): the adapter reads each
#: in about a millisecond, so a bigger file would keep ``validate`` busy for minutes.
MAX_EVENTS = 10_000


@dataclass
class Block:
    """An event: its numbered lines (two, and their transition, after a SPLIT line) and the
    lines after them (comments, M2, AUD)."""

    lines: list[str]
    number: int | None = None
    open: int = 0  # numbered lines a SPLIT block still takes
    split: bool = False
    events: list[re.Match[str]] = field(default_factory=list)


def event_blocks(text: str) -> tuple[list[str], list[Block]]:
    """An EDL's lines before its first event, and its events, as the adapter groups them."""
    header: list[str] = []
    found: list[Block] = []
    for line in text.splitlines():
        numbered = _NUMBERED.match(line)
        current = found[-1] if found else None
        if _SPLIT.match(line):
            found.append(Block([line], open=2, split=True))
        elif numbered is not None:
            number = int(numbered[1])
            if current is not None and (
                current.open > 0 or (current.number == number and not current.split)
            ):
                current.lines.append(line)
                current.open = max(current.open - 1, 0)
                current.number = number if current.number is None else current.number
            else:
                current = Block([line], number=number)
                found.append(current)
            event = _EVENT.match(line)
            if event is not None:
                current.events.append(event)
        elif current is not None:
            current.lines.append(line)
        else:
            header.append(line)
    return header, found


def joined(header: list[str], blocks: list[Block]) -> str:
    """The EDL text of these lines and events."""
    return "\n".join([*header, *(line for block in blocks for line in block.lines)]) + "\n"


def events_in_order(text: str, path: str, p: Problems) -> tuple[str, str | None]:
    """The EDL with each event's channels written as the tracks they name and its events in
    record order (see the module docstring), and the record timecode the program starts at
    when an event left out began it (else None); TimelineError for a channel code that names
    no track or for events that overlap on one."""
    _check_size(text, path)
    header, blocks = event_blocks(text)
    kept = []
    for block in blocks:
        if _written_channels(block, path):
            kept.append(block)
        else:
            p.warn(f"event {block.number}", "is on no channel (NONE without an AUD line); left out")
    if blocks and not kept:
        # Left out one by one, they reached the loader as "the timeline is empty", naming none.
        names = ", ".join(str(block.events[0]["num"]) for block in blocks[:5] if block.events)
        more = f" and {len(blocks) - 5} more" if len(blocks) > 5 else ""
        raise TimelineError(
            f"{path}: every event is on no channel (event {names}{more}: NONE without an AUD "
            "line), so nothing is left to render; export the sequence with its V or A channels"
        )
    if all(block.events for block in kept):
        kept.sort(key=lambda block: _frames(block.events[0]["rec_in"]))
        _check_overlaps(kept, path)
    return joined(header, kept), _opening(blocks, kept)


def _opening(blocks: list[Block], kept: list[Block]) -> str | None:
    """The record in of the first event when it is left out (on NONE alone) and every event
    kept starts later: the program still starts there, the others at their record times."""
    starts = [event["rec_in"] for block in blocks for event in block.events]
    if not starts or not kept:
        return None
    first = min(starts, key=_frames)
    kept_starts = [_frames(event["rec_in"]) for block in kept for event in block.events]
    return first if kept_starts and _frames(first) < min(kept_starts) else None


def _check_size(text: str, path: str) -> None:
    """Refuse an EDL of no events, with more events than a cut holds or an event number no
    writer writes, before anything reads its events."""
    numbers = _NUMBERS.findall(text)
    if not numbers:  # the loader's "the timeline is empty" named neither the file nor why
        raise TimelineError(
            f"{path}: holds no events (no numbered edit line, only a title, comments or "
            "nothing); export the sequence with its clips"
        )
    for number in numbers:
        if len(number) > _MAX_NUMBER_DIGITS:
            raise TimelineError(
                f"{path}: event number {number[:12]}... has {len(number)} digits; "
                f"not an EDL event (at most {_MAX_NUMBER_DIGITS})"
            )
    if len(numbers) > MAX_EVENTS:
        raise TimelineError(
            f"{path}: {len(numbers)} event lines; at most {MAX_EVENTS} are read "
            "(split the edit list)"
        )


def _written_channels(block: Block, path: str) -> bool:
    """Write each event line's channels as the tracks they name; False where they name none."""
    extra = [
        f"A{int(number)}"
        for line in block.lines
        if (aud := _AUD.match(line)) is not None
        for number in aud.groups()
        if number is not None
    ]
    named = False
    for n, event in enumerate(block.events):
        names = tracks_of(event["chan"], extra)
        if names is None:
            raise TimelineError(
                f"{path}: event {event['num']}: channel {event['chan']!r} names no track this "
                "reader knows (V, A, A2, AA, B, A/V, AA/V, NONE with an AUD line)"
            )
        named = named or bool(names)
        if names:
            line = block.lines.index(event.string)
            start, end = event.span("chan")
            block.lines[line] = event.string[:start] + _code(names) + event.string[end:]
            block.events[n] = _EVENT.match(block.lines[line]) or event
    return named or not block.events


def tracks_of(code: str, aud: list[str]) -> list[str] | None:
    """The tracks a channel code and its AUD line's channels name (V first, then A1, A2...),
    or None where the code is not one."""
    upper = code.upper()
    if upper == "NONE":
        names: list[str] = []
    elif upper == "B":
        names = ["V", "A1"]
    else:
        parts = re.split(r"[/+&]", upper)
        if not all(re.fullmatch(rf"(?:{_CHANNEL.pattern})+", part) for part in parts):
            return None
        names = []
        for part in parts:
            for channel in _CHANNEL.findall(part):
                names += _names(channel)
    unique = dict.fromkeys([*names, *aud])
    return sorted(unique, key=lambda name: (name[0] != "V", int(name[1:] or 1)))


def _names(channel: str) -> list[str]:
    """The tracks one channel of a code names: V (its first video track), A1, A1 and A2..."""
    if channel == "AA":
        return ["A1", "A2"]
    if channel == "A":
        return ["A1"]
    if channel.startswith("V"):
        return ["V"] if int(channel[1:] or 1) == 1 else [channel]
    return [f"A{int(channel[1:])}"]


def _code(names: list[str]) -> str:
    """The channel code the adapter reads as these tracks (one track's name, or the names
    joined by ``/``, put in the adapter's channel map)."""
    if len(names) == 1:
        return names[0]
    code = "/".join(names)
    channel_map = otio.adapters.from_name("cmx_3600").module().channel_map
    channel_map.setdefault(code, list(names))
    return code


def _frames(timecode: str) -> tuple[int, ...]:
    """A timecode as comparable numbers (hours, minutes, seconds, frames)."""
    return tuple(int(part) for part in re.split(r"[:;]", timecode))


def _check_overlaps(blocks: list[Block], path: str) -> None:
    """Raise TimelineError naming two events whose records overlap on a track."""
    ends: dict[str, tuple[tuple[int, ...], str]] = {}
    for block in blocks:
        # The adapter makes one clip of a transition's pair of lines: the second one's.
        for event in block.events if block.split else block.events[-1:]:
            if event["kind"].upper().startswith("K"):
                continue  # a key is drawn over its background (the adapter refuses keys)
            start, end = _frames(event["rec_in"]), _frames(event["rec_out"])
            for track in tracks_of(event["chan"], []) or []:
                before = ends.get(track)
                if before is not None and start < before[0]:
                    raise TimelineError(
                        f"{path}: events {before[1]} and {event['num']} overlap on {track} at "
                        f"{event['rec_in']}"
                    )
                if before is None or end > before[0]:
                    ends[track] = (end, event["num"])
