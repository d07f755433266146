"""The fair-comparison rules of ``bench/spot_sim.py --diversify``: which offers each fleet gets,
by price per frame, and the bound on what spot can save."""

from __future__ import annotations

import pytest

from bench import spot_fleets
from bench.autoscale_sim import Farm
from bench.autoscale_trace import Job, bench_pools, trace
from orchestrator.autoscaler.model import JobDemand, Policy
from orchestrator.autoscaler.sizing import CHUNK_UNITS
from providers.compute.prices.catalogue import Offer


def offer(
    name: str,
    on_demand: float,
    spot: float | None,
    vcpus: int = 8,
    provider: str = "aws",
    region: str = "us-east-1",
    gpu: str | None = None,
    nvenc: bool = False,
) -> Offer:
    """A catalogue offer whose relative speed is vCPUs / 2, as the shipped catalogue's."""
    return Offer(
        provider=provider, region=region, instance_type=name, vcpus=vcpus, memory_gb=16.0,
        gpu=gpu, gpus=1 if gpu else 0, nvenc=nvenc, nvdec=nvenc, nvenc_sessions=None,
        on_demand=on_demand, spot=spot, interruption_low=0.001, interruption_high=0.01,
        relative_speed=vcpus / 2, date="2025-10-01", source="test",
    )  # fmt: skip


OFFERS = [
    # CPU per slot-hour: big (8 slots) on demand 0.080, spot 0.040; small (4 slots) 0.090 /
    # 0.030; gcp 0.070 / 0.020
    offer("big", 0.64, 0.32, vcpus=16),
    offer("small", 0.36, 0.12),
    offer("cheap-gcp", 0.28, 0.08, provider="gcp", region="us-central1"),
    # GPU: one with NVENC, one without (never chosen), one without a spot market
    offer("gpu-a", 1.0, 0.40, vcpus=4, gpu="A10G", nvenc=True),
    offer("gpu-no-nvenc", 0.1, 0.01, vcpus=4, gpu="V100", nvenc=False),
    offer("gpu-b", 0.9, None, vcpus=4, gpu="T4", nvenc=True),
]

# (providers, spread, kind, on-demand pick, spot picks in order)
CHOICES = [
    (["aws"], 2, "cpu", "big", ["small", "big"]),
    (["aws"], 1, "cpu", "big", ["small"]),
    (["aws", "gcp"], 2, "cpu", "cheap-gcp", ["cheap-gcp", "small"]),
    (["aws"], 3, "gpu", "gpu-b", ["gpu-a"]),
]


@pytest.mark.parametrize(("providers", "spread", "kind", "on_demand", "spot"), CHOICES)
def test_each_fleet_takes_the_cheapest_per_frame_from_the_same_offers(
    providers: list[str], spread: int, kind: str, on_demand: str, spot: list[str]
) -> None:
    chosen = spot_fleets.choose(OFFERS, providers, spread)[kind]
    assert [c.offer.instance_type for c in chosen["on-demand"]] == [on_demand]
    assert [c.offer.instance_type for c in chosen["spot"]] == spot


# (providers, kind, bound share): cheapest spot per frame over the on-demand pick's
BOUNDS = [
    (["aws"], "cpu", 0.030 / 0.080),  # small's spot against big's on-demand
    (["aws", "gcp"], "cpu", 0.020 / 0.070),
    (["aws"], "gpu", 0.20 / 0.45),
]


@pytest.mark.parametrize(("providers", "kind", "share"), BOUNDS)
def test_the_bound_is_the_cheapest_spot_frame_over_the_baselines(
    providers: list[str], kind: str, share: float
) -> None:
    chosen = spot_fleets.choose(OFFERS, providers, 3)
    assert spot_fleets.spot_bound_share(chosen, kind) == pytest.approx(share)


def test_a_pool_holds_the_same_slots_whatever_its_node_size() -> None:
    chosen = spot_fleets.choose(OFFERS, ["aws"], 2)["cpu"]
    pools = {c.offer.instance_type: c.pool() for c in chosen["spot"]}
    assert pools["big"].concurrency == 8 and pools["big"].max_nodes == 12
    assert pools["small"].concurrency == 4 and pools["small"].max_nodes == 24
    assert pools["small"].spot and pools["small"].price_per_hour == 0.12


def test_a_big_gpu_node_is_priced_by_its_speed_not_its_slots() -> None:
    # Per slot the 16-vCPU node looks cheaper (1.20 / 8 against 0.526 / 2); per frame it is
    # not (1.20 / 11 against 0.526 / 5): its one GPU speeds up the node, not each slot.
    offers = [
        offer("gpu-16", 1.20, 0.50, vcpus=16, gpu="T4", nvenc=True),
        offer("gpu-4", 0.526, 0.22, vcpus=4, gpu="T4", nvenc=True),
        offer("cpu", 0.36, 0.12),
    ]
    chosen = spot_fleets.choose(offers, ["aws"], 2)["gpu"]
    assert [c.offer.instance_type for c in chosen["on-demand"]] == ["gpu-4"]
    assert [c.offer.instance_type for c in chosen["spot"]] == ["gpu-4", "gpu-16"]


