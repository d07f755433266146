"""Issue 13, finding 6, as an attacker runs it: objects swapped between keys, a job that asks a
keyed worker for plaintext, a job that asks a keyless worker for encryption.

Each object is bound to its storage key (CRENC2), so a copy under another key fails to decrypt,
naming that key. Encryption is the worker's decision: one configured with a key encrypts every
object whatever the job says, and one without a key refuses a job that asks for encryption.
Rollback to an older version of the same key is not detected; the last test pins that limit down
so that docs/security.md stays true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import RenderError
from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import ChunkState, JobState
from providers.storage import LocalStorage, StorageError
from providers.storage.encrypted import MAGIC, EncryptedStorage, PlaintextStorage
from tests.helpers import colour_project, sealed_objects
from tests.media import decode_rgb
from workers.job_spec import JobSpec, configure_runtime

pytestmark = pytest.mark.timeout(180)

KEY_HEX = "5c" * 32
KEY = bytes.fromhex(KEY_HEX)


def keyed(cache: Path, key: str | None) -> None:
    """Configure this process as a worker with ``key`` (None: no key)."""
    configure_runtime(encryption_key=key, cache_dir=str(cache), cache_bytes=1 << 20)


def spec(storage_url: str, *, encrypted: bool, job_id: str = "0123456789abcdef") -> JobSpec:
    """A job document as it arrives through Redis; only its storage matters here."""
    return JobSpec(
        id=job_id,
        project={},
        base_dir="/",
        export={},
        storage_url=storage_url,
        frames=30,
        output_ext="mp4",
        chunks=[(0, 30)],
        encrypted=encrypted,
    )


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


# --- objects swapped between keys ---------------------------------------------------------------


def test_another_jobs_video_copied_over_an_output_fails_naming_the_key(tmp_path: Path) -> None:
    inner = LocalStorage(str(tmp_path / "store"))
    store = EncryptedStorage(inner, KEY)
    victim, attacker = "jobs/aaaaaaaaaaaaaaaa/output.mp4", "jobs/bbbbbbbbbbbbbbbb/output.mp4"
    store.put_file(victim, write(tmp_path / "a.mp4", b"the victim's video" * 100))
    store.put_file(attacker, write(tmp_path / "b.mp4", b"the attacker's video" * 100))

    # Whoever can write to the bucket (but holds no key) copies B's ciphertext over A's key.
    victim_path, attacker_path = inner.local_path(victim), inner.local_path(attacker)
    assert victim_path and attacker_path
    Path(victim_path).write_bytes(Path(attacker_path).read_bytes())

    download = tmp_path / "download" / "output.mp4"
    with pytest.raises(StorageError) as info:
        store.get_file(victim, str(download))
    message = str(info.value)
    assert message == (
        f"object {victim!r} failed authentication: wrong key or tampered, or not the object "
        "stored under this key (frame 0 did not verify)"
    )
    assert "\n" not in message and info.value.key == victim and not info.value.transient
    assert not download.parent.exists()  # nothing half-written, not even the directory
    store.get_file(attacker, str(tmp_path / "b-again.mp4"))  # the original still decrypts
    assert (tmp_path / "b-again.mp4").read_bytes() == b"the attacker's video" * 100


def test_a_segment_moved_into_another_job_fails(tmp_path: Path) -> None:
    inner = LocalStorage(str(tmp_path / "store"))
    store = EncryptedStorage(inner, KEY)
    store.put_file("jobs/aaaaaaaaaaaaaaaa/segments/000000.mkv", write(tmp_path / "s", b"frames"))
    path = inner.local_path("jobs/aaaaaaaaaaaaaaaa/segments/000000.mkv")
    assert path
    inner.put_file("jobs/bbbbbbbbbbbbbbbb/segments/000000.mkv", path)  # same name, other job
    inner.put_file("jobs/aaaaaaaaaaaaaaaa/segments/000001.mkv", path)  # same job, other chunk
    for key in [
        "jobs/bbbbbbbbbbbbbbbb/segments/000000.mkv",
        "jobs/aaaaaaaaaaaaaaaa/segments/000001.mkv",
    ]:
        with pytest.raises(StorageError, match=f"{key!r} failed authentication"):
            store.get_file(key, str(tmp_path / "out.mkv"))
    assert not (tmp_path / "out.mkv").exists()


def test_rollback_to_an_older_version_of_the_same_key_is_not_detected(tmp_path: Path) -> None:
    # The documented limit (docs/security.md): nothing binds an object to a time or a version.
    inner = LocalStorage(str(tmp_path / "store"))
    store = EncryptedStorage(inner, KEY)
    key = "jobs/aaaaaaaaaaaaaaaa/output.mp4"
    store.put_file(key, write(tmp_path / "v1", b"first render"))
    path = inner.local_path(key)
    assert path
    old = Path(path).read_bytes()
    store.put_file(key, write(tmp_path / "v2", b"second render"))
    Path(path).write_bytes(old)  # a bucket's object versioning, or a backup, restores v1
    store.get_file(key, str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == b"first render"


# --- the worker decides, the job asks -----------------------------------------------------------


def test_a_keyed_worker_encrypts_a_job_that_asks_for_plaintext(tmp_path: Path) -> None:
    keyed(tmp_path / "cache", KEY_HEX)
    store = tmp_path / "store"
    storage = spec(f"file://{store}", encrypted=False).storage()
    storage.put_file("jobs/0123456789abcdef/output.mp4", write(tmp_path / "v", b"secret frames"))
    stored = (store / "jobs/0123456789abcdef/output.mp4").read_bytes()
    assert stored.startswith(MAGIC) and b"secret frames" not in stored


def test_a_keyless_worker_refuses_a_job_that_asks_for_encryption(tmp_path: Path) -> None:
    keyed(tmp_path / "cache", None)
    with pytest.raises(StorageError) as info:
        spec(f"file://{tmp_path}", encrypted=True).storage()
    assert str(info.value) == (
        "job 0123456789abcdef asks for encrypted storage, but this process has no encryption "
        "key: set CLOUDRENDER_ENCRYPTION_KEY to the cluster's key"
    )
    assert not info.value.transient  # every worker of the cluster would say the same


def test_a_keyless_process_refuses_ciphertext_it_meets(tmp_path: Path) -> None:
    keyed(tmp_path / "cache", KEY_HEX)
    url = f"file://{tmp_path / 'store'}"
    spec(url, encrypted=False).storage().put_file("jobs/x/output.mp4", write(tmp_path / "v", b"v"))
    keyed(tmp_path / "cache", None)
    storage = spec(url, encrypted=False).storage()
    assert isinstance(storage, PlaintextStorage)
    with pytest.raises(StorageError, match="'jobs/x/output.mp4' is encrypted, but this process"):
        storage.get_file("jobs/x/output.mp4", str(tmp_path / "out.mp4"))
    assert not (tmp_path / "out.mp4").exists()


# --- the same, on a live cluster ----------------------------------------------------------------


def worker_env(tmp_path: Path, storage_url: str, key: str | None) -> dict[str, str]:
    """What a worker of this deployment is configured with (its key, if any, above all)."""
    env = {
        "CLOUDRENDER_STORAGE_URL": storage_url,
        "CLOUDRENDER_OUTPUT_ROOTS": str(tmp_path),
        "CLOUDRENDER_CACHE_DIR": str(tmp_path / "worker-cache"),
    }
    if key:
        env["CLOUDRENDER_ENCRYPTION_KEY"] = key
    return env


def submit(api: CloudRenderingAPI, tmp_path: Path) -> str:
    """A one-second colour job delivered to a local path on the shared disk."""
    return api.submit_job(
        colour_project(1.0),
        output=str(tmp_path / "out.mp4"),
        base_dir=str(tmp_path),
        chunk_frames=15,
        keep_segments=True,
    )


def test_a_keyed_cluster_stores_only_ciphertext_for_a_plaintext_job(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'store'}"
    with EmbeddedCluster(workers=1, env=worker_env(tmp_path, url, KEY_HEX)) as cluster:
        # The client holds no key, so the job it submits says encrypted=false.
        settings = Settings(broker_url=cluster.broker_url)
        api = CloudRenderingAPI(cluster.broker_url, storage_url=url, settings=settings)
        job = submit(api, tmp_path)
        assert JobSpec.from_dict(api.store.spec(job)).encrypted is False
        record = api.wait(job, timeout=120)
        assert record.state is JobState.COMPLETED, record.error
        stored = sealed_objects(tmp_path / "store")
        assert len(stored) >= 3  # two segments and the output
        assert all(p.read_bytes().startswith(MAGIC) for p in stored)
        # The keyless client is told why it cannot have the stored video, not handed ciphertext.
        with pytest.raises(StorageError, match="is encrypted, but this process has no encryption"):
            api.download(job, str(tmp_path / "fetched.mp4"))
        # Nor a link to the ciphertext, which plays nowhere (download --url).
        with pytest.raises(RenderError, match="video is encrypted in storage .* `cloudrender "
                                              "download"):  # fmt: skip
            api.output_url(job)
    assert not (tmp_path / "fetched.mp4").exists()
    assert len(decode_rgb(tmp_path / "out.mp4")) == 30  # the delivered copy is the video


def test_a_keyless_cluster_fails_a_job_that_asks_for_encryption(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'store'}"
    with EmbeddedCluster(workers=1, env=worker_env(tmp_path, url, None)) as cluster:
        settings = Settings(broker_url=cluster.broker_url, encryption_key=KEY_HEX)
        api = CloudRenderingAPI(cluster.broker_url, storage_url=url, settings=settings)
        job = submit(api, tmp_path)
        record = api.wait(job, timeout=120)
    assert record.state is JobState.FAILED
    error = record.error or ""
    assert "asks for encrypted storage, but this process has no encryption key" in error
    assert "\n" not in error and "Traceback" not in error
    # Failed for good at the first attempt: not retried, not handed to another worker.
    assert any(c.state is ChunkState.FAILED for c in record.chunks)
    assert all(c.attempts <= 1 for c in record.chunks)
    assert not (tmp_path / "out.mp4").exists()
    assert not sealed_objects(tmp_path / "store")  # no plaintext
