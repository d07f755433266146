"""Kdenlive's fades, volume and brightness as OpenTimelineIO's kdenlive adapter writes them
(Kdenlive 20.04 to 24.x exported .otio through it): chunking.timeline.otio_kdenlive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Clip, Timeline, TrackKind

RT = otio.opentime.RationalTime


def effect(name: str, **metadata: Any) -> Any:
    """An effect as the adapter's ``item_from_xml`` writes one."""
    return otio.schema.Effect(effect_name=name, metadata=metadata)


def loaded(tmp_path: Path, *effects: Any) -> Timeline:
    """A 4-second clip on a video and an audio track, each with ``effects``, loaded."""
    (tmp_path / "a.mov").write_bytes(b"")
    tracks = []
    for kind in ("Video", "Audio"):
        clip = otio.schema.Clip(
            name="a",
            media_reference=otio.schema.ExternalReference(target_url="a.mov"),
            source_range=otio.opentime.TimeRange(RT(0, 25), RT(100, 25)),
        )
        for fx in effects:
            clip.effects.append(fx.clone())
        tracks.append(otio.schema.Track(kind=kind, children=[clip]))
    path = tmp_path / "kdenlive.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=tracks), str(path))
    return load(str(path))


def clip_of(timeline: Timeline, kind: TrackKind) -> Clip:
    (clip,) = [c for t in timeline.tracks if t.kind is kind for c in t.clips]
    return clip


def test_kdenlives_fades_are_the_clips_fades_of_their_length(tmp_path: Path) -> None:
    """fadein/fadeout are its sound's, fade_from_black/fade_to_black its picture's. (The sound
    faded over the default second whatever their length; the picture did not fade.)"""
    timeline = loaded(
        tmp_path,
        effect("fadein", duration=RT(50, 25)),
        effect("fadeout", duration=RT(25, 25)),
        effect("fade_from_black", duration=RT(12, 25)),
        effect("fade_to_black", duration=RT(75, 25)),
    )
    sound, picture = clip_of(timeline, TrackKind.AUDIO), clip_of(timeline, TrackKind.VIDEO)
    assert (sound.fade_in, sound.fade_out) == (2.0, 1.0)
    assert (sound.picture_fade_in, sound.picture_fade_out) == (0, 0)
    assert (picture.picture_fade_in, picture.picture_fade_out) == (0.48, 3.0)
    assert not sound.effects and not picture.effects
    assert timeline.warnings == ()


@pytest.mark.parametrize(
    ("levels", "volume", "warned"),
    [
        ({"0": "-6", "99": "-6"}, 10 ** (-6 / 20), False),
        ({"0": "0dB"}, 1.0, False),
        ({"0": "0", "50": "-20"}, (1 + 0.1) / 2, True),
    ],
)
def test_kdenlives_volume_is_the_clips_level(
    tmp_path: Path, levels: dict[str, str], volume: float, warned: bool
) -> None:
    """MLT's volume level is in decibels. (It was an unknown effect, left out.)"""
    timeline = loaded(tmp_path, effect("volume", keyframes=levels))
    assert clip_of(timeline, TrackKind.AUDIO).volume == pytest.approx(volume)
    assert not clip_of(timeline, TrackKind.AUDIO).effects
    assert any("keyframed Kdenlive volume" in w for w in timeline.warnings) is warned
    assert not any("not an effect this renderer knows" in w for w in timeline.warnings)


def test_kdenlives_unchanged_brightness_leaves_the_picture_as_it_is(tmp_path: Path) -> None:
    """A level of 1 changes nothing: it was drawn as the renderer's brightness effect at its
    default amount, brightening the clip."""
    timeline = loaded(tmp_path, effect("brightness", keyframes={"0": "1"}))
    assert not clip_of(timeline, TrackKind.VIDEO).effects
    assert timeline.warnings == ()


def test_kdenlives_other_brightness_is_named_as_not_rendered(tmp_path: Path) -> None:
    timeline = loaded(tmp_path, effect("brightness", keyframes={"0": "0.5", "20": "1"}))
    assert not clip_of(timeline, TrackKind.VIDEO).effects
    assert any("Kdenlive brightness (levels 0.5, 1) is not rendered" in w
               for w in timeline.warnings)  # fmt: skip


def with_track(tmp_path: Path, kind: str, *children: Any) -> Timeline:
    """A 4-second video clip and, below it in the export as Kdenlive writes its subtitle track
    (``otioexport.cpp``: a track of kind "Subtitle" spanning the project), a track of ``kind``
    holding ``children``, loaded."""
    (tmp_path / "a.mov").write_bytes(b"")
    picture = otio.schema.Clip(
        name="a",
        media_reference=otio.schema.ExternalReference(target_url="a.mov"),
        source_range=otio.opentime.TimeRange(RT(0, 25), RT(100, 25)),
    )
    other = otio.schema.Track(
        name="Subtitles",
        kind=kind,
        source_range=otio.opentime.TimeRange(RT(0, 25), RT(100, 25)),
        children=list(children),
    )
    tracks = [other, otio.schema.Track(name="V1", kind="Video", children=[picture])]
    path = tmp_path / "kdenlive.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=tracks), str(path))
    return load(str(path))


def test_an_empty_kdenlive_subtitle_track_is_left_out_silently(tmp_path: Path) -> None:
    """It was warned of as "neither video nor audio; left out", though it held nothing."""
    timeline = with_track(tmp_path, "Subtitle")
    assert list(timeline.warnings) == []
    assert [len(t.clips) for t in timeline.tracks] == [1]


def test_a_gap_only_subtitle_track_is_left_out_silently(tmp_path: Path) -> None:
    gap = otio.schema.Gap(source_range=otio.opentime.TimeRange(RT(0, 25), RT(50, 25)))
    assert list(with_track(tmp_path, "Subtitle", gap).warnings) == []


def test_a_subtitle_track_holding_subtitles_says_they_are_not_rendered(tmp_path: Path) -> None:
    line = otio.schema.Clip(
        name="Hello", source_range=otio.opentime.TimeRange(RT(0, 25), RT(50, 25))
    )
    timeline = with_track(tmp_path, "Subtitle", line)
    assert list(timeline.warnings) == [
        "track 'Subtitles': is a subtitle track: its 1 subtitle is not rendered"
    ]
    assert [len(t.clips) for t in timeline.tracks] == [1]


def test_a_data_track_holding_items_is_still_named(tmp_path: Path) -> None:
    line = otio.schema.Clip(name="TC", source_range=otio.opentime.TimeRange(RT(0, 25), RT(50, 25)))
    timeline = with_track(tmp_path, "Data", line)
    assert list(timeline.warnings) == [
        "track 'Subtitles': is a track of kind 'Data', neither video nor audio; left out"
    ]
