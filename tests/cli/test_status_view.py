"""How `cloudrender status` shows a job's end."""

from __future__ import annotations

import io

from cli.status_view import ProgressBar, plural, render_status
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState


def test_a_completed_job_names_its_output() -> None:
    job = JobRecord(id="j1", state=JobState.COMPLETED, output="/renders/film.mp4", result={})
    assert render_status(job, now=1.0).splitlines()[-1] == "output: /renders/film.mp4"


def test_a_video_that_was_not_delivered_is_shown_with_how_to_fetch_it() -> None:
    job = JobRecord(
        id="j1",
        state=JobState.COMPLETED,
        output="/renders/film.mp4",
        result={"delivery_error": "the video was not delivered to /renders/film.mp4: full"},
    )
    lines = render_status(job, now=1.0).splitlines()
    assert lines[-2:] == [
        "warning: the video was not delivered to /renders/film.mp4: full",
        "the video is kept: cloudrender download j1 -o FILE",
    ]


def test_the_jobs_notes_are_shown_as_render_prints_them() -> None:
    job = JobRecord(
        id="j1",
        state=JobState.COMPLETED,
        output="/renders/film.mp4",
        result={},
        notes=["the mix clipped: lower the tracks' volume"],
    )
    lines = render_status(job, now=1.0).splitlines()
    assert lines[-2:] == [
        "note: the mix clipped: lower the tracks' volume",
        "output: /renders/film.mp4",
    ]


def test_plural() -> None:
    """The CLI printed "on 1 workers", "1 tracks" and "1 slots on 1 node"."""
    assert [plural(n, "slot") for n in (0, 1, 2)] == ["0 slots", "1 slot", "2 slots"]


def reusing_job(now: float) -> JobRecord:
    """600 frames, 10 s into rendering: 480 reused from the segment cache at the start, 60 of
    the 120 left rendered since (6 fps)."""
    return JobRecord(
        id="j1",
        state=JobState.RENDERING,
        frames=600,
        frames_done=540,
        started_at=now - 10,
        chunks=[
            ChunkRecord(0, 0, 480, ChunkState.DONE, frames_done=480, reused=True),
            ChunkRecord(1, 480, 600, ChunkState.RUNNING, frames_done=60, started_at=now - 10),
        ],
    )


def test_frames_from_the_segment_cache_do_not_count_as_speed() -> None:
    # Before: "540/600 frames  54.0 fps  ETA 1s" for a chunk that needs another 10 s
    line = render_status(reusing_job(100.0), now=100.0).splitlines()[1]
    assert line.endswith("540/600 frames  6.0 fps  ETA 10s"), line


def test_the_progress_bar_counts_reused_frames_as_done_but_not_as_speed() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar.began -= 10  # ten seconds into the render
    bar.update(540, 600, reused=480)
    assert "540/600 frames   6.0 fps ETA  10.0s" in stream.getvalue(), stream.getvalue()


def test_a_300_digit_cost_limit_is_shown_in_a_few_digits() -> None:
    """`submit --max-cost 111...1` (300 digits) made `status` print all 300 of them."""
    limit = float("1" * 300)
    job = JobRecord(id="j1", state=JobState.QUEUED, estimated_cost=0.5, max_cost=limit)
    line = render_status(job, now=1.0).splitlines()[2]
    assert line == "cost so far $0.0000 (estimate $0.5000, limit $1.111e+299)"
