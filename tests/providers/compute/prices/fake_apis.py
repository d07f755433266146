"""Local fakes of the price APIs, serving the hand-made responses in tests/data/prices/: the AWS
Price List Query API (JSON protocol over POST), the Cloud Billing Catalog API and the Azure
Retail Prices API (GET with query strings). Each records the requests it answered."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.providers.compute.fake_http import JsonServer, Reply

DATA = Path(__file__).resolve().parents[3] / "data" / "prices"


def recorded(name: str) -> Any:
    """One of the hand-made responses in tests/data/prices/."""
    return json.loads((DATA / name).read_text())


class FakePriceList(JsonServer):
    """``AWSPriceListService.GetProducts``: TERM_MATCH filters over the recorded products,
    ``page_size`` products a page with a ``NextToken``."""

    def __init__(self, page_size: int = 100) -> None:
        super().__init__()
        self.products: list[dict[str, Any]] = recorded("aws_pricing_products.json")
        self.page_size = page_size
        self.requests: list[dict[str, Any]] = []

    def respond(
        self, verb: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> Reply:
        if headers.get("X-Amz-Target") != "AWSPriceListService.GetProducts":
            return Reply(400, {"__type": "UnknownOperationException"})
        body = json.loads(raw)
        with self.lock:
            self.requests.append(body)
        filters = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
        matched = [
            p
            for p in self.products
            if all(p["product"]["attributes"].get(k) == v for k, v in filters.items())
        ]
        start = int(body.get("NextToken") or 0)
        size = min(self.page_size, int(body.get("MaxResults") or 100))
        reply: dict[str, Any] = {
            "FormatVersion": "aws_v1",
            "PriceList": [json.dumps(p) for p in matched[start : start + size]],
        }
        if start + size < len(matched):
            reply["NextToken"] = str(start + size)
        return Reply(200, reply)


class FakeBillingCatalog(JsonServer):
    """``GET /v1/services/6F81-5844-456A/skus``: the two recorded pages, for a request that
    carries ``key`` or ``Authorization: Bearer token``."""

    PATH = "/v1/services/6F81-5844-456A/skus"

    def __init__(self, key: str = "test-key", token: str = "test-token") -> None:
        super().__init__()
        self.key, self.token = key, token
        self.pages = {
            "": recorded("gcp_skus_page1.json"),
            "page-2": recorded("gcp_skus_page2.json"),
        }
        self.requests: list[dict[str, list[str]]] = []

    def respond(
        self, verb: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> Reply:
        with self.lock:
            self.requests.append(query)
        if verb != "GET" or path != self.PATH:
            return Reply(404, {"error": {"code": 404, "message": f"{path} not found"}})
        if (
            query.get("key") != [self.key]
            and headers.get("Authorization") != f"Bearer {self.token}"
        ):
            return Reply(
                403,
                {
                    "error": {
                        "code": 403,
                        "message": "The request is missing a valid API key.",
                        "status": "PERMISSION_DENIED",
                    }
                },
            )
        if query.get("currencyCode") != ["USD"]:
            return Reply(400, {"error": {"code": 400, "message": "currencyCode must be USD"}})
        page = self.pages.get((query.get("pageToken") or [""])[0])
        if page is None:
            return Reply(400, {"error": {"code": 400, "message": "invalid page token"}})
        return Reply(200, page)


_CLAUSE = re.compile(r"(\w+) eq '((?:[^']|'')*)'")
#: $filter field -> Items[] field
_FIELDS = {"priceType": "type"}


class FakeRetailPrices(JsonServer):
    """``GET /api/retail/prices?$filter=...``: the recorded items matching every ``eq`` clause,
    ``page_size`` a page, the next page linked with ``$skip`` and the port written out."""

    PATH = "/api/retail/prices"

    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = recorded("azure_retail_items.json")
        self.page_size = page_size
        self.requests: list[dict[str, list[str]]] = []
        #: answer every request with this instead (a failing API)
        self.fail_with: Reply | None = None

    @property
    def url(self) -> str:
        """The API's URL on this server."""
        return self.endpoint + self.PATH

    def respond(
        self, verb: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> Reply:
        with self.lock:
            self.requests.append(query)
        if self.fail_with is not None:
            return self.fail_with
        if path != self.PATH:
            return Reply(404, {"Message": f"{path} not found"})
        odata = (query.get("$filter") or [""])[0]
        clauses = {_FIELDS.get(k, k): v.replace("''", "'") for k, v in _CLAUSE.findall(odata)}
        matched = [i for i in self.items if all(i.get(k) == v for k, v in clauses.items())]
        skip = int((query.get("$skip") or ["0"])[0])
        page = matched[skip : skip + self.page_size]
        link = None
        if skip + self.page_size < len(matched):
            rest = {"$filter": odata, "$skip": str(skip + self.page_size)}
            link = f"{self.endpoint}{self.PATH}?{urlencode(rest)}"
        body = {
            "BillingCurrency": "USD",
            "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail",
            "Items": page,
            "NextPageLink": link,
            "Count": len(page),
        }
        return Reply(200, body)
