"""This node's NVIDIA GPUs through NVML: utilisation, memory, encoder and decoder use.

GPU metrics are optional: on a machine without an NVIDIA driver (or without the NVML shared
library) :func:`gpu_stats` returns ``[]``, logs one info message per process, and never raises.

NVML access goes through an "nvml module" object, by default the real ``pynvml`` (distribution
``nvidia-ml-py``). Tests and local runs may pass any object that provides the same names instead
(``nvmlInit``, ``nvmlDeviceGetCount``, ``nvmlDeviceGetHandleByIndex``, ``nvmlDeviceGetName``,
``nvmlDeviceGetUUID``, ``nvmlDeviceGetUtilizationRates``, ``nvmlDeviceGetMemoryInfo``,
``nvmlDeviceGetEncoderUtilization``, ``nvmlDeviceGetDecoderUtilization``,
``nvmlDeviceGetEncoderStats``, ``nvmlDeviceGetTemperature``, ``nvmlDeviceGetPowerUsage``,
``NVML_TEMPERATURE_GPU``, ``NVMLError`` and ``NVMLError_NotSupported``), either per call
(``gpu_stats(nvml=fake)``, ``monitoring.gpu.GpuCollector(nvml=fake)``) or as an explicit
:class:`NvmlReader`.

Decisions:

* ``nvmlInit`` runs at most once per process and nvml module (under a lock); a failed init is
  cached too, so a CPU-only node does not retry (and log) on every scrape. ``nvmlShutdown`` is
  not called: the reader lives as long as the process.
* Optional fields (encoder/decoder utilisation, encoder stats, temperature, power) become
  ``None`` when their call raises ``NVMLError_NotSupported`` (an H100 has no NVENC) or any other
  ``NVMLError`` (the latter is logged at debug level).
* Utilisation and memory are required: a device whose required call fails is left out of the
  result and a warning is logged once per device index, so one lost GPU never hides the others.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["GpuStats", "NvmlReader", "gpu_stats", "mean_utilization", "reader_for"]

log = logging.getLogger(__name__)

NO_GPU_MESSAGE = "no NVIDIA GPU/driver: GPU metrics disabled"

# An object with pynvml's names (see the module docstring); pynvml itself is untyped.
NvmlModule = Any

_T = TypeVar("_T")


@dataclass(frozen=True)
class GpuStats:
    """One GPU's statistics at one moment; ``None`` where the device does not support a field."""

    index: int
    name: str
    uuid: str
    utilization: float  # percent, GPU busy over the last sample period
    memory_utilization: float  # percent, memory controller busy
    memory_used: int  # bytes
    memory_total: int  # bytes
    encoder_utilization: float | None  # percent (NVENC)
    decoder_utilization: float | None  # percent (NVDEC)
    encoder_sessions: int | None
    encoder_fps: float | None  # average over active encoder sessions
    temperature: float | None  # degrees Celsius
    power_watts: float | None


