"""Celery task bodies: render a chunk's segment, render the audio once, merge the segments.

Outputs are idempotent: each goes to a deterministic storage key through an atomic put, so a
task that runs twice writes the same object. Deterministic errors (bad media, bad timeline) are
raised at once and never retried; their message names the chunk and its frame range.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from typing import Any

from celery import Task, shared_task

from chunking.errors import RenderError
from providers.storage import open_storage
from providers.storage.base import ObjectNotFound
from workers.audio import audio_codec_for, mix_timeline, write_audio_file
from workers.job import JobSpec
from workers.render import has_audio, render_to_file
from workers.stitch import stitch

#: Seconds between progress reports of one chunk (keeps the result backend quiet).
PROGRESS_INTERVAL = 0.25


@shared_task(bind=True, name="cloudrender.render_chunk")
def render_chunk(
    self: Task, job: dict[str, Any], index: int, start: int, end: int
) -> dict[str, Any]:
    """Render frames [start, end) of the job into its segment in storage."""
    spec = JobSpec.from_dict(job)
    storage = open_storage(spec.storage_url)
    key = spec.segment_key(index)
    began = time.perf_counter()
    result = {"index": index, "start": start, "end": end, "key": key, "node": _node()}
    if storage.exists(key):  # an earlier attempt finished it: the object is complete
        return {**result, "seconds": 0.0, "encoder": None, "reused": True}
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL or done == total:
            last[0] = now
            self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    threads = self.app.conf.get("cloudrender_encoder_threads")
    with tempfile.TemporaryDirectory(prefix="cloudrender-chunk-") as tmp:
        path = os.path.join(tmp, f"{index:06d}.mkv")
        try:
            summary = render_to_file(
                spec.timeline(),
                path,
                start=start,
                end=end,
                audio=False,
                progress=progress,
                file_format="matroska",
                threads=threads,
            )
        except RenderError as exc:
            raise RenderError(f"chunk {index} (frames {start}-{end - 1}): {exc}") from None
        storage.put_file(key, path)
    seconds = time.perf_counter() - began
    notes = [w for w in summary.warnings if w not in spec.timeline().warnings]
    return {
        **result,
        "seconds": round(seconds, 3),
        "encoder": summary.encoder,
        "hardware": summary.hardware,
        "notes": notes,
        "reused": False,
    }


@shared_task(bind=True, name="cloudrender.render_audio")
def render_audio(self: Task, job: dict[str, Any]) -> dict[str, Any] | None:
    """Mix and encode the whole timeline's audio once; None when the timeline is silent."""
    spec = JobSpec.from_dict(job)
    timeline = spec.timeline()
    if not has_audio(timeline):
        return None
    storage = open_storage(spec.storage_url)
    codec = audio_codec_for(timeline.export.container)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cloudrender-audio-") as tmp:
        path = os.path.join(tmp, "audio.mka")
        try:
            samples = mix_timeline(timeline)
            write_audio_file(
                path, samples, timeline.sample_rate, "mkv", timeline.export.audio_bitrate, codec
            )
        except RenderError as exc:
            raise RenderError(f"audio: {exc}") from None
        storage.put_file(spec.audio_key, path)
    return {"key": spec.audio_key, "codec": codec, "seconds": round(time.perf_counter() - began, 3)}


@shared_task(bind=True, name="cloudrender.merge")
def merge(self: Task, results: list[dict[str, Any] | None], job: dict[str, Any]) -> dict[str, Any]:
    """Check and concatenate every segment without re-encoding, mux the audio, store output."""
    spec = JobSpec.from_dict(job)
    timeline = spec.timeline()
    storage = open_storage(spec.storage_url)
    chunks = sorted(
        (r for r in results if r is not None and "index" in r), key=lambda r: int(r["index"])
    )
    audio = next((r for r in results if r is not None and "codec" in r), None)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cloudrender-merge-") as tmp:
        segments = [
            (
                _local(storage, c["key"], tmp, f"segment of chunk {c['index']}"),
                int(c["start"]),
                int(c["end"]),
            )
            for c in chunks
        ]
        audio_path = _local(storage, audio["key"], tmp, "audio") if audio else None
        out = os.path.join(tmp, f"output.{spec.output_ext}")
        report = stitch(segments, timeline.fps, out, timeline.export.container, audio_path)
        storage.put_file(spec.output_key, out)
    if not spec.keep_segments:
        for c in chunks:
            storage.delete(c["key"])
        if audio:
            storage.delete(audio["key"])
    return {
        "output_key": spec.output_key,
        "frames": report.frames,
        "bytes": report.bytes,
        "duration": report.duration,
        "drift": report.drift,
        "audio": audio["codec"] if audio else None,
        "encoder": next((c["encoder"] for c in chunks if c.get("encoder")), None),
        "hardware": any(c.get("hardware") for c in chunks),
        "notes": sorted({n for c in chunks for n in c.get("notes", [])}),
        "merge_seconds": round(time.perf_counter() - began, 3),
        "chunks": [{k: c[k] for k in ("index", "start", "end", "node", "seconds")} for c in chunks],
    }


def _local(storage: Any, key: str, tmp: str, what: str) -> str:
    """A local path for a stored object: the object itself on local storage, else a copy."""
    path: str | None = storage.local_path(key)
    if path is not None and os.path.exists(path):
        return path
    dest = os.path.join(tmp, key.replace("/", "_"))
    try:
        storage.get_file(key, dest)
    except ObjectNotFound:
        raise RenderError(f"merge: the {what} is missing from storage ({key})") from None
    return dest


def _node() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"
