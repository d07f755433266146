"""``refresh``: live figures from each cloud's price API, against local stand-ins, into the
override file; every failure is one line per provider (or offer) and keeps the figure there was.

AWS: spot from a moto server (which answers ``describe_spot_price_history`` with a constant
0.00001 for every type its offerings list in a zone: the mechanics, not the prices) and
on-demand from a local fake of the Price List Query API (moto has no ``pricing`` backend).
GCP and Azure: local fakes serving hand-made responses in the APIs' documented shapes
(tests/data/prices/README.md).
"""

from __future__ import annotations

import json
import math
import os
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from providers.compute.prices import CatalogueError, load_catalogue
from providers.compute.prices.api import same_origin
from providers.compute.prices.aws import boto3_clients, fetch_aws, spot_from_history
from providers.compute.prices.azure import fetch_azure
from providers.compute.prices.catalogue import Catalogue
from providers.compute.prices.gcp import fetch_gcp
from providers.compute.prices.refresh import refresh, write_override
from tests.providers.compute.fake_http import JsonServer, Reply
from tests.providers.compute.prices.fake_apis import (
    FakeBillingCatalog,
    FakePriceList,
    FakeRetailPrices,
)
from tests.providers.compute.prices.test_catalogue import entry, write

TODAY = date(2026, 12, 2)
#: What moto answers for every spot price (moto/ec2/responses/spot_instances.py).
MOTO_SPOT = 0.00001


def catalogue(tmp_path: Path, *entries: dict[str, Any]) -> Catalogue:
    """A shipped catalogue of these entries (figures set apart from any API's: 9.0 and 1.0)."""
    path = write(tmp_path / "shipped.json", list(entries))
    return load_catalogue(shipped_path=path, today=TODAY)


def aws_entry(instance_type: str, region: str = "us-east-1", **changes: Any) -> dict[str, Any]:
    return entry(instance_type=instance_type, region=region, on_demand=9.0, spot=1.0, **changes)


def gcp_entry(
    instance_type: str, vcpus: int, memory_gb: float, gpu: str | None, region: str = "us-central1"
) -> dict[str, Any]:
    return entry(
        provider="gcp",
        region=region,
        instance_type=instance_type,
        vcpus=vcpus,
        memory_gb=memory_gb,
        gpu=gpu,
        gpus=1 if gpu else 0,
        nvenc=gpu is not None,
        nvdec=gpu is not None,
        on_demand=9.0,
        spot=1.0,
        interruption_band="5-15%/day",
    )


def azure_entry(size: str, region: str = "eastus") -> dict[str, Any]:
    return entry(provider="azure", region=region, instance_type=size, on_demand=9.0, spot=1.0)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def price_list() -> Iterator[FakePriceList]:
    with FakePriceList(page_size=1) as fake:
        yield fake


@pytest.fixture
def billing() -> Iterator[FakeBillingCatalog]:
    with FakeBillingCatalog() as fake:
        yield fake


@pytest.fixture
def retail() -> Iterator[FakeRetailPrices]:
    with FakeRetailPrices() as fake:
        yield fake


# --- AWS ---------------------------------------------------------------------------------------


def utc(hour: int) -> datetime:
    return datetime(2026, 12, 1, hour, tzinfo=UTC)


def row(
    itype: str, zone: str, price: str, hour: int, product: str = "Linux/UNIX"
) -> dict[str, Any]:
    return {
        "InstanceType": itype,
        "AvailabilityZone": zone,
        "SpotPrice": price,
        "Timestamp": utc(hour),
        "ProductDescription": product,
    }


