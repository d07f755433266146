"""Live AWS figures: on-demand from the Price List Query API (``pricing.get_products``, served
from us-east-1) and spot from EC2's ``describe_spot_price_history`` in each region.

On-demand: one ``GetProducts`` call per instance type and region, with TERM_MATCH filters for
Linux, shared tenancy, no pre-installed software and used capacity (``capacitystatus`` "Used":
not a capacity reservation's unused or allocated line), so exactly one product should match;
its ``OnDemand`` term's hourly dimension is the price. Several distinct prices is an error.

Spot: the history from "now" holds, per availability zone, the price in effect now (AWS
returns the price current at StartTime with each later change). The latest entry per zone is
taken, and the offer's spot figure is the **mean across zones**: an Auto Scaling group spreads a
pool over its subnets' zones, so the mean is what a pool pays on average, where the minimum would
flatter it. Rounded to 6 decimals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from providers.compute.prices.api import Fetched, PriceApiError, one_line, unit_price
from providers.compute.prices.catalogue import Offer

#: Makes a boto3 client: (service, region) -> client.
ClientFactory = Callable[[str, str], Any]

#: The Price List Query API answers in us-east-1 (also eu-central-1 and ap-south-1).
PRICING_REGION = "us-east-1"
ON_DEMAND_API = "AWS Price List Query API GetProducts (Linux, Shared, NA, Used)"
SPOT_API = "EC2 DescribeSpotPriceHistory (Linux/UNIX, mean of the zones' latest)"
PERMISSIONS = "pricing:GetProducts and ec2:DescribeSpotPriceHistory"
#: GetProducts filters besides instance type and region (attribute names of AmazonEC2).
ON_DEMAND_FILTERS = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
}


def boto3_clients(
    endpoints: Mapping[str, str] | None = None, *, timeout: float = 30.0, max_attempts: int = 3
) -> ClientFactory:
    """A factory of boto3 clients on the default credential chain; ``endpoints`` overrides a
    service's endpoint (tests: a moto server for ``ec2``, a local fake for ``pricing``)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": max_attempts, "mode": "standard"},
    )
    session = boto3.session.Session()
    made: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in made:
            made[service, region] = session.client(
                service,
                region_name=region,
                endpoint_url=(endpoints or {}).get(service),
                config=config,
            )
        return made[service, region]

    return client


def fetch_aws(offers: Iterable[Offer], clients: ClientFactory | None = None) -> Fetched:
    """On-demand and spot figures for AWS offers. A failure that stops an API (no credentials,
    unreachable, refused) is listed once under ``aws (spot)`` / ``aws (on-demand)`` (``aws`` when
    both say the same); one that touches a region or an offer, under its key."""
    clients = clients or boto3_clients()
    offers = list(offers)
    fetched = Fetched()
    wide: dict[str, str] = {}
    for market, fetch in (("spot", _fetch_spot), ("on-demand", _fetch_on_demand)):
        try:
            fetch(offers, clients, fetched)
        except PriceApiError as exc:
            wide[market] = str(exc)
    if len(wide) == 2 and len(set(wide.values())) == 1:
        fetched.failed["aws"] = wide["spot"]
    else:
        fetched.failed.update({f"aws ({market})": reason for market, reason in wide.items()})
    return fetched


def _fetch_spot(offers: list[Offer], clients: ClientFactory, fetched: Fetched) -> None:
    """Spot figures, one history call per region; raises only errors that stop the API."""
    by_region: dict[str, list[Offer]] = {}
    for offer in offers:
        if offer.spot is not None:
            by_region.setdefault(offer.region, []).append(offer)
    for region, group in sorted(by_region.items()):
        try:
            with aws_errors(f"ec2.describe_spot_price_history in {region}"):
                spot = spot_prices(clients("ec2", region), [o.instance_type for o in group])
        except PriceApiError as exc:
            if exc.wide:
                raise
            fetched.failed[f"aws/{region} (spot)"] = str(exc)
            continue
        for offer in group:
            if offer.instance_type in spot:
                fetched.add(offer.key, spot=spot[offer.instance_type], spot_api=SPOT_API)
            else:
                fetched.failed[f"{offer.key} (spot)"] = "no Linux/UNIX spot price in any zone"


def _fetch_on_demand(offers: list[Offer], clients: ClientFactory, fetched: Fetched) -> None:
    """On-demand figures, one GetProducts query per offer; raises only errors that stop the
    API."""
    for offer in offers:
        try:
            with aws_errors("pricing.get_products"):
                price = on_demand_price(clients("pricing", PRICING_REGION), offer)
        except PriceApiError as exc:
            if exc.wide:
                raise
            fetched.failed[f"{offer.key} (on-demand)"] = str(exc)
            continue
        fetched.add(offer.key, on_demand=price, on_demand_api=ON_DEMAND_API)


