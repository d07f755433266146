"""Frame cost model: relative costs of layers, effects, transitions, subtitles and canvas size."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from chunking.complexity import (
    COLOR_CORRECTION_WEIGHT,
    EFFECT_WEIGHTS,
    ENCODE_WEIGHT,
    MIN_LAYER_WEIGHT,
    OTHER_EFFECT_WEIGHT,
    SUBTITLE_WEIGHT,
    TRANSITION_BLEND_WEIGHT,
    complexity,
    effect_weight,
    frame_cost,
    sample_frames,
)
from chunking.timeline import catalogue
from chunking.timeline.catalogue import VIDEO_EFFECTS
from chunking.timeline.model import (
    Clip,
    ColorCorrection,
    Effect,
    GeneratedSource,
    Subtitle,
    Timeline,
    Track,
    TrackKind,
    Transform,
    Transition,
)

HD = (1920, 1080)
UHD = (3840, 2160)
E = ENCODE_WEIGHT  # encode cost of one 1080p frame


def clip(
    cid: str,
    start: int = 0,
    end: int = 100,
    *,
    scale: float = 1.0,
    effects: tuple[str, ...] = (),
    color: ColorCorrection | None = None,
    track: str = "",
) -> Clip:
    """A generated clip; `effects` are kinds, each active over the whole clip."""
    return Clip(
        id=cid,
        track_id=track or f"t-{cid}",
        source=GeneratedSource(),
        start=start,
        end=end,
        transform=Transform(scale_x=scale, scale_y=scale),
        color=color or ColorCorrection(),
        effects=tuple(Effect(id=f"{cid}-{k}-{i}", kind=k) for i, k in enumerate(effects)),
    )


def timeline(
    *clips: Clip,
    size: tuple[int, int] = HD,
    frames: int = 100,
    transitions: tuple[Transition, ...] = (),
    subtitles: tuple[Subtitle, ...] = (),
    kind: TrackKind = TrackKind.VIDEO,
    enabled: bool = True,
) -> Timeline:
    """One track per clip, in the given order."""
    tracks = tuple(Track(id=c.track_id, kind=kind, enabled=enabled, clips=(c,)) for c in clips)
    return Timeline(
        fps=Fraction(30),
        width=size[0],
        height=size[1],
        frames=frames,
        tracks=tracks,
        transitions=transitions,
        subtitles=subtitles,
    )


def sub(start: int = 0, end: int = 100) -> Subtitle:
    return Subtitle(id=f"s{start}", text="hello", start=start, end=end)


# --- one frame ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tl", "expected"),
    [
        ("empty frame costs just the encode", timeline(), E),
        ("one full 1080p layer is one unit", timeline(clip("a")), 1.0 + E),
        ("two full layers", timeline(clip("a"), clip("b")), 2.0 + E),
        ("half scale is a quarter of the area", timeline(clip("a", scale=0.5)), 0.25 + E),
        ("double scale is four times the area", timeline(clip("a", scale=2.0)), 4.0 + E),
        ("tiny layers cost a minimum", timeline(clip("a", scale=0.01)), MIN_LAYER_WEIGHT + E),
        ("blur", timeline(clip("a", effects=("blur",))), 1.0 + 1.5 + E),
        ("sharpen", timeline(clip("a", effects=("sharpen",))), 1.0 + 1.4 + E),
        ("film grain", timeline(clip("a", effects=("filmgrain",))), 1.0 + 0.8 + E),
        ("vignette", timeline(clip("a", effects=("vignette",))), 1.0 + 0.3 + E),
        ("any other effect", timeline(clip("a", effects=("sepia",))), 1.0 + 0.2 + E),
        ("an alias weighs as its kind", timeline(clip("a", effects=("gaussianblur",))), 2.5 + E),
        ("effects add up", timeline(clip("a", effects=("blur", "vignette"))), 1 + 1.8 + E),
        (
            "effects scale with the layer",
            timeline(clip("a", scale=0.5, effects=("blur",))),
            0.25 * 2.5 + E,
        ),
        (
            "colour correction",
            timeline(clip("a", color=ColorCorrection(saturation=0.5))),
            1.0 + 0.3 + E,
        ),
        ("identity colour correction is free", timeline(clip("a", color=ColorCorrection())), 1 + E),
        ("a subtitle", timeline(subtitles=(sub(),)), SUBTITLE_WEIGHT + E),
        ("two subtitles", timeline(clip("a"), subtitles=(sub(), sub())), 1.1 + E),
        ("a subtitle not yet shown", timeline(subtitles=(sub(60, 90),)), E),
        ("a clip not yet started", timeline(clip("a", 60, 90)), E),
        ("a clip already ended", timeline(clip("a", 0, 50)), E),
        ("disabled tracks are not drawn", timeline(clip("a"), enabled=False), E),
        ("audio tracks are not drawn", timeline(clip("a"), kind=TrackKind.AUDIO), E),
        ("4K canvas, empty", timeline(size=UHD), 4 * E),
        ("4K canvas, one full layer", timeline(clip("a"), size=UHD), 4 * (1.0 + E)),
        ("720p canvas, one full layer", timeline(clip("a"), size=(1280, 720)), 4 / 9 * (1 + E)),
    ],
)
def test_frame_cost(name: str, tl: Timeline, expected: float) -> None:
    assert frame_cost(tl, 50) == pytest.approx(expected), name


def test_weights_are_the_documented_priors() -> None:
    assert {k: EFFECT_WEIGHTS[k] for k in ("blur", "sharpen", "filmgrain", "vignette")} == {
        "blur": 1.5,
        "sharpen": 1.4,
        "filmgrain": 0.8,
        "vignette": 0.3,
    }
    assert (OTHER_EFFECT_WEIGHT, COLOR_CORRECTION_WEIGHT) == (0.2, 0.3)


def test_every_weighted_kind_is_a_picture_effect() -> None:
    assert set(EFFECT_WEIGHTS) <= VIDEO_EFFECTS


def test_measured_weights_rank_effects_by_their_cost() -> None:
    # ms per 1080p frame measured in one run: denoise 137 > glow 56 ~ blur 54 > colour
    # balance 43 > a look 24-35 > exposure 19 > a plain colour pass 4-10.
    w = effect_weight
    assert w("noisereduction") > 2 * w("blur")
    assert w("glow") >= w("blur") > w("colorbalance") > w("sunset") >= w("noir")
    assert w("noir") > w("exposure") > w("vignette") > OTHER_EFFECT_WEIGHT
    assert w("nlmeans") == w("noisereduction")


def test_sound_effects_cost_no_picture_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalogue, "AUDIO_EFFECTS", catalogue.AUDIO_EFFECTS | {"audiowarble"})
    assert effect_weight("audiowarble") == 0.0
    assert frame_cost(timeline(clip("a", effects=("audiowarble",))), 50) == pytest.approx(1 + E)
    assert (ENCODE_WEIGHT, MIN_LAYER_WEIGHT, SUBTITLE_WEIGHT) == (0.6, 0.05, 0.05)


@pytest.mark.parametrize(
    ("kind", "weight"),
    [
        ("blur", 1.5),
        ("boxblur", 1.5),
        ("unsharp", 1.4),
        ("grain", 0.8),
        ("invert", 0.2),
        ("lensflare", 0.2),
        ("chromakey", 0.8),
        ("temperature", 1.6),
    ],
)
def test_effect_weight(kind: str, weight: float) -> None:
    assert effect_weight(kind) == weight


def test_effect_counts_only_inside_its_window() -> None:
    windowed = replace(clip("a"), effects=(Effect(id="fx", kind="blur", start=20, end=40),))
    tl = timeline(windowed)
    assert [frame_cost(tl, t) for t in (19, 20, 39, 40)] == pytest.approx(
        [1 + E, 2.5 + E, 2.5 + E, 1 + E]
    )


def test_track_effects_apply_to_the_track_clips() -> None:
    a = clip("a")
    track = Track(
        id=a.track_id, kind=TrackKind.VIDEO, clips=(a,), effects=(Effect(id="fx", kind="blur"),)
    )
    tl = replace(timeline(), tracks=(track,))
    assert frame_cost(tl, 0) == pytest.approx(2.5 + E)


# --- transitions --------------------------------------------------------------------------------


def crossfade(**kw: int) -> Timeline:
    """Clip a on [0, 50), b on [50, 100), one track, a transition over [start, end)."""
    a, b = clip("a", 0, 50, track="t"), clip("b", 50, 100, track="t", effects=("blur",))
    track = Track(id="t", kind=TrackKind.VIDEO, clips=(a, b))
    tr = Transition(id="x", kind="dissolve", from_clip="a", to_clip="b", **kw)
    return replace(timeline(), tracks=(track,), transitions=(tr,))


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (39, 1.0 + E),  # a alone
        (40, 1.0 + 2.5 + TRANSITION_BLEND_WEIGHT + E),  # both clips (b blurred) plus a blend
        (49, 1.0 + 2.5 + TRANSITION_BLEND_WEIGHT + E),
        (50, 1.0 + 2.5 + TRANSITION_BLEND_WEIGHT + E),  # a is held past its end
        (59, 1.0 + 2.5 + TRANSITION_BLEND_WEIGHT + E),
        (60, 2.5 + E),  # b alone
    ],
)
def test_transition_counts_both_clips_and_a_blend(t: int, expected: float) -> None:
    assert frame_cost(crossfade(start=40, end=60), t) == pytest.approx(expected)


def test_transition_with_a_clip_on_a_disabled_track_is_not_drawn() -> None:
    tl = crossfade(start=40, end=60)
    hidden = Track(id="off", kind=TrackKind.VIDEO, enabled=False, clips=(clip("c", track="off"),))
    tr = Transition(id="y", kind="dissolve", from_clip="a", to_clip="c", start=40, end=60)
    tl = replace(tl, tracks=(*tl.tracks, hidden), transitions=(tr,))
    assert frame_cost(tl, 45) == pytest.approx(1.0 + E)


def test_4k_is_four_times_1080p() -> None:
    layers = (clip("a", effects=("blur",)), clip("b", scale=0.5), clip("c", effects=("sepia",)))
    hd, uhd = timeline(*layers), timeline(*layers, size=UHD)
    assert frame_cost(uhd, 10) == pytest.approx(4 * frame_cost(hd, 10))
    assert complexity(uhd) == pytest.approx(4 * complexity(hd))


# --- averages over the timeline -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "samples", "expected"),
    [
        (0, 120, []),
        (1, 120, [0]),
        (5, 120, [0, 1, 2, 3, 4]),
        (120, 120, list(range(120))),
        (10, 5, [1, 3, 5, 7, 9]),
        (100, 4, [12, 37, 62, 87]),
        (1000, 1, [500]),
    ],
)
def test_sample_frames(frames: int, samples: int, expected: list[int]) -> None:
    picks = sample_frames(frames, samples)
    assert picks == expected
    assert picks == sorted(set(picks))
    assert all(0 <= t < frames for t in picks)


def test_sample_frames_needs_a_sample() -> None:
    with pytest.raises(ValueError, match="samples"):
        sample_frames(10, 0)


@pytest.mark.parametrize(
    ("name", "tl", "expected"),
    [
        ("empty timeline", timeline(frames=0), E),
        ("nothing on it", timeline(frames=300), E),
        ("one layer throughout", timeline(clip("a", 0, 300), frames=300), 1 + E),
        ("one layer for half of it", timeline(clip("a", 0, 150), frames=300), 0.5 + E),
        (
            "a blurred quarter",
            timeline(clip("a", 0, 75, effects=("blur",)), frames=300),
            2.5 / 4 + E,
        ),
        ("short timeline, every frame", timeline(clip("a", 0, 3), frames=4), 0.75 + E),
    ],
)
def test_complexity_averages_frame_costs(name: str, tl: Timeline, expected: float) -> None:
    assert complexity(tl) == pytest.approx(expected, abs=0.02), name


def test_complexity_is_deterministic_and_matches_the_sampled_frames() -> None:
    tl = timeline(clip("a", 0, 700, effects=("blur",)), clip("b", 300, 1000), frames=1000)
    picks = sample_frames(tl.frames, 30)
    assert complexity(tl, 30) == complexity(tl, 30)
    assert complexity(tl, 30) == pytest.approx(sum(frame_cost(tl, t) for t in picks) / 30)


def test_complexity_needs_a_sample() -> None:
    with pytest.raises(ValueError, match="samples"):
        complexity(timeline(), 0)
