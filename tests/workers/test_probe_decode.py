"""validate decodes what render will decode: the source ranges the clips use and the images of
a sequence they show (validate said ok for media render then refused)."""

from __future__ import annotations

import random
import re
import struct
import zlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from chunking.timeline.model import Timeline
from chunking.timeline.project import read_project
from common.errors import DecodeError
from tests.media import make_hidden_frames, make_video, project, video_track, zero_frame_times
from workers import probe
from workers.media_open import open_media
from workers.probe import media_report
from workers.probe_first_frame import PROBE_PACKETS
from workers.sources import open_file


def _timeline(folder: Path, clip: dict[str, object], track: str = "Video") -> Timeline:
    doc = project([{**video_track("v", [clip]), "track_type": track}], size=(64, 36))
    return read_project(doc, base_dir=str(folder)).timeline


def _damage(path: Path, seed: int = 100) -> None:
    """Overwrite 45-55 % of the file with random bytes (a bad card, a broken transfer)."""
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for i in range(len(data) * 45 // 100, len(data) * 55 // 100):
        data[i] = rng.randrange(256)
    path.write_bytes(bytes(data))


def test_corrupt_packets_mid_file_are_refused_by_validate_as_by_render(tmp_path: Path) -> None:
    path = make_video(tmp_path / "take.mp4", frames=120, size=(64, 36), gop=30)
    _damage(path)
    clip = {"id": "take", "start_time": 0, "end_time": 4, "source": {"File": "take.mp4"}}
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    assert len(problems) == 1 and problems[0].startswith("clip 'take': corrupt video ")
    source = open_file(str(path), "take")
    try:  # the premise: the render refuses the same file
        with pytest.raises(DecodeError, match="^clip 'take': corrupt video "):
            for n in range(120):
                source.picture_at(Fraction(n, 30))
    finally:
        source.close()
    head = {**clip, "end_time": 1}  # the first second is intact: nothing to refuse
    assert media_report(_timeline(tmp_path, head), str(tmp_path))[0] == []


def test_corrupt_video_is_refused_naming_where_in_the_file(tmp_path: Path) -> None:
    """Damage the decoder stops at (a frame whose NAL length is garbage) is placed in time, by
    validate and render alike: "corrupt video in take.mp4: Invalid data" sent the user
    searching the whole file."""
    path = make_video(tmp_path / "take.mp4", frames=120, size=(64, 36), gop=30)
    with av.open(str(path)) as container:
        packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts)
        damaged = packets[70]  # frame 70 of 30 fps: 2.333 s
        assert damaged.pos is not None and damaged.pts is not None
        seconds = float(damaged.pts * damaged.time_base)
    data = bytearray(path.read_bytes())
    data[damaged.pos : damaged.pos + 4] = b"\xff" * 4
    path.write_bytes(bytes(data))
    clip = {"id": "take", "start_time": 0, "end_time": 4, "source": {"File": "take.mp4"}}
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    source = open_file(str(path), "take")
    try:
        with pytest.raises(DecodeError) as caught:
            for n in range(120):
                source.picture_at(Fraction(n, 30))
    finally:
        source.close()
    assert len(problems) == 1
    for message in (problems[0], str(caught.value)):
        found = re.search(r"^clip 'take': corrupt video at about (\d+\.\d+)s in ", message)
        assert found is not None, message
        assert abs(float(found.group(1)) - seconds) < 0.1, message
        assert message.endswith("(repair or re-export the file)")


def test_corrupt_sound_mid_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000, layout="stereo")
        t = np.arange(48000 * 4) / 48000
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            block = np.stack([tone[start : start + 1024]] * 2)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
            frame.sample_rate = 48000
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    _damage(path)
    clip = {"id": "vo", "start_time": 0, "end_time": 4, "source": {"File": "voice.m4a"}}
    problems = media_report(_timeline(tmp_path, clip, "Audio"), str(tmp_path))[0]
    assert len(problems) == 1 and re.match(
        rf"clip 'vo': corrupt audio at about \d+\.\d{{3}}s in {re.escape(str(path))}: ", problems[0]
    )


