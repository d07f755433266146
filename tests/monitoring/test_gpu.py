"""GPU readings (workers.gpus) and their Prometheus collector (monitoring.gpu): the no-GPU path
with the real pynvml, everything else with a fake."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.gpu import GPU_METRIC_NAMES, GpuCollector
from workers import gpus
from workers.gpus import GpuStats, NvmlReader, gpu_stats


class FakeNVMLError(Exception):
    """Stands in for pynvml.NVMLError."""


class FakeNotSupported(FakeNVMLError):
    """Stands in for pynvml.NVMLError_NotSupported."""


class FakeDriverNotLoaded(FakeNVMLError):
    """Stands in for pynvml.NVMLError_DriverNotLoaded."""


class FakeGpuIsLost(FakeNVMLError):
    """Stands in for pynvml.NVMLError_GpuIsLost."""


@dataclass
class Util:
    gpu: int
    memory: int


@dataclass
class MemInfo:
    total: int
    free: int
    used: int


@dataclass
class FakeDevice:
    name: str
    uuid: str
    util: Util
    memory: MemInfo
    encoder: list[int] | None = None  # None: NotSupported
    decoder: list[int] | None = None
    encoder_stats: tuple[int, int, int] | None = None
    temperature: int | None = None
    power_mw: int | None = None
    broken: bool = False  # required calls raise GpuIsLost


def _value(value: Any) -> Any:
    if value is None:
        raise FakeNotSupported("Not Supported")
    return value


@dataclass
class FakeNvml:
    """The subset of pynvml that workers.gpus uses; handles are device indexes."""

    devices: list[FakeDevice]
    init_error: Exception | None = None
    init_calls: int = 0
    temperature_sensors: list[int] = field(default_factory=list)

    NVMLError = FakeNVMLError
    NVMLError_NotSupported = FakeNotSupported
    NVML_TEMPERATURE_GPU = 0

    def nvmlInit(self) -> None:
        self.init_calls += 1
        if self.init_error is not None:
            raise self.init_error

    def nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def _dev(self, handle: int) -> FakeDevice:
        return self.devices[handle]

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return self._dev(handle).name.encode()  # older bindings return bytes

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return self._dev(handle).uuid

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Util:
        if self._dev(handle).broken:
            raise FakeGpuIsLost("GPU is lost")
        return self._dev(handle).util

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> MemInfo:
        return self._dev(handle).memory

    def nvmlDeviceGetEncoderUtilization(self, handle: int) -> list[int]:
        return list(_value(self._dev(handle).encoder))

    def nvmlDeviceGetDecoderUtilization(self, handle: int) -> list[int]:
        return list(_value(self._dev(handle).decoder))

    def nvmlDeviceGetEncoderStats(self, handle: int) -> tuple[int, int, int]:
        stats: tuple[int, int, int] = _value(self._dev(handle).encoder_stats)
        return stats

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        self.temperature_sensors.append(sensor)
        temperature: int = _value(self._dev(handle).temperature)
        return temperature

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        if self._dev(handle).power_mw == -1:
            raise FakeNVMLError("Unknown Error")  # not NotSupported: still just None
        power: int = _value(self._dev(handle).power_mw)
        return power


GIB = 1 << 30


def two_gpus() -> FakeNvml:
    """An L4 with NVENC and an H100 without it (encoder calls raise NotSupported)."""
    l4 = FakeDevice(
        name="NVIDIA L4",
        uuid="GPU-l4",
        util=Util(gpu=87, memory=40),
        memory=MemInfo(total=24 * GIB, free=20 * GIB, used=4 * GIB),
        encoder=[65, 167000],
        decoder=[30, 167000],
        encoder_stats=(3, 240, 1200),
        temperature=61,
        power_mw=52500,
    )
    h100 = FakeDevice(
        name="NVIDIA H100 80GB HBM3",
        uuid="GPU-h100",
        util=Util(gpu=12, memory=5),
        memory=MemInfo(total=80 * GIB, free=79 * GIB, used=1 * GIB),
        encoder=None,
        decoder=[55, 167000],
        encoder_stats=None,
        temperature=None,
        power_mw=-1,
    )
    return FakeNvml(devices=[l4, h100])


def scrape(collector: GpuCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Render the collector on a private registry and parse it back: {(name, labels): value}."""
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def gpu_labels(index: int, name: str) -> tuple[tuple[str, str], ...]:
    return (("gpu", str(index)), ("name", name))


# --- the real pynvml on a machine without a driver --------------------------------------------


@pytest.fixture
def fresh_default_reader(monkeypatch: pytest.MonkeyPatch) -> NvmlReader:
    """A new process-wide reader, so the once-per-process log is observable in this test."""
    reader = NvmlReader()
    monkeypatch.setattr(gpus, "_default_reader", reader)
    return reader


