"""The ``gcp`` engine against a fake Compute API (fake_gcp.py) that checks every request against
the API's discovery document: templates and groups are created once, resized, listed and shrunk
by the exact nodes chosen, and every failure is one ComputeError line.

The fake is not Compute Engine: instances never boot (``settle()`` plays that), and only the
checks the discovery document can express, plus the few in ``fake_gcp._check_template``, run.
"""

from __future__ import annotations

import http.client
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from providers.compute import ComputeProvider, open_compute
from providers.compute.base import PENDING, RUNNING, TERMINATING, ComputeError
from providers.compute.cloud_init import worker_user_data
from providers.compute.gcp import GcpCompute, node_state
from providers.compute.pools import Pool
from tests.providers.compute.fake_gcp import FakeCompute
from tests.providers.emulators import closed_port

PROJECT = "render-farm"
ZONE = "us-central1-a"
REGION = "us-central1"
BROKER = "redis://worker:s3cret@redis.internal:6379/0"
STORAGE = "gs://renders/farm"
IMAGE = "projects/render-farm/global/images/family/cloudrender-gpu"
_names = itertools.count()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCompute]:
    """One fake API for the module; every test names its own pools."""
    with FakeCompute() as server:
        yield server


def make_pool(
    fake: FakeCompute,
    *,
    spot: bool = True,
    gpu: str | None = "T4",
    zone: str = ZONE,
    **options: str,
) -> Pool:
    """A pool on the fake with a name no other test uses."""
    return Pool(
        name=f"gcp{next(_names)}",
        provider="gcp",
        instance_type="n1-standard-8",
        vcpus=8,
        memory_gb=30,
        gpu=gpu,
        gpus=1 if gpu else 0,
        nvenc=gpu is not None,
        market="spot" if spot else "on-demand",
        region=REGION,
        zone=zone,
        min_nodes=1,
        max_nodes=5,
        options={
            "project": PROJECT,
            "endpoint": fake.endpoint,
            "vm_image": IMAGE,
            "retry_seconds": "0",
            "timeout": "10",
            **options,
        },
    )


def engine_for(pool: Pool) -> GcpCompute:
    """The engine as the autoscaler opens it."""
    engine = open_compute(pool, broker_url=BROKER, storage_url=STORAGE, state_dir="/unused")
    assert isinstance(engine, GcpCompute)
    return engine


def group(fake: FakeCompute, pool: Pool) -> dict[str, Any]:
    """The pool's group as the fake holds it."""
    location = pool.zone or pool.region
    return fake.groups[(PROJECT, location, f"cloudrender-{pool.name}")].body


def ready(fake: FakeCompute, pool: Pool, count: int) -> GcpCompute:
    """An engine whose pool holds `count` running nodes."""
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.set_desired(pool, count)
    fake.settle()
    return engine


