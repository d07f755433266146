"""The ``azure`` engine against a fake Azure Resource Manager (fake_azure.py) that checks every
body against azure-mgmt-compute's own models: scale sets are created once, sized, protected and
shrunk by the exact VMs chosen, and every failure is one ComputeError line.

The fake is not Azure: VMs never boot (``settle()`` plays that), and only the checks the SDK's
models can express, plus the few in ``fake_azure._check_scale_set``, run.
"""

from __future__ import annotations

import base64
import builtins
import http.client
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from providers.compute import ComputeProvider, open_compute
from providers.compute.azure import AzureCompute, node_state
from providers.compute.base import PENDING, RUNNING, TERMINATING, ComputeError
from providers.compute.cloud_init import worker_user_data
from providers.compute.pools import Pool
from tests.providers.compute.fake_azure import TOKEN, FakeArm
from tests.providers.emulators import closed_port

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
RESOURCE_GROUP = "render"
SUBNET = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
    "Microsoft.Network/virtualNetworks/farm/subnets/workers"
)
BROKER = "redis://worker:s3cret@redis.internal:6379/0"
STORAGE = "azure://renders/farm"
_names = itertools.count()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeArm]:
    """One fake ARM for the module; every test names its own pools."""
    with FakeArm() as server:
        yield server


def make_pool(fake: FakeArm, *, spot: bool = True, **options: str) -> Pool:
    """A GPU pool on the fake with a name no other test uses."""
    return Pool(
        name=f"az{next(_names)}",
        provider="azure",
        instance_type="Standard_NC4as_T4_v3",
        vcpus=4,
        memory_gb=28,
        gpu="T4",
        gpus=1,
        nvenc=True,
        market="spot" if spot else "on-demand",
        region="westeurope",
        min_nodes=1,
        max_nodes=5,
        options={
            "subscription": SUBSCRIPTION,
            "resource_group": RESOURCE_GROUP,
            "endpoint": fake.endpoint,
            "vm_image": "microsoft-dsvm:ubuntu-hpc:2204:latest",
            "subnet": SUBNET,
            "ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests ops@farm",
            "retries": "0",
            "poll_seconds": "0",
            "timeout": "10",
            **options,
        },
    )


def engine_for(pool: Pool) -> AzureCompute:
    """The engine as the autoscaler opens it."""
    engine = open_compute(pool, broker_url=BROKER, storage_url=STORAGE, state_dir="/unused")
    assert isinstance(engine, AzureCompute)
    return engine


def scale_set(fake: FakeArm, pool: Pool) -> dict[str, Any]:
    """The pool's scale set as the fake holds it."""
    return fake.scale_sets[(SUBSCRIPTION, RESOURCE_GROUP, f"cloudrender-{pool.name}")].body


def vms(fake: FakeArm, pool: Pool) -> dict[str, list[Any]]:
    """instance id -> [provisioning state, power state, protected]."""
    return fake.vms(SUBSCRIPTION, RESOURCE_GROUP, f"cloudrender-{pool.name}")


def ready(fake: FakeArm, pool: Pool, count: int) -> AzureCompute:
    """An engine whose pool holds `count` running VMs."""
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.set_desired(pool, count)
    fake.settle()
    return engine


def raw(fake: FakeArm, verb: str, path: str, body: Any, token: str = TOKEN) -> tuple[int, str]:
    """Send one request to the fake as is; its status and ARM error message."""
    connection = http.client.HTTPConnection(fake.endpoint.removeprefix("http://"), timeout=10)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        connection.request(verb, path, body=json.dumps(body), headers=headers)
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


def test_the_engine_is_a_compute_provider(fake: FakeArm) -> None:
    engine = engine_for(make_pool(fake))
    assert isinstance(engine, ComputeProvider)
    assert engine.name == "azure"


