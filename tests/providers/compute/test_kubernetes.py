"""The Kubernetes engine against a fake API server (fake_kubernetes.py) that answers in the API's
JSON and plays the ReplicaSet controller: the autoscaler's calls size the Deployment, protect
busy pods from the controller's own scale-in, and remove exactly the pods it drained."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from providers.compute import open_compute
from providers.compute.base import PENDING, RUNNING, TERMINATING, ComputeError, ComputeProvider
from providers.compute.kubernetes import BUSY_COST, DELETION_COST, DOOMED_COST, KubernetesCompute
from providers.compute.pools import Pool
from tests.providers.compute.fake_kubernetes import FakeKubernetes

DEPLOYMENT = "cloudrender-worker-gpu"


@pytest.fixture
def fake() -> Iterator[FakeKubernetes]:
    """A fake API server with the gpu pool's Deployment at 0 replicas."""
    server = FakeKubernetes()
    server.add_deployment(DEPLOYMENT, pool="gpu")
    with server.running():
        yield server


def gpu_pool(fake: FakeKubernetes, **options: str) -> Pool:
    """The gpu pool, pointed at the fake."""
    return Pool(
        name="gpu",
        provider="kubernetes",
        market="spot",
        max_nodes=8,
        options={"endpoint": fake.url, **options},
    )


@pytest.fixture
def engine(fake: FakeKubernetes) -> Iterator[KubernetesCompute]:
    with KubernetesCompute.for_pool(gpu_pool(fake)) as compute:
        yield compute


def running(fake: FakeKubernetes, engine: KubernetesCompute, pool: Pool, count: int) -> list[str]:
    """Scale to `count` and let the pods start; their names, oldest first."""
    engine.set_desired(pool, count)
    fake.settle()
    return [p.name for p in fake.live_pods(DEPLOYMENT)]


def test_open_compute_builds_the_engine_from_the_pool(fake: FakeKubernetes) -> None:
    pool = gpu_pool(fake)
    compute = open_compute(pool, broker_url="redis://x", storage_url="file:///x")
    assert isinstance(compute, KubernetesCompute) and isinstance(compute, ComputeProvider)
    assert compute.name == "kubernetes"
    compute.ensure_pool(pool)
    compute.close()


def test_scaling_up_starts_pods_that_are_listed_pending_then_running(
    fake: FakeKubernetes, engine: KubernetesCompute
) -> None:
    pool = gpu_pool(fake)
    engine.ensure_pool(pool)
    assert engine.desired(pool) == 0 and engine.nodes(pool) == []

    engine.set_desired(pool, 3)

    assert engine.desired(pool) == 3
    first = engine.nodes(pool)
    assert [n.state for n in first] == [PENDING] * 3
    assert {n.id for n in first} == {p.name for p in fake.live_pods(DEPLOYMENT)}
    assert all(n.pool == "gpu" and n.market == "spot" and not n.protected for n in first)
    launched = [n.launched_at or 0.0 for n in first]
    assert all(launched) and launched == sorted(launched)
    assert [n.state for n in engine.nodes(pool)] == [RUNNING] * 3
    # Scale calls go to the scale subresource as a merge patch a real server accepts.
    (patch,) = fake.calls("PATCH", "/scale")
    assert patch.body == {"spec": {"replicas": 3}}
    assert patch.content_type == "application/strategic-merge-patch+json"


def test_protect_sets_deletion_costs_so_the_controllers_scale_in_spares_busy_pods(
    fake: FakeKubernetes, engine: KubernetesCompute
) -> None:
    pool = gpu_pool(fake)
    a, b, c = running(fake, engine, pool, 3)

    engine.protect(pool, [a, c], True)
    engine.protect(pool, [b], False)

    assert fake.pods[a].annotations[DELETION_COST] == str(BUSY_COST)
    assert fake.pods[c].annotations[DELETION_COST] == str(BUSY_COST)
    assert DELETION_COST not in fake.pods[b].annotations  # already 0: no call was needed
    assert {n.id: n.protected for n in engine.nodes(pool)} == {a: True, b: False, c: True}
    # The newest pod would go first on a plain scale-in; its cost saves it.
    engine.set_desired(pool, 2)
    assert [p.name for p in fake.live_pods(DEPLOYMENT)] == [a, c]

    engine.protect(pool, [a], False)
    assert fake.pods[a].annotations[DELETION_COST] == "0"
    assert not next(n for n in engine.nodes(pool) if n.id == a).protected


