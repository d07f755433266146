"""Which export settings a chunk's content key follows: what shapes its segment, not what only
the merge (the container) or nothing (a crf under lossless) reads."""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import pytest

from chunking.content_key import chunk_key, video_export_form
from chunking.timeline.model import (
    Clip,
    ExportSettings,
    GeneratedSource,
    Timeline,
    Track,
    TrackKind,
)
from workers.encoder import choose_encoder

CONTAINERS = ("mp4", "mov", "mkv", "webm")
CODECS = ("h264", "hevc", "av1", "vp9", "ffv1", "prores", "dnxhr")


def timeline(export: ExportSettings) -> Timeline:
    clip = Clip(id="c", track_id="t", source=GeneratedSource(), start=0, end=60)
    track = Track(id="t", kind=TrackKind.VIDEO, clips=(clip,))
    return Timeline(fps=Fraction(30), width=64, height=36, frames=60, tracks=(track,),
                    export=export)  # fmt: skip


def key(export: ExportSettings) -> str:
    return chunk_key(timeline(export), 0, 30, {}, "fp")


@pytest.mark.parametrize("codec", ["h264", "hevc", "vp9"])
def test_a_remux_to_another_container_keeps_the_video_keys(codec: str) -> None:
    """Segments are Matroska whatever the output: mp4 -> mov -> mkv reuses every chunk."""
    keys = {key(ExportSettings(container=c, codec=codec)) for c in ("mp4", "mov", "mkv")}
    assert len(keys) == 1


def test_lossless_ignores_crf_preset_bitrate_and_keyframes() -> None:
    plain = key(ExportSettings(container="mkv", lossless=True))
    for change in ({"crf": 30}, {"preset": "veryslow"}, {"bitrate": 10**6}, {"b_frames": 0},
                   {"keyframe_interval": 15}, {"codec": "hevc"}):  # fmt: skip
        assert key(ExportSettings(container="mkv", lossless=True, **change)) == plain, change


def test_lossless_in_mp4_and_in_mkv_are_different_encoders() -> None:
    mkv = key(ExportSettings(container="mkv", lossless=True))
    assert key(ExportSettings(container="mp4", lossless=True)) != mkv
    assert key(ExportSettings(container="mov", lossless=True)) == key(
        ExportSettings(container="mp4", lossless=True)
    )
    assert key(ExportSettings(container="mp4", codec="ffv1", lossless=True)) == mkv


def test_equal_forms_mean_the_same_encoder_and_options() -> None:
    """The key's form never leaves out what workers.encoder reads: settings with one form
    get one encoder, pixel format and options."""
    seen: dict[str, tuple[object, ...]] = {}
    for container, codec, lossless, crf, preset, bitrate in itertools.product(
        CONTAINERS,
        CODECS,
        (False, True),
        (None, 23, 28, 30, 33, 35),
        (None, "", "medium", "slow"),
        (None, 0, 10**6),
    ):
        export = ExportSettings(
            container=container,
            codec=codec,
            lossless=lossless,
            crf=crf,
            preset=preset,
            bitrate=bitrate,
        )
        choice = choose_encoder(export)
        shaped = (choice.name, choice.pix_fmt, choice.options, choice.lossless)
        form = repr(sorted(video_export_form(export).items()))
        assert seen.setdefault(form, shaped) == shaped, export


def test_every_other_field_still_changes_the_key() -> None:
    base = ExportSettings(container="mp4")
    for name, value in (("crf", 18), ("codec", "hevc"), ("preset", "veryslow"),
                        ("bitrate", 5 * 10**6), ("keyframe_interval", 48), ("b_frames", 0),
                        ("hardware_acceleration", True), ("lossless", True)):  # fmt: skip
        assert key(dataclasses.replace(base, **{name: value})) != key(base), name


def test_prores_and_dnxhr_keys_ignore_what_their_encoders_do_not_read() -> None:
    """A project's preset or CRF changed under a ProRes export re-rendered every cached chunk,
    though prores_ks and dnxhd read neither; their profile still keys them, and a remux from
    mov to mkv keeps ProRes chunks."""
    plain = key(ExportSettings(container="mov", codec="prores"))
    for change in ({"crf": 30}, {"preset": "veryslow"}, {"bitrate": 10**6}, {"b_frames": 0},
                   {"keyframe_interval": 15}, {"hardware_acceleration": True}):  # fmt: skip
        assert key(ExportSettings(container="mov", codec="prores", **change)) == plain, change
    assert key(ExportSettings(container="mkv", codec="prores")) == plain
    assert key(ExportSettings(container="mov", codec="prores", profile="lt")) != plain
    assert key(ExportSettings(container="mov", codec="dnxhr")) != plain


@pytest.mark.parametrize("codec", ["h264", "hevc", "av1", "vp9"])
def test_the_encoders_defaults_spelled_out_keep_the_keys(codec: str) -> None:
    """A project that names the CRF and preset the encoder takes when none is named (the
    codec's default CRF, "medium") encodes the same segments: no chunk renders again."""
    default = {"h264": 23, "hevc": 28, "av1": 35, "vp9": 33}[codec]
    plain = key(ExportSettings(codec=codec))
    assert key(ExportSettings(codec=codec, crf=default, preset="medium")) == plain
    assert key(ExportSettings(codec=codec, crf=default + 1)) != plain
    assert key(ExportSettings(codec=codec, preset="slow")) != plain
    # Under a bitrate the encoder reads no CRF at all
    rated = key(ExportSettings(codec=codec, bitrate=10**6))
    assert key(ExportSettings(codec=codec, bitrate=10**6, crf=default + 5)) == rated != plain
