"""The request bodies of the GCP engine: a pool's instance template and its managed instance group.

Bodies are dicts in the proto field names of ``google.cloud.compute_v1`` (snake_case); the REST
transport sends them as the Compute API's JSON (camelCase), which tests check against the API's
discovery document.
"""

from __future__ import annotations

from typing import Any

from providers.compute.base import ComputeError
from providers.compute.pools import Pool

__all__ = ["ACCELERATORS", "group_body", "template_body"]

#: GCE accelerator type of each GPU model a pool may name (``options.accelerator_type`` wins).
ACCELERATORS = {
    "T4": "nvidia-tesla-t4",
    "L4": "nvidia-l4",
    "P4": "nvidia-tesla-p4",
    "P100": "nvidia-tesla-p100",
    "V100": "nvidia-tesla-v100",
    "A100": "nvidia-tesla-a100",
    "A100-80GB": "nvidia-a100-80gb",
    "H100": "nvidia-h100-80gb",
    "H100-MEGA": "nvidia-h100-mega-80gb",
    "H200": "nvidia-h200-141gb",
    "RTX-PRO-6000": "nvidia-rtx-pro-6000",
}
#: Machine families whose GPUs come with the machine type: no guest accelerators to attach.
BUNDLED_GPU_FAMILIES = ("a2-", "a3-", "a4-", "g2-", "g4-")
#: The nodes' OAuth scope: access is then governed by the service account's IAM roles alone.
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_DISK_GB = 50
DEFAULT_NETWORK = "global/networks/default"
POOL_LABEL = "cloudrender-pool"


def template_body(pool: Pool, name: str, startup_script: str) -> dict[str, Any]:
    """The instance template of `pool`'s nodes, called `name`, booting `startup_script`."""
    options = pool.options
    image = options.get("vm_image")
    if not image:
        raise ComputeError(
            f"pool {pool.name!r}: options.vm_image is required for provider 'gcp' (the boot "
            "image, e.g. projects/my-project/global/images/family/cloudrender-gpu, with Docker "
            "and, for GPU pools, the NVIDIA driver)"
        )
    disk_gb = _whole(pool, "disk_gb", DEFAULT_DISK_GB)
    interface: dict[str, Any] = {"network": options.get("network", DEFAULT_NETWORK)}
    if options.get("subnetwork"):
        interface["subnetwork"] = options["subnetwork"]
    if options.get("external_ip", "true").lower() not in ("false", "no", "0"):
        # Nodes reach the broker and storage through it; without one, use Cloud NAT.
        interface["access_configs"] = [{"name": "External NAT", "type_": "ONE_TO_ONE_NAT"}]
    properties: dict[str, Any] = {
        "machine_type": pool.instance_type,
        "disks": [
            {
                "boot": True,
                "auto_delete": True,
                "type_": "PERSISTENT",
                "initialize_params": {
                    "source_image": image,
                    "disk_size_gb": disk_gb,
                    "disk_type": options.get("disk_type", "pd-balanced"),
                },
            }
        ],
        "network_interfaces": [interface],
        "metadata": {"items": [{"key": "startup-script", "value": startup_script}]},
        "labels": {POOL_LABEL: pool.name},
        "service_accounts": [
            {"email": options.get("service_account", "default"), "scopes": [CLOUD_PLATFORM]}
        ],
        "scheduling": _scheduling(pool),
    }
    accelerators = _accelerators(pool)
    if accelerators:
        properties["guest_accelerators"] = accelerators
    return {
        "name": name,
        "description": f"cloudrender worker nodes of pool {pool.name}",
        "properties": properties,
    }


def group_body(pool: Pool, name: str, template_url: str, *, regional: bool) -> dict[str, Any]:
    """The managed instance group of `pool`: `min_nodes` nodes from `template_url`."""
    body: dict[str, Any] = {
        "name": name,
        "description": f"cloudrender worker nodes of pool {pool.name}",
        # Instance names are <base>-<4 random characters>, at most 63 characters in all.
        "base_instance_name": pool.options.get("base_instance_name", name)[:58],
        "instance_template": template_url,
        "target_size": pool.min_nodes,
    }
    if regional and pool.options.get("zones"):
        zones = [z.strip() for z in pool.options["zones"].split(",") if z.strip()]
        body["distribution_policy"] = {
            "zones": [{"zone": f"zones/{zone}"} for zone in zones],
        }
    return body


def _scheduling(pool: Pool) -> dict[str, Any]:
    """Spot provisioning for spot pools; GPU and spot nodes cannot live-migrate."""
    scheduling: dict[str, Any] = {
        "on_host_maintenance": "TERMINATE" if pool.has_gpu or pool.spot else "MIGRATE",
        "automatic_restart": not pool.spot,
    }
    if pool.spot:
        scheduling["provisioning_model"] = "SPOT"
        # A preempted node is deleted; the group then recreates one to hold its target size.
        scheduling["instance_termination_action"] = "DELETE"
    else:
        scheduling["provisioning_model"] = "STANDARD"
    return scheduling


def _accelerators(pool: Pool) -> list[dict[str, Any]]:
    """The GPUs to attach, none where the machine type carries its own (A2, A3, G2...)."""
    if not pool.has_gpu or pool.instance_type.startswith(BUNDLED_GPU_FAMILIES):
        return []
    kind = pool.options.get("accelerator_type") or ACCELERATORS.get(str(pool.gpu).upper())
    if not kind:
        raise ComputeError(
            f"pool {pool.name!r}: no GCE accelerator type known for GPU {pool.gpu!r}; set "
            "options.accelerator_type (e.g. nvidia-l4)"
        )
    return [{"accelerator_type": kind, "accelerator_count": max(pool.gpus, 1)}]


def _whole(pool: Pool, key: str, default: int) -> int:
    """A positive whole-number option."""
    raw = pool.options.get(key, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ComputeError(f"pool {pool.name!r}: options.{key} must be a whole number, not {raw!r}")
    return value
