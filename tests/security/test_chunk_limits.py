"""Issue 13, finding 4 on a live cluster: a project that slips past validation and needs more
memory than a chunk may have kills only its own render process. The chunk fails once, for
good, with one line, instead of taking the worker down and being redelivered to the next one;
a legitimate job on the same cluster completes bit-identical to a direct render.

Under bubblewrap (where it runs) the render process cannot reach the network, not even the
cluster's Redis, sees no credentials, and writes nowhere but its scratch directory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest

from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.studio import load_project
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import ChunkState, JobState
from tests.helpers import clip
from tests.media import decode_rgb, project, video_track
from workers import isolation as iso
from workers.render import render_to_file

pytestmark = pytest.mark.timeout(300)
#: The workers' chunk limit: several times what a small chunk needs (about 350-700 MB of
#: address space), well under what one frame of the hostile project needs.
CHUNK_MEMORY = 2**30


@dataclass(frozen=True)
class Site:
    broker: str
    store: Path

    def api(self) -> CloudRenderingAPI:
        return CloudRenderingAPI(self.broker, storage_url=self.store.as_uri())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("limits")
    store = root / "store"
    store.mkdir()
    env = {
        "CLOUDRENDER_STORAGE_URL": store.as_uri(),
        "CLOUDRENDER_CACHE_DIR": str(root / "cache"),
        "CLOUDRENDER_CHUNK_MEMORY_BYTES": str(CHUNK_MEMORY),
    }
    with EmbeddedCluster(workers=1, env=env) as cluster:
        yield Site(cluster.broker_url, store)


def hostile() -> dict[str, Any]:
    """Five blurred layers on a 4K canvas: within the default frame budget by its estimate
    (chunking.memory: 1.65 GB), while its render process needs 1.4 GB of address space."""
    return project(
        [video_track(f"v{i}", [clip(f"c{i}", 0, 0.2, effects=["b"])]) for i in range(5)],
        size=(3840, 2160),
        effects=[{"id": "b", "effect_type": "Blur", "params": {"radius": 4}}],
        settings={"export": {"preset": "ultrafast"}},
    )


def legit() -> dict[str, Any]:
    return project(
        [video_track("v", [clip("a", 0, 0.5, "#3366ff"), clip("b", 0.5, 1.0, "#ff6633")])],
        size=(64, 36),
        settings={"export": {"container": "mkv", "lossless": True}},
    )


def test_a_chunk_over_its_memory_limit_fails_once_and_the_job_beside_it_completes(
    site: Site, tmp_path: Path
) -> None:
    api = site.api()
    bad = api.submit_job(hostile(), output=str(tmp_path / "bad.mp4"), local_delivery=False)
    good = api.submit_job(legit(), output=str(tmp_path / "good.mkv"), local_delivery=False)
    record = api.wait(bad, timeout=180)
    assert record.state is JobState.FAILED, record
    error = record.error or ""
    assert "out of memory (limit 1.0 GB)" in error and "\n" not in error, error
    failed = [c for c in record.chunks if c.state is ChunkState.FAILED]
    assert failed, record.chunks
    # Once: not retried here, not redelivered to another worker.
    assert all(c.attempts == 1 and not c.failed_nodes for c in failed), failed
    assert record.node_failures == {}
    assert not (site.store / "jobs" / bad / "output.mp4").exists()

    done = api.wait(good, timeout=120)
    assert done.state is JobState.COMPLETED, done
    out = api.download(good, str(tmp_path / "good.mkv"))
    tl = load_project(legit(), str(tmp_path))
    tl = dataclasses.replace(tl, export=with_overrides(tl.export, lossless=True))
    render_to_file(tl, str(tmp_path / "direct.mkv"))
    ours, reference = decode_rgb(out), decode_rgb(tmp_path / "direct.mkv")
    assert len(ours) == len(reference) == 30
    assert all(np.array_equal(a, b) for a, b in zip(ours, reference, strict=True))


#: Run inside the sandbox: what can this process reach, read and write?
PROBE = r"""
import json, os, socket, sys
target = json.loads(sys.argv[1])
result = {"writes": {}, "reads": {}}
try:
    if target["unix"]:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(3)
        s.connect(target["unix"])
    else:
        s = socket.create_connection((target["host"], target["port"]), timeout=3)
    s.close()
    result["connect"] = "connected"
