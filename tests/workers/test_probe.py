"""Keyframe intervals read from packets, and the chunk floor derived from them."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import make_image, make_video, project, video_track
from workers import probe_keyframes
from workers.probe import examine, header_warnings, media_report
from workers.probe_keyframes import keyframe_interval, min_chunk_frames


@pytest.mark.parametrize(
    ("gop", "fps", "expected"), [(10, 30, 1 / 3), (60, 30, 2.0), (48, 24, 2.0)]
)
def test_keyframe_interval(tmp_path: Path, gop: int, fps: int, expected: float) -> None:
    path = make_video(tmp_path / "v.mp4", frames=gop * 4, fps=fps, gop=gop)
    assert keyframe_interval(str(path)) == pytest.approx(expected, abs=0.01)


def test_keyframe_interval_reads_a_file_once_and_a_rewritten_one_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a file whose keyframe gap one submit asks for four times and its plan once more
    path = make_video(tmp_path / "v.mp4", frames=40, fps=30, gop=10)
    opened: list[str] = []
    real_open = probe_keyframes.open_media

    def counting(name: str) -> Any:
        opened.append(name)
        return real_open(name)

    monkeypatch.setattr(probe_keyframes, "open_media", counting)

    # When it is asked five times
    gaps = [keyframe_interval(str(path)) for _ in range(5)]

    # Then the file was read once and every answer is the same
    assert gaps == [pytest.approx(1 / 3, abs=0.01)] * 5
    assert opened == [str(path)]

    # And once it is exported again with other keyframes, the new file is read
    make_video(tmp_path / "v2.mp4", frames=120, fps=30, gop=60)
    os.replace(tmp_path / "v2.mp4", path)
    assert keyframe_interval(str(path)) == pytest.approx(2.0, abs=0.01)
    assert len(opened) == 2


def test_images_and_garbage_have_no_interval(tmp_path: Path) -> None:
    assert keyframe_interval(str(make_image(tmp_path / "a.png", (8, 8), (0, 0, 0, 255)))) is None
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    assert keyframe_interval(str(tmp_path / "bad.mp4")) is None


def test_min_chunk_frames_covers_two_gops_and_a_second(tmp_path: Path) -> None:
    long_gop = make_video(tmp_path / "long.mp4", frames=240, gop=60)
    short_gop = make_video(tmp_path / "short.mp4", frames=240, gop=5)
    for path, expected in ((long_gop, 120), (short_gop, 30)):
        doc = project(
            [
                video_track(
                    "v",
                    [{"id": "c", "start_time": 0, "end_time": 8, "source": {"File": str(path)}}],
                )
            ]
        )
        assert min_chunk_frames(load_project(doc, str(tmp_path))) == expected


@pytest.mark.parametrize(
    ("source_start", "end_time", "speed", "warned"),
    [(0, 1, 1, False), (0.5, 1, 1, False), (0.5, 2, 1, True), (0, 1, 2, False), (0, 2, 2, True)],
)
def test_a_clip_that_plays_past_its_medias_end_is_a_warning(
    tmp_path: Path, source_start: float, end_time: float, speed: float, warned: bool
) -> None:
    media = make_video(tmp_path / "two.mp4", frames=60)  # 2 s at 30 fps
    clip = {
        "id": "c",
        "start_time": 0,
        "end_time": end_time,
        "source": {"File": str(media)},
        "source_start": source_start,
        "speed": speed,
    }
    timeline = load_project(project([video_track("v", [clip])]), str(tmp_path))
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == []
    assert header_warnings(timeline) == warnings  # what render tells, from the header alone
    if warned:
        (warning,) = warnings
        assert warning.startswith("clip 'c': plays its media to ")
        assert "but the file lasts 2.00s: its last frame holds" in warning
    else:
        assert warnings == []


def _one_image(path: Path) -> Path:
    """A single still FFmpeg reads (not Pillow): DPX or EXR from FFmpeg, AVIF from Pillow."""
    if path.suffix == ".avif":
        from PIL import Image, features

        if not features.check("avif"):
            pytest.skip("this Pillow writes no AVIF")
        Image.new("RGB", (64, 36), (200, 40, 40)).save(path)
        return path
    codec, pix_fmt = {".dpx": ("dpx", "rgb24"), ".exr": ("exr", "gbrpf32le")}[path.suffix]
    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg has no {codec} encoder")
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream(codec, rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 36, pix_fmt
        image = np.full((36, 64, 3), 120, np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=pix_fmt)
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize("suffix", [".dpx", ".exr", ".avif"])
def test_a_still_ffmpeg_reads_is_not_said_to_end_before_its_clip(
    tmp_path: Path, suffix: str
) -> None:
    """A single DPX, EXR or AVIF held for 3 s warned "the file lasts 0.04s: its last frame
    holds" (an error with --strict), as if a one-frame video ran out: a still has no length."""
    path = _one_image(tmp_path / f"plate{suffix}")
    clip = {"id": "plate", "start_time": 0, "end_time": 3, "source": {"File": str(path)}}
    timeline = load_project(project([video_track("v", [clip])]), str(tmp_path))
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == [] and warnings == []
    assert header_warnings(timeline) == []


