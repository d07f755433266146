"""Client-side asset sync: content-addressed uploads, path rewriting and input safety."""

from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.studio import load_project
from common.errors import TimelineError, ValidationError
from common.units import format_size
from orchestrator.assets import (
    SyncResult,
    asset_key,
    path_problem,
    resolve_path,
    sync_assets,
)
from providers.storage import LocalStorage, Storage, StorageError
from tests.counting_storage import CountingStorage
from tests.media import make_image, make_video, project, solid, video_track


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_clip(cid: str, path: str, start: float = 0, end: float = 1) -> dict[str, Any]:
    return {"id": cid, "start_time": start, "end_time": end, "source": {"File": path}}


@pytest.fixture
def base(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    (directory / "media").mkdir(parents=True)
    make_video(directory / "media" / "a.mp4", frames=3, size=(32, 18))
    make_image(directory / "media" / "b.PNG", (8, 8), (0, 0, 255, 255))
    return directory


def media_bytes(base: Path) -> tuple[bytes, bytes]:
    """The bytes of the fixture's a.mp4 and b.PNG."""
    return (base / "media" / "a.mp4").read_bytes(), (base / "media" / "b.PNG").read_bytes()


@pytest.fixture
def storage(tmp_path: Path) -> CountingStorage:
    return CountingStorage(LocalStorage(str(tmp_path / "bucket")))


def two_file_project(base: Path) -> dict[str, Any]:
    """Three clips over two files: a.mp4 twice (once via source_path), b.PNG absolute."""
    return project(
        [
            video_track(
                "v1",
                [
                    file_clip("c1", "media/a.mp4", 0, 1),
                    {"id": "c2", "start_time": 1, "end_time": 2, "source_path": "./media/a.mp4"},
                    {"id": "c3", "start_time": 2, "end_time": 3, **solid("#ff0000")},
                ],
            ),
            video_track("v2", [file_clip("c4", str(base / "media" / "b.PNG"), 0, 3)]),
        ]
    )


def sync(doc: dict[str, Any], base: Path, storage: Storage, **kw: Any) -> SyncResult:
    return sync_assets(doc, str(base), storage, **kw)


# -- pure helpers -------------------------------------------------------------------------------


def test_asset_key_is_hash_plus_extension() -> None:
    assert asset_key("ab" * 32, ".mp4") == "assets/" + "ab" * 32 + ".mp4"


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 bytes"), (1023, "1023 bytes"), (1536, "1.5 KiB"), (50 * 2**30, "50.0 GiB")],
)
def test_format_size(n: int, text: str) -> None:
    assert format_size(n) == text


def test_resolve_path_matches_the_loader(tmp_path: Path) -> None:
    assert resolve_path("a/../b.mp4", str(tmp_path)) == str(tmp_path / "b.mp4")
    assert resolve_path("/abs/x.mp4", str(tmp_path)) == "/abs/x.mp4"


@pytest.mark.parametrize(
    "path", ["media/a.mp4", "./a.mp4", "a/../b.mp4", "deep/er/x.mov", "/abs/elsewhere.mp4"]
)
def test_safe_paths_have_no_problem(path: str, tmp_path: Path) -> None:
    assert path_problem(path, str(tmp_path)) is None


@pytest.mark.parametrize("path", ["../../etc/passwd", "a/../../x", "../sibling.mp4", ".."])
def test_escaping_paths_are_refused(path: str, tmp_path: Path) -> None:
    problem = path_problem(path, str(tmp_path / "p"))
    assert problem is not None and "outside the project directory" in problem


@pytest.mark.parametrize(
    "path",
    ["http://example.com/a.mp4", "https://x/a.mp4", "ftp://h/a.mov", "s3://b/a.mp4", "file:///a"],
)
def test_urls_are_refused(path: str, tmp_path: Path) -> None:
    problem = path_problem(path, str(tmp_path))
    assert problem is not None and "download it first" in problem


def test_symlink_leading_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.mp4").write_bytes(b"s")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "link.mp4").symlink_to(tmp_path / "secret.mp4")
    (tmp_path / "p" / "dir").symlink_to(tmp_path)
    for path in ("link.mp4", "dir/secret.mp4"):
        problem = path_problem(path, str(tmp_path / "p"))
        assert problem is not None and "symlink" in problem


def test_symlink_staying_inside_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "real.mp4").write_bytes(b"r")
    (tmp_path / "link.mp4").symlink_to(tmp_path / "real.mp4")
    assert path_problem("link.mp4", str(tmp_path)) is None


