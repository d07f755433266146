"""``cloudrender prices show|refresh`` as a user runs them: the catalogue as a table or JSON, and
a refresh that says what it updated and what it could not (the handlers, in this process, with
the clouds' APIs replaced by local fakes)."""

from __future__ import annotations

import argparse
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.price_commands import add_price_parser, prices_refresh, prices_show
from common.errors import RenderError
from providers.compute.prices import load_catalogue
from tests.providers.compute.prices.fake_apis import FakeRetailPrices


def parse(*argv: str) -> argparse.Namespace:
    """The arguments as ``cloudrender`` parses them (the parser the lead registers)."""
    parser = argparse.ArgumentParser(prog="cloudrender")
    add_price_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


@pytest.fixture
def prices_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache" / "prices.json"
    monkeypatch.setenv("CLOUDRENDER_PRICES_FILE", str(path))
    return path


@pytest.fixture
def retail() -> Iterator[FakeRetailPrices]:
    with FakeRetailPrices() as fake:
        yield fake


def test_show_prints_a_table_of_every_offer(
    prices_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert prices_show(parse("prices", "show")) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == [
        "PROVIDER", "REGION", "TYPE", "GPU", "VCPU", "ON-DEMAND", "SPOT", "SAVING",
        "INTERRUPTIONS", "DATE",
    ]  # fmt: skip
    g5 = next(line.split() for line in lines if " g5.xlarge " in line and "us-east-1" in line)
    assert g5 == [
        "aws", "us-east-1", "g5.xlarge", "1x", "A10G", "4", "1.006", "0.43", "57%",
        "10-15%/month", "2025-10-01",
    ]  # fmt: skip
    assert len(lines) == 2 + len(load_catalogue().entries)
    # Figures over half a year old (the shipped ones, by now) are said on stderr, once per cloud.
    assert err.splitlines() == [f"warning: {w}" for w in load_catalogue().warnings]


def test_show_filters_by_provider_and_gpu_and_prints_json(
    prices_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert prices_show(parse("prices", "show", "--provider", "azure", "--gpu", "--json")) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"warning: {w}" for w in load_catalogue().warnings if "azure" in w]
    rows = json.loads(out)
    assert {r["instance_type"] for r in rows} == {
        "Standard_NC4as_T4_v3", "Standard_NC8as_T4_v3", "Standard_NV6ads_A10_v5",
        "Standard_NV12ads_A10_v5",
    }  # fmt: skip
    t4 = rows[0]
    assert set(t4) >= {
        "provider", "region", "instance_type", "vcpus", "memory_gb", "gpu", "gpus", "nvenc",
        "nvdec", "nvenc_sessions", "on_demand", "spot", "spot_saving", "interruption_low",
        "interruption_high", "relative_speed", "date", "source", "spot_date", "spot_source",
    }  # fmt: skip
    assert all(r["gpu"] and r["nvenc_sessions"] is None for r in rows)


def test_show_reads_the_refreshed_file_over_the_shipped_one(
    prices_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = load_catalogue().lookup("aws", "us-east-1", "g5.xlarge")
    assert shipped is not None
    entry = {**shipped.to_json(), "on_demand": 0.999, "date": "2026-12-01"}
    prices_file.parent.mkdir(parents=True)
    prices_file.write_text(json.dumps({"format": 1, "offers": [entry]}))
    prices_show(parse("prices", "show", "--provider", "aws", "--json"))
    rows = {f"{r['region']}/{r['instance_type']}": r for r in json.loads(capsys.readouterr().out)}
    assert rows["us-east-1/g5.xlarge"]["on_demand"] == 0.999
    assert rows["us-west-2/g5.xlarge"]["on_demand"] == 1.006


def test_a_malformed_price_file_is_an_error_that_names_it(prices_file: Path) -> None:
    prices_file.parent.mkdir(parents=True)
    prices_file.write_text('{"format": 1, "offers": [{"provider": "aws"}]}')
    with pytest.raises(
        RenderError, match=rf"^{prices_file}: offer 0 \(aws/\?/\?\): region is missing$"
    ):
        prices_show(parse("prices", "show"))


def test_a_price_file_that_is_not_text_is_an_error_that_names_it(prices_file: Path) -> None:
    # Before, a UnicodeDecodeError traceback (prices show, estimate, the autoscaler's round).
    prices_file.parent.mkdir(parents=True)
    prices_file.write_bytes(b'\xff\xfe{"format": 1}')
    with pytest.raises(RenderError, match=rf"^price catalogue {prices_file}: not UTF-8 text"):
        prices_show(parse("prices", "show"))


def test_refresh_prints_what_it_updated_and_what_it_could_not(
    prices_file: Path, retail: FakeRetailPrices, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("prices", "refresh", "--provider", "azure", "--region", "eastus")
    assert prices_refresh(args, azure_endpoint=retail.url) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "refreshed 2 of 6 offers"
    assert "  azure/eastus/Standard_F8s_v2: on-demand 0.338 -> 0.338, spot 0.07 -> 0.0676" in out
    assert "not refreshed:" in out
    assert "  azure/eastus/Standard_F16s_v2 (on-demand): no Linux pay-as-you-go line" in out
    assert out[-2].startswith(
        "kept the figures they had for 4 offers: azure/eastus/Standard_F16s_v2"
    )
    assert out[-1] == f"wrote {prices_file}"
    refreshed = load_catalogue(prices_file).lookup("azure", "eastus", "Standard_NC4as_T4_v3")
    assert refreshed is not None and refreshed.spot == 0.1578
    assert refreshed.spot_source.startswith("refreshed: Azure Retail Prices API")


def test_refresh_exits_1_when_every_provider_failed(
    prices_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = parse("prices", "refresh", "--provider", "azure")
    assert prices_refresh(args, azure_endpoint=f"http://127.0.0.1:{port}/api/retail/prices") == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["refreshed 0 of 12 offers", "not refreshed:"]
    assert out[2].startswith(f"  azure: cannot reach 127.0.0.1:{port}: ")
    assert "Connection refused" in out[2] and len(out) == 4  # and the 12 offers kept
    assert not prices_file.exists()


def test_refresh_of_nothing_listed_succeeds_and_says_so(
    prices_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("prices", "refresh", "--provider", "gcp", "--region", "eastus")
    assert prices_refresh(args) == 0
    assert capsys.readouterr().out.strip() == (
        "nothing to refresh: the catalogue lists no offer for that provider and region"
    )


@pytest.mark.parametrize(
    "argv", [("show", "--provider", "ibm"), ("refresh", "--provider", "aws,ibm")]
)
def test_an_unknown_provider_is_a_one_line_error(prices_file: Path, argv: tuple[str, ...]) -> None:
    args: Any = parse("prices", *argv)
    with pytest.raises(RenderError, match="^unknown provider 'ibm': choose from aws, gcp, azure$"):
        args.handler(args)
