"""API keys in Redis: shown once, stored hashed, checked in constant time, revoked for good."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis

from common.errors import RenderError
from orchestrator.api_keys import API_KEYS, KeyStore, digest


@pytest.fixture
def store(redis_url: str) -> Iterator[KeyStore]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield KeyStore(client)
    client.close()


def test_a_key_is_shown_once_and_only_its_hash_is_stored(store: KeyStore) -> None:
    record, token = store.create("alice", project="film", label="laptop", max_concurrent_jobs=2)
    assert re.fullmatch(r"cr_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)
    assert token.startswith(f"cr_{record.id}_")
    secret = token.split("_", 2)[2]
    dump = repr(store.redis.hgetall(API_KEYS))
    assert secret not in dump and token not in dump
    assert digest(token) in dump
    found = store.authenticate(token)
    assert found == record
    assert (found.user, found.role, found.project, found.label) == (
        "alice",
        "user",
        "film",
        "laptop",
    )
    assert found.max_concurrent_jobs == 2 and found.rate_per_minute is None


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the secret
        lambda t: "cr_000000000000_" + t.split("_", 2)[2],  # another id
        lambda t: t + "x",
        lambda t: "",
        lambda t: "Bearer " + t,
        lambda t: t.replace("cr_", "xx_", 1),
        lambda t: "cr_../../etc_" + "a" * 43,
    ],
)
def test_anything_but_the_exact_key_is_refused(store: KeyStore, change: object) -> None:
    _, token = store.create("alice")
    assert callable(change)
    assert store.authenticate(change(token)) is None


def test_revoking_refuses_the_key_but_keeps_its_record(store: KeyStore) -> None:
    record, token = store.create("bob", role="operator")
    other, other_token = store.create("carol")
    revoked = store.revoke(record.id)
    assert revoked.revoked and revoked.revoked_at is not None
    assert store.authenticate(token) is None
    assert store.authenticate(other_token) == other
    listed = {k.id: k for k in store.list()}
    assert listed[record.id].revoked_at == revoked.revoked_at  # still listed, with when
    assert store.revoke(record.id).revoked_at == revoked.revoked_at  # idempotent


def test_list_is_oldest_first_and_get_finds_one(store: KeyStore) -> None:
    first, _ = store.create("a")
    second, _ = store.create("b")
    assert [k.id for k in store.list()] == [first.id, second.id]
    assert store.get(second.id) == second


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user": ""}, "needs a user"),
        ({"user": "al ice"}, "user 'al ice' must be"),
        ({"user": "a", "project": "../x"}, "project '../x' must be"),
        ({"user": "a", "role": "admin"}, "role 'admin' is not one of user, operator"),
        ({"user": "a", "max_concurrent_jobs": 0}, "must be at least 1"),
        ({"user": "a", "rate_per_minute": -5}, "must be at least 1"),
        ({"user": "a", "label": "x\ny"}, "label must be printable"),
    ],
)
def test_bad_key_fields_are_refused_with_one_line(
    store: KeyStore, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(RenderError, match=re.escape(message)):
        store.create(**kwargs)  # type: ignore[arg-type]
    assert store.list() == []


@pytest.mark.parametrize("key_id", ["000000000000", "nope", "../x", ""])
def test_unknown_ids_are_one_line_errors(store: KeyStore, key_id: str) -> None:
    with pytest.raises(RenderError, match="no API key"):
        store.revoke(key_id)
    with pytest.raises(RenderError, match="no API key"):
        store.get(key_id)
