"""Estimates as ranges (orchestrator.estimates): the schedule, boot, spreads, spot interruptions,
billing and the recommendation, as tables of plain numbers."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from orchestrator.estimate_choice import recommend
from orchestrator.estimate_fit import JobTiming, fit_throughput, learned_overheads, merge_line
from orchestrator.estimates import Option, OptionEstimate, Overheads, estimate_option

#: No overheads: times and costs are the chunks' alone, so the tables can be worked by hand.
BARE = Overheads(startup_seconds=0.0, per_chunk_seconds=0.0, merge_seconds=0.0,
                 merge_seconds_per_frame=0.0)  # fmt: skip


def option(**changes: Any) -> Option:
    """An on-demand pool of 1..4 nodes with 2 slots, 1 s per unit, $3.60/h, no boot, no spread."""
    base = Option(
        pool="cpu",
        provider="aws",
        market="on-demand",
        instance_type="c7i.xlarge",
        min_nodes=0,
        max_nodes=4,
        slots_per_node=2,
        boot_seconds=0.0,
        price_per_hour=3.6,
        seconds_per_unit=1.0,
        spread=0.0,
    )
    return dataclasses.replace(base, **changes)


def chunks(count: int, units: float = 10.0) -> list[tuple[int, float]]:
    """`count` chunks of 10 frames and `units` units each."""
    return [(10, units)] * count


def run(plan: list[tuple[int, float]], opt: Option, **kw: Any) -> OptionEstimate:
    """estimate_option without overheads, deadline or limit unless given."""
    args: dict[str, Any] = {"deadline": None, "max_cost": None, "overheads": BARE, **kw}
    return estimate_option(plan, opt, **args)


# -- the schedule -------------------------------------------------------------------------------


def test_time_is_boot_startup_schedule_and_merge() -> None:
    overheads = Overheads(startup_seconds=2, per_chunk_seconds=0.5, merge_seconds=1,
                          merge_seconds_per_frame=0.1)  # fmt: skip
    # 6 chunks of 10 s on 1 node x 2 slots: 3 rounds of 10.5 s; merge 1 + 60 x 0.1 = 7 s.
    got = run(chunks(6), option(max_nodes=1, boot_seconds=90), overheads=overheads)
    assert got.nodes == 1
    assert got.seconds.p50 == pytest.approx(90 + 2 + 31.5 + 7)


def test_boot_time_adds_to_time_and_is_billed() -> None:
    cold = run(chunks(4), option(max_nodes=1, boot_seconds=120))
    warm = run(chunks(4), option(max_nodes=1, boot_seconds=0))
    assert cold.seconds.p50 - warm.seconds.p50 == pytest.approx(120)
    # $3.60/h is $0.001/s: 20 s of work vs 140 s of billed life.
    assert warm.cost.p50 == pytest.approx(0.06)  # the 60 s minimum
    assert cold.cost.p50 == pytest.approx(0.140)


@pytest.mark.parametrize(
    ("nodes", "seconds", "cost"),
    [
        # 40 s of work on 2 slots per node: 1 node lives 20 s, billed 60; 2 nodes 10 s, 60 each.
        (1, 20.0, 0.060),
        (2, 10.0, 0.120),
    ],
)
def test_billing_minimum_is_per_node(nodes: int, seconds: float, cost: float) -> None:
    got = run(chunks(4), option(min_nodes=nodes, max_nodes=nodes))
    assert (got.nodes, got.seconds.p50, got.cost.p50) == pytest.approx((nodes, seconds, cost))


def test_work_billing_counts_busy_slot_seconds_only() -> None:
    # This cluster: 2 running slots at $0.10 per slot-hour, chunks 40 s of work plus a 3 s merge.
    slots = option(max_nodes=1, min_nodes=1, price_per_hour=0.2, billing="work")
    overheads = dataclasses.replace(BARE, merge_seconds=3.0)
    got = run(chunks(4), slots, overheads=overheads)
    assert got.cost.p50 == pytest.approx(43 * 0.1 / 3600)
    assert got.seconds.p50 == pytest.approx(23.0)


# -- uncertainty ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spread", "low", "high"),
    [
        (0.0, 200.0, 200.0),
        # lognormal with relative sd 0.3: sigma 0.2936, p10/p90 at exp(-+1.2816 sigma)
        (0.3, 200 * math.exp(-1.2816 * 0.29356), 200 * math.exp(1.2816 * 0.29356)),
    ],
)
def test_spread_widens_the_range(spread: float, low: float, high: float) -> None:
    # 200 s on one node: above the billing minimum, so the cost moves with the time.
    got = run(chunks(4, units=100.0), option(max_nodes=1, spread=spread))
    assert got.seconds.p50 == pytest.approx(200.0)
    assert (got.seconds.low, got.seconds.high) == pytest.approx((low, high), rel=1e-3)
    if spread:
        assert got.cost.low < got.cost.p50 < got.cost.high


def test_a_wider_spread_gives_a_wider_range() -> None:
    narrow = run(chunks(8), option(spread=0.2))
    wide = run(chunks(8), option(spread=0.6))
    assert wide.seconds.low < narrow.seconds.low < narrow.seconds.high < wide.seconds.high


def test_spot_interruptions_add_time_and_cost() -> None:
    plan = chunks(40, units=100.0)  # 100-s chunks: longer than GCP's 30-s notice
    on_demand = run(plan, option(max_nodes=2, boot_seconds=60))
    spot = run(
        plan,
        option(
            max_nodes=2, boot_seconds=60, market="spot", interruption_rate=2.0, notice_seconds=30
        ),  # fmt: skip
    )
    assert spot.interruptions > 0
    assert spot.seconds.p50 > on_demand.seconds.p50
    assert spot.seconds.high > on_demand.seconds.high
    assert spot.cost.p50 > on_demand.cost.p50
    # 2 nodes render 1000 s: 2 x 1000/3600 x 2/h = 1.11 interruptions expected, each costing
    # half a chunk and a replacement's boot, shared by the 2 nodes: (50 + 60) / 2 = 55 s.
    assert spot.interruptions == pytest.approx(2 * 2.0 * 1000 / 3600)
    assert spot.seconds.p50 - on_demand.seconds.p50 == pytest.approx(spot.interruptions * 55)


def test_chunks_shorter_than_the_notice_lose_no_work() -> None:
    plan = chunks(40, units=100.0)
    spot = option(max_nodes=1, boot_seconds=60, market="spot", interruption_rate=1.0)
    long_notice = run(plan, dataclasses.replace(spot, notice_seconds=120))
    short_notice = run(plan, dataclasses.replace(spot, notice_seconds=30))
    lost = short_notice.seconds.p50 - long_notice.seconds.p50
    assert lost == pytest.approx(long_notice.interruptions * 50)


# -- nodes and deadlines --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "nodes", "note"),
    [
        (None, 4, ""),  # no deadline: as many as may help
        (100.0, 1, ""),  # 8 chunks of 10 s on 2 slots: 40 s
        (30.0, 2, ""),
        (10.0, 4, ""),
        (5.0, 4, "even 4 node(s) miss the deadline at p90"),  # one chunk takes 10 s
    ],
)
def test_fewest_nodes_whose_p90_meets_the_deadline(
    deadline: float | None, nodes: int, note: str
) -> None:
    got = run(chunks(8), option(), deadline=deadline)
    assert (got.nodes, got.note) == (nodes, note)


@pytest.mark.parametrize(
    ("max_cost", "nodes"),
    [
        (None, 4),
        (1.0, 4),
        # 8 chunks of 100 s on 2 slots a node, each node billed for its 90-s boot too:
        # 1 node $0.49, 2 nodes $0.58, 4 nodes $0.76.
        (0.6, 2),
        (0.5, 1),
        (0.1, 1),  # nothing fits: the cheapest
    ],
)
def test_without_a_deadline_as_many_nodes_as_the_limit_allows(
    max_cost: float | None, nodes: int
) -> None:
    plan = chunks(8, units=100.0)
    got = run(plan, option(boot_seconds=90), max_cost=max_cost)
    assert got.nodes == nodes


def test_never_more_nodes_than_the_chunks_keep_busy() -> None:
    assert run(chunks(3), option(max_nodes=10)).nodes == 2


def test_deadline_probability() -> None:
    sure = run(chunks(8), option(max_nodes=1, spread=0.0), deadline=40.0)
    missed = run(chunks(8), option(max_nodes=1, spread=0.0), deadline=39.0)
    assert (sure.deadline_probability, missed.deadline_probability) == (1.0, 0.0)
    # At the median time the throughput factor is 1: half the draws are later.
    spread = run(chunks(8), option(max_nodes=1, spread=0.3), deadline=40.0)
    assert spread.deadline_probability == pytest.approx(0.5, abs=0.01)
    later = run(chunks(8), option(max_nodes=1, spread=0.3), deadline=60.0)
    assert 0.9 < (later.deadline_probability or 0) < 1
    assert run(chunks(8), option()).deadline_probability is None


def test_interruptions_lower_the_deadline_probability() -> None:
    plan = chunks(20, units=100.0)
    base = option(max_nodes=1, boot_seconds=120, spread=0.1)
    deadline = run(plan, base).seconds.high
    spot = dataclasses.replace(base, market="spot", interruption_rate=3.0, notice_seconds=30)
    assert (run(plan, spot, deadline=deadline).deadline_probability or 0) < (
        run(plan, base, deadline=deadline).deadline_probability or 0
    )


def test_within_budget_uses_the_high_cost() -> None:
    plan, opt = chunks(8, units=100.0), option(max_nodes=1, spread=0.3)
    got = run(plan, opt)
    assert run(plan, opt, max_cost=got.cost.high).within_budget
    assert not run(plan, opt, max_cost=got.cost.p50).within_budget


def test_an_empty_plan_costs_only_the_merge() -> None:
    overheads = dataclasses.replace(BARE, merge_seconds=3.6)
    got = run([], option(billing="work", max_nodes=1, slots_per_node=1), overheads=overheads)
    assert got.seconds.p50 == pytest.approx(3.6)
    assert got.cost.p50 == pytest.approx(0.0036)


@pytest.mark.parametrize(
    "changes",
    [
        {"max_nodes": 0},
        {"min_nodes": 5},
        {"slots_per_node": 0},
        {"seconds_per_unit": 0.0},
        {"spread": -0.1},
        {"market": "reserved"},
        {"billing": "hourly"},
    ],
)
def test_an_impossible_option_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        option(**changes)


# -- the recommendation ---------------------------------------------------------------------------


def priced(name: str, market: str, cost: float, seconds: float, chance: float | None,
           high: float | None = None) -> OptionEstimate:  # fmt: skip
    """An estimate with these medians, P(deadline) and high cost (1.2 x median by default)."""
    from orchestrator.estimates import Range

    return OptionEstimate(
        option=option(pool=name, market=market),
        nodes=1,
        seconds=Range(seconds * 0.8, seconds, seconds * 1.2),
        cost=Range(cost * 0.8, cost, high if high is not None else cost * 1.2),
        deadline_probability=chance,
        within_budget=True,
        interruptions=0.0,
    )


SPOT = priced("cpu-spot", "spot", cost=1.0, seconds=900, chance=0.97)
RISKY_SPOT = priced("gpu-spot", "spot", cost=0.5, seconds=1200, chance=0.6)
ON_DEMAND = priced("cpu", "on-demand", cost=3.0, seconds=600, chance=0.999)
FAST = priced("gpu", "on-demand", cost=6.0, seconds=300, chance=0.999)


@pytest.mark.parametrize(
    ("options", "deadline", "max_cost", "chosen", "reason"),
    [
        # The cheapest that is sure enough, not the cheapest at all.
        ([RISKY_SPOT, SPOT, ON_DEMAND], 1800, None, "cpu-spot", "makes the deadline with 97 %"),
        # No spot capacity: the spot pools are absent, on-demand is taken.
        ([ON_DEMAND, FAST], 1800, None, "cpu", "cheapest option that makes the deadline"),
        # Without a deadline: the cheapest.
        ([RISKY_SPOT, SPOT, ON_DEMAND], None, None, "gpu-spot", "(no deadline)"),
        # max_cost excludes by the high cost: the sure on-demand fits, the fast one does not.
        ([ON_DEMAND, FAST], 1800, 4.0, "cpu", "within $4.0000"),
        # No slack (no option is sure enough): the likeliest to make it within the limit.
        (
            [priced("a", "spot", 1, 900, 0.1), priced("b", "on-demand", 2, 500, 0.4)],
            400,
            None,
            "b",
            "no option makes the deadline with 95 %; the likeliest makes it with 40 %",
        ),
        # ...but never one above the limit.
        ([RISKY_SPOT, FAST], 100, 1.0, "gpu-spot", "the likeliest makes it with 60 %"),
        # Alike but for float noise (a spot term of microseconds): the cheaper, not the dearer.
        (
            [
                priced("s", "spot", 1, 93.508243, 0.78127),
                priced("o", "on-demand", 2.4, 93.508167, 0.78127),
            ],
            95,
            None,
            "s",
            "the likeliest makes it with 78 %",
        ),
        # A better chance wins over a shorter median time.
        (
            [priced("a", "spot", 1, 90, 0.7), priced("b", "on-demand", 2, 80, 0.5)],
            95,
            None,
            "a",
            "the likeliest makes it with 70 %",
        ),
        # Nothing within the limit.
        ([SPOT, ON_DEMAND], 1800, 0.5, None, "nothing fits max_cost $0.5000"),
        # Budget exhausted: nothing is left to spend.
        ([SPOT, ON_DEMAND], 1800, 0.0, None, "the cheapest, cpu-spot (spot), may cost up to"),
        ([], 1800, None, None, "no pool matches"),
    ],
)
def test_recommend(
    options: list[OptionEstimate],
    deadline: float | None,
    max_cost: float | None,
    chosen: str | None,
    reason: str,
) -> None:
    got = recommend(options, deadline, max_cost)
    assert (got.choice.option.pool if got.choice else None) == chosen
    assert reason in got.reason and "\n" not in got.reason


def test_confidence_is_the_bar() -> None:
    assert recommend([RISKY_SPOT, SPOT], 1800, None, confidence=0.5).choice is RISKY_SPOT
    assert recommend([RISKY_SPOT, SPOT], 1800, None, confidence=0.99).choice is SPOT  # likelier
    with pytest.raises(ValueError):
        recommend([SPOT], 1800, None, confidence=0.0)


# -- overheads learned from finished jobs ---------------------------------------------------------


def test_overheads_are_learned_from_the_first_finished_job() -> None:
    prior = Overheads()
    assert learned_overheads([], prior) == prior
    one = JobTiming(frames=3600, startup_seconds=0.05, merge_seconds=0.115, chunk_gap=0.012)
    learned = learned_overheads([one], prior)
    # the one job's planning, gap and merge, not the prior's until two more jobs finish
    assert (learned.startup_seconds, learned.per_chunk_seconds) == (0.05, 0.012)
    assert learned.merge(3600) == pytest.approx(0.115)
    # the prior's line scaled through it: a shorter job merges in proportion
    assert learned.merge(600) == pytest.approx(0.115 * prior.merge(600) / prior.merge(3600))
    jobs = [
        JobTiming(frames=100, startup_seconds=1.0, merge_seconds=0.5),
        JobTiming(frames=200, startup_seconds=2.0, merge_seconds=1.0),
        JobTiming(frames=100, startup_seconds=60.0, merge_seconds=50.0),
    ]
    learned = learned_overheads(jobs, prior)
    assert learned.startup_seconds == 2.0  # the median: one slow job does not move it
    assert learned.per_chunk_seconds == prior.per_chunk_seconds  # no job measured a gap
    gapped = [
        dataclasses.replace(j, chunk_gap=g) for j, g in zip(jobs, (0.02, 0.03, 0.5), strict=True)
    ]
    assert learned_overheads(gapped, prior).per_chunk_seconds == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("merges", "fixed", "per_frame"),
    [
        # the 2026-12-07 quiet run's first three jobs: about 25 ms plus 24 us a frame
        ([(3600, 0.115), (600, 0.042), (1350, 0.053)], 0.0275, 0.0000243),
        # its first seven, one slow merge among them (240 frames in 0.207 s): hardly tilted
        (
            [
                (3600, 0.115),
                (600, 0.042),
                (1350, 0.053),
                (240, 0.207),
                (3600, 0.129),
                (150, 0.036),
                (1350, 0.055),
            ],
            0.0334,
            0.0000173,
        ),
        # longer jobs merging faster: no negative seconds per frame
        ([(100, 0.5), (1000, 0.2)], 0.35, 0.0),
        # all of one length: the prior's line scaled through their median
        ([(500, 0.1), (500, 0.3), (500, 0.2)], 0.2 * 0.025 / 0.0385, 0.2 * 0.000027 / 0.0385),
    ],
)
def test_the_merge_is_learned_as_a_robust_line(
    merges: list[tuple[int, float]], fixed: float, per_frame: float
) -> None:
    assert merge_line(merges, Overheads()) == pytest.approx((fixed, per_frame), rel=0.01)


def test_idle_seconds_are_waited_not_billed() -> None:
    """The first chunk's pick-up and the merge's hand-over: in the time, not in the work cost."""
    chunks = [(10, 1.0)] * 4
    work = option(billing="work", min_nodes=1, max_nodes=1)
    plain = estimate_option(chunks, work, deadline=None, max_cost=None, overheads=BARE)
    idle = dataclasses.replace(BARE, idle_seconds=0.25)
    waited = estimate_option(chunks, work, deadline=None, max_cost=None, overheads=idle)
    assert waited.seconds.p50 == pytest.approx(plain.seconds.p50 + 0.25)
    assert waited.cost.p50 == pytest.approx(plain.cost.p50)
    jobs = [
        JobTiming(frames=100, startup_seconds=0.1, merge_seconds=0.1, idle_seconds=i)
        for i in (0.08, 0.12, 3.0)
    ]
    assert learned_overheads(jobs).idle_seconds == pytest.approx(0.12)
    assert learned_overheads(jobs[:1]).idle_seconds == pytest.approx(0.08)
    unknown = [dataclasses.replace(j, idle_seconds=None) for j in jobs]
    assert learned_overheads(unknown).idle_seconds == Overheads().idle_seconds


def test_the_prior_prices_a_jobs_overheads_as_the_development_cluster_measured_them() -> None:
    # A 2-minute 320x180 job of 30 chunks on 2 slots, before any job finished: planning, 15
    # gaps on each slot and the merge were 2.8 s (half the 5.8 s the job took), not 0.3 s.
    prior = Overheads()
    overheads = prior.startup_seconds + 15 * prior.per_chunk_seconds + prior.merge(3600)
    assert overheads == pytest.approx(0.3, abs=0.1)


def timing(frames: int, units: float, busy: float) -> JobTiming:
    """A finished job of this cluster that rendered every frame."""
    return JobTiming(frames, 0.5, 0.2, busy_seconds=busy, rendered_frames=frames, units=units)


def test_fit_recovers_a_per_frame_and_a_per_unit_cost() -> None:
    # 8 ms per frame whatever it shows, 80 ms per unit: small simple frames are mostly the first.
    jobs = [timing(f, u, f * 0.008 + u * 0.08) for f, u in [(3600, 330), (600, 180), (240, 284)]]
    fit = fit_throughput(jobs)
    assert fit is not None and fit.samples == 3
    assert (fit.seconds_per_frame, fit.seconds_per_unit) == pytest.approx((0.008, 0.08))
    assert fit.spread == 0.05  # the floor: a perfect fit of three jobs proves little


def test_fit_needs_three_jobs_that_rendered() -> None:
    jobs = [timing(100, 10, 2.0), timing(200, 50, 5.0), JobTiming(100, 0.5, 0.2)]
    assert fit_throughput(jobs) is None


def test_fit_falls_back_to_one_term_when_jobs_cannot_tell_them_apart() -> None:
    alike = [timing(100 * n, 10.0 * n, 1.0 * n) for n in (1, 2, 3, 4)]
    fit = fit_throughput(alike)
    assert fit is not None
    predicted = 500 * fit.seconds_per_frame + 50 * fit.seconds_per_unit
    assert predicted == pytest.approx(5.0)
    assert 0.0 in (fit.seconds_per_frame, fit.seconds_per_unit)


def test_fit_keeps_the_cost_per_unit_when_jobs_cannot_tell_it_from_one_per_frame() -> None:
    # Three renders of one project (a 2-minute 320x180 one: 0.19 units a frame) say as much for
    # a cost per frame as for one per unit; per frame, a 4-layer project of 1.4 units a frame
    # was priced at the 320x180 one's seconds a frame: -49 % in a replay of the two in turn.
    same = [timing(3600, 673.0, b) for b in (7.5, 7.6, 7.4)]
    fit = fit_throughput(same)
    assert fit is not None
    assert (fit.seconds_per_frame, fit.seconds_per_chunk) == (0.0, 0.0)
    assert fit.seconds_per_unit == pytest.approx(7.5 / 673.0, rel=0.01)


def test_fit_spread_is_the_scatter_and_newer_jobs_weigh_more() -> None:
    steady = [timing(1000, 100.0, 10.0)] * 3 + [timing(1000, 300.0, 26.0)] * 3
    noisy = [timing(1000, 100.0, b) for b in (7.0, 13.0, 10.0)] + steady[3:]
    quiet, loud = fit_throughput(steady), fit_throughput(noisy)
    assert quiet is not None and loud is not None and loud.spread > 0.1 > quiet.spread
    # The same jobs, the three newest (first) twice as slow: the fit follows them.
    slower = [timing(1000, u, 2 * b) for u, b in [(100.0, 10.0), (300.0, 26.0), (200.0, 18.0)]]
    recent = fit_throughput(slower + steady, decay=0.5)
    assert recent is not None
    assert 1000 * recent.seconds_per_frame + 200 * recent.seconds_per_unit > 30.0


def test_fit_finds_the_cost_of_starting_a_chunk() -> None:
    # half a second per chunk (the render process, the upload) and 20 ms per unit
    shapes = [
        (30, 3600, 700.0),
        (5, 600, 400.0),
        (11, 1350, 600.0),
        (1, 150, 350.0),
        (2, 240, 90.0),
    ]
    jobs = [dataclasses.replace(timing(f, u, 0.5 * n + 0.02 * u), chunks=n) for n, f, u in shapes]
    fit = fit_throughput(jobs)
    assert fit is not None
    assert (fit.seconds_per_chunk, fit.seconds_per_frame, fit.seconds_per_unit) == pytest.approx(
        (0.5, 0.0, 0.02), abs=1e-6
    )
    # jobs that a cost per chunk alone would explain still get a price per frame or unit
    flat = [dataclasses.replace(timing(f, u, 0.5 * n), chunks=n) for n, f, u in shapes]
    only = fit_throughput(flat)
    assert only is not None and only.seconds_per_frame + only.seconds_per_unit > 0
    # without chunk counts the chunk term is not tried
    blind = fit_throughput([dataclasses.replace(j, chunks=0) for j in jobs])
    assert blind is not None and blind.seconds_per_chunk == 0.0


def test_a_job_of_fewer_chunks_than_slots_runs_faster() -> None:
    slots = option(max_nodes=1, min_nodes=1, billing="work")
    lone = dataclasses.replace(slots, cores_per_node=2.0, chunk_parallelism=1.5)
    one, many = chunks(1), chunks(4)
    assert run(one, lone).seconds.p50 == pytest.approx(run(one, slots).seconds.p50 / 1.5)
    assert run(one, lone).cost.p50 == pytest.approx(run(one, slots).cost.p50 / 1.5)
    # a full node: as learned
    assert run(many, lone).seconds.p50 == pytest.approx(run(many, slots).seconds.p50)


def test_a_chunk_pays_its_start() -> None:
    started = dataclasses.replace(option(max_nodes=1, slots_per_node=1), seconds_per_chunk=0.5)
    assert run(chunks(4), started).seconds.p50 == pytest.approx(4 * (10.0 + 0.5))


def test_a_hopeless_spot_pool_is_estimated_not_hung() -> None:
    storm = option(max_nodes=1, boot_seconds=60, market="spot", interruption_rate=5000.0)
    got = run(chunks(40, units=100.0), storm, deadline=3600.0)
    assert got.interruptions > 500 and got.deadline_probability == 0.0
    assert got.seconds.low < got.seconds.p50 < got.seconds.high
