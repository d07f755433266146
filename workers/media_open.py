"""The one way source media are opened with PyAV: a local file in an allow-listed format.

FFmpeg can read far more than media files. Its playlist and manifest demuxers (hls, dash), its
list-of-files demuxer (concat), its pattern reader (image2) and its protocols (http, tcp, concat,
subfile, data, ...) all let a small file a project names make FFmpeg open something else: a
92-byte ``.m3u8`` naming ``/home/user/secret.mp4`` made a worker decode that file. So every
source file, for decoding and for probing alike, is opened here:

* the path goes to FFmpeg as ``file:<absolute path>``, so no prefix of the name can choose
  another protocol, and ``protocol_whitelist`` is ``file`` for anything a demuxer opens itself;
* ``format_whitelist`` limits the demuxer to ``ALLOWED_DEMUXERS``: FFmpeg checks it after
  probing and before the demuxer reads its header, so a refused playlist never opens what it
  names; the format is checked again once the file is open;
* text that FFmpeg would take for a playlist or a file list is refused before FFmpeg sees it,
  so the refusal can name what the file is.

Stills named as images are read by Pillow, through ``open_image``, limited to a few formats.
Encoder outputs and the merge's own segments are not source media and do not come through here.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
import warnings
from typing import Any, cast

import av
import av.error
from av.container import InputContainer
from PIL import Image

from common.errors import AssetNotFound, DecodeError

# Re-exported: the allow-list is this module's contract with its callers and tests.
from common.media_formats import ALLOWED_DEMUXERS as ALLOWED_DEMUXERS
from common.media_formats import FFMPEG_INPUT_OPTIONS
from workers.open_watchdog import watched

#: Pillow formats a still may be in. Pillow picks a plugin by content, not by name: without this,
#: an EPS renamed ``.png`` would be rasterised by Ghostscript.
ALLOWED_IMAGE_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "BMP", "WEBP", "TIFF", "GIF", "TGA")

_OPTIONS = FFMPEG_INPUT_OPTIONS

#: Leading bytes of text formats FFmpeg would follow to other files, and what to call them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"#EXTM3U", "an HLS playlist"),
    (b"ffconcat", "a concat file list"),
    (b"<?xml", "an XML document (such as a DASH manifest)"),
    (b"<MPD", "a DASH manifest"),
)
_SNIFF_BYTES = 64


def not_allowed(path: str, what: str) -> str:
    """The one-line refusal of a file whose format may not be opened."""
    return f"{path}: {what} is not an allowed media format"


def open_media(path: str) -> InputContainer:
    """Open a source media file for reading, refusing anything but an allowed local format.

    Raises AssetNotFound when the file is missing or unreadable and DecodeError when it is not
    a regular file, is empty, is not in an allowed format or cannot be opened; each message
    names the path but no clip (callers add which clip uses it). An open that does not finish
    in ``open_watchdog.OPEN_SECONDS`` (a stuck network mount) raises SourceOpenTimeout.
    """
    # Looked up at each call: tests replace the open that hangs.
    return cast(InputContainer, watched(path, open_unwatched))


def open_unwatched(path: str) -> InputContainer:
    """``open_media`` without its time limit: for the watchdog's own thread."""
    full = os.path.abspath(path)
    _sniff(path, full)
    try:
        # Tags in a legacy code page (a WAV's LIST/INFO from Windows tools, old QuickTime
        # atoms) are not UTF-8; PyAV's strict decoding would fail the whole file on a title.
        container = av.open(
            "file:" + full, "r", container_options=dict(_OPTIONS), metadata_errors="replace"
        )
    except av.error.FileNotFoundError:
        raise AssetNotFound(f"media file not found: {path}") from None
    except av.error.ArgumentError:
        # EINVAL from avformat_open_input with only our own options: the probed demuxer is not
        # on the whitelist (FFmpeg does not say which one).
        raise DecodeError(_elementary(path, full) or not_allowed(path, "its format")) from None
    except (av.error.FFmpegError, OSError) as exc:
        if _unfinished_mp4(full):
            raise DecodeError(
                f"{path} is an MP4/MOV recording that was never finished: it holds media data "
                "but no index (moov box), as when a camera or app stops before closing the "
                "file (a crash, a flat battery, a full card); recover it with a repair tool "
                "(such as untrunc, given a good file from the same device) or export it again"
            ) from None
        raise DecodeError(f"cannot open {path}: {reason(exc)}") from None
    name = container.format.name
    if not set(name.split(",")) & set(ALLOWED_DEMUXERS):  # FFmpeg already refused; belt and braces
        container.close()
        raise DecodeError(not_allowed(path, name))
    for stream in container.streams.audio:
        _native_layout(stream)
    return container


#: FFmpeg's demuxers of bare codec streams (no container) and what to call each in a refusal.
_ELEMENTARY: dict[str, str] = {
    "h264": "H.264",
    "hevc": "HEVC (H.265)",
    "vvc": "VVC (H.266)",
    "mpegvideo": "MPEG-1/2 video",
    "m4v": "MPEG-4 Part 2 video",
    "obu": "AV1",
}


