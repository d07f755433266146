"""S3 storage against a moto server, beyond the contract every backend meets
(test_storage_contract.py): URLs and endpoints, paging and batching, multipart uploads, presigned
URLs, credentials, missing buckets and SDK error translation."""

from __future__ import annotations

import builtins
import json
import os
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import boto3.exceptions
import botocore.exceptions
import pytest
import s3transfer.exceptions  # type: ignore[import-untyped]

from providers.storage import ObjectNotFound, StorageError
from providers.storage import s3 as s3_module
from providers.storage.s3 import S3Storage, map_s3_errors
from tests.providers.emulators import closed_port
from tests.providers.storage_cases import BAD_KEYS, MEDIA_TYPES

PREFIX = "renders/v1"
MiB = 1024 * 1024


@pytest.fixture
def store(s3_bucket: str, moto_s3_endpoint: str) -> Iterator[S3Storage]:
    """A storage under a prefix of a fresh bucket."""
    with S3Storage(s3_bucket, PREFIX, endpoint_url=moto_s3_endpoint) as storage:
        yield storage


@pytest.fixture
def raw(moto_s3_endpoint: str, s3_credentials: None) -> Iterator[Any]:
    """A plain boto3 client, to look at the bucket behind the storage's back."""
    client = boto3.session.Session().client(
        "s3", endpoint_url=moto_s3_endpoint, region_name="us-east-1"
    )
    yield client
    client.close()


def write(path: Path, data: bytes) -> str:
    """Write a local file and return its path."""
    path.write_bytes(data)
    return str(path)


def every_call(store: S3Storage, tmp_path: Path) -> list[tuple[str, Callable[[], object]]]:
    """One call of every storage method that must reach S3, by name."""
    src = write(tmp_path / "every-call-src", b"x")
    return [
        ("put_file", lambda: store.put_file("k/a", src)),
        ("get_file", lambda: store.get_file("k/a", str(tmp_path / "every-call-out"))),
        ("exists", lambda: store.exists("k/a")),
        ("size", lambda: store.size("k/a")),
        ("delete", lambda: store.delete("k/a")),
        ("delete_prefix", lambda: store.delete_prefix("k/")),
        ("list", lambda: store.list("")),
        ("ensure_bucket", lambda: store.ensure_bucket()),
    ]


def assert_every_call_fails(
    store: S3Storage, tmp_path: Path, match: str, *, transient: bool
) -> None:
    """Every method raises StorageError (never an SDK exception) matching ``match``."""
    for name, call in every_call(store, tmp_path):
        with pytest.raises(StorageError, match=match) as info:
            call()
        assert not isinstance(info.value, ObjectNotFound), name
        assert info.value.transient is transient, name
        assert isinstance(info.value.__cause__, Exception), name
    assert not (tmp_path / "every-call-out").exists()
    assert sorted(os.listdir(tmp_path)) == ["every-call-src"]


# --- interface ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "bucket", "prefix", "normalised"),
    [
        ("s3://bucket", "bucket", "", "s3://bucket"),
        ("s3://bucket/", "bucket", "", "s3://bucket"),
        ("S3://bucket/a", "bucket", "a", "s3://bucket/a"),
        ("s3://my.bucket-1/jobs/42/", "my.bucket-1", "jobs/42", "s3://my.bucket-1/jobs/42"),
        ("  s3://bucket/with space  ", "bucket", "with space", "s3://bucket/with space"),
    ],
)
def test_from_url(url: str, bucket: str, prefix: str, normalised: str) -> None:
    store = S3Storage.from_url(url)
    assert (store.bucket, store.prefix, store.url) == (bucket, prefix, normalised)
    again = S3Storage.from_url(store.url)
    assert (again.bucket, again.prefix) == (bucket, prefix)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs://bucket/x", "not an S3 URL"),
        ("/local/dir", "not an S3 URL"),
        ("s3://", "names no bucket"),
        ("s3:///x", "names no bucket"),
        ("s3://Bad_Bucket", "invalid S3 bucket name 'Bad_Bucket'"),
        ("s3://ab", "invalid S3 bucket name"),
        ("s3://a..b", "invalid S3 bucket name"),
        ("s3://bucket/../x", "invalid S3 prefix '../x'.*'\\.\\.'"),
        ("s3://bucket/a//b", "invalid S3 prefix 'a//b'"),
        ("s3://bucket//a", "invalid S3 prefix"),
        ("s3://bucket/a\\b", "invalid S3 prefix"),
        ("s3://bucket/x?versionId=1", "query or fragment"),
        ("s3://bucket/x#frag", "query or fragment"),
    ],
)
def test_from_url_rejects(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        S3Storage.from_url(url)


def test_from_url_endpoint_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDRENDER_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    assert S3Storage.from_url("s3://bucket").endpoint_url is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://generic:1")
    assert S3Storage.from_url("s3://bucket").endpoint_url == "http://generic:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://s3-only:2")
    assert S3Storage.from_url("s3://bucket").endpoint_url == "http://s3-only:2"
    monkeypatch.setenv("CLOUDRENDER_S3_ENDPOINT_URL", "http://ours:3")
    assert S3Storage.from_url("s3://bucket").endpoint_url == "http://ours:3"