def test_project_directory_reached_through_a_symlink_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.mp4").write_bytes(b"a")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert path_problem("a.mp4", str(tmp_path / "alias")) is None


# -- sync ---------------------------------------------------------------------------------------


def test_sync_uploads_each_distinct_file_once_and_rewrites_paths(
    base: Path, storage: CountingStorage
) -> None:
    doc = two_file_project(base)
    original = copy.deepcopy(doc)
    result = sync(doc, base, storage)

    a_bytes, b_bytes = media_bytes(base)
    a, b = sha(a_bytes), sha(b_bytes)
    assert sorted(storage.puts) == sorted([f"assets/{a}.mp4", f"assets/{b}.png"])
    assert (result.uploaded_bytes, result.skipped_bytes) == (len(a_bytes) + len(b_bytes), 0)
    assert result.assets == {
        "media/a.mp4": f"sha256:{a}.mp4",
        "./media/a.mp4": f"sha256:{a}.mp4",
        str(base / "media" / "b.PNG"): f"sha256:{b}.png",
    }
    clips = result.document["tracks"][0]["clips"]
    assert clips[0]["source"] == {"File": f"asset:sha256:{a}.mp4"}
    assert clips[1]["source_path"] == f"asset:sha256:{a}.mp4"
    assert clips[2]["source"] == "Generated"
    assert result.document["tracks"][1]["clips"][0]["source"]["File"] == f"asset:sha256:{b}.png"
    assert doc == original, "the caller's document must not change"
    stored = storage.local_path(f"assets/{a}.mp4")
    assert stored is not None and Path(stored).read_bytes() == a_bytes


def test_second_sync_uploads_nothing(base: Path, storage: CountingStorage) -> None:
    first = sync(two_file_project(base), base, storage)
    storage.puts.clear()
    second = sync(two_file_project(base), base, storage)
    assert storage.puts == []
    assert second.uploaded_bytes == 0
    assert second.skipped_bytes == first.uploaded_bytes == sum(map(len, media_bytes(base)))
    assert second.document == first.document


def test_changed_file_uploads_again_under_a_new_hash(base: Path, storage: CountingStorage) -> None:
    first = sync(two_file_project(base), base, storage)
    make_video(base / "media" / "a.mp4", frames=4, size=(32, 18))
    changed, b_bytes = media_bytes(base)
    storage.puts.clear()
    second = sync(two_file_project(base), base, storage)
    assert storage.puts == [f"assets/{sha(changed)}.mp4"]
    assert (second.uploaded_bytes, second.skipped_bytes) == (len(changed), len(b_bytes))
    assert second.assets["media/a.mp4"] != first.assets["media/a.mp4"]


def test_same_bytes_under_two_names_upload_once(base: Path, storage: CountingStorage) -> None:
    a_bytes = media_bytes(base)[0]
    (base / "copy.mp4").write_bytes(a_bytes)
    doc = project(
        [video_track("v", [file_clip("x", "media/a.mp4", 0, 1), file_clip("y", "copy.mp4", 1, 2)])]
    )
    result = sync(doc, base, storage)
    assert len(storage.puts) == 1
    assert (result.uploaded_bytes, result.skipped_bytes) == (len(a_bytes), 0)


def test_synced_document_resyncs_without_uploading(base: Path, storage: CountingStorage) -> None:
    first = sync(two_file_project(base), base, storage)
    storage.puts.clear()
    again = sync(first.document, base, storage)
    assert storage.puts == []
    assert again.document == first.document
    assert (again.uploaded_bytes, again.skipped_bytes) == (0, sum(map(len, media_bytes(base))))


def test_truncated_object_in_storage_is_replaced(base: Path, storage: CountingStorage) -> None:
    a_bytes = media_bytes(base)[0]
    key = f"assets/{sha(a_bytes)}.mp4"
    (base / "half").write_bytes(a_bytes[:10])
    storage.put_file(key, str(base / "half"))
    storage.puts.clear()
    doc = project([video_track("v", [file_clip("x", "media/a.mp4")])])
    result = sync(doc, base, storage)
    assert storage.puts == [key] and result.uploaded_bytes == len(a_bytes)
    assert storage.size(key) == len(a_bytes)


