"""Corrections to the FCPXML reader of ``otio-fcpx-xml-adapter`` 1.0, applied before it reads.

That reader counts time in whole frames of a whole frame rate: ``int(30000 / 1001)``, so a
29.97 fps format is read as 29 fps and 23.976 as 23, every time is truncated to such a frame,
and a clip's place is its offset in frames of its own format added to its parent's in frames of
the parent's (another format: other frames). A project of 23.976 fps media in a 30 fps sequence
(Final Cut's everyday case) was read at 23 fps, with its cuts moved. The corrected methods
count in exact seconds (FCPXML's own rationals) and give each time at the exact rate of its
format; the timeline gets its sequence's rate (``global_start_time``), which the loader takes as
the timeline's. A library's projects are read from every event, not its first event's alone,
and an asset without ``hasVideo`` is a picture when it has a video format (``_audio_only``).
Applied only to the version these corrections were written for: another one is left as it is
(its own tests then say whether it still needs them).
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_fcpxml_time import fcpxml_time
from chunking.timeline.otio_read import is_release

#: The adapter release these corrections are for.
CORRECTED_RELEASE = "1.0.0"


def seconds(value: str | None) -> Fraction:
    """An FCPXML time in seconds; 0 when absent or malformed (as the adapter takes "0s")."""
    return fcpxml_time(value) or Fraction(0)


def rational(value: str | None, rate: Fraction) -> Any:
    """An FCPXML time as a RationalTime at ``rate``, not rounded to a frame."""
    return otio.opentime.RationalTime(float(seconds(value) * rate), float(rate))


def _format_rate(reader: Any, format_id: str | None) -> Fraction:
    """The exact frame rate of a format (1 / its frameDuration); 24 when it has none."""
    found = reader._format_by_id(format_id) if format_id else None
    duration = fcpxml_time(found.get("frameDuration")) if found is not None else None
    return 1 / duration if duration else Fraction(24)


def _to_rational_time(rational_number: str | None, fps: Any) -> Any:
    """The module's ``to_rational_time``, exact: ``fps`` is the rate _format_rate gave."""
    return rational(rational_number, Fraction(fps))


def _offset_and_lane(reader: Any, clip: Any, default_format: Any) -> tuple[Any, str]:
    """Where a clip starts in its sequence and its lane: its offset in its parent's time, less
    the parent's start, plus the parent's offset, all in seconds (the adapter's own rule)."""
    clip_format = reader._format_id_for_clip(clip, default_format)
    clip = reader._timing_clip(clip)
    parent = reader.child_parent_map.get(clip)
    if parent.tag == "spine" and parent.get("lane", None):
        lane = parent.get("lane")
        parent = reader.child_parent_map.get(parent)
        start = Fraction(0)
    else:
        lane = clip.get("lane", "0")
        start = seconds(parent.get("start", None))
    at = seconds(clip.get("offset")) - start + seconds(parent.get("offset", None))
    rate = _format_rate(reader, clip_format)
    return otio.opentime.RationalTime(float(at * rate), float(rate)), lane


def _squence_to_stack(
    reader: Any, sequence_element: Any, name: str = "", source_range: Any = None
) -> Any:
    """The adapter's ``_squence_to_stack``, with the gaps before clips measured in seconds (it
    subtracted frame counts of different formats' rates)."""
    stack = otio.schema.Stack(name=name, source_range=source_range)
    rate = _format_rate(reader, sequence_element.get("format"))
    items = []
    for element in sequence_element.iter():
        if element.tag not in reader_module().COMPOSABLE_ELEMENTS:
            continue
        composable = reader._build_composable(element, sequence_element.get("format"))
        offset, lane = reader._offset_and_lane(element, sequence_element.get("format"))
        audio_only = reader._audio_only(element)
        items.append({"track": lane, "offset": offset, "composable": composable,
                      "audio_only": audio_only})  # fmt: skip
    for lane in sorted({item["track"] for item in items}):
        in_lane = reader._sorted_items(lane, items)
        track = otio.schema.Track(name=lane, kind=reader._track_type(in_lane))
        for item in in_lane:
            gap = item["offset"].to_seconds() - track.duration().to_seconds()
            if gap * float(rate) >= 0.5:  # half a frame of the sequence or more
                track.append(
                    otio.schema.Gap(
                        source_range=otio.opentime.TimeRange(
                            otio.opentime.RationalTime(0, float(rate)),
                            otio.opentime.RationalTime(gap * float(rate), float(rate)),
                        )
                    )
                )
            track.append(item["composable"])
        stack.append(track)
    return stack


def _from_project(reader: Any, project_element: Any) -> Any:
    """The adapter's ``_from_project``, with the sequence's frame rate kept."""
    sequence = project_element.find("./sequence", {})
    timeline = otio.schema.Timeline(name=project_element.get("name", ""))
    if sequence is not None:
        rate = _format_rate(reader, sequence.get("format"))
        timeline.global_start_time = otio.opentime.RationalTime(0, float(rate))
    timeline.tracks = reader._squence_to_stack(sequence)
    return timeline


def _audio_only(reader: Any, element: Any) -> bool:
    """The adapter's ``_audio_only``, where an asset without ``hasVideo`` has a picture when it
    has a video format or sources (the adapter took every such asset for sound: a generated
    FCPXML that leaves ``hasVideo`` for Final Cut to find, which Final Cut reads as video,
    rendered as sound alone over black)."""
    if element.tag == "audio":
        return True
    if element.tag == "ref-clip":
        return bool(element.get("srcEnable", "video") == "audio")
    if element.tag != "asset-clip":
        return False
    asset = reader._asset_by_id(element.get("ref", None))
    if asset is None:
        return False
    if asset.get("hasVideo") is not None:
        return bool(asset.get("hasVideo") == "0")
    return asset.get("format") is None and asset.get("videoSources") is None


def _from_library(reader: Any) -> Any:
    """The adapter's ``_from_library``, reading the projects of every event: it read the first
    event only, so a library whose project is in a later event (Final Cut files a library's
    media and projects in events by date) held "no timeline"."""
    library = reader.fcpx_xml.find("./library")
    container = otio.schema.SerializableCollection(name=library.get("location", ""))
    for event in library.findall("./event"):
        for project in event.findall("./project"):
            container.append(reader._from_project(project))
    return container


@functools.cache
def reader_module() -> Any:
    """The adapter's reader module, as OpenTimelineIO's plugin system loaded it (from its file,
    as a module of its own: not the package's ``otio_fcpx_xml_adapter.fcpx_xml``)."""
    return otio.adapters.from_name("fcpx_xml").module()


@functools.cache
def correct() -> bool:
    """Apply the corrections once; False when the installed release is not the one they are
    for (nothing is changed then)."""
    if not is_release("otio-fcpx-xml-adapter", CORRECTED_RELEASE):
        return False
    module = reader_module()
    module.to_rational_time = _to_rational_time
    reader = module.FcpxXml
    reader._format_frame_rate = _format_rate
    reader._offset_and_lane = _offset_and_lane
    reader._squence_to_stack = _squence_to_stack
    reader._from_project = _from_project
    reader._from_library = _from_library
    reader._audio_only = _audio_only
    return True
