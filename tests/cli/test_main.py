"""The command line as users run it: a real subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.helpers import CLI, colour_project, end_with_signal
from tests.media import make_video, project, solid, video_track, write_project


def small(tmp: Path, **extra: Any) -> Path:
    return write_project(tmp / "p.json", colour_project(0.5, "#ff8800", **extra))


def test_render_direct_json_summary(cli: CLI, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    result = cli("render", str(small(tmp_path)), "-o", str(out), "--direct", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["frames"] == 15 and summary["encoder"] == "libx264"
    assert summary["fps"] > 0 and summary["seconds"] > 0 and summary["warnings"] == []
    assert out.stat().st_size == summary["bytes"]


@pytest.mark.parametrize("codec", ["av1", "hevc", "vp9"])
def test_quiet_means_nothing_on_either_stream(cli: CLI, tmp_path: Path, codec: str) -> None:
    """Encoders that log from C (SVT-AV1's banner, x265's) must not reach a quiet render."""
    out = tmp_path / "out.mkv"
    done = cli.with_env(SVT_LOG=None)(
        "render", str(small(tmp_path)), "-o", str(out), "--direct", "--codec", codec, "--quiet"
    )
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "") and out.stat().st_size > 0


def test_validate_reports_ok_and_warnings(cli: CLI, tmp_path: Path) -> None:
    path = small(tmp_path)
    result = cli("validate", str(path))
    assert result.returncode == 0 and "15 frames" in result.stdout
    doc = json.loads(path.read_text())
    doc["tracks"][0]["clips"][0]["effects"] = ["x"]
    doc["effects"] = [{"id": "x", "effect_type": "Kaleidoscope"}]
    path.write_text(json.dumps(doc))
    result = cli("validate", str(path))
    assert result.returncode == 0 and "Kaleidoscope" in result.stderr
    strict = cli("validate", str(path), "--strict")
    assert strict.returncode == 2 and "Kaleidoscope" in strict.stderr


def test_validate_and_render_warn_of_text_no_font_draws(cli: CLI, tmp_path: Path) -> None:
    # Characters no installed font has drew as boxes without a word; a family not installed
    # was a log line of the render only.
    subtitle = {"id": "lyrics", "text": "la \u0378", "start_time": 0, "end_time": 0.5}
    styled = {**subtitle, "id": "styled", "text": "ok", "font_family": "No Such Family"}
    path = small(tmp_path, subtitles=[subtitle, styled])
    result = cli("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert "subtitle 'lyrics': no installed font has U+0378 unnamed at character 4" in result.stderr
    assert "subtitle 'styled': font_family 'No Such Family' is not installed" in result.stderr
    assert cli("validate", str(path), "--strict").returncode == 2
    out = tmp_path / "out.mkv"
    strict = cli("render", str(path), "-o", str(out), "--direct", "--end", "1", "--strict")
    assert strict.returncode == 2 and "U+0378" in strict.stderr


def corrupt_media(tmp: Path) -> Path:
    bad = tmp / "corrupt.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + random.Random(7).randbytes(3000))
    return write_project(
        tmp / "p.json",
        project(
            [
                video_track(
                    "v",
                    [
                        {
                            "id": "broken",
                            "start_time": 0,
                            "end_time": 1,
                            "source": {"File": "corrupt.mp4"},
                        }
                    ],
                )
            ]
        ),
    )


def truncated_media(tmp: Path) -> Path:
    good = make_video(tmp / "good.mp4", frames=30)
    data = good.read_bytes()
    (tmp / "cut.mp4").write_bytes(data[: len(data) // 3])
    return write_project(
        tmp / "p.json",
        project(
            [
                video_track(
                    "v",
                    [{"id": "cut", "start_time": 0, "end_time": 1, "source": {"File": "cut.mp4"}}],
                )
            ]
        ),
    )


def missing_media(tmp: Path) -> Path:
    return write_project(
        tmp / "p.json",
        project(
            [
                video_track(
                    "v",
                    [
                        {
                            "id": "gone",
                            "start_time": 0,
                            "end_time": 1,
                            "source": {"File": "gone.mov"},
                        }
                    ],
                )
            ]
        ),
    )


def overlapping(tmp: Path) -> Path:
    return write_project(
        tmp / "p.json",
        project(
            [
                video_track(
                    "v",
                    [
                        {"id": "a", "start_time": 0, "end_time": 1, **solid("#fff")},
                        {"id": "b", "start_time": 0.5, "end_time": 1.5, **solid("#000000")},
                    ],
                )
            ]
        ),
    )


def absurd(tmp: Path) -> Path:
    return small(tmp, timeline={"fps": 30, "resolution": [100000, 100000]})


def not_json(tmp: Path) -> Path:
    path = tmp / "p.json"
    path.write_text("tracks: [")
    return path


def not_a_picture(tmp: Path) -> Path:
    (tmp / "fake.png").write_text("this is not a png")
    return write_project(
        tmp / "p.json",
        project(
            [
                video_track(
                    "v",
                    [{"id": "img", "start_time": 0, "end_time": 1, "source": {"File": "fake.png"}}],
                )
            ]
        ),
    )


def a_folder(tmp: Path) -> Path:
    (tmp / "p.json").mkdir()
    return tmp / "p.json"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (a_folder, "p.json is a folder, not a timeline file"),
        (corrupt_media, "clip 'broken'"),
        (truncated_media, "clip 'cut'"),
        (missing_media, "clip 'gone': media file not found: gone.mov"),
        (overlapping, "clips 'a' and 'b' overlap"),
        (absurd, "100000x100000 is out of range"),
        (not_json, "invalid JSON"),
        (not_a_picture, "clip 'img': cannot decode image"),
    ],
)
def test_bad_input_one_line_no_traceback_no_output(
    cli: CLI, tmp_path: Path, make: Any, message: str
) -> None:
    project_path = make(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = cli("render", str(project_path), "-o", str(out_dir / "x.mp4"), "--direct")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert list(out_dir.iterdir()) == []


def test_a_project_saved_with_a_byte_order_mark_renders(cli: CLI, tmp_path: Path) -> None:
    """Windows tools start UTF-8 files with a BOM."""
    path = small(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    done = cli("validate", str(path))
    assert done.returncode == 0, done.stderr


def test_a_lone_surrogate_escape_is_one_line_naming_the_field(cli: CLI, tmp_path: Path) -> None:
    path = small(tmp_path)
    text = path.read_text()
    assert text.count('"name": "test"') == 1  # the project's metadata.name (given once)
    path.write_text(text.replace('"name": "test"', '"name": "\\ud800"'))
    done = cli("validate", str(path))
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"error: {path}: metadata.name holds a lone UTF-16 surrogate (a \\ud800-\\udfff "
        "escape), which is no character: correct the text\n"
    )


def test_a_newline_in_a_media_name_does_not_break_the_one_line_error(
    cli: CLI, tmp_path: Path
) -> None:
    """Scripts read the one line; a second one came from the file's name."""
    name = "x\nok: rendered fine.mp4"
    (tmp_path / name).write_bytes(b"")
    clip = {"id": "c", "start_time": 0, "end_time": 1, "source": {"File": name}}
    path = write_project(tmp_path / "p.json", project([video_track("v", [clip])]))
    done = cli("render", str(path), "-o", str(tmp_path / "out.mp4"), "--direct", "--json")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and "x ok: rendered fine.mp4" in line
    assert "\n" not in json.loads(done.stdout)["error"]


