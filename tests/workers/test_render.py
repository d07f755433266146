"""Rendering to files: codecs, containers, settings honoured, audio, atomic output."""

from __future__ import annotations

import os
import resource
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import DecodeError, EncodeError, RenderCancelled, RenderError
from tests.media import decode_rgb, make_video, project, solid, video_track
from tests.workers.test_atomic import assert_durable, record_sync, umask
from tests.workers.test_stitch import top_level_boxes
from workers.compositor import Compositor
from workers.render import render_to_file


def timeline(tmp: Path, *, audio: bool = False, **export: Any) -> Timeline:
    src = make_video(tmp / "src.mp4", frames=45, audio_hz=440.0 if audio else None)
    doc = project(
        [
            video_track(
                "v",
                [
                    {"id": "bg", "start_time": 0, "end_time": 1.5, **solid("#204060")},
                ],
            ),
            video_track(
                "fg",
                [
                    {
                        "id": "v",
                        "start_time": 0,
                        "end_time": 1.5,
                        "source": {"File": str(src)},
                        "transform": {"scale_x": 0.5, "scale_y": 0.5},
                    },
                ],
            ),
        ],
        settings={"export": {"preset": "ultrafast", **export}},
    )
    return load_project(doc, str(tmp))


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = list(c.decode(v))
        info = {
            "codec": v.codec_context.name,
            "frames": len(frames),
            "keys": [i for i, f in enumerate(frames) if f.key_frame],
            "types": {int(f.pict_type) for f in frames},  # 1 I, 2 P, 3 B
            "audio": [a.codec_context.name for a in c.streams.audio],
        }
    return info


@pytest.mark.parametrize(
    ("container", "codec", "decoder"),
    [
        ("mp4", "h264", "h264"),
        ("mkv", "hevc", "hevc"),
        ("mkv", "av1", "libdav1d"),
        ("webm", "vp9", "vp9"),
        ("mov", "h264", "h264"),
    ],
)
def test_codecs_and_containers(tmp_path: Path, container: str, codec: str, decoder: str) -> None:
    tl = timeline(tmp_path, format=container, codec=codec)
    out = tmp_path / f"out.{container}"
    summary = render_to_file(tl, str(out))
    info = probe(out)
    assert info["frames"] == 45 and summary.frames == 45
    assert info["codec"] in (decoder, codec, "av1", "libvpx-vp9")
    assert summary.bytes == out.stat().st_size > 0


@pytest.mark.parametrize("container", ["mp4", "mov"])
def test_hevc_in_mp4_and_mov_carries_the_tag_apple_players_need(
    tmp_path: Path, container: str
) -> None:
    tl = timeline(tmp_path, format=container, codec="hevc")
    out = tmp_path / f"out.{container}"
    render_to_file(tl, str(out))
    with av.open(str(out)) as result:
        assert result.streams.video[0].codec_context.codec_tag == "hvc1"  # not FFmpeg's hev1


def test_keyframe_interval_b_frames_and_crf_are_honoured(tmp_path: Path) -> None:
    tl = timeline(tmp_path, keyframe_interval=10, b_frames=0, crf=30)
    out = tmp_path / "gop.mp4"
    render_to_file(tl, str(out))
    info = probe(out)
    assert info["keys"] == [0, 10, 20, 30, 40]
    boxes = top_level_boxes(out)  # fast start: playable before the end arrives
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    assert 3 not in info["types"]
    with_b = tmp_path / "b3.mp4"
    render_to_file(replace(tl, export=with_overrides(tl.export, b_frames=3)), str(with_b))
    assert 3 in probe(with_b)["types"]
    better = tmp_path / "crf10.mp4"
    render_to_file(replace(tl, export=with_overrides(tl.export, crf=10)), str(better))
    assert better.stat().st_size > out.stat().st_size


