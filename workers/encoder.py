"""Video encoder selection and configuration from export settings.

Hardware encoders are used only when they actually open on this machine: each candidate is
probed once per process by opening it and encoding one frame, and the answer is cached (an H100
lists h264_nvenc but has no NVENC engine, so only opening it tells).
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import numpy as np

from chunking.timeline.export import DEFAULT_CRF, DEFAULT_PRESET, svt_preset
from chunking.timeline.model import ExportSettings
from chunking.timeline.profiles import INTRA_ENCODERS, profile_of
from common.errors import EncodeError
from workers import encoder_x264, kernels
from workers.muxing import bitexact
from workers.sources import Rgb8

log = logging.getLogger(__name__)

SOFTWARE = {
    "h264": "libx264",
    "hevc": "libx265",
    "av1": "libsvtav1",
    "vp9": "libvpx-vp9",
    "ffv1": "ffv1",
}
HARDWARE = {
    "h264": ("h264_nvenc", "h264_qsv", "h264_vaapi"),
    "hevc": ("hevc_nvenc", "hevc_qsv", "hevc_vaapi"),
    "av1": ("av1_nvenc", "av1_qsv", "av1_vaapi"),
    "vp9": ("vp9_qsv", "vp9_vaapi"),
}
#: x265's own rc-lookahead per preset (x265 --help); B-frames beyond it need more.
_X265_LOOKAHEAD = {
    "ultrafast": 5, "superfast": 10, "veryfast": 15, "faster": 15, "fast": 15,
    "medium": 20, "slow": 25, "slower": 40, "veryslow": 40, "placebo": 60,
}  # fmt: skip

_SVT_PRESETS = {
    "ultrafast": 12,
    "superfast": 11,
    "veryfast": 10,
    "faster": 9,
    "fast": 8,
    "medium": 6,
    "slow": 4,
    "slower": 3,
    "veryslow": 2,
    "placebo": 1,
}
_VPX_SPEED = {
    "ultrafast": 8,
    "superfast": 7,
    "veryfast": 6,
    "faster": 5,
    "fast": 4,
    "medium": 3,
    "slow": 2,
    "slower": 1,
    "veryslow": 0,
    "placebo": 0,
}
_NVENC_PRESETS = {
    "ultrafast": "p1",
    "superfast": "p2",
    "veryfast": "p3",
    "faster": "p4",
    "fast": "p4",
    "medium": "p5",
    "slow": "p6",
    "slower": "p7",
    "veryslow": "p7",
}
FORMATS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm"}
#: The muxer a chunk's segment is written with: Matroska, but QuickTime for DNxHR, which FFmpeg's
#: Matroska muxer refuses (the merge remuxes either into the output's container).
SEGMENT_FORMATS = {"dnxhr": "mov"}


def segment_format(export: ExportSettings) -> str:
    """The muxer a chunk of this export is written with before the merge remuxes it."""
    if export.lossless:
        return "matroska"
    return SEGMENT_FORMATS.get(export.codec, "matroska")


def muxer_options(file_format: str | None, sample_rate: int | None = None) -> dict[str, str]:
    """How a video file of this format is written: bit-exact (workers.muxing), and an MP4 or
    MOV with its index first (fast start), so a browser or progressive download plays it before
    the end arrives, and, when it holds audio at ``sample_rate``, its edit lists timed in that
    rate's units."""
    if file_format not in ("mp4", "mov"):
        return bitexact()
    options = bitexact({"movflags": "+faststart"})
    if sample_rate is not None:
        # Edit lists are in the movie's timescale, 1/1000 s by default: the audio's would be cut
        # to a whole millisecond (29 samples short at 44.1 kHz for 100 frames at 29.97 fps).
        options["movie_timescale"] = str(sample_rate)
    return options


@dataclass(frozen=True)
class EncoderChoice:
    """The encoder picked for a render and how it is configured."""

    name: str
    pix_fmt: str
    options: dict[str, str] = field(default_factory=dict)
    hardware: bool = False
    lossless: bool = False
    #: why a requested hardware encoder was not used, if it was not
    note: str = ""


def choose_encoder(export: ExportSettings) -> EncoderChoice:
    """Pick and configure the video encoder for these settings."""
    if export.lossless or export.codec == "ffv1":
        return _lossless(export)
    profile = profile_of(export.codec, export.profile)
    if profile is not None:
        # ProRes and DNxHR are intra-only at a profile's fixed rate: no CRF, preset or GOP.
        options = {"profile": profile.option}
        if export.codec == "prores":
            options["vendor"] = "apl0"  # as Apple's encoder tags it; some players check
        return EncoderChoice(INTRA_ENCODERS[export.codec], profile.pix_fmt, options)
    note = ""
    if export.hardware_acceleration:
        for name in HARDWARE.get(export.codec, ()):
            if hardware_encoder_works(name):
                return EncoderChoice(
                    name, _hw_pix_fmt(name), _hw_options(name, export), hardware=True
                )
        tried = ", ".join(HARDWARE.get(export.codec, ())) or "none exist"
        note = f"no hardware {export.codec} encoder opens here ({tried}); used software"
    name = SOFTWARE[export.codec]
    return EncoderChoice(name, "yuv420p", _software_options(name, export), note=note)


