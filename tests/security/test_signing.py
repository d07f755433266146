"""Celery message signing (issue 13, finding 1: "messages are unsigned").

The attack: whoever can write to Redis pushes a task message into a queue list and a worker runs
it. With CLOUDRENDER_SECURITY_KEY/_CERTIFICATE/_CERT_STORE set, messages are signed (Celery's
``auth`` serializer) and a worker runs only those signed by a key whose certificate is in its
store: an unsigned JSON message, one signed by an unknown key, and one that claims a trusted
signer's name without its key are all refused (dropped, never run), while signed ones run.
Control commands travel signed too: a raw "shutdown" broadcast no longer stops a worker.

What signing does not cover (docs/security.md): the signature is over the message body (the
task's arguments), not its headers (task name, id, eta), and nothing stops a signed message from
being replayed; the job document a task reads from Redis is not signed either.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.security.certificate import Certificate
from celery.security.key import PrivateKey
from celery.security.serialization import SecureSerializer

from common.errors import RenderError
from common.settings import Settings
from orchestrator.celery_config import celery_config, signing_options
from orchestrator.local_workers import LocalWorkers
from tests.helpers import ROOT, subprocess_env
from tests.security.redis_servers import Certificates, make_certificates

pytestmark = pytest.mark.timeout(180)

QUEUE = "signing-test"
TASK = "tests.security.touch"
APP = "tests.security.signing_app:app"


def identity_env(identity: Certificates, store: Path) -> dict[str, str]:
    """The environment that makes a node sign with ``identity`` and trust ``store``."""
    return {
        "CLOUDRENDER_SECURITY_KEY": str(identity.key),
        "CLOUDRENDER_SECURITY_CERTIFICATE": str(identity.cert),
        "CLOUDRENDER_SECURITY_CERT_STORE": str(store),
    }


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The cluster's identity and its store, and two attackers: one with a key of its own, one
    whose certificate copies the trusted one's issuer and serial number (its signer id)."""
    root = tmp_path_factory.mktemp("pki")
    trusted = make_certificates(root / "trusted", name="node")
    stranger = make_certificates(root / "stranger", ca_name="stranger CA", name="node")
    impostor = make_certificates(root / "impostor", name="node")  # same issuer and serial
    store = root / "store"
    store.mkdir()
    shutil.copy(trusted.cert, store / "node.crt")
    return {"trusted": trusted, "stranger": stranger, "impostor": impostor, "store": store}


@pytest.fixture
def signed_worker(redis_url: str, pki: dict[str, Any]) -> Iterator[LocalWorkers]:
    """A real worker process of our app with signing on, consuming QUEUE."""
    env = {"PYTHONPATH": str(ROOT), **identity_env(pki["trusted"], pki["store"])}
    with LocalWorkers(redis_url, 1, (QUEUE,), env, app=APP) as worker:
        yield worker


def raw_message(path: Path, content_type: str, body: bytes) -> str:
    """A task message for ``touch(path)`` as kombu stores it in a Redis list (protocol 2)."""
    task_id = str(uuid.uuid4())
    headers = {
        "lang": "py", "task": TASK, "id": task_id, "root_id": task_id, "parent_id": None,
        "shadow": None, "eta": None, "expires": None, "group": None, "group_index": None,
        "retries": 0, "timelimit": [None, None], "argsrepr": repr([str(path)]),
        "kwargsrepr": "{}", "origin": "attacker", "ignore_result": True,
    }  # fmt: skip
    properties = {
        "correlation_id": task_id,
        "delivery_mode": 2,
        "delivery_info": {"exchange": "", "routing_key": QUEUE},
        "priority": 0,
        "body_encoding": "base64",
        "delivery_tag": str(uuid.uuid4()),
    }
    return json.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "utf-8",
            "content-type": content_type,
            "headers": headers,
            "properties": properties,
        }
    )


def task_body(path: Path) -> list[Any]:
    """The body of a protocol-2 message for ``touch(path)``: args, kwargs, embed."""
    return [[str(path)], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]


def signed_body(identity: Certificates, path: Path) -> bytes:
    """``task_body`` signed with this identity's key, as Celery's auth serializer does."""
    signer = SecureSerializer(
        PrivateKey(identity.key.read_text()), Certificate(identity.cert.read_text()), None
    )
    signed = signer.serialize(task_body(path))  # base64 text
    return signed.encode() if isinstance(signed, str) else bytes(signed)


def send_from_node(redis_url: str, env: dict[str, str], path: Path) -> None:
    """Send ``touch(path)`` the ordinary way, from a process of our app with this signing setup."""
    code = (
        "import sys\n"
        "from tests.security.signing_app import touch\n"
        f"touch.apply_async(args=[sys.argv[1]], queue={QUEUE!r}, ignore_result=True)\n"
    )
    env = subprocess_env({"CLOUDRENDER_BROKER_URL": redis_url, **env})
    sent = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True
    )
    assert sent.returncode == 0, sent.stderr


def wait_for_file(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} was never executed"
        time.sleep(0.05)


