"""The ``aws`` engine against moto's server (Auto Scaling and EC2): groups are created, sized,
protected and shrunk by the exact nodes chosen, and every failure is one ComputeError line.

moto launches instances at once (InService, EC2 "running") and runs no user data, so these tests
check the calls and the state the APIs report, not a booting worker.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import botocore.exceptions
import pytest

from providers.compute import ComputeProvider, open_compute
from providers.compute.aws import AwsCompute, group_name, node_state
from providers.compute.aws_errors import translate
from providers.compute.base import PENDING, RUNNING, TERMINATING, ComputeError
from providers.compute.cloud_init import worker_user_data
from providers.compute.pools import Pool
from tests.providers.emulators import closed_port

if TYPE_CHECKING:
    from tests.providers.compute.conftest import AwsNetwork, MakePool

pytestmark = pytest.mark.usefixtures("aws_credentials")

BROKER = "redis://worker:s3cret@redis.internal:6379/0"
STORAGE = "s3://renders/farm"


def engine_for(pool: Pool) -> AwsCompute:
    """The engine as the autoscaler opens it."""
    provider = open_compute(pool, broker_url=BROKER, storage_url=STORAGE, state_dir="/unused")
    assert isinstance(provider, AwsCompute)
    return provider


def describe(network: AwsNetwork, pool: Pool) -> dict[str, Any]:
    """The pool's group as AWS reports it."""
    groups = network.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[group_name(pool)]
    )["AutoScalingGroups"]
    assert len(groups) == 1
    return dict(groups[0])


def ec2_states(network: AwsNetwork, ids: list[str]) -> dict[str, str]:
    """EC2's state name of each instance."""
    reply = network.client("ec2").describe_instances(InstanceIds=ids)
    return {
        i["InstanceId"]: i["State"]["Name"] for r in reply["Reservations"] for i in r["Instances"]
    }


def assert_one_line(exc: BaseException, *words: str) -> None:
    """The error is one line and names every one of `words`."""
    message = str(exc)
    assert "\n" not in message
    for word in words:
        assert word in message, message


# --- creation --------------------------------------------------------------------------------


def test_the_engine_is_a_compute_provider(make_pool: MakePool) -> None:
    engine = engine_for(make_pool())
    assert isinstance(engine, ComputeProvider)
    assert engine.name == "aws"


def test_ensure_pool_creates_a_spot_group_from_a_launch_template(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    pool = make_pool("spot", instance_types="g6.xlarge, g5.2xlarge", key_name="ops")
    engine = engine_for(pool)
    engine.ensure_pool(pool)

    group = describe(aws_network, pool)
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (0, 3, 0)
    assert group["VPCZoneIdentifier"] == aws_network.subnet_id
    policy = group["MixedInstancesPolicy"]
    assert policy["InstancesDistribution"]["OnDemandBaseCapacity"] == 0
    assert policy["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"] == 0
    assert policy["InstancesDistribution"]["SpotAllocationStrategy"] == "price-capacity-optimized"
    assert [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]] == [
        "g5.xlarge",
        "g6.xlarge",
        "g5.2xlarge",
    ]
    spec = policy["LaunchTemplate"]["LaunchTemplateSpecification"]
    assert spec["LaunchTemplateName"] == group_name(pool)
    assert {"Key": "cloudrender:pool", "Value": pool.name} == {
        k: v for k, v in group["Tags"][0].items() if k in ("Key", "Value")
    }
    assert "AZRebalance" in [p["ProcessName"] for p in group["SuspendedProcesses"]]

    version = aws_network.client("ec2").describe_launch_template_versions(
        LaunchTemplateName=group_name(pool)
    )["LaunchTemplateVersions"]
    assert len(version) == 1
    data = version[0]["LaunchTemplateData"]
    assert data["ImageId"] == aws_network.image_id
    assert data["InstanceType"] == "g5.xlarge"
    assert data["KeyName"] == "ops"
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    script = base64.b64decode(data["UserData"]).decode()
    assert script == worker_user_data(pool, "aws", broker_url=BROKER, storage_url=STORAGE)
    assert "CLOUDRENDER_SPOT_PROVIDER=aws" in script