def test_terminate_removes_exactly_the_drained_pod_and_lowers_the_replicas(
    fake: FakeKubernetes, engine: KubernetesCompute
) -> None:
    pool = gpu_pool(fake)
    a, b, c = running(fake, engine, pool, 3)

    engine.terminate(pool, b)

    assert engine.desired(pool) == 2
    assert [p.name for p in fake.live_pods(DEPLOYMENT)] == [a, c]
    engine.terminate(pool, b)  # a retried call: the pod is already on its way out
    assert engine.desired(pool) == 2
    assert {n.id: n.state for n in engine.nodes(pool)} == {a: RUNNING, b: TERMINATING, c: RUNNING}
    assert {n.id for n in engine.nodes(pool)} == {a, c}
    engine.terminate(pool, c)
    assert [p.name for p in fake.live_pods(DEPLOYMENT)] == [a]
    assert engine.desired(pool) == 1


def test_terminate_is_exact_while_another_pod_is_still_pending(
    fake: FakeKubernetes, engine: KubernetesCompute
) -> None:
    """The controller takes a pending pod before any running one whatever the costs: the
    engine's own deletion of the drained pod still makes the outcome exact."""
    pool = gpu_pool(fake)
    a, b = running(fake, engine, pool, 2)
    engine.set_desired(pool, 3)  # a third pod is booting

    engine.terminate(pool, a)

    live = fake.live_pods(DEPLOYMENT)
    assert a not in {p.name for p in live}
    assert b in {p.name for p in live}
    assert len(live) == engine.desired(pool) == 2


def test_terminate_retries_when_someone_else_scaled_meanwhile(
    fake: FakeKubernetes, engine: KubernetesCompute
) -> None:
    pool = gpu_pool(fake)
    a, b, c = running(fake, engine, pool, 3)
    fake.failures.append(("PATCH", "/scale", 409))

    engine.terminate(pool, a)

    assert engine.desired(pool) == 2
    assert [p.name for p in fake.live_pods(DEPLOYMENT)] == [b, c]
    # Every decrement is conditional on the version it was computed from.
    assert all(r.body["metadata"]["resourceVersion"] for r in fake.calls("PATCH", "/scale")[1:])


def test_terminate_with_replace_deletes_the_pod_and_keeps_the_replicas(
    fake: FakeKubernetes, engine: KubernetesCompute
) -> None:
    pool = gpu_pool(fake)
    a, b, c = running(fake, engine, pool, 3)

    engine.terminate(pool, b, replace=True)

    assert engine.desired(pool) == 3
    live = [p.name for p in fake.live_pods(DEPLOYMENT)]
    assert len(live) == 3 and b not in live and {a, c} <= set(live)
    assert [r.path.rsplit("/", 1)[-1] for r in fake.calls("DELETE")] == [b]


def test_terminate_refuses_unknown_pods_and_other_pools_pods(
    fake: FakeKubernetes, engine: KubernetesCompute
) -> None:
    pool = gpu_pool(fake)
    fake.add_deployment("cloudrender-worker-cpu", pool="cpu", replicas=1)
    (cpu_pod,) = fake.live_pods("cloudrender-worker-cpu")
    with pytest.raises(ComputeError, match="pod nope-1 in namespace cloudrender"):
        engine.terminate(pool, "nope-1")
    with pytest.raises(ComputeError, match="not labelled cloudrender.io/pool=gpu"):
        engine.terminate(pool, cpu_pod.name)
    assert fake.calls("DELETE") == [] and fake.calls("PATCH") == []
    # The cpu pool's pods are not the gpu pool's nodes.
    assert engine.nodes(pool) == []


def test_keda_mode_leaves_the_replicas_to_keda_and_marks_drained_pods(
    fake: FakeKubernetes,
) -> None:
    pool = gpu_pool(fake, mode="keda")
    fake.add_deployment(DEPLOYMENT, pool="gpu", replicas=3)  # as KEDA set it
    fake.settle()
    a, b, c = (p.name for p in fake.live_pods(DEPLOYMENT))
    with KubernetesCompute.for_pool(pool) as engine:
        engine.set_desired(pool, 5)
        assert fake.calls("PATCH", "/scale") == []
        assert engine.desired(pool) == 3

        engine.terminate(pool, b)

        assert fake.calls("PATCH", "/scale") == [] and fake.calls("DELETE") == []
        assert fake.pods[b].annotations[DELETION_COST] == str(DOOMED_COST)
        assert {n.id: n.state for n in engine.nodes(pool)}[b] == TERMINATING
        # A later protect(False) of idle pods does not unmark it.
        engine.protect(pool, [a, b, c], False)
        assert fake.pods[b].annotations[DELETION_COST] == str(DOOMED_COST)
        # KEDA follows the lowered gauge: the controller removes the marked pod.
        fake.scale(DEPLOYMENT, 2)
        assert [p.name for p in fake.live_pods(DEPLOYMENT)] == [a, c]


