"""How much memory one frame of a timeline needs, estimated from its geometry alone (pure).

The estimate follows what ``workers.compositor`` allocates, buffer by buffer, and is meant as an
upper bound: measured peaks (resident memory growth of ``render_to_file`` in a fresh process, at
the fastest x264 preset with one encoder thread) lie between half the estimate and the estimate.
What it counts, in bytes per pixel of the buffer named:

* the canvas: a float32 canvas, its conversion to 8 bits, the frames queued for the encoder;
* each layer alive at the frame (a still or generated clip keeps its finished layer and its
  resized picture cached while it is shown; a video keeps its decoder and last picture);
* the one layer being built at a time: its resized picture, the rotated bounding box of a
  rotated clip, the float32 image and the working buffers of its colour correction and effects.
  The compositor keeps only the part of a layer that lies on the canvas unless an effect needs
  the whole layer (blur, sharpen, vignette, film grain);
* transitions (both sides expanded to the canvas and mixed) and subtitles (the text block drawn
  at its font size, at most a canvas of it kept).

Media sizes are not known without opening the files: a file is taken to be a canvas-sized
picture unless ``sources`` gives its size (``validate`` probes media and may pass them). The
encoder's own buffers grow with its preset and thread count, not with the timeline's layers, so
they are estimated apart (``encoder_bytes``) for limits on a whole render process.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from chunking.timeline.catalogue import ALPHA_EFFECTS, LOOKS, WHOLE_LAYER_EFFECTS
from chunking.timeline.model import (
    IMAGE_EXTENSIONS,
    Clip,
    Effect,
    FileSource,
    Subtitle,
    Timeline,
    TrackKind,
    Transform,
)
from chunking.timeline.placement import largest_transform
from chunking.timeline.reverse import window_bytes

#: Canvas buffers per canvas pixel: float32 canvas (12), the float temporary and 8-bit frame of
#: its conversion (15), four 8-bit frames queued for the encoder (12), the encoder's input and
#: measured slack (9).
CANVAS_BPP = 48
#: Allocations of any render that do not grow with the canvas (the leanest encoder, codecs).
RENDER_FIXED = 40 * 1024 * 1024
#: A layer's float32 RGB plus alpha.
LAYER_BPP = 16
#: A resized 8-bit picture with alpha, as a source caches it.
PICTURE_BPP = 4
#: Building a layer: the float32 image with alpha (16), plus the larger of the temporary of
#: the conversion to float (12) and the working buffers of one effect or colour correction.
BUILD_BPP = 16
TO_FLOAT_BPP = 12
#: Resizing a picture to its layout: Pillow's image (4 bytes a pixel) and the array copied out.
RESIZE_BPP = 7
#: Rotating: the RGBA input and Pillow's copy of it (per input pixel) and, per bounding-box
#: pixel, Pillow's output, its array copy and the split colour and alpha.
ROTATE_IN_BPP = 8
ROTATE_OUT_BPP = 12
#: Extra working buffers of one effect, per layer pixel: blur keeps its input, two passes and a
#: transposed copy; sharpen adds its difference image; the rest make one new image.
EFFECT_BPP = {
    "blur": 30,
    "sharpen": 36,
    "filmgrain": 16,
    "vignette": 16,
    # Measured peaks of the editor's other effects, their output included.
    "noisereduction": 90,
    "glow": 48,
    "colorcorrection": 48,
    "chromaticaberration": 40,
    "whitebalance": 40,
    "curves": 34,
    "exposure": 30,
    "lensflare": 28,
    "chromakey": 28,
    "colorbalance": 28,
    "shadowshighlights": 24,
    # The stylising effects (workers.effects_stylised), measured the same way at 960x540.
    "edgeenhance": 94,
    "hologram": 60,
    "glitch": 48,
    "motionblur": 48,
    "zoomblur": 48,
    "pixelate": 24,
    "emboss": 24,
    "solarize": 24,
}
#: The editor's looks (Vintage, Noir, ...): a chain of CSS filter matrices.
LOOK_BPP = 24
OTHER_EFFECT_BPP = 12
#: A colour correction: a matrix product and its result.
COLOR_BPP = 24
#: An open video source per source pixel: decoder reference frames and threads' frames.
DECODER_BPP = 24
#: A transition per canvas pixel: both sides expanded with alpha (32), the mix and its weights.
TRANSITION_BPP = 64
#: Transitions that need more: the sides (32) and each one's measured peak (tracemalloc, 1080p
#: with alpha, bench in the commit) rounded up, plus 4 for the iris/radial cached geometry.
TRANSITION_KIND_BPP = {
    "iris": 76,  # weight map, smoothstep temporaries
    "radial_wipe": 76,
    "pixelize": 76,  # the dissolve and its blocks
    "hblur": 104,  # the dissolve, its float64 running sums and blur
    "burn": 68,  # a dissolve and its glow
    "kaleidoscope": 120,  # folded coordinates, both sides resampled, four-term mix
    "cube": 136,  # face and floor coordinates, four resampled pictures
    "rotate": 100,  # source coordinates, indices and the moved picture
    "spiral": 100,
    "swirl": 100,
    "zoom": 80,
    "scale": 80,
    "squeeze": 80,
    "wave": 80,
    "diagonal": 80,
    "flip": 80,
    "slide_out_left": 80,
    "slide_out_right": 80,
    "slide_out_up": 80,
    "slide_out_down": 80,
}
#: Subtitles: the two 8-bit masks the text block is drawn into (and one array copy), per pixel
#: of the drawn block; composing the kept part (coverages, premultiplied colour, division) and
#: the cached layer, per kept pixel.
TEXT_DRAW_BPP = 3
TEXT_COMPOSE_BPP = 48
#: How many blur radii a subtitle's shadow reaches (workers.subtitle_style.BLUR_REACH).
SHADOW_BLUR_REACH = 3
#: Roboto's widest glyphs are about one em wide; lines are ascent + descent + 15 % apart.
TEXT_ADVANCE_EM = 1.0
TEXT_PITCH_EM = 1.35
#: Effects that need the whole layer, so it is not cut to the canvas (workers.effects).
WHOLE_LAYER = WHOLE_LAYER_EFFECTS
#: A layout more than this many canvases large (a zoom past 4x) is resampled only where it can
#: show, unless an effect needs the whole layer (workers.geometry.place_within).
ZOOMED = 16

#: Encoder buffers per canvas pixel by x264-style preset speed, plus per encoder thread
#: (measured with libx264 at 1080p and 4K; other codecs measured within these).
ENCODER_BPP = {"fast": 50, "medium": 250, "slow": 330}
ENCODER_THREAD_BPP = 8
ENCODER_FIXED = 96 * 1024 * 1024
_FAST_PRESETS = {"ultrafast", "superfast", "veryfast", "faster", "fast"}
_SLOW_PRESETS = {"slow", "slower", "veryslow", "placebo"}


@dataclass(frozen=True)
class Part:
    """What one clip, subtitle or transition adds to a frame's memory, and why."""

    name: str  # "clip 'a'", "subtitle 's'", "transition 't'"
    held: int  # bytes kept while it is shown
    building: int  # bytes only while its layer is made (one layer at a time)
    why: str  # what makes it big, for messages

    @property
    def total(self) -> int:
        """Its bytes while its layer is being built."""
        return self.held + self.building


