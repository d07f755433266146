"""Hostile project files (issue 13, findings 4 and 5): each one is refused by ``validate`` and by
``render --direct`` with exit status 2 and one line naming the problem, never a traceback, a
warning spew or a file left behind.

The projects are tiny (64x36, two frames at 10 fps), so what they attack is the loader's range
checks, the JSON reader and the memory estimate, not the machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CLI
from tests.media import project, solid, video_track

SIZE = (64, 36)


def _clip(**extra: Any) -> dict[str, Any]:
    return {"id": "c", "start_time": 0, "end_time": 0.2, **solid("#336699"), **extra}


_BLUR = {"id": "e", "effect_type": "Blur", "params": {}}


def _doc(clips: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    tracks = [video_track("v", clips or [_clip()])]
    settings = {"export": {"preset": "ultrafast"}}
    size, fps = extra.pop("size", SIZE), extra.pop("fps", 10)
    return project(tracks, size=size, fps=fps, settings=settings, **extra)


def _effect(kind: str, **params: Any) -> dict[str, Any]:
    return _doc([_clip(effects=[{"id": "e", "effect_type": kind, "params": params}])])


_SUB = {"id": "s", "text": "hello", "start_time": 0, "end_time": 0.2}


def _subtitle(**style: Any) -> dict[str, Any]:
    return _doc(subtitles=[{**_SUB, "style": style}])


NAN, HUGE = float("nan"), 1e308

#: name -> (project document or raw JSON text, what the one line must say)
CASES: dict[str, tuple[dict[str, Any] | str, str]] = {
    "end_time 86401": (_doc([_clip(end_time=86401)]), "end_time must be between 0 and 86400"),
    "end_time 1e9": (_doc([_clip(end_time=1e9)]), "clip 'c': end_time must be between"),
    "nested 5000 deep": (
        '{"timeline": {"fps": 30}, "tracks": ' + "[" * 5000 + "]" * 5000 + "}",
        "nest",
    ),
    "nested 200 deep": (
        json.dumps({**_doc(), "metadata": json.loads("[" * 200 + "]" * 200)}),
        "nest over 64 levels",
    ),
    "huge integer": ('{"timeline": {"fps": ' + "9" * 5000 + "}}", "invalid JSON"),
    "subtitle x abc": (_subtitle(position={"x": "abc", "y": 0.5}), "position.x must be a number"),
    "subtitle x null": (_subtitle(position={"x": None, "y": 0.5}), "position.x must be a number"),
    "subtitle x NaN": (_subtitle(position={"x": NAN, "y": 0.5}), "position.x must be a finite"),
    "subtitle y 1e308": (_subtitle(position={"x": 0.5, "y": HUGE}), "position.y must be between"),
    "subtitle font 1e308": (_subtitle(font_size=HUGE), "style.font_size must be between"),
    "scale NaN": (_doc([_clip(transform={"scale": NAN})]), "transform.scale must be a finite"),
    "scale 1e308": (_doc([_clip(transform={"scale": HUGE})]), "transform.scale must be between"),
    "scale {x: 1e308}": (
        _doc([_clip(transform={"scale": {"x": HUGE, "y": 1}})]),
        "transform.scale.x must be between",
    ),
    "rotation inf": (
        _doc([_clip(transform={"rotation": float("inf")})]),
        "transform.rotation must be a finite",
    ),
    "opacity -1e308": (_doc([_clip(opacity=-HUGE)]), "opacity must be between 0 and 1"),
    "FilmGrain size 1e300": (_effect("FilmGrain", size=1e300), "params.size must be between"),
    "Contrast 1e308": (_effect("Contrast", amount=HUGE), "params.amount must be between 0 and 4"),
    "Brightness 1e308": (_effect("Brightness", value=HUGE), "params.value must be between 0 and 4"),
    "Sharpen 1e308": (_effect("Sharpen", amount=HUGE), "params.amount must be between -10"),
    "Blur radius '1e999'": (_effect("Blur", radius="1e999"), "params.radius must be a finite"),
    "colour [NaN, 0, 0]": (
        _doc([_clip(source={"Generated": {"type": "color", "color": [NAN, 0, 0]}})]),
        "not a colour",
    ),
    "fps [inf, 1]": (_doc(fps=[HUGE * 10, 1]), "not a frame rate"),
    # Printed whole before: a 1 MB "one line" on the terminal and in the job's error.
    "preset 1 MB": (
        project(
            [video_track("v", [_clip()])],
            size=SIZE,
            fps=10,
            settings={"export": {"preset": "p" * (1 << 20)}},
        ),
        "preset 'ppp",
    ),
}


def _write(tmp_path: Path, content: dict[str, Any] | str) -> Path:
    path = tmp_path / "hostile.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _assert_one_line(result: Any, expected: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[:2000]
    assert len(lines[0]) <= 1100, f"{len(lines[0])} characters: {lines[0][:200]}"
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_project_is_one_line(name: str, tmp_path: Path, cli: CLI) -> None:
    content, expected = CASES[name]
    path = _write(tmp_path, content)
    out = tmp_path / "out"
    out.mkdir()
    _assert_one_line(cli("validate", str(path)), expected)
    _assert_one_line(cli("render", "--direct", str(path), "-o", str(out / "x.mp4")), expected)
    assert list(out.iterdir()) == []


#: Over a 256 MB budget, yet small enough (under 2 GB each) that rendering one by mistake would
#: not take the test machine down.
MEMORY_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "canvas 4096x4096": (_doc(size=(4096, 4096)), "4096x4096 canvas"),
    "scale 100 rotated": (
        # A blur needs the whole layer: without one only what shows is drawn, and it fits.
        _doc([_clip(id="big", transform={"scale": 100, "rotation": 45}, effects=[_BLUR])]),
        "clip 'big' scaled 100x and rotated 45 degrees on a 64x36 canvas",
    ),
    "font 1000": (
        _doc(
            subtitles=[{**_SUB, "text": "x" * 20, "style": {"font_size": 1000}}], size=(1920, 1080)
        ),
        "subtitle 's' at font size 1000",
    ),
    "2000 layers": (
        project(
            [video_track(f"t{i}", [_clip(id=f"c{i}")]) for i in range(2000)],
            size=(320, 180),
            fps=10,
        ),
        "2000 layers at once",
    ),
}


@pytest.mark.parametrize("name", sorted(MEMORY_CASES))
def test_project_over_the_memory_budget_is_one_line(name: str, tmp_path: Path, cli: CLI) -> None:
    content, expected = MEMORY_CASES[name]
    path = _write(tmp_path, content)
    out = tmp_path / "out"
    out.mkdir()
    budget = cli.with_env(CLOUDRENDER_MAX_FRAME_BYTES=str(256 << 20))
    _assert_one_line(budget("validate", str(path)), "needs about")
    result = budget("render", "--direct", str(path), "-o", str(out / "x.mp4"))
    _assert_one_line(result, expected)
    assert list(out.iterdir()) == []
