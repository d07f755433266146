"""Sound that an export puts on one track per channel is heard once."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from chunking.timeline.fields import Problems
from chunking.timeline.loader import load
from chunking.timeline.model import TrackKind
from chunking.timeline.otio_channels import drop_channel_copies
from tests.media import make_video


def test_an_edl_audio_event_on_two_channels_is_heard_once(tmp_path: Path) -> None:
    """``AA/V``: the event's picture, and its sound on A1 and A2 (one source channel each in
    the editor): the file's sound plays once, at its own level, not twice (+6 dB)."""
    make_video(tmp_path / "shot.mov", frames=72, fps=24, audio_hz=440)
    path = tmp_path / "cut.edl"
    path.write_text(
        "TITLE: cut\nFCM: NON-DROP FRAME\n\n"
        "001  AX       AA/V  C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n"
        "* FROM CLIP NAME: shot.mov\n"
        "002  AX       A2    C        00:00:01:00 00:00:02:00 00:00:01:00 00:00:02:00\n"
        "* FROM CLIP NAME: shot.mov\n"
    )
    timeline = load(str(path))
    heard = [
        (t.id, c.start, c.end)
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO and t.enabled
        for c in t.clips
        if not c.muted
    ]
    assert heard == [("A1", 0, 24), ("A2", 24, 48)]  # the second event is A2's own


_IDS = itertools.count()
RATE = "<rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate>"


def _item(start: int, end: int, channel: int, extra: str = "", enabled: bool = True) -> str:
    """An audio clipitem of dm.mov's source ``channel`` over sequence frames [start, end)."""
    return (
        f'<clipitem id="a{next(_IDS)}"><name>dm.mov</name>'
        f"<enabled>{'TRUE' if enabled else 'FALSE'}</enabled><duration>75</duration>{RATE}"
        f"<start>{start}</start><end>{end}</end><in>{start}</in><out>{end}</out>"
        f'<file id="f-dm"><name>dm.mov</name><pathurl>dm.mov</pathurl>{RATE}'
        "<duration>75</duration></file>"
        f"<sourcetrack><mediatype>audio</mediatype><trackindex>{channel}</trackindex>"
        f"</sourcetrack>{extra}</clipitem>"
    )


def _level(value: float) -> str:
    return (
        "<filter><effect><name>Audio Levels</name><effectid>audiolevels</effectid>"
        "<mediatype>audio</mediatype><parameter><parameterid>level</parameterid>"
        f"<name>Level</name><value>{value}</value></parameter></effect></filter>"
    )


def _track(*items: str, channel: int, enabled: bool = True) -> str:
    flag = "TRUE" if enabled else "FALSE"
    return (
        f"<track>{''.join(items)}<enabled>{flag}</enabled>"
        f"<outputchannelindex>{channel}</outputchannelindex></track>"
    )


def _dual_mono(
    folder: Path, *tracks: str
) -> tuple[list[tuple[int, int, float, int | None]], list[str]]:
    """A Premiere export of dm.mov's channels on these audio tracks, loaded: each clip heard
    (its frames, level and the one source channel it plays, if one) and the warnings."""
    make_video(folder / "dm.mov", frames=75, fps=25, size=(64, 36), audio_hz=500)
    path = folder / "edit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n<xmeml version="4">'
        f'<sequence id="s"><name>S</name><duration>75</duration>{RATE}<media>'
        f"<audio><numOutputChannels>2</numOutputChannels>{''.join(tracks)}</audio>"
        "</media></sequence></xmeml>\n"
    )
    timeline = load(str(path))
    heard = [
        (c.start, c.end, round(c.volume, 3), c.audio_channel)
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO and t.enabled and not t.muted
        for c in t.clips
        if not c.muted
    ]
    return sorted(heard, key=str), list(timeline.warnings)