@dataclass(frozen=True)
class Peak:
    """The frame that needs the most memory, how much, and what it holds then."""

    bytes: int
    frame: int
    canvas: int  # the canvas's own buffers (without the render's fixed part)
    parts: tuple[Part, ...]

    def culprit(self, timeline: Timeline) -> str:
        """The clip(s) or canvas that make the frame big, in words."""
        ranked = sorted(self.parts, key=lambda p: p.total, reverse=True)
        if not ranked or self.canvas >= ranked[0].total * 2 and self.canvas > self.bytes // 3:
            return f"a {timeline.width}x{timeline.height} canvas"
        top = ranked[0]
        if top.total >= self.bytes // 3 or len(ranked) < 4:
            return f"{top.name} {top.why}"
        names = ", ".join(p.name for p in ranked[:3])
        return f"{len(ranked)} layers at once ({names}, ...)"


def frame_bytes(
    timeline: Timeline, sources: Mapping[str, tuple[int, int]] | None = None
) -> tuple[int, str]:
    """The peak bytes one frame of the timeline needs, and where: "frame 12: clip 'a' ..."."""
    peak = frame_peak(timeline, sources)
    return peak.bytes, f"frame {peak.frame}: {peak.culprit(timeline)}"


def memory_problems(
    timeline: Timeline,
    max_bytes: int,
    sources: Mapping[str, tuple[int, int]] | None = None,
) -> list[str]:
    """One line naming what makes a frame need more than `max_bytes`, or nothing if it fits."""
    peak = frame_peak(timeline, sources)
    if peak.bytes <= max_bytes:
        return []
    return [
        f"frame {peak.frame} needs about {size(peak.bytes)} (budget {size(max_bytes)}): "
        f"{peak.culprit(timeline)}"
    ]


