"""`cloudrender submit / status / cancel / estimate` against a running cluster (DESIGN 4.3)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from common.names import QUEUE_RENDER
from orchestrator import keys
from orchestrator.job_store import JobStore
from tests.helpers import CLI, colour_project
from tests.media import project, solid, video_track, write_project

pytestmark = pytest.mark.timeout(300)


def on_cluster(cli: CLI, cluster: str, storage: Path) -> CLI:
    """The command line pointed at the test cluster's broker and at ``storage``."""
    return cli.with_env(CLOUDRENDER_BROKER_URL=cluster, CLOUDRENDER_STORAGE_URL=f"file://{storage}")


def test_submit_status_cancel_estimate(cli: CLI, cluster: str, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    run = on_cluster(cli, cluster, storage)
    doc = colour_project(1, "#123456")
    path = write_project(tmp_path / "p.json", doc)
    out = tmp_path / "out.mp4"
    submitted = run("submit", str(path), "-o", str(out), "--priority", "high")
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().splitlines()[-1]
    watched = run("status", job, "--watch")
    assert watched.returncode == 0, watched.stderr
    assert "completed" in watched.stdout and "30/30 frames" in watched.stdout
    status = json.loads(run("status", job, "--json").stdout)
    assert status["state"] == "completed" and status["frames_done"] == 30
    assert out.stat().st_size > 0
    fetched = tmp_path / "fetched.mp4"
    got = run("download", job, "-o", str(fetched))
    assert got.returncode == 0 and fetched.read_bytes() == out.read_bytes()
    # A mistyped directory is refused by name, as `render -o` refuses it, not created
    missing = tmp_path / "no-such-dir"
    refused = run("download", job, "-o", str(missing / "fetched.mp4"))
    assert refused.returncode == 2 and not missing.exists()
    assert refused.stderr.strip() == f"error: output directory does not exist: {missing}"
    url = run("download", job, "--url").stdout.strip()
    assert url == f"file://{storage}/jobs/{job}/output.mp4"
    again = run("cancel", job)
    assert again.returncode == 2 and again.stderr.strip() == (
        f"error: job {job} is already completed; nothing to cancel"
    )
    unknown = run("status", "nope")
    assert unknown.returncode == 2 and "no job 'nope'" in unknown.stderr
    quote = json.loads(run("estimate", str(path), "--json", "--no-cache").stdout)
    assert quote["frames"] == 30 and quote["cost"] > 0 and quote["reused_chunks"] == 0
    # Rendered once, the project is in the segment cache: a re-render costs only its merge.
    cached = json.loads(run("estimate", str(path), "--json").stdout)
    assert cached["reused_chunks"] == cached["chunks"] and cached["cost"] < quote["cost"]


def test_max_cost_refusal_is_one_line(cli: CLI, cluster: str, tmp_path: Path) -> None:
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("#123456")}])]
    )
    path = write_project(tmp_path / "p.json", doc)
    result = on_cluster(cli, cluster, tmp_path)(
        "submit",
        str(path),
        "-o",
        str(tmp_path / "x.mp4"),
        "--max-cost",
        "0.0000001",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "above the limit" in lines[0]
    # NaN compares false with every cost (no ceiling at all); a negative one is no amount.
    for limit in ("nan", "inf", "-1"):
        result = on_cluster(cli, cluster, tmp_path)(
            "submit", str(path), "-o", str(tmp_path / "x.mp4"), "--max-cost", limit
        )
        assert result.returncode == 2
        assert "must be a number of dollars, 0 or more" in result.stderr, result.stderr
    time.sleep(0.1)
    assert not (tmp_path / "x.mp4").exists()


def test_missing_broker_or_storage_is_said_in_command_line_words(cli: CLI, tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.json", colour_project(0.5))
    bare = cli.with_env(CLOUDRENDER_BROKER_URL=None, CLOUDRENDER_STORAGE_URL=None)
    # Nothing listens there: the storage is checked before anything talks to Redis.
    submit = bare("submit", str(path), "-o", "x.mp4", "--broker", "redis://127.0.0.1:1/0")
    assert submit.returncode == 2
    assert submit.stderr.startswith(
        "error: no storage: pass --storage URL or set CLOUDRENDER_STORAGE_URL"
    )
    status = bare("status", "abc")
    assert status.returncode == 2
    assert status.stderr.startswith("error: no broker: pass --broker URL or set CLOUDRENDER_")
    for done in (submit, status):
        assert len(done.stderr.strip().splitlines()) == 1
        assert "storage_url" not in done.stderr and "broker_url" not in done.stderr


def test_storage_option_takes_the_place_of_the_variable(
    cli: CLI, cluster: str, tmp_path: Path
) -> None:
    storage = (tmp_path / "storage").as_uri()
    run = cli.with_env(CLOUDRENDER_BROKER_URL=cluster, CLOUDRENDER_STORAGE_URL=None)
    path = write_project(tmp_path / "p.json", colour_project(0.5, "#654321"))
    out = tmp_path / "out.mp4"
    submitted = run("submit", str(path), "-o", str(out), "--storage", storage)
    assert submitted.returncode == 0, submitted.stderr
    assert "no orchestrator" not in submitted.stderr  # the test cluster's worker plans too
    job = submitted.stdout.strip().splitlines()[-1]
    watched = run("status", job, "--watch", "--storage", storage)
    assert watched.returncode == 0 and "completed" in watched.stdout, watched.stderr
    assert out.stat().st_size > 0
    url = run("download", job, "--url", "--storage", storage)
    assert url.stdout.strip() == f"{storage}/jobs/{job}/output.mp4"


def test_submit_says_when_no_orchestrator_would_plan_the_job(
    cli: CLI, redis_url: str, tmp_path: Path
) -> None:
    store = JobStore.from_url(redis_url)
    now = time.time()
    beat = {"name": "render@x", "concurrency": 2, "since": now, "time": now}
    store.redis.set(keys.node("render@x"), json.dumps({**beat, "queues": [QUEUE_RENDER]}), ex=60)
    path = write_project(tmp_path / "p.json", colour_project(0.5))
    storage = (tmp_path / "storage").as_uri()
    out = str(tmp_path / "x.mp4")
    done = cli("submit", str(path), "-o", out, "--broker", redis_url, "--storage", storage)
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip().splitlines()[-1]
    assert "no orchestrator is running on this cluster" in done.stderr
    assert "`cloudrender orchestrator --broker URL`" in done.stderr
    assert store.get(job).state.value == "queued"  # safe in the queue until one starts


def test_submit_reads_a_deadline_as_estimate_does_and_refuses_a_past_one(
    cli: CLI, redis_url: str, tmp_path: Path
) -> None:
    """`estimate --deadline +30m` worked and `submit --deadline +2h` did not; a deadline already
    past was taken without a word and made the job urgent."""
    run = on_cluster(cli, redis_url, tmp_path / "storage")
    path = write_project(tmp_path / "p.json", colour_project(1, "#123456"))
    out = str(tmp_path / "out.mp4")
    before = time.time()
    submitted = run("submit", str(path), "-o", out, "--deadline", "+2h")
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().splitlines()[-1]
    deadline = JobStore.from_url(redis_url).get(job).deadline
    assert deadline is not None and before + 7200 <= deadline <= time.time() + 7200

    past = run("submit", str(path), "-o", out, "--deadline", "2026-01-01T18:00:00Z")
    assert past.returncode == 2, past.stderr
    assert past.stderr.strip() == (
        "error: deadline '2026-01-01T18:00:00Z' has passed (2026-01-01T18:00:00Z is before "
        "now); give a future time (ISO 8601, UTC if no zone) or one from now (+2h)"
    )
    bad = run("submit", str(path), "-o", out, "--deadline", "+2w")
    assert bad.returncode == 2 and "write +N with s, m, h or d" in bad.stderr
    assert JobStore.from_url(redis_url).recent() == [job]  # neither refusal stored a job


def test_chunk_frames_off_the_keyframe_grid_is_rounded_and_said(
    cli: CLI, cluster: str, tmp_path: Path
) -> None:
    """--chunk-frames 60 with keyframes every 48 frames made chunks of 48 and 72 frames without
    a word: they are whole keyframe intervals, and submit says which length it took."""
    run = on_cluster(cli, cluster, tmp_path / "storage")
    doc = colour_project(4, "#123456")
    doc["settings"]["export"]["keyframe_interval"] = 48
    path = write_project(tmp_path / "p.json", doc)
    submitted = run("submit", str(path), "-o", str(tmp_path / "out.mp4"), "--chunk-frames", "60")
    assert submitted.returncode == 0, submitted.stderr
    assert "note: --chunk-frames 60 is rounded to 48: every chunk starts on a keyframe" in (
        submitted.stderr
    )
    job = submitted.stdout.strip().splitlines()[-1]
    assert run("status", job, "--watch").returncode == 0
    chunks = json.loads(run("status", job, "--json").stdout)["chunks"]
    assert [c["end"] - c["start"] for c in chunks] == [48, 48, 24]
    # A length already on the grid is taken as it is, without a note.
    on_grid = run("submit", str(path), "-o", str(tmp_path / "b.mp4"), "--chunk-frames", "96")
    assert on_grid.returncode == 0 and "--chunk-frames" not in on_grid.stderr
    assert run("status", on_grid.stdout.strip().splitlines()[-1], "--watch").returncode == 0


def test_status_against_a_dead_broker_fails_fast_with_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only status waited out the job store's whole patience (21 s) to say Redis is
    down; it tries for STATUS_PATIENCE seconds, then says so on one line and exits 3."""
    from cli.job_commands import STATUS_PATIENCE
    from cli.main import main
    from orchestrator import store_retry

    class FakeTime:
        now, slept = 1000.0, 0.0

        def monotonic(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.slept += seconds
            self.now += seconds

    fake = FakeTime()
    monkeypatch.setattr(store_retry, "time", fake)
    monkeypatch.setenv("CLOUDRENDER_REDIS_PATIENCE", "20")
    assert main(["status", "abcdabcdabcdabcd", "--broker", "redis://127.0.0.1:1/0"]) == 3
    assert fake.slept <= STATUS_PATIENCE
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: cannot talk to the cluster's Redis at redis://127.0.0.1:1/0")
