"""A job's name: the project's, as one bounded line (listings and every dashboard show it)."""

from __future__ import annotations

import pytest

from orchestrator.submission import MAX_JOB_NAME, job_name


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Holiday film", "Holiday film"),
        ("two\nlines\t and  tabs", "two lines and tabs"),
        ("", ""),
        ("x" * MAX_JOB_NAME, "x" * MAX_JOB_NAME),
        ("x" * 8_000_000, "x" * (MAX_JOB_NAME - 1) + "…"),
        ("\u202eevil\u202c", "evil"),  # a direction override showed it as "live"
        ("a\u200bb\x00c\x1bd", "abcd"),  # zero-width and control characters
        ("Café \u05e9\u05dc\u05d5\u05dd", "Café \u05e9\u05dc\u05d5\u05dd"),  # letters stay
    ],
)
def test_job_name(name: str, label: str) -> None:
    assert job_name(name) == label
