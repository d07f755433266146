"""``cloudrender submit|status|cancel|download|estimate --api URL``: the job commands through
the HTTP service (an API key, no Redis credentials), run as users run them (a subprocess),
against a real uvicorn over a real embedded cluster. Same output and exit statuses as over
Redis."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import CLI, colour_project, file_clip
from tests.media import decode_rgb, make_video, project, video_track, write_project
from tests.server import conftest as server_fixtures

pytestmark = pytest.mark.timeout(300)

# The service's fixtures (tests/server/conftest.py), found by name.
server_cluster = server_fixtures.server_cluster
key_store = server_fixtures.key_store
user_key = server_fixtures.user_key
other_user_key = server_fixtures.other_user_key
api_app = server_fixtures.api_app
live_server = server_fixtures.live_server


@pytest.fixture
def api_cli(cli: CLI, live_server: str, user_key: str) -> CLI:
    """The command line of user alice, pointed at the service by the environment only."""
    return cli.with_env(
        CLOUDRENDER_API_URL=live_server,
        CLOUDRENDER_API_KEY=user_key,
        CLOUDRENDER_BROKER_URL=None,
        CLOUDRENDER_STORAGE_URL=None,
    )


@pytest.fixture
def timeline(tmp_path: Path) -> Iterator[Path]:
    """A one-second project with a small video clip beside it."""
    make_video(tmp_path / "shot.mp4", frames=15, size=(320, 180))
    doc = project(
        [video_track("v", [file_clip("shot", Path("shot.mp4"), 0, 0.5)])],
        settings={"export": {"preset": "ultrafast"}},
    )
    yield write_project(tmp_path / "p.json", doc)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_submit_watch_download_cancel_estimate_over_http(
    api_cli: CLI, live_server: str, timeline: Path, tmp_path: Path
) -> None:
    submitted = api_cli("submit", str(timeline), "-o", "film.mp4", "--priority", "high")
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().splitlines()[-1]
    assert f"cloudrender download {job} -o film.mp4 --api {live_server}" in submitted.stderr

    watched = api_cli("status", job, "--watch")
    assert watched.returncode == 0, watched.stderr
    assert "completed" in watched.stdout and "15/15 frames" in watched.stdout
    status = json.loads(api_cli("status", job, "--json").stdout)
    assert status["state"] == "completed" and status["frames_done"] == 15
    assert status["priority"] == "high" and status["user"] == "alice"

    fetched = tmp_path / "fetched.mp4"
    got = api_cli("download", job, "-o", str(fetched))
    assert got.returncode == 0 and got.stdout.strip() == str(fetched), got.stderr
    assert len(decode_rgb(fetched)) == 15
    url = api_cli("download", job, "--url")
    assert url.returncode == 0 and url.stdout.strip() == f"{live_server}/v1/jobs/{job}/output"

    again = api_cli("cancel", job)
    assert again.returncode == 2
    assert one_line(again.stderr) == f"error: job {job} is already completed; nothing to cancel"
    unknown = api_cli("status", "nope")
    assert unknown.returncode == 2 and one_line(unknown.stderr).startswith("error: no job 'nope'")

    quote = api_cli("estimate", str(timeline), "--json")
    assert quote.returncode == 0, quote.stderr
    assert json.loads(quote.stdout)["frames"] == 15
    text = api_cli("estimate", str(timeline))
    assert text.returncode == 0 and text.stdout.startswith("15 frames, complexity ")


def test_cancel_over_http(api_cli: CLI, tmp_path: Path) -> None:
    long = write_project(tmp_path / "long.json", colour_project(20.0, "#102030"))
    submitted = api_cli("submit", str(long), "-o", "long.mp4", "--chunk-frames", "30")
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().splitlines()[-1]
    cancelled = api_cli("cancel", job)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"job {job} cancelled"
    status = json.loads(api_cli("status", job, "--json").stdout)
    assert status["state"] == "cancelled"
    fetched = api_cli("download", job, "-o", str(tmp_path / "x.mp4"))
    assert fetched.returncode == 2
    assert one_line(fetched.stderr) == f"error: job {job} is cancelled, not completed"
    assert not (tmp_path / "x.mp4").exists()


def test_another_users_key_sees_no_such_job(
    api_cli: CLI, other_user_key: str, timeline: Path
) -> None:
    submitted = api_cli("submit", str(timeline), "-o", "mine.mp4")
    job = submitted.stdout.strip().splitlines()[-1]
    bob = api_cli.with_env(CLOUDRENDER_API_KEY=other_user_key)
    for command in (["status", job], ["cancel", job], ["download", job, "--url"]):
        result = bob(*command)
        assert result.returncode == 2
        assert one_line(result.stderr).startswith(f"error: no job '{job}'")


def test_api_flag_and_its_errors(
    cli: CLI, live_server: str, user_key: str, timeline: Path, tmp_path: Path
) -> None:
    plain = cli.with_env(
        CLOUDRENDER_API_URL=None,
        CLOUDRENDER_API_KEY=None,
        CLOUDRENDER_BROKER_URL=None,
        CLOUDRENDER_STORAGE_URL=None,
    )
    keyless = plain("status", "abc", "--api", live_server)
    assert keyless.returncode == 2
    assert one_line(keyless.stderr) == (
        f"error: no API key for {live_server}: set CLOUDRENDER_API_KEY (an operator makes one "
        "with `cloudrender keys create USER`)"
    )
    keyed = plain.with_env(CLOUDRENDER_API_KEY=user_key)
    flagged = keyed("estimate", str(timeline), "--json", "--api", live_server)
    assert flagged.returncode == 0 and json.loads(flagged.stdout)["frames"] == 15
    both = keyed("status", "abc", "--api", live_server, "--broker", "redis://localhost:1")
    assert both.returncode == 2 and "not both" in one_line(both.stderr)
    bad_key = plain.with_env(CLOUDRENDER_API_KEY="cr_nobody_secret")(
        "status", "x", "--api", live_server
    )
    # A refused key exits 4, as a refused Redis user does (2 read as a mistake in the input)
    assert bad_key.returncode == 4 and "secret" not in bad_key.stderr
    assert one_line(bad_key.stderr) == "error: the API key is not valid (unknown or revoked)"
    malformed = plain.with_env(CLOUDRENDER_API_KEY="cr_\u00fc_secret")(
        "status", "x", "--api", live_server
    )
    assert malformed.returncode == 4, malformed.stderr
    assert "holds characters no key has" in one_line(malformed.stderr)
    for refused, message in [
        (["-o", "s3://bucket/film.mp4"], "with --api the video stays with the service"),
        (["-o", "x.mp4", "--user", "mallory"], "--user cannot be used with --api"),
        (["-o", "x.mp4", "--no-cache"], "--no-cache cannot be used with --api"),
    ]:
        result = keyed("submit", str(timeline), *refused, "--api", live_server)
        assert result.returncode == 2 and message in one_line(result.stderr)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    gone = keyed("status", "abc", "--api", closed)
    assert gone.returncode == 3
    line = one_line(gone.stderr)
    assert line.startswith(f"error: cannot reach the service at {closed}: ")
    assert user_key not in gone.stderr
    as_json = keyed("estimate", str(timeline), "--json", "--api", closed)
    assert as_json.returncode == 3 and json.loads(as_json.stdout)["error"].startswith("cannot")

    # A ceiling that is no amount is refused in one line, as over Redis (NaN and infinity are
    # not JSON: the request failed with a traceback).
    colour = write_project(tmp_path / "colour.json", colour_project(0.5))
    for limit in ("nan", "inf", "1e400"):
        for command in (["submit", str(colour), "-o", "x.mp4"], ["estimate", str(colour)]):
            result = keyed(*command, "--max-cost", limit, "--api", live_server)
            assert result.returncode == 2, result.stderr
            assert "must be a number of dollars, 0 or more" in one_line(result.stderr)


def test_submit_notes_that_no_orchestrator_plans_the_job(
    api_cli: CLI, timeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As over Redis: `submit --api` to a cluster with no orchestrator said nothing, and the
    job sat queued with no word why."""
    from orchestrator.api import CloudRenderingAPI

    # The service runs in this process: its cluster's orchestrator stops heartbeating.
    monkeypatch.setattr(CloudRenderingAPI, "orchestrator_running", lambda self: False)
    submitted = api_cli("submit", str(timeline), "-o", "film.mp4")
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().splitlines()[-1]
    assert (
        "note: no orchestrator is running on this cluster; the job stays queued until one "
        "starts (`cloudrender orchestrator --broker URL`)"
    ) in submitted.stderr.splitlines()
    api_cli("cancel", job)  # the real orchestrator may have rendered it already
