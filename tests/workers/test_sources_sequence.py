"""Image sequences: decoding numbered images as a video, and every place that ships or checks a
sequence's files (asset sync, the worker's cache, path confinement, the sandbox, validation).
Also: a video source holds its first frame before time 0."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chunking.timeline.model import (
    Clip,
    FileSource,
    ImageSequence,
    Timeline,
    Track,
    TrackKind,
    Transition,
)
from common.errors import AssetNotFound, MediaError, ValidationError
from common.settings import Settings
from orchestrator.assets import sync_assets
from providers.storage import LocalStorage
from tests.counting_storage import CountingStorage
from tests.media import identify, level, make_video
from workers.asset_sequences import sequence_names
from workers.assets import AssetCache, media_fields, resolve_assets
from workers.job_policy import JobRefused, WorkerPolicy, check_loaded_media, check_media
from workers.probe import media_problems
from workers.sandbox import _media
from workers.sequences import SequenceSource, files_for_frames, sequence_files
from workers.sources import open_file
from workers.video_source import VideoSource

SIZE = (64, 36)


def images(folder: Path, count: int, start: int = 1001, step: int = 1) -> ImageSequence:
    """``count`` PNGs named shot.NNNN.png in ``folder``; image n has make_video's colour n."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        Image.new("RGB", SIZE, level(n)).save(folder / f"shot.{start + n * step:04d}.png")
    return ImageSequence("shot.", ".png", start, count, Fraction(24), step, 4)


def first(folder: Path, sequence: ImageSequence) -> str:
    return str(folder / sequence.name(0))


def shown(source: SequenceSource, seconds: Fraction) -> int:
    return identify(source.picture_at(seconds).rgb)


def timeline_of(clip: Clip, frames: int, transitions: tuple[Transition, ...] = ()) -> Timeline:
    track = Track("v", TrackKind.VIDEO, clips=(clip,))
    return Timeline(Fraction(24), 64, 36, frames, tracks=(track,), transitions=transitions)


def sequence_doc(path: str, sequence: ImageSequence) -> dict[str, object]:
    """A project whose one clip is the sequence, as the OTIO importer writes it."""
    clip = {
        "id": "seq",
        "start_time": 0,
        "end_time": 1,
        "source": {"File": path},
        "image_sequence": {
            "prefix": sequence.prefix,
            "suffix": sequence.suffix,
            "start_frame": sequence.start_frame,
            "count": sequence.count,
            "rate": "24/1",
            "frame_step": sequence.frame_step,
            "padding": sequence.padding,
        },
    }
    return {"tracks": [{"id": "v", "track_type": "Video", "clips": [clip]}]}


# -- decoding ---------------------------------------------------------------------------------


def test_images_play_at_the_sequence_rate_and_hold_at_both_ends(tmp_path: Path) -> None:
    seq = images(tmp_path, 6, step=2)  # shot.1001, shot.1003, ... on twos
    source = open_file(first(tmp_path, seq), "seq", seq)
    assert isinstance(source, SequenceSource)
    assert [shown(source, Fraction(n, 24)) for n in range(6)] == list(range(6))
    assert shown(source, Fraction(5, 48)) == 2  # mid-image: the image that started
    assert shown(source, Fraction(-1, 24)) == 0  # before the first image: the first
    assert shown(source, Fraction(100)) == 5  # past the end: the last
    assert source.duration == Fraction(6, 24)


