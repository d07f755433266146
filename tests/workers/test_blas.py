"""Frames do not depend on how many threads BLAS may use on the machine that renders them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import subprocess_env
from tests.media import make_video, project, video_track

# Renders a few frames with a wide blur and colour correction (both matrix products) and prints
# one digest of the uint8 frames.
SCRIPT = """
import hashlib, sys
from chunking.timeline.loader import load
from workers.compositor import Compositor
timeline = load(sys.argv[1])
compositor = Compositor(timeline)
digest = hashlib.sha256()
for t in range(6):
    digest.update(compositor.frame(t).tobytes())
print(digest.hexdigest())
"""


def render_digest(path: Path, blas_threads: str) -> str:
    env = subprocess_env({"OPENBLAS_NUM_THREADS": blas_threads})
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_frames_are_identical_with_one_or_two_blas_threads(tmp_path: Path) -> None:
    # A node's core count (and OPENBLAS_NUM_THREADS) changes how OpenBLAS splits a product and
    # so the order of float additions; unpinned, some 8-bit pixels of this blur flip.
    # Film grain first: noisy pixels give the blur many sums near a rounding boundary.
    make_video(tmp_path / "src.mp4", frames=6, size=(640, 360))
    clip = {
        "id": "c",
        "start_time": 0,
        "end_time": 0.2,
        "source": {"File": "src.mp4"},
        "effects": ["g", "b"],
        "color_correction": {"contrast": 1.3, "saturation": 1.4, "hue": 20},
    }
    doc = project(
        [video_track("v", [clip])],
        size=(640, 360),
        effects=[
            {"id": "g", "effect_type": "FilmGrain", "params": {"amount": 0.5}},
            {"id": "b", "effect_type": "Blur", "params": {"radius": 3}},
        ],
    )
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    assert render_digest(path, "1") == render_digest(path, "2")
