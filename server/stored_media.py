"""A submitted project's uploaded media, checked as ``cloudrender validate`` checks local files.

The project arrives naming assets (``server.projects``: read over empty placeholder files), so
nothing about the media themselves was known at submit: a sound file on a video track, or an
``audio_stream`` the file lacks, was queued, rendered, and failed on a worker with the worker's
cache path in the error; and an audio-only output whose sound is in video clips was refused as
silent (the placeholders hold no stream). Where storage keeps each asset as a file on this
disk (a shared directory), the project's clips are pointed at those files, linked into a
private folder for the request, and checked by ``workers.probe.media_report``: each problem
refused naming its clip and asset reference, each warning (a clip playing past its file)
answered with the job. Assets in a bucket or encrypted are not fetched at submit: each clip
is checked against what probing its asset at upload showed (``orchestrator.asset_probes``:
recorded beside it; an asset without a record is fetched and probed once), with the same
words; damage inside a file, which only decoding the clips' ranges finds, is left to workers.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from chunking.timeline.model import Clip, FileSource, Timeline, TrackKind
from chunking.timeline.project import Project
from common.errors import ValidationError
from orchestrator.asset_probes import asset_facts
from providers.storage.base import Storage, StorageError
from workers.assets import asset_key, is_asset_ref, parse_asset_ref
from workers.probe_headers import MediaFacts, clip_warnings

#: Probe records read at once from cloud storage.
_PARALLEL_PROBES = 16


@contextmanager
def stored_media(storage: Storage | None, project: Project) -> Iterator[Project]:
    """``project`` over its assets' stored files for the with block, its media checked:
    ValidationError naming each clip that cannot play its asset, warnings added to its timeline.
    Where an asset is not a file on this disk, its clips are checked against its recorded probe
    (``recorded_report``), the project left as it is; unchanged without storage."""
    refs = _clip_refs(project.timeline)
    files = _stored_files(storage, refs)
    if not files:
        if storage is None or not refs:
            yield project
            return
        # In a bucket or encrypted: checked against what probing each asset showed.
        problems, warnings = recorded_report(storage, project.timeline, refs)
        if problems:
            raise ValidationError(problems)
        yield _warned(project, warnings)
        return
    from workers.probe import media_report  # the codec stack: only for a request with media

    with tempfile.TemporaryDirectory(prefix="cloudrender-api-") as folder:
        for ref, path in files.items():
            os.symlink(path, os.path.join(folder, ref))
        # Messages name the asset reference, never this server's folders.
        named = [(os.path.join(folder, ""), ""), *((path, ref) for ref, path in files.items())]

        def shown(line: str) -> str:
            for place, name in named:
                line = line.replace(place, name)
            return line

        # The project was read once (over placeholders, which hold what the loader reads: a
        # name); its clips are pointed at the links rather than the document read again, which
        # more than doubled the check's time (9,000 clips: 3.3 s of CPU, now 1.5 s).
        timeline = _linked(project.timeline, folder, files)
        problems, warnings = media_report(timeline, _common_dir(files))
        if problems:
            raise ValidationError([shown(p) for p in problems])
        linked = dataclasses.replace(project, base_dir=folder, timeline=timeline)
        yield _warned(linked, list(map(shown, warnings)))


def _warned(project: Project, warnings: list[str]) -> Project:
    """``project`` with those of ``warnings`` its timeline does not say yet added to it."""
    timeline = project.timeline
    added = tuple(dict.fromkeys(w for w in warnings if w not in timeline.warnings))
    timeline = dataclasses.replace(timeline, warnings=(*timeline.warnings, *added))
    return dataclasses.replace(project, timeline=timeline)


def recorded_report(
    storage: Storage, timeline: Timeline, refs: list[str]
) -> tuple[list[str], list[str]]:
    """What ``workers.probe.media_report`` says of the clips playing ``refs``, from each
    asset's recorded probe (``orchestrator.asset_probes``) rather than its file: the problems,
    and the warnings (with a note for each asset that could not be checked). What only decoding
    the clips' ranges finds (damage inside a file) is left to the workers."""
    names = [digest + ext for digest, ext in map(parse_asset_ref, refs)]
    # One GET each on cloud storage: in parallel, as ``missing_assets`` asks.
    with ThreadPoolExecutor(min(_PARALLEL_PROBES, len(names))) as pool:
        got = dict(zip(refs, pool.map(lambda n: asset_facts(storage, n), names), strict=True))
    problems: list[str] = []
    warnings = [
        f"asset {ref} was not checked at submit: {why}; its workers report what is wrong with it"
        for ref, why in got.items()
        if isinstance(why, str)
    ]
    for track in timeline.tracks:
        if not track.enabled or track.kind is TrackKind.SUBTITLE:
            continue
        audible = not track.muted and track.volume != 0
        for clip in track.clips:
            if not isinstance(clip.source, FileSource):
                continue
            ref = os.path.basename(clip.source.path)
            facts = got.get(ref)
            if facts is None or isinstance(facts, str):
                continue
            problem = _clip_problem(facts, clip, track.kind, audible, ref)
            if problem is not None:
                problems.append(f"clip {clip.id!r}: {problem}")
                continue
            warnings += [
                f"clip {clip.id!r}: {w}"
                for w in clip_warnings(clip, facts, timeline.fps, track.kind)
            ]
    return problems, warnings


