"""The figures of a chaos run: per job and per run, from the job records and the events.

Per job: completed, output decoded and compared with the ``--direct`` reference frame by frame,
chunk attempts against chunks, and extra work = frames rendered more than once / frames. Per
run: the totals, wall time (first submit to last job finished, from the job records), and per
kill, freeze or spot notice how and how soon the victim's chunk went elsewhere.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bench.chaos_watch import Events
from bench.support import decode_rgb
from orchestrator.job_record import ChunkState, JobRecord, JobState


def measure(
    label: str,
    reference: list[np.ndarray],
    records: list[JobRecord],
    outputs: list[Path],
    injected: list[dict[str, Any]],
    events: Events,
    timed_out: bool,
) -> dict[str, Any]:
    """The figures of one run."""
    jobs = []
    for record, out in zip(records, outputs, strict=True):
        chunks = record.chunks
        frames = sum(c.frames for c in chunks)
        rendered = sum(c.frames * c.attempts for c in chunks)
        again = sum(c.frames * max(c.attempts - 1, 0) for c in chunks)
        job: dict[str, Any] = {
            "id": record.id,
            "state": str(record.state),
            "completed": record.state is JobState.COMPLETED,
            "frames": record.frames,
            "chunks": len(chunks),
            "attempts": sum(c.attempts for c in chunks),
            "speculative_chunks": sum(1 for c in chunks if c.speculative),
            "crashed_on": sum(len(c.failed_nodes) for c in chunks),
            "frames_rendered": rendered,
            "frames_rendered_again": again,
            "extra_work": round(again / frames, 4) if frames else None,
            "wall_s": round(record.finished_at - record.submitted_at, 2)
            if record.finished_at
            else None,
            "error": record.error,
            "events": dict(events.counts.get(record.id, {})),
        }
        job["identical"], job["output_frames"], job["first_difference"] = compare(
            out, reference, record
        )
        if not job["completed"]:
            job["chunk_states"] = [
                (c.index, str(c.state), (c.node or "").split("@")[0], c.attempts, c.error)
                for c in chunks
                if c.state is not ChunkState.DONE
            ]
        jobs.append(job)
    ends = [r.finished_at for r in records if r.finished_at]
    starts = [r.submitted_at for r in records]
    frames = sum(j["frames"] for j in jobs)
    again = sum(j["frames_rendered_again"] for j in jobs)
    faults = [{k: v for k, v in f.items() if k not in ("node", "time")} for f in injected]
    for fault, raw in zip(faults, injected, strict=True):
        if raw["kind"] == "spot":
            fault["exited_after_s"] = raw["node"].exited_after
            fault["chunk"] = recovery(raw, events.recoveries, ("requeued_evicted",))
        elif raw["kind"] in ("kill", "freeze", "stall", "render", "pool", "main"):
            kinds = ("requeued_lost", "chunk_speculative", "requeued_crashed")
            fault["chunk"] = recovery(raw, events.recoveries, kinds)
    return {
        "label": label,
        "jobs": jobs,
        "faults": faults,
        "faults_by_kind": dict(Counter(f["kind"] for f in faults)),
        "completed": sum(j["completed"] for j in jobs),
        "identical": sum(bool(j["identical"]) for j in jobs),
        "attempts": sum(j["attempts"] for j in jobs),
        "chunks": sum(j["chunks"] for j in jobs),
        "frames_rendered_again": again,
        "extra_work": round(again / frames, 4) if frames else None,
        "wall_s": round(max(ends) - min(starts), 2) if ends and not timed_out else None,
        "timed_out": timed_out,
        "event_reconnects": events.reconnects,
    }


def recovery(fault: dict[str, Any], events: list[dict[str, Any]], kinds: tuple[str, ...]) -> str:
    """How and how soon after a fault the victim's chunk went elsewhere (first such event)."""
    later = sorted(
        (float(e["time"]) - fault["time"], e["kind"])
        for e in events
        if str(e.get("node", "")).split("@")[0] == fault["worker"]
        and e["kind"] in kinds
        and float(e["time"]) >= fault["time"]
    )
    if not later:
        return "none seen"
    delay, kind = later[0]
    return f"{kind.removeprefix('chunk_')} after {delay:.1f}s"


def compare(
    out: Path, reference: list[np.ndarray], record: JobRecord
) -> tuple[bool | None, int | None, int | None]:
    """(bit-identical, frames in the output, first differing frame) of a finished job."""
    if record.state is not JobState.COMPLETED or not out.exists():
        return None, None, None
    ours = decode_rgb(out)
    pairs = enumerate(zip(ours, reference, strict=False))
    first = next((t for t, (a, b) in pairs if not np.array_equal(a, b)), None)
    same = len(ours) == len(reference) == record.frames and first is None
    if first is None and len(ours) != len(reference):
        first = min(len(ours), len(reference))
    return same, len(ours), first
