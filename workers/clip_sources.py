"""The source a clip's pictures come from: a generated picture, a still, a video file (read
backwards GOP by GOP for a reversed clip), opened once per clip by the compositor."""

from __future__ import annotations

from typing import Any

from chunking.timeline.model import Clip, FileSource, GeneratedSource
from common.errors import TimelineError
from workers.reverse_source import ReverseVideo
from workers.sources import GeneratedPicture, StillSource, open_file
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
