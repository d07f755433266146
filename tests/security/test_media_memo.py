"""The file -> content id memo in Redis (cr:media:*) is written only by the roles that hash the
files (security2 finding 7: a client SET another user's file's memo to the id of its own
footage, and the victim's render came out of the segment cache showing the attacker's video)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from chunking.timeline.project import read_project
from orchestrator import keys
from orchestrator.planning import media_ids
from tests.helpers import file_clip
from tests.media import make_video, project, video_track
from tests.security.redis_servers import ROLES, acl_server
from tests.security.redis_writer import job_document
from workers.job_spec import JobSpec
from workers.media_ids import _KNOWN

PASSWORDS = {role: f"{role}-{secrets.token_hex(8)}" for role in ROLES}
ADMIN_PASSWORD = secrets.token_hex(8)


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with acl_server(tmp_path_factory.mktemp("acl"), PASSWORDS, ADMIN_PASSWORD) as server:
        yield server.port


def connect(port: int, role: str) -> redis.Redis:
    return redis.Redis(port=port, username=role, password=PASSWORDS[role], decode_responses=True)


def test_a_client_cannot_point_a_file_at_other_content(port: int, tmp_path: Path) -> None:
    make_video(tmp_path / "victim.mp4", frames=6, size=(64, 36))
    doc = project([video_track("v", [file_clip("c", tmp_path / "victim.mp4", 0, 0.2)])])
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    truth = "sha256:" + hashlib.sha256((tmp_path / "victim.mp4").read_bytes()).hexdigest()
    admin = redis.Redis(port=port, username="admin", password=ADMIN_PASSWORD)
    admin.execute_command("ACL", "LOG", "RESET")
    # A client's estimate hashes the file itself, and does not try to remember it
    client = connect(port, "client")
    for _ in range(3):
        assert media_ids({}, timeline=timeline, client=client) == {
            str(tmp_path / "victim.mp4"): truth
        }
    assert admin.acl_log() == []
    assert admin.keys(keys.media_id("*")) == []
    # The orchestrator (another process: it has not hashed the file yet) remembers what it
    # hashed, and a client reads it
    _KNOWN.clear()
    spec = JobSpec.from_dict(job_document(doc, tmp_path, "file:///nowhere-media-memo"))
    orchestrator = connect(port, "orchestrator")
    assert media_ids(spec, timeline=timeline, client=orchestrator)[str(tmp_path / "victim.mp4")]
    (memo,) = admin.keys(keys.media_id("*"))
    assert client.get(memo) == truth
    # The attack: a client overwrites the memo with the id of its own footage
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.set(memo, "sha256:" + "ab" * 32)
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.delete(memo)
    assert client.get(memo) == truth
