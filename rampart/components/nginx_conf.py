"""Nginx reverse-proxy sidecar: the renderer. `render_nginx_conf` turns a `ProxyConfig`
(`rampart.components.proxy_config`, the settings model) into one ``nginx.conf`` string;
`write_image_context` puts it beside the proxy image's sources.

Injection safety: every value that reaches the file is validated twice, once by the model (so a
bad stack file fails before anything else runs, with the key path) and once more by the renderer
at the point of emission (so a model built with ``model_construct`` cannot bypass the check). A
value that could leave its directive (``;``, braces, quotes, a backslash, newlines or other
control characters, a ``$`` that nginx would expand, whitespace where a bare token is expected) is
rejected with an error naming the field. The only free-text values, the security header values,
are emitted inside double quotes, where ``;`` and ``'`` are literal (CSP needs both) and ``"``,
``\\``, ``$``, braces and control characters are refused.

The config is valid on nginx 1.22 (Debian 12) and newer: ``listen ... ssl http2``, TLSv1.3 listed
explicitly, ``ssl_session_tickets off``, every ``add_header`` at server level with ``always`` and no
``add_header`` in any location (a location with its own would inherit none).
"""

from __future__ import annotations

import ipaddress
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rampart.components.observability import ACCESS_LOG_FLAGS
from rampart.components.routing import HEALTH_CHECK_PATH
from rampart.components.proxy_config import (
    _OPEN_FILE_CACHE_INACTIVE_S,
    _OPEN_FILE_CACHE_MAX,
    _UNSAFE_DESCRIPTION,
    ProxyConfig,
    RateLimitZone,
    _check_access_pattern,
    _check_header_value,
    _check_hostname,
    _check_mime,
    _check_path,
    _check_upstream_host,
    _check_zone,
    _is_cache_location,
    _location_prefixes,
)

__all__ = [
    "RenderError",
    "RenderTarget",
    "CONTAINER_PATHS",
    "OIDC_HEADERS",
    "PROXY_IMAGE_SOURCES",
    "render_nginx_conf",
    "write_image_context",
]


# ---------------------------------------------------------------------------------------------
# the renderer
# ---------------------------------------------------------------------------------------------


class RenderError(ValueError):
    """A value would change the rendered config's structure (names the field)."""


@dataclass(frozen=True)
class RenderTarget:
    """Where the config runs.

    mode "container": paths of the proxy image (TLS material in /run/proxy/tls on a task volume, logs to
    stdout/stderr, `daemon off`, listen on every address). mode "local": every path, the pid and
    temp files relative to nginx's prefix (`nginx -p DIR -c nginx.conf`), listen on 127.0.0.1.
    """

    mode: Literal["container", "local"] = "container"
    upstream_port: int | None = None
    upstream_host: str | None = None
    listen_port: int | None = None


CONTAINER_PATHS = {
    "tls_dir": "/run/proxy/tls",
    "pid": "/run/proxy/nginx.pid",
    "var": "/var/cache/proxy",
}

_MOZ_INTERMEDIATE_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ]
)

_BARE_RE = re.compile(r"^[A-Za-z0-9._:/=+*@,\[\]~-]+$")


def _bare(value: object, field: str) -> str:
    """A bare (unquoted) nginx argument: no whitespace, quotes, ';', braces, '$', '#', '\\'."""
    text = str(value)
    if not _BARE_RE.fullmatch(text):
        raise RenderError(f"{field}: value {text!r} is not a safe nginx token; {_UNSAFE_DESCRIPTION}")
    return text


def _quoted(value: str, field: str) -> str:
    try:
        _check_header_value(value)
    except ValueError as exc:
        raise RenderError(f"{field}: {exc}") from None
    return f'"{value}"'


def _checked(value: str, field: str, check: object) -> str:
    try:
        assert callable(check)
        check(value)
    except ValueError as exc:
        raise RenderError(f"{field}: {exc}") from None
    return _bare(value, field)


