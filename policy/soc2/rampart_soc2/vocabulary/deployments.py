"""What ECS accepts for a service's deployment (`deploymentConfiguration`), declared once.

The component's deployment settings (rampart.components.web_service), the mock engine's refusals
(rampart.offline.aws_checks), the safe-deploy policy and its `minBakeTimeMinutes` threshold, and
`rampart local` all read these, so none of them can disagree with another about which strategies move
traffic between two target groups or how long a bake may be.
"""
from __future__ import annotations

import math
from typing import Optional

ROLLING, BLUE_GREEN, CANARY, LINEAR = "ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"
#: `deploymentConfiguration.strategy` values ECS accepts; ROLLING is its default.
STRATEGIES: tuple[str, ...] = (ROLLING, BLUE_GREEN, CANARY, LINEAR)
#: The strategies that start the new tasks in a second target group, move traffic to them and keep the old
#: ones for the bake time (ROLLING replaces tasks in place and ignores `bakeTimeInMinutes`). CANARY's and
#: LINEAR's own blocks (`canaryConfiguration`, `linearConfiguration`) are optional: ECS has defaults.
SHIFTING_STRATEGIES: tuple[str, ...] = (BLUE_GREEN, CANARY, LINEAR)
#: Whole minutes ECS accepts for `bakeTimeInMinutes` and a canary's or linear step's interval.
BAKE_TIME_RANGE: tuple[int, int] = (0, 1440)
#: Traffic shares ECS accepts for a canary (`canaryPercent`) and a linear step (`stepPercent`), in
#: multiples of PERCENT_STEP (API_CanaryConfiguration, API_LinearConfiguration).
CANARY_PERCENT_RANGE: tuple[float, float] = (0.1, 100.0)
LINEAR_STEP_PERCENT_RANGE: tuple[float, float] = (3.0, 100.0)
PERCENT_STEP = 0.1


def percent_problem(value: float, accepted: tuple[float, float]) -> Optional[str]:
    """Why ECS refuses `value` as a canary or linear-step share (None when it accepts it): outside
    `accepted`, or not a multiple of PERCENT_STEP."""
    low, high = accepted
    if not low <= value <= high:
        return f"{value:g} is outside {low:g}-{high:g}"
    tenths = value / PERCENT_STEP
    if abs(tenths - round(tenths)) > 1e-6:
        return f"{value:g} is not a multiple of {PERCENT_STEP:g}"
    return None


def linear_intervals(step_percent: float) -> int:
    """The step bake times a linear deployment waits: one after each shift but the one that reaches 100%
    (ECS applies no step bake time there), so 25% waits 3 times and 30% (30, 60, 90, 100) 3 times."""
    return max(math.ceil(100 / step_percent - 1e-9) - 1, 0)
