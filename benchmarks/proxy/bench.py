#!/usr/bin/env python3
"""Proxy benchmark: the generated Nginx sidecar against a direct TLS backend, a naive nginx proxy,
HAProxy and Caddy. Loopback only; stops by itself.

    .venv/bin/python benchmarks/proxy/bench.py [--repeats 5] [--duration 5] [--out benchmarks/proxy]

Setup (same for every target): one backend nginx serving a 1 KiB static file over plain HTTP (what
the proxies use) and over TLS (the "direct" target); every TLS endpoint uses the same ECDSA P-256
certificate, TLS 1.2/1.3 and offers h2 + http/1.1. Servers are pinned to CPU 0, the load generator
to CPU 1 (taskset), one worker/thread per server. Each repeat runs every target once with wrk
(HTTP/1.1, 50 connections) and once with h2load (HTTP/2, 50 connections x 10 streams), in an
order rotated per repeat; ratios are taken within a repeat and their median reported.

Load: every request carries `X-Amzn-Trace-Id: Root=...`, as every request the ALB forwards to a
task does (the ALB adds it); the sidecar takes its request id from it. Row sidecar-notrace gets the
same load without that header, as a client reaching the sidecar without the ALB would.

Targets:
  direct          wrk -> backend TLS listener
  naive           nginx: listen ssl + certificate + proxy_pass, nothing else (defaults otherwise)
  sidecar         the generated config (rate limit on but not reached, JSON access log,
                  security headers, upstream keepalive), cache off
  sidecar-cache   the same with the proxy cache on for the benchmarked path (every request a HIT)
  haproxy         HAProxy 2.6 TLS termination per its documentation's recommendations
  haproxy-work    HAProxy doing the sidecar's work (haproxy_work_conf); -cache: with its cache on
  caddy           Caddy 2.6 reverse_proxy with the given certificate (its defaults otherwise)
  caddy-work      Caddy doing what its standard build can of the sidecar's work (caddy_work_conf)
With --ablation: the sidecar without its access log, headers, rate limit, all three; the sidecar
with no ALB trace header in the load (sidecar-notrace: nginx makes a random request id per
request); and sidecar-cache-noofc, the cache target with `cache.openFileCache` off.

Profile: CPU time of each server's processes per request (from /proc), and a `perf` sample of the
sidecar worker under wrk load (top symbols), written to RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rampart.components.proxy_config import ProxyConfig  # noqa: E402
from rampart.components.nginx_conf import RenderTarget, render_nginx_conf  # noqa: E402

SERVER_CPU = "0"
CLIENT_CPU = "1"
CONNECTIONS = 50
PATH = "/static/index.html"
TLS_PROTOCOLS = "TLSv1.2 TLSv1.3"
#: What the ALB adds to each request it forwards (a fixed id: the sidecar only checks its form).
ALB_TRACE_HEADER = "X-Amzn-Trace-Id: Root=1-674b8a2c-0123456789abcdef01234567"
#: Rows whose load lacks the ALB's header.
NO_TRACE = frozenset({"sidecar-notrace"})
CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def make_cert(directory: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem"), "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    (directory / "combined.pem").write_bytes((directory / "cert.pem").read_bytes() + (directory / "key.pem").read_bytes())


# ---------------------------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env}
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, *self.argv], env=env,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_port(self.port)
        except RuntimeError:
            text = self.log.read_text() if self.log and self.log.exists() else ""
            raise RuntimeError(f"{self.name} did not start on {self.port}: {text[-2000:]}") from None

    def pids(self) -> list[int]:
        """The server's process and its descendants (nginx workers, haproxy, caddy)."""
        assert self.proc is not None
        out, frontier = [], [self.proc.pid]
        while frontier:
            pid = frontier.pop()
            out.append(pid)
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                children = []
            frontier.extend(int(c) for c in children)
        return out

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None


def nginx_server(name: str, prefix: Path, conf: str, port: int) -> Server:
    prefix.mkdir(parents=True, exist_ok=True)
    for d in ("logs", "var"):
        (prefix / d).mkdir(exist_ok=True)
    (prefix / "nginx.conf").write_text(conf)
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    return Server(name, port, ["nginx", "-p", str(prefix), "-c", "nginx.conf", "-e", "logs/error.log", "-g", globals_])


