"""The autoscaler's shell on a real job store with the in-memory engine: launches, boots,
drain-safe scale-in, failed boots, outages and dry runs. The test plays the nodes' heartbeats
(what `cloudrender worker` writes), as no machine runs behind the in-memory engine."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator import keys
from orchestrator.autoscaler.ledger import DRAINED, FAILED_BOOT, LOST, Ledger
from orchestrator.autoscaler.loop import Autoscaler, pool_records
from orchestrator.autoscaler.model import Policy
from orchestrator.autoscaler.observe import job_demands, load_pool_state
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from providers.compute.base import ComputeError
from providers.compute.memory import MemoryCompute
from providers.compute.pools import Pool, PoolConfigError, PoolsConfig

T0 = 1_800_000_000.0
POOL = Pool("cpu", "memory", max_nodes=4, boot_seconds=30.0, price_per_hour=1.0, concurrency=1)
POLICY = Policy(
    name="queue",
    target_seconds=300.0,
    scale_up_cooldown=0.0,
    scale_down_cooldown=30.0,
    idle_timeout=20.0,
    drain_timeout=60.0,
)


class Clock:
    """Simulated time shared by the engine and the rounds."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(redis_url: str) -> Iterator[JobStore]:
    yield JobStore.from_url(redis_url)


def scaler(store: JobStore, engine: MemoryCompute, policy: Policy = POLICY) -> Autoscaler:
    config = PoolsConfig({"cpu": POOL})
    return Autoscaler(store, config, policy, engines={"cpu": engine})


def submit(store: JobStore, job_id: str, frames: int, now: float) -> None:
    # 2 units a frame: 0.05 s of work a frame at the prior's 0.025 s per unit
    record = JobRecord(
        id=job_id, state=JobState.QUEUED, frames=frames, submitted_at=now, complexity=2.0
    )
    store.create(record, {})


def finish(store: JobStore, job_id: str) -> None:
    store.redis.zrem(keys.ACTIVE, job_id)


def beat(
    store: JobStore, node_id: str, now: float, *, busy: int = 0, drained: bool = False
) -> None:
    """A worker's heartbeat, as orchestrator.node_signals writes it."""
    name = f"render-{node_id}@host"
    payload = {
        "name": name,
        "concurrency": 1,
        "since": now,
        "time": now,
        "pool": "cpu",
        "instance": node_id,
        "busy": busy,
        "draining": drained,
        "drained": drained,
        "queues": ["render"],
    }
    store.redis.set(keys.node(name), json.dumps(payload), ex=60)


def test_work_launches_nodes_and_an_empty_queue_drains_then_terminates_them(
    store: JobStore,
) -> None:
    clock = Clock()
    engine = MemoryCompute(clock)
    # 10,000 units x 0.05 s = 500 node-seconds; 300 s less a 30 s boot asks for 2 nodes.
    submit(store, "job", 10_000, T0)
    first = scaler(store, engine).run(T0)
    assert first.decision.desired["cpu"] == 2
    assert engine.desired(POOL) == 2 and first.calls[0].startswith("set_desired cpu 2")
    ids = [n.id for n in engine.nodes(POOL)]
    ledger = Ledger(store.redis)
    assert sorted(n.id for n in ledger.live()) == sorted(ids)

    clock.now = T0 + 40
    for node_id in ids:
        beat(store, node_id, clock.now, busy=1)
    scaler(store, engine).run(clock.now)
    assert all(n.booted_at == clock.now for n in ledger.live())
    assert [n.protected for n in ledger.live()] == [True, True]  # busy: shielded

    # The job ends; the nodes go idle, then are drained (not killed) after idle_timeout.
    finish(store, "job")
    clock.now = T0 + 80
    for node_id in ids:
        beat(store, node_id, clock.now, busy=0)
    scaler(store, engine).run(clock.now)
    clock.now = T0 + 120
    result = scaler(store, engine).run(clock.now)
    assert result.decision.desired["cpu"] == 0
    drains = [c for c in result.calls if c.startswith("drain")]
    assert len(drains) == 2
    names = [f"render-{i}@host" for i in ids]
    assert all(store.redis.exists(keys.drain(n)) for n in names)
    assert engine.desired(POOL) == 2  # nothing terminated before the nodes say they drained

    clock.now = T0 + 125
    beat(store, ids[0], clock.now, drained=True)
    beat(store, ids[1], clock.now, busy=1)  # still finishing a chunk
    result = scaler(store, engine).run(clock.now)
    assert f"terminate cpu {ids[0]} (drained)" in result.calls
    assert [n.id for n in engine.nodes(POOL)] == [ids[1]] and engine.desired(POOL) == 1
    gone = ledger.get(ids[0])
    assert gone is not None and gone.outcome == DRAINED and gone.terminated_at is not None
    assert not store.redis.exists(keys.drain(names[0]))

    records = {r["pool"]: r for r in pool_records(store.redis)}
    assert records["cpu"]["draining"] == 1 and records["cpu"]["desired"] == 0


