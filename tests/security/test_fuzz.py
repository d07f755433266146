"""Property-based fuzzing of the loaders and the renderer (issue 13), bounded and repeatable.

Whatever a project file holds, loading it ends in a Timeline or in our TimelineError (one line
naming the problem), never in another exception; a project that loads renders on a tiny canvas
without an exception outside the RenderError tree and without a warning (the suite turns
warnings into errors). The strategies live in ``bench/fuzz_strategies.py``, and
``bench/fuzz.py`` runs them longer; these run a fixed, derandomized set of examples.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from bench.fuzz_strategies import (
    base_otio_document,
    otio_documents,
    renderable_documents,
    studio_documents,
)
from chunking.memory import frame_bytes
from chunking.timeline.loader import load
from chunking.timeline.studio import load_project
from common.errors import RenderError, TimelineError
from workers.render import render_to_file

BOUNDED = settings(
    max_examples=80,
    derandomize=True,
    database=None,  # nothing written into the checkout
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The strategies draw only from Hypothesis; this warning fires when the global `random` state
# changes during a draw, which a daemon thread left by an earlier test (redis-py's jittered
# reconnect backoff, kombu's failover shuffle) can do at any moment in a whole-suite run.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)

#: Rendered documents must stay far below a test machine's memory.
RENDER_BUDGET = 512 * 1024 * 1024


def _load_written(document: dict[str, Any], suffix: str) -> None:
    """Write the document as a file and load it through the CLI's reader."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_text(json.dumps(document))
        try:
            load(str(path))
        except TimelineError as exc:
            assert "\n" not in str(exc)


@BOUNDED
@given(studio_documents())
def test_studio_loader_only_raises_timeline_errors(document: dict[str, Any]) -> None:
    try:
        timeline = load_project(document, "/nonexistent")
    except TimelineError as exc:
        assert "\n" not in str(exc)
        return
    frame_bytes(timeline)  # the memory estimate copes with whatever loads


@BOUNDED
@given(studio_documents())
def test_studio_files_only_raise_timeline_errors(document: dict[str, Any]) -> None:
    _load_written(document, ".json")


@BOUNDED
@given(otio_documents())
def test_otio_reader_only_raises_timeline_errors(document: dict[str, Any]) -> None:
    _load_written(document, ".otio")


@settings(BOUNDED, max_examples=40)
@given(renderable_documents())
def test_projects_that_load_render_without_surprises(document: dict[str, Any]) -> None:
    try:
        timeline = load_project(document, "/nonexistent")
    except TimelineError:
        return
    if frame_bytes(timeline)[0] > RENDER_BUDGET:
        return  # refused by the memory budget before rendering
    with tempfile.TemporaryDirectory() as tmp:
        try:
            render_to_file(timeline, str(Path(tmp) / "out.mp4"), audio=False)
        except RenderError as exc:
            assert "\n" not in str(exc)


def test_otio_times_too_large_for_a_float_are_one_line(tmp_path: Path) -> None:
    # Found by a longer run: two clips of 1.7e308 frames summed past the largest float.
    document = base_otio_document()
    for item in document["tracks"]["children"][0]["children"]:
        if item["OTIO_SCHEMA"].startswith("Clip"):
            item["source_range"]["duration"].update(value=1.7e308, rate=1)
    path = tmp_path / "huge.otio"
    path.write_text(json.dumps(document))
    with pytest.raises(TimelineError, match="is over 1e\\+09 seconds"):
        load(str(path))


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        # Found by a longer run: OTIO reads "tracks": null and then crashes the process on use.
        ((), {"tracks": None}, "the timeline has no tracks"),
        (("tracks", "children", 0, "children", 0), {"media_references": {}}, "no media reference"),
        (("tracks", "children", 0, "children", 3), {"source_range": None}, "no usable duration"),
    ],
)
def test_otio_documents_that_crashed_the_reader(
    where: tuple[Any, ...], value: dict[str, Any], message: str, tmp_path: Path
) -> None:
    document = base_otio_document()
    target: Any = document
    for key in where:
        target = target[key]
    target.update(value)
    path = tmp_path / "odd.otio"
    path.write_text(json.dumps(document))
    with pytest.raises(TimelineError, match=message):
        load(str(path))
