"""Live Azure figures from the Retail Prices API (``https://prices.azure.com/api/retail/prices``):
public, no credentials.

One query per size and region: ``$filter=serviceName eq 'Virtual Machines' and priceType eq
'Consumption' and armRegionName eq '<region>' and armSkuName eq '<size>'``, following
``NextPageLink`` (only to the same host). Of the ``Items``, hourly USD Consumption prices count;
Windows lines (``productName`` ending in "Windows") are left out, so what remains is Linux. A
``skuName`` ending in " Spot" is the Spot price, one ending in " Low Priority" (Batch's old
low-priority VMs) is left out, and the rest is pay-as-you-go. Where several lines of one kind
remain, the one with the latest ``effectiveStartDate`` is the current price.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from providers.compute.prices.api import (
    Fetched,
    PriceApiError,
    get_json,
    same_origin,
    unit_price,
)
from providers.compute.prices.catalogue import Offer

ENDPOINT = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"
#: A bound on NextPageLink hops for one size and region (a handful of lines each).
MAX_PAGES = 20


def fetch_azure(
    offers: Iterable[Offer], *, endpoint: str = ENDPOINT, timeout: float = 30.0
) -> Fetched:
    """Pay-as-you-go and Spot figures for Azure offers; an unreachable or failing API stops
    the rest (listed once as ``azure``), keeping what was fetched before."""
    fetched = Fetched()
    api = "Azure Retail Prices API (Consumption, Linux)"
    if endpoint != ENDPOINT:
        api += f" at {endpoint}"
    for offer in offers:
        try:
            items = list(retail_items(endpoint, offer.region, offer.instance_type, timeout))
            prices = linux_prices(items, offer.instance_type, offer.region)
        except PriceApiError as exc:
            if exc.wide:
                fetched.failed["azure"] = str(exc)
                return fetched
            fetched.failed[offer.key] = str(exc)
            continue
        if "on-demand" in prices:
            fetched.add(offer.key, on_demand=prices["on-demand"], on_demand_api=api)
        else:
            fetched.failed[f"{offer.key} (on-demand)"] = "no Linux pay-as-you-go line"
        if "spot" in prices and offer.spot is not None:
            fetched.add(offer.key, spot=prices["spot"], spot_api=api)
        elif offer.spot is not None:
            fetched.failed[f"{offer.key} (spot)"] = "no Linux Spot line"
    return fetched


def retail_items(
    endpoint: str, region: str, size: str, timeout: float
) -> Iterator[Mapping[str, Any]]:
    """Every Consumption line of a VM size in a region, over all pages."""
    odata = (
        "serviceName eq 'Virtual Machines' and priceType eq 'Consumption' "
        f"and armRegionName eq '{_quoted(region)}' and armSkuName eq '{_quoted(size)}'"
    )
    url = f"{endpoint}?{urlencode({'api-version': API_VERSION, '$filter': odata})}"
    for _ in range(MAX_PAGES):
        page = get_json(url, timeout=timeout)
        if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
            raise PriceApiError("the Retail Prices API answered without an 'Items' list", wide=True)
        yield from (item for item in page["Items"] if isinstance(item, dict))
        url = page.get("NextPageLink") or ""
        if not url:
            return
        if not same_origin(url, endpoint):
            raise PriceApiError(f"NextPageLink leads off {endpoint}: {url[:80]}", wide=True)
    raise PriceApiError(f"the Retail Prices API kept paging past {MAX_PAGES} pages", wide=True)


def linux_prices(items: Iterable[Mapping[str, Any]], size: str, region: str) -> dict[str, float]:
    """{"on-demand": ..., "spot": ...}: the current Linux hourly prices among the lines."""
    latest: dict[str, tuple[str, float]] = {}
    for item in items:
        if (
            item.get("type") != "Consumption"
            or item.get("armSkuName") != size
            or item.get("armRegionName") != region
            or item.get("currencyCode", "USD") != "USD"
            or item.get("unitOfMeasure") != "1 Hour"
            or str(item.get("productName", "")).endswith("Windows")
        ):
            continue
        sku_name = str(item.get("skuName", ""))
        if sku_name.endswith(" Low Priority"):
            continue
        market = "spot" if sku_name.endswith(" Spot") else "on-demand"
        price = unit_price(item.get("retailPrice"), f"{size} in {region} ({market})")
        start = str(item.get("effectiveStartDate", ""))
        if market not in latest or start > latest[market][0]:
            latest[market] = (start, price)
    return {market: price for market, (_, price) in latest.items()}


def _quoted(value: str) -> str:
    """A value inside an OData string literal (a quote is doubled)."""
    return value.replace("'", "''")
