"""The node benchmark: a generated slice with the common operations, rendered for real, with
figures that hang together (stages near the total, rate per slot and per unit)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from chunking.complexity import complexity
from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from workers.benchmark import decoded_layer_frames, run_benchmark
from workers.benchmark_beside import START_TIMEOUT, beside_seconds
from workers.benchmark_result import BenchmarkResult
from workers.benchmark_slice import make_source, slice_project
from workers.encoder import HARDWARE, SOFTWARE
from workers.fingerprint import render_fingerprint
from workers.gpus import gpu_stats
from workers.render import has_audio

FRAMES, SIZE = 8, (640, 360)
STAGES = ("decode", "composite", "encode", "audio")


@pytest.fixture(scope="module")
def result() -> BenchmarkResult:
    """One small run shared by the module (the command-line test runs a 1080p one)."""
    return run_benchmark(frames=FRAMES, size=SIZE)


def test_figures_are_positive_and_consistent(result: BenchmarkResult) -> None:
    assert (result.frames, result.width, result.height) == (FRAMES, *SIZE)
    assert result.seconds > 0 and result.cpu_seconds > 0
    assert result.fps == pytest.approx(FRAMES / result.seconds, rel=0.01)
    # A slot's frame: what the slots' renders took each, side by side; with one slot, at least
    # the render's own wall time and its CPU on the slot's share of the cores.
    expected = max(result.seconds, result.cpu_seconds * result.slots / result.vcpus) / FRAMES
    if result.beside_seconds > 0:
        expected = result.beside_seconds / FRAMES
    assert result.slot_seconds_per_frame == pytest.approx(expected, rel=0.01)
    assert result.seconds_per_unit == pytest.approx(
        result.slot_seconds_per_frame / result.units, rel=0.01
    )


def test_stages_add_up_roughly_to_the_render(result: BenchmarkResult) -> None:
    stages = result.stages
    assert set(stages) == {"decode", "composite", "encode", "audio"}
    assert stages["decode"] > 0 and stages["composite"] > 0 and stages["encode"] > 0
    assert stages["audio"] >= 0
    serial = stages["decode"] + stages["composite"] + stages["encode"]
    per_frame = result.seconds / result.frames
    # The render overlaps compositing with encoding (below the sum with spare cores) and pays
    # start-up costs the stages do not; on a loaded machine either way by a factor, not more.
    assert per_frame / 3 < serial < per_frame * 3


def test_node_facts(result: BenchmarkResult) -> None:
    assert result.encoder in set(SOFTWARE.values()) | {n for ns in HARDWARE.values() for n in ns}
    assert result.hardware == (result.encoder not in SOFTWARE.values())
    assert result.gpu == bool(gpu_stats())
    assert result.vcpus == len(os.sched_getaffinity(0)) and result.slots == result.vcpus
    assert result.fingerprint == render_fingerprint()


def test_json_round_trip_and_summary(result: BenchmarkResult) -> None:
    assert BenchmarkResult.from_json(result.to_json()) == result
    text = result.summary()
    assert f"{FRAMES} frames of 640x360" in text and result.encoder in text
    for stage in ("decode", "composite", "encode"):
        assert stage in text


@pytest.mark.parametrize(
    "change", [{"seconds_per_unit": 0}, {"frames": "x"}, {"stages": None}, {"encoder": None}]
)
def test_a_malformed_record_is_refused(result: BenchmarkResult, change: dict[str, object]) -> None:
    # None: the field is missing.
    data = {k: v for k, v in {**result.to_json(), **change}.items() if v is not None}
    with pytest.raises(ValueError, match="malformed benchmark record"):
        BenchmarkResult.from_json(data)


def test_the_slice_has_the_common_operations(tmp_path: Path) -> None:
    make_source(tmp_path / "source.mp4", 320, 180, 12)
    timeline = load_project(slice_project(320, 180, 16), str(tmp_path))
    assert not timeline.warnings
    clips = {clip.id: clip for track in timeline.video_tracks() for clip in track.clips}
    assert set(clips) == {"a", "b", "pip"}
    assert not clips["a"].color.is_identity()  # colour correction
    assert [e.kind for e in clips["a"].effects] == ["vignette"]
    assert [e.kind for e in clips["pip"].effects] == ["blur"]
    assert clips["pip"].opacity == pytest.approx(0.8)
    assert clips["pip"].transform.scale_x == pytest.approx(0.5)
    assert [t.kind for t in timeline.transitions] == ["dissolve"]
    assert len(timeline.subtitles) == 1
    assert has_audio(timeline)
    assert timeline.export.hardware_acceleration
    # Each frame decodes the base clip (both during the dissolve) and the picture-in-picture.
    dissolve = timeline.transitions[0]
    assert decoded_layer_frames(timeline) == 2 * 16 + (dissolve.end - dissolve.start)
    # Several layers, effects, a transition: well above one plain layer (1.6 units at 1080p).
    assert complexity(timeline) > 1.6 * (320 * 180) / (1920 * 1080)


def test_the_source_is_the_same_everywhere(tmp_path: Path) -> None:
    digests = []
    for name in ("one.mp4", "two.mp4"):
        make_source(tmp_path / name, 320, 180, 6)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frames": 3}, "frames"),
        ({"size": (641, 360)}, "size"),
        ({"size": (32, 32)}, "size"),
        ({"slots": 0}, "slots"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_benchmark(**kwargs)  # type: ignore[arg-type]


def test_what_a_process_pays_at_its_first_render_is_not_priced_per_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A render that costs 0.4 s of CPU once per process (libraries, fonts) and 20 ms a frame:
    the benchmark prices the frames, not the process's first render."""
    from workers import benchmark
    from workers.render import RenderSummary

    renders: list[int] = []

    def burn(seconds: float) -> None:
        until = time.process_time() + seconds
        while time.process_time() < until:
            pass

    def render(timeline: Timeline, output: str, **_: object) -> RenderSummary:
        burn((0.4 if not renders else 0.0) + 0.02 * timeline.frames)
        renders.append(timeline.frames)
        seconds = 0.02 * timeline.frames
        return RenderSummary(output, timeline.frames, seconds, 50.0, "libx264", False, None, 0)

    monkeypatch.setattr(benchmark, "render_to_file", render)
    monkeypatch.setattr(benchmark, "_time_stages", lambda *_: dict.fromkeys(STAGES, 0.01))
    got = run_benchmark(frames=16, size=(320, 180), slots=1)
    assert renders[-1] == 16
    assert got.cpu_seconds == pytest.approx(0.02 * 16, rel=0.25)  # not 0.4 s more


