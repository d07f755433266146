"""The event stream slots of a server process: refused over the limits, given back however a
stream's answer ends, also when it never started."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.requests import ClientDisconnect

from server.errors import ApiError
from server.stream_slots import HeldStream, StreamSlots


def test_slots_are_refused_over_the_process_and_the_keys_limits() -> None:
    slots = StreamSlots()
    first = slots.take("k1", most=3, most_per_key=2)
    slots.take("k1", most=3, most_per_key=2)
    with pytest.raises(ApiError) as per_key:
        slots.take("k1", most=3, most_per_key=2)
    assert per_key.value.status == 429 and per_key.value.headers == {"Retry-After": "5"}
    assert "holds 2 event streams already" in str(per_key.value)
    slots.take("k2", most=3, most_per_key=2)
    with pytest.raises(ApiError) as in_all:
        slots.take("k3", most=3, most_per_key=2)
    assert in_all.value.status == 503 and "retry shortly" in str(in_all.value)
    first()
    first()  # a release gives back one slot, however often it is called
    assert (slots.total, slots.held("k1"), slots.held("k2")) == (2, 1, 1)


def test_a_stream_whose_client_left_before_it_started_gives_its_slot_back() -> None:
    slots = StreamSlots()
    release = slots.take("k1", most=10, most_per_key=1)

    async def body() -> AsyncIterator[str]:
        yield "never sent"

    async def gone(message: object) -> None:
        raise OSError("the client went away")

    async def receive() -> dict[str, str]:
        return {"type": "http.disconnect"}

    answer = HeldStream(body(), release, media_type="text/event-stream", headers={})
    scope = {"type": "http", "asgi": {"spec_version": "2.4"}, "method": "GET"}
    with pytest.raises(ClientDisconnect):  # Starlette's word for the OSError
        asyncio.run(answer(scope, receive, gone))
    assert slots.total == 0 and slots.held("k1") == 0
