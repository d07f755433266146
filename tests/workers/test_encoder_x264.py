"""libx264 is kept off AVX-512 at frame widths where its mbtree code misreads, on any machine:
the wiring that tests/workers/test_render_repeatable.py can only show where the CPU has it."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import pytest

from chunking.timeline.model import ExportSettings
from workers import encoder_x264
from workers.encoder import add_video_stream, choose_encoder

AVX2 = 1 << 15
DETECTED = 0x3FF | AVX2 | encoder_x264.AVX512  # SSE2 .. AVX, AVX2, AVX-512


@pytest.mark.parametrize(
    ("width", "params"),
    [
        (320, f"asm={0x3FF | AVX2}"),  # 20 macroblocks
        (1440, f"asm={0x3FF | AVX2}"),  # 90
        (1912, None),  # 119.5, so 120 with a partial one: no short group
        (1920, None),  # 120: no short group, x264 keeps AVX-512
        (1280, None),  # 80
    ],
)
def test_x264_stays_off_avx512_only_where_a_row_has_a_short_group(
    monkeypatch: pytest.MonkeyPatch, width: int, params: str | None
) -> None:
    # Given an x264 that detects AVX2 and AVX-512
    monkeypatch.setattr(encoder_x264, "_detected_flags", lambda: DETECTED)
    options = choose_encoder(ExportSettings()).options
    # Then only widths whose macroblock rows are not whole groups of 8 drop AVX-512
    assert encoder_x264.for_width(options, width).get("x264-params") == params


def test_the_keyframe_settings_stay_beside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder_x264, "_detected_flags", lambda: DETECTED)
    options = choose_encoder(ExportSettings(keyframe_interval=48)).options
    assert encoder_x264.for_width(options, 320)["x264-params"] == (
        f"keyint=48:min-keyint=48:scenecut=0:asm={0x3FF | AVX2}"
    )


@pytest.mark.parametrize("flags", [None, 0x3FF | AVX2])
def test_x264_is_left_to_itself_without_avx512(
    monkeypatch: pytest.MonkeyPatch, flags: int | None
) -> None:
    # Given an x264 that detects no AVX-512, or one whose library was not found
    monkeypatch.setattr(encoder_x264, "_detected_flags", lambda: flags)
    options = choose_encoder(ExportSettings()).options
    # Then its options are what they were
    assert encoder_x264.for_width(options, 320) == options


def test_the_stream_is_opened_with_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder_x264, "_detected_flags", lambda: DETECTED)
    export = ExportSettings()
    with av.open(io.BytesIO(), "w", format="mp4") as container:
        stream = add_video_stream(container, choose_encoder(export), 320, 180, Fraction(25), export)
        assert stream.codec_context.options["x264-params"] == f"asm={0x3FF | AVX2}"


def test_the_flags_come_from_the_x264_pyav_loads() -> None:
    # x264 reports at least MMX2 (bit 1) on any x86-64 CPU (off x86 it is not asked)
    flags = encoder_x264._detected_flags()
    if flags is None:
        pytest.skip("not x86, or no libx264 found beside PyAV here")
    assert flags & (1 << 1)
