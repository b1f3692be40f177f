"""Test harness for the live proxy tests: TLS material made at test time, a controllable upstream,
a real nginx started on a rendered config, and a small HTTPS client. Loopback only."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rampart.components.proxy_config import ProxyConfig
from rampart.offline.render_proxy import write_self_signed_pair

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_tls_pair(directory: Path, common_name: str = "localhost") -> tuple[Path, Path]:
    """A fresh ECDSA P-256 key and a short-lived self-signed certificate (never committed)."""
    directory.mkdir(parents=True, exist_ok=True)
    return write_self_signed_pair(directory, common_name, days=2)


# ---------------------------------------------------------------------------------------------
# upstream
# ---------------------------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Upstream:
    """A tiny HTTP/1.1 app on 127.0.0.1 that records what reached it.

    /static/cookie*   200 with Set-Cookie           /missing*  404
    /echo*            200, JSON of request headers  /static/app.css  2 KiB text/css
    /slow*            never answers (hung app)      anything else    200 "hello <n>"
    """

    port: int = field(default_factory=free_port)
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _conns: set[socket.socket] = field(default_factory=set)

    def hits(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)

    def start(self) -> Upstream:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls

            def setup(self) -> None:
                super().setup()
                upstream._conns.add(self.connection)

            def finish(self) -> None:
                upstream._conns.discard(self.connection)
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _reply(self, status: int, body: bytes, ctype: str = "text/plain", extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Powered-By", "test-upstream")
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                upstream.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                n = len(upstream.seen)
                if self.path.startswith("/slow"):
                    upstream._release.wait(30)
                    return
                if self.path.startswith("/static/cookie"):
                    self._reply(200, f"cookie {n}".encode(), extra={"Set-Cookie": f"session=s{n}; Secure; HttpOnly"})
                elif self.path.startswith("/static/app.css"):
                    self._reply(200, b"body { color: red; }\n" * 100, ctype="text/css")
                elif self.path.startswith("/static/data.json"):
                    self._reply(200, json.dumps({"k": "v" * 2000}).encode(), ctype="application/json")
                elif self.path.startswith("/missing"):
                    self._reply(404, b"not here")
                elif self.path.startswith("/status/"):  # /status/503: answer with that status
                    code = int(self.path.split("/")[2])
                    self._reply(code, b"status", extra={"Location": "/"} if 300 <= code < 400 else None)
                elif self.path.startswith("/echo"):
                    self._reply(200, json.dumps({k.lower(): v for k, v in self.headers.items()}).encode(), "application/json")
                else:
                    self._reply(200, f"hello {n}".encode())

            do_HEAD = do_GET  # noqa: N815
            do_POST = do_GET  # noqa: N815

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._release.clear()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop like a crashed app: the listener and every open (keep-alive) connection close."""
        self._release.set()
        for conn in list(self._conns):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


# ---------------------------------------------------------------------------------------------
# nginx
# ---------------------------------------------------------------------------------------------


def nginx_args(prefix: Path, conf: str = "nginx.conf", extra_globals: str = "") -> list[str]:
    """`nginx -p PREFIX -c CONF` in the foreground; as root, workers stay root so they can reach
    pytest's private temp dirs (workers would otherwise switch to `nobody`)."""
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "") + extra_globals
    return [NGINX, "-p", str(prefix), "-c", conf, "-e", "logs/error.log", "-g", globals_]


def nginx_test(prefix: Path, conf: str = "nginx.conf") -> subprocess.CompletedProcess[str]:
    args = nginx_args(prefix, conf) + ["-t"]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


class Nginx:
    """A real nginx on a config in `prefix`, started in the foreground and always stopped."""

    def __init__(self, prefix: Path, port: int, conf: str = "nginx.conf") -> None:
        self.prefix, self.port, self.conf = prefix, port, conf
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> Nginx:
        (self.prefix / "logs").mkdir(exist_ok=True)
        (self.prefix / "var").mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            nginx_args(self.prefix, self.conf), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log = (self.prefix / "logs" / "error.log")
                raise RuntimeError(f"nginx exited: {err}\n{log.read_text() if log.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.port} within {timeout}s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text() if path.exists() else ""

    def access_log(self) -> list[dict[str, Any]]:
        path = self.prefix / "logs" / "access.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# client
# ---------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, list[str]]
    body: bytes
    elapsed: float

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def client_context(cafile: Path | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if cafile is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Client:
    """HTTPS/1.1 client with one keep-alive connection (re-opened when the server closes it)."""

    def __init__(self, port: int, ctx: ssl.SSLContext, host: str = "localhost") -> None:
        self.port, self.ctx, self.host = port, ctx, host
        self.conn: http.client.HTTPSConnection | None = None

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None,
                timeout: float = 15.0) -> Response:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=timeout)
                self.conn.connect()
                assert self.conn.sock is not None
            try:
                start = time.monotonic()
                hdrs = {"Host": self.host, **(headers or {})}
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                elapsed = time.monotonic() - start
                out: dict[str, list[str]] = {}
                for k, v in resp.getheaders():
                    out.setdefault(k.lower(), []).append(v)
                if resp.will_close:
                    self.close()
                return Response(resp.status, out, data, elapsed)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def tls_handshake(port: int, *, version: ssl.TLSVersion, ciphers: str | None = None,
                  alpn: list[str] | None = None) -> tuple[str, str, str | None]:
    """One handshake pinned to `version` with a client that itself allows everything down to
    TLS 1.0 (security level 0), so a refusal is the server's. Returns (version, cipher, alpn)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(ciphers or "ALL:@SECLEVEL=0")
    ctx.minimum_version = version
    ctx.maximum_version = version
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            negotiated = tls.version()
            cipher = tls.cipher()
            assert negotiated is not None and cipher is not None
            return negotiated, cipher[0], tls.selected_alpn_protocol()


# ---------------------------------------------------------------------------------------------
# the proxy under test (built by the fixtures in conftest.py)
# ---------------------------------------------------------------------------------------------


@dataclass
class Proxy:
    config: ProxyConfig
    nginx: Nginx
    port: int
    prefix: Path
    tls_dir: Path

    def client(self, host: str = "localhost") -> Client:
        return Client(self.port, client_context(self.tls_dir / "cert.pem"), host=host)


# Settings for the model-rendered proxy: small limits so the live tests run in seconds.
TEST_CONFIG = {
    "rateLimit": {"zones": [{"name": "per_client", "ratePerSecond": 5, "burst": 10}], "retryAfterSeconds": 3},
    "limits": {"maxBodyKb": 16},
    "timeouts": {"proxyConnectS": 1, "proxyReadS": 2},
    "trustedProxyCidrs": ["10.0.0.0/8"],
    "workerProcesses": 1,
}
