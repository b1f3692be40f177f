"""`rampart render-proxy`: outputs, the --local layout, and user errors without tracebacks."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rampart.components.proxy_config import ProxyConfig
from proxy_harness import make_tls_pair, nginx_test

ROOT = Path(__file__).resolve().parents[2]


def rampart(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rampart.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_local_writes_a_self_contained_prefix_with_a_fresh_key(tmp_path: Path) -> None:
    out = tmp_path / "proxy-local"
    done = rampart("render-proxy", "-C", str(ROOT), "--stack", "dev", "--service", "web", "--out", str(out), "--local",
                   "--upstream", "127.0.0.1:8080")
    assert done.returncode == 0, done.stderr
    conf = (out / "nginx.conf").read_text()
    assert "server 127.0.0.1:8080;" in conf and "listen 127.0.0.1:8443 ssl http2" in conf
    key = out / "tls" / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    cfg = ProxyConfig.model_validate_json((out / "proxy-config.json").read_text())
    assert cfg.upstream.port == 8080
    assert [str(n) for n in cfg.trusted_proxy_cidrs] == ["10.20.0.0/20", "10.20.16.0/20"], "dev's ALB (public) subnets should be trusted"
    assert "PRIVATE" not in (out / "proxy-config.json").read_text()
    # a second run makes a different key (fresh pair each time)
    out2 = tmp_path / "again"
    assert rampart("render-proxy", "-C", str(ROOT), "--stack", "dev", "--service", "web", "--out", str(out2), "--local").returncode == 0
    assert (out2 / "tls" / "key.pem").read_bytes() != key.read_bytes()
    assert "server 127.0.0.1:3000;" in (out2 / "nginx.conf").read_text(), "default upstream = service.containerPort"


@pytest.mark.nginx
def test_local_output_passes_nginx_t_with_given_tls_dir(tmp_path: Path) -> None:
    tls = tmp_path / "mytls"
    cert, _ = make_tls_pair(tls)
    out = tmp_path / "o"
    done = rampart("render-proxy", "-C", str(ROOT), "--stack", "dev", "--service", "web", "--out", str(out), "--local",
                   "--tls-dir", str(tls), "--listen", "9443")
    assert done.returncode == 0, done.stderr
    assert (out / "tls" / "cert.pem").read_bytes() == cert.read_bytes()
    assert "listen 127.0.0.1:9443 " in (out / "nginx.conf").read_text()
    check = nginx_test(out)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--local", "--upstream", "127.0.0.1"], "HOST:PORT"),
        (["--local", "--upstream", "bad;host:80"], "upstream.host"),
        (["--local", "--listen", "80"], "listenPort"),
        (["--tls-dir", "x"], "--tls-dir applies only with --local"),
        (["--local", "--tls-dir", "/nonexistent-dir"], "missing cert.pem"),
    ],
)
def test_user_errors_exit_nonzero_with_one_message(tmp_path: Path, args: list[str], message: str) -> None:
    done = rampart("render-proxy", "-C", str(ROOT), "--stack", "dev", "--service", "web", "--out", str(tmp_path / "o"), *args)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_stack_is_a_user_error(tmp_path: Path) -> None:
    done = rampart("render-proxy", "-C", str(ROOT), "--stack", "nope", "--out", str(tmp_path / "o"))
    assert done.returncode != 0 and "Traceback" not in done.stderr and done.stderr.strip()


def test_image_context_mode(tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    done = rampart("render-proxy", "-C", str(ROOT), "--stack", "prod", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "image" / "Dockerfile").is_file() and (out / "image" / "proxy-init.c").is_file()
    conf = (out / "nginx.conf").read_text()
    assert conf == (out / "image" / "nginx.conf").read_text()
    assert "daemon off;" in conf and "ssl_certificate /run/proxy/tls/cert.pem;" in conf
    assert not (out / "tls").exists(), "no key is made for the image context"
    assert "set_real_ip_from 10.40.0.0/24;" in conf and "set_real_ip_from 10.40.1.0/24;" in conf, (
        "prod's load balancer subnets (its existing VPC's public subnet CIDRs) must reach the realip config"
    )


def test_a_stack_with_several_sidecars_needs_service(tmp_path: Path) -> None:
    done = rampart("render-proxy", "-C", str(ROOT), "--stack", "dev", "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "has 2 services with a sidecar (api, web); name one with --service" in done.stderr, done.stderr
    done = rampart("render-proxy", "-C", str(ROOT), "--stack", "dev", "--service", "nope", "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "services with a sidecar: api, web" in done.stderr, done.stderr


def test_an_app_teams_program_is_told_where_its_sidecar_settings_are(tmp_path: Path) -> None:
    """render-proxy reads Rampart's own stack format; an app team's program keeps its sidecar settings in
    code: one line saying so and what to use instead, not "not a valid Rampart stack configuration"."""
    done = rampart("render-proxy", "-C", str(ROOT / "examples" / "two-services-nginx"), "--stack", "dev",
                   "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "__main__.py is another program, whose sidecar settings are in its code" in done.stderr, done.stderr
    assert "rampart local up" in done.stderr and "not a valid Rampart stack configuration" not in done.stderr
