"""Live GCP figures from the Cloud Billing Catalog API: the SKUs of the Compute Engine service
(``services/6F81-5844-456A/skus``), over plain HTTPS with an API key or an OAuth token.

Google prices a predefined machine type as components, and so does this module: a machine's
hourly price is **vCPUs x the series' core SKU + memory GiB x its RAM SKU + GPUs x the GPU
SKU** (G2's L4 is billed as its own SKU too; ``n1-standard-8+nvidia-tesla-t4`` adds one T4 to
an N1). What is summed is only that: no boot disk, no network, no OS licence, and no discount
(N1's automatic sustained-use discount, committed use) — the list price, like the shipped one.

A SKU is chosen by its description, ``"<component> running in <place>"`` with ``"Spot
Preemptible "`` in front for Spot (``category.usageType`` "Preemptible", else "OnDemand"), and
by ``serviceRegions`` holding the offer's region. The component names (``SERIES``, ``GPUS``)
are the descriptions as known to us in 2025; a SKU Google names differently is reported as
missing, never priced from a neighbour. A SKU's price is its current ``pricingInfo``'s single
tier: ``unitPrice.units + unitPrice.nanos / 1e9`` dollars per ``usageUnit`` ("h" for cores and
GPUs, "GiBy.h" for memory).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from providers.compute.prices.api import Fetched, PriceApiError, get_json, one_line
from providers.compute.prices.catalogue import Offer

ENDPOINT = "https://cloudbilling.googleapis.com"
#: The Compute Engine service's id in the Billing Catalog.
COMPUTE_SERVICE = "services/6F81-5844-456A"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: Description of each series' core and RAM SKUs, without " Core" / " Ram".
SERIES = {
    "n1": "N1 Predefined Instance",
    "g2": "G2 Instance",
    "c3": "C3 Instance",
    "c2d": "C2D AMD Instance",
}
GPUS = {"T4": "Nvidia Tesla T4 GPU", "L4": "Nvidia L4 GPU"}
SPOT_PREFIX = "Spot Preemptible "
_DESCRIPTION = re.compile(r"^(?P<spot>Spot Preemptible )?(?P<name>.+?) running in (?P<place>.+)$")
_UNITS = {"Core": "h", "Ram": "GiBy.h", "GPU": "h"}
#: Pages of at most 5000 SKUs; Compute Engine has a few thousand, so this bound is generous.
MAX_PAGES = 50


def fetch_gcp(
    offers: Iterable[Offer],
    *,
    endpoint: str = ENDPOINT,
    api_key: str | None = None,
    token: str | None = None,
    token_source: Callable[[], tuple[str, str | None]] | None = None,
    timeout: float = 30.0,
) -> Fetched:
    """On-demand and Spot figures for GCP offers. Authenticates with ``api_key``, else
    ``token``, else ``token_source()`` (default: Application Default Credentials), which
    returns a token and the quota project to bill the call to."""
    offers = list(offers)
    fetched = Fetched()
    if not offers:
        return fetched
    try:
        query: dict[str, str] = {"key": api_key} if api_key else {}
        headers = {} if api_key else _bearer(token, token_source)
        index = SkuIndex(list_skus(endpoint, query, headers, timeout))
    except PriceApiError as exc:
        fetched.failed["gcp"] = str(exc)
        return fetched
    api = "Cloud Billing Catalog API (Compute Engine SKUs: cores + memory + GPUs)"
    if endpoint != ENDPOINT:
        api += f" at {endpoint}"
    for offer in offers:
        for market in ("on-demand", "spot") if offer.spot is not None else ("on-demand",):
            try:
                price = machine_price(index, offer, market)
            except PriceApiError as exc:
                fetched.failed[f"{offer.key} ({market})"] = str(exc)
                continue
            if market == "spot":
                fetched.add(offer.key, spot=price, spot_api=api)
            else:
                fetched.add(offer.key, on_demand=price, on_demand_api=api)
    return fetched


def list_skus(
    endpoint: str, query: Mapping[str, str], headers: Mapping[str, str], timeout: float
) -> Iterator[Mapping[str, Any]]:
    """Every SKU of the Compute Engine service, page by page."""
    token = ""
    for _ in range(MAX_PAGES):
        page_query = {"currencyCode": "USD", "pageSize": "5000", **query}
        if token:
            page_query["pageToken"] = token
        url = f"{endpoint.rstrip('/')}/v1/{COMPUTE_SERVICE}/skus?{urlencode(page_query)}"
        page = get_json(url, headers, timeout)
        if not isinstance(page, dict) or not isinstance(page.get("skus", []), list):
            raise PriceApiError("the Billing Catalog answered without a 'skus' list", wide=True)
        yield from (s for s in page.get("skus", []) if isinstance(s, dict))
        token = str(page.get("nextPageToken") or "")
        if not token:
            return
    raise PriceApiError(f"the Billing Catalog kept paging past {MAX_PAGES} pages", wide=True)


class SkuIndex:
    """SKUs by (component name, market, region)."""

    def __init__(self, skus: Iterable[Mapping[str, Any]]) -> None:
        self.skus: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
        for sku in skus:
            category = sku.get("category") or {}
            usage = category.get("usageType")
            match = _DESCRIPTION.match(str(sku.get("description", "")))
            if match is None or usage not in ("OnDemand", "Preemptible"):
                continue  # commitments, sole tenancy, licences...
            if bool(match["spot"]) != (usage == "Preemptible"):
                continue  # a description and a usage type that disagree: trust neither
            market = "spot" if match["spot"] else "on-demand"
            for region in sku.get("serviceRegions") or ():
                self.skus.setdefault((match["name"], market, str(region)), []).append(sku)

    def price(self, name: str, market: str, region: str, unit: str) -> float:
        """Dollars per ``unit`` of the one SKU named so in that market and region."""
        found = self.skus.get((name, market, region), [])
        described = f"{SPOT_PREFIX if market == 'spot' else ''}{name} running in ..."
        if not found:
            raise PriceApiError(f"no SKU '{described}' for {region}")
        prices = {sku_price(sku, unit) for sku in found}
        if len(prices) > 1:
            listed = ", ".join(f"{p:g}" for p in sorted(prices))
            raise PriceApiError(f"several SKUs '{described}' for {region} disagree: {listed}")
        return prices.pop()


def machine_price(index: SkuIndex, offer: Offer, market: str) -> float:
    """vCPUs x core + GiB x RAM + GPUs x GPU, in dollars per hour (6 decimals)."""
    machine = offer.instance_type.partition("+")[0]
    series = SERIES.get(machine.split("-")[0])
    if series is None:
        raise PriceApiError(f"no SKU names known for the {machine.split('-')[0]} series")
    total = offer.vcpus * index.price(f"{series} Core", market, offer.region, _UNITS["Core"])
    total += offer.memory_gb * index.price(f"{series} Ram", market, offer.region, _UNITS["Ram"])
    if offer.gpu is not None:
        gpu = GPUS.get(offer.gpu)
        if gpu is None:
            raise PriceApiError(f"no SKU name known for the {offer.gpu} GPU")
        total += offer.gpus * index.price(gpu, market, offer.region, _UNITS["GPU"])
    return round(total, 6)


def sku_price(sku: Mapping[str, Any], unit: str) -> float:
    """The current price of a single-tier SKU in dollars per ``unit``."""
    name = sku.get("skuId", "?")
    try:
        info = max(sku["pricingInfo"], key=lambda i: str(i.get("effectiveTime", "")))
        expression = info["pricingExpression"]
        tiers = expression["tieredRates"]
        if expression.get("usageUnit") != unit:
            raise PriceApiError(
                f"SKU {name}: priced per {expression.get('usageUnit')!r}, expected {unit!r}"
            )
        if len(tiers) != 1:
            raise PriceApiError(f"SKU {name}: {len(tiers)} price tiers, expected one")
        money = tiers[0]["unitPrice"]
        if money.get("currencyCode", "USD") != "USD":
            raise PriceApiError(f"SKU {name}: priced in {money['currencyCode']}, not USD")
        price = int(money.get("units") or 0) + int(money.get("nanos") or 0) / 1e9
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise PriceApiError(f"SKU {name}: unexpected pricingInfo ({one_line(exc)})") from None
    if price <= 0:
        raise PriceApiError(f"SKU {name}: price {price} is not positive")
    return price


def _bearer(
    token: str | None, token_source: Callable[[], tuple[str, str | None]] | None
) -> dict[str, str]:
    """Authorization headers from a token, else from the token source."""
    project = None
    if not token:
        token, project = (token_source or adc_token)()
    headers = {"Authorization": f"Bearer {token}"}
    if project:
        headers["x-goog-user-project"] = project
    return headers


def adc_token() -> tuple[str, str | None]:
    """An access token (and quota project) from Application Default Credentials."""
    import google.auth
    import google.auth.exceptions
    import google.auth.transport.requests

    credentials: Any = None
    try:
        credentials, _ = google.auth.default(scopes=[SCOPE])
        credentials.refresh(google.auth.transport.requests.Request())
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise PriceApiError(
            f"no GCP credentials ({one_line(exc, 160)}): run `gcloud auth application-default "
            "login` or set GOOGLE_APPLICATION_CREDENTIALS",
            wide=True,
        ) from None
    except google.auth.exceptions.GoogleAuthError as exc:
        raise PriceApiError(
            f"cannot get a GCP access token: {one_line(exc, 160)}", wide=True
        ) from None
    return str(credentials.token), getattr(credentials, "quota_project_id", None)