def _sequence(folder: Path) -> dict[str, object]:
    for n in range(30):
        Image.new("RGB", (64, 36), (n * 8, 0, 0)).save(folder / f"img_{n:04d}.png")
    return {
        "id": "plate",
        "start_time": 0,
        "end_time": 1,
        "source": {"File": "img_0000.png"},
        "image_sequence": {"prefix": "img_", "suffix": ".png", "count": 30, "padding": 4,
                           "rate": 30},
    }  # fmt: skip


def test_a_truncated_image_inside_a_sequence_is_refused(tmp_path: Path) -> None:
    clip = _sequence(tmp_path)
    broken = tmp_path / "img_0020.png"
    broken.write_bytes(broken.read_bytes()[:60])
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    assert problems == [f"clip 'plate': cannot decode image {broken}: the file is cut short"]


@pytest.mark.parametrize("suffix", [".jpg", ".tif", ".bmp", ".tga"])
def test_an_image_cut_short_inside_a_jpeg_tiff_or_bmp_sequence_is_refused(
    tmp_path: Path, suffix: str
) -> None:
    # A camera's time-lapse is JPEGs; only a PNG's cut was found, so validate passed what the
    # render then refused mid-job.
    noise = np.random.default_rng(3).integers(0, 256, (36, 64, 3), np.uint8)
    for n in range(30):
        Image.fromarray(noise + np.uint8(n)).save(tmp_path / f"img_{n:04d}{suffix}")
    clip = _sequence(tmp_path)
    clip["image_sequence"] = {**clip["image_sequence"], "suffix": suffix}  # type: ignore[dict-item]
    clip["source"] = {"File": f"img_0000{suffix}"}
    broken = tmp_path / f"img_0020{suffix}"
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size * 3 // 5])
    timeline = _timeline(tmp_path, clip)
    problems = media_report(timeline, str(tmp_path))[0]
    assert len(problems) == 1
    assert problems[0].startswith(f"clip 'plate': cannot decode image {broken}: ")
    assert "truncated" in problems[0] or "cut short" in problems[0]
    source = open_file(
        str(tmp_path / f"img_0000{suffix}"), "plate", timeline.tracks[0].clips[0].source.sequence
    )  # type: ignore[union-attr]
    with pytest.raises(DecodeError, match="img_0020"):
        source.picture_at(Fraction(20, 30))


def test_an_oversized_image_inside_a_sequence_is_refused(tmp_path: Path) -> None:
    clip = _sequence(tmp_path)
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 30000x30000 RGB
    chunk = b"IHDR" + header
    bomb = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
    bomb += struct.pack(">I", zlib.crc32(chunk)) + struct.pack(">I", 0) + b"IEND"
    bomb += struct.pack(">I", zlib.crc32(b"IEND"))
    (tmp_path / "img_0015.png").write_bytes(bomb)
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    assert len(problems) == 1
    assert problems[0].startswith("clip 'plate': image is too large (over 67108864 pixels): ")
    assert problems[0].endswith("img_0015.png")


def test_collapsed_frame_times_are_refused_by_validate_as_by_render(tmp_path: Path) -> None:
    path = make_video(tmp_path / "stuck.mp4", frames=60, size=(64, 36))
    zero_frame_times(path)  # no length declared either: only decoding shows it
    clip = {"id": "take", "start_time": 0, "end_time": 1.5, "source": {"File": "stuck.mp4"}}
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    with pytest.raises(DecodeError) as refused:
        open_file(str(path), "take")
    assert problems == [str(refused.value)]


