"""A Timeline Studio clip whose speed ramp changes speed or stops plays as the editor's player
plays it: as clips of steady speed, each starting on the media time the ramp has reached there.

The player sets its rate at each moment of the clip to interpolateSpeed(keys, seconds since the
clip's start) (TimelinePlayerSync.updateSpeedRamping, src/features/timeline/utils/
speed-ramping-utils.ts), so the media time at clip time t is the integral of that rate. The
presets are in src/features/timeline/types/speed-ramping.ts. Timeline Studio by Chatman Media,
MIT with Commons Clause.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load, load_document
from chunking.timeline.model import Clip, Timeline
from chunking.timeline.studio_editor_ramps import MAX_PIECES
from common.errors import ValidationError
from tests.chunking.test_studio_editor import DATA, make_media
from tests.chunking.test_studio_editor_resources import timeline_project as two_clips
from tests.chunking.test_studio_editor_speed import timeline_project
from tests.media import identify, make_video
from workers.compositor import Compositor

FPS = Fraction(10)


def ramp(*keys: tuple[float, float, str], **fields: Any) -> dict[str, Any]:
    """A SpeedRampingConfig of (time, value, interpolation) keys."""
    frames = [{"id": f"k{n}", "time": t, "value": v, "interpolation": how}
              for n, (t, v, how) in enumerate(keys)]  # fmt: skip
    return {"enabled": True, "keyframes": frames, "maintainPitch": False, **fields}


def clips(timeline: Timeline) -> list[Clip]:
    """The video track's clips in time order."""
    return sorted(timeline.tracks[0].clips, key=lambda c: c.start)


def shown_at(timeline: Timeline, frame: int) -> float:
    """The media second the renderer shows at the start of timeline ``frame``."""
    (clip,) = [c for c in timeline.tracks[0].clips if c.start <= frame < c.end]
    seconds = clip.source_start + (frame - clip.start) * clip.speed / float(FPS)
    return min(seconds, clip.source_end) if clip.source_end is not None else seconds


def test_a_gliding_ramp_shows_the_media_time_the_player_has_reached(tmp_path: Path) -> None:
    """ "Ramp to Slow"-like: 1x gliding to 0.2x over the first second, then 0.2x. Was: one
    clip at its speed 1.5 ("speed ramping ... is not rendered; speed is")."""
    timeline = timeline_project(
        tmp_path, speed=1.5, speedRamping=ramp((0, 1, "linear"), (1, 0.2, "linear"))
    )
    assert timeline.warnings == ()
    pieces = clips(timeline)
    assert [c.id for c in pieces[:2]] == ["c", "c#ramp-1"]
    assert [(c.start, c.end) for c in pieces] == [(f, f + 1) for f in range(10)] + [(10, 20)]
    for frame in range(21):
        t = frame / 10
        played = t - 0.4 * t * t if t <= 1 else 0.6 + 0.2 * (t - 1)  # the integral of the rate
        if frame < 20:
            assert shown_at(timeline, frame) == pytest.approx(played, abs=1e-6), frame
    assert pieces[-1].speed == pytest.approx(0.2)


def test_a_held_ramp_plays_each_speed_from_where_the_last_left_off(tmp_path: Path) -> None:
    timeline = timeline_project(
        tmp_path, speedRamping=ramp((0, 1, "hold"), (1, 2, "hold")), playbackRate=0.5
    )
    assert [(c.id, c.start, c.end, c.source_start, c.speed) for c in clips(timeline)] == [
        ("c", 0, 10, 0.0, 0.5),
        ("c#ramp-1", 10, 20, 0.5, 1.0),
    ]


def test_the_freeze_frame_preset_holds_the_first_frame(tmp_path: Path) -> None:
    """Its one key of 0 at 0.5 s is 0 over the whole clip. Was: played at speed 1."""
    timeline = timeline_project(tmp_path, offset=3, speedRamping=ramp((0.5, 0, "hold")))
    (clip,) = clips(timeline)
    assert clip.source_start == 3 and clip.source_end is not None and clip.source_end < 3.01
    assert clip.muted and timeline.warnings == ()


