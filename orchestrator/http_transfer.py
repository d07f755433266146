"""Bytes over HTTP for the client: media uploads streamed from disk, video downloads streamed
to disk (resumed with ``Range`` after a broken connection), and the Server-Sent Events format.

Nothing here holds a whole file in memory: uploads and downloads move 1 MiB blocks.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from common.errors import RenderError
from orchestrator.assets import LocalAsset

__all__ = [
    "BLOCK",
    "ServerSentEvent",
    "fetch_to_file",
    "parse_sse",
    "upload_file",
]

#: Bytes read from disk or the network at a time.
BLOCK = 1 << 20
#: Times a download is asked for again (for the bytes still missing) after a broken connection.
DOWNLOAD_ATTEMPTS = 5
#: Redirects a download follows (the service's one to a pre-signed URL, and a few more).
MAX_REDIRECTS = 5
#: Seconds before the first retry of a broken download; doubled for each later one.
RETRY_DELAY = 0.5


# -- Server-Sent Events ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event of an ``text/event-stream``."""

    #: the ``event:`` field ("message" when absent)
    event: str
    #: the ``data:`` lines joined with newlines
    data: str
    #: the last ``id:`` seen in the stream so far (what ``Last-Event-ID`` resumes after)
    id: str | None = None
    #: the ``retry:`` reconnection time in milliseconds, when the stream set one
    retry: int | None = None

    def json(self) -> Any:
        """The data parsed as JSON; RenderError naming the event when it is not JSON."""
        try:
            return json.loads(self.data)
        except ValueError:
            raise RenderError(
                f"the service sent a {self.event!r} event whose data is not JSON: "
                f"{self.data[:80]!r}"
            ) from None


def parse_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Events from the lines of an event stream, as the WHATWG HTML standard parses them:
    ``data:`` lines of one event are joined with "\\n", lines starting with ":" are comments
    (keep-alives), one space after the colon is dropped, an ``id`` persists until replaced (one
    holding NUL is ignored), a blank line dispatches, and an event cut off by the end of the
    stream is discarded."""
    data: list[str] = []
    event = ""
    last_id: str | None = None
    retry: int | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data), last_id, retry)
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\x00" not in value:
            last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)


# -- uploads -----------------------------------------------------------------------------------


def upload_file(
    client: httpx.Client,
    method: str,
    url: str,
    asset: LocalAsset,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send the asset's file as the raw body of one request, streamed from disk."""

    def blocks() -> Iterator[bytes]:
        with open(asset.path, "rb") as handle:
            while block := handle.read(BLOCK):
                yield block

    # A declared length, not chunked encoding: pre-signed PUTs (S3, GCS) refuse chunked bodies.
    sent = httpx.Headers(headers or {})
    sent.setdefault("Content-Length", str(asset.size))
    return client.request(method, url, content=blocks(), headers=sent)


# -- downloads ---------------------------------------------------------------------------------


def fetch_to_file(
    client: httpx.Client,
    url: str,
    path: str,
    *,
    error: Callable[[httpx.Response], Exception],
    route: Callable[[str], tuple[httpx.Client, str]],
    attempts: int = DOWNLOAD_ATTEMPTS,
    delay: float = RETRY_DELAY,
) -> int:
    """GET ``url`` into the file ``path`` (created or truncated), following redirects through
    ``route(url)`` (which picks the client: a pre-signed URL must not get the API key); after a
    broken connection ask for the rest with ``Range`` (or for all of it again if the server will
    not resume). Returns the bytes written; ``error(response)`` is raised for an error answer,
    the last transport error when every attempt broke."""
    written = 0
    hops = 0
    attempt = 0
    with open(path, "wb") as out:
        while True:
            headers = {"Range": f"bytes={written}-"} if written else {}
            try:
                with client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect and hops < MAX_REDIRECTS:
                        hops += 1
                        location = response.url.join(response.headers["location"])
                        client, url = route(str(location))
                        continue
                    if not response.is_success:
                        response.read()
                        raise error(response)
                    if not (written and _resumes_at(response, written)):
                        out.seek(0)
                        out.truncate()
                        written = 0
                    for block in response.iter_bytes():
                        out.write(block)
                        written += len(block)
                    return written
            except httpx.TransportError:
                attempt += 1
                if attempt >= attempts:
                    raise
                out.flush()
                time.sleep(delay * 2 ** (attempt - 1))


def _resumes_at(response: httpx.Response, offset: int) -> bool:
    """Whether a ranged answer continues exactly at ``offset`` (206 ``bytes offset-...``)."""
    if response.status_code != 206:
        return False
    unit, _, rest = response.headers.get("content-range", "").partition(" ")
    start = rest.split("-", 1)[0]
    return unit.lower() == "bytes" and start.isdigit() and int(start) == offset


def part_path(destination: str) -> str:
    """The file a download is written to before it is renamed into place."""
    folder, name = os.path.split(os.path.abspath(destination))
    return os.path.join(folder, f".{name}.part")
