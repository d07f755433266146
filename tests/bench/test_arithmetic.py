"""The benchmarks' arithmetic: stage breakdowns, speed-ups and efficiencies, medians and ratios.
Plain numbers in, no timing."""

from __future__ import annotations

import pytest

from bench.api_load import job_seconds
from bench.render_throughput import per_frame_ms
from bench.scaling_analysis import analyse
from bench.whole_process import _medians, _ratios


def test_the_shared_decode_comes_off_the_compositor_pass_once() -> None:
    # The compositor pass (40 ms) includes one decode (5 ms) of the footage both layers show.
    per = per_frame_ms(render_ms=50.0, decode_ms=5.0, composite_only_ms=40.0, encode_ms=20.0)
    assert per["decode"] == 5.0
    assert per["composite"] == 35.0
    assert per["serial_sum"] == 60.0 == per["decode"] + per["composite"] + per["encode"]
    assert per["overlap_saved"] == 10.0


def _run(workers: int, wall: float, cpu: float, chunks: int) -> dict[str, object]:
    return {
        "workers": workers,
        "chunk_count": chunks,
        "wall": wall,
        "seconds": wall - 1,
        "fps": 600 / wall,
        "cpu": cpu,
        "others_cores": 0.0,
        "steal_cores": 0.0,
        "merge_seconds": 0.5,
        "chunks": [
            {"start": 150 * i, "seconds": (wall - 2) / chunks * workers} for i in range(chunks)
        ],
        "walls": [wall],
        "cpus": [cpu],
    }


def test_speedup_and_efficiency_on_a_16_core_machine() -> None:
    direct = {**_run(0, 64.0, 60.0, 1), "chunks": []}
    runs = [_run(1, 66.0, 62.0, 4), _run(8, 9.0, 63.0, 8), _run(16, 5.0, 64.0, 16)]
    starts = {150 * i: {"excess": 0.01, "preroll_frames": 0} for i in range(16)}
    probe = {
        "direct": {"wall": 1.0, "cpu": 1.0, "merge_seconds": 0.0},
        "one_worker": {"wall": 2.0, "cpu": 1.5, "merge_seconds": 0.1},
    }
    lifecycle = {"start": 0.5, "stop": 0.2}
    rows = {r["workers"]: r for r in analyse(direct, runs, probe, lifecycle, starts, 16)["rows"]}
    assert rows[8]["speedup_wall"] == pytest.approx(64 / 9, abs=1e-3)
    assert rows[8]["efficiency_wall"] == pytest.approx(64 / 9 / 8, abs=1e-3)
    assert rows[16]["efficiency_wall"] == pytest.approx(64 / 5 / 16, abs=1e-3)
    assert rows[1]["overhead_wall"] == pytest.approx(2 / 64, abs=1e-4)
    assert rows[1]["overhead_cpu"] == pytest.approx(2 / 60, abs=1e-4)
    # More workers than cores: efficiency is against the cores there are.
    rows2 = {r["workers"]: r for r in analyse(direct, runs, probe, lifecycle, starts, 2)["rows"]}
    assert rows2[8]["efficiency_wall"] == pytest.approx(64 / 9 / 2, abs=1e-3)


def test_ratios_are_of_the_medians() -> None:
    runs = {
        "ffmpeg": [
            {"wall_s": w, "fps": 30 / w, "cpu_per_frame_ms": c, "peak_pss_mib": 100.0}
            for w, c in ((1.0, 10.0), (3.0, 30.0), (2.0, 20.0))
        ],
        "direct": [
            {"wall_s": w, "fps": 30 / w, "cpu_per_frame_ms": c, "peak_pss_mib": 150.0}
            for w, c in ((2.0, 20.0), (4.0, 44.0), (9.0, 30.0))
        ],
    }
    median = {name: _medians(rs) for name, rs in runs.items()}
    assert median["ffmpeg"]["wall_s"] == 2.0 and median["direct"]["wall_s"] == 4.0
    ratios = _ratios(median, "ffmpeg")
    assert set(ratios) == {"direct"}
    assert ratios["direct"]["wall"] == 2.0
    assert ratios["direct"]["cpu_per_frame"] == 1.5
    assert ratios["direct"]["fps"] == 0.5
    assert ratios["direct"]["peak_memory"] == 1.5


def test_the_api_load_job_outlasts_the_load_at_any_size() -> None:
    assert job_seconds(60, (1280, 720)) == 240
    assert job_seconds(60, (1920, 1080)) == 240
    assert job_seconds(10, (320, 180)) == 640  # 16 times fewer pixels, 16 times longer
    assert job_seconds(21600, (320, 180)) == 86400  # the loader's limit
