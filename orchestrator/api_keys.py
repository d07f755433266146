"""API keys of the HTTP service: who a request comes from, what it may do, and its limits.

A key is ``cr_<id>_<secret>``: ``id`` (12 hex digits) names the record, ``secret`` is 32 random
bytes (``secrets.token_urlsafe``). Only the sha256 of the whole key is stored, in the hash
``cr:apikeys`` (field = id, value = the record as JSON), so a copy of Redis hands out no key;
the key itself is shown once, when it is created. Checking a key reads one field and compares
digests in constant time. Revoking keeps the record (with ``revoked_at``) so that the list
still shows who had access and until when.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from common.errors import RenderError
from orchestrator import keys

#: Hash: API key id -> its record as JSON (sha256 of the key, user, role, limits). Lasts until
#: removed by hand; revoked keys stay listed.
API_KEYS = keys.PREFIX + "apikeys"
#: Lock (string with TTL) held while one submit of a user with a concurrent-jobs quota counts
#: that user's unfinished jobs and queues the new one.
SUBMIT_LOCK = keys.PREFIX + "apikeys:submit:{user}"
#: The roles a key may have: ``user`` (own jobs, estimates, billing) and ``operator`` (all).
ROLES = ("user", "operator")
#: What every key starts with, so leaked keys are easy to spot (secret scanners, logs).
KEY_PREFIX = "cr_"

_KEY = re.compile(r"^cr_([0-9a-f]{12})_([A-Za-z0-9_-]{20,128})$")
_ID = re.compile(r"^[0-9a-f]{12}$")
_LABEL_CHARS = 100


@dataclass(frozen=True)
class ApiKey:
    """An API key's record (never its secret)."""

    id: str
    user: str
    role: str = "user"
    #: the project its jobs are billed to ("" = none: the submitter may name one)
    project: str = ""
    created_at: float = 0.0
    revoked_at: float | None = None
    #: unfinished jobs it may have at once, and requests per minute (None: the service's default)
    max_concurrent_jobs: int | None = None
    rate_per_minute: int | None = None
    label: str = ""

    @property
    def operator(self) -> bool:
        """Whether the key may see and control everything."""
        return self.role == "operator"

    @property
    def revoked(self) -> bool:
        """Whether the key was revoked."""
        return self.revoked_at is not None


def digest(token: str) -> str:
    """The sha256 hex digest stored for a key."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class KeyStore:
    """API keys in Redis (a client with ``decode_responses=True``)."""

    def __init__(self, client: Any) -> None:
        self.redis = client

    def create(
        self,
        user: str,
        role: str = "user",
        project: str = "",
        label: str = "",
        max_concurrent_jobs: int | None = None,
        rate_per_minute: int | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key for ``user``: its record and the key string (shown once, never stored)."""
        if not user:
            raise RenderError("an API key needs a user name")
        # The submission module pulls in the dispatcher (Celery, the codec stack): imported
        # here so that `cloudrender keys list` and the CLI's start stay light.
        from orchestrator.submission import billing_scope

        billing_scope(user, "user")
        billing_scope(project, "project")
        if role not in ROLES:
            raise RenderError(f"role {role!r} is not one of {', '.join(ROLES)}")
        for name, value in (
            ("max concurrent jobs", max_concurrent_jobs),
            ("rate", rate_per_minute),
        ):
            if value is not None and value < 1:
                raise RenderError(f"an API key's {name} must be at least 1, not {value}")
        if len(label) > _LABEL_CHARS or not label.isprintable():
            raise RenderError(f"a key's label must be printable and at most {_LABEL_CHARS} chars")
        record = ApiKey(
            id=secrets.token_hex(6),
            user=user,
            role=role,
            project=project,
            created_at=time.time(),
            max_concurrent_jobs=max_concurrent_jobs,
            rate_per_minute=rate_per_minute,
            label=label,
        )
        token = f"{KEY_PREFIX}{record.id}_{secrets.token_urlsafe(32)}"
        stored = {**asdict(record), "sha256": digest(token)}
        if not self.redis.hsetnx(API_KEYS, record.id, json.dumps(stored)):
            raise RenderError("API key id collision; create the key again")  # 2**48 ids
        return record, token

    def get(self, key_id: str) -> ApiKey:
        """The record of key ``key_id``; RenderError when there is none."""
        raw = self.redis.hget(API_KEYS, key_id) if _ID.match(key_id) else None
        if raw is None:
            raise RenderError(f"no API key {key_id!r} (see `cloudrender keys list`)")
        return _record(json.loads(raw))

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        found = [_record(json.loads(raw)) for raw in self.redis.hvals(API_KEYS)]
        return sorted(found, key=lambda k: (k.created_at, k.id))

    def project_is_bound(self, project: str) -> bool:
        """Whether a live key is bound to ``project``: the project is then its keys' own."""
        return any(k.project == project and not k.revoked for k in self.list())

    def revoke(self, key_id: str) -> ApiKey:
        """Refuse key ``key_id`` from now on (its record stays, with ``revoked_at``)."""
        raw = self.redis.hget(API_KEYS, key_id) if _ID.match(key_id) else None
        if raw is None:
            raise RenderError(f"no API key {key_id!r} (see `cloudrender keys list`)")
        stored = json.loads(raw)
        if stored.get("revoked_at") is None:
            stored["revoked_at"] = time.time()
            self.redis.hset(API_KEYS, key_id, json.dumps(stored))
        return _record(stored)

    def authenticate(self, token: str) -> ApiKey | None:
        """The key ``token`` is, if it is a live one; None for malformed, unknown, revoked."""
        match = _KEY.match(token)
        if match is None:
            return None
        raw = self.redis.hget(API_KEYS, match.group(1))
        if raw is None:
            return None
        stored = json.loads(raw)
        if not hmac.compare_digest(digest(token), str(stored.get("sha256", ""))):
            return None
        record = _record(stored)
        return None if record.revoked else record


def _record(stored: dict[str, Any]) -> ApiKey:
    fields = ApiKey.__dataclass_fields__
    return ApiKey(**{k: v for k, v in stored.items() if k in fields})
