"""The command line: `cloudrender` and its commands, wired to the Python API, the embedded
cluster and the monitoring tools. The top of the house: nothing imports it.
"""

#: Import path of the Celery app worker processes load (cli/worker_app.py), for ``celery -A``.
WORKER_APP = "cli.worker_app:app"