def size(n: int) -> str:
    """Bytes for people: "9.1 GB", "512 MB"."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def encoder_bytes(timeline: Timeline, threads: int) -> int:
    """Rough bytes the video encoder holds for this canvas with `threads` threads."""
    preset = timeline.export.preset or "medium"
    speed = "fast" if preset in _FAST_PRESETS else "slow" if preset in _SLOW_PRESETS else "medium"
    if timeline.export.lossless:
        speed = "fast"  # lossless output uses libx264rgb at ultrafast or ffv1
    per_pixel = ENCODER_BPP[speed] + ENCODER_THREAD_BPP * max(threads, 1)
    return ENCODER_FIXED + per_pixel * timeline.width * timeline.height


def frame_peak(timeline: Timeline, sources: Mapping[str, tuple[int, int]] | None = None) -> Peak:
    """Walk the frames where layers start and stop; the frame needing the most memory."""
    canvas_px = timeline.width * timeline.height
    canvas = CANVAS_BPP * canvas_px
    spans: list[tuple[int, int, Part]] = []
    video = [t for t in timeline.tracks if t.kind is TrackKind.VIDEO and t.enabled]
    track_effects = {t.id: t.effects for t in video}
    clips = {c.id: c for t in video for c in t.clips}
    since = {cid: c.start for cid, c in clips.items()}
    until = {cid: c.end for cid, c in clips.items()}
    for tr in timeline.transitions:
        if tr.from_clip in clips and tr.to_clip in clips:
            for cid in (tr.from_clip, tr.to_clip):
                since[cid], until[cid] = min(since[cid], tr.start), max(until[cid], tr.end)
            bpp = TRANSITION_KIND_BPP.get(tr.kind, TRANSITION_BPP)
            part = Part(f"transition {tr.id!r}", bpp * canvas_px, 0, "mixes two layers")
            spans.append((tr.start, tr.end, part))
    for cid, clip in clips.items():
        file = clip.source.path if isinstance(clip.source, FileSource) else None
        size_of = sources.get(file) if sources and file else None
        part = clip_part(clip, track_effects.get(clip.track_id, ()), timeline, size_of)
        spans.append((since[cid], until[cid], part))
    for sub in timeline.subtitles:
        spans.append((sub.start, sub.end, subtitle_part(sub, timeline.width, timeline.height)))
    return _sweep(spans, canvas)


def _is_file(clip: Clip) -> bool:
    return isinstance(clip.source, FileSource)


def _sweep(spans: list[tuple[int, int, Part]], canvas: int) -> Peak:
    """The frame where held bytes plus the largest layer being built is highest."""
    events = sorted({start for start, end, _ in spans if end > start})
    if not events:
        return Peak(RENDER_FIXED + canvas, 0, canvas, ())
    by_start = sorted((s for s in spans if s[1] > s[0]), key=lambda s: s[0])
    alive: dict[int, tuple[int, Part]] = {}
    building: list[tuple[int, int]] = []  # max-heap of (-building bytes, span index)
    held = 0
    best = Peak(RENDER_FIXED + canvas, events[0], canvas, ())
    ends: list[tuple[int, int]] = []  # min-heap of (end, span index)
    i = 0
    for frame in events:
        while ends and ends[0][0] <= frame:
            _, gone = heapq.heappop(ends)
            held -= alive.pop(gone)[1].held
        while i < len(by_start) and by_start[i][0] <= frame:
            start, end, part = by_start[i]
            alive[i] = (end, part)
            held += part.held
            heapq.heappush(ends, (end, i))
            heapq.heappush(building, (-part.building, i))
            i += 1
        while building and building[0][1] not in alive:
            heapq.heappop(building)  # ended: dropped lazily
        total = RENDER_FIXED + canvas + held + (-building[0][0] if building else 0)
        if total > best.bytes:
            best = Peak(total, frame, canvas, tuple(p for _, p in alive.values()))
    return best


def clip_part(
    clip: Clip,
    track_effects: tuple[Effect, ...],
    timeline: Timeline,
    source_size: tuple[int, int] | None = None,
) -> Part:
    """What one clip's layer costs: kept while shown, and while it is built."""
    width, height = timeline.width, timeline.height
    src_w, src_h = source_size or (width, height)
    c = clip.crop
    src_w, src_h = max(src_w - c.left - c.right, 1), max(src_h - c.top - c.bottom, 1)
    fit = min(width / src_w, height / src_h)
    t = costliest_transform(clip, timeline.fps)
    out_w = max(1, round(src_w * fit * t.scale_x))
    out_h = max(1, round(src_h * fit * t.scale_y))
    laid = out_w * out_h
    placed = laid
    rotated = t.rotation % 360 != 0
    if rotated:
        placed = _turned_box(out_w, out_h, t.rotation)
    kinds = [e.kind for e in (*clip.effects, *track_effects)]
    whole = any(k in WHOLE_LAYER for k in kinds)
    if not whole and laid > ZOOMED * width * height:
        # Only the part under the canvas, turned back upright (plus a few pixels), is resampled.
        theta = math.radians(t.rotation)
        cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
        win_w = math.ceil(width * cos + height * sin + 6)
        win_h = math.ceil(width * sin + height * cos + 6)
        laid = win_w * win_h
        placed = _turned_box(win_w, win_h, t.rotation) if rotated else laid
    kept = placed if whole else min(placed, width * height)
    source_px = src_w * src_h
    video = _is_file(clip) and not _is_still(clip)
    # A picture already at its layout size is not copied by the resize.
    held = PICTURE_BPP * (source_px + (laid if (out_w, out_h) != (src_w, src_h) else 0))
    if video:
        held += DECODER_BPP * source_px
        if clip.reverse:  # the frames decoded ahead, kept to be shown backwards
            held += window_bytes(source_px)
    if not video and "filmgrain" not in kinds:
        held += LAYER_BPP * kept  # cached while shown; others are made again every frame
    # Resizing and rotating happen before the float layer exists, one after the other.
    shaping = RESIZE_BPP * laid
    if rotated:
        shaping = max(shaping, ROTATE_IN_BPP * laid + ROTATE_OUT_BPP * placed)
    temporary = [_effect_bpp(k) for k in kinds] + [TO_FLOAT_BPP]
    if not clip.color.is_identity():
        temporary.append(COLOR_BPP)
    work = max(shaping, (BUILD_BPP + max(temporary)) * kept)
    keys = [k for k in kinds if k in ALPHA_EFFECTS]
    if keys:  # a key runs on the source picture, before the resize (workers.compositor)
        work = max(work, (BUILD_BPP + max(TO_FLOAT_BPP, *map(_effect_bpp, keys))) * source_px)
    why = _clip_why(t.scale_x, t.scale_y, t.rotation if rotated else 0.0, width, height)
    if clip.transform_keys:
        why += " at its largest (its transform keys)"
    return Part(f"clip {clip.id!r}", held, work, why)


