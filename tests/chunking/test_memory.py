"""The memory estimate of a frame (chunking.memory): what it counts, where, and the message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.memory import (
    EFFECT_BPP,
    RENDER_FIXED,
    encoder_bytes,
    frame_bytes,
    frame_peak,
    memory_problems,
    size,
)
from chunking.timeline.catalogue_stylised import STYLISED_EFFECTS, STYLISED_PARAMS
from chunking.timeline.model import Effect
from chunking.timeline.reverse import window_bytes
from chunking.timeline.studio import load_project
from tests.media import project, solid, video_track

GB = 1 << 30


def _clip(cid: str = "c", start: float = 0, end: float = 1, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "start_time": start, "end_time": end, **solid("#33669980"), **extra}


def _timeline(clips: list[dict[str, Any]], size: tuple[int, int] = (64, 36), **extra: Any) -> Any:
    return load_project(project([video_track("v", clips)], size=size, **extra), "/")


def test_plain_frame_is_small_and_named() -> None:
    need, where = frame_bytes(_timeline([_clip()]))
    assert need < 64 << 20
    assert where == "frame 0: clip 'c' fills the 64x36 canvas"
    assert memory_problems(_timeline([_clip()]), 2 * GB) == []


def test_scaled_clip_is_named_with_its_scale() -> None:
    blur = [{"id": "e", "effect_type": "Blur", "params": {}}]  # it needs the whole layer
    big = _timeline([_clip("big", transform={"scale": 100}, effects=blur)], size=(1920, 1080))
    problems = memory_problems(big, 2 * GB)
    assert len(problems) == 1
    assert problems[0].startswith("frame 0 needs about ")
    assert problems[0].endswith("(budget 2.0 GB): clip 'big' scaled 100x on a 1920x1080 canvas")


def test_rotation_costs_its_bounding_box() -> None:
    blur = [{"id": "e", "effect_type": "Blur", "params": {}}]  # keeps the whole layer
    flat = frame_bytes(_timeline([_clip(transform={"scale": 50}, effects=blur)]))[0]
    turned = frame_bytes(_timeline([_clip(transform={"scale": 50, "rotation": 45}, effects=blur)]))
    assert turned[0] > 1.5 * flat  # a 45 degree turn of 16:9: a box 2.2 times its area


@pytest.mark.parametrize("rotation", [0, 45])
def test_a_zoom_costs_what_shows_unless_an_effect_needs_the_whole_layer(rotation: int) -> None:
    # A 100x zoom is resampled only under the canvas (workers.geometry.place_within).
    def need(scale: float, effects: list[dict[str, Any]]) -> int:
        moved = {"scale": scale, "rotation": rotation}
        timeline = _timeline([_clip(transform=moved, effects=effects)], size=(1920, 1080))
        return frame_bytes(timeline)[0]

    blur = [{"id": "e", "effect_type": "Blur", "params": {}}]
    assert need(100, []) < 2 * need(1, [])
    assert memory_problems(_timeline([_clip(transform={"scale": 100})], (1920, 1080)), GB) == []
    assert need(100, blur) > 1000 * need(1, [])


def test_whole_layer_effects_keep_the_off_canvas_part() -> None:
    def need(kind: str) -> int:
        fx = [{"id": "e", "effect_type": kind, "params": {}}]
        timeline = _timeline([_clip(transform={"scale": 20}, effects=fx)])
        return frame_bytes(timeline)[0] - RENDER_FIXED

    assert need("Blur") > 4 * need("Sepia")


def test_the_worst_frame_is_where_layers_overlap() -> None:
    clips = [_clip(f"c{i}", start=i * 0.5, end=i * 0.5 + 2) for i in range(4)]
    tracks = [video_track(f"t{i}", [c]) for i, c in enumerate(clips)]
    timeline = load_project(project(tracks, size=(640, 360), fps=10), "/")
    peak = frame_peak(timeline)
    assert peak.frame == 15  # c0..c3 all shown from 1.5 s until c0 ends at 2 s
    assert {p.name for p in peak.parts} == {f"clip 'c{i}'" for i in range(4)}


def test_many_layers_are_named_as_many() -> None:
    tracks = [video_track(f"t{i}", [_clip(f"c{i}")]) for i in range(2000)]
    timeline = load_project(project(tracks, size=(1920, 1080)), "/")
    (problem,) = memory_problems(timeline, 2 * GB)
    assert "2000 layers at once (clip 'c0', clip 'c1', clip 'c2', ...)" in problem
    # about 15 bytes a pixel each, as measured: the estimate stays an upper bound within 2x
    need = frame_bytes(timeline)[0]
    assert 15 * 2000 * 1920 * 1080 < need < 2 * 24 * 2000 * 1920 * 1080


def test_huge_canvas_is_named() -> None:
    timeline = load_project(project([], size=(16384, 16384), duration=1), "/")
    (problem,) = memory_problems(timeline, 2 * GB)
    assert problem.endswith("a 16384x16384 canvas")


def test_subtitle_is_named_with_its_font_size() -> None:
    sub = {"id": "s", "text": "x" * 20, "start_time": 0, "end_time": 1}
    timeline = load_project(
        project([], size=(64, 36), subtitles=[{**sub, "style": {"font_size": 1000}}]), "/"
    )
    peak = frame_peak(timeline)
    assert peak.culprit(timeline) == "subtitle 's' at font size 1000 (20 characters)"


def test_a_subtitles_far_blurred_shadow_is_counted() -> None:
    """Eight subtitles whose shadows blur 1000 pixels and sit 1000 pixels away: each raster is
    about 4000 pixels square on a 64x36 canvas (measured: 2.85 GB at peak), over the budget."""
    style = {"font_size": 12, "shadow_color": "#000000", "shadow_blur": 1000,
             "shadow_x": 1000, "shadow_y": 1000}  # fmt: skip
    subs = [
        {"id": f"s{i}", "text": "Hi", "start_time": 0, "end_time": 1, "style": style}
        for i in range(8)
    ]
    timeline = load_project(project([], size=(64, 36), subtitles=subs), "/")
    assert timeline.subtitles[0].shadow_blur == 1000  # the premise: the style was read
    assert frame_bytes(timeline)[0] > 2 * GB
    assert "its shadow reaching 4000x4000 pixels past it" in frame_peak(timeline).culprit(timeline)
    plain = load_project(project([], size=(64, 36), subtitles=[{**subs[0], "style": {}}]), "/")
    assert frame_bytes(plain)[0] < 100 << 20


def test_source_sizes_are_used_when_known(tmp_path: Path) -> None:
    media = tmp_path / "x.mp4"
    media.write_bytes(b"")
    timeline = _timeline(
        [{"id": "f", "start_time": 0, "end_time": 1, "source": {"File": str(media)}}]
    )
    guessed = frame_bytes(timeline)[0]
    known = frame_bytes(timeline, {str(media): (7680, 4320)})[0]
    assert known > guessed


@pytest.mark.parametrize(("n", "text"), [(0, "0 bytes"), (3 << 20, "3.0 MB"), (9 * GB, "9.0 GB")])
def test_sizes_read_like_people_write_them(n: int, text: str) -> None:
    assert size(n) == text


def test_encoder_grows_with_preset_and_threads() -> None:
    fast = _timeline([_clip()], settings={"export": {"preset": "ultrafast"}})
    slow = _timeline([_clip()], settings={"export": {"preset": "veryslow"}})
    assert encoder_bytes(fast, 1) < encoder_bytes(slow, 1) < encoder_bytes(slow, 24)


def test_a_key_costs_the_source_size_it_runs_at(tmp_path: Path) -> None:
    # A chroma key runs on the source picture before the resize: an 8K source shown small.
    media = tmp_path / "x.mp4"
    media.write_bytes(b"")

    def need(kind: str) -> int:
        fx = [{"id": "e", "effect_type": kind, "params": {}}]
        raw = {"id": "f", "start_time": 0, "end_time": 1, "source": {"File": str(media)}}
        timeline = _timeline([{**raw, "transform": {"scale": 0.1}, "effects": fx}])
        return frame_bytes(timeline, {str(media): (7680, 4320)})[0]

    assert need("ChromaKey") > need("Sepia") + 7680 * 4320 * 12


def test_a_reversed_video_counts_the_frames_it_decodes_ahead(tmp_path: Path) -> None:
    # workers.reverse_source holds a window of decoded frames to show them backwards.
    media = tmp_path / "x.mp4"
    media.write_bytes(b"")
    clip = {"id": "f", "start_time": 0, "end_time": 1, "source": {"File": str(media)}}
    sizes = {str(media): (1920, 1080)}
    forwards = frame_bytes(_timeline([clip], size=(1920, 1080)), sizes)[0]
    backwards = frame_bytes(_timeline([{**clip, "reverse": True}], size=(1920, 1080)), sizes)[0]
    assert backwards - forwards == window_bytes(1920 * 1080)
    assert 150 << 20 < window_bytes(1920 * 1080) <= 192 << 20  # 32 frames of 6 MB
    assert window_bytes(64 * 36) == 120 * 3 * 64 * 36  # small frames: at most 120 of them
    assert window_bytes(8192 * 8192) == 2 * 3 * 8192 * 8192  # huge ones: never fewer than 2


@pytest.mark.parametrize("kind", sorted(STYLISED_EFFECTS))
def test_a_stylising_effects_working_memory_is_within_its_estimate(kind: str) -> None:
    import tracemalloc

    from workers.effects import apply_effects

    rgb = np.random.default_rng(5).random((270, 480, 3), dtype=np.float32)
    # Each parameter at its strongest: the peak the estimate must stay above.
    params = {p.names[0]: p.high for p in STYLISED_PARAMS[kind]}
    effect = Effect(id="e", kind=kind, params=params)
    apply_effects(rgb.copy(), None, [effect], 3)  # caches (masks, kernels) are not per frame
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        apply_effects(rgb.copy(), None, [effect], 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    pixels = rgb.shape[0] * rgb.shape[1]
    working = peak - rgb.nbytes  # the copy is the layer's own; 64 KiB of Python objects aside
    assert working <= EFFECT_BPP[kind] * pixels + 65536, f"{kind}: {working / pixels:.0f} B/px"