def _text(value: object) -> str:
    """NVML strings are ``bytes`` in older bindings and ``str`` in newer ones."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


class NvmlReader:
    """Reads :class:`GpuStats` through one nvml module, initialising it once (thread-safe)."""

    def __init__(self, nvml: NvmlModule | None = None) -> None:
        """Use ``nvml`` (an object with pynvml's names), or import ``pynvml`` lazily if None."""
        self._nvml: NvmlModule | None = nvml
        self._lock = threading.Lock()
        self._initialized: bool | None = None  # None: not tried yet
        self._warned_devices: set[int] = set()

    def _ensure_init(self) -> NvmlModule | None:
        """Return the initialised nvml module, or None when NVML is unavailable (cached)."""
        if self._initialized is not None:
            return self._nvml if self._initialized else None
        with self._lock:
            if self._initialized is None:
                self._initialized = self._init_locked()
            return self._nvml if self._initialized else None

    def _init_locked(self) -> bool:
        """Import (if needed) and call ``nvmlInit``; log once and return False on failure."""
        try:
            if self._nvml is None:
                self._nvml = importlib.import_module("pynvml")
            self._nvml.nvmlInit()
        except Exception as exc:
            # NVMLError_LibraryNotFound, NVMLError_DriverNotLoaded, any other NVMLError, or a
            # missing binding: GPU metrics are optional, so disable them for this process.
            log.info("%s (%s: %s)", NO_GPU_MESSAGE, type(exc).__name__, exc)
            return False
        return True

    @property
    def available(self) -> bool:
        """Whether NVML initialised (initialises it on first use)."""
        return self._ensure_init() is not None

    def stats(self) -> list[GpuStats]:
        """Statistics for every visible GPU; ``[]`` when there is no GPU or driver."""
        nvml = self._ensure_init()
        if nvml is None:
            return []
        try:
            count = int(nvml.nvmlDeviceGetCount())
        except nvml.NVMLError as exc:
            log.warning("NVML: cannot count GPUs: %s", exc)
            return []
        result: list[GpuStats] = []
        for index in range(count):
            try:
                stats = self._device_stats(nvml, index)
            except nvml.NVMLError as exc:
                if index not in self._warned_devices:
                    self._warned_devices.add(index)
                    log.warning("NVML: skipping GPU %d: %s", index, exc)
                continue
            self._warned_devices.discard(index)
            result.append(stats)
        return result

    def _device_stats(self, nvml: NvmlModule, index: int) -> GpuStats:
        """One device's stats; required calls raise, optional ones give None."""
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        util = nvml.nvmlDeviceGetUtilizationRates(handle)
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        name = _text(nvml.nvmlDeviceGetName(handle))
        uuid = _text(nvml.nvmlDeviceGetUUID(handle))

        def optional(call: Callable[[], _T], what: str) -> _T | None:
            try:
                return call()
            except nvml.NVMLError as exc:
                not_supported = getattr(nvml, "NVMLError_NotSupported", None)
                if not_supported is None or not isinstance(exc, not_supported):
                    log.debug("NVML: GPU %d %s failed: %s", index, what, exc)
                return None

        enc = optional(lambda: nvml.nvmlDeviceGetEncoderUtilization(handle), "encoder util")
        dec = optional(lambda: nvml.nvmlDeviceGetDecoderUtilization(handle), "decoder util")
        enc_stats = optional(lambda: nvml.nvmlDeviceGetEncoderStats(handle), "encoder stats")
        temperature = optional(
            lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU),
            "temperature",
        )
        power_mw = optional(lambda: nvml.nvmlDeviceGetPowerUsage(handle), "power")
        return GpuStats(
            index=index,
            name=name,
            uuid=uuid,
            utilization=float(util.gpu),
            memory_utilization=float(util.memory),
            memory_used=int(memory.used),
            memory_total=int(memory.total),
            encoder_utilization=None if enc is None else float(enc[0]),
            decoder_utilization=None if dec is None else float(dec[0]),
            encoder_sessions=None if enc_stats is None else int(enc_stats[0]),
            encoder_fps=None if enc_stats is None else float(enc_stats[1]),
            temperature=None if temperature is None else float(temperature),
            power_watts=None if power_mw is None else float(power_mw) / 1000.0,
        )


_default_reader = NvmlReader()
_readers_lock = threading.Lock()
# Readers for injected nvml objects, keyed by id(); the object is kept so its id stays unique.
_injected_readers: dict[int, tuple[object, NvmlReader]] = {}


def reader_for(nvml: NvmlModule | None) -> NvmlReader:
    """The process-wide reader for ``nvml`` (the default pynvml reader when None)."""
    if nvml is None:
        return _default_reader
    with _readers_lock:
        entry = _injected_readers.get(id(nvml))
        if entry is None:
            entry = (nvml, NvmlReader(nvml))
            _injected_readers[id(nvml)] = entry
        return entry[1]


def gpu_stats(nvml: NvmlModule | None = None) -> list[GpuStats]:
    """Current stats of every NVIDIA GPU ([] without a GPU/driver); ``nvml`` replaces pynvml."""
    return reader_for(nvml).stats()


def mean_utilization(nvml: NvmlModule | None = None) -> float | None:
    """Mean utilisation of this host's GPUs (percent), or None without any."""
    stats = gpu_stats(nvml)
    if not stats:
        return None
    return float(sum(float(s.utilization) for s in stats) / len(stats))