def _elementary(path: str, full: str) -> str | None:
    """The refusal of a raw video elementary stream (a camera's or encoder's ``.h264``,
    ``.hevc``), saying how to wrap it without re-encoding; None for any other refused file.

    Such a stream has no frame times and no index, so no frame of it can be found by time; the
    refusal used to call it "not an allowed media format", which left the user guessing. Only
    these demuxers may open the file here: none of them reads anything but the file itself.
    """
    options = {"protocol_whitelist": "file", "format_whitelist": ",".join(_ELEMENTARY)}
    try:
        with av.open("file:" + full, "r", container_options=options) as container:
            name = container.format.name
    except (av.error.FFmpegError, OSError):
        return None
    what = next((v for k, v in _ELEMENTARY.items() if k in name.split(",")), name)
    stem = os.path.splitext(os.path.basename(path))[0]
    return (
        f"{path} is a raw {what} elementary stream, not a media file: it has no container, "
        "so no frame times or index to find a frame by; wrap it in one without re-encoding, "
        f"e.g. ffmpeg -framerate <its frame rate> -i {os.path.basename(path)} -c copy "
        f"{stem}.mp4, and use the .mp4"
    )


#: How FFmpeg describes a layout whose channels are listed one by one ("custom" order).
_CUSTOM_LAYOUT = re.compile(r"^\d+ channels \((?P<channels>.*)\)$")
#: FFmpeg's channels in their native order (its AVChannel numbers 0 to 29).
_NATIVE_ORDER = (
    "FL FR FC LFE BL BR FLC FRC BC SL SR TC TFL TFC TFR TBL TBC TBR DL DR WL WR SDL SDR LFE2 "
    "TSL TSR BFC BFL BFR"
).split()


def _native_layout(stream: Any) -> None:
    """Give an audio stream whose container lists its channels one by one (a MOV's 7.1 PCM,
    whose ``chan`` box orders the sides before the backs) the native layout of those channels
    (or FFmpeg's default for as many), before anything decodes it.

    PyAV 18 copies such a layout's channel list into each layout object it hands out and frees
    it with that object, and again with the frame or decoder that owns it: decoding the stream,
    or reading its channel count, aborted the worker ("double free or corruption"). A native
    layout holds no list. The samples are not moved: a channel keeps its place and may take a
    like one's name (a side for a back), which the stereo mix weighs alike.
    """
    context = stream.codec_context
    if context is None:
        return
    # Read before the decoder's layout is replaced: the object shares the list, which it frees.
    layout = context.layout
    found = _CUSTOM_LAYOUT.match(layout.name)
    if found is None:
        return
    context.layout = _replacement(found["channels"].split("+"))


def _replacement(channels: list[str]) -> str:
    """The native layout of these channels (as FFmpeg names them), else as many channels in no
    order (user-defined or repeated ones), which the mixer weighs equally (workers.audio_source)."""
    known = [c for c in channels if c in _NATIVE_ORDER]
    if len(set(known)) == len(channels):
        return "+".join(sorted(known, key=_NATIVE_ORDER.index))
    return f"{len(channels)} channels"


def picture_stream(container: InputContainer) -> Any:
    """The video stream a file's picture is read from (None: it has none): the first that is
    not cover art. An MP4 whose tags (``covr``) come before its tracks, as iTunes and tagging
    tools write them, lists its cover first: read as the picture, it showed no video frames."""
    streams = container.streams.video
    moving = [s for s in streams if not s.disposition & av.stream.Disposition.attached_pic]
    # A music file with a cover and nothing else: the cover is its picture.
    chosen = moving or list(streams)
    return chosen[0] if chosen else None


#: ISO base media brands of still pictures (AVIF, HEIF/HEIC) rather than of movies or
#: picture sequences (avis, msf1, hevc).
_STILL_BRANDS = frozenset({"avif", "heic", "heix", "heim", "heis", "mif1", "mif2"})


def single_image(container: InputContainer) -> bool:
    """Whether an opened file is one still picture: an image reader's (EXR, DPX, TIFF, PNG
    named otherwise) or an AVIF/HEIF photo, with no sound."""
    if container.streams.audio:
        return False
    if container.format.name.endswith("_pipe"):
        return True
    brand = str(container.metadata.get("major_brand", "")).strip().lower()
    return brand in _STILL_BRANDS


