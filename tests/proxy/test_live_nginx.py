"""The rendered proxy config under a real nginx on 127.0.0.1 (issue 5, list 6).

Tests taking the `live` fixture run twice: against the model rendered with small test limits,
and against the acceptance path (`rampart render-proxy --stack dev --local`, run as is)."""

from __future__ import annotations

import ipaddress
import json
import math
import re
import ssl
import time
from collections.abc import Callable

import pytest

from rampart.components.proxy_config import _OPEN_FILE_CACHE_MAX, ProxyConfig
from rampart.components.routing import HEALTH_CHECK_PATH
from proxy_harness import TEST_CONFIG, Proxy, Client, Nginx, Response, Upstream, nginx_test, tls_handshake

pytestmark = pytest.mark.nginx

SECURITY_HEADERS = (
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "permissions-policy",
    "content-security-policy",
)


def assert_security_headers(resp: Response, what: str, config: ProxyConfig) -> None:
    for name in SECURITY_HEADERS:
        values = resp.headers.get(name)
        assert values, f"{what}: status {resp.status} response lacks {name}"
        assert len(values) == 1, f"{what}: {name} sent {len(values)} times: {values}"
    assert resp.header("x-content-type-options") == "nosniff"
    assert resp.header("x-frame-options") == config.headers.frame_options
    assert resp.header("content-security-policy") == config.headers.content_security_policy
    assert resp.header("strict-transport-security") == config.hsts.header_value()
    server = resp.header("server")
    assert server is not None and not any(c.isdigit() for c in server) and "/" not in server, (
        f"{what}: Server header reveals a version: {server!r}"
    )
    assert b"nginx/" not in resp.body, f"{what}: error page reveals the nginx version"


def flood_past_limit(client: Client, path: str, rate: int, burst: int,
                     headers: Callable[[int], dict[str, str]] | None = None,
                     budget_s: float = 20.0) -> tuple[list[Response], float]:
    """Send requests back to back until a single client key must have been limited: more than
    burst + 1 + rate x elapsed + 20 requests (the most nginx may serve, plus a margin). Adapts to a
    slow or loaded machine instead of assuming a request rate."""
    out: list[Response] = []
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if len(out) > burst + 1 + rate * elapsed + 20:
            return out, elapsed
        assert elapsed < budget_s, f"could not send faster than {rate}/s for {budget_s}s: the machine is too slow"
        out.append(client.get(path, headers(len(out)) if headers else None))


def zone_for(config: ProxyConfig, path: str) -> tuple[int, int]:
    zones = [z for z in config.rate_limit.zones if path.startswith(z.path_prefix)]
    assert config.rate_limit.enabled and zones, "the config under test has no rate limit for /"
    return min(z.rate_per_second for z in zones), min(z.burst for z in zones)


# ---------------------------------------------------------------------------------------------


