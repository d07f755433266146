"""The source a clip's pictures come from: a generated picture, a still, a video file (read
backwards GOP by GOP for a reversed clip), opened once per clip by the compositor; and the
picture a clip shows on a frame, at the size its layout needs (``clip_picture``)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from chunking.timeline.model import Clip, Effect, FileSource, GeneratedSource
from common.errors import TimelineError
from workers.effects import apply_keys
from workers.geometry import Layout, crop, largest_size, layout, zoomed
from workers.layer import to_float, to_uint8
from workers.reverse_source import ReverseVideo
from workers.sources import Cropping, GeneratedPicture, Picture, StillSource, open_file
from workers.video_source import VideoSource

AnySource = StillSource | VideoSource | GeneratedPicture | ReverseVideo


def open_clip_source(
    clip: Clip, width: int, height: int, decoder_threads: int | None, decoded: Any
) -> AnySource:
    """Open what ``clip`` shows on a ``width`` x ``height`` canvas; a forward video shares
    ``decoded`` (the compositor's decoded frames by file) with the other clips of its file."""
    if isinstance(clip.source, GeneratedSource):
        return GeneratedPicture(clip.source, width, height)
    if not isinstance(clip.source, FileSource):  # pragma: no cover - the loader builds two kinds
        raise TimelineError(f"clip {clip.id!r}: unsupported source {clip.source!r}")
    source = open_file(
        clip.source.path, clip.id, clip.source.sequence, decoder_threads, clip.deinterlace
    )
    if type(source) is VideoSource and clip.reverse:
        return ReverseVideo(source)  # read backwards GOP by GOP, not per frame
    if type(source) is VideoSource:
        source.share(decoded)
    return source


def is_video(source: AnySource) -> bool:
    """Whether a source's picture changes from frame to frame (a video, either way)."""
    return isinstance(source, VideoSource | ReverseVideo)


def clip_picture(
    source: AnySource,
    clip: Clip,
    keyed: Clip,
    keys: list[Effect],
    sample: tuple[Fraction, Fraction],
    canvas: tuple[int, int],
    fps: Fraction,
    layouts: dict[str, Layout],
) -> tuple[Picture, Layout]:
    """The picture ``clip`` (at this frame's transform; ``keyed``: the clip with its transform
    keys) shows at ``sample`` (source seconds, step) on a ``canvas``, with its key effects
    applied, and where it lies; ``layouts``: the clips' layouts by id, kept for a source that
    hands back a kept picture without asking its size again."""
    seconds, step = sample
    width, height = canvas
    cropped = not clip.crop.is_identity()
    if (cropped and not is_video(source)) or keys:
        # Keys run on the source picture, before any resize (workers.compositor); a still's
        # crop is cut from it (a fixed still's layer is built once).
        picture = crop(source.picture_at(seconds, step=step), clip)
        where = layout(picture.rgb.shape[1], picture.rgb.shape[0], clip, width, height)
        if keys and where.width and where.height:
            picture = _keyed(picture, keys)
        return picture, where
    # A moving video's frame is decoded straight to this frame's size, as a fixed clip's
    # (a source keeps a repeated frame's picture only for the same size: sources.Asked).
    # A moving still keeps one picture at the largest size its keys draw it at, resized
    # to each frame's layout by the compositor, not its whole source resized every frame.
    box: list[Layout] = []
    kept = bool(keyed.transform_keys) and not is_video(source)

    def sizer(src_w: int, src_h: int) -> tuple[int, int]:
        box.append(layout(src_w, src_h, clip, width, height))
        laid = box[-1]
        if zoomed(laid, width, height) and (laid.width > src_w or laid.height > src_h):
            return src_w, src_h  # enlarged by the compositor, only where it shows
        if kept:
            return largest_size(keyed, src_w, src_h, width, height, fps)
        return max(laid.width, 1), max(laid.height, 1)

    # The source delivers the picture already at its layout size (one scaling pass); a
    # video takes a crop off before it scales (workers.frame_crop), and the sizer is given
    # the size of the part kept.
    asked = Cropping(sizer, clip.crop, clip.id) if cropped else sizer
    picture = source.picture_at(seconds, asked, step)
    where = box[-1] if box else layouts[clip.id]
    layouts[clip.id] = where
    return picture, where


def _keyed(picture: Picture, keys: list[Effect]) -> Picture:
    """A source picture with its key effects applied to its alpha (kept in 8 bits, like a
    source's own alpha, for the resize that follows)."""
    rgb = to_float(picture.rgb)
    alpha = to_float(picture.alpha) if picture.alpha is not None else None
    alpha = apply_keys(rgb, alpha, keys)
    return Picture(picture.rgb, None if alpha is None else to_uint8(alpha))