def open_image(path: str) -> Image.Image:
    """Open a still image with Pillow, in an allowed format only (Pillow's own errors pass; its
    warning of an image over the pixel limit is raised, not printed); OSError for anything but
    a regular file."""
    _regular_image(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(path, formats=ALLOWED_IMAGE_FORMATS)


def _regular_image(path: str) -> None:
    """Refuse a FIFO, device, socket or folder named as an image (Pillow would wait on a FIFO
    for ever, deaf to Ctrl-C: a sequence's frame replaced by one, say), and an empty file."""
    # O_NONBLOCK: opening a FIFO to look at it must not wait for a writer either.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError("not a regular file")
        if info.st_size == 0:  # Pillow would say it "cannot identify" it, naming it again
            raise OSError("the file is empty (0 bytes)")
    finally:
        os.close(fd)


def _sniff(path: str, full: str) -> None:
    """Refuse a missing, special, empty or playlist-like file before FFmpeg reads it."""
    try:
        # O_NONBLOCK: a FIFO named as media must not hang the worker on open.
        fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise AssetNotFound(f"media file not found: {path}") from None
    except PermissionError:
        raise AssetNotFound(f"media file is not readable: {path}") from None
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
            raise AssetNotFound(f"media file not found: {path}") from None
        raise DecodeError(f"cannot open {path}: {reason(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DecodeError(f"{path} is not a regular file")
        if info.st_size == 0:
            raise DecodeError(f"{path} is empty")
        head = os.read(fd, _SNIFF_BYTES)
    except OSError as exc:
        raise DecodeError(f"cannot read {path}: {reason(exc)}") from None
    finally:
        os.close(fd)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")  # a BOM or blank lines do not hide a playlist
    for signature, what in _SIGNATURES:
        if start[: len(signature)].lower() == signature.lower():
            raise DecodeError(not_allowed(path, what))
    if _is_heif(head):
        raise DecodeError(
            f"{path} is a HEIC/HEIF photo, which this renderer does not read (FFmpeg's reader "
            "gives its tiles one by one, not the photo): convert it to JPEG or PNG (on a Mac: "
            "sips -s format jpeg IN.heic --out OUT.jpg; or set the phone to save 'Most "
            "Compatible') and use that"
        )


#: ISO base media brands of HEVC-coded HEIF pictures (an iPhone's or Samsung's HEIC photos).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})


def _is_heif(head: bytes) -> bool:
    """Whether a file's first bytes are those of a HEIC/HEIF picture (by its ``ftyp`` brands).

    They were misreported (a HEIF keeps its pictures as items, not in a moov box: "a recording
    that was never finished"); FFmpeg's MOV reader gives a tiled photo (an iPhone's 4032x3024
    is 48 tiles of 512x512) as a stream per tile, which PyAV cannot put together; and one
    malformed HEIC of 12 KB made FFmpeg 8.1 spin for ever in avformat_open_input, hanging
    validate and the worker. AVIF (brand avif, FFmpeg reads it whole) stays readable.
    """
    if head[4:8] != b"ftyp" or len(head) < 16:
        return False
    size = int.from_bytes(head[:4], "big")
    brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)]
    return bool(_HEIF_BRANDS.intersection(brands))


#: Top-level boxes an MP4/MOV starts with; past that many boxes the file is not looked into.
_MP4_LEADS, _MP4_MAX_BOXES = (b"ftyp", b"wide", b"free", b"skip", b"mdat"), 64


def _unfinished_mp4(full: str) -> bool:
    """Whether a file FFmpeg could not open is an MP4/MOV whose top-level boxes hold media
    data (``mdat``) and no index (``moov``): a recording never finalised."""
    kinds: list[bytes] = []
    try:
        with open(full, "rb") as file:
            size, at = os.fstat(file.fileno()).st_size, 0
            while at + 8 <= size and len(kinds) < _MP4_MAX_BOXES:
                file.seek(at)
                head = file.read(16)
                length, kind = struct.unpack(">I4s", head[:8])
                if length == 1 and len(head) == 16:
                    length = struct.unpack(">Q", head[8:])[0]
                elif length == 0:
                    length = size - at  # "to the end of the file": a recording in progress
                kinds.append(kind)
                if length < 8:
                    break
                at += length
    except OSError:
        return False
    return bool(kinds) and kinds[0] in _MP4_LEADS and b"mdat" in kinds and b"moov" not in kinds


def reason(exc: BaseException) -> str:
    """An OS or FFmpeg error's own words, without the path PyAV appends."""
    return str(getattr(exc, "strerror", None) or exc)


def seek_keyframe(container: InputContainer, offset: int = 0, stream: Any = None) -> None:
    """Seek back to the keyframe at or before `offset` (in `stream`'s time base; the file's
    start by default); where the file's keyframe table lists none there (an MP4 whose
    sync-sample table misses its first frame, an MKV whose packets carry no keyframe flag),
    to the packet at `offset` whatever its flag, as FFmpeg plays such a file from the top."""
    try:
        container.seek(offset, stream=stream, backward=True, any_frame=False)
    except av.error.FFmpegError as exc:
        if getattr(exc, "errno", None) != errno.EPERM:
            raise
        # FFmpeg refuses a keyframe seek with no listed keyframe at or before the time (EPERM);
        # the render's index has its own keyframes (the first packet counts as one), so the
        # packet is where decoding starts, as when the file is read from the top.
        container.seek(offset, stream=stream, backward=True, any_frame=True)


def seek_reason(exc: BaseException) -> str:
    """Why a seek failed, in words a user can act on: FFmpeg's EPERM from a seek means no
    keyframe is listed at or before the time, not a permission."""
    if getattr(exc, "errno", None) == errno.EPERM:
        return (
            "no keyframe is listed at or before that point (its keyframe index is missing or "
            "damaged: remux or re-export the file)"
        )
    return reason(exc)
