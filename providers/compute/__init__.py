"""Compute capacity behind one small interface: the engines that start and stop render nodes.

``base`` holds the ``ComputeProvider`` protocol, ``ProviderNode`` and ``ComputeError``;
``pools`` the pool model and its config file (``cloudrender.toml`` or YAML); one module per
engine: ``local`` (``cloudrender worker`` processes on this machine), ``aws`` (an EC2 Auto
Scaling group per pool), ``gcp`` (a managed instance group), ``azure`` (a VM scale set),
``kubernetes`` (a Deployment, or a desired-nodes gauge for KEDA). ``open_compute(pool)`` picks
one. Like all of ``providers``, this package imports only ``common``; SDK errors become
``ComputeError`` at the boundary.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from providers.compute.base import ComputeError, ComputeProvider, ProviderNode
from providers.compute.pools import Pool

__all__ = ["ComputeError", "ComputeProvider", "Pool", "ProviderNode", "open_compute"]

#: Module and class of each engine, imported only when a pool uses it (their SDKs are heavy).
ENGINES: Mapping[str, tuple[str, str]] = {
    "local": ("providers.compute.local", "LocalCompute"),
    "aws": ("providers.compute.aws", "AwsCompute"),
    "gcp": ("providers.compute.gcp", "GcpCompute"),
    "azure": ("providers.compute.azure", "AzureCompute"),
    "kubernetes": ("providers.compute.kubernetes", "KubernetesCompute"),
    "memory": ("providers.compute.memory", "MemoryCompute"),
}


def open_compute(pool: Pool, **context: Any) -> ComputeProvider:
    """The provider that runs `pool`'s nodes; `context` passes what the engine needs from this
    process (the broker and storage URLs a local node is started with)."""
    try:
        module_name, class_name = ENGINES[pool.provider]
    except KeyError:
        raise ComputeError(f"pool {pool.name!r}: unknown provider {pool.provider!r}") from None
    engine = getattr(importlib.import_module(module_name), class_name)
    provider: ComputeProvider = engine.for_pool(pool, **context)
    return provider
