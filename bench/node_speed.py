"""How fast a simulated node renders: one rule for every node class, in both markets.

A node's speed is counted in *reference slots* (one worker slot of a 2-vCPU CPU node, the
catalogue's ``relative_speed`` unit): its vCPUs / 2 (the catalogue's relative speed, CPU and GPU
types alike) plus ``GPU_SLOTS`` for each whole GPU it carries (a partitioned GPU its share).
It has vCPUs / 2 worker slots, which share that speed evenly. ``GPU_SLOTS`` keeps the
simulation's single-type rule: a g5.xlarge (4 vCPUs, one A10G, 2 slots) renders like 5
reference slots, each of its slots at 2.5x a CPU slot. One GPU adds the same whatever its model
(no measured speed per GPU model yet), so a 16-vCPU L4 node renders like 8 + 3 = 11 reference
slots, not like 8 slots at 2.5x (20): a GPU speeds up its node, not every vCPU beside it.
"""

from __future__ import annotations

from providers.compute.pools import Pool

#: Seconds one reference slot takes per unit of work.
CPU_RATE = 0.025
#: Reference slots one whole GPU adds to its node (see the module docstring).
GPU_SLOTS = 3.0
#: The share of a GPU a partitioned-GPU type gets: Azure's NVadsA10 v5 sizes are 1/6 and 1/3 of
#: an A10 (learn.microsoft.com, "NVadsA10 v5-series", checked 2026-12-07); others a whole GPU.
GPU_SHARE = {"Standard_NV6ads_A10_v5": 1 / 6, "Standard_NV12ads_A10_v5": 1 / 3}


def node_speed(vcpus: float, gpus: float, instance_type: str = "") -> float:
    """Reference slots a node of `vcpus` and `gpus` GPUs renders like."""
    share = GPU_SHARE.get(instance_type, 1.0)
    return max(vcpus / 2, 0.5) + GPU_SLOTS * max(gpus, 0) * share


def pool_speed(pool: Pool) -> float:
    """Reference slots one node of the pool renders like (a GPU pool has at least one GPU)."""
    gpus = max(pool.gpus, 1) if pool.has_gpu else 0
    return node_speed(pool.vcpus, gpus, pool.instance_type)


def seconds_per_unit(pool: Pool) -> float:
    """Seconds one of the pool's worker slots takes per unit of work."""
    return CPU_RATE * max(pool.concurrency, 1) / pool_speed(pool)
