"""The estimate's glue (orchestrator.api_estimate): options from a pools file or this cluster,
prices, throughput and interruption rates from where they are known, filters, and what a job
records of its estimate, against a real Redis."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis

from chunking.complexity import complexity as static_complexity
from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import RenderError
from common.settings import Settings
from orchestrator import estimate_options, keys
from orchestrator.api_estimate import (
    JobEstimate,
    accuracy,
    estimate_job,
    estimate_record,
    parse_deadline,
    recent_timings,
)
from orchestrator.costing import DEFAULT_THROUGHPUT, NODE_CLASS, record_throughput
from orchestrator.estimate_options import DEFAULT_SPREAD, HISTORY_SPREAD, THIS_CLUSTER, concurrency
from orchestrator.estimates import Overheads
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_class import record_benchmark
from tests.helpers import colour_project
from tests.orchestrator.test_node_class import bench

POOLS = """
[pools.cpu-spot]
provider = "aws"
region = "us-east-1"
instance_type = "c7i.2xlarge"
market = "spot"
max_nodes = 8
boot_seconds = 90
price_per_hour = 0.14
concurrency = 4

[pools.cpu]
provider = "aws"
region = "us-east-1"
instance_type = "c7i.2xlarge"
max_nodes = 8
boot_seconds = 90
price_per_hour = 0.36
concurrency = 4

[pools.gpu]
provider = "gcp"
region = "us-central1"
instance_type = "g2-standard-4"
gpu = "L4"
max_nodes = 2
boot_seconds = 150
price_per_hour = 0.84
concurrency = 2

[pools.mixer]
provider = "aws"
region = "us-east-1"
instance_type = "c7i.large"
max_nodes = 1
price_per_hour = 0.09
queues = ["audio", "merge"]
"""


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    """The test Redis, decoding as the job store does."""
    return JobStore.from_url(redis_url).redis


@pytest.fixture
def timeline(tmp_path: Path) -> Timeline:
    """A minute of flat colour at 320x180: 1800 frames, no media to probe."""
    return load_project(colour_project(60), str(tmp_path))


@pytest.fixture
def pooled(tmp_path: Path) -> Settings:
    """Settings with the pools file above."""
    path = tmp_path / "cloudrender.toml"
    path.write_text(POOLS)
    return dataclasses.replace(Settings.from_env({}), pools_file=str(path))


@pytest.fixture
def without_issue_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the catalogue, node-class and interruption modules were not there: the fallbacks."""
    monkeypatch.setattr(estimate_options, "_optional", lambda name: None)


def heartbeat(client: redis.Redis, name: str, concurrency: int) -> None:
    """A live render node's heartbeat."""
    now = time.time()
    beat = {"name": name, "concurrency": concurrency, "since": now, "time": now,
            "queues": ["render"]}  # fmt: skip
    client.set(keys.node(name), json.dumps(beat), ex=60)


# -- options ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("without_issue_modules")
def test_every_render_pool_is_an_option_with_its_price(
    client: redis.Redis, pooled: Settings, timeline: Timeline
) -> None:
    record_throughput(client, NODE_CLASS, 1.0, 100, 1.0)  # history of the local class only
    got = estimate_job(client, pooled, timeline, deadline="+1h", now=1000.0)
    by_pool = {o.option.pool: o for o in got.options}
    assert sorted(by_pool) == ["cpu", "cpu-spot", "gpu"]  # the audio-only pool renders nothing
    assert by_pool["cpu"].option.price_per_hour == 0.36
    assert by_pool["cpu-spot"].option.price_per_hour == 0.14
    assert by_pool["gpu"].option.price_per_hour == 0.84
    spot = by_pool["cpu-spot"]
    assert spot.option.interruption_rate == estimate_options.DEFAULT_INTERRUPTION_RATE
    assert spot.option.notice_seconds == 120
    assert spot.interruptions > 0
    assert any("cpu-spot" in note and "5 % per node-hour" in note for note in got.notes)
    # Pools with no history of their own start from the prior, widely spread.
    assert (spot.option.source, spot.option.spread) == ("default", DEFAULT_SPREAD)
    assert spot.option.seconds_per_unit == DEFAULT_THROUGHPUT.seconds_per_unit
    assert got.deadline_seconds == 3600.0
    assert got.frames == 1800 and got.chunks >= 1 and got.reused_chunks == 0
    assert got.recommended is not None and got.reason
    for option in got.options:
        assert option.seconds.low <= option.seconds.p50 <= option.seconds.high
        assert option.seconds.p50 > option.option.boot_seconds
        assert 0 < option.cost.low <= option.cost.p50 <= option.cost.high or (
            option.option.price_per_hour == 0
        )