def test_nginx_t_accepts_the_rendered_config(live: Proxy) -> None:
    done = nginx_test(live.prefix)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_container_mode_config_passes_nginx_t(tmp_path, tls_dir) -> None:  # type: ignore[no-untyped-def]
    # The image's config, with its absolute paths moved under a test prefix.
    from rampart.components.nginx_conf import CONTAINER_PATHS, RenderTarget, render_nginx_conf

    conf = render_nginx_conf(ProxyConfig(), RenderTarget(mode="container", upstream_port=3000))
    for key, path in CONTAINER_PATHS.items():
        conf = conf.replace(path, str(tmp_path / key))
    (tmp_path / "var").mkdir()
    (tmp_path / "tls_dir").mkdir()
    for name in ("cert.pem", "key.pem"):
        (tmp_path / "tls_dir" / name).write_bytes((tls_dir / name).read_bytes())
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(conf.replace("daemon off;", ""))
    done = nginx_test(tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_old_tls_versions_are_refused(live: Proxy, version: ssl.TLSVersion) -> None:
    with pytest.raises(ssl.SSLError):
        tls_handshake(live.port, version=version)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_12_and_13_are_accepted_with_http2(live: Proxy, version: ssl.TLSVersion) -> None:
    if version == ssl.TLSVersion.TLSv1_2 and live.config.tls.profile == "modern":
        with pytest.raises(ssl.SSLError):
            tls_handshake(live.port, version=version)
        return
    negotiated, _, alpn = tls_handshake(live.port, version=version, alpn=["h2", "http/1.1"])
    assert negotiated == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    assert alpn == "h2"


def test_only_forward_secret_aead_ciphers(live: Proxy) -> None:
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.set_ciphers("ALL:@SECLEVEL=0")
    tls12 = [c["name"] for c in probe.get_ciphers() if c["protocol"] == "TLSv1.2" or c["protocol"] == "SSLv3"]
    assert len(tls12) > 20
    accepted = []
    for name in tls12:
        try:
            tls_handshake(live.port, version=ssl.TLSVersion.TLSv1_2, ciphers=name + ":@SECLEVEL=0")
        except ssl.SSLError:
            continue
        accepted.append(name)
    if live.config.tls.profile == "intermediate":
        assert accepted, "no TLS 1.2 cipher was accepted at all"
    for name in accepted:
        assert name.startswith(("ECDHE-", "DHE-")), f"{name}: no forward secrecy"
        assert "GCM" in name or "CHACHA20" in name, f"{name}: not an AEAD cipher"
    _, cipher13, _ = tls_handshake(live.port, version=ssl.TLSVersion.TLSv1_3)
    assert cipher13.startswith("TLS_") and ("GCM" in cipher13 or "CHACHA20" in cipher13)


def test_probe_control_the_client_can_speak_tls10_and_cbc(make_proxy: Callable[..., Proxy]) -> None:
    """Control for the two tests above: the same probes succeed against a deliberately weak nginx,
    so their refusals come from our config, not from the client."""
    proxy = make_proxy(start=False)
    conf = (proxy.prefix / "nginx.conf").read_text()
    conf = conf.replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;")
    conf = conf.replace("ssl_ciphers ", "ssl_ciphers ALL:@SECLEVEL=0:")
    (proxy.prefix / "nginx.conf").write_text(conf)
    proxy.nginx.start()
    assert tls_handshake(proxy.port, version=ssl.TLSVersion.TLSv1)[0] == "TLSv1"
    assert tls_handshake(proxy.port, version=ssl.TLSVersion.TLSv1_1)[0] == "TLSv1.1"
    cbc = tls_handshake(proxy.port, version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")
    assert cbc[1] == "ECDHE-ECDSA-AES128-SHA"


def test_security_headers_on_200_404_413_429_502(live: Proxy, upstream: Upstream) -> None:
    c = live.client()
    cfg = live.config
    ok = c.get("/")
    assert ok.status == 200 and ok.body.startswith(b"hello")
    assert_security_headers(ok, "200 from the app", cfg)
    assert ok.header("x-powered-by") is None, "the app's X-Powered-By leaked"
    assert_security_headers(c.get(HEALTH_CHECK_PATH), HEALTH_CHECK_PATH, cfg)
    missing = c.get("/missing")
    assert missing.status == 404
    assert_security_headers(missing, "404 from the app", cfg)

    big = b"x" * (cfg.limits.max_body_kb * 1024 + 1)
    too_big = c.request("POST", "/upload", {"Content-Type": "application/octet-stream"}, big)
    assert too_big.status == 413, f"oversized body got {too_big.status}"
    assert_security_headers(too_big, "413", cfg)
    assert not any(s.path == "/upload" for s in upstream.seen), "the oversized body reached the app"
    c.close()

    rate, burst = zone_for(cfg, "/")
    responses, _ = flood_past_limit(c, "/", rate, burst)
    limited = [r for r in responses if r.status == 429]
    assert limited, "no 429 under a burst beyond the limit"
    assert_security_headers(limited[0], "429", cfg)
    assert limited[0].header("retry-after") == str(cfg.rate_limit.retry_after_seconds)

    upstream.stop()
    time.sleep(1.1)  # let the rate-limit bucket drain a little
    c2 = live.client()
    bad = c2.get("/again")
    assert bad.status in (502, 503), f"upstream down answered {bad.status}"
    assert_security_headers(bad, f"{bad.status} with the upstream down", cfg)


def test_no_retry_after_on_normal_responses(live: Proxy) -> None:
    r = live.client().get("/")
    assert r.status == 200 and r.header("retry-after") is None


def test_healthz_while_upstream_down_and_during_flood(live: Proxy, upstream: Upstream) -> None:
    c = live.client()
    rate, burst = zone_for(live.config, "/")
    responses, _ = flood_past_limit(c, "/", rate, burst)
    assert any(r.status == 429 for r in responses)
    for _ in range(20):
        assert c.get(HEALTH_CHECK_PATH).status == 200, f"{HEALTH_CHECK_PATH} was rate limited during a flood"
    upstream.stop()
    h = c.get(HEALTH_CHECK_PATH)
    assert h.status == 200 and h.body == b"ok\n"
    assert not any(s.path == HEALTH_CHECK_PATH for s in upstream.seen), f"{HEALTH_CHECK_PATH} was proxied to the app"


def test_burst_beyond_limit_gets_429_and_served_count_stays_within_rate_and_burst(live: Proxy, upstream: Upstream) -> None:
    rate, burst = zone_for(live.config, "/")
    c = live.client()
    responses, elapsed = flood_past_limit(c, "/", rate, burst)
    n = len(responses)
    served = sum(1 for r in responses if r.status == 200)
    limited = [r for r in responses if r.status == 429]
    assert served + len(limited) == n, {r.status for r in responses}
    # nginx lets burst (+1 for the first request) through at once, then `rate` per second
    allowed = burst + 1 + math.ceil(rate * elapsed)
    assert burst <= served <= allowed, f"served {served} of {n} in {elapsed:.2f}s; rate {rate}/s burst {burst}"
    assert limited and all(r.header("retry-after") == str(live.config.rate_limit.retry_after_seconds) for r in limited)
    assert upstream.hits("/") == served, "429s must not reach the app"


def test_upstream_down_gives_502_fast_and_recovers_without_restart(live: Proxy, upstream: Upstream) -> None:
    c = live.client()
    assert c.get("/").status == 200
    pid = live.nginx.pid
    upstream.stop()
    down = c.get("/down")
    assert down.status in (502, 503), down.status
    assert down.elapsed <= live.config.timeouts.proxy_connect_s + 0.5, f"took {down.elapsed:.2f}s"
    upstream.start()
    time.sleep(0.05)
    back = c.get("/back")
    assert back.status == 200 and back.body.startswith(b"hello")
    assert live.nginx.proc is not None and live.nginx.proc.poll() is None and live.nginx.pid == pid


def test_hung_upstream_gets_504_within_read_timeout(make_proxy: Callable[..., Proxy]) -> None:
    proxy = make_proxy()
    read_s = proxy.config.timeouts.proxy_read_s
    r = proxy.client().get("/slow")
    assert r.status == 504
    assert read_s - 0.2 <= r.elapsed <= read_s + 1.0, f"took {r.elapsed:.2f}s, timeout {read_s}s"


def test_cacheable_get_is_served_from_cache(live: Proxy, upstream: Upstream) -> None:
    c = live.client()
    cfg = live.config
    if not cfg.cache.enabled:
        r = c.get("/static/x")
        assert r.header("x-cache-status") is None
        return
    path = cfg.cache.paths[0] + "page.html"
    first, second = c.get(path), c.get(path)
    assert (first.status, second.status) == (200, 200)
    assert first.header("x-cache-status") == "MISS"
    assert second.header("x-cache-status") == "HIT"
    assert second.body == first.body
    assert upstream.hits(path) == 1
    head = c.request("HEAD", path)
    assert head.header("x-cache-status") == "HIT"
    assert_security_headers(second, "cache HIT", cfg)
    # a POST is never answered from cache
    post = c.request("POST", path, body=b"a=1")
    assert post.header("x-cache-status") in (None, "BYPASS", "MISS") and upstream.hits(path) == 2
    # outside the cache paths nothing is cached
    c.get("/uncached"), c.get("/uncached")
    assert upstream.hits("/uncached") == 2


def test_set_cookie_responses_are_never_cached(live: Proxy, upstream: Upstream) -> None:
    if not live.config.cache.enabled:
        pytest.fail("the config under test has the cache off; this test needs it on")
    c = live.client()
    path = live.config.cache.paths[0] + "cookie"
    a, b = c.get(path), c.get(path)
    assert upstream.hits(path) == 2, "a response with Set-Cookie was served from cache"
    assert a.header("set-cookie") != b.header("set-cookie")
    assert b.header("x-cache-status") != "HIT"


def test_authorization_requests_are_never_cached(live: Proxy, upstream: Upstream) -> None:
    if not live.config.cache.enabled:
        pytest.fail("the config under test has the cache off; this test needs it on")
    c = live.client()
    path = live.config.cache.paths[0] + "private"
    auth = {"Authorization": "Bearer secret-token"}
    a1, a2 = c.get(path, auth), c.get(path, auth)
    assert upstream.hits(path) == 2, "a request with Authorization was answered from cache"
    assert a2.header("x-cache-status") != "HIT"
    # ...and did not fill the cache for anonymous requests
    anon = c.get(path)
    assert anon.header("x-cache-status") == "MISS" and upstream.hits(path) == 3
    # ...nor is a cached anonymous response handed to an authorized request
    assert c.get(path).header("x-cache-status") == "HIT"
    a3 = c.get(path, auth)
    assert a3.header("x-cache-status") != "HIT" and upstream.hits(path) == 4


def test_gzip_for_configured_types_only(live: Proxy) -> None:
    c = live.client()
    gz = {"Accept-Encoding": "gzip"}
    css = c.get("/static/app.css", gz)
    if live.config.gzip.enabled and "text/css" in live.config.gzip.types:
        assert css.header("content-encoding") == "gzip"
    data = c.get("/static/data.json", gz)
    if "application/json" not in live.config.gzip.types:
        assert data.header("content-encoding") is None, "JSON (may carry secrets) was compressed: BREACH"


def test_untrusted_x_forwarded_for_does_not_change_the_rate_limit_key(live: Proxy, upstream: Upstream) -> None:
    peer = ipaddress.ip_address("127.0.0.1")
    assert not any(peer in net for net in live.config.trusted_proxy_cidrs), "the test peer must be untrusted"
    rate, burst = zone_for(live.config, "/")
    c = live.client()
    responses, _ = flood_past_limit(c, "/echo", rate, burst, lambda i: {"X-Forwarded-For": f"203.0.113.{i % 250}"})
    assert any(r.status == 429 for r in responses), "spoofed X-Forwarded-For escaped the rate limit"
    ok = next(r for r in responses if r.status == 200)
    assert json.loads(ok.body)["x-real-ip"] == "127.0.0.1"


def test_trusted_peer_x_forwarded_for_is_the_key(make_proxy: Callable[..., Proxy], upstream: Upstream) -> None:
    """Control for the test above: when the peer is trusted, each X-Forwarded-For client gets
    its own bucket, so the same flood is not limited, and the app sees the real client."""
    cfg = {**TEST_CONFIG, "trustedProxyCidrs": ["127.0.0.0/8"]}
    proxy = make_proxy(cfg)
    rate, burst = zone_for(proxy.config, "/")
    # the same flood that limits one untrusted peer: each client address must now get its own bucket
    responses, _ = flood_past_limit(proxy.client(), "/echo", rate, burst,
                                    lambda i: {"X-Forwarded-For": f"203.0.{i // 250}.{i % 250 + 1}"})
    assert all(r.status == 200 for r in responses)
    assert json.loads(responses[7].body)["x-real-ip"] == "203.0.0.8"


def test_request_id_propagates_and_access_log_is_json(live: Proxy, upstream: Upstream) -> None:
    c = live.client()
    r = c.get("/echo")
    rid = r.header("x-request-id")
    assert rid and len(rid) == 32
    assert json.loads(r.body)["x-request-id"] == rid
    mine = c.get("/echo", {"X-Request-ID": "client-abc-12345"})
    assert json.loads(mine.body)["x-request-id"] == "client-abc-12345"
    hostile = c.get("/echo", {"X-Request-ID": 'x"}; evil'})
    assert json.loads(hostile.body)["x-request-id"] != 'x"}; evil'
    if (live.prefix / "logs" / "access.log").exists():
        deadline = time.monotonic() + 2
        entries = live.nginx.access_log()
        while rid not in [e["request_id"] for e in entries] and time.monotonic() < deadline:
            time.sleep(0.05)
            entries = live.nginx.access_log()
        entry = next(e for e in entries if e["request_id"] == rid)
        assert entry["status"] == 200 and entry["path"] == "/echo" and entry["tls"].startswith("TLSv1.")


ALB_ROOT = "1-67891233-abcdef012345678912345678"
ALB_SELF = "1-67891234-0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Amzn-Trace-Id": f"Root={ALB_ROOT}"}, ALB_ROOT),
        # a client sent a Root: the ALB adds its own Self, the one id the client did not choose
        ({"X-Amzn-Trace-Id": f"Self={ALB_SELF};Root={ALB_ROOT};CalledFrom=app"}, ALB_SELF),
        ({"X-Amzn-Trace-Id": f"Root={ALB_ROOT};Self={ALB_SELF}"}, ALB_SELF),
        # the client's well-formed X-Request-ID still comes first
        ({"X-Amzn-Trace-Id": f"Root={ALB_ROOT}", "X-Request-ID": "client-abc-12345"}, "client-abc-12345"),
        # not an ALB trace id: nginx makes its own (32 hex digits)
        ({"X-Amzn-Trace-Id": f"Root={ALB_ROOT[:-1]}"}, None),  # 23 hex digits
        ({"X-Amzn-Trace-Id": f"Root={ALB_ROOT}0"}, None),  # 25 hex digits
        ({"X-Amzn-Trace-Id": f"Root={ALB_ROOT.upper()}"}, None),
        ({"X-Amzn-Trace-Id": f'Root={ALB_ROOT}"}}, "evil'}, None),
        ({"X-Amzn-Trace-Id": f"XRoot={ALB_ROOT}"}, None),
        ({"X-Amzn-Trace-Id": ""}, None),
        ({"X-Amzn-Trace-Id": f"Root=2{ALB_ROOT[1:]}"}, None),  # version 2
        ({"X-Amzn-Trace-Id": f"Root=1-{ALB_ROOT[3:]}"}, None),  # 7-digit time
        ({"X-Amzn-Trace-Id": f"Root=1-0{ALB_ROOT[2:]}"}, None),  # 9-digit time
        # a Self that is not exactly the ALB's form is passed over for the Root
        ({"X-Amzn-Trace-Id": f"Self={ALB_SELF}0;Root={ALB_ROOT}"}, ALB_ROOT),
        ({"X-Amzn-Trace-Id": f"XSelf={ALB_SELF};Root={ALB_ROOT}"}, ALB_ROOT),
        ({"X-Amzn-Trace-Id": f"Self={ALB_SELF.upper()};Root={ALB_ROOT}"}, ALB_ROOT),
    ],
)
def test_request_id_falls_back_to_the_alb_trace_id(live: Proxy, headers: dict[str, str], expected: str | None) -> None:
    """Behind the ALB every request carries X-Amzn-Trace-Id: its Self (else Root) id becomes the
    request id, sent upstream and back, so no random id is made per request; anything else that is
    not exactly an ALB trace id gets nginx's own."""
    r = live.client().get("/echo", headers)
    rid = r.header("x-request-id")
    assert json.loads(r.body)["x-request-id"] == rid
    if expected is None:
        assert rid and re.fullmatch(r"[0-9a-f]{32}", rid), rid
    else:
        assert rid == expected