# (vCPUs, GPU model or None, nodes): whole nodes covering 96 CPU or 40 GPU reference slots
CAPACITY = [(8, None, 24), (16, None, 12), (4, "A10G", 8), (16, "L4", 4), (8, "T4", 6)]


@pytest.mark.parametrize(("vcpus", "gpu", "nodes"), CAPACITY)
def test_every_pool_covers_the_same_speed_in_whole_nodes(
    vcpus: int, gpu: str | None, nodes: int
) -> None:
    choice = spot_fleets.Choice(
        "gpu" if gpu else "cpu", "spot", offer("o", 1.0, 0.4, vcpus=vcpus, gpu=gpu, nvenc=True)
    )
    made = choice.pool()
    assert made.max_nodes == nodes
    assert nodes * choice.speed >= spot_fleets.SPEED_CAP[choice.kind]
    assert (nodes - 1) * choice.speed < spot_fleets.SPEED_CAP[choice.kind]
    assert made.gpus == (1 if gpu else 0)


def test_no_offer_of_a_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no gpu offer from gcp"):
        spot_fleets.choose(OFFERS, ["gcp"], 2)


def test_each_cloud_reclaims_after_its_own_notice() -> None:
    # A GCP spot node noticed at once is gone after 30 s, an AWS one after 120 s.
    chosen = spot_fleets.choose(OFFERS, ["aws", "gcp"], 2)["cpu"]
    pools = {c.name: c.pool() for c in chosen["spot"]}
    farm = Farm(
        "t", trace(1, 0.01), pools, 1, 15.0, policy=Policy(name="deadline"),
        notice_rate=1e9, notice_seconds={"aws": 120.0, "gcp": 30.0},
    )  # fmt: skip
    lives = {}
    for pool in pools.values():
        node = farm._launch(pool, 0.0, boots=True)
        node.booted = 0.0
        lives[pool.provider] = node
    farm._advance(0.0, 15.0, [])
    farm._advance(15.0, 200.0, [])
    assert lives["gcp"].ended == pytest.approx(30.0)
    assert lives["aws"].ended == pytest.approx(120.0)


def test_at_small_job_sizes_a_small_gpu_node_ranks_before_a_cheaper_per_frame_big_one() -> None:
    # Per frame at list price the 48-vCPU node is cheaper (1.00 / 27 against 0.22 / 5); a
    # history of small GPU jobs (6 chunks, within the 10-minute target) leaves 18 of its 24
    # slots idle and bills its 180 s boot at $1.00/h for each: the small node ranks first.
    offers = [
        offer("gpu-48", 4.0, 1.00, vcpus=48, gpu="T4", nvenc=True),
        offer("gpu-4", 0.526, 0.22, vcpus=4, gpu="T4", nvenc=True),
        offer("cpu", 0.36, 0.12),
    ]
    by_list = spot_fleets.choose(offers, ["aws"], 2)["gpu"]["spot"]
    assert [c.offer.instance_type for c in by_list] == ["gpu-48", "gpu-4"]
    small = [JobDemand(f"j{i}", 6 * CHUNK_UNITS, None, needs_gpu=True) for i in range(20)]
    sizes = spot_fleets.Sizes(small + [JobDemand("c", 6 * CHUNK_UNITS, None)], Policy())
    by_size = spot_fleets.choose(offers, ["aws"], 2, sizes)["gpu"]["spot"]
    assert [c.offer.instance_type for c in by_size] == ["gpu-4", "gpu-48"]
    # Days of work in one job fill the big node: its list price per frame wins again.
    big = spot_fleets.Sizes([JobDemand("b", 1e8, None, needs_gpu=True)], Policy())
    by_big = spot_fleets.choose(offers, ["aws"], 2, big)["gpu"]["spot"]
    assert [c.offer.instance_type for c in by_big] == ["gpu-48", "gpu-4"]


def test_a_kind_without_jobs_in_the_history_ranks_by_list_price() -> None:
    sizes = spot_fleets.Sizes([JobDemand("g", 1000.0, None, needs_gpu=True)], Policy())
    chosen = spot_fleets.choose(OFFERS, ["aws"], 2, sizes)["cpu"]
    assert [c.offer.instance_type for c in chosen["spot"]] == ["small", "big"]


@pytest.mark.parametrize(("edf", "soon_runs"), [(True, 1), (False, 0)])
def test_a_job_far_behind_does_not_take_every_slot_from_a_job_due_sooner(
    edf: bool, soon_runs: int
) -> None:
    # The far job (400 chunks due in 1000 s) is escalated at once; the job due sooner (one
    # chunk due in 300 s) is not. With edf_levels it gets one of the node's 4 slots at once;
    # each job at its own escalation (before 2026-12-07), the far job takes all 4.
    far = Job("far", 100.0, 400 * CHUNK_UNITS, 1100.0, False, "normal", 400)
    soon = Job("soon", 100.0, 500.0, 400.0, False, "normal", 1)
    cpu = bench_pools()["cpu-od"]
    farm = Farm("t", [far, soon], {"cpu-od": cpu}, 1, 15.0, fixed={"cpu-od": 1},
                edf_escalation=edf)  # fmt: skip
    farm._advance(100.0, 101.0, farm.jobs)
    running = {j.id: j.running for j in farm.jobs}
    assert running == {"far": 4 - soon_runs, "soon": soon_runs}
