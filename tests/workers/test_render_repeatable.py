"""A lossy render is repeatable: the same project rendered again in a fresh process gives the
same bytes (a render farm's re-render, a chunk rendered again after a failover).

x264's AVX-512 macroblock-tree code reads memory it never wrote when a frame's width in
macroblocks is not a multiple of 8 (320 px: 20), so its bytes followed whatever the heap held.
Each render here runs with MALLOC_PERTURB_ at another value, which fills new allocations with
another byte, so leftovers that reach the output make the files differ every time, not one run
in five. On a CPU without AVX-512 x264 never runs that code and this passes either way.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import file_clip, subprocess_env
from tests.media import make_video, project, video_track

_RENDER = """
import json, sys
from chunking.timeline.studio import load_project
from workers.render import render_to_file
with open(sys.argv[1]) as f:
    doc = json.load(f)
render_to_file(load_project(doc, sys.argv[2]), sys.argv[3], audio=False)
"""


def _render(doc_path: Path, out: Path, perturb: str) -> str:
    """Render the project in a fresh process with MALLOC_PERTURB_=perturb; the file's sha256."""
    subprocess.run(
        [sys.executable, "-c", _RENDER, str(doc_path), str(doc_path.parent), str(out)],
        env=subprocess_env({"MALLOC_PERTURB_": perturb}),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return hashlib.sha256(out.read_bytes()).hexdigest()


def test_a_lossy_render_gives_the_same_bytes_in_another_process(tmp_path: Path) -> None:
    # Given a small H.264 project (the default export: CRF 23, preset medium, mbtree on) whose
    # picture moves, at a width of 20 macroblocks
    src = make_video(tmp_path / "a.mp4", frames=60, gop=9, size=(320, 180))
    bars = {"type": "pattern", "pattern": "bars"}
    doc = project(
        [
            video_track(
                "bg",
                [
                    {
                        "id": "bars",
                        "start_time": 0,
                        "end_time": 2,
                        "source": "Generated",
                        "properties": {"custom_metadata": {"generator": bars}},
                    }
                ],
            ),
            video_track("fg", [file_clip("v", src, 0.2, 1.8, opacity=0.7)]),
        ],
        size=(320, 180),
    )
    doc_path = tmp_path / "project.json"
    doc_path.write_text(json.dumps(doc))
    # When it is rendered twice, each time in a new process whose heap holds other leftovers
    first = _render(doc_path, tmp_path / "first.mp4", "1")
    second = _render(doc_path, tmp_path / "second.mp4", "170")
    # Then both files have the same bytes
    assert first == second, "the same project rendered twice gave different files"
