"""A Final Cut Pro export with a reversed clip (Reverse Clip), rendered through a real cluster
(Redis and worker processes) in chunks that start inside it, equals the direct render, and the
reversed clip shows its span's frames last first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chunking.timeline.project import read_project
from cli.render_command import render_distributed
from tests.media import decode_rgb, identify, make_video
from workers.render import render_to_file

pytestmark = [pytest.mark.timeout(600), pytest.mark.cluster(workers=2)]

FCPXML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="320" height="180"/>
    <asset id="r2" name="a" start="0s" duration="4s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="{media}"/>
    </asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="2s" tcStart="0s">
      <spine>
        <asset-clip name="ahead" ref="r2" offset="0s" duration="1s" start="0s"/>
        <asset-clip name="back" ref="r2" offset="1s" duration="1s" start="0s">
          <timeMap><timept time="0s" value="2s"/><timept time="1s" value="1s"/></timeMap>
        </asset-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "storage"
    monkeypatch.setenv("CLOUDRENDER_STORAGE_URL", f"file://{root}")
    return root


def test_a_reversed_fcpxml_clip_renders_in_chunks_as_directly(
    cluster: str, storage: Path, tmp_path: Path
) -> None:
    media = make_video(tmp_path / "a.mp4", frames=100, fps=25, size=(320, 180), gop=10)
    path = tmp_path / "cut.fcpxml"
    path.write_text(FCPXML.format(media=media.as_uri()))
    prepared = read_project(str(path)).with_export({"container": "mkv", "lossless": True})
    direct = tmp_path / "direct.mkv"
    render_to_file(prepared.timeline, str(direct), audio=False)
    out = tmp_path / "distributed.mkv"
    # Chunks of 7 frames: four of them start inside the reversed clip, mid-GOP.
    render_distributed(prepared, str(out), workers=2, chunk_frames=7, broker_url=cluster)
    ours, reference = decode_rgb(out), decode_rgb(direct)
    assert len(ours) == len(reference) == 50
    for t, (a, b) in enumerate(zip(ours, reference, strict=True)):
        assert np.array_equal(a, b), f"frame {t} differs from the direct render"
    assert [identify(f) for f in ours] == [*range(25), *range(49, 24, -1)]