def test_synced_document_no_longer_loads_from_disk(base: Path, storage: CountingStorage) -> None:
    # The references are deliberately not paths: a worker must resolve them first.
    result = sync(two_file_project(base), base, storage)
    load_project(two_file_project(base), str(base))
    with pytest.raises(ValidationError, match="asset:sha256:"):
        load_project(result.document, str(base))


# -- input safety -------------------------------------------------------------------------------


def problems_of(doc: dict[str, Any], base: Path, storage: Storage, **kw: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        sync(doc, base, storage, **kw)
    assert isinstance(info.value, TimelineError)
    return info.value.problems


@pytest.mark.parametrize(
    "path", ["../../etc/passwd", "a/../../x", "media/../../outside.mp4", "http://h/a.mp4"]
)
def test_unsafe_path_names_clip_and_path(path: str, base: Path, storage: CountingStorage) -> None:
    doc = project([video_track("v", [file_clip("bad", path)])])
    [problem] = problems_of(doc, base, storage)
    assert "clip 'bad'" in problem and repr(path) in problem
    assert storage.puts == []


@pytest.mark.parametrize("scheme", ["http", "https", "ftp", "s3", "gs", "file"])
def test_url_sources_are_refused(scheme: str, base: Path, storage: CountingStorage) -> None:
    doc = project([video_track("v", [file_clip("web", f"{scheme}://host/a.mp4")])])
    [problem] = problems_of(doc, base, storage)
    assert problem.startswith("clip 'web': ") and "download it first" in problem


def test_symlink_escape_is_refused(base: Path, storage: CountingStorage) -> None:
    outside = base.parent / "secret.mp4"
    outside.write_bytes(b"secret")
    (base / "innocent.mp4").symlink_to(outside)
    doc = project([video_track("v", [file_clip("sneaky", "innocent.mp4")])])
    [problem] = problems_of(doc, base, storage)
    assert "clip 'sneaky'" in problem and "symlink" in problem
    assert storage.puts == []


def test_missing_file_names_clip_and_path(base: Path, storage: CountingStorage) -> None:
    doc = project([video_track("v", [file_clip("gone", "media/nope.mp4")])])
    [problem] = problems_of(doc, base, storage)
    assert "clip 'gone'" in problem and "not found" in problem and "media/nope.mp4" in problem


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n", "not a media file"),
        ("notes.mp4", b"just some text, renamed\n" * 50, "not a media file"),
        ("fake.png", b"\x89PNG but not really" * 20, "not a readable image"),
    ],
)
def test_files_that_are_not_media_are_never_uploaded(
    name: str, content: bytes, why: str, base: Path, storage: CountingStorage, tmp_path: Path
) -> None:
    # Absolute paths are allowed, so the media check is what stops a hostile project from
    # making the client copy a private file into the bucket.
    secret = tmp_path / "home" / name
    secret.parent.mkdir()
    secret.write_bytes(content)
    doc = project(
        [
            video_track(
                "v", [file_clip("ok", "media/a.mp4", 0, 1), file_clip("s", str(secret), 1, 2)]
            )
        ]
    )
    [problem] = problems_of(doc, base, storage)
    assert "clip 's'" in problem and why in problem and "not uploaded" in problem
    assert storage.puts == [] and storage.list("assets/") == []


def test_audio_only_files_are_media(base: Path, storage: CountingStorage) -> None:
    song = base / "song.m4a"
    with av.open(str(song), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48000, layout="stereo")
        for pos in range(0, 4800, 1024):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((2, 1024), np.float32), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = 48000, pos
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    doc = project([video_track("v", [file_clip("song", "song.m4a")])])
    assert sync(doc, base, storage).uploaded_bytes == song.stat().st_size


def test_directory_is_not_a_media_file(base: Path, storage: CountingStorage) -> None:
    doc = project([video_track("v", [file_clip("dir", "media")])])
    [problem] = problems_of(doc, base, storage)
    assert "clip 'dir'" in problem and "not a regular file" in problem


def test_unreadable_file_names_clip(
    base: Path, storage: CountingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod cannot lock root out, so deny access the way the check asks for it.
    locked = str(base / "media" / "a.mp4")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: p != locked and real_access(p, mode))
    doc = project([video_track("v", [file_clip("locked", "media/a.mp4")])])
    [problem] = problems_of(doc, base, storage)
    assert "clip 'locked'" in problem and "not readable" in problem


