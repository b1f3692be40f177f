"""stub_status for a Prometheus collector sidecar (ProxyConfig.stub_status_port): on the real nginx it
answers on 127.0.0.1 only, serves nothing but the counters, and is absent when off (the default)."""

from __future__ import annotations

import http.client
from typing import Callable

import pytest

from proxy_harness import TEST_CONFIG, Proxy, free_port
from rampart.components.proxy_config import ProxyConfig
from rampart.components.nginx_conf import RenderError, RenderTarget, render_nginx_conf


def _get(host: str, port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection(host, port, timeout=3)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def test_on_it_answers_on_loopback_only(make_proxy: Callable[..., Proxy]) -> None:
    port = free_port()
    proxy = make_proxy({**TEST_CONFIG, "stubStatusPort": port})
    status, body = _get("127.0.0.1", port, "/stub_status")
    assert status == 200 and body.startswith("Active connections:"), body
    assert _get("127.0.0.1", port, "/")[0] == 404, "the status server serves nothing but /stub_status"
    with pytest.raises(ConnectionRefusedError):  # another loopback address: nginx bound 127.0.0.1 only
        _get("127.0.0.2", port, "/stub_status")
    # the public TLS listener does not expose it: /stub_status there is the app's path
    r = proxy.client().get("/stub_status")
    assert "Active connections" not in r.body.decode(errors="replace")


def test_off_by_default_and_absent(make_proxy: Callable[..., Proxy]) -> None:
    assert ProxyConfig().stub_status_port == 0
    port = free_port()
    proxy = make_proxy()
    assert "stub_status" not in (proxy.prefix / "nginx.conf").read_text()
    with pytest.raises(ConnectionRefusedError):
        _get("127.0.0.1", port, "/stub_status")


@pytest.mark.parametrize(("port", "ok"), [(1023, False), (1024, True), (65535, True), (65536, False)])
def test_port_bounds(port: int, ok: bool) -> None:
    if ok:
        assert ProxyConfig(stub_status_port=port).stub_status_port == port
    else:
        with pytest.raises(ValueError, match="stub"):
            ProxyConfig(stub_status_port=port)


def test_refuses_the_listen_port() -> None:
    with pytest.raises(RenderError, match="stubStatusPort"):
        render_nginx_conf(ProxyConfig(stub_status_port=8443),
                          RenderTarget(mode="local", upstream_port=9000, listen_port=8443))