def test_a_file_that_declares_no_length_is_measured_by_its_packets(tmp_path: Path) -> None:
    """Matroska written where the muxer cannot seek back (a pipe, a live capture) has no
    duration: its length comes from where its packets end, and playing past it is said."""
    import io

    class Pipe:
        def __init__(self) -> None:
            self.data = io.BytesIO()

        def write(self, chunk: bytes) -> int:
            return self.data.write(chunk)

    pipe = Pipe()
    with av.open(pipe, "w", format="matroska") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(np.zeros((36, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    media = tmp_path / "live.mkv"
    media.write_bytes(pipe.data.getvalue())
    with av.open(str(media)) as probe:
        assert probe.duration is None and probe.streams.video[0].duration is None
    clip = {"id": "c", "start_time": 0, "end_time": 3, "source": {"File": str(media)}}
    timeline = load_project(project([video_track("v", [clip])]), str(tmp_path))
    (warning,) = header_warnings(timeline)
    assert "plays its media to 3.00s" in warning and "the file lasts 2.00s" in warning


def test_a_file_whose_sound_outlasts_its_picture_is_not_said_to_go_silent(
    tmp_path: Path,
) -> None:
    """2 s of picture and 4 s of sound: a clip playing 3 s holds the last frame, and its sound
    plays on (the warning said it stopped)."""
    from fractions import Fraction

    media = tmp_path / "long_sound.mp4"
    with av.open(str(media), "w") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 64, 36, "yuv420p"
        sound = out.add_stream("aac", rate=48000)
        for i in range(60):
            frame = av.VideoFrame.from_ndarray(np.zeros((36, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        for i in range(4 * 48000 // 1024):
            block = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            block.sample_rate, block.pts, block.time_base = 48000, i * 1024, Fraction(1, 48000)
            out.mux(sound.encode(block))
        out.mux(sound.encode(None))
    clip = {"id": "c", "start_time": 0, "end_time": 3, "source": {"File": str(media)}}
    timeline = load_project(project([video_track("v", [clip])]), str(tmp_path))
    (warning,) = header_warnings(timeline)
    assert warning.endswith("its last frame holds while its sound plays on"), warning


def hlg_video(path: Path) -> Path:
    """Three frames of 10-bit video tagged HLG, BT.2020 (a phone's HDR recording)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p10le"
        ctx = stream.codec_context
        ctx.color_trc, ctx.color_primaries, ctx.colorspace = 18, 9, 9  # HLG, BT.2020
        for i in range(3):
            frame = av.VideoFrame(64, 36, "yuv420p10le")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_hdr_media_on_a_video_track_are_a_warning(tmp_path: Path) -> None:
    path = hlg_video(tmp_path / "hlg.mkv")
    clip = {"id": "c", "start_time": 0, "end_time": 0.1, "source": {"File": str(path)}}
    timeline = load_project(project([video_track("v", [clip])]), str(tmp_path))
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == []
    assert (
        header_warnings(timeline)
        == warnings
        == [
            "clip 'c': its media is HDR video (HLG, BT.2020), which is tone-mapped to SDR BT.709: "
            "its highlights are compressed and it looks dimmer than on an HDR screen"
        ]
    )


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_an_animated_still_is_a_warning_that_only_its_first_frame_shows(
    tmp_path: Path, suffix: str
) -> None:
    from PIL import Image

    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0))]
    path = tmp_path / f"sticker{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.new("RGB", (16, 16)).save(tmp_path / f"plain{suffix}")
    clips = [
        {"id": "a", "start_time": 0, "end_time": 0.1, "source": {"File": str(path)}},
        {"id": "p", "start_time": 0.1, "end_time": 0.2,
         "source": {"File": str(tmp_path / f"plain{suffix}")}},
    ]  # fmt: skip
    timeline = load_project(project([video_track("v", clips)]), str(tmp_path))
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == [] and header_warnings(timeline) == warnings
    assert warnings == [
        "clip 'a': its media is an animated image (APNG or WebP), of which only the first frame "
        "is shown: make it a video or an animated GIF to play it"
    ]


def _gif(path: Path, frames: int, delay_ms: int) -> Path:
    """An animated GIF of ``frames`` grey levels, each shown ``delay_ms``."""
    from PIL import Image

    levels = [Image.new("RGB", (16, 16), (40 * n, 40 * n, 40 * n)) for n in range(frames)]
    levels[0].save(path, save_all=True, append_images=levels[1:], duration=delay_ms, loop=0)
    return path


@pytest.mark.parametrize(("end_time", "warned"), [(1.0, False), (3.0, True)])
def test_an_animated_gif_shorter_than_its_clip_is_warned_of_as_a_video_is(
    tmp_path: Path, end_time: float, warned: bool
) -> None:
    # It plays once, as a video, then holds its last frame; validate said nothing of it.
    gif = _gif(tmp_path / "spinner.gif", frames=5, delay_ms=200)  # 1 s
    clip = {"id": "c", "start_time": 0, "end_time": end_time, "source": {"File": str(gif)}}
    timeline = load_project(project([video_track("v", [clip])]), str(tmp_path))
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == []
    assert header_warnings(timeline) == warnings
    if warned:
        (warning,) = warnings
        assert warning.endswith(
            "plays its media to 3.00s (from 0.00s), but the file lasts 1.00s: its last frame holds"
        )
    else:
        assert warnings == []


def test_sound_that_starts_late_in_the_file_is_found(tmp_path: Path) -> None:
    """Sound from 25 s into a recording comes after hundreds of video packets: validate read
    the first 512 packets, found none, and refused "no decodable audio frame" a file the render
    plays."""
    path = tmp_path / "late.mp4"
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 32, 18, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = out.add_stream("aac", rate=48000, layout="stereo")
        picture = np.zeros((18, 32, 3), np.uint8)
        for n in range(30 * 27):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = n
            out.mux(video.encode(frame))
            if n >= 30 * 25 and n % 10 == 0:  # 10 ms of tone every third of a second
                block = av.AudioFrame.from_ndarray(
                    np.full((2, 1024), 0.1, np.float32), format="fltp", layout="stereo"
                )
                block.sample_rate, block.pts = 48000, n * 1600
                out.mux(sound.encode(block))
        out.mux(video.encode(None))
        out.mux(sound.encode(None))
    with av.open(str(path)) as container:  # the case at hand
        assert float(container.streams.audio[0].start_time * Fraction(1, 48000)) > 24
    facts = examine(str(path))
    assert facts.audio is None and facts.has_audio


def test_a_song_shorter_than_its_clip_is_said_to_fall_silent_not_to_hold_a_frame(
    tmp_path: Path,
) -> None:
    """A 1 s WAV played for 3 s on an audio track was warned that 'its last frame holds and
    its sound stops after that': it has no frame."""
    song = tmp_path / "song.wav"
    with av.open(str(song), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=48000, layout="mono")
        tone = (np.sin(np.arange(48000) / 8) * 8000).astype(np.int16)[None, :]
        block = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        block.sample_rate = 48000
        out.mux(stream.encode(block))
        out.mux(stream.encode(None))
    clip = {"id": "c", "start_time": 0, "end_time": 3, "source": {"File": str(song)}}
    track = {"id": "a", "track_type": "Audio", "name": "a", "clips": [clip]}
    timeline = load_project(project([track]), str(tmp_path))
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == [] and header_warnings(timeline) == warnings
    (warning,) = warnings
    assert warning.endswith("but the file lasts 1.00s: it is silent after that"), warning


def _screen_recording(path: Path) -> Path:
    """A 2 s 30 fps MP4 with two mono sound streams: the app's, then the microphone's."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=30)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 64, 36, "yuv420p"
        sounds = [out.add_stream("aac", rate=48000, layout="mono") for _ in range(2)]
        for n in range(60):
            image = np.full((36, 64, 3), 4 * n, np.uint8)
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(video.encode(None))
        for number, sound in enumerate(sounds):
            tone = (np.sin(np.arange(96000) / (4 + number)) * 0.3).astype(np.float32)[None, :]
            block = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            block.sample_rate = 48000
            out.mux(sound.encode(block))
            out.mux(sound.encode(None))
    return path


@pytest.mark.parametrize(
    ("extra", "warned"),
    [
        ({}, True),
        ({"audio_stream": 1}, False),
        ({"audio_stream": 0}, False),
        ({"muted": True}, False),
    ],
)
def test_a_file_with_several_sound_streams_warns_that_only_one_plays(
    tmp_path: Path, extra: dict[str, object], warned: bool
) -> None:
    """An iPhone screen recording with the microphone on keeps the narration as a second
    sound stream: it rendered without it, with nothing said."""
    path = _screen_recording(tmp_path / "screen.mp4")
    clip = {"id": "c", "start_time": 0, "end_time": 2, "source": {"File": str(path)}, **extra}
    timeline = load_project(project([video_track("v", [clip])]), str(tmp_path))
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == [] and header_warnings(timeline) == warnings
    if warned:
        assert warnings == [
            "clip 'c': its media has 2 audio streams and only the first plays: choose another "
            "with audio_stream (0-based), or mute the clip to silence this"
        ]
    else:
        assert warnings == []


def test_a_video_codec_without_a_decoder_is_refused_in_one_line(tmp_path: Path) -> None:
    """An MP4 whose sample entry names a codec FFmpeg has no decoder for (a damaged or unknown
    fourcc): validate and render stopped with a traceback ('NoneType' object has no attribute
    'thread_count', then 'color_trc'); both refuse it naming the clip and the file."""
    path = make_video(tmp_path / "take.mp4", frames=15, size=(64, 36))
    data = path.read_bytes()
    entry = data.index(b"avc1", data.index(b"stsd"))
    path.write_bytes(data[:entry] + b"zzzz" + data[entry + 4 :])
    clip = {"id": "take", "start_time": 0, "end_time": 0.5, "source": {"File": "take.mp4"}}
    doc = project([video_track("v", [clip])], size=(64, 36))
    timeline = load_project(doc, str(tmp_path))
    expected = f"clip 'take': no decoder for the video codec of {path}"
    assert media_report(timeline, str(tmp_path))[0] == [expected]  # validate
    with pytest.raises(ValidationError) as refused:
        header_warnings(timeline)  # what render runs first, direct or distributed
    assert str(refused.value) == expected
    # On an audio track only its sound is read: not refused for its picture.
    audio = project([{**video_track("a", [clip]), "track_type": "Audio"}], size=(64, 36))
    warned = header_warnings(load_project(audio, str(tmp_path)))
    assert warned == [
        "clip 'take': its media has no sound (no audio stream): on an audio track it is silent"
    ]