def test_oversized_file_names_clip_size_and_limit(base: Path, storage: CountingStorage) -> None:
    doc = project([video_track("v", [file_clip("huge", "media/a.mp4")])])
    size = len(media_bytes(base)[0])
    [problem] = problems_of(doc, base, storage, max_bytes=size - 1)
    assert "clip 'huge'" in problem
    assert f"asset 'media/a.mp4' is {format_size(size)}, above the limit of " in problem
    assert storage.puts == []


def test_file_at_the_limit_is_accepted(base: Path, storage: CountingStorage) -> None:
    doc = project([video_track("v", [file_clip("ok", "media/a.mp4")])])
    size = len(media_bytes(base)[0])
    assert sync(doc, base, storage, max_bytes=size).uploaded_bytes == size


def test_every_problem_is_reported_at_once_and_nothing_uploads(
    base: Path, storage: CountingStorage
) -> None:
    doc = project(
        [
            video_track(
                "v",
                [
                    file_clip("good", "media/b.PNG", 0, 1),
                    file_clip("escape", "../../etc/passwd", 1, 2),
                    file_clip("url", "https://cdn/x.mp4", 2, 3),
                    file_clip("missing", "nope.mov", 3, 4),
                    file_clip("bigger", "media/a.mp4", 4, 5),
                ],
            )
        ]
    )
    problems = problems_of(doc, base, storage, max_bytes=500)
    assert [p.split(":")[0] for p in problems] == [
        "clip 'escape'",
        "clip 'url'",
        "clip 'missing'",
        "clip 'bigger'",
    ]
    assert storage.puts == []


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("asset:sha256:nothex", "not an asset reference"),
        ("asset:sha256:" + "0" * 64 + ".mp4", "is not in storage"),
    ],
)
def test_bad_or_unknown_asset_refs_are_refused(
    ref: str, expected: str, base: Path, storage: CountingStorage
) -> None:
    doc = project([video_track("v", [file_clip("r", ref)])])
    [problem] = problems_of(doc, base, storage)
    assert problem.startswith("clip 'r': ") and expected in problem


def test_non_string_path_is_refused(base: Path, storage: CountingStorage) -> None:
    doc = project([video_track("v", [{"id": "n", "start_time": 0, "end_time": 1, "path": 7}])])
    [problem] = problems_of(doc, base, storage)
    assert problem == "clip 'n': media path must be a string, got 7"


def test_fields_the_loader_ignores_are_left_alone(base: Path, storage: CountingStorage) -> None:
    # With a source present the loader never reads source_path, so a stale one must not fail.
    clip = file_clip("c", "media/a.mp4") | {"source_path": "old/missing.mp4"}
    gen = {"id": "g", "start_time": 1, "end_time": 2, **solid("#000"), "file": "../x"}
    result = sync(project([video_track("v", [clip, gen])]), base, storage)
    clips = result.document["tracks"][0]["clips"]
    assert clips[0]["source_path"] == "old/missing.mp4"
    assert clips[1]["file"] == "../x"
    assert list(result.assets) == ["media/a.mp4"]


class EditingStorage(CountingStorage):
    """Storage during whose upload the editor saves the file again."""

    def __init__(self, inner: Storage, victim: Path) -> None:
        super().__init__(inner)
        self.victim = victim

    def put_file(self, key: str, path: str) -> None:
        super().put_file(key, path)
        self.victim.write_bytes(b"saved again, longer than before")


def test_file_changed_during_upload_is_not_left_under_its_hash(base: Path, tmp_path: Path) -> None:
    storage = EditingStorage(LocalStorage(str(tmp_path / "bucket")), base / "media" / "a.mp4")
    doc = project([video_track("v", [file_clip("busy", "media/a.mp4")])])
    [problem] = problems_of(doc, base, storage)
    assert "clip 'busy'" in problem and "changed while it was being uploaded" in problem
    assert storage.list("assets/") == []


class SizelessStorage(CountingStorage):
    """A storage that cannot tell an object's size (as encrypted storage of remote objects)."""

    def size(self, key: str) -> int:
        raise StorageError(f"cannot size {key}", key=key)


def test_storage_that_cannot_size_objects_gets_uploads_again(base: Path, tmp_path: Path) -> None:
    storage = SizelessStorage(LocalStorage(str(tmp_path / "bucket")))
    doc = project([video_track("v", [file_clip("x", "media/a.mp4")])])
    sync(doc, base, storage)
    again = sync(doc, base, storage)
    assert len(storage.puts) == 2 and again.uploaded_bytes == len(media_bytes(base)[0])
    assert sync(again.document, base, storage).skipped_bytes == 0
