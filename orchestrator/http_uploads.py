"""The HTTP client's media uploads (a part of HTTPRenderingAPI): the project vetted and named
by content (``orchestrator.http_project``), the service asked which assets it lacks
(``POST /v1/assets/missing``), and only those sent, each streamed from disk: to the pre-signed
URL the service hands out where its storage signs uploads (without the API key), else to
``PUT /v1/assets/<hex><ext>`` on the service itself. The service checks each hash on arrival;
a file saved again while it was being sent is refused here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from chunking.timeline.project import Project
from common.errors import ValidationError
from common.settings import Settings
from common.urls import redact_url
from orchestrator.assets import LocalAsset
from orchestrator.http_errors import (
    AuthenticationFailed,
    PermissionDenied,
    answer_error,
    unreachable,
)
from orchestrator.http_project import prepare_http_project
from orchestrator.http_transfer import upload_file

__all__ = ["AssetTransfer", "HTTPAssetUploads"]

#: Asset names asked about per request.
MISSING_BATCH = 1000


@dataclass(frozen=True)
class AssetTransfer:
    """What the last submit or estimate moved: the assets uploaded and the bytes."""

    uploaded: list[str] = field(default_factory=list)
    uploaded_bytes: int = 0
    #: bytes of the project's media the service held already
    skipped_bytes: int = 0


class HTTPAssetUploads:
    """Upload methods of HTTPRenderingAPI; they need its clients, ``_call`` and ``_route``."""

    settings: Settings
    api_url: str
    _client: httpx.Client
    _plain: httpx.Client
    #: what the last submit_job or estimate_options uploaded
    last_transfer: AssetTransfer | None

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        job: bool = False,
    ) -> Any:
        """Implemented by HTTPRenderingAPI."""
        raise NotImplementedError

    def _route(self, url: str) -> tuple[httpx.Client, str]:
        """Implemented by HTTPRenderingAPI."""
        raise NotImplementedError

    def _send_project(
        self,
        project: str | Mapping[str, Any] | Project,
        settings: Mapping[str, Any] | None,
        base_dir: str | None,
        output: str | None,
    ) -> dict[str, Any]:
        """The project's document for the service, after uploading the media it lacks."""
        prepared = prepare_http_project(
            project,
            settings,
            base_dir,
            output,
            max_frame_bytes=self.settings.max_frame_bytes,
            stored=self._held,
            holder=f"the service's storage ({redact_url(self.api_url)})",
        )
        files = prepared.plan.files
        missing, targets = self._missing([asset.name for asset in files], files)
        sent = [asset for asset in files if asset.name in missing]
        for asset in sent:
            self._upload(asset, targets.get(asset.name))
        uploaded = sum(asset.size for asset in sent)
        skipped = sum(asset.size for asset in files) - uploaded
        self.last_transfer = AssetTransfer([a.name for a in sent], uploaded, skipped)
        return prepared.document

    def _missing(
        self, names: list[str], files: Sequence[LocalAsset] = ()
    ) -> tuple[set[str], dict[str, Any]]:
        """Which of these assets the service lacks, and where to upload each (pre-signed: the
        service signs an upload for its size, so the sizes of local ``files`` go along)."""
        sizes = {asset.name: asset.size for asset in files}
        missing: set[str] = set()
        targets: dict[str, Any] = {}
        for start in range(0, len(names), MISSING_BATCH):
            batch = names[start : start + MISSING_BATCH]
            body: dict[str, Any] = {"assets": batch}
            if sizes:
                body["sizes"] = {name: sizes[name] for name in batch if name in sizes}
            answer = self._call("POST", "/v1/assets/missing", json=body)
            missing.update(str(name) for name in answer.get("missing", []))
            targets.update(answer.get("uploads") or {})
        return missing, targets

    def _held(self, names: list[str]) -> list[str]:
        missing = self._missing(names)[0]
        return [name for name in names if name not in missing]

    def _upload(self, asset: LocalAsset, target: Mapping[str, Any] | None) -> None:
        """Send one asset: to its pre-signed URL, else to the service itself."""
        if target and target.get("url"):
            client, url = self._route(str(target["url"]))
            method = str(target.get("method") or "PUT")
            headers = {str(k): str(v) for k, v in (target.get("headers") or {}).items()}
        else:
            client, url, method = self._client, f"/v1/assets/{quote(asset.name)}", "PUT"
            headers = {"Content-Type": "application/octet-stream"}
        where = f"clip {asset.clip_id!r}: media file {asset.written!r}"
        try:
            response = upload_file(client, method, url, asset, headers)
        except httpx.TransportError as exc:
            raise unreachable(self.api_url, exc) from None
        except OSError as exc:
            raise ValidationError([f"{where} cannot be read: {exc.strerror or exc}"]) from None
        if not response.is_success:
            error = answer_error(response)
            if isinstance(error, AuthenticationFailed | PermissionDenied) or error.transient:
                raise error
            raise ValidationError([f"{where} was not uploaded: {error}"])
        asset.check_unchanged()
