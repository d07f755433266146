"""The FFmpeg demuxers and input options every reader of source media uses.

Shared by the workers' decoder (``workers.media_open``) and the importers' header probes
(``chunking.timeline.otio_timecode``), which may not import the workers: a probe that allowed
FFmpeg's playlist demuxers followed an ``.m3u8`` an EDL named to whatever file it listed (a FIFO
hung the import for ever).
"""

from __future__ import annotations

#: FFmpeg demuxers a source file may use: single-file containers, audio formats and the
#: single-image readers (for a still whose name does not say it is one; stills named as images
#: are read by Pillow). FFmpeg names some demuxers with several aliases, e.g.
#: "mov,mp4,m4a,3gp,3g2,mj2" and "matroska,webm"; one allowed alias admits the demuxer.
ALLOWED_DEMUXERS: tuple[str, ...] = (
    # video containers
    "mov",  # mov, mp4, m4a, 3gp, 3g2, mj2 (external data references stay off: enable_drefs=0)
    "matroska",  # matroska, webm
    "avi",
    "mpegts",
    "mpeg",  # MPEG program stream (.mpg, .vob)
    "mxf",
    "flv",
    "ogg",
    "dv",  # a DV camcorder's raw .dv
    "asf",  # Windows Media (.wmv, .wma)
    # audio
    "wav",
    "aiff",
    "mp3",
    "flac",
    "aac",  # ADTS
    "caf",  # Core Audio Format (Final Cut Pro's and Logic's audio)
    "w64",  # Sony Wave64 (recordings past WAV's 4 GiB)
    "amr",  # phone voice memos
    "ac3",
    "eac3",
    # one image per file
    "png_pipe",
    "jpeg_pipe",
    "bmp_pipe",
    "tiff_pipe",
    "webp_pipe",
    "gif",
    # film and VFX image sequences (Pillow reads neither)
    "dpx_pipe",
    "exr_pipe",
)

#: ``container_options`` for opening a source file: local files only, allowed demuxers only
#: (FFmpeg checks the format after probing, before the demuxer reads a byte of its header).
FFMPEG_INPUT_OPTIONS: dict[str, str] = {
    "protocol_whitelist": "file",
    "format_whitelist": ",".join(ALLOWED_DEMUXERS),
}
