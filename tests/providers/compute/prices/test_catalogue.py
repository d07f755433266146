"""The price catalogue as estimates read it: the shipped file covers the instance types a render
farm uses, every figure has a date and a source, an override file wins, a malformed file is a
one-line error naming the file and the entry, and stale figures are a warning."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from providers.compute.pools import Pool
from providers.compute.prices import CatalogueError, band_rates, load_catalogue
from providers.compute.prices.catalogue import SHIPPED
from providers.compute.prices.stale import STALE_DAYS

AWS_TYPES = [
    *(f"g4dn.{s}" for s in ("xlarge", "2xlarge", "4xlarge", "12xlarge")),
    *(f"g5.{s}" for s in ("xlarge", "2xlarge", "4xlarge", "12xlarge")),
    *(f"g6.{s}" for s in ("xlarge", "2xlarge", "4xlarge")),
    "g6e.xlarge",
    "g6e.2xlarge",
    *(f"{f}.{s}" for f in ("c7i", "c7a") for s in ("2xlarge", "4xlarge", "8xlarge")),
]
GCP_TYPES = [
    "g2-standard-4",
    "g2-standard-8",
    "g2-standard-16",
    "n1-standard-8+nvidia-tesla-t4",
    "c3-standard-8",
    "c3-standard-22",
    "c2d-standard-8",
]
AZURE_TYPES = [
    "Standard_NC4as_T4_v3",
    "Standard_NC8as_T4_v3",
    "Standard_NV6ads_A10_v5",
    "Standard_NV12ads_A10_v5",
    "Standard_F8s_v2",
    "Standard_F16s_v2",
]
#: Left out on purpose (the file says why): g6 and g6e in eu-west-1, availability not known.
NOT_LISTED = {f"aws/eu-west-1/{t}" for t in AWS_TYPES if t.startswith("g6")}
EXPECTED = (
    {f"aws/{r}/{t}" for r in ("us-east-1", "us-west-2", "eu-west-1") for t in AWS_TYPES}
    | {f"gcp/{r}/{t}" for r in ("us-central1", "europe-west4") for t in GCP_TYPES}
    | {f"azure/{r}/{t}" for r in ("eastus", "westeurope") for t in AZURE_TYPES}
) - NOT_LISTED


def entry(**changes: Any) -> dict[str, Any]:
    """A valid catalogue entry, with changes (a value of ... removes the field)."""
    base: dict[str, Any] = {
        "provider": "aws",
        "region": "us-east-1",
        "instance_type": "g5.xlarge",
        "vcpus": 4,
        "memory_gb": 16,
        "gpu": "A10G",
        "gpus": 1,
        "nvenc": True,
        "nvdec": True,
        "nvenc_sessions": None,
        "on_demand": 1.006,
        "date": "2026-11-01",
        "source": "#od",
        "spot": 0.43,
        "spot_date": "2026-11-01",
        "spot_source": "https://example.com/spot",
        "interruption_band": "10-15%/month",
        "interruption_source": "#band",
        "relative_speed": 2.0,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def write(path: Path, entries: list[Any], **top: Any) -> Path:
    """A catalogue file of these entries; ``top`` changes its top-level keys."""
    doc = {"format": 1, "sources": {"od": "on-demand page", "band": "advisor"}, "offers": entries}
    doc.update(top)
    path.write_text(json.dumps(doc))
    return path


TODAY = date(2026, 12, 1)


def test_the_shipped_catalogue_lists_every_type_and_region_of_the_plan() -> None:
    catalogue = load_catalogue(today=date(2025, 10, 2))
    assert set(catalogue.entries) == EXPECTED
    assert catalogue.warnings == ()
    about = " ".join(json.loads(SHIPPED.read_text())["about"])
    assert "Not listed: g6 and g6e in eu-west-1" in about


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_every_shipped_figure_has_a_date_a_source_and_sane_values(key: str) -> None:
    offer = load_catalogue(today=date(2025, 10, 2)).entries[key]
    date.fromisoformat(offer.date)
    assert "as known 2025-10" in offer.source or offer.source.startswith("estimate: ")
    assert offer.spot is not None and 0 < offer.spot < offer.on_demand
    date.fromisoformat(offer.spot_date)
    assert offer.spot_source and offer.interruption_source
    assert 0 <= offer.interruption_low < offer.interruption_high < 0.05
    assert offer.relative_speed == offer.vcpus / 2
    if offer.gpu is None:
        assert offer.gpus == 0 and not offer.nvenc and not offer.nvdec
    else:
        # Datacenter GPUs have no driver cap on NVENC sessions.
        assert offer.gpus >= 1 and offer.nvenc and offer.nvdec and offer.nvenc_sessions is None


@pytest.mark.parametrize(
    "provider, region, instance_type, gpu, vcpus, on_demand",
    [
        ("aws", "us-east-1", "g4dn.xlarge", "T4", 4, 0.526),
        ("aws", "us-east-1", "g6e.xlarge", "L40S", 4, 1.861),
        ("aws", "us-west-2", "c7a.8xlarge", None, 32, 1.64224),
        ("gcp", "us-central1", "g2-standard-4", "L4", 4, 0.7068),
        ("azure", "eastus", "Standard_F8s_v2", None, 8, 0.338),
    ],
)
def test_lookup_finds_an_offer_by_provider_region_and_type(
    provider: str, region: str, instance_type: str, gpu: str | None, vcpus: int, on_demand: float
) -> None:
    offer = load_catalogue().lookup(provider, region, instance_type)
    assert offer is not None
    assert (offer.gpu, offer.vcpus, offer.on_demand) == (gpu, vcpus, on_demand)
    assert offer.key == f"{provider}/{region}/{instance_type}"


def test_lookup_of_an_unlisted_type_or_region_is_none() -> None:
    catalogue = load_catalogue()
    assert catalogue.lookup("aws", "us-east-1", "p5.48xlarge") is None
    assert catalogue.lookup("aws", "ap-south-1", "g5.xlarge") is None
    assert catalogue.lookup("local", "", "local") is None


def test_a_gcp_pool_with_an_attached_gpu_finds_the_machine_plus_accelerator_offer() -> None:
    catalogue = load_catalogue()
    n1 = Pool(
        name="t4",
        provider="gcp",
        region="us-central1",
        instance_type="n1-standard-8",
        gpu="T4",
        gpus=1,
    )
    found = catalogue.lookup_pool(n1)
    assert found is not None and found.instance_type == "n1-standard-8+nvidia-tesla-t4"
    g2 = Pool(
        name="l4", provider="gcp", region="europe-west4", instance_type="g2-standard-8", gpu="L4"
    )
    assert catalogue.lookup_pool(g2) == catalogue.lookup("gcp", "europe-west4", "g2-standard-8")
    aws = Pool(name="g5", provider="aws", region="us-east-1", instance_type="g5.xlarge", gpu="A10G")
    assert catalogue.lookup_pool(aws) == catalogue.lookup("aws", "us-east-1", "g5.xlarge")


def test_offers_filter_by_provider_region_gpu_and_type() -> None:
    catalogue = load_catalogue()
    gpu_azure = catalogue.offers("azure", gpu=True)
    assert {o.instance_type for o in gpu_azure} == set(AZURE_TYPES[:4])
    cpu_eu = catalogue.offers(["aws", "gcp"], "eu-west-1", gpu=False)
    assert {o.instance_type for o in cpu_eu} == {t for t in AWS_TYPES if t.startswith("c7")}
    assert [o.region for o in catalogue.offers(instance_type="c2d-standard-8")] == [
        "europe-west4",
        "us-central1",
    ]
    assert len(catalogue.offers()) == len(EXPECTED)


def test_spot_saving_is_the_share_of_on_demand_spot_saves(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.json", [entry(on_demand=1.0, spot=0.3), entry(instance_type="x", spot=None)]
    )
    catalogue = load_catalogue(shipped_path=path, today=TODAY)
    assert math.isclose(catalogue.entries["aws/us-east-1/g5.xlarge"].spot_saving or 0, 0.7)
    without = catalogue.entries["aws/us-east-1/x"]
    assert without.spot_saving is None and (
        without.interruption_low,
        without.interruption_high,
    ) == (0, 0)


def test_the_override_file_replaces_shipped_entries_and_adds_new_ones(tmp_path: Path) -> None:
    shipped = write(tmp_path / "shipped.json", [entry(), entry(instance_type="g5.2xlarge")])
    override = write(
        tmp_path / "prices.json",
        [entry(on_demand=0.99, source="refreshed: test"), entry(region="us-west-2")],
    )
    catalogue = load_catalogue(override, shipped_path=shipped, today=TODAY)
    assert catalogue.files == (str(shipped), str(override))
    g5 = catalogue.lookup("aws", "us-east-1", "g5.xlarge")
    assert g5 is not None and (g5.on_demand, g5.source) == (0.99, "refreshed: test")
    assert catalogue.lookup("aws", "us-east-1", "g5.2xlarge") is not None
    assert catalogue.lookup("aws", "us-west-2", "g5.xlarge") is not None


def test_a_missing_override_file_means_the_shipped_figures(tmp_path: Path) -> None:
    catalogue = load_catalogue(tmp_path / "none.json")
    assert catalogue.files == (str(SHIPPED),)
    assert len(catalogue.entries) == len(EXPECTED)


@pytest.mark.parametrize(
    "offers, top, problem",
    [
        (
            [entry(vcpus=0)],
            {},
            "offer 0 (aws/us-east-1/g5.xlarge): vcpus must be a whole number >= 1",
        ),
        ([entry(on_demand=-1)], {}, "on_demand must be a number above 0, not -1"),
        ([entry(on_demand="1.0")], {}, "on_demand must be a number above 0, not '1.0'"),
        ([entry(spot=2.0)], {}, "spot 2.0 is above on_demand 1.006"),
        ([entry(date="2025-13-01")], {}, "date must be an ISO day (2025-10-01), not '2025-13-01'"),
        ([entry(date=...)], {}, "date is missing"),
        ([entry(source="#nowhere")], {}, "source names 'nowhere', which 'sources' does not define"),
        ([entry(interruption_band="often")], {}, "interruption_band: 'often' is not a band"),
        ([entry(interruption_band=...)], {}, "a spot price needs an interruption_band"),
        ([entry(gpus=0)], {}, "gpu and gpus go together"),
        ([entry(nvenc="yes")], {}, "nvenc must be true or false"),
        ([entry(provider="ibm")], {}, "provider must be one of aws, gcp, azure, not 'ibm'"),
        ([entry(prices=1)], {}, "unknown field 'prices'"),
        ([entry(), entry()], {}, "offer 1 (aws/us-east-1/g5.xlarge): listed twice"),
        (["g5"], {}, "offer 0: must be an object"),
        ([], {"format": 2}, "'format' must be 1, not 2"),
        ([], {"currency": "EUR"}, "prices must be in USD, not 'EUR'"),
        ([], {"offers": {}}, "'offers' must be a list"),
        ([], {"extra": 1}, "unknown top-level key 'extra'"),
    ],
)
def test_a_malformed_file_is_a_one_line_error_naming_the_file_and_the_entry(
    tmp_path: Path, offers: list[Any], top: dict[str, Any], problem: str
) -> None:
    path = write(tmp_path / "bad.json", offers, **top)
    with pytest.raises(CatalogueError) as error:
        load_catalogue(shipped_path=path)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ") and problem in message


def test_a_file_that_is_not_json_says_where_it_breaks(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"format": 1, "offers": [')
    with pytest.raises(CatalogueError, match=r"prices\.json: not valid JSON: .*line 1 column 26"):
        load_catalogue(path)


def test_a_malformed_override_names_the_override_not_the_shipped_file(tmp_path: Path) -> None:
    override = write(tmp_path / "prices.json", [entry(memory_gb=0)])
    with pytest.raises(CatalogueError) as error:
        load_catalogue(override)
    assert str(error.value).startswith(f"{override}: offer 0 (aws/us-east-1/g5.xlarge): memory_gb")


def test_stale_figures_are_one_warning_per_provider_not_an_error(tmp_path: Path) -> None:
    old = "2026-01-01"
    path = write(
        tmp_path / "c.json",
        [
            entry(date=old, spot_date=old),
            entry(instance_type="g5.2xlarge", spot_date=old),
            entry(provider="gcp", region="us-central1", instance_type="g2-standard-4"),
        ],
    )
    catalogue = load_catalogue(shipped_path=path, today=TODAY)
    assert catalogue.warnings == (
        f"price catalogue: 3 aws figures are older than {STALE_DAYS} days (the oldest from "
        f"{old}); `cloudrender prices refresh --provider aws` updates what the cloud's price "
        "API offers",
    )
    fresh = load_catalogue(shipped_path=path, today=date(2026, 1, 2))
    assert not any("older than" in w for w in fresh.warnings)


def test_figures_dated_after_today_are_a_warning_naming_one(tmp_path: Path) -> None:
    # Before, a typo like 2062 for 2026 loaded silently and kept the figure "fresh" for ever.
    path = write(
        tmp_path / "c.json",
        [
            entry(date="2062-11-30", spot_date="2026-11-30"),
            entry(instance_type="g5.2xlarge", date="2026-12-02", spot_date="2026-12-03"),
        ],
    )
    catalogue = load_catalogue(shipped_path=path, today=TODAY)
    assert catalogue.warnings == (
        "price catalogue: 1 aws figures are dated after today (2026-12-01), e.g. "
        "aws/us-east-1/g5.xlarge on 2062-11-30: a typo? they never show as out of date; fix "
        "the date or run `cloudrender prices refresh --provider aws`",
    )


def test_the_shipped_figures_warn_once_they_are_half_a_year_old() -> None:
    catalogue = load_catalogue(today=date(2026, 12, 1))
    assert [w.split(" figures")[0].split()[-1] for w in catalogue.warnings] == [
        "aws",
        "azure",
        "gcp",
    ]


def test_a_refreshed_override_silences_the_warning_for_what_it_covers(tmp_path: Path) -> None:
    shipped = write(tmp_path / "shipped.json", [entry(date="2025-01-01", spot_date="2025-01-01")])
    override = write(tmp_path / "prices.json", [entry(date="2026-11-30", spot_date="2026-11-30")])
    assert load_catalogue(override, shipped_path=shipped, today=TODAY).warnings == ()


@pytest.mark.parametrize(
    "band, low, high",
    [
        # a monthly share: low end over 730 h, high end over 24 h
        ("<5%/month", 0.0, -math.log(0.95) / 24),
        ("5-10%/month", -math.log(0.95) / 730, -math.log(0.90) / 24),
        ("15-20%/month", -math.log(0.85) / 730, -math.log(0.80) / 24),
        (">20%/month", -math.log(0.80) / 730, -math.log(0.60) / 24),
        # a daily share: both ends over 24 h
        ("5-15%/day", -math.log(0.95) / 24, -math.log(0.85) / 24),
        ("5 - 15 %/day", -math.log(0.95) / 24, -math.log(0.85) / 24),
    ],
)
def test_interruption_bands_become_rates_per_node_hour(band: str, low: float, high: float) -> None:
    got = band_rates(band)
    assert math.isclose(got[0], low, abs_tol=1e-12) and math.isclose(got[1], high)


@pytest.mark.parametrize("band", ["5-10%", "10-5%/month", "5-100%/day", "often", "5-10%/week"])
def test_a_band_that_cannot_be_read_is_refused(band: str) -> None:
    with pytest.raises(ValueError):
        band_rates(band)
