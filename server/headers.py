"""Headers every answer of the API carries: nothing a key can read is kept by a cache, and no
browser sniffs a JSON answer into something else."""

from __future__ import annotations

from typing import Any

_API = "/v1/"


class PrivateAnswers:
    """ASGI middleware: ``Cache-Control: no-store`` (unless the route set its own) and
    ``X-Content-Type-Options: nosniff`` on every ``/v1/`` answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass the request on; add the headers to its answer's start."""
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(_API):
            await self.app(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
