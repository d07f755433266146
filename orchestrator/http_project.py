"""A project as the HTTP client sends it: read and vetted here (the CLI's messages), its export
settings written into the document, its media checked, hashed and named by content.

The service loads the document it receives as a worker does, so everything the client decided
must be in the document itself: the export settings (``--lossless``, ``--codec``, an output
container) replace the document's own ``settings.export`` keys, and every media path becomes an
``asset:sha256:<hex><ext>`` reference whose bytes are uploaded first (``orchestrator.assets``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chunking.timeline.model import ExportSettings
from chunking.timeline.project import Project
from orchestrator.assets import DEFAULT_MAX_BYTES, AssetPlan, Stored, plan_assets
from orchestrator.submission import prepare_project
from workers.assets import copy_document

__all__ = ["HttpProject", "output_name", "prepare_http_project", "with_export_block"]

#: ``settings.export`` keys that name an export setting (aliases included): all replaced.
_EXPORT_KEYS = (
    "container",
    "format",
    "codec",
    "video_codec",
    "quality",
    "crf",
    "bitrate",
    "video_bitrate",
    "rate_control_mode",
    "preset",
    "keyframe_interval",
    "gop_size",
    "b_frames",
    "bframes",
    "hardware_acceleration",
    "lossless",
    "audio_bitrate",
    "profile",
    "codec_profile",
    "audio_codec",
)
#: serde's older ``settings.output`` keys the export falls back on (its ``duration`` stays).
_LEGACY_KEYS = ("format", "quality", "video_bitrate", "audio_bitrate")
#: Characters the service allows in a video's name, and their most.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_NAME_CHARS = 100
#: Below this a bitrate in the document is read as kbit/s (chunking.timeline.export._bitrate).
_KBIT_BELOW = 100_000


@dataclass(frozen=True)
class HttpProject:
    """A project ready to send: its document (asset references, export written in) and the
    local files the service may lack."""

    project: Project
    plan: AssetPlan

    @property
    def document(self) -> dict[str, Any]:
        """The document the service receives."""
        return self.plan.document


def prepare_http_project(
    project: str | Mapping[str, Any] | Project,
    settings: Mapping[str, Any] | None,
    base_dir: str | None,
    output: str | None,
    *,
    max_frame_bytes: int,
    stored: Stored,
    holder: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> HttpProject:
    """Read and vet a project as ``CloudRenderingAPI`` does, write its export settings into its
    document and plan its media uploads (``stored``/``holder``: see ``plan_assets``)."""
    prepared = prepare_project(project, settings, base_dir, output, max_frame_bytes)
    document = with_export_block(prepared.document, prepared.timeline.export)
    plan = plan_assets(
        document, prepared.base_dir, stored=stored, holder=holder, max_bytes=max_bytes
    )
    return HttpProject(prepared, plan)


def with_export_block(document: Mapping[str, Any], export: ExportSettings) -> dict[str, Any]:
    """A copy of ``document`` whose ``settings.export`` says exactly ``export`` when loaded
    (the frame rate, size and other keys there are kept)."""
    doc = copy_document(document)
    settings = doc.get("settings")
    settings = dict(settings) if isinstance(settings, dict) else {}
    block = settings.get("export")
    block = (
        {k: v for k, v in block.items() if k not in _EXPORT_KEYS} if isinstance(block, dict) else {}
    )
    block.update(
        container=export.container,
        codec=export.codec,
        lossless=export.lossless,
        hardware_acceleration=export.hardware_acceleration,
        audio_bitrate=export.audio_bitrate,
    )
    if export.crf is not None:
        block["crf"] = export.crf
    if export.bitrate is not None:
        bitrate = export.bitrate
        block["bitrate"] = bitrate if bitrate >= _KBIT_BELOW else bitrate / 1000
    optional = {
        "preset": export.preset,
        "keyframe_interval": export.keyframe_interval,
        "b_frames": export.b_frames,
        "profile": export.profile,
        "audio_codec": export.audio_codec,
    }
    block.update({k: v for k, v in optional.items() if v is not None})
    settings["export"] = block
    legacy = settings.get("output")
    if isinstance(legacy, dict):
        settings["output"] = {k: v for k, v in legacy.items() if k not in _LEGACY_KEYS}
    doc["settings"] = settings
    return doc


def output_name(output: str, container: str = "mp4") -> str:
    """The file name of an ``output`` path or URL, as the service names the job's video:
    letters, digits and ``._-`` (others become "_"), at most 100 characters, its extension
    kept (``container``'s without one)."""
    name = os.path.basename(output.rstrip("/").split("?", 1)[0].split("#", 1)[0])
    stem, ext = os.path.splitext(_UNSAFE.sub("_", name))
    stem = stem.lstrip("._-")[: _NAME_CHARS - len(ext[:17])] or "video"
    return stem + (ext[:17] or f".{container}")
