"""A project as the client holds it: read once, shared by the CLI, the estimate and the submit."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chunking.memory import memory_problems
from chunking.timeline.audio_export import RATE_FLAG, sample_rate_problem
from chunking.timeline.export import (
    CONTAINERS,
    OUTPUT_CONTAINERS,
    export_problems,
    lossless_conflict,
    parse_export,
)
from chunking.timeline.export_overrides import lossless_unused, with_overrides
from chunking.timeline.fields import Problems, pick
from chunking.timeline.loader import load_document, read_file
from chunking.timeline.model import ExportSettings, Timeline
from chunking.timeline.profiles import intra_override_problems
from chunking.timeline.schema import settings_export, settings_output
from common.errors import EncodeError, ValidationError


@dataclass(frozen=True)
class Project:
    """The document workers receive, the directory its media paths resolve in, and the Timeline
    it describes (with any export overrides applied)."""

    document: dict[str, Any]
    base_dir: str
    timeline: Timeline

    def with_export(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        output: str | None = None,
        names: Mapping[str, str] | None = None,
    ) -> Project:
        """This project with export settings replaced (None values keep the project's) and the
        container taken from `output`'s extension unless given; refuses what cannot encode,
        and an override the export's encoder would ignore (``names``: what the caller calls
        each override in the message, ``--crf``; else ``settings.crf``)."""
        changes = dict(overrides or {})
        current = self.timeline.export
        if output and changes.get("container") is None:
            changes["container"] = container_of(output, current.container)
        export = current
        container = changes.get("container")
        if container not in (None, current.container) and changes.get("codec") is None:
            export = self._export_in(container) or current
        export = with_overrides(export, **changes)
        problems = export_problems(
            self.timeline.width, self.timeline.height, export, self.timeline.sample_rate
        )
        codec = changes.get("codec")
        conflict = lossless_conflict(export.container, codec) if export.lossless and codec else None
        if conflict is not None:
            # Both asked for explicitly: one would be overridden without a word.
            problems.append(f"{conflict}: ask for lossless or for {codec}, not both")
        problems += intra_override_problems(export, changes)
        problems += lossless_unused(
            export, {k: v for k, v in changes.items() if v is not None}, names
        )
        if problems:
            raise EncodeError("; ".join(problems))
        timeline = dataclasses.replace(self.timeline, export=export)
        if codec is None and (export.container, export.lossless) != (
            current.container,
            current.lossless,
        ):
            timeline = dataclasses.replace(timeline, warnings=self._retold(current, export))
        return dataclasses.replace(self, timeline=timeline)

    def with_sample_rate(self, rate: int) -> Project:
        """This project mixed at ``rate`` Hz (its document's ``timeline.sample_rate``, which
        the workers read), refused unless its export's audio codec encodes that rate."""
        problem = sample_rate_problem(self.timeline.export, rate)
        if not 8000 <= rate <= 384_000:
            problem = f"{RATE_FLAG} {rate}: a timeline's sample rate is 8000 to 384000 Hz"
        if problem is not None:
            raise EncodeError(problem)
        held = self.document.get("timeline")
        if not isinstance(held, Mapping):
            raise EncodeError(f"{RATE_FLAG}: the project has no timeline block to hold it")
        document = {**self.document, "timeline": {**held, "sample_rate": rate}}
        timeline = dataclasses.replace(self.timeline, sample_rate=rate)
        return dataclasses.replace(self, document=document, timeline=timeline)

    def _retold(self, before: ExportSettings, after: ExportSettings) -> tuple[str, ...]:
        """The load's warnings with "the codec is ignored" told for the export the render gets:
        the load named the project's own container ("lossless output in mp4" for an .mkv
        output), or said nothing where `--lossless` or the output's container made the
        project's codec the ignored one."""
        named = pick(settings_export(self.document), "codec", "video_codec") is not None
        old, new = _codec_ignored(before), _codec_ignored(after) if named else None
        kept = tuple(w for w in self.timeline.warnings if w != old)
        return kept + (new,) if new is not None else kept

    def _export_in(self, container: str) -> ExportSettings | None:
        """The document's export settings read as if they named ``container``, when they leave
        the codec to the container (the editor's default for it: hevc in mkv, vp9 in webm),
        its CRF then made for that codec; None when they name a codec."""
        raw = settings_export(self.document)
        if pick(raw, "codec", "video_codec") is not None:
            return None
        return parse_export(
            {**raw, "container": container}, Problems(), settings_output(self.document)
        )


def read_project(
    source: str | Mapping[str, Any],
    *,
    base_dir: str | None = None,
    strict: bool = False,
    max_frame_bytes: int | None = None,
    export: Mapping[str, Any] | None = None,
    output: str | None = None,
    names: Mapping[str, str] | None = None,
) -> Project:
    """A project file (Timeline Studio JSON or .otio) or an already parsed ProjectSchema document
    (its media paths relative to `base_dir`, default the working directory), validated; with
    `max_frame_bytes`, refused when a frame would need more memory than that. Its export
    settings, with `export` overrides and `output`'s container (``Project.with_export``), must
    encode its frame size (``names``: the overrides as the caller calls them, for messages)."""
    # Whether the project's codec is ignored depends on the container the output gets: with an
    # output or overrides, --strict judges the warnings of the export the render gets (it let
    # "the codec is ignored" of an .mkv output through, and refused one the .mp4 output cured).
    deferred = strict and (export is not None or output is not None)
    if isinstance(source, str):
        document, directory, timeline = read_file(source, strict=strict and not deferred)
    else:
        directory = os.path.abspath(base_dir or ".")
        document, timeline = load_document(dict(source), directory, strict=strict and not deferred)
    if max_frame_bytes is not None:
        check_memory(timeline, max_frame_bytes)
    project = Project(document, directory, timeline)
    if export is None and output is None:
        problems = export_problems(
            timeline.width, timeline.height, timeline.export, timeline.sample_rate
        )
        if problems:
            raise ValidationError([f"settings.export: {problem}" for problem in problems])
        return project
    exported = project.with_export(export, output=output, names=names)
    if deferred and exported.timeline.warnings:
        raise ValidationError(list(exported.timeline.warnings))
    return exported


def _codec_ignored(export: ExportSettings) -> str | None:
    """The warning that a lossless export renders with its container's lossless encoder, not
    the codec it names (as parse_export words it), or None."""
    conflict = lossless_conflict(export.container, export.codec) if export.lossless else None
    return None if conflict is None else f"settings.export: {conflict}: the codec is ignored"


def check_memory(timeline: Timeline, max_frame_bytes: int) -> None:
    """Refuse a timeline one of whose frames needs more than `max_frame_bytes` to render."""
    problems = memory_problems(timeline, max_frame_bytes)
    if problems:
        raise ValidationError(problems)


def container_of(output: str, default: str) -> str:
    """The container an output path or URL asks for by its extension (`default` without one)."""
    ext = os.path.splitext(output)[1].lower().lstrip(".")
    if not ext:
        return default
    if ext not in CONTAINERS or ext in ("quicktime", "matroska"):  # names, not extensions
        known = ", ".join(f".{c}" for c in OUTPUT_CONTAINERS)
        raise EncodeError(f"output {output}: unknown container .{ext} (use {known})")
    return CONTAINERS[ext]
