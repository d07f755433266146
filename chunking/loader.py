"""Open a timeline file of any supported format."""

from __future__ import annotations

import json
import os

from chunking.errors import TimelineError
from chunking.studio import load_project
from chunking.timeline import Timeline

MAX_PROJECT_BYTES = 64 * 1024 * 1024  # a project file larger than this is not a project


def load(path: str, *, strict: bool = False) -> Timeline:
    """Load a Timeline Studio JSON or OpenTimelineIO file; raise TimelineError on problems."""
    if not os.path.isfile(path):
        raise TimelineError(f"timeline file not found: {path}")
    if os.path.getsize(path) > MAX_PROJECT_BYTES:
        raise TimelineError(f"timeline file is too large to be a project: {path}")
    base_dir = os.path.dirname(os.path.abspath(path))
    if path.lower().endswith(".otio"):
        from chunking.otio import load_otio

        return load_otio(path, strict=strict)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except UnicodeDecodeError as exc:
        raise TimelineError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise TimelineError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    return load_project(data, base_dir, strict=strict)
