"""What an estimate-accuracy run says about its own noise and about the estimate's range (pure).

Two questions the error distribution alone cannot answer (``bench/estimate_accuracy.py`` prints
both):

- **Where does a repeat's difference come from?** The same project rendered again at the end of
  a run took 0.6-15 % more or less time (docs/cost.md). Signed, and split into the chunks' busy
  slot-seconds (the render itself: the machine's load, the CPU's clock) and the seconds besides
  (planning, the wait for a slot, the merge, the completion), a repeat that is faster in both
  points to a first-render effect (warm caches the first run lacked), one that moves only the
  seconds besides to the cluster's overheads, one whose busy seconds move both ways with the
  load average to the neighbours.
- **Is the p10-p90 range calibrated?** It should hold the actual time of 80 % of the projects,
  with as many below p10 as above p90. With 20-odd projects the share inside is a binomial
  count: how likely a share at least as far from 80 % is if the range were right says whether
  a run shows a range that is too narrow or too wide, or only chance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: The share of projects the p10-p90 range should hold.
NOMINAL = 0.8


def repeat_split(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each repeat (``name`` "pNN.2") against its first render: the signed change in % of its
    time and of its chunks' busy seconds, the change in seconds of the chunks' span and of what
    the job took besides them (planning and the wait for a slot, the idle rest, the merge), and
    the load average at each; repeats without a first render or busy seconds are left out."""
    first = {r["name"]: r for r in rows if not r.get("repeat")}
    found = []
    for again in rows:
        if not again.get("repeat"):
            continue
        before = first.get(again["name"].split(".")[0])
        if before is None or not before.get("busy_seconds") or not before["actual_seconds"]:
            continue
        besides = _besides(again) - _besides(before)
        change = again["actual_seconds"] - before["actual_seconds"]
        found.append(
            {
                "name": again["name"],
                "time_pct": round(100 * change / before["actual_seconds"], 1),
                "busy_pct": round(100 * (again["busy_seconds"] / before["busy_seconds"] - 1), 1),
                "span_seconds": round(change - besides, 3),
                "besides_seconds": round(besides, 3),
                "load": [before.get("load"), again.get("load")],
            }
        )
    return found


def _besides(row: dict[str, Any]) -> float:
    """The seconds a job took besides its chunks' span: startup (planning, the wait for a
    slot), the idle rest and the merge."""
    parts = ("startup_seconds", "idle_seconds", "merge_seconds")
    return sum(float(row.get(p) or 0.0) for p in parts)


def calibration(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """How many projects' actual time fell below p10, inside p10-p90 and above p90, and how
    likely a count inside at least that far from 80 % is if the range held 80 % (two-sided
    binomial probability: under 0.05, the range is too narrow or too wide for chance)."""
    below = sum(1 for r in rows if r["actual_seconds"] < r["seconds_low"])
    above = sum(1 for r in rows if r["actual_seconds"] > r["seconds_high"])
    n = len(rows)
    inside = n - below - above
    return {
        "count": n,
        "below": below,
        "inside": inside,
        "above": above,
        "chance": round(binomial_two_sided(inside, n, NOMINAL), 3) if n else None,
    }


def binomial_two_sided(k: int, n: int, p: float) -> float:
    """The probability of a Binomial(n, p) count no likelier than k (the exact two-sided test)."""
    if not 0 <= k <= n:
        raise ValueError(f"k must be within 0..{n}, got {k}")
    mass = [math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
    # A small tolerance so that counts as likely as k (ties in floating point) count.
    return min(1.0, sum(m for m in mass if m <= mass[k] * (1 + 1e-9)))
