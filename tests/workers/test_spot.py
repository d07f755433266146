"""Interruption notices read from a local stand-in for each cloud's metadata service
(``workers.spot_fake.FakeMetadataService``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from workers.spot import SpotWatcher, check_notice
from workers.spot_fake import FakeMetadataService


@pytest.fixture
def metadata() -> Iterator[FakeMetadataService]:
    with FakeMetadataService() as server:
        yield server


@pytest.mark.parametrize(
    ("provider", "word"),
    [("aws", "AWS spot terminate"), ("gcp", "GCP pre-emption"), ("azure", "Azure pre-emption")],
)
def test_notices_per_provider(metadata: FakeMetadataService, provider: str, word: str) -> None:
    assert check_notice(provider, metadata.url) is None
    metadata.notice = True
    notice = check_notice(provider, metadata.url)
    assert notice is not None and notice.startswith(word)


def test_an_azure_eviction_of_another_vm_is_not_this_ones(metadata: FakeMetadataService) -> None:
    """Scheduled Events reach every VM of a scale set's placement group; each event names the
    VMs it affects."""
    metadata.notice = True
    metadata.preempted = ["cloudrender-vm_7"]
    assert check_notice("azure", metadata.url) is None
    metadata.preempted = ["cloudrender-vm_7", metadata.vm_name]
    assert check_notice("azure", metadata.url) == "Azure pre-emption at soon"


def test_provider_headers_are_sent(metadata: FakeMetadataService) -> None:
    check_notice("gcp", metadata.url)
    check_notice("azure", metadata.url)
    check_notice("aws", metadata.url)
    headers = {path.split("?")[0]: h for _, path, h in metadata.requests}
    assert headers["/computeMetadata/v1/instance/preempted"]["Metadata-Flavor"] == "Google"
    assert headers["/metadata/scheduledevents"]["Metadata"] == "true"
    assert any(m == "PUT" and p == "/latest/api/token" for m, p, _ in metadata.requests)


def test_the_fake_wants_the_aws_session_token(metadata: FakeMetadataService) -> None:
    # Like IMDSv2: without the token from PUT /latest/api/token the notice is refused.
    metadata.notice = True
    path = "/latest/meta-data/spot/instance-action"
    assert metadata.answer("GET", path, {})[0] == 401
    assert metadata.answer("GET", path, {"x-aws-ec2-metadata-token": "token-123"})[0] == 200


def test_unreachable_service_is_no_notice() -> None:
    assert check_notice("gcp", "http://127.0.0.1:9", timeout=0.5) is None
    with pytest.raises(ValueError, match="unknown spot provider"):
        check_notice("oracle", "http://127.0.0.1:9")


def test_watcher_calls_back_once(metadata: FakeMetadataService) -> None:
    seen: list[str] = []
    watcher = SpotWatcher("gcp", metadata.url, seen.append, interval=0.05).start()
    time.sleep(0.2)
    assert seen == []
    metadata.notice = True
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    watcher.stop()
    assert seen == ["GCP pre-emption"]
