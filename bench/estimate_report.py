"""Estimate accuracy, the output: the error distribution of ``bench/estimate_accuracy.py``'s
projects against the issue's targets, the per-project table and the estimate-vs-actual plot."""

from __future__ import annotations

import statistics
from typing import Any

#: The issue's targets: 90 % of projects within +-10 %, median error under 5 %.
WITHIN, SHARE, MEDIAN = 10.0, 0.9, 5.0


def distribution(errors: list[float]) -> dict[str, Any]:
    """Median and 90th percentile of |error| (%), and the share within +-WITHIN %."""
    if not errors:
        return {"count": 0}
    absolute = sorted(abs(e) for e in errors)
    p90 = absolute[min(len(absolute) - 1, round(0.9 * (len(absolute) - 1)))]
    return {
        "count": len(errors),
        "median_abs": round(statistics.median(absolute), 2),
        "p90_abs": round(p90, 2),
        "mean": round(statistics.fmean(errors), 2),
        "within": round(sum(1 for e in absolute if e <= WITHIN) / len(absolute), 3),
    }


def report(result: dict[str, Any]) -> None:
    """The per-project table and the error distributions."""
    print(
        f"{'project':8} {'size':>9} {'s':>4} {'L':>2} {'effects':12} {'T':1} {'t':1} "
        f"{'est s':>7} {'p10-p90':>13} {'act s':>7} {'err':>7} {'est $':>9} {'act $':>9} "
        f"{'err':>7}"
    )
    for r in result["projects"]:
        band = f"{r['seconds_low']:.0f}-{r['seconds_high']:.0f}"
        print(
            f"{r['name'] + ('*' if r['cold'] else ''):8} {r['size']:>9} {r['seconds']:>4} "
            f"{r['layers']:>2} {r['effects']:12} {'y' if r['transitions'] else '-'} "
            f"{'y' if r['titles'] else '-'} {r['estimated_seconds']:7.1f} {band:>13} "
            f"{r['actual_seconds']:7.1f} {r['seconds_error_pct']:+6.1f}% "
            f"{r['estimated_cost']:9.6f} {r['actual_cost']:9.6f} {r['cost_error_pct']:+6.1f}%"
        )
    print("* cold: estimated before any render taught the cluster its throughput")
    print("static: the same estimates by the static weights alone (no per-feature corrections)")
    print("before: the same estimates with one-chunk jobs priced as before (lone_speedup)")
    for name in (
        "time_warm",
        "cost_warm",
        "time_warm_static",
        "cost_warm_static",
        "time_warm_before",
        "time_all",
        "cost_all",
    ):
        d = result.get(name)  # a run recorded before a distribution was kept has none
        if not d or not d["count"]:
            continue
        met = d["within"] >= SHARE and d["median_abs"] < MEDIAN
        print(
            f"{name.replace('_', ' '):17} n={d['count']:2}: "
            f"median |error| {d['median_abs']:.1f} %, "
            f"p90 {d['p90_abs']:.1f} %, mean {d['mean']:+.1f} %, within +-{WITHIN:.0f} %: "
            f"{100 * d['within']:.0f} % (target {100 * SHARE:.0f} %, median < {MEDIAN:.0f} %: "
            f"{'met' if met else 'missed'})"
        )
    print(f"actual time inside the estimated p10-p90 range: {100 * result['in_range']:.0f} %")
    band = result.get("range")
    if band and band["count"]:
        verdict = "off" if band["chance"] < 0.05 else "within what this many projects can tell"
        print(
            f"  below p10 {band['below']}, inside {band['inside']}, above p90 {band['above']} of "
            f"{band['count']}; a share this far from 80 % by chance: {100 * band['chance']:.0f} % "
            f"(the range's calibration: {verdict})"
        )
    last = result["projects"][-1]["corrections"] if result["projects"] else {}
    if last:
        learned = ", ".join(f"{name} {f:.2f}" for name, f in sorted(last.items()))
        print(f"per-feature factors learned by the last project: {learned}")
    if result["repeat_difference_pct"]:
        listed = ", ".join(f"{d:.1f} %" for d in result["repeat_difference_pct"])
        print(f"the same project rendered again took a different time by: {listed}")
    for r in result.get("repeats", []):
        print(
            f"  {r['name']}: time {r['time_pct']:+.1f} %, chunks' busy seconds "
            f"{r['busy_pct']:+.1f} %, their span {r['span_seconds']:+.2f} s, besides them "
            f"{r['besides_seconds']:+.2f} s (load average {r['load'][0]} then {r['load'][1]})"
        )


def plot(result: dict[str, Any], path: str) -> None:
    """Estimated against actual time and cost, log-log, with the +-10 % band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    figure, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for axis, (what, unit) in zip(axes, (("seconds", "s"), ("cost", "$")), strict=True):
        pairs = [
            (r[f"actual_{what}"], r[f"estimated_{what}"], r["cold"]) for r in result["projects"]
        ]
        lo = min(min(a, e) for a, e, _ in pairs) * 0.8
        hi = max(max(a, e) for a, e, _ in pairs) * 1.25
        line = [lo, hi]
        axis.plot(line, line, color="black", linewidth=1)
        axis.fill_between(line, [x * 0.9 for x in line], [x * 1.1 for x in line], alpha=0.15)
        warm = [(a, e) for a, e, cold in pairs if not cold]
        cold = [(a, e) for a, e, c in pairs if c]
        axis.scatter([a for a, _ in warm], [e for _, e in warm], s=18, label="warm")
        axis.scatter([a for a, _ in cold], [e for _, e in cold], s=30, marker="x", label="cold")
        axis.set_xscale("log")
        axis.set_yscale("log")
        for scale in (axis.xaxis, axis.yaxis):
            scale.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            scale.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            scale.set_minor_formatter(ticker.NullFormatter())
        axis.set_xlim(lo, hi)
        axis.set_ylim(lo, hi)
        axis.set_xlabel(f"actual {what} ({unit})")
        axis.set_ylabel(f"estimated {what} (p50, {unit})")
        axis.legend(loc="upper left")
    figure.suptitle("Estimate vs actual, local cluster (band: +-10 %)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