@pytest.mark.parametrize(
    "rows, expected",
    [
        # each zone's latest price, then the mean over zones
        (
            [
                row("g5.xlarge", "a", "0.5000", 1),
                row("g5.xlarge", "a", "0.4000", 3),
                row("g5.xlarge", "b", "0.4600", 2),
            ],
            {"g5.xlarge": 0.43},
        ),
        # an older row listed after a newer one does not win
        (
            [row("c7i.2xlarge", "a", "0.1500", 5), row("c7i.2xlarge", "a", "0.9000", 1)],
            {"c7i.2xlarge": 0.15},
        ),
        # Windows and SUSE rows are not Linux prices
        (
            [
                row("g5.xlarge", "a", "0.4000", 1),
                row("g5.xlarge", "b", "0.9000", 1, "Windows"),
                row("g5.xlarge", "c", "0.8000", 1, "SUSE Linux"),
            ],
            {"g5.xlarge": 0.4},
        ),
        # the mean is rounded to six decimals
        (
            [
                row("g6.xlarge", z, p, 1)
                for z, p in (("a", "0.3001"), ("b", "0.3002"), ("c", "0.3002"))
            ],
            {"g6.xlarge": 0.300167},
        ),
        ([], {}),
    ],
)
def test_spot_is_the_mean_over_zones_of_each_zones_latest_linux_price(
    rows: list[dict[str, Any]], expected: dict[str, float]
) -> None:
    assert spot_from_history(rows) == expected


def test_aws_refresh_reads_spot_from_ec2_and_on_demand_from_the_price_list(
    moto_aws_endpoint: str, aws_credentials: None, price_list: FakePriceList, tmp_path: Path
) -> None:
    shipped = catalogue(
        tmp_path,
        aws_entry("g5.xlarge"),
        aws_entry("c7i.2xlarge", gpu=None, gpus=0, nvenc=False, nvdec=False),
        aws_entry("g6.xlarge"),
        aws_entry("g5.xlarge", region="eu-west-1"),
    )
    clients = boto3_clients({"ec2": moto_aws_endpoint, "pricing": price_list.endpoint})

    # The spot mechanics: one history call per region, each type's zones averaged. moto's
    # constant comes back for every type it offers, in both regions.
    fetched = fetch_aws(shipped.entries.values(), clients)
    assert {k: f.spot for k, f in fetched.figures.items()} == dict.fromkeys(
        shipped.entries, MOTO_SPOT
    )
    assert fetched.figures["aws/us-east-1/g5.xlarge"].spot_api.startswith(
        "EC2 DescribeSpotPriceHistory"
    )

    override = tmp_path / "cache" / "prices.json"
    report = refresh(shipped, ["aws"], override_path=override, aws_clients=clients, today=TODAY)

    after = load_catalogue(override, shipped_path=shipped.files[0], today=TODAY)
    g5 = after.lookup("aws", "us-east-1", "g5.xlarge")
    assert g5 is not None
    # on-demand: the one Linux/Shared/NA/Used product, not the reservation, Windows or SQL ones
    assert (g5.on_demand, g5.date) == (1.006, "2026-12-02")
    assert g5.source.startswith("refreshed: AWS Price List Query API GetProducts")
    # moto's spot placeholder is no price any cloud charges: refused, the figure there was kept
    assert (g5.spot, g5.spot_date) == (1.0, "2026-11-01")
    assert report.failed["aws/us-east-1/g5.xlarge (spot)"] == (
        "the API's spot price 1e-05 is under 5% of on-demand 1.006, a discount no cloud "
        "offers; kept"
    )
    ireland = after.lookup("aws", "eu-west-1", "g5.xlarge")
    assert ireland is not None and ireland.on_demand == 1.123
    c7i = after.lookup("aws", "us-east-1", "c7i.2xlarge")
    assert c7i is not None and c7i.on_demand == 0.357
    # two products at one price are one price; two prices are refused, and the figure kept
    assert report.failed["aws/us-east-1/g6.xlarge (on-demand)"] == (
        "the Price List has several on-demand prices for aws/us-east-1/g6.xlarge: 0.8048, 0.85"
    )
    assert len(report.failed) == 5  # g6's on-demand and the four spot placeholders
    assert report.updated == [k for k in sorted(shipped.entries) if k != "aws/us-east-1/g6.xlarge"]
    assert report.kept == ["aws/us-east-1/g6.xlarge"]
    assert report.written == str(override)

    # Every query filtered to Linux, shared tenancy, no pre-installed software, used capacity.
    for request in price_list.requests:
        filters = {f["Field"]: f["Value"] for f in request["Filters"]}
        assert {
            k: filters[k]
            for k in ("operatingSystem", "tenancy", "preInstalledSw", "capacitystatus")
        } == {
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
        }
        assert request["ServiceCode"] == "AmazonEC2" and request["FormatVersion"] == "aws_v1"
    # c7i.2xlarge's two lines came one a page: the second page was asked for with NextToken.
    c7i_match = {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "c7i.2xlarge"}
    c7i_requests = [r for r in price_list.requests if c7i_match in r["Filters"]]
    assert [r.get("NextToken") for r in c7i_requests] == [None, "1"] * 2  # fetch, then refresh


