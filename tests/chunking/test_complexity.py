"""Frame cost model: relative costs of layers, effects, transitions, subtitles and canvas size."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from chunking import weights as w
from chunking.complexity import (
    complexity,
    complexity_parts,
    effect_weight,
    encode_weight,
    frame_cost,
    is_still,
    pipeline_parallelism,
    sample_frames,
)
from chunking.timeline import catalogue
from chunking.timeline.catalogue import VIDEO_EFFECTS
from chunking.timeline.model import (
    Clip,
    ColorCorrection,
    Effect,
    ExportSettings,
    FileSource,
    GeneratedSource,
    ImageSequence,
    Source,
    Subtitle,
    Timeline,
    Track,
    TrackKind,
    Transform,
    Transition,
)

HD = (1920, 1080)
UHD = (3840, 2160)
E = w.FRAME + w.ENCODE["h264"]["medium"]  # an empty 1080p frame: the default export's encode
V = w.LAYER_FIXED + 1.0  # one full-canvas 1080p video layer
VIDEO = FileSource("clip.mp4")
OTHER = FileSource("other.mp4")


def clip(
    cid: str,
    start: int = 0,
    end: int = 100,
    *,
    scale: float = 1.0,
    effects: tuple[str, ...] = (),
    color: ColorCorrection | None = None,
    track: str = "",
    source: Source = VIDEO,
    opacity: float = 1.0,
    speed: float = 1.0,
) -> Clip:
    """A video clip; `effects` are kinds, each active over the whole clip."""
    return Clip(
        id=cid,
        track_id=track or f"t-{cid}",
        source=source,
        start=start,
        end=end,
        opacity=opacity,
        speed=speed,
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
    export: ExportSettings | None = None,
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
        export=export or ExportSettings(),
    )


def sub(start: int = 0, end: int = 100) -> Subtitle:
    return Subtitle(id=f"s{start}", text="hello", start=start, end=end)


MEDIUM = w.ENCODE["h264"]["medium"]


def fx(kind: str, encode: float = MEDIUM) -> float:
    """An effect's weight from the table, at an encoder of this cost."""
    own, share = w.EFFECTS[kind]
    return max(own + share * max(encode, w.EFFECT_ENCODE_FLOOR), w.MIN_PASS)


BLUR = fx("blur")
STILL = w.LAYER_FIXED + w.MIN_PASS  # a full-canvas still picture
HALF = w.LAYER_FIXED + w.DECODE + w.RESIZE + (1 - w.DECODE) * 0.25  # a video at half scale


