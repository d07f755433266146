"""The routes that take a user's project in their JSON body read it with each object's keys
given once (``common.json_keys``): FastAPI's parser keeps the last of two values under one key
silently, so ``{"project": {"tracks": [...], "tracks": [...]}}`` would render what its author
did not mean. Such a body is answered 400 naming the key's path in the body."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from common.json_keys import loads_unique


class UniqueKeysRoute(APIRoute):
    """An APIRoute whose JSON body is refused (TimelineError) when an object repeats a key."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, after the body's keys are checked."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            body = await request.body()  # kept by the request: FastAPI reads it once more
            if body:
                try:
                    loads_unique(body, "the request body")
                except (ValueError, RecursionError):
                    pass  # not JSON: FastAPI's own reading says what is wrong with it
            return await handler(request)

        return checked