def hardware_encoders() -> tuple[str, ...]:
    """The hardware encoders that open here, by name (each probed once per process)."""
    return tuple(n for names in HARDWARE.values() for n in names if hardware_encoder_works(n))


def encodes_in_software(export: ExportSettings) -> bool:
    """Whether this node encodes the export in software whatever it asks: lossless, no
    hardware encoding asked, or none for its codec opens here."""
    if export.lossless or not export.hardware_acceleration:
        return True
    return not any(hardware_encoder_works(name) for name in HARDWARE.get(export.codec, ()))


@functools.cache
def hardware_encoder_works(name: str) -> bool:
    """Whether this hardware encoder opens and encodes a frame here (cached per process)."""
    if name not in av.codecs_available:
        return False
    try:
        ctx: Any = av.CodecContext.create(name, "w")
        ctx.width, ctx.height = 256, 144
        ctx.pix_fmt = _hw_pix_fmt(name)
        ctx.time_base = Fraction(1, 25)
        ctx.framerate = Fraction(25)
        ctx.open()
        frame = av.VideoFrame.from_ndarray(np.zeros((144, 256, 3), np.uint8), format="rgb24")
        ctx.encode(frame.reformat(format=ctx.pix_fmt))
        ctx.encode(None)
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        log.info("hardware encoder %s unavailable: %s", name, exc)
        return False
    return True


def add_video_stream(
    container: Any,
    choice: EncoderChoice,
    width: int,
    height: int,
    fps: Fraction,
    export: ExportSettings,
    threads: int | None = None,
) -> Any:
    """Add a configured video stream for this encoder to an output container."""
    if choice.name == "libsvtav1":
        # SVT-AV1 prints its banner and config (20 lines) straight to stderr unless told to
        # log errors only; read when the encoder opens. A user's own SVT_LOG wins.
        os.environ.setdefault("SVT_LOG", "1")
    options = dict(choice.options)
    if choice.name == "libx264":
        # Off AVX-512 at widths where its mbtree code reads memory it never wrote.
        options = encoder_x264.for_width(options, width)
    try:
        stream = container.add_stream(choice.name, rate=fps, options=options)
    except (av.error.FFmpegError, ValueError) as exc:
        raise EncodeError(f"encoder {choice.name} cannot be used: {exc}") from None
    stream.width, stream.height = width, height
    stream.pix_fmt = choice.pix_fmt
    ctx = stream.codec_context
    if ctx.codec.canonical_name == "hevc" and container.format.name in ("mp4", "mov"):
        ctx.codec_tag = "hvc1"  # Apple players refuse FFmpeg's default hev1 (as the merge)
    ctx.time_base = 1 / fps
    # Frame threads, as the ffmpeg CLI uses: faster than PyAV's default slice threads for x264.
    ctx.thread_type = "FRAME"
    if threads:
        ctx.thread_count = threads
    # Square pixels, said outright: left unset, the stream's aspect ratio reads "unknown" (N/A)
    # and QC tools and some players (anamorphic guesses for SD sizes) must assume.
    ctx.sample_aspect_ratio = Fraction(1, 1)
    # The composited RGB is BT.709: lossless RGB says so too (full range, RGB matrix), so a
    # player or a later transcode does not guess other primaries or a transfer.
    ctx.color_primaries = ctx.color_trc = 1  # BT.709
    if choice.lossless:
        ctx.colorspace = 0  # RGB (GBR)
        ctx.color_range = 2  # full ("PC") range
    else:
        ctx.colorspace = 1  # BT.709
        ctx.color_range = 1  # limited ("TV") range
        if choice.name in INTRA_ENCODERS.values():
            return stream  # every frame a keyframe, its size set by the profile
        if export.keyframe_interval:
            ctx.gop_size = export.keyframe_interval
        if export.b_frames is not None:
            ctx.max_b_frames = export.b_frames
        if export.bitrate:
            ctx.bit_rate = export.bitrate
    return stream


