"""A Prometheus collector for this host's GPUs (read through workers.gpus)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from workers.gpus import GpuStats, NvmlModule, reader_for

__all__ = ["GPU_METRIC_NAMES", "GpuCollector"]

# (metric name, help, GpuStats attribute)
_PER_GPU_METRICS: tuple[tuple[str, str, str], ...] = (
    ("cloudrender_gpu_utilization_percent", "GPU utilisation (percent).", "utilization"),
    (
        "cloudrender_gpu_memory_utilization_percent",
        "GPU memory controller utilisation (percent).",
        "memory_utilization",
    ),
    ("cloudrender_gpu_memory_used_bytes", "GPU memory in use (bytes).", "memory_used"),
    ("cloudrender_gpu_memory_total_bytes", "GPU memory in total (bytes).", "memory_total"),
    (
        "cloudrender_gpu_encoder_utilization_percent",
        "NVENC utilisation (percent); absent where the GPU has no encoder.",
        "encoder_utilization",
    ),
    (
        "cloudrender_gpu_decoder_utilization_percent",
        "NVDEC utilisation (percent); absent where the GPU has no decoder.",
        "decoder_utilization",
    ),
    ("cloudrender_gpu_encoder_sessions", "Active NVENC sessions.", "encoder_sessions"),
    ("cloudrender_gpu_encoder_fps", "Average NVENC frames per second.", "encoder_fps"),
    ("cloudrender_gpu_temperature_celsius", "GPU core temperature (Celsius).", "temperature"),
    ("cloudrender_gpu_power_watts", "GPU power draw (watts).", "power_watts"),
)
_COUNT_METRIC = "cloudrender_gpu_count"

GPU_METRIC_NAMES: tuple[str, ...] = tuple(m[0] for m in _PER_GPU_METRICS) + (_COUNT_METRIC,)

_LABELS = ["gpu", "name"]


class GpuCollector:
    """Prometheus custom collector: per-GPU gauges (labels ``gpu``, ``name``) and a GPU count."""

    def __init__(self, nvml: NvmlModule | None = None) -> None:
        """Collect through ``nvml`` (an object with pynvml's names), or pynvml if None."""
        self._reader = reader_for(nvml)

    def describe(self) -> Iterable[Metric]:
        """Metric families without samples, so registering does not touch NVML."""
        return list(self._families([]))

    def collect(self) -> Iterable[Metric]:
        """Read NVML now and yield one gauge family per metric."""
        return list(self._families(self._reader.stats()))

    @staticmethod
    def _families(stats: list[GpuStats]) -> Iterator[Metric]:
        """Gauge families for ``stats``; a None value gives no sample."""
        for metric_name, help_text, attribute in _PER_GPU_METRICS:
            family = GaugeMetricFamily(metric_name, help_text, labels=_LABELS)
            for gpu in stats:
                value = getattr(gpu, attribute)
                if value is not None:
                    family.add_metric([str(gpu.index), gpu.name], float(value))
            yield family
        yield GaugeMetricFamily(_COUNT_METRIC, "NVIDIA GPUs visible to NVML.", value=len(stats))
