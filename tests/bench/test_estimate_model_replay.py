"""bench/estimate_model_replay.py: recorded renders priced again through the whole estimate."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from bench.estimate_model_replay import HOURLY_RATE, bench_record, main, replay
from bench.estimate_projects import document, make_media, specs
from chunking.complexity import complexity
from chunking.timeline.project import read_project

#: Seed 15's p00 (320x180, 2 min: 30 chunks of 120 frames) and p11 (320x180, 20 s: 5 chunks).
RECIPES = {r["name"]: r for r in specs(12, 15) if r["name"] in ("p00", "p11")}


@pytest.fixture(scope="module")
def units() -> dict[str, float]:
    """Each project's units per frame under the weights (its media generated once)."""
    with tempfile.TemporaryDirectory() as tmp:
        make_media(Path(tmp), list(RECIPES.values()))
        return {
            name: complexity(read_project(document(r), base_dir=tmp).timeline)
            for name, r in RECIPES.items()
        }


def row(units: dict[str, float], name: str, rate: float = 0.012, start: float = 0.0,
        alone: float = 1.3) -> dict[str, Any]:  # fmt: skip
    """A recorded render of the project on 2 slots at `rate` seconds a unit: each slot's first
    chunk `start` longer, a last chunk that runs alone `alone` times as fast."""
    recipe = RECIPES[name.split(".")[0]]
    frames = recipe["seconds"] * 30
    sizes = [min(120, frames - i) for i in range(0, frames, 120)]
    chunks, free = [], [0.05, 0.05]
    for i, count in enumerate(sizes):
        slot = min((0, 1), key=lambda s: free[s])
        lone = i == len(sizes) - 1 and len(sizes) % 2 == 1
        took = (count * units[recipe["name"]] * rate + (start if i < 2 else 0.0)) / (
            alone if lone else 1.0
        )
        chunks.append([count, took, free[slot], free[slot] + took])
        free[slot] += took + 0.01
    span = max(c[3] for c in chunks) - min(c[2] for c in chunks)
    busy, merge = sum(c[1] for c in chunks), 0.04
    return {
        "name": name,
        "size": "x".join(map(str, recipe["size"])),
        "seconds": recipe["seconds"],
        "layers": recipe["layers"],
        "effects": recipe["effects"],
        "cold": name == "p00",
        "repeat": "." in name,
        "frames": frames,
        "complexity": units[recipe["name"]],
        "startup_seconds": 0.05,
        "merge_seconds": merge,
        "idle_seconds": 0.03,
        "pipeline": 1.33,
        "chunk_seconds": chunks,
        "actual_cost": (busy + merge) * HOURLY_RATE / 3600,
        "actual_seconds": 0.05 + span + merge + 0.03,
        "seconds_error_pct": 0.0,
    }


@pytest.fixture(scope="module")
def bench() -> Any:
    """The quiet run's benchmark (its slice's units generated once for the module)."""
    return bench_record(0.0193, 1.54, 1.50, 1.15)


#: A long and a short project in turn: jobs of one length alone leave the fit's terms unknown.
TURNS = ["p00", "p11", "p00.2", "p11.2", "p00.3", "p11.3"]


def test_a_steady_cluster_is_priced_at_what_its_jobs_took(
    bench: Any, units: dict[str, float]
) -> None:
    # Once three jobs taught the fit, each project is priced at what the same render took
    # before (the fit, the lone tail's speed-up, the overheads, the schedule).
    found = replay([row(units, name) for name in TURNS], bench)["projects"]
    assert [p["source"] for p in found[:3]] == ["benchmark", "history", "history"]
    for project in found[3:]:
        assert project["source"].startswith("jobs")
        assert project["error_pct"] == pytest.approx(0.0, abs=2.0)


def test_each_slots_start_of_a_job_is_priced_apart(bench: Any, units: dict[str, float]) -> None:
    # Each slot's first chunk of every job 0.25 s longer (the 2026-12-07 evening quiet run:
    # 0.1-0.3 s): read as work per unit, it priced the short project 7-8 % short and the long
    # one 6 % long; learned as a start per job and slot, both are priced at what they took.
    found = replay([row(units, name, start=0.25) for name in TURNS], bench)["projects"]
    for project in found[3:]:
        assert project["slot_start"] == pytest.approx(0.25, abs=0.01)
        assert project["error_pct"] == pytest.approx(0.0, abs=2.0)


def test_a_row_of_another_recipe_is_named(bench: Any, units: dict[str, float]) -> None:
    wrong = dict(row(units, "p11"), layers=4)
    with pytest.raises(ValueError, match=r"project p11: the row says .* \(--seed\?\)"):
        replay([wrong], bench)


def test_main_reads_rows_and_refuses_what_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], units: dict[str, float]
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps(row(units, n)) for n in ("p11", "p11.2")) + "\n")
    main([str(rows), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in out["projects"]] == ["p11", "p11.2"]
    (tmp_path / "bad.jsonl").write_text('{"name": "p11"}\n')
    with pytest.raises(SystemExit, match="bad.jsonl"):
        main([str(tmp_path / "bad.jsonl")])
    with pytest.raises(SystemExit, match="four numbers"):
        main([str(rows), "--benchmark", "1,2"])
