"""How a service deploys a change, read from the plan's `aws:ecs/service:Service`
(`deploymentConfiguration`), and what `rampart local up` makes of it (docs/local.md, "Deploying a
change"). One function reads the plan's inputs (`deployment_of`), so a test can hand it a resource's
inputs as a dict.

Locally every strategy is the same safe switch: the new release starts beside the old one, traffic
moves at the edge once it passes its health checks, and the old one is kept for the bake time while
the new one is watched. What differs is only the bake time:
  ROLLING (or no setting)  bake 0: ECS ignores `bakeTimeInMinutes` for it; the switch is still safe
  BLUE_GREEN               `bakeTimeInMinutes`
  CANARY, LINEAR           `bakeTimeInMinutes`; traffic moves all at once locally (one task per
                           service), so the canary or step percentages and their own bake times are
                           not reproduced"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rampart.errors import UserError
from rampart_soc2.vocabulary.deployments import (
    BAKE_TIME_RANGE, CANARY, LINEAR, ROLLING, SHIFTING_STRATEGIES, STRATEGIES,
)

#: The strategies whose `bakeTimeInMinutes` ECS applies (ROLLING ignores it).
BAKED = frozenset(SHIFTING_STRATEGIES)
#: ECS's longest `bakeTimeInMinutes` (whole minutes); `--bake-time` keeps to it too.
MAX_BAKE_MINUTES = BAKE_TIME_RANGE[1]
SECONDS_PER_MINUTE = 60


@dataclass(frozen=True)
class Deployment:
    """A service's deployment strategy and bake time, as its plan gives them."""

    strategy: str = ROLLING
    bake_minutes: int = 0
    """`bakeTimeInMinutes` as written (ROLLING keeps it, but ECS ignores it there)."""

    @property
    def bake_s(self) -> float:
        """How long the old release is kept beside the new one after traffic moved."""
        return float(self.bake_minutes * SECONDS_PER_MINUTE) if self.strategy in BAKED else 0.0

    def describe(self) -> str:
        if self.strategy not in BAKED:
            return f"{self.strategy} (locally: the same safe switch, bake 0)"
        shown = f"{self.strategy}, bake {self.bake_minutes} min"
        return shown + (" (locally all traffic moves at once)" if self.strategy in (CANARY, LINEAR) else "")


def deployment_of(service_inputs: Mapping[str, Any], where: str) -> Deployment:
    """The deployment of an `aws:ecs/service:Service` from its plan inputs (camelCase, as the mock
    engine records them). `where` names the resource in errors. No `deploymentConfiguration`, or none
    of these keys in it, is ECS's default: ROLLING, bake 0."""
    config = service_inputs.get("deploymentConfiguration") or {}
    strategy = config.get("strategy") or ROLLING
    if strategy not in STRATEGIES:
        raise UserError(f"{where}: deploymentConfiguration.strategy is {strategy!r}; ECS accepts "
                        f"{', '.join(STRATEGIES)}: set the service's deployment strategy to one of them")
    raw = config.get("bakeTimeInMinutes")
    bake = 0 if raw is None else bake_minutes(raw, f"{where}: deploymentConfiguration.bakeTimeInMinutes")
    return Deployment(strategy=str(strategy), bake_minutes=bake)


def bake_minutes(raw: object, where: str) -> int:
    """Whole minutes in ECS's range 0-MAX_BAKE_MINUTES (the provider types it as a string)."""
    text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if text is None or not re.fullmatch(r"[0-9]+", text.strip()) or int(text) > MAX_BAKE_MINUTES:
        raise UserError(f"{where} is {raw!r}; ECS accepts whole minutes from 0 to {MAX_BAKE_MINUTES}: "
                        "set the service's bake time within that range")
    return int(text)


#: `--bake-time` values: a whole number with an optional unit (`s` seconds, `m` minutes; bare: minutes).
BAKE_TIME_PATTERN = re.compile(r"([0-9]+)([sm]?)")


def parse_bake_time(text: str) -> float:
    """`--bake-time` in seconds: `90s`, `10m` or `10` (minutes, as the plan counts them), at most
    MAX_BAKE_MINUTES, as ECS allows."""
    match = BAKE_TIME_PATTERN.fullmatch(text.strip())
    seconds = None
    if match:
        count = int(match[1])
        seconds = float(count if match[2] == "s" else count * SECONDS_PER_MINUTE)
    if seconds is None or seconds > MAX_BAKE_MINUTES * SECONDS_PER_MINUTE:
        raise UserError(f"--bake-time {text!r}: give whole seconds or minutes up to {MAX_BAKE_MINUTES} min "
                        "(e.g. `30s`, `10m`; a bare number is minutes)")
    return seconds
