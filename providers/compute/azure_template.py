"""The request body of the Azure engine: a pool's uniform virtual machine scale set, in ARM's JSON
(tests check it against azure-mgmt-compute's own models)."""

from __future__ import annotations

import base64
from typing import Any

from providers.compute.base import ComputeError
from providers.compute.pools import Pool

__all__ = ["EVICTION_POLICIES", "scale_set_body"]

#: What Azure does with an evicted Spot VM: delete it (and its disks) or stop it, still billed
#: for its disks and still counted in the capacity.
EVICTION_POLICIES = ("Delete", "Deallocate")
DEFAULT_USER = "cloudrender"
POOL_TAG = "cloudrender-pool"
#: ARM's limit on custom data: 64 KiB once base64-encoded.
MAX_CUSTOM_DATA = 65536


def scale_set_body(pool: Pool, startup_script: str) -> dict[str, Any]:
    """The scale set of `pool`'s nodes: `min_nodes` VMs that run `startup_script` at first boot."""
    options = pool.options
    missing = [k for k in ("vm_image", "subnet", "ssh_public_key") if not options.get(k)]
    if missing:
        raise ComputeError(
            f"pool {pool.name!r}: provider 'azure' needs options "
            f"{', '.join(missing)} (vm_image: 'Publisher:Offer:Sku:Version' or an image id; "
            "subnet: the subnet's resource id; ssh_public_key: a key for the admin user)"
        )
    custom_data = base64.b64encode(startup_script.encode()).decode()
    if len(custom_data) > MAX_CUSTOM_DATA:
        raise ComputeError(f"pool {pool.name!r}: the start-up script exceeds Azure's 64 KiB")
    user = options.get("admin_username", DEFAULT_USER)
    os_disk: dict[str, Any] = {
        "createOption": "FromImage",
        "caching": "ReadWrite",
        "managedDisk": {"storageAccountType": options.get("disk_type", "StandardSSD_LRS")},
        "deleteOption": "Delete",
    }
    if options.get("disk_gb"):
        os_disk["diskSizeGB"] = _whole(pool, "disk_gb")
    ip_configuration: dict[str, Any] = {
        "name": "ipconfig",
        "properties": {"primary": True, "subnet": {"id": options["subnet"]}},
    }
    if options.get("public_ip", "false").lower() in ("true", "yes", "1"):
        ip_configuration["properties"]["publicIPAddressConfiguration"] = {
            "name": "pip",
            "properties": {"idleTimeoutInMinutes": 15},
        }
    profile: dict[str, Any] = {
        "osProfile": {
            "computerNamePrefix": options.get("computer_name_prefix", pool.name[:15]),
            "adminUsername": user,
            "customData": custom_data,
            "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "ssh": {
                    "publicKeys": [
                        {
                            "path": f"/home/{user}/.ssh/authorized_keys",
                            "keyData": options["ssh_public_key"],
                        }
                    ]
                },
            },
        },
        "storageProfile": {"imageReference": _image(pool), "osDisk": os_disk},
        "networkProfile": {
            "networkInterfaceConfigurations": [
                {
                    "name": "nic",
                    "properties": {"primary": True, "ipConfigurations": [ip_configuration]},
                }
            ]
        },
        "priority": "Spot" if pool.spot else "Regular",
    }
    if pool.spot:
        profile["evictionPolicy"] = _eviction(pool)
        # -1: pay up to the on-demand price, never evicted for price (only for capacity).
        profile["billingProfile"] = {"maxPrice": _price(pool)}
    body: dict[str, Any] = {
        "location": pool.region,
        "tags": {POOL_TAG: pool.name},
        "sku": {"name": pool.instance_type, "tier": "Standard", "capacity": pool.min_nodes},
        "properties": {
            "orchestrationMode": "Uniform",
            # The autoscaler replaces nodes itself; a model change must not restart busy ones.
            "upgradePolicy": {"mode": "Manual"},
            # Overprovisioned extra VMs would boot workers only to be deleted moments later.
            "overprovision": False,
            # Beyond 100 VMs a set spans placement groups.
            "singlePlacementGroup": False,
            "virtualMachineProfile": profile,
        },
    }
    if pool.zone:
        body["zones"] = [pool.zone]
    return body


def _image(pool: Pool) -> dict[str, str]:
    """An image reference from ``Publisher:Offer:Sku:Version`` or an image's resource id."""
    image = pool.options["vm_image"]
    if image.startswith("/"):
        return {"id": image}
    parts = image.split(":")
    if len(parts) != 4 or not all(parts):
        raise ComputeError(
            f"pool {pool.name!r}: options.vm_image {image!r} is neither "
            "'Publisher:Offer:Sku:Version' nor an image resource id"
        )
    publisher, offer, sku, version = parts
    return {"publisher": publisher, "offer": offer, "sku": sku, "version": version}


def _eviction(pool: Pool) -> str:
    raw = pool.options.get("eviction", "Delete")
    for policy in EVICTION_POLICIES:
        if raw.lower() == policy.lower():
            return policy
    raise ComputeError(
        f"pool {pool.name!r}: options.eviction {raw!r} is not one of {', '.join(EVICTION_POLICIES)}"
    )


def _price(pool: Pool) -> float:
    raw = pool.options.get("max_price", "-1")
    try:
        price = float(raw)
    except ValueError:
        price = 0.0
    if price != -1 and price <= 0:
        raise ComputeError(
            f"pool {pool.name!r}: options.max_price must be dollars per hour or -1, not {raw!r}"
        )
    return price


def _whole(pool: Pool, key: str) -> int:
    raw = pool.options[key]
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ComputeError(f"pool {pool.name!r}: options.{key} must be a whole number, not {raw!r}")
    return value