@pytest.mark.usefixtures("without_issue_modules")
def test_a_pool_that_ran_uses_its_own_history(
    client: redis.Redis, pooled: Settings, timeline: Timeline
) -> None:
    record_throughput(client, "cpu", 2.0, 100, 1.0)
    got = estimate_job(client, pooled, timeline, pool="cpu")
    (only,) = got.options
    assert (only.option.seconds_per_unit, only.option.source) == (0.02, "history")
    assert only.option.spread == HISTORY_SPREAD


@pytest.mark.parametrize(
    ("filters", "pools"),
    [
        ({"market": "spot"}, ["cpu-spot"]),
        ({"market": "on-demand"}, ["cpu", "gpu"]),
        ({"provider": "gcp"}, ["gpu"]),
        ({"pool": "cpu"}, ["cpu"]),
        ({"provider": "aws", "market": "on-demand"}, ["cpu"]),
    ],
)
@pytest.mark.usefixtures("without_issue_modules")
def test_filters(
    client: redis.Redis,
    pooled: Settings,
    timeline: Timeline,
    filters: dict[str, str],
    pools: list[str],
) -> None:
    got = estimate_job(client, pooled, timeline, **filters)
    assert [o.option.pool for o in got.options] == pools


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"provider": "azure"}, "no option matches provider azure (options: cpu-spot (aws, spot)"),
        ({"pool": "mixer"}, "no pool 'mixer' renders here"),
        ({"pool": "gpu", "market": "spot"}, "no option matches pool gpu market spot"),
        ({"provider": "ibm"}, "provider 'ibm' is not one of local, aws"),
        ({"market": "reserved"}, "market 'reserved' is not one of on-demand, spot"),
        ({"max_cost": -1.0}, "max cost -1.0 must be a number of dollars"),
        ({"deadline": "tomorrow"}, "deadline 'tomorrow' is not an ISO 8601 time"),
        ({"deadline": "+3 weeks"}, "write +N with s, m, h or d"),
        # POST /v1/estimate answered 200 with deadline_seconds -2.1e8 for a past deadline.
        ({"deadline": "2020-01-01T00:00:00"}, "deadline '2020-01-01T00:00:00' has passed"),
        ({"deadline": "+0s"}, "deadline '+0s' has passed"),
    ],
)
@pytest.mark.usefixtures("without_issue_modules")
def test_what_matches_nothing_is_a_one_line_error(
    client: redis.Redis,
    pooled: Settings,
    timeline: Timeline,
    filters: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(RenderError) as caught:
        estimate_job(client, pooled, timeline, **filters)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.usefixtures("without_issue_modules")
def test_without_pools_this_cluster_is_priced_per_busy_slot(
    client: redis.Redis, timeline: Timeline
) -> None:
    heartbeat(client, "render@a", 3)
    record_throughput(client, NODE_CLASS, 1.0, 100, 1.0)  # 0.01 s per unit
    settings = dataclasses.replace(Settings.from_env({}), hourly_rate=0.36)
    got = estimate_job(client, settings, timeline)
    (only,) = got.options
    o = only.option
    assert (o.pool, o.market, o.billing, o.slots_per_node) == (THIS_CLUSTER, "on-demand", "work", 3)
    assert (o.boot_seconds, o.price_per_hour, o.source) == (0.0, 0.36 * 3, "history")
    work = got.frames * got.complexity * 0.01
    merge = Overheads().merge(got.frames)
    assert only.cost.p50 == pytest.approx((work + merge) * 0.36 / 3600)
    assert got.recommended is only and got.reason == "the cheapest option (no deadline)"
    with pytest.raises(RenderError, match="no option matches market spot"):
        estimate_job(client, settings, timeline, market="spot")


# -- the catalogue, node classes and interruptions, as their contracts say ----------------------


def fake_modules(monkeypatch: pytest.MonkeyPatch, calls: list[Any]) -> None:
    """Stand-ins for providers.compute.prices, orchestrator.node_class and
    orchestrator.autoscaler.interruptions that record how they are called."""
    offer = SimpleNamespace(on_demand=0.71, spot=0.25, relative_speed=3.0,
                            interruption_low=0.02, interruption_high=0.08)  # fmt: skip

    def lookup(provider: str, region: str, instance_type: str) -> Any:
        calls.append(("lookup", provider, region, instance_type))
        return offer if instance_type == "g2-standard-4" else None

    def class_throughput(client: Any, node_class: str, *, relative_speed: float | None) -> Any:
        calls.append(("class_throughput", node_class, relative_speed))
        return SimpleNamespace(seconds_per_unit=0.004, spread=0.4, source="catalogue")

    def interruption_rate(ledger: Any, pool: str, band: Any, now: float) -> float:
        calls.append(("interruption_rate", pool, band))
        return 0.07

    modules = {
        "providers.compute.prices": SimpleNamespace(
            load_catalogue=lambda path: SimpleNamespace(lookup=lookup)
        ),
        "orchestrator.node_class": SimpleNamespace(
            class_throughput=class_throughput, node_class_name=lambda pool: pool or "local-cpu"
        ),
        "orchestrator.autoscaler.interruptions": SimpleNamespace(
            interruption_rate=interruption_rate, NOTICE_SECONDS={"aws": 120, "gcp": 30}
        ),
    }
    monkeypatch.setattr(estimate_options, "_optional", modules.get)


def test_catalogue_prices_a_pool_without_a_price_and_node_classes_give_the_speed(
    client: redis.Redis, pooled: Settings, timeline: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    fake_modules(monkeypatch, calls)
    unpriced(pooled)
    got = estimate_job(client, pooled, timeline)
    by_pool = {o.option.pool: o.option for o in got.options}
    assert by_pool["gpu"].price_per_hour == 0.71  # the pool said 0: the catalogue's on-demand
    assert by_pool["cpu"].price_per_hour == 0.36  # the pool's own price wins
    assert ("class_throughput", "gpu", 3.0) in calls  # the catalogue's relative speed
    assert ("class_throughput", "cpu", None) in calls
    assert by_pool["gpu"].seconds_per_unit == 0.004 and by_pool["gpu"].spread == 0.4
    assert by_pool["cpu-spot"].interruption_rate == 0.07
    assert ("interruption_rate", "cpu-spot", None) in calls  # c7i is not in the fake: no band


def unpriced(settings: Settings) -> None:
    """The pools file with no price of the gpu pool's own."""
    path = Path(settings.pools_file or "")
    path.write_text(path.read_text().replace("price_per_hour = 0.84\n", ""))


@pytest.mark.parametrize("modules", [{}, None], ids=["catalogue without it", "no catalogue"])
def test_a_pool_without_a_known_price_is_left_out_never_free(
    client: redis.Redis,
    pooled: Settings,
    timeline: Timeline,
    monkeypatch: pytest.MonkeyPatch,
    modules: dict[str, Any] | None,
) -> None:
    if modules is not None:
        empty = SimpleNamespace(lookup=lambda provider, region, instance_type: None)
        modules["providers.compute.prices"] = SimpleNamespace(load_catalogue=lambda path: empty)
    monkeypatch.setattr(estimate_options, "_optional", (modules or {}).get)
    unpriced(pooled)
    got = estimate_job(client, pooled, timeline)
    assert sorted(o.option.pool for o in got.options) == ["cpu", "cpu-spot"]
    why = "is not in the price catalogue" if modules is not None else "has no price"
    problem = f"pool 'gpu': gcp g2-standard-4 in us-central1 {why}: set its price_per_hour"
    assert f"{problem} (left out)" in got.notes
    with pytest.raises(RenderError) as refused:
        estimate_job(client, pooled, timeline, pool="gpu")
    assert str(refused.value) == problem


def test_a_broken_catalogue_is_a_note_not_a_failure(
    client: redis.Redis, pooled: Settings, timeline: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: str) -> Any:
        raise RenderError(f"price catalogue {path}: not valid JSON")

    modules = {"providers.compute.prices": SimpleNamespace(load_catalogue=broken)}
    monkeypatch.setattr(estimate_options, "_optional", modules.get)
    got = estimate_job(client, pooled, timeline, pool="cpu")
    assert got.options[0].option.price_per_hour == 0.36
    assert any("price catalogue not used" in note for note in got.notes)


def test_a_pool_priced_by_a_broken_catalogue_names_the_file_not_the_pool(
    client: redis.Redis, pooled: Settings, timeline: Timeline, tmp_path: Path
) -> None:
    # Before, the refusal said only "has no price: set its price_per_hour": the user was sent
    # to the pools file while the price file was at fault.
    unpriced(pooled)
    broken = tmp_path / "prices.json"
    broken.write_text('{"format": 1, "offers": [{"provider": "gcp"}]}')
    settings = dataclasses.replace(pooled, prices_file=str(broken))
    with pytest.raises(RenderError) as refused:
        estimate_job(client, settings, timeline, pool="gpu")
    assert "pool 'gpu': gcp g2-standard-4 in us-central1 has no price" in str(refused.value)
    assert f"{broken}: offer 0 (gcp/?/?): region is missing" in str(refused.value)


# -- deadlines, recording and accuracy --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+30m", 1000.0 + 1800),
        ("+90s", 1090.0),
        ("+2h", 1000.0 + 7200),
        ("+1.5d", 1000.0 + 129600),
        ("1970-01-01T00:20:00", 1200.0),
        ("1970-01-01T01:20:00+01:00", 1200.0),
        (1234.5, 1234.5),
        (None, None),
    ],
)
def test_parse_deadline(value: Any, expected: float | None) -> None:
    assert parse_deadline(value, now=1000.0) == expected