def test_a_type_with_no_spot_price_in_any_zone_is_reported_and_keeps_its_figure(
    moto_aws_endpoint: str, aws_credentials: None, price_list: FakePriceList, tmp_path: Path
) -> None:
    shipped = catalogue(tmp_path, aws_entry("g5.xlarge"), aws_entry("x9.nolarge"))
    clients = boto3_clients({"ec2": moto_aws_endpoint, "pricing": price_list.endpoint})
    fetched = fetch_aws(shipped.entries.values(), clients)
    assert fetched.failed == {
        "aws/us-east-1/x9.nolarge (spot)": "no Linux/UNIX spot price in any zone",
        "aws/us-east-1/x9.nolarge (on-demand)": "the Price List has no Linux on-demand product "
        "for aws/us-east-1/x9.nolarge",
    }
    assert fetched.figures["aws/us-east-1/g5.xlarge"].spot == MOTO_SPOT


def test_moto_has_no_price_list_so_on_demand_fails_in_one_line_and_spot_still_comes(
    moto_aws_endpoint: str, aws_credentials: None, tmp_path: Path
) -> None:
    shipped = catalogue(tmp_path, aws_entry("g5.xlarge"), aws_entry("g6.xlarge"))
    clients = boto3_clients(
        {"ec2": moto_aws_endpoint, "pricing": moto_aws_endpoint}, max_attempts=1
    )
    fetched = fetch_aws(shipped.entries.values(), clients)
    assert fetched.failed == {
        "aws (on-demand)": "pricing.get_products: AWS 500: the server answered with an HTML error "
        "page, not the AWS API"
    }
    assert {k: (f.on_demand, f.spot) for k, f in fetched.figures.items()} == {
        "aws/us-east-1/g5.xlarge": (None, MOTO_SPOT),
        "aws/us-east-1/g6.xlarge": (None, MOTO_SPOT),
    }


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment where boto3's credential chain finds nothing (and asks no metadata
    service)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_without_aws_credentials_the_report_says_so_once(
    no_aws_credentials: None, moto_aws_endpoint: str, tmp_path: Path
) -> None:
    shipped = catalogue(tmp_path, aws_entry("g5.xlarge"), aws_entry("c7i.2xlarge"))
    clients = boto3_clients({"ec2": moto_aws_endpoint, "pricing": moto_aws_endpoint})
    override = tmp_path / "prices.json"
    report = refresh(shipped, ["aws"], override_path=override, aws_clients=clients)
    assert list(report.failed) == ["aws"]
    assert report.failed["aws"].startswith(
        "no usable AWS credentials (Unable to locate credentials)"
    )
    assert "pricing:GetProducts and ec2:DescribeSpotPriceHistory" in report.failed["aws"]
    assert report.updated == [] and sorted(report.kept) == sorted(shipped.entries)
    assert not override.exists()


def test_an_unreachable_aws_endpoint_is_one_line(aws_credentials: None, tmp_path: Path) -> None:
    shipped = catalogue(tmp_path, aws_entry("g5.xlarge"), aws_entry("c7i.2xlarge"))
    down = f"http://127.0.0.1:{closed_port()}"
    clients = boto3_clients({"ec2": down, "pricing": down}, max_attempts=1, timeout=5)
    report = refresh(shipped, ["aws"], aws_clients=clients)
    assert list(report.failed) == ["aws (on-demand)", "aws (spot)"] or list(report.failed) == [
        "aws (spot)",
        "aws (on-demand)",
    ]
    for reason in report.failed.values():
        assert "Could not connect to the endpoint URL" in reason and "\n" not in reason
    assert report.updated == []


# --- GCP ---------------------------------------------------------------------------------------

N1_T4 = gcp_entry("n1-standard-8+nvidia-tesla-t4", 8, 30, "T4")
G2 = gcp_entry("g2-standard-4", 4, 16, "L4")
C3 = gcp_entry("c3-standard-8", 8, 32, None)
N1_T4_EU = gcp_entry("n1-standard-8+nvidia-tesla-t4", 8, 30, "T4", region="europe-west4")