def _two_sounds(path: Path, broken: int) -> Path:
    """A Matroska with a picture and two MP3 streams, the ``broken`` one (0 or 1) noise."""
    rng = np.random.default_rng(4)
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 64, 36, "yuv420p"
        sounds = [out.add_stream("mp3", rate=48000, layout="stereo") for _ in range(2)]
        for n in range(30):
            frame = av.VideoFrame.from_ndarray(np.zeros((36, 64, 3), np.uint8), format="rgb24")
            frame.pts = n
            out.mux(video.encode(frame))
        good, bad = sounds[1 - broken], sounds[broken]
        tone = np.full((2, 1152), 0.2, np.float32)
        for at in range(0, 48000, 1152):
            block = av.AudioFrame.from_ndarray(tone, format="fltp", layout="stereo")
            block.sample_rate, block.pts = 48000, at
            for packet in good.encode(block):
                out.mux(packet)
                noise = av.Packet(bytes(rng.integers(0, 256, packet.size, dtype=np.uint8)))
                noise.pts, noise.dts, noise.time_base = packet.pts, packet.dts, packet.time_base
                noise.stream = bad
                out.mux(noise)
        out.mux(video.encode(None))
        out.mux(good.encode(None))
    return path


@pytest.mark.parametrize("broken", [0, 1])
@pytest.mark.parametrize("played", [0, 1])
def test_validate_checks_the_audio_stream_the_clip_plays(
    tmp_path: Path, broken: int, played: int
) -> None:
    """Validate decoded the first audio stream whatever ``audio_stream`` the clip played: a
    broken second stream passed and the render stopped on it; a broken first one that the clip
    did not play was refused, though the render played the clip."""
    path = _two_sounds(tmp_path / "tracks.mkv", broken)
    clip = {"id": "c", "source": {"File": path.name}, "start_time": 0, "end_time": 0.8}
    clip["audio_stream"] = played
    problems, _ = media_report(_timeline(tmp_path, clip), str(tmp_path))
    if broken == played:
        assert problems == [
            f"clip 'c': corrupt audio at about 0.000s in {path}: "
            "Invalid data found when processing input"
        ]
    else:
        assert problems == []


def test_validate_names_an_audio_stream_the_file_does_not_have(tmp_path: Path) -> None:
    path = make_video(tmp_path / "one.mp4", audio_hz=440.0)
    clip = {"id": "c", "source": {"File": path.name}, "start_time": 0, "end_time": 0.5}
    clip["audio_stream"] = 2
    problems, _ = media_report(_timeline(tmp_path, clip), str(tmp_path))
    assert problems == [
        f"clip 'c': audio_stream 2 does not exist: {path} has 1 audio stream (numbered from 0)"
    ]


def test_damage_the_decoder_conceals_is_refused_by_validate_as_by_render(tmp_path: Path) -> None:
    """H.264 flags a concealed picture only when decoding on frame threads, as the render
    does; validate decoded on FFmpeg's default slice threads, saw no flag and said ok for a
    file render then refused at 1.000 s."""
    path = make_video(tmp_path / "take.mp4", frames=60, size=(320, 180), gop=30)
    data = bytearray(path.read_bytes())
    with av.open(str(path)) as container:
        keys = [(p.pos, p.size) for p in container.demux(video=0) if p.is_keyframe and p.size]
    pos, size = keys[1]  # the keyframe at 1 s: a tenth of it overwritten, as a bad card leaves it
    data[pos + size // 2 : pos + size * 6 // 10] = b"\xff" * (size * 6 // 10 - size // 2)
    path.write_bytes(bytes(data))
    clip = {"id": "take", "start_time": 0, "end_time": 2, "source": {"File": "take.mp4"}}
    source = open_file(str(path), "take")
    try:  # the premise: the render refuses the file
        with pytest.raises(DecodeError, match=r"corrupt video at 1\.000s .* conceal damage"):
            for n in range(60):
                source.picture_at(Fraction(n, 30))
    finally:
        source.close()
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    assert len(problems) == 1, problems
    assert re.match(r"clip 'take': corrupt video at 1\.000s in .*conceal damage", problems[0])


class _CountedPacket:
    """A packet whose decode() calls are counted."""

    def __init__(self, packet: Any, counts: list[int]) -> None:
        self.packet, self.counts = packet, counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self.packet, name)

    def decode(self) -> Any:
        self.counts[0] += 1
        return self.packet.decode()


class _CountedDecodes:
    """A container whose packets' decodes are counted."""

    def __init__(self, container: Any) -> None:
        self.container, self.counts = container, [0]

    def __enter__(self) -> _CountedDecodes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.container.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.container, name)

    def demux(self, *streams: Any) -> Any:
        for packet in self.container.demux(*streams):
            yield _CountedPacket(packet, self.counts)