def test_an_on_demand_pool_is_all_on_demand(make_pool: MakePool, aws_network: AwsNetwork) -> None:
    pool = make_pool("on-demand")
    engine_for(pool).ensure_pool(pool)
    distribution = describe(aws_network, pool)["MixedInstancesPolicy"]["InstancesDistribution"]
    assert distribution["OnDemandPercentageAboveBaseCapacity"] == 100
    assert "SpotAllocationStrategy" not in distribution


def test_ensure_pool_is_idempotent_and_aligns_bounds(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    pool = make_pool()
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.ensure_pool(pool)
    group = describe(aws_network, pool)
    assert (group["MinSize"], group["MaxSize"]) == (0, 3)
    versions = aws_network.client("ec2").describe_launch_template_versions(
        LaunchTemplateName=group_name(pool)
    )["LaunchTemplateVersions"]
    assert len(versions) == 1

    grown = replace(pool, min_nodes=1, max_nodes=6)
    engine.ensure_pool(grown)
    group = describe(aws_network, pool)
    assert (group["MinSize"], group["MaxSize"]) == (1, 6)
    # Only the bounds change: no new launch template version. (moto drops the group's mixed
    # instances policy on any update, which AWS does not, so the policy is not checked here.)
    versions = aws_network.client("ec2").describe_launch_template_versions(
        LaunchTemplateName=group_name(pool)
    )["LaunchTemplateVersions"]
    assert len(versions) == 1


def test_an_existing_launch_template_is_used_as_it_is(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    first = make_pool(suffix="a")
    engine_for(first).ensure_pool(first)
    pool = make_pool(suffix="b", launch_template=group_name(first), image_id="")
    engine_for(pool).ensure_pool(pool)
    spec = describe(aws_network, pool)["MixedInstancesPolicy"]["LaunchTemplate"]
    assert spec["LaunchTemplateSpecification"]["LaunchTemplateName"] == group_name(first)


# --- sizing, protection, removal ---------------------------------------------------------------


def test_set_desired_launches_nodes_that_nodes_lists(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    pool = make_pool("spot")
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    assert engine.desired(pool) == 0
    assert engine.nodes(pool) == []

    before = time.time()
    engine.set_desired(pool, 2)
    assert engine.desired(pool) == 2
    nodes = engine.nodes(pool)
    assert len(nodes) == 2
    assert {n.state for n in nodes} == {RUNNING}
    assert {n.pool for n in nodes} == {pool.name}
    assert {n.market for n in nodes} == {"spot"}
    assert not any(n.protected for n in nodes)
    for node in nodes:
        assert node.launched_at is not None and abs(node.launched_at - before) < 120
    assert set(ec2_states(aws_network, [n.id for n in nodes]).values()) == {"running"}


def test_set_desired_outside_the_bounds_is_refused(make_pool: MakePool) -> None:
    pool = make_pool()
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    with pytest.raises(ComputeError) as raised:
        engine.set_desired(pool, 4)
    assert_one_line(raised.value, pool.name, group_name(pool), "0 to 3", "max_nodes")
    with pytest.raises(ComputeError):
        engine.set_desired(pool, -1)
    assert engine.desired(pool) == 0


def test_protect_shows_on_the_nodes_and_in_aws(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    pool = make_pool()
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.set_desired(pool, 3)
    ids = sorted(n.id for n in engine.nodes(pool))

    engine.protect(pool, ids[:2] + ["i-00000000000000000"], True)
    assert {n.id for n in engine.nodes(pool) if n.protected} == set(ids[:2])
    aws = {
        i["InstanceId"]: i["ProtectedFromScaleIn"] for i in describe(aws_network, pool)["Instances"]
    }
    assert aws == {ids[0]: True, ids[1]: True, ids[2]: False}

    engine.protect(pool, ids[:1], False)
    assert {n.id for n in engine.nodes(pool) if n.protected} == {ids[1]}
    engine.protect(pool, [], True)  # nothing to do, and no call that AWS would refuse


def test_terminate_removes_the_node_and_lowers_desired(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    pool = make_pool()
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.set_desired(pool, 2)
    victim, keeper = sorted(n.id for n in engine.nodes(pool))

    engine.terminate(pool, victim)
    assert engine.desired(pool) == 1
    assert [n.id for n in engine.nodes(pool)] == [keeper]
    assert ec2_states(aws_network, [victim]) == {victim: "terminated"}

    # Gone already, or never there: what was asked for holds, so no error.
    engine.terminate(pool, victim)
    engine.terminate(pool, "i-00000000000000000")
    assert engine.desired(pool) == 1


def test_terminate_with_replace_keeps_desired(make_pool: MakePool, aws_network: AwsNetwork) -> None:
    pool = make_pool()
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.set_desired(pool, 2)
    before = {n.id for n in engine.nodes(pool)}
    failed = sorted(before)[0]

    engine.terminate(pool, failed, replace=True)
    assert engine.desired(pool) == 2
    after = {n.id for n in engine.nodes(pool)}
    assert failed not in after and len(after) == 2
    assert ec2_states(aws_network, [failed]) == {failed: "terminated"}


def test_launch_protect_drain_terminate_in_order(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    """The autoscaler's calls for one scale-out and one drained node, as AWS receives them."""
    pool = make_pool()
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if not model.name.startswith("Describe"):
            calls.append((model.name, params))

    engine.client(pool, "autoscaling").meta.events.register(
        "provide-client-params.auto-scaling.*", record
    )

    engine.set_desired(pool, 2)
    assert engine.desired(pool) == 2
    busy, idle = sorted(n.id for n in engine.nodes(pool))
    assert set(ec2_states(aws_network, [busy, idle]).values()) == {"running"}

    engine.protect(pool, [busy], True)
    states = {n.id: (n.state, n.protected) for n in engine.nodes(pool)}
    assert states == {busy: (RUNNING, True), idle: (RUNNING, False)}

    engine.terminate(pool, idle)
    assert engine.desired(pool) == 1
    assert [(n.id, n.protected) for n in engine.nodes(pool)] == [(busy, True)]
    assert ec2_states(aws_network, [busy, idle]) == {busy: "running", idle: "terminated"}

    name = group_name(pool)
    assert calls == [
        (
            "SetDesiredCapacity",
            {"AutoScalingGroupName": name, "DesiredCapacity": 2, "HonorCooldown": False},
        ),
        (
            "SetInstanceProtection",
            {"AutoScalingGroupName": name, "InstanceIds": [busy], "ProtectedFromScaleIn": True},
        ),
        (
            "TerminateInstanceInAutoScalingGroup",
            {"InstanceId": idle, "ShouldDecrementDesiredCapacity": True},
        ),
    ]


@pytest.mark.parametrize(
    ("lifecycle", "state"),
    [
        ("Pending", PENDING),
        ("Pending:Wait", PENDING),
        ("Pending:Proceed", PENDING),
        ("Quarantined", PENDING),
        ("InService", RUNNING),
        ("Standby", RUNNING),
        ("Terminating", TERMINATING),
        ("Terminating:Wait", TERMINATING),
        ("Terminating:Proceed", TERMINATING),
        ("Detaching", TERMINATING),
        ("Terminated", None),
        ("Detached", None),
        ("Warmed:Running", None),
    ],
)
def test_lifecycle_states_map_to_node_states(lifecycle: str, state: str | None) -> None:
    # moto puts every instance InService at once, so the other states are checked here.
    assert node_state(lifecycle) == state


# --- errors ----------------------------------------------------------------------------------


def test_a_missing_image_id_is_one_line_and_creates_nothing(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    pool = make_pool(image_id="")
    with pytest.raises(ComputeError) as raised:
        engine_for(pool).ensure_pool(pool)
    assert_one_line(raised.value, pool.name, group_name(pool), "options.image_id")
    groups = aws_network.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[group_name(pool)]
    )["AutoScalingGroups"]
    assert groups == []


def test_a_missing_named_launch_template_is_one_line(make_pool: MakePool) -> None:
    pool = make_pool(launch_template="no-such-template")
    with pytest.raises(ComputeError) as raised:
        engine_for(pool).ensure_pool(pool)
    assert_one_line(raised.value, "no-such-template", "does not exist")


@pytest.mark.parametrize(
    "call",
    [
        lambda e, p: e.desired(p),
        lambda e, p: e.set_desired(p, 1),
        lambda e, p: e.nodes(p),
        lambda e, p: e.protect(p, ["i-00000000000000000"], True),
        lambda e, p: e.terminate(p, "i-00000000000000000"),
    ],
    ids=["desired", "set_desired", "nodes", "protect", "terminate"],
)
def test_an_unknown_group_is_one_line(
    make_pool: MakePool, call: Callable[[AwsCompute, Pool], object]
) -> None:
    pool = make_pool(group="cloudrender-never-made")
    with pytest.raises(ComputeError) as raised:
        call(engine_for(pool), pool)
    assert_one_line(raised.value, pool.name, "cloudrender-never-made", "does not exist")
    assert not raised.value.transient


def test_an_unreachable_endpoint_is_one_transient_line(make_pool: MakePool) -> None:
    pool = make_pool(endpoint=f"http://127.0.0.1:{closed_port()}", max_attempts="1")
    with pytest.raises(ComputeError) as raised:
        engine_for(pool).desired(pool)
    assert_one_line(raised.value, pool.name, group_name(pool), "unreachable")
    assert raised.value.transient


@pytest.mark.parametrize(
    ("region", "meant"), [("us-east1", "'us-east-1'"), ("eu-wset-1", "'eu-west-1'"), ("eastus", "")]
)
def test_a_region_aws_does_not_have_is_named_not_blamed_on_the_network(
    region: str, meant: str
) -> None:
    # Before, the SDK made a host name of the typo and the error said "unreachable (check the
    # network)"; nothing named the pool's region.
    pool = Pool("cpu", "aws", region=region, instance_type="c6i.large", price_per_hour=0.1)
    with pytest.raises(ComputeError) as raised:
        AwsCompute.for_pool(pool)
    assert_one_line(raised.value, "'cpu'", f"region {region!r} is not an AWS region", meant)
    assert AwsCompute.for_pool(replace(pool, region="us-east-1")) is not None
    assert AwsCompute.for_pool(replace(pool, options={"endpoint": "http://moto:5000"})) is not None


def test_options_timeout_bounds_a_call_to_an_endpoint_that_never_answers() -> None:
    # Before, each attempt waited a fixed 30 s: one call to a hung endpoint held the
    # autoscaler's round 90 s with max_attempts 2, 120 s with the default 4.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)  # accepts, never answers
        endpoint = f"http://127.0.0.1:{hung.getsockname()[1]}"
        options = {"endpoint": endpoint, "max_attempts": "1", "timeout": "0.5"}
        pool = Pool("cpu", "aws", region="us-east-1", options=options)
        began = time.monotonic()
        with pytest.raises(ComputeError) as raised:
            AwsCompute.for_pool(pool).desired(pool)
        assert time.monotonic() - began < 5
    assert_one_line(raised.value, "'cpu'", "Read timeout")


@pytest.mark.parametrize("timeout", ["soon", "0", "-3", "inf"])
def test_a_bad_timeout_option_is_one_line(timeout: str) -> None:
    pool = Pool("cpu", "aws", region="us-east-1", options={"timeout": timeout})
    with pytest.raises(ComputeError) as raised:
        AwsCompute.for_pool(pool)
    assert_one_line(raised.value, "'cpu'", "options.timeout must be a positive number")


def test_a_bad_max_attempts_option_is_one_line(make_pool: MakePool) -> None:
    pool = make_pool(max_attempts="many")
    with pytest.raises(ComputeError) as raised:
        engine_for(pool)
    assert_one_line(raised.value, pool.name, "max_attempts")


@pytest.mark.parametrize(
    ("code", "status", "transient", "hint"),
    [
        ("Throttling", 400, True, "Rate exceeded"),
        ("ScalingActivityInProgress", 400, True, "in progress"),
        ("InternalFailure", 500, True, "oops"),
        ("ValidationError", 400, False, "min size"),
        ("AccessDenied", 403, False, "autoscaling:SetDesiredCapacity"),
        ("InvalidClientTokenId", 403, False, "AWS_ACCESS_KEY_ID"),
    ],
)
def test_aws_error_replies_become_one_line_compute_errors(
    code: str, status: int, transient: bool, hint: str
) -> None:
    # Replies moto never sends (throttling, IAM), shaped as botocore parses AWS's.
    messages = {
        "Throttling": "Rate exceeded",
        "ScalingActivityInProgress": "Scaling activity in progress",
        "InternalFailure": "oops\nsecond line",
        "ValidationError": "Terminating instance without replacement will violate min size",
    }
    reply = {
        "Error": {"Code": code, "Message": messages.get(code, "denied")},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    error = botocore.exceptions.ClientError(reply, "SetDesiredCapacity")  # type: ignore[arg-type]
    translated = translate(error, "pool 'gpu' (AWS Auto Scaling group 'g')", "set the size")
    assert_one_line(translated, "pool 'gpu'", "'g'", code, hint)
    assert translated.transient is transient


MIN_SIZE_REFUSAL = (
    "Currently, desiredSize equals minSize (1). Terminating instance without replacement will "
    "violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to "
    "false or lower group's min size."
)


class _Refused:
    """What botocore needs of an HTTP reply to raise the ClientError AWS would."""

    status_code = 400
    headers: dict[str, str] = {}


def refuse_below_min_size(engine: AwsCompute, pool: Pool, network: AwsNetwork) -> None:
    """Make moto refuse a decrement at the group's MinSize, as AWS does (moto lets it through)."""

    def check(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        group = describe(network, pool)
        decrement = str(params.get("body", {}).get("ShouldDecrementDesiredCapacity"))
        if decrement.lower() == "true" and (group["DesiredCapacity"] <= group["MinSize"]):
            error = {"Code": "ValidationError", "Message": MIN_SIZE_REFUSAL}
            return _Refused(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None

    engine.client(pool, "autoscaling").meta.events.register(
        "before-call.auto-scaling.TerminateInstanceInAutoScalingGroup", check
    )


def test_a_lost_node_at_the_groups_minimum_is_terminated_and_replaced(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    # Before, the terminate asked AWS to lower the size below MinSize: AWS refuses that, so a
    # lost or never-booted node of a min_nodes pool could not be terminated and billed on.
    pool = replace(make_pool(), min_nodes=1)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.set_desired(pool, 1)
    refuse_below_min_size(engine, pool, aws_network)
    [lost] = [n.id for n in engine.nodes(pool)]
    engine.terminate(pool, lost)
    assert ec2_states(aws_network, [lost]) == {lost: "terminated"}
    assert describe(aws_network, pool)["DesiredCapacity"] == 1  # the group replaces it


def test_a_group_that_fell_to_its_minimum_since_the_look_still_terminates_the_node(
    make_pool: MakePool, aws_network: AwsNetwork
) -> None:
    # The terminate looks at the group (above MinSize: decrement) and the group falls to its
    # minimum before the call (another terminate, a scale-in): AWS refuses the decrement, and
    # the node must still go, replaced, not be left billing with the round failing.
    pool = replace(make_pool(), min_nodes=1)
    engine = engine_for(pool)
    engine.ensure_pool(pool)
    engine.set_desired(pool, 2)
    first, second = sorted(n.id for n in engine.nodes(pool))
    engine.protect(pool, [first, second], True)  # the racing scale-in takes neither
    raced: list[str] = []

    def race(**_: Any) -> None:
        if not raced:
            raced.append("lowered")
            engine.client(pool, "autoscaling").set_desired_capacity(
                AutoScalingGroupName=group_name(pool), DesiredCapacity=1
            )

    engine.client(pool, "autoscaling").meta.events.register(
        "before-call.auto-scaling.TerminateInstanceInAutoScalingGroup", race
    )
    refuse_below_min_size(engine, pool, aws_network)
    engine.terminate(pool, first)
    assert raced == ["lowered"]
    assert ec2_states(aws_network, [first]) == {first: "terminated"}
    assert describe(aws_network, pool)["DesiredCapacity"] == 1
