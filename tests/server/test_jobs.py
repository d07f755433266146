"""Jobs over HTTP on a real embedded cluster: submit, status, list, cancel, download (whole and
by Range), estimate; isolation between users; media only as uploaded assets; quotas."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import opentimelineio as otio
import pytest
import redis
from fastapi.testclient import TestClient

from orchestrator.api import CloudRenderingAPI
from orchestrator.api_estimate import JobEstimate
from orchestrator.api_keys import KeyStore
from orchestrator.budget_rules import Scope
from orchestrator.budgets import clear_budget, set_budget
from orchestrator.job_record import JobRecord, JobState
from orchestrator.wire import from_wire
from tests.helpers import colour_project
from tests.media import decode_rgb, make_video, project, video_track
from tests.server.conftest import ServerCluster, bearer

pytestmark = pytest.mark.timeout(300)


def _submit(client: TestClient, key: str, doc: Any, **extra: Any) -> httpx.Response:
    answer: httpx.Response = client.post(
        "/v1/jobs", json={"project": doc, **extra}, headers=bearer(key)
    )
    return answer


def _wait(client: TestClient, key: str, job_id: str, timeout: float = 150) -> JobRecord:
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"/v1/jobs/{job_id}", headers=bearer(key))
        assert answer.status_code == 200, answer.text
        record = from_wire(JobRecord, answer.json())
        if record.state.finished or time.monotonic() > deadline:
            return record
        time.sleep(0.2)


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert "\n" not in body["error"]
    return str(body["error"])


def _uploaded_video(storage_dir: Path, tmp_path: Path) -> tuple[Path, str]:
    """A 15-frame video, and its sha256, put in storage as an uploaded asset would be."""
    source = make_video(tmp_path / "src.mp4", frames=15, size=(320, 180))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    (storage_dir / "assets").mkdir(exist_ok=True)
    shutil.copy(source, storage_dir / "assets" / f"{digest}.mp4")
    return source, digest


def test_the_life_of_a_job_over_http(
    client: TestClient, user_key: str, other_user_key: str, operator_key: str, storage_dir: Path
) -> None:
    submitted = _submit(client, user_key, colour_project(1.0), chunk_frames=15, output_name="a.mp4")
    assert submitted.status_code == 201, submitted.text
    job_id = submitted.json()["id"]
    estimate = from_wire(JobEstimate, submitted.json()["estimate"])
    assert estimate.frames == 30 and estimate.chunks == 2
    record = _wait(client, user_key, job_id)
    assert record.state is JobState.COMPLETED, record.error
    assert (record.user, record.output, record.frames_done) == ("alice", "a.mp4", 30)
    assert [c.state.value for c in record.chunks] == ["done", "done"]

    video = client.get(f"/v1/jobs/{job_id}/output", headers=bearer(user_key))
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert 'filename="a.mp4"' in video.headers["content-disposition"]
    assert video.headers["accept-ranges"] == "bytes"
    stored = (storage_dir / "jobs" / job_id / "output.mp4").read_bytes()
    assert video.content == stored
    part = client.get(
        f"/v1/jobs/{job_id}/output", headers={"Range": "bytes=100-199", **bearer(user_key)}
    )
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(stored)}"
    assert part.content == stored[100:200]
    for header, status in (
        ("bytes=5-2,a-b", 400),
        (f"bytes={len(stored)}-", 416),
        ("bytes 0-5", 400),
    ):
        refused = client.get(
            f"/v1/jobs/{job_id}/output", headers={"Range": header, **bearer(user_key)}
        )
        assert refused.status_code == status and "Range" in refused.json()["error"]
    # A range in another unit is ignored (RFC 9110): the whole video
    other = client.get(
        f"/v1/jobs/{job_id}/output", headers={"Range": "items=0-5", **bearer(user_key)}
    )
    assert other.status_code == 200 and other.content == stored

    listed = client.get("/v1/jobs", headers=bearer(user_key)).json()["jobs"]
    assert job_id in [j["id"] for j in listed] and listed[0]["chunks"] == []
    done = client.get("/v1/jobs?state=completed", headers=bearer(user_key)).json()["jobs"]
    assert job_id in [j["id"] for j in done]
    assert client.get("/v1/jobs?state=failed", headers=bearer(user_key)).json()["jobs"] == []

    # Another user: the job does not exist, in the very words of a job that never did.
    unknown = _error(client.get("/v1/jobs/0123456789abcdef", headers=bearer(other_user_key)), 404)
    for method, path in (
        ("GET", f"/v1/jobs/{job_id}"),
        ("POST", f"/v1/jobs/{job_id}/cancel"),
        ("GET", f"/v1/jobs/{job_id}/output"),
    ):
        refused = client.request(method, path, headers=bearer(other_user_key))
        assert _error(refused, 404) == unknown.replace("0123456789abcdef", job_id)
    theirs = client.get("/v1/jobs", headers=bearer(other_user_key)).json()["jobs"]
    assert job_id not in [j["id"] for j in theirs]
    # The operator sees everyone's jobs.
    assert client.get(f"/v1/jobs/{job_id}", headers=bearer(operator_key)).status_code == 200
    everyone = client.get("/v1/jobs", headers=bearer(operator_key)).json()["jobs"]
    assert job_id in [j["id"] for j in everyone]
    # Finished: nothing to cancel.
    assert "already completed" in _error(
        client.post(f"/v1/jobs/{job_id}/cancel", headers=bearer(user_key)), 409
    )
    # Its stored video gone (expired, removed): not the client's mistake, so not a 400
    (storage_dir / "jobs" / job_id / "output.mp4").unlink()
    gone = client.get(f"/v1/jobs/{job_id}/output", headers=bearer(user_key))
    assert "no longer in storage" in _error(gone, 410)


def test_the_download_streams_from_a_real_socket_with_ranges(
    client: TestClient, live_server: str, user_key: str, storage_dir: Path, tmp_path: Path
) -> None:
    job_id = _submit(client, user_key, colour_project(0.5, "#ff8800")).json()["id"]
    assert _wait(client, user_key, job_id).state is JobState.COMPLETED
    stored = (storage_dir / "jobs" / job_id / "output.mp4").read_bytes()
    out = tmp_path / "video.mp4"
    with httpx.Client(base_url=live_server, headers=bearer(user_key), timeout=30) as http:
        with http.stream("GET", f"/v1/jobs/{job_id}/output") as answer:
            assert answer.status_code == 200
            with out.open("wb") as handle:
                for block in answer.iter_bytes():
                    handle.write(block)
        tail = http.get(f"/v1/jobs/{job_id}/output", headers={"Range": "bytes=-64"})
    assert out.read_bytes() == stored
    assert len(decode_rgb(out)) == 15
    assert tail.status_code == 206 and tail.content == stored[-64:]


def test_an_uploaded_asset_renders_and_local_paths_are_refused(
    client: TestClient, user_key: str, storage_dir: Path, tmp_path: Path
) -> None:
    source, digest = _uploaded_video(storage_dir, tmp_path)

    def doc(path: str) -> dict[str, Any]:
        clip = {"id": "shot", "start_time": 0, "end_time": 0.5, "source": {"File": path}}
        return project([video_track("v", [clip])], settings={"export": {"preset": "ultrafast"}})

    for local in (str(source), "src.mp4", "../../etc/passwd", "/etc/passwd"):
        message = _error(_submit(client, user_key, doc(local)), 400)
        assert message.startswith("clip 'shot': media") and "not an uploaded asset" in message
    missing = _error(_submit(client, user_key, doc("asset:sha256:" + "0" * 64 + ".mp4")), 400)
    assert "clip 'shot'" in missing and "is not in storage; upload it first" in missing

    answer = _submit(client, user_key, doc(f"asset:sha256:{digest}.mp4"))
    assert answer.status_code == 201, answer.text
    record = _wait(client, user_key, answer.json()["id"])
    assert record.state is JobState.COMPLETED, record.error
    assert record.frames_done == 15


@pytest.mark.usefixtures("paused")
def test_cancel_and_download_refuse_what_the_state_does_not_allow(
    client: TestClient, user_key: str
) -> None:
    job_id = _submit(client, user_key, colour_project(1.0)).json()["id"]
    assert "not completed" in _error(
        client.get(f"/v1/jobs/{job_id}/output", headers=bearer(user_key)), 409
    )
    cancelled = client.post(f"/v1/jobs/{job_id}/cancel", headers=bearer(user_key))
    assert cancelled.status_code == 200, cancelled.text
    record = from_wire(JobRecord, cancelled.json())
    assert record.state is JobState.CANCELLED and "cancelled by alice" in (record.error or "")
    again = _error(client.post(f"/v1/jobs/{job_id}/cancel", headers=bearer(user_key)), 409)
    assert again == f"job {job_id} is already cancelled; nothing to cancel"
    listed = client.get("/v1/jobs?state=cancelled", headers=bearer(user_key)).json()["jobs"]
    assert job_id in [j["id"] for j in listed]


@pytest.mark.usefixtures("paused")
def test_a_key_with_a_job_quota_waits_for_a_slot(client: TestClient, key_store: KeyStore) -> None:
    _, key = key_store.create("hank", max_concurrent_jobs=1)
    first = _submit(client, key, colour_project(1.0))
    assert first.status_code == 201
    refused = _submit(client, key, colour_project(1.0))
    assert "may have 1 unfinished job(s) at once" in _error(refused, 429)
    assert int(refused.headers["retry-after"]) > 0
    client.post(f"/v1/jobs/{first.json()['id']}/cancel", headers=bearer(key))
    assert _submit(client, key, colour_project(1.0)).status_code == 201


@pytest.mark.usefixtures("paused")
def test_a_project_bound_key_submits_only_to_its_project(
    client: TestClient, key_store: KeyStore
) -> None:
    _, key = key_store.create("ivy", project="film")
    refused = _submit(client, key, colour_project(1.0), project_name="other")
    assert "bound to project 'film'" in _error(refused, 403)
    job_id = _submit(client, key, colour_project(1.0)).json()["id"]
    record = from_wire(JobRecord, client.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json())
    assert (record.project, record.user) == ("film", "ivy")


@pytest.mark.usefixtures("paused")
def test_a_key_not_bound_to_a_project_cannot_bill_one_that_others_are_bound_to(
    client: TestClient, key_store: KeyStore
) -> None:
    """Or any user could spend (and exhaust) another tenant's project budget."""
    key_store.create("kim", project="studio-k")
    _, outsider = key_store.create("lou")
    refused = _submit(client, outsider, colour_project(1.0), project_name="studio-k")
    assert "belongs to the keys bound to it" in _error(refused, 403)
    # A project nobody is bound to is still the submitter's to name
    assert (
        _submit(client, outsider, colour_project(1.0), project_name="lou-tests").status_code == 201
    )


