"""The ``aws`` engine: one EC2 Auto Scaling group per pool.

``ensure_pool`` creates, when missing, a launch template (the pool's AMI and instance type, the
worker start-up script of ``providers.compute.cloud_init`` as user data, IMDSv2 required) and the
group with a mixed instances policy: a spot pool is 100 % spot with the price-capacity-optimized
allocation, an on-demand pool 100 % on-demand; extra instance types become overrides. An existing
group only has its min/max aligned. The group's own AZ rebalancing is suspended, as it would
terminate nodes the autoscaler did not choose; the autoscaler protects busy nodes from scale-in,
sets the desired capacity, and removes the nodes it drained with
``TerminateInstanceInAutoScalingGroup``.

Pool options (all strings):

- ``group``: the group's name (default ``cloudrender-<pool>``); ``launch_template``: an existing
  launch template to use as it is (default: the group's name, created when missing);
- ``image_id``: the AMI (needed to create the launch template): Docker, curl and, for GPU
  pools, the NVIDIA driver and container toolkit;
- ``subnets``: comma-separated subnet ids (else the pool's ``zone`` as availability zone);
  ``security_groups``: comma-separated ids; ``key_name``; ``instance_profile``: a name or ARN;
- ``instance_types``: comma-separated extra types for the mixed instances policy;
- ``image``, ``env_file``, ``env_parameter``: the worker image and where its secrets are
  (``providers.compute.cloud_init``);
- ``endpoint``: an endpoint URL for both APIs (moto's server in the tests);
  ``max_attempts``: botocore's attempts per call (default 4); ``timeout``: seconds each attempt
  may wait for a reply (default 30; connecting waits at most 5 of them).

Credentials come from boto3's usual chain (environment, profile, instance role).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import boto3
import botocore.session
from botocore.config import Config

from providers.compute.aws_errors import (
    aws_code,
    aws_errors,
    below_min_size,
    check_region,
    instance_gone,
)
from providers.compute.aws_template import group_name, group_request, tags, template_data, where
from providers.compute.base import PENDING, RUNNING, TERMINATING, ComputeError, ProviderNode
from providers.compute.cloud_init import worker_user_data
from providers.compute.pools import Pool

__all__ = ["AwsCompute", "group_name", "node_state"]

log = logging.getLogger(__name__)

#: AWS takes at most 50 instance ids per SetInstanceProtection call.
PROTECT_BATCH = 50
#: ...and we ask DescribeInstances about at most this many at once.
DESCRIBE_BATCH = 200
#: Seconds one attempt of an API call waits for its reply unless options.timeout says: a hung
#: endpoint holds the autoscaler's round this long per attempt.
READ_TIMEOUT = 30.0

_CLIENT_LOCK = threading.Lock()
_loader: Any = None

_GONE = frozenset({"Terminated", "Detached"})
_TERMINATING_PREFIXES = ("Terminating", "Detaching")
# An instance in standby still runs (and bills) its worker.
_RUNNING = frozenset({"InService", "Standby", "EnteringStandby"})


def node_state(lifecycle_state: str) -> str | None:
    """The provider node state of an Auto Scaling lifecycle state; None for a node gone."""
    if lifecycle_state in _GONE or lifecycle_state.startswith("Warmed"):
        return None
    if lifecycle_state.startswith(_TERMINATING_PREFIXES):
        return TERMINATING
    if lifecycle_state in _RUNNING:
        return RUNNING
    return PENDING  # Pending, Pending:Wait, Pending:Proceed, Quarantined


class AwsCompute:
    """Sets pools' sizes on EC2 Auto Scaling groups."""

    name = "aws"

    def __init__(
        self,
        *,
        broker_url: str | None = None,
        storage_url: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 4,
        timeout: float = READ_TIMEOUT,
    ) -> None:
        self.broker_url = broker_url
        self.storage_url = storage_url
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._clients: dict[tuple[str, str], Any] = {}

    @classmethod
    def for_pool(cls, pool: Pool, **context: Any) -> Self:
        """The engine for `pool`, with the broker/storage URLs its nodes start with."""
        try:
            attempts = int(pool.options.get("max_attempts", "4"))
        except ValueError:
            raise ComputeError(
                f"pool {pool.name!r}: options.max_attempts must be a whole number"
            ) from None
        endpoint = pool.options.get("endpoint") or None
        if endpoint is None:
            check_region(pool)
        try:
            timeout = float(pool.options.get("timeout", str(READ_TIMEOUT)))
        except ValueError:
            timeout = -1.0
        if not 0 < timeout < float("inf"):
            raise ComputeError(
                f"pool {pool.name!r}: options.timeout must be a positive number of seconds, "
                f"not {pool.options.get('timeout')!r}"
            )
        return cls(
            broker_url=context.get("broker_url"),
            storage_url=context.get("storage_url"),
            endpoint_url=endpoint,
            max_attempts=max(1, attempts),
            timeout=timeout,
        )

    # --- the ComputeProvider protocol ----------------------------------------------------------

    def ensure_pool(self, pool: Pool) -> None:
        """Create the launch template and group if missing, else align the group's min/max."""
        group = self._group(pool)
        if group is not None:
            if (group["MinSize"], group["MaxSize"]) != (pool.min_nodes, pool.max_nodes):
                with aws_errors(where(pool), "update the group's size bounds"):
                    self.client(pool, "autoscaling").update_auto_scaling_group(
                        AutoScalingGroupName=group_name(pool),
                        MinSize=pool.min_nodes,
                        MaxSize=pool.max_nodes,
                    )
            return
        template = self._ensure_template(pool)
        self._create_group(pool, template)

    def desired(self, pool: Pool) -> int:
        """The group's desired capacity."""
        return int(self._existing_group(pool)["DesiredCapacity"])

    def set_desired(self, pool: Pool, count: int) -> None:
        """Set the group's desired capacity (within its min and max)."""
        group = self._existing_group(pool)
        low, high = int(group["MinSize"]), int(group["MaxSize"])
        if not low <= count <= high:
            raise ComputeError(
                f"{where(pool)}: cannot hold {count} nodes, the group allows {low} to {high}; "
                "change the pool's min_nodes/max_nodes (ensure_pool aligns the group)"
            )
        with aws_errors(where(pool), f"set the desired capacity to {count}"):
            self.client(pool, "autoscaling").set_desired_capacity(
                AutoScalingGroupName=group_name(pool), DesiredCapacity=count, HonorCooldown=False
            )

    def nodes(self, pool: Pool) -> list[ProviderNode]:
        """The group's instances that are not terminated, with their launch times."""
        instances = self._existing_group(pool).get("Instances", [])
        listed = [(i, node_state(str(i["LifecycleState"]))) for i in instances]
        alive = [(i, state) for i, state in listed if state is not None]
        details = self._describe_instances(pool, [str(i["InstanceId"]) for i, _ in alive])
        nodes = []
        for instance, state in alive:
            instance_id = str(instance["InstanceId"])
            ec2 = details.get(instance_id, {})
            launched = ec2.get("LaunchTime")
            nodes.append(
                ProviderNode(
                    id=instance_id,
                    pool=pool.name,
                    state=str(state),
                    launched_at=launched.timestamp() if isinstance(launched, datetime) else None,
                    market=_market(ec2, pool),
                    protected=bool(instance.get("ProtectedFromScaleIn", False)),
                )
            )
        return nodes

    def protect(self, pool: Pool, node_ids: Sequence[str], protected: bool) -> None:
        """Set scale-in protection on the nodes still in the group (others are skipped)."""
        if not node_ids:
            return
        members = {
            str(i["InstanceId"])
            for i in self._existing_group(pool).get("Instances", [])
            if node_state(str(i["LifecycleState"])) in (PENDING, RUNNING)
        }
        wanted = [node for node in dict.fromkeys(node_ids) if node in members]
        if len(wanted) < len(set(node_ids)):
            log.debug("pool %s: not protecting nodes no longer in the group", pool.name)
        client = self.client(pool, "autoscaling")
        action = "protect nodes from scale-in" if protected else "lift scale-in protection"
        for start in range(0, len(wanted), PROTECT_BATCH):
            with aws_errors(where(pool), action):
                client.set_instance_protection(
                    AutoScalingGroupName=group_name(pool),
                    InstanceIds=wanted[start : start + PROTECT_BATCH],
                    ProtectedFromScaleIn=protected,
                )

    def terminate(self, pool: Pool, node_id: str, *, replace: bool = False) -> None:
        """Terminate one node; the desired capacity drops by one unless `replace` or the group
        is at its MinSize (AWS refuses to go below it: the group launches a replacement)."""
        group = self._existing_group(pool)
        instances = group.get("Instances", [])
        state = next(
            (node_state(str(i["LifecycleState"])) for i in instances if i["InstanceId"] == node_id),
            None,
        )
        if state in (None, TERMINATING):
            log.debug("pool %s: node %s already gone or going", pool.name, node_id)
            return
        # At the minimum a decrement is a ValidationError ("... will violate group's min size
        # constraint"): a lost or failed node there could never be terminated.
        at_min = int(group.get("DesiredCapacity", 0)) <= int(group.get("MinSize", 0))
        try:
            self._terminate(pool, node_id, decrement=not replace and not at_min)
        except ComputeError as exc:
            if not below_min_size(exc):
                raise
            # The group's size fell to its minimum since the look: replaced instead.
            self._terminate(pool, node_id, decrement=False)

    def _terminate(self, pool: Pool, node_id: str, *, decrement: bool) -> None:
        try:
            with aws_errors(where(pool), f"terminate node {node_id}"):
                self.client(pool, "autoscaling").terminate_instance_in_auto_scaling_group(
                    InstanceId=node_id, ShouldDecrementDesiredCapacity=decrement
                )
        except ComputeError as exc:
            if not instance_gone(exc):
                raise
            # It left between the look and the call: what was asked for happened.

    # --- creation ------------------------------------------------------------------------------

    def _ensure_template(self, pool: Pool) -> str:
        """The launch template's name, creating it when missing."""
        name = pool.options.get("launch_template") or group_name(pool)
        ec2 = self.client(pool, "ec2")
        try:
            with aws_errors(where(pool), f"look up launch template {name!r}"):
                ec2.describe_launch_templates(LaunchTemplateNames=[name])
            return name
        except ComputeError as exc:
            if not aws_code(exc).startswith("InvalidLaunchTemplateName.NotFound"):
                raise
        if pool.options.get("launch_template"):
            raise ComputeError(
                f"{where(pool)}: launch template {name!r} (options.launch_template) does not "
                "exist; create it or remove the option to have one made from options.image_id"
            )
        script = worker_user_data(
            pool, "aws", broker_url=self.broker_url, storage_url=self.storage_url
        )
        try:
            with aws_errors(where(pool), f"create launch template {name!r}"):
                ec2.create_launch_template(
                    LaunchTemplateName=name,
                    VersionDescription=f"cloudrender pool {pool.name}",
                    LaunchTemplateData=template_data(pool, script),
                    TagSpecifications=[{"ResourceType": "launch-template", "Tags": tags(pool)}],
                )
        except ComputeError as exc:
            # Another orchestrator made it first: the same pool, the same template.
            if "AlreadyExists" not in aws_code(exc):
                raise
        return name

    def _create_group(self, pool: Pool, template: str) -> None:
        """Create the Auto Scaling group and suspend its AZ rebalancing."""
        request = group_request(pool, template)
        client = self.client(pool, "autoscaling")
        try:
            with aws_errors(where(pool), "create the group"):
                client.create_auto_scaling_group(**request)
        except ComputeError as exc:
            if aws_code(exc) != "AlreadyExists":
                raise
            self.ensure_pool(pool)  # made meanwhile by another orchestrator: align it
            return
        with aws_errors(where(pool), "suspend the group's AZ rebalancing"):
            client.suspend_processes(
                AutoScalingGroupName=group_name(pool), ScalingProcesses=["AZRebalance"]
            )

    # --- helpers -------------------------------------------------------------------------------

    def client(self, pool: Pool, service: str) -> Any:
        """The boto3 client for `service` in the pool's region, made once."""
        key = (service, pool.region)
        client = self._clients.get(key)
        if client is None:
            config = Config(
                connect_timeout=min(5.0, self.timeout),
                read_timeout=self.timeout,
                retries={"mode": "standard", "max_attempts": self.max_attempts},
            )
            with aws_errors(where(pool), f"open the {service} API"):
                client = _new_client(service, pool.region, self.endpoint_url, config)
            self._clients[key] = client
        return client

    def _group(self, pool: Pool) -> dict[str, Any] | None:
        """The group as DescribeAutoScalingGroups reports it, None when it does not exist."""
        with aws_errors(where(pool), "describe the group"):
            reply = self.client(pool, "autoscaling").describe_auto_scaling_groups(
                AutoScalingGroupNames=[group_name(pool)]
            )
        groups = reply.get("AutoScalingGroups", [])
        return dict(groups[0]) if groups else None

    def _existing_group(self, pool: Pool) -> dict[str, Any]:
        group = self._group(pool)
        if group is None:
            raise ComputeError(
                f"{where(pool)}: the group does not exist in {pool.region}; check "
                "options.group and the region, or let the autoscaler create it (ensure_pool)"
            )
        return group

    def _describe_instances(self, pool: Pool, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """EC2's view of the instances, by id; empty for ids EC2 does not know yet."""
        found: dict[str, dict[str, Any]] = {}
        client = self.client(pool, "ec2")
        for start in range(0, len(ids), DESCRIBE_BATCH):
            batch = list(ids[start : start + DESCRIBE_BATCH])
            try:
                with aws_errors(where(pool), "describe the group's instances"):
                    reply = client.describe_instances(InstanceIds=batch)
            except ComputeError as exc:
                # EC2 is eventually consistent: a just-launched id may be unknown for a moment.
                if aws_code(exc).startswith("InvalidInstanceID"):
                    continue
                raise
            for reservation in reply.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    found[str(instance["InstanceId"])] = dict(instance)
        return found


def _new_client(service: str, region: str, endpoint_url: str | None, config: Config) -> Any:
    """A client in a private session (boto3's default one is not thread-safe) that shares the
    parsed API models: parsing EC2's anew costs a quarter of a second per engine."""
    global _loader
    with _CLIENT_LOCK:
        core = botocore.session.Session()
        if _loader is None:
            _loader = core.get_component("data_loader")
        else:
            core.register_component("data_loader", _loader)
        session = boto3.session.Session(botocore_session=core, region_name=region or None)
        return session.client(service, endpoint_url=endpoint_url, config=config)


def _market(instance: dict[str, Any], pool: Pool) -> str:
    """EC2 marks spot instances; without a mark, the pool's market (its group launches only
    that one: 0 % or 100 % on-demand)."""
    lifecycle = instance.get("InstanceLifecycle")
    if lifecycle == "spot":
        return "spot"
    return "on-demand" if lifecycle else pool.market
