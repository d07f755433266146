"""Content keys: the same frames get the same key wherever and however the project says them,
and anything that changes a frame of the range (or the sound) changes its key."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chunking.content_audio_key import audio_key
from chunking.content_key import KEY_VERSION, chunk_key, image_media_key, video_form
from chunking.plan import plan_chunks
from chunking.timeline.model import (
    Cell,
    Clip,
    ColorCorrection,
    Crop,
    Effect,
    ExportSettings,
    FileSource,
    GeneratedSource,
    ImageSequence,
    Subtitle,
    TextAnimation,
    Timeline,
    Track,
    TrackKind,
    Transform,
    Transition,
)
from chunking.timeline.studio import load_project
from common.errors import TimelineError
from tests.media import make_image, project, video_track

FP = "0123456789abcdef"
MEDIA = {f"/m/{n}": f"sha256:{n * 8}" for n in ("a.mp4", "b.mp4", "c.png", "d.wav")}


def clip(cid: str, start: int, end: int, path: str | None = "/m/a.mp4", **kw: Any) -> Clip:
    source = FileSource(path) if path else GeneratedSource(color=(10, 20, 30, 255))
    return Clip(
        id=cid, track_id=kw.pop("track_id", "v1"), source=source, start=start, end=end, **kw
    )


def timeline(*tracks: Track, frames: int = 300, **kw: Any) -> Timeline:
    return Timeline(fps=Fraction(30), width=64, height=36, frames=frames, tracks=tracks, **kw)


def video(tid: str, *clips: Clip, **kw: Any) -> Track:
    return Track(
        tid, TrackKind.VIDEO, clips=tuple(dataclasses.replace(c, track_id=tid) for c in clips), **kw
    )


def key(tl: Timeline, start: int = 100, end: int = 200, media: dict[str, str] = MEDIA) -> str:
    return chunk_key(tl, start, end, media, FP)


def akey(tl: Timeline, media: dict[str, str] = MEDIA) -> str:
    return audio_key(tl, media, FP)


def base() -> Timeline:
    """Two video tracks and an audio track; [100, 200) shows a, b (and the dissolve a->b)."""
    a = clip("a", 0, 120, effects=(Effect("e1", "blur", {"radius": 2.0}),))
    b = clip("b", 120, 300, "/m/b.mp4", source_start=1.5)
    logo = clip("logo", 150, 250, "/m/c.png", opacity=0.8)
    music = Clip("m", "au", FileSource("/m/d.wav"), 0, 300, volume=0.7)
    return timeline(
        video("v1", a, b),
        video("v2", logo),
        Track("au", TrackKind.AUDIO, clips=(music,)),
        transitions=(Transition("x", "dissolve", "a", "b", 110, 130),),
        subtitles=(Subtitle("s1", "Hello", 160, 190),),
    )


def replace_clip(tl: Timeline, cid: str, **changes: Any) -> Timeline:
    tracks = tuple(
        dataclasses.replace(
            t,
            clips=tuple(dataclasses.replace(c, **changes) if c.id == cid else c for c in t.clips),
        )
        for t in tl.tracks
    )
    return dataclasses.replace(tl, tracks=tracks)


# --- form --------------------------------------------------------------------------------------


def test_key_is_a_sha256_of_a_versioned_form() -> None:
    tl = base()
    k = key(tl)
    assert len(k) == 64 and int(k, 16) >= 0
    assert key(tl) == k and key(base()) == k
    form = video_form(tl, 100, 200, MEDIA, FP)
    assert form["version"] == KEY_VERSION and form["fingerprint"] == FP
    assert json.loads(json.dumps(form)) == form
    assert key(tl, media={**MEDIA, "/unused.mp4": "sha256:zz"}) == k


def test_range_outside_the_timeline_is_a_timeline_error() -> None:
    for start, end in ((-1, 10), (10, 10), (200, 301)):
        with pytest.raises(TimelineError, match="frame range"):
            key(base(), start, end)


def test_fingerprint_changes_every_key() -> None:
    tl = base()
    assert chunk_key(tl, 100, 200, MEDIA, "other") != key(tl)
    assert audio_key(tl, MEDIA, "other") != akey(tl)


# --- what does not count -----------------------------------------------------------------------


def renamed(tl: Timeline) -> Timeline:
    """Every id and name changed consistently."""
    ids = {c.id: f"renamed-{c.id}" for t in tl.tracks for c in t.clips}
    tracks = tuple(
        dataclasses.replace(
            t,
            id=f"T{t.id}",
            name=f"Track {t.id}",
            clips=tuple(
                dataclasses.replace(
                    c,
                    id=ids[c.id],
                    track_id=f"T{t.id}",
                    effects=tuple(dataclasses.replace(e, id=f"fx-{e.id}") for e in c.effects),
                )
                for c in t.clips
            ),
        )
        for t in tl.tracks
    )
    transitions = tuple(
        dataclasses.replace(x, id=f"X{x.id}", from_clip=ids[x.from_clip], to_clip=ids[x.to_clip])
        for x in tl.transitions
    )
    subtitles = tuple(dataclasses.replace(s, id=f"S{s.id}") for s in tl.subtitles)
    return dataclasses.replace(
        tl,
        tracks=tracks,
        transitions=transitions,
        subtitles=subtitles,
        name="another name",
        warnings=("a loader warning",),
    )


def test_ids_and_names_do_not_count() -> None:
    tl = base()
    assert key(renamed(tl)) == key(tl)
    assert akey(renamed(tl)) == akey(tl)


def test_a_clip_outside_the_range_does_not_count() -> None:
    tl = dataclasses.replace(base(), frames=400)
    late = video("v3", clip("late", 200, 400, "/m/a.mp4"))
    with_late = dataclasses.replace(tl, tracks=(*tl.tracks, late))
    # It starts exactly at the range's end (and the logo ends at 250, inside it).
    assert key(with_late, 100, 200) == key(tl, 100, 200)
    assert key(replace_clip(with_late, "late", opacity=0.1), 100, 200) == key(with_late, 100, 200)
    # A clip that ends exactly at the range's start does not count either.
    assert key(replace_clip(tl, "b", source_start=9.0), 300, 400) == key(tl, 300, 400)
    # Its media need no content id.
    media = {k: v for k, v in MEDIA.items() if k != "/m/a.mp4"}
    assert key(tl, 130, 200, media) == key(tl, 130, 200)


def test_a_clip_ending_at_the_start_does_not_count() -> None:
    tl = timeline(video("v", clip("a", 0, 100), clip("b", 100, 300, "/m/b.mp4")))
    assert key(replace_clip(tl, "a", opacity=0.5), 100, 200) == key(tl, 100, 200)
    assert key(replace_clip(tl, "a", opacity=0.5), 99, 200) != key(tl, 99, 200)


def test_a_disabled_track_does_not_count() -> None:
    tl = base()
    hidden = video("hidden", clip("h", 0, 300, "/m/b.mp4"), enabled=False)
    assert key(dataclasses.replace(tl, tracks=(*tl.tracks, hidden))) == key(tl)
    v2 = dataclasses.replace(tl.tracks[1], enabled=False)
    assert key(dataclasses.replace(tl, tracks=(tl.tracks[0], v2, tl.tracks[2]))) != key(tl)


def test_an_empty_track_between_others_does_not_count() -> None:
    tl = base()
    empty = video("empty", clip("far", 280, 300))
    tracks = (tl.tracks[0], empty, *tl.tracks[1:])
    assert key(dataclasses.replace(tl, tracks=tracks)) == key(tl)


def test_sound_only_changes_keep_the_chunk_key_and_change_the_audio_key() -> None:
    tl = base()
    crossfade = Effect("cf", "audiofadein", {"duration": 1.0})
    for change in (
        {"volume": 0.3},
        {"fade_in": 0.5},
        {"fade_out": 0.25},
        {"muted": True},
        {"audio_stream": 1},
        {"effects": (*tl.clip("a").effects, crossfade)},
    ):
        edited = replace_clip(tl, "a", **change)
        assert key(edited) == key(tl), change
        assert akey(edited) != akey(tl), change
    louder = replace_clip(tl, "m", volume=1.0)
    assert key(louder) == key(tl) and akey(louder) != akey(tl)


def test_audio_bitrate_changes_only_the_audio_key() -> None:
    tl = base()
    edited = dataclasses.replace(tl, export=ExportSettings(audio_bitrate=96_000))
    assert key(edited) == key(tl)
    assert akey(edited) != akey(tl)
    webm = dataclasses.replace(tl, export=ExportSettings(container="webm", codec="vp9"))
    assert akey(webm) != akey(tl)  # the container picks the audio codec


def test_picture_only_changes_keep_the_audio_key() -> None:
    tl = base()
    for edited in (
        replace_clip(tl, "a", opacity=0.2, color=ColorCorrection(hue=30.0)),
        replace_clip(tl, "a", effects=()),
        replace_clip(tl, "a", deinterlace=False),
        dataclasses.replace(tl, subtitles=()),
        dataclasses.replace(tl, transitions=(Transition("x", "wipe_left", "a", "b", 110, 130),)),
        dataclasses.replace(
            tl, transitions=(Transition("x", "dissolve", "a", "b", 110, 130, easing="ease"),)
        ),
        dataclasses.replace(tl, export=ExportSettings(crf=30, preset="slow")),
    ):
        assert akey(edited) == akey(tl)
        assert key(edited) != key(tl)


def test_moved_media_with_the_same_content_keep_their_keys() -> None:
    tl = base()
    moved = {"/m/a.mp4": "/elsewhere/a.mp4", "/m/b.mp4": "/x/b2.mp4", "/m/c.png": "/x/c.png"}
    moved_tl = dataclasses.replace(
        tl,
        tracks=tuple(
            dataclasses.replace(
                t,
                clips=tuple(
                    dataclasses.replace(
                        c, source=FileSource(moved.get(c.source.path, c.source.path))
                    )
                    if isinstance(c.source, FileSource)
                    else c
                    for c in t.clips
                ),
            )
            for t in tl.tracks
        ),
    )
    media = {moved.get(p, p): v for p, v in MEDIA.items()}
    assert key(moved_tl, media=media) == key(tl)
    assert akey(moved_tl, media=media) == akey(tl)
    # The same name with other bytes is other media.
    changed = {**MEDIA, "/m/b.mp4": "sha256:new"}
    assert key(tl, media=changed) != key(tl)
    assert key(tl, 0, 100, changed) == key(tl, 0, 100)  # b is not in [0, 100)


def test_missing_content_id_is_a_key_error() -> None:
    media = {k: v for k, v in MEDIA.items() if k != "/m/c.png"}
    with pytest.raises(KeyError, match="c.png"):
        key(base(), media=media)
    with pytest.raises(KeyError, match="d.wav"):
        akey(base(), media={k: v for k, v in MEDIA.items() if k != "/m/d.wav"})


def test_whole_numbers_written_as_int_or_float_key_alike() -> None:
    tl = base()
    ints = replace_clip(tl, "logo", opacity=1, transform=Transform(scale_x=2, position_x=3))
    floats = replace_clip(tl, "logo", opacity=1.0, transform=Transform(scale_x=2.0, position_x=3.0))
    assert key(ints) == key(floats)
    # source_start and speed are read as the fractions their decimals spell
    assert key(replace_clip(tl, "b", source_start=2, speed=1)) == key(
        replace_clip(tl, "b", source_start=2.0, speed=1.0)
    )


def test_reordered_keys_and_a_moved_project_keep_every_key(tmp_path: Path) -> None:
    def document(folder: Path) -> dict[str, Any]:
        folder.mkdir()
        make_image(folder / "logo.png", (32, 18), (200, 40, 40, 255))
        clips = [
            {"id": "c1", "start_time": 0, "end_time": 2, "source": {"File": "logo.png"}},
            {"id": "c2", "start_time": 2, "end_time": 4, "source": {"File": "logo.png"}},
        ]
        return project([video_track("v", clips)], size=(64, 36))

    def reversed_keys(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reversed_keys(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reversed_keys(v) for v in value]
        return value

    def keys(tl: Timeline) -> list[str]:
        media = {
            c.source.path: "sha256:" + hashlib.sha256(Path(c.source.path).read_bytes()).hexdigest()
            for t in tl.tracks
            for c in t.clips
            if isinstance(c.source, FileSource)
        }
        return [chunk_key(tl, c.start, c.end, media, FP) for c in plan_chunks(tl, workers=2)]

    first = load_project(document(tmp_path / "one"), str(tmp_path / "one"))
    second = load_project(reversed_keys(document(tmp_path / "two")), str(tmp_path / "two"))
    assert first.clip("c1").source != second.clip("c1").source  # other paths...
    assert keys(first) == keys(second)  # ...same content, same keys
    # Two clips of one still: each second of c2 is the same slice as that second of c1.
    one, two, three, four = keys(first)
    assert (one, two) == (three, four) and one != two


# --- what counts -------------------------------------------------------------------------------


def test_track_order_counts() -> None:
    tl = base()
    swapped = dataclasses.replace(tl, tracks=(tl.tracks[1], tl.tracks[0], tl.tracks[2]))
    assert key(swapped) != key(tl)
    # Where only one of them shows, their order does not matter.
    assert key(swapped, 0, 100) == key(tl, 0, 100)


def test_a_transition_overlapping_the_range_counts_with_its_clips() -> None:
    tl = base()  # dissolve a -> b over [110, 130); a itself ends at 120
    wipe = dataclasses.replace(tl, transitions=(Transition("x", "wipe_left", "a", "b", 110, 130),))
    graded = replace_clip(tl, "a", color=ColorCorrection(brightness=0.2))
    for start in (100, 125, 129):
        assert key(wipe, start, 200) != key(tl, start, 200), start
        # a is drawn inside the transition, after its own end at 120
        assert key(graded, start, 200) != key(tl, start, 200), start
    for start in (130, 150):
        assert key(wipe, start, 200) == key(tl, start, 200), start
        assert key(graded, start, 200) == key(tl, start, 200), start


def test_a_subtitle_overlapping_the_range_counts() -> None:
    tl = base()  # "Hello" over [160, 190)
    typo = dataclasses.replace(tl, subtitles=(Subtitle("s1", "Hallo", 160, 190),))
    assert key(typo, 100, 200) != key(tl, 100, 200)
    assert key(typo, 189, 200) != key(tl, 189, 200)
    assert key(typo, 190, 300) == key(tl, 190, 300)
    assert key(typo, 0, 160) == key(tl, 0, 160)
    faded = dataclasses.replace(
        tl,
        subtitles=(
            dataclasses.replace(tl.subtitles[0], animations=(TextAnimation("fade_in", 160, 170),)),
        ),
    )
    assert key(faded, 100, 200) != key(tl, 100, 200)


@pytest.mark.parametrize(
    "export",
    [
        ExportSettings(crf=18),
        ExportSettings(codec="hevc"),
        ExportSettings(preset="veryslow"),
        ExportSettings(bitrate=5_000_000),
        ExportSettings(keyframe_interval=48),
        ExportSettings(b_frames=0),
        ExportSettings(lossless=True),
        ExportSettings(hardware_acceleration=True),
    ],
)
def test_video_export_settings_change_every_key(export: ExportSettings) -> None:
    tl = base()
    edited = dataclasses.replace(tl, export=export)
    for start, end in ((0, 100), (100, 200), (200, 300)):
        assert key(edited, start, end) != key(tl, start, end)


@pytest.mark.parametrize(
    "change",
    [{"width": 128, "height": 72}, {"fps": Fraction(25)}, {"fps": Fraction(30000, 1001)}],
)
def test_frame_size_and_rate_change_every_key(change: dict[str, Any]) -> None:
    tl = base()
    edited = dataclasses.replace(tl, **change)
    for start, end in ((0, 100), (100, 200), (200, 300)):
        assert key(edited, start, end) != key(tl, start, end)
    assert akey(dataclasses.replace(tl, fps=Fraction(25))) != akey(tl)


@pytest.mark.parametrize(
    "change",
    [
        {"opacity": 0.5},
        {"transform": Transform(rotation=5.0)},
        {"crop": Crop(left=2)},
        {"color": ColorCorrection(shadows=0.1)},
        {"cell": Cell(0.0, 0.0, 0.5, 0.5)},
        {"source_start": 0.04},
        {"source_end": 1.0},
        {"speed": 2.0},
        {"source": FileSource("/m/b.mp4")},
        {"effects": (Effect("e1", "blur", {"radius": 3.0}),)},
        {"effects": (Effect("e1", "blur", {"radius": 2.0}, intensity=0.5),)},
        {"effects": (Effect("e1", "blur", {"radius": 2.0}, start=105),)},
        {"effects": (Effect("e1", "blur", {"radius": 2.0}), Effect("e2", "sepia"))},
        {"start": 10},
    ],
)
def test_changes_to_a_drawn_clip_change_the_key(change: dict[str, Any]) -> None:
    tl = base()
    assert key(replace_clip(tl, "a", **change)) != key(tl)


def test_effect_windows_are_cut_to_the_range() -> None:
    tl = base()
    late = replace_clip(tl, "a", effects=(*tl.clip("a").effects, Effect("g", "sepia", start=250)))
    assert key(late) == key(tl)  # sepia starts after a is last drawn (130)
    early = replace_clip(tl, "a", effects=(Effect("e1", "blur", {"radius": 2.0}, end=50),))
    assert key(early) == key(replace_clip(tl, "a", effects=()))
    # Moving a window edge that lies outside the range changes nothing either.
    wide = replace_clip(tl, "a", effects=(Effect("e1", "blur", {"radius": 2.0}, start=0, end=500),))
    assert key(wide) == key(tl)


def test_sound_effects_on_a_drawn_clip_do_not_count() -> None:
    tl = base()
    echo = replace_clip(tl, "a", effects=(*tl.clip("a").effects, Effect("r", "audioecho")))
    assert key(echo) == key(tl) and akey(echo) != akey(tl)


def test_image_sequences_key_by_the_images_the_range_shows() -> None:
    # Re-exporting one image of a long sequence used to change every chunk's key (the id of the
    # whole sequence): now a chunk keys the images it shows, one more on each side.
    seq = ImageSequence("f_", ".png", 1, 48, Fraction(24), padding=4)
    tl = timeline(video("v", clip("s", 0, 300, "/seq/f_0001.png")))
    tl = replace_clip(tl, "s", source=FileSource("/seq/f_0001.png", seq))
    media = {image_media_key(f"/seq/f_{n:04d}.png"): f"sha256:{n}" for n in range(1, 49)}
    media["/seq/f_0001.png"] = "sequence:abc"
    # Frames 0-29 at 30 fps are images 0-23 at 24 fps (f_0001 to f_0024), and f_0025 beside.
    k = key(tl, 0, 30, media)
    assert key(tl, 0, 30, {**media, "/seq/f_0001.png": "sequence:other"}) == k
    assert key(tl, 0, 30, {**media, image_media_key("/seq/f_0010.png"): "sha256:new"}) != k
    assert key(tl, 0, 30, {**media, image_media_key("/seq/f_0025.png"): "sha256:new"}) != k
    assert key(tl, 0, 30, {**media, image_media_key("/seq/f_0026.png"): "sha256:new"}) == k
    faster = replace_clip(
        tl, "s", source=FileSource("/seq/f_0001.png", dataclasses.replace(seq, rate=Fraction(30)))
    )
    assert key(faster, 0, 30, media) != k
    # Past its end the last image (f_0048) holds: a range there keys that one alone.
    late = key(tl, 100, 200, media)
    assert key(tl, 100, 200, {**media, image_media_key("/seq/f_0048.png"): "sha256:x"}) != late
    assert key(tl, 100, 200, {**media, image_media_key("/seq/f_0047.png"): "sha256:x"}) == late
