"""A ProjectSchema whose media paths were written on another machine or as ``file://`` URLs:
what the editor's renderer writes (``ClipSource::File(path)``, src-tauri/src/video_compiler/
schema/timeline.rs, copied in tests/data/timeline-studio; MIT with the Commons Clause, Chatman
Media) for a project whose media were then copied beside it to the render machine."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.model import FileSource
from chunking.timeline.project import read_project
from common.errors import ValidationError
from orchestrator.assets import sync_assets
from providers.storage import LocalStorage
from tests.media import make_video, project, video_track


def schema_clip(path: str, cid: str = "c", **extra: Any) -> dict[str, Any]:
    """A clip as serde writes it: every field, optional ones null."""
    return {
        "id": cid, "source": {"File": path}, "start_time": 0.0, "end_time": 0.2,
        "source_start": 0.0, "source_end": 0.2, "speed": 1.0, "opacity": 1.0, "effects": [],
        "filters": [], "template_id": None, "template_position": None, "color_correction": None,
        "crop": None, "transform": None, "audio_track_index": None,
        "properties": {"notes": None, "tags": [], "custom_metadata": {}}, **extra,
    }  # fmt: skip


def saved(folder: Path, clips: list[dict[str, Any]]) -> Path:
    path = folder / "project.json"
    path.write_text(json.dumps(project([video_track("v", clips)], fps=25)), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("written", "media_at"),
    [
        # Written on Windows; the media copied beside the project, or into its media folder.
        (r"C:\Users\anna\Videos\shot.mp4", "shot.mp4"),
        (r"D:\Footage\SHOT.MP4", "media/shot.mp4"),
        # A file URL from a Mac, its space percent-encoded; the file moved into assets/.
        ("file:///Users/anna/My%20Movies/shot.mp4", "assets/shot.mp4"),
        ("file:///C:/Users/anna/Videos/shot.mp4", "files/shot.mp4"),
    ],
)
def test_a_schemas_media_moved_beside_it_are_found_by_name(
    tmp_path: Path, written: str, media_at: str
) -> None:
    """Refused before: "clip 'c': media file not found: C:\\Users\\anna\\Videos\\shot.mp4"."""
    (tmp_path / media_at).parent.mkdir(parents=True, exist_ok=True)
    make_video(tmp_path / media_at, frames=5, fps=25, size=(32, 18))
    proj = read_project(str(saved(tmp_path, [schema_clip(written)])))
    (clip,) = proj.timeline.tracks[0].clips
    assert isinstance(clip.source, FileSource)
    assert clip.source.path == str(tmp_path / media_at)
    assert [w for w in proj.timeline.warnings if "found by its name" in w] == [
        f"media {written.replace('file://', '').replace('%20', ' ').replace('/C:', 'C:')}: is "
        f"not there; using {media_at}, found by its name inside the project's folder as the "
        "editor finds moved media"
    ]
    # Workers and uploads get the file found: the submit's asset sync reads the document.
    (track,) = proj.document["tracks"]
    assert track["clips"][0]["source"]["File"] == media_at
    synced = sync_assets(proj.document, proj.base_dir, LocalStorage(str(tmp_path / "bucket")))
    assert synced.uploaded_bytes == (tmp_path / media_at).stat().st_size


def test_a_file_url_naming_a_file_that_is_there_is_that_file(tmp_path: Path) -> None:
    media = tmp_path / "My Media" / "shot.mp4"
    media.parent.mkdir()
    make_video(media, frames=5, fps=25, size=(32, 18))
    clips = [schema_clip(media.as_uri()), schema_clip(media.as_uri(), "d", start_time=0.2,
                                                      end_time=0.4)]  # fmt: skip
    proj = read_project(str(saved(tmp_path, clips)))
    assert proj.timeline.warnings == ()
    assert [c.source for c in proj.timeline.tracks[0].clips] == [FileSource(str(media))] * 2
    assert proj.document["tracks"][0]["clips"][1]["source"]["File"] == str(media)


def test_one_warning_per_medium_and_strict_refuses_it(tmp_path: Path) -> None:
    make_video(tmp_path / "shot.mp4", frames=5, fps=25, size=(32, 18))
    clips = [schema_clip(r"C:\v\shot.mp4"), schema_clip(r"C:\v\shot.mp4", "d", start_time=0.2,
                                                         end_time=0.4)]  # fmt: skip
    path = saved(tmp_path, clips)
    assert len([w for w in read_project(str(path)).timeline.warnings if "by its name" in w]) == 1
    with pytest.raises(ValidationError, match=r"media C:\\v\\shot.mp4: is not there"):
        read_project(str(path), strict=True)


def test_media_found_nowhere_are_named_missing_as_before(tmp_path: Path) -> None:
    make_video(tmp_path / "other.mp4", frames=5, fps=25, size=(32, 18))
    with pytest.raises(ValidationError) as info:
        read_project(str(saved(tmp_path, [schema_clip(r"C:\v\shot.mp4")])))
    assert info.value.problems == [r"clip 'c': media file not found: C:\v\shot.mp4"]


def test_the_project_folder_is_listed_once_however_many_media_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 missing media in a folder of 1,700 subfolders took 46 s to refuse: the folder was
    searched again for each."""
    for a in range(4):
        for b in range(4):
            (tmp_path / f"d{a}" / f"e{b}").mkdir(parents=True)
    clips = [schema_clip(rf"C:\v\shot{i}.mp4", f"c{i}") for i in range(40)]
    path = saved(tmp_path, clips)
    listed: list[str] = []
    real = os.listdir

    def counting(folder: Any = ".") -> list[str]:
        listed.append(str(folder))
        return real(folder)

    monkeypatch.setattr(os, "listdir", counting)
    with pytest.raises(ValidationError):
        read_project(str(path))
    assert len(listed) <= 1 + 3 + 4 + 16  # the folder, media/assets/files, its subfolders once


def test_a_medium_found_among_several_files_of_its_name_says_how_many_were_passed_over(
    tmp_path: Path,
) -> None:
    """Any file of that name may be the one (an earlier render's output in a subfolder): the
    first in the editor's order is used, and the warning says the others were there."""
    for where in ("media/shot.mp4", "renders/shot.mp4", "old/SHOT.mp4"):
        (tmp_path / where).parent.mkdir()
        make_video(tmp_path / where, frames=5, fps=25, size=(32, 18))
    proj = read_project(str(saved(tmp_path, [schema_clip(r"C:\v\shot.mp4")])))
    (clip,) = proj.timeline.tracks[0].clips
    assert isinstance(clip.source, FileSource)
    assert clip.source.path == str(tmp_path / "media" / "shot.mp4")
    (warning,) = [w for w in proj.timeline.warnings if "by its name" in w]
    assert "2 other files of that name passed over" in warning
