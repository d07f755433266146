"""The command line's export options win over the project's: a typed ``--crf`` is not ignored
because the project file also holds a bitrate (the encoder takes a bitrate over a CRF)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import av

from chunking.timeline.project import read_project
from cli.export_options import with_cli_export
from tests.helpers import CLI, colour_project
from tests.media import project, solid, video_track, write_project


def options(**given: Any) -> argparse.Namespace:
    base = {"codec": None, "crf": None, "preset": None, "lossless": False, "output": "o.mp4"}
    return argparse.Namespace(**{**base, **given})


def with_bitrate() -> dict[str, Any]:
    doc = colour_project(0.5)
    doc["settings"]["export"].update({"video_bitrate": 4000, "crf": 30})
    return doc


def test_a_typed_crf_replaces_the_projects_bitrate() -> None:
    project = read_project(with_bitrate())
    assert project.timeline.export.bitrate == 4_000_000  # the project: bitrate wins over crf
    typed = with_cli_export(project, options(crf=18)).timeline.export
    assert (typed.crf, typed.bitrate) == (18, None)
    kept = with_cli_export(project, options(preset="fast")).timeline.export
    assert (kept.crf, kept.bitrate, kept.preset) == (30, 4_000_000, "fast")


def grainy(bitrate_kbit: int) -> dict[str, Any]:
    """Half a second of film grain (incompressible noise) with a bitrate and a CRF."""
    clip = {"id": "c", "start_time": 0, "end_time": 0.5, **solid("#808080"), "effects": ["g"]}
    return project(
        [video_track("v", [clip])],
        effects=[{"id": "g", "effect_type": "FilmGrain"}],
        settings={"export": {"preset": "ultrafast", "video_bitrate": bitrate_kbit, "crf": 40}},
    )


def test_render_encodes_at_the_typed_crf(cli: CLI, tmp_path: Path) -> None:
    path = write_project(tmp_path / "p.json", grainy(20))
    sizes = {}
    for name, extra in (("project", ()), ("typed", ("--crf", "0"))):
        out = tmp_path / f"{name}.mp4"
        done = cli("render", str(path), "-o", str(out), "--direct", *extra)
        assert done.returncode == 0, done.stderr
        sizes[name] = out.stat().st_size
    # 20 kbit/s is about 1.3 kB for half a second; CRF 0 keeps the grain: far more.
    assert sizes["typed"] > 10 * sizes["project"], sizes


def test_render_lossless_encodes_an_odd_frame_size(cli: CLI, tmp_path: Path) -> None:
    """The project's h264 cannot encode 321x181 (yuv420p halves each side); the lossless
    output typed on the command line can, and validate names the override that helps."""
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.2,
                                      **solid("#336699")}])])  # fmt: skip
    doc["timeline"]["resolution"] = [321, 181]
    path = write_project(tmp_path / "odd.json", doc)
    refused = cli("validate", str(path))
    assert refused.returncode != 0 and "odd side" in refused.stderr
    assert "--lossless" in refused.stderr
    for out in (tmp_path / "odd.mkv", tmp_path / "odd.mp4"):
        done = cli("render", str(path), "-o", str(out), "--direct", "--lossless")
        assert done.returncode == 0, done.stderr
        with av.open(str(out)) as video:
            stream = video.streams.video[0]
            assert (stream.width, stream.height) == (321, 181)


def test_lossless_with_a_codec_it_is_not_is_refused_not_overridden(
    cli: CLI, tmp_path: Path
) -> None:
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.2,
                                      **solid("#336699")}])])  # fmt: skip
    path = write_project(tmp_path / "p.json", doc)
    out = tmp_path / "x.mkv"
    refused = cli("render", str(path), "-o", str(out), "--direct", "--lossless", "--codec", "hevc")
    assert refused.returncode == 2
    assert (
        "lossless output in mkv is FFV1, not hevc: ask for lossless or for hevc" in refused.stderr
    )
    assert not out.exists()
    # FFV1 is what lossless Matroska holds: a lossless H.264 asked for there is no such file
    refused = cli("render", str(path), "-o", str(out), "--direct", "--lossless", "--codec", "h264")
    assert refused.returncode == 2 and "lossless output in mkv is FFV1, not h264" in refused.stderr
    done = cli("render", str(path), "-o", str(out), "--direct", "--lossless", "--codec", "ffv1")
    assert done.returncode == 0, done.stderr


def test_a_frame_too_small_for_its_codec_is_refused_before_encoding(
    cli: CLI, tmp_path: Path
) -> None:
    """libx265 corrupts its heap on frames like 48x48 (the worker aborted): refused first."""
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.2,
                                      **solid("#336699")}])], size=(48, 48))  # fmt: skip
    path = write_project(tmp_path / "small.json", doc)
    out = tmp_path / "small.mkv"
    refused = cli("render", str(path), "-o", str(out), "--direct", "--codec", "hevc")
    assert refused.returncode == 2, refused.stderr
    assert "resolution 48x48 is too small for hevc: it needs at least 64x16" in refused.stderr
    assert not out.exists()
    done = cli("render", str(path), "-o", str(out), "--direct", "--codec", "vp9")
    assert done.returncode == 0, done.stderr


def test_a_small_lossless_matroska_is_encoded_not_refused_for_the_default_hevc(
    cli: CLI, tmp_path: Path
) -> None:
    """Matroska's default codec is hevc, which refuses 48x48; lossless Matroska is FFV1."""
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.2,
                                      **solid("#336699")}])], size=(48, 48))  # fmt: skip
    path = write_project(tmp_path / "small.json", doc)
    out = tmp_path / "small.mkv"
    done = cli("render", str(path), "-o", str(out), "--direct", "--lossless")
    assert done.returncode == 0, done.stderr
    with av.open(str(out)) as video:
        stream = video.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("ffv1", 48, 48)


