"""Content keys across edits: slices moved by inserted or deleted time keep their keys, and
random edits outside a range (or to the sound) keep it while visible ones change it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chunking.plan import plan_chunks
from chunking.timeline.model import (
    Clip,
    ColorCorrection,
    Crop,
    Effect,
    FileSource,
    GeneratedSource,
    Subtitle,
    TextAnimation,
    Timeline,
    Track,
    TrackKind,
    Transform,
)
from tests.chunking.test_content_key import (
    MEDIA,
    akey,
    clip,
    key,
    renamed,
    replace_clip,
    timeline,
    video,
)

BOUNDED = settings(
    max_examples=80,
    derandomize=True,
    database=None,  # nothing written into the checkout
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# --- offsets -----------------------------------------------------------------------------------


def ripple(tl: Timeline, at: int, by: int) -> Timeline:
    """``by`` frames of black inserted at frame ``at``: everything from there on moves later.
    Nothing may straddle ``at``."""

    def moved(frame: int | None) -> int | None:
        return frame + by if frame is not None and frame >= at else frame

    def clip_moved(c: Clip) -> Clip:
        assert not c.start < at < c.end
        effects = tuple(
            dataclasses.replace(e, start=moved(e.start), end=moved(e.end)) for e in c.effects
        )
        return dataclasses.replace(c, start=moved(c.start), end=moved(c.end), effects=effects)

    return dataclasses.replace(
        tl,
        frames=tl.frames + by,
        tracks=tuple(
            dataclasses.replace(t, clips=tuple(clip_moved(c) for c in t.clips)) for t in tl.tracks
        ),
        transitions=tuple(
            dataclasses.replace(x, start=moved(x.start), end=moved(x.end)) for x in tl.transitions
        ),
        subtitles=tuple(
            dataclasses.replace(
                s,
                start=moved(s.start),
                end=moved(s.end),
                animations=tuple(
                    dataclasses.replace(a, start=moved(a.start), end=moved(a.end))
                    for a in s.animations
                ),
            )
            for s in tl.subtitles
        ),
    )


def film() -> Timeline:
    """A short film: a cut at 60, a logo over [150, 250), music cut at 60 too."""
    intro = clip("intro", 0, 60, None)
    main = clip("main", 60, 300, "/m/b.mp4", effects=(Effect("v", "vignette", start=200),))
    logo = clip("logo", 150, 250, "/m/c.png")
    music = (
        Clip("m1", "au", FileSource("/m/d.wav"), 0, 60),
        Clip("m2", "au", FileSource("/m/d.wav"), 60, 300, source_start=2.0),
    )
    subtitle = Subtitle("s", "Hi", 210, 240, animations=(TextAnimation("fade_in", 210, 220),))
    return timeline(
        video("v1", intro, main),
        video("v2", logo),
        Track("au", TrackKind.AUDIO, clips=music),
        subtitles=(subtitle,),
    )


def test_a_slice_moved_by_inserted_time_keeps_its_key() -> None:
    tl = film()
    later = ripple(tl, 60, 45)  # 1.5 s inserted at the cut
    for start, end in ((60, 150), (150, 250), (200, 300), (90, 231)):
        assert key(later, start + 45, end + 45) == key(tl, start, end), (start, end)
    assert key(later, 0, 60) == key(tl, 0, 60)  # before the insert: unchanged
    assert key(later, 60, 150) != key(tl, 60, 150)  # the inserted black is new
    assert akey(later) != akey(tl)  # the sound moved


def test_film_grain_pins_a_slice_to_its_frames() -> None:
    grain = Effect("g", "filmgrain", {"strength": 0.2})
    tl = replace_clip(film(), "main", effects=(grain,))
    later = ripple(tl, 60, 45)
    assert key(later, 105, 195) != key(tl, 60, 150)  # grain is seeded by the absolute frame
    assert key(later, 0, 60) == key(tl, 0, 60)  # no grain there
    regrained = replace_clip(tl, "main", effects=(dataclasses.replace(grain, id="g2"),))
    assert key(regrained, 60, 150) != key(tl, 60, 150)  # nor by the effect's id


def test_deleting_a_clip_keeps_the_keys_of_the_slices_after_it() -> None:
    clips = [clip(f"c{i}", 90 * i, 90 * (i + 1), source_start=float(i)) for i in range(10)]
    tl = timeline(video("v", *clips), frames=900)
    gone = [dataclasses.replace(c, start=c.start - 90, end=c.end - 90) for c in clips[4:]]
    cut = timeline(video("v", *clips[:3], *gone), frames=810)
    old = {key(tl, c.start, c.end) for c in plan_chunks(tl, workers=1)}
    new = [key(cut, c.start, c.end) for c in plan_chunks(cut, workers=1)]
    # Every chunk of the shorter film was rendered before: nothing to render again.
    assert len(set(new)) == len(new) == 9
    assert all(k in old for k in new)


# --- properties over random edits --------------------------------------------------------------

SOURCES = st.sampled_from([None, "/m/a.mp4", "/m/b.mp4", "/m/c.png"])


@st.composite
def cases(draw: st.DrawFn) -> tuple[Timeline, int, int]:
    """A random timeline of 1-3 tracks and a frame range of it."""
    frames = draw(st.integers(30, 240))
    tracks = []
    for t in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from([TrackKind.VIDEO, TrackKind.VIDEO, TrackKind.AUDIO]))
        cuts = sorted(set(draw(st.lists(st.integers(1, frames - 1), max_size=4))))
        clips = []
        for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, frames], strict=True)):
            if draw(st.booleans()) or not clips:
                effects = draw(
                    st.lists(
                        st.builds(
                            Effect,
                            id=st.just(f"e{t}{i}"),
                            kind=st.sampled_from(["blur", "sepia", "audioecho"]),
                            start=st.none() | st.integers(0, frames),
                        ),
                        max_size=2,
                    )
                )
                path = draw(SOURCES)
                clips.append(
                    clip(
                        f"t{t}c{i}",
                        a,
                        b,
                        path,
                        track_id=f"t{t}",
                        opacity=draw(st.sampled_from([1.0, 0.5])),
                        effects=tuple(effects),
                        source_start=draw(st.sampled_from([0.0, 0.5])),
                    )
                )
        tracks.append(
            Track(f"t{t}", kind, clips=tuple(clips), enabled=draw(st.booleans()) or t == 0)
        )
    subtitles = []
    for s in range(draw(st.integers(0, 2))):
        a = draw(st.integers(0, frames - 1))
        subtitles.append(
            Subtitle(
                f"s{s}", draw(st.sampled_from(["hi", "yo"])), a, draw(st.integers(a + 1, frames))
            )
        )
    tl = Timeline(
        fps=Fraction(30),
        width=32,
        height=18,
        frames=frames,
        tracks=tuple(tracks),
        subtitles=tuple(subtitles),
    )
    start = draw(st.integers(0, frames - 1))
    return tl, start, draw(st.integers(start + 1, frames))


def drawn_in(tl: Timeline, start: int, end: int) -> list[Clip]:
    """The clips a frame of [start, end) shows (these cases have no transitions): drawn there,
    and not under an opaque colour filling the canvas on a higher track over the whole range."""
    video = [t for t in tl.tracks if t.kind is TrackKind.VIDEO and t.enabled]
    t_effects = {t.id: t.effects for t in video}

    def covers(c: Clip) -> bool:
        return (
            isinstance(c.source, GeneratedSource)
            and c.source.color[3] == 255
            and c.start <= start
            and c.end >= end
            and c.opacity == 1
            and (c.transform, c.crop, c.cell) == (Transform(), Crop(), None)
            and not any(
                (e.start is None or e.start < end) and (e.end is None or e.end > start)
                for e in (*c.effects, *t_effects[c.track_id])
            )
        )

    shown = []
    for n, t in enumerate(video):
        if any(covers(c) for above in video[n + 1 :] for c in above.clips):
            continue
        shown += [c for c in t.clips if c.start < end and c.end > start]
    return shown


Edit = Callable[[Clip], Clip]
OUTSIDE_EDITS: list[Edit] = [
    lambda c: dataclasses.replace(c, opacity=0.25),
    lambda c: dataclasses.replace(c, source=FileSource("/m/b.mp4"), source_start=3.0),
    lambda c: dataclasses.replace(c, color=ColorCorrection(contrast=1.5)),
    lambda c: dataclasses.replace(c, effects=(*c.effects, Effect("new", "invert"))),
]
VISIBLE_EDITS: list[Edit] = [
    lambda c: dataclasses.replace(c, opacity=c.opacity / 3),
    lambda c: dataclasses.replace(c, transform=Transform(position_x=7.0)),
    lambda c: dataclasses.replace(c, color=ColorCorrection(saturation=0.0)),
    lambda c: dataclasses.replace(c, effects=(*c.effects, Effect("new", "invert"))),
    lambda c: dataclasses.replace(c, crop=Crop(top=1)),
]
SOUND_EDITS: list[Edit] = [
    lambda c: dataclasses.replace(c, volume=c.volume / 2),
    lambda c: dataclasses.replace(c, fade_out=0.5),
    lambda c: dataclasses.replace(c, effects=(*c.effects, Effect("new", "audioecho"))),
]


def edit_clip(tl: Timeline, target: Clip, edit: Edit) -> Timeline:
    tracks = tuple(
        dataclasses.replace(t, clips=tuple(edit(c) if c is target else c for c in t.clips))
        for t in tl.tracks
    )
    return dataclasses.replace(tl, tracks=tracks)


@BOUNDED
@given(cases(), st.data())
def test_edits_outside_the_range_or_to_the_sound_keep_the_key(
    case: tuple[Timeline, int, int], data: st.DataObject
) -> None:
    tl, start, end = case
    shown = drawn_in(tl, start, end)
    hidden = [c for t in tl.tracks for c in t.clips if not any(c is s for s in shown)]
    k = key(tl, start, end)
    assert key(renamed(tl), start, end) == k
    if hidden:
        target = data.draw(st.sampled_from(hidden))
        edit = data.draw(st.sampled_from(OUTSIDE_EDITS))
        assert key(edit_clip(tl, target, edit), start, end) == k
    target = data.draw(st.sampled_from([c for t in tl.tracks for c in t.clips]))
    edit = data.draw(st.sampled_from(SOUND_EDITS))
    assert key(edit_clip(tl, target, edit), start, end) == k
    outside = [s for s in tl.subtitles if s.end <= start or s.start >= end]
    for sub in outside:
        retyped = tuple(
            dataclasses.replace(s, text="typo") if s is sub else s for s in tl.subtitles
        )
        assert key(dataclasses.replace(tl, subtitles=retyped), start, end) == k


@BOUNDED
@given(cases(), st.data())
def test_visible_edits_change_the_key(case: tuple[Timeline, int, int], data: st.DataObject) -> None:
    tl, start, end = case
    shown = drawn_in(tl, start, end)
    assume(shown or any(s.start < end and s.end > start for s in tl.subtitles))
    k = key(tl, start, end)
    if shown:
        target = data.draw(st.sampled_from(shown))
        edit = data.draw(st.sampled_from(VISIBLE_EDITS))
        assert key(edit_clip(tl, target, edit), start, end) != k
        moved = (
            {**MEDIA, target.source.path: "sha256:edited"}
            if isinstance(target.source, FileSource)
            else None
        )
        if moved is not None:
            assert key(tl, start, end, moved) != k
    for sub in [s for s in tl.subtitles if s.start < end and s.end > start]:
        retyped = tuple(
            dataclasses.replace(s, text="typo") if s is sub else s for s in tl.subtitles
        )
        assert key(dataclasses.replace(tl, subtitles=retyped), start, end) != k


@BOUNDED
@given(cases(), st.integers(1, 90), st.data())
def test_inserted_time_before_a_slice_keeps_its_key(
    case: tuple[Timeline, int, int], by: int, data: st.DataObject
) -> None:
    tl, start, end = case
    edges = [
        (w.start, w.end)
        for t in tl.tracks
        for c in t.clips
        for w in (c, *(e for e in c.effects if e.start is not None and e.end is not None))
    ]
    edges += [(s.start, s.end) for s in tl.subtitles]
    safe = [p for p in range(start + 1) if not any(a < p < b for a, b in edges)]
    at = data.draw(st.sampled_from(safe))
    later = ripple(tl, at, by)
    assert key(later, start + by, end + by) == key(tl, start, end)