def test_pictures_are_delivered_at_the_size_asked(tmp_path: Path) -> None:
    seq = images(tmp_path, 2)
    source = open_file(first(tmp_path, seq), "seq", seq)
    picture = source.picture_at(Fraction(1, 24), lambda w, h: (w // 2, h // 2))
    assert picture.rgb.shape == (SIZE[1] // 2, SIZE[0] // 2, 3)
    assert identify(picture.rgb) == 1


def test_a_missing_image_names_the_clip_and_the_file(tmp_path: Path) -> None:
    seq = images(tmp_path, 4)
    os.unlink(tmp_path / "shot.1002.png")
    source = open_file(first(tmp_path, seq), "Shot 10", seq)
    assert shown(source, Fraction(0)) == 0
    with pytest.raises(AssetNotFound, match=r"clip 'Shot 10': image shot\.1002\.png .* missing"):
        source.picture_at(Fraction(1, 24))


def _film_image(path: Path, codec: str, pix_fmt: str, level: int) -> None:
    """One DPX or EXR image of a flat grey ``level``, encoded by FFmpeg."""
    import av

    ctx = av.CodecContext.create(codec, "w")
    assert isinstance(ctx, av.VideoCodecContext)
    ctx.width, ctx.height, ctx.pix_fmt = SIZE[0], SIZE[1], pix_fmt
    ctx.time_base = Fraction(1, 24)
    grey = np.full((SIZE[1], SIZE[0], 3), level, np.uint8)
    frame = av.VideoFrame.from_ndarray(grey, format="rgb24").reformat(format=pix_fmt)
    path.write_bytes(b"".join(bytes(p) for p in [*ctx.encode(frame), *ctx.encode(None)]))


@pytest.mark.parametrize(
    ("suffix", "codec", "pix_fmt"), [(".dpx", "dpx", "rgb48le"), (".exr", "exr", "gbrpf32le")]
)
def test_a_dpx_or_exr_sequence_plays(tmp_path: Path, suffix: str, codec: str, pix_fmt: str) -> None:
    # The film and VFX formats of image sequences: FFmpeg's readers for them were not allowed,
    # so validate and render refused them as "not an allowed media format".
    for n in range(3):
        _film_image(tmp_path / f"plate.{n + 1001}{suffix}", codec, pix_fmt, 40 + 80 * n)
    seq = ImageSequence("plate.", suffix, 1001, 3, Fraction(24), 1, 0)
    source = open_file(str(tmp_path / f"plate.1001{suffix}"), "plate", seq)
    levels = [int(np.median(source.picture_at(Fraction(n, 24)).rgb)) for n in range(3)]
    assert [abs(got - want) <= 1 for got, want in zip(levels, (40, 120, 200), strict=True)] == [
        True
    ] * 3
    clip = Clip("plate", "v", FileSource(str(tmp_path / f"plate.1001{suffix}"), seq), 0, 3)
    assert media_problems(timeline_of(clip, 3), str(tmp_path)) == []


def test_a_video_holds_its_first_frame_before_time_zero(tmp_path: Path) -> None:
    source = VideoSource(str(make_video(tmp_path / "v.mp4", frames=5, fps=24)), "v")
    try:
        before = source.picture_at(Fraction(-2, 24)).rgb
        assert identify(before) == 0
        assert np.array_equal(before, source.picture_at(Fraction(0)).rgb)
    finally:
        source.close()


def test_sequence_names_and_files(tmp_path: Path) -> None:
    seq = ImageSequence("a_", ".exr", 8, 3, Fraction(24), 1, 3)
    assert sequence_files(FileSource(str(tmp_path / "a_008.exr"), seq)) == [
        str(tmp_path / n) for n in ("a_008.exr", "a_009.exr", "a_010.exr")
    ]
    doc = sequence_doc("a_008.exr", seq)["tracks"][0]["clips"][0]  # type: ignore[index]
    assert sequence_names(doc["image_sequence"]) == ["a_008.exr", "a_009.exr", "a_010.exr"]
    for bad in ({"prefix": "../a_"}, {"count": 0}, {"start_frame": "8"}):
        with pytest.raises(MediaError, match="image_sequence"):
            sequence_names({**doc["image_sequence"], **bad})


# -- what a chunk reads, and what validation looks at -----------------------------------------


def test_an_ntsc_sequence_on_a_24_fps_timeline_shows_image_n_at_frame_n(tmp_path: Path) -> None:
    """A 23.976 fps image sequence on a 24 fps timeline showed its first image twice and then
    every image one late (as a 23.976 video did): each frame now shows the image that starts
    before its middle, and a chunk mounts exactly the images it shows."""
    import dataclasses

    from workers.compositor import Compositor

    seq = dataclasses.replace(images(tmp_path / "frames", 30), rate=Fraction(24000, 1001))
    clip = Clip("seq", "v", FileSource(first(tmp_path / "frames", seq), seq), 0, 30)
    tl = timeline_of(clip, 30)
    comp = Compositor(tl)
    try:
        assert [identify(comp.frame(t)) for t in range(30)] == list(range(30))
    finally:
        comp.close()
    names = [os.path.basename(p) for p in files_for_frames(tl, 10, 20)]
    assert names == [seq.name(n) for n in range(10, 20)]


def test_a_chunk_mounts_only_the_images_its_frames_show(tmp_path: Path) -> None:
    seq = images(tmp_path / "frames", 48)
    clip = Clip("seq", "v", FileSource(first(tmp_path / "frames", seq), seq), 0, 48)
    tl = timeline_of(clip, 48)
    names = [os.path.basename(p) for p in files_for_frames(tl, 10, 20)]
    assert names == [seq.name(n) for n in range(10, 20)]
    # A transition draws the clip before its start: those images are needed too.
    late = Clip("seq", "v", FileSource(first(tmp_path / "frames", seq), seq), 24, 48)
    other = Clip("a", "v", FileSource(str(tmp_path / "a.mp4")), 0, 28)
    track = Track("v", TrackKind.VIDEO, clips=(other, late))
    dissolve = Transition("t", "dissolve", "a", "seq", 20, 28)
    both = Timeline(Fraction(24), 64, 36, 48, tracks=(track,), transitions=(dissolve,))
    mounted = {os.path.basename(path) for _, path in _media(both, Settings(), 20, 24)}
    assert mounted == {"a.mp4", *(seq.name(n) for n in range(1))}  # held at its first image


def test_validation_finds_missing_images(tmp_path: Path) -> None:
    seq = images(tmp_path, 5)
    os.unlink(tmp_path / "shot.1003.png")
    os.unlink(tmp_path / "shot.1004.png")
    clip = Clip("seq", "v", FileSource(first(tmp_path, seq), seq), 0, 5)
    assert media_problems(timeline_of(clip, 5), str(tmp_path)) == [
        "clip 'seq': image sequence is missing 2 of its 5 images (first missing: shot.1003.png)"
    ]


def test_confinement_checks_every_image(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    seq = images(root, 3)
    outside.mkdir()
    secret = outside / "secret.png"
    os.replace(root / "shot.1002.png", secret)
    (root / "shot.1002.png").symlink_to(secret)  # one image leads out of the media root
    policy = WorkerPolicy(media_roots=(os.path.realpath(root),))
    doc = sequence_doc("shot.1001.png", seq)
    with pytest.raises(JobRefused, match=r"shot\.1002\.png.*clip 'seq'.*outside"):
        check_media(doc, str(root), assets=False, policy=policy)
    clip = Clip("seq", "v", FileSource(first(root, seq), seq), 0, 3)
    with pytest.raises(JobRefused, match=r"shot\.1002\.png.*clip 'seq'"):
        check_loaded_media(timeline_of(clip, 3), str(tmp_path / "cache"), policy)
    os.unlink(root / "shot.1002.png")
    os.replace(secret, root / "shot.1002.png")
    check_media(doc, str(root), assets=False, policy=policy)
    check_loaded_media(timeline_of(clip, 3), str(tmp_path / "cache"), policy)


# -- asset sync and the worker's cache --------------------------------------------------------


def test_a_synced_sequence_uploads_every_image_and_resolves_to_a_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    seq = images(project / "frames", 4)
    storage = CountingStorage(LocalStorage(str(tmp_path / "bucket")))
    doc = sequence_doc("frames/shot.1001.png", seq)
    synced = sync_assets(doc, str(project), storage)
    (field,) = media_fields(synced.document)
    assert field.sequence is not None
    refs = field.sequence["assets"]
    assert len(refs) == 4 and refs[0] == field.value
    assert len(set(refs)) == 4  # four different images, four assets
    assert len(synced.assets) == 4 and synced.uploaded_bytes > 0
    assert sync_assets(doc, str(project), storage).uploaded_bytes == 0  # nothing new the 2nd time

    cache = AssetCache(str(tmp_path / "cache"), max_bytes=1 << 20)
    resolved = resolve_assets(synced.document, storage, cache)
    (local,) = media_fields(resolved)
    path = str(local.value)
    assert os.path.basename(path) == "shot.1001.png"
    assert local.sequence is not None and "assets" not in local.sequence
    source = open_file(path, "seq", seq)
    assert [shown(source, Fraction(n, 24)) for n in range(4)] == [0, 1, 2, 3]
    check_loaded_media(
        timeline_of(Clip("seq", "v", FileSource(path, seq), 0, 4), 4),
        str(tmp_path / "cache"),
        WorkerPolicy(media_roots=(str(tmp_path / "elsewhere"),)),
    )
    # Evicting an image breaks its folder, which goes with the eviction; asking again rebuilds.
    cache.max_bytes = 0
    cache.evict()
    assert not os.path.exists(os.path.dirname(path))
    cache.max_bytes = 1 << 20
    again = media_fields(resolve_assets(synced.document, storage, cache))[0].value
    assert again == path and os.path.isfile(path)


def test_sync_names_a_missing_or_foreign_image(tmp_path: Path) -> None:
    project = tmp_path / "project"
    seq = images(project, 4)
    storage = LocalStorage(str(tmp_path / "bucket"))
    os.unlink(project / "shot.1003.png")
    (project / "shot.1004.png").write_text("not an image")
    with pytest.raises(ValidationError) as err:
        sync_assets(sequence_doc("shot.1001.png", seq), str(project), storage)
    assert len(err.value.problems) == 2
    assert "shot.1003.png" in err.value.problems[0] and "not found" in err.value.problems[0]
    assert "shot.1004.png" in err.value.problems[1] and "image" in err.value.problems[1]
