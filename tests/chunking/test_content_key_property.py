"""Content keys against pixels, property-based: one field of a small timeline edited at a time
(a clip's, a track's, a transition's, a title's, the export's), every chunk that keeps its key
must composite to exactly the frames it did (a kept key that hides changed pixels is a false
cache hit: stale output). Tiny media (64x36, 2 s at 10 fps) and a bounded, derandomised search
keep it quick."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from chunking.content_key import chunk_key
from chunking.timeline.fade_curves import OpacityKey, key_opacity, keys_between
from chunking.timeline.model import (
    Cell,
    Clip,
    ColorCorrection,
    Crop,
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
    TransformKey,
    Transition,
)
from common.errors import RenderError
from tests.media import moving_clip
from workers.compositor import Compositor
from workers.media_ids import LocalIds

W, H, FPS, FRAMES, CHUNK = 64, 36, Fraction(10), 20, 5
CHUNKS = [(s, min(s + CHUNK, FRAMES)) for s in range(0, FRAMES, CHUNK)]
Edit = Callable[[Timeline], Timeline]


def _video(path: Path, seed: int) -> None:
    """A moving 3-s clip whose every frame differs."""
    moving_clip(
        path, seed, size=(W, H), fps=10, frames=30, options={"g": "5", "crf": "18"}, steps=(9, 4, 2)
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Timeline:
    """Video clips joined by a dissolve, an opaque colour covering chunk 1, a scaled still, an
    image sequence, and an animated title: each chunk boundary has something crossing it."""
    folder = tmp_path_factory.mktemp("property")
    _video(folder / "a.mp4", 0)
    _video(folder / "b.mp4", 120)
    Image.fromarray(np.full((20, 30, 3), (200, 40, 90), np.uint8)).save(folder / "s.png")
    for n in range(4):
        Image.fromarray(np.full((18, 32, 3), 50 * n, np.uint8)).save(folder / f"i_{n:02d}.png")
    seq = ImageSequence("i_", ".png", 0, 4, Fraction(5), 1, 2)
    c1 = Clip("c1", "v1", FileSource(str(folder / "a.mp4")), 0, 12,
              effects=(Effect("e1", "blur", {"radius": 2.0}, 2, 8),))  # fmt: skip
    c2 = Clip("c2", "v1", FileSource(str(folder / "b.mp4")), 10, 20, source_start=0.5,
              picture_fade_out=0.3)  # fmt: skip
    c3 = Clip("c3", "v2", GeneratedSource("color", (10, 200, 30, 255)), 5, 10)
    c4 = Clip("c4", "v3", FileSource(str(folder / "s.png")), 8, 18,
              transform=Transform(scale_x=0.5, scale_y=0.5, position_x=6.0),
              effects=(Effect("g1", "filmgrain", {"amount": 0.5}, 12, 16),))  # fmt: skip
    c5 = Clip("c5", "v3", FileSource(str(folder / "i_00.png"), seq), 0, 8,
              transform=Transform(scale_x=0.4, scale_y=0.4, position_y=-5.0))  # fmt: skip
    title = Subtitle("s1", "Hi", 3, 16, font_size=10,
                     animations=(TextAnimation("fade_in", 3, 7),))  # fmt: skip
    return Timeline(
        FPS, W, H, FRAMES,
        tracks=(Track("v1", TrackKind.VIDEO, clips=(c1, c2)),
                Track("v2", TrackKind.VIDEO, clips=(c3,)),
                Track("v3", TrackKind.VIDEO, clips=(c4, c5)),
                Track("a1", TrackKind.AUDIO, clips=(
                    Clip("a", "a1", FileSource(str(folder / "a.mp4")), 0, 20),))),
        transitions=(Transition("x1", "dissolve", "c1", "c2", 10, 12),),
        subtitles=(title,),
    )  # fmt: skip


# -- edits ------------------------------------------------------------------------------------


def _clip(cid: str, **changes: Any) -> Edit:
    def edit(tl: Timeline) -> Timeline:
        tracks = tuple(
            dataclasses.replace(
                t,
                clips=tuple(
                    dataclasses.replace(c, **changes) if c.id == cid else c for c in t.clips
                ),
            )
            for t in tl.tracks
        )
        return dataclasses.replace(tl, tracks=tracks)

    return edit


def _nested(cid: str, name: str, field: str, value: Any) -> Edit:
    """Edit one field of a clip's transform, crop, colour or cell."""

    def edit(tl: Timeline) -> Timeline:
        clip = tl.clip(cid)
        inner = getattr(clip, name) or Cell(0.0, 0.0, 1.0, 1.0)
        return _clip(cid, **{name: dataclasses.replace(inner, **{field: value})})(tl)

    return edit