def _clip_problem(
    facts: MediaFacts, clip: Clip, kind: TrackKind, audible: bool, ref: str
) -> str | None:
    """What the render would refuse of a clip playing the asset ``facts`` tell of, in
    ``media_report``'s words (a picture on a video track, the sound it plays)."""
    from workers.probe import clip_problem  # the codec stack: only for a request with media

    plays = audible and not clip.muted and clip.volume != 0
    problem = clip_problem(facts, kind, plays and not clip.audio_stream)
    if problem is not None:
        return problem
    number = clip.audio_stream or 0
    if plays and 0 < number and facts.audio_streams <= number:
        have = f"{facts.audio_streams} audio stream{'' if facts.audio_streams == 1 else 's'}"
        return f"audio_stream {number} does not exist: {ref} has {have} (numbered from 0)"
    return None


def _linked(timeline: Timeline, folder: str, files: dict[str, str]) -> Timeline:
    """``timeline`` with each clip playing an asset read from ``folder``'s link to it (a
    placeholder's path ends in the reference it stands for)."""

    def clip(item: Clip) -> Clip:
        source = item.source
        if not isinstance(source, FileSource) or os.path.basename(source.path) not in files:
            return item
        path = os.path.join(folder, os.path.basename(source.path))
        return dataclasses.replace(item, source=dataclasses.replace(source, path=path))

    tracks = tuple(
        dataclasses.replace(track, clips=tuple(map(clip, track.clips))) for track in timeline.tracks
    )
    return dataclasses.replace(timeline, tracks=tracks)


def _clip_refs(timeline: Timeline) -> list[str]:
    """The asset references the clips play (a placeholder's name): any other string of the
    document that looks like one (a note in its metadata) switched the whole check off."""
    names = {
        os.path.basename(clip.source.path)
        for track in timeline.tracks
        for clip in track.clips
        if isinstance(clip.source, FileSource)
    }
    return sorted(name for name in names if is_asset_ref(name))


def _stored_files(storage: Storage | None, refs: list[str]) -> dict[str, str]:
    """Each reference's stored file on this disk; empty unless every one has a file."""
    if storage is None or not refs:
        return {}
    files = {}
    for ref in refs:
        try:
            path = storage.local_path(asset_key(*parse_asset_ref(ref)))
        except StorageError:
            return {}  # ciphertext: the workers decrypt it
        if path is None or not os.path.isfile(path):
            return {}
        files[ref] = path
    return files


def _common_dir(files: dict[str, str]) -> str:
    """The folder holding every stored file (storage's ``assets/``), where the checks name them."""
    return os.path.commonpath([os.path.dirname(os.path.realpath(p)) for p in files.values()])