def test_a_crf_above_the_encoders_range_is_refused_before_encoding(
    cli: CLI, tmp_path: Path
) -> None:
    """CRF 60 is fine for av1 and vp9 (0-63), but libx265 refuses anything above 51: every
    chunk of a render failed inside the encoder, with x265's own line on the terminal."""
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.2,
                                      **solid("#336699")}])])  # fmt: skip
    path = write_project(tmp_path / "p.json", doc)
    out = tmp_path / "x.mkv"
    refused = cli("render", str(path), "-o", str(out), "--direct", "--codec", "hevc", "--crf", "60")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: crf 60 is above hevc's highest, 51"
    assert not out.exists()
    done = cli("render", str(path), "-o", str(out), "--direct", "--codec", "vp9", "--crf", "60")
    assert done.returncode == 0, done.stderr


def test_a_typed_crf_out_of_range_names_the_option_not_the_project(
    cli: CLI, tmp_path: Path
) -> None:
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.2,
                                      **solid("#336699")}])])  # fmt: skip
    path = write_project(tmp_path / "p.json", doc)
    for typed in ("-1", "64"):
        refused = cli(
            "render", str(path), "-o", str(tmp_path / "x.mp4"), "--direct", "--crf", typed
        )
        assert refused.returncode == 2
        assert f"argument --crf: '{typed}' is not a whole number from 0 to 63" in refused.stderr
        assert "settings" not in refused.stderr  # the project file holds no crf


def test_an_empty_typed_preset_names_the_option_not_the_project(cli: CLI, tmp_path: Path) -> None:
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.2,
                                      **solid("#336699")}])])  # fmt: skip
    path = write_project(tmp_path / "p.json", doc)
    refused = cli("render", str(path), "-o", str(tmp_path / "x.mp4"), "--direct", "--preset", "")
    assert refused.returncode == 2
    assert "argument --preset: '' is not a preset name" in refused.stderr
    assert "settings" not in refused.stderr


def test_a_crf_or_preset_a_lossless_encoder_would_ignore_is_refused_naming_the_flag(
    cli: CLI, tmp_path: Path
) -> None:
    """``--codec ffv1 --crf 18`` and ``--lossless --preset bogus`` rendered as if neither had
    been typed: the lossless encoders take no CRF or preset."""
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.2,
                                      **solid("#336699")}])])  # fmt: skip
    path = write_project(tmp_path / "p.json", doc)
    mkv, mp4 = tmp_path / "x.mkv", tmp_path / "x.mp4"
    for out, typed, expected in (
        (mkv, ("--codec", "ffv1", "--crf", "18"),
         "--crf 18: FFV1, which is lossless, takes no CRF (chosen by --codec ffv1): drop --crf"),
        (mp4, ("--lossless", "--preset", "bogus"),
         "--preset bogus: lossless RGB H.264 takes no preset (chosen by --lossless): drop "
         "--preset"),
        (mkv, ("--lossless", "--crf", "0"),
         "--crf 0: FFV1, which is lossless, takes no CRF (chosen by --lossless): drop --crf"),
    ):  # fmt: skip
        refused = cli("render", str(path), "-o", str(out), "--direct", *typed)
        assert refused.returncode == 2, (typed, refused.stderr)
        assert refused.stderr.startswith(f"error: {expected}"), refused.stderr
        assert not out.exists()
    # A project whose own export is lossless names where the lossless came from
    doc["settings"] = {"export": {"lossless": True}}
    lossless = write_project(tmp_path / "lossless.json", doc)
    refused = cli("render", str(lossless), "-o", str(mp4), "--direct", "--crf", "20")
    assert refused.returncode == 2
    assert (
        "--crf 20: lossless RGB H.264 takes no CRF (chosen by the project's lossless export)"
        in (refused.stderr)
    )
    # The lossy codecs take them
    done = cli("render", str(path), "-o", str(mkv), "--direct", "--codec", "vp9", "--crf", "30")
    assert done.returncode == 0, done.stderr