def backend_conf(http_port: int, tls_port: int, tls: Path, docroot: Path) -> str:
    return f"""
worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path var/client_body_temp;
    proxy_temp_path var/proxy_temp;
    fastcgi_temp_path var/fastcgi_temp;
    uwsgi_temp_path var/uwsgi_temp;
    scgi_temp_path var/scgi_temp;
    default_type text/html;
    ssl_protocols {TLS_PROTOCOLS};
    ssl_ciphers {CIPHERS};
    ssl_session_cache shared:tls:10m;
    ssl_session_tickets off;
    ssl_certificate {tls}/cert.pem;
    ssl_certificate_key {tls}/key.pem;
    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{tls_port} ssl http2;
        root {docroot};
    }}
}}
"""


def naive_conf(port: int, upstream: int, tls: Path) -> str:
    # "proxy_pass and a certificate, nothing else": logs and temp paths only moved into the prefix.
    return f"""
pid nginx.pid;
error_log logs/error.log;
events {{ }}
http {{
    access_log logs/access.log;
    client_body_temp_path var/client_body_temp;
    proxy_temp_path var/proxy_temp;
    fastcgi_temp_path var/fastcgi_temp;
    uwsgi_temp_path var/uwsgi_temp;
    scgi_temp_path var/scgi_temp;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {tls}/cert.pem;
        ssl_certificate_key {tls}/key.pem;
        location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
    }}
}}
"""


def sidecar_conf(port: int, upstream: int, cache: bool, ablate: str = "") -> str:
    """The generated config; `ablate` removes features for the profile (nolog, nohdr, nolimit, bare,
    noofc)."""
    config = ProxyConfig.model_validate(
        {
            "workerProcesses": 1,
            # Sized for the offered load (h2load: 50 connections x 10 streams), as docs/proxy.md says.
            "upstream": {"expectedConcurrency": 512},
            # A limit far above the offered load: the zone lookup runs, nothing is rejected.
            "rateLimit": {"zones": [{"name": "per_client", "ratePerSecond": 100000, "burst": 100000}]},
            "cache": {"enabled": cache, "paths": ["/static/"]},
        }
    )
    if ablate in ("nolimit", "bare"):
        config = config.model_copy(update={"rate_limit": config.rate_limit.model_copy(update={"enabled": False})})
    if ablate == "noofc":
        # cache.openFileCache off: each hit opens, stats and closes the cache file
        config = config.model_copy(update={"cache": config.cache.model_copy(update={"open_file_cache": False})})
    conf = render_nginx_conf(config, RenderTarget(mode="local", upstream_port=upstream, listen_port=port))
    lines = conf.splitlines()
    if ablate in ("nolog", "bare"):
        lines = ["    access_log off;" if line.strip().startswith("access_log logs/") else line for line in lines]
    if ablate in ("nohdr", "bare"):
        lines = [line for line in lines if not line.strip().startswith("add_header")]
    return "\n".join(lines) + "\n"


def haproxy_conf(port: int, upstream: int, tls: Path) -> str:
    # HAProxy's configuration manual and the Mozilla guideline it points to: TLS 1.2+, ECDHE AEAD,
    # no tickets, HTTP mode with keep-alive and server connection reuse (the defaults), ALPN h2.
    return f"""
global
    maxconn 4096
    nbthread 1
    ssl-default-bind-ciphers {CIPHERS}
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
    tune.ssl.cachesize 40000

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    option http-keep-alive
    http-reuse safe

frontend fe
    bind 127.0.0.1:{port} ssl crt {tls}/combined.pem alpn h2,http/1.1
    default_backend app

backend app
    server app1 127.0.0.1:{upstream} maxconn 1000
"""


def sidecar_headers() -> list[tuple[str, str]]:
    """The security headers the sidecar adds to every response (name, value), read from the
    rendered config so the peers doing the same work send exactly these."""
    conf = sidecar_conf(1, 2, cache=False)
    out = []
    for line in conf.splitlines():
        m = re.match(r'\s*add_header (\S+) ("(?:[^"\\]|\\.)*"|\S+) always;', line)
        if m and not m.group(2).startswith("$"):
            out.append((m.group(1), m.group(2).strip('"')))
    assert len(out) >= 7, out
    return out


