"""How expensive a timeline is to render, relative to a plain 1080p frame (pure).

Unit: compositing one full-canvas, opaque, unscaled 1920x1080 video layer with no effects costs
1.0. A frame's cost is the sum of its layers' costs plus the cost of encoding the frame, so a
1080p frame showing one plain clip costs 1.0 + ``ENCODE_WEIGHT`` = 1.6 units.

Every weight below is a prior, not a measurement: the orchestrator multiplies complexity by a
per-node-class "seconds per unit" learned from real renders and node benchmarks
(``orchestrator.costing``, ``orchestrator.node_class``), so a weight that is off by a constant
factor everywhere washes out; only the relative weights matter, and history corrects them per
node class.
"""

from __future__ import annotations

from collections.abc import Iterable

from chunking.timeline.catalogue import effect_kind, is_audio_effect
from chunking.timeline.model import Clip, Effect, Timeline, Transition

#: Pixels of the reference frame everything is measured against.
REFERENCE_PIXELS = 1920 * 1080

#: Encoding one frame (colour conversion + x264 at a fast preset), per reference-frame of canvas.
ENCODE_WEIGHT = 0.6

#: A layer never costs less than this: decode, placement and blending have a fixed overhead even
#: for a thumbnail-sized picture-in-picture.
MIN_LAYER_WEIGHT = 0.05

#: Extra cost per effect, as a multiple of the layer's own cost. Blur and sharpen are separable
#: convolutions over every channel; film grain draws a seeded noise field per frame; vignette
#: multiplies by a cached mask. The others were measured against blur (CPU ms per 1920x1080
#: frame, best of 5, one run on the 2-core build machine, blur sigma 4 = 54 ms = 1.5): noise
#: reduction is a guided filter (four multi-plane blurs), white balance with a tint and colour
#: balance weigh every pixel's lightness, glow is a blur plus a screen blend, chromatic
#: aberration resamples two channels, the looks are chains of 3-5 clamped colour matrices,
#: curves and exposure look every value up in a table.
EFFECT_WEIGHTS = {
    "blur": 1.5,
    "sharpen": 1.4,
    "noisereduction": 3.8,
    "whitebalance": 1.6,
    "glow": 1.6,
    "colorbalance": 1.2,
    "chromaticaberration": 1.1,
    "sunset": 1.0,
    "curves": 0.9,
    "neon": 0.8,
    "chromakey": 0.8,
    "arctic": 0.8,
    "lomo": 0.8,
    "filmgrain": 0.8,
    "levels": 0.8,
    "cyberpunk": 0.8,
    "vintage": 0.8,
    "twilight": 0.7,
    "noir": 0.7,
    "dreamy": 0.7,
    "matrix": 0.7,
    "colorcorrection": 0.7,
    "duotone": 0.7,
    "infrared": 0.6,
    "shadowshighlights": 0.6,
    "exposure": 0.5,
    "vignette": 0.3,
}

#: Extra cost of any effect not listed above: one cheap per-pixel pass (brightness, sepia, ...;
#: a lens flare's light is drawn once per layer size, then screened over each frame).
OTHER_EFFECT_WEIGHT = 0.2

#: Extra cost of a non-identity colour correction (a few per-pixel passes, hue rotation included).
COLOR_CORRECTION_WEIGHT = 0.3

#: Blending the two sides of a transition, per reference-frame of canvas: both sides are expanded
#: to full-canvas images with alpha before they are mixed.
TRANSITION_BLEND_WEIGHT = 0.3

#: One burned-in subtitle: text is rasterised once and cached, so only a small blend remains.
SUBTITLE_WEIGHT = 0.05

#: Frames sampled by default to average a timeline's cost.
DEFAULT_SAMPLES = 120


def sample_frames(frames: int, samples: int = DEFAULT_SAMPLES) -> list[int]:
    """Up to `samples` evenly spaced frame indices of [0, frames), the middle of each stretch."""
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    if frames <= samples:
        return list(range(max(frames, 0)))
    # Midpoints rather than starts, so short timelines don't over-sample the opening frame.
    return [int((i + 0.5) * frames / samples) for i in range(samples)]


def frame_cost(timeline: Timeline, t: int) -> float:
    """The relative cost of rendering and encoding frame t of the timeline."""
    return _Model(timeline).cost(t)


def complexity(timeline: Timeline, samples: int = DEFAULT_SAMPLES) -> float:
    """The average relative cost of one frame over evenly spaced sample frames."""
    model = _Model(timeline)
    picks = sample_frames(timeline.frames, samples)
    if not picks:
        return model.encode
    return sum(model.cost(t) for t in picks) / len(picks)


def effect_weight(kind: str) -> float:
    """The extra cost one effect of this kind adds to its layer, as a multiple of the layer
    (0 for a sound effect: the mixer runs it once per clip, not once per frame)."""
    canonical = effect_kind(kind) or kind
    if is_audio_effect(canonical):
        return 0.0
    return EFFECT_WEIGHTS.get(canonical, OTHER_EFFECT_WEIGHT)


class _Model:
    """The parts of a timeline that cost render time, indexed once for many frames."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        canvas = timeline.width * timeline.height / REFERENCE_PIXELS
        self.canvas = canvas
        self.encode = ENCODE_WEIGHT * canvas
        video = timeline.video_tracks()
        # Same drawing rules as workers.compositor: enabled video tracks only, and a transition
        # only when both of its clips are drawn.
        self.clips = [clip for track in video for clip in track.clips]
        self.track_effects = {track.id: track.effects for track in video}
        by_id = {clip.id: clip for clip in self.clips}
        self.transitions = [
            (tr, by_id[tr.from_clip], by_id[tr.to_clip])
            for tr in timeline.transitions
            if tr.from_clip in by_id and tr.to_clip in by_id
        ]

    def cost(self, t: int) -> float:
        active = [item for item in self.transitions if _active(item[0], t)]
        busy = {clip.id for _, a, b in active for clip in (a, b)}
        total = self.encode
        for clip in self.clips:
            if clip.start <= t < clip.end and clip.id not in busy:
                total += self.layer(clip, t)
        for _, a, b in active:
            total += self.layer(a, t) + self.layer(b, t) + TRANSITION_BLEND_WEIGHT * self.canvas
        total += SUBTITLE_WEIGHT * sum(1 for s in self.timeline.subtitles if s.start <= t < s.end)
        return total

    def layer(self, clip: Clip, t: int) -> float:
        # The compositor resizes and filters the whole scaled picture before blending it, so a
        # zoomed-in layer costs its full scaled area even where it falls off the canvas. Sources
        # are assumed to fill the canvas: exact for same-aspect footage, an overestimate for
        # letterboxed sources, which errs towards quoting too much rather than too little.
        scale = abs(clip.transform.scale_x * clip.transform.scale_y)
        area = max(scale * self.canvas, MIN_LAYER_WEIGHT)
        extra = sum(effect_weight(e.kind) for e in self._effects(clip) if e.active_at(t))
        if not clip.color.is_identity():
            extra += COLOR_CORRECTION_WEIGHT
        return area * (1.0 + extra)

    def _effects(self, clip: Clip) -> Iterable[Effect]:
        yield from clip.effects
        yield from self.track_effects.get(clip.track_id, ())


def _active(tr: Transition, t: int) -> bool:
    return tr.start <= t < tr.end
