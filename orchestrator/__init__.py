"""The Celery app, job store, scheduling, the public API and the CLI."""