def _effects(cid: str, change: Callable[[tuple[Effect, ...]], tuple[Effect, ...]]) -> Edit:
    return lambda tl: _clip(cid, effects=change(tl.clip(cid).effects))(tl)


def _track(n: int, **changes: Any) -> Edit:
    def edit(tl: Timeline) -> Timeline:
        tracks = list(tl.tracks)
        tracks[n] = dataclasses.replace(tracks[n], **changes)
        return dataclasses.replace(tl, tracks=tuple(tracks))

    return edit


def _top(name: str, **changes: Any) -> Edit:
    """Edit the first transition or subtitle, or the export settings."""

    def edit(tl: Timeline) -> Timeline:
        if name == "export":
            return dataclasses.replace(tl, export=dataclasses.replace(tl.export, **changes))
        first = dataclasses.replace(getattr(tl, name)[0], **changes)
        return dataclasses.replace(tl, **{name: (first, *getattr(tl, name)[1:])})

    return edit


_CLIPS = ("c1", "c2", "c3", "c4", "c5")
_TIMES = st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.3, 0.45, 0.5, 1.0, 2.5])
_SMALL = st.floats(-1.0, 2.0, allow_nan=False).map(lambda x: round(x, 2))
_FRAME = st.integers(0, FRAMES)
_EFFECT = st.builds(
    Effect,
    st.sampled_from(["n1", "n2"]),
    st.sampled_from(["blur", "brightness", "vignette", "invert", "glitch", "chromakey", "grain"]),
    st.sampled_from([{}, {"radius": 3.0}, {"value": 0.3}, {"amount": 0.8}]),
    st.one_of(st.none(), _FRAME),
    st.one_of(st.none(), _FRAME),
    st.sampled_from([1.0, 0.5, 0.0, 1.5]),
)


