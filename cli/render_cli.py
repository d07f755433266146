"""The ``cloudrender render`` command once its arguments are parsed: the project read and vetted,
rendered in this process (``--direct``) or as a job on workers, and its summary printed.

A default render (a private local cluster) vets the project's media (their headers' warnings,
the fonts its titles need) while its workers start: the workers, the slowest part to start, are
spawned before this client opens any media file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cli.arguments import shown
from cli.export_options import FLAGS, cli_export, note_chunk_frames, with_cli_export
from cli.status_view import ProgressBar, plural
from cli.termination import Termination, terminable
from cli.validate_command import exit_on_stuck_read, warn
from common.errors import RenderError, ValidationError
from common.scratch import scratch_prefix, sweep_scratch
from common.settings import Settings
from common.urls import redact_url

if TYPE_CHECKING:
    # The project loaders (every format's parser, 0.1-0.2 CPU-s): loaded by the commands that
    # read a project, not by every command's parser.
    from chunking.timeline.model import Timeline
    from chunking.timeline.project import Project


def render_handler(args: argparse.Namespace) -> int:
    """Run ``cloudrender render`` with its parsed arguments; its exit status (errors raise)."""
    if args.direct:
        # Each of these shapes a distributed render only: accepted silently, the user would
        # think --direct honoured it.
        for flag, value in (("--workers", args.workers), ("--chunk-frames", args.chunk_frames)):
            if value is not None:
                raise RenderError(f"{flag} splits a render across workers: drop it or --direct")
        if args.broker:
            raise RenderError("--broker submits to a cluster: drop it or --direct")
    from chunking.timeline.project import read_project

    budget = Settings.from_env().max_frame_bytes
    extra = {"hardware_acceleration": True if args.hwaccel else None}
    project = read_project(
        args.timeline,
        strict=args.strict,
        max_frame_bytes=budget,
        export=cli_export(args, **extra),
        output=args.output,
        names=FLAGS,
    )
    project = with_cli_export(project, args, **extra)
    show = not (args.quiet or args.json) and sys.stderr.isatty()
    vetted: list[Project] = []

    def vet(read: Project) -> Project:
        """The project with what its media warn of (refused with --strict), said on stderr."""
        checked = _with_media_warnings(read, args.strict)
        warn(checked.timeline, args.quiet or args.json)
        vetted.append(checked)
        return checked

    if args.direct:
        summary = _render_direct(args, vet(project).timeline, show)
    else:
        if not args.workers:
            from orchestrator.local_workers import local_slots, machine_memory_mib

            args.workers = local_slots(os.cpu_count() or 1, machine_memory_mib())
        if args.start or args.end is not None:
            raise RenderError("--start/--end render a range in this process: add --direct")
        # SIGTERM and SIGHUP (a closed SSH session, a CI timeout) end the render as Ctrl-C
        # does: its job cancelled, not left rendering (and billed) with nobody waiting.
        note_chunk_frames(project, args)
        with terminable() as termination:
            # Vetted while a private cluster's workers start (they are spawned first).
            summary = _render_distributed(args, project, show, termination, vet)
    # The vetted project where the render vetted it (a render that never got so far: as read).
    timeline = (vetted[-1] if vetted else project).timeline
    from chunking.timeline.audio_export import audio_only

    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        hw = " (hardware)" if summary.get("hardware") else ""
        where = f" on {plural(args.workers, 'worker')}" if summary["mode"] == "distributed" else ""
        reused = summary.get("reused_chunks")
        # Every chunk taken from the segment cache: no encoder ran in this render.
        encoder = f" with {summary['encoder']}{hw}" if summary.get("encoder") else ""
        if audio_only(timeline.export.container):  # -o mix.wav: no frame, no video encoder
            seconds = float(timeline.frames / timeline.fps)
            print(
                f"wrote {seconds:.2f}s of sound ({summary['audio']}, {timeline.sample_rate} Hz "
                f"mix) to {args.output} in {summary['seconds']:.2f}s{where}"
            )
        else:
            print(
                f"rendered {summary['frames']} frames to {args.output} in "
                f"{summary['seconds']:.2f}s ({summary['fps']:.1f} fps){where}{encoder}"
                + (f" + {summary['audio']} audio" if summary.get("audio") else "")
                + (f" (reused {reused} of {summary['chunk_count']} chunks)" if reused else "")
            )
        for note in summary.get("warnings", []):
            if note not in timeline.warnings:
                print(f"note: {note}", file=sys.stderr)
    return 0


def _with_media_warnings(project: Project, strict: bool) -> Project:
    """The project with what its media's headers warn of (HDR video, clips playing past
    their file's end) and what this node's fonts cannot draw among its warnings."""
    from workers.probe import header_warnings  # opens media: only for commands that need it
    from workers.subtitle_check import text_warnings

    found = header_warnings(project.timeline) + text_warnings(project.timeline)
    if found and strict:
        raise ValidationError(found)
    if not found:
        return project
    timeline = project.timeline
    timeline = dataclasses.replace(timeline, warnings=(*timeline.warnings, *found))
    return dataclasses.replace(project, timeline=timeline)


def _render_direct(args: argparse.Namespace, timeline: Timeline, show: bool) -> dict[str, Any]:
    from cli.output_url import check_output_url, deliver_to_url, is_output_url
    from workers.render import RenderSummary, render_to_file  # heavy: only when rendering

    end = args.end if args.end is not None else timeline.frames
    if args.end is None and args.start >= timeline.frames:
        # Said as "frame range [40, 25) is empty: --end must be after --start" of an --end
        # the user never gave.
        raise RenderError(
            f"--start {shown(str(args.start))} is past the timeline's end: its "
            f"{timeline.frames} frames are 0 to {timeline.frames - 1}"
        )
    bar = ProgressBar(sys.stderr) if show else None

    def render(target: str) -> RenderSummary:
        return render_to_file(
            timeline,
            target,
            start=args.start,
            end=end,
            export=timeline.export,
            progress=bar.update if bar else None,
            cancelled=termination.check,
        )

    from workers.read_watchdog import watch_reads

    # A read of a source that a stuck mount never answers ends the render in one line.
    with terminable() as termination, watch_reads(exit_on_stuck_read(args)):
        if is_output_url(args.output):
            # Refused before rendering what would be refused after it (malformed, taken).
            check_output_url(args.output)
            sweep_scratch("direct")  # what killed clients left
            with tempfile.TemporaryDirectory(prefix=scratch_prefix("direct")) as scratch:
                summary = render(os.path.join(scratch, "output" + os.path.splitext(args.output)[1]))
                deliver_to_url(summary.output, args.output, scratch)
        else:
            summary = render(args.output)
    if bar:
        bar.finish()
    return {"mode": "direct", **summary.as_dict(), "output": args.output}


def _render_distributed(
    args: argparse.Namespace,
    project: Project,
    show: bool,
    termination: Termination,
    vet: Callable[[Project], Project],
) -> dict[str, Any]:
    from cli.render_command import render_distributed
    from cli.render_progress import JobProgress, progress_detail

    bar = ProgressBar(sys.stderr) if show else None

    def announce(url: str, url_file: str | None) -> None:
        shown = redact_url(url)
        # Scrollback, terminal logs and shared screens keep what is printed: no password.
        broker = f'"$(cat {url_file})"' if url_file else shown
        hint = " with its password in place of ***" if shown != url and not url_file else ""
        print(
            f"cluster at {shown}: watch with `cloudrender dashboard --broker {broker}`{hint}",
            file=sys.stderr,
        )

    def progress(state: JobProgress) -> None:
        termination.check()
        if bar is not None:
            bar.update(state.done, state.frames, progress_detail(state), reused=state.reused_frames)

    def notify(note: str) -> None:
        if not args.quiet:
            print(f"note: {note}", file=sys.stderr)

    summary = render_distributed(
        project,
        args.output,
        workers=args.workers,
        chunk_frames=args.chunk_frames,
        broker_url=args.broker,
        priority=args.priority,
        use_cache=args.use_cache,
        project_name=args.project or "",
        user=args.user or "",
        progress=progress,
        announce=announce if show else None,
        notify=notify,
        vet=vet,
    )
    if bar:
        bar.finish()
    return summary
