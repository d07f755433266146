"""What a private render does while its cluster's workers start (``EmbeddedCluster``'s
meanwhile): the project vetted, the cluster's client made and connected, and what the submit
computes (the cache fingerprint, keyframe gaps, the media probes) kept for this process. The
workers are the slowest part of a render's start: this work, which needs none of them, takes
its duration off the wait on them and off the submit they then wait on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from chunking.timeline.project import Project

if TYPE_CHECKING:
    # The client's API stack (redis-py, the Celery app, the planner: 0.3-0.6 s on a 2-core
    # machine): imported here, once the workers are spawned.
    from orchestrator.api import CloudRenderingAPI


@dataclasses.dataclass(frozen=True)
class Warmed:
    """What a private render made while its workers started: its client, and the project as
    ``vet`` returned it."""

    api: CloudRenderingAPI
    project: Project


def prewarm(
    project: Project,
    chunk_frames: int | None,
    use_cache: bool,
    vet: Callable[[Project], Project] | None,
    keep: Callable[[Warmed], object],
    url: str,
    storage_url: str,
) -> None:
    """Vet the project, make the client of the private cluster at `url` (``keep`` takes both)
    and do now what submitting the job would do first: run while the cluster's workers start,
    it takes its own duration off the wait on them, and off the submit the workers then wait
    on."""
    # First: its warnings are said, and --strict refuses them, before anything slower.
    if vet is not None:
        project = vet(project)
    # The workers are spawned by now: this client's own imports no longer delay them.
    from orchestrator.api import CloudRenderingAPI

    api = CloudRenderingAPI(url, storage_url=storage_url)
    warm_sending(api)
    keep(Warmed(api, project))
    # Each is kept per process, and none depends on the workers: the code and libraries'
    # fingerprint (the cache keys' part, a few tenths of a second of hashing), each video's
    # keyframe gap (the plan's minimum chunk, read from the files), and what the submit's quote
    # and estimate read of each file (its picture size and sound: orchestrator.estimate_inputs).
    if use_cache:
        from workers.fingerprint import render_fingerprint  # the codec stack: only when rendering

        render_fingerprint()
    if chunk_frames is None:
        from workers.probe_keyframes import min_chunk_frames

        min_chunk_frames(project.timeline)
    from orchestrator.estimate_inputs import MediaFacts, audio_work, source_sizes

    facts = MediaFacts()
    source_sizes(project.timeline, facts)
    audio_work(project.timeline, facts)


def warm_sending(api: CloudRenderingAPI) -> None:
    """Connect `api` to its Redis, and ready its Celery app to send the job's plan task: the
    first send loaded the result backend and the broker transport (entry points, imports) and
    connected, 0.1-0.2 s of a submit the idle workers waited on."""
    api.store.redis.ping()
    _ = api.app.backend
    with api.app.producer_or_acquire() as producer:
        _ = producer.connection.default_channel
