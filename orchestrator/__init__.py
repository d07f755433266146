"""The service around the render nodes: the Celery app and its configuration, the job record
(`job_record`) and its Redis store (`job_store`, keys in `keys`), the implementation of the
workers' hooks (`worker_hooks`), planning and dispatch, scheduling, failover (`health` decides,
`failover` acts), costing and statistics, asset sync, the embedded local cluster, and the public
Python API (`api`).

May import `common`, `chunking`, `providers` and `workers`; never `monitoring` or `cli`.
"""
