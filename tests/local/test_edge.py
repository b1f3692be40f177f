"""The edge's routing: ALB wildcards, case rules and rule priority, as nginx will evaluate them."""

from __future__ import annotations

import re

from rampart.local.edge import EdgeTarget, nginx_conf, route_regex, targets
from rampart.local.tasks import Route, Task


def route(paths: list[str], hosts: list[str] | None = None, priority: int = 1) -> Route:
    return Route(priority=priority, hosts=hosts or [], paths=paths, container="proxy", port=8443,
                 health_check_path="/healthz")


def matches(r: Route, host: str, path: str) -> bool:
    return re.fullmatch(route_regex(r), f"{host}:{path}") is not None


def test_path_pattern_is_a_case_sensitive_wildcard() -> None:
    api = route(["/api/*"])
    assert matches(api, "localhost", "/api/v1/info")
    assert matches(api, "localhost", "/api/")
    assert not matches(api, "localhost", "/api")
    assert not matches(api, "localhost", "/API/v1")
    assert not matches(api, "localhost", "/x/api/v1")
    one = route(["/v?/x"])
    assert matches(one, "h", "/v1/x") and not matches(one, "h", "/v10/x")
    dots = route(["/a.b"])
    assert not matches(dots, "h", "/aXb"), "a literal dot is not a regex dot"


def test_host_condition_is_case_insensitive_and_anded_with_paths() -> None:
    r = route(["/*"], hosts=["*.Example.com"])
    assert matches(r, "api.example.com", "/")  # nginx lower-cases $host
    assert not matches(r, "example.org", "/")
    assert matches(route(["/*"]), "anything", "/x")


def test_rules_are_written_lowest_priority_first() -> None:
    task_a = Task("web", "web-dev", {}, [], routes=[route(["/*"], priority=50)])
    task_b = Task("api", "api-dev", {}, [], routes=[route(["/api/*"], priority=10)])
    found = targets([task_a, task_b], {"web": "w", "api": "a"})
    assert [t.service for t in found] == ["api", "web"]
    conf = nginx_conf(found, 8443)
    assert conf.index('"target_a_8443"') < conf.index('"target_w_8443"')
    assert "upstream target_a_8443 { server a:8443; keepalive 16; }" in conf
    assert 'default "";' in conf and "return 404;" in conf
    assert "return 308 https://$host:8443$request_uri;" in conf
    assert isinstance(found[0], EdgeTarget)