#: What the sidecar's JSON access log line carries, in HAProxy's log-format terms. %[...] fetches
#: with `json` escaping where a client controls the text (path, user agent, request id).
HAPROXY_JSON_LOG = (
    '{"time":"%[date,utime(%Y-%m-%dT%H:%M:%S%z)]","request_id":"%[var(txn.rid),json(utf8s)]",'
    '"client":"%[src]","peer":"%ci","method":"%HM","path":"%[var(txn.path),json(utf8s)]","protocol":"%HV",'
    '"status":%ST,"bytes_sent":%B,"request_time":%Ta,"upstream_status":"%ST","upstream_time":"%Tr",'
    '"cache":"%[var(txn.cache)]","tls":"%sslv","cipher":"%sslc","user_agent":"%[var(txn.ua),json(utf8s)]"}'
)


def haproxy_work_conf(port: int, upstream: int, tls: Path, cache: bool) -> str:
    """HAProxy configured to do the sidecar's work: a JSON access log line per request (to stdout,
    which the benchmark sends to a file), the same security headers on every response (errors
    included: http-after-response), a request id (the client's when well-formed, else its own; sent
    upstream and back), X-Forwarded-For only believed from the trusted CIDRs, X-Real-IP and
    X-Forwarded-Proto upstream, upstream headers the sidecar hides removed, a per-client rate limit
    (stick table, 429 above the same rate as the sidecar's zone), gzip for the same types, and
    with `cache` its HTTP cache on /static/ (60 s, like the sidecar's proxy_cache_valid)."""
    headers = "\n".join(f'    http-after-response set-header {n} "{v}"' for n, v in sidecar_headers())
    hidden = "\n".join(f"    http-response del-header {n}" for n, _ in sidecar_headers())
    cache_global = """
cache static
    total-max-size 256
    max-object-size 1048576
    max-age 60
""" if cache else ""
    cache_rules = """    http-request cache-use static if { path_beg /static/ } !{ req.hdr(authorization) -m found }
    http-response cache-store static
""" if cache else ""
    return f"""
global
    maxconn 4096
    nbthread 1
    ssl-default-bind-ciphers {CIPHERS}
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
    tune.ssl.cachesize 40000
    log stdout format raw local0 info

defaults
    mode http
    log global
    log-format '{HAPROXY_JSON_LOG}'
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    option http-keep-alive
    http-reuse safe
    compression algo gzip
    compression type text/css application/javascript image/svg+xml
{cache_global}
frontend fe
    bind 127.0.0.1:{port} ssl crt {tls}/combined.pem alpn h2,http/1.1
    # per-client rate limit, keyed on the real client address (same rate and burst as the sidecar's zone)
    stick-table type ipv6 size 80k expire 10s store http_req_rate(1s)
    http-request set-src hdr_ip(x-forwarded-for,-1) if {{ src 10.20.0.0/20 10.20.16.0/20 }}
    http-request track-sc0 src
    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 200000 }}
    # request id: the client's when well-formed, else HAProxy's own
    unique-id-format %{{+X}}o%ci%cp%fp%Ts%rt%pid
    http-request set-var(txn.rid) req.hdr(x-request-id) if {{ req.hdr(x-request-id) -m reg ^[A-Za-z0-9._-]{{8,128}}$ }}
    http-request set-var(txn.rid) unique-id unless {{ var(txn.rid) -m found }}
    http-request set-var(txn.ua) req.hdr(user-agent)
    http-request set-var(txn.path) path
    http-request set-header X-Request-ID %[var(txn.rid)]
    http-request set-header X-Real-IP %[src]
    http-request set-header X-Forwarded-Proto https
    option forwardfor
{cache_rules}{hidden}
    http-response del-header X-Powered-By
    http-after-response set-var(txn.cache) str(HIT) if {{ res.cache_hit }}
{headers}
    http-after-response set-header X-Request-ID %[var(txn.rid)]
    http-after-response set-header Retry-After 1 if {{ status 429 }}
    http-after-response set-header X-Cache-Status %[var(txn.cache)] if {{ var(txn.cache) -m found }}
    default_backend app

backend app
    server app1 127.0.0.1:{upstream} maxconn 1000
"""


