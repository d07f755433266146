"""bench/estimate_replay.py: recorded renders priced again under the weights, without rendering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import estimate_replay
from bench.estimate_replay import main, replay, static_units
from chunking import weights

Units = dict[tuple[int, str], float]


@pytest.fixture(scope="module")
def units() -> Units:
    """The 4 projects' units under the weights (their media generated once for the module)."""
    return static_units([{"params": {"seed": 15, "projects": 4, "workers": 2}}])


@pytest.fixture(autouse=True)
def known_units(units: Units, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replays price by the module's units instead of generating the media again."""
    monkeypatch.setattr(estimate_replay, "static_units", lambda runs: units)


def run(units: Units, rate: float, noise: dict[str, float] | None = None) -> dict[str, Any]:
    """A recorded 4-project run (seed 15) whose chunks took `rate` seconds per unit (times
    noise)."""
    seed = 15
    recorded: dict[str, Any] = {"params": {"seed": seed, "projects": 4, "workers": 2},
                                "projects": []}  # fmt: skip
    for name in ("p00", "p01", "p02", "p03"):
        busy = rate * units[(seed, name)] * 300 * (noise or {}).get(name, 1.0)
        recorded["projects"].append({"name": name, "frames": 300, "chunks": 5,
                                     "busy_seconds": busy})  # fmt: skip
    return recorded


def test_renders_at_one_rate_per_unit_replay_without_error(units: Units) -> None:
    got = replay([run(units, 0.013)])
    assert got["online"]["count"] == 3 and got["loo"]["count"] == 4
    assert got["online"]["median_abs"] == pytest.approx(0.0, abs=1e-6)
    assert got["loo"]["p90_abs"] == pytest.approx(0.0, abs=1e-6)
    assert {r["ms_per_unit"] for r in got["projects"]} == {13.0}


def test_a_project_off_the_rate_shows_in_its_own_error(units: Units) -> None:
    got = replay([run(units, 0.013, noise={"p02": 1.25})])
    errors = {r["name"]: r["loo_error_pct"] for r in got["projects"]}
    assert errors["p02"] == pytest.approx(-20.0, abs=0.5)  # priced at the others' rate
    # The others are priced with p02 among theirs: a little over, never as far off.
    assert all(0 < e < 10 for name, e in errors.items() if name != "p02")


def test_lone_chunks_are_left_out(units: Units) -> None:
    recorded = run(units, 0.013)
    recorded["projects"][0]["chunks"] = 1
    assert replay([recorded])["loo"]["count"] == 3


def test_a_weight_can_be_changed_for_the_replay(
    units: Units,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(weights, "TRANSLUCENT", weights.TRANSLUCENT)  # restored afterwards
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run(units, 0.013)))
    main([str(path), "--weight", "TRANSLUCENT=2.5", "--json"])
    assert weights.TRANSLUCENT == 2.5  # what static_units prices by (stubbed here)
    out = json.loads(capsys.readouterr().out)
    assert out["loo"]["count"] == 4


@pytest.mark.parametrize("bad", ["NOPE=1", "TRANSLUCENT=", "TRANSLUCENT=x", "ENCODE=1"])
def test_a_bad_weight_is_a_one_line_error(bad: str, tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("{}")
    with pytest.raises(SystemExit, match="error: --weight"):
        main([str(path), "--weight", bad])


def test_a_file_that_is_no_run_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"projects": []}')
    with pytest.raises(SystemExit, match="error: a run lacks 'params'"):
        main([str(path)])
    assert estimate_replay.__doc__
