"""A worker keeps a rendered segment in the segment cache only under the content key it works
out itself from the job's timeline and the media on its disk (security2 finding 5: a job
document written to Redis by a client carried another user's chunk_keys, and the worker stored
the attacker's frames under them, so the victim's next render showed the attacker's video)."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from chunking.content_audio_key import audio_key
from chunking.content_key import chunk_key
from orchestrator.planning import media_ids
from tests.helpers import file_clip
from tests.media import make_image, make_video, project, video_track
from tests.security.redis_writer import job_document
from workers.cache_use import audio_claim, keep, segment_claim
from workers.encoder import encodes_in_software
from workers.fingerprint import render_fingerprint
from workers.job_spec import JobSpec

STORAGE = "file:///nonexistent-cache-claim-storage"


class Recorder:
    """The hooks keep() reaches: what it put in the cache."""

    def __init__(self) -> None:
        self.puts: list[tuple[str, str]] = []

    def cache_put(self, storage: Any, key: str, path: str) -> None:
        self.puts.append((key, path))


def spec_for(tmp_path: Path, **fields: Any) -> JobSpec:
    """A job of one 0.4 s clip of a video file in ``tmp_path``, keyed for this worker."""
    video = tmp_path / "a.mp4"
    if not video.exists():
        make_video(video, frames=12, size=(64, 36))
    doc = project([video_track("v", [file_clip("c", video, 0, 0.4)])])
    data = job_document(doc, tmp_path, STORAGE, fingerprint=render_fingerprint(), **fields)
    spec = JobSpec.from_dict(data)
    return JobSpec.from_dict({**data, "chunks": [[0, spec.frames]]})


def own_key(spec: JobSpec) -> str:
    """The content key the orchestrator plans the job's one chunk under."""
    timeline = spec.timeline()
    return chunk_key(timeline, 0, spec.frames, media_ids(spec, timeline=timeline), spec.fingerprint)


def test_an_honest_job_keeps_its_segment_under_its_content_key(tmp_path: Path) -> None:
    probe = spec_for(tmp_path)
    spec = JobSpec.from_dict({**probe.to_dict(), "chunk_keys": [own_key(probe)]})
    claim = segment_claim(spec, 0, 0, spec.frames)
    assert claim is not None and claim.key == own_key(probe)
    service = Recorder()
    keep(service, None, spec, claim, "segment.mkv")  # type: ignore[arg-type]
    assert service.puts == [(own_key(probe), "segment.mkv")]


def test_a_job_naming_another_jobs_cache_key_keeps_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    victim = hashlib.sha256(b"someone else's chunk").hexdigest()
    spec = spec_for(tmp_path, chunk_keys=[victim])
    # At WARNING whatever an earlier test left the levels at (a cluster's setup raises them).
    with caplog.at_level(logging.WARNING, logger="workers.cache_use"):
        assert segment_claim(spec, 0, 0, spec.frames) is None
    assert "is not the content key of what it renders here" in caplog.text
    service = Recorder()
    keep(service, None, spec, None, "segment.mkv")  # type: ignore[arg-type]
    assert service.puts == []


def test_another_range_of_the_job_does_not_answer_for_a_chunk(tmp_path: Path) -> None:
    # chunk 0's honest key, claimed for frames the job's chunk 0 does not hold
    probe = spec_for(tmp_path)
    spec = JobSpec.from_dict({**probe.to_dict(), "chunk_keys": [own_key(probe)]})
    assert segment_claim(spec, 0, 1, spec.frames) is None


def test_a_key_made_from_a_misremembered_media_id_keeps_nothing(tmp_path: Path) -> None:
    # The orchestrator keyed the chunk with a content id that is not the file's (a memo in
    # Redis pointing at an attacker's footage): the worker hashes the file and keeps nothing.
    probe = spec_for(tmp_path)
    timeline = probe.timeline()
    forged = {path: "sha256:" + "ab" * 32 for path in media_ids(probe, timeline=timeline)}
    key = chunk_key(timeline, 0, probe.frames, forged, probe.fingerprint)
    spec = JobSpec.from_dict({**probe.to_dict(), "chunk_keys": [key]})
    assert segment_claim(spec, 0, 0, spec.frames) is None


