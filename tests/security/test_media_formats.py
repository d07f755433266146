"""Only media formats are opened (issue 13, findings 3 and 5).

The attack: a 92-byte HLS playlist in the project names a file elsewhere on disk by its absolute
path. Before, it passed ``sync_assets``'s media check, was fetched into a worker's cache, and the
worker decoded the file the playlist named. Now asset sync, the worker's decoder and validation
all open sources through ``workers.media_open`` and refuse it, and validation answers the same
for a path outside the project whether or not it exists.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.model import Clip, FileSource, Timeline, Track, TrackKind
from chunking.timeline.studio import load_project
from common.errors import AssetNotFound, DecodeError, MediaError, ValidationError
from orchestrator.assets import sync_assets
from providers.storage import LocalStorage
from tests.counting_storage import CountingStorage
from tests.media import make_image, make_video, project, video_track
from workers import media_open
from workers.audio_mix import mix_timeline
from workers.media_open import ALLOWED_DEMUXERS, open_media
from workers.probe import media_problem, media_problems
from workers.probe_keyframes import keyframe_interval
from workers.sources import open_file

FPS = Fraction(24)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A video outside the project: what a hostile playlist tries to make a worker read."""
    (tmp_path / "home").mkdir()
    return make_video(tmp_path / "home" / "private.mp4", frames=6, size=(64, 36))


