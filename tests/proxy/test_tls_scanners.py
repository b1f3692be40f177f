"""Independent scanners over the rendered proxy: sslyze's Mozilla-guideline check against the live
nginx, and gixy-ng's nginx misconfiguration analysis of the rendered config files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rampart.components.proxy_config import ProxyConfig
from rampart.components.nginx_conf import RenderTarget, render_nginx_conf
from proxy_harness import TEST_CONFIG, Proxy

# The sidecar's certificate is self-signed on purpose (the ALB encrypts to targets but does not
# validate their certificates), so path validation is the one finding a scanner must report.
EXPECTED = {"certificate_path_validation"}


def mozilla_findings(port: int, profile: str) -> set[str]:
    done = subprocess.run([sys.executable, "-m", "sslyze", f"--mozilla_config={profile}", f"127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=180)
    out = done.stdout
    assert "COMPLIANCE AGAINST" in out, out[-2000:] + done.stderr[-2000:]
    section = out.split("COMPLIANCE AGAINST", 1)[1]
    return set(re.findall(r"^\s+\* (\w+):", section, flags=re.M))


@pytest.mark.nginx
def test_sslyze_mozilla_intermediate(live: Proxy) -> None:
    assert mozilla_findings(live.port, "intermediate") == EXPECTED


@pytest.mark.nginx
def test_sslyze_mozilla_modern_for_the_modern_profile(make_proxy: Callable[..., Proxy]) -> None:
    proxy = make_proxy({**TEST_CONFIG, "tls": {"profile": "modern"}})
    assert mozilla_findings(proxy.port, "modern") == EXPECTED


@pytest.mark.nginx
def test_sslyze_control_flags_a_weak_config(make_proxy: Callable[..., Proxy]) -> None:
    proxy = make_proxy(start=False)
    conf = (proxy.prefix / "nginx.conf").read_text()
    conf = conf.replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;")
    conf = conf.replace("ssl_ciphers ", "ssl_ciphers ALL:@SECLEVEL=0:")
    (proxy.prefix / "nginx.conf").write_text(conf)
    proxy.nginx.start()
    findings = mozilla_findings(proxy.port, "intermediate")
    assert findings > EXPECTED, findings


def gixy(conf: str, tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    gixy_bin = Path(sys.executable).parent / "gixy"
    done = subprocess.run([str(gixy_bin), "-f", "json", str(path)], capture_output=True, text=True, timeout=120)
    findings: list[dict[str, object]] = json.loads(done.stdout or "[]")
    return findings


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"serverNames": ["api.example.com"], "trustedProxyCidrs": ["10.0.0.0/24"], "tls": {"profile": "modern"}},
        {"cache": {"enabled": False}, "gzip": {"enabled": False}, "rateLimit": {"enabled": False}},
    ],
)
@pytest.mark.parametrize("mode", ["container", "local"])
def test_gixy_finds_nothing(tmp_path: Path, config: dict[str, object], mode: str) -> None:
    conf = render_nginx_conf(ProxyConfig.model_validate(config), RenderTarget(mode=mode, upstream_port=3000))  # type: ignore[arg-type]
    assert gixy(conf, tmp_path) == []


def test_gixy_control_flags_a_location_add_header(tmp_path: Path) -> None:
    conf = render_nginx_conf(ProxyConfig(), RenderTarget(upstream_port=3000))
    broken = conf.replace("location /static/ {", "location /static/ {\n            add_header Cache-Control public;")
    plugins = {f["plugin"] for f in gixy(broken, tmp_path)}
    assert "add_header_redefinition" in plugins, plugins
