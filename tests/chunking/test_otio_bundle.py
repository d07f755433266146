"""OpenTimelineIO bundles (.otiod folders, .otioz zips) as OTIO's own adapters write them, and
the guards on what an .otioz may unpack and how deep an .otio may nest."""

from __future__ import annotations

import stat
import time
import zipfile
from pathlib import Path

import opentimelineio as otio
import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import FileSource
from chunking.timeline.otio_bundle import MAX_JSON_DEPTH, json_depth
from common.errors import TimelineError, ValidationError
from tests.media import make_video


@pytest.fixture(autouse=True)
def bundle_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "unpacked"
    monkeypatch.setenv("CLOUDRENDER_BUNDLE_DIR", str(folder))
    return folder


def timeline_of(media: Path) -> otio.schema.Timeline:
    """One second of `media` at 30 fps, referenced by its absolute path (the bundle adapters
    copy it into the bundle and make the reference relative)."""
    rate = 30
    clip = otio.schema.Clip(
        name="shot",
        media_reference=otio.schema.ExternalReference(
            target_url=str(media),
            available_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(60, rate)
            ),
        ),
        source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(15, rate), otio.opentime.RationalTime(30, rate)
        ),
    )
    track = otio.schema.Track(name="V1")
    track.append(clip)
    tl = otio.schema.Timeline(name="bundled")
    tl.tracks.append(track)
    return tl


@pytest.mark.parametrize("suffix", [".otiod", ".otioz"])
def test_bundles_written_by_otio_load_with_their_media_inside(
    tmp_path: Path, bundle_dir: Path, suffix: str
) -> None:
    media = make_video(tmp_path / "shot.mp4", frames=60, size=(64, 36))
    bundle = tmp_path / f"film{suffix}"
    otio.adapters.write_to_file(timeline_of(media), str(bundle))
    media.unlink()  # only the bundle's copy is left
    timeline = load(str(bundle))
    (clip,) = timeline.tracks[0].clips
    assert timeline.frames == 30 and clip.source_start == 0.5
    folder = bundle if suffix == ".otiod" else bundle_dir
    assert isinstance(clip.source, FileSource)
    assert Path(clip.source.path).resolve().is_relative_to(folder.resolve())
    assert Path(clip.source.path).name == "shot.mp4" and Path(clip.source.path).is_file()
    if suffix == ".otioz":
        # Unpacked once per content: loading again writes nothing new.
        (unpacked,) = bundle_dir.iterdir()
        before = unpacked.stat().st_mtime_ns
        time.sleep(0.01)
        load(str(bundle))
        assert list(bundle_dir.iterdir()) == [unpacked] and unpacked.stat().st_mtime_ns == before


def zipped(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("members", "links", "message"),
    [
        ({"media/a.mp4": b"x"}, (), "an OTIO bundle without its content.otio"),
        (
            {"content.otio": b"{}", "media/../../evil": b"x"},
            (),
            "'media/../../evil' is not a plain",
        ),
        ({"content.otio": b"{}", "media//etc/x": b"x"}, (), "is not a plain name"),
        ({"content.otio": b"{}"}, ("media/link",), "'media/link' is a symbolic link"),
        # A member under another member's file: its folder cannot be made (a raw
        # FileExistsError with a traceback before).
        (
            {"content.otio": b"{}", "media/a": b"x", "media/a/b": b"y"},
            (),
            "'media/a/b' cannot be unpacked",
        ),
    ],
)
def test_hostile_otioz_is_refused_and_writes_nothing_outside(
    tmp_path: Path,
    bundle_dir: Path,
    members: dict[str, bytes],
    links: tuple[str, ...],
    message: str,
) -> None:
    bundle = zipped(tmp_path / "bad.otioz", members, links)
    with pytest.raises(TimelineError, match=message.replace("(", r"\(")):
        load(str(bundle))
    assert not (tmp_path / "evil").exists()
    assert not bundle_dir.exists() or not [p for p in bundle_dir.rglob("*") if p.is_file()]


def test_a_file_that_is_not_a_zip_is_one_line(tmp_path: Path) -> None:
    bundle = tmp_path / "text.otioz"
    bundle.write_text("not a zip")
    with pytest.raises(TimelineError, match=r"text.otioz: not a readable OTIO bundle"):
        load(str(bundle))


def test_a_bundle_folder_without_its_timeline(tmp_path: Path) -> None:
    (tmp_path / "empty.otiod").mkdir()
    with pytest.raises(TimelineError, match="an OTIO bundle folder without its content.otio"):
        load(str(tmp_path / "empty.otiod"))


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [[{"b": 1}]]}', 4),
        ('{"a": "[[[[[{{{{"}', 1),  # brackets inside strings nest nothing
        ('{"a": "\\"[[["}', 1),
    ],
)
def test_json_depth(text: str, depth: int) -> None:
    assert json_depth(text) == depth


