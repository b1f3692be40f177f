"""The dated, region-aware price table (`prices.json` beside this module) and its lookups.

The table is data: one entry per region (its name, the date its prices were read, and a price per
key), and one source per key (the AWS pricing page and the line on it). A region the table lacks is
refused with `UnpricedRegion`, never priced with another region's figures.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Mapping

TABLE_FILE = Path(__file__).with_name("prices.json")
#: Where the table is, as a reader of the repository or of the installed package finds it.
TABLE_NAME = "rampart/cost/prices.json"


class UnpricedRegion(LookupError):
    """The table has no prices for a region; the message names it, the regions it has, and the fix."""


@dataclass(frozen=True)
class RegionPrices:
    """One region's prices: `hourly(key)` and `monthly(key)` give dollars a month."""

    region: str
    name: str
    as_of: str
    currency: str
    hours_per_month: int
    prices: Mapping[str, float]

    def price(self, key: str) -> float:
        return float(self.prices[key])

    def hourly(self, key: str) -> float:
        """A price by the hour, as a month of `hours_per_month` hours (AWS's own convention: 730)."""
        return self.price(key) * self.hours_per_month

    def monthly(self, key: str) -> float:
        return self.price(key)


@dataclass(frozen=True)
class PriceTable:
    currency: str
    hours_per_month: int
    basis: str
    sources: Mapping[str, Mapping[str, str]]
    regions: Mapping[str, Mapping[str, Any]]

    def for_region(self, region: str) -> RegionPrices:
        entry = self.regions.get(region)
        if entry is None:
            raise UnpricedRegion(
                f"the price table ({TABLE_NAME}) has no prices for region {region!r} (it has "
                f"{', '.join(sorted(self.regions))}); nothing was priced. Add that region's prices there, "
                "from the pages its `sources` name, with the date you read them")
        return RegionPrices(region, str(entry["name"]), str(entry["asOf"]), self.currency, self.hours_per_month,
                            {k: float(v) for k, v in entry["prices"].items()})


@cache
def load_table(path: Path = TABLE_FILE) -> PriceTable:
    data = json.loads(path.read_text())
    return PriceTable(str(data["currency"]), int(data["hoursPerMonth"]), str(data["basis"]),
                      data["sources"], data["regions"])
