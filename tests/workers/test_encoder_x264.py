"""x264 is told to encode with the CPU flags it detects less AVX-512, on any machine: the
wiring that tests/workers/test_render_repeatable.py can only show where the CPU has AVX-512."""

from __future__ import annotations

import pytest

from chunking.timeline.model import ExportSettings
from workers import encoder_x264
from workers.encoder import choose_encoder

AVX2 = 1 << 15


def test_x264_is_kept_off_avx512_with_its_other_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an x264 that detects AVX2 and AVX-512 (and SSE2 .. AVX below them)
    monkeypatch.setattr(encoder_x264, "_detected_flags", lambda: 0x3FF | AVX2 | encoder_x264.AVX512)
    # Then H.264 encodes get the same flags without AVX-512, keyframe settings kept beside them
    plain = choose_encoder(ExportSettings()).options["x264-params"]
    assert plain == f"asm={0x3FF | AVX2}"
    keyed = choose_encoder(ExportSettings(keyframe_interval=48)).options["x264-params"]
    assert keyed == f"keyint=48:min-keyint=48:scenecut=0:asm={0x3FF | AVX2}"


@pytest.mark.parametrize("flags", [None, 0x3FF | AVX2])
def test_x264_is_left_to_itself_without_avx512(
    monkeypatch: pytest.MonkeyPatch, flags: int | None
) -> None:
    # Given an x264 that detects no AVX-512, or one whose library was not found
    monkeypatch.setattr(encoder_x264, "_detected_flags", lambda: flags)
    # Then its options are what they were
    assert "x264-params" not in choose_encoder(ExportSettings()).options
    assert encoder_x264.asm_param() is None


def test_the_flags_come_from_the_x264_pyav_loads() -> None:
    # x264 reports at least MMX2 (bit 1) on any x86-64 CPU (off x86 it is not asked)
    flags = encoder_x264._detected_flags()
    if flags is None:
        pytest.skip("not x86, or no libx264 found beside PyAV here")
    assert flags & (1 << 1)
