"""Replay a recorded estimate-accuracy run against the complexity weights, without rendering.

``bench/estimate_accuracy.py --json`` records per project what its chunks took (busy
slot-seconds). This prices each recorded project's busy seconds per frame by a rate per unit
times its units under today's weights (``chunking.weights``), optionally with some weights
changed (``--weight TRANSLUCENT=0.1``), so a weight can be judged against measured renders
without a quiet machine to render them again. The projects are rebuilt from the recorded seed
(their media generated in a temporary directory); only those of at least as many chunks as
slots count (a lone chunk runs faster, which is not the weights' business).

Two replays, each an error distribution (median and p90 of |error|, share within +-10 %):

    online  each project priced at the median rate of the projects before it, as a cluster
            learns (the first is skipped)
    loo     leave-one-out: one rate fitted to all the others (relative least squares)

Run: ``.venv/bin/python bench/estimate_replay.py RUN.json [RUN2.json ...] [--weight NAME=VALUE]
[--json]``. Results are in docs/cost.md ("Estimate accuracy").
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.estimate_projects import document, make_media, specs
from bench.estimate_report import distribution
from bench.script import emit
from chunking import weights
from chunking.complexity import complexity
from chunking.timeline.project import read_project


def busy_per_frame(row: dict[str, Any]) -> float:
    """Busy slot-seconds per frame a recorded project's chunks took."""
    if row.get("busy_seconds") is not None:
        return float(row["busy_seconds"]) / row["frames"]
    # Runs recorded before busy_seconds was kept: rate x the units it was measured against.
    return float(row["rate_actual"]) * float(row["complexity"])


def static_units(runs: list[dict[str, Any]]) -> dict[tuple[int, str], float]:
    """Units per frame of every recorded project under the current weights, by (seed, name)."""
    found: dict[tuple[int, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="cloudrender-replay-") as tmp:
        directory = Path(tmp)
        for run in runs:
            seed, count = run["params"]["seed"], run["params"]["projects"]
            recipes = specs(count, seed)
            make_media(directory, recipes)
            for recipe in recipes:
                timeline = read_project(document(recipe), base_dir=str(directory)).timeline
                found[(seed, recipe["name"])] = complexity(timeline)
    return found


def replay(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The online and leave-one-out error distributions of every run's projects."""
    units = static_units(runs)
    online: list[float] = []
    loo: list[float] = []
    rows = []
    for run in runs:
        seed, slots = run["params"]["seed"], run["params"]["workers"]
        kept = [r for r in run["projects"] if r["chunks"] >= slots and not r.get("repeat")]
        points = [(r["name"], busy_per_frame(r), units[(seed, r["name"])]) for r in kept]
        for i, (name, busy, unit) in enumerate(points):
            before = [b / u for _, b, u in points[:i]]
            if before:
                online.append(100 * (statistics.median(before) * unit - busy) / busy)
            others = [(b, u) for j, (_, b, u) in enumerate(points) if j != i]
            # Relative least squares of busy = rate x units: rate = sum(u/b) / sum((u/b)^2).
            rate = sum(u / b for b, u in others) / sum((u / b) ** 2 for b, u in others)
            loo.append(100 * (rate * unit - busy) / busy)
            rows.append(
                {
                    "seed": seed,
                    "name": name,
                    "busy_ms_per_frame": round(1000 * busy, 3),
                    "units": round(unit, 4),
                    "ms_per_unit": round(1000 * busy / unit, 3),
                    "loo_error_pct": round(loo[-1], 2),
                }
            )
    return {"projects": rows, "online": distribution(online), "loo": distribution(loo)}


def report(result: dict[str, Any]) -> None:
    """Per project and the two distributions."""
    print(f"{'project':8} {'busy ms/f':>10} {'units':>7} {'ms/unit':>8} {'loo err':>8}")
    for r in result["projects"]:
        print(
            f"{r['name']:8} {r['busy_ms_per_frame']:10.2f} {r['units']:7.3f} "
            f"{r['ms_per_unit']:8.2f} {r['loo_error_pct']:+7.1f}%"
        )
    for name in ("online", "loo"):
        d = result[name]
        if d["count"]:
            print(
                f"{name:6} n={d['count']:2}: median |error| {d['median_abs']:.1f} %, "
                f"p90 {d['p90_abs']:.1f} %, within +-10 %: {100 * d['within']:.0f} %"
            )


def override(pairs: list[str]) -> None:
    """Set chunking.weights scalars from NAME=VALUE pairs; a clear error for anything else."""
    for pair in pairs:
        name, _, value = pair.partition("=")
        current = getattr(weights, name, None)
        if not isinstance(current, float) or not value:
            raise SystemExit(f"error: --weight {pair!r}: not NAME=VALUE of a scalar weight")
        try:
            setattr(weights, name, float(value))
        except ValueError:
            raise SystemExit(f"error: --weight {pair!r}: {value!r} is no number") from None


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, replay, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="JSON written by estimate_accuracy.py --json")
    parser.add_argument("--weight", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    override(args.weight)
    runs = []
    for path in args.runs:
        try:
            runs.append(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"error: {path}: {exc}") from None
    try:
        result = replay(runs)
    except KeyError as exc:
        raise SystemExit(
            f"error: a run lacks {exc} (not from estimate_accuracy.py --json)"
        ) from None
    emit(result, args.json, report)


if __name__ == "__main__":
    main()
