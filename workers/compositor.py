"""Composite one timeline frame from its clips, transitions, effects and subtitles.

The pixels of frame ``t`` are a pure function of the timeline and ``t``: sources are decoded
frame-exactly, random effects are seeded by the frame index, and no state carries between frames
except caches of decoded pictures (DESIGN 4.2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Literal, cast, overload

import numpy as np

from chunking.timeline.catalogue import ALPHA_EFFECTS, effect_kind
from chunking.timeline.model import (
    Clip,
    Effect,
    Timeline,
    TrackKind,
    Transition,
)
from workers.allocator import keep_frame_buffers
from workers.arrays import current
from workers.banded import Pending, composite, composite_yuv420p
from workers.blas import pin_single_thread
from workers.clip_sources import AnySource, clip_picture, is_video, open_clip_source
from workers.color import apply_color
from workers.effects import TIME_VARYING, WHOLE_LAYER, apply_effects
from workers.geometry import (
    Layout,
    cell_box,
    place,
    place_within,
    zoomed,
)
from workers.layer import Image, Layer, blank, blend, to_float, to_uint8, trimmed
from workers.layer_cuts import faded, full_layer, nothing, overlap, within
from workers.layer_steps import float_layer, plan_steps
from workers.probe_ranges import source_sample
from workers.sources import Picture, Rgb8, resize
from workers.subtitle_motion import ease
from workers.subtitles import subtitle_layer
from workers.transitions import apply_transition

#: Makes a frame's yuv420p target for a width and height: what the frame becomes, and its
#: Y, U, V planes to write (workers.encoder.yuv420p_target).
YuvTarget = Callable[[int, int], tuple[Any, tuple[Rgb8, Rgb8, Rgb8]]]


class Compositor:
    """Renders frames of one timeline; keeps decoders open only while their clips are in use."""

    def __init__(self, timeline: Timeline, decoder_threads: int | None = None) -> None:
        """`decoder_threads` caps each video decoder's threads (a render slot's share of the
        cores; None: FFmpeg's choice)."""
        pin_single_thread()  # frames must not depend on this machine's core count
        self.backend = current()  # NumPy or CuPy: where layers live (workers.arrays)
        self.xp = self.backend.xp
        keep_frame_buffers()  # each step's frame-sized array reuses the last one's pages
        self.timeline = timeline
        self.decoder_threads = decoder_threads
        self.width, self.height = timeline.width, timeline.height
        video = [t for t in timeline.tracks if t.kind is TrackKind.VIDEO and t.enabled]
        self.layers: list[tuple[int, Clip]] = [
            (i, clip) for i, track in enumerate(video) for clip in track.clips
        ]
        self.track_effects = {t.id: t.effects for t in video}
        track_of = {clip.id: i for i, clip in self.layers}
        self.transitions = [
            (max(track_of[tr.from_clip], track_of[tr.to_clip]), tr)
            for tr in timeline.transitions
            if tr.from_clip in track_of and tr.to_clip in track_of
        ]
        self.clips = {clip.id: clip for _, clip in self.layers}
        # The last frame (exclusive) each clip is drawn on, transitions included.
        self.until = {clip.id: clip.end for _, clip in self.layers}
        self.since = {clip.id: clip.start for _, clip in self.layers}
        for _, tr in self.transitions:
            for cid in (tr.from_clip, tr.to_clip):
                self.until[cid] = max(self.until[cid], tr.end)
                self.since[cid] = min(self.since[cid], tr.start)
        self.sources: dict[str, AnySource] = {}
        # The last frame decoded from each file, for clips showing the same footage at once.
        self._decoded: dict[tuple[str, int, int, int], tuple[int, Any]] = {}
        # The layout of each clip's last picture, for cache hits that skip the sizer.
        self._layouts: dict[str, Layout] = {}
        # Layers of still clips, keyed by which of their effects were active.
        self._still: dict[str, tuple[tuple[int, ...], Layer]] = {}
        # Each clip's float picture of its last frame, written over by its next (layer_steps).
        self._buffers: dict[str, Image] = {}

    def open_range(self, start: int, end: int) -> None:
        """Open every source the frames [start, end) need, so bad media fails before output."""
        for _, clip in self.layers:
            if self.since[clip.id] < end and self.until[clip.id] > start:
                self._source(clip)
                if self.since[clip.id] > start:
                    # Checked; now closed until its first frame, so memory and open files
                    # follow the clips shown at once, not every clip of the range.
                    self.sources.pop(clip.id).close()

    def frames(self, start: int, end: int, into: YuvTarget | None = None) -> Iterator[Any]:
        """The composited frames [start, end) as uint8 RGB arrays; with ``into``, a frame the
        band kernel makes goes straight into the yuv420p planes of a target from it, and that
        target comes instead (the same bytes as converting its RGB; workers.banded)."""
        self.open_range(start, end)
        for t in range(start, end):
            yield self.frame(t, into)
            self._release_before(t + 1)

    def frame(self, t: int, into: YuvTarget | None = None) -> Any:
        """Composite frame t (RGB, or with ``into`` maybe a yuv420p target: see ``frames``)."""
        canvas: Image | None = None
        active = [(i, tr) for i, tr in self.transitions if tr.start <= t < tr.end]
        busy = {cid for _, tr in active for cid in (tr.from_clip, tr.to_clip)}
        items: list[tuple[int, Clip | Transition]] = [
            (i, clip)
            for i, clip in self.layers
            if clip.start <= t < clip.end and clip.id not in busy
        ]
        items.extend(active)
        items.sort(key=lambda item: item[0])  # stable: bottom track first
        built: dict[int, Layer] = {}
        if items and not active and isinstance(items[0][1], Clip) and self.backend.xp is np:
            cid = items[0][1].id
            bottom = self._clip_layer(items[0][1], t, defer=True)
            if isinstance(bottom, Pending) and self._covers_pending(bottom):
                clips = [cast(Clip, c) for _, c in items[1:]]
                return self._banded(cid, bottom, clips, t, into)
            built[0] = self._float(cid, bottom) if isinstance(bottom, Pending) else bottom
        for n, (_, item) in enumerate(items):
            if isinstance(item, Transition):
                a = self._full(self._clip_layer(self.clips[item.from_clip], t))
                b = self._full(self._clip_layer(self.clips[item.to_clip], t))
                canvas = self._blank() if canvas is None else canvas
                progress = ease(item.easing, item.progress(t))
                blend(canvas, apply_transition(item.kind, progress, a, b))
                continue
            layer = built[n] if n in built else self._clip_layer(item, t)
            if canvas is None and self._covers(layer):
                # An opaque bottom layer over the whole canvas is the canvas: blending it onto
                # black would copy it (a kept still layer is copied: the next frame reuses it).
                kept = self._still.get(item.id)
                canvas = layer.rgb.copy() if kept and kept[1].rgb is layer.rgb else layer.rgb
                continue
            canvas = self._blank() if canvas is None else canvas
            blend(canvas, layer)
        for sub in self.timeline.subtitles:
            if sub.start <= t < sub.end:
                canvas = self._blank() if canvas is None else canvas
                text = subtitle_layer(sub, self.width, self.height, t, self.timeline.fps)
                blend(canvas, self._upload(text))
        # The one copy back to host memory on a GPU: the encoder's input, in 8 bits.
        return self.backend.to_host(to_uint8(self._blank() if canvas is None else canvas))

    def _banded(
        self, cid: str, bottom: Pending, clips: list[Clip], t: int, into: YuvTarget | None
    ) -> Any:
        """Frame t from its bottom layer not yet in float and the clips above it (no transition
        is active): band by band where the C kernel takes every layer, else as ``frame``."""
        layers: list[tuple[str, Layer | Pending]] = [
            (clip.id, self._clip_layer(clip, t, defer=True)) for clip in clips
        ]
        for sub in self.timeline.subtitles:
            if sub.start <= t < sub.end:
                text = subtitle_layer(sub, self.width, self.height, t, self.timeline.fps)
                layers.append(("", self._upload(text)))
        over = [layer for _, layer in layers]
        if into is not None:
            target, planes = into(self.width, self.height)
            if composite_yuv420p(bottom, over, planes):
                return target
        elif (done := composite(bottom, over)) is not None:
            return done
        canvas = self._float(cid, bottom).rgb
        for key, layer in layers:
            blend(canvas, self._float(key, layer) if isinstance(layer, Pending) else layer)
        return self.backend.to_host(to_uint8(canvas))

    def _float(self, cid: str, pending: Pending) -> Layer:
        """A pending layer in float, written into the array its clip's last frame used."""
        reuse = self._buffers.get(cid)
        fits = reuse is not None and reuse.shape == pending.rgb8.shape
        layer = pending.layer(reuse if fits else None)
        self._buffers[cid] = layer.rgb
        return layer

    def _covers_pending(self, layer: Pending) -> bool:
        """Whether a pending layer is opaque and exactly covers the canvas."""
        full = layer.rgb8.shape == (self.height, self.width, 3)
        return full and (layer.x, layer.y) == (0, 0) and layer.opacity >= 1

    def close(self) -> None:
        """Close every open source."""
        for source in self.sources.values():
            source.close()
        self.sources.clear()
        self._decoded.clear()
        self._buffers.clear()

    # -- per clip -----------------------------------------------------------------------------

    @overload
    def _clip_layer(self, clip: Clip, t: int) -> Layer: ...
    @overload
    def _clip_layer(self, clip: Clip, t: int, defer: Literal[True]) -> Layer | Pending: ...
    def _clip_layer(self, clip: Clip, t: int, defer: bool = False) -> Layer | Pending:
        """A clip's layer at frame t; with ``defer``, a ``Pending`` layer where it has no alpha
        and one pass of steps makes its float image (workers.banded)."""
        effects = [
            (i, e)
            for i, e in enumerate((*clip.effects, *self.track_effects[clip.track_id]))
            if e.active_at(t)
        ]
        source = self._source(clip)
        # A still source with no time-varying effect looks the same on every frame: build its
        # layer once, trimmed to where it is visible, and reuse it.
        static = (
            not is_video(source)
            and not any(e.kind in TIME_VARYING for _, e in effects)
            and not clip.transform_keys  # it moves: its layer differs frame by frame
        )
        key = tuple(i for i, _ in effects)
        if static and clip.id in self._still and self._still[clip.id][0] == key:
            return faded(self._still[clip.id][1], clip.picture_fade(t, self.timeline.fps))
        fade = clip.picture_fade(t, self.timeline.fps)
        defer = defer and not static
        layer = self._build_layer(clip, source, [e for _, e in effects], t, not static, defer)
        if isinstance(layer, Pending):
            return replace(layer, opacity=layer.opacity * fade) if fade < 1 else layer
        if static:
            layer = trimmed(layer)
            self._still[clip.id] = (key, layer)
        # The kept still layer is the unfaded one: the fade changes only its opacity per frame.
        return faded(layer, fade)

    def _build_layer(
        self,
        clip: Clip,
        source: AnySource,
        effects: list[Effect],
        t: int,
        fresh: bool,
        defer: bool = False,
    ) -> Layer | Pending:
        """A clip's layer at frame t; ``fresh``: built again every frame (not kept), so its
        float picture may be written into the array the clip's last frame used; ``defer``: a
        ``Pending`` layer instead where it has no alpha and its steps fuse (workers.banded)."""
        moving = bool(clip.transform_keys)
        keyed = clip
        if moving:
            # The geometry below reads ``transform``: this frame's, from the keys.
            shown = clip.transform_at(t, self.timeline.fps)
            clip = replace(clip, transform=shown, transform_keys=())
        if clip.transform.scale_x == 0 or clip.transform.scale_y == 0:
            return nothing(self.xp)  # nothing to draw, nothing to decode
        seconds, step = source_sample(clip, t, self.timeline.fps)
        width, height = self.width, self.height
        # Keys run on the source picture, before it is resized (an editor's order): a resampled
        # edge mixes the key colour into the foreground, and no key can remove that mix.
        keys = [e for e in effects if _canonical(e) in ALPHA_EFFECTS]
        effects = [e for e in effects if _canonical(e) not in ALPHA_EFFECTS]
        picture, where = clip_picture(
            source, clip, keyed, keys, (seconds, step), (width, height), self.timeline.fps,
            self._layouts,
        )  # fmt: skip
        if where.width == 0 or where.height == 0:
            return nothing(self.xp)  # scaled to nothing in one axis: nothing is drawn
        cell = cell_box(clip, width, height)
        bounds = (0, 0, width, height) if cell is None else overlap(cell, (0, 0, width, height))
        whole = any(e.kind in WHOLE_LAYER for e in effects)
        upright = whole and clip.transform.rotation % 360 != 0
        if upright:
            # Effects that need the whole layer see the clip's own upright rectangle at its
            # drawn size: the empty corners a rotation adds never enter a blur or a vignette.
            picture = resize(picture, where.width, where.height)
            picture = self._upright_effects(clip, picture, t, effects)
            effects = []
        if not whole and zoomed(where, width, height):
            placed = place_within(picture, where, clip, bounds)
            if placed is None:
                return nothing(self.xp)  # zoomed into a part that lies off the canvas
            picture, x, y = placed
        else:
            picture, x, y = place(picture, where, clip)
        # A clip in a template cell is drawn only inside it: the cell is its canvas.
        if not whole:
            # Only the part inside the bounds is ever blended: drop the rest before going to float.
            rgb8, alpha8, x, y = within(picture.rgb, picture.alpha, x, y, bounds)
            picture = Picture(rgb8, alpha8)
        # Decoded pictures arrive in host memory as 8 bits: that is what crosses to a GPU.
        # rgb is this frame's own fresh array: colour and per-pixel effects overwrite it.
        scratch = not self.backend.device_path
        # A whole-layer effect (a vignette) sees the same picture here: no cell cuts it after.
        if defer and scratch and picture.alpha is None and not upright and cell is None:
            size = picture.rgb.shape[:2]
            steps, color_left, rest = plan_steps(clip.color, effects, t, *size)
            if not color_left and not rest:
                return Pending(picture.rgb, tuple(steps), x, y, clip.opacity)
        if scratch and not upright:
            # The correction and the leading per-pixel effects in the conversion's pass.
            # A layer built every frame is blended and forgotten within its frame: the next
            # frame writes into the same array instead of faulting in a fresh 25 MB (1080p).
            reuse = self._buffers.get(clip.id) if fresh else None
            rgb, color_left, effects = float_layer(picture.rgb, clip.color, effects, t, reuse)
            if fresh and not color_left and not effects:
                self._buffers[clip.id] = rgb
        else:
            rgb = to_float(self.backend.to_device(picture.rgb))
            color_left = not upright
        if color_left and not clip.color.is_identity():
            rgb = apply_color(rgb, clip.color, scratch)
        alpha8 = picture.alpha
        alpha = to_float(self.backend.to_device(alpha8)) if alpha8 is not None else None
        rgb, alpha = apply_effects(rgb, alpha, effects, t, scratch)
        if whole and cell is not None:
            # Effects that need the whole layer (a blur) saw the picture beyond the cell; only
            # now is it cut to the cell, so its edges blur with what lies past them.
            rgb, alpha, x, y = within(rgb, alpha, x, y, bounds)
        return Layer(rgb, alpha, x, y, clip.opacity)

    def _upright_effects(
        self, clip: Clip, picture: Picture, t: int, effects: list[Effect]
    ) -> Picture:
        """A clip's colour correction and effects on its unrotated picture, back in 8 bits for
        the rotation (which resamples 8-bit pictures)."""
        rgb = to_float(self.backend.to_device(picture.rgb))
        scratch = not self.backend.device_path  # rgb is fresh: overwritten in place
        if not clip.color.is_identity():
            rgb = apply_color(rgb, clip.color, scratch)
        alpha8 = picture.alpha
        alpha = to_float(self.backend.to_device(alpha8)) if alpha8 is not None else None
        rgb, alpha = apply_effects(rgb, alpha, effects, t, scratch)
        rgb8 = self.backend.to_host(to_uint8(rgb))
        alpha8 = None if alpha is None else self.backend.to_host(to_uint8(alpha))
        return Picture(rgb8, alpha8)

    def _source(self, clip: Clip) -> AnySource:
        source = self.sources.get(clip.id)
        if source is None:
            source = open_clip_source(
                clip, self.width, self.height, self.decoder_threads, self._decoded
            )
            self.sources[clip.id] = source
        return source

    def _covers(self, layer: Layer) -> bool:
        """Whether a layer is opaque and exactly covers the canvas (a float32 RGB array)."""
        return (
            layer.alpha is None
            and layer.opacity >= 1
            and (layer.x, layer.y) == (0, 0)
            and layer.rgb.shape == (self.height, self.width, 3)
            and layer.rgb.dtype == np.float32
            and layer.rgb.flags.c_contiguous
            and getattr(layer.rgb.flags, "writeable", True)  # CuPy's arrays have no such flag
        )

    def _full(self, layer: Layer) -> Layer:
        """The layer as a full-canvas image with alpha, as transitions expect."""
        return full_layer(layer, self.width, self.height, self.xp)

    def _blank(self) -> Image:
        return blank(self.width, self.height, self.xp)

    def _upload(self, layer: Layer) -> Layer:
        """A host layer (drawn text) in the backend's memory."""
        if not self.backend.device_path:
            return layer
        alpha = self.backend.to_device(layer.alpha) if layer.alpha is not None else None
        rgb = self.backend.to_device(layer.rgb)
        return Layer(rgb, alpha, layer.x, layer.y, layer.opacity)

    def _release_before(self, t: int) -> None:
        for cid in [cid for cid in self.sources if self.until[cid] <= t]:
            self.sources.pop(cid).close()
            self._still.pop(cid, None)
            self._buffers.pop(cid, None)


def _canonical(effect: Effect) -> str:
    """An effect's catalogue kind (its own name when the catalogue does not know it)."""
    return effect_kind(effect.kind) or effect.kind