@pytest.fixture
def base(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    return directory


def playlist(path: Path, target: Path) -> Path:
    """An HLS playlist whose only segment is ``target`` by absolute path."""
    path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{target}\n#EXT-X-ENDLIST\n")
    return path


def concat_list(path: Path, target: Path) -> Path:
    """An FFmpeg concat list naming ``target``."""
    path.write_text(f"ffconcat version 1.0\nfile '{target}'\n")
    return path


def file_clip(cid: str, path: str, start: float = 0, end: float = 1) -> dict[str, Any]:
    return {"id": cid, "start_time": start, "end_time": end, "source": {"File": path}}


def timeline(*clips: tuple[str, str, TrackKind]) -> Timeline:
    """A 64x36 one-second timeline, one track per (clip id, path, kind), built without loading."""
    tracks = tuple(
        Track(
            id=f"t{i}",
            kind=kind,
            clips=(Clip(id=cid, track_id=f"t{i}", source=FileSource(path), start=0, end=24),),
        )
        for i, (cid, path, kind) in enumerate(clips)
    )
    return Timeline(fps=FPS, width=64, height=36, frames=24, tracks=tracks)


def wav(path: Path, seconds: float = 0.5) -> Path:
    """A stereo 48 kHz PCM WAV file of quiet noise."""
    data = np.random.default_rng(1).uniform(-0.1, 0.1, (2, round(seconds * 48000)))
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=48000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(data.astype(np.float32), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def faststart(path: Path, frames: int = 24) -> Path:
    """A 64x36 mp4 with its index before the frames, so a cut-short copy still opens."""
    rng = np.random.default_rng(2)
    with av.open(str(path), "w", format="mp4", container_options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        for i in range(frames):
            image = rng.integers(0, 255, (36, 64, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def packet_ends(path: Path) -> list[int]:
    """Byte offsets where each video packet of ``path`` ends, in file order."""
    with av.open(str(path)) as container:
        return sorted(
            p.pos + p.size for p in container.demux(video=0) if p.size and p.pos is not None
        )


# -- the playlist attack ----------------------------------------------------------------------


def test_asset_sync_refuses_a_playlist_before_uploading(
    base: Path, secret: Path, tmp_path: Path
) -> None:
    playlist(base / "clip.m3u8", secret)
    storage = CountingStorage(LocalStorage(str(tmp_path / "bucket")))
    doc = project([video_track("v", [file_clip("evil", "clip.m3u8")])])
    with pytest.raises(ValidationError) as info:
        sync_assets(doc, str(base), storage)
    [problem] = info.value.problems
    assert "clip 'evil'" in problem and "HLS playlist is not an allowed media format" in problem
    assert "not uploaded" in problem
    assert storage.puts == [] and storage.list("assets/") == []


@pytest.mark.parametrize("name", ["abc123.m3u8", "abc123.mp4", "abc123.ts"])
def test_the_worker_decoder_refuses_a_playlist_in_its_cache(
    tmp_path: Path, secret: Path, name: str
) -> None:
    # As if fetched into the worker's asset cache with its hash verified: the file is what the
    # project named, so only the decoder can refuse it.
    cached = playlist(tmp_path / name, secret)
    with pytest.raises(DecodeError) as info:
        open_file(str(cached), "evil")
    message = str(info.value)
    assert message.startswith("clip 'evil': ") and "not an allowed media format" in message
    assert "\n" not in message
    assert keyframe_interval(str(cached)) is None
    mix = timeline(("evil", str(cached), TrackKind.AUDIO))
    with pytest.raises(DecodeError, match="clip 'evil': .*not an allowed media format"):
        mix_timeline(mix)


def test_ffmpeg_itself_refuses_a_playlist_the_sniffer_misses(
    tmp_path: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first-bytes check is a convenience for the message; the demuxer whitelist is the wall.
    monkeypatch.setattr(media_open, "_SIGNATURES", ())
    cached = playlist(tmp_path / "x.m3u8", secret)
    with pytest.raises(DecodeError, match="its format is not an allowed media format"):
        open_media(str(cached))
    with pytest.raises(DecodeError, match="its format is not an allowed media format"):
        open_media(str(concat_list(tmp_path / "list.ffconcat", secret)))


def test_a_concat_list_is_refused_everywhere(base: Path, secret: Path, tmp_path: Path) -> None:
    listed = concat_list(base / "joined.mp4", secret)
    with pytest.raises(DecodeError, match="concat file list is not an allowed media format"):
        open_file(str(listed), "c")
    assert "concat file list" in str(media_problem(str(listed)))
    [line] = media_problems(timeline(("c", str(listed), TrackKind.VIDEO)), str(base))
    assert line.startswith("clip 'c': ") and "not an allowed media format" in line


def test_protocol_prefixes_are_file_names(tmp_path: Path, secret: Path) -> None:
    # The path reaches FFmpeg as file:<absolute path>, so no prefix can choose a protocol.
    for name in (f"subfile,,start,0,end,0,,:{secret}", f"concat:{secret}|{secret}"):
        with pytest.raises(AssetNotFound, match="media file not found"):
            open_media(name)


def test_the_allow_list_has_no_playlist_list_or_pattern_demuxer() -> None:
    for name in ("hls", "dash", "concat", "image2", "image2pipe", "lavfi", "sdp", "rtsp"):
        assert name not in ALLOWED_DEMUXERS


# -- validation says what render would, one line per clip --------------------------------------


def test_broken_media_inside_the_project_get_one_line_each(base: Path, tmp_path: Path) -> None:
    good = make_video(base / "good.mp4", frames=6, size=(64, 36))
    data = good.read_bytes()  # index after the frames: any cut loses it
    (base / "text.mp4").write_text("this is not a video\n" * 20)
    (base / "empty.mp4").write_bytes(b"")
    (base / "half.mp4").write_bytes(data[: len(data) // 2])
    (base / "head.mp4").write_bytes(data[:64])
    indexed = faststart(tmp_path / "indexed.mp4")
    data = indexed.read_bytes()  # index first: a cut copy opens and its first frames decode
    (base / "late.mp4").write_bytes(data[: len(data) * 2 // 3])
    (base / "boundary.mp4").write_bytes(data[: packet_ends(indexed)[15]])
    names = ["text.mp4", "empty.mp4", "half.mp4", "head.mp4", "late.mp4", "boundary.mp4"]
    doc = project([video_track(f"v{i}", [file_clip(n[:-4], n)]) for i, n in enumerate(names)])
    lines = media_problems(load_project(doc, str(base)), str(base))
    assert len(lines) == len(names)
    for line, name in zip(lines, names, strict=True):
        assert line.startswith(f"clip '{name[:-4]}': ") and name in line and "\n" not in line
    assert "is empty" in lines[1]
    assert "cut short" in lines[4] and "ends at 0.667s of the 1.000s" in lines[5]
    # Asset sync refuses the first four; the cut-short copies open and decode, and where their
    # clips play past the cut validate and render refuse them (asset sync knows no clips).
    # The render's decoder refuses the first four on opening and the cut-short copy at the
    # first frame past the cut (the one cut between frames would repeat its last frame:
    # validation says so instead).
    for name in names[:4]:
        assert media_problem(str(base / name)) is not None
    for name in names[4:]:
        assert media_problem(str(base / name)) is None
    for name in names[:4]:
        with pytest.raises(MediaError):
            open_file(str(base / name), "c")
    source = open_file(str(base / "late.mp4"), "c")
    try:
        with pytest.raises(DecodeError, match="cannot be decoded"):
            source.picture_at(Fraction(23, 24))
    finally:
        source.close()


def test_outside_the_project_existing_and_missing_paths_read_the_same(base: Path) -> None:
    missing = "/nonexistent-cloudrender/private.mp4"
    assert not os.path.exists(missing)
    lines = media_problems(
        timeline(("a", "/etc/passwd", TrackKind.VIDEO), ("b", missing, TrackKind.VIDEO)), str(base)
    )
    assert lines == [
        "cannot open media '/etc/passwd' of clip 'a'",
        f"cannot open media '{missing}' of clip 'b'",
    ]


def test_a_symlink_out_of_the_project_counts_as_outside(base: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.mp4"
    outside.write_text("text\n")
    (base / "link.mp4").symlink_to(outside)
    [line] = media_problems(timeline(("l", str(base / "link.mp4"), TrackKind.VIDEO)), str(base))
    assert line == f"cannot open media '{base / 'link.mp4'}' of clip 'l'"


def test_each_distinct_file_is_opened_once(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    video = make_video(base / "v.mp4", frames=6, size=(64, 36))
    opened: list[str] = []
    real = av.open

    def counting(*args: Any, **kw: Any) -> Any:
        opened.append(str(args[0]))
        return real(*args, **kw)

    monkeypatch.setattr(av, "open", counting)
    clips = [("a", str(video), TrackKind.VIDEO), ("b", str(video), TrackKind.AUDIO)]
    assert media_problems(timeline(*clips, ("c", str(video), TrackKind.VIDEO)), str(base)) == []
    assert opened == [f"file:{video}"]


# -- legitimate media still work ---------------------------------------------------------------


def test_real_media_pass_every_check(base: Path) -> None:
    mp4 = make_video(base / "a.mp4", frames=6, size=(64, 36), audio_hz=440)
    mkv = make_video(base / "b.mkv", frames=6, size=(64, 36))
    png = make_image(base / "c.png", (16, 16), (10, 20, 30, 255))
    sound = wav(base / "d.wav")
    for path in (mp4, mkv, png, sound):
        assert media_problem(str(path)) is None, path
    doc = project(
        [
            video_track("v", [file_clip("mp4", "a.mp4"), file_clip("mkv", "b.mkv", 1, 2)]),
            video_track("i", [file_clip("png", "c.png")]),
            {"id": "a", "kind": "audio", "clips": [file_clip("wav", "d.wav")]},
        ]
    )
    assert media_problems(load_project(doc, str(base)), str(base)) == []
    for path in (mp4, mkv, png):
        source = open_file(str(path), "ok")
        try:
            assert source.picture_at(Fraction(0)).rgb.shape[:2] in ((36, 64), (16, 16))
        finally:
            source.close()
    mix = mix_timeline(timeline(("wav", str(sound), TrackKind.AUDIO)))
    assert np.abs(mix).max() > 0.01


def test_an_image_without_an_image_name_is_still_a_picture(base: Path) -> None:
    png = make_image(base / "still.png", (16, 16), (200, 30, 30, 255))
    unnamed = base / "still.bin"
    unnamed.write_bytes(png.read_bytes())
    source = open_file(str(unnamed), "s")
    try:
        assert source.picture_at(Fraction(0)).rgb[0, 0].tolist() == [200, 30, 30]
    finally:
        source.close()
    assert media_problem(str(unnamed)) is None


def test_a_project_file_named_as_a_video_is_one_line(base: Path) -> None:
    (base / "p.mp4").write_text(json.dumps(project([])))
    [line] = media_problems(timeline(("j", str(base / "p.mp4"), TrackKind.VIDEO)), str(base))
    assert line.startswith("clip 'j': ") and "\n" not in line


def _encoded(path: Path, codec: str, *, video: bool) -> Path:
    """Five frames (silence, or flat grey at the codec's size) in `path`'s container."""
    with av.open(str(path), "w") as out:
        if video:
            width, height = (720, 576) if codec == "dvvideo" else (64, 48)
            stream = out.add_stream(codec, rate=25)
            assert isinstance(stream, av.VideoStream)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            frames = [av.VideoFrame.from_ndarray(np.full((height, width, 3), 100, np.uint8),
                                                 format="rgb24") for _ in range(5)]  # fmt: skip
        else:
            stream = out.add_stream(codec, rate=48000, layout="stereo")
            frames = []
            for i in range(5):
                frame = av.AudioFrame.from_ndarray(
                    np.zeros((2, 1024), np.int16), format="s16p", layout="stereo"
                )
                frame.sample_rate, frame.pts = 48000, i * 1024
                frames.append(frame)
        for frame in frames:
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("name", "codec", "video"),
    [
        ("final cut.caf", "pcm_s16le", False),
        ("long take.w64", "pcm_s16le", False),
        ("old camera.wmv", "wmv2", True),
        ("tape.dv", "dvvideo", True),
    ],
)
def test_editors_and_cameras_formats_open(
    tmp_path: Path, name: str, codec: str, video: bool
) -> None:
    """Final Cut's CAF audio, Wave64, Windows Media and a DV camcorder's .dv are read."""
    path = _encoded(tmp_path / name, codec, video=video)
    with open_media(str(path)) as container:
        stream = container.streams.video[0] if video else container.streams.audio[0]
        assert sum(1 for _ in container.decode(stream)) >= 1


@pytest.mark.parametrize("suffix", [".mkv", ".webm"])
def test_a_matroska_file_cut_short_is_named_not_frozen_on_its_last_frame(
    tmp_path: Path, suffix: str
) -> None:
    """An interrupted copy or download: its header still declares the whole length, and the
    render showed its last frame there was, frozen, to the end."""
    codec = "libvpx-vp9" if suffix == ".webm" else "libx264"
    whole = make_video(tmp_path / f"whole{suffix}", frames=90, fps=30, size=(64, 36), codec=codec)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 55 // 100])
    assert media_problem(str(whole)) is None
    assert media_problem(str(cut)) is None  # no clips to judge by: its first frames decode
    doc = project([video_track("v", [file_clip("take", cut.name, end=3.0)])], size=(64, 36))
    (problem,) = media_problems(load_project(doc, str(tmp_path)), str(tmp_path))
    assert "is cut short: its video ends at" in problem
    assert "of the 3.000s it declares" in problem


def test_sound_and_video_files_that_end_where_they_say_are_not_cut_short(tmp_path: Path) -> None:
    """A seek to the very end of PCM finds nothing: the check looks a second earlier too."""
    wav = tmp_path / "tone.wav"
    with av.open(str(wav), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=48000, layout="5.1")
        samples = np.zeros((6, 96000), dtype=np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="5.1")
        frame.sample_rate = 48000
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert media_problem(str(wav)) is None
    assert media_problem(str(make_video(tmp_path / "v.mkv", frames=40, size=(64, 36)))) is None
