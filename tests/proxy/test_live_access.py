"""Live nginx: access control per path (allow-lists on the real client address, sign-in headers
only where the ALB signed the user in), rendered from the model the service's routing fills in."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from rampart.components.routing import HEALTH_CHECK_PATH
from proxy_harness import TEST_CONFIG, Proxy, Upstream
from test_live_nginx import assert_security_headers

pytestmark = pytest.mark.nginx

OFFICE = "198.51.100.0/24"
ACCESS = [
    {"paths": ["/admin/*"], "allowCidrs": [OFFICE]},
    {"paths": ["/sso/*"], "signedIn": True},
]
FORGED = {
    "x-amzn-oidc-accesstoken": "forged-token",
    "x-amzn-oidc-identity": "admin@example.com",
    "x-amzn-oidc-data": "forged.jwt.claims",
}


def behind_alb(make_proxy: Callable[..., Proxy]) -> Proxy:
    """The test client's loopback address stands for the ALB: X-Forwarded-For names the client."""
    return make_proxy({**TEST_CONFIG, "trustedProxyCidrs": ["127.0.0.0/8"], "access": ACCESS})


def log_entry(proxy: Proxy, request_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for entry in proxy.nginx.access_log():
            if entry["request_id"] == request_id:
                return entry
        time.sleep(0.05)
    raise AssertionError(f"request {request_id} was not logged")


def test_allowed_network_reaches_the_app_others_get_403_with_headers(
    make_proxy: Callable[..., Proxy], upstream: Upstream
) -> None:
    proxy = behind_alb(make_proxy)
    c = proxy.client()
    ok = c.get("/admin/users", {"X-Forwarded-For": "198.51.100.7"})
    assert ok.status == 200 and upstream.hits("/admin/users") == 1
    # the client's own X-Forwarded-For entry before the ALB's does not help: the ALB appends the peer
    for chain in ("203.0.113.9", "198.51.100.7, 203.0.113.9"):
        denied = c.get("/admin/users", {"X-Forwarded-For": chain, "X-Request-ID": "denied-request-0001"})
        assert denied.status == 403, chain
        assert_security_headers(denied, f"403 for {chain}", proxy.config)
    assert upstream.hits("/admin/users") == 1, "a denied request reached the app"
    entry = log_entry(proxy, "denied-request-0001")
    assert entry["status"] == 403 and entry["client"] == "203.0.113.9" and entry["path"] == "/admin/users"
    # other paths and the health check stay open; a path that only starts like the pattern is not restricted
    assert c.get("/public", {"X-Forwarded-For": "203.0.113.9"}).status == 200
    assert c.get(HEALTH_CHECK_PATH, {"X-Forwarded-For": "203.0.113.9"}).status == 200
    assert c.get("/administrator", {"X-Forwarded-For": "203.0.113.9"}).status == 200
    # the decoded, normalised path is matched: encodings and dot segments do not slip past
    for sneaky in ("/%61dmin/users", "/public/../admin/users", "//admin/users"):
        assert c.get(sneaky, {"X-Forwarded-For": "203.0.113.9"}).status == 403, sneaky


def test_spoofed_x_forwarded_for_from_an_untrusted_peer_does_not_grant_access(
    make_proxy: Callable[..., Proxy], upstream: Upstream
) -> None:
    proxy = make_proxy({**TEST_CONFIG, "access": ACCESS})  # trusts 10.0.0.0/8 only, not the test client
    c = proxy.client()
    r = c.get("/admin/users", {"X-Forwarded-For": "198.51.100.7"})
    assert r.status == 403
    assert_security_headers(r, "403 to an untrusted peer", proxy.config)
    assert upstream.hits("/admin/users") == 0


def test_oidc_headers_from_the_client_never_reach_the_app_off_signed_in_paths(
    make_proxy: Callable[..., Proxy], upstream: Upstream
) -> None:
    proxy = behind_alb(make_proxy)
    c = proxy.client()
    for path in ("/echo", "/admin/echo"):
        assert c.get(path, {**FORGED, "X-Forwarded-For": "198.51.100.7"}).status == 200
        seen = upstream.seen[-1]
        assert seen.path == path
        leaked = sorted(set(FORGED) & set(seen.headers))
        assert leaked == [], f"{path}: the app received forged {leaked}"
    # on the signed-in path the ALB's headers are passed through unchanged
    assert c.get("/sso/echo", FORGED).status == 200
    seen = upstream.seen[-1]
    assert {k: seen.headers.get(k) for k in FORGED} == FORGED


def test_health_check_stays_open_under_an_allow_list_on_every_path(
    make_proxy: Callable[..., Proxy], upstream: Upstream
) -> None:
    """The ALB probes the health path from its own address: an allow-list on `/*` must not fail the target."""
    proxy = make_proxy({**TEST_CONFIG, "trustedProxyCidrs": ["127.0.0.0/8"],
                        "access": [{"paths": ["/*"], "allowCidrs": [OFFICE]}]})
    c = proxy.client()
    assert c.get(HEALTH_CHECK_PATH).status == 200
    assert c.get("/anything", {"X-Forwarded-For": "203.0.113.9"}).status == 403, "control: /* is restricted"


def test_a_dot_in_a_signed_in_pattern_is_literal(make_proxy: Callable[..., Proxy], upstream: Upstream) -> None:
    """`/v1.0/*` is signed in at the ALB; `/v1x0/` is not, so forged identity headers stop there."""
    proxy = make_proxy({**TEST_CONFIG, "access": [{"paths": ["/v1.0/*"], "signedIn": True}]})
    c = proxy.client()
    assert c.get("/v1x0/echo", FORGED).status == 200
    leaked = sorted(set(FORGED) & set(upstream.seen[-1].headers))
    assert leaked == [], f"/v1x0/echo: the app received forged {leaked}"
    assert c.get("/v1.0/echo", FORGED).status == 200
    assert {k: upstream.seen[-1].headers.get(k) for k in FORGED} == FORGED, "control: the signed-in path passes them"


def test_a_client_inside_the_trusted_range_cannot_claim_an_allowed_address(
    make_proxy: Callable[..., Proxy], upstream: Upstream
) -> None:
    """The ALB appends the address it saw; with one ALB hop that last entry is the client, even when the
    client is itself a host in the ALB's subnets (an existing VPC may place others there). Walking back
    past trusted entries (`real_ip_recursive on`) would believe the client's own claim instead."""
    proxy = behind_alb(make_proxy)
    denied = proxy.client().get("/admin/users", {"X-Forwarded-For": "198.51.100.7, 127.0.0.5"})
    assert denied.status == 403, "a host in the trusted range claimed an allow-listed address"
    assert upstream.hits("/admin/users") == 0