def on_demand_price(pricing: Any, offer: Offer) -> float:
    """The Linux on-demand dollars per hour of one instance type in one region."""
    filters = {"instanceType": offer.instance_type, "regionCode": offer.region}
    filters.update(ON_DEMAND_FILTERS)
    prices: set[float] = set()
    for product in _products(pricing, filters):
        prices.update(_hourly_on_demand(product, offer.instance_type))
    if not prices:
        raise PriceApiError(f"the Price List has no Linux on-demand product for {offer.key}")
    if len(prices) > 1:
        listed = ", ".join(f"{p:g}" for p in sorted(prices))
        raise PriceApiError(
            f"the Price List has several on-demand prices for {offer.key}: {listed}"
        )
    return prices.pop()


def _products(pricing: Any, filters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Every product document ``GetProducts`` returns for the filters, over all pages."""
    request: dict[str, Any] = {
        "ServiceCode": "AmazonEC2",
        "FormatVersion": "aws_v1",
        "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
        "MaxResults": 100,
    }
    for _ in range(100):  # a page bound: one type and region never needs more than one or two
        page = pricing.get_products(**request)
        for document in page.get("PriceList", []):
            # Each product comes as a JSON document in a string (aws_v1 format).
            yield json.loads(document) if isinstance(document, str) else document
        if not page.get("NextToken"):
            return
        request["NextToken"] = page["NextToken"]
    raise PriceApiError("GetProducts kept returning NextToken after 100 pages")


def _hourly_on_demand(product: Mapping[str, Any], instance_type: str) -> set[float]:
    """The hourly USD prices of a product's OnDemand terms."""
    attributes = product.get("product", {}).get("attributes", {})
    if attributes.get("instanceType", instance_type) != instance_type:
        return set()  # a filter the server ignored; not ours to price
    found = set()
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            if dimension.get("unit") in ("Hrs", "Hours"):
                usd = dimension.get("pricePerUnit", {}).get("USD")
                found.add(round(unit_price(usd, f"on-demand price of {instance_type}"), 6))
    return found


def spot_prices(ec2: Any, instance_types: list[str]) -> dict[str, float]:
    """The mean over zones of each type's latest Linux/UNIX spot price."""
    rows = []
    paginator = ec2.get_paginator("describe_spot_price_history")
    for page in paginator.paginate(
        InstanceTypes=instance_types,
        ProductDescriptions=["Linux/UNIX", "Linux/UNIX (Amazon VPC)"],
        StartTime=datetime.now(UTC),
    ):
        rows.extend(page.get("SpotPriceHistory", []))
    return spot_from_history(rows)


def spot_from_history(rows: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per instance type, the mean over zones of each zone's latest Linux price."""
    latest: dict[tuple[str, str], tuple[datetime, float]] = {}
    for row in rows:
        if not str(row.get("ProductDescription", "")).startswith("Linux/UNIX"):
            continue
        key = (str(row["InstanceType"]), str(row["AvailabilityZone"]))
        stamp = row["Timestamp"]
        price = unit_price(row["SpotPrice"], f"spot price of {key[0]} in {key[1]}")
        if key not in latest or stamp > latest[key][0]:
            latest[key] = (stamp, price)
    by_type: dict[str, list[float]] = {}
    for (instance_type, _zone), (_stamp, price) in sorted(latest.items()):
        by_type.setdefault(instance_type, []).append(price)
    return {t: round(sum(p) / len(p), 6) for t, p in by_type.items()}


#: AWS error codes that stop every further call to the API (identity, permission, throttling).
_WIDE_CODES = (
    "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
    "UnrecognizedClientException", "AccessDenied", "AccessDeniedException",
    "UnauthorizedOperation", "Throttling", "ThrottlingException", "RequestLimitExceeded",
)  # fmt: skip


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """botocore's exceptions (and a reply of the wrong shape) as one-line ``PriceApiError``s."""
    import botocore.exceptions as boto

    try:
        yield
    except PriceApiError:
        raise
    except (boto.NoCredentialsError, boto.PartialCredentialsError, boto.ProfileNotFound) as exc:
        raise PriceApiError(
            f"no usable AWS credentials ({one_line(exc)}): configure them (aws configure, "
            f"AWS_PROFILE or an instance role) with {PERMISSIONS}",
            wide=True,
        ) from None
    except boto.ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        message = one_line(exc.response.get("Error", {}).get("Message") or code or exc, 160)
        if message.lstrip().startswith("<"):
            message = "the server answered with an HTML error page, not the AWS API"
        denied = "Denied" in code or "Unauthorized" in code
        hint = f"; the AWS identity needs {PERMISSIONS}" if denied else ""
        wide = code in _WIDE_CODES or (isinstance(status, int) and status >= 500)
        raise PriceApiError(f"{action}: AWS {code or status}: {message}{hint}", wide=wide) from None
    except boto.BotoCoreError as exc:  # unreachable endpoint, timeouts, garbled replies
        raise PriceApiError(f"{action}: {one_line(exc)}", wide=True) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PriceApiError(f"{action}: unexpected reply ({type(exc).__name__}: {exc})") from None
