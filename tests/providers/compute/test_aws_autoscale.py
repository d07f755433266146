"""The autoscaler on an EC2 Auto Scaling group (moto's server): launch, scale-in protection,
drain and terminate, in that order. Instances do not run workers in moto: the test plays the
nodes' heartbeats (what `cloudrender worker` writes), keyed by the instance ids moto gives."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from orchestrator import keys
from orchestrator.autoscaler.ledger import DRAINED, Ledger
from orchestrator.autoscaler.loop import Autoscaler
from orchestrator.autoscaler.model import Policy
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from providers.compute.aws import group_name
from providers.compute.pools import PoolsConfig

if TYPE_CHECKING:
    from tests.providers.compute.conftest import AwsNetwork, MakePool

POLICY = Policy(
    name="queue",
    target_seconds=300.0,
    scale_up_cooldown=0.0,
    scale_down_cooldown=10.0,
    idle_timeout=10.0,
    drain_timeout=120.0,
)


def beat(store: JobStore, pool: str, instance: str, now: float, **fields: Any) -> str:
    name = f"render@{instance}"
    payload = {"name": name, "concurrency": 2, "since": now, "time": now, "pool": pool,
               "instance": instance, "queues": ["render"], **fields}  # fmt: skip
    store.redis.set(keys.node(name), json.dumps(payload), ex=60)
    return name


def group(network: AwsNetwork, name: str) -> dict[str, Any]:
    found = network.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return dict(found["AutoScalingGroups"][0])


def test_the_autoscaler_launches_protects_drains_and_terminates_on_an_asg(
    make_pool: MakePool, aws_network: AwsNetwork, aws_credentials: None, redis_url: str
) -> None:
    pool = make_pool("spot")
    store = JobStore.from_url(redis_url)
    scaler = Autoscaler(store, PoolsConfig({pool.name: pool}), POLICY)
    t0 = time.time()
    # 5,000 units x 0.05 s / 2 slots = 125 node-seconds: one node (booting 120 s) finishes
    # within the 300 s target.
    store.create(JobRecord(id="job", state=JobState.QUEUED, frames=5_000, submitted_at=t0), {})

    launch = scaler.run(t0)
    assert launch.decision.desired[pool.name] == 1
    asg = group(aws_network, group_name(pool))
    assert asg["DesiredCapacity"] == 1 and len(asg["Instances"]) == 1
    instance = asg["Instances"][0]["InstanceId"]
    ledger = Ledger(store.redis)
    assert [n.id for n in ledger.live()] == [instance]

    name = beat(store, pool.name, instance, t0 + 5, busy=2)
    busy = scaler.run(t0 + 5)
    assert group(aws_network, group_name(pool))["Instances"][0]["ProtectedFromScaleIn"]

    store.redis.zrem(keys.ACTIVE, "job")  # the job is done
    beat(store, pool.name, instance, t0 + 10, busy=0)
    idle = scaler.run(t0 + 10)
    assert not group(aws_network, group_name(pool))["Instances"][0]["ProtectedFromScaleIn"]
    drain = scaler.run(t0 + 30)
    assert store.redis.exists(keys.drain(name))
    assert group(aws_network, group_name(pool))["DesiredCapacity"] == 1  # not yet terminated

    beat(store, pool.name, instance, t0 + 35, busy=0, draining=True, drained=True)
    end = scaler.run(t0 + 35)
    asg = group(aws_network, group_name(pool))
    assert asg["DesiredCapacity"] == 0
    assert all(i["InstanceId"] != instance for i in asg["Instances"])
    state = aws_network.client("ec2").describe_instances(InstanceIds=[instance])
    assert state["Reservations"][0]["Instances"][0]["State"]["Name"] in (
        "shutting-down",
        "terminated",
    )
    record = ledger.get(instance)
    assert record is not None and record.outcome == DRAINED

    calls = [c.split(" (")[0] for r in (launch, busy, idle, drain, end) for c in r.calls]
    assert calls == [
        f"set_desired {pool.name} 1",
        f"protect {pool.name} {instance}",
        f"unprotect {pool.name} {instance}",
        f"drain {pool.name} {instance}",
        f"terminate {pool.name} {instance}",
    ]
