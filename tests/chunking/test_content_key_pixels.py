"""Content keys against pixels: after an edit, every chunk whose key is unchanged (a cache hit)
composites to exactly the frames the edited timeline gives, and edits nobody sees keep every
key (reuse). Small generated media (320x180, 2 s) so the whole check stays quick."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chunking.content_key import chunk_key
from chunking.timeline.fade_curves import OpacityKey
from chunking.timeline.model import (
    Clip,
    Effect,
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
from tests.media import moving_clip
from workers.compositor import Compositor
from workers.media_ids import LocalIds

W, H, FPS, FRAMES, CHUNK = 320, 180, Fraction(25), 50, 10
CHUNKS = [(s, min(s + CHUNK, FRAMES)) for s in range(0, FRAMES, CHUNK)]
Edit = Callable[[Timeline], Timeline]


def _video(path: Path, seed: int) -> None:
    """A moving 2-s H.264 clip whose every frame differs."""
    moving_clip(
        path,
        seed,
        size=(W, H),
        fps=25,
        frames=60,
        options={"g": "10", "crf": "20"},
        steps=(7, 1, 5),
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Timeline:
    """Three layers, a transition, a blur, film grain, a fade, an image sequence, a title."""
    folder = tmp_path_factory.mktemp("pixels")
    _video(folder / "a.mp4", 0)
    _video(folder / "b.mp4", 90)
    for n in range(6):
        Image.fromarray(np.full((40, 60, 3), 30 * n, np.uint8)).save(folder / f"i_{n:02d}.png")
    seq = ImageSequence("i_", ".png", 0, 6, Fraction(5), 1, 2)
    c1 = Clip("c1", "v1", FileSource(str(folder / "a.mp4")), 0, 25,
              effects=(Effect("e1", "blur", {"radius": 3.0}, 5, 15),))  # fmt: skip
    c2 = Clip("c2", "v1", FileSource(str(folder / "b.mp4")), 20, 50, source_start=0.5,
              picture_fade_out=0.3)  # fmt: skip
    grain = Effect("g1", "filmgrain", {}, 12, 38, 0.5)
    c3 = Clip("c3", "v2", GeneratedSource("pattern", (0, 0, 0, 160), "checker"), 10, 40,
              transform=Transform(scale_x=0.5, scale_y=0.5), effects=(grain,))  # fmt: skip
    c4 = Clip("c4", "v3", FileSource(str(folder / "i_00.png"), seq), 30, 50,
              transform=Transform(scale_x=0.3, scale_y=0.3, position_x=0.2))  # fmt: skip
    moves = (TextAnimation("fade_in", 15, 22), TextAnimation("shake", 25, 35))
    title = Subtitle("s1", "Hello", 15, 45, font_size=20, animations=moves)
    return Timeline(
        FPS, W, H, FRAMES,
        tracks=(Track("v1", TrackKind.VIDEO, clips=(c1, c2)),
                Track("v2", TrackKind.VIDEO, clips=(c3,)),
                Track("v3", TrackKind.VIDEO, clips=(c4,))),
        transitions=(Transition("x1", "dissolve", "c1", "c2", 20, 25),),
        subtitles=(title,),
    )  # fmt: skip


def _clip(cid: str, **changes: object) -> Edit:
    def edit(tl: Timeline) -> Timeline:
        tracks = tuple(
            dataclasses.replace(
                t,
                clips=tuple(
                    dataclasses.replace(c, **changes) if c.id == cid else c  # type: ignore[arg-type]
                    for c in t.clips
                ),
            )
            for t in tl.tracks
        )
        return dataclasses.replace(tl, tracks=tracks)

    return edit


def _effect(cid: str, **changes: object) -> Edit:
    def edit(tl: Timeline) -> Timeline:
        clip = next(c for t in tl.tracks for c in t.clips if c.id == cid)
        moved = dataclasses.replace(clip.effects[0], **changes)  # type: ignore[arg-type]
        return _clip(cid, effects=(moved, *clip.effects[1:]))(tl)

    return edit


def _title(**changes: object) -> Edit:
    return lambda tl: dataclasses.replace(
        tl,
        subtitles=(dataclasses.replace(tl.subtitles[0], **changes),),  # type: ignore[arg-type]
    )


#: Edits a viewer may or may not see; each chunk they keep the key of must look the same.
EDITS: dict[str, Edit] = {
    "source start in the 15th digit": _clip("c2", source_start=0.5000000000000001),
    "source start by a tenth of a frame": _clip("c2", source_start=0.504),
    "speed in the 15th digit": _clip("c2", speed=1.000000000000001),
    "reversed": _clip("c2", reverse=True),
    "opacity in the 16th digit": _clip("c3", opacity=0.9999999999999999),
    "position in the 16th digit": _clip(
        "c4", transform=Transform(scale_x=0.3, scale_y=0.3, position_x=0.20000000000000004)
    ),
    "fade a hair longer": _clip("c2", picture_fade_out=0.30000000000000004),
    "opacity keys": _clip("c2", opacity_keys=(OpacityKey(0.0, 1.0), OpacityKey(1.0, 0.5))),
    "grain moved a frame": _effect("c3", start=13, end=39),
    "grain renamed (its seed)": _effect("c3", id="g2"),
    "blur window": _effect("c1", start=6),
    "transition easing": lambda tl: dataclasses.replace(
        tl, transitions=(dataclasses.replace(tl.transitions[0], easing="ease_in"),)
    ),
    "title text": _title(text="Hellp"),
    "title shorter": _title(end=44),
    "animation moved": lambda tl: _title(
        animations=(tl.subtitles[0].animations[0], TextAnimation("shake", 26, 36))
    )(tl),
    "tracks swapped": lambda tl: dataclasses.replace(
        tl, tracks=(tl.tracks[1], tl.tracks[0], tl.tracks[2])
    ),
    "sequence moved a frame": _clip("c4", start=31),
}

#: Edits no frame shows: every chunk keeps its key.
UNSEEN: dict[str, Edit] = {
    "volume": _clip("c2", volume=0.5),
    "muted": _clip("c1", muted=True),
    "audio fade": _clip("c1", fade_in=0.4),
    "audio stream": _clip("c2", audio_stream=1),
    "sample rate": lambda tl: dataclasses.replace(tl, sample_rate=44100),
    "track renamed": lambda tl: dataclasses.replace(
        tl, tracks=(dataclasses.replace(tl.tracks[0], name="A"), *tl.tracks[1:])
    ),
}


def _keys(tl: Timeline) -> list[str]:
    ids = LocalIds(tl)
    return [chunk_key(tl, s, e, ids, "fp") for s, e in CHUNKS]


def _frames(tl: Timeline, start: int, end: int) -> list[np.ndarray]:
    compositor = Compositor(tl)
    try:
        return [frame.copy() for frame in compositor.frames(start, end)]
    finally:
        compositor.close()


@pytest.mark.parametrize("name", sorted(EDITS))
def test_a_kept_key_means_the_same_frames(base: Timeline, name: str) -> None:
    edited = EDITS[name](base)
    before, after = _keys(base), _keys(edited)
    for n, (start, end) in enumerate(CHUNKS):
        if before[n] != after[n]:
            continue
        old, new = _frames(base, start, end), _frames(edited, start, end)
        for frame, (a, b) in enumerate(zip(old, new, strict=True), start):
            assert np.array_equal(a, b), (
                f"{name}: chunk {n} keeps its key but frame {frame} differs"
            )


@pytest.mark.parametrize("name", sorted(EDITS))
def test_an_edit_keeps_the_keys_of_chunks_it_does_not_reach(base: Timeline, name: str) -> None:
    # Guards against over-keying: the clip, title or effect edited is on at most 4 of 5 chunks.
    before, after = _keys(base), _keys(EDITS[name](base))
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    assert changed < len(CHUNKS) or name in ("tracks swapped", "title text", "animation moved")


def test_a_fade_seen_through_a_transition_outside_the_clip(base: Timeline) -> None:
    # c2 cut to [25, 33) with a fade-out longer than itself; the dissolve runs over [15, 25), so
    # chunk [10, 20) shows c2 (at its first frame's fade) without holding any frame of its own.
    cut = _clip("c2", start=25, end=33, picture_fade_out=0.4)(_clip("c1", end=25)(base))
    cut = dataclasses.replace(
        cut, transitions=(dataclasses.replace(cut.transitions[0], start=15, end=25),)
    )
    longer = _clip("c2", picture_fade_out=0.8)(cut)
    old, new = _frames(cut, 10, 20), _frames(longer, 10, 20)
    assert any(not np.array_equal(a, b) for a, b in zip(old, new, strict=True))  # it shows
    assert _keys(cut)[1] != _keys(longer)[1], "chunk 1 keeps its key but its frames changed"


@pytest.mark.parametrize("name", sorted(UNSEEN))
def test_edits_no_frame_shows_keep_every_key(base: Timeline, name: str) -> None:
    assert _keys(UNSEEN[name](base)) == _keys(base)