# --- one frame ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tl", "expected"),
    [
        ("empty frame costs the frame and its encode", timeline(), E),
        ("one full 1080p video layer is one unit", timeline(clip("a")), V + E),
        ("two full layers", timeline(clip("a"), clip("b", source=OTHER)), 2 * V + E),
        (
            "the same footage at the same moment twice decodes it once",
            timeline(clip("a"), clip("b")),
            2 * V - w.DECODE + E,
        ),
        (
            "the same file at another moment decodes for itself",
            timeline(clip("a"), clip("b", start=-10)),
            2 * V + E,
        ),
        (
            "half scale decodes the whole source and resizes it",
            timeline(clip("a", scale=0.5)),
            HALF + E,
        ),
        (
            "double scale composites four times the area",
            timeline(clip("a", scale=2.0)),
            w.LAYER_FIXED + w.DECODE + w.RESIZE + (1 - w.DECODE) * 4 + E,
        ),
        (
            "twice the speed decodes twice the frames",
            timeline(clip("a", speed=2.0)),
            V + w.DECODE + E,
        ),
        (
            "a still image is drawn once",
            timeline(clip("a", source=FileSource("logo.PNG"))),
            STILL + E,
        ),
        (
            "a generated colour is drawn once",
            timeline(clip("a", source=GeneratedSource())),
            STILL + E,
        ),
        ("translucent layers blend", timeline(clip("a", opacity=0.5)), V + w.TRANSLUCENT + E),
        ("blur", timeline(clip("a", effects=("blur",))), V + BLUR + E),
        ("film grain", timeline(clip("a", effects=("filmgrain",))), V + fx("filmgrain") + E),
        (
            "grain costs less at a faster preset: it is the encoder's work",
            timeline(clip("a", effects=("filmgrain",)), export=ExportSettings(preset="veryfast")),
            V
            + fx("filmgrain", w.ENCODE["h264"]["veryfast"])
            + w.FRAME
            + w.ENCODE["h264"]["veryfast"],
        ),
        (
            "an unknown effect is one pass",
            timeline(clip("a", effects=("swirl",))),
            V + w.MIN_PASS + E,
        ),
        ("an unmeasured look", timeline(clip("a", effects=("matrix",))), V + w.LOOK + E),
        (
            "an alias weighs as its kind",
            timeline(clip("a", effects=("gaussianblur",))),
            V + BLUR + E,
        ),
        (
            "effects add up",
            timeline(clip("a", effects=("blur", "sharpen"))),
            V + BLUR + fx("sharpen") + E,
        ),
        (
            "effects scale with the layer",
            timeline(clip("a", scale=0.5, effects=("blur",))),
            HALF + 0.25 * BLUR + E,
        ),
        (
            "colour correction",
            timeline(clip("a", color=ColorCorrection(saturation=0.5))),
            V + max(w.COLOR_CORRECTION, w.MIN_PASS) + E,
        ),
        ("identity colour correction is free", timeline(clip("a", color=ColorCorrection())), V + E),
        ("a subtitle", timeline(subtitles=(sub(),)), w.TITLE + E),
        ("two subtitles", timeline(clip("a"), subtitles=(sub(), sub())), V + 2 * w.TITLE + E),
        ("a subtitle not yet shown", timeline(subtitles=(sub(60, 90),)), E),
        ("a clip not yet started", timeline(clip("a", 60, 90)), E),
        ("a clip already ended", timeline(clip("a", 0, 50)), E),
        ("disabled tracks are not drawn", timeline(clip("a"), enabled=False), E),
        ("audio tracks are not drawn", timeline(clip("a"), kind=TrackKind.AUDIO), E),
        ("4K canvas, empty", timeline(size=UHD), w.FRAME + 4 * w.ENCODE["h264"]["medium"]),
        (
            "720p canvas, one full layer",
            timeline(clip("a"), size=(1280, 720)),
            w.FRAME + w.LAYER_FIXED + 4 / 9 * (1 + w.ENCODE["h264"]["medium"]),
        ),
        (
            "a faster preset costs less to encode",
            timeline(export=ExportSettings(preset="veryfast")),
            w.FRAME + w.ENCODE["h264"]["veryfast"],
        ),
    ],
)
def test_frame_cost(name: str, tl: Timeline, expected: float) -> None:
    assert frame_cost(tl, 50) == pytest.approx(expected), name


@pytest.mark.parametrize(
    ("source", "still"),
    [
        (FileSource("a.mp4"), False),
        (FileSource("logo.png"), True),
        (FileSource("photo.JPEG"), True),
        (GeneratedSource(kind="pattern"), True),
        (
            FileSource("f0001.png", ImageSequence("f", ".png", 1, 10, Fraction(24), padding=4)),
            False,
        ),
    ],
)
def test_still_pictures_are_drawn_once(source: Source, still: bool) -> None:
    assert is_still(clip("a", source=source)) is still


