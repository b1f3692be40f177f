"""Which directives each rendered location carries (`rampart.components.nginx_conf._location`): a
location takes the limit of every rate-limit zone whose prefix it starts with (not only the zone of
its own prefix), and the cache of every cached path it lies under. Nested prefixes are the boundary:
a location at a zone's prefix, one below it, one beside it."""

from __future__ import annotations

from typing import Any

from rampart.components.nginx_conf import RenderTarget, render_nginx_conf
from rampart.components.proxy_config import ProxyConfig
from test_proxy_config import find, parse

CONFIG = {
    "rateLimit": {"zones": [
        {"name": "all", "pathPrefix": "/", "ratePerSecond": 50, "burst": 100},
        {"name": "api", "pathPrefix": "/api/", "ratePerSecond": 5, "burst": 10},
        {"name": "img", "pathPrefix": "/static/img/", "ratePerSecond": 20, "burst": 40},
    ]},
    "cache": {"enabled": True, "paths": ["/static/", "/api/static/"]},
}


def _locations() -> dict[str, dict[str, Any]]:
    tree = parse(render_nginx_conf(ProxyConfig.model_validate(CONFIG), RenderTarget(upstream_port=3000)))
    return {loc["args"][-1]: loc for loc in find(tree, "location") if find(loc["block"], "proxy_pass")}


def test_each_location_takes_every_zone_above_it() -> None:
    zones = {prefix: [d["args"][0] for d in find(loc["block"], "limit_req")] for prefix, loc in _locations().items()}
    assert zones == {
        "/": ["zone=all"],
        "/api/": ["zone=all", "zone=api"],
        "/api/static/": ["zone=all", "zone=api"],
        "/static/": ["zone=all"],
        "/static/img/": ["zone=all", "zone=img"],
    }


def test_each_location_under_a_cached_path_is_cached() -> None:
    cached = sorted(prefix for prefix, loc in _locations().items() if find(loc["block"], "proxy_cache"))
    assert cached == ["/api/static/", "/static/", "/static/img/"]
