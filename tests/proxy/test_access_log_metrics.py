"""The metric filters' patterns and values (rampart/components/observability.py) run on log lines the real
nginx wrote with the rendered config: each request below must be counted by exactly the metrics it should
be, with the value it should add, so a renamed log field, a field whose type changed (a number nginx now
writes quoted) or a 0/1 flag written for the wrong line fails here instead of silently publishing wrong
figures in CloudWatch. The evaluator is tests/proxy/cloudwatch_filter.py."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest

from cloudwatch_filter import matches, metric_value
from proxy_harness import Proxy, Upstream
from rampart.components.observability import (
    ACCESS_LOG_FLAGS,
    ACCESS_LOG_METRICS,
    CACHE_LOOKUPS,
    REJECTIONS,
    UPSTREAM_5XX,
)

# request -> {metric its log line must (and only must) feed: the value the line adds}. Requests by status
# class and their times are the load balancer's per-target-group metrics (AWS/ApplicationELB), not filters.
# A flag metric's Sum is the lines that add 1, its SampleCount the lines it matches at all.
EXPECTED: dict[str, dict[str, float]] = {
    "/echo": {},  # no cache lookup at all: no CacheLookups sample
    "/status/302": {},
    "/missing": {},
    "/status/403": {REJECTIONS.metric_name: 0},  # a 403: a Rejections sample that adds nothing to the Sum
    "/status/403#again": {REJECTIONS.metric_name: 0},  # two 403s and one 429: swapped flags would show
    "/status/503": {UPSTREAM_5XX.metric_name: 1},
    "/static/a.css#miss": {CACHE_LOOKUPS.metric_name: 0},
    "/static/a.css#hit": {CACHE_LOOKUPS.metric_name: 1},  # served from cache: no upstream
    "/static/a.css#hit-again": {CACHE_LOOKUPS.metric_name: 1},  # two hits and one miss
    "/static/a.css#bypass": {},  # BYPASS (an Authorization header): not a lookup, no sample
    "#429": {REJECTIONS.metric_name: 1},  # answered by nginx: no upstream
    "#502": {UPSTREAM_5XX.metric_name: 1},  # the app is down: nginx answers 502 itself
}
# the cache status each cache request's line must show, so the cases above are what they say
CACHE_STATUS = {"/static/a.css#miss": "MISS", "/static/a.css#hit": "HIT", "/static/a.css#hit-again": "HIT",
                "/static/a.css#bypass": "BYPASS", "/echo": ""}


def _wait_for_log(proxy: Proxy, request_ids: set[str]) -> list[dict[str, Any]]:
    """The log once it has a line for each of `request_ids` (nginx flushes a buffered log within 1 s)."""
    deadline = time.monotonic() + 5
    entries = proxy.nginx.access_log()
    while not request_ids <= {e["request_id"] for e in entries} and time.monotonic() < deadline:
        time.sleep(0.05)
        entries = proxy.nginx.access_log()
    return entries


def _contributions(entry: dict[str, Any]) -> dict[str, float]:
    """What one log line adds to each metric whose filter matches it (the value CloudWatch records)."""
    return {m.metric_name: metric_value(m.value, entry) for m in ACCESS_LOG_METRICS if matches(m.pattern, entry)}


@pytest.fixture
def logged(make_proxy: Callable[..., Proxy], upstream: Upstream) -> dict[str, dict[str, Any]]:
    """One real log line per EXPECTED key, by request id."""
    proxy = make_proxy()
    assert proxy.config.cache.enabled and "/static/" in proxy.config.cache.paths
    client = proxy.client()
    ids: dict[str, str] = {}
    for key in EXPECTED:
        if key.startswith("#"):
            continue
        headers = {"Authorization": "Bearer test"} if key.endswith("#bypass") else None
        r = client.get(key.split("#")[0], headers)
        ids[key] = r.header("x-request-id") or ""
        time.sleep(0.25)  # stay under the test rate limit (5/s, burst 10)
    for _ in range(60):
        r = client.get("/echo")
        if r.status == 429:
            ids["#429"] = r.header("x-request-id") or ""
            break
    assert "#429" in ids, "no request was rate limited"
    time.sleep(2.5)  # the rate limit's burst drains (5/s) before the last request
    upstream.stop()
    r = client.get("/")
    assert r.status == 502, f"with the app down the sidecar answered {r.status}, not 502"
    ids["#502"] = r.header("x-request-id") or ""
    entries = _wait_for_log(proxy, set(ids.values()))
    assert (proxy.prefix / "logs" / "access.log").exists(), "the local render writes logs/access.log"
    by_id = {e["request_id"]: e for e in entries}
    missing = [k for k, rid in ids.items() if rid not in by_id]
    assert not missing, f"no log line for {missing}"
    return {k: by_id[rid] for k, rid in ids.items()}


def test_the_cases_are_what_they_say(logged: dict[str, dict[str, Any]]) -> None:
    assert {k: logged[k]["cache"] for k in CACHE_STATUS} == CACHE_STATUS
    assert logged["#429"]["status"] == 429 and logged["/status/403"]["status"] == 403
    assert logged["#502"]["status"] == 502 and logged["#502"]["upstream_status"].startswith("502")


def test_each_real_log_line_feeds_exactly_its_metrics_with_its_value(logged: dict[str, dict[str, Any]]) -> None:
    wrong = {
        key: {"expected": EXPECTED[key], "got": _contributions(entry), "line": entry}
        for key, entry in logged.items()
        if _contributions(entry) != EXPECTED[key]
    }
    assert not wrong, wrong


def test_every_metric_is_fed_by_some_real_line(logged: dict[str, dict[str, Any]]) -> None:
    fed = set().union(*(_contributions(e) for e in logged.values()))
    assert fed == {m.metric_name for m in ACCESS_LOG_METRICS}, "a metric no real log line feeds"


def test_a_flag_metric_keeps_both_outcomes(logged: dict[str, dict[str, Any]]) -> None:
    """What the alarm and the widgets read back: Rejections' Sum is the 429s and SampleCount - Sum the
    403s; CacheLookups' Sum is the hits, SampleCount the hits and misses (BYPASS and no lookup left out)."""
    def stats(metric_name: str) -> tuple[float, int]:
        values = [c[metric_name] for c in map(_contributions, logged.values()) if metric_name in c]
        return sum(values), len(values)

    statuses = [e["status"] for e in logged.values()]
    limited, refused = stats(REJECTIONS.metric_name)
    assert (limited, refused - limited) == (statuses.count(429), statuses.count(403)) == (1, 2)
    caches = [e["cache"] for e in logged.values()]
    hits, lookups = stats(CACHE_LOOKUPS.metric_name)
    assert (hits, lookups) == (caches.count("HIT"), caches.count("HIT") + caches.count("MISS")) == (2, 3)