def test_a_reader_that_goes_away_gets_no_traceback(cli: CLI) -> None:
    """`cloudrender ... | head -n 1`: the rest has nowhere to go, and that is all."""
    proc = cli.start("prices", "show")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before it writes: its first line meets a closed pipe
    with proc.stderr:
        errors = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_disk_under_the_output_is_one_line_not_a_traceback(cli: CLI, tmp_path: Path) -> None:
    """`cloudrender validate --json > report.json` on a full disk (or a private render whose
    temporary directory fills up): the write fails with ENOSPC, which ended in a traceback."""
    with open("/dev/full", "w") as full:  # every write to it fails: No space left on device
        proc = cli.start("validate", str(small(tmp_path)), "--json", stdout=full)
        assert proc.stderr is not None
        with proc.stderr:
            errors = proc.stderr.read()
    assert proc.wait(timeout=60) == 2, errors
    assert "Traceback" not in errors and "Exception ignored" not in errors, errors
    lines = errors.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: No space left on device"), errors


def test_unknown_output_container(cli: CLI, tmp_path: Path) -> None:
    result = cli("render", str(small(tmp_path)), "-o", str(tmp_path / "x.avi"), "--direct")
    assert result.returncode == 2 and "unknown container .avi" in result.stderr


@pytest.mark.parametrize(
    ("flag", "shown"),
    [
        (("--workers", "4"), "--workers splits a render across workers"),
        (("--chunk-frames", "10"), "--chunk-frames splits a render across workers"),
        (("--broker", "redis://127.0.0.1:1/0"), "--broker submits to a cluster"),
    ],
)
def test_direct_refuses_the_options_of_a_distributed_render(
    cli: CLI, tmp_path: Path, flag: tuple[str, str], shown: str
) -> None:
    out = tmp_path / "x.mp4"
    done = cli("render", str(small(tmp_path)), "-o", str(out), "--direct", *flag)
    assert done.returncode == 2, done.stderr
    assert f"error: {shown}: drop it or --direct" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def wait_for(found: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not found():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signal_mid_render_leaves_nothing(cli: CLI, tmp_path: Path, signum: int) -> None:
    # Ten minutes of frames: certainly still rendering when the signal comes.
    project_path = write_project(tmp_path / "p.json", colour_project(600, "#336699"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # Its stacks are printed if it hangs (end_with_signal).
    faulting = cli.with_env(PYTHONFAULTHANDLER="1")
    proc = faulting.start("render", str(project_path), "-o", str(out_dir / "x.mp4"), "--direct")
    try:
        # The temp file exists only while frames are being rendered into it.
        wait_for(lambda: os.listdir(out_dir), "the render to start")
        time.sleep(0.3)
        assert proc.poll() is None
    finally:
        err = end_with_signal(proc, signum, timeout=30)
    assert proc.returncode == 128 + signum, err
    assert err.strip().splitlines() == [f"terminated by {signal.Signals(signum).name}"], err
    assert os.listdir(out_dir) == []


def test_direct_output_mode_follows_the_umask(cli: CLI, tmp_path: Path) -> None:
    for umask, mode in ((0o022, 0o644), (0o027, 0o640), (0o002, 0o664)):
        out = tmp_path / f"out-{umask:o}.mp4"
        proc = cli.start("render", str(small(tmp_path)), "-o", str(out), "--direct", umask=umask)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert stat.S_IMODE(out.stat().st_mode) == mode, f"umask {umask:o}"


def many_missing(tmp: Path, count: int) -> Path:
    clips = [
        {"id": f"shot{i}", "start_time": i, "end_time": i + 1, "source": {"File": f"gone{i}.mov"}}
        for i in range(count)
    ]
    return write_project(tmp / "p.json", project([video_track("v", clips)]))


@pytest.mark.parametrize(
    "command", [("validate",), ("render", "--direct", "-o", "out.mp4")], ids=["validate", "render"]
)
def test_many_problems_one_short_line_and_all_of_them_in_json(
    cli: CLI, tmp_path: Path, command: tuple[str, ...]
) -> None:
    path = many_missing(tmp_path, 40)
    done = cli(command[0], str(path), *command[1:], "--json", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: 40 problems: clip 'shot0': media file not found: gone0.mov")
    assert line.endswith("; and 35 more") and len(line) < 600
    report = json.loads(done.stdout)
    assert report["error"] == line.removeprefix("error: ")
    assert len(report["problems"]) == 40
    assert report["problems"][39] == "clip 'shot39': media file not found: gone39.mov"
    assert report.get("valid", False) is False
    assert not (tmp_path / "out.mp4").exists()


def test_many_warnings_stay_one_short_line(cli: CLI, tmp_path: Path) -> None:
    clips = [
        {"id": f"c{i}", "start_time": i * 0.1, "end_time": (i + 1) * 0.1, **solid("#123456"),
         "effects": [f"e{i}"]}
        for i in range(12)
    ]  # fmt: skip
    effects = [{"id": f"e{i}", "effect_type": f"Kaleidoscope{i}"} for i in range(12)]
    path = write_project(tmp_path / "p.json", project([video_track("v", clips)], effects=effects))
    done = cli("validate", str(path))
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("warning: 12 issue(s) ignored: ") and line.endswith("; and 7 more")
    assert "Kaleidoscope0" in line and "Kaleidoscope11" not in line
    report = json.loads(cli("validate", str(path), "--json").stdout)
    assert len(report["warnings"]) == 12


def test_a_redis_that_refuses_a_command_is_not_called_unreachable(cli: CLI, redis_url: str) -> None:
    """At maxmemory Redis answers OOM: "is it running?" sent the user the wrong way."""
    client = redis.Redis.from_url(redis_url)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", 1)
    try:
        done = cli("keys", "create", "alice", "--broker", redis_url)
    finally:
        client.config_set("maxmemory", 0)
        client.close()
    assert done.returncode == 3
    assert "OOM" in done.stderr or "maxmemory" in done.stderr
    assert "Redis refused the command: see its memory limit (maxmemory) and role" in done.stderr
    assert "is it running" not in done.stderr


def test_a_redis_that_refuses_the_password_is_not_called_unreachable(
    cli: CLI, redis_url: str
) -> None:
    """A mistyped password exited 3 with "is it running?" after the retries meant for restarts."""
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    wrong = f"redis://nobody:wrong@127.0.0.1:{port}/0"
    for args in (["status", "abc"], ["status", "abc", "--json"]):
        done = cli(*args, "--broker", wrong)
        assert done.returncode == 4, done.stderr
        line = done.stderr.strip()
        assert line.startswith(
            f"error: the cluster's Redis at redis://nobody:***@127.0.0.1:{port}/0 refused user "
            "'nobody': "
        ), line
        assert "is it running" not in line and "wrong" not in line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["render", "p.json", "-o", "x.mp4", "--workers", "0"], "argument --workers: must be"),
        (["render", "p.json", "-o", "x.mp4", "--priority", "bogus"], "argument --priority"),
        (["render", "p.json"], "the following arguments are required: -o/--output"),
        (["bogus"], "invalid choice: 'bogus'"),
    ],
)
def test_argument_errors_are_one_line_and_json_when_asked(
    cli: CLI, tmp_path: Path, args: list[str], says: str
) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: cloudrender") and says in line and "--help" in line
    asked = cli(*args, "--json", cwd=tmp_path)
    assert asked.returncode == 2
    assert json.loads(asked.stdout)["error"] == line.removeprefix("error: ")


def test_a_frame_range_renders_those_frames_and_bad_ranges_say_what_is_wrong(
    cli: CLI, tmp_path: Path
) -> None:
    path = small(tmp_path)  # 15 frames
    out = tmp_path / "part.mp4"
    done = cli("render", str(path), "-o", str(out), "--direct", "--start", "5", "--end", "10")
    assert done.returncode == 0, done.stderr
    import av

    with av.open(str(out)) as video:
        assert sum(1 for _ in video.decode(video=0)) == 5
    for args, says in (
        (["--direct", "--start", "10", "--end", "10"], "frame range [10, 10) is empty"),
        (["--direct", "--start", "0", "--end", "99"], "is not inside the timeline's [0, 15)"),
        (["--start", "2"], "--start/--end render a range in this process: add --direct"),
        # "frame range [40, 15) is empty: --end must be after --start": no --end was given.
        (["--direct", "--start", "40"], "--start 40 is past the timeline's end: its 15 frames"),
        (["--direct", "--end", "-5"], "--end: must be a frame number, 0 or more, not -5"),
        (["--direct", "--start", "9" * 5000], "--start: '99999999999999999999...(5000 char"),
    ):
        bad = cli("render", str(path), "-o", str(tmp_path / "x.mp4"), *args)
        assert bad.returncode == 2 and says in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def test_a_broker_url_in_a_usage_error_or_a_bad_url_is_one_line_without_its_password(
    cli: CLI,
) -> None:
    wrong = cli("cluster", "--broker", "redis://client:SECRETZ@h:1/0")
    assert wrong.returncode == 2 and "SECRETZ" not in wrong.stderr and "***" in wrong.stderr
    bad = cli("status", "abc", "--broker", "redis://u:SECRETZ@127.0.0.1:1/0?socket_timeout=abc")
    assert bad.returncode == 2, bad.stderr
    (line,) = bad.stderr.strip().splitlines()
    assert "socket_timeout" in line and "SECRETZ" not in line and "Traceback" not in bad.stderr


def test_help_names_every_timeline_kind_and_no_internal_reference(cli: CLI) -> None:
    """`render --help` left out .tls and .fcpxmld; `--help` said "(DESIGN 4.3)" in RST."""
    top = cli("--help").stdout
    assert "DESIGN" not in top and "``" not in top
    render = " ".join(cli("render", "--help").stdout.split())
    for kind in (".json", ".tlsp", ".tls", ".otio", ".otiod", ".otioz", ".edl", ".xml"):
        assert kind in render
    assert ".fcpxml or a .fcpxmld bundle" in render and ".aaf" in render


def test_more_worker_processes_than_the_machine_can_run_are_refused(
    cli: CLI, tmp_path: Path
) -> None:
    """`--workers 99999999999` started a private cluster whose pool ran out of file
    descriptors: the error was Celery's flattened traceback, after seconds of work."""
    path = small(tmp_path)
    most = 16 * (os.cpu_count() or 1)
    for count in (str(most + 1), "99999999999"):
        done = cli("render", str(path), "-o", str(tmp_path / "out.mp4"), "--workers", count)
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert f"--workers: {count} worker processes are more than" in line
        assert f"at most {most} (16 per core)" in line and "Traceback" not in line
    assert not (tmp_path / "out.mp4").exists()
    # A worker's pool the same: refused before its benchmark and Celery's traceback
    done = cli("worker", "--concurrency", "99999999999", "--broker", "redis://127.0.0.1:1/0")
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "--concurrency: 99999999999 worker processes are more than" in line


def test_a_count_that_is_no_whole_number_is_named_as_such(cli: CLI, tmp_path: Path) -> None:
    """argparse said "invalid _positive value" (a function's name) and echoed 5000 digits."""
    path = small(tmp_path)
    for given, shown in (("abc", "'abc'"), ("9" * 5000, "'99999999999999999999...(5000 ")):
        done = cli("render", str(path), "-o", str(tmp_path / "o.mp4"), "--chunk-frames", given)
        assert done.returncode == 2
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"error: cloudrender render: argument --chunk-frames: {shown}")
        assert "is not a whole number" in line and "_positive" not in line and len(line) < 200