def test_video_whose_first_frame_never_comes_is_not_decoded_again_over_its_clips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames that decode but are never shown (VP9 keyframes with show_frame off): validate
    refused the file for its first frame, then decoded it again over the clip's range up to
    DECODE_PIXELS (27 s of CPU) for nothing."""
    make_hidden_frames(tmp_path / "hidden.avi", PROBE_PACKETS * 4)
    opened: list[_CountedDecodes] = []

    def counted(name: str) -> _CountedDecodes:
        opened.append(_CountedDecodes(open_media(name)))
        return opened[-1]

    monkeypatch.setattr(probe, "open_media", counted)
    clip = {"id": "h", "start_time": 0, "end_time": 80, "source": {"File": "hidden.avi"}}
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    assert problems == [f"clip 'h': no decodable video frame in {tmp_path / 'hidden.avi'}"]
    assert sum(c.counts[0] for c in opened) <= PROBE_PACKETS + 1


def _decodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clips: list[dict[str, Any]]) -> int:
    """How many packets validate decodes over ``clips`` (first frames included)."""
    opened: list[_CountedDecodes] = []

    def counted(name: str) -> _CountedDecodes:
        opened.append(_CountedDecodes(open_media(name)))
        return opened[-1]

    monkeypatch.setattr(probe, "open_media", counted)
    doc = project([video_track("v", clips)], size=(64, 36))
    assert media_report(read_project(doc, base_dir=str(tmp_path)).timeline, str(tmp_path)) == (
        [],
        [],
    )
    return sum(c.counts[0] for c in opened)


def test_larger_frames_are_decoded_fewer_packets_deep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate decoded 9000 packets of a file whatever its frame size: 27 s of CPU at 1080p,
    minutes at 4K. It is bounded in pixels: frames four times as large, a quarter as deep."""
    monkeypatch.setattr(probe, "DECODE_PIXELS", 40 * 640 * 360)
    make_video(tmp_path / "hd.mp4", frames=120, size=(640, 360), gop=120)
    make_video(tmp_path / "uhd.mp4", frames=120, size=(1280, 720), gop=120)
    clip = {"start_time": 0, "end_time": 4}
    hd = _decodes(tmp_path, monkeypatch, [{**clip, "id": "hd", "source": {"File": "hd.mp4"}}])
    uhd = _decodes(tmp_path, monkeypatch, [{**clip, "id": "uhd", "source": {"File": "uhd.mp4"}}])
    # The first frame (one packet, or a few the decoder holds back) is decoded first, apart.
    assert 40 <= hd <= 40 + 8, hd
    assert 10 <= uhd <= 10 + 8, uhd


def test_a_long_first_clip_leaves_the_later_ones_their_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound was spent in order: a long first clip used it all and damage at the start of a
    later clip of the same file went unseen. Each range gets its share of what is left."""
    monkeypatch.setattr(probe, "DECODE_PIXELS", 90 * 640 * 360)
    path = make_video(tmp_path / "take.mp4", frames=300, size=(64, 36), gop=30)
    with av.open(str(path)) as container:
        packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts)
        damaged = packets[250]  # 8.333 s: two frames into the second clip's keyframe's GOP
        assert damaged.pos is not None
    data = bytearray(path.read_bytes())
    data[damaged.pos : damaged.pos + 4] = b"\xff" * 4
    path.write_bytes(bytes(data))
    first = {"id": "long", "start_time": 0, "end_time": 8, "source": {"File": "take.mp4"}}
    later = {"id": "later", "start_time": 8, "end_time": 10, "source": {"File": "take.mp4"},
             "source_start": 8.2, "source_end": 10}  # fmt: skip
    doc = project([video_track("v", [first, later])], size=(64, 36))
    problems = media_report(read_project(doc, base_dir=str(tmp_path)).timeline, str(tmp_path))[0]
    assert len(problems) == 1 and problems[0].startswith("clip 'later': corrupt video at about 8.3")


def test_a_project_of_many_files_shares_one_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file had its own bound, so fifty long clips were decoded 27 s each; the files share
    VALIDATE_PIXELS (each still at most DECODE_PIXELS)."""
    monkeypatch.setattr(probe, "DECODE_PIXELS", 60 * 640 * 360)
    monkeypatch.setattr(probe, "VALIDATE_PIXELS", 80 * 640 * 360)
    make_video(tmp_path / "a.mp4", frames=90, size=(64, 36), gop=90)
    clips = []
    for n in range(4):
        (tmp_path / f"{n}.mp4").write_bytes((tmp_path / "a.mp4").read_bytes())
        clips.append({"id": f"c{n}", "start_time": 3 * n, "end_time": 3 * n + 3,
                      "source": {"File": f"{n}.mp4"}})  # fmt: skip
    # 80 packets' worth over four files, plus each file's first frame decoded apart.
    assert 80 <= _decodes(tmp_path, monkeypatch, clips) <= 80 + 4 * 8


