"""Every file the renderer writes is repeatable: the same timeline rendered again in a fresh
process (a re-render, a chunk rendered again after a failover, the merge run twice) gives the
same bytes, in every container, and the segments and mix the segment cache keeps too.

FFmpeg's Matroska (mkv, webm, and so every chunk segment and audio mix) and Ogg (ogg, opus)
muxers write random identifiers (segment and track UIDs, stream serial numbers) and the writing
time unless told to write bit-exact files, so two renders of one timeline differed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av

from tests.helpers import file_clip, subprocess_env
from tests.media import make_video, project, video_track
from tests.workers.test_stitch import top_level_boxes

#: What each video container is rendered with, and the audio-only outputs.
VIDEO = {"mp4": "h264", "mov": "h264", "mkv": "h264", "webm": "vp9"}
AUDIO_ONLY = ("wav", "flac", "m4a", "ogg", "opus", "mp3")

_RENDER = """
import dataclasses, hashlib, json, sys
from pathlib import Path
from chunking.timeline.studio import load_project
from workers.audio_encode import audio_encoder_for, write_audio_file
from workers.audio_mix import mix_timeline
from workers.encoder import segment_format
from workers.render import render_to_file
from workers.stitch import stitch

doc, folder, out = json.loads(Path(sys.argv[1]).read_text()), sys.argv[2], Path(sys.argv[3])
video, audio_only = json.loads(sys.argv[4]), json.loads(sys.argv[5])
base = load_project(doc, folder)
made = {}
def exporting(container, codec):
    return dataclasses.replace(base, export=dataclasses.replace(
        base.export, container=container, codec=codec, preset="ultrafast", audio_codec=None))
for container, codec in video.items():
    tl = exporting(container, codec)
    made[f"direct.{container}"] = render_to_file(tl, str(out / f"direct.{container}")).output
    segments = []
    for index, (start, end) in enumerate([(0, 6), (6, tl.frames)]):
        path = str(out / f"segment-{container}-{index}.mkv")
        render_to_file(tl, path, start=start, end=end, audio=False,
                       file_format=segment_format(tl.export))
        made[f"segment.{container}.{index}"] = path
        segments.append((path, start, end))
    mix = str(out / f"mix-{container}.mka")
    write_audio_file(mix, mix_timeline(tl, []), tl.sample_rate, "mkv",
                     tl.export.audio_bitrate, audio_encoder_for(tl.export))
    made[f"mix.{container}"] = mix
    stitched = str(out / f"stitched.{container}")
    stitch(segments, tl.fps, stitched, container, mix)
    made[f"stitched.{container}"] = stitched
for container in audio_only:
    made[f"direct.{container}"] = render_to_file(
        exporting(container, "h264"), str(out / f"direct.{container}")).output
print(json.dumps({k: hashlib.sha256(Path(p).read_bytes()).hexdigest() for k, p in made.items()}))
"""


def _render_all(doc_path: Path, out: Path) -> dict[str, str]:
    """Every output, segment and mix of the project, written by a fresh process: their sha256s."""
    out.mkdir()
    args = [
        str(doc_path),
        str(doc_path.parent),
        str(out),
        json.dumps(VIDEO),
        json.dumps(AUDIO_ONLY),
    ]
    done = subprocess.run(
        [sys.executable, "-c", _RENDER, *args],
        env=subprocess_env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def test_every_container_gives_the_same_bytes_when_rendered_again(tmp_path: Path) -> None:
    # Given a short project with picture and sound
    src = make_video(tmp_path / "a.mp4", frames=12, size=(64, 36), audio_hz=440.0)
    doc = project([video_track("v", [file_clip("a", src, 0, 0.4)])], size=(64, 36))
    doc_path = tmp_path / "project.json"
    doc_path.write_text(json.dumps(doc))
    # When every output, segment and mix is written twice, each time by a new process
    first = _render_all(doc_path, tmp_path / "first")
    second = _render_all(doc_path, tmp_path / "second")
    # Then each file has the same bytes both times
    assert first.keys() == second.keys()
    differ = sorted(name for name in first if first[name] != second[name])
    assert differ == [], f"rendered twice, these differ: {differ}"
    # And the MP4 and MOV outputs still have their index first (fast start) and play
    for name in ("direct.mp4", "stitched.mp4", "direct.mov", "stitched.mov"):
        path = tmp_path / "first" / name
        boxes = top_level_boxes(path)
        assert boxes[0] == "ftyp" and boxes.index("moov") < boxes.index("mdat"), (name, boxes)
        with av.open(str(path)) as played:
            assert len(list(played.decode(video=0))) == 12, name
