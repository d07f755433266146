"""docs/timeline-format.md lists every field of the editor's serde schema (the structs of
tests/data/timeline-studio/*.rs, copied from Timeline Studio) with what happens to it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
SCHEMA = ROOT / "tests" / "data" / "timeline-studio"
DOC = ROOT / "docs" / "timeline-format.md"

_STRUCT = re.compile(r"pub struct (\w+) \{(.*?)\n\}", re.S)
_FIELD = re.compile(r"^\s*pub (\w+):", re.M)
_ROW = re.compile(r"^\| `([A-Z]\w*)\.(\w+)` \| (.+?) \|$", re.M)


def schema_fields() -> set[tuple[str, str]]:
    """(struct, field) for every field of every struct in the copied .rs files (tests excluded)."""
    found = set()
    for path in sorted(SCHEMA.glob("*.rs")):
        source = path.read_text(encoding="utf-8").split("#[cfg(test)]")[0]
        for struct in _STRUCT.finditer(source):
            found |= {(struct.group(1), name) for name in _FIELD.findall(struct.group(2))}
    return found


def documented() -> dict[tuple[str, str], str]:
    return {(m.group(1), m.group(2)): m.group(3) for m in _ROW.finditer(DOC.read_text())}


def test_the_schema_copy_is_whole() -> None:
    fields = schema_fields()
    # A truncated copy or a broken pattern would make the check below pass vacuously.
    assert len(fields) > 250
    assert {("Clip", "template_position"), ("SubtitleStyle", "max_width")} <= fields


def test_the_field_table_lists_every_schema_field() -> None:
    missing = sorted(f"{s}.{f}" for s, f in schema_fields() - set(documented()))
    assert not missing, f"docs/timeline-format.md does not list: {', '.join(missing)}"


def test_the_field_table_lists_no_field_the_schema_lacks() -> None:
    extra = sorted(f"{s}.{f}" for s, f in set(documented()) - schema_fields())
    assert not extra, f"docs/timeline-format.md lists fields the schema does not have: {extra}"


def test_every_row_says_what_happens() -> None:
    vague = [f"{s}.{f}" for (s, f), text in documented().items() if len(text.strip()) < 6]
    assert not vague, vague
