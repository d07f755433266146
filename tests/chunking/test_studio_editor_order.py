"""Effects and filters applied to a Timeline Studio clip or track run in their ``order`` (the
AppliedEffect's "order in the chain"), not in the order the list happens to hold them.

The editor's clip effects service (src/features/timeline/services/clip-effects-service.ts,
Timeline Studio by Chatman Media, MIT with Commons Clause): applyEffectToClip with ``position:
"start"`` appends the new application with ``order`` 0 and moves the others' ``order`` up, and
updateEffectOnClip changes an ``order`` in place; AppliedEffect/AppliedFilter in
src/features/timeline/types/timeline.ts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.chunking.test_studio_editor_picture import editor_clip, project


def applied(effect_id: str, order: Any, n: int) -> dict[str, Any]:
    """An AppliedEffect as createAppliedEffect writes it."""
    return {"id": f"applied-{n}", "effectId": effect_id, "isEnabled": True, "order": order}


def test_an_effect_applied_at_the_start_of_the_chain_runs_first(tmp_path: Path) -> None:
    """Was: run in list order, the sepia before the grayscale inserted before it."""
    effects = [applied("sepia", 1, 0), applied("grayscale", 0, 1)]
    timeline = project(tmp_path, editor_clip("c", "red.png", effects=effects))
    assert [e.kind for e in timeline.clip("c").effects] == ["grayscale", "sepia"]


def test_equal_or_missing_orders_keep_the_list_order(tmp_path: Path) -> None:
    same = [applied("sepia", 0, 0), applied("grayscale", 0, 1)]
    timeline = project(tmp_path, editor_clip("c", "red.png", effects=same))
    assert [e.kind for e in timeline.clip("c").effects] == ["sepia", "grayscale"]
    partial = [applied("sepia", 1, 0), applied("grayscale", None, 1)]
    timeline = project(tmp_path, editor_clip("c", "red.png", effects=partial))
    assert [e.kind for e in timeline.clip("c").effects] == ["sepia", "grayscale"]
