"""Client side of asset transfer: upload a project's media to storage by content hash.

Cloud workers cannot read the editor's disk, so before a job is submitted every media file the
project names is hashed (sha256) and uploaded to ``assets/<hex><ext>`` unless storage already has
that key, and the submitted copy of the document names ``asset:sha256:<hex><ext>`` instead of the
path. A second submit of the same project therefore uploads nothing; a changed file gets a new
hash and is uploaded again. Workers turn the references back into files with
``workers.assets.resolve_assets``.

Input safety comes first, for every clip at once (``orchestrator.asset_checks``): a relative
path must stay inside the project directory (after ``..`` and symlinks are resolved), URLs are
refused (download them first), and each file must be a readable regular file no larger than
``max_bytes`` that a worker would open: an allowed media format (no playlists or file lists,
``workers.media_open``) whose first frames decode (``workers.probe.media_problem``; Pillow for
stills). Absolute paths are accepted, as the loader accepts them: the media check is what keeps
a hostile project from making the client upload, say, a private key, or a playlist that makes a
worker read a file of its own. A document that already holds asset references (synced before)
passes through once storage is confirmed to hold them.

An image sequence (a clip with ``image_sequence``) uploads every image: each is checked like a
file of its own (only the first is decoded; the others must be images of an allowed format), and
the document lists their references in ``image_sequence["assets"]`` (``workers.asset_sequences``).

Checking, hashing and rewriting (``plan_assets``) are apart from moving the bytes, so the same
checks serve ``sync_assets`` (straight to storage, with the cluster's credentials) and the HTTP
client (``orchestrator.http_client``: the service says which assets it lacks, those are sent).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from common.errors import MediaError, ValidationError
from orchestrator.asset_checks import LocalFile, check_file, path_problem, resolve_path
from providers.storage.base import Storage, StorageError
from workers.asset_sequences import sequence_names
from workers.assets import (
    ASSET_KEY_PREFIX,
    ASSET_REF_PREFIX,
    MediaField,
    asset_key,
    asset_name,
    clean_ext,
    copy_document,
    media_fields,
    parse_asset_ref,
    sha256_file,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "AssetPlan",
    "LocalAsset",
    "Stored",
    "SyncResult",
    "asset_key",
    "path_problem",
    "plan_assets",
    "resolve_path",
    "sync_assets",
]

#: Largest single media file a project may upload.
DEFAULT_MAX_BYTES = 50 * 2**30


@dataclass(frozen=True)
class SyncResult:
    """What ``sync_assets`` did: the rewritten document and the bytes it moved."""

    #: a copy of the input with every media path replaced by ``asset:sha256:<hex><ext>``
    document: dict[str, Any]
    #: bytes uploaded now (each distinct asset once)
    uploaded_bytes: int
    #: bytes of distinct assets storage already held
    skipped_bytes: int
    #: each media path as written in the document -> ``sha256:<hex><ext>``
    assets: dict[str, str]


@dataclass(frozen=True)
class LocalAsset:
    """A media file of the project that passed the input checks, to upload under its content
    name (each distinct file once)."""

    #: ``<hex><ext>``: the file name under ``assets/`` (the HTTP service's asset name)
    name: str
    #: the file as the loader resolves it
    path: str
    size: int
    mtime_ns: int
    #: the first clip naming it and the path as written there, for messages
    clip_id: str
    written: str

    @property
    def key(self) -> str:
        """The storage key ``assets/<hex><ext>``."""
        return ASSET_KEY_PREFIX + self.name

    def check_unchanged(self) -> None:
        """Refuse a file saved again after it was hashed: the bytes sent may not be those."""
        try:
            st = os.stat(self.path)
            same = (st.st_size, st.st_mtime_ns) == (self.size, self.mtime_ns)
        except OSError:
            same = False
        if not same:
            raise ValidationError(
                [
                    f"clip {self.clip_id!r}: media file {self.written!r} changed while it was "
                    "being uploaded; save it and submit again"
                ]
            )


@dataclass(frozen=True)
class AssetPlan:
    """A project's media checked and hashed, its document rewritten to asset references: what
    is left is moving ``files`` (``sync_assets`` to storage, ``HTTPRenderingAPI`` over HTTP)."""

    #: a copy of the input with every media path replaced by ``asset:sha256:<hex><ext>``
    document: dict[str, Any]
    #: local files to upload, each distinct asset once, in document order
    files: list[LocalAsset]
    #: names (``<hex><ext>``) the document referred to already, confirmed held; none in files
    refs: list[str]
    #: each media path as written in the document -> ``sha256:<hex><ext>``
    assets: dict[str, str]


#: ``stored(names)``: which of these asset names (``<hex><ext>``) the destination holds.
Stored = Callable[[list[str]], Collection[str]]


def plan_assets(
    document: Mapping[str, Any],
    base_dir: str,
    *,
    stored: Stored,
    holder: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> AssetPlan:
    """Check every media file a project names (all problems at once), hash each distinct file
    and rewrite the document to asset references; nothing is uploaded.

    References the document already holds are confirmed with ``stored``; one it does not hold
    is a problem naming ``holder`` (e.g. "storage s3://bucket").
    """
    doc = copy_document(document)
    problems: list[tuple[int, str]] = []
    expanded: list[str] = []
    fields, sequences = _expand(media_fields(doc), expanded)
    problems += [(-1, problem) for problem in expanded]
    firsts = {id(images[0]) for _, images in sequences}  # a sequence's first image is decoded
    locals_: dict[int, LocalFile] = {}  # index into fields -> checked file
    probed: dict[str, str | None] = {}  # real path -> why it is not media (None: it is)
    known: dict[int, tuple[str, str]] = {}  # index into fields -> (digest, ext) of a ref
    for i, field in enumerate(fields):
        where = f"clip {field.clip_id!r}"
        raw = field.value
        if not isinstance(raw, str):
            problems.append((i, f"{where}: media path must be a string, got {raw!r}"))
        elif raw.startswith(ASSET_REF_PREFIX):
            try:
                known[i] = parse_asset_ref(raw)
            except MediaError as exc:
                problems.append((i, f"{where}: {exc}"))
        else:
            problem = path_problem(raw, base_dir)
            full = resolve_path(raw, base_dir)
            later = field.key != "File" and id(field) not in firsts  # a sequence's later image
            checked = None if problem else check_file(raw, full, max_bytes, probed, later)
            if isinstance(checked, LocalFile):
                locals_[i] = checked
            else:
                problems.append((i, f"{where}: {problem or checked}"))
    referred = sorted({digest + ext for digest, ext in known.values()})
    held = set(stored(referred)) if referred else set()
    for i, (digest, ext) in known.items():
        if digest + ext not in held:
            problems.append(
                (
                    i,
                    # Both ways in: a script over HTTP uploads, a CLI user resubmits files.
                    f"clip {fields[i].clip_id!r}: {fields[i].value} is not in {holder}; upload "
                    "it first (POST /v1/assets/missing, then PUT /v1/assets/<hex><ext>) or "
                    "submit the project from its original media files",
                )
            )
    if problems:
        raise ValidationError([problem for _, problem in sorted(problems, key=lambda p: p[0])])

    digests = _hash_all(fields, locals_)
    files: dict[str, LocalAsset] = {}
    assets: dict[str, str] = {}
    for i, local in locals_.items():
        field = fields[i]
        digest, ext = digests[local.real], clean_ext(local.full)
        name = digest + ext
        if name not in files:
            written = str(field.value)
            files[name] = LocalAsset(
                name, local.full, local.size, local.mtime_ns, field.clip_id, written
            )
        assets[str(field.value)] = asset_name(digest, ext)
        field.holder[field.key] = ASSET_REF_PREFIX + asset_name(digest, ext)
    refs: list[str] = []
    for i, (digest, ext) in known.items():
        if digest + ext not in files and digest + ext not in refs:
            refs.append(digest + ext)
        assets[str(fields[i].value)] = asset_name(digest, ext)
    for field, images in sequences:
        names = [str(image.value) for image in images]
        field.holder[field.key] = names[0]
        assert field.sequence is not None
        field.sequence["assets"] = names
    return AssetPlan(doc, list(files.values()), refs, assets)


def sync_assets(
    document: Mapping[str, Any],
    base_dir: str,
    storage: Storage,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> SyncResult:
    """Upload the media a project names (each distinct file once) and rewrite it to asset refs."""

    def stored(names: list[str]) -> list[str]:
        return [name for name in names if storage.exists(ASSET_KEY_PREFIX + name)]

    plan = plan_assets(
        # The storage is named, not located: over HTTP a user must not learn where it lies.
        document,
        base_dir,
        stored=stored,
        holder="storage",
        max_bytes=max_bytes,
    )
    uploaded = skipped = 0
    for asset in plan.files:
        if _upload(storage, asset):
            uploaded += asset.size
        else:
            skipped += asset.size
    for name in plan.refs:
        skipped += _stored_size(storage, ASSET_KEY_PREFIX + name) or 0
    return SyncResult(plan.document, uploaded, skipped, plan.assets)


def _expand(
    fields: list[MediaField], problems: list[str]
) -> tuple[list[MediaField], list[tuple[MediaField, list[MediaField]]]]:
    """The fields to check and upload one by one: an image sequence's field becomes one per
    image (each in a holder of its own), listed with it in the second result."""
    out: list[MediaField] = []
    sequences: list[tuple[MediaField, list[MediaField]]] = []
    for field in fields:
        raw = field.value
        if field.sequence is None or not isinstance(raw, str):
            out.append(field)
            continue
        try:
            names = sequence_names(field.sequence)
        except MediaError as exc:
            problems.append(f"clip {field.clip_id!r}: {exc}")
            continue
        if raw.startswith(ASSET_REF_PREFIX):
            values: list[object] = field.sequence.get("assets") or []
            if not isinstance(values, list) or len(values) != len(names) or values[0] != raw:
                problems.append(
                    f"clip {field.clip_id!r}: image_sequence assets must list its "
                    f"{len(names)} images' references, the first being its file"
                )
                continue
        else:
            folder = os.path.dirname(raw)
            values = [os.path.join(folder, name) if folder else name for name in names]
        images = [MediaField(field.clip_id, {"image": v}, "image") for v in values]
        out += images
        sequences.append((field, images))
    return out, sequences


def _hash_all(fields: list[MediaField], locals_: dict[int, LocalFile]) -> dict[str, str]:
    """sha256 of each distinct file (by real path); every read failure reported together."""
    digests: dict[str, str] = {}
    problems: list[str] = []
    for i, local in locals_.items():
        if local.real in digests:
            continue
        try:
            digests[local.real] = sha256_file(local.full)
        except OSError as exc:
            digests[local.real] = ""
            problems.append(
                f"clip {fields[i].clip_id!r}: media file {fields[i].value!r} cannot be read: "
                f"{exc.strerror or exc}"
            )
    if problems:
        raise ValidationError(problems)
    return digests


def _upload(storage: Storage, asset: LocalAsset) -> bool:
    """Put the file under its key unless storage holds it whole already; True if uploaded."""
    # A same-size object is trusted: the key is its hash. A different size is a truncated
    # upload from an interrupted client, which would otherwise block the key for good.
    if storage.exists(asset.key) and _stored_size(storage, asset.key) == asset.size:
        return False
    storage.put_file(asset.key, asset.path)
    try:
        asset.check_unchanged()
    except ValidationError:
        # The bytes stored may not be the bytes hashed; leaving them would poison the key.
        storage.delete(asset.key)
        raise
    return True


def _stored_size(storage: Storage, key: str) -> int | None:
    """The object's size, or None when storage cannot tell."""
    try:
        return storage.size(key)
    except StorageError:
        # e.g. encrypted storage unsure of a remote object's framing: uploading again is safe.
        return None
