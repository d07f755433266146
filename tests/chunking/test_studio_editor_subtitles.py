"""Subtitle clips of the editor's documents as the editor's preview shows them: a caption left
blank draws nothing (and spoils no render)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import Timeline
from tests.media import make_image


def with_captions(folder: Path, captions: list[dict[str, Any]]) -> Timeline:
    """A TimelineProject of one still and a subtitle track holding ``captions``."""
    make_image(folder / "still.png", (32, 18), (200, 100, 50, 255))
    for n, caption in enumerate(captions):
        caption.update(id=f"s{n}", type="subtitle", startTime=n, duration=1)
    still = {"id": "c0", "startTime": 0, "duration": 2,
             "mediaFile": {"id": "m", "path": "still.png", "isImage": True}}  # fmt: skip
    doc = {
        "id": "p",
        "sections": [],
        "globalTracks": [
            {"id": "v", "type": "video", "clips": [still]},
            {"id": "subs", "type": "subtitle", "clips": captions},
        ],
        "settings": {"resolution": {"width": 320, "height": 180}, "fps": 10},
    }
    return load_document(doc, str(folder))[1]


@pytest.mark.parametrize(("words", "why"), [(None, "null"), ("", "empty"), ("  ", "empty")])
def test_a_blank_caption_draws_nothing_and_the_rest_renders(
    tmp_path: Path, words: Any, why: str
) -> None:
    timeline = with_captions(tmp_path, [{"text": words}, {"text": "Hello"}])
    assert [s.text for s in timeline.subtitles] == ["Hello"]
    assert timeline.warnings == (f"clip 's0': its text is {why}: nothing is drawn",)
