"""The render fingerprint: what, besides the timeline, decides the bytes a render produces here.

Cached segments are reused only between renderers with the same fingerprint (it is part of every
content key: chunking.content_key), so it names everything that could change a pixel, a sample
or an encoded bit: this renderer's code and version, the FFmpeg libraries and codec libraries
PyAV loaded (libx264, libx265, libvpx, SVT-AV1, dav1d, ...: each file's content hash, since two
builds of one version can differ), numpy and the SIMD targets it dispatches to, the BLAS library
and the kernel it picked for this CPU (a blur's matrix products round differently on another
one), the compositing kernels (workers.kernels: the built C library's hash, or NumPy), the array
backend layers are composited with (workers.arrays: NumPy, or CuPy and the GPU's name), Pillow
with its image and text libraries, and the subtitle fonts a node can choose from.

An operator may add a salt (``CLOUDRENDER_FINGERPRINT_SALT``) to keep two builds apart that
these parts would not tell apart. Computed once per process; reads of this process's own files,
modules and settings, except that the libraries' hashes (0.11 CPU-s of hashing) are remembered
between processes by each file's identity on disk (``workers.file_hashes``,
``CLOUDRENDER_FINGERPRINT_MEMO``), so an in-place upgrade is hashed afresh.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import json
import os
import platform
import re
from pathlib import Path

import av
import numpy as np
import PIL
from PIL import features

from common.errors import RenderError
from common.settings import Settings
from workers import arrays, file_hashes, kernels, subtitle_fonts
from workers.encoder import hardware_encoders

#: Bumped by hand when a change alters rendered output in a way the code hash would not show
#: (a changed default read from outside the packages hashed below).
RENDERER_VERSION = "1"

#: Packages whose source decides what a chunk looks like.
CODE_PACKAGES = ("common", "chunking", "workers")

#: Shared libraries that shape decoded, composited or encoded pixels and samples, by the name
#: before the version (and a wheel's content-hash suffix): ``libx264-d6533a8d.so.165``.
_LIBRARY = re.compile(
    r"^lib(avcodec|avformat|avutil|avfilter|swscale|swresample|postproc|x264|x265|vpx|"
    r"SvtAv1Enc|SvtAv1Dec|dav1d|aom|opus|mp3lame|vorbis|vorbisenc|theora|webp|webpmux|sharpyuv|"
    r"jpeg|turbojpeg|png16|png|tiff|openjp2|lcms2|freetype|harfbuzz|fribidi|raqm|"
    r"openblas\w*|scipy_openblas\w*|mkl_\w+|blis\w*)(?=[-.])"
)
#: Pillow features whose versions show in text and image decoding (LittleCMS: stills' ICC
#: profiles, workers.still_colour).
_PIL_FEATURES = ("freetype2", "raqm", "fribidi", "harfbuzz", "libjpeg_turbo", "zlib", "littlecms2")


def render_fingerprint() -> str:
    """This process's render fingerprint: 16 hex digits of a sha256 over fingerprint_parts."""
    return _fingerprint()


def fingerprint_parts() -> dict[str, str]:
    """Everything the fingerprint covers, by name (a copy: safe to change)."""
    return dict(_parts())