def test_a_disabled_channel_item_is_not_heard_at_the_full_level(tmp_path: Path) -> None:
    """Channel 2 (the camera mic) switched off: channel 1 plays alone, channel 2 not at all."""
    heard, warnings = _dual_mono(
        tmp_path,
        _track(_item(0, 75, 1), channel=1),
        _track(_item(0, 75, 2, enabled=False), channel=2),
    )
    assert heard == [(0, 75, 1.0, 1)]
    assert not [w for w in warnings if "channel" in w]
    # Two items of the same channel (a duplicate, the original kept disabled as a backup)
    # are no channels: the copy plays at its own level.
    heard, warnings = _dual_mono(
        tmp_path,
        _track(_item(0, 75, 1, enabled=False), channel=1),
        _track(_item(0, 75, 1, _level(0.5)), channel=2),
    )
    assert heard == [(0, 75, 0.5, None)]
    assert not [w for w in warnings if "channel" in w]


def test_a_disabled_channel_track_is_not_heard_at_the_full_level(tmp_path: Path) -> None:
    heard, warnings = _dual_mono(
        tmp_path,
        _track(_item(0, 75, 1), channel=1),
        _track(_item(0, 75, 2), channel=2, enabled=False),
    )
    assert heard == [(0, 75, 1.0, 1)]
    assert not [w for w in warnings if "channel" in w]


def test_each_channel_plays_at_its_own_level(tmp_path: Path) -> None:
    """Channel 1 at 1, channel 2 at 0.1: each channel alone at its level."""
    heard, _ = _dual_mono(
        tmp_path,
        _track(_item(0, 75, 1, _level(1)), channel=1),
        _track(_item(0, 75, 2, _level(0.1)), channel=2),
    )
    assert heard == [(0, 75, 0.1, 2), (0, 75, 1.0, 1)]
    # Channels played alike are the file's own stereo: it plays once, as it is.
    heard, _ = _dual_mono(
        tmp_path,
        _track(_item(0, 75, 1, _level(0.5)), channel=1),
        _track(_item(0, 75, 2, _level(0.5)), channel=2),
    )
    assert heard == [(0, 75, 0.5, None)]


def test_channel_items_trimmed_differently_are_not_heard_twice(tmp_path: Path) -> None:
    """Channel 1 over 0-75, channel 2 over 25-60: each its own channel, where it is."""
    heard, warnings = _dual_mono(
        tmp_path, _track(_item(0, 75, 1), channel=1), _track(_item(25, 60, 2), channel=2)
    )
    assert heard == [(0, 75, 1.0, 1), (25, 60, 1.0, 2)]
    assert not [w for w in warnings if "channel" in w or "trimmed" in w]


def test_a_longer_second_channel_item_plays_only_where_the_first_does_not(
    tmp_path: Path,
) -> None:
    heard, _ = _dual_mono(
        tmp_path, _track(_item(0, 50, 1), channel=1), _track(_item(0, 75, 2), channel=2)
    )
    assert heard == [(0, 50, 1.0, 1), (0, 75, 1.0, 2)]


def test_a_lone_second_channel_item_is_warned_of(tmp_path: Path) -> None:
    heard, warnings = _dual_mono(tmp_path, _track(_item(0, 75, 2), channel=2))
    assert heard == [(0, 75, 1.0, None)]
    assert any("plays source channel 2 only" in w for w in warnings)


def test_an_edl_audio_event_trimmed_differently_on_a2_is_heard_once(tmp_path: Path) -> None:
    """A (0-3 s) and A2 (0-2 s) of one file: once over 0-2 s, not twice (+6 dB)."""
    make_video(tmp_path / "shot.mov", frames=75, fps=25, audio_hz=440)
    path = tmp_path / "cut.edl"
    path.write_text(
        "TITLE: cut\nFCM: NON-DROP FRAME\n\n"
        "001  AX       A     C        00:00:00:00 00:00:03:00 00:00:00:00 00:00:03:00\n"
        "* FROM CLIP NAME: shot.mov\n"
        "002  AX       A2    C        00:00:00:00 00:00:02:00 00:00:00:00 00:00:02:00\n"
        "* FROM CLIP NAME: shot.mov\n"
    )
    timeline = load(str(path))
    heard = [
        (c.start, c.end)
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO and t.enabled
        for c in t.clips
        if not c.muted
    ]
    assert heard == [(0, 75)]


