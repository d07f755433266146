"""The JSON wire format of the Python API's typed results, shared by the HTTP service and its
client: a result crosses HTTP as ``to_wire(result)`` and comes back as ``from_wire(Type, body)``,
so ``HTTPRenderingAPI`` returns the same dataclasses as ``CloudRenderingAPI``.

pydantic's TypeAdapter does both directions from the dataclasses' own annotations; a job record
also carries its computed ``progress`` and ``reused_chunks`` (what ``status --json`` prints).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from common.errors import RenderError
from orchestrator.job_record import JobRecord

T = TypeVar("T")


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(kind: Any) -> TypeAdapter[Any]:
    # building an adapter walks the whole dataclass tree: once per type
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def to_wire(result: Any) -> Any:
    """A typed result (a dataclass, or a list/dict of them) as JSON-ready data."""
    data = _adapter(type(result)).dump_python(result, mode="json")
    if isinstance(result, JobRecord):
        data["progress"] = round(result.progress, 4)
        data["reused_chunks"] = result.reused_chunks
    return data


def from_wire(kind: type[T], data: Any) -> T:
    """Rebuild a typed result of ``kind`` from ``to_wire`` data (a one-line error on a misfit)."""
    try:
        return _adapter(kind).validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise RenderError(
            f"the service answered a {kind.__name__} this client cannot read: {where}: "
            f"{first['msg']}"
        ) from None