def test_a_missing_deployment_says_where_and_what_to_apply(fake: FakeKubernetes) -> None:
    pool = gpu_pool(fake, deployment="render-gpu")
    with KubernetesCompute.for_pool(pool) as engine, pytest.raises(ComputeError) as caught:
        engine.ensure_pool(pool)
    message = str(caught.value)
    assert "\n" not in message
    assert "'gpu'" in message and "cloudrender/render-gpu" in message
    assert "deploy/k8s/" in message
    assert not caught.value.transient


def test_a_deployment_whose_pods_lack_the_pool_label_is_refused(fake: FakeKubernetes) -> None:
    fake.add_deployment(DEPLOYMENT, pool="gpu", labels={"app": "worker"})
    pool = gpu_pool(fake)
    with KubernetesCompute.for_pool(pool) as engine:
        with pytest.raises(ComputeError, match="not labelled cloudrender.io/pool=gpu"):
            engine.ensure_pool(pool)


def test_an_unreachable_api_is_a_transient_one_line_error() -> None:
    fake = FakeKubernetes()
    with fake.running():
        pool = gpu_pool(fake)
    with KubernetesCompute.for_pool(pool) as engine, pytest.raises(ComputeError) as caught:
        engine.desired(pool)
    message = str(caught.value)
    assert caught.value.transient and "\n" not in message
    assert message.startswith("pool 'gpu': cannot reach the Kubernetes API")
    assert "cloudrender/cloudrender-worker-gpu" in message and "0x" not in message


@pytest.mark.parametrize(("status", "transient"), [(503, True), (429, True), (403, False)])
def test_refusals_name_the_pool_the_deployment_and_the_status(
    fake: FakeKubernetes, engine: KubernetesCompute, status: int, transient: bool
) -> None:
    pool = gpu_pool(fake)
    fake.failures.append(("PATCH", "/scale", status))
    with pytest.raises(ComputeError) as caught:
        engine.set_desired(pool, 2)
    message = str(caught.value)
    assert caught.value.transient is transient and "\n" not in message
    assert f"pool 'gpu': Kubernetes refused to scale cloudrender/{DEPLOYMENT}: {status}" in message
    assert f"injected {status}" in message  # the API server's own sentence
    assert engine.desired(pool) == 0  # nothing was changed


def test_a_kubeconfig_file_and_context_are_used(fake: FakeKubernetes, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": {"server": fake.url}}],
                "users": [{"name": "nobody", "user": {}}],
                "contexts": [
                    {"name": "other", "context": {"cluster": "nowhere", "user": "nobody"}},
                    {"name": "farm", "context": {"cluster": "fake", "user": "nobody"}},
                ],
                "current-context": "other",
            }
        )
    )
    pool = Pool(
        name="gpu",
        provider="kubernetes",
        options={"kubeconfig": str(kubeconfig), "context": "farm"},
    )
    with KubernetesCompute.for_pool(pool) as engine:
        engine.set_desired(pool, 1)
        assert engine.desired(pool) == 1


def test_configuration_problems_are_one_line_errors(tmp_path: Path, fake: FakeKubernetes) -> None:
    pool = Pool(
        name="gpu", provider="kubernetes", options={"kubeconfig": str(tmp_path / "missing")}
    )
    with KubernetesCompute.for_pool(pool) as engine, pytest.raises(ComputeError) as caught:
        engine.desired(pool)
    assert "no Kubernetes configuration" in str(caught.value)
    assert "options.kubeconfig" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ComputeError, match="options.mode 'hpa' is not one of deployment, keda"):
        KubernetesCompute.for_pool(gpu_pool(fake, mode="hpa"))
    with pytest.raises(ComputeError, match="options.timeout"):
        KubernetesCompute.for_pool(gpu_pool(fake, timeout="soon"))


def test_finished_pods_are_not_nodes(fake: FakeKubernetes, engine: KubernetesCompute) -> None:
    pool = gpu_pool(fake)
    a, b = running(fake, engine, pool, 2)
    fake.pods[b].phase = "Failed"  # evicted, say: the controller no longer counts it
    assert [n.id for n in engine.nodes(pool)] == [a]
    with pytest.raises(ComputeError, match="negative"):
        engine.set_desired(pool, -1)
