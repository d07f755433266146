"""Where an editor document's media are found when the project was moved: saved on Windows or a
Mac and copied with its media to the render machine, paths written as ``file://`` URLs. The
editor itself then finds each file by name inside the project's folder (media-restoration-
service.ts, generateAlternativePaths in saved-media-utils.ts); so does the loader.

The documents are tests/data/timeline-studio-editor/interview.tlsp (written from the editor's
types, see tests/data/README.md; MIT with the Commons Clause, Chatman Media) with its pool's
paths changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import FileSource, Timeline
from common.errors import ValidationError
from tests.chunking.test_studio_editor import DATA, make_media

_NAMES = {"m-intro": "intro.mp4", "m-outro": "outro.mp4", "m-music": "music.wav"}


def moved_project(root: Path, saved: str, relative: str | None, media_at: str) -> Path:
    """interview.tlsp whose pool names each file at ``saved`` (``{name}`` filled in) with
    ``relative`` as its relativePath (None: none), its media put in ``root/media_at``."""
    make_media(root / media_at if media_at else root, list(_NAMES.values()))
    doc: dict[str, Any] = json.loads((DATA / "interview.tlsp").read_text(encoding="utf-8"))
    for media_id, item in doc["mediaPool"]["items"].items():
        item["source"] = {"path": saved.format(name=_NAMES[media_id])}
        if relative is not None:
            item["source"]["relativePath"] = relative.format(name=_NAMES[media_id])
    path = root / "interview.tlsp"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def files(timeline: Timeline) -> dict[str, str]:
    """Each clip's media file, relative to the project's folder."""
    found = {}
    for track in timeline.tracks:
        for clip in track.clips:
            assert isinstance(clip.source, FileSource)
            found[clip.id] = clip.source.path
    return found


@pytest.mark.parametrize(
    ("saved", "relative", "media_at"),
    [
        # Saved on Windows, no relativePath (it is optional): the media beside the project.
        (r"C:\Users\anna\Videos\{name}", None, ""),
        (r"C:\Users\anna\Videos\{name}", None, "media"),
        # Saved on a Mac; the relativePath went stale when the media folder was renamed.
        ("/Users/anna/Movies/{name}", "Footage/{name}", "assets"),
        ("/Users/anna/Movies/{name}", None, "files"),
        # Anywhere three folders down, as the editor's search_files_by_name looks.
        ("/Users/anna/Movies/{name}", None, "Shoot/Day 2/Card A"),
        # A file URL, its spaces percent-encoded.
        ("file:///Users/anna/My%20Movies/{name}", None, "media"),
    ],
)
def test_media_moved_with_the_project_are_found_by_name(
    tmp_path: Path, saved: str, relative: str | None, media_at: str
) -> None:
    """A moved project was refused: 'clip 'intro': media file not found: C:\\Users\\...'."""
    timeline = load(str(moved_project(tmp_path, saved, relative, media_at)))
    folder = tmp_path / media_at if media_at else tmp_path
    assert files(timeline) == {
        "intro": str(folder / "intro.mp4"),
        "outro": str(folder / "outro.mp4"),
        "bed": str(folder / "music.wav"),
    }
    moved = [w for w in timeline.warnings if "found by its name" in w]
    first = saved.format(name="intro.mp4").replace("file://", "").replace("%20", " ")
    inside = f"{media_at}/intro.mp4" if media_at else "intro.mp4"
    assert len(moved) == 3 and f"media {first}: is not there; using {inside}," in moved[0]


def test_a_file_url_that_is_where_it_says_is_used_without_a_word(tmp_path: Path) -> None:
    url = (tmp_path / "My Media" / "{name}").as_uri().replace("%7B", "{").replace("%7D", "}")
    timeline = load(str(moved_project(tmp_path, url, None, "My Media")))
    assert files(timeline)["intro"] == str(tmp_path / "My Media" / "intro.mp4")
    assert not [w for w in timeline.warnings if "found by its name" in w]


def test_media_found_nowhere_are_still_named_missing(tmp_path: Path) -> None:
    path = moved_project(tmp_path, r"C:\Users\anna\Videos\{name}", None, "elsewhere")
    for old in (tmp_path / "elsewhere").iterdir():
        old.rename(old.with_name("renamed-" + old.name))
    with pytest.raises(ValidationError) as info:
        load(str(path))
    assert "clip 'intro': media file not found: C:\\Users\\anna\\Videos\\intro.mp4" in (
        info.value.problems
    )