def _clip_edit(cid: str) -> st.SearchStrategy[tuple[str, Edit]]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "start": st.integers(0, 19), "end": st.integers(1, 20),
        "source_start": _TIMES, "source_end": st.one_of(st.none(), _TIMES),
        "speed": st.sampled_from([0.5, 1.5, 2.0, 1.0000001]), "reverse": st.booleans(),
        "opacity": st.sampled_from([0.0, 0.5, 0.999, 1.0]),
        "volume": _SMALL, "muted": st.booleans(), "fade_in": _TIMES, "fade_out": _TIMES,
        "picture_fade_in": _TIMES, "picture_fade_out": _TIMES,
        "picture_fade_head": _TIMES, "picture_fade_tail": _TIMES,
        "picture_fade_in_curve": st.sampled_from(["linear", "ease_in", "smooth"]),
        "picture_fade_out_curve": st.sampled_from(["linear", "ease_out", "smooth"]),
        "opacity_keys": st.lists(
            st.builds(OpacityKey, _TIMES, st.sampled_from([0.0, 0.5, 1.0])), max_size=3
        ).map(lambda keys: tuple(sorted(keys, key=lambda k: k.time))),
        "audio_stream": st.sampled_from([None, 0, 1]), "deinterlace": st.booleans(),
        "transform_keys": st.lists(
            st.builds(TransformKey, _TIMES, st.builds(Transform, st.sampled_from([0.5, 1.0]),
                      position_x=st.sampled_from([0.0, -6.0, 9.0])),
                      st.sampled_from(["linear", "ease-in"])), max_size=3
        ).map(lambda keys: tuple(sorted(keys, key=lambda k: k.time))),
    }  # fmt: skip
    plain = [st.tuples(st.just(f"{cid}.{k}"), v.map(lambda x, k=k: _clip(cid, **{k: x})))
             for k, v in fields.items()]  # fmt: skip
    nested = [
        st.tuples(
            st.just(f"{cid}.{name}.{f.name}"),
            (st.integers(0, 20) if name == "crop" else _SMALL).map(
                lambda x, name=name, f=f.name: _nested(cid, name, f, x)
            ),
        )
        for name, kind in (("transform", Transform), ("crop", Crop), ("color", ColorCorrection))
        for f in dataclasses.fields(kind)
    ]
    cell = st.tuples(
        st.just(f"{cid}.cell"),
        st.sampled_from(["x", "y", "width", "height", "align_x", "scale"]).flatmap(
            lambda f: st.sampled_from([0.0, 0.25, 0.5, 1.0]).map(
                lambda x: _nested(cid, "cell", f, x)
            )
        ),
    )
    effects = st.tuples(
        st.just(f"{cid}.effects"),
        st.one_of(
            _EFFECT.map(lambda e: _effects(cid, lambda es: (*es, e))),
            _EFFECT.map(lambda e: _effects(cid, lambda es: (e, *es))),
            st.just(_effects(cid, lambda es: es[::-1])),
            st.just(_effects(cid, lambda es: es[1:])),
            st.fixed_dictionaries({"start": st.one_of(st.none(), _FRAME)}).map(
                lambda ch: _effects(cid, lambda es: tuple(dataclasses.replace(e, **ch) for e in es))
            ),
        ),
    )
    return st.one_of(*plain, *nested, cell, effects)


_TRACK = st.integers(0, 3).flatmap(
    lambda n: st.tuples(
        st.just(f"track {n}"),
        st.one_of(
            st.booleans().map(lambda b: _track(n, enabled=b)),
            st.booleans().map(lambda b: _track(n, muted=b)),
            _SMALL.map(lambda v: _track(n, volume=v)),
            _EFFECT.map(lambda e: _track(n, effects=(e,))),
        ),
    )
)
_ORDER = st.permutations(range(3)).map(
    lambda p: ("track order", lambda tl: dataclasses.replace(
        tl, tracks=(*(tl.tracks[i] for i in p), tl.tracks[3])))
)  # fmt: skip
_TRANSITION = st.tuples(
    st.just("transition"),
    st.one_of(
        st.sampled_from(["dissolve", "fade_black", "wipe_left", "slide_up"]).map(
            lambda k: _top("transitions", kind=k)
        ),
        st.sampled_from(["linear", "ease", "ease_in_out"]).map(
            lambda e: _top("transitions", easing=e)
        ),
        st.tuples(st.integers(5, 11), st.integers(11, 15)).map(
            lambda se: _top("transitions", start=se[0], end=se[1])
        ),
    ),
)
_TITLE = st.tuples(
    st.just("title"),
    st.one_of(
        st.sampled_from(["Hi", "Ho", ""]).map(lambda t: _top("subtitles", text=t)),
        st.tuples(st.integers(0, 10), st.integers(11, 20)).map(
            lambda se: _top("subtitles", start=se[0], end=se[1])
        ),
        st.sampled_from([8, 12]).map(lambda s: _top("subtitles", font_size=s)),
        st.sampled_from(["top", "center", (0.2, 0.3)]).map(lambda p: _top("subtitles", position=p)),
        st.sampled_from([0, 4]).map(lambda o: _top("subtitles", outline=o)),
        st.sampled_from([0.5, 0.0]).map(lambda o: _top("subtitles", opacity=o)),
        st.sampled_from(["fade_out", "shake", "slide_in", "typewriter"]).map(
            lambda k: _top("subtitles", animations=(TextAnimation(k, 6, 14),))
        ),
    ),
)
_EXPORT = st.tuples(
    st.just("export"),
    st.one_of(
        st.sampled_from(["h264", "hevc", "ffv1", "prores"]).map(lambda c: _top("export", codec=c)),
        st.sampled_from([None, 18, 30]).map(lambda c: _top("export", crf=c)),
        st.sampled_from(["mp4", "mkv", "mov"]).map(lambda c: _top("export", container=c)),
        st.booleans().map(lambda b: _top("export", lossless=b)),
        st.sampled_from([96_000, 320_000]).map(lambda b: _top("export", audio_bitrate=b)),
    ),
)
EDITS = st.one_of(*(_clip_edit(c) for c in _CLIPS), _TRACK, _ORDER, _TRANSITION, _TITLE, _EXPORT)


