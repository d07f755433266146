"""How expensive a timeline is to render, in complexity units (pure).

Unit: the per-pixel CPU cost of decoding and compositing one full-canvas, opaque, unscaled
1920x1080 video layer (``chunking.weights`` holds the measured weights and how they were
measured). A frame costs a fixed part, the encoder's cost for its canvas (by codec and preset),
each drawn layer (by kind: a video decodes every frame, at its file's own size where probed, a
still image or a colour is drawn once; by area, scale and opacity; its effects), each
transition's blend, and each title. Throughput in seconds per unit is learned per node class
(``orchestrator.node_class``), so only the relative weights matter here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from chunking import weights as w
from chunking.timeline.catalogue import LOOKS, effect_kind, is_audio_effect
from chunking.timeline.model import (
    IMAGE_EXTENSIONS,
    Clip,
    Effect,
    ExportSettings,
    FileSource,
    Timeline,
    Transform,
    Transition,
)
from chunking.timeline.profiles import DEFAULT_PROFILE

#: Pixels of the reference frame everything is measured against.
REFERENCE_PIXELS = 1920 * 1080

#: The part of a frame's cost that is the frame itself and its encoding (``complexity_parts``).
ENCODE_PART = "encode"

#: Frames sampled by default to average a timeline's cost.
DEFAULT_SAMPLES = 120

#: Each media file's picture size (width, height) by its path, where probed
#: (``orchestrator.estimate_inputs.source_sizes``); a file left out is taken to be the canvas's
#: size.
SourceSizes = Mapping[str, tuple[int, int]]


def sample_frames(frames: int, samples: int = DEFAULT_SAMPLES) -> list[int]:
    """Up to `samples` evenly spaced frame indices of [0, frames), the middle of each stretch."""
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    if frames <= samples:
        return list(range(max(frames, 0)))
    # Midpoints rather than starts, so short timelines don't over-sample the opening frame.
    return [int((i + 0.5) * frames / samples) for i in range(samples)]


def frame_cost(timeline: Timeline, t: int, sources: SourceSizes | None = None) -> float:
    """The cost in units of rendering and encoding frame t of the timeline."""
    return _Model(timeline, sources).cost(t)


def frame_costs(
    timeline: Timeline, frames: Sequence[int], sources: SourceSizes | None = None
) -> list[float]:
    """frame_cost of each of `frames`, the timeline indexed once for all of them."""
    model = _Model(timeline, sources)
    return [model.cost(t) for t in frames]


def complexity(
    timeline: Timeline, samples: int = DEFAULT_SAMPLES, sources: SourceSizes | None = None
) -> float:
    """The average cost in units of one frame over evenly spaced sample frames."""
    model = _Model(timeline, sources)
    picks = sample_frames(timeline.frames, samples)
    if not picks:
        return model.base
    return sum(model.cost(t) for t in picks) / len(picks)


def complexity_parts(
    timeline: Timeline, samples: int = DEFAULT_SAMPLES, sources: SourceSizes | None = None
) -> dict[str, float]:
    """``complexity`` split by what costs it, in units per frame (the parts sum to it): the
    frame and its encoding (``encode``), drawing the layers (``layer``), translucency
    (``translucent``), colour correction (``color``), each effect kind (``effect:<kind>``),
    transitions (``transition``) and titles (``title``). What a cluster learns per-feature
    corrections from (``orchestrator.estimate_features``)."""
    model = _Model(timeline, sources)
    picks = sample_frames(timeline.frames, samples)
    parts: dict[str, float] = {}
    if not picks:
        return {ENCODE_PART: model.base}
    for t in picks:
        model.cost(t, parts)
    return {name: value / len(picks) for name, value in sorted(parts.items())}


def pipeline_parallelism(
    timeline: Timeline, samples: int = DEFAULT_SAMPLES, sources: SourceSizes | None = None
) -> float:
    """How many cores a render of the timeline could keep busy at most: a render composites the
    next frame (decode, layers, effects) on one thread while the encoder takes the last one on
    another, so its parallelism is its total cost over the larger of the two stages."""
    model = _Model(timeline, sources)
    picks = sample_frames(timeline.frames, samples)
    total = sum(model.cost(t) for t in picks) if picks else model.base
    encode = model.base * max(len(picks), 1)
    larger = max(encode, total - encode)
    return max(total / larger, 1.0) if larger > 0 else 1.0


def effect_weight(kind: str, encode: float = 0.0) -> float:
    """The extra cost of one effect of this kind per reference frame of its layer's area, when
    the encoder costs `encode` units per reference frame (an effect that adds detail, such as
    grain, makes the encoder work harder); 0 for a sound effect: the mixer runs it once per clip,
    not once per frame."""
    canonical = effect_kind(kind) or kind
    if is_audio_effect(canonical):
        return 0.0
    if canonical in w.EFFECTS:
        own, share = w.EFFECTS[canonical]
        return max(own + share * max(encode, w.EFFECT_ENCODE_FLOOR), w.MIN_PASS)
    return w.LOOK if canonical in LOOKS else w.OTHER_EFFECT


def encode_weight(export: ExportSettings) -> float:
    """Encoding one reference frame of canvas with these settings, in units."""
    if export.lossless or export.codec == "ffv1":
        return w.ENCODE["lossless"]["medium"]
    intra = w.INTRA_ENCODE_X264.get(export.codec)
    if intra is not None:
        profile = export.profile or DEFAULT_PROFILE[export.codec]
        return intra.get(profile, max(intra.values())) * w.ENCODE["h264"]["medium"]
    presets = w.ENCODE.get(export.codec, w.ENCODE["h264"])
    preset = (export.preset or "medium").lower()
    if preset in presets:
        return presets[preset]
    x264 = w.ENCODE["h264"]
    ratio = (x264.get(preset) or w.EXTRA_PRESETS.get(preset) or x264["medium"]) / x264["medium"]
    return presets.get("medium", x264["medium"]) * ratio


def is_still(clip: Clip) -> bool:
    """Whether the clip shows a picture drawn once: a still image or a generated source."""
    if not isinstance(clip.source, FileSource):
        return True
    source = clip.source
    return source.sequence is None and os.path.splitext(source.path)[1].lower() in IMAGE_EXTENSIONS


class _Model:
    """The parts of a timeline that cost render time, indexed once for many frames."""

    def __init__(self, timeline: Timeline, sources: SourceSizes | None = None) -> None:
        self.timeline = timeline
        self.sources = sources or {}
        self.canvas = timeline.width * timeline.height / REFERENCE_PIXELS
        self.encode = encode_weight(timeline.export)
        self.base = w.FRAME + self.encode * self.canvas
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

    def cost(self, t: int, parts: dict[str, float] | None = None) -> float:
        """Frame t's cost; with `parts`, each part of it added to its name there too."""
        active = [item for item in self.transitions if _active(item[0], t)]
        busy = {clip.id for _, a, b in active for clip in (a, b)}
        total = self.base
        _add(parts, ENCODE_PART, self.base)
        # What this frame decodes: the compositor decodes a file's frame once for every clip
        # showing it at this moment (workers.sources.VideoSource.share).
        decoded: set[tuple[str, float]] = set()
        for clip in self.clips:
            if clip.start <= t < clip.end and clip.id not in busy:
                total += self.layer(clip, t, decoded, parts)
        fixed, per_canvas = w.TRANSITION
        for _, a, b in active:
            total += self.layer(a, t, decoded, parts) + self.layer(b, t, decoded, parts)
            total += fixed + per_canvas * self.canvas
            _add(parts, "transition", fixed + per_canvas * self.canvas)
        titles = w.TITLE * sum(1 for s in self.timeline.subtitles if s.start <= t < s.end)
        _add(parts, "title", titles)
        return total + titles

    def layer(
        self,
        clip: Clip,
        t: int,
        decoded: set[tuple[str, float]],
        parts: dict[str, float] | None = None,
    ) -> float:
        # A keyed clip is priced at this frame's transform: averaged over the sampled frames.
        drawn = clip.transform_at(t, self.timeline.fps)
        if drawn.scale_x == 0 or drawn.scale_y == 0:
            # Scaled to nothing (a zoom from 0): the compositor neither decodes nor draws it.
            _add(parts, "layer", w.LAYER_FIXED)
            return w.LAYER_FIXED
        source, area, resized = self._geometry(clip, drawn)
        if is_still(clip) and not clip.transform_keys:
            pixels = max(w.STILL, w.MIN_PASS) * area
        elif is_still(clip):
            # A moving still's layer is made again every frame from its kept picture
            # (workers.compositor): resized and composited as a video's is, but not decoded.
            pixels = w.RESIZE * min(area, self.canvas) + (1.0 - w.DECODE) * area
        else:
            # A clip played faster decodes that many source frames per output frame.
            decode = w.DECODE * source * max(abs(clip.speed), 1.0)
            if isinstance(clip.source, FileSource) and clip.source.sequence is None:
                shown = (clip.source.path, round(self._source_seconds(clip, t), 6))
                if shown in decoded:
                    decode = 0.0
                decoded.add(shown)
            resize = w.RESIZE * resized
            pixels = decode + resize + (1.0 - w.DECODE) * area
        _add(parts, "layer", w.LAYER_FIXED + pixels)
        if clip.opacity < 1.0:
            pixels += w.TRANSLUCENT * area
            _add(parts, "translucent", w.TRANSLUCENT * area)
        extra = 0.0
        for effect in self._effects(clip):
            if effect.active_at(t):
                weight = effect_weight(effect.kind, self.encode)
                extra += weight
                _add(parts, "effect:" + (effect_kind(effect.kind) or effect.kind), weight * area)
        if not clip.color.is_identity():
            extra += max(w.COLOR_CORRECTION, w.MIN_PASS)
            _add(parts, "color", max(w.COLOR_CORRECTION, w.MIN_PASS) * area)
        return w.LAYER_FIXED + pixels + extra * area

    def _geometry(self, clip: Clip, transform: Transform) -> tuple[float, float, float]:
        """The clip's source picture, its drawn area at ``transform`` and what the scaler passes
        over (0 when the source is drawn at its own size), in reference frames."""
        # The compositor resizes and filters the whole scaled picture before blending it, so a
        # zoomed-in layer costs its full scaled area even where it falls off the canvas.
        scale = abs(transform.scale_x * transform.scale_y)
        size = self.sources.get(clip.source.path) if isinstance(clip.source, FileSource) else None
        if size is None or size[0] < 1 or size[1] < 1:
            # Not probed: taken to be the canvas's size, as footage shot for the project is.
            resized = self.canvas if abs(scale - 1.0) > 1e-9 else 0.0
            return self.canvas, scale * self.canvas, resized
        # Decoding is per source pixel: a 4K file on a 1080p canvas decodes four times the
        # pixels the canvas shows. The source is fitted inside the canvas, then scaled by the
        # transform, in one scaling pass (workers.compositor), which reads the source and
        # writes the layer, at most the canvas's worth of it: a zoom is enlarged only where it
        # shows. Measured (a 640x360 canvas, one layer, x264 veryfast, one thread, CPU per frame
        # between renders of 60 and 180 frames, 6 alternating rounds, medians; 2026-12-07 at
        # load average 10-14 from other sessions): against a 640x360 file (6.1 ms a frame), a
        # 1280x720 one +4.0 ms (this prices +0.34 units, 4.5 ms at the 640x360 file's 13.3 ms
        # a unit), a 1920x1080 one +10.7 ms (+0.84 units, 11.2 ms), a 320x180 one +0.5 ms
        # (0). Priced at the canvas's size, as before, all four cost the same.
        crop = clip.crop
        src_w = max(size[0] - crop.left - crop.right, 1)
        src_h = max(size[1] - crop.top - crop.bottom, 1)
        fit = min(self.timeline.width / src_w, self.timeline.height / src_h)
        laid_w = src_w * fit * abs(transform.scale_x)
        laid_h = src_h * fit * abs(transform.scale_y)
        source = size[0] * size[1] / REFERENCE_PIXELS
        area = laid_w * laid_h / REFERENCE_PIXELS
        scaled = abs(laid_w - src_w) > 0.5 or abs(laid_h - src_h) > 0.5
        return source, area, max(source, min(area, self.canvas)) if scaled else 0.0

    def _source_seconds(self, clip: Clip, t: int) -> float:
        """The source time a clip shows at frame t (as workers.compositor works it out)."""
        frame = clip.mirrored(t)
        seconds = clip.source_start + (frame - clip.start) * clip.speed / float(self.timeline.fps)
        if clip.source_end is not None:
            seconds = min(seconds, clip.source_end)
        return max(seconds, 0.0)

    def _effects(self, clip: Clip) -> Iterable[Effect]:
        yield from clip.effects
        yield from self.track_effects.get(clip.track_id, ())


def _add(parts: dict[str, float] | None, name: str, value: float) -> None:
    """Count `value` to part `name` (nothing without `parts`, or for a zero cost)."""
    if parts is not None and value:
        parts[name] = parts.get(name, 0.0) + value


def _active(tr: Transition, t: int) -> bool:
    return tr.start <= t < tr.end