@pytest.mark.parametrize(("b_frames", "preset"), [(8, "ultrafast"), (16, "veryfast")])
def test_hevc_takes_more_b_frames_than_its_preset_looks_ahead(
    tmp_path: Path, b_frames: int, preset: str
) -> None:
    """x265 refuses B-frame runs longer than its look-ahead (ultrafast: 5), which a user's
    b_frames of up to 16 must not hit."""
    tl = timeline(tmp_path, codec="hevc", b_frames=b_frames, preset=preset)
    out = tmp_path / "hevc.mp4"
    render_to_file(tl, str(out))
    assert probe(out)["frames"] == 45


@pytest.mark.parametrize(
    ("lossless", "tags"),
    [(False, ("bt709", "bt709", "bt709", "tv")), (True, ("bt709", "bt709", "gbr", "pc"))],
)
def test_output_says_square_pixels_and_its_colours(
    tmp_path: Path, lossless: bool, tags: tuple[str, ...]
) -> None:
    """QC tools and players must not guess: the aspect ratio (1:1, not "unknown") and, for
    lossless RGB too, BT.709 primaries and transfer with its matrix and range."""
    tl = timeline(tmp_path, lossless=lossless)
    out = tmp_path / "tags.mp4"
    render_to_file(tl, str(out))
    with av.open(str(out)) as result:
        ctx = result.streams.video[0].codec_context
        assert ctx.sample_aspect_ratio == 1
        names = (ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range)
        assert names == tuple({"bt709": 1, "gbr": 0, "tv": 1, "pc": 2}[t] for t in tags)


def test_lossless_mp4_decodes_to_the_composited_frames(tmp_path: Path) -> None:
    tl = timeline(tmp_path, lossless=True)
    out = tmp_path / "lossless.mp4"
    summary = render_to_file(tl, str(out))
    assert summary.encoder == "libx264rgb"
    decoded = decode_rgb(out)
    comp = Compositor(tl)
    try:
        assert all(np.array_equal(decoded[t], comp.frame(t)) for t in (0, 22, 44))
    finally:
        comp.close()


def test_a_slot_thread_budget_caps_the_decoders_and_keeps_the_frames(tmp_path: Path) -> None:
    tl = timeline(tmp_path, lossless=True)
    capped = Compositor(tl, decoder_threads=1)
    free = Compositor(tl)
    try:
        capped.open_range(0, tl.frames)
        free.open_range(0, tl.frames)
        assert all(np.array_equal(capped.frame(t), free.frame(t)) for t in (0, 22, 44))
        assert capped.sources["v"].stream.codec_context.thread_count == 1
        assert free.sources["v"].stream.codec_context.thread_count != 1
    finally:
        capped.close()
        free.close()
    out = tmp_path / "one-thread.mp4"
    render_to_file(tl, str(out), threads=1)
    comp = Compositor(tl)
    try:
        decoded = decode_rgb(out)
        assert len(decoded) == tl.frames
        assert all(np.array_equal(decoded[t], comp.frame(t)) for t in range(tl.frames))
    finally:
        comp.close()


def test_hardware_request_falls_back_to_software_and_says_so(tmp_path: Path) -> None:
    tl = timeline(tmp_path, hardware_acceleration=True)
    summary = render_to_file(tl, str(tmp_path / "hw.mp4"), end=3)
    if summary.hardware:  # a machine with a working NVENC/QSV
        assert summary.encoder.endswith(("_nvenc", "_qsv", "_vaapi"))
    else:
        assert summary.encoder == "libx264"
        assert any("no hardware h264 encoder" in w for w in summary.warnings)