def test_a_freeze_inside_the_clip_holds_there_then_plays_on(tmp_path: Path) -> None:
    keys = ramp((0, 1, "hold"), (0.5, 0, "hold"), (1.5, 1, "hold"))
    timeline = timeline_project(tmp_path, speedRamping=keys)
    first, frozen, after = clips(timeline)
    assert (first.start, first.end, first.speed, first.muted) == (0, 5, 1.0, False)
    assert (frozen.start, frozen.end, frozen.source_start, frozen.muted) == (5, 15, 0.5, True)
    assert frozen.source_end is not None and frozen.source_end < 0.51
    assert (after.start, after.source_start, after.speed, after.muted) == (15, 0.5, 1.0, False)


def test_bullet_time_below_the_slowest_speed_keeps_its_place_in_the_media(
    tmp_path: Path,
) -> None:
    """ "Bullet Time" slows to 0.05x; the renderer plays no slower than 0.1x."""
    keys = ramp((0, 1, "linear"), (0.3, 0.05, "linear"), (0.7, 0.05, "linear"), (1, 1, "linear"))
    timeline = timeline_project(tmp_path, speedRamping=keys)
    assert timeline.warnings == (
        "clip 'c': speed ramping slower than 0.1x plays at 0.1x in steps that hold where the "
        "ramp has got to",
    )
    assert all(c.speed >= 0.1 or c.source_end is not None for c in clips(timeline))
    shown = [shown_at(timeline, frame) for frame in range(20)]
    assert shown == sorted(shown)  # never back: it holds where it would run ahead
    # After the ramp, 1x from where it got to: 0.335 s of media in its first second
    # (0.3 s gliding from 1x to 0.05x, 0.4 s at 0.05x, 0.3 s gliding back).
    assert shown_at(timeline, 10) == pytest.approx(0.335, abs=1e-6)


def test_a_transition_out_of_a_ramped_clip_joins_its_last_piece(tmp_path: Path) -> None:
    joined = {"id": "t1", "transitionId": "fade", "duration": 0.4, "type": "out"}
    timeline = two_clips(
        tmp_path,
        [{"speedRamping": ramp((0, 1, "linear"), (1, 2, "linear")), "transitions": [joined]}, {}],
        {},
    )
    (transition,) = timeline.transitions
    assert len(clips(timeline)) > 3  # c0 in pieces, then c1
    last = clips(timeline)[-2]
    assert (transition.from_clip, transition.to_clip) == (last.id, "c1")
    # No piece starts inside the 0.4 s the transition may play over.
    assert last.start <= 6 and last.end == 10


def test_picture_fades_keep_their_place_across_the_pieces(tmp_path: Path) -> None:
    timeline = timeline_project(
        tmp_path, fadeIn=1.0, speedRamping=ramp((0, 2, "linear"), (2, 0.5, "linear"))
    )
    assert len(clips(timeline)) > 2
    for frame in range(20):
        (clip,) = [c for c in clips(timeline) if c.start <= frame < c.end]
        assert clip.picture_fade(frame, FPS) == pytest.approx(min(frame / 10, 1.0)), frame


def test_each_piece_keeps_its_pitch_when_asked(tmp_path: Path) -> None:
    timeline = timeline_project(
        tmp_path, maintainPitch=True, speedRamping=ramp((0, 1, "hold"), (1, 2, "hold"))
    )
    first, second = clips(timeline)
    assert first.effects == ()
    (pitch,) = second.effects
    assert (pitch.kind, dict(pitch.params)) == ("audiopitch", {"ratio": 0.5})


def test_a_reversed_ramped_clip_is_named_and_plays_at_its_speed(tmp_path: Path) -> None:
    timeline = timeline_project(
        tmp_path, isReversed=True, speedRamping=ramp((0, 1, "linear"), (1, 2, "linear"))
    )
    (clip,) = clips(timeline)
    assert clip.speed == 1 and clip.reverse
    assert timeline.warnings == (
        "clip 'c': speed ramping of a reversed clip is not rendered; it plays at speed 1",
    )


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("fast", "keyframes[1].value 'fast' is not a speed of 0 or more"),
        (-1, "keyframes[1].value -1 is not a speed of 0 or more"),
    ],
)
def test_an_unreadable_key_names_itself(tmp_path: Path, value: Any, said: str) -> None:
    keys = ramp((0, 1, "linear"), (1, 1, "linear"))
    keys["keyframes"][1]["value"] = value
    timeline = timeline_project(tmp_path, speed=1.5, speedRamping=keys)
    assert timeline.clip("c").speed == 1.5
    assert timeline.warnings == (
        f"clip 'c': speed ramping (speedRamping) {said}; the ramp is not rendered, speed is",
    )