def _int(value: object, field: str, lo: int, hi: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RenderError(f"{field}: {value!r} is not an integer between {lo} and {hi}")
    return str(value)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def d(self, *parts: str) -> None:
        self.lines.append("    " * self.depth + " ".join(parts) + ";")

    def open(self, *parts: str) -> None:
        self.lines.append("    " * self.depth + " ".join(parts) + " {")
        self.depth += 1

    def close(self) -> None:
        self.depth -= 1
        self.lines.append("    " * self.depth + "}")

    def blank(self) -> None:
        self.lines.append("")

    def comment(self, text: str) -> None:
        self.lines.append("    " * self.depth + "# " + text)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


_JSON_LOG_FORMAT = (
    "'{"
    '"time":"$time_iso8601",'
    '"request_id":"$rampart_request_id",'
    '"client":"$remote_addr",'
    '"peer":"$realip_remote_addr",'
    '"method":"$request_method",'
    '"path":"$uri",'
    '"protocol":"$server_protocol",'
    '"status":$status,'
    '"bytes_sent":$body_bytes_sent,'
    '"request_time":$request_time,'
    '"upstream_status":"$upstream_status",'
    '"upstream_time":"$upstream_response_time",'
    '"cache":"$upstream_cache_status",'
    '"tls":"$ssl_protocol",'
    '"cipher":"$ssl_cipher",'
    '"user_agent":"$http_user_agent",'
    # the metric filters' 0/1 flags (rampart/components/observability.py ACCESS_LOG_FLAGS): unquoted, as
    # their maps in _request_id_and_access_log write a number or null
    + ",".join(f'"{flag.field}":{flag.variable}' for flag in ACCESS_LOG_FLAGS)
    + "}'"
)


#: An ALB trace id field's value: version 1, epoch seconds in 8 hex digits, 24 hex digits of id
#: (Elastic Load Balancing user guide, "Request tracing for your Application Load Balancer").
_ALB_TRACE_ID = "1-[0-9a-f]{8}-[0-9a-f]{24}"


@dataclass(frozen=True)
class _Placement:
    """Where the rendered config's parts go for one target: the upstream and listen addresses
    (checked), the pid, TLS, temp/cache and log paths."""

    local: bool
    up_host_s: str
    up_port_s: str
    listen_addr: str
    pid: str
    tls_dir: str
    var: str
    error_log: str
    access_log: str


def render_nginx_conf(config: ProxyConfig, target: RenderTarget | None = None) -> str:
    """Render `config` as one nginx.conf for `target` (default: the container image): the main
    context, then the http block (settings, maps, rate-limit zones, cache, upstream, TLS), its
    servers and the optional stub_status server, in that order."""
    target = target or RenderTarget()
    place = _placement(config, target)
    w = _Writer()
    _main_context(w, config, target, place)
    w.open("http")
    _http_settings(w, place)
    _limits_and_timeouts(w, config)
    _real_client_address(w, config)
    _request_id_and_access_log(w, config, place)
    _access_maps(w, config)
    zones = config.rate_limit.zones if config.rate_limit.enabled else []
    _rate_limit_zones(w, zones)
    _gzip(w, config)
    _cache_path(w, config, place)
    _upstream(w, config, place)
    _tls(w, config, place)
    _servers(w, config, place.listen_addr, zones)
    if config.stub_status_port:
        _stub_status_server(w, config, place.listen_addr)
    w.close()  # http
    return w.text()


def _placement(config: ProxyConfig, target: RenderTarget) -> _Placement:
    """The upstream and listen addresses (the target's, else the config's) and the paths of the
    target's mode: the image's for "container", relative to nginx's prefix for "local"."""
    local = target.mode == "local"
    if target.mode not in ("container", "local"):
        raise RenderError(f"target.mode: {target.mode!r} is not 'container' or 'local'")

    up_host = target.upstream_host or config.upstream.host
    up_port = target.upstream_port or config.upstream.port
    if up_port is None:
        raise RenderError(
            "upstream.port: no upstream port; set the service's proxy upstream.port or give the "
            "service's container port"
        )
    listen_port = target.listen_port or config.listen_port
    up_host_s = _checked(up_host, "upstream.host", _check_upstream_host)
    up_port_s = _int(up_port, "upstream.port", 1, 65535)
    listen_port_s = _int(listen_port, "listenPort", 1, 65535)

    if local:
        pid, tls_dir, var = "nginx.pid", "tls", "var"
        error_log = "logs/error.log"
        access_log = "logs/access.log"
        listen_addr = f"127.0.0.1:{listen_port_s}"
    else:
        pid, tls_dir, var = CONTAINER_PATHS["pid"], CONTAINER_PATHS["tls_dir"], CONTAINER_PATHS["var"]
        error_log = "stderr"
        access_log = "/dev/stdout"
        listen_addr = listen_port_s
    return _Placement(local, up_host_s, up_port_s, listen_addr, pid, tls_dir, var, error_log, access_log)


def _main_context(w: _Writer, config: ProxyConfig, target: RenderTarget, place: _Placement) -> None:
    """The header comment, workers and their file limit, pid and error log, and the events block."""
    local, pid, error_log = place.local, place.pid, place.error_log
    w.comment("Generated by Rampart (rampart/components/nginx_conf.py). Do not edit: change the service's proxy settings.")
    w.comment(f"Render target: {target.mode}.")
    if not local:
        w.d("daemon", "off")
    if config.worker_processes == "auto":
        w.d("worker_processes", "auto")
    else:
        w.d("worker_processes", _int(config.worker_processes, "workerProcesses", 1, 64))
    # each connection may hold a client and an upstream socket; kept cache files come on top, up to
    w.d("worker_rlimit_nofile", str(config.open_files_per_worker()))
    w.d("pid", pid)
    w.d("error_log", error_log, "warn")
    w.d("pcre_jit", "on")
    w.blank()
    w.open("events")
    w.d("worker_connections", _int(config.worker_connections, "workerConnections", 64, 65536))
    w.close()
    w.blank()


def _http_settings(w: _Writer, place: _Placement) -> None:
    """The http block's fixed settings and the temp paths under the target's var directory."""
    var = place.var
    w.d("default_type", "application/octet-stream")
    w.d("server_tokens", "off")
    w.d("sendfile", "on")
    w.d("tcp_nopush", "on")
    w.d("tcp_nodelay", "on")
    w.d("reset_timedout_connection", "on")
    for name, directive in (
        ("client_body", "client_body_temp_path"),
        ("proxy", "proxy_temp_path"),
        ("fastcgi", "fastcgi_temp_path"),
        ("uwsgi", "uwsgi_temp_path"),
        ("scgi", "scgi_temp_path"),
    ):
        w.d(directive, f"{var}/{name}_temp")
    w.blank()


def _limits_and_timeouts(w: _Writer, config: ProxyConfig) -> None:
    w.comment("Limits and timeouts")
    lim, to = config.limits, config.timeouts
    w.d("client_max_body_size", _int(lim.max_body_kb, "limits.maxBodyKb", 1, 1048576) + "k")
    w.d("client_header_buffer_size", _int(lim.header_buffer_kb, "limits.headerBufferKb", 1, 64) + "k")
    w.d(
        "large_client_header_buffers",
        _int(lim.large_header_buffers, "limits.largeHeaderBuffers", 1, 64),
        _int(lim.large_header_buffer_kb, "limits.largeHeaderBufferKb", 1, 64) + "k",
    )
    w.d("client_header_timeout", _int(to.client_header_s, "timeouts.clientHeaderS", 1, 300) + "s")
    w.d("client_body_timeout", _int(to.client_body_s, "timeouts.clientBodyS", 1, 300) + "s")
    w.d("send_timeout", _int(to.send_s, "timeouts.sendS", 1, 300) + "s")
    w.d("keepalive_timeout", _int(to.keepalive_s, "timeouts.keepaliveS", 1, 3600) + "s")
    w.d("keepalive_requests", _int(lim.keepalive_requests, "limits.keepaliveRequests", 1, 10000000))
    w.blank()


def _real_client_address(w: _Writer, config: ProxyConfig) -> None:
    w.comment("Real client address: X-Forwarded-For only from trusted peers (the ALB's subnets), and only its")
    w.comment("last entry, the one the ALB appended: with one hop, walking further back believes the client")
    for i, net in enumerate(config.trusted_proxy_cidrs):
        if not isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            raise RenderError(f"trustedProxyCidrs[{i}]: {net!r} is not a network")
        w.d("set_real_ip_from", _bare(net.with_prefixlen, f"trustedProxyCidrs[{i}]"))
    if config.trusted_proxy_cidrs:
        w.d("real_ip_header", "X-Forwarded-For")
        w.d("real_ip_recursive", "off")
    w.blank()


def _request_id_and_access_log(w: _Writer, config: ProxyConfig, place: _Placement) -> None:
    """The request id and Retry-After maps, the JSON log format and the access log."""
    access_log = place.access_log
    w.comment("Request id, sent upstream and back and logged: the client's X-Request-ID when it is")
    w.comment("well-formed; else the ALB's trace id (X-Amzn-Trace-Id: its Self field, which the ALB")
    w.comment("always writes itself when a client sent a Root, else Root, which it then made); else")
    w.comment("nginx's random $request_id (local runs, clients not behind the ALB). The ALB's id ties")
    w.comment("this log line to the ALB's access log and costs nothing; $request_id costs an OpenSSL")
    w.comment("RAND_bytes per request (benchmarks/proxy, row sidecar-notrace).")
    w.open("map", "$http_x_amzn_trace_id", "$rampart_trace_id")
    w.d("default", "$request_id")
    w.d(f'"~(?:^|;)Self=({_ALB_TRACE_ID})(?:;|$)"', "$1")
    w.d(f'"~(?:^|;)Root=({_ALB_TRACE_ID})(?:;|$)"', "$1")
    w.close()
    w.open("map", "$http_x_request_id", "$rampart_request_id")
    w.d("default", "$rampart_trace_id")
    w.d('"~^[A-Za-z0-9._-]{8,128}$"', "$http_x_request_id")
    w.close()
    w.open("map", "$status", "$rampart_retry_after")
    w.d("default", '""')
    w.d("429", _int(config.rate_limit.retry_after_seconds, "rateLimit.retryAfterSeconds", 1, 3600))
    w.close()
    w.comment("The access-log metrics' flags: 1 and 0 for the two outcomes one metric counts, null on other lines")
    for flag in ACCESS_LOG_FLAGS:
        w.open("map", flag.source, flag.variable)
        w.d("default", "null")
        w.d(flag.one, "1")
        w.d(flag.zero, "0")
        w.close()
    w.d("log_format", "rampart_json", "escape=json", _JSON_LOG_FORMAT)
    if config.access_log_buffer_kb:
        buffer_kb = _int(config.access_log_buffer_kb, "accessLogBufferKb", 1, 1024)
        w.d("access_log", access_log, "rampart_json", f"buffer={buffer_kb}k", "flush=1s")
    else:
        w.d("access_log", access_log, "rampart_json")
    w.blank()


def _rate_limit_zones(w: _Writer, zones: list[RateLimitZone]) -> None:
    """One limit_req zone per configured zone (none when rate limiting is off), answering 429."""
    if zones:
        w.comment("Rate limits, keyed on the real client address")
        for i, z in enumerate(zones):
            f = f"rateLimit.zones[{i}]"
            w.d(
                "limit_req_zone",
                "$binary_remote_addr",
                "zone=" + _checked(z.name, f + ".name", _check_zone) + ":"
                + _int(z.zone_size_mb, f + ".zoneSizeMb", 1, 1024) + "m",
                "rate=" + _int(z.rate_per_second, f + ".ratePerSecond", 1, 100000) + "r/s",
            )
        w.d("limit_req_status", "429")
        w.d("limit_req_log_level", "warn")
        w.blank()


def _gzip(w: _Writer, config: ProxyConfig) -> None:
    if config.gzip.enabled and config.gzip.types:
        w.comment("Compression only for types that carry no secrets (BREACH)")
        w.d("gzip", "on")
        w.d("gzip_vary", "on")
        w.d("gzip_proxied", "any")
        w.d("gzip_comp_level", _int(config.gzip.level, "gzip.level", 1, 9))
        w.d("gzip_min_length", _int(config.gzip.min_length, "gzip.minLength", 0, 10485760))
        w.d("gzip_types", *[_checked(t, f"gzip.types[{i}]", _check_mime) for i, t in enumerate(config.gzip.types)])
    else:
        w.d("gzip", "off")
    w.blank()


def _cache_path(w: _Writer, config: ProxyConfig, place: _Placement) -> None:
    """The proxy cache's zone and files under the target's var directory, when caching is on."""
    var = place.var
    cache = config.cache
    if cache.enabled:
        w.d(
            "proxy_cache_path",
            f"{var}/cache",
            "levels=1:2",
            "keys_zone=rampart_cache:" + _int(cache.zone_size_mb, "cache.zoneSizeMb", 1, 1024) + "m",
            "max_size=" + _int(cache.max_size_mb, "cache.maxSizeMb", 1, 1048576) + "m",
            "inactive=" + _int(cache.inactive_minutes, "cache.inactiveMinutes", 1, 10080) + "m",
            "use_temp_path=off",
        )
        w.blank()


def _upstream(w: _Writer, config: ProxyConfig, place: _Placement) -> None:
    """The app upstream with its keepalive pool."""
    up_host_s, up_port_s = place.up_host_s, place.up_port_s
    w.open("upstream", "rampart_app")
    w.d("server", f"{up_host_s}:{up_port_s}")
    up = config.upstream
    w.d("keepalive", _int(up.keepalive_pool(), "upstream.keepalive", 1, 100000))
    w.d("keepalive_requests", _int(up.keepalive_requests, "upstream.keepaliveRequests", 1, 10000000))
    w.d("keepalive_timeout", _int(up.keepalive_timeout_s, "upstream.keepaliveTimeoutS", 1, 3600) + "s")
    w.close()
    w.blank()


def _tls(w: _Writer, config: ProxyConfig, place: _Placement) -> None:
    """The Mozilla profile's protocols and ciphers, the session cache, the certificate and key."""
    tls_dir = place.tls_dir
    tls = config.tls
    w.comment(f"TLS: Mozilla {tls.profile} profile")
    if tls.profile == "modern":
        w.d("ssl_protocols", "TLSv1.3")
    else:
        w.d("ssl_protocols", "TLSv1.2", "TLSv1.3")
        w.d("ssl_ciphers", _MOZ_INTERMEDIATE_CIPHERS)
    w.d("ssl_prefer_server_ciphers", "off")
    w.d("ssl_ecdh_curve", "X25519:prime256v1:secp384r1")
    w.d("ssl_session_cache", "shared:rampart_tls:" + _int(tls.session_cache_mb, "tls.sessionCacheMb", 1, 512) + "m")
    w.d("ssl_session_timeout", _int(tls.session_timeout_minutes, "tls.sessionTimeoutMinutes", 1, 1440) + "m")
    w.d("ssl_session_tickets", "off")
    w.d("ssl_certificate", f"{tls_dir}/cert.pem")
    w.d("ssl_certificate_key", f"{tls_dir}/key.pem")
    w.blank()


def _servers(w: _Writer, config: ProxyConfig, listen_addr: str, zones: list[RateLimitZone]) -> None:
    """With server names, a default server answering 421 to every other host; then the service's server."""
    names = [
        _checked(n, f"serverNames[{i}]", _check_hostname) for i, n in enumerate(config.server_names)
    ]
    any_name = names == ["_"]
    if not any_name:
        _misdirected_server(w, config, listen_addr)
    _service_server(w, config, listen_addr, names, any_name, zones)


def _health_location(w: _Writer) -> None:
    """The health check's answer, in every server: the ALB's check and proxy-healthcheck ask it (proxy-init.c
    probes the first exact-match location it reads, so this comes first in each server)."""
    w.open("location", "=", HEALTH_CHECK_PATH)
    w.d("access_log", "off")
    w.d("default_type", "text/plain")
    w.d("return", "200", '"ok\\n"')
    w.close()


def _misdirected_server(w: _Writer, config: ProxyConfig, listen_addr: str) -> None:
    w.comment("Unknown host names: 421 Misdirected Request")
    w.open("server")
    w.d("listen", listen_addr, "ssl", "http2", "default_server")
    w.d("server_name", "_")
    _security_headers(w, config)
    # The load balancer's health check names no host of the service (its Host is the target's address and
    # port), so it lands here: answer it as the service's server does, or every target fails it.
    _health_location(w)
    w.open("location", "/")
    w.d("return", "421")
    w.close()
    w.close()
    w.blank()


def _service_server(
    w: _Writer, config: ProxyConfig, listen_addr: str, names: list[str], any_name: bool, zones: list[RateLimitZone]
) -> None:
    """The service's server: security headers, the access check, the health location, one location per prefix."""
    w.open("server")
    if any_name:
        w.d("listen", listen_addr, "ssl", "http2", "default_server")
    else:
        w.d("listen", listen_addr, "ssl", "http2")
    w.d("server_name", *names)
    w.blank()
    w.comment("Every add_header lives here, with `always`: locations add none, so all inherit these")
    _security_headers(w, config)
    w.blank()
    if any(entry.allow_cidrs for entry in config.access):
        w.comment("Paths restricted to client networks: other real client addresses get 403 (logged)")
        w.open("if", "($rampart_access_denied)")
        w.d("return", "403")
        w.close()
        w.blank()
    _health_location(w)

    for prefix in _location_prefixes(config):
        _location(w, config, prefix, zones)

    w.close()  # server


def _location(w: _Writer, config: ProxyConfig, prefix: str, zones: list[RateLimitZone]) -> None:
    """One path prefix: its rate limits, its cache when the prefix is cached, then the proxy."""
    cache = config.cache
    w.blank()
    w.open("location", _checked(prefix, "location prefix", _check_path))
    for i, z in enumerate(zones):
        if prefix.startswith(z.path_prefix):
            w.d(
                "limit_req",
                "zone=" + _checked(z.name, f"rateLimit.zones[{i}].name", _check_zone),
                "burst=" + _int(z.burst, f"rateLimit.zones[{i}].burst", 0, 100000),
                "nodelay",
            )
    if _is_cache_location(config, prefix):
        w.d("proxy_cache", "rampart_cache")
        w.d("proxy_cache_methods", "GET", "HEAD")
        w.d("proxy_cache_key", "$scheme$host$request_uri")
        w.d("proxy_cache_valid", "200", "301", _int(cache.ttl_seconds, "cache.ttlSeconds", 1, 31536000) + "s")
        w.d("proxy_cache_bypass", "$http_authorization")
        w.d("proxy_no_cache", "$http_authorization", "$upstream_http_set_cookie")
        w.d("proxy_cache_lock", "on")
        w.d("proxy_cache_use_stale", "error", "timeout", "updating", "http_502", "http_503", "http_504")
        w.d("proxy_cache_background_update", "on")
        if cache.open_file_cache:
            w.d("open_file_cache", f"max={_OPEN_FILE_CACHE_MAX}", f"inactive={_OPEN_FILE_CACHE_INACTIVE_S}s")
            w.d("open_file_cache_valid", "10s")
    _proxy_pass(w, config)
    w.close()


def _stub_status_server(w: _Writer, config: ProxyConfig, listen_addr: str) -> None:
    """nginx's connection counters (and nothing else) on the loopback address only, for a collector
    sidecar such as nginx-prometheus-exporter; the ALB cannot reach 127.0.0.1."""
    port = _int(config.stub_status_port, "stubStatusPort", 1024, 65535)
    if listen_addr.rsplit(":", 1)[-1] == port:
        raise RenderError(f"stubStatusPort: {port} is the proxy's listen port; pick another port (or 0 for off)")
    w.blank()
    w.comment("stub_status for a collector sidecar: loopback only, no other location")
    w.open("server")
    w.d("listen", f"127.0.0.1:{port}")
    w.d("access_log", "off")
    w.open("location", "=", "/stub_status")
    w.d("stub_status")
    w.close()
    w.open("location", "/")
    w.d("return", "404")
    w.close()
    w.close()


_HIDDEN_UPSTREAM_HEADERS = (
    "X-Powered-By",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Content-Security-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Request-ID",
)


#: The headers the ALB sets after signing a user in; the app must receive them only from the ALB.
OIDC_HEADERS = ("x-amzn-oidc-accesstoken", "x-amzn-oidc-identity", "x-amzn-oidc-data")


def _access_regex(pattern: str, field: str) -> str:
    """An ALB path pattern as an anchored, case-sensitive nginx regex: `*` any characters, `?` one;
    every other character literal (in a class where it means something in a regex)."""
    try:
        _check_access_pattern(pattern)
    except ValueError as exc:
        raise RenderError(f"{field}: {exc}") from None
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif char in ".+":
            parts.append(f"[{char}]")
        else:
            parts.append(char)
    return '"~^' + "".join(parts) + '$"'


def _access_maps(w: _Writer, config: ProxyConfig) -> None:
    """$rampart_access: the index of the first access entry whose patterns match the path (as the
    ALB tries its rules in order), or empty; HEALTH_CHECK_PATH is never restricted (the ALB probes it).
    $rampart_access_denied: 1 when that entry has an allow-list and the real client address is
    outside it. $rampart_oidc_*: the client's x-amzn-oidc-* header on signed-in paths, else empty,
    so nginx does not pass it upstream."""
    w.comment("Access control per path (from the service's routing.access)")
    w.open("map", "$uri", "$rampart_access")
    w.d("default", '""')
    w.d(HEALTH_CHECK_PATH, '""')
    for i, entry in enumerate(config.access):
        for j, pattern in enumerate(entry.paths):
            w.d(_access_regex(pattern, f"access[{i}].paths[{j}]"), str(i))
    w.close()
    for i, entry in enumerate(config.access):
        if entry.allow_cidrs:
            w.open("geo", f"$rampart_outside_{i}")
            w.d("default", "1")
            for j, net in enumerate(entry.allow_cidrs):
                if not isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
                    raise RenderError(f"access[{i}].allowCidrs[{j}]: {net!r} is not a network")
                w.d(_bare(net.with_prefixlen, f"access[{i}].allowCidrs[{j}]"), "0")
            w.close()
    w.open("map", "$rampart_access", "$rampart_access_denied")
    w.d("default", "0")
    for i, entry in enumerate(config.access):
        if entry.allow_cidrs:
            w.d(str(i), f"$rampart_outside_{i}")
    w.close()
    for header in OIDC_HEADERS:
        w.open("map", "$rampart_access", "$rampart_" + header.replace("-", "_"))
        w.d("default", '""')
        for i, entry in enumerate(config.access):
            if entry.signed_in:
                w.d(str(i), "$http_" + header.replace("-", "_"))
        w.close()
    w.blank()


def _security_headers(w: _Writer, config: ProxyConfig) -> None:
    h = config.headers
    if config.hsts.enabled:
        w.d("add_header", "Strict-Transport-Security", _quoted(config.hsts.header_value(), "hsts"), "always")
    w.d("add_header", "X-Content-Type-Options", "nosniff", "always")
    w.d("add_header", "X-Frame-Options", _quoted(h.frame_options, "headers.frameOptions"), "always")
    w.d("add_header", "Referrer-Policy", _quoted(h.referrer_policy, "headers.referrerPolicy"), "always")
    w.d("add_header", "Permissions-Policy", _quoted(h.permissions_policy, "headers.permissionsPolicy"), "always")
    w.d(
        "add_header",
        "Content-Security-Policy",
        _quoted(h.content_security_policy, "headers.contentSecurityPolicy"),
        "always",
    )
    w.d(
        "add_header",
        "Cross-Origin-Opener-Policy",
        _quoted(h.cross_origin_opener_policy, "headers.crossOriginOpenerPolicy"),
        "always",
    )
    w.d("add_header", "X-Request-ID", "$rampart_request_id", "always")
    w.d("add_header", "Retry-After", "$rampart_retry_after", "always")
    w.d("add_header", "X-Cache-Status", "$upstream_cache_status", "always")


def _proxy_pass(w: _Writer, config: ProxyConfig) -> None:
    w.d("proxy_pass", "http://rampart_app")
    w.d("proxy_http_version", "1.1")
    w.d("proxy_set_header", "Connection", '""')
    w.d("proxy_set_header", "Host", "$host")
    w.d("proxy_set_header", "X-Real-IP", "$remote_addr")
    w.d("proxy_set_header", "X-Forwarded-For", "$proxy_add_x_forwarded_for")
    w.d("proxy_set_header", "X-Forwarded-Proto", "$scheme")
    w.d("proxy_set_header", "X-Request-ID", "$rampart_request_id")
    # Sign-in headers only where the ALB signed the user in (empty values are not sent upstream).
    for header in OIDC_HEADERS:
        w.d("proxy_set_header", header, "$rampart_" + header.replace("-", "_"))
    for header in _HIDDEN_UPSTREAM_HEADERS:
        w.d("proxy_hide_header", header)
    to = config.timeouts
    w.d("proxy_connect_timeout", _int(to.proxy_connect_s, "timeouts.proxyConnectS", 1, 75) + "s")
    w.d("proxy_send_timeout", _int(to.proxy_send_s, "timeouts.proxySendS", 1, 3600) + "s")
    w.d("proxy_read_timeout", _int(to.proxy_read_s, "timeouts.proxyReadS", 1, 3600) + "s")
    w.d("proxy_next_upstream", "error", "timeout")
    w.d("proxy_buffering", "on")


# ---------------------------------------------------------------------------------------------
# image context
# ---------------------------------------------------------------------------------------------


#: The sidecar image's sources (Dockerfile, init helper, rootfs script) as installed with Rampart: the
#: repository's proxy/, carried in the wheel as `rampart/proxy_image`.
PROXY_IMAGE_SOURCES = Path(__file__).resolve().parent.parent / "proxy_image"


def write_image_context(
    config: ProxyConfig,
    out_dir: Path,
    *,
    source_dir: Path = PROXY_IMAGE_SOURCES,
    upstream_port: int | None = None,
) -> Path:
    """Copy the proxy image sources (`source_dir`; by default the ones installed with Rampart) into
    `out_dir` and write the container-mode nginx.conf beside them. Returns the path of the nginx.conf."""
    conf = render_nginx_conf(config, RenderTarget(mode="container", upstream_port=upstream_port))
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in sorted(source_dir.iterdir()):
        if item.name in {"nginx.conf", "__pycache__"}:
            continue
        dest = out_dir / item.name
        if item.is_dir():
            shutil.copytree(item, dest, dirs_exist_ok=True)
        else:
            shutil.copy2(item, dest)
    path = out_dir / "nginx.conf"
    path.write_text(conf)
    return path
