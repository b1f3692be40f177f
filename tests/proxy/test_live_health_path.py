"""The sidecar answers exactly the health path itself (`location = HEALTH_CHECK_PATH`, in the service's
server and in the 421 catch-all): a longer path that starts with it (`/healthz/app`, `/healthzz`) is the
app's, proxied as any other, never the sidecar's "ok" (a prefix location would swallow the app's paths
and answer 200 for them, on a name the service does not serve too). The health answers are not logged:
the load balancer asks every few seconds from each zone, and each line is CloudWatch Logs ingestion."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from proxy_harness import TEST_CONFIG, Proxy, Upstream
from rampart.components.routing import HEALTH_CHECK_PATH

LONGER = (HEALTH_CHECK_PATH + "/app", HEALTH_CHECK_PATH + "z")


@pytest.mark.parametrize("path", LONGER)
def test_a_longer_path_than_the_health_path_is_the_apps(live: Proxy, upstream: Upstream, path: str) -> None:
    answer = live.client().get(path)
    assert answer.body != b"ok\n" and upstream.hits(path) == 1, (answer.status, answer.body)
    assert live.client().get(HEALTH_CHECK_PATH).body == b"ok\n"  # the exact path: the sidecar's answer


def test_the_catch_all_answers_only_the_exact_health_path(make_proxy: Callable[..., Proxy]) -> None:
    proxy = make_proxy({**TEST_CONFIG, "serverNames": ["localhost"]})
    by_address = proxy.client(f"10.0.3.7:{proxy.port}")
    assert by_address.get(HEALTH_CHECK_PATH).status == 200
    for path in LONGER:
        assert by_address.get(path).status == 421, path


def test_the_health_answers_are_not_logged(make_proxy: Callable[..., Proxy]) -> None:
    proxy = make_proxy({**TEST_CONFIG, "serverNames": ["localhost"]})
    assert proxy.client(f"10.0.3.7:{proxy.port}").get(HEALTH_CHECK_PATH).status == 200  # the catch-all's
    client = proxy.client()
    assert client.get(HEALTH_CHECK_PATH).status == 200  # the service's server's
    client.get("/echo")  # logged: once its line is there, the health lines before it would be too
    for _ in range(50):
        paths = [entry["path"] for entry in proxy.nginx.access_log()]
        if "/echo" in paths:
            break
        time.sleep(0.1)
    assert "/echo" in paths and HEALTH_CHECK_PATH not in paths, paths
