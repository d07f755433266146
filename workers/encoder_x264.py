"""The CPU capabilities x264 encodes with here: those it detects itself, less AVX-512.

With AVX-512 (Intel Xeon since Skylake-SP, AMD since Zen 4: most cloud render nodes), the
libx264 that PyAV bundles (core 165) reads memory it never wrote in its macroblock-tree pass
(mbtree: on in every preset but ultrafast) when a frame's width in macroblocks is not a multiple
of 8 (320, 352, 720, 854, 1440 px wide): the same frames encoded twice gave different bytes
whenever the heap held other leftovers (MALLOC_PERTURB_ set made the bytes follow its value;
with mbtree off, or x264 told to stop at AVX2, they stayed put). Its AVX-512 mbtree code works
on 8 macroblocks at a time and does not stop at the row's end; the AVX2 code it falls back to
is x264's own choice on every CPU without AVX-512. Its cost was not measurable: encoding 60
frames of the demo project at 1080p (CRF 23, medium, 2 threads) took a median 51.8 ms of CPU a
frame without AVX-512 and 57.9 ms with it, 6 alternating runs each on a shared AMD EPYC.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import platform
from pathlib import Path

import av

log = logging.getLogger(__name__)

#: x264.h's X264_CPU_AVX512.
AVX512 = 1 << 16


def asm_param() -> str | None:
    """The x264-params entry that keeps x264 off AVX-512 (``asm=`` its own detected flags
    less AVX-512); None where it detects no AVX-512 (nothing to change) or its library is
    not found."""
    flags = _detected_flags()
    if flags is None or not flags & AVX512:
        return None
    return f"asm={flags & ~AVX512}"


@functools.cache
def _detected_flags() -> int | None:
    """x264_cpu_detect() of the libx264 PyAV uses (once per process); None where not found,
    and off x86, where its flag bits mean other things (ARM's NEON, ...)."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return None
    path = _library()
    if path is None:
        return None
    try:
        detect = ctypes.CDLL(path).x264_cpu_detect
    except (OSError, AttributeError) as exc:
        log.info("cannot ask %s for its CPU flags: %s", path, exc)
        return None
    detect.restype = ctypes.c_uint32
    detect.argtypes = []
    return int(detect())


def _library() -> str | None:
    """The libx264 file PyAV's libavcodec links: the wheel's bundled one, else the one this
    process maps (a PyAV built against the system's FFmpeg; Linux only)."""
    folder = Path(av.__file__ or "").parent
    for libs in (folder.parent / "av.libs", folder / ".dylibs"):
        if libs.is_dir():
            for path in sorted(libs.iterdir()):
                if path.name.startswith(("libx264-", "libx264.")):
                    return str(path)
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                name = line.rsplit(maxsplit=1)[-1]
                if os.path.basename(name).startswith(("libx264-", "libx264.")):
                    return name
    except OSError:
        pass
    return None
