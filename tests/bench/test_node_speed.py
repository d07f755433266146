"""The simulation's one speed rule (``bench.node_speed``): a node renders like vCPUs / 2
reference slots plus 3 per GPU (its share of a partitioned one), in both markets."""

from __future__ import annotations

import pytest

from bench.autoscale_trace import rate_of
from bench.node_speed import CPU_RATE, node_speed, pool_speed
from providers.compute.pools import Pool


def pool(vcpus: int, slots: int, gpu: str | None = None, instance: str = "x") -> Pool:
    """A pool of one node class; a GPU pool carries one GPU."""
    return Pool("p", "aws", instance, vcpus=vcpus, gpu=gpu, gpus=1 if gpu else 0, concurrency=slots)


# (vCPUs, slots, GPU, instance type, reference slots per node, seconds per unit per slot)
SPEEDS = [
    (8, 4, None, "c7i.2xlarge", 4.0, CPU_RATE),
    # the single-type rule kept: a g5.xlarge slot renders at 2.5x a CPU slot
    (4, 2, "A10G", "g5.xlarge", 5.0, CPU_RATE / 2.5),
    # a 16-vCPU L4 node: 8 + 3, not 8 slots at 2.5x (20)
    (16, 8, "L4", "g2-standard-16", 11.0, CPU_RATE * 8 / 11),
    # a sixth of an A10
    (6, 3, "A10", "Standard_NV6ads_A10_v5", 3.5, CPU_RATE * 3 / 3.5),
]


@pytest.mark.parametrize(("vcpus", "slots", "gpu", "instance", "speed", "rate"), SPEEDS)
def test_a_gpu_adds_the_same_to_any_node_not_to_every_slot(
    vcpus: int, slots: int, gpu: str | None, instance: str, speed: float, rate: float
) -> None:
    p = pool(vcpus, slots, gpu, instance)
    assert pool_speed(p) == pytest.approx(speed)
    assert rate_of(p) == pytest.approx(rate)


def test_the_rule_is_the_same_in_both_markets() -> None:
    on_demand = Pool("a", "aws", "g6.4xlarge", vcpus=16, gpu="L4", gpus=1, concurrency=8)
    spot = Pool("b", "aws", "g6.4xlarge", vcpus=16, gpu="L4", gpus=1, concurrency=8, market="spot")
    assert rate_of(on_demand) == rate_of(spot)
    assert node_speed(48, 4) == pytest.approx(24 + 12)
