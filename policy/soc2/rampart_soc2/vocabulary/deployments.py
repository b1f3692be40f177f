"""What ECS accepts for a service's deployment (`deploymentConfiguration`), declared once.

The component's deployment settings (rampart.components.web_service), the mock engine's refusals
(rampart.offline.aws_checks), the safe-deploy policy and its `minBakeTimeMinutes` threshold, and
`rampart local` all read these, so none of them can disagree with another about which strategies move
traffic between two target groups or how long a bake may be.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

ROLLING, BLUE_GREEN, CANARY, LINEAR = "ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"
#: `deploymentConfiguration.strategy` values ECS accepts; ROLLING is its default.
STRATEGIES: tuple[str, ...] = (ROLLING, BLUE_GREEN, CANARY, LINEAR)
#: The strategies that start the new tasks in a second target group, move traffic to them and keep the old
#: ones for the bake time (ROLLING replaces tasks in place and ignores `bakeTimeInMinutes`), with the
#: configuration block each one needs besides.
SHIFTING_STRATEGIES: Mapping[str, Optional[str]] = {
    BLUE_GREEN: None,
    CANARY: "canaryConfiguration",
    LINEAR: "linearConfiguration",
}
#: Whole minutes ECS accepts for `bakeTimeInMinutes` and a canary's or linear step's interval.
BAKE_TIME_RANGE: tuple[int, int] = (0, 1440)