def test_only_messages_signed_by_a_trusted_key_run(
    signed_worker: LocalWorkers, redis_url: str, pki: dict[str, Any], tmp_path: Path
) -> None:
    client = redis.Redis.from_url(redis_url)
    unsigned = tmp_path / "unsigned"
    stranger = tmp_path / "stranger"
    impostor = tmp_path / "impostor"
    genuine = tmp_path / "genuine"
    # Given raw writes to the queue list, as finding 1 did, and a genuine one last
    for message in (
        raw_message(unsigned, "application/json", json.dumps(task_body(unsigned)).encode()),
        raw_message(stranger, "application/data", signed_body(pki["stranger"], stranger)),
        raw_message(impostor, "application/data", signed_body(pki["impostor"], impostor)),
        raw_message(genuine, "application/data", signed_body(pki["trusted"], genuine)),
    ):
        client.lpush(QUEUE, message)

    # Then the worker runs the genuine one, after dropping the others (a list is FIFO)
    wait_for_file(genuine)
    time.sleep(0.5)
    assert not unsigned.exists() and not stranger.exists() and not impostor.exists()
    assert client.llen(QUEUE) == 0  # refused messages are dropped, not redelivered forever
    log = signed_worker.log_path.read_text() if signed_worker.log_path else ""
    assert "ContentDisallowed" in log  # the unsigned one
    assert log.count("Unable to deserialize") >= 2  # unknown signer, and bad signature


def raw_control(method: str) -> str:
    """A broadcast control command (``celery control METHOD``) as kombu publishes it."""
    body = {"method": method, "arguments": {}, "destination": None, "pattern": None}
    properties = {
        "delivery_mode": 2,
        "delivery_info": {"exchange": "celery.pidbox", "routing_key": ""},
        "priority": 0,
        "body_encoding": "base64",
        "delivery_tag": str(uuid.uuid4()),
    }
    return json.dumps(
        {
            "body": base64.b64encode(json.dumps({**body, "matcher": None}).encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {"clock": 1, "expires": time.time() + 60},
            "properties": properties,
        }
    )


def publish_when_heard(client: redis.Redis, channel: str, message: str) -> int:
    """Publish until a worker hears it (it subscribes a moment after it is ready): receivers."""
    deadline = time.monotonic() + 30
    while not (heard := int(client.publish(channel, message))) and time.monotonic() < deadline:
        time.sleep(0.2)
    return heard


def test_an_unsigned_control_command_is_refused(
    signed_worker: LocalWorkers, redis_url: str, pki: dict[str, Any], tmp_path: Path
) -> None:
    # Given a raw "shutdown" broadcast on the control channel (an unsigned worker obeys it)
    client = redis.Redis.from_url(redis_url)
    assert publish_when_heard(client, "/0.celery.pidbox", raw_control("shutdown")) == 1
    # Then the worker is still there, and still runs signed work
    genuine = tmp_path / "genuine"
    client.lpush(
        QUEUE, raw_message(genuine, "application/data", signed_body(pki["trusted"], genuine))
    )
    wait_for_file(genuine)
    time.sleep(3)  # an unsigned worker is gone within a second or two
    assert signed_worker.pids()
    log = signed_worker.log_path.read_text() if signed_worker.log_path else ""
    assert "ContentDisallowed" in log and "Warm shutdown" not in log


def test_a_client_signs_with_its_key_and_a_stranger_is_refused(
    signed_worker: LocalWorkers, redis_url: str, pki: dict[str, Any], tmp_path: Path
) -> None:
    # A client of the cluster (the trusted identity) and one with a key the workers do not trust
    strangers = tmp_path / "stranger-store"
    strangers.mkdir()
    shutil.copy(pki["stranger"].cert, strangers / "stranger.crt")
    refused, genuine = tmp_path / "refused", tmp_path / "genuine"
    send_from_node(redis_url, identity_env(pki["stranger"], strangers), refused)
    send_from_node(redis_url, {}, refused)  # and one with no signing at all
    send_from_node(redis_url, identity_env(pki["trusted"], pki["store"]), genuine)

    wait_for_file(genuine)
    time.sleep(0.5)
    assert not refused.exists()


def test_signing_settings_make_the_auth_serializer_the_only_one_accepted(tmp_path: Path) -> None:
    settings = Settings(
        broker_url="redis://h/0",
        security_key=str(tmp_path / "k"),
        security_certificate=str(tmp_path / "c"),
        security_cert_store=str(tmp_path),
    )
    config = celery_config(settings)
    assert config["task_serializer"] == "auth" and config["accept_content"] == ["auth"]
    assert config["result_serializer"] == "json" and config["result_accept_content"] == ["json"]
    assert config["security_key"] == str(tmp_path / "k")
    assert signing_options(Settings()) == {}
    assert celery_config(Settings())["task_serializer"] == "json"
    with pytest.raises(RenderError, match="message signing needs"):
        signing_options(Settings(security_key="k"))


def test_a_node_whose_key_cannot_be_read_says_so_in_one_line(tmp_path: Path) -> None:
    env = subprocess_env(
        {
            "CLOUDRENDER_BROKER_URL": "redis://127.0.0.1:1/0",
            "CLOUDRENDER_SECURITY_KEY": str(tmp_path / "missing.key"),
            "CLOUDRENDER_SECURITY_CERTIFICATE": str(tmp_path / "missing.crt"),
            "CLOUDRENDER_SECURITY_CERT_STORE": str(tmp_path),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "cli", "worker"], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"error: message signing cannot start: [Errno 2] No such file or directory: "
        f"'{tmp_path / 'missing.key'}'"
    ]
