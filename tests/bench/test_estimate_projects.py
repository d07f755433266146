"""The accuracy bench's projects (bench.estimate_projects): recipes that span the complexity
range the issue names, and documents that say what their recipe says."""

from __future__ import annotations

import pytest

from bench.estimate_projects import EFFECTS, SIZES, document, specs


def test_the_recipes_span_sizes_effects_layers_and_lengths() -> None:
    recipes = specs(22, 15)
    assert [r["name"] for r in recipes] == [f"p{i:02d}" for i in range(22)]
    assert {r["size"] for r in recipes} == set(SIZES)
    assert {r["effects"] for r in recipes} == set(EFFECTS)
    assert {r["layers"] for r in recipes} == {1, 2, 3, 4}
    assert min(r["seconds"] for r in recipes) == 5 and max(r["seconds"] for r in recipes) == 120
    assert specs(22, 15) == recipes  # the seed fixes them: runs compare project by project


@pytest.mark.parametrize("index", range(8))
def test_a_document_has_its_recipes_layers_size_and_effects(index: int) -> None:
    recipe = specs(8, 15)[index]
    doc = document(recipe)
    width, height = recipe["size"]
    tag = f"{width}x{height}"
    tracks = doc["tracks"]
    assert len(tracks) == recipe["layers"]
    footage = tracks[0]["clips"]
    assert all(c["source"] == {"File": f"source-{tag}.mp4"} for c in footage)
    assert footage[-1]["end_time"] == pytest.approx(recipe["seconds"])
    assert len(doc["effects"]) == len(EFFECTS[recipe["effects"]])
    assert bool(doc.get("transitions")) == recipe["transitions"]
    assert bool(doc.get("subtitles")) == recipe["titles"]
