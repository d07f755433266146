"""What a cloud's price source hands back to ``refresh``, its one-line failure, and the plain
HTTPS GET the Billing Catalog and Retail Prices fetchers share (urllib: no SDK needed)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from common.errors import RenderError

#: Seconds per HTTP request unless the caller says otherwise.
DEFAULT_TIMEOUT = 30.0


class PriceApiError(RenderError):
    """A price API failed or gave no usable figure; the one-line message says which and what
    to do. ``wide``: the failure stops every further call to that API (no credentials,
    unreachable, refused), rather than touching one offer."""

    transient = True

    def __init__(self, message: str, *, wide: bool = False) -> None:
        super().__init__(message)
        self.wide = wide


@dataclass(frozen=True)
class Figures:
    """Live prices of one offer (dollars per hour; None: this source did not give it) and the
    API each came from."""

    on_demand: float | None = None
    spot: float | None = None
    on_demand_api: str = ""
    spot_api: str = ""


@dataclass
class Fetched:
    """What one cloud's fetcher found: figures by offer key, and what it could not find, by
    scope (an offer key, or ``provider/region``) with a one-line reason."""

    figures: dict[str, Figures] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, **figures: Any) -> None:
        """Merge figures for one offer into what was found before."""
        old = self.figures.get(key, Figures())
        self.figures[key] = Figures(**{**old.__dict__, **figures})


def one_line(text: object, limit: int = 300) -> str:
    """A message squeezed onto one line and cut to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def get_json(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Any:
    """The JSON body of a GET; raises ``PriceApiError`` naming the host (never the query, which
    may hold an API key) and the server's reason."""
    host = urlsplit(url).netloc or url
    request = urllib.request.Request(url, headers={"Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            body = reply.read()
    except urllib.error.HTTPError as exc:
        message = f"HTTP {exc.code} from {host}: {_reason(exc)}"
        raise PriceApiError(message, wide=True) from None
    except urllib.error.URLError as exc:
        raise PriceApiError(f"cannot reach {host}: {one_line(exc.reason)}", wide=True) from None
    except TimeoutError:
        raise PriceApiError(f"{host} did not answer within {timeout:g} s", wide=True) from None
    except OSError as exc:
        raise PriceApiError(f"cannot reach {host}: {one_line(exc)}", wide=True) from None
    try:
        return json.loads(body)
    except ValueError:
        raise PriceApiError(f"{host} answered with something that is not JSON", wide=True) from None


def _reason(exc: urllib.error.HTTPError) -> str:
    """The error message of a Google or Azure error body, else the HTTP reason phrase."""
    try:
        body = json.loads(exc.read() or b"null")
    except (ValueError, OSError):
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return one_line(error["message"])
        if isinstance(body.get("Message"), str):
            return one_line(body["Message"])
    return one_line(exc.reason)


def same_origin(url: str, endpoint: str) -> bool:
    """Whether a paging link points at the endpoint's scheme, host and port (Azure writes the
    default port out: ``https://prices.azure.com:443/...``)."""
    a, b = urlsplit(url), urlsplit(endpoint)
    defaults = {"http": 80, "https": 443}
    return (
        a.scheme == b.scheme
        and a.hostname == b.hostname
        and (a.port or defaults.get(a.scheme)) == (b.port or defaults.get(b.scheme))
    )


def unit_price(value: object, what: str) -> float:
    """A price from the API's text or number, checked to be a finite positive dollar figure."""
    try:
        price = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PriceApiError(f"{what}: {value!r} is not a price") from None
    if not price > 0 or price == float("inf"):
        raise PriceApiError(f"{what}: {value!r} is not a positive price")
    return price