def test_named_server_rejects_other_hosts_with_headers(make_proxy: Callable[..., Proxy]) -> None:
    proxy = make_proxy({**TEST_CONFIG, "serverNames": ["localhost"]})
    assert proxy.client("localhost").get("/").status == 200
    other = proxy.client("evil.example").get("/")
    assert other.status == 421
    assert_security_headers(other, "421 catch-all", proxy.config)


def test_named_server_answers_the_load_balancer_health_check(make_proxy: Callable[..., Proxy]) -> None:
    """The ALB's health check carries the target's address as its Host, a name the service does not
    serve: it must still get the health answer, not the catch-all's 421, or every target is unhealthy."""
    proxy = make_proxy({**TEST_CONFIG, "serverNames": ["localhost"]})
    by_address = proxy.client(f"10.0.3.7:{proxy.port}")
    health = by_address.get(HEALTH_CHECK_PATH)
    assert (health.status, health.body) == (200, b"ok\n")
    assert_security_headers(health, "health check on the catch-all", proxy.config)
    assert by_address.get("/").status == 421  # only the health path: the rest stays misdirected


def test_nginx_harness_stops_nginx(make_proxy: Callable[..., Proxy]) -> None:
    proxy = make_proxy()
    proc = proxy.nginx.proc
    assert proc is not None
    proxy.nginx.stop()
    assert proc.poll() is not None
    assert isinstance(proxy.nginx, Nginx)