@pytest.mark.parametrize("command", ["render", "submit", "estimate"])
def test_chunk_frames_over_the_apis_bound_is_refused(
    cli: CLI, tmp_path: Path, command: str
) -> None:
    """The API refuses chunk_frames over 1,000,000; the command line took 20 digits."""
    path = small(tmp_path)
    for given in ("99999999999999999999", "1000001"):
        args = [command, str(path), "--chunk-frames", given]
        done = cli(*(args + ["-o", str(tmp_path / "o.mp4")] if command == "render" else args))
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert f"argument --chunk-frames: {given} frames is more than a chunk" in line
        assert "at most 1,000,000" in line and len(line) < 200


def test_an_output_that_names_no_file_is_refused_as_such(cli: CLI, tmp_path: Path) -> None:
    """`-o ""` was taken as the working directory ("output /home/me already exists", or
    "cannot write : No such file or directory" with --direct)."""
    path = small(tmp_path)
    bare = cli.with_env(CLOUDRENDER_BROKER_URL=None)
    for argv in (
        ("render", str(path), "--direct", "-o", ""),
        ("render", str(path), "-o", f"{tmp_path}/"),
        ("submit", str(path), "-o", " ", "--broker", "redis://127.0.0.1:1/0"),
        ("download", "abc", "-o", "", "--broker", "redis://127.0.0.1:1/0"),
    ):
        done = bare(*argv)
        assert done.returncode == 2, argv
        (line,) = done.stderr.strip().splitlines()
        assert "argument -o/--output:" in line and "names no file" in line, line