def test_every_line_is_json_with_each_flag_a_number_or_null(logged: dict[str, dict[str, Any]]) -> None:
    """The flags are unquoted: a quoted "1" would be a string, which a numeric pattern never matches."""
    for key, entry in logged.items():
        for flag in ACCESS_LOG_FLAGS:
            value = entry.get(flag.field, "absent")
            assert value is None or (type(value) is int and value in (0, 1)), f"{key}: {flag.field} is {value!r}"


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
        # a 0/1 flag: a number matches, null (no outcome), a quoted number or no field at all does not
        ("{ $.cache_hit = 0 || $.cache_hit = 1 }", {"cache_hit": 0}, True),
        ("{ $.cache_hit = 0 || $.cache_hit = 1 }", {"cache_hit": 1}, True),
        ("{ $.cache_hit = 0 || $.cache_hit = 1 }", {"cache_hit": None}, False),
        ("{ $.cache_hit = 0 || $.cache_hit = 1 }", {"cache_hit": "1"}, False),
        ("{ $.cache_hit = 0 || $.cache_hit = 1 }", {"cache": "HIT"}, False),
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
    with pytest.raises(TypeError):
        metric_value("$.cache_hit", {"cache_hit": None})
    assert metric_value("$.cache_hit", {"cache_hit": 0}) == 0


def test_every_metric_pattern_is_in_the_documented_syntax() -> None:
    """Offline, with no nginx: each pattern the components deploy parses (the live tests above feed them)."""
    from cloudwatch_filter import parse

    for metric in ACCESS_LOG_METRICS:
        parse(metric.pattern)
