"""A project as the HTTP service receives it: media only as uploaded assets, and nothing in a
refusal tells which files exist on the server's disk, whatever the document's shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common.errors import ValidationError
from server.projects import load_remote_project
from workers.assets import media_fields

ASSET = "asset:sha256:" + "ab" * 32 + ".mp4"


def editor_project(path: str, pool: str | None = None) -> dict[str, Any]:
    """The editor's TimelineProject (sections), one clip whose mediaFile names ``path``; its
    ``resources.media`` names ``pool`` for the same media id."""
    clip = {
        "id": "shot",
        "mediaId": "m",
        "mediaFile": {"id": "m", "path": path},
        "startTime": 0,
        "duration": 1,
    }
    return {
        "id": "p",
        "name": "p",
        "sections": [{"id": "s", "tracks": [{"id": "t", "type": "video", "clips": [clip]}]}],
        "resources": {"media": [{"id": "m", "path": pool}] if pool else []},
        "settings": {"resolution": {"width": 64, "height": 36}, "fps": 10},
    }


def refusal(document: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as refused:
        load_remote_project(document)
    return str(refused.value)


def test_a_local_path_in_an_editor_document_is_refused_the_same_whether_it_exists(
    tmp_path: Path,
) -> None:
    existing = tmp_path / "secret.mp4"
    existing.write_bytes(b"not for you")
    missing = tmp_path / "absent.mp4"
    messages = [
        refusal(editor_project(str(path))).replace(str(path), "PATH")
        for path in (existing, missing, Path("/etc/passwd"))
    ]
    assert messages[0] == messages[1] == messages[2]
    assert "clip 'shot': media 'PATH' is not an uploaded asset" in messages[0]


def test_an_uploaded_asset_wins_over_a_local_path_without_the_disk_being_asked(
    tmp_path: Path,
) -> None:
    """With a second candidate for the same media, which one is used must not depend on
    whether the server holds the first: the asset is used either way."""
    existing = tmp_path / "secret.mp4"
    existing.write_bytes(b"not for you")
    for local in (str(existing), str(tmp_path / "absent.mp4")):
        project = load_remote_project(editor_project(local, pool=ASSET))
        (clip,) = project.timeline.tracks[0].clips
        assert str(getattr(clip.source, "path", "")).endswith(ASSET)


def test_which_of_two_local_paths_is_refused_does_not_tell_which_exists(
    tmp_path: Path,
) -> None:
    """A media item with a path and a relativePath (the editor's media pool): the refusal named
    the second when it existed on the server and the first otherwise, so a client could learn
    whether any file of the server (``../../etc/passwd``, another user's upload) exists."""

    def pool_project(relative: str) -> dict[str, Any]:
        project = editor_project("unused")
        del project["sections"][0]["tracks"][0]["clips"][0]["mediaFile"]
        media = {"id": "m", "path": "/nowhere/x.mp4", "relativePath": relative}
        project["resources"]["media"] = [media]
        return project

    existing = tmp_path / "secret.mp4"
    existing.write_bytes(b"not for you")
    messages = [
        refusal(pool_project(str(path)))
        for path in (existing, tmp_path / "absent.mp4", Path("/etc/passwd"))
    ]
    assert "media '/nowhere/x.mp4' is not an uploaded asset" in messages[0]
    assert messages[0] == messages[1] == messages[2]


def otio_document(url: str) -> dict[str, Any]:
    """An OTIO timeline of one clip whose media is ``url``, as Resolve writes its .otio."""
    import json

    import opentimelineio as otio

    rt = otio.opentime.RationalTime
    clip = otio.schema.Clip(
        name="shot",
        media_reference=otio.schema.ExternalReference(
            target_url=url, available_range=otio.opentime.TimeRange(rt(0, 30), rt(30, 30))
        ),
        source_range=otio.opentime.TimeRange(rt(0, 30), rt(15, 30)),
    )
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video, children=[clip])
    tl = otio.schema.Timeline(name="cut", tracks=[track])
    document: dict[str, Any] = json.loads(otio.adapters.write_to_string(tl, "otio_json"))
    return document


@pytest.mark.parametrize("as_text", [True, False])
def test_an_otio_documents_media_relink_by_file_name_to_assets(as_text: bool) -> None:
    """Resolve's .otio names its media where they were on the editor's machine; `media` relinks
    them as it does an FCP XML's (it was ignored, and the clip refused as a local path)."""
    import json

    document = otio_document("file:///Volumes/Media/Card%201/src.mp4")
    sent: Any = json.dumps(document) if as_text else document
    with pytest.raises(ValidationError, match="'shot'.*not an uploaded asset"):
        load_remote_project(sent)
    project = load_remote_project(sent, {"src.mp4": ASSET})
    assert [f.value for f in media_fields(project.document)] == [ASSET]


@pytest.mark.parametrize("kind", ["otio", "fcpxml"])
def test_a_project_text_starting_with_a_byte_order_mark_is_read(kind: str) -> None:
    """A file a Windows tool saved, sent as read: the BOM made an .otio "none of" the formats
    (Unexpected UTF-8 BOM) and an FCPXML not recognised as one."""
    import json

    if kind == "otio":
        text = json.dumps(otio_document("file:///Volumes/Media/src.mp4"))
    else:
        text = (Path(__file__).parents[1] / "data" / "nle" / "fcpx_clips.fcpxml").read_text()
    assert _outcome("\ufeff" + text) == _outcome(text)


def _outcome(text: str) -> Any:
    """The document a project text loads as, or the problems it is refused with."""
    from common.errors import TimelineError

    try:
        return load_remote_project(text, {"src.mp4": ASSET}).document
    except TimelineError as exc:
        return str(exc)


def test_a_text_of_blank_lines_is_refused_at_once() -> None:
    """The EDL sniffing pattern's blanks crossed line ends: 20,000 blank lines (40 KB) held
    the server's CPU for 20 s, quadratically more for more; it is now refused in a blink."""
    import time

    from common.errors import TimelineError

    began = time.monotonic()
    with pytest.raises(TimelineError, match="none of them"):
        load_remote_project(" \n" * 30_000 + "x")
    assert time.monotonic() - began < 5  # 45 s before


def test_a_media_map_beside_a_timeline_studio_project_is_refused_not_ignored() -> None:
    from common.errors import TimelineError
    from tests.helpers import colour_project

    with pytest.raises(TimelineError, match="media relinks an editor's export .* leave media out"):
        load_remote_project(colour_project(1.0), {"src.mp4": ASSET})


@pytest.mark.parametrize("declared", ["UTF-16", "ISO-8859-1", "windows-1252"])
def test_an_xml_text_declaring_another_encoding_is_read_as_sent(declared: str) -> None:
    """A client sends the text it decoded from a UTF-16 or Latin-1 file, its declaration kept:
    stored as UTF-8 and read by that declaration, an accented clip name came out garbled
    (Latin-1) or the file was refused (UTF-16)."""
    from tests.chunking.test_otio_fcpxml_checks import CUT

    text = CUT.replace('name="one"', 'name="Über Straße"')
    sent = text.replace('encoding="UTF-8"', f'encoding="{declared}"', 1)
    assert sent != text
    project = load_remote_project(sent, {"a.mp4": ASSET})
    assert project.document == load_remote_project(text, {"a.mp4": ASSET}).document
    assert "Über Straße" in str(project.document)