@pytest.mark.parametrize("open_file_cache", [True, False], ids=["openFileCache", "no-openFileCache"])
def test_cache_hits_see_a_refreshed_entry_at_once(make_proxy: Callable[..., Proxy], upstream: Upstream,
                                                 open_file_cache: bool) -> None:
    """cache.openFileCache keeps cache files open between hits, yet once an expired entry is
    refreshed every hit serves the new copy and the app is asked once per expiry: nginx's file
    cache passes the entry's current inode to the open file cache, which reopens on a mismatch
    (a refresh renames a new file into place). The run without it is the control."""
    cache = {**TEST_CONFIG.get("cache", {}), "enabled": True, "ttlSeconds": 1, "openFileCache": open_file_cache}
    limit = {"zones": [{"name": "per_client", "ratePerSecond": 1000, "burst": 1000}]}
    proxy = make_proxy({**TEST_CONFIG, "cache": cache, "rateLimit": limit})
    assert ("open_file_cache max=" in (proxy.prefix / "nginx.conf").read_text()) is open_file_cache
    path = proxy.config.cache.paths[0] + "fresh.html"
    c = proxy.client()
    first = [c.get(path) for _ in range(3)]
    assert [r.header("x-cache-status") for r in first] == ["MISS", "HIT", "HIT"]
    old = first[0].body
    assert all(r.body == old for r in first) and upstream.hits(path) == 1
    time.sleep(2.2)  # the entry (ttlSeconds 1, whole seconds) has expired
    deadline = time.monotonic() + 5
    r = c.get(path)
    while r.body == old and time.monotonic() < deadline:  # a stale copy while the refresh runs
        assert r.header("x-cache-status") in ("STALE", "UPDATING"), r.header("x-cache-status")
        time.sleep(0.05)
        r = c.get(path)
    new = r.body
    assert new != old, "the expired entry was never refreshed"
    after = [c.get(path) for _ in range(20)]  # well inside open_file_cache_valid (10 s)
    assert [(a.header("x-cache-status"), a.body) for a in after] == [("HIT", new)] * 20
    assert upstream.hits(path) == 2


def test_open_file_cache_fd_budget_covers_every_cache_location(make_proxy: Callable[..., Proxy]) -> None:
    """Each location with open_file_cache has a cache of its own (_OPEN_FILE_CACHE_MAX files per
    location and worker), so worker_rlimit_nofile must count the kept files once per cache
    location. At the smallest workerConnections (64) with four cache paths, every location's kept
    files must fit with every hit served (counting one location's files only, the worker runs out
    of descriptors: 500s, EMFILE)."""
    limit = {"zones": [{"name": "per_client", "ratePerSecond": 100000, "burst": 100000}]}
    cache = {"enabled": True, "paths": ["/static/", "/assets/", "/img/", "/media/"]}
    proxy = make_proxy({**TEST_CONFIG, "workerConnections": 64, "rateLimit": limit, "cache": cache})
    paths = [f"{prefix}fd{i}.txt" for prefix in cache["paths"] for i in range(_OPEN_FILE_CACHE_MAX + 20)]
    c = proxy.client()
    for path in paths:
        assert c.get(path).status == 200, path
    hits = [(r.status, r.header("x-cache-status")) for r in (c.get(path) for path in paths)]
    assert hits == [(200, "HIT")] * len(paths), {h: hits.count(h) for h in set(hits)}