@pytest.mark.parametrize(
    ("export", "expected"),
    [
        (ExportSettings(), w.ENCODE["h264"]["medium"]),
        (ExportSettings(preset="ULTRAFAST"), w.ENCODE["h264"]["ultrafast"]),
        (ExportSettings(codec="hevc", preset="veryfast"), w.ENCODE["hevc"]["veryfast"]),
        (ExportSettings(codec="vp9"), w.ENCODE["vp9"]["medium"]),
        (ExportSettings(lossless=True), w.ENCODE["lossless"]["medium"]),
        (ExportSettings(codec="ffv1"), w.ENCODE["lossless"]["medium"]),
        # not measured for hevc: hevc's medium scaled by x264's slow / medium
        (
            ExportSettings(codec="hevc", preset="slow"),
            w.ENCODE["hevc"]["medium"] * w.ENCODE["h264"]["slow"] / w.ENCODE["h264"]["medium"],
        ),
        (
            ExportSettings(preset="veryslow"),
            w.EXTRA_PRESETS["veryslow"],
        ),
        (ExportSettings(preset="p7"), w.ENCODE["h264"]["medium"]),  # unknown: as medium
        # ProRes and DNxHR by profile (default hq), whatever preset: they take none
        (ExportSettings(codec="prores", preset="ultrafast"), 14.1 * w.ENCODE["h264"]["medium"]),
        (ExportSettings(codec="prores", profile="4444"), 24.1 * w.ENCODE["h264"]["medium"]),
        (ExportSettings(codec="dnxhr", profile="lb"), 0.39 * w.ENCODE["h264"]["medium"]),
        (ExportSettings(codec="prores", lossless=True), w.ENCODE["lossless"]["medium"]),
    ],
)
def test_encode_weight(export: ExportSettings, expected: float) -> None:
    assert encode_weight(export) == pytest.approx(expected)


def test_slower_presets_cost_more() -> None:
    costs = [encode_weight(ExportSettings(preset=p)) for p in w.PRESET_ORDER]
    assert costs == sorted(costs)
    assert costs[-1] > 10 * costs[0]


def test_weights_are_measured_and_sane() -> None:
    assert set(w.EFFECTS) <= VIDEO_EFFECTS
    scalars = [w.FRAME, w.LAYER_FIXED, w.DECODE, w.RESIZE, w.TRANSLUCENT, w.STILL, w.TITLE]
    assert all(0 <= x < 1 for x in scalars)
    # an effect never costs less than a pass over its pixels, at any preset
    assert all(
        effect_weight(k, encode_weight(ExportSettings(preset=p))) >= w.MIN_PASS
        for k in w.EFFECTS
        for p in w.PRESET_ORDER
    )

    # what bench/complexity_weights.py measured: grain (noise costs the encoder) far above the
    # convolutions, which are above the colour passes
    def ew(kind: str) -> float:
        return effect_weight(kind, MEDIUM)

    assert ew("filmgrain") > 4 * ew("sharpen")
    assert ew("noisereduction") > ew("blur") > ew("grayscale")
    assert ew("nlmeans") == ew("noisereduction")
    # the encoder dominates a plain frame
    assert w.ENCODE["h264"]["medium"] > 4 * 1.0


def test_sound_effects_cost_no_picture_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalogue, "AUDIO_EFFECTS", catalogue.AUDIO_EFFECTS | {"audiowarble"})
    assert effect_weight("audiowarble") == 0.0
    assert frame_cost(timeline(clip("a", effects=("audiowarble",))), 50) == pytest.approx(V + E)


@pytest.mark.parametrize(
    ("kind", "weight"),
    [
        ("blur", fx("blur")),
        ("boxblur", fx("blur")),
        ("unsharp", fx("sharpen")),
        ("grain", fx("filmgrain")),
        ("invert", w.MIN_PASS),
        ("lensflare", w.MIN_PASS),
        ("chromakey", fx("chromakey")),
        ("matrix", w.LOOK),
    ],
)
def test_effect_weight(kind: str, weight: float) -> None:
    assert effect_weight(kind, MEDIUM) == pytest.approx(weight)


def test_effect_counts_only_inside_its_window() -> None:
    windowed = replace(clip("a"), effects=(Effect(id="fx", kind="blur", start=20, end=40),))
    tl = timeline(windowed)
    assert [frame_cost(tl, t) for t in (19, 20, 39, 40)] == pytest.approx(
        [V + E, V + BLUR + E, V + BLUR + E, V + E]
    )


def test_track_effects_apply_to_the_track_clips() -> None:
    a = clip("a")
    track = Track(
        id=a.track_id, kind=TrackKind.VIDEO, clips=(a,), effects=(Effect(id="fx", kind="blur"),)
    )
    tl = replace(timeline(), tracks=(track,))
    assert frame_cost(tl, 0) == pytest.approx(V + BLUR + E)