@pytest.mark.parametrize("value", [1e308, -1e18, -1.0, float("nan"), "9999-99-99"])
def test_a_deadline_that_is_no_time_is_refused(value: Any) -> None:
    with pytest.raises(RenderError, match="deadline"):
        parse_deadline(value, now=1000.0)


def completed(estimate: dict[str, Any] | None, **changes: Any) -> JobRecord:
    """A completed job record that ran 100 s and cost $0.50."""
    base = JobRecord(id="j", state=JobState.COMPLETED, submitted_at=1000.0, started_at=1002.0,
                     finished_at=1100.0, actual_cost=0.5, estimate=estimate)  # fmt: skip
    return dataclasses.replace(base, **changes)


@pytest.mark.usefixtures("without_issue_modules")
def test_a_job_records_its_estimate_and_its_accuracy_is_measured_at_the_end(
    client: redis.Redis, pooled: Settings, timeline: Timeline
) -> None:
    got = estimate_job(client, pooled, timeline, deadline="+1h", market="on-demand")
    saved = json.loads(json.dumps(estimate_record(got)))  # kept as JSON in the job store
    assert got.recommended is not None
    assert saved["pool"] == got.recommended.option.pool and saved["market"] == "on-demand"
    assert saved["seconds"]["p50"] == round(got.recommended.seconds.p50, 1)
    assert saved["frames"] == 1800 and saved["recommended"] is True
    record = dict(saved, seconds={"low": 80, "p50": 110, "high": 150},
                  cost={"low": 0.4, "p50": 0.45, "high": 0.6})  # fmt: skip
    assert accuracy(completed(record)) == {
        "estimated_seconds": 110.0,
        "actual_seconds": 100.0,  # submission to completion
        "seconds_error_pct": 10.0,
        "seconds_in_range": True,
        "estimated_cost": 0.45,
        "actual_cost": 0.5,
        "cost_error_pct": -10.0,
    }
    assert accuracy(completed(record, state=JobState.FAILED)) is None
    assert accuracy(completed(None)) is None
    assert accuracy(completed({"seconds": "soon"})) is None  # an older or foreign record
    free = accuracy(completed(record, actual_cost=0.0))
    assert free is not None and free["cost_error_pct"] is None