def test_a_spent_budget_refuses_new_jobs_until_the_day_ends(
    client: TestClient, key_store: KeyStore, server_cluster: ServerCluster
) -> None:
    _, key = key_store.create("jill")
    budgets = redis.Redis.from_url(server_cluster.broker_url, decode_responses=True)
    set_budget(budgets, Scope.USER, "jill", daily=0.000001)
    try:
        refused = _submit(client, key, colour_project(1.0))
        assert "budget" in _error(refused, 429)
        assert 0 < int(refused.headers["retry-after"]) <= 86400
    finally:
        clear_budget(budgets, Scope.USER, "jill")
        budgets.close()


def test_the_submit_answer_says_when_no_orchestrator_plans_jobs(
    client: TestClient, user_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over Redis `submit` notes that nothing plans the job; an HTTP client heard nothing and
    watched its job sit queued for ever."""
    with_one = _submit(client, user_key, colour_project(0.5))
    assert with_one.status_code == 201, with_one.text
    assert not any("orchestrator" in w for w in with_one.json()["warnings"])
    # The cluster's orchestrator stops heartbeating: no live node consumes its queue.
    monkeypatch.setattr(CloudRenderingAPI, "orchestrator_running", lambda self: False)
    without = _submit(client, user_key, colour_project(0.5))
    assert without.status_code == 201, without.text
    assert without.json()["warnings"] == [
        "no orchestrator is running on this cluster; the job stays queued until one starts "
        "(`cloudrender orchestrator --broker URL`)"
    ]
    for answer in (with_one, without):
        client.post(f"/v1/jobs/{answer.json()['id']}/cancel", headers=bearer(user_key))


def test_the_submit_answer_carries_the_projects_warnings(client: TestClient, user_key: str) -> None:
    """A caller without the CLI hears what `validate` would warn about the document."""
    plain = _submit(client, user_key, colour_project(0.5))
    assert plain.status_code == 201, plain.text
    assert plain.json()["warnings"] == []
    doc = colour_project(0.5)
    doc["settings"]["frame_rate"] = 25  # the editor's legacy field, overridden by timeline.fps
    warned = _submit(client, user_key, doc)
    assert warned.status_code == 201, warned.text
    (warning,) = warned.json()["warnings"]
    assert warning.startswith("settings.frame_rate: 25 differs from timeline.fps 30")
    # Whoever looks at the job later (a dashboard, another script) sees them in its status
    status = client.get(f"/v1/jobs/{warned.json()['id']}", headers=bearer(user_key))
    assert status.status_code == 200 and status.json()["notes"] == [warning]


def test_the_submit_answer_says_chunk_frames_was_rounded_to_the_keyframe_grid(
    client: TestClient, user_key: str
) -> None:
    """chunk_frames 60 with keyframes every 48 frames was planned as other chunks unsaid."""
    doc = colour_project(2.0)
    answer = _submit(client, user_key, doc, chunk_frames=60, settings={"keyframe_interval": 48})
    assert answer.status_code == 201, answer.text
    assert answer.json()["warnings"] == [
        "chunk_frames 60 is rounded to 48: every chunk starts on a keyframe, and "
        "settings.export.keyframe_interval puts one every 48 frames"
    ]
    record = _wait(client, user_key, answer.json()["id"])
    assert [c.end - c.start for c in record.chunks] == [48, 12]
    on_grid = _submit(client, user_key, doc, chunk_frames=48, settings={"keyframe_interval": 48})
    assert on_grid.status_code == 201 and on_grid.json()["warnings"] == []


def test_estimate_answers_a_typed_estimate(client: TestClient, user_key: str) -> None:
    answer = client.post(
        "/v1/estimate",
        json={"project": colour_project(2.0), "chunk_frames": 20},
        headers=bearer(user_key),
    )
    assert answer.status_code == 200, answer.text
    estimate = from_wire(JobEstimate, answer.json())
    assert (estimate.frames, estimate.chunks) == (60, 3)
    assert estimate.options and estimate.options[0].cost.p50 >= 0


def _fcp_xml(media_url: str, frames: int) -> str:
    """A Final Cut Pro 7 XML of one clip, as Premiere writes its media: a path on its machine."""
    rt = otio.opentime.RationalTime
    clip = otio.schema.Clip(
        name="shot",
        media_reference=otio.schema.ExternalReference(
            target_url=media_url, available_range=otio.opentime.TimeRange(rt(0, 30), rt(30, 30))
        ),
        source_range=otio.opentime.TimeRange(rt(0, 30), rt(frames, 30)),
    )
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video, children=[clip])
    tl = otio.schema.Timeline(name="cut", tracks=[track], global_start_time=rt(0, 30))
    text: str = otio.adapters.write_to_string(tl, "fcp_xml")
    return text


def test_an_editors_export_renders_with_its_media_relinked_to_uploaded_assets(
    client: TestClient, user_key: str, storage_dir: Path, tmp_path: Path
) -> None:
    _, digest = _uploaded_video(storage_dir, tmp_path)
    xml = _fcp_xml("file:///Volumes/Media/src.mp4", 12)
    # Without a relink the editor's path is refused, naming the clip
    message = _error(_submit(client, user_key, xml), 400)
    assert "'shot'" in message and "not an uploaded asset" in message
    # A media map that is not asset references is refused
    wrong = _error(_submit(client, user_key, xml, media={"src.mp4": "/Volumes/Media/src.mp4"}), 400)
    assert "media['src.mp4']" in wrong
    answer = _submit(
        client,
        user_key,
        xml,
        media={"src.mp4": f"asset:sha256:{digest}.mp4"},
        settings={"preset": "ultrafast"},
    )
    assert answer.status_code == 201, answer.text
    record = _wait(client, user_key, answer.json()["id"])
    assert record.state is JobState.COMPLETED, record.error
    assert record.frames_done == 12


def test_an_unknown_text_project_is_one_clear_error(client: TestClient, user_key: str) -> None:
    message = _error(_submit(client, user_key, "<html>not an edit</html>"), 400)
    assert "FCP 7 XML, FCPXML or EDL" in message
    broken = _error(_submit(client, user_key, "<xmeml version='4'><sequence>"), 400)
    assert "not a readable Final Cut Pro 7 XML file" in broken and "/tmp" not in broken


def test_an_edit_too_long_to_read_over_http_is_refused_before_it_is_read(
    client: TestClient, user_key: str
) -> None:
    """Read through OTIO, a 14 MB EDL took 40 s of the server's CPU and a gigabyte."""
    import time

    from server.projects import MAX_EXPORT_EVENTS

    lines = ["TITLE: long", "FCM: NON-DROP FRAME", ""]
    for n in range(MAX_EXPORT_EVENTS + 1):
        tc = f"00:{n // 1500 % 60:02d}:{n // 25 % 60:02d}:{n % 25:02d}"
        lines.append(f"{n + 1:06d}  AX       V     C        {tc} {tc} {tc} {tc}")
    began = time.monotonic()
    answer = client.post(
        "/v1/estimate", json={"project": "\n".join(lines)}, headers=bearer(user_key)
    )
    message = _error(answer, 400)
    assert f"holds more than {MAX_EXPORT_EVENTS} events" in message and "/tmp" not in message
    assert time.monotonic() - began < 5


def test_an_edl_is_estimated_with_its_clips_relinked_by_name(
    client: TestClient, user_key: str, storage_dir: Path, tmp_path: Path
) -> None:
    _, digest = _uploaded_video(storage_dir, tmp_path)
    rt = otio.opentime.RationalTime
    track = otio.schema.Track()
    for name, frames in (("A001_C002", 49), ("A001_C003", 74)):  # timecodes reach frame 24
        length = otio.opentime.TimeRange(rt(0, 25), rt(frames, 25))
        track.append(otio.schema.Clip(name=name, source_range=length))
    edl: str = otio.adapters.write_to_string(
        otio.schema.Timeline(tracks=[track]), "cmx_3600", rate=25
    )
    ref = f"asset:sha256:{digest}.mp4"
    # An EDL's media say their start timecode and rate, which the service does not read.
    declared = {"asset": ref, "timecode": None, "fps": 25}
    answer = client.post(
        "/v1/estimate",
        json={"project": edl, "media": {"A001_C002.mov": declared, "A001_C003": declared}},
        headers=bearer(user_key),
    )
    assert answer.status_code == 200, answer.text
    assert from_wire(JobEstimate, answer.json()).frames == 123  # read at its 25 fps


def test_an_estimate_over_http_does_not_price_the_chunks_the_segment_cache_holds(
    client: TestClient, user_key: str, storage_dir: Path, tmp_path: Path
) -> None:
    _, digest = _uploaded_video(storage_dir, tmp_path)
    ref = f"asset:sha256:{digest}.mp4"
    clip = {"id": "shot", "source": {"File": ref}, "start_time": 0, "end_time": 0.5}
    doc = project([video_track("v", [clip])], settings={"export": {"preset": "ultrafast"}})

    def estimate() -> JobEstimate:
        answer = client.post(
            "/v1/estimate", json={"project": doc, "chunk_frames": 5}, headers=bearer(user_key)
        )
        assert answer.status_code == 200, answer.text
        return from_wire(JobEstimate, answer.json())

    before = estimate()
    assert (before.chunks, before.reused_chunks) == (3, 0)
    answer = _submit(client, user_key, doc, chunk_frames=5)
    assert answer.status_code == 201, answer.text
    record = _wait(client, user_key, answer.json()["id"])
    assert record.state is JobState.COMPLETED, record.error
    # The uploaded media is known by its hash: the same project again is all in the cache.
    after = estimate()
    assert (after.chunks, after.reused_chunks) == (3, 3)
    assert after.options[0].cost.p50 < before.options[0].cost.p50


@pytest.mark.usefixtures("paused")
@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({}, "video.mov"),  # the project's own format, not MP4
        ({"settings": {"container": "mkv"}}, "video.mkv"),
        ({"output_name": "cut.mov"}, "cut.mov"),
    ],
)
def test_the_download_is_named_after_the_container_it_holds(
    client: TestClient, user_key: str, extra: dict[str, Any], named: str
) -> None:
    doc = colour_project(1.0)
    doc.setdefault("settings", {}).setdefault("export", {})["container"] = "mov"
    submitted = _submit(client, user_key, doc, **extra)
    assert submitted.status_code == 201, submitted.text
    record = client.get(f"/v1/jobs/{submitted.json()['id']}", headers=bearer(user_key)).json()
    assert record["output"] == named


def test_an_output_name_that_contradicts_the_container_is_refused(
    client: TestClient, user_key: str
) -> None:
    answer = _submit(
        client, user_key, colour_project(1.0), output_name="a.mp4", settings={"container": "mkv"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == (
        "output_name 'a.mp4' says .mp4 but settings.container asks for mkv: make them agree "
        "(or leave one out)"
    )