SPOT = "Spot Preemptible "
N1_EU = "gcp/europe-west4/n1-standard-8+nvidia-tesla-t4"


def missing(name: str, region: str) -> str:
    """How a fetcher says a SKU is not in the catalog."""
    return f"no SKU '{name} running in ...' for {region}"


def test_gcp_prices_sum_cores_memory_and_gpus_from_the_billing_catalog(
    billing: FakeBillingCatalog, tmp_path: Path
) -> None:
    offers = catalogue(tmp_path, N1_T4, G2, C3, N1_T4_EU).entries.values()
    fetched = fetch_gcp(offers, endpoint=billing.endpoint, api_key="test-key")
    n1 = fetched.figures["gcp/us-central1/n1-standard-8+nvidia-tesla-t4"]
    # 8 x 0.031611 + 30 x 0.004237 + 0.35, and Spot: 8 x 0.0066 + 30 x 0.000884 + 0.14
    assert math.isclose(n1.on_demand or 0, 0.729998) and math.isclose(n1.spot or 0, 0.21932)
    assert (
        n1.on_demand_api.startswith("Cloud Billing Catalog API")
        and billing.endpoint in n1.on_demand_api
    )
    g2 = fetched.figures["gcp/us-central1/g2-standard-4"]
    assert g2.on_demand == 0.706769 and g2.spot is None  # 4 x 0.024988 + 16 x 0.0029278 + 0.559972
    assert fetched.failed == {
        "gcp/us-central1/g2-standard-4 (spot)": missing(SPOT + "Nvidia L4 GPU", "us-central1"),
        "gcp/us-central1/c3-standard-8 (on-demand)": missing("C3 Instance Core", "us-central1"),
        "gcp/us-central1/c3-standard-8 (spot)": missing(SPOT + "C3 Instance Core", "us-central1"),
        f"{N1_EU} (on-demand)": missing("N1 Predefined Instance Ram", "europe-west4"),
        f"{N1_EU} (spot)": missing(SPOT + "N1 Predefined Instance Core", "europe-west4"),
    }
    # Both pages, in USD, with the key.
    assert [q.get("pageToken") for q in billing.requests] == [None, ["page-2"]]
    assert all(q["currencyCode"] == ["USD"] and q["key"] == ["test-key"] for q in billing.requests)


def test_gcp_takes_an_oauth_token_instead_of_a_key(
    billing: FakeBillingCatalog, tmp_path: Path
) -> None:
    offers = catalogue(tmp_path, N1_T4).entries.values()
    fetched = fetch_gcp(offers, endpoint=billing.endpoint, token="test-token")
    assert fetched.failed == {} and "key" not in billing.requests[0]
    from_source = fetch_gcp(
        offers, endpoint=billing.endpoint, token_source=lambda: ("test-token", "proj")
    )
    assert from_source.figures == fetched.figures


def test_a_refused_gcp_key_is_one_line_for_the_provider(
    billing: FakeBillingCatalog, tmp_path: Path
) -> None:
    shipped = catalogue(tmp_path, N1_T4, G2)
    report = refresh(shipped, ["gcp"], gcp_endpoint=billing.endpoint, gcp_api_key="wrong")
    host = billing.endpoint.removeprefix("http://")
    assert report.failed == {
        "gcp": f"HTTP 403 from {host}: The request is missing a valid API key."
    }
    assert report.updated == [] and len(report.kept) == 2
    assert "wrong" not in report.failed["gcp"]  # the key never appears in a message


def test_without_gcp_credentials_the_report_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    shipped = catalogue(tmp_path, N1_T4)
    report = refresh(shipped, ["gcp"], gcp_endpoint=f"http://127.0.0.1:{closed_port()}")
    assert list(report.failed) == ["gcp"]
    assert report.failed["gcp"].startswith("no GCP credentials (")
    assert report.failed["gcp"].endswith(
        "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
    )


class OddBilling(JsonServer):
    """A billing endpoint whose reply has the wrong shape."""

    def respond(self, verb: str, path: str, query: Any, headers: Any, raw: bytes) -> Reply:
        return Reply(200, {"skus": "none today"})


