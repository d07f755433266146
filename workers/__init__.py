"""What runs on a render node: decoding, compositing, effects, encoding, audio, stitching, the
Celery task bodies (`tasks`), the task spec they read (`job_spec`), the asset cache, the spot
watcher and this node's own resources (`host`, `gpus`).

May import `common`, `chunking` and `providers`; never `orchestrator`: task bodies talk back
through the `hooks` protocol, which the orchestrator implements (orchestrator.worker_hooks).
"""
