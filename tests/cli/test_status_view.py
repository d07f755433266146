"""How `cloudrender status` shows a job's end."""

from __future__ import annotations

from cli.status_view import plural, render_status
from orchestrator.job_record import JobRecord, JobState


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


def test_plural() -> None:
    """The CLI printed "on 1 workers", "1 tracks" and "1 slots on 1 node"."""
    assert [plural(n, "slot") for n in (0, 1, 2)] == ["0 slots", "1 slot", "2 slots"]