def test_a_channel_item_keeps_its_fade_out(tmp_path: Path) -> None:
    """Channel 2 runs on past channel 1 (0-50) to 75 and fades out (level keyframes 1 at
    source frame 37, 0.01 at 74): it fades out over its last 38 frames."""
    fade = (
        "<filter><effect><name>Audio Levels</name><effectid>audiolevels</effectid>"
        "<parameter><parameterid>level</parameterid><value>1</value>"
        "<keyframe><when>37</when><value>1</value></keyframe>"
        "<keyframe><when>74</when><value>0.01</value></keyframe></parameter></effect></filter>"
    )
    make_video(tmp_path / "dm.mov", frames=75, fps=25, size=(64, 36), audio_hz=500)
    path = tmp_path / "edit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n<xmeml version="4">'
        f'<sequence id="s"><name>S</name><duration>75</duration>{RATE}<media><audio>'
        f"{_track(_item(0, 50, 1), channel=1)}{_track(_item(0, 75, 2, fade), channel=2)}"
        "</audio></media></sequence></xmeml>\n"
    )
    timeline = load(str(path))
    heard = sorted(
        (c.start, c.end, round(c.volume, 2), round(c.fade_out, 2))
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO and t.enabled
        for c in t.clips
        if not c.muted
    )
    assert heard == [(0, 50, 1.0, 0.0), (0, 75, 1.0, 1.52)]


def test_channel_passes_over_thousands_of_clips_walk_each_track_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each clip asked OTIO for its place (``range_in_parent`` walks the track from its start)
    and each cut clip for its index (a Python scan of the track): 2000 events of a channel
    trimmed differently took 20 s, 10,000 minutes. Their places are now read in one pass a
    track, with the same result: A2 heard only where A1 is not, beside a transition left."""
    asked: list[str] = []
    for owner, name in ((otio.core.Item, "range_in_parent"), (otio.schema.Track, "index")):
        original = getattr(owner, name)

        def counted(self: Any, *args: Any, _original: Any = original, _name: str = name) -> Any:
            asked.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(owner, name, counted)
    events = 300
    tl = otio.schema.Timeline()
    a1, a2 = otio.schema.Track(kind="Audio"), otio.schema.Track(kind="Audio")
    tl.tracks.extend([a1, a2])
    for i in range(events):
        a1.extend([_sound(f"a{i}", i, 2), otio.schema.Gap(source_range=_span(0, 2))])
        a2.append(_sound(f"b{i}", i, 4))
    a2.insert(1, otio.schema.Transition(in_offset=_at(1), out_offset=_at(1)))
    p = Problems()
    drop_channel_copies(tl, p, edl=True)
    assert asked == []
    heard = [
        (str(item.name), item.source_range.start_time.value, item.duration().value)
        for item in a2
        if isinstance(item, otio.schema.Clip)
    ]
    # b0 and b1 touch the transition: left whole; every other is cut to its part past A1's.
    assert heard == [("b0", 0, 4), ("b1", 0, 4)] + [(f"b{i}", 2, 2) for i in range(2, events)]
    assert sum(isinstance(item, otio.schema.Gap) for item in a2) == events - 2
    assert len(p.warnings) == events


def _at(frames: int) -> Any:
    return otio.opentime.RationalTime(frames, 1)


def _span(start: int, length: int) -> Any:
    return otio.opentime.TimeRange(_at(start), _at(length))


def _sound(name: str, file: int, seconds: int) -> Any:
    """A clip of the first ``seconds`` of file number ``file``."""
    return otio.schema.Clip(
        name=name,
        media_reference=otio.schema.ExternalReference(target_url=f"/media/{file}.wav"),
        source_range=_span(0, seconds),
    )
