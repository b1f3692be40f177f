"""The edge's routing: ALB wildcards, case rules and rule priority, as nginx will evaluate them."""

from __future__ import annotations

import re
from pathlib import Path

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


def _edge_answer(conf: str, client: str, host: str, path: str) -> str:
    """Evaluate the generated config as nginx does: each `geo` flag from the client address, then the
    map's regular expressions in order on the key."""
    import ipaddress

    flags = ""
    for block in re.findall(r"geo \$rampart_source_\d+ \{ default 0;([^}]*)\}", conf):
        cidrs = [ipaddress.ip_network(c.split()[0]) for c in block.split(";") if c.strip()]
        flags += "1" if any(ipaddress.ip_address(client) in n for n in cidrs) else "0"
    routing = conf[conf.index("$rampart_target {"):]
    routing = routing[:routing.index("\n    }")]
    for regex, value in re.findall(r'^\s+"~(.*)" "(\S+)";', routing, re.M):
        if re.search(regex.replace("\\\\|", "\\|"), f"{flags}|{host}:{path}"):
            return value
    return ""


def test_a_source_ip_rule_matches_only_its_clients_and_the_others_fall_through_to_the_403() -> None:
    allow = Route(priority=10, hosts=[], paths=["/admin/*"], container="proxy", port=8443,
                  health_check_path="/healthz", source_ips=["203.0.113.0/24"])
    deny = Route(priority=11, hosts=[], paths=["/admin/*"], container="proxy", port=8443,
                 health_check_path="/healthz", answer=403)
    catch_all = route(["/*"], priority=20)
    conf = nginx_conf(targets([Task("web", "web-dev", {}, [], routes=[catch_all, deny, allow])], {"web": "w"}), 8443)
    assert _edge_answer(conf, "203.0.113.9", "localhost", "/admin/users") == "target_w_8443"
    assert _edge_answer(conf, "198.51.100.9", "localhost", "/admin/users") == "status_403"
    assert _edge_answer(conf, "198.51.100.9", "localhost", "/shop") == "target_w_8443"
    assert 'if ($rampart_target = "status_403") { return 403; }' in conf


def test_the_edge_config_is_valid_nginx(tmp_path: Path) -> None:
    import shutil
    import subprocess

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise AssertionError("nginx is not installed (scripts/install-proxy.sh installs it)")
    allow = Route(priority=10, hosts=["*.example.com"], paths=["/admin/*"], container="proxy", port=8443,
                  health_check_path="/healthz", source_ips=["203.0.113.0/24", "2001:db8::/32"])
    deny = Route(priority=11, hosts=[], paths=["/admin/*"], container="proxy", port=8443,
                 health_check_path="/healthz", answer=403)
    conf = nginx_conf(targets([Task("web", "web-dev", {}, [], routes=[route(["/*"], priority=20), deny, allow])],
                              {"web": "127.0.0.1"}), 8443)
    conf = conf.replace("/etc/rampart-edge", str(tmp_path)).replace("pid /tmp/nginx.pid", f"pid {tmp_path}/nginx.pid")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=localhost", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    (tmp_path / "nginx.conf").write_text(conf)
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c",
                           str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_edge_adds_the_albs_trace_header_on_real_nginx(tmp_path: Path) -> None:
    """The edge's request tracing, run on Debian's nginx (the maps as rendered): a Root of its own
    when the client sent no valid Root, else a Self of its own in front of the client's header."""
    import os
    import shutil
    import socket
    import subprocess
    import time
    import urllib.request

    from rampart.local.edge import TRACE_MAPS

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: scripts/install-proxy.sh installs it"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(f"""daemon off;
pid nginx.pid;
events {{ }}
http {{
    client_body_temp_path body; proxy_temp_path proxy; fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi; scgi_temp_path scgi;
    access_log off;
{TRACE_MAPS}
    server {{ listen 127.0.0.1:{port}; location / {{ return 200 "$rampart_trace"; }} }}
}}
""")
    user = ["-g", "user root;"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", "nginx.conf", "-e", "logs/error.log", *user],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def trace(header: str | None) -> str:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/",
                                             headers={"X-Amzn-Trace-Id": header} if header is not None else {})
            for _ in range(100):
                try:
                    with urllib.request.urlopen(request, timeout=2) as r:
                        return str(r.read().decode())
                except OSError:
                    time.sleep(0.05)
            raise AssertionError(f"nginx did not answer: {(tmp_path / 'logs' / 'error.log').read_text()}")

        own = r"1-[0-9a-f]{8}-[0-9a-f]{24}"
        first, second = trace(None), trace(None)
        assert re.fullmatch(f"Root={own}", first) and first != second, (first, second)
        client = "Root=1-67891233-abcdef012345678912345678;CalledFrom=app"
        assert re.fullmatch(f"Self={own};{re.escape(client)}", trace(client))
        short, long = "Root=1-67891233-abcdef01234567891234567", "Root=1-67891233-abcdef0123456789123456780"
        upper, prefixed = client.replace("abcdef", "ABCDEF"), "X" + client
        for not_a_root in (short, long, upper, prefixed, "Foo=bar", ""):
            assert re.fullmatch(f"Root={own}", trace(not_a_root)), not_a_root
    finally:
        proc.terminate()
        proc.wait(10)


def test_edge_forwards_and_logs_the_trace_header() -> None:
    """The trace maps feed what the edge forwards (the ALB's X-Amzn-Trace-Id) and its log's trace_id;
    the end-to-end check is tests/local/test_local_engine.py (needs Docker)."""
    conf = nginx_conf(targets([Task("web", "web-dev", {}, [], routes=[route(["/*"])])], {"web": "127.0.0.1"}), 8443)
    assert re.search(r"^\s+proxy_set_header X-Amzn-Trace-Id \$rampart_trace;$", conf, re.M), conf
    assert '"trace_id":"$rampart_trace"' in conf