@pytest.mark.parametrize(("container", "audio_codec"), [("mp4", "aac"), ("webm", "opus")])
def test_clip_audio_is_mixed_and_encoded(tmp_path: Path, container: str, audio_codec: str) -> None:
    codec = "vp9" if container == "webm" else "h264"
    tl = timeline(tmp_path, audio=True, format=container, codec=codec)
    out = tmp_path / f"a.{container}"
    summary = render_to_file(tl, str(out))
    assert summary.audio is not None
    with av.open(str(out)) as c:
        stream = c.streams.audio[0]
        assert stream.codec_context.name == audio_codec
        samples = np.concatenate([f.to_ndarray()[0] for f in c.decode(stream)])
    assert len(samples) / stream.rate == pytest.approx(1.5, abs=0.05)
    assert np.sqrt(np.mean(samples[4800:-4800] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_cancel_and_failure_leave_no_partial_file(tmp_path: Path) -> None:
    tl = timeline(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(RenderCancelled):
        render_to_file(tl, str(out_dir / "x.mp4"), cancelled=lambda: True)
    assert list(out_dir.iterdir()) == []
    (tmp_path / "src.mp4").write_bytes(b"\x00" * 1000)  # corrupt the source after loading
    with pytest.raises(DecodeError, match="clip 'v'"):
        render_to_file(tl, str(out_dir / "x.mp4"))
    assert list(out_dir.iterdir()) == []


def test_odd_size_needs_lossless(tmp_path: Path) -> None:
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.1, **solid("#ffffff")}])],
        size=(321, 181),
        settings={"export": {"format": "mkv", "lossless": True}},
    )
    tl = load_project(doc, ".")
    render_to_file(tl, str(tmp_path / "odd.mkv"))
    assert decode_rgb(tmp_path / "odd.mkv")[0].shape == (181, 321, 3)
    with pytest.raises(EncodeError, match="odd side"):
        render_to_file(
            replace(tl, export=with_overrides(tl.export, lossless=False)), str(tmp_path / "odd.mp4")
        )


def test_output_is_synced_before_the_rename_and_follows_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tl = timeline(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "x.mp4"
    calls = record_sync(monkeypatch)
    with umask(0o027):
        render_to_file(tl, str(output), end=3)
    assert_durable(calls, output)
    assert stat.S_IMODE(output.stat().st_mode) == 0o640
    assert os.listdir(out_dir) == ["x.mp4"]


def test_a_scratch_folder_removed_mid_render_is_a_disk_fault_not_the_settings(
    tmp_path: Path,
) -> None:
    # Given a chunk rendering into a node's scratch folder (the segment is Matroska)
    tl = timeline(tmp_path, codec="ffv1", format="Mkv")
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def vanish(done: int, total: int) -> None:
        if done == 2:
            shutil.rmtree(scratch)  # a /tmp cleaner, an operator's rm -rf

    # When the folder goes away under it
    with pytest.raises(RenderError) as caught:
        render_to_file(tl, str(scratch / "x.mkv"), file_format="matroska", progress=vanish)
    # Then the error is transient (retried, on this node or another), not an EncodeError that
    # failed the whole job at once as if the project's settings were wrong
    assert caught.value.transient and not isinstance(caught.value, EncodeError)
    assert "x.mkv" in str(caught.value)


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Files this process writes stop at ``limit`` bytes (EFBIG), as on a full or FAT disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.mark.parametrize("name", ["x.mp4", "x.mkv"])
def test_a_file_the_disk_cannot_take_is_one_error_naming_it(tmp_path: Path, name: str) -> None:
    # Given a render whose file outgrows what its disk takes (Python ignores SIGXFSZ: the
    # writes fail with EFBIG, as they fail with ENOSPC on a full disk); the mp4's last write,
    # its fast-start rewrite, comes when the muxer closes, after every frame was encoded
    tl = timeline(tmp_path, audio=True)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # When it renders
    with pytest.raises(EncodeError) as caught, file_size_limit(8000):
        render_to_file(tl, str(out_dir / name))
    # Then the error names the file the user asked for (not PyAV's error, not the temp name)
    # and nothing is left behind
    assert str(caught.value) == f"cannot write {out_dir / name}: File too large"
    assert list(out_dir.iterdir()) == []


def test_rendering_over_a_clips_own_media_is_refused_and_keeps_it(tmp_path: Path) -> None:
    # Given a timeline whose clip plays src.mp4
    tl = timeline(tmp_path)
    source = tmp_path / "src.mp4"
    before = source.read_bytes()
    # When the render's output names that file (by another spelling of its path)
    with pytest.raises(RenderError, match="is the media of clip 'v'"):
        render_to_file(tl, str(tmp_path / "." / "src.mp4"))
    # Then the footage is untouched, not replaced by the render that read it
    assert source.read_bytes() == before