def caddy_work_conf(port: int, upstream: int, tls: Path, log: Path) -> str:
    """Caddy configured to do what it can of the sidecar's work: its JSON access log per request
    (to a file), the same security headers (also on errors: `header` applies before the handler
    and to error responses it writes), a request id (its per-request UUID; Caddy has no "keep the
    client's when well-formed" without a plugin), X-Real-IP upstream (reverse_proxy sets
    X-Forwarded-For/-Proto itself and, in 2.6, believes no client's XFF; 2.6.2 has no
    `trusted_proxies` to believe the ALB's). Absent in Caddy's
    standard build (Debian's 2.6): a rate limit (caddy-ratelimit plugin) and a cache
    (cache-handler plugin); this row does neither, so it does less work than the sidecar."""
    headers = "\n".join(f'        {n} "{v}"' for n, v in sidecar_headers())
    return f"""{{
    admin off
    auto_https disable_redirects
}}

https://127.0.0.1:{port} {{
    tls {tls}/cert.pem {tls}/key.pem
    log {{
        output file {log}
        format json
    }}
    header {{
{headers}
        X-Request-ID {{http.request.uuid}}
        -Server
        -X-Powered-By
    }}
    reverse_proxy 127.0.0.1:{upstream} {{
        header_up X-Request-ID {{http.request.uuid}}
        header_up X-Real-IP {{http.request.remote.host}}
    }}
}}
"""


def caddy_conf(port: int, upstream: int, tls: Path) -> str:
    # Caddy's reverse_proxy with a given certificate; its defaults otherwise (HTTP/1.1 keep-alive
    # pool to the upstream, TLS 1.2+, h2), admin API and auto-HTTPS redirects off for the test.
    return f"""{{
    admin off
    auto_https disable_redirects
}}

https://127.0.0.1:{port} {{
    tls {tls}/cert.pem {tls}/key.pem
    reverse_proxy 127.0.0.1:{upstream}
}}
"""


# ---------------------------------------------------------------------------------------------
# load generators
# ---------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run_wrk(port: int, duration: int, trace: bool = True) -> tuple[float, float, int]:
    header = ["-H", ALB_TRACE_HEADER] if trace else []
    out = subprocess.run(
        ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", *header,
         f"https://127.0.0.1:{port}{PATH}"],
        capture_output=True, text=True, timeout=duration + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return rps, p99, errors


