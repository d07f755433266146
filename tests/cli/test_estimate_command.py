"""``cloudrender estimate``: the options table, the recommendation, --json and one-line errors,
against a test Redis (nothing renders)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.estimate_command import duration, money
from tests.helpers import CLI, colour_project, file_clip
from tests.media import make_video, project, video_track, write_project

POOLS = """
[pools.cpu-spot]
provider = "aws"
region = "us-east-1"
instance_type = "c7i.2xlarge"
market = "spot"
max_nodes = 8
boot_seconds = 90
price_per_hour = 0.14
concurrency = 4

[pools.cpu]
provider = "aws"
region = "us-east-1"
instance_type = "c7i.2xlarge"
max_nodes = 8
boot_seconds = 90
price_per_hour = 0.36
concurrency = 4
"""


@pytest.fixture
def run(cli: CLI, redis_url: str) -> CLI:
    """The command line on the test Redis, no storage, no pools file."""
    return cli.with_env(
        CLOUDRENDER_BROKER_URL=redis_url, CLOUDRENDER_STORAGE_URL=None, CLOUDRENDER_POOLS_FILE=None
    )


@pytest.fixture
def timeline(tmp_path: Path) -> str:
    """A minute of flat colour."""
    return str(write_project(tmp_path / "p.json", colour_project(60)))


@pytest.fixture
def pools(tmp_path: Path) -> str:
    """A pools file with a spot and an on-demand pool."""
    path = tmp_path / "cloudrender.toml"
    path.write_text(POOLS)
    return str(path)


def test_this_cluster_table_and_recommendation(run: CLI, timeline: str) -> None:
    result = run("estimate", timeline)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("1800 frames, complexity ")
    assert lines[1].split()[:3] == ["option", "market", "nodes"]
    assert lines[2].startswith("this-cluster  on-demand  1x1 ")
    # No worker runs on this Redis: nothing is promised until one starts.
    assert lines[3] == (
        "no recommendation: no render node is running (no worker takes render work now): the "
        "job waits in the queue until one starts"
    )


def test_pools_deadline_and_json(run: CLI, timeline: str, pools: str) -> None:
    pooled = run.with_env(CLOUDRENDER_POOLS_FILE=pools)
    result = pooled("estimate", timeline, "--deadline", "+30m", "--max-cost", "5", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [o["pool"] for o in data["options"]] == ["cpu-spot", "cpu"]
    assert 1799 <= data["deadline_seconds"] <= 1800 and data["max_cost"] == 5.0
    for option in data["options"]:
        assert option["seconds"]["low"] <= option["seconds"]["p50"] <= option["seconds"]["high"]
        assert option["cost"]["low"] <= option["cost"]["p50"] <= option["cost"]["high"]
        assert 0 <= option["deadline_probability"] <= 1
    assert data["recommended"] is not None and data["reason"]
    spot = pooled("estimate", timeline, "--spot")
    assert spot.returncode == 0, spot.stderr
    assert "cpu-spot" in spot.stdout and "\ncpu " not in spot.stdout
    assert "recommended: cpu-spot (spot)" in spot.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--deadline", "someday"], "error: deadline 'someday' is not an ISO 8601 time"),
        (["--deadline", "+2w"], "write +N with s, m, h or d"),
        (["--pool", "gpu"], "error: no pool 'gpu' renders here (options: this-cluster"),
        (["--spot"], "error: no option matches market spot"),
        (["--max-cost", "-1"], "argument --max-cost: '-1' must be a number of dollars, 0 or more"),
    ],
)
def test_mistakes_are_one_line(run: CLI, timeline: str, args: list[str], message: str) -> None:
    result = run("estimate", timeline, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_json_errors_and_no_broker(run: CLI, cli: CLI, timeline: str) -> None:
    result = run("estimate", timeline, "--json", "--pool", "gpu")
    assert result.returncode == 2
    assert "no pool 'gpu'" in json.loads(result.stdout)["error"]
    bare = cli.with_env(CLOUDRENDER_BROKER_URL=None)("estimate", timeline)
    assert bare.returncode == 2
    assert (
        bare.stderr.strip() == "error: no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL"
    )
    # Without a broker, a broken project is still named for what it is.
    broken = Path(timeline).with_name("broken.json")
    broken.write_text('{"tracks": [', encoding="utf-8")
    named = cli.with_env(CLOUDRENDER_BROKER_URL=None)("estimate", str(broken))
    assert named.returncode == 2 and "broken.json" in named.stderr
    assert "no broker" not in named.stderr
    # ... and so is a malformed deadline.
    when = cli.with_env(CLOUDRENDER_BROKER_URL=None)("estimate", timeline, "--deadline", "abc")
    assert when.returncode == 2 and "deadline 'abc' is not an ISO 8601 time" in when.stderr
    both = run("estimate", timeline, "--spot", "--on-demand")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0s"), (42.4, "42s"), (185, "3m05s"), (3599.6, "1h00m"), (7830, "2h10m"), (-5, "0s")],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("dollars", "text"),
    [
        (0.0, "$0.0000"),
        (0.000041, "$0.000041"),
        (0.0123456, "$0.0123"),
        (12.5, "$12.5000"),
        (999_999_999_999.0, "$999999999999.0000"),
        (float("1" * 300), "$1.111e+299"),
    ],
)
def test_money(dollars: float, text: str) -> None:
    assert money(dollars) == text


def test_media_the_render_refuses_are_refused_as_validate_refuses_them(
    run: CLI, tmp_path: Path
) -> None:
    # A text file named as a video and a sound file on a video track: priced before, and the
    # render that followed was refused (estimate over --api refused them: its upload checks).
    (tmp_path / "notes.mp4").write_text("not a video\n" * 20)
    make_video(tmp_path / "shot.mp4", frames=5, size=(64, 36))
    clips = [
        file_clip("text", Path("notes.mp4"), 0, 0.5),
        file_clip("ok", Path("shot.mp4"), 0.5, 1),
    ]
    path = write_project(tmp_path / "p.json", project([video_track("v", clips)], size=(64, 36)))
    result = run("estimate", str(path))
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "clip 'text': cannot open" in lines[0], lines
    assert "clip 'ok'" not in lines[0]
    # The same problem as validate names, in --json too.
    listed = json.loads(run("estimate", str(path), "--json").stdout)
    assert listed["problems"] == json.loads(run("validate", str(path), "--json").stdout)["problems"]