def test_new_work_calls_a_drain_off_before_launching(store: JobStore) -> None:
    clock = Clock()
    engine = MemoryCompute(clock)
    engine.set_desired(POOL, 1)
    node_id = engine.nodes(POOL)[0].id
    beat(store, node_id, T0)
    scaler(store, engine).run(T0)
    clock.now = T0 + 60
    beat(store, node_id, clock.now)
    result = scaler(store, engine).run(clock.now)
    assert any(c.startswith("drain") for c in result.calls)
    submit(store, "late", 3_000, clock.now)
    clock.now += 5
    beat(store, node_id, clock.now)
    result = scaler(store, engine).run(clock.now)
    assert f"undrain cpu {node_id} (needed again)" in result.calls
    assert not store.redis.exists(keys.drain(f"render-{node_id}@host"))
    assert engine.desired(POOL) == 1  # the warm node was kept, nothing launched


def test_a_node_that_never_boots_is_replaced_and_repeated_failures_back_off(
    store: JobStore,
) -> None:
    clock = Clock()
    engine = MemoryCompute(clock)
    policy = Policy(name="queue", max_launch_failures=2, backoff_seconds=900.0)
    submit(store, "job", 2_000, T0)
    scaler(store, engine, policy).run(T0)
    first = engine.nodes(POOL)[0].id
    clock.now = T0 + 30 * 3 + 1  # boot_seconds x boot_timeout_factor without a heartbeat
    result = scaler(store, engine, policy).run(clock.now)
    assert any(c.startswith(f"terminate cpu {first}") for c in result.calls)
    record = Ledger(store.redis).get(first)
    assert record is not None and record.outcome == FAILED_BOOT
    assert engine.desired(POOL) == 1 and engine.nodes(POOL)[0].id != first  # replaced
    clock.now += 91
    scaler(store, engine, policy).run(clock.now)
    status = {r["pool"]: r for r in pool_records(store.redis)}["cpu"]
    assert status["backoff_until"] == pytest.approx(clock.now + 900.0)


def test_an_engine_outage_leaves_the_pool_alone_and_says_why(store: JobStore) -> None:
    engine = MemoryCompute(Clock())
    engine.failing = "503 Service Unavailable"
    submit(store, "job", 6_000, T0)
    result = scaler(store, engine).run(T0)
    assert "503 Service Unavailable" in result.errors["cpu"]
    assert result.calls == []
    engine.failing = None
    assert engine.desired(POOL) == 0
    assert "503" in {r["pool"]: r for r in pool_records(store.redis)}["cpu"]["error"]


def test_a_dry_run_lists_the_calls_and_changes_nothing(store: JobStore) -> None:
    engine = MemoryCompute(Clock())
    submit(store, "job", 10_000, T0)
    config = PoolsConfig({"cpu": POOL})
    dry = Autoscaler(store, config, POLICY, engines={"cpu": engine}, dry_run=True)
    result = dry.run(T0)
    assert result.calls == ["set_desired cpu 2 (+2)"]
    assert engine.desired(POOL) == 0 and engine.calls == []
    assert pool_records(store.redis) == []