def costliest_transform(clip: Clip, fps: Fraction) -> Transform:
    """The transform a clip's layer is largest at: its own, or its keys' largest over it."""
    if not clip.transform_keys:
        return clip.transform
    return largest_transform(clip.transform_keys, Fraction(max(clip.frames - 1, 0)) / fps)


def _turned_box(width: int, height: int, rotation: float) -> int:
    """Pixels of the bounding box of a width x height picture rotated by ``rotation`` degrees."""
    theta = math.radians(rotation)
    cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
    return math.ceil(width * cos + height * sin + 2) * math.ceil(width * sin + height * cos + 2)


def _is_still(clip: Clip) -> bool:
    if not isinstance(clip.source, FileSource) or clip.source.sequence is not None:
        return False  # an image sequence is decoded frame by frame, like a video
    return clip.source.path.lower().endswith(tuple(IMAGE_EXTENSIONS))


def _clip_why(sx: float, sy: float, rotation: float, width: int, height: int) -> str:
    scale = f"{sx:g}x" if sx == sy else f"{sx:g}x{sy:g}"
    turned = f" and rotated {rotation:g} degrees" if rotation else ""
    if sx == sy == 1 and not rotation:
        return f"fills the {width}x{height} canvas"
    return f"scaled {scale}{turned} on a {width}x{height} canvas"


