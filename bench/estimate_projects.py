"""The projects ``bench/estimate_accuracy.py`` estimates and renders: recipes spanning the
complexity range (1 to 4 video layers, effects, dissolves, titles, 320x180 to 1280x720, 5 s to
2 min), their Timeline Studio documents, and the generated media they cut.

Pure recipes and documents; ``make_media`` writes the test videos and logos.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from bench.script import log
from bench.support import project, video_track
from bench.throughput_project import FPS, make_logo, make_source

SIZES = [(320, 180), (480, 270), (640, 360), (960, 540), (1280, 720)]
#: Seconds of each generated source video; shots are cut from it.
SOURCE_SECONDS = 8.0
SHOT_SECONDS = 4.0
EFFECTS = {
    "none": [],
    "vignette": [{"effect_type": "Vignette", "params": {"strength": 0.5}}],
    "blur": [{"effect_type": "Blur", "params": {"radius": 4.0}}],
    "grain": [{"effect_type": "FilmGrain", "params": {"amount": 0.3}}],
    "sharpen+glow": [
        {"effect_type": "Sharpen", "params": {"amount": 1.0}},
        {"effect_type": "Glow", "params": {"intensity": 0.4}},
    ],
}


def specs(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` project recipes spanning layers, effects, transitions, titles, sizes and
    lengths; long ones only at small sizes, so the run stays within minutes on 2 cores."""
    rng = random.Random(seed)
    found = []
    for i in range(count):
        size = SIZES[_SIZE_CYCLE[i % len(_SIZE_CYCLE)]]
        lengths = _LENGTHS[size]
        found.append(
            {
                "name": f"p{i:02d}",
                "size": size,
                # Every size's longest length once in the first rounds: a 2-minute project early.
                "seconds": lengths[-1] if i < len(_SIZE_CYCLE) else rng.choice(lengths),
                "layers": 1 + (i + i // 4) % 4,
                "effects": list(EFFECTS)[(i + i // 5) % len(EFFECTS)],
                "transitions": rng.random() < 0.5,
                "titles": rng.random() < 0.5,
            }
        )
    return found


#: Which size each project gets in turn (mostly small), and the lengths each size may have.
_SIZE_CYCLE = [0, 2, 1, 3, 0, 4, 1, 2, 0, 3, 1]
_LENGTHS = {
    SIZES[0]: [10, 20, 30, 60, 90, 120],
    SIZES[1]: [8, 12, 20, 30, 45],
    SIZES[2]: [5, 8, 12, 20],
    SIZES[3]: [5, 8],
    SIZES[4]: [5],
}


def document(spec: dict[str, Any]) -> dict[str, Any]:
    """The Timeline Studio document of one recipe (media named per size: source-WxH.mp4...)."""
    width, height = spec["size"]
    tag = f"{width}x{height}"
    length = float(spec["seconds"])
    effects = [{**e, "id": f"fx{i}"} for i, e in enumerate(EFFECTS[spec["effects"]])]
    shots = _shots(f"source-{tag}.mp4", "shot", length, [e["id"] for e in effects])
    tracks = [video_track("footage", shots)]
    extra: dict[str, Any] = {"effects": effects}
    if spec["transitions"]:
        extra["transitions"] = [
            {
                "id": f"mix{i}",
                "transition_type": "Dissolve",
                "from_clip_id": a["id"],
                "to_clip_id": b["id"],
                "duration": 0.5,
            }
            for i, (a, b) in enumerate(zip(shots, shots[1:], strict=False))
        ]
    if spec["layers"] >= 2:
        pip = _shots(f"source-{tag}.mp4", "pip", length, [], offset=2.0)
        for clip in pip:
            clip["transform"] = {
                "scale_x": 0.5,
                "scale_y": 0.5,
                "position_x": width // 2,
                "position_y": height // 16,
                "anchor_x": 0.0,
                "anchor_y": 0.0,
            }
            clip["opacity"] = 0.8
            clip["color_correction"] = {"contrast": 1.1, "saturation": 1.2}
        tracks.append(video_track("pip", pip))
    if spec["layers"] >= 3:
        logo = {"id": "logo", "source": {"File": f"logo-{tag}.png"}}
        tracks.append(video_track("logo", [{**logo, "start_time": 0.0, "end_time": length}]))
    if spec["layers"] >= 4:
        wash = {
            "id": "wash",
            "source": "Generated",
            "properties": {"custom_metadata": {"generator": {"type": "color", "color": "#2040a0"}}},
            "start_time": 0.0,
            "end_time": length,
            "opacity": 0.25,
        }
        tracks.append(video_track("wash", [wash]))
    if spec["titles"]:
        extra["subtitles"] = [
            {
                "id": f"title{i}",
                "text": f"Chapter {i + 1}",
                "start_time": float(at),
                "end_time": float(min(at + 3, length)),
                "style": {"font_size": height / 12, "color": "#ffffff"},
            }
            for i, at in enumerate(range(1, int(length) - 1, 6))
        ]
    extra["settings"] = {
        "export": {"format": "mp4", "codec": "h264", "crf": 23, "preset": "veryfast"}
    }
    return project(tracks, fps=FPS, size=(width, height), duration=length, **extra)


def _shots(
    source: str, name: str, length: float, effects: list[str], offset: float = 0.0
) -> list[dict[str, Any]]:
    """Back-to-back shots of SHOT_SECONDS cut from different stretches of `source`."""
    clips, start, index = [], 0.0, 0
    while start < length - 1e-9:
        end = min(start + SHOT_SECONDS, length)
        into = 0.5 + (offset + index * 1.3) % (SOURCE_SECONDS - SHOT_SECONDS - 1.0)
        clips.append(
            {
                "id": f"{name}{index}",
                "source": {"File": source},
                "start_time": round(start, 3),
                "end_time": round(end, 3),
                "source_start": round(into, 3),
                "effects": effects,
            }
        )
        start, index = end, index + 1
    return clips


def make_media(directory: Path, recipes: list[dict[str, Any]]) -> None:
    """A test video and a logo for each size the recipes use."""
    for width, height in sorted({tuple(r["size"]) for r in recipes}):
        log(f"generating the {width}x{height} source and logo")
        tag = f"{width}x{height}"
        make_source(directory / f"source-{tag}.mp4", width, height, round(SOURCE_SECONDS * FPS))
        make_logo(directory / f"logo-{tag}.png", width, height)