def test_a_max_cost_beyond_any_float_is_refused_as_typed(cli: CLI, tmp_path: Path) -> None:
    """`--max-cost 1e400` (or 400 digits) was refused as "max cost inf", a figure nobody typed,
    and only after the project was read and the cluster reached."""
    path = small(tmp_path)
    bare = cli.with_env(CLOUDRENDER_BROKER_URL=None, CLOUDRENDER_API_URL=None)
    for given, shown in (("1e400", "'1e400'"), ("1" * 400, "'11111111111111111111...(400 ")):
        for command in ("estimate", "submit"):
            extra = ("-o", str(tmp_path / "o.mp4")) if command == "submit" else ()
            done = bare(command, str(path), *extra, "--max-cost", given)
            assert done.returncode == 2
            (line,) = done.stderr.strip().splitlines()
            assert f"argument --max-cost: {shown}" in line, line
            assert "must be a number of dollars, 0 or more" in line and "inf" not in line


def test_a_render_that_lost_contact_with_redis_exits_as_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`render --broker` whose wait lost Redis exited 2 (bad input, which scripts do not retry)
    though a cluster command whose Redis cannot be reached exits 3 (README)."""
    from cli import job_commands
    from cli.failures import EXIT_UNREACHABLE
    from cli.main import main
    from common.errors import ClusterUnreachable

    def lost(args: Any) -> int:
        raise ClusterUnreachable("lost contact with Redis at redis://h:6379/0 for 61s: Timeout")

    monkeypatch.setattr(job_commands, "run_status", lost)
    assert main(["status", "abc", "--broker", "redis://h:6379/0"]) == EXIT_UNREACHABLE
    assert "error: lost contact with Redis at redis://h:6379/0 for 61s" in capsys.readouterr().err


def test_validate_names_interlaced_media(cli: CLI, tmp_path: Path) -> None:
    """An interlaced camera file validated "ok" without a word; the render deinterlaces it."""
    from tests.media import make_interlaced

    make_interlaced(tmp_path / "i.mp4", frames=12)
    shot = {"id": "cam", "start_time": 0, "end_time": 0.3, "source": {"File": "i.mp4"}}
    path = write_project(tmp_path / "i.json", project([video_track("v", [shot])]))
    done = cli("validate", str(path))
    assert done.returncode == 0, done.stderr
    assert "note: clip 'cam': i.mp4 is interlaced (top field first); it is deinterlaced" in (
        done.stderr
    )
    assert json.loads(cli("validate", str(path), "--json").stdout)["notes"] == [
        "clip 'cam': i.mp4 is interlaced (top field first); it is deinterlaced (bwdif) as it is "
        'decoded ("deinterlace": false shows its frames as decoded)'
    ]
    # A note, not a warning: --strict still passes it; shown combed, it is a warning
    assert cli("validate", str(path), "--strict").returncode == 0
    shot["deinterlace"] = False
    write_project(path, project([video_track("v", [shot])]))
    strict = cli("validate", str(path), "--strict")
    assert strict.returncode == 2 and "combed where they move" in strict.stderr


def test_a_private_render_vets_its_media_while_its_workers_start(cli: CLI, tmp_path: Path) -> None:
    # The media are vetted while the private cluster starts (cli.render_prewarm): their
    # warnings are said once, --strict still refuses them, and no process or file is left.
    subtitle = {"id": "lyrics", "text": "la \u0378", "start_time": 0, "end_time": 0.5}
    path = small(tmp_path, subtitles=[subtitle])
    out = tmp_path / "out.mp4"
    strict = cli("render", str(path), "-o", str(out), "--workers", "1", "--strict")
    assert strict.returncode == 2 and "U+0378" in strict.stderr
    assert "Traceback" not in strict.stderr and not out.exists()
    rendered = cli("render", str(path), "-o", str(out), "--workers", "1")
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stderr.count("U+0378") == 1  # the warning line, not again as a note
    out.unlink()
    summary = cli("render", str(path), "-o", str(out), "--workers", "1", "--json")
    assert any("U+0378" in w for w in json.loads(summary.stdout)["warnings"])
