"""What OpenTimelineIO's AAF adapter reads differently from OTIO's own conventions.

* **A reversed clip's span.** In an AAF a reverse motion effect (Avid's -100 %) holds a source
  clip whose StartTime and Length are the media it plays, lowest frame first; the adapter
  makes that StartTime the OTIO clip's ``source_range`` start, beside a LinearTimeWarp of
  negative scalar. OTIO's time maps (and the loader, ``otio_layout.Placed.emit``) play such a
  clip backwards *from* its start, over the media before it: Avid's render of the adapter's
  ``misc_speed_effects.aaf`` shows frames 86431 down to 86424 for the clip starting at 86424,
  which played 86423 down to 86416, and a reverse of a clip's first frames ran before its
  media (held on the first frame, warned of). The start is moved to the span's other end.
"""

from __future__ import annotations

from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_read import TIME_ERRORS


def reverse_spans(tl: Any) -> None:
    """Start each reversed clip of an AAF read where OTIO's reverse plays from (see the
    module docstring): after the last frame of the media span it plays."""
    for clip in tl.find_clips():
        scalar = 1.0
        for effect in clip.effects:
            if isinstance(effect, otio.schema.LinearTimeWarp):
                scalar *= float(effect.time_scalar)
        if scalar >= 0 or clip.source_range is None:
            continue
        try:
            start, duration = clip.source_range.start_time, clip.source_range.duration
            played = otio.opentime.RationalTime(duration.value * -scalar, duration.rate)
            clip.source_range = otio.opentime.TimeRange(start + played, duration)
        except TIME_ERRORS:
            continue  # the loader names a range it cannot read