# -- the property -----------------------------------------------------------------------------


def _keys(tl: Timeline) -> list[str]:
    ids = LocalIds(tl)
    return [chunk_key(tl, s, e, ids, "fp") for s, e in CHUNKS]


def _frames(tl: Timeline, start: int, end: int) -> list[np.ndarray]:
    compositor = Compositor(tl)
    try:
        return [frame.copy() for frame in compositor.frames(start, end)]
    finally:
        compositor.close()


_SEEN: dict[int, list[list[np.ndarray]]] = {}


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edit=EDITS)
def test_a_kept_key_means_the_same_frames(base: Timeline, edit: tuple[str, Edit]) -> None:
    name, change = edit
    try:
        edited = change(base)
        after = _keys(edited)
    except (RenderError, ValueError, KeyError):
        return  # an edit the model or the key refuses renders nothing to compare
    frames = _SEEN.setdefault(id(base), [_frames(base, s, e) for s, e in CHUNKS])
    for n, ((start, end), key) in enumerate(zip(CHUNKS, after, strict=True)):
        if key != _keys(base)[n]:
            continue
        try:
            new = _frames(edited, start, end)
        except (RenderError, ValueError):
            continue  # the renderer refuses it: no stale output either
        for frame, (a, b) in enumerate(zip(frames[n], new, strict=True), start):
            assert np.array_equal(a, b), f"{name}: chunk {n} keeps its key, frame {frame} differs"


# -- false hits the search found, pinned --------------------------------------------------------


def test_keys_between_keeps_every_key_at_the_spans_last_time() -> None:
    # A step (two keys at one time): the opacity at that time is the later key's.
    keys = (OpacityKey(0, 1.0), OpacityKey(0.9, 1.0), OpacityKey(0.9, 0.2), OpacityKey(1.5, 0.2))
    for first, last in ((0.5, 0.9), (0.9, 0.9), (0.0, 1.5)):
        for t in (first, last):
            assert key_opacity(keys_between(keys, first, last), t) == key_opacity(keys, t)


def test_an_opacity_step_on_a_chunks_last_frame(base: Timeline) -> None:
    # c3's frame 9 (0.4 s into it) takes the second of two keys at 0.4 s: editing it shows there.
    step = (OpacityKey(0.0, 1.0), OpacityKey(0.4, 1.0), OpacityKey(0.4, 0.2), OpacityKey(1.0, 0.2))
    before = _clip("c3", opacity_keys=step)(base)
    after = _clip("c3", opacity_keys=(*step[:2], OpacityKey(0.4, 0.7), step[3]))(before)
    old, new = _frames(before, 5, 10), _frames(after, 5, 10)
    assert not np.array_equal(old[-1], new[-1])  # it shows
    assert _keys(before)[1] != _keys(after)[1], "chunk 1 keeps its key but frame 9 changed"