def test_from_url_reaches_the_endpoint(
    s3_bucket: str, moto_s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLOUDRENDER_S3_ENDPOINT_URL", moto_s3_endpoint)
    with S3Storage.from_url(f"s3://{s3_bucket}/x") as store:
        store.put_file("a", write(tmp_path / "src", b"hello"))
        assert store.size("a") == 5


def test_names_no_key_can_address_are_not_listed(
    store: S3Storage, raw: Any, s3_bucket: str, tmp_path: Path
) -> None:
    # Consoles write folder placeholders ending in '/'; other tools can write '//' names.
    raw.put_object(Bucket=s3_bucket, Key=f"{PREFIX}/folder/", Body=b"")
    raw.put_object(Bucket=s3_bucket, Key=f"{PREFIX}/a//b", Body=b"x")
    store.put_file("folder/real", write(tmp_path / "src", b"x"))
    assert store.list("") == ["folder/real"]


def test_list_and_delete_prefix_page_and_batch(
    store: S3Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small pages and batches stand in for S3's 1000 without uploading thousands of objects.
    monkeypatch.setattr(s3_module, "_LIST_PAGE_SIZE", 2)
    monkeypatch.setattr(s3_module, "_DELETE_BATCH", 2)
    calls: dict[str, int] = {"ListObjectsV2": 0, "DeleteObjects": 0}

    def count(model: Any, **kwargs: Any) -> None:
        if model.name in calls:
            calls[model.name] += 1

    store.client.meta.events.register("before-call.s3", count)
    src = write(tmp_path / "src", b"x")
    keys = [f"p/{i}" for i in range(5)]
    for key in keys:
        store.put_file(key, src)
    assert store.list("p/") == keys
    assert calls["ListObjectsV2"] == 3
    assert store.delete_prefix("p/") == 5
    assert calls["DeleteObjects"] == 3
    assert store.list("") == []


def test_multipart_upload_above_the_threshold(
    s3_bucket: str, moto_s3_endpoint: str, raw: Any, tmp_path: Path
) -> None:
    data = os.urandom(6 * MiB)
    with S3Storage(
        s3_bucket,
        "mp",
        endpoint_url=moto_s3_endpoint,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
    ) as store:
        store.put_file("big.bin", write(tmp_path / "big", data))
        # A multipart object's ETag ends in "-<number of parts>".
        etag = raw.head_object(Bucket=s3_bucket, Key="mp/big.bin")["ETag"]
        assert etag.strip('"').endswith("-2")
        assert store.size("big.bin") == len(data)
        store.get_file("big.bin", str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == data


def test_presigned_url_downloads_without_credentials(store: S3Storage, tmp_path: Path) -> None:
    store.put_file("share/me.txt", write(tmp_path / "src", b"shared bytes"))
    url = store.presigned_url("share/me.txt", expires=60)
    assert f"/{PREFIX}/share/me.txt" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"shared bytes"


@pytest.mark.parametrize("expires", [0, -1, 7 * 24 * 3600 + 1])
def test_presigned_url_expiry_is_bounded(store: S3Storage, expires: int) -> None:
    with pytest.raises(ValueError, match="expires"):
        store.presigned_url("a", expires=expires)


def test_ensure_bucket_creates_once(moto_s3_endpoint: str, s3_credentials: None) -> None:
    with S3Storage("ensure-bucket-test", endpoint_url=moto_s3_endpoint) as store:
        store.ensure_bucket()
        store.ensure_bucket()  # already there: fine
        assert store.list("") == []
        store.client.delete_bucket(Bucket="ensure-bucket-test")


# --- atomicity ---------------------------------------------------------------------------------


def fail_operation(store: S3Storage, operation: str, code: str, status: int) -> None:
    """Make every ``operation`` request of the storage's client fail with an S3 error reply."""

    def fail(**kwargs: Any) -> None:
        raise botocore.exceptions.ClientError(
            {
                "Error": {"Code": code, "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            operation,
        )

    store.client.meta.events.register(f"before-call.s3.{operation}", fail)


def test_failed_multipart_put_keeps_the_previous_object(
    s3_bucket: str, moto_s3_endpoint: str, raw: Any, tmp_path: Path
) -> None:
    with S3Storage(
        s3_bucket,
        endpoint_url=moto_s3_endpoint,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
    ) as store:
        store.put_file("a", write(tmp_path / "old", b"old object"))
        fail_operation(store, "UploadPart", "SlowDown", 503)
        with pytest.raises(StorageError, match="'a'.*SlowDown") as info:
            store.put_file("a", write(tmp_path / "new", os.urandom(6 * MiB)))
        assert info.value.transient
        assert info.value.key == "a"
        store.get_file("a", str(tmp_path / "got"))
    assert (tmp_path / "got").read_bytes() == b"old object"
    # The failed upload was aborted, so no parts linger (and cost money) in the bucket.
    assert raw.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_delete_prefix_reports_objects_s3_refused_to_delete(
    store: S3Storage, tmp_path: Path
) -> None:
    src = write(tmp_path / "src", b"x")
    for key in ("d/a", "d/b"):
        store.put_file(key, src)

    class Reply:
        status_code = 200

    def refuse(**kwargs: Any) -> tuple[Reply, dict[str, Any]]:
        # DeleteObjects answers 200 even when some keys fail; the failures are in the body.
        errors = [{"Key": f"{PREFIX}/d/b", "Code": "AccessDenied", "Message": "no"}]
        return Reply(), {"Deleted": [{"Key": f"{PREFIX}/d/a"}], "Errors": errors}

    store.client.meta.events.register("before-call.s3.DeleteObjects", refuse)
    with pytest.raises(StorageError, match="1 of 2 objects could not be deleted.*'d/b'") as info:
        store.delete_prefix("d/")
    assert info.value.key == "d/b"
    assert not info.value.transient


# --- failures: credentials, network, bucket ----------------------------------------------------


@pytest.fixture
def moto_auth(moto_s3_endpoint: str, s3_credentials: None) -> Iterator[dict[str, str]]:
    """Make moto check signatures and IAM policies; yields keys of an allowed and a denied user."""
    session = boto3.session.Session()
    iam = session.client("iam", endpoint_url=moto_s3_endpoint, region_name="us-east-1")
    suffix = os.urandom(4).hex()
    keys: dict[str, str] = {}
    for user, allowed in (("allowed", True), ("denied", False)):
        name = f"{user}-{suffix}"
        iam.create_user(UserName=name)
        if allowed:
            policy = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
            iam.put_user_policy(
                UserName=name,
                PolicyName="s3",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [policy]}),
            )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        keys[f"{user}_id"] = key["AccessKeyId"]
        keys[f"{user}_secret"] = key["SecretAccessKey"]
    iam.close()
    set_moto_auth(moto_s3_endpoint, "0")
    try:
        yield keys
    finally:
        set_moto_auth(moto_s3_endpoint, "inf")


def set_moto_auth(endpoint: str, after: str) -> None:
    """Tell moto to authenticate every request after ``after`` more ("inf": never)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=after.encode(),
        method="POST",
        # Without it the body is parsed as a form and moto reads no count.
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def use_keys(monkeypatch: pytest.MonkeyPatch, key_id: str, secret: str) -> None:
    """Credentials for clients created from now on."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)


def test_right_credentials_pass_authentication(
    s3_bucket: str,
    moto_s3_endpoint: str,
    moto_auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_keys(monkeypatch, moto_auth["allowed_id"], moto_auth["allowed_secret"])
    with S3Storage(s3_bucket, endpoint_url=moto_s3_endpoint, max_attempts=1) as store:
        store.put_file("a", write(tmp_path / "src", b"x"))
        assert store.list("") == ["a"]
        store.delete("a")


@pytest.mark.parametrize(
    ("which", "match"),
    [
        ("unknown_key", "AWS_ACCESS_KEY_ID"),
        ("wrong_secret", "AWS_SECRET_ACCESS_KEY"),
        ("no_permission", "access denied.*policy allows"),
    ],
)
def test_wrong_credentials_are_a_clear_permanent_error(
    s3_bucket: str,
    moto_s3_endpoint: str,
    moto_auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    which: str,
    match: str,
) -> None:
    key_id, secret = {
        "unknown_key": ("AKIAUNKNOWNUNKNOWN00", "whatever"),
        "wrong_secret": (moto_auth["allowed_id"], "not-the-secret"),
        "no_permission": (moto_auth["denied_id"], moto_auth["denied_secret"]),
    }[which]
    use_keys(monkeypatch, key_id, secret)
    with S3Storage(s3_bucket, endpoint_url=moto_s3_endpoint, max_attempts=1) as store:
        assert_every_call_fails(store, tmp_path, match, transient=False)
        # A HEAD reply has no body: exists() can only say 403, but must still not say False.
        with pytest.raises(StorageError, match="credentials"):
            store.exists("k/a")


def test_missing_credentials_say_what_to_set(
    moto_s3_endpoint: str, s3_credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with S3Storage("any-bucket", endpoint_url=moto_s3_endpoint, max_attempts=1) as store:
        assert_every_call_fails(store, tmp_path, "provide AWS credentials", transient=False)
        with pytest.raises(StorageError, match="provide AWS credentials"):
            store.presigned_url("a")


def test_unreachable_endpoint_is_transient(s3_credentials: None, tmp_path: Path) -> None:
    endpoint = f"http://localhost:{closed_port()}"
    with S3Storage("some-bucket", endpoint_url=endpoint, max_attempts=1) as store:
        assert_every_call_fails(store, tmp_path, "unreachable", transient=True)


def test_missing_bucket_is_a_clear_error(
    moto_s3_endpoint: str, s3_credentials: None, tmp_path: Path
) -> None:
    with S3Storage("no-such-bucket-here", "p", endpoint_url=moto_s3_endpoint) as store:
        for name, call in every_call(store, tmp_path):
            if name == "ensure_bucket":
                continue
            with pytest.raises(
                StorageError, match="'no-such-bucket-here' does not exist; create it first"
            ) as info:
                call()
            assert not isinstance(info.value, ObjectNotFound), name
            assert not info.value.transient, name
    assert sorted(os.listdir(tmp_path)) == ["every-call-src"]


# --- error mapping -----------------------------------------------------------------------------


def client_error(code: str, status: int, operation: str = "GetObject") -> Exception:
    """An S3 error reply as botocore raises it."""
    error: Exception = botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )
    return error


@pytest.mark.parametrize(
    ("error", "kind", "transient", "match"),
    [
        (client_error("NoSuchKey", 404), ObjectNotFound, False, "not found"),
        (client_error("404", 404, "HeadObject"), ObjectNotFound, False, "not found"),
        (client_error("NoSuchBucket", 404), StorageError, False, "'bkt' does not exist"),
        (client_error("AccessDenied", 403), StorageError, False, "check the AWS credentials"),
        (client_error("403", 403, "HeadObject"), StorageError, False, "check the AWS cred"),
        (client_error("InvalidAccessKeyId", 403), StorageError, False, "AWS_ACCESS_KEY_ID"),
        (client_error("SignatureDoesNotMatch", 403), StorageError, False, "AWS_SECRET_ACCESS"),
        (client_error("ExpiredToken", 400), StorageError, False, "refresh the credentials"),
        (client_error("InvalidBucketName", 400), StorageError, False, "fix the bucket"),
        (client_error("SlowDown", 503), StorageError, True, "SlowDown"),
        (client_error("RequestTimeout", 400), StorageError, True, "RequestTimeout"),
        (client_error("InternalError", 500), StorageError, True, "InternalError"),
        (client_error("503", 503, "HeadObject"), StorageError, True, "503"),
        (client_error("BadGateway", 502), StorageError, True, "BadGateway"),
        (client_error("TooMany", 429), StorageError, True, "TooMany"),
        (client_error("EntityTooLarge", 400), StorageError, False, "EntityTooLarge"),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"),
            StorageError,
            True,
            "unreachable",
        ),
        (
            botocore.exceptions.ConnectTimeoutError(endpoint_url="http://x"),
            StorageError,
            True,
            "unreachable",
        ),
        (
            botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"),
            StorageError,
            True,
            "unreachable",
        ),
        (
            botocore.exceptions.SSLError(endpoint_url="https://x", error="bad cert"),
            StorageError,
            False,
            "certificate",
        ),
        (botocore.exceptions.NoCredentialsError(), StorageError, False, "provide AWS cred"),
        (
            botocore.exceptions.ProfileNotFound(profile="nope"),
            StorageError,
            False,
            "provide AWS cred",
        ),
        (
            botocore.exceptions.ParamValidationError(report="bad"),
            StorageError,
            False,
            "bad",
        ),
        (
            boto3.exceptions.RetriesExceededError(last_exception=OSError("reset")),
            StorageError,
            True,
            "unreachable",
        ),
        (  # a download whose responses are cut short, retried to the end
            s3transfer.exceptions.RetriesExceededError(last_exception=OSError("short")),
            StorageError,
            True,
            "unreachable",
        ),
    ],
)
def test_map_s3_errors(
    error: Exception, kind: type[StorageError], transient: bool, match: str
) -> None:
    with pytest.raises(kind, match=match) as info, map_s3_errors("k/x", bucket="bkt"):
        raise error
    assert type(info.value) is kind
    assert info.value.transient is transient
    assert info.value.key == "k/x"
    assert info.value.__cause__ is error


def test_upload_failures_are_unwrapped() -> None:
    # boto3 raises S3UploadFailedError while handling the ClientError, without "from".
    with pytest.raises(StorageError) as info, map_s3_errors("k", bucket="bkt"):
        try:
            raise client_error("SlowDown", 503, "PutObject")
        except botocore.exceptions.ClientError as exc:
            raise boto3.exceptions.S3UploadFailedError(f"Failed to upload: {exc}")  # noqa: B904
    assert info.value.transient
    assert "SlowDown" in str(info.value)


def test_map_s3_errors_passes_other_exceptions() -> None:
    with pytest.raises(ValueError), map_s3_errors("k"):
        raise ValueError("not ours")
    with pytest.raises(OSError), map_s3_errors("k"):
        raise OSError("local problem")
    with pytest.raises(ObjectNotFound), map_s3_errors("k"):
        raise ObjectNotFound("already ours", key="k")


# --- key validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_rejected_before_any_request(
    s3_credentials: None, tmp_path: Path, key: str
) -> None:
    # Nothing listens at the endpoint: any request would fail as "unreachable" instead.
    endpoint = f"http://localhost:{closed_port()}"
    src = write(tmp_path / "src", b"x")
    with S3Storage("some-bucket", endpoint_url=endpoint, max_attempts=1) as store:
        calls: builtins.list[Callable[[], object]] = [
            lambda: store.put_file(key, src),
            lambda: store.get_file(key, str(tmp_path / "out")),
            lambda: store.exists(key),
            lambda: store.size(key),
            lambda: store.delete(key),
            lambda: store.local_path(key),
            lambda: store.presigned_url(key),
        ]
        for call in calls:
            with pytest.raises(StorageError, match="invalid storage key"):
                call()
    assert sorted(os.listdir(tmp_path)) == ["src"]


@pytest.mark.parametrize(
    ("bucket", "prefix", "message"),
    [
        ("", "", "invalid S3 bucket name"),
        ("UPPER", "", "invalid S3 bucket name"),
        ("has/slash", "", "invalid S3 bucket name"),
        ("ok-bucket", "a/../b", "invalid S3 prefix"),
        ("ok-bucket", "a\x00", "invalid S3 prefix"),
        ("ok-bucket", "/a", "invalid S3 prefix '/a'.*relative"),
    ],
)
def test_constructor_rejects(bucket: str, prefix: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        S3Storage(bucket, prefix)


def test_constructor_normalises_the_prefix() -> None:
    store = S3Storage("ok-bucket", "a/b//")
    assert (store.prefix, store.url) == ("a/b", "s3://ok-bucket/a/b")


def test_objects_carry_the_media_type_of_their_name(
    store: S3Storage, raw: Any, tmp_path: Path
) -> None:
    """A delivered film.mp4 was stored as binary/octet-stream: a signed link downloaded it
    instead of playing it."""
    src = write(tmp_path / "src", b"not really a video")
    for key, media_type in MEDIA_TYPES:
        store.put_file(key, src)
        head = raw.head_object(Bucket=store.bucket, Key=f"{PREFIX}/{key}")
        assert head["ContentType"] == media_type, key


# --- uploads of killed writers ----------------------------------------------------------------


def _killed_upload(raw: Any, bucket: str, name: str) -> str:
    """A multipart upload begun, one part sent, never completed nor aborted: what a worker
    SIGKILLed mid-upload leaves (its parts are billed until aborted)."""
    upload = raw.create_multipart_upload(Bucket=bucket, Key=name)["UploadId"]
    raw.upload_part(Bucket=bucket, Key=name, UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    return str(upload)


def _uploads(raw: Any, bucket: str) -> builtins.list[str]:
    return sorted(u["Key"] for u in raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_delete_prefix_aborts_the_uploads_killed_under_it(
    store: S3Storage, raw: Any, s3_bucket: str, tmp_path: Path
) -> None:
    store.put_file("jobs/a/segments/000000.mkv", write(tmp_path / "s", b"segment"))
    _killed_upload(raw, s3_bucket, f"{PREFIX}/jobs/a/segments/000001.mkv")
    _killed_upload(raw, s3_bucket, f"{PREFIX}/jobs/b/segments/000000.mkv")
    _killed_upload(raw, s3_bucket, "elsewhere/jobs/a/x")  # not under the storage's root
    assert store.delete_prefix("jobs/a/") == 1  # the objects; the uploads are no objects
    assert _uploads(raw, s3_bucket) == [
        "elsewhere/jobs/a/x",
        f"{PREFIX}/jobs/b/segments/000000.mkv",
    ]


def test_remove_temps_aborts_a_completed_job_s_killed_uploads(
    store: S3Storage, raw: Any, s3_bucket: str
) -> None:
    """What a completed job's merge calls (workers.merge_task): its video stays."""
    from providers.storage.local import remove_temps

    _killed_upload(raw, s3_bucket, f"{PREFIX}/jobs/a/segments/000001.mkv")
    _killed_upload(raw, s3_bucket, f"{PREFIX}/jobs/a/output.mp4")
    assert remove_temps(store, "jobs/a/") == 2
    assert _uploads(raw, s3_bucket) == []
    assert remove_temps(store, "jobs/a/") == 0


def test_delete_prefix_without_leave_to_list_uploads_still_deletes(
    store: S3Storage, tmp_path: Path
) -> None:
    """A bucket policy without s3:ListBucketMultipartUploads: the objects go all the same
    (a cancel must not fail for want of a clean-up)."""
    store.put_file("jobs/a/x", write(tmp_path / "s", b"x"))
    fail_operation(store, "ListMultipartUploads", "AccessDenied", 403)
    assert store.delete_prefix("jobs/a/") == 1
    assert store.list("jobs/") == []
