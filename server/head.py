"""``HEAD`` on every ``GET`` resource: RFC 9110 asks a server to answer HEAD wherever it answers
GET, with the headers GET would send and no body. The API's own GET routes answered 405 (a
monitor probing ``HEAD /v1/jobs/{id}`` took a live job for an error).

Routes that declare their own HEAD (the download's: its size without the redirect) keep it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match


class HeadAsGet:
    """ASGI middleware: a HEAD that no route takes, on a path a GET route takes, is answered as
    that GET with its body left out (an event stream ends after its headers)."""

    def __init__(self, app: Any, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        #: the app's routes (the live list: routes added later count too)
        self.routes = routes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass the request on, as a GET where only GET takes it, and drop its body."""
        if scope["type"] != "http" or scope["method"] != "HEAD" or not self._only_get(scope):
            await self.app(scope, receive, send)
            return
        answered = False

        async def sending(message: Any) -> None:
            nonlocal answered
            if answered:
                return  # the rest of a body (a stream's next events): HEAD sends none
            if message["type"] == "http.response.start":
                await send(message)
                return
            answered = True
            # The end of the answer; the server then tells the app the client is gone, which
            # ends an event stream that would otherwise run on with nobody reading.
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, sending)

    def _only_get(self, scope: Any) -> bool:
        """Whether no route takes this HEAD, and a GET route takes its path."""
        if any(route.matches(scope)[0] is Match.FULL for route in self.routes):
            return False
        as_get = {**scope, "method": "GET"}
        return any(route.matches(as_get)[0] is Match.FULL for route in self.routes)