def test_ensure_pool_creates_a_spot_scale_set(fake: FakeArm) -> None:
    pool = make_pool(fake, eviction="deallocate")
    polled = len(fake.polled)
    engine_for(pool).ensure_pool(pool)
    assert len(fake.polled) > polled  # it waited for the creation to finish

    created = scale_set(fake, pool)
    assert created["sku"] == {"name": "Standard_NC4as_T4_v3", "tier": "Standard", "capacity": 1}
    assert created["location"] == "westeurope"
    properties = created["properties"]
    assert properties["orchestrationMode"] == "Uniform"
    assert properties["upgradePolicy"] == {"mode": "Manual"}
    assert properties["overprovision"] is False
    profile = properties["virtualMachineProfile"]
    assert profile["priority"] == "Spot"
    assert profile["evictionPolicy"] == "Deallocate"
    assert profile["billingProfile"] == {"maxPrice": -1}
    assert profile["storageProfile"]["imageReference"] == {
        "publisher": "microsoft-dsvm",
        "offer": "ubuntu-hpc",
        "sku": "2204",
        "version": "latest",
    }
    script = base64.b64decode(profile["osProfile"]["customData"]).decode()
    assert script == worker_user_data(pool, "azure", broker_url=BROKER, storage_url=STORAGE)
    assert engine_for(pool).desired(pool) == 1
    assert list(vms(fake, pool)) == ["0"]


def test_an_on_demand_pool_is_regular_and_spot_eviction_defaults_to_delete(fake: FakeArm) -> None:
    regular = make_pool(fake, spot=False)
    engine_for(regular).ensure_pool(regular)
    profile = scale_set(fake, regular)["properties"]["virtualMachineProfile"]
    assert profile["priority"] == "Regular"
    assert "evictionPolicy" not in profile and "billingProfile" not in profile

    spot = make_pool(fake, vm_image=f"/subscriptions/{SUBSCRIPTION}/images/cloudrender-gpu")
    engine_for(spot).ensure_pool(spot)
    profile = scale_set(fake, spot)["properties"]["virtualMachineProfile"]
    assert profile["evictionPolicy"] == "Delete"
    assert profile["storageProfile"]["imageReference"] == {
        "id": f"/subscriptions/{SUBSCRIPTION}/images/cloudrender-gpu"
    }


