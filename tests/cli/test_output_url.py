"""``render -o URL``: the video goes to a storage URL in every render mode (the private local
cluster, ``--direct``), never to a local directory named ``s3:``, and never over an existing
object. Real moto S3 server and real worker processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.storage import open_storage
from tests.helpers import CLI, colour_project
from tests.media import decode_rgb, write_project
from tests.providers.conftest import S3_CLEARED_ENV, S3_TEST_ENV

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def cli(cli: CLI) -> CLI:
    """No broker: `render` starts a private cluster of its own."""
    return cli.with_env(CLOUDRENDER_BROKER_URL=None, CLOUDRENDER_STORAGE_URL=None)


@pytest.fixture
def s3(
    cli: CLI, s3_bucket: str, moto_s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[CLI, str]:
    """The moto server's credentials and endpoint, here and in the command line's environment
    (and so its workers'); (runner, bucket)."""
    monkeypatch.setenv("CLOUDRENDER_S3_ENDPOINT_URL", moto_s3_endpoint)
    env: dict[str, str | None] = {name: None for name in S3_CLEARED_ENV}
    env |= {**S3_TEST_ENV, "CLOUDRENDER_S3_ENDPOINT_URL": moto_s3_endpoint}
    return cli.with_env(**env), s3_bucket


def fetch(url_dir: str, key: str, tmp: Path) -> Path:
    local = tmp / f"fetched-{key}"
    open_storage(url_dir).get_file(key, str(local))
    return local


def test_distributed_render_puts_the_video_at_an_s3_url(
    s3: tuple[CLI, str], tmp_path: Path
) -> None:
    run, bucket = s3
    timeline = write_project(tmp_path / "p.json", colour_project(0.5, "#2266aa"))
    url = f"s3://{bucket}/deliveries/film.mkv"
    done = run("render", str(timeline), "-o", url, "--workers", "1", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["output"] == url and summary["frames"] == 15
    assert not (tmp_path / "s3:").exists()
    video = fetch(f"s3://{bucket}/deliveries", "film.mkv", tmp_path)
    frames = decode_rgb(video)
    assert len(frames) == 15 and abs(int(frames[7][90, 160, 2]) - 0xAA) <= 3
    # Rendering to the same URL again is refused before anything renders: not replaced.
    again = run("render", str(timeline), "-o", url, "--workers", "1")
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
    assert f"output {url} already exists" in again.stderr
    assert fetch(f"s3://{bucket}/deliveries", "film.mkv", tmp_path).read_bytes() == (
        video.read_bytes()
    )


def test_direct_render_puts_the_video_at_an_s3_url(s3: tuple[CLI, str], tmp_path: Path) -> None:
    run, bucket = s3
    timeline = write_project(tmp_path / "p.json", colour_project(0.5, "#aa2266"))
    url = f"s3://{bucket}/direct/cut.mp4"
    done = run("render", str(timeline), "-o", url, "--direct", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["output"] == url
    assert list(tmp_path.iterdir()) == [timeline]  # no s3: directory, no scratch left
    video = fetch(f"s3://{bucket}/direct", "cut.mp4", tmp_path)
    assert video.stat().st_size == summary["bytes"] and len(decode_rgb(video)) == 15


@pytest.mark.parametrize("direct", [False, True], ids=["private-cluster", "direct"])
def test_file_url_output(cli: CLI, tmp_path: Path, direct: bool) -> None:
    timeline = write_project(tmp_path / "p.json", colour_project(0.5, "#22aa66"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    url = (out_dir / "film.mp4").as_uri()
    mode = ["--direct"] if direct else ["--workers", "1"]
    done = cli("render", str(timeline), "-o", url, *mode, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"to {url}" in done.stdout
    assert [p.name for p in out_dir.iterdir()] == ["film.mp4"]
    assert len(decode_rgb(out_dir / "film.mp4")) == 15
    assert not (tmp_path / "file:").exists()


def test_output_url_problems_are_one_line(cli: CLI, tmp_path: Path) -> None:
    timeline = write_project(tmp_path / "p.json", colour_project(0.5))
    for url, problem in (
        ("s3://bucket", "must end in a file name with an extension"),
        ((tmp_path / "missing" / "x.mp4").as_uri(), "output directory does not exist"),
        ("ftp://host/x.mp4", "must be file://, s3://, gs:// or az://"),
    ):
        for mode in (["--direct"], ["--workers", "1"]):
            done = cli("render", str(timeline), "-o", url, *mode, cwd=tmp_path)
            assert done.returncode == 2, (url, mode, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and problem in lines[0], (url, mode, done.stderr)
    assert list(tmp_path.iterdir()) == [timeline]


def test_an_output_bucket_that_does_not_exist_is_refused_before_the_render(
    s3: tuple[CLI, str], tmp_path: Path
) -> None:
    """This machine writes the video itself: a missing bucket (or denied access) is known at
    once, and was found only after the whole render, when the delivery failed."""
    cli, bucket = s3
    timeline = write_project(tmp_path / "p.json", colour_project(0.5))
    url = f"s3://{bucket}-missing/deliveries/film.mp4"
    for mode in (["--direct"], ["--workers", "1"]):
        done = cli("render", str(timeline), "-o", url, *mode, cwd=tmp_path)
        assert done.returncode == 2, (mode, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (mode, done.stderr)
        assert f"'{bucket}-missing' does not exist" in lines[0], (mode, done.stderr)
        # Refused up front, not by a delivery after the render.
        assert lines[0].startswith(f"error: output {url} cannot be written:"), lines[0]
