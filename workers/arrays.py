"""The compositor's array module: NumPy on the CPU, or CuPy on a CUDA GPU.

A render process composites with one backend, chosen once (``current``) from
``CLOUDRENDER_COMPOSITOR``:

* ``auto`` (the default): the GPU when CuPy is installed (``pip install cloudrender[gpu]``) and
  opens a CUDA device that runs a kernel; otherwise the CPU, with the reason in ``note``.
* ``cpu``: NumPy and the C kernels (``workers.kernels``), whatever the machine has.
* ``gpu``: CuPy or nothing: a render on a node without a usable GPU fails with the reason.
* ``gpu-numpy``: the GPU code path run by NumPy on the CPU: no C kernels, the dense-matrix
  blur, the host round trip of the effects not in ``workers.effects.DEVICE_EFFECTS``. CuPy
  mirrors NumPy's API, so this is how the GPU path is tested on machines without a GPU.

The compositor's steps find the module of the arrays they get (``module_of``), so one
implementation serves both; decoded pictures cross to the GPU as 8 bits and each finished
frame comes back once, as 8 bits, for the encoder.

Which backend renders is part of the render fingerprint and of the node's heartbeat, so one
job's chunks never mix backends and the dispatcher can send GPU jobs to GPU nodes.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from common.errors import RenderError
from common.settings import Settings

#: Backend names: what ``ArrayBackend.name`` holds.
CPU = "cpu"
CUPY = "cupy"
GPU_NUMPY = "gpu-numpy"
#: Seconds the CuPy probe in a fresh Python may take (CUDA's start-up, a first kernel compile).
PROBE_TIMEOUT = 120


@dataclass(frozen=True)
class ArrayBackend:
    """The array module layers are composited with, and what it runs on."""

    name: str  # CPU, CUPY or GPU_NUMPY
    xp: Any  # the array module (numpy or cupy)
    device: str = ""  # the GPU's name; "" on the CPU
    version: str = ""  # the array library and its version: "cupy 13.3.0", "numpy 2.1.3"
    note: str = ""  # why this backend (why not the GPU, when it was not chosen)

    @property
    def gpu(self) -> bool:
        """Whether layers live in GPU memory (CuPy on a CUDA device)."""
        return self.name == CUPY

    @property
    def device_path(self) -> bool:
        """Whether the compositor takes the GPU code path (on a GPU, or NumPy standing in)."""
        return self.name in (CUPY, GPU_NUMPY)

    def to_device(self, array: np.ndarray[Any, Any]) -> Any:
        """A host array in this backend's memory (the array itself on the CPU)."""
        return self.xp.asarray(array)

    def to_host(self, array: Any) -> np.ndarray[Any, Any]:
        """A backend array in host memory, as NumPy (the array itself on the CPU)."""
        return array.get() if self.gpu else np.asarray(array)

    def describe(self) -> str:
        """One line for logs, the node record and the render summary."""
        where = f"GPU ({self.device}, {self.version})" if self.gpu else f"CPU ({self.version})"
        if self.name == GPU_NUMPY:
            where = f"the GPU code path on the CPU ({self.version})"
        return where + (f"; {self.note}" if self.note else "")

    def fingerprint(self) -> str:
        """What of the backend decides pixels: its name, library version and device."""
        return "/".join(part for part in (self.name, self.version, self.device) if part)


def numpy_backend(name: str = CPU, note: str = "") -> ArrayBackend:
    """NumPy on the CPU, as the CPU backend or standing in for CuPy (GPU_NUMPY)."""
    return ArrayBackend(name, np, version=f"numpy {np.__version__}", note=note)


def open_cupy() -> tuple[ArrayBackend | None, str]:
    """CuPy on CUDA device 0 when it imports, sees a device and runs a kernel there; else
    (None, why not)."""
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        return None, "CuPy is not installed (pip install cloudrender[gpu])"
    # CUDA reports a missing driver, device or compiler as several exception types, from
    # CuPy's own to plain RuntimeError: any of them means "no usable GPU here".
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "CuPy sees no CUDA device"
        probe = cupy.arange(4, dtype=cupy.float32) * cupy.float32(2)
        if float(probe.sum()) != 12.0:
            return None, "CuPy's test kernel gave a wrong sum on the CUDA device"
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    except Exception as exc:  # noqa: BLE001 - see the comment above
        return None, f"CuPy cannot use a CUDA device ({type(exc).__name__}: {exc})"
    device = name.decode() if isinstance(name, bytes) else str(name)
    return ArrayBackend(CUPY, cupy, device=device, version=f"cupy {cupy.__version__}"), ""


def select(mode: str) -> ArrayBackend:
    """The backend ``mode`` (a CLOUDRENDER_COMPOSITOR value) gives on this machine."""
    if mode == CPU:
        return numpy_backend()
    if mode == GPU_NUMPY:
        return numpy_backend(GPU_NUMPY)
    backend, why = open_cupy()
    if backend is not None:
        return backend
    if mode == "gpu":
        raise RenderError(f"CLOUDRENDER_COMPOSITOR=gpu, but {why}")
    return numpy_backend(note=why)


@functools.cache
def current() -> ArrayBackend:
    """This process's backend, probed once (the effects ask for every layer); ``forget``
    makes the next call read CLOUDRENDER_COMPOSITOR again."""
    return select(Settings.from_env().compositor)


def planned() -> ArrayBackend:
    """The backend this node's render processes composite with, found without touching CUDA
    here: a process that forks render processes must not start CUDA (a forked child cannot
    use its parent's CUDA context), so CuPy is probed in a fresh Python. Its ``xp`` is None."""
    return _planned(Settings.from_env().compositor)


@functools.cache
def _planned(mode: str) -> ArrayBackend:
    if mode in (CPU, GPU_NUMPY) or importlib.util.find_spec("cupy") is None:
        return dataclasses.replace(select(mode), xp=None)  # (which raises for "gpu" without)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "workers.arrays"],
            capture_output=True,
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        found = {"error": f"the CuPy probe did not answer ({exc})"}
    if "error" in found:
        if mode == "gpu":
            raise RenderError(str(found["error"]))
        return numpy_backend(note=str(found["error"]))
    return ArrayBackend(
        str(found["name"]),
        None,
        device=str(found.get("device", "")),
        version=str(found.get("version", "")),
        note=str(found.get("note", "")),
    )


def forget() -> None:
    """Probe again on the next ``current()`` or ``planned()`` (tests that change the
    environment)."""
    current.cache_clear()
    _planned.cache_clear()


def module_of(array: Any) -> Any:
    """The array module an array belongs to: numpy for NumPy arrays, else CuPy's."""
    if isinstance(array, np.ndarray):
        return np
    return importlib.import_module(type(array).__module__.split(".")[0])


def main() -> int:
    """Print this machine's backend as one JSON line (the fresh Python ``planned`` asks)."""
    try:
        backend = current()
    except RenderError as exc:
        print(json.dumps({"error": str(exc)}))
        return 0
    fields = ("name", "device", "version", "note")
    print(json.dumps({name: getattr(backend, name) for name in fields}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
