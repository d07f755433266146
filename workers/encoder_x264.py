"""libx264's options at a frame width: kept off AVX-512 where its mbtree code misreads.

With AVX-512 (Intel Xeon since Skylake-SP, AMD since Zen 4: most cloud render nodes), the
libx264 that PyAV bundles (core 165) reads memory it never wrote in its macroblock-tree pass
(mbtree: on in every preset but ultrafast) when a frame's width in macroblocks is not a multiple
of 8 (of the widths tried: 320, 352, 854, 960, 1440 px; not 640, 768, 1280, 1920, 2048): the same
frames encoded twice gave different bytes whenever the heap held other leftovers
(MALLOC_PERTURB_ set made the bytes follow its value; with mbtree off, or x264 stopped at AVX2,
they stayed put). Its AVX-512 mbtree_propagate_list takes 8 macroblocks at a time with no
shorter last group; the 15 widths tried all fit that. At those widths x264 is given the flags
it detects less AVX-512 (the AVX2 code it runs on every CPU without AVX-512); elsewhere it is
left alone, as that costs: 60 frames of the demo project at 1920x1080 (CRF 23, medium, one
thread, 8 alternating runs each on a shared AMD EPYC) took a median 44.2 ms of CPU a frame
without AVX-512 against 37.5 ms with it; at 1440x1080, where it is dropped, 33.9 against 31.7
ms (6 runs each).
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
#: Macroblocks x264's AVX-512 mbtree_propagate_list takes at a time.
_MBTREE_GROUP = 8


def for_width(options: dict[str, str], width: int) -> dict[str, str]:
    """libx264 ``options`` for frames ``width`` pixels wide: with ``asm=`` (x264's detected
    CPU flags less AVX-512) added to its x264-params where its AVX-512 mbtree code would read
    past a row of macroblocks, unchanged elsewhere."""
    asm = asm_param()
    if asm is None or ((width + 15) // 16) % _MBTREE_GROUP == 0:
        return options
    params = options.get("x264-params")
    return {**options, "x264-params": f"{params}:{asm}" if params else asm}


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