def test_recent_jobs_teach_startup_and_merge(client: redis.Redis) -> None:
    store = JobStore(client)
    for n, (startup, merge) in enumerate([(1.0, 0.5), (2.0, 0.7), (3.0, 0.9)]):
        job = f"job{n}"
        # each keeps its timeline's parallelism, which scales a learned lone-chunk speed-up
        record = JobRecord(id=job, frames=300, submitted_at=100.0 * n, pipeline=1.5 + n / 4)
        store.create(record, {})
        store.transition(job, JobState.PLANNING)
        store.transition(job, JobState.RENDERING, started_at=100.0 * n + startup)
        store.transition(job, JobState.MERGING)
        store.transition(job, JobState.COMPLETED, result={"merge_seconds": merge})
    store.create(JobRecord(id="running", frames=10), {})
    timings = sorted(recent_timings(store), key=lambda t: t.startup_seconds)
    assert [(t.frames, t.startup_seconds, t.merge_seconds, t.pipeline) for t in timings] == [
        (300, 1.0, 0.5, 1.5),
        (300, 2.0, 0.7, 1.75),
        (300, 3.0, 0.9, 2.0),
    ]


@pytest.mark.usefixtures("without_issue_modules")
def test_this_cluster_learns_from_its_finished_jobs(
    client: redis.Redis, timeline: Timeline
) -> None:
    store = JobStore(client)
    record_throughput(client, NODE_CLASS, 1.0, 100, 1.0)
    # 8 ms per frame plus 80 ms per unit, and 0.2 s of merge, as the jobs were charged.
    for n, (frames, complexity) in enumerate([(3600, 0.09), (600, 0.3), (240, 1.2)]):
        busy = frames * 0.008 + frames * complexity * 0.08
        job = f"job{n}"
        store.create(JobRecord(id=job, frames=frames, complexity=complexity), {})
        store.transition(job, JobState.PLANNING)
        store.transition(job, JobState.RENDERING)
        store.transition(job, JobState.MERGING)
        store.transition(
            job, JobState.COMPLETED, node_seconds=busy + 0.2, result={"merge_seconds": 0.2}
        )
    got = estimate_job(client, Settings.from_env({}), timeline)
    (only,) = got.options
    assert only.option.source == "jobs (3)"
    assert (only.option.seconds_per_frame, only.option.seconds_per_unit) == pytest.approx(
        (0.008, 0.08)
    )
    work = got.frames * 0.008 + got.frames * got.complexity * 0.08
    merge = 0.2  # learned: every job merged in 0.2 s whatever its length
    assert only.cost.p50 == pytest.approx((work + merge) * Settings().hourly_rate / 3600)


