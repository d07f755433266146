"""The Celery app of the signing tests: ours (``make_app``, message signing from the
environment) plus one harmless task that shows it ran by creating a file."""

from __future__ import annotations

from pathlib import Path

from orchestrator.celery_app import make_app

app = make_app()


@app.task(name="tests.security.touch", shared=False)  # type: ignore[untyped-decorator, unused-ignore]
def touch(path: str) -> None:
    """Create ``path``: the proof that a message was executed."""
    Path(path).touch()