def test_no_driver_returns_empty_and_logs_once(
    fresh_default_reader: NvmlReader, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.gpus")
    first = gpu_stats()
    if first:
        pytest.skip("this machine has an NVIDIA GPU and driver")
    assert [gpu_stats() for _ in range(4)] == [[]] * 4
    records = [r for r in caplog.records if r.name == "workers.gpus"]
    assert len(records) == 1
    assert records[0].getMessage().startswith("no NVIDIA GPU/driver: GPU metrics disabled")
    assert records[0].levelno == logging.INFO


def test_no_driver_collector_exposes_only_zero_count(fresh_default_reader: NvmlReader) -> None:
    if gpu_stats():
        pytest.skip("this machine has an NVIDIA GPU and driver")
    samples = scrape(GpuCollector())
    assert samples == {("cloudrender_gpu_count", ()): 0.0}


# --- a fake nvml module ------------------------------------------------------------------------


def test_fake_two_gpus_values_and_nones() -> None:
    nvml = two_gpus()
    l4, h100 = gpu_stats(nvml=nvml)
    assert l4 == GpuStats(
        index=0,
        name="NVIDIA L4",
        uuid="GPU-l4",
        utilization=87.0,
        memory_utilization=40.0,
        memory_used=4 * GIB,
        memory_total=24 * GIB,
        encoder_utilization=65.0,
        decoder_utilization=30.0,
        encoder_sessions=3,
        encoder_fps=240.0,
        temperature=61.0,
        power_watts=52.5,
    )
    assert h100 == GpuStats(
        index=1,
        name="NVIDIA H100 80GB HBM3",
        uuid="GPU-h100",
        utilization=12.0,
        memory_utilization=5.0,
        memory_used=1 * GIB,
        memory_total=80 * GIB,
        encoder_utilization=None,
        decoder_utilization=55.0,
        encoder_sessions=None,
        encoder_fps=None,
        temperature=None,
        power_watts=None,
    )
    assert nvml.temperature_sensors == [nvml.NVML_TEMPERATURE_GPU] * 2
    gpu_stats(nvml=nvml)
    assert nvml.init_calls == 1


def test_fake_collector_exposes_values_and_omits_nones() -> None:
    nvml = two_gpus()
    samples = scrape(GpuCollector(nvml=nvml))
    l4 = gpu_labels(0, "NVIDIA L4")
    h100 = gpu_labels(1, "NVIDIA H100 80GB HBM3")
    assert samples[("cloudrender_gpu_count", ())] == 2.0
    assert samples[("cloudrender_gpu_utilization_percent", l4)] == 87.0
    assert samples[("cloudrender_gpu_utilization_percent", h100)] == 12.0
    assert samples[("cloudrender_gpu_memory_utilization_percent", l4)] == 40.0
    assert samples[("cloudrender_gpu_memory_used_bytes", h100)] == float(GIB)
    assert samples[("cloudrender_gpu_memory_total_bytes", h100)] == float(80 * GIB)
    assert samples[("cloudrender_gpu_encoder_utilization_percent", l4)] == 65.0
    assert samples[("cloudrender_gpu_decoder_utilization_percent", h100)] == 55.0
    assert samples[("cloudrender_gpu_encoder_sessions", l4)] == 3.0
    assert samples[("cloudrender_gpu_encoder_fps", l4)] == 240.0
    assert samples[("cloudrender_gpu_temperature_celsius", l4)] == 61.0
    assert samples[("cloudrender_gpu_power_watts", l4)] == 52.5
    for name in (
        "cloudrender_gpu_encoder_utilization_percent",
        "cloudrender_gpu_encoder_sessions",
        "cloudrender_gpu_encoder_fps",
        "cloudrender_gpu_temperature_celsius",
        "cloudrender_gpu_power_watts",
    ):
        assert (name, h100) not in samples
    # Every exported name is declared, and every declared name is exported for a full device.
    exported = {name for name, _ in samples}
    assert exported == set(GPU_METRIC_NAMES)
    assert len(GPU_METRIC_NAMES) == 11


def test_register_does_not_touch_nvml() -> None:
    nvml = two_gpus()
    registry = CollectorRegistry(auto_describe=True)
    registry.register(GpuCollector(nvml=nvml))
    assert nvml.init_calls == 0


def test_init_failure_returns_empty_logs_once_and_never_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="workers.gpus")
    nvml = FakeNvml(devices=[], init_error=FakeDriverNotLoaded("Driver Not Loaded"))
    collector = GpuCollector(nvml=nvml)
    assert [gpu_stats(nvml=nvml) for _ in range(3)] == [[]] * 3
    assert scrape(collector) == {("cloudrender_gpu_count", ()): 0.0}
    assert nvml.init_calls == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "workers.gpus"]
    assert len(messages) == 1
    assert "no NVIDIA GPU/driver: GPU metrics disabled" in messages[0]


def test_init_happens_once_across_threads() -> None:
    nvml = two_gpus()
    reader = NvmlReader(nvml)
    results: list[list[GpuStats]] = []
    threads = [threading.Thread(target=lambda: results.append(reader.stats())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert nvml.init_calls == 1
    assert len(results) == 8
    assert all(len(r) == 2 for r in results)


def test_lost_gpu_is_skipped_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="workers.gpus")
    nvml = two_gpus()
    nvml.devices[0].broken = True
    reader = NvmlReader(nvml)
    for _ in range(3):
        stats = reader.stats()
        assert [s.uuid for s in stats] == ["GPU-h100"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "GPU 0" in warnings[0].getMessage()
