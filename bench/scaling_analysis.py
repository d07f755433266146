"""The analysis of ``scaling.py``'s runs: speedups, efficiencies, overheads, targets.

Per run: speedup against direct, parallel efficiency = speedup / min(workers, cores), worker
utilisation = sum of chunk task seconds / (workers x JSON seconds) and the overhead against
direct by wall and CPU time; for 1 worker, the overhead split into fixed costs (the 1-frame
probe), extra chunk starts, extra merge and the rest.
"""

from __future__ import annotations

from typing import Any

#: Other processes' CPU use (cores) during a run above which its wall time is not trusted.
NOISY_CORES = 0.2
#: Targets of the issue.
TARGET_OVERHEAD = 0.03
TARGET_EFFICIENCY = 0.90


def analyse(
    direct: dict[str, Any],
    runs: list[dict[str, Any]],
    probe: dict[str, Any],
    lifecycle: dict[str, Any],
    starts: dict[int, dict[str, float]],
    cores: int,
) -> dict[str, Any]:
    """Speedups, efficiencies, CPU overheads, utilisation and the 1-worker overhead breakdown."""
    rows = []
    for run in [direct, *runs]:
        w = int(run.get("workers", 0))
        chunks = run.get("chunks", [])
        chunk_starts = [int(c["start"]) for c in chunks]
        busy = sum(float(c["seconds"]) for c in chunks)
        speedup = direct["wall"] / run["wall"]
        speedup_json = direct["seconds"] / run["seconds"]
        rows.append(
            {
                "label": "direct" if w == 0 else f"{w} worker" + ("s" if w > 1 else ""),
                "workers": w,
                "chunk_count": run.get("chunk_count", 1),
                "wall": run["wall"],
                "seconds": run["seconds"],
                "fps": run["fps"],
                "cpu": run["cpu"],
                "cores_used": round(run["cpu"] / run["wall"], 2),
                "others_cores": run["others_cores"],
                "steal_cores": run["steal_cores"],
                "speedup_wall": round(speedup, 3),
                "speedup_seconds": round(speedup_json, 3),
                "efficiency_wall": round(speedup / min(max(w, 1), cores), 3),
                "efficiency_seconds": round(speedup_json / min(max(w, 1), cores), 3),
                "overhead_wall": round(
                    (max(w, 1) * run["wall"] - direct["wall"]) / direct["wall"], 4
                ),
                "overhead_cpu": round((run["cpu"] - direct["cpu"]) / direct["cpu"], 4),
                "merge_seconds": run.get("merge_seconds", 0.0),
                "chunk_seconds_sum": round(busy, 3),
                "utilisation": round(busy / (w * run["seconds"]), 3) if w else None,
                "chunk_start_cost": round(sum(starts[s]["excess"] for s in chunk_starts), 3),
                "preroll_frames": sum(int(starts[s]["preroll_frames"]) for s in chunk_starts),
                "chunk_seconds": [c["seconds"] for c in chunks],
                "chunk_starts": chunk_starts,
                "walls": run["walls"],
                "cpus": run["cpus"],
            }
        )
    one = next((r for r in runs if int(r["workers"]) == 1), None)
    breakdown: dict[str, Any] = {}
    if one is not None:
        total = one["wall"] - direct["wall"]
        fixed = probe["one_worker"]["wall"] - probe["direct"]["wall"]
        per_chunk = sum(float(c["seconds"]) for c in one["chunks"]) - direct["seconds"]
        # Direct pays one chunk start too (opening at frame 0): only the extra starts count.
        start_costs = sum(starts[int(c["start"])]["excess"] for c in one["chunks"])
        start_extra = start_costs - starts[0]["excess"]
        merge_extra = one["merge_seconds"] - probe["one_worker"]["merge_seconds"]
        breakdown = {
            "direct_wall": direct["wall"],
            "one_worker_wall": one["wall"],
            "overhead_seconds": round(total, 3),
            "overhead_fraction": round(total / direct["wall"], 4),
            "overhead_fraction_seconds": round(
                (one["seconds"] - direct["seconds"]) / direct["seconds"], 4
            ),
            "overhead_fraction_cpu": round((one["cpu"] - direct["cpu"]) / direct["cpu"], 4),
            "chunk_count": one["chunk_count"],
            "fixed": round(fixed, 3),
            "fixed_cpu": round(probe["one_worker"]["cpu"] - probe["direct"]["cpu"], 3),
            "fixed_cluster_start": lifecycle["start"],
            "fixed_cluster_stop": lifecycle["stop"],
            "fixed_other": round(fixed - lifecycle["start"] - lifecycle["stop"], 3),
            "per_chunk_total": round(per_chunk, 3),
            "per_chunk_each": round(per_chunk / max(1, one["chunk_count"] - 1), 3),
            "per_chunk_start_extra": round(start_extra, 3),
            "per_chunk_other": round(per_chunk - start_extra, 3),
            "merge": one["merge_seconds"],
            "merge_extra": round(merge_extra, 3),
            "rest": round(total - fixed - per_chunk - merge_extra, 3),
        }
        # The costs measured in isolation, which noise in the two long runs does not move; over
        # the faster of the two runs, so that a direct run slowed by others cannot hide them.
        estimate = fixed + start_extra + merge_extra
        breakdown["estimate_seconds"] = round(estimate, 3)
        breakdown["estimate_fraction"] = round(estimate / min(direct["wall"], one["wall"]), 4)
    within = [r for r in rows[1:] if r["workers"] <= cores]
    direct_cores = rows[0]["cores_used"]
    targets = {
        "overhead_target": TARGET_OVERHEAD,
        "overhead_met": bool(breakdown)
        and max(breakdown["overhead_fraction"], breakdown["estimate_fraction"]) <= TARGET_OVERHEAD,
        "overhead_cpu_met": bool(breakdown)
        and breakdown["overhead_fraction_cpu"] <= TARGET_OVERHEAD,
        "efficiency_target": TARGET_EFFICIENCY,
        "efficiency_min": min((r["efficiency_wall"] for r in within), default=None),
        "efficiency_met": bool(within)
        and all(r["efficiency_wall"] >= TARGET_EFFICIENCY for r in within),
        # Direct already keeps this many cores busy: with no overhead at all, `cores` workers
        # could be at most cores / direct_cores times faster.
        "direct_cores_used": direct_cores,
        "speedup_bound": round(cores / direct_cores, 3) if direct_cores else None,
        "efficiency_bound": round(1 / direct_cores, 3) if direct_cores else None,
    }
    targets["noisy_runs"] = [r["label"] for r in rows if r["others_cores"] > NOISY_CORES]
    return {"rows": rows, "overhead": breakdown, "targets": targets}