def test_a_slot_is_priced_at_what_the_slots_renders_took_side_by_side(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 2026-12-07 evening quiet run: alone 1.54 s, the 2 slots side by side 1.50 s each,
    alone again 1.15 s; priced from the first render alone (its wall time, its CPU on the
    slot's share of the cores) a slot took 0.0193 s a unit where the slots' own renders say
    0.0168, and the first job ran at 0.0112."""
    from workers import benchmark
    from workers.render import RenderSummary

    walls = iter([0.0, 1.54, 1.15])  # the warm-up, the render alone, alone again

    def render(timeline: Timeline, output: str, **_: object) -> RenderSummary:
        seconds = next(walls)
        return RenderSummary(output, timeline.frames, seconds, 50.0, "libx264", False, None, 0)

    monkeypatch.setattr(benchmark, "render_to_file", render)
    monkeypatch.setattr(benchmark, "_time_stages", lambda *_: dict.fromkeys(STAGES, 0.01))
    monkeypatch.setattr(benchmark, "beside_seconds", lambda *_: 1.50)
    monkeypatch.setattr(benchmark, "_vcpus", lambda: 2)
    got = run_benchmark(frames=16, size=(320, 180), slots=2)
    assert got.slot_seconds_per_frame == pytest.approx(1.50 / 16)
    assert got.seconds_per_unit == pytest.approx(1.50 / 16 / got.units, rel=1e-3)
    assert (got.seconds, got.beside_seconds, got.alone_again_seconds) == (1.54, 1.50, 1.15)


def test_every_slot_renders_the_slice_at_once(result: BenchmarkResult) -> None:
    if result.slots < 2:
        pytest.skip("one vCPU: one slot, nothing renders beside it")
    # Each slot's render is the same slice, sharing the cores: no faster than it ran alone
    # by more than the noise of one render on a shared machine.
    assert result.beside_seconds > 0.5 * result.seconds
    # Alone it may use more than a core, but on a loaded machine (a CI run) it got less than one.
    assert 0.0 < result.alone_cores <= result.vcpus
    # ... and alone once more after them, about as long as the first time.
    assert 0.3 * result.seconds < result.alone_again_seconds < 3 * result.seconds


def test_one_slot_has_nothing_beside_it() -> None:
    got = run_benchmark(frames=4, size=(320, 180), slots=1)
    assert got.beside_seconds == 0.0
    assert got.alone_again_seconds == 0.0  # nothing to bracket
    assert got.alone_cores == pytest.approx(got.cpu_seconds / got.seconds)


def test_slots_whose_renders_fail_give_no_measure_and_no_wait(tmp_path: Path) -> None:
    began = time.monotonic()
    # No source in the directory: every slot's render fails at once.
    assert beside_seconds(tmp_path, (320, 180), 4, 1, 2) is None
    assert time.monotonic() - began < START_TIMEOUT / 2


def test_slots_that_cannot_start_leave_the_rest_of_the_benchmark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    def no_shm(*args: object, **kwargs: object) -> None:
        raise OSError("no /dev/shm")

    context = multiprocessing.get_context("spawn")
    monkeypatch.setattr(type(context), "Barrier", no_shm)
    assert beside_seconds(tmp_path, (320, 180), 4, 1, 2) is None
