"""Open a timeline file of any supported format (Timeline Studio JSON, OpenTimelineIO)."""

from __future__ import annotations

import json
import os
from typing import Any

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from common.errors import TimelineError

MAX_PROJECT_BYTES = 64 * 1024 * 1024  # a project file larger than this is not a project


def load(path: str, *, strict: bool = False) -> Timeline:
    """Load a Timeline Studio JSON or OpenTimelineIO file; raise TimelineError on problems."""
    return read_file(path, strict=strict)[2]


def read_file(path: str, *, strict: bool = False) -> tuple[dict[str, Any], str, Timeline]:
    """A timeline file read once: its ProjectSchema document (an .otio file translated), the
    directory its media paths resolve in, and the validated Timeline."""
    if not os.path.isfile(path):
        raise TimelineError(f"timeline file not found: {path}")
    if os.path.getsize(path) > MAX_PROJECT_BYTES:
        raise TimelineError(f"timeline file is too large to be a project: {path}")
    base_dir = os.path.dirname(os.path.abspath(path))
    if path.lower().endswith(".otio"):
        from chunking.timeline.otio import read_otio  # OTIO's import is slow: only when needed

        document, timeline = read_otio(path, strict=strict)
        return document, base_dir, timeline
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except UnicodeDecodeError as exc:
        raise TimelineError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise TimelineError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise TimelineError(f"{path}: lists and objects nest too deeply to be a project") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise TimelineError(f"{path}: invalid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise TimelineError(f"{path}: the top level must be a JSON object")
    return data, base_dir, load_project(data, base_dir, strict=strict)