@pytest.mark.usefixtures("without_issue_modules")
def test_this_cluster_corrects_a_feature_its_jobs_say_is_mispriced(
    client: redis.Redis, timeline: Timeline
) -> None:
    store = JobStore(client)
    # Jobs whose layers cost twice what the weights say (80 ms per unit, layers doubled): each
    # kept its units per frame split by feature in its estimate record.
    for n, (frames, encode, layer) in enumerate(
        [(3600, 0.2, 0.05), (600, 0.2, 0.4), (240, 0.5, 1.5), (1200, 0.3, 0.3)]
    ):
        busy = frames * (encode + 2 * layer) * 0.08
        job = f"job{n}"
        parts = {"encode": encode, "layer": layer}
        record = JobRecord(id=job, frames=frames, complexity=encode + layer,
                           estimate={"parts": parts})  # fmt: skip
        store.create(record, {})
        store.transition(job, JobState.PLANNING)
        store.transition(job, JobState.RENDERING)
        store.transition(job, JobState.MERGING)
        store.transition(
            job, JobState.COMPLETED, node_seconds=busy + 0.2, result={"merge_seconds": 0.2}
        )
    got = estimate_job(client, Settings.from_env({}), timeline)
    # most of the way to 2 (4 jobs against the prior's 2 jobs' worth of the static weight)
    factor = got.corrections["layer"]
    assert 1.5 < factor < 2.0
    assert sum(got.parts.values()) == pytest.approx(static_complexity(timeline))
    assert got.complexity == pytest.approx(got.parts["encode"] + factor * got.parts["layer"])
    static = estimate_job(client, Settings.from_env({}), timeline, learn_features=False)
    assert static.corrections == {} and static.complexity == pytest.approx(
        static_complexity(timeline)
    )
    truth = got.frames * (got.parts["encode"] + 2 * got.parts["layer"]) * 0.08

    def work(estimate: JobEstimate) -> float:
        option = estimate.options[0].option
        per_frame = option.seconds_per_frame + option.seconds_per_unit * estimate.complexity
        return estimate.frames * per_frame + estimate.chunks * option.seconds_per_chunk

    assert abs(work(got) / truth - 1) < 0.5 * abs(work(static) / truth - 1)
    # what the job keeps, to teach the next estimates: the split as the weights price it
    saved = estimate_record(got)
    assert saved["parts"] == pytest.approx(got.parts, abs=1e-5)
    assert got.to_json()["corrections"]["layer"] == round(got.corrections["layer"], 3)


