"""A timeline path that names no file: the error says why where "not found" is not the whole
story (a symbolic link to nothing, links in a loop, a file used as a folder)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d: d / "absent.json", r"not found: .*absent\.json$"),
        (
            lambda d: _link(d / "dangling.json", "moved-away.json"),
            r"dangling\.json \(a symbolic link to moved-away\.json, which does not exist\)$",
        ),
        (
            lambda d: _link(d / "a.json", str(_link(d / "b.json", "a.json"))),
            r"a\.json \(its symbolic links lead round in a loop\)$",
        ),
        (
            lambda d: _file(d / "project.json") / "inner.json",
            r"inner\.json \(a part of the path before its last name is a file, not a folder\)$",
        ),
        (
            lambda d: d / ("x" * 300 + ".json"),
            r"\(the path or one of its names is too long for the file system\)$",
        ),
    ],
)
def test_a_path_naming_no_file_says_why(
    tmp_path: Path, make: Callable[[Path], Path], says: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(TimelineError, match="^timeline file not found: ") as caught:
        load(str(path))
    assert "\n" not in str(caught.value)
    assert re.search(says, str(caught.value)), str(caught.value)


def _link(path: Path, target: str) -> Path:
    os.symlink(target, path)
    return path


def _file(path: Path) -> Path:
    path.write_text("{}")
    return path