def test_a_render_range_shows_the_ramp_as_the_sequence_does(tmp_path: Path) -> None:
    """A .tlsp's renderSettings range cuts the pieces: frame k of the range shows what frame
    in + k of the whole sequence shows (the range's cut moved a ramped clip's in point by its
    speed at one speed)."""
    make_media(tmp_path / "media", ["intro.mp4", "outro.mp4"])
    doc = json.loads((DATA / "interview.tlsp").read_text(encoding="utf-8"))
    seq = doc["sequences"]["seq-main"]
    intro = seq["composition"]["tracks"][0]["clips"][0]  # 0 to 3 s
    intro["speedRamping"] = ramp((0, 0.5, "linear"), (3, 2, "linear"))

    def shown(render: dict[str, Any]) -> list[float]:
        seq["renderSettings"] = {"selectedTracks": ["v1"], **render}
        path = tmp_path / f"ramp-{len(list(tmp_path.glob('*.tlsp')))}.tlsp"
        path.write_text(json.dumps(doc))
        timeline = load(str(path))
        intro = [c for c in timeline.tracks[0].clips if c.id.startswith("intro")]
        ends = [c for c in intro if c.end == max(c.end for c in intro)]
        return [
            next(c.source_start + (f - c.start) * c.speed / 25
                 for c in intro if c.start <= f < c.end)
            for f in range(ends[0].end)
        ]  # fmt: skip

    whole, ranged = shown({}), shown({"inPoint": 1.0, "outPoint": 2.5})
    first = 25  # 1 s at the sequence's 25 fps
    assert (len(whole), len(ranged)) == (75, 38)  # the intro: 3 s; 1.5 s of it in the range
    assert ranged == pytest.approx(whole[first : first + len(ranged)], abs=1e-6)


def test_the_rendered_frames_follow_the_ramp(tmp_path: Path) -> None:
    """Pixels: a 30 fps source whose every frame is identifiable, ramped at 10 fps through a
    glide (1x to 3x over 1 s), a freeze (1 s) and 1x again; each rendered frame shows the
    source frame at the media time the player's rate has reached."""
    make_video(tmp_path / "src.mp4", frames=150, fps=30, size=(64, 36))
    keys = ramp((0, 1, "linear"), (1, 3, "hold"), (1.5, 0, "hold"), (2.5, 1, "hold"))
    clip = {"id": "c", "startTime": 0, "duration": 3.5, "offset": 0.5, "speedRamping": keys,
            "mediaFile": {"id": "m", "path": "src.mp4"}}  # fmt: skip
    doc = {
        "id": "p", "name": "p", "sections": [],
        "globalTracks": [{"id": "t", "type": "video", "clips": [clip]}],
        "settings": {"resolution": {"width": 64, "height": 36}, "fps": 10},
    }  # fmt: skip
    timeline = load_document(doc, str(tmp_path))[1]
    assert timeline.warnings == ()

    def media_time(t: float) -> float:  # 0.5 s in, then the integral of the rate
        glide = min(t, 1.0)
        played = glide + glide * glide  # 1x to 3x linearly over the first second
        played += 3 * min(max(t - 1.0, 0.0), 0.5)  # 3x to 1.5 s, then stopped to 2.5 s
        return 0.5 + played + max(t - 2.5, 0.0)

    comp = Compositor(timeline)
    try:
        shown = [identify(comp.frame(f)) for f in range(35)]
    finally:
        comp.close()

    def expected(frame: int) -> int:
        t = frame / 10
        if 1.5 <= t < 2.5:  # frozen: the source frame at the media time held
            return int(media_time(t) * 30 + 1e-6)
        # Moving: the last source frame that starts before the middle of the timeline frame's
        # span of media (docs/timeline-format.md, "Timeline frame t starts at ...").
        middle = (media_time(t) + media_time(t + 0.1)) / 2
        return math.ceil(middle * 30 - 1e-6) - 1

    assert shown == [expected(f) for f in range(35)]


