"""`render -o` naming a symbolic link, as ffmpeg and cp treat one: the video is written
through the link to its target and the link stays; a link to the project's own media or to
something that is no file is refused before rendering, with one line."""

from __future__ import annotations

import os
from pathlib import Path

import av

from tests.helpers import CLI, colour_project
from tests.media import make_video, project, video_track, write_project


def test_a_link_is_written_through_and_stays(cli: CLI, tmp_path: Path) -> None:
    # Given latest.mp4, a link to this week's render, and a file beside it
    week = tmp_path / "renders"
    week.mkdir()
    target = week / "week-49.mp4"
    target.write_bytes(b"last week")
    link = tmp_path / "latest.mp4"
    link.symlink_to(target)
    timeline = write_project(tmp_path / "p.json", colour_project(0.5, "#ff8800"))
    # When the render goes to the link
    done = cli("render", str(timeline), "-o", str(link), "--direct", "--quiet")
    # Then the target holds the video, the link still points at it, and nothing else is left
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    with av.open(str(target)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 15
    assert sorted(os.listdir(week)) == ["week-49.mp4"]
    assert sorted(os.listdir(tmp_path)) == ["latest.mp4", "p.json", "renders"]


def test_a_link_to_a_clips_media_is_refused_and_the_media_kept(cli: CLI, tmp_path: Path) -> None:
    # Given out.mp4, a link to the footage the project plays
    footage = make_video(tmp_path / "footage.mp4", frames=15, size=(64, 36))
    kept = footage.read_bytes()
    link = tmp_path / "out.mp4"
    link.symlink_to(footage)
    clip = {"id": "take", "start_time": 0, "end_time": 0.5, "source": {"File": str(footage)}}
    timeline = write_project(tmp_path / "p.json", project([video_track("v", [clip])]))
    for mode in ("--direct", "--json"):
        # When it is rendered to the link (in this process, or distributed)
        args = ["--direct"] if mode == "--direct" else ["--workers", "1"]
        done = cli("render", str(timeline), "-o", str(link), *args)
        # Then it is refused, naming the clip, and the footage is as it was
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "clip 'take'" in lines[0], done.stderr
        assert "Traceback" not in done.stderr
        assert footage.read_bytes() == kept and link.is_symlink()


def test_a_link_to_a_folder_or_a_device_is_refused(cli: CLI, tmp_path: Path) -> None:
    timeline = write_project(tmp_path / "p.json", colour_project(0.5, "#ff8800"))
    folder = tmp_path / "renders"
    folder.mkdir()
    for name, to in (("to-folder.mp4", folder), ("to-null.mp4", Path(os.devnull))):
        link = tmp_path / name
        link.symlink_to(to)
        done = cli("render", str(timeline), "-o", str(link), "--direct")
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "is not a regular file" in lines[0], done.stderr
        assert link.is_symlink() and os.listdir(folder) == []


def test_a_link_that_loops_is_refused_and_kept(cli: CLI, tmp_path: Path) -> None:
    # Given a.mp4 -> b.mp4 -> a.mp4 (ffmpeg and cp say "Too many levels of symbolic links")
    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    first.symlink_to(second)
    second.symlink_to(first)
    timeline = write_project(tmp_path / "p.json", colour_project(0.5, "#ff8800"))
    for args in (["--direct"], ["--workers", "1"]):
        done = cli("render", str(timeline), "-o", str(first), *args)
        # Then one line names the link, and both links are as they were (was: a.mp4 replaced)
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert lines == [
            f"error: output {first} is a symbolic link that loops "
            "(Too many levels of symbolic links): name a file"
        ], done.stderr
        assert os.readlink(first) == str(second) and os.readlink(second) == str(first)
