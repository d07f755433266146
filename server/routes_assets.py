"""Media uploads without storage credentials: ask what is missing, then send only that.

    POST /v1/assets/missing  {"assets": ["<hex><ext>", ...], "sizes": {"<hex><ext>": n}}
        -> {"missing": [...], "uploads": {"<hex><ext>": {"method", "url", "headers"}}}
    PUT  /v1/assets/<hex><ext>   the raw bytes (no multipart)
        -> 201 {"asset": name, "bytes": n}  (200 when storage already held it)

Any live key may upload: assets are named by their content, so one user's upload is every
user's, and nothing is stored that does not hash to its name and decode as the media its
extension says (``orchestrator.asset_uploads``). ``uploads`` holds pre-signed PUT URLs for the
missing assets whose size the client gave, where the storage signs uploads it checks itself
(S3: the sha256 and length are signed); the others go to ``PUT /v1/assets/<name>`` here, streamed
to a temp file, never held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api_cache import sealed
from orchestrator.asset_uploads import (
    MAX_NAMES,
    AssetUploadError,
    check_sizes,
    missing_assets,
    parse_asset_name,
    receive_asset,
    upload_targets,
)
from providers.storage import Storage, open_storage
from providers.storage.signed import DEFAULT_UPLOAD_SECONDS
from server.auth import CurrentKey, api_of
from server.errors import ApiError, error_responses
from server.limits import declared_length

router = APIRouter(prefix="/v1/assets", tags=["assets"])

AssetName = Annotated[str, Field(max_length=100, description="<64 hex digits of sha256><.ext>")]


class MissingBody(BaseModel):
    """``POST /v1/assets/missing``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    assets: list[AssetName] = Field(
        max_length=MAX_NAMES, description="the project's media by content: <sha256 hex><.ext>"
    )
    sizes: dict[AssetName, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="each asset's size in bytes: needed for a pre-signed upload URL (the URL "
        "is signed for that length) and refused at once above the upload limit",
    )


class UploadTarget(BaseModel):
    """Where to PUT one asset's bytes instead of this service."""

    method: str = "PUT"
    url: str
    headers: dict[str, str] = Field(description="send exactly these (they are signed)")


class MissingAnswer(BaseModel):
    """Which assets storage lacks, and where to send those it can take directly."""

    missing: list[str]
    uploads: dict[str, UploadTarget]


class StoredAsset(BaseModel):
    """An asset stored (201) or already held (200)."""

    asset: str
    bytes: int


@router.post(
    "/missing",
    summary="which of these assets storage lacks, with upload URLs where it signs",
    response_model=MissingAnswer,
    responses=error_responses(
        400,
        413,
        415,
        e400="a malformed asset name",
        e413="a size over the asset limit",
        e415="not JSON, or an extension that is not an allowed media format",
    ),
)
def missing(body: MissingBody, key: CurrentKey, request: Request) -> dict[str, Any]:
    """The named assets storage does not hold; pre-signed PUTs for those it can take itself."""
    settings = request.app.state.settings
    storage = asset_storage(request)
    with _refusals():
        asked = set(body.assets)
        check_sizes(
            {n: s for n, s in body.sizes.items() if n in asked}, settings.api_max_asset_bytes
        )
        absent = missing_assets(storage, body.assets)
        uploads = upload_targets(
            storage,
            absent,
            DEFAULT_UPLOAD_SECONDS,
            sizes=body.sizes,
            allow_unverified=bool(getattr(settings, "api_presign_unverified_uploads", False)),
        )
    return {"missing": absent, "uploads": uploads}


@router.put(
    "/{name}",
    summary="upload one asset: the raw bytes, sha256 checked against the name",
    status_code=201,
    response_model=StoredAsset,
    responses={
        200: {"model": StoredAsset, "description": "storage already held this asset"},
        **error_responses(
            400,
            413,
            415,
            507,
            e400="a bad name, or bytes that do not hash to it",
            e413="larger than the asset limit",
            e415="not an allowed media format, or not the media its extension says",
            e507="the service's disk has no room for the upload (send it again later)",
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def upload(name: str, key: CurrentKey, request: Request) -> JSONResponse:
    """Store the request body as asset ``name`` once it hashes to it and decodes as media."""
    limit: int = request.app.state.settings.api_max_asset_bytes
    with _refusals():
        parse_asset_name(name)  # a bad name is refused before a byte is read
        declared = declared_length(request.headers.get("content-length") or "")
        if declared is not None and declared > limit:
            check_sizes({name: declared}, limit)
        storage = asset_storage(request)
        size, created = await receive_asset(storage, name, request.stream(), limit)
    return JSONResponse({"asset": name, "bytes": size}, status_code=201 if created else 200)


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn an asset refusal into the service's error with its HTTP status."""
    try:
        yield
    except AssetUploadError as exc:
        raise ApiError(str(exc), exc.http_status) from exc


def asset_storage(request: Request) -> Storage:
    """The cluster's storage as this process must write it (encrypted when it holds a key),
    opened once per app (a cloud client is costly to build)."""
    state = request.app.state
    storage: Storage | None = getattr(state, "asset_storage", None)
    if storage is None:
        api = api_of(request)
        if api.storage_url is None:
            raise ApiError(
                "this service has no storage for assets; set CLOUDRENDER_STORAGE_URL", 503
            )
        storage = sealed(open_storage(api.storage_url), api.settings)
        state.asset_storage = storage
    return storage


def stored_assets(request: Request) -> Storage | None:
    """The cluster's asset storage, or None where this service has none."""
    return None if api_of(request).storage_url is None else asset_storage(request)
