"""Request bodies checked against azure-mgmt-compute's own models, as ARM would check them.

The SDK (39.x, generated from TypeSpec) describes each body as a model class: a field per JSON
name (``_attr_to_rest_field``), its type in the class's annotations (``Optional[...]`` when it
may be left out) and its visibility (``["read"]``: set by Azure, never sent). ``check`` walks a
JSON body along that description and raises ``Refused`` for what ARM would refuse: an unknown
field, a value of the wrong JSON type, an enum value the API does not define (compared without
case, as ARM does; VM sizes excepted, whose enum is out of date), a read-only field, or a
required field left out. Then the SDK deserializes
the body into the model (``Model(data).as_dict()``), which must not fail either.

These helpers read the models' metadata, which is private to the SDK; a new generation of the
SDK may need them adapted (the first test of test_azure.py would say so).
"""

from __future__ import annotations

import datetime
import enum
import functools
import types
import typing
from typing import Any, ForwardRef

from azure.mgmt.compute import models
from azure.mgmt.compute._utils.model_base import Model

_NAMESPACE = {"_models": models, "datetime": datetime, **vars(typing)}
#: Enums that list only some of the values ARM takes (VM sizes: only the oldest are listed).
OPEN_ENUMS = frozenset({"VirtualMachineSizeTypes"})


class Refused(Exception):
    """A request ARM would refuse: its HTTP status and ARM error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def check(model: type[Any], body: Any, where: str = "") -> None:
    """`body` is a valid `model` in a request; raise ``Refused`` (400) otherwise."""
    where = where or model.__name__
    _check_type(model, body, where)
    try:
        model(body).as_dict()
    except Exception as exc:  # the SDK's own deserialization: anything it raises is a refusal
        raise Refused(400, "InvalidRequestContent", f"{where}: {exc}") from None


@functools.cache
def fields(model: type[Any]) -> dict[str, tuple[Any, bool, bool]]:
    """JSON name -> (type, required, read-only) of a model's fields."""
    model()  # the SDK gathers the fields on first use
    hints: dict[str, Any] = {}
    for klass in reversed(model.__mro__):
        hints.update(getattr(klass, "__annotations__", {}))
    found = {}
    for attr, field in model._attr_to_rest_field.items():
        kind = _resolve(hints.get(attr, Any))
        optional = _is_optional(kind)
        read_only = field._visibility == ["read"]
        found[field._rest_name] = (kind, not optional and not read_only, read_only)
    return found


def _check_type(kind: Any, value: Any, where: str) -> None:
    kind = _resolve(kind)
    origin = typing.get_origin(kind)
    if kind is Any:
        return
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(kind)):
            return
        enums = [
            a for a in map(_resolve, options) if isinstance(a, type) and issubclass(a, enum.Enum)
        ]
        if enums and str in options:
            _check_enum(enums[0], value, where)
            return
        errors = []
        for option in options:
            try:
                _check_type(option, value, where)
                return
            except Refused as exc:
                errors.append(str(exc))
        raise Refused(400, "InvalidParameter", errors[0])
    if origin is list:
        if not isinstance(value, list):
            raise _wrong(where, "an array", value)
        (item,) = typing.get_args(kind) or (Any,)
        for index, element in enumerate(value):
            _check_type(item, element, f"{where}[{index}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise _wrong(where, "an object", value)
        _, item = typing.get_args(kind) or (str, Any)
        for key, element in value.items():
            _check_type(item, element, f"{where}.{key}")
        return
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        _check_enum(kind, value, where)
        return
    if origin is typing.Literal:
        if value not in typing.get_args(kind):
            raise _wrong(where, f"one of {typing.get_args(kind)}", value)
        return
    if isinstance(kind, type) and issubclass(kind, Model):
        _check_model(kind, value, where)
        return
    _check_scalar(kind, value, where)


def _check_model(model: type[Any], value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise _wrong(where, f"an object ({model.__name__})", value)
    known = fields(model)
    for key, element in value.items():
        if key not in known:
            raise Refused(
                400,
                "InvalidRequestContent",
                f"Could not find member '{key}' on object of type '{model.__name__}' at {where}",
            )
        kind, _, read_only = known[key]
        if read_only:
            raise Refused(400, "InvalidParameter", f"{where}.{key} is read-only and cannot be set")
        _check_type(kind, element, f"{where}.{key}")
    for key, (_, required, _) in known.items():
        if required and key not in value:
            raise Refused(400, "InvalidParameter", f"Required parameter {where}.{key} is missing")


def _check_enum(kind: type[enum.Enum], value: Any, where: str) -> None:
    allowed = [str(member.value) for member in kind]
    if not isinstance(value, str):
        raise _wrong(where, "a string", value)
    if kind.__name__ not in OPEN_ENUMS and value.lower() not in {a.lower() for a in allowed}:
        raise Refused(
            400,
            "InvalidParameter",
            f"The value {value!r} of {where} is not one of {', '.join(allowed)}",
        )


def _check_scalar(kind: Any, value: Any, where: str) -> None:
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind in (str, bytes, datetime.datetime, datetime.timedelta, datetime.date):
        ok = isinstance(value, str)
        if ok and kind is datetime.datetime:
            try:
                datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                ok = False
    else:
        raise AssertionError(f"azure_models cannot check {kind!r} at {where}: adapt it")
    if not ok:
        raise _wrong(where, getattr(kind, "__name__", str(kind)), value)


def _resolve(kind: Any) -> Any:
    """A type with its forward references (``'_models.Sku'``) looked up."""
    if isinstance(kind, str):
        return _resolve(eval(kind, _NAMESPACE))  # noqa: S307 - the SDK's own annotations
    if isinstance(kind, ForwardRef):
        return _resolve(kind.__forward_arg__)
    origin = typing.get_origin(kind)
    if origin is not None:
        args = tuple(_resolve(a) for a in typing.get_args(kind))
        if origin in (typing.Union, types.UnionType):
            return typing.Union[args]  # noqa: UP007 - rebuilt from parts
        if origin is typing.Literal:
            return kind
        return origin[args]
    return kind


def _is_optional(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in (
        typing.get_args(kind)
    )


def _wrong(where: str, expected: str, value: Any) -> Refused:
    return Refused(400, "InvalidRequestContent", f"{where} must be {expected}, not {value!r}")