@functools.cache
def _fingerprint() -> str:
    text = json.dumps(_parts(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.cache
def _parts() -> dict[str, str]:
    parts = {
        "renderer": RENDERER_VERSION,
        "cloudrender": _package_version("cloudrender"),
        "code": _code_hash(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": f"{platform.system()} {platform.machine()} {' '.join(platform.libc_ver())}",
        "pyav": av.__version__,
        "ffmpeg": str(getattr(av, "ffmpeg_version_info", "")),
        "numpy": np.__version__,
        "numpy_simd": _numpy_simd(),
        "blas": _blas(),
        "pillow": PIL.__version__,
        "fonts": _fonts_hash(),
        # The C compositing kernels or NumPy: their colour matrices round differently.
        "kernels": kernels.BACKEND,
        # NumPy or CuPy on which GPU (workers.arrays): a GPU's sums round its own way.
        "compositor": _compositor(),
        # Which hardware encoders open: a node with NVENC and one without encode a project that
        # asks for hardware encoding differently, so they never share a job (or a cache entry).
        "hardware_encoders": ",".join(hardware_encoders()) or "none",
    }
    for name, version in sorted(av.library_versions.items()):
        parts[name] = ".".join(str(v) for v in version)
    for name in _PIL_FEATURES:
        parts[f"pillow_{name}"] = _feature_version(name)
    parts.update(_libraries())
    salt = Settings.from_env().fingerprint_salt
    if salt:  # only when set: an unsalted node keeps the fingerprint (and cache keys) it had
        parts["salt"] = salt
    return parts


def _compositor() -> str:
    """The array backend's part; a node told to composite on a GPU it lacks still has a
    fingerprint (its renders fail with the reason, workers.arrays)."""
    try:
        return arrays.planned().fingerprint()
    except RenderError as exc:
        return f"unavailable: {exc}"


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _code_hash() -> str:
    """sha256 over the source of the packages that render, so an edited renderer never reuses
    segments of the old one even when nobody bumped RENDERER_VERSION."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def _numpy_simd() -> str:
    """The SIMD targets numpy dispatches to on this CPU: float32 maths (exp, sin) differ between
    them in the last bits."""
    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")
        baseline, dispatch = umath.__cpu_baseline__, umath.__cpu_dispatch__
        supported = umath.__cpu_features__
    except (ImportError, AttributeError):  # another numpy layout: its version has to do
        return "unknown"
    dispatched = [f for f in dispatch if supported.get(f)]
    return f"baseline {','.join(baseline)}; dispatch {','.join(dispatched)}"


def _blas() -> str:
    """Each BLAS library loaded, its version and the CPU kernel it chose."""
    from threadpoolctl import threadpool_info

    found = sorted(
        f"{info.get('internal_api')} {info.get('version')} {info.get('architecture')}"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    )
    return "; ".join(found) or "none"


def _feature_version(name: str) -> str:
    try:
        return str(features.version(name))
    except ValueError:  # a feature this Pillow does not know
        return "unknown"


def _libraries() -> dict[str, str]:
    """``lib:<name>`` -> "<file name> sha256:<16 hex>" for each shaping library (their hashes
    remembered between processes by each file's identity: workers.file_hashes)."""
    shaping = {
        path: match.group(1)
        for path in sorted(_library_files())
        if (match := _LIBRARY.match(os.path.basename(path))) is not None
    }
    memo = Settings.from_env().fingerprint_memo
    digests = file_hashes.hashes(shaping, None if memo == "off" else os.path.expanduser(memo))
    found: dict[str, list[str]] = {}
    for path, name in shaping.items():
        found.setdefault(f"lib:{name}", []).append(
            f"{os.path.basename(path)} sha256:{digests[path]}"
        )
    return {name: "; ".join(sorted(set(files))) for name, files in found.items()}


def _library_files() -> set[str]:
    """The shared libraries bundled with PyAV, numpy and Pillow (their wheels' lib folders),
    whether this process has loaded them yet or not: what is loaded depends on what ran before
    (a PNG decoded, a font drawn), and two processes of one installation must agree. Where PyAV
    brings none (a system build linking the system's FFmpeg), the libraries this process maps."""
    bundled: set[str] = set()
    for module, wheel in ((av, "av"), (np, "numpy"), (PIL, "pillow")):
        folder = Path(module.__file__ or "").parent
        for libs in (folder.parent / f"{wheel}.libs", folder / ".dylibs"):
            if libs.is_dir():
                bundled.update(str(p) for p in libs.iterdir() if p.is_file())
    if any(os.path.basename(p).startswith("libavcodec") for p in bundled):
        return bundled
    # Pillow maps FreeType, HarfBuzz and FriBiDi when its text module loads, which asking for
    # their versions (_parts, before this) did.
    return bundled | _mapped_files()


def _mapped_files() -> set[str]:
    """Shared libraries this process has loaded (Linux; empty elsewhere)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return {
                fields[5].strip()
                for fields in (line.split(maxsplit=5) for line in maps)
                if len(fields) == 6 and ".so" in fields[5] and fields[5].startswith("/")
            }
    except OSError:
        return set()


def _fonts_hash() -> str:
    """sha256 over every font file subtitles can choose, for a family or as a fallback for the
    characters a family lacks (subtitle_fonts.font_files: the font-roboto package's faces, then
    the system's), their names and bytes."""
    digest = hashlib.sha256()
    locations = subtitle_fonts.font_files()
    for kind, name in locations:
        digest.update(f"{kind}:{os.path.basename(name)}\0".encode())
        try:
            data = subtitle_fonts.font_bytes((kind, name))
        except (OSError, RenderError):
            data = b"unreadable"
        digest.update(hashlib.sha256(data).digest())
    return f"{len(locations)} files sha256:{digest.hexdigest()[:16]}"
