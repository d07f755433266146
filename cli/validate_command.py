"""`cloudrender validate`, and the one-line warnings validate and render print."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from cli.failures import terminal_text
from cli.status_view import plural
from common.errors import ValidationError, summarize
from common.settings import Settings

if TYPE_CHECKING:
    # The project loaders (every format's parser, 0.1-0.2 CPU-s): loaded by the commands that
    # read a project, not by every command's parser.
    from chunking.timeline.model import Timeline


def validate_command(args: argparse.Namespace) -> int:
    """`cloudrender validate`: load the project, check its media as render opens them."""
    from chunking.timeline.project import read_project
    from workers.audio_mix import mix_problem
    from workers.probe import media_report  # opens media: only for commands that need it
    from workers.probe_fields import interlace_report
    from workers.read_watchdog import watch_reads
    from workers.render import has_audio
    from workers.subtitle_check import text_warnings

    budget = Settings.from_env().max_frame_bytes
    project = read_project(args.timeline, strict=args.strict, max_frame_bytes=budget)
    timeline = project.timeline
    # The media as render opens them, so validate refuses what render would refuse; a read
    # that a stuck mount never answers ends the command in one line, not a hang.
    with watch_reads(exit_on_stuck_read(args)):
        problems, warnings = media_report(timeline, project.base_dir)
        warnings += text_warnings(timeline)  # what this node's fonts cannot draw
        # Interlaced media: deinterlaced as decoded (a note), or shown combed (a warning).
        notes, combed = interlace_report(timeline)
    warnings += combed
    too_long = mix_problem(timeline)
    if too_long is not None and has_audio(timeline):
        problems.append(too_long)  # as the render refuses it (its mix would not fit memory)
    if args.strict:
        problems += warnings
    if problems:
        raise ValidationError(problems)
    timeline = dataclasses.replace(timeline, warnings=(*timeline.warnings, *warnings))
    if args.json:
        print(
            json.dumps(
                {
                    "valid": True,
                    "frames": timeline.frames,
                    "fps": str(timeline.fps),
                    "resolution": [timeline.width, timeline.height],
                    "duration": timeline.duration,
                    "tracks": len(timeline.tracks),
                    "warnings": list(timeline.warnings),
                    "notes": notes,
                },
                indent=2,
            )
        )
    else:
        warn(timeline, False)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        print(
            f"ok: {timeline.width}x{timeline.height} at {timeline.fps} fps, "
            f"{timeline.frames} frames ({timeline.duration:.2f}s), "
            f"{plural(len(timeline.tracks), 'track')}"
        )
    return 0


def exit_on_stuck_read(args: argparse.Namespace) -> Callable[[str, float], None]:
    """What a command does when a read of its media never returns (``workers.read_watchdog``):
    say so in one line and exit; the thread blocked in the kernel cannot be stopped, so the
    process ends under it (an output being written stays a temp file, swept later)."""

    def stuck(path: str, seconds: float) -> None:
        from cli.failures import EXIT_BAD_INPUT, report_error
        from workers.read_watchdog import stuck_read

        report_error(args, stuck_read(path, seconds))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_BAD_INPUT)

    return stuck


def warn(timeline: Timeline, quiet: bool) -> None:
    """Print the timeline's warnings on one stderr line (unless quiet)."""
    if timeline.warnings and not quiet:
        # One line however many: the first few, then "and N more" (--json lists them all).
        count = len(timeline.warnings)
        listed = summarize(timeline.warnings).removeprefix(f"{count} problems: ")
        print(f"warning: {count} issue(s) ignored: {terminal_text(listed)}", file=sys.stderr)