# --- transitions --------------------------------------------------------------------------------


def crossfade(**kw: int) -> Timeline:
    """Clip a on [0, 50), b on [50, 100), one track, a transition over [start, end)."""
    a, b = clip("a", 0, 50, track="t"), clip("b", 50, 100, track="t", effects=("blur",))
    track = Track(id="t", kind=TrackKind.VIDEO, clips=(a, b))
    tr = Transition(id="x", kind="dissolve", from_clip="a", to_clip="b", **kw)
    return replace(timeline(), tracks=(track,), transitions=(tr,))


MIX = sum(w.TRANSITION)  # a transition's blend over a 1080p canvas


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (39, V + E),  # a alone
        (40, V + V + BLUR + MIX + E),  # both clips (b blurred) plus a blend
        (49, V + V + BLUR + MIX + E),
        (50, V + V + BLUR + MIX + E),  # a is held past its end
        (59, V + V + BLUR + MIX + E),
        (60, V + BLUR + E),  # b alone
    ],
)
def test_transition_counts_both_clips_and_a_blend(t: int, expected: float) -> None:
    assert frame_cost(crossfade(start=40, end=60), t) == pytest.approx(expected)


def test_transition_with_a_clip_on_a_disabled_track_is_not_drawn() -> None:
    tl = crossfade(start=40, end=60)
    hidden = Track(id="off", kind=TrackKind.VIDEO, enabled=False, clips=(clip("c", track="off"),))
    tr = Transition(id="y", kind="dissolve", from_clip="a", to_clip="c", start=40, end=60)
    tl = replace(tl, tracks=(*tl.tracks, hidden), transitions=(tr,))
    assert frame_cost(tl, 45) == pytest.approx(V + E)


def test_pixel_work_scales_with_the_canvas() -> None:
    layers = (clip("a", effects=("blur",)), clip("b", scale=0.5), clip("c", effects=("sepia",)))
    hd, uhd = timeline(*layers), timeline(*layers, size=UHD)
    fixed = w.FRAME + 3 * w.LAYER_FIXED
    assert frame_cost(uhd, 10) - fixed == pytest.approx(4 * (frame_cost(hd, 10) - fixed))
    assert complexity(uhd) - fixed == pytest.approx(4 * (complexity(hd) - fixed))


HD_PX = 1920 * 1080
UHD_FILE = {"clip.mp4": UHD}
PASS = w.DECODE + w.RESIZE  # decoding and scaling a reference frame of source
DRAW = 1 - w.DECODE  # compositing a reference frame of area
#: A 1080p canvas's own frame, a quarter of it and a scope (2.39:1) at full width.
QUARTER = (960, 540)
SCOPE = (1920, 804)


@pytest.mark.parametrize(
    ("name", "layer", "size", "expected"),
    [
        # Not probed, or probed at the canvas's size: as before, the canvas's pixels.
        ("unknown", clip("a"), None, V),
        ("the canvas's size", clip("a"), HD, V),
        # A 4K file decodes four references' pixels and is scaled down to the canvas.
        ("4K filling 1080p", clip("a"), UHD, w.LAYER_FIXED + 4 * PASS + DRAW),
        ("4K at half scale", clip("a", scale=0.5), UHD, w.LAYER_FIXED + 4 * PASS + DRAW / 4),
        # A quarter-size file decodes a quarter; scaling it up writes the canvas's pixels.
        (
            "960x540 filling 1080p",
            clip("a"),
            QUARTER,
            w.LAYER_FIXED + w.DECODE / 4 + w.RESIZE + DRAW,
        ),
        # At half scale it is drawn at its own size: no scaling pass.
        ("960x540 at half scale", clip("a", scale=0.5), QUARTER, w.LAYER_FIXED + 0.25),
        # A letterboxed scope picture is not scaled and covers its own area of the canvas.
        ("scope at full width", clip("a"), SCOPE, w.LAYER_FIXED + SCOPE[0] * SCOPE[1] / HD_PX),
        # A file played twice as fast decodes two of its frames per output frame.
        ("4K at 2x", clip("a", speed=2.0), UHD, w.LAYER_FIXED + 8 * w.DECODE + 4 * w.RESIZE + DRAW),
        # A still image is drawn once whatever its size: the probe leaves it alone.
        ("a still", clip("a", source=FileSource("logo.png")), HD, STILL),
    ],
)
def test_sources_are_priced_at_their_own_size(
    name: str, layer: Clip, size: tuple[int, int] | None, expected: float
) -> None:
    sizes = {} if size is None else {layer.source.path: size}  # type: ignore[union-attr]
    tl = timeline(layer)
    assert frame_cost(tl, 10, sizes) == pytest.approx(E + expected, abs=1e-3)
    assert complexity(tl, sources=sizes) == pytest.approx(E + expected, abs=1e-3)
    parts = complexity_parts(tl, sources=sizes)
    assert parts["layer"] == pytest.approx(expected, abs=1e-3)


