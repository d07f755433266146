"""The price catalogue: what a node of each instance type costs and can do, per cloud and region.

The shipped figures live in ``catalogue.json`` next to this module, so estimates work offline;
``cloudrender prices refresh`` writes an override file (``Settings.prices_file``) in the same
format whose entries replace the shipped ones. Every figure carries its date and its source.

File format (``"format": 1``)::

    {"format": 1,
     "sources": {"aws-on-demand": "https://... (as known 2025-10; not verified online)"},
     "offers": [{"provider": "aws", "region": "us-east-1", "instance_type": "g5.xlarge",
                 "vcpus": 4, "memory_gb": 16, "gpu": "A10G", "gpus": 1,
                 "nvenc": true, "nvdec": true, "nvenc_sessions": null,
                 "on_demand": 1.006, "date": "2025-10-01", "source": "#aws-on-demand",
                 "spot": 0.43, "spot_date": "2025-10-01", "spot_source": "#aws-spot",
                 "interruption_band": "10-15%/month", "interruption_source": "#aws-advisor",
                 "relative_speed": 2.0, "notes": ""}]}

A source that starts with ``#`` names an entry of ``sources``; any other is the text itself.

Interruption bands (``interruption_band``) become rates per node-hour: see ``bands``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from common.errors import RenderError
from providers.compute.pools import Pool, PoolConfigError, unpriced
from providers.compute.prices.bands import band_rates
from providers.compute.prices.stale import stale_warnings

#: The catalogue shipped with the package.
SHIPPED = Path(__file__).with_name("catalogue.json")
FORMAT = 1
PROVIDERS = ("aws", "gcp", "azure")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CatalogueError(RenderError):
    """A catalogue file is malformed; the one-line message names the file, the entry and what
    to fix."""


@dataclass(frozen=True)
class Offer:
    """One instance type in one region: its shape, prices (dollars per hour, Linux) and where
    each figure comes from."""

    provider: str
    region: str
    instance_type: str
    vcpus: int
    memory_gb: float
    #: GPU model ("T4", "A10G", "L4", "L40S"), None for CPU-only types
    gpu: str | None
    gpus: int
    nvenc: bool
    nvdec: bool
    #: concurrent NVENC sessions the driver allows; None: no driver limit (datacenter GPUs)
    nvenc_sessions: int | None
    on_demand: float
    spot: float | None
    #: spot interruptions per node-hour, the band's low and high end (0 without a spot market)
    interruption_low: float
    interruption_high: float
    #: render throughput relative to the development machine's 2-vCPU "local-cpu" class
    relative_speed: float
    #: the on-demand figure's (and the shape's) ISO day and source
    date: str
    source: str
    spot_date: str = ""
    spot_source: str = ""
    interruption_band: str = ""
    interruption_source: str = ""
    notes: str = ""

    @property
    def key(self) -> str:
        """``provider/region/instance_type``: how reports and the override file name it."""
        return f"{self.provider}/{self.region}/{self.instance_type}"

    @property
    def spot_saving(self) -> float | None:
        """The share of the on-demand price spot saves (0.6 = 60 %), None without spot."""
        return None if self.spot is None else 1.0 - self.spot / self.on_demand

    def to_json(self) -> dict[str, Any]:
        """The entry as the catalogue file holds it (sources written out in full)."""
        entry = asdict(self)
        del entry["interruption_low"], entry["interruption_high"]
        return entry


@dataclass(frozen=True)
class Catalogue:
    """Every offer by key, and warnings about figures that may no longer hold."""

    entries: Mapping[str, Offer]
    warnings: tuple[str, ...] = ()
    #: the files read, shipped first
    files: tuple[str, ...] = ()

    def lookup(self, provider: str, region: str, instance_type: str) -> Offer | None:
        """The offer for an instance type in a region, None if the catalogue has none."""
        return self.entries.get(f"{provider}/{region}/{instance_type}")

    def lookup_pool(self, pool: Pool) -> Offer | None:
        """The offer a pool's nodes are billed at: a GCP type with attached GPUs is listed as
        ``machine-type+accelerator`` (``n1-standard-8+nvidia-tesla-t4``)."""
        if pool.provider == "gcp" and pool.gpu and "+" not in pool.instance_type:
            from providers.compute.gcp_template import ACCELERATORS

            accelerator = pool.options.get("accelerator_type") or ACCELERATORS.get(pool.gpu)
            if accelerator:
                found = self.lookup("gcp", pool.region, f"{pool.instance_type}+{accelerator}")
                if found is not None:
                    return found
        return self.lookup(pool.provider, pool.region, pool.instance_type)

    def pool_price(self, pool: Pool) -> float:
        """What one of a pool's nodes costs an hour: its own ``price_per_hour``, else the
        catalogue's figure for its market; PoolConfigError when neither is known (a pool that
        counted as free would slip past every budget while the cloud bills it)."""
        if pool.price_per_hour > 0:
            return pool.price_per_hour
        offer = self.lookup_pool(pool)
        if offer is None:
            raise PoolConfigError(unpriced(pool, "is not in the price catalogue"))
        return offer.spot if pool.spot and offer.spot is not None else offer.on_demand

    def offers(
        self,
        provider: str | Iterable[str] | None = None,
        region: str | Iterable[str] | None = None,
        *,
        gpu: bool | None = None,
        spot: bool | None = None,
        instance_type: str | None = None,
    ) -> list[Offer]:
        """Offers matching every filter given (a name or several), sorted by key."""
        providers, regions = _names(provider), _names(region)
        return [
            o
            for _, o in sorted(self.entries.items())
            if (providers is None or o.provider in providers)
            and (regions is None or o.region in regions)
            and (gpu is None or (o.gpu is not None) == gpu)
            and (spot is None or (o.spot is not None) == spot)
            and (instance_type is None or o.instance_type == instance_type)
        ]


def _names(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def load_catalogue(
    override_path: str | Path | None = None,
    *,
    shipped_path: str | Path = SHIPPED,
    today: date | None = None,
) -> Catalogue:
    """The shipped catalogue with the override file's entries over it (a missing override file
    is no error); raises ``CatalogueError`` for a malformed file."""
    entries = {o.key: o for o in read_offers(shipped_path)}
    files = [str(shipped_path)]
    if override_path is not None:
        path = Path(override_path).expanduser()
        if path.exists():
            entries.update({o.key: o for o in read_offers(path)})
            files.append(str(path))
    return Catalogue(entries, tuple(stale_warnings(entries.values(), today)), tuple(files))


def read_offers(path: str | Path) -> list[Offer]:
    """Every offer of one catalogue file, validated."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"price catalogue {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CatalogueError(
            f"price catalogue {path}: not UTF-8 text (byte {exc.start}); a catalogue is JSON"
        ) from None
    return parse_offers(text, str(path))


def parse_offers(text: str, source: str) -> list[Offer]:
    """Offers from a catalogue file's text; ``source`` names it in errors."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: the top level must be an object with 'offers'")
    if data.get("format") != FORMAT:
        raise CatalogueError(f"{source}: 'format' must be {FORMAT}, not {data.get('format')!r}")
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise CatalogueError(f"{source}: unknown top-level key {unknown[0]!r}")
    if data.get("currency", "USD") != "USD":
        raise CatalogueError(f"{source}: prices must be in USD, not {data['currency']!r}")
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise CatalogueError(f"{source}: 'sources' must map names to text")
    raw = data.get("offers")
    if not isinstance(raw, list):
        raise CatalogueError(f"{source}: 'offers' must be a list")
    offers: dict[str, Offer] = {}
    for index, item in enumerate(raw):
        offer = _Entry(source, index, item, sources).offer()
        if offer.key in offers:
            raise CatalogueError(f"{source}: offer {index} ({offer.key}): listed twice")
        offers[offer.key] = offer
    return list(offers.values())


#: Top-level keys; "about", "currency" and "unit" document the file.
_TOP = {"format", "currency", "unit", "about", "sources", "offers"}
_FIELDS = {
    "provider", "region", "instance_type", "vcpus", "memory_gb", "gpu", "gpus", "nvenc",
    "nvdec", "nvenc_sessions", "on_demand", "date", "source", "spot", "spot_date",
    "spot_source", "interruption_band", "interruption_source", "relative_speed", "notes",
}  # fmt: skip


@dataclass
class _Entry:
    """One entry being validated; every problem names the file and the entry."""

    file: str
    index: int
    item: Any
    sources: Mapping[str, str]
    where: str = field(init=False, default="")

    def offer(self) -> Offer:
        if not isinstance(self.item, dict):
            raise CatalogueError(f"{self.file}: offer {self.index}: must be an object")
        key = "/".join(str(self.item.get(k, "?")) for k in ("provider", "region", "instance_type"))
        self.where = f"{self.file}: offer {self.index} ({key})"
        unknown = sorted(set(self.item) - _FIELDS)
        if unknown:
            self.fail(f"unknown field {unknown[0]!r}")
        provider = self.text("provider")
        if provider not in PROVIDERS:
            self.fail(f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
        region, instance_type = self.text("region"), self.text("instance_type")
        gpu = self.optional_text("gpu")
        gpus = self.integer("gpus", minimum=0)
        if (gpu is None) != (gpus == 0):
            self.fail("gpu and gpus go together: a GPU model with gpus >= 1, or null with 0")
        on_demand = self.number("on_demand")
        spot = None if self.item.get("spot") is None else self.number("spot")
        if spot is not None and spot > on_demand:
            self.fail(f"spot {spot} is above on_demand {on_demand}")
        band = self.optional_text("interruption_band") or ""
        low, high = (0.0, 0.0)
        if spot is not None:
            if not band:
                self.fail("a spot price needs an interruption_band (e.g. '5-10%/month')")
            low, high = self.band(band)
        sessions = self.item.get("nvenc_sessions")
        if sessions is not None:
            sessions = self.integer("nvenc_sessions", minimum=1)
        return Offer(
            provider=provider,
            region=region,
            instance_type=instance_type,
            vcpus=self.integer("vcpus", minimum=1),
            memory_gb=self.number("memory_gb"),
            gpu=gpu,
            gpus=gpus,
            nvenc=self.boolean("nvenc"),
            nvdec=self.boolean("nvdec"),
            nvenc_sessions=sessions,
            on_demand=on_demand,
            spot=spot,
            interruption_low=low,
            interruption_high=high,
            relative_speed=self.number("relative_speed"),
            date=self.day("date"),
            source=self.source("source"),
            spot_date=self.day("spot_date") if spot is not None else "",
            spot_source=self.source("spot_source") if spot is not None else "",
            interruption_band=band,
            interruption_source=self.source("interruption_source") if band else "",
            notes=self.notes(),
        )

    def fail(self, problem: str) -> NoReturn:
        raise CatalogueError(f"{self.where}: {problem}")

    def value(self, name: str) -> Any:
        if name not in self.item:
            self.fail(f"{name} is missing")
        return self.item[name]

    def text(self, name: str) -> str:
        value = self.value(name)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{name} must be a non-empty string, not {value!r}")
        return str(value)

    def optional_text(self, name: str) -> str | None:
        return None if self.item.get(name) is None else self.text(name)

    def notes(self) -> str:
        value = self.item.get("notes", "")
        if not isinstance(value, str):
            self.fail(f"notes must be a string, not {value!r}")
        return value

    def integer(self, name: str, minimum: int) -> int:
        value = self.value(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(f"{name} must be a whole number >= {minimum}, not {value!r}")
        return int(value)

    def number(self, name: str) -> float:
        value = self.value(name)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            self.fail(f"{name} must be a number above 0, not {value!r}")
        return float(value)

    def boolean(self, name: str) -> bool:
        value = self.value(name)
        if not isinstance(value, bool):
            self.fail(f"{name} must be true or false, not {value!r}")
        return bool(value)

    def day(self, name: str) -> str:
        value = self.text(name)
        try:
            if not _DAY.match(value):
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            self.fail(f"{name} must be an ISO day (2025-10-01), not {value!r}")
        return value

    def source(self, name: str) -> str:
        value = self.text(name)
        if value.startswith("#"):
            if value[1:] not in self.sources:
                self.fail(f"{name} names {value[1:]!r}, which 'sources' does not define")
            return self.sources[value[1:]]
        return value

    def band(self, label: str) -> tuple[float, float]:
        try:
            return band_rates(label)
        except ValueError as exc:
            self.fail(f"interruption_band: {exc}")