def test_a_key_past_the_fastest_speed_is_named_once_and_played_at_it(tmp_path: Path) -> None:
    """Was (before the clamp): 1e308 made infinite media times, refused naming pieces the
    user never made."""
    keys = ramp((0, 1e308, "hold"), (0.5, 12, "hold"), (1, 1, "hold"))
    timeline = timeline_project(tmp_path, speedRamping=keys)
    assert timeline.warnings == (
        "clip 'c': speed ramping (speedRamping) keyframes[0].value 1e+308 (and 1 more key) is "
        "above 10x; played at 10x",
    )
    assert [(c.start, c.source_start, c.speed) for c in clips(timeline)] == [
        (0, 0.0, 10.0),
        (10, 10.0, 1.0),
    ]


def test_thousands_of_keys_make_at_most_the_most_pieces(tmp_path: Path) -> None:
    """2000 keys 0.03 s apart over a minute (600 frames): one piece a frame was 600 clips."""
    keys = ramp(*((n * 0.03, 0.5 + n % 7, "linear") for n in range(2000)))
    timeline = timeline_project(tmp_path, duration=60, speedRamping=keys)
    pieces = clips(timeline)
    assert MAX_PIECES // 2 < len(pieces) <= MAX_PIECES
    assert [c.start for c in pieces] == sorted({c.start for c in pieces})
    assert pieces[-1].end == 600


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"startTime": float("nan")}, "clip 'c': start_time must be a finite number, not nan"),
        ({"duration": 1e308}, "clip 'c': end_time must be between 0 and 86400"),
        # Was: split from media time 0 without a word.
        ({"offset": None, "mediaStartTime": "abc"}, "clip 'c': source_start must be a number"),
    ],
)
def test_a_ramped_clip_with_unusable_times_is_refused_naming_it(
    tmp_path: Path, fields: dict[str, Any], said: str
) -> None:
    """Was a traceback: Fraction('nan'), and an int too large to convert to float."""
    keys = ramp((0, 1, "linear"), (1, 2, "linear"))
    with pytest.raises(ValidationError, match=re.escape(said)):
        timeline_project(tmp_path, speedRamping=keys, **fields)


def test_a_reversed_ramped_clip_keeps_its_pitch_at_its_speed(tmp_path: Path) -> None:
    keys = ramp((0, 1, "linear"), (1, 2, "linear"))
    timeline = timeline_project(
        tmp_path, speed=2, isReversed=True, maintainPitch=True, speedRamping=keys
    )
    (pitch,) = timeline.clip("c").effects
    assert (pitch.kind, dict(pitch.params)) == ("audiopitch", {"ratio": 0.5})


def test_a_transition_out_of_a_freeze_frame_holds_it_without_a_word(tmp_path: Path) -> None:
    """Was: "runs clip 'c0' 2 frames past its media (... source_end 1.301s); the last frame is
    held": a freeze frame holds its one frame whatever the transition's length."""
    frozen = ramp((0, 0, "hold"))
    joined = {"id": "t1", "transitionId": "fade", "duration": 0.4, "type": "out"}
    timeline = two_clips(
        tmp_path,
        [{"speedRamping": frozen, "transitions": [joined], "offset": 1.3}, {"offset": 1}],
        {},
    )
    assert len(timeline.transitions) == 1 and timeline.warnings == ()


def test_a_reversed_ramped_clip_whose_speed_is_no_number_is_named(tmp_path: Path) -> None:
    """Was: ValueError: Unknown format code 'g' for object of type 'str' (a traceback)."""
    keys = ramp((0, 1, "linear"), (1, 2, "linear"))
    with pytest.raises(ValidationError, match="clip 'c': speed must be a number, not 'fast'"):
        timeline_project(tmp_path, speed="fast", isReversed=True, speedRamping=keys)