def test_an_otio_nested_past_any_timeline_is_refused_at_once(tmp_path: Path) -> None:
    """OTIO's reader recurses without a limit: 30,000 levels ran for minutes, 100,000 crashed."""
    path = tmp_path / "deep.otio"
    levels = 100_000
    path.write_text(
        '{"OTIO_SCHEMA": "Timeline.1", "metadata": {"x": ' + "[" * levels + "]" * levels + "}}"
    )
    began = time.monotonic()
    with pytest.raises(TimelineError, match=f"nest more than {MAX_JSON_DEPTH} deep"):
        load(str(path))
    assert time.monotonic() - began < 10


EMPTY_TIMELINE = (
    b'{"OTIO_SCHEMA": "Timeline.1", "tracks": {"OTIO_SCHEMA": "Stack.1", "children": []}}'
)


def deflated(path: Path, members: dict[str, int]) -> Path:
    """A bundle of an empty timeline and members of that many zero bytes, deflated."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("content.otio", EMPTY_TIMELINE)
        for name, size in members.items():
            with archive.open(name, "w") as out:
                for _ in range(size // 2**20):
                    out.write(bytes(2**20))
    return path


@pytest.mark.parametrize(
    ("members", "message"),
    [
        # One member of zeros, a thousand times its packed size: named, never written.
        ({"media/zeros.mp4": 32 * 2**20}, r"'media/zeros.mp4' unpacks to 33554432 bytes"),
        # Members each small enough alone, together far more than the archive holds.
        ({f"media/{i}.wav": 2**20 for i in range(24)}, r"unpack to 25165\d+ bytes from a"),
    ],
)
def test_an_otioz_that_unpacks_far_beyond_its_size_is_refused_before_writing(
    tmp_path: Path, bundle_dir: Path, members: dict[str, int], message: str
) -> None:
    bundle = deflated(tmp_path / "bomb.otioz", members)
    with pytest.raises(TimelineError, match=message) as caught:
        load(str(bundle))
    assert "zip bomb" in str(caught.value) and str(bundle) in str(caught.value)
    assert not bundle_dir.exists() or not [p for p in bundle_dir.rglob("*") if p.is_file()]


def test_an_otioz_of_media_that_compress_little_still_unpacks(
    tmp_path: Path, bundle_dir: Path
) -> None:
    """A deflated bundle of a small, well-compressing member is no bomb: below the size at
    which the ratio counts, it is unpacked as before."""
    bundle = deflated(tmp_path / "small.otioz", {"media/still.wav": 2 * 2**20})
    with pytest.raises(TimelineError, match="the timeline is empty"):
        load(str(bundle))
    assert [p.name for p in bundle_dir.rglob("still.wav")] == ["still.wav"]


def test_an_otiod_media_link_to_outside_the_bundle_is_named(tmp_path: Path) -> None:
    """A link in an .otiod's media/ to a file elsewhere was followed without a word: the
    bundle, moved or sent, then lacks its media. It is still read (the user's own link), with
    a warning naming it; strict validation refuses it; a link within the bundle is no news."""
    media = make_video(tmp_path / "shot.mp4", frames=60, size=(64, 36))
    bundle = tmp_path / "film.otiod"
    otio.adapters.write_to_file(timeline_of(media), str(bundle))
    (copied,) = (bundle / "media").iterdir()
    copied.rename(bundle / "kept.mp4")
    copied.symlink_to(bundle / "kept.mp4")
    assert not any("symbolic link" in w for w in load(str(bundle)).warnings)
    copied.unlink()
    copied.symlink_to(media)
    timeline = load(str(bundle))
    assert timeline.frames == 30
    (warning,) = [w for w in timeline.warnings if "symbolic link" in w]
    assert f"media/{copied.name}" in warning and str(media.resolve()) in warning
    assert "outside the bundle" in warning
    with pytest.raises(ValidationError, match="outside the bundle"):
        load(str(bundle), strict=True)


def test_an_otioz_whose_timeline_is_unreadable_is_named_not_its_unpacked_copy(
    tmp_path: Path, bundle_dir: Path
) -> None:
    media = make_video(tmp_path / "shot.mp4", frames=60, size=(64, 36))
    good = tmp_path / "film.otioz"
    otio.adapters.write_to_file(timeline_of(media), str(good))
    with zipfile.ZipFile(good) as source:
        members = {name: source.read(name) for name in source.namelist()}
    broken = members["content.otio"].decode().replace('"RationalTime.1"', '"RationalTime.9"', 1)
    bad = zipped(tmp_path / "bad.otioz", {**members, "content.otio": broken.encode()})
    with pytest.raises(TimelineError) as refused:
        load(str(bad))
    # Was: /tmp/.../unpacked/<digest>/content.otio: not a readable OpenTimelineIO file (...)
    assert str(refused.value).startswith(f"{bad} (its content.otio): not a readable")
    assert str(bundle_dir) not in str(refused.value)
