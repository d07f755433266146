"""The Python API raises the exception tree's ClusterError when the cluster's Redis fails, never
redis-py's exceptions (DESIGN 5), against a real private Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis

from common.errors import ClusterError, ClusterRefused, ClusterUnreachable, RenderError
from common.settings import Settings
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.cluster_errors import map_redis_errors

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def nobody(redis_url: str) -> Iterator[str]:
    """The URL of a Redis user that may log in and nothing else."""
    name, password = f"nobody-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    parts = urlsplit(redis_url)
    with redis.Redis.from_url(redis_url) as admin:
        admin.acl_setuser(name, enabled=True, passwords=[f"+{password}"], commands=["+@connection"])
        try:
            yield f"redis://{name}:{password}@{parts.hostname}:{parts.port}/0"
        finally:
            admin.acl_deluser(name)


def api_of(url: str) -> CloudRenderingAPI:
    return CloudRenderingAPI(url, storage_url="file:///nonexistent", settings=Settings())


def test_a_user_redis_refuses_gets_cluster_refused_naming_the_user(nobody: str) -> None:
    # Given a client whose Redis user may run none of the commands the API needs
    api = api_of(nobody)
    # When a script asks for a job, the cluster, the metrics
    for call in (
        lambda: api.get_job_status("abc"),
        lambda: api.list_jobs(),
        lambda: api.cancel_job("abc"),
        api.get_cluster_status,
        api.get_metrics,
    ):
        # Then one error of our tree, one line naming the user and what was refused, with
        # redis-py's exception kept as its cause (not raised in its place)
        with pytest.raises(ClusterRefused) as info:
            call()
        text = str(info.value)
        assert "Redis user 'nobody-" in text and "may not do this" in text and "\n" not in text
        assert ":***@" in text and nobody.split(":")[2].split("@")[0] not in text
        assert isinstance(info.value.__cause__, redis.exceptions.NoPermissionError)
        assert not info.value.transient


def test_an_error_reply_is_cluster_refused(redis_url: str) -> None:
    # Given a job key that holds something else (WRONGTYPE from Redis)
    with redis.Redis.from_url(redis_url) as client:
        client.set(keys.job("abc"), "not a hash")
    with pytest.raises(ClusterRefused, match="refused a command: WRONGTYPE"):
        api_of(redis_url).get_job_status("abc")


def test_an_unreachable_redis_is_transient_and_names_the_url_without_its_password() -> None:
    # The mapping itself (the API's retries take ~12 s to give up on a closed port).
    url = "redis://user:s3cr3t@127.0.0.1:1/0"
    with pytest.raises(ClusterUnreachable) as info, map_redis_errors(url):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
    assert isinstance(info.value, ClusterError) and isinstance(info.value, RenderError)
    assert info.value.transient and "s3cr3t" not in str(info.value)
    assert str(info.value).startswith("cannot talk to the cluster's Redis at redis://user:***@")