except OSError as exc:
    result["connect"] = f"{type(exc).__name__}: {exc}"
for path in target["write"]:
    try:
        with open(path, "w") as fh:
            fh.write("planted")
        result["writes"][path] = "written"
    except OSError as exc:
        result["writes"][path] = type(exc).__name__
for path in target["read"]:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
        result["reads"][path] = "read"
    except OSError as exc:
        result["reads"][path] = type(exc).__name__
result["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
result["env"] = sorted(os.environ)
print(json.dumps(result))
"""


def probe(argv: list[str], target: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [*argv, json.dumps(target)], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_render_sandbox_has_no_network_no_secrets_and_writes_only_scratch(
    site: Site, tmp_path: Path
) -> None:
    found = iso.detect("auto")
    if found.kind != iso.BWRAP or found.bwrap is None:
        pytest.skip(f"bubblewrap is not usable here: {found.reason}")
    url = urlparse(site.broker)
    redis = {"unix": url.path if url.scheme == "unix" else None}
    redis.update(host=url.hostname or "127.0.0.1", port=url.port or 6379)
    scratch, media, secret = tmp_path / "scratch", tmp_path / "clip.mp4", tmp_path / "secret.txt"
    scratch.mkdir()
    media.write_bytes(b"media")
    secret.write_text("not for the render")
    home = Path.home() / ".cloudrender-sandbox-probe"
    project_root = Path(iso.__file__).resolve().parent.parent / ".sandbox-probe"
    outside = [tmp_path / "planted", media, home, project_root, Path("/tmp/sandbox-probe-planted")]
    target = {
        **redis,
        "write": [str(scratch / "segment.mkv"), *map(str, outside)],
        "read": [str(media), str(secret), "/etc/shadow"],
    }
    environ = {**os.environ, "CLOUDRENDER_ENCRYPTION_KEY": "00" * 32}
    env = iso.child_env(environ, str(scratch))
    program = [sys.executable, "-c", PROBE]
    argv = iso.sandbox_command(
        found.bwrap,
        program=program,
        env=env,
        scratch=str(scratch),
        media=[(str(media), str(media))],
    )
    try:
        # The same program outside the sandbox reaches Redis and reads the secret.
        control = probe(program, {**target, "write": []}, environ)
        assert control["connect"] == "connected", control
        assert control["reads"][str(secret)] == "read"
        inside = probe(argv, target, env)
    finally:
        for path in (home, project_root):
            path.unlink(missing_ok=True)
    assert inside["connect"] != "connected", inside
    assert inside["writes"].pop(str(scratch / "segment.mkv")) == "written"
    assert (scratch / "segment.mkv").read_text() == "planted"
    # Its /tmp is its own (a private tmpfs): a write there lands nowhere the worker sees.
    assert inside["writes"].pop(str(media)) == "OSError"  # read-only, as bound
    private = {p: w for p, w in inside["writes"].items() if p.startswith("/tmp/")}
    assert private.pop("/tmp/sandbox-probe-planted") == "written"
    assert not Path("/tmp/sandbox-probe-planted").exists()
    assert not (tmp_path / "planted").exists() and media.read_bytes() == b"media"
    # Everywhere else, including the media it reads: a read-only or missing file system.
    elsewhere = {p: w for p, w in inside["writes"].items() if not p.startswith("/tmp/")}
    assert elsewhere and set(elsewhere.values()) <= {"OSError", "FileNotFoundError"}, elsewhere
    assert not home.exists() and not project_root.exists()
    assert inside["reads"] == {
        str(media): "read",
        str(secret): "FileNotFoundError",
        "/etc/shadow": "FileNotFoundError",
    }
    assert len(inside["pids"]) <= 3  # its own pid namespace: bwrap's init, python
    assert not any(name.startswith("CLOUDRENDER_") for name in inside["env"])
