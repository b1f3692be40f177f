"""The dashboards' metric math reads the flag metrics the right way round (issue 23: `Rejections` and
`CacheLookups` carry two outcomes in one metric): the 403s are SampleCount - Sum of `Rejections`, the
cache hit ratio is 100 x the Average of `CacheLookups`, in the service's own dashboard and in the
environment's per-sidecar widgets. An id swapped in an expression plots negative 403s and no test of
the widgets' structure sees it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components_support import Plan, run_service
from test_component_nginx import nginx_args
from rampart.components.observability import CACHE_LOOKUPS, REJECTIONS

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
SEARCH = re.compile(r"SEARCH\('.*MetricName=\"(?P<name>[^\"]+)\"', '(?P<stat>[A-Za-z]+)', \d+\)")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_service(nginx_args(dashboard=True))


def _widgets(plan: Plan) -> list[dict[str, Any]]:
    return [w["properties"] for board in plan.of_type(DASHBOARD)
            for w in json.loads(board.inputs["dashboardBody"])["widgets"] if w.get("type") == "metric"]


def _terms(properties: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """A widget's ids as `stat(metric)` (a metric line, or a SEARCH for one metric), and its other
    expressions by label."""
    named: dict[str, str] = {}
    expressions: dict[str, str] = {}
    for line in properties["metrics"]:
        options = line[-1] if isinstance(line[-1], dict) else {}
        if "expression" in options:
            found = SEARCH.fullmatch(options["expression"])
            if found:
                named[options["id"]] = f"{found['stat']}({found['name']})"
            else:
                expressions[options["label"]] = options["expression"]
        elif "id" in options:
            named[options["id"]] = f"{options['stat']}({line[1]})"
    return named, expressions


def _resolved(expression: str, named: dict[str, str]) -> str:
    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: named.get(m[0], m[0]), expression)


def test_the_403s_are_the_rejections_samples_less_the_429s(plan: Plan) -> None:
    rejections = REJECTIONS.metric_name
    seen = {}
    for properties in _widgets(plan):
        named, expressions = _terms(properties)
        for label, expression in expressions.items():
            if label.startswith("403"):
                seen[properties["title"]] = _resolved(expression, named)
    assert seen == {
        "429 / 403 at the proxy": f"SampleCount({rejections}) - Sum({rejections})",
        "429 / 403 at each sidecar": f"SUM(SampleCount({rejections})) - SUM(Sum({rejections}))",
    }, seen


def test_the_hit_ratio_is_the_cache_lookups_average_as_a_percentage(plan: Plan) -> None:
    seen = {}
    for properties in _widgets(plan):
        named, expressions = _terms(properties)
        if "hit ratio" in expressions:
            seen[properties["title"]] = _resolved(expressions["hit ratio"], named)
    expected = f"100 * Average({CACHE_LOOKUPS.metric_name})"
    assert seen == {"Cache hit ratio (%)": expected, "Cache hit ratio (%) at each sidecar": expected}, seen