def run_h2load(port: int, duration: int, workdir: Path, trace: bool = True) -> tuple[float, float, int]:
    log = workdir / "h2load.log"
    header = ["-H", ALB_TRACE_HEADER] if trace else []
    out = subprocess.run(
        ["taskset", "-c", CLIENT_CPU, "h2load", "-t1", f"-c{CONNECTIONS}", "-m10", f"-D{duration}", *header,
         "--warm-up-time=1", "--log-file", str(log), f"https://127.0.0.1:{port}{PATH}"],
        capture_output=True, text=True, timeout=duration + 40,
    ).stdout
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    rps = float(m.group(1)) if m else 0.0
    statuses = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    errors = int(statuses.group(3)) + int(statuses.group(4)) if statuses else -1
    p99 = float("nan")
    if log.exists():
        lat = sorted(int(line.split()[2]) for line in log.read_text().splitlines() if line.strip())
        if lat:
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000.0  # log is in microseconds
        log.unlink()
    return rps, p99, errors


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--no-perf", action="store_true")
    ap.add_argument("--profile-only", action="store_true",
                    help="only profile the sidecar's two paths (proxied, cache hit) under wrk load; writes PROFILE.md")
    ap.add_argument("--ablation", action="store_true",
                    help="also run the sidecar without its access log, headers, rate limit, and all three")
    args = ap.parse_args()
    for tool in ("nginx", "wrk", "h2load", "haproxy", "caddy", "taskset", "openssl"):
        if not shutil.which(tool):
            print(f"bench: {tool} is missing; run scripts/install-proxy.sh", file=sys.stderr)
            return 2

    work = Path(tempfile.mkdtemp(prefix="rampart-proxy-bench-"))
    os.chmod(work, 0o755)
    servers: list[Server] = []
    try:
        tls = work / "tls"
        tls.mkdir()
        make_cert(tls)
        docroot = work / "www" / "static"
        docroot.mkdir(parents=True)
        (docroot / "index.html").write_text(("<p>rampart benchmark payload</p>\n" * 32)[:1024])
        os.chmod(work / "www", 0o755)
        os.chmod(docroot, 0o755)

        b_http, b_tls = free_port(), free_port()
        backend = nginx_server("backend", work / "backend", backend_conf(b_http, b_tls, tls, work / "www"), b_tls)
        backend.start()
        servers.append(backend)

        targets: dict[str, Server | None] = {"direct": None}
        p = free_port()
        targets["naive"] = nginx_server("naive", work / "naive", naive_conf(p, b_http, tls), p)
        # each ablation row next to the row it changes, so the rotation keeps them adjacent in time
        variants = [("sidecar", False, "")]
        if args.ablation:
            variants += [(f"sidecar-{a}", False, a) for a in ("nolog", "nohdr", "nolimit", "bare")]
            variants += [("sidecar-notrace", False, "")]
        variants += [("sidecar-cache", True, "")]
        if args.ablation:
            variants += [("sidecar-cache-noofc", True, "noofc")]
        for name, cache, ablate in variants:
            p = free_port()
            prefix = work / name
            (prefix / "tls").mkdir(parents=True)
            for f in ("cert.pem", "key.pem"):
                shutil.copy2(tls / f, prefix / "tls" / f)
            targets[name] = nginx_server(name, prefix, sidecar_conf(p, b_http, cache, ablate), p)
        p = free_port()
        (work / "haproxy.cfg").write_text(haproxy_conf(p, b_http, tls))
        targets["haproxy"] = Server("haproxy", p, ["haproxy", "-f", str(work / "haproxy.cfg"), "-db"])
        for name, cache in (("haproxy-work", False), ("haproxy-work-cache", True)):
            p = free_port()
            (work / f"{name}.cfg").write_text(haproxy_work_conf(p, b_http, tls, cache))
            targets[name] = Server(name, p, ["haproxy", "-f", str(work / f"{name}.cfg"), "-db"])
        p = free_port()
        (work / "Caddyfile").write_text(caddy_conf(p, b_http, tls))
        targets["caddy"] = Server("caddy", p, ["caddy", "run", "--config", str(work / "Caddyfile"), "--adapter", "caddyfile"],
                                  env={"XDG_DATA_HOME": str(work / "caddy-data"), "XDG_CONFIG_HOME": str(work / "caddy-cfg"),
                                       "GOMAXPROCS": "1"})
        p = free_port()
        (work / "caddy-work").mkdir()
        (work / "caddy-work" / "Caddyfile").write_text(caddy_work_conf(p, b_http, tls, work / "caddy-work" / "access.log"))
        targets["caddy-work"] = Server(
            "caddy-work", p, ["caddy", "run", "--config", str(work / "caddy-work" / "Caddyfile"), "--adapter", "caddyfile"],
            env={"XDG_DATA_HOME": str(work / "caddy-work" / "data"), "XDG_CONFIG_HOME": str(work / "caddy-work" / "cfg"),
                 "GOMAXPROCS": "1"})
        for srv in targets.values():
            if srv is not None:
                srv.log = work / f"{srv.name}.out"
                srv.start()
                servers.append(srv)

        def port_of(name: str) -> int:
            srv = targets[name]
            return b_tls if srv is None else srv.port

        # sanity: every target answers 200 with the payload; the cache target answers HIT
        import ssl
        import urllib.request

        ctx = ssl.create_default_context(cafile=str(tls / "cert.pem"))
        trace_name, trace_value = ALB_TRACE_HEADER.split(": ", 1)
        for name in targets:
            headers = {} if name in NO_TRACE else {trace_name: trace_value}
            for _ in range(2):
                request = urllib.request.Request(f"https://127.0.0.1:{port_of(name)}{PATH}", headers=headers)
                with urllib.request.urlopen(request, context=ctx, timeout=5) as r:
                    assert r.status == 200 and len(r.read()) == 1024, name
                    cache_status = r.headers.get("X-Cache-Status")
            if name.startswith("sidecar") and not name.endswith(("nohdr", "bare")):
                # the id the load's ALB header carries, else nginx's own
                expected = trace_value.removeprefix("Root=") if headers else None
                rid = r.headers.get("X-Request-ID") or ""
                assert rid == expected if expected else re.fullmatch("[0-9a-f]{32}", rid), f"{name}: request id {rid}"
            if name in ("sidecar-cache", "sidecar-cache-noofc", "haproxy-work-cache"):
                assert cache_status == "HIT", f"{name} answered {cache_status}"
            if name.startswith(("sidecar", "haproxy-work", "caddy-work")) and not name.endswith(("nohdr", "bare")):
                assert r.headers.get("Content-Security-Policy") and r.headers.get("X-Request-ID"), f"{name}: headers missing"

        if args.profile_only:
            sections = [f"# Proxy benchmark: perf profiles of the sidecar worker\n\n"
                        f"Run: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, `benchmarks/proxy/bench.py --profile-only`; "
                        f"{os.cpu_count()} CPUs ({_cpu_model()}), Linux {platform.release()}, {_versions()}; load average "
                        f"before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}. `perf record -F 499 -g` of the "
                        f"worker for 4 s of a 5 s wrk run (HTTP/1.1, {CONNECTIONS} connections, {PATH}).\n"]
            rows = [("sidecar", "proxied path (cache off)"), ("sidecar-cache", "cache-hit path")]
            if "sidecar-cache-noofc" in targets:
                rows.append(("sidecar-cache-noofc", "cache-hit path with cache.openFileCache off"))
            for name, label in rows:
                text = profile_sidecar(targets[name], port_of(name), work)  # type: ignore[arg-type]
                calls = syscalls_per_request(targets[name], port_of(name), work)  # type: ignore[arg-type]
                sections.append(f"## {name}: {label}\n\n```\n{text}\n```\n\n{calls}\n")
            (args.out / "PROFILE.md").write_text("\n".join(sections))
            return 0

        names = list(targets)
        results: dict[str, dict[str, list[tuple[float, float, int]]]] = {"wrk": {n: [] for n in names}, "h2load": {n: [] for n in names}}
        cpu: dict[str, list[tuple[float, float]]] = {n: [] for n in names}  # (target µs/req, backend µs/req), wrk runs
        started = time.monotonic()
        for rep in range(args.repeats):
            order = names[rep % len(names):] + names[: rep % len(names)]
            for name in order:
                srv = targets[name]
                c0 = srv.cpu_seconds() if srv else 0.0
                b0 = backend.cpu_seconds()
                res = run_wrk(port_of(name), args.duration, trace=name not in NO_TRACE)
                c1 = srv.cpu_seconds() if srv else 0.0
                b1 = backend.cpu_seconds()
                n_req = max(1.0, res[0] * args.duration)
                cpu[name].append(((c1 - c0) * 1e6 / n_req, (b1 - b0) * 1e6 / n_req))
                results["wrk"][name].append(res)
                results["h2load"][name].append(run_h2load(port_of(name), args.duration, work, trace=name not in NO_TRACE))
                print(f"repeat {rep + 1}/{args.repeats} {name:14s} wrk {res[0]:9.0f} req/s p99 {res[1]:6.2f} ms | "
                      f"h2load {results['h2load'][name][-1][0]:9.0f} req/s p99 {results['h2load'][name][-1][1]:6.2f} ms",
                      flush=True)
        elapsed = time.monotonic() - started

        perf_text = ""
        if not args.no_perf and shutil.which("perf"):
            perf_text = profile_sidecar(targets["sidecar"], port_of("sidecar"), work)  # type: ignore[arg-type]

        write_results(args, results, cpu, perf_text, elapsed)
        (args.out / "results.json").write_text(json.dumps({"results": results, "cpu_us_per_req": cpu}, indent=1) + "\n")
        return 0
    finally:
        for srv in servers:
            srv.stop()
        shutil.rmtree(work, ignore_errors=True)


