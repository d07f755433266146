"""The HTTP client (orchestrator.http_client): SSE parsing, the error mapping, the export and
asset handling of a submit, uploads and resumable downloads (against httpx's MockTransport),
then the same client against the real service on a real uvicorn over a real embedded cluster."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from chunking.timeline.model import ExportSettings
from chunking.timeline.project import read_project
from common.errors import RenderError, ValidationError
from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_estimate import JobEstimate
from orchestrator.api_pools import PoolStatus
from orchestrator.api_results import Billing, ClusterStatus, CostLimitExceeded
from orchestrator.budgets import BudgetExceeded
from orchestrator.http_client import HTTPRenderingAPI
from orchestrator.http_errors import (
    AuthenticationFailed,
    JobConflict,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ServiceUnreachable,
    answer_error,
)
from orchestrator.http_project import output_name, with_export_block
from orchestrator.http_transfer import ServerSentEvent, parse_sse
from orchestrator.job_record import JobNotFound, JobRecord, JobState
from orchestrator.stats import NodeMetrics, RenderMetrics
from providers.storage import open_storage
from server.app import create_app
from tests.helpers import colour_project, file_clip
from tests.media import decode_rgb, make_video, project, video_track
from tests.providers import conftest as provider_fixtures
from tests.server import conftest as server_fixtures
from tests.server.conftest import ServerCluster

# The service's fixtures (tests/server/conftest.py), found by name.
server_cluster = server_fixtures.server_cluster
key_store = server_fixtures.key_store
operator_key = server_fixtures.operator_key
user_key = server_fixtures.user_key
other_user_key = server_fixtures.other_user_key
live_server = server_fixtures.live_server
# ... and the storage tests' S3 (moto).
moto_s3_endpoint = provider_fixtures.moto_s3_endpoint
s3_credentials = provider_fixtures.s3_credentials
s3_bucket = provider_fixtures.s3_bucket

KEY = "cr_test_s3cr3t"
BASE = "http://api.test"


# -- Server-Sent Events parsing --------------------------------------------------------------


def events_of(text: str) -> list[ServerSentEvent]:
    return list(parse_sse(text.splitlines(keepends=True)))


def test_sse_joins_data_lines_and_keeps_the_last_id() -> None:
    stream = (
        "retry: 1000\n\n"
        ": keep-alive\n"
        'id: 1-0\nevent: progress\ndata: {"a":\ndata:  1}\n\n'
        ": a comment between events\n\n"
        "event: state\ndata: {}\n\n"
        "id: 2-0\ndata: plain\n\n"
    )
    found = events_of(stream)
    assert [(e.event, e.data, e.id, e.retry) for e in found] == [
        ("progress", '{"a":\n 1}', "1-0", 1000),
        ("state", "{}", "1-0", 1000),  # no id of its own: the last one stays
        ("message", "plain", "2-0", 1000),
    ]
    assert found[0].json() == {"a": 1}


def test_sse_field_rules() -> None:
    found = events_of(
        "data\n\n"  # a field name alone: an empty value, still an event
        "data:no space\r\n\r\n"  # CRLF line ends
        "data:  two spaces\n\n"  # only one space is dropped
        "id: bad\x00id\ndata: x\n\n"  # an id holding NUL is ignored
        "retry: soon\ndata: y\n\n"  # a retry that is not a number is ignored
        "unknown: field\ndata: z\n\n"
        "event: only-a-name\n\n"  # no data: nothing is dispatched
        "data: cut off by the end"  # no blank line: discarded
    )
    assert [(e.event, e.data, e.id, e.retry) for e in found] == [
        ("message", "", None, None),
        ("message", "no space", None, None),
        ("message", " two spaces", None, None),
        ("message", "x", None, None),
        ("message", "y", None, None),
        ("message", "z", None, None),
    ]


def test_sse_data_that_is_not_json_names_the_event() -> None:
    [event] = events_of("event: progress\ndata: {oops\n\n")
    with pytest.raises(RenderError, match="'progress' event whose data is not JSON"):
        event.json()


# -- error answers -----------------------------------------------------------------------------


def answer(status: int, body: Any = None, *, text: str | None = None, **headers: str) -> Any:
    request = httpx.Request("GET", f"{BASE}/v1/jobs/j1?key=hidden")
    content = text.encode() if text is not None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "body", "job", "kind", "message"),
    [
        (400, {"error": "clip 'c': bad  thing"}, False, RenderError, "clip 'c': bad thing"),
        (
            400,
            {"error": "2 problems: a; b", "problems": ["a", "b"]},
            False,
            ValidationError,
            "2 problems: a; b",
        ),
        (
            400,
            {"error": "estimated cost $1.2000 is above the limit $0.5000 (10 node-seconds)"},
            False,
            CostLimitExceeded,
            "estimated cost $1.2000 is above the limit $0.5000 (10 node-seconds)",
        ),
        (401, {"error": "invalid API key"}, True, AuthenticationFailed, "invalid API key"),
        (403, {"error": "operators only"}, False, PermissionDenied, "operators only"),
        (404, {"error": "job j1 not found"}, True, JobNotFound, "job j1 not found"),
        (404, {"error": "no such route: GET /v2"}, False, RenderError, "no such route: GET /v2"),
        (409, {"error": "job j1 is already completed"}, True, JobConflict, "job j1 is already"),
        (413, {"error": "body too large"}, False, RenderError, "body too large"),
        (422, {"error": "priority: bad"}, False, RenderError, "priority: bad"),
        (429, {"error": "over its rate"}, False, RateLimited, "over its rate"),
        (
            429,
            {"error": "user alice's budget is used up; no new job starts until it resets on x"},
            False,
            BudgetExceeded,
            "budget is used up",
        ),
        (400, {"error": "x", "type": "BudgetExceeded"}, False, BudgetExceeded, "x"),
        (503, {"error": "Redis down"}, False, ServiceError, "failed (503): Redis down"),
        (404, {"detail": "Not Found"}, False, RenderError, "Not Found"),
    ],
)
def test_error_answers_map_to_the_python_api_errors(
    status: int, body: Any, job: bool, kind: type[RenderError], message: str
) -> None:
    error = answer_error(answer(status, body), job=job)
    assert type(error) is kind
    assert message in str(error) and "\n" not in str(error)


def test_an_answer_that_is_not_json_is_one_line_without_the_query() -> None:
    error = answer_error(answer(502, text="<html>\n<h1>Bad Gateway</h1>\n</html>"))
    assert isinstance(error, ServiceError) and error.transient
    assert "GET http://api.test/v1/jobs/j1?key=***" in str(error)
    assert "Bad Gateway" in str(error) and "hidden" not in str(error) and "\n" not in str(error)


def test_retry_after_is_kept() -> None:
    error = answer_error(answer(429, {"error": "slow down"}, **{"Retry-After": "7"}))
    assert isinstance(error, RateLimited) and error.retry_after == 7.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_service_is_one_line_naming_the_url_not_the_key() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with HTTPRenderingAPI(url, KEY, settings=Settings(), timeout=5) as api:
        with pytest.raises(ServiceUnreachable) as info:
            api.get_job_status("abc")
    text = str(info.value)
    assert text.startswith(f"cannot reach the service at {url}: ") and "\n" not in text
    assert KEY not in text and "s3cr3t" not in text


@pytest.mark.parametrize(
    ("url", "key", "message"),
    [
        (None, KEY, "no API: pass api_url or set CLOUDRENDER_API_URL"),
        (BASE, None, "no API key for http://api.test: pass api_key or set CLOUDRENDER_API_KEY"),
        ("ftp://host", KEY, "is not an http:// or https:// URL"),
        ("redis://:pw@host:6379", KEY, "API URL redis://:***@host:6379 is not an http://"),
        (BASE, "cr_bad\nkey", "the API key holds characters"),
    ],
)
def test_constructor_refuses_a_missing_url_or_key(
    url: str | None, key: str | None, message: str
) -> None:
    with pytest.raises(RenderError) as info:
        HTTPRenderingAPI(url, key, settings=Settings())
    assert message in str(info.value)


def test_settings_supply_url_and_key() -> None:
    settings = Settings(api_url=BASE + "/", api_key=KEY)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"total": 1.5, "by_day": {"2026-01-01": 1.5}})

    with HTTPRenderingAPI(settings=settings, transport=httpx.MockTransport(handler)) as api:
        billing = api.get_billing(days=3)
    assert billing == Billing(1.5, {"2026-01-01": 1.5})
    assert str(seen[0].url) == f"{BASE}/v1/billing?days=3"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_job_ids_cannot_reach_another_route() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(404, json={"error": "job x not found"})

    with HTTPRenderingAPI(BASE, KEY, transport=httpx.MockTransport(handler)) as api:
        with pytest.raises(JobNotFound):
            api.get_job_status("../cluster/pause")
    assert seen == ["/v1/jobs/..%2Fcluster%2Fpause"]


# -- the document a submit sends ---------------------------------------------------------------


@pytest.mark.parametrize(
    "export",
    [
        ExportSettings(),
        ExportSettings(container="mkv", codec="ffv1", lossless=True),
        ExportSettings(codec="hevc", crf=20, preset="fast", keyframe_interval=48, b_frames=2),
        ExportSettings(bitrate=2_500_000, audio_bitrate=128_000, hardware_acceleration=True),
        ExportSettings(container="webm", codec="vp9", bitrate=64_000),
    ],
)
def test_export_block_loads_back_as_the_same_settings(export: ExportSettings) -> None:
    # A document full of aliases and legacy fields the export must override, and other
    # settings (frame rate, duration cut) it must keep.
    doc = colour_project(2.0)
    doc["settings"] = {
        "export": {"format": "mov", "quality": "high", "video_bitrate": 9000, "frameRate": 25},
        "output": {"quality": 50, "video_bitrate": 4000, "duration": 1.0},
    }
    sent = with_export_block(doc, export)
    loaded = read_project(sent).timeline
    assert loaded.export == export
    assert (float(loaded.fps), loaded.frames) == (25.0, 25)  # frameRate and the cut kept
    assert "frameRate" in doc["settings"]["export"] and doc["settings"]["export"]["format"] == "mov"


@pytest.mark.parametrize(
    ("output", "name"),
    [
        ("/renders/final cut.mkv", "final_cut.mkv"),
        ("out.mp4", "out.mp4"),
        ("s3://bucket/folder/video.mov?versionId=3", "video.mov"),
        ("/", "video.mp4"),
        ("film", "film.mp4"),
        (".hidden.webm", "hidden.webm"),
        ("Über été.mkv", "ber__t_.mkv"),
        ("x" * 300 + ".mp4", "x" * 96 + ".mp4"),
    ],
)
def test_output_name_is_the_file_name(output: str, name: str) -> None:
    assert output_name(output) == name


def test_output_name_without_extension_takes_the_container() -> None:
    assert output_name("film", "mkv") == "film.mkv"
    assert output_name("film.mov", "mkv") == "film.mov"


# -- uploads and downloads against a scripted service ------------------------------------------


class FakeService:
    """A scripted service: remembers the assets it holds, answers submits, records requests."""

    def __init__(self, *, presign: bool = False) -> None:
        self.held: dict[str, bytes] = {}
        self.presign = presign
        self.requests: list[httpx.Request] = []
        self.submitted: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.url.host == "bucket.test":
            self.held[path.rsplit("/", 1)[1]] = request.read()
            return httpx.Response(200)
        if path == "/v1/assets/missing":
            names = json.loads(request.read())["assets"]
            missing = [n for n in names if n not in self.held]
            uploads = {
                n: {"method": "PUT", "url": f"https://bucket.test/assets/{n}?X-Amz-Signature=s"}
                for n in missing
                if self.presign
            }
            return httpx.Response(200, json={"missing": missing, "uploads": uploads})
        if path.startswith("/v1/assets/") and request.method == "PUT":
            self.held[path.rsplit("/", 1)[1]] = request.read()
            return httpx.Response(201, json={"asset": path, "bytes": 1})
        if path == "/v1/jobs" and request.method == "POST":
            self.submitted.append(json.loads(request.read()))
            return httpx.Response(201, json={"id": f"job{len(self.submitted)}", "estimate": None})
        return httpx.Response(404, json={"error": f"no such route: {path}"})


def client_of(service: FakeService) -> HTTPRenderingAPI:
    api = HTTPRenderingAPI(BASE, KEY, settings=Settings(), transport=httpx.MockTransport(service))
    api._plain = httpx.Client(transport=httpx.MockTransport(service))  # the storage's side
    return api


@pytest.fixture
def media_project(tmp_path: Path) -> Path:
    """A project file using one small video beside it."""
    (tmp_path / "media").mkdir()
    make_video(tmp_path / "media" / "a.mp4", frames=6, size=(32, 18))
    doc = project(
        [video_track("v", [file_clip("a", tmp_path / "media" / "a.mp4", 0, 0.2)])],
        settings={"export": {"preset": "ultrafast"}},
    )
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("presign", [False, True])
def test_submit_uploads_missing_media_once_and_sends_references(
    media_project: Path, presign: bool
) -> None:
    service = FakeService(presign=presign)
    video = (media_project.parent / "media" / "a.mp4").read_bytes()
    with client_of(service) as api:
        assert api.submit_job(str(media_project), output="/tmp/out.mkv", priority="high") == "job1"
        first = api.last_transfer
        assert api.submit_job(str(media_project), output="/tmp/out.mkv") == "job2"
        second = api.last_transfer
    assert first is not None and second is not None
    [name] = first.uploaded
    assert service.held == {name: video}
    assert (first.uploaded_bytes, first.skipped_bytes) == (len(video), 0)
    assert (second.uploaded, second.uploaded_bytes, second.skipped_bytes) == ([], 0, len(video))
    body = service.submitted[0]
    assert body["output_name"] == "out.mkv" and body["priority"] == "high"
    clip = body["project"]["tracks"][0]["clips"][0]
    assert clip["source"] == {"File": f"asset:sha256:{name}"}
    assert body["project"]["settings"]["export"]["container"] == "mkv"
    puts = [r for r in service.requests if r.method == "PUT"]
    assert len(puts) == 1
    assert puts[0].headers["content-length"] == str(len(video))
    if presign:  # the storage's URL: never the API key
        assert puts[0].url.host == "bucket.test" and "authorization" not in puts[0].headers
    else:
        assert puts[0].url.path == f"/v1/assets/{name}"
        assert puts[0].headers["authorization"] == f"Bearer {KEY}"


def test_a_deadline_from_now_is_sent_as_a_time(media_project: Path) -> None:
    """deadline="+2h" was refused here ("not an ISO 8601 time"), as CloudRenderingAPI took it."""
    service = FakeService()
    before = time.time()
    with client_of(service) as api:
        api.submit_job(str(media_project), output="/tmp/out.mp4", deadline="+2h")
    sent = service.submitted[0]["deadline"]
    assert before + 7200 <= sent <= time.time() + 7200


def test_media_problems_are_found_before_anything_is_sent(tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    doc = project([video_track("v", [file_clip("s", secret, 0, 1)])])
    service = FakeService()
    with client_of(service) as api, pytest.raises(ValidationError) as info:
        api.submit_job(doc, output="o.mp4", base_dir=str(tmp_path))
    assert "clip 's'" in str(info.value) and service.requests == []


def test_over_http_the_key_decides_the_user_and_segments_are_not_kept() -> None:
    with client_of(FakeService()) as api:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"user": "mallory"}, "the API key decides the user"),
            ({"keep_segments": True}, "keep_segments is not available"),
            ({"use_cache": False}, "always uses the segment cache"),
            ({"priority": "asap"}, "priority 'asap' is not one of"),
        ]
        for options, message in cases:
            with pytest.raises(RenderError, match=message):
                api.submit_job(colour_project(1.0), output="o.mp4", **options)


class BrokenStream(httpx.SyncByteStream):
    """A body that breaks after ``cut`` bytes, as a dropped connection does."""

    def __init__(self, data: bytes, cut: int) -> None:
        self.data, self.cut = data, cut

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[: self.cut]
        raise httpx.ReadError("connection reset by peer")


def test_download_follows_the_redirect_without_the_key_and_resumes(tmp_path: Path) -> None:
    video = bytes(range(256)) * 4000
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.test":
            return httpx.Response(307, headers={"Location": "https://bucket.test/o.mkv?sig=x"})
        ranged = request.headers.get("range")
        if ranged is None:
            return httpx.Response(
                200, stream=BrokenStream(video, 1000), headers={"Content-Length": str(len(video))}
            )
        start = int(ranged.removeprefix("bytes=").rstrip("-"))
        rest = video[start:]
        return httpx.Response(
            206,
            content=rest,
            headers={"Content-Range": f"bytes {start}-{len(video) - 1}/{len(video)}"},
        )

    with HTTPRenderingAPI(BASE, KEY, transport=httpx.MockTransport(handler)) as api:
        api._plain = httpx.Client(transport=httpx.MockTransport(handler))
        out = tmp_path / "video.mkv"
        assert api.download("j1", str(out)) == str(out)
    assert out.read_bytes() == video
    assert [(r.url.host, r.headers.get("range")) for r in seen] == [
        ("api.test", None),
        ("bucket.test", None),
        ("bucket.test", "bytes=1000-"),
    ]
    assert all("authorization" not in r.headers for r in seen[1:])
    assert list(tmp_path.iterdir()) == [out]  # no partial file left


def test_download_restarts_when_the_server_will_not_resume(tmp_path: Path) -> None:
    video = b"v" * 5000
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(200, stream=BrokenStream(video, 100))
        return httpx.Response(200, content=video)  # ignores Range: the whole file again

    with HTTPRenderingAPI(BASE, KEY, transport=httpx.MockTransport(handler)) as api:
        api.download("j1", str(tmp_path / "v.mp4"))
    assert (tmp_path / "v.mp4").read_bytes() == video


def test_download_of_an_unfinished_job_leaves_no_file(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"error": "job j1 is rendering, not completed"})

    with HTTPRenderingAPI(BASE, KEY, transport=httpx.MockTransport(handler)) as api:
        with pytest.raises(JobConflict, match="^job j1 is rendering, not completed$"):
            api.download("j1", str(tmp_path / "v.mp4"))
    assert list(tmp_path.iterdir()) == []


def test_events_resume_after_a_dropped_connection_with_last_event_id() -> None:
    first = (
        b'retry: 10\n\nid: 1-0\nevent: planned\ndata: {"job": "j1", "chunks": 2}\n\n'
        b'id: 2-0\nevent: progress\ndata: {"job": "j1",\n'
    )
    second = (
        b'id: 2-0\nevent: progress\ndata: {"job": "j1", "done": 5}\n\n'
        b": keep-alive\n\n"
        b'id: 3-0\nevent: completed\ndata: {"job": "j1"}\n\n'
    )
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("last-event-id"))
        if len(seen) == 1:
            return httpx.Response(200, stream=BrokenStream(first, len(first)))
        return httpx.Response(200, content=second)

    with HTTPRenderingAPI(BASE, KEY, transport=httpx.MockTransport(handler)) as api:
        found = list(api.events("j1"))
    assert seen == [None, "1-0"]
    assert [(e["event"], e["event_id"]) for e in found] == [
        ("planned", "1-0"),
        ("progress", "2-0"),
        ("completed", "3-0"),
    ]
    assert found[1]["done"] == 5


# -- against the real service ------------------------------------------------------------------


@pytest.fixture
def api_app(request: pytest.FixtureRequest, server_cluster: ServerCluster) -> FastAPI:
    """The service over the module's cluster; ``indirect`` "s3": over S3 storage (moto)
    instead of the cluster's directory, recording the requests it receives."""
    settings = server_cluster.settings
    if getattr(request, "param", None) == "s3":
        endpoint = request.getfixturevalue("moto_s3_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        request.getfixturevalue("monkeypatch").setenv("CLOUDRENDER_S3_ENDPOINT_URL", endpoint)
        settings = dataclasses.replace(
            settings, storage_url=f"s3://{bucket}/farm", s3_endpoint_url=endpoint
        )
    app = create_app(settings, api=CloudRenderingAPI(settings=settings))
    app.state.received = []

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        app.state.received.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    return app


@pytest.fixture
def alice(live_server: str, user_key: str) -> Iterator[HTTPRenderingAPI]:
    with HTTPRenderingAPI(live_server, user_key, settings=Settings()) as api:
        yield api


@pytest.fixture
def bob(live_server: str, other_user_key: str) -> Iterator[HTTPRenderingAPI]:
    with HTTPRenderingAPI(live_server, other_user_key, settings=Settings()) as api:
        yield api


@pytest.fixture
def operator(live_server: str, operator_key: str) -> Iterator[HTTPRenderingAPI]:
    with HTTPRenderingAPI(live_server, operator_key, settings=Settings()) as api:
        yield api


@pytest.mark.timeout(180)
def test_a_job_over_http_returns_the_python_apis_types(
    alice: HTTPRenderingAPI, bob: HTTPRenderingAPI, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    job = alice.submit_job(colour_project(0.5, "#208040"), output=str(clip), chunk_frames=5)
    assert isinstance(alice.last_estimate, JobEstimate) and alice.last_estimate.frames == 15
    assert alice.last_warnings == []
    assert alice.get_job_status(job).output == str(clip) and not clip.exists()
    record = alice.wait(job, timeout=120)
    assert isinstance(record, JobRecord) and record.state is JobState.COMPLETED
    # As over Redis, the video is at the output path once waited for (it named a download
    # only: the record showed a file that existed nowhere).
    assert record.output == str(clip) and clip.stat().st_size > 0
    assert len(decode_rgb(clip)) == 15
    assert alice.download(job, str(clip)) == str(clip)  # there already
    assert record.user == "alice" and record.frames_done == 15 and len(record.chunks) == 3
    assert [j.id for j in alice.list_jobs(state="completed")][:1] == [job]
    with pytest.raises(JobConflict, match=f"^job {job} is already completed; nothing to cancel$"):
        alice.cancel_job(job)
    billing = alice.get_billing()
    assert isinstance(billing, Billing) and job in billing.jobs
    # Another user's key: the job does not exist for it.
    for attempt in (bob.get_job_status, bob.cancel_job, bob.output_url):
        with pytest.raises(JobNotFound, match=f"^no job '{job}'"):
            attempt(job)
    with pytest.raises(JobNotFound):
        bob.download(job, str(tmp_path / "stolen.mp4"))
    assert not (tmp_path / "stolen.mp4").exists()
    assert job not in bob.get_billing().jobs
    # What the service warns about a document reaches the caller (the job queues all the same).
    warned = colour_project(0.2, "#208040")
    warned["settings"]["frame_rate"] = 25
    alice.submit_job(warned, output=str(tmp_path / "warned.mp4"), local_delivery=False)
    assert [w.split(":")[0] for w in alice.last_warnings] == ["settings.frame_rate"]


@pytest.mark.timeout(120)
def test_operator_results_are_typed_and_user_keys_are_refused(
    operator: HTTPRenderingAPI, alice: HTTPRenderingAPI
) -> None:
    status = operator.get_cluster_status()
    assert isinstance(status, ClusterStatus) and status.slots >= 1
    assert all(isinstance(pool, PoolStatus) for pool in status.pools)
    assert isinstance(operator.get_metrics(), RenderMetrics)
    nodes = operator.get_node_metrics()
    assert nodes and all(isinstance(node, NodeMetrics) for node in nodes)
    assert operator.get_pools() == status.pools
    for call in (alice.get_cluster_status, alice.get_metrics, alice.pause_all, alice.cancel_all):
        with pytest.raises(PermissionDenied):
            call()


def test_a_bad_key_is_refused_in_one_line(live_server: str) -> None:
    with HTTPRenderingAPI(live_server, "cr_nobody_0000", settings=Settings()) as api:
        with pytest.raises(AuthenticationFailed) as info:
            api.get_job_status("abc")
    assert "\n" not in str(info.value) and "0000" not in str(info.value)


def test_the_services_refusals_keep_their_class(alice: HTTPRenderingAPI) -> None:
    with pytest.raises(CostLimitExceeded, match="^estimated cost .* is above the limit"):
        alice.submit_job(colour_project(0.5), output="x.mp4", max_cost=1e-9)
    with pytest.raises(JobNotFound, match="^no job 'nope'"):
        alice.get_job_status("nope")


@pytest.mark.timeout(180)
def test_events_arrive_in_order_and_resume_after_any_of_them(alice: HTTPRenderingAPI) -> None:
    job = alice.submit_job(colour_project(0.4, "#884422"), output="e.mp4", chunk_frames=4)
    delivered: list[dict[str, Any]] = []
    done = threading.Event()

    def collect(event: dict[str, Any]) -> None:
        delivered.append(event)
        if event["event"] == "completed":
            done.set()

    subscription = alice.on_progress_update(collect, job)
    try:
        assert done.wait(120), [e["event"] for e in delivered]
    finally:
        subscription.stop()
    assert not subscription.alive() and subscription.error is None
    names = [e["event"] for e in delivered]
    work = [name for name in names if name != "state"]
    assert work[0] == "planned" and names[-1] == "completed"
    assert work.count("chunk_done") == 3
    states = [e["state"] for e in delivered if e["event"] == "state"]
    assert states[-1] == "completed" and "rendering" in states
    ids = [tuple(map(int, str(e["event_id"]).split("-"))) for e in delivered]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(e["job"] == job and "status" in e for e in delivered)
    # The stream replays from any id: what a client that dropped there gets.
    replayed = list(alice.events(job, after=str(delivered[2]["event_id"])))
    assert [e["event_id"] for e in replayed] == [e["event_id"] for e in delivered[3:]]
    # (each replayed event's status summary is the job's now: it ended)
    again = list(alice.events(job))
    assert [(e["event_id"], e["event"]) for e in again] == [
        (e["event_id"], e["event"]) for e in delivered
    ]
    assert {e["status"]["state"] for e in again} == {"completed"}


def test_events_need_a_job(alice: HTTPRenderingAPI) -> None:
    with pytest.raises(RenderError, match="pass job_id"):
        alice.on_progress_update(print)
    with pytest.raises(JobNotFound):
        next(alice.events("nope"))


@pytest.mark.parametrize("api_app", ["s3"], indirect=True)
def test_presigned_uploads_go_straight_to_storage(
    api_app: FastAPI, alice: HTTPRenderingAPI, media_project: Path, tmp_path: Path
) -> None:
    # The service over S3 storage (moto): the client's asset bytes go to the pre-signed URL
    # it hands out, never through the service.
    video = (media_project.parent / "media" / "a.mp4").read_bytes()
    name = hashlib.sha256(video).hexdigest() + ".mp4"
    estimate = alice.estimate_options(str(media_project))
    assert isinstance(estimate, JobEstimate) and estimate.frames == 6
    assert alice.last_transfer is not None and alice.last_transfer.uploaded == [name]
    alice.estimate_options(str(media_project))
    assert alice.last_transfer.uploaded == []
    storage = open_storage(api_app.state.settings.storage_url)
    storage.get_file(f"assets/{name}", str(tmp_path / "stored"))
    assert (tmp_path / "stored").read_bytes() == video
    assert "POST /v1/assets/missing" in api_app.state.received
    assert not [line for line in api_app.state.received if line.startswith("PUT ")]


def test_unreachable_storage_is_named_by_its_origin_only(media_project: Path) -> None:
    service = FakeService(presign=True)

    def storage_down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with client_of(service) as api:
        api._plain = httpx.Client(transport=httpx.MockTransport(storage_down))
        with pytest.raises(ServiceUnreachable) as info:
            api.submit_job(str(media_project), output="o.mp4")
    assert str(info.value) == (
        "cannot reach the storage at https://bucket.test the service sent this client to: "
        "connection refused"
    )
    assert service.submitted == []


@pytest.mark.timeout(120)
def test_stopping_a_subscription_wakes_a_quiet_stream(
    alice: HTTPRenderingAPI, operator: HTTPRenderingAPI
) -> None:
    operator.pause_all()  # the job waits in the queue: its stream has nothing to send
    try:
        job = alice.submit_job(colour_project(0.2), output="quiet.mp4")
        seen: list[str] = []
        subscription = alice.on_progress_update(lambda e: seen.append(e["event"]), job)
        time.sleep(1.0)
        began = time.monotonic()
        subscription.stop()
        assert time.monotonic() - began < 3.0 and not subscription.alive()
        assert subscription.error is None
        assert alice.cancel_job(job).state is JobState.CANCELLED
    finally:
        operator.resume_all()


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), -1.0])
def test_a_max_cost_that_is_no_amount_is_refused_as_over_redis(limit: float) -> None:
    # Given a client of a service (nothing needs to answer: the check comes first)
    url = f"http://127.0.0.1:{free_port()}"
    doc = colour_project(0.5)
    with HTTPRenderingAPI(url, KEY, settings=Settings(), timeout=5) as api:
        # When the ceiling is NaN, infinite or negative, Then the same RenderError as over
        # Redis: NaN and infinity are not JSON (httpx raised ValueError mid-request).
        for call in (
            lambda: api.submit_job(doc, output="x.mp4", max_cost=limit),
            lambda: api.estimate_options(doc, max_cost=limit),
        ):
            with pytest.raises(RenderError, match="must be a number of dollars, 0 or more"):
                call()
