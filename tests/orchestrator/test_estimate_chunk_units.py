"""How an estimate shares a timeline's work out over its chunks (estimate_inputs.chunk_units)."""

from __future__ import annotations

from typing import Any

import pytest

from chunking import complexity
from chunking.plan import Chunk
from chunking.timeline.studio import load_project
from orchestrator.estimate_inputs import chunk_units
from tests.media import project, solid, video_track


def clip(i: int, frames: int = 10) -> dict[str, Any]:
    return {"id": f"c{i}", "start_time": i * frames / 30, "end_time": (i + 1) * frames / 30,
            **solid("#336699")}  # fmt: skip


def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"models": 0, "frames": 0}
    model, cost = complexity._Model.__init__, complexity._Model.cost

    def init(self: Any, timeline: Any, sources: Any = None) -> None:
        calls["models"] += 1
        model(self, timeline, sources)

    def frame(self: Any, t: int) -> float:
        calls["frames"] += 1
        return cost(self, t)

    monkeypatch.setattr(complexity._Model, "__init__", init)
    monkeypatch.setattr(complexity._Model, "cost", frame)
    return calls


def test_thousands_of_chunks_cost_a_bounded_number_of_sampled_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each chunk used to index the whole timeline again and cost its own frame: 8000 clips in
    # 8000 chunks took 20 s of an estimate; the samples are now bounded and share one index.
    count = 3000
    timeline = load_project(project([video_track("v", [clip(i) for i in range(count)])]), ".")
    chunks = [Chunk(i, i * 10, i * 10 + 10) for i in range(count)]
    calls = counted(monkeypatch)
    units = chunk_units(timeline, chunks, 2.0)
    assert calls["models"] == 1
    assert calls["frames"] <= 240
    assert [frames for frames, _ in units] == [10] * count
    assert sum(u for _, u in units) == pytest.approx(2.0 * 10 * count)


def test_a_heavy_stretch_still_gets_more_units_when_chunks_are_skipped() -> None:
    # Four layers over the second half: its chunks must weigh more than the first half's.
    count = 1000
    tracks = [video_track("v", [clip(i) for i in range(count)])]
    tracks += [video_track(f"o{k}", [{**clip(1, count * 5), "id": f"o{k}"}]) for k in range(4)]
    timeline = load_project(project(tracks), ".")
    chunks = [Chunk(i, i * 10, i * 10 + 10) for i in range(count)]
    units = [u for _, u in chunk_units(timeline, chunks, 1.0)]
    assert sum(units[count // 2 :]) > 1.5 * sum(units[: count // 2])


def test_few_chunks_are_each_sampled() -> None:
    timeline = load_project(project([video_track("v", [clip(i) for i in range(4)])]), ".")
    chunks = [Chunk(i, i * 10, i * 10 + 10) for i in range(4)]
    units = chunk_units(timeline, chunks, 1.0)
    assert units == [(10, pytest.approx(10.0))] * 4