def profile_sidecar(srv: Server, port: int, work: Path) -> str:
    workers = [pid for pid in srv.pids() if pid != srv.pids()[0]]
    if not workers:
        return ""
    data = work / "perf.data"
    rec = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-o", str(data), "-p", ",".join(map(str, workers)),
                            "--", "sleep", "4"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_wrk(port, 5)
    rec.wait(30)
    rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
                          "--sort", "dso", "--percent-limit", "1"], capture_output=True, text=True, timeout=120).stdout
    sym = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
                          "--sort", "dso,sym", "--percent-limit", "1"], capture_output=True, text=True, timeout=120).stdout
    by_dso = [line for line in rep.splitlines() if line.strip() and not line.startswith("#")]
    by_sym = [line for line in sym.splitlines() if line.strip() and not line.startswith("#")]
    return "\n".join(["by object:", *by_dso[:10], "", "top symbols:", *by_sym[:40]])


def syscalls_per_request(srv: Server, port: int, work: Path, requests: int = 400) -> str:
    """System calls of the worker per request: `strace -c` on the worker while wrk sends about
    `requests` requests over 50 keep-alive connections (strace slows the worker a hundredfold:
    counts, not time; connection set-up is spread over these few requests)."""
    if not shutil.which("strace"):
        return "(strace not installed: no system call counts)"
    workers = [pid for pid in srv.pids() if pid != srv.pids()[0]]
    out = work / "strace.txt"
    tracer = subprocess.Popen(["strace", "-c", "-f", "-o", str(out), "-p", ",".join(map(str, workers))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    script = work / "count.lua"
    script.write_text(f"local n = 0\nrequest = function()\n  n = n + 1\n  if n > {requests} then wrk.thread:stop() end\n"
                      f"  return wrk.format(nil, \"{PATH}\")\nend\n")
    done = subprocess.run(["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", "-d30s", "-H", ALB_TRACE_HEADER, "-s", str(script),
                           f"https://127.0.0.1:{port}{PATH}"], capture_output=True, text=True, timeout=60).stdout
    tracer.send_signal(signal.SIGINT)
    tracer.wait(30)
    m = re.search(r"(\d+) requests in", done)
    n = int(m.group(1)) if m else 0
    rows = []
    for line in out.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1].isidentifier() and parts[3].isdigit() and parts[-1] != "total":
            rows.append((int(parts[3]), parts[-1]))
    rows.sort(reverse=True)
    if not n:
        return "(wrk reported no requests: no system call counts)"
    cells = ", ".join(f"{name} {calls / n:.2f}" for calls, name in rows[:12])
    return f"System calls per request (strace -c over {n} requests): {cells}."


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def write_results(args: argparse.Namespace, results: dict[str, dict[str, list[tuple[float, float, int]]]],
                  cpu: dict[str, list[tuple[float, float]]], perf_text: str, elapsed: float) -> None:
    names = list(results["wrk"])
    lines = [
        "# Proxy benchmark: results",
        "",
        f"Last run: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, `benchmarks/proxy/bench.py {' '.join(sys.argv[1:])}` "
        f"({elapsed / 60:.1f} min).",
        f"Machine: {platform.node() or 'ci'} — {os.cpu_count()} CPUs ({_cpu_model()}), Linux {platform.release()}, "
        f"{_versions()}.",
        f"Servers pinned to CPU {SERVER_CPU} (one worker/thread each, backend included), load generator to CPU {CLIENT_CPU}; "
        f"{CONNECTIONS} connections; 1 KiB static file; same ECDSA P-256 certificate and TLS 1.2/1.3 everywhere.",
        f"Load: every request carries `{ALB_TRACE_HEADER}` as the ALB adds to each request it forwards (the sidecar "
        f"takes its request id from it); {', '.join(sorted(NO_TRACE))} gets the same load without it.",
        "Each cell: median over the repeats; ratios are computed within each repeat, then the median taken.",
        "",
    ]
    for tool, label in (("wrk", "HTTP/1.1 (wrk, 50 connections)"), ("h2load", "HTTP/2 (h2load, 50 connections x 10 streams)")):
        res = results[tool]
        lines += [f"## {label}", "", "| target | req/s (median) | p99 ms (median) | × direct | × naive | p99 − direct (ms) | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for n in names:
            rps = [r[0] for r in res[n]]
            p99 = [r[1] for r in res[n]]
            vs_direct = [a[0] / d[0] for a, d in zip(res[n], res["direct"]) if d[0]]
            vs_naive = [a[0] / d[0] for a, d in zip(res[n], res["naive"]) if d[0]]
            dp99 = [a[1] - d[1] for a, d in zip(res[n], res["direct"])]
            errs = sum(r[2] for r in res[n])
            lines.append(f"| {n} | {_median(rps):,.0f} | {_median(p99):.2f} | {_median(vs_direct):.2f} | "
                         f"{_median(vs_naive):.2f} | {_median(dp99):+.2f} | {errs} |")
        lines.append("")
        lines.append("Per repeat (req/s): " + "; ".join(
            f"{n}: " + ", ".join(f"{r[0]:.0f}" for r in res[n]) for n in names))
        lines.append("")

    def ratio(res: dict[str, list[tuple[float, float, int]]], a: str, b: str) -> float:
        return _median([x[0] / y[0] for x, y in zip(res[a], res[b]) if y[0]])

    peers = [n for n in ("haproxy", "haproxy-work", "caddy", "caddy-work") if n in names]
    lines += ["## The sidecar against its peers (req/s ratios within each repeat, median)", "",
              "`-work` rows are the peer configured to do the sidecar's work (JSON access log per request, the same",
              "security headers on every response, a request id, X-Forwarded-For from trusted CIDRs only, a per-client",
              "rate limit, and for `haproxy-work-cache` its HTTP cache on the path); Caddy's standard build has no rate",
              "limit and no cache, so `caddy-work` does less than the sidecar. `haproxy-work` builds its own request id",
              "from connection fields (`unique-id-format`, no random numbers) rather than reading the ALB's header.",
              "Plain rows are their minimal configs.", "",
              "| sidecar row | protocol | " + " | ".join(f"÷ {n}" for n in peers) + " |",
              "|---|---|" + "---:|" * len(peers)]
    for tool in ("wrk", "h2load"):
        proto = "HTTP/1.1" if tool == "wrk" else "HTTP/2"
        for row in ("sidecar", "sidecar-cache"):
            cells = [ratio(results[tool], row, n) for n in peers]
            lines.append(f"| {row} | {proto} | " + " | ".join(f"{c:.2f}×" for c in cells) + " |")
        if "haproxy-work-cache" in names:
            lines.append(f"| sidecar-cache ÷ haproxy-work-cache | {proto} | "
                         f"{ratio(results[tool], 'sidecar-cache', 'haproxy-work-cache'):.2f}× |" + " |" * (len(peers) - 1))
    lines.append("")

    ablations = [(n, "sidecar-cache" if n.startswith("sidecar-cache-") else "sidecar") for n in names
                 if n.startswith("sidecar-") and n != "sidecar-cache"]
    if ablations:
        lines += ["## Ablation: each row against the full configuration it comes from (req/s ratio within each repeat, median)", "",
                  "| row | against | HTTP/1.1 | HTTP/2 | CPU µs/req, row vs full (wrk) |", "|---|---|---:|---:|---|"]
        for n, full in ablations:
            lines.append(f"| {n} | {full} | {ratio(results['wrk'], n, full):.2f}× | {ratio(results['h2load'], n, full):.2f}× | "
                         f"{_median([c[0] for c in cpu[n]]):.1f} vs {_median([c[0] for c in cpu[full]]):.1f} |")
        lines.append("")

    lines += ["## Targets (issues 5 and 15), from the medians of per-repeat ratios", "",
              "| target | protocol | measured | met? |", "|---|---|---:|---|"]
    for tool in ("wrk", "h2load"):
        res = results[tool]
        proto = "HTTP/1.1" if tool == "wrk" else "HTTP/2"
        r_naive = ratio(res, "sidecar", "naive")
        r_cache = ratio(res, "sidecar-cache", "direct")
        r_min = ratio(res, "sidecar", "haproxy")
        lines.append(f"| sidecar ≥ 2× naive req/s | {proto} | {r_naive:.2f}× | {'yes' if r_naive >= 2 else 'NO'} |")
        lines.append(f"| sidecar ≥ 1.0× HAProxy's minimal config{'' if tool == 'wrk' else ' (reported)'} | {proto} | "
                     f"{r_min:.2f}× | {'yes' if r_min >= 1.0 else 'NO'} |")
        if "haproxy-work" in names:
            r_work = ratio(res, "sidecar", "haproxy-work")
            lines.append(f"| sidecar ≥ 1.3× HAProxy doing the same work | {proto} | {r_work:.2f}× | {'yes' if r_work >= 1.3 else 'NO'} |")
        lines.append(f"| cache-hit ≥ 0.9× direct req/s | {proto} | {r_cache:.2f}× | {'yes' if r_cache >= 0.9 else 'NO'} |")
    for n in ("sidecar", "sidecar-cache"):
        d99 = _median([a[1] - d[1] for a, d in zip(results["wrk"][n], results["wrk"]["direct"])])
        lines.append(f"| {n} p99 ≤ direct + 2 ms at 50 connections | HTTP/1.1 | {d99:+.2f} ms | {'yes' if d99 <= 2 else 'NO'} |")
    lines.append("")
    lines += ["## CPU per request (wrk runs, median µs of CPU time)", "",
              "| target | target processes | backend |", "|---|---:|---:|"]
    for n in names:
        lines.append(f"| {n} | {_median([c[0] for c in cpu[n]]):.1f} | {_median([c[1] for c in cpu[n]]):.1f} |")
    lines.append("")
    if perf_text:
        lines += ["## perf: where the sidecar worker spends its time (wrk load, cache off)", "", "```", perf_text, "```", ""]
    (args.out / "RESULTS.md").write_text("\n".join(lines) + "\n")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _versions() -> str:
    def first(cmd: list[str]) -> str:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (done.stdout + done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    return ", ".join([first(["nginx", "-v"]), first(["haproxy", "-v"]).split(" - ")[0], "caddy " + first(["caddy", "version"]),
                      first(["wrk", "-v"]).split(" [")[0], first(["h2load", "--version"])])


if __name__ == "__main__":
    sys.exit(main())
