"""The Compute API's discovery document (shipped with google-api-python-client) as a request
checker: which method a request calls, and whether its parameters and body fit the method.

A request that does not fit raises ``Refused`` with the 400 (or 404) and the reason Google gives.
The checks: the method exists (HTTP verb and path); its required query parameters are present;
no unknown query parameter is sent; each value has its declared type (int64 as a decimal
string), format and enum value; the body holds only fields of the request schema, recursively,
none of them output-only, and every field the document marks required for that method.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import googleapiclient

DISCOVERY = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "compute.v1.json"
)
PREFIX = "/compute/v1/"
BASE_URL = "https://www.googleapis.com/compute/v1/"
#: Query parameters the client library adds that are not in the document.
CLIENT_PARAMETERS = {"$alt"}


class Refused(Exception):
    """A request the real API would refuse: the HTTP status and Google's error reason."""

    def __init__(self, status: int, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


@functools.cache
def discovery() -> dict[str, Any]:
    """The Compute API's discovery document."""
    data: dict[str, Any] = json.loads(DISCOVERY.read_text())
    return data


@functools.cache
def routes() -> list[tuple[str, re.Pattern[str], dict[str, Any]]]:
    """(HTTP verb, path pattern, method) of every method, the most literal paths first."""
    found = []
    for resource in discovery()["resources"].values():
        for method in resource.get("methods", {}).values():
            path = method.get("flatPath") or method["path"]
            pattern = "".join(
                f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{\w+\})", path)
            )
            literals = sum(1 for part in path.split("/") if not part.startswith("{"))
            found.append((literals, method["httpMethod"], re.compile(f"^{pattern}$"), method))
    found.sort(key=lambda r: -r[0])
    return [(verb, regex, method) for _, verb, regex, method in found]


def match(verb: str, path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The discovery method a request calls, and its path parameters."""
    if not path.startswith(PREFIX):
        raise Refused(404, f"no Compute API method at {path}", "notFound")
    rest = path[len(PREFIX) :]
    for route_verb, regex, method in routes():
        found = regex.match(rest)
        if found and route_verb == verb:
            return method, found.groupdict()
    raise Refused(404, f"no Compute API method {verb} {path}", "notFound")


def check_query(method: dict[str, Any], query: dict[str, list[str]]) -> dict[str, str]:
    """The query parameters, each known to the method and typed; required ones present."""
    params = method.get("parameters", {})
    common = discovery()["parameters"]
    values = {}
    for name, given in query.items():
        spec = params.get(name) or common.get(name)
        if spec is None and name not in CLIENT_PARAMETERS:
            raise Refused(
                400, f"Invalid JSON payload received. Unknown name {name!r}: {method['id']}"
            )
        if spec is not None and spec.get("location") == "path":
            raise Refused(400, f"{name} is a path parameter of {method['id']}, not a query one")
        value = given[-1]
        if spec is not None:
            check_value(spec, value if spec.get("type") == "string" else _query_json(value), name)
        values[name] = value
    for name, spec in params.items():
        if spec.get("required") and spec.get("location") == "query" and name not in values:
            raise Refused(400, f"Required parameter {name!r} of {method['id']} is missing")
    return values


def check_body(method: dict[str, Any], raw: bytes) -> dict[str, Any] | None:
    """The request body, validated against the method's request schema."""
    request = method.get("request")
    if request is None:
        if raw.strip():
            raise Refused(400, f"{method['id']} takes no request body")
        return None
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise Refused(400, f"Invalid JSON payload received: {exc}", "parseError") from None
    if not isinstance(body, dict):
        raise Refused(400, f"{method['id']} needs a JSON object of {request['$ref']}")
    check_schema(discovery()["schemas"][request["$ref"]], body, request["$ref"], method["id"])
    return body


def check_schema(schema: dict[str, Any], value: Any, where: str, method_id: str = "") -> None:
    """`value` fits `schema` (a schema object or a property): types, fields, enums, required."""
    if "$ref" in schema:
        schema = {
            **discovery()["schemas"][schema["$ref"]],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            raise Refused(400, f"Invalid value at {where!r}: expected an object, got {value!r}")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            spec = properties.get(key)
            if spec is None and extra is None:
                raise Refused(
                    400, f"Invalid JSON payload received. Unknown name {key!r} at {where!r}"
                )
            spec = spec if spec is not None else extra
            if spec.get("readOnly") and properties.get(key) is spec:
                raise Refused(400, f"Field {where}.{key} is output only and cannot be set")
            check_schema(spec, item, f"{where}.{key}", method_id)
        for key, spec in properties.items():
            required = spec.get("annotations", {}).get("required", [])
            if method_id in required and key not in value:
                raise Refused(400, f"Required field {where}.{key} is missing for {method_id}")
        return
    if kind == "array":
        if not isinstance(value, list):
            raise Refused(400, f"Invalid value at {where!r}: expected a list, got {value!r}")
        for index, item in enumerate(value):
            check_schema(schema.get("items", {}), item, f"{where}[{index}]", method_id)
        return
    check_value(schema, value, where)


def check_value(spec: dict[str, Any], value: Any, where: str) -> None:
    """A scalar fits its type, format and enum."""
    kind, fmt = spec.get("type"), spec.get("format")
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "any": True,
    }.get(str(kind), False)
    if ok and kind == "string" and fmt in ("int64", "uint64"):
        ok = re.fullmatch(r"-?\d+", value) is not None
    if ok and kind == "integer" and fmt in ("uint32",):
        ok = value >= 0
    if not ok:
        raise Refused(
            400, f"Invalid value at {where!r} ({kind}{'/' + fmt if fmt else ''}): {value!r}"
        )
    if "enum" in spec and value not in spec["enum"]:
        raise Refused(400, f"Invalid value at {where!r}: {value!r} is not one of {spec['enum']}")


def _query_json(value: str) -> Any:
    """A query string value as the JSON scalar it stands for."""
    if value in ("true", "false"):
        return value == "true"
    try:
        return int(value)
    except ValueError:
        return value
