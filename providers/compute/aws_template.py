"""What the ``aws`` engine asks EC2 to create for a pool: the launch template's data and the
Auto Scaling group's request (pure functions over the pool; ``providers.compute.aws`` sends them).
"""

from __future__ import annotations

import base64
from typing import Any

from providers.compute.base import ComputeError
from providers.compute.pools import Pool

__all__ = ["POOL_TAG", "USER_DATA_LIMIT", "group_name", "group_request", "template_data", "where"]

POOL_TAG = "cloudrender:pool"
#: EC2 refuses user data above 16 KiB (before base64).
USER_DATA_LIMIT = 16 * 1024


def group_name(pool: Pool) -> str:
    """The pool's Auto Scaling group name."""
    return pool.options.get("group") or f"cloudrender-{pool.name}"


def where(pool: Pool) -> str:
    """How messages name the pool and its group."""
    return f"pool {pool.name!r} (AWS Auto Scaling group {group_name(pool)!r})"


def tags(pool: Pool) -> list[dict[str, Any]]:
    """The tags of everything made for the pool."""
    return [{"Key": POOL_TAG, "Value": pool.name}, {"Key": "Name", "Value": group_name(pool)}]


def template_data(pool: Pool, user_data: str) -> dict[str, Any]:
    """The launch template's data: AMI, type, start-up script and the optional settings."""
    options = pool.options
    image_id = options.get("image_id")
    if not image_id:
        raise ComputeError(
            f"{where(pool)}: options.image_id (an AMI with Docker) is required to create "
            "the launch template; or name an existing one in options.launch_template"
        )
    script = user_data.encode()
    if len(script) > USER_DATA_LIMIT:
        raise ComputeError(
            f"{where(pool)}: the start-up script is {len(script)} bytes, above EC2's "
            f"{USER_DATA_LIMIT}-byte user data limit; shorten the pool's options"
        )
    data: dict[str, Any] = {
        "ImageId": image_id,
        "InstanceType": pool.instance_type,
        "UserData": base64.b64encode(script).decode("ascii"),
        # IMDSv2 only; two hops so a container on a bridge network still reaches it.
        "MetadataOptions": {
            "HttpEndpoint": "enabled",
            "HttpTokens": "required",
            "HttpPutResponseHopLimit": 2,
        },
        "TagSpecifications": [
            {"ResourceType": kind, "Tags": tags(pool)} for kind in ("instance", "volume")
        ],
    }
    if options.get("key_name"):
        data["KeyName"] = options["key_name"]
    if groups := split(options.get("security_groups")):
        data["SecurityGroupIds"] = groups
    if profile := options.get("instance_profile"):
        data["IamInstanceProfile"] = (
            {"Arn": profile} if profile.startswith("arn:") else {"Name": profile}
        )
    return data


def group_request(pool: Pool, template: str) -> dict[str, Any]:
    """CreateAutoScalingGroup's arguments: bounds, placement, the mixed instances policy
    (spot: 0 % on-demand, price-capacity-optimized; on-demand: 100 %) and tags."""
    placement: dict[str, Any]
    if subnets := split(pool.options.get("subnets")):
        placement = {"VPCZoneIdentifier": ",".join(subnets)}
    elif pool.zone:
        placement = {"AvailabilityZones": [pool.zone]}
    else:
        raise ComputeError(
            f"{where(pool)}: options.subnets (comma-separated subnet ids) or the pool's "
            "zone is required to create the group"
        )
    types = list(dict.fromkeys([pool.instance_type, *split(pool.options.get("instance_types"))]))
    distribution: dict[str, Any] = {"OnDemandBaseCapacity": 0}
    if pool.spot:
        distribution |= {
            "OnDemandPercentageAboveBaseCapacity": 0,
            "SpotAllocationStrategy": "price-capacity-optimized",
        }
    else:
        # The pool's own type first, the extra ones only when it is short.
        distribution |= {
            "OnDemandPercentageAboveBaseCapacity": 100,
            "OnDemandAllocationStrategy": "prioritized",
        }
    return {
        "AutoScalingGroupName": group_name(pool),
        "MinSize": pool.min_nodes,
        "MaxSize": pool.max_nodes,
        "DesiredCapacity": pool.min_nodes,
        "MixedInstancesPolicy": {
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {
                    "LaunchTemplateName": template,
                    "Version": "$Latest",
                },
                "Overrides": [{"InstanceType": t} for t in types],
            },
            "InstancesDistribution": distribution,
        },
        "Tags": [{**tag, "PropagateAtLaunch": True} for tag in tags(pool)],
        **placement,
    }


def split(value: str | None) -> list[str]:
    """The items of a comma-separated option."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]
