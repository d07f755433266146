"""The README's Python example runs as written, against a private cluster."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from orchestrator.embedded import EmbeddedCluster
from tests.helpers import ROOT, colour_project

pytestmark = pytest.mark.timeout(300)


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("The same from Python") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README lost its Python example"
    return match.group(1)


def test_readme_python_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = colour_project(1, "#00aa55")
    (tmp_path / "project.json").write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    with EmbeddedCluster(workers=1) as cluster:
        code = (
            readme_example()
            .replace("redis://127.0.0.1:6380/0", cluster.broker_url)
            .replace("file:///srv/cr", f"file://{tmp_path / 'storage'}")
            .replace("/srv/out/film.mp4", str(tmp_path / "film.mp4"))
        )
        namespace: dict[str, object] = {}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
        time.sleep(0.1)
    out = capsys.readouterr().out
    assert "completed" in out
    assert (tmp_path / "film.mp4").stat().st_size > 0