def test_a_node_its_cloud_took_away_ends_in_the_ledger(store: JobStore) -> None:
    clock = Clock()
    engine = MemoryCompute(clock)
    submit(store, "job", 6_000, T0)
    scaler(store, engine).run(T0)
    launched = len(engine.nodes(POOL))
    node_id = engine.nodes(POOL)[0].id
    engine.kill(POOL, node_id)  # a spot reclaim
    clock.now = T0 + 10
    scaler(store, engine).run(clock.now)
    record = Ledger(store.redis).get(node_id)
    assert record is not None and record.outcome == "gone" and record.terminated_at == clock.now
    assert len(engine.nodes(POOL)) == launched  # the pool was topped up again


def test_unpriced_cloud_pools_take_the_catalogues_price(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from orchestrator.autoscaler.loop import priced_pools
    from providers.compute.prices import load_catalogue

    settings = SimpleNamespace(prices_file=str(tmp_path / "none.json"))
    offer = load_catalogue(settings.prices_file).lookup("aws", "us-east-1", "g5.xlarge")
    assert offer is not None and offer.spot is not None
    pools = {
        "spot": Pool("spot", "aws", "g5.xlarge", region="us-east-1", market="spot"),
        "od": Pool("od", "aws", "g5.xlarge", region="us-east-1"),
        "own": Pool("own", "aws", "g5.xlarge", region="us-east-1", price_per_hour=0.7),
        "odd": Pool("odd", "aws", "x9.huge", region="us-east-1", price_per_hour=0.9),
    }
    priced = priced_pools(PoolsConfig(pools), settings).pools
    assert priced["spot"].price_per_hour == offer.spot
    assert priced["od"].price_per_hour == offer.on_demand
    assert priced["own"].price_per_hour == 0.7  # a pool's own price wins
    assert priced["odd"].price_per_hour == 0.9  # unknown to the catalogue, priced by the file


@pytest.mark.parametrize(
    ("pool", "prices", "problem"),
    [
        # A typo in the type: its nodes would count as free under the hourly and job budgets.
        (
            Pool("cpu", "aws", "c7i.2xlage", region="us-east-1"),
            None,
            "pool 'cpu': aws c7i.2xlage in us-east-1 is not in the price catalogue: set its "
            "price_per_hour",
        ),
        (
            Pool("cpu", "aws", "c7i.2xlarge", region="ap-nowhere-1"),
            None,
            "pool 'cpu': aws c7i.2xlarge in ap-nowhere-1 is not in the price catalogue",
        ),
        (
            Pool("cpu", "aws", "c7i.2xlarge", region="us-east-1"),
            "{not json",
            "pool 'cpu': aws c7i.2xlarge in us-east-1 has no price: the price catalogue is "
            "unreadable",
        ),
    ],
)
def test_a_cloud_pool_without_a_known_price_is_refused(
    tmp_path: Path, pool: Pool, prices: str | None, problem: str
) -> None:
    from types import SimpleNamespace

    from orchestrator.autoscaler.loop import priced_pools

    prices_file = tmp_path / "prices.json"
    if prices is not None:
        prices_file.write_text(prices)
    settings = SimpleNamespace(prices_file=str(prices_file))
    with pytest.raises(PoolConfigError) as refused:
        priced_pools(PoolsConfig({pool.name: pool}), settings)
    assert str(refused.value).startswith(problem)
    # Priced by its own figure, it is taken as it is (a local pool needs no price at all).
    own = dataclasses.replace(pool, price_per_hour=0.5)
    assert priced_pools(PoolsConfig({pool.name: own}), settings).pools["cpu"].price_per_hour == 0.5


def test_a_hardware_accelerated_job_asks_for_a_gpu_pool(store: JobStore) -> None:
    """The job record's ``gpu`` (its export asked for hardware acceleration) reaches the
    autoscaler as a preference for GPU pools."""
    store.create(JobRecord(id="film", frames=10, submitted_at=time.time(), gpu=True), {})
    store.create(JobRecord(id="proxy", frames=10, submitted_at=time.time()), {})
    demands = {d.id: d for d in job_demands(store)}
    assert demands["film"].prefers_gpu and not demands["film"].needs_gpu
    assert not demands["proxy"].prefers_gpu


def test_a_full_pool_calls_a_drain_off_beside_a_noticed_node(store: JobStore) -> None:
    """At max_nodes, with one node noticed and one draining, new work undrains the drained one:
    it asked the engine for max_nodes + 1 instead (refused every round) when the noticed node
    came first."""
    clock = Clock()
    engine = MemoryCompute(clock)
    engine.set_desired(POOL, POOL.max_nodes)
    ids = [n.id for n in engine.nodes(POOL)]
    scaler(store, engine).run(T0)
    clock.now = T0 + 40
    for node_id in ids:
        beat(store, node_id, clock.now, busy=1)
    scaler(store, engine).run(clock.now)
    store.redis.set(keys.evict(f"render-{ids[0]}@host"), "notice")  # first in the ledger's order
    Ledger(store.redis).draining(ids[1], clock.now)
    submit(store, "big", 100_000, clock.now)
    clock.now += 5
    result = scaler(store, engine).run(clock.now)
    assert result.errors == {}
    assert f"undrain cpu {ids[1]} (needed again)" in result.calls
    assert engine.desired(POOL) == POOL.max_nodes


def test_a_booted_node_gone_silent_is_terminated_as_lost_and_replaced(store: JobStore) -> None:
    # A worker that hangs or dies on a machine its engine still holds: before, the decision
    # counted it as capacity forever (billed, never replaced) while its job waited.
    clock = Clock()
    engine = MemoryCompute(clock)
    submit(store, "job", 2_000, T0)
    scaler(store, engine).run(T0)
    (first,) = [n.id for n in engine.nodes(POOL)]
    clock.now = T0 + 40
    beat(store, first, clock.now, busy=1)
    scaler(store, engine).run(clock.now)
    store.redis.delete(keys.node(f"render-{first}@host"))  # silent from now on
    clock.now = T0 + 40 + POLICY.lost_timeout  # not yet: exactly the limit
    assert not any("lost" in c for c in scaler(store, engine).run(clock.now).calls)
    clock.now += 1
    result = scaler(store, engine).run(clock.now)
    assert f"terminate cpu {first} (no heartbeat for 120 s: lost)" in result.calls
    assert any(c.startswith("set_desired cpu") for c in result.calls)  # its replacement
    record = Ledger(store.redis).get(first)
    assert record is not None and record.outcome == LOST
    assert [n.id for n in engine.nodes(POOL)] != [first] and len(engine.nodes(POOL)) == 1


def test_a_node_that_keeps_beating_is_never_lost(store: JobStore) -> None:
    clock = Clock()
    engine = MemoryCompute(clock)
    submit(store, "job", 2_000, T0)
    scaler(store, engine).run(T0)
    (first,) = [n.id for n in engine.nodes(POOL)]
    for step in range(1, 20):
        clock.now = T0 + 30 * step
        beat(store, first, clock.now, busy=1)
        assert not any("lost" in c for c in scaler(store, engine).run(clock.now).calls)
    assert [n.id for n in engine.nodes(POOL)] == [first]


class NoCapacity(MemoryCompute):
    """Takes a size and launches nothing: an Auto Scaling group refusing spot capacity."""

    def set_desired(self, pool: Pool, count: int) -> None:
        """Record the size only."""
        self.calls.append(f"set_desired {pool.name} {count}")
        self._group(pool).desired = count


def test_capacity_the_engine_never_makes_backs_off_and_moves_work_on_demand(
    store: JobStore,
) -> None:
    # Before, the spot pool asked for a node every round for an hour, nothing said why, and
    # the job never ran: no node ever came, so no failed boot ever backed the pool off.
    clock = Clock()
    spot = dataclasses.replace(POOL, name="spot", market="spot", price_per_hour=0.2)
    demand = dataclasses.replace(POOL, name="od", price_per_hour=1.0)
    engines = {"spot": NoCapacity(clock), "od": MemoryCompute(clock)}
    config = PoolsConfig({"spot": spot, "od": demand})
    submit(store, "job", 2_000, T0)
    limit = spot.boot_seconds * POLICY.boot_timeout_factor
    for step in range(int(limit // 10) + 1):
        clock.now = T0 + 10 * step
        result = Autoscaler(store, config, POLICY, engines=dict(engines)).run(clock.now)
        assert engines["od"].nodes(demand) == []
    assert engines["spot"].desired(spot) == 1  # still given its boot's chance
    clock.now = T0 + 10 + limit + 1  # the shortfall was first seen in the round at T0 + 10
    result = Autoscaler(store, config, POLICY, engines=dict(engines)).run(clock.now)
    assert "set_desired spot 0 (the engine made 0 of 1 nodes in 90 s" in result.calls[0]
    assert engines["spot"].desired(spot) == 0  # it does not launch later, unasked
    clock.now += 10
    result = Autoscaler(store, config, POLICY, engines=dict(engines)).run(clock.now)
    assert result.decision.desired == {"spot": 0, "od": 1}
    assert len(engines["od"].nodes(demand)) == 1
    status = {r["pool"]: r for r in pool_records(store.redis)}["spot"]
    assert status["backoff_until"] == pytest.approx(T0 + 10 + limit + 1 + POLICY.backoff_seconds)
    # No boot failed: the back-off is put down to refused capacity (its reason says so).
    state = load_pool_state(store.redis, "spot")
    assert (state.launch_failures, state.refused_launches) == (0, 1)


def test_capacity_never_made_backs_off_a_pool_with_min_nodes(store: JobStore) -> None:
    # Before, the round lowered the spot group's size to the 0 nodes it held, below its
    # min_nodes: an Auto Scaling group refuses that, so every round failed for the pool and
    # it never backed off.
    clock = Clock()
    spot = dataclasses.replace(POOL, name="spot", market="spot", price_per_hour=0.2, min_nodes=1)
    demand = dataclasses.replace(POOL, name="od", price_per_hour=1.0)
    engines = {"spot": MemoryCompute(clock, capacity=0), "od": MemoryCompute(clock)}
    config = PoolsConfig({"spot": spot, "od": demand})
    submit(store, "job", 2_000, T0)
    limit = spot.boot_seconds * POLICY.boot_timeout_factor
    for step in range(int(limit // 10) + 3):
        clock.now = T0 + 10 * step
        result = Autoscaler(store, config, POLICY, engines=dict(engines)).run(clock.now)
        assert result.errors == {}
    assert engines["spot"].desired(spot) == 1  # its minimum, which the group keeps trying
    status = {r["pool"]: r for r in pool_records(store.redis)}["spot"]
    assert status["backoff_until"] is not None and status["backoff_until"] > clock.now


def test_nodes_of_a_pool_gone_from_the_file_are_reported_until_it_is_back_and_drained(
    store: JobStore,
) -> None:
    # Before, renaming a pool while its nodes ran left them at their engine, billed, and
    # `cluster pools` no longer listed the pool: nothing said they were there.
    clock = Clock()
    engine = MemoryCompute(clock)
    submit(store, "job", 10_000, T0)
    scaler(store, engine).run(T0)
    assert len(engine.nodes(POOL)) == 2
    finish(store, "job")
    renamed = dataclasses.replace(POOL, name="cpu-v2")
    clock.now = T0 + 3600
    config = PoolsConfig({"cpu-v2": renamed})
    result = Autoscaler(store, config, POLICY, engines={"cpu-v2": engine}).run(clock.now)
    problem = result.errors["cpu"]
    assert "not in the pools file, but 2 node(s) of it still run" in problem
    assert "$2/hour" in problem and "cloudrender cluster scale cpu 0" in problem
    status = {r["pool"]: r for r in pool_records(store.redis)}["cpu"]
    assert status["error"] == problem and status["spend_per_hour"] == pytest.approx(2.0)
    # The way out it names: the pool back, held at 0.
    store.redis.hset(
        keys.pool_state("cpu"), mapping={"override": "0", "override_until": repr(clock.now + 600)}
    )
    scaler(store, engine).run(clock.now)
    assert engine.nodes(POOL) == [] and Ledger(store.redis).live() == []
    assert "cpu" not in scaler(store, engine).run(clock.now).errors


def test_a_pool_waiting_for_its_engine_is_not_asked_again_every_round(store: JobStore) -> None:
    # Before, every round re-sent the same size while the engine had not listed the nodes
    # yet (a launch on its way, capacity refused): one SetDesiredCapacity per tick.
    clock = Clock()
    engine = MemoryCompute(clock, capacity=1)
    submit(store, "job", 10_000, T0)  # wants 2 nodes; the engine makes 1
    for step in range(3):  # within the pool's 30 s boot
        clock.now = T0 + 10 * step
        scaler(store, engine).run(clock.now)
    assert [c for c in engine.calls if c.startswith("set_desired")] == ["set_desired cpu 2"]
    clock.now = T0 + 30  # a boot's time on: asked once more, in case it lost one
    scaler(store, engine).run(clock.now)
    assert [c for c in engine.calls if c.startswith("set_desired")] == ["set_desired cpu 2"] * 2


def test_a_node_the_engine_lost_is_asked_for_again_at_once(store: JobStore) -> None:
    # An engine that replaces a dead node only when asked (the local one) gets it back in the
    # next round, not after a shortfall's back-off.
    clock = Clock()
    engine = MemoryCompute(clock)
    submit(store, "job", 10_000, T0)
    scaler(store, engine).run(T0)
    clock.now = T0 + 40
    ids = [n.id for n in engine.nodes(POOL)]
    for node_id in ids:
        beat(store, node_id, clock.now, busy=1)
    scaler(store, engine).run(clock.now)
    del engine.groups["cpu"].nodes[ids[0]]  # its process died; nothing replaces it unasked
    clock.now = T0 + 50
    beat(store, ids[1], clock.now, busy=1)
    result = scaler(store, engine).run(clock.now)
    assert any(c.startswith("set_desired cpu 2") for c in result.calls)
    assert len(engine.nodes(POOL)) == 2


class QuotaRefused(MemoryCompute):
    """Refuses to grow in the call itself, as a scale set or instance group over quota does."""

    def set_desired(self, pool: Pool, count: int) -> None:
        """Refuse any size above the nodes held."""
        if count > len(self._group(pool).nodes):
            self.calls.append(f"refused {pool.name} {count}")
            raise ComputeError(f"pool {pool.name}: quota exceeded for 1 more vCPU family core")
        super().set_desired(pool, count)


def test_a_launch_the_engine_refuses_in_the_call_backs_off_and_moves_work_on_demand(
    store: JobStore,
) -> None:
    # Before, the spot pool's round failed with the same refusal every round, it never backed
    # off and the job waited on it for ever: no node came on demand.
    clock = Clock()
    spot = dataclasses.replace(POOL, name="spot", market="spot", price_per_hour=0.2)
    demand = dataclasses.replace(POOL, name="od", price_per_hour=1.0)
    engines = {"spot": QuotaRefused(clock), "od": MemoryCompute(clock)}
    config = PoolsConfig({"spot": spot, "od": demand})
    submit(store, "job", 2_000, T0)
    first = Autoscaler(store, config, POLICY, engines=dict(engines)).run(T0)
    assert "quota exceeded" in first.errors["spot"] and "back off" in first.errors["spot"]
    for step in range(1, 4):
        clock.now = T0 + 10 * step
        result = Autoscaler(store, config, POLICY, engines=dict(engines)).run(clock.now)
        assert "spot" not in result.errors
    assert engines["spot"].calls == ["refused spot 1"]  # asked once, not every round
    assert len(engines["od"].nodes(demand)) == 1
    state = load_pool_state(store.redis, "spot")
    assert state.refused_launches == 1 and state.launch_failures == 0
    assert state.backoff_until == pytest.approx(T0 + POLICY.backoff_seconds)


def test_a_growth_refused_for_now_backs_off_for_a_boot_not_the_whole_back_off(
    store: JobStore,
) -> None:
    # A throttled or capacity-short call may pass soon: the pool waits a boot's time x the
    # boot timeout factor (as for launches accepted and not made), not backoff_seconds.
    clock = Clock()

    class Throttled(QuotaRefused):
        """Refuses to grow with a throttling error, which may pass on the next call."""

        def set_desired(self, pool: Pool, count: int) -> None:
            """Refuse any size above the nodes held, for now."""
            if count > len(self._group(pool).nodes):
                raise ComputeError(f"pool {pool.name}: Rate exceeded", transient=True)
            super().set_desired(pool, count)

    submit(store, "job", 2_000, T0)
    result = scaler(store, Throttled(clock)).run(T0)
    limit = POOL.boot_seconds * POLICY.boot_timeout_factor
    assert result.errors["cpu"] == f"pool cpu: Rate exceeded (launches back off for {limit:g} s)"
    assert load_pool_state(store.redis, "cpu").backoff_until == pytest.approx(T0 + limit)
