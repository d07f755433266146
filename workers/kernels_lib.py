"""The C library of workers.kernels and workers.banded (``workers/kernels.c``, built by ``pip
install`` as ``workers._kernels`` when a C compiler is there; optional): loaded through ctypes,
checked against the interface version this code calls, each function's argument types declared.

``LIB`` is None where it was not built (or CLOUDRENDER_KERNELS=numpy asks for the NumPy steps);
its users read it at each call, so ``numpy_only`` turns every C step off at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib.util
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common.settings import compute_backend

#: The C library's cr_abi() this module calls it with (kernels.c says when it changes).
ABI = 10
F32 = ctypes.POINTER(ctypes.c_float)
U8 = ctypes.POINTER(ctypes.c_uint8)
I32 = ctypes.POINTER(ctypes.c_int32)
U16 = ctypes.POINTER(ctypes.c_uint16)
SIZE = ctypes.c_ssize_t
SIZE_P = ctypes.POINTER(ctypes.c_ssize_t)
VOID = ctypes.c_void_p


def _load() -> tuple[Any, str]:
    """The C library and its file's sha256 (None and "" when it was not built, or when
    CLOUDRENDER_KERNELS=numpy asks for the NumPy steps)."""
    # Only the two settings read here, and as they are: this runs at import, before the command
    # line can report a bad CLOUDRENDER_* value in one line (Settings.from_env checks them all).
    kernels, compositor = compute_backend()
    # The GPU code path on the CPU (workers.arrays) must run the steps CuPy would: NumPy's.
    if kernels == "numpy" or compositor == "gpu-numpy":
        return None, ""
    spec = importlib.util.find_spec("workers._kernels")
    if spec is None or not spec.origin:
        return None, ""
    try:
        lib = ctypes.CDLL(spec.origin)
        abi = int(lib.cr_abi())
    except (OSError, AttributeError):
        abi = None
    if abi != ABI:
        warnings.warn(
            f"{spec.origin} is not built from this workers/kernels.c (ABI {abi}, want {ABI}): "
            "compositing with NumPy; reinstall the package (pip install -e .) to rebuild it",
            RuntimeWarning,
            stacklevel=2,
        )
        return None, ""
    for name, args in {
        "cr_to_float": [U8, F32, SIZE],
        "cr_to_uint8": [F32, U8, SIZE],
        "cr_gain_clip": [F32, F32, F32, SIZE],
        "cr_affine_clip": [F32, F32, ctypes.c_float, F32, SIZE],
        "cr_to_float_steps": [U8, F32, SIZE, ctypes.c_int, I32, ctypes.c_void_p, F32],
        "cr_blend": [F32, SIZE, F32, SIZE, F32, SIZE, ctypes.c_float, ctypes.c_int] + [SIZE, SIZE],
        "cr_rgb_to_yuv420p": [U8, SIZE, SIZE, SIZE, U8, SIZE, U8, SIZE, U8, SIZE] + [I32, I32],
        "cr_composite": [U8, SIZE, SIZE, VOID, ctypes.c_int, VOID, VOID, VOID, VOID, SIZE_P]
        + [F32, I32, F32, F32, SIZE, U8, U8, SIZE, U8, SIZE, U8, SIZE, I32, I32],
        "cr_hdr_to_sdr": [U16, SIZE, U16, SIZE, U16, SIZE, SIZE, SIZE, F32, F32, F32]
        + [U8, ctypes.c_int, ctypes.c_int, U8, SIZE],
    }.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = None
    digest = hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:16]
    return lib, digest


LIB, _DIGEST = _load()
#: What renders the per-pixel steps here: "c:<library hash>" or "numpy".
BACKEND = f"c:{_DIGEST}" if LIB is not None else "numpy"


@contextlib.contextmanager
def numpy_only() -> Iterator[None]:
    """Run the NumPy reference instead of the C kernels inside the block (benchmarks and the
    look-tolerance tests compare the two); not thread-safe, nothing else should render then."""
    global LIB
    lib, LIB = LIB, None
    try:
        yield
    finally:
        LIB = lib


def compiled() -> bool:
    """Whether the C kernels render the steps here (now: ``numpy_only`` turns them off)."""
    return LIB is not None