def test_a_billing_reply_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    with OddBilling() as odd:
        fetched = fetch_gcp(
            catalogue(tmp_path, N1_T4).entries.values(), endpoint=odd.endpoint, api_key="k"
        )
    assert fetched.failed == {"gcp": "the Billing Catalog answered without a 'skus' list"}


# --- Azure -------------------------------------------------------------------------------------


def test_azure_reads_linux_pay_as_you_go_and_spot_lines_over_pages(
    retail: FakeRetailPrices, tmp_path: Path
) -> None:
    offers = catalogue(
        tmp_path,
        azure_entry("Standard_NC4as_T4_v3"),
        azure_entry("Standard_F8s_v2"),
        azure_entry("Standard_F8s_v2", region="westeurope"),
        azure_entry("Standard_NC4as_T4_v3", region="westeurope"),
    ).entries.values()
    fetched = fetch_azure(offers, endpoint=retail.url)
    t4 = fetched.figures["azure/eastus/Standard_NC4as_T4_v3"]
    # not Windows (0.618), Low Priority (0.1052), DevTest, Reservation, or the older 0.6 line
    assert (t4.on_demand, t4.spot) == (0.526, 0.1578)
    f8 = fetched.figures["azure/eastus/Standard_F8s_v2"]
    assert (f8.on_demand, f8.spot) == (0.338, 0.0676)
    assert fetched.figures["azure/westeurope/Standard_F8s_v2"].on_demand == 0.384
    assert fetched.failed == {
        "azure/westeurope/Standard_F8s_v2 (spot)": "no Linux Spot line",
        "azure/westeurope/Standard_NC4as_T4_v3 (on-demand)": "no Linux pay-as-you-go line",
        "azure/westeurope/Standard_NC4as_T4_v3 (spot)": "no Linux Spot line",
    }
    # The query named the size, region and Consumption; six lines came two a page.
    first = retail.requests[0]["$filter"][0]
    assert "serviceName eq 'Virtual Machines'" in first and "priceType eq 'Consumption'" in first
    t4_pages = [
        q
        for q in retail.requests
        if "Standard_NC4as_T4_v3' " in q["$filter"][0] + " " and "eastus" in q["$filter"][0]
    ]
    assert [q.get("$skip") for q in t4_pages] == [None, ["2"], ["4"]]


def test_a_failing_azure_api_stops_at_the_first_error_in_one_line(
    retail: FakeRetailPrices, tmp_path: Path
) -> None:
    retail.fail_with = Reply(503, {"Message": "Service is busy, try later"})
    offers = catalogue(
        tmp_path, azure_entry("Standard_F8s_v2"), azure_entry("Standard_F16s_v2")
    ).entries.values()
    fetched = fetch_azure(offers, endpoint=retail.url)
    host = retail.endpoint.removeprefix("http://")
    assert fetched.failed == {"azure": f"HTTP 503 from {host}: Service is busy, try later"}
    assert len(retail.requests) == 1 and fetched.figures == {}


def test_a_spot_price_above_on_demand_is_never_written(
    retail: FakeRetailPrices, tmp_path: Path
) -> None:
    for item in retail.items:
        if item["skuName"] == "F8s v2 Spot":
            item["retailPrice"] = 0.5
    shipped = catalogue(
        tmp_path,
        {**azure_entry("Standard_F8s_v2"), "spot": 0.2},
        azure_entry("Standard_F8s_v2", region="westeurope"),
    )
    override = tmp_path / "prices.json"
    report = refresh(
        shipped, ["azure"], override_path=override, azure_endpoint=retail.url, today=TODAY
    )
    assert report.failed == {
        # the API's spot line is above its own pay-as-you-go line: refused
        "azure/eastus/Standard_F8s_v2 (spot)": "the API's spot price 0.5 is above on-demand "
        "0.338; kept",
        # no spot line, and the kept spot figure is above the new on-demand one: left out
        "azure/westeurope/Standard_F8s_v2 (spot)": "no Linux Spot line; the kept spot figure 1 "
        "is above the refreshed on-demand 0.384; spot left out until it is refreshed",
    }
    assert report.changes == {
        "azure/eastus/Standard_F8s_v2": "on-demand 9 -> 0.338",
        "azure/westeurope/Standard_F8s_v2": "on-demand 9 -> 0.384, spot 1 -> none",
    }
    after = load_catalogue(override, shipped_path=shipped.files[0], today=TODAY)
    assert [(o.on_demand, o.spot) for o in after.offers("azure")] == [(0.338, 0.2), (0.384, None)]


