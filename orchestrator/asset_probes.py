"""What probing an uploaded asset showed, kept in storage beside it for the submit checks.

An asset's bytes never change (its name is their sha256), so what opening it and decoding its
first frames showed (``workers.probe.examine``: its kind, streams, length, sound) holds for
ever. The upload check records it as ``assets/<hex><ext>.probe.json``, and a submit or estimate
checks each clip against the record of its asset (``server.stored_media``) where storage keeps
the asset in a bucket or encrypted, instead of downloading the whole file. An asset with no
record (uploaded before records were kept, or PUT straight to a bucket through a pre-signed
URL) is fetched and probed once, then recorded.

Messages in a record name the asset by its reference (``asset:sha256:<hex><ext>``), never a
path of the machine that probed it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import threading
from typing import Any

from common.errors import MediaError
from providers.storage.base import ObjectNotFound, Storage, StorageError
from workers.assets import ASSET_KEY_PREFIX, ASSET_REF_PREFIX, asset_name
from workers.probe_headers import MediaFacts

#: A record's name after its asset's key: in the ``assets/`` area, where no job output may be
#: delivered (``workers.output_rules``) and no upload name (``<hex><ext>``) reaches.
PROBE_SUFFIX = ".probe.json"
#: The record's format; a record of another version is probed again.
PROBE_VERSION = 1
#: Largest asset a submit fetches to probe when it has no record: a bigger one is accepted
#: unchecked with a note (fetching it would hold the request for minutes).
FETCH_LIMIT_BYTES = 2 * 2**30

#: Media probes that decode at once in one process, at upload or at submit: a small file may
#: decode to a large picture (an 8192x8192 PNG of 269 KB is 256 MiB decoded; six at once took
#: 1.5 GiB).
CHECKS_AT_ONCE = 2
_checking = threading.BoundedSemaphore(CHECKS_AT_ONCE)

#: Records this process keeps once read (by storage URL and asset name): the bytes under a
#: name never change, and reading each of a project's records again at every submit took
#: 4 s for 300 assets on a local S3.
KEPT_RECORDS = 20_000
_kept: dict[tuple[str, str], MediaFacts] = {}
_kept_lock = threading.Lock()

#: The facts a record keeps (``used`` is per clip: never recorded).
_FIELDS = tuple(f.name for f in dataclasses.fields(MediaFacts) if f.name != "used")


def probe_key(name: str) -> str:
    """The storage key of asset ``name``'s (``<hex><ext>``) probe record."""
    return f"{ASSET_KEY_PREFIX}{name}{PROBE_SUFFIX}"


def probe_file(path: str, name: str) -> MediaFacts:
    """What opening the file ``path`` of asset ``name`` as the render does shows, its messages
    naming the asset's reference instead of ``path``."""
    from workers.probe import examine  # the codec stack: only where media are opened

    with _checking:
        facts = examine(path, spans=[])
    ref = ASSET_REF_PREFIX + _ref_body(name)
    return dataclasses.replace(
        facts,
        **{
            f: getattr(facts, f).replace(path, ref)
            for f in ("opened", "video", "audio", "layout")
            if getattr(facts, f) is not None
        },
    )


def upload_problem(facts: MediaFacts) -> str | None:
    """Why an upload whose probe showed ``facts`` is refused, as ``workers.probe.media_problem``
    words it (None: it is media a render can use)."""
    if facts.image:
        return None if facts.opened is None else f"is not a readable image ({facts.opened})"
    if facts.opened is not None:
        return f"is not a media file a render can use ({facts.opened})"
    if not facts.has_video and not facts.has_audio:
        return "has no video or audio stream"
    for problem in (facts.video if facts.has_video else None, facts.audio):
        if problem is not None:
            return f"is not a media file a render can use ({problem})"
    return None


def to_record(facts: MediaFacts) -> dict[str, Any]:
    """The JSON record of ``facts``."""
    return {"version": PROBE_VERSION, **{f: getattr(facts, f) for f in _FIELDS}}


def from_record(record: object) -> MediaFacts | None:
    """The facts a record holds, or None when it is not a record of this version."""
    if not isinstance(record, dict) or record.get("version") != PROBE_VERSION:
        return None
    try:
        return MediaFacts(**{f: record[f] for f in _FIELDS})
    except (KeyError, TypeError):
        return None


def save_probe(storage: Storage, name: str, facts: MediaFacts) -> None:
    """Record ``facts`` as asset ``name``'s probe (atomic: readers see it whole or not)."""
    fd, tmp = tempfile.mkstemp(prefix="asset-probe-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(to_record(facts), out)
        storage.put_file(probe_key(name), tmp)
    finally:
        os.unlink(tmp)
    with _kept_lock:  # e.g. a truncated object's, replaced by the whole one's
        _kept.pop((storage.url, name), None)


def load_probe(storage: Storage, name: str) -> MediaFacts | None:
    """Asset ``name``'s recorded probe, or None where none is recorded (or it is unreadable)."""
    fd, tmp = tempfile.mkstemp(prefix="asset-probe-", suffix=".json")
    os.close(fd)
    try:
        storage.get_file(probe_key(name), tmp)
        with open(tmp, encoding="utf-8") as held:
            return from_record(json.load(held))
    except (ObjectNotFound, ValueError, UnicodeDecodeError):
        return None
    finally:
        os.unlink(tmp)


def asset_facts(storage: Storage, name: str) -> MediaFacts | str | None:
    """Asset ``name``'s probe: recorded, else fetched, probed and recorded now; or why it could
    not be had (too large to fetch at submit, storage failing), for a note; None where storage
    does not hold the asset (the submit's own check names each clip playing it)."""
    kept = _kept.get((storage.url, name))
    if kept is not None:
        return kept
    facts = _asset_facts(storage, name)
    if isinstance(facts, MediaFacts):
        with _kept_lock:
            if len(_kept) >= KEPT_RECORDS:
                _kept.pop(next(iter(_kept)))  # the oldest kept
            _kept[(storage.url, name)] = facts
    return facts


def _asset_facts(storage: Storage, name: str) -> MediaFacts | str | None:
    """``asset_facts`` read from storage."""
    try:
        recorded = load_probe(storage, name)
        if recorded is not None:
            return recorded
        try:
            size = storage.size(ASSET_KEY_PREFIX + name)
        except ObjectNotFound:
            return None
        if size > FETCH_LIMIT_BYTES:
            return f"it is too large to fetch for a check at submit ({size} bytes)"
        with tempfile.TemporaryDirectory(prefix="asset-probe-") as folder:
            # The extension decides how it is opened (a still by Pillow), as on a worker.
            path = os.path.join(folder, "asset" + os.path.splitext(name)[1])
            storage.get_file(ASSET_KEY_PREFIX + name, path)
            facts = probe_file(path, name)
        save_probe(storage, name, facts)
        return facts
    except (StorageError, MediaError, OSError) as exc:
        return f"it could not be read from storage ({exc})"


def _ref_body(name: str) -> str:
    """``sha256:<hex><ext>`` of an asset name ``<hex><ext>``."""
    digest, ext = os.path.splitext(name)
    return asset_name(digest, ext)