def test_a_file_the_render_cannot_seek_in_is_refused_by_validate_as_by_render(
    tmp_path: Path,
) -> None:
    """An MKV whose packets carry no keyframe flag (so no cues): validate said ok, then the
    render refused it at its first frame, "cannot seek in ...: Operation not permitted"."""
    good = make_video(tmp_path / "good.mp4", frames=30, size=(64, 36), gop=30)
    path = tmp_path / "nokey.mkv"
    with av.open(str(good)) as source, av.open(str(path), "w") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.size:
                packet.is_keyframe = False
                packet.stream = stream
                out.mux(packet)
    clip = {"id": "take", "start_time": 0, "end_time": 1, "source": {"File": "nokey.mkv"}}
    source = open_file(str(path), "take")
    try:  # the premise: the render refuses the file
        with pytest.raises(DecodeError, match="^clip 'take': cannot seek in ") as refused:
            source.picture_at(Fraction(0))
    finally:
        source.close()
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    assert problems == [str(refused.value)]
    # FFmpeg's EPERM from the seek is worded as what it means, not as a permission.
    assert "no keyframe is listed" in problems[0] and "not permitted" not in problems[0]


def test_a_file_of_more_frames_than_the_render_indexes_is_refused_by_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream of tiny packets (15 bytes of file made 190 bytes of index each: a 1 GB upload
    took 12 GB of a node's memory on every chunk): past MAX_INDEX_FRAMES the index is refused,
    naming the file, by validate and render alike."""
    from workers import video_index

    monkeypatch.setattr(video_index, "MAX_INDEX_FRAMES", 100)
    path = make_video(tmp_path / "many.mkv", frames=150, size=(64, 36), gop=30)
    clip = {"id": "many", "start_time": 0, "end_time": 1, "source": {"File": "many.mkv"}}
    with pytest.raises(DecodeError, match=f"the video of {re.escape(str(path))} holds over 100 "):
        open_file(str(path), "many")
    problems = media_report(_timeline(tmp_path, clip), str(tmp_path))[0]
    assert len(problems) == 1 and problems[0].startswith(f"clip 'many': the video of {path} ")
    monkeypatch.setattr(video_index, "MAX_INDEX_FRAMES", 150)  # exactly as many: indexed
    open_file(str(path), "many").close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reverse", [False, True])
def test_a_day_long_clip_of_a_one_second_file_is_checked_in_seconds(
    tmp_path: Path, reverse: bool
) -> None:
    # 20.7 million timeline frames, each looked up in the file's index (Fractions, a list of
    # them): validate ran for minutes and past a gigabyte, though every frame after the first
    # second holds the file's last.
    make_video(tmp_path / "second.mp4", frames=10, fps=10, size=(64, 36))
    clip = {"id": "held", "start_time": 0, "end_time": 86400, "source": {"File": "second.mp4"}}
    doc = project([video_track("v", [{**clip, "reverse": reverse}])], fps=240, size=(64, 36))
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    problems, warnings = media_report(timeline, str(tmp_path))
    assert problems == []
    assert any("clip 'held'" in w and "last frame holds" in w for w in warnings), warnings