def test_a_larger_source_raises_the_render_stage_not_the_encoder() -> None:
    tl = timeline(clip("a"))
    assert pipeline_parallelism(tl, sources=UHD_FILE) != pipeline_parallelism(tl)
    assert complexity_parts(tl, sources=UHD_FILE)["encode"] == complexity_parts(tl)["encode"]


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
        ("one layer throughout", timeline(clip("a", 0, 300), frames=300), V + E),
        ("one layer for half of it", timeline(clip("a", 0, 150), frames=300), V / 2 + E),
        (
            "a blurred quarter",
            timeline(clip("a", 0, 75, effects=("blur",)), frames=300),
            (V + BLUR) / 4 + E,
        ),
        ("short timeline, every frame", timeline(clip("a", 0, 3), frames=4), 0.75 * V + E),
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


@pytest.mark.parametrize(
    ("name", "tl", "expected"),
    [
        ("nothing to composite: all encode", timeline(), 1.0),
        ("a plain layer: the encoder is the longer stage", timeline(clip("a")), (V + E) / E),
        (
            "heavy effects: compositing is the longer stage",
            timeline(clip("a", effects=("noisereduction", "glow", "blur"))),
            None,
        ),
    ],
)
def test_pipeline_parallelism(name: str, tl: Timeline, expected: float | None) -> None:
    got = pipeline_parallelism(tl)
    if expected is None:
        composite = frame_cost(tl, 50) - E
        expected = frame_cost(tl, 50) / composite
    assert got == pytest.approx(expected), name
    assert 1.0 <= got <= 2.0


# --- parts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tl", "expected"),
    [
        ("empty", timeline(), {"encode": E}),
        ("one layer", timeline(clip("a")), {"encode": E, "layer": V}),
        (
            "sharpen + glow on half the frames",
            timeline(clip("a", 0, 50, effects=("sharpen", "glow")), frames=100),
            {
                "encode": E,
                "layer": V / 2,
                "effect:sharpen": fx("sharpen") / 2,
                "effect:glow": fx("glow") / 2,
            },
        ),
        (
            "translucent, colour-corrected, at half scale",
            timeline(clip("a", scale=0.5, opacity=0.5, color=ColorCorrection(brightness=0.2))),
            {
                "encode": E,
                "layer": HALF,
                "translucent": w.TRANSLUCENT * 0.25,
                "color": max(w.COLOR_CORRECTION, w.MIN_PASS) * 0.25,
            },
        ),
        ("a title", timeline(subtitles=(sub(),)), {"encode": E, "title": w.TITLE}),
    ],
)
def test_complexity_parts(name: str, tl: Timeline, expected: dict[str, float]) -> None:
    parts = complexity_parts(tl)
    assert parts == pytest.approx(expected), name
    assert sum(parts.values()) == pytest.approx(complexity(tl)), name


def test_complexity_parts_count_a_transition_blend_apart() -> None:
    tl = crossfade(start=40, end=60)
    parts = complexity_parts(tl)
    assert parts["transition"] > 0
    assert sum(parts.values()) == pytest.approx(complexity(tl))
