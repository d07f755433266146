"""What ``bench/spot_sim.py`` prints and draws: the comparison table and the cost/misses plot."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The target: at this interruption rate, at least this saving (bench/spot_sim.py).
TARGET_RATE, TARGET_SAVING = 0.10, 0.60


def show(report: dict[str, Any]) -> None:
    """The comparison table, as Markdown."""
    days = report["days"]
    print(
        f"{len(days)} simulated day(s) (seeds {', '.join(str(d['seed']) for d in days)}; "
        f"{sum(d['jobs'] for d in days)} jobs, "
        f"{sum(d['work_node_hours'] for d in days):.1f} CPU node-hours of work), "
        f"confidence {report['confidence']:.1%}, notice {notice_text(report['notice'])}; "
        f"{report['seconds']:.0f} s to run"
    )
    for kind, p in report["prices"].items():
        print(
            f"  {kind}: {p['instance_type']} ${p['on_demand']:.3f}/h on demand, "
            f"${p['spot']:.3f}/h spot ({p['spot'] / p['on_demand']:.0%}); {p['source']}"
        )
    for p in report["pools"]:
        print(
            f"  pool {p['name']}: {p['instance_type']} {p['market']} ${p['price_per_hour']:.4f}/h, "
            f"{p['slots']} slot(s) rendering like {p['speed']:g} reference slot(s), at most "
            f"{p['max_nodes']} node(s): ${p['per_speed_hour']:.4f} per reference slot-hour"
        )
    print(
        f"  the on-demand fleet's node-hours at spot prices: ${report['all_spot_cost']:.2f}, "
        f"a saving of {report['all_spot_saving']:.1%} (a reference, not a strict bound)\n"
    )
    print(
        "| fleet | cost $ | saving | spot node-h | deadlines missed | unfinished | notices "
        "| chunks re-rendered | frames re-rendered | deadline jobs on demand | moved from spot "
        "| learned rate %/h |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for f in report["fleets"]:
        learned = ", ".join(f"{p} {r * 100:.1f}" for p, r in sorted(f["learned"].items()))
        print(
            f"| {f['fleet']} | {f['cost']:.2f} | {f['saving']:.1%} | {f['spot_share']:.0%} "
            f"| {f['missed']}/{f['deadlines']} | {f['unfinished']} | {f['notices']} "
            f"| {f['lost_chunks']} | {f['lost_frames']:.0f} | {f['on_demand']} | {f['moved']} "
            f"| {learned or '-'} |"
        )
    t = report["target"]
    if t["checked"]:
        verdict = "met" if t["met"] else "NOT met"
        print(
            f"\nTarget at {TARGET_RATE:.0%}/h: saving {t['saving']:.1%} (>= {TARGET_SAVING:.0%}), "
            f"deadlines missed {t['missed']} vs {t['missed_on_demand']} on demand: {verdict}"
        )


def notice_text(notice: float | Mapping[str, float]) -> str:
    """``120 s``, or ``aws 120 s, azure 30 s`` per provider."""
    if isinstance(notice, Mapping):
        return ", ".join(f"{p} {s:g} s" for p, s in sorted(notice.items()))
    return f"{notice:g} s"


def plot(report: dict[str, Any], path: Path) -> None:
    """Cost against the on-demand fleet, and deadlines missed, per interruption rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fleets = report["fleets"]
    names = [
        f["fleet"] if f["rate"] is None else f"{f['fleet']}\n{f['notices']} notices" for f in fleets
    ]
    fig, (money, misses) = plt.subplots(1, 2, figsize=(11, 4.4))
    colours = ["#777777"] + ["#2a7ab0"] * (len(fleets) - 1)
    bars = money.bar(names, [f["cost"] for f in fleets], color=colours)
    for bar, f in zip(bars, fleets, strict=True):
        label = "" if f["rate"] is None else f"-{f['saving']:.0%}"
        money.annotate(
            label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
            va="bottom", fontsize=9,
        )  # fmt: skip
    money.axhline(
        report["all_spot_cost"], color="#444444", linestyle="--", linewidth=1,
        label=f"the on-demand fleet at spot prices (-{report['all_spot_saving']:.0%})",
    )  # fmt: skip
    money.legend(fontsize=8, loc="upper right")
    money.set_ylabel("dollars")
    money.set_title("Cost of the same jobs")
    bars = misses.bar(names, [f["missed"] for f in fleets], color=colours)
    for bar, f in zip(bars, fleets, strict=True):
        misses.annotate(
            f"{f['missed']}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center", va="bottom", fontsize=9,
        )  # fmt: skip
    misses.set_title(f"Deadlines missed (of {fleets[0]['deadlines']})")
    for ax in (money, misses):
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    days = len(report["days"])
    over = report.get("diversify")
    fleet = f"; each market's cheapest types per frame on {', '.join(over)}" if over else ""
    fig.suptitle(
        f"Spot vs on-demand over {days} simulated day(s), by spot interruption rate\n"
        f"(confidence {report['confidence']:.0%}{fleet})"
    )
    fig.tight_layout()  # (the two-line title keeps a long fleet description inside the figure)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