@pytest.mark.parametrize(
    "link, same",
    [
        ("https://prices.azure.com:443/api/retail/prices?$skip=100", True),
        ("https://prices.azure.com/api/retail/prices?$skip=100", True),
        ("http://prices.azure.com/api/retail/prices", False),
        ("https://prices.azure.com.example.net/api/retail/prices", False),
        ("https://prices.azure.com:8443/api/retail/prices", False),
    ],
)
def test_paging_links_are_followed_only_on_the_apis_host(link: str, same: bool) -> None:
    assert same_origin(link, "https://prices.azure.com/api/retail/prices") is same


# --- The override file -------------------------------------------------------------------------


def test_refreshes_accumulate_in_the_override_file_and_failures_keep_their_figure(
    retail: FakeRetailPrices, billing: FakeBillingCatalog, tmp_path: Path
) -> None:
    shipped = catalogue(
        tmp_path, azure_entry("Standard_F8s_v2"), N1_T4, azure_entry("Standard_NV6ads_A10_v5")
    )
    override = tmp_path / "prices.json"
    first = refresh(
        shipped, ["azure"], override_path=override, azure_endpoint=retail.url, today=TODAY
    )
    assert first.updated == ["azure/eastus/Standard_F8s_v2"]
    assert first.kept == ["azure/eastus/Standard_NV6ads_A10_v5"]
    second = refresh(
        load_catalogue(override, shipped_path=shipped.files[0], today=TODAY),
        ["gcp"],
        override_path=override,
        gcp_endpoint=billing.endpoint,
        gcp_api_key="test-key",
        today=TODAY,
    )
    assert second.updated == ["gcp/us-central1/n1-standard-8+nvidia-tesla-t4"]
    after = load_catalogue(override, shipped_path=shipped.files[0], today=TODAY)
    assert [o["instance_type"] for o in json.loads(override.read_text())["offers"]] == [
        "Standard_F8s_v2",
        "n1-standard-8+nvidia-tesla-t4",
    ]
    f8, nv6 = (
        after.lookup("azure", "eastus", "Standard_F8s_v2"),
        after.lookup("azure", "eastus", "Standard_NV6ads_A10_v5"),
    )
    assert f8 is not None and (f8.on_demand, f8.source.split(" (")[0]) == (
        0.338,
        "refreshed: Azure Retail Prices API",
    )
    assert nv6 is not None and (nv6.on_demand, nv6.source) == (
        9.0,
        "on-demand page",
    )  # the shipped figure
    assert after.warnings == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "prices.json",
        "shipped.json",
    ]  # no temp files


def test_a_malformed_override_is_not_overwritten(tmp_path: Path) -> None:
    override = tmp_path / "prices.json"
    override.write_text("{ half a file")
    offer = catalogue(tmp_path, aws_entry("g5.xlarge")).entries["aws/us-east-1/g5.xlarge"]
    with pytest.raises(CatalogueError, match="prices.json: not valid JSON"):
        write_override(override, [offer])
    assert override.read_text() == "{ half a file"


def test_an_override_in_an_unwritable_place_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    offer = catalogue(tmp_path, aws_entry("g5.xlarge")).entries["aws/us-east-1/g5.xlarge"]
    with pytest.raises(CatalogueError, match=r"cannot write the price file .*file/prices.json: "):
        write_override(blocker / "prices.json", [offer])


def test_an_unknown_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        CatalogueError, match="unknown provider 'oracle': choose from aws, gcp, azure"
    ):
        refresh(catalogue(tmp_path, aws_entry("g5.xlarge")), ["oracle"])


def test_a_fetcher_that_breaks_unexpectedly_is_still_one_line(tmp_path: Path) -> None:
    def broken(service: str, region: str) -> Any:
        raise RuntimeError("the SDK\nchanged")

    report = refresh(catalogue(tmp_path, aws_entry("g5.xlarge")), ["aws"], aws_clients=broken)
    assert report.failed == {"aws": "unexpected RuntimeError: the SDK changed"}
