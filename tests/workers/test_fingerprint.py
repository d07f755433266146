"""The render fingerprint names what decides a render's bytes besides the timeline, the same in
every process of one installation and different wherever any of it differs."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.helpers import subprocess_env
from workers import fingerprint, subtitle_fonts
from workers.fingerprint import fingerprint_parts, render_fingerprint


@pytest.fixture
def fresh() -> Iterator[None]:
    """Forget the cached fingerprint before and after a test that changes what it covers."""
    fingerprint._parts.cache_clear()
    fingerprint._fingerprint.cache_clear()
    yield
    fingerprint._parts.cache_clear()
    fingerprint._fingerprint.cache_clear()


def test_fingerprint_is_short_hex_and_stable() -> None:
    first = render_fingerprint()
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    started = time.perf_counter()
    assert render_fingerprint() == first
    assert time.perf_counter() - started < 0.01  # computed once per process


PRINT_FINGERPRINT = (
    "from workers.fingerprint import render_fingerprint; print(render_fingerprint())"
)


def fingerprint_in_new_process(code: str = PRINT_FINGERPRINT) -> str:
    """What a fresh Python of this installation prints for ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        check=True,
        timeout=120,
    )
    return out.stdout.strip()


def test_another_process_of_this_installation_agrees() -> None:
    assert fingerprint_in_new_process() == render_fingerprint()


def test_what_a_process_loaded_before_does_not_change_its_fingerprint() -> None:
    """Two workers of one installation agree even when one has already decoded an image and
    drawn text (which maps more libraries) before it computes its fingerprint: else a fleet
    of identical nodes would split into render groups."""
    busy = (
        "import io, numpy as np; from PIL import Image, ImageDraw, ImageFont\n"
        "buf = io.BytesIO(); Image.new('RGB', (8, 8)).save(buf, 'PNG'); buf.seek(0)\n"
        "Image.open(buf).load(); Image.new('RGB', (8, 8)).save(io.BytesIO(), 'WEBP')\n"
        "font = ImageFont.load_default(12)\n"
        "ImageDraw.Draw(Image.new('RGB', (64, 16))).text((0, 0), 'x', font=font)\n"
        + PRINT_FINGERPRINT
    )
    plain = fingerprint_in_new_process()
    assert plain == fingerprint_in_new_process(busy) == render_fingerprint()


def test_parts_name_renderer_libraries_and_fonts() -> None:
    parts = fingerprint_parts()
    assert parts["renderer"] == fingerprint.RENDERER_VERSION
    assert parts["pyav"] == av.__version__
    for name, version in av.library_versions.items():
        assert parts[name] == ".".join(map(str, version))
    for name in ("code", "numpy", "numpy_simd", "blas", "pillow", "pillow_freetype2", "fonts"):
        assert parts[name] and parts[name] != "unknown", name
    assert re.fullmatch(r"\d+ files sha256:[0-9a-f]{16}", parts["fonts"])
    # The codec libraries this PyAV build carries, each by file name and content hash.
    if "libx264" in av.codecs_available:
        assert parts["lib:x264"].startswith("libx264")
    assert "lib:avcodec" in parts and "lib:swscale" in parts
    parts["renderer"] = "changed"  # a copy: the fingerprint is untouched
    assert fingerprint_parts()["renderer"] == fingerprint.RENDERER_VERSION


def test_library_entries_hash_the_bundled_files() -> None:
    loaded = {Path(p).name: p for p in fingerprint._library_files()}
    for name, value in fingerprint_parts().items():
        if not name.startswith("lib:"):
            continue
        for entry in value.split("; "):
            file_name, digest = entry.split(" sha256:")
            expected = hashlib.sha256(Path(loaded[file_name]).read_bytes()).hexdigest()[:16]
            assert digest == expected, file_name


def test_a_new_renderer_version_changes_the_fingerprint(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = render_fingerprint()
    monkeypatch.setattr(fingerprint, "RENDERER_VERSION", "999")
    fingerprint._parts.cache_clear()
    fingerprint._fingerprint.cache_clear()
    assert render_fingerprint() != before
    assert fingerprint_parts()["renderer"] == "999"


def test_a_changed_font_file_changes_the_fonts_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    face = tmp_path / "Custom-Regular.ttf"
    face.write_bytes(b"first version of the face")
    index = {"custom": {400: ("path", str(face))}}
    monkeypatch.setattr(subtitle_fonts, "_index", lambda: index)
    monkeypatch.setattr(subtitle_fonts, "_collections", lambda: ())
    first = fingerprint._fonts_hash()
    assert first.startswith("1 files ")
    assert fingerprint._fonts_hash() == first
    face.write_bytes(b"second version of the face")
    assert fingerprint._fonts_hash() != first
    index["custom"][700] = ("path", str(tmp_path / "Custom-Bold.ttf"))  # unreadable: counted
    assert fingerprint._fonts_hash().startswith("2 files ")
