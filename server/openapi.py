"""``python -m server.openapi [PATH]``: write the service's OpenAPI document (default
docs/openapi.json), the copy client generators use; tests/server/test_openapi.py checks that it
matches what ``cloudrender serve`` serves at /openapi.json."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common.settings import Settings
from server.app import create_app

#: Where the checked-in copy lives, from the repository root.
DOCUMENT = Path("docs") / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the service's routes (no cluster needed to build it)."""
    # Nothing connects while the app is built; the URLs only have to parse.
    settings = Settings(broker_url="redis://127.0.0.1:1/0", storage_url="file:///nonexistent")
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def render(document: dict[str, Any]) -> str:
    """The document as the checked-in file holds it."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the document to PATH (default docs/openapi.json)."""
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else DOCUMENT
    path.write_text(render(openapi_document()), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
