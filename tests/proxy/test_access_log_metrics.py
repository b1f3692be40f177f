"""The metric filters' patterns (rampart/components/observability.py) run on log lines the real nginx
wrote with the rendered config: each request below must be counted by exactly the metrics it should be,
so a renamed log field or a field whose type changed (a number nginx now writes quoted) fails here
instead of silently publishing nothing in CloudWatch. The evaluator is tests/proxy/cloudwatch_filter.py."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest

from cloudwatch_filter import matches, metric_value
from proxy_harness import Proxy, Upstream
from rampart.components.observability import ACCESS_LOG_METRICS

# request path -> the metrics its log line must (and only must) feed. Requests by status class and
# their times are the load balancer's per-target-group metrics (AWS/ApplicationELB), not filters.
EXPECTED: dict[str, set[str]] = {
    "/echo": set(),
    "/status/302": set(),
    "/missing": set(),
    "/status/403": {"Forbidden403"},
    "/status/503": {"Upstream5xx"},
    "/static/a.css#miss": {"CacheMisses"},
    "/static/a.css#hit": {"CacheHits"},  # served from cache: no upstream
    "#429": {"RateLimited429"},  # answered by nginx: no upstream
}


def _wait_for_log(proxy: Proxy, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    entries = proxy.nginx.access_log()
    while len(entries) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        entries = proxy.nginx.access_log()
    return entries


def _metrics_of(entry: dict[str, Any]) -> set[str]:
    return {m.metric_name for m in ACCESS_LOG_METRICS if matches(m.pattern, entry)}


@pytest.fixture
def logged(make_proxy: Callable[..., Proxy], upstream: Upstream) -> dict[str, dict[str, Any]]:
    """One real log line per EXPECTED key, by request id."""
    proxy = make_proxy()
    assert proxy.config.cache.enabled and "/static/" in proxy.config.cache.paths
    client = proxy.client()
    ids: dict[str, str] = {}
    for key in EXPECTED:
        if key == "#429":
            continue
        r = client.get(key.split("#")[0])
        ids[key] = r.header("x-request-id") or ""
        time.sleep(0.25)  # stay under the test rate limit (5/s, burst 10)
    assert client.get("/static/a.css").header("x-cache-status") == "HIT"  # the cache works at all
    for _ in range(60):
        r = client.get("/echo")
        if r.status == 429:
            ids["#429"] = r.header("x-request-id") or ""
            break
    assert "#429" in ids, "no request was rate limited"
    entries = _wait_for_log(proxy, len(ids))
    assert (proxy.prefix / "logs" / "access.log").exists(), "the local render writes logs/access.log"
    by_id = {e["request_id"]: e for e in entries}
    missing = [k for k, rid in ids.items() if rid not in by_id]
    assert not missing, f"no log line for {missing}"
    return {k: by_id[rid] for k, rid in ids.items()}


def test_each_real_log_line_feeds_exactly_its_metrics(logged: dict[str, dict[str, Any]]) -> None:
    wrong = {
        key: {"expected": sorted(EXPECTED[key]), "matched": sorted(_metrics_of(entry)), "line": entry}
        for key, entry in logged.items()
        if _metrics_of(entry) != EXPECTED[key]
    }
    assert not wrong, wrong


def test_every_metric_is_fed_by_some_real_line(logged: dict[str, dict[str, Any]]) -> None:
    fed = set().union(*(_metrics_of(e) for e in logged.values()))
    assert fed == {m.metric_name for m in ACCESS_LOG_METRICS}, "a metric no real log line feeds"


def test_value_metrics_read_a_number_from_every_line_they_match(logged: dict[str, dict[str, Any]]) -> None:
    for metric in ACCESS_LOG_METRICS:
        for entry in logged.values():
            if matches(metric.pattern, entry):
                assert metric_value(metric.value, entry) >= 0


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ("{ $.status = 429 }", {"status": 429}, True),
        ("{ $.status = 429 }", {"status": "429"}, False),  # a quoted number is a string
        ("{ $.status >= 500 && $.status < 600 }", {"status": 599}, True),  # at the limit
        ("{ $.status >= 500 && $.status < 600 }", {"status": 600}, False),  # one past it
        ('{ $.upstream_status = "5*" }', {"upstream_status": "502, 200"}, True),
        ('{ $.upstream_status = "5*" }', {"upstream_status": "200, 502"}, False),
        ('{ ($.upstream_status = "2*" || $.upstream_status = "5*") && $.request_time >= 0 }',
         {"upstream_status": "", "request_time": 0.1}, False),  # nginx answered itself
        ('{ ($.upstream_status = "2*" || $.upstream_status = "5*") && $.request_time >= 0 }',
         {"upstream_status": "502, 200", "request_time": 0.1}, True),
        ('{ ($.upstream_status = "2*" || $.upstream_status = "5*") && $.request_time >= 0 }',
         {"upstream_status": "200", "request_time": -1}, False),
        ("{ $.upstream_status IS NULL }", {"upstream_status": None}, True),
        ("{ $.upstream_status IS NULL }", {"upstream_status": ""}, False),
        ("{ $.upstream_status NOT EXISTS }", {"status": 200}, True),
        ("{ $.upstream_status NOT EXISTS }", {"upstream_status": ""}, False),
        ('{ $.cache = "HIT" }', {"cache_status": "HIT"}, False),  # a renamed field never matches
    ],
)
def test_evaluator_semantics(pattern: str, event: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, event) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.upstream_status != "" }',  # no empty-string literal in AWS's documented syntax
        '{ $.upstream_status = "" }',
        "{ $.status = 429 && $.status = 403 || $.status = 500 }",  # no documented precedence: parenthesise
        "{ ($.status = 429 }",
        "{ $.status = 429 && }",
        '{ $.cache = "*IT" }',  # a wildcard only at the end
        '{ $.status > "5" }',  # strings take = and != only
        "{ $.status[0] = 429 }",  # arrays: not used, not evaluated
        "$.status = 429",  # not a JSON pattern
    ],
)
def test_evaluator_refuses_syntax_aws_does_not_document(pattern: str) -> None:
    from cloudwatch_filter import UnsupportedPattern

    with pytest.raises(UnsupportedPattern):
        matches(pattern, {"status": 429, "upstream_status": "", "cache": "HIT"})


def test_evaluator_reads_documented_or_and_parentheses() -> None:
    assert matches("{ $.status = 429 || $.status = 403 }", {"status": 403})
    assert not matches("{ ($.status = 429 || $.status = 403) && $.request_time > 1 }", {"status": 403, "request_time": 1})
    with pytest.raises(TypeError):
        metric_value("$.upstream_time", {"upstream_time": "0.012"})


def test_every_metric_pattern_is_in_the_documented_syntax() -> None:
    """Offline, with no nginx: each pattern the components deploy parses (the live tests above feed them)."""
    from cloudwatch_filter import parse

    for metric in ACCESS_LOG_METRICS:
        parse(metric.pattern)
