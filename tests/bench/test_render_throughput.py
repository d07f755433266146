"""render_throughput.py says what the renders composite on, and stops with one line before
generating anything where CLOUDRENDER_COMPOSITOR asks for a GPU it cannot have or where there is
no ffmpeg."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.ffmpeg_compare import ensure_ffmpeg
from bench.render_throughput import compositor_backend
from workers import arrays


@pytest.fixture(autouse=True)
def _fresh_probe() -> Iterator[None]:
    arrays.forget()
    yield
    arrays.forget()


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_a_gpu_compositor_without_cupy_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLOUDRENDER_COMPOSITOR", "gpu")
    with pytest.raises(SystemExit) as stopped:
        compositor_backend()
    message = str(stopped.value.code)
    assert message.startswith("error: CLOUDRENDER_COMPOSITOR=gpu") and "\n" not in message


def test_the_cpu_compositor_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDRENDER_COMPOSITOR", "cpu")
    assert compositor_backend().startswith("CPU (numpy")


def test_no_ffmpeg_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no ffmpeg on it
    with pytest.raises(SystemExit) as stopped:
        ensure_ffmpeg(install=False)
    message = str(stopped.value.code)
    assert message.startswith("error: ffmpeg is not on PATH") and "\n" not in message
    assert "apt-get install -y ffmpeg" in message and "--install" in message