def subtitle_part(sub: Subtitle, width: int, height: int) -> Part:
    """What a subtitle costs: its cached layer, and the text block drawn to make it."""
    f, o = sub.font_size, max(sub.outline, 0)
    margin = f // 4 + o + f // 2 + 2
    pitch = TEXT_PITCH_EM * f + 2 * o
    wrap = max(0.9 * width, TEXT_ADVANCE_EM * f)
    lines = 0
    widest = 0.0
    for paragraph in sub.text.split("\n"):
        advance = TEXT_ADVANCE_EM * f * len(paragraph)
        lines += max(1, math.ceil(advance / wrap))
        widest = max(widest, min(advance, wrap))
    drawn = min(lines, int((height + 2 * f + f // 4 + o) // pitch) + 2)
    block_w = widest + 2 * margin
    # A shadow's raster reaches past the text by its offset and three times its blur radius
    # (workers.subtitle_style.Look.shadow_reach), whatever the canvas.
    reach_w = reach_h = 0.0
    if sub.shadow_color is not None and sub.shadow_color[3]:
        blur = 2 * math.ceil(SHADOW_BLUR_REACH * max(sub.shadow_blur, 0.0) / 2)
        reach_w, reach_h = abs(sub.shadow_offset[0]) + blur, abs(sub.shadow_offset[1]) + blur
    kept = (min(block_w, width) + reach_w) * (min(lines * pitch + 2 * margin, height) + reach_h)
    draw = TEXT_DRAW_BPP * block_w * (drawn * pitch + 2 * margin)
    held = LAYER_BPP * kept
    why = f"at font size {f} ({len(sub.text)} characters)"
    if reach_w or reach_h:
        why += f", its shadow reaching {reach_w:g}x{reach_h:g} pixels past it"
    return Part(f"subtitle {sub.id!r}", int(held), int(draw + TEXT_COMPOSE_BPP * kept), why)


def _effect_bpp(kind: str) -> int:
    return LOOK_BPP if kind in LOOKS else EFFECT_BPP.get(kind, OTHER_EFFECT_BPP)