def to_video_frame(rgb: Rgb8, choice: EncoderChoice) -> Any:
    """Wrap composited RGB as an encoder frame, converting with BT.709 where needed."""
    if writes_yuv420p(choice):
        frame = _yuv420p_frame(rgb)
        if frame is not None:
            return frame
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    if choice.pix_fmt == "rgb24":
        return frame
    # One swscale thread: sliced (PyAV's default), RGB to yuv422p10le at widths that are not a
    # multiple of 32 (720, 336...) left some chroma samples unwritten at random (mid-grey), so
    # ProRes and DNxHR HQX frames came out with colour blotches that differed run to run.
    if choice.lossless:
        return frame.reformat(format=choice.pix_fmt, threads=1)
    return frame.reformat(
        format=choice.pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG", threads=1
    )


def _yuv420p_frame(rgb: Rgb8) -> Any:
    """RGB as a BT.709 limited-range yuv420p frame through the C kernel (a quarter of swscale's
    CPU for this conversion, within one level of it); None where the kernel was not built."""
    frame, planes = yuv420p_target(rgb.shape[1], rgb.shape[0])
    return frame if kernels.rgb_to_yuv420p(rgb, planes) else None


def writes_yuv420p(choice: EncoderChoice) -> bool:
    """Whether ``to_video_frame`` makes this encoder's frames with the C yuv420p kernel, so the
    compositor may write them straight into ``yuv420p_target`` frames (workers.banded)."""
    return choice.pix_fmt == "yuv420p" and not choice.lossless and kernels.compiled()


def yuv420p_target(width: int, height: int) -> tuple[Any, tuple[Rgb8, Rgb8, Rgb8]]:
    """A new BT.709 limited-range yuv420p frame (as swscale would tag it) and its Y, U, V
    planes as uint8 views, to be written (kernels.rgb_to_yuv420p, banded.composite_yuv420p)."""
    frame = av.VideoFrame(width, height, "yuv420p")
    y, u, v = (
        np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[
            : plane.height, : plane.width
        ]
        for plane in frame.planes
    )
    frame.colorspace = 1  # BT.709
    frame.color_range = 1  # limited
    return frame, (y, u, v)


def _lossless(export: ExportSettings) -> EncoderChoice:
    # FFmpeg's mov muxer refuses FFV1, so mp4 and mov carry lossless RGB H.264 instead.
    if export.container in ("mp4", "mov") and export.codec != "ffv1":
        return EncoderChoice(
            "libx264rgb", "rgb24", {"qp": "0", "preset": "ultrafast"}, lossless=True
        )
    return EncoderChoice("ffv1", "bgr0", {"level": "3", "slicecrc": "1"}, lossless=True)


def _software_options(name: str, export: ExportSettings) -> dict[str, str]:
    crf = export.crf if export.crf is not None else DEFAULT_CRF[export.codec]
    preset = export.preset or DEFAULT_PRESET
    opts: dict[str, str] = {}
    if not export.bitrate:
        opts["crf"] = str(crf)
    keyint = export.keyframe_interval
    if name == "libx264":
        opts["preset"] = preset
        if keyint:
            opts["x264-params"] = f"keyint={keyint}:min-keyint={keyint}:scenecut=0"
    elif name == "libx265":
        opts["preset"] = preset
        # info=0: x265's informational SEI (its version and every setting, frame-threads=N
        # among them) went into the stream headers, so segments of nodes with other thread
        # counts (pictures the same) had other headers, and the merge refused to join them.
        params = ["log-level=error", "info=0"]
        if keyint:
            params += [f"keyint={keyint}", f"min-keyint={keyint}", "scenecut=0"]
        if export.b_frames is not None:
            # x265 refuses more B-frames in a row than it looks ahead (ultrafast looks 5 ahead).
            ahead = max(export.b_frames + 1, _X265_LOOKAHEAD.get(preset, 20))
            params += [f"bframes={export.b_frames}", f"rc-lookahead={ahead}"]
        opts["x265-params"] = ":".join(params)
    elif name == "libsvtav1":
        number = svt_preset(preset)
        opts["preset"] = str(_SVT_PRESETS.get(preset, 8 if number is None else number))
    elif name == "libvpx-vp9":
        opts.update({"deadline": "good", "cpu-used": str(_VPX_SPEED.get(preset, 4)), "row-mt": "1"})
        if not export.bitrate:
            opts["b"] = "0"
    return opts


def _hw_pix_fmt(name: str) -> str:
    return "nv12" if name.endswith(("_qsv", "_vaapi")) else "yuv420p"


def _hw_options(name: str, export: ExportSettings) -> dict[str, str]:
    crf = export.crf if export.crf is not None else DEFAULT_CRF[export.codec]
    preset = export.preset or DEFAULT_PRESET
    if name.endswith("_nvenc"):
        opts = {"preset": _NVENC_PRESETS.get(preset, "p5"), "rc": "vbr"}
        if not export.bitrate:
            opts["cq"] = str(crf)
        return opts
    if name.endswith("_qsv"):
        return {"global_quality": str(crf)} if not export.bitrate else {}
    return {}