def test_ensure_pool_is_idempotent(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.set_desired(pool, 3)
    engine.ensure_pool(pool)
    assert len(fake.bodies("PUT", f"cloudrender-{pool.name}")) == 1
    assert engine.desired(pool) == 3


# --- sizing and nodes ------------------------------------------------------------------------


def test_set_desired_starts_vms_that_nodes_lists(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)

    engine.set_desired(pool, 4)

    assert engine.desired(pool) == 4
    booting = engine.nodes(pool)
    assert sorted(n.id for n in booting) == ["0", "1", "2", "3"]
    assert [n.state for n in booting] == [PENDING] * 4
    assert all(n.pool == pool.name and n.market == "spot" and not n.protected for n in booting)
    assert all(n.launched_at is not None for n in booting)
    patch = fake.bodies("PATCH", f"cloudrender-{pool.name}")[-1]
    assert patch == {"sku": {"name": "Standard_NC4as_T4_v3", "tier": "Standard", "capacity": 4}}
    fake.settle()
    assert [n.state for n in engine.nodes(pool)] == [RUNNING] * 4


def test_set_desired_outside_the_bounds_is_refused(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    for count in (-1, pool.max_nodes + 1):
        with pytest.raises(ComputeError) as caught:
            engine.set_desired(pool, count)
        assert_one_line(caught.value, pool.name, "0 to 5")
    assert engine.desired(pool) == 1


def test_protect_flips_the_vms_protection_from_scale_in(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 3)

    polled = len(fake.polled)
    engine.protect(pool, ["0", "2"], True)
    assert len(fake.polled) == polled + 2  # it waited for both updates

    assert {n.id: n.protected for n in engine.nodes(pool)} == {"0": True, "1": False, "2": True}
    assert {i: vm[2] for i, vm in vms(fake, pool).items()} == {"0": True, "1": False, "2": True}
    # ARM keeps the rest of each VM as it was: the body is the VM read back, without what only
    # Azure may set.
    put = fake.bodies("PUT", f"cloudrender-{pool.name}/virtualMachines/2")[-1]
    assert put["properties"]["protectionPolicy"] == {"protectFromScaleIn": True}
    assert put["location"] == "westeurope" and "instanceId" not in put
    before = len(fake.calls)
    engine.protect(pool, ["0"], True)  # already protected: nothing to send
    assert [c[0] for c in fake.calls[before:]] == ["GET"]

    engine.protect(pool, ["0", "2"], False)
    assert not any(n.protected for n in engine.nodes(pool))


def test_terminate_removes_that_vm_and_lowers_desired(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 3)

    engine.terminate(pool, "1")

    assert engine.desired(pool) == 2
    assert {n.id: n.state for n in engine.nodes(pool)} == {
        "0": RUNNING,
        "1": TERMINATING,
        "2": RUNNING,
    }
    assert fake.bodies("POST", "/delete")[-1] == {"instanceIds": ["1"]}
    fake.settle()
    assert sorted(n.id for n in engine.nodes(pool)) == ["0", "2"]


def test_terminate_with_replace_keeps_desired_with_a_fresh_vm(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 2)

    engine.terminate(pool, "0", replace=True)

    assert engine.desired(pool) == 2
    assert fake.bodies("POST", "/delete")[-1] == {"instanceIds": ["0"]}
    assert {n.id: n.state for n in engine.nodes(pool)} == {
        "0": TERMINATING,
        "1": RUNNING,
        "2": PENDING,
    }
    fake.settle()
    assert sorted(n.id for n in engine.nodes(pool)) == ["1", "2"]


def test_terminate_of_an_unknown_vm_is_one_line(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = ready(fake, pool, 1)
    with pytest.raises(ComputeError) as caught:
        engine.terminate(pool, "42")
    assert_one_line(caught.value, pool.name, "400", "InvalidParameter", "42")
    assert not caught.value.transient
    assert engine.desired(pool) == 1


@pytest.mark.parametrize(
    ("provisioning", "power", "state"),
    [
        ("Creating", "starting", PENDING),
        ("Creating", "", PENDING),
        ("Failed", "", PENDING),
        ("Succeeded", "starting", PENDING),
        ("Succeeded", "running", RUNNING),
        ("Updating", "running", RUNNING),
        ("Succeeded", "", RUNNING),
        ("Deleting", "running", TERMINATING),
        ("Succeeded", "deallocated", TERMINATING),
        ("Succeeded", "stopped", TERMINATING),
    ],
)
def test_vm_states_map_to_node_states(provisioning: str, power: str, state: str) -> None:
    assert node_state(provisioning, power) == state


# --- failures --------------------------------------------------------------------------------


def test_a_server_error_is_one_transient_line(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    fake.fail("PATCH", f"cloudrender-{pool.name}", 503, "ServiceUnavailable", "try\nlater")
    with pytest.raises(ComputeError) as caught:
        engine.set_desired(pool, 2)
    assert_one_line(caught.value, pool.name, f"cloudrender-{pool.name}", "503", "try later")
    assert caught.value.transient
    assert engine.desired(pool) == 1


def test_a_quota_refusal_is_one_permanent_line(fake: FakeArm) -> None:
    pool = make_pool(fake)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    message = "Operation could not be completed as it results in exceeding approved quota"
    fake.fail("PATCH", f"cloudrender-{pool.name}", 409, "OperationNotAllowed", message)
    with pytest.raises(ComputeError) as caught:
        engine.set_desired(pool, 5)
    assert_one_line(caught.value, pool.name, "409", "OperationNotAllowed", "quota")
    assert not caught.value.transient


def test_a_permission_refusal_says_what_the_identity_needs(fake: FakeArm) -> None:
    pool = make_pool(fake)
    fake.fail("GET", f"cloudrender-{pool.name}", 403, "AuthorizationFailed", "no access")
    with pytest.raises(ComputeError) as caught:
        engine_for(pool).ensure_pool(pool)
    assert_one_line(caught.value, pool.name, "403", "Virtual Machine Contributor")


def test_an_unreachable_endpoint_is_one_transient_line(fake: FakeArm) -> None:
    pool = make_pool(fake, endpoint=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ComputeError) as caught:
        engine_for(pool).desired(pool)
    assert_one_line(caught.value, pool.name, "unreachable")
    assert caught.value.transient


def test_missing_options_are_one_line(fake: FakeArm) -> None:
    with pytest.raises(ComputeError) as caught:
        engine_for(make_pool(fake, resource_group=""))
    assert_one_line(caught.value, "options.resource_group")
    with pytest.raises(ComputeError) as caught:
        engine_for(make_pool(fake, orchestration="flexible"))
    assert_one_line(caught.value, "uniform")
    pool = make_pool(fake, subnet="", ssh_public_key="")
    with pytest.raises(ComputeError) as caught:
        engine_for(pool).ensure_pool(pool)
    assert_one_line(caught.value, pool.name, "subnet", "ssh_public_key")
    with pytest.raises(ComputeError) as caught:
        pool = make_pool(fake, eviction="Hibernate")
        engine_for(pool).ensure_pool(pool)
    assert_one_line(caught.value, pool.name, "Delete, Deallocate")
    assert not fake.bodies("PUT", f"cloudrender-{pool.name}")


def test_without_azure_identity_the_error_says_to_install_it(
    fake: FakeArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_identity(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("azure.identity"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_identity)
    pool = make_pool(fake, endpoint="")
    with pytest.raises(ComputeError) as caught:
        engine_for(pool).desired(pool)
    assert_one_line(caught.value, pool.name, "pip install azure-identity")


# --- the fake checks what it is sent ---------------------------------------------------------


def scale_set_path(name: str) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
        f"Microsoft.Compute/virtualMachineScaleSets/{name}?api-version=2026-04-01"
    )


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"sku": {"capacity": 1}}, "location is missing"),
        ({"location": "x", "sku": {"capacity": "2"}}, "sku.capacity must be int"),
        ({"location": "x", "skew": {}}, "Could not find member 'skew'"),
        ({"location": "x", "properties": {"provisioningState": "Succeeded"}}, "read-only"),
        (
            {"location": "x", "properties": {"virtualMachineProfile": {"priority": "Cheap"}}},
            "not one of Regular, Low, Spot",
        ),
        (
            {"location": "x", "properties": {"virtualMachineProfile": {"osProfile": []}}},
            "must be an object",
        ),
    ],
)
def test_the_fake_refuses_a_body_the_sdk_models_refuse(
    fake: FakeArm, body: dict[str, Any], complaint: str
) -> None:
    status, message = raw(fake, "PUT", scale_set_path("schema-check"), body)
    assert status == 400 and complaint in message, message


def test_the_fake_accepts_a_body_the_models_accept_then_checks_more(fake: FakeArm) -> None:
    body = {"location": "x", "sku": {"name": "Standard_D4s_v5", "capacity": 0}}
    status, message = raw(fake, "PUT", scale_set_path("schema-ok"), body)
    assert status == 400 and "virtualMachineProfile" in message  # its own check, past the models


def test_the_fake_wants_a_token_and_an_api_version(fake: FakeArm) -> None:
    status, _ = raw(fake, "GET", scale_set_path("x"), None, token="stolen")
    assert status == 401
    status, _ = raw(fake, "GET", scale_set_path("x").split("?")[0], None)
    assert status == 400
