"""bench/estimate_accuracy.py --only: a subset of a run's projects, the same recipes."""

from __future__ import annotations

import pytest

from bench.estimate_accuracy import pick
from bench.estimate_projects import specs


def test_only_keeps_the_runs_recipes_in_order() -> None:
    recipes = specs(22, 15)
    chosen = pick(recipes, "p18, p01,p16")
    assert [r["name"] for r in chosen] == ["p01", "p16", "p18"]
    assert chosen[2] == recipes[18]  # the same project as in the whole run


@pytest.mark.parametrize("names", ["p40", "p01,p99", " , "])
def test_only_names_what_is_not_in_the_run(names: str) -> None:
    with pytest.raises(SystemExit, match="--only: no project"):
        pick(specs(22, 15), names)