def test_with_the_shipped_catalogue_and_node_classes(
    client: redis.Redis, timeline: Timeline, tmp_path: Path
) -> None:
    from providers.compute.prices import load_catalogue

    path = tmp_path / "cloud.toml"
    path.write_text(POOLS.replace("price_per_hour = 0.14", "price_per_hour = 0"))
    settings = dataclasses.replace(
        Settings.from_env({}), pools_file=str(path), prices_file=str(tmp_path / "none.json")
    )
    offer = load_catalogue(None).lookup("aws", "us-east-1", "c7i.2xlarge")
    assert offer is not None and offer.spot is not None
    got = estimate_job(client, settings, timeline, pool="cpu-spot")
    (spot,) = got.options
    assert spot.option.price_per_hour == offer.spot  # the pool said 0: the catalogue's spot
    assert spot.option.source == "catalogue"  # unmeasured class: the catalogue's relative speed
    assert 0 < spot.option.interruption_rate < estimate_options.DEFAULT_INTERRUPTION_RATE
    assert any("price catalogue" in note for note in got.notes)  # its figures' age


def test_a_pools_file_without_render_pools_says_so(
    client: redis.Redis, timeline: Timeline, tmp_path: Path
) -> None:
    path = tmp_path / "cloudrender.toml"
    path.write_text(POOLS[POOLS.index("[pools.mixer]") :])
    settings = dataclasses.replace(Settings.from_env({}), pools_file=str(path))
    with pytest.raises(RenderError, match="cloudrender.toml: no pool renders"):
        estimate_job(client, settings, timeline)


def test_concurrency_comes_from_the_node_benchmark(client: redis.Redis) -> None:
    assert concurrency(client, NODE_CLASS, 2) == (0.0, 0.0)  # no benchmark: unknown
    record_benchmark(client, NODE_CLASS, bench(0.02))  # 8 CPU-s in 5 s alone, 2 vCPUs, 2 slots
    assert concurrency(client, NODE_CLASS, 2) == pytest.approx((2.0, 1.6))
    assert concurrency(client, NODE_CLASS, 4) == pytest.approx((4.0, 1.6))  # a vCPU a slot
    assert concurrency(client, NODE_CLASS, 4, vcpus=16.0)[0] == 16.0  # the catalogue's
    # The slice could have kept 2 cores busy and kept 1.6: a timeline that could keep 1.5 busy
    # keeps 1.3, one all encode keeps 1.
    record_benchmark(client, NODE_CLASS, dataclasses.replace(bench(0.02), pipeline=2.0))
    assert concurrency(client, NODE_CLASS, 2, pipeline=1.5) == pytest.approx((2.0, 1.3))
    assert concurrency(client, NODE_CLASS, 2, pipeline=1.0) == pytest.approx((2.0, 1.0))
    # With the slots' render measured (1.8x slower beside), the gain follows the timeline's
    # overlap against the slice's, as a cluster's own jobs scale theirs, never above 1.8.
    beside = dataclasses.replace(bench(0.02), pipeline=2.0, beside_seconds=9.0)
    record_benchmark(client, NODE_CLASS, beside)
    assert concurrency(client, NODE_CLASS, 2, pipeline=1.5) == pytest.approx((2.0, 1.4))
    assert concurrency(client, NODE_CLASS, 2, pipeline=2.5) == pytest.approx((2.0, 1.8))
    assert concurrency(client, NODE_CLASS, 2, pipeline=1.0) == pytest.approx((2.0, 1.0))


def test_without_a_live_render_slot_no_deadline_is_promised(
    client: redis.Redis, timeline: Timeline
) -> None:
    """No pools file and no worker: the job would wait in the queue, not finish in seconds."""
    settings = Settings.from_env({})
    got = estimate_job(client, settings, timeline, slots=1, deadline="+1m", now=time.time())
    (only,) = got.options
    assert got.recommended is None and got.reason.startswith("no render node is running")
    assert only.deadline_probability == 0.0 and "no render slot is live" in only.note
    heartbeat(client, "render@a", 2)
    live = estimate_job(client, settings, timeline, slots=2, deadline="+1h", now=time.time())
    assert live.recommended is not None and live.options[0].deadline_probability == 1.0


@pytest.mark.parametrize(
    "value", ["+99999999999999999999d", "+4000000000000s", "9999-12-31T23:59:59-12:00"]
)
def test_a_deadline_beyond_any_time_is_refused_quoting_what_was_written(value: str) -> None:
    # `estimate --deadline +99999999999999999999d` printed "deadline in 2400000000000000000000h";
    # `submit` refused it as "deadline 8.64e+24", a number nobody typed.
    with pytest.raises(RenderError) as info:
        parse_deadline(value, now=1000.0)
    assert str(info.value).startswith(f"deadline {value!r} is not a time between 1970 and")