def test_media_replaced_while_the_chunk_rendered_keeps_nothing(tmp_path: Path) -> None:
    probe = spec_for(tmp_path)
    spec = JobSpec.from_dict({**probe.to_dict(), "chunk_keys": [own_key(probe)]})
    claim = segment_claim(spec, 0, 0, spec.frames)
    assert claim is not None
    make_video(tmp_path / "b.mp4", frames=12, size=(64, 36))
    os.replace(tmp_path / "b.mp4", tmp_path / "a.mp4")  # rendered from either, keyed for the old
    service = Recorder()
    keep(service, None, spec, claim, "segment.mkv")  # type: ignore[arg-type]
    assert service.puts == []


def test_the_audio_mix_is_kept_only_under_its_own_key(tmp_path: Path) -> None:
    probe = spec_for(tmp_path)
    timeline = probe.timeline()
    honest = audio_key(timeline, media_ids(probe, timeline=timeline), probe.fingerprint)
    spec = JobSpec.from_dict({**probe.to_dict(), "audio_cache_key": honest})
    claim = audio_claim(spec)
    assert claim is not None and claim.key == honest
    hostile = JobSpec.from_dict({**probe.to_dict(), "audio_cache_key": "cd" * 32})
    assert audio_claim(hostile) is None


def test_a_still_image_is_keyed_by_its_bytes(tmp_path: Path) -> None:
    image = make_image(tmp_path / "s.png", (64, 36), (10, 20, 30, 255))
    doc = project([video_track("v", [file_clip("c", image, 0, 0.4)])])
    data = job_document(doc, tmp_path, STORAGE, fingerprint=render_fingerprint())
    probe = JobSpec.from_dict({**data, "chunks": [[0, data["frames"]]]})
    spec = JobSpec.from_dict({**probe.to_dict(), "chunk_keys": [own_key(probe)]})
    claim = segment_claim(spec, 0, 0, spec.frames)
    assert claim is not None and claim.key == own_key(probe)


def test_an_id_recalled_from_a_shared_memo_does_not_key_the_workers_cache(tmp_path: Path) -> None:
    # The orchestrator's planner in this process read a (forged) id from the memo in Redis;
    # the worker side of the same process still hashes the file itself.
    probe = spec_for(tmp_path)
    timeline = probe.timeline()

    class Forged:
        def recall(self, name: str) -> str:
            return "sha256:" + "ef" * 32

        def remember(self, name: str, content_id: str) -> None:
            raise AssertionError("a recalled id is not remembered again")

    from workers.media_ids import source_id

    clip = timeline.tracks[0].clips[0]
    assert source_id(clip.source, Forged()) == "sha256:" + "ef" * 32  # type: ignore[arg-type]
    forged = {clip.source.path: "sha256:" + "ef" * 32}  # type: ignore[union-attr]
    key = chunk_key(timeline, 0, probe.frames, forged, probe.fingerprint)
    spec = JobSpec.from_dict({**probe.to_dict(), "chunk_keys": [key]})
    assert segment_claim(spec, 0, 0, spec.frames) is None


def test_a_job_asking_for_hardware_encoding_where_none_opens_keeps_the_software_key(
    tmp_path: Path,
) -> None:
    """Encoded in software here, its segment is the one a job not asking would render, and is
    kept under that key (the planner keys it so): toggling the setting reuses the chunks."""
    video = tmp_path / "a.mp4"
    make_video(video, frames=12, size=(64, 36))

    def spec(ask: bool) -> JobSpec:
        doc = project(
            [video_track("v", [file_clip("c", video, 0, 0.4)])],
            settings={"export": {"hardware_acceleration": ask}},
        )
        data = job_document(doc, tmp_path, STORAGE, fingerprint=render_fingerprint())
        return JobSpec.from_dict({**data, "chunks": [[0, data["frames"]]]})

    plain, asking = spec(False), spec(True)
    assert asking.timeline().export.hardware_acceleration
    assert not plain.timeline().export.hardware_acceleration
    if not encodes_in_software(asking.timeline().export):
        pytest.skip("a hardware encoder opens here: such a job is not cached")
    spec = JobSpec.from_dict({**asking.to_dict(), "chunk_keys": [own_key(plain)]})
    claim = segment_claim(spec, 0, 0, spec.frames)
    assert claim is not None and claim.key == own_key(plain)