def raw(fake: FakeCompute, verb: str, path: str, body: Any = None) -> tuple[int, str]:
    """Send one request to the fake as is; its status and error message."""
    connection = http.client.HTTPConnection(fake.endpoint.removeprefix("http://"), timeout=10)
    try:
        data = json.dumps(body) if body is not None else None
        connection.request(verb, path, body=data, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        reply = json.loads(response.read() or b"{}")
    finally:
        connection.close()
    return response.status, str(reply.get("error", {}).get("message", ""))


def assert_one_line(exc: BaseException, *words: str) -> None:
    message = str(exc)
    assert "\n" not in message
    for word in words:
        assert word in message, message


# --- creation --------------------------------------------------------------------------------


def test_the_engine_is_a_compute_provider(fake: FakeCompute) -> None:
    engine = engine_for(make_pool(fake))
    assert isinstance(engine, ComputeProvider)
    assert engine.name == "gcp"


def test_ensure_pool_creates_a_spot_gpu_template_and_its_group(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine_for(pool).ensure_pool(pool)

    template = fake.templates[(PROJECT, f"cloudrender-{pool.name}")]["properties"]
    assert template["machineType"] == "n1-standard-8"
    assert template["scheduling"] == {
        "provisioningModel": "SPOT",
        "instanceTerminationAction": "DELETE",
        "onHostMaintenance": "TERMINATE",
        "automaticRestart": False,
    }
    assert template["guestAccelerators"] == [
        {"acceleratorType": "nvidia-tesla-t4", "acceleratorCount": 1}
    ]
    boot = template["disks"][0]
    assert boot["boot"] and boot["initializeParams"]["sourceImage"] == IMAGE
    assert boot["initializeParams"]["diskSizeGb"] == "50"  # int64 travels as a string
    items = {i["key"]: i["value"] for i in template["metadata"]["items"]}
    expected = worker_user_data(pool, "gcp", broker_url=BROKER, storage_url=STORAGE)
    assert items == {"startup-script": expected}
    assert template["labels"] == {"cloudrender-pool": pool.name}

    created = group(fake, pool)
    assert created["targetSize"] == pool.min_nodes
    assert created["baseInstanceName"] == f"cloudrender-{pool.name}"
    assert created["instanceTemplate"].endswith(f"/instanceTemplates/cloudrender-{pool.name}")
    assert engine_for(pool).desired(pool) == 1


def test_an_on_demand_cpu_pool_is_standard_and_may_be_regional(fake: FakeCompute) -> None:
    pool = make_pool(fake, spot=False, gpu=None, zone="", zones=f"{REGION}-a,{REGION}-b")
    engine = engine_for(pool)
    engine.ensure_pool(pool)

    template = fake.templates[(PROJECT, f"cloudrender-{pool.name}")]["properties"]
    assert template["scheduling"] == {
        "provisioningModel": "STANDARD",
        "onHostMaintenance": "MIGRATE",
        "automaticRestart": True,
    }
    assert "guestAccelerators" not in template
    created = group(fake, pool)
    assert created["region"].endswith(f"/regions/{REGION}")
    assert created["distributionPolicy"] == {
        "zones": [{"zone": f"zones/{REGION}-a"}, {"zone": f"zones/{REGION}-b"}]
    }
    # A regional group's nodes live in several zones; terminate finds each one's own.
    engine.set_desired(pool, 3)
    fake.settle()
    victim = engine.nodes(pool)[1].id
    engine.terminate(pool, victim)
    assert engine.desired(pool) == 2
    assert {n.id: n.state for n in engine.nodes(pool)}[victim] == TERMINATING


def test_ensure_pool_is_idempotent(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    before = len(fake.calls)
    engine.ensure_pool(pool)
    engine.ensure_pool(pool)
    made = [mid for mid, _, _ in fake.calls[before:]]
    assert made.count("compute.instanceTemplates.insert") == 1
    assert made.count("compute.instanceGroupManagers.insert") == 1
    assert engine.desired(pool) == pool.min_nodes


def test_an_existing_template_is_used_as_it_is(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine_for(pool).ensure_pool(pool)
    other = make_pool(fake, template=f"cloudrender-{pool.name}")
    before = len(fake.calls_of("compute.instanceTemplates.insert"))
    engine_for(other).ensure_pool(other)
    assert len(fake.calls_of("compute.instanceTemplates.insert")) == before
    assert group(fake, other)["instanceTemplate"].endswith(f"cloudrender-{pool.name}")


# --- sizing and nodes ------------------------------------------------------------------------


def test_set_desired_starts_nodes_that_nodes_lists(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)

    engine.set_desired(pool, 4)

    assert engine.desired(pool) == 4
    booting = engine.nodes(pool)
    assert [n.state for n in booting] == [PENDING] * 4
    names = fake.instances(PROJECT, ZONE, f"cloudrender-{pool.name}")
    assert {n.id for n in booting} == set(names)
    assert all(n.id.startswith(f"cloudrender-{pool.name}-") for n in booting)
    assert all(n.pool == pool.name and n.market == "spot" and not n.protected for n in booting)
    fake.settle()
    assert [n.state for n in engine.nodes(pool)] == [RUNNING] * 4


def test_nodes_reads_every_page(fake: FakeCompute, monkeypatch: pytest.MonkeyPatch) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 5)
    monkeypatch.setattr(fake, "page_size", 2)
    assert len(engine.nodes(pool)) == 5
    assert fake.calls[-1][1].get("pageToken") == "4"


def test_set_desired_outside_the_bounds_is_refused(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    for count in (-1, pool.max_nodes + 1):
        with pytest.raises(ComputeError) as caught:
            engine.set_desired(pool, count)
        assert_one_line(caught.value, pool.name, "0 to 5")
    assert engine.desired(pool) == pool.min_nodes


def test_protect_is_a_no_op(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 2)
    ids = [n.id for n in engine.nodes(pool)]
    before = len(fake.calls)
    engine.protect(pool, ids, True)
    engine.protect(pool, ids, False)
    assert len(fake.calls) == before  # no call: a MIG has no scale-in protection to set
    assert not any(n.protected for n in engine.nodes(pool))


def test_terminate_removes_that_node_and_lowers_desired(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 3)
    victim = engine.nodes(pool)[0].id

    engine.terminate(pool, victim)

    assert engine.desired(pool) == 2
    states = {n.id: n.state for n in engine.nodes(pool)}
    assert states[victim] == TERMINATING
    assert sorted(states.values()) == [RUNNING, RUNNING, TERMINATING]
    body = fake.calls_of("compute.instanceGroupManagers.deleteInstances")[-1]
    assert body is not None and body["skipInstancesOnValidationError"] is True
    assert body["instances"][0].endswith(f"/zones/{ZONE}/instances/{victim}")
    fake.settle()
    assert victim not in {n.id for n in engine.nodes(pool)}
    assert len(engine.nodes(pool)) == 2


def test_terminate_with_replace_recreates_the_node_and_keeps_desired(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 2)
    victim = engine.nodes(pool)[1].id

    engine.terminate(pool, victim, replace=True)

    assert engine.desired(pool) == 2
    states = {n.id: n.state for n in engine.nodes(pool)}
    assert len(states) == 2 and states[victim] == PENDING  # recreated under the same name
    assert fake.calls_of("compute.instanceGroupManagers.recreateInstances")


def test_terminate_of_an_unknown_node_is_one_line(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 1)
    with pytest.raises(ComputeError) as caught:
        engine.terminate(pool, "no-such-node")
    assert_one_line(caught.value, pool.name, "no-such-node")
    assert engine.desired(pool) == 1


@pytest.mark.parametrize(
    ("action", "status", "state"),
    [
        ("CREATING", "", PENDING),
        ("NONE", "PROVISIONING", PENDING),
        ("NONE", "STAGING", PENDING),
        ("RECREATING", "RUNNING", PENDING),
        ("NONE", "RUNNING", RUNNING),
        ("DELETING", "RUNNING", TERMINATING),
        ("ABANDONING", "RUNNING", TERMINATING),
        ("NONE", "STOPPING", TERMINATING),
        ("NONE", "TERMINATED", TERMINATING),
    ],
)
def test_group_actions_map_to_node_states(action: str, status: str, state: str) -> None:
    assert node_state(action, status) == state


# --- failures --------------------------------------------------------------------------------


def test_a_server_error_is_one_transient_line(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    fake.fail("compute.instanceGroupManagers.resize", 503, "backend\nunavailable")
    with pytest.raises(ComputeError) as caught:
        engine.set_desired(pool, 2)
    assert_one_line(caught.value, pool.name, f"cloudrender-{pool.name}", "503", "unavailable")
    assert caught.value.transient


def test_a_refusal_is_one_permanent_line_that_says_what_to_fix(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    fake.fail("compute.instanceTemplates.get", 403, "Required 'compute.instanceTemplates.get'")
    with pytest.raises(ComputeError) as caught:
        engine_for(pool).ensure_pool(pool)
    assert_one_line(caught.value, pool.name, "403", "instanceAdmin")
    assert not caught.value.transient


def test_a_failed_operation_is_one_line(fake: FakeCompute) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    fake.fail_operation(
        "compute.instanceGroupManagers.resize",
        "QUOTA_EXCEEDED",
        "Quota 'GPUS_ALL_REGIONS' exceeded",
    )
    with pytest.raises(ComputeError) as caught:
        engine.set_desired(pool, 3)
    assert_one_line(caught.value, pool.name, "QUOTA_EXCEEDED", "GPUS_ALL_REGIONS")
    assert not caught.value.transient


def test_an_unreachable_endpoint_is_one_transient_line(fake: FakeCompute) -> None:
    pool = make_pool(fake, endpoint=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ComputeError) as caught:
        engine_for(pool).desired(pool)
    assert_one_line(caught.value, pool.name, "unreachable")
    assert caught.value.transient


def test_a_missing_project_or_image_is_one_line(fake: FakeCompute) -> None:
    pool = make_pool(fake, project="")
    with pytest.raises(ComputeError) as caught:
        engine_for(pool)
    assert_one_line(caught.value, pool.name, "options.project")
    pool = make_pool(fake, vm_image="")
    before = len(fake.calls_of("compute.instanceTemplates.insert"))
    with pytest.raises(ComputeError) as caught:
        engine_for(pool).ensure_pool(pool)
    assert_one_line(caught.value, pool.name, "options.vm_image")
    assert len(fake.calls_of("compute.instanceTemplates.insert")) == before


# --- the fake checks what it is sent ---------------------------------------------------------

GROUPS = f"/compute/v1/projects/{PROJECT}/zones/{ZONE}/instanceGroupManagers"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"targetSise": 1}, "Unknown name 'targetSise'"),
        ({"targetSize": "one"}, "targetSize"),
        ({"baseInstanceName": 7}, "baseInstanceName"),
        ({"namedPorts": {"name": "http"}}, "expected a list"),
        ({"namedPorts": [{"name": "http", "port": "80"}]}, "namedPorts[0].port"),
        ({"updatePolicy": {"type": "SOMETIMES"}}, "not one of"),
        ({"status": {"isStable": True}}, "output only"),
        ({"name": None}, "name"),
    ],
)
def test_the_fake_refuses_a_body_the_api_schema_refuses(
    fake: FakeCompute, change: dict[str, Any], complaint: str
) -> None:
    body = {"name": "schema-check", "targetSize": 0, "baseInstanceName": "x", **change}
    if change.get("name", "") is None:
        del body["name"]
    status, message = raw(fake, "POST", GROUPS, body)
    assert status == 400 and complaint in message, message


def test_the_fake_accepts_a_body_that_fits_the_schema(fake: FakeCompute) -> None:
    # It gets past the schema to the fake's own check (the template it names does not exist).
    body = {"name": "schema-ok", "targetSize": 0, "baseInstanceName": "x"}
    status, message = raw(fake, "POST", GROUPS, {**body, "instanceTemplate": "global/x/y"})
    assert status == 400 and "instance template does not exist" in message


def test_the_fake_refuses_unknown_methods_and_parameters(fake: FakeCompute) -> None:
    status, message = raw(fake, "POST", f"{GROUPS}/g/shrink", {})
    assert status == 404 and "no Compute API method" in message
    status, message = raw(fake, "POST", f"{GROUPS}/g/resize")
    assert status == 400 and "'size'" in message  # a required parameter
    status, message = raw(fake, "POST", f"{GROUPS}/g/resize?size=2&force=true")
    assert status == 400 and "'force'" in message
    status, message = raw(fake, "POST", f"{GROUPS}/g/resize?size=two")
    assert status == 400 and "size" in message


def test_missing_credentials_are_one_line_that_says_what_to_set(
    fake: FakeCompute, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # No endpoint: the default credential chain runs, and finds a key file that is not there.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    pool = make_pool(fake, endpoint="")
    with pytest.raises(ComputeError) as caught:
        engine_for(pool).desired(pool)
    assert_one_line(caught.value, pool.name, "GOOGLE_APPLICATION_CREDENTIALS")
    assert not caught.value.transient
