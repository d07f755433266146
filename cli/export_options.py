"""The export options ``render`` and ``submit`` share (``--codec --crf --preset --lossless``),
and how they apply to a project: what is typed on the command line wins over the project file.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # The project loaders: loaded by the commands that read a project, not by every parser.
    from chunking.timeline.project import Project

CODECS = ["h264", "hevc", "av1", "vp9", "ffv1", "prores", "dnxhr"]


def crf_value(text: str) -> int:
    """``--crf``'s argument: a whole number from 0 to 63 (argparse names the option when not;
    left to the project loader, the message blamed the project's ``settings.crf``)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 0 to 63")
    return value


def preset_value(text: str) -> str:
    """``--preset``'s argument: a name (the loader's check would blame ``settings.preset``)."""
    if not 0 < len(text) <= 32 or text != text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a preset name")
    return text


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The export flags ``render`` and ``submit`` share beyond ``--codec --crf --preset``."""
    parser.add_argument(
        "--profile",
        metavar="P",
        help="ProRes (proxy, lt, standard, hq, 4444) or DNxHR (lb, sq, hq, hqx, 444) profile",
    )
    parser.add_argument(
        "--audio-codec",
        metavar="C",
        help="aac, opus, flac, alac, pcm_s16le, pcm_s24le or mp3 (default: the container's; "
        "-o mix.wav, .flac, .m4a, .ogg, .opus or .mp3 writes the sound alone)",
    )
    parser.add_argument(
        "--sample-rate",
        metavar="HZ",
        type=rate_value,
        help="mix the sound at HZ (default: the project's); the codec must encode it",
    )


def rate_value(text: str) -> int:
    """``--sample-rate``'s argument: a whole number of Hz from 8000 to 384000."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 8000 <= value <= 384_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of Hz, 8000 to 384000")
    return value


def output_value(text: str) -> str:
    """``-o``'s argument: a file name, not nothing or a folder (`-o ""` was taken as the
    working directory: "output /home/me already exists")."""
    if not text.strip() or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text!r} names no file: give the video's file name")
    return text


def dollars_value(text: str) -> float:
    """``--max-cost``'s argument: finite dollars, 0 or more (read as a float, "1e400" and a
    400-digit number were refused as "max cost inf", a figure nobody typed)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"
        raise argparse.ArgumentTypeError(f"{shown!r} must be a number of dollars, 0 or more")
    return value


#: The export overrides by the flags that set them, for messages (``Project.with_export``).
FLAGS = {"codec": "--codec", "crf": "--crf", "preset": "--preset", "lossless": "--lossless"}


def cli_export(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """The export overrides the command line asks for (None: the project's own)."""
    return {
        "codec": args.codec,
        "crf": args.crf,
        "preset": args.preset,
        "lossless": True if args.lossless else None,
        "profile": getattr(args, "profile", None),
        "audio_codec": getattr(args, "audio_codec", None),
        **extra,
    }


def with_cli_export(project: Project, args: argparse.Namespace, **extra: Any) -> Project:
    """The project with the command line's export options (and `extra` ones) applied."""
    project = project.with_export(cli_export(args, **extra), output=args.output, names=FLAGS)
    rate = getattr(args, "sample_rate", None)
    if rate is not None:
        project = project.with_sample_rate(rate)
    export = project.timeline.export
    if args.crf is not None and export.bitrate is not None:
        # The encoder takes a bitrate over a CRF (workers.encoder): a --crf typed now must not
        # be silently ignored because the project file also holds a bitrate.
        timeline = dataclasses.replace(
            project.timeline, export=dataclasses.replace(export, bitrate=None)
        )
        project = dataclasses.replace(project, timeline=timeline)
    return project


def note_chunk_frames(project: Project, args: argparse.Namespace) -> None:
    """Say on stderr when ``--chunk-frames`` is planned as another length (rounded to whole
    keyframe intervals): the chunks were not what was asked for, without a word."""
    asked = getattr(args, "chunk_frames", None)
    if asked is None or getattr(args, "quiet", False):
        return
    from chunking.plan import keyframe_chunk_frames

    used = keyframe_chunk_frames(project.timeline, asked)
    if used != asked:
        every = project.timeline.export.keyframe_interval
        print(
            f"note: --chunk-frames {asked} is rounded to {used}: every chunk starts on a "
            f"keyframe, and settings.export.keyframe_interval puts one every {every} frames",
            file=sys.stderr,
        )
