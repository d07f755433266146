"""Sound whose container lists its channels one by one (FFmpeg's "custom" order: a MOV's 7.1
PCM as ffmpeg and cameras write it, sides before backs) is read, not a crash.

PyAV 18 frees such a layout's channel list with every layout object it hands out, and again
with its owner: validate and the render died of "double free or corruption" (SIGABRT) on the
first decoded frame. ``workers.media_open`` gives such streams a native layout before anything
decodes them. Each check runs in a child process: the old code aborts the interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np

from workers.media_open import _replacement

#: The 7.1 a MOV's ``chan`` box names by tag (kAudioChannelLayoutTag_MPEG_7_1_C: L R C LFE
#: Ls Rs Rls Rrs), which FFmpeg reads as FL FR FC LFE SL SR BL BR: not its native order.
_MPEG_7_1_C = (128 << 16) | 8
_RATE = 48000


def _custom_71_mov(path: Path) -> Path:
    """24 frames of 1024 samples of 8-channel PCM in a MOV, channel c holding (c + 1) / 10,
    its ``chan`` box naming the layout by the tag above (PyAV writes a bitmap, which reads
    back native)."""
    layout = "7.1"
    with av.open(str(path), "w", format="mov") as out:
        stream = out.add_stream("pcm_s16le", rate=_RATE, layout=layout)
        levels = np.array([(c + 1) * 3276 for c in range(8)], dtype=np.int16)
        for start in range(0, _RATE // 2, 1024):
            interleaved = np.tile(levels, 1024).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
            frame.sample_rate, frame.pts = _RATE, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = bytearray(path.read_bytes())
    at = data.index(b"chan") + 8  # past the type and the version and flags
    assert data[at : at + 8] == bytes.fromhex("000100000000063f")  # bitmap 7.1
    data[at : at + 8] = _MPEG_7_1_C.to_bytes(4, "big") + bytes(4)
    path.write_bytes(bytes(data))
    return path


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child Python with ``args`` (the interpreter survives an abort there)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_a_mov_with_a_custom_71_layout_decodes(tmp_path: Path) -> None:
    path = _custom_71_mov(tmp_path / "camera.mov")
    child = _run(
        "import json, sys\n"
        "from workers.media_open import open_media\n"
        "with open_media(sys.argv[1]) as c:\n"
        "    s = c.streams.audio[0]\n"
        "    n = sum(f.samples for f in c.decode(s))\n"
        "    print(json.dumps([s.codec_context.channels, s.codec_context.layout.name, n]))\n",
        str(path),
    )
    assert child.returncode == 0, child.stderr[-500:]
    channels, layout, samples = json.loads(child.stdout)
    assert (channels, layout, samples) == (8, "7.1", 24 * 1024)  # as written


def test_each_channel_keeps_its_place(tmp_path: Path) -> None:
    """A clip playing one channel of the stream (``audio_channel``) hears that channel."""
    path = _custom_71_mov(tmp_path / "camera.mov")
    code = (
        "import json, sys\n"
        "from chunking.timeline.project import read_project\n"
        "from workers.audio_source import clip_audio\n"
        "doc = json.loads(sys.argv[2])\n"
        "clip = read_project(doc, base_dir=sys.argv[3]).timeline.tracks[0].clips[0]\n"
        "with clip_audio(clip, sys.argv[1], 48000, 4800) as window:\n"
        "    print(float(window.read(0, 4800)[0].mean()))\n"
    )
    for channel in (1, 5, 7):
        clip = {"id": "a", "source": {"File": str(path)}, "start_time": 0, "end_time": 0.1}
        clip["audio_channel"] = channel
        doc = {
            "timeline": {"fps": 30, "resolution": [64, 36], "sample_rate": _RATE},
            "tracks": [{"id": "t", "track_type": "Audio", "clips": [clip]}],
        }
        child = _run(code, str(path), json.dumps(doc), str(tmp_path))
        assert child.returncode == 0, child.stderr[-500:]
        assert abs(float(child.stdout) - channel * 3276 / 32768) < 1e-3


def test_validate_and_render_read_it(tmp_path: Path) -> None:
    path = _custom_71_mov(tmp_path / "camera.mov")
    clip = {"id": "a", "source": {"File": str(path)}, "start_time": 0, "end_time": 0.4}
    doc = {
        "timeline": {"fps": 30, "resolution": [64, 36], "sample_rate": _RATE},
        "tracks": [{"id": "t", "track_type": "Audio", "clips": [clip]}],
    }
    (tmp_path / "p.json").write_text(json.dumps(doc))
    checked = subprocess.run(
        [sys.executable, "-m", "cli", "validate", str(tmp_path / "p.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr[-500:]
    out = tmp_path / "out.mp4"
    rendered = subprocess.run(
        [sys.executable, "-m", "cli", "render", str(tmp_path / "p.json"), "-o", str(out)]
        + ["--direct", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rendered.returncode == 0, rendered.stderr[-500:]
    with av.open(str(out)) as result:
        sound = np.concatenate([f.to_ndarray() for f in result.decode(audio=0)], axis=1)
    assert np.abs(sound[:, 2400:9600]).mean() > 0.1  # the channels mixed, not silence


def test_replacement_layouts() -> None:
    assert _replacement("FL FR FC LFE SL SR BL BR".split()) == "FL+FR+FC+LFE+BL+BR+SL+SR"
    assert av.AudioLayout(_replacement("FR FL".split())).name == "stereo"
    # Channels FFmpeg has no native place for, or twice the same: in no order.
    assert _replacement("FL FR USR7".split()) == "3 channels"
    assert _replacement("FC FC".split()) == "2 channels"
