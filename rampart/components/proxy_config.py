"""Nginx reverse-proxy sidecar: the typed configuration model and the renderer.

`ProxyConfig` is a pydantic v2 model (``extra="forbid"``, every field described and validated)
that doubles as the ``proxy`` section of a service in a stack file (`rampart:services.<name>.proxy`) (camelCase keys, snake_case also
accepted). `render_nginx_conf` turns it into one ``nginx.conf`` string.

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
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from rampart.components._util import KMS_KEY_ARN
from rampart_soc2.common import COMPLETE_SECRET_ARN
from rampart.components.routing import MAX_ACCESS_ENTRIES, MAX_PATTERN_LENGTH, MAX_VALUES_PER_CONDITION

__all__ = [
    "CacheSettings",
    "CertificateSecrets",
    "CertificateSettings",
    "ClientLimits",
    "GzipSettings",
    "HstsSettings",
    "PathAccess",
    "ProxyConfig",
    "RateLimitZone",
    "RateLimiting",
    "RenderError",
    "RenderTarget",
    "SecurityHeaders",
    "Timeouts",
    "TlsSettings",
    "UpstreamSettings",
    "CONTAINER_PATHS",
    "render_nginx_conf",
    "write_image_context",
]


# ---------------------------------------------------------------------------------------------
# value checks shared by the model and the renderer
# ---------------------------------------------------------------------------------------------

_HOSTNAME_RE = re.compile(
    r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/-]{0,255}$")
_MIME_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}/[a-z0-9][a-z0-9.+-]{0,126}$")
_ZONE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Printable ASCII without the characters that end or alter an nginx double-quoted string.
_HEADER_VALUE_RE = re.compile(r'^[\x20-\x7e]{1,1024}$')
_HEADER_FORBIDDEN = set('"\\${}')
_UNSAFE_DESCRIPTION = (
    "it may contain only the characters listed; ';', '{', '}', quotes, '\\', '$', whitespace "
    "and control characters could change the nginx configuration's structure"
)


def _check_hostname(value: str) -> str:
    if value == "_" or (len(value) <= 253 and _HOSTNAME_RE.fullmatch(value)):
        return value
    raise ValueError(
        f"{value!r} is not a server name: use '_' (any name) or a lower-case DNS name "
        f"(letters, digits, '-', '.', optionally starting with '*.'); {_UNSAFE_DESCRIPTION}"
    )


def _check_upstream_host(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
        return value
    except ValueError:
        pass
    if value != "_" and "*" not in value and len(value) <= 253 and _HOSTNAME_RE.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not an upstream host: use an IPv4 address (e.g. 127.0.0.1) or a "
        f"lower-case DNS name; {_UNSAFE_DESCRIPTION}"
    )


def _check_path(value: str) -> str:
    if _PATH_RE.fullmatch(value) and "//" not in value and "/../" not in value + "/":
        return value
    raise ValueError(
        f"{value!r} is not a URL path prefix: start with '/' and use only letters, digits and "
        f"'.', '_', '~', '/', '-' (no '//' or '..'); {_UNSAFE_DESCRIPTION}"
    )


def _check_mime(value: str) -> str:
    if _MIME_RE.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not a MIME type: use lower-case type/subtype such as 'text/css' "
        f"(letters, digits, '.', '+', '-'); {_UNSAFE_DESCRIPTION}"
    )


def _check_zone(value: str) -> str:
    if _ZONE_RE.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not a zone name: use 1-32 lower-case letters, digits or '_', starting "
        f"with a letter; {_UNSAFE_DESCRIPTION}"
    )


def _check_header_value(value: str) -> str:
    bad = sorted(set(value) & _HEADER_FORBIDDEN)
    if bad:
        raise ValueError(
            f"header value contains {''.join(bad)!r}: quotes, '\\', '$' and braces are not "
            "allowed (they would end the quoted nginx string or be expanded as a variable)"
        )
    if not _HEADER_VALUE_RE.fullmatch(value) or value != value.strip():
        raise ValueError(
            "header value must be 1-1024 printable ASCII characters with no leading or trailing "
            "space and no newline, tab or other control character"
        )
    return value


HostName = Annotated[str, AfterValidator(_check_hostname)]
UpstreamHost = Annotated[str, AfterValidator(_check_upstream_host)]
UrlPath = Annotated[str, AfterValidator(_check_path)]
MimeType = Annotated[str, AfterValidator(_check_mime)]
ZoneName = Annotated[str, AfterValidator(_check_zone)]
HeaderValue = Annotated[str, AfterValidator(_check_header_value)]
# ALB path patterns the sidecar can mirror: the ALB's characters without quotes and '$'.
_ACCESS_PATTERN_RE = re.compile(rf"^/[A-Za-z0-9_\-./~@:+*?]{{0,{MAX_PATTERN_LENGTH - 1}}}$")


def _check_access_pattern(value: str) -> str:
    if _ACCESS_PATTERN_RE.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not a path pattern the sidecar can enforce: start with '/' and use at most 128 of "
        f"letters, digits, '_', '-', '.', '/', '~', '@', ':', '+' and the wildcards '*' and '?'; {_UNSAFE_DESCRIPTION}"
    )


AccessPattern = Annotated[str, AfterValidator(_check_access_pattern)]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        validate_default=True,
    )


class TlsSettings(_Model):
    """TLS server settings (Mozilla's server-side TLS guideline, v5.7 profiles)."""

    profile: Literal["intermediate", "modern"] = Field(
        "intermediate",
        description="Mozilla TLS profile: 'intermediate' (TLS 1.2 + 1.3, ECDHE AEAD ciphers only; "
        "what the ALB speaks to targets) or 'modern' (TLS 1.3 only).",
    )
    session_cache_mb: int = Field(
        10, ge=1, le=512,
        description="Size of the shared TLS session cache in MiB (about 4,000 sessions per MiB); "
        "resumption saves a full handshake on reconnects.",
    )
    session_timeout_minutes: int = Field(
        60, ge=1, le=1440,
        description="How long a cached TLS session may be resumed, in minutes.",
    )


def _check_common_name(value: str) -> str:
    if value != "_" and "*" not in value and len(value) <= MAX_COMMON_NAME:
        return value
    raise ValueError(
        f"{value!r} is not a certificate common name: use one DNS name of at most {MAX_COMMON_NAME} characters "
        "(no '_' or wildcard), e.g. 'proxy.internal'"
    )


def _check_secret_arn(value: str) -> str:
    if COMPLETE_SECRET_ARN.fullmatch(value):
        return value
    raise ValueError(f"{value!r} is not a complete Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:"
                     "secret:NAME-XXXXXX, with the six characters AWS adds; IAM grants match only the complete ARN)")


def _check_kms_key_arn(value: str) -> str:
    if KMS_KEY_ARN.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); IAM grants kms:Decrypt on key ARNs, "
        "not on aliases"
    )


#: At most 64 characters (RFC 5280 ub-common-name); proxy/proxy-init.c checks the same.
MAX_COMMON_NAME = 64
#: Certificate lifetimes the sidecar's certificate may have; proxy/proxy-init.c checks the same.
MAX_VALIDITY_DAYS = 825
CommonName = Annotated[HostName, AfterValidator(_check_common_name)]
SecretArn = Annotated[str, AfterValidator(_check_secret_arn)]
KmsKeyArn = Annotated[str, AfterValidator(_check_kms_key_arn)]


class CertificateSecrets(_Model):
    """A certificate the stack brings (for clients other than the ALB, which validates no target certificate):
    two Secrets Manager secrets the stack does not create, and the KMS key that encrypts them."""

    cert_secret_arn: SecretArn = Field(description="Secrets Manager secret holding the certificate chain (PEM).")
    key_secret_arn: SecretArn = Field(description="Secrets Manager secret holding the private key (PEM).")
    kms_key_arn: KmsKeyArn = Field(
        description="ARN of the KMS key that encrypts both secrets (`aws secretsmanager describe-secret` shows it as "
        "KmsKeyId); the execution role may decrypt with it only through Secrets Manager.",
    )


class CertificateSettings(_Model):
    """The sidecar's certificate. By default the proxy image makes a fresh key pair and a self-signed certificate
    at every start (the ALB does not validate target certificates): no key in Pulumi state or Secrets Manager."""

    common_name: CommonName = Field(
        "proxy.internal", description="Subject common name and DNS SAN of the self-signed certificate."
    )
    validity_days: int = Field(
        365, ge=1, le=MAX_VALIDITY_DAYS,
        description=f"Validity of the self-signed certificate, in days from the task's start (at most {MAX_VALIDITY_DAYS}).",
    )
    secrets: CertificateSecrets | None = Field(
        None,
        description="Bring your own certificate instead (Secrets Manager secret ARNs of cert and key, and their KMS "
        "key ARN); None: the sidecar makes its own at start.",
    )


class HstsSettings(_Model):
    """Strict-Transport-Security header."""

    enabled: bool = Field(True, description="Send Strict-Transport-Security on every response.")
    max_age_seconds: int = Field(
        63072000, ge=0, le=63072000,
        description="HSTS max-age in seconds (default two years, Mozilla's recommendation).",
    )
    include_subdomains: bool = Field(True, description="Add includeSubDomains.")
    preload: bool = Field(
        False,
        description="Add preload (only with includeSubDomains and max-age >= 1 year; submitting "
        "a domain to the preload list is hard to undo).",
    )

    @model_validator(mode="after")
    def _preload_rules(self) -> HstsSettings:
        if self.preload and (not self.include_subdomains or self.max_age_seconds < 31536000):
            raise ValueError(
                "hsts.preload needs hsts.includeSubdomains=true and hsts.maxAgeSeconds >= 31536000"
            )
        return self

    def header_value(self) -> str:
        value = f"max-age={self.max_age_seconds}"
        if self.include_subdomains:
            value += "; includeSubDomains"
        if self.preload:
            value += "; preload"
        return value


class SecurityHeaders(_Model):
    """Security headers sent on every response, errors included (nginx `add_header ... always`)."""

    frame_options: Literal["DENY", "SAMEORIGIN"] = Field(
        "DENY", description="X-Frame-Options: forbid framing (clickjacking)."
    )
    referrer_policy: Literal[
        "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"
    ] = Field("no-referrer", description="Referrer-Policy: leak no URLs to other sites.")
    permissions_policy: HeaderValue = Field(
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()",
        description="Permissions-Policy: browser features the responses may use (none by default).",
    )
    content_security_policy: HeaderValue = Field(
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        description="Content-Security-Policy: restrictive default for APIs (nothing may load). "
        "Printable ASCII; ';' and single quotes are allowed, double quotes, '\\', '$' and braces "
        "are not.",
    )
    cross_origin_opener_policy: Literal["same-origin", "same-origin-allow-popups", "unsafe-none"] = (
        Field("same-origin", description="Cross-Origin-Opener-Policy.")
    )


class RateLimitZone(_Model):
    """One request-rate limit, keyed on the real client address."""

    name: ZoneName = Field(description="Zone name (lower-case letters, digits, '_').")
    path_prefix: UrlPath = Field(
        "/",
        description="Applies to every request whose path starts with this prefix ('/' = all "
        "proxied requests; /healthz is never limited).",
    )
    rate_per_second: int = Field(
        ge=1, le=100000, description="Sustained requests per second allowed per client address."
    )
    burst: int = Field(
        ge=0, le=100000,
        description="Requests above the rate a client may send at once before getting 429.",
    )
    zone_size_mb: int = Field(
        10, ge=1, le=1024,
        description="Shared memory for client states in MiB (1 MiB holds about 8,000 clients).",
    )


def _default_zones() -> list[RateLimitZone]:
    return [RateLimitZone(name="per_client", path_prefix="/", rate_per_second=50, burst=100)]


class RateLimiting(_Model):
    """Request rate limiting (nginx limit_req, status 429 with Retry-After)."""

    enabled: bool = Field(True, description="Apply the zones below.")
    zones: list[RateLimitZone] = Field(
        default_factory=_default_zones,
        min_length=1, max_length=16,
        description="Rate-limit zones; a request is checked against every zone whose path "
        "prefix matches its path.",
    )
    retry_after_seconds: int = Field(
        1, ge=1, le=3600, description="Retry-After value sent with every 429 response."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> RateLimiting:
        names = [z.name for z in self.zones]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rateLimit.zones: zone names must be unique; repeated: {dupes}")
        return self


class ClientLimits(_Model):
    """Request size limits (oversized bodies get 413, oversized headers 400/414/431)."""

    max_body_kb: int = Field(
        1024, ge=1, le=1048576, description="Largest request body accepted, in KiB (client_max_body_size)."
    )
    header_buffer_kb: int = Field(
        1, ge=1, le=64, description="Buffer for request headers, in KiB (client_header_buffer_size)."
    )
    large_header_buffers: int = Field(
        4, ge=1, le=64, description="Number of large header buffers (large_client_header_buffers)."
    )
    large_header_buffer_kb: int = Field(
        8, ge=1, le=64,
        description="Size of one large header buffer in KiB; the longest request line or header.",
    )
    keepalive_requests: int = Field(
        10000, ge=1, le=10000000,
        description="Requests one client connection may carry before nginx closes it (nginx's "
        "default 1000 makes the ALB reconnect, with a new TLS handshake, every 1000 requests).",
    )


class Timeouts(_Model):
    """Client and upstream timeouts, in seconds."""

    client_header_s: int = Field(10, ge=1, le=300, description="client_header_timeout.")
    client_body_s: int = Field(10, ge=1, le=300, description="client_body_timeout.")
    send_s: int = Field(10, ge=1, le=300, description="send_timeout (between two writes to the client).")
    keepalive_s: int = Field(
        75, ge=1, le=3600,
        description="Client keep-alive timeout; longer than the ALB's 60 s idle timeout so the "
        "ALB, not the target, closes idle connections (avoids 502s).",
    )
    proxy_connect_s: int = Field(
        2, ge=1, le=75, description="proxy_connect_timeout: failing upstream answers 502 within this."
    )
    proxy_send_s: int = Field(30, ge=1, le=3600, description="proxy_send_timeout.")
    proxy_read_s: int = Field(
        30, ge=1, le=3600, description="proxy_read_timeout: a hung upstream answers 504 after this."
    )


class CacheSettings(_Model):
    """Proxy cache for GET/HEAD on chosen paths; never stores Set-Cookie responses or Authorization requests."""

    enabled: bool = Field(True, description="Cache responses under the paths below.")
    paths: list[UrlPath] = Field(
        default_factory=lambda: ["/static/"],
        max_length=32,
        description="Path prefixes whose GET/HEAD responses may be cached.",
    )
    ttl_seconds: int = Field(
        60, ge=1, le=31536000,
        description="How long 200/301 responses without their own caching headers stay fresh.",
    )
    zone_size_mb: int = Field(10, ge=1, le=1024, description="Cache key zone in MiB (~8,000 keys per MiB).")
    max_size_mb: int = Field(256, ge=1, le=1048576, description="Largest on-disk cache size in MiB.")
    inactive_minutes: int = Field(
        10, ge=1, le=10080, description="Entries not requested for this long are removed."
    )
    open_file_cache: bool = Field(
        True,
        description="Keep recently served cache files open (open_file_cache in the cache locations): "
        "a hit skips open, stat and close of its file (benchmarks/proxy, row sidecar-cache-noofc). "
        "No freshness is traded: a refresh renames a new file into place and records its inode in "
        "the cache's index, and nginx reopens whenever the kept descriptor's inode differs "
        "(tests/proxy: test_cache_hits_see_a_refreshed_entry_at_once). A kept file the cache has "
        "since evicted stays open, so on disk beyond maxSizeMb, until a later hit in its location "
        "finds it unused for 20 s or needs its room: at most the 100 most recently hit files per "
        "cache location and worker. Turn it off for caches of very large responses.",
    )


class GzipSettings(_Model):
    """Response compression (only for types that carry no secrets, because of BREACH)."""

    enabled: bool = Field(True, description="Compress the types below.")
    types: list[MimeType] = Field(
        default_factory=lambda: ["text/css", "application/javascript", "image/svg+xml"],
        max_length=32,
        description="MIME types to compress. Keep secret-bearing types (JSON API responses, HTML "
        "with tokens) out: compression over TLS of secrets plus attacker input is BREACH.",
    )
    min_length: int = Field(1024, ge=0, le=10485760, description="Smallest response to compress, in bytes.")
    level: int = Field(4, ge=1, le=9, description="gzip_comp_level (CPU vs size).")


class UpstreamSettings(_Model):
    """The app container behind the proxy."""

    host: UpstreamHost = Field(
        "127.0.0.1", description="Upstream address (the app container shares the task's loopback)."
    )
    port: int | None = Field(
        None, ge=1, le=65535,
        description="Upstream port; empty means the service's container port.",
    )
    expected_concurrency: int = Field(
        64, ge=1, le=100000,
        description="Peak concurrent requests expected; sizes the idle keep-alive pool.",
    )
    keepalive: int | None = Field(
        None, ge=1, le=100000,
        description="Idle upstream connections kept per worker; empty means expected_concurrency "
        "(below peak concurrency nginx opens and closes backend connections continuously).",
    )
    keepalive_requests: int = Field(
        10000, ge=1, le=10000000, description="Requests per upstream connection before it is recycled."
    )
    keepalive_timeout_s: int = Field(
        60, ge=1, le=3600, description="Idle upstream connections are closed after this."
    )

    def keepalive_pool(self) -> int:
        return self.keepalive if self.keepalive is not None else self.expected_concurrency


class PathAccess(_Model):
    """Access control on some paths, mirrored from the service's `routing.access` (never set by hand)."""

    paths: list[AccessPattern] = Field(
        min_length=1, max_length=MAX_VALUES_PER_CONDITION, description="ALB path patterns (`*`, `?` wildcards), matched on the decoded path."
    )
    allow_cidrs: list[Network] = Field(
        default_factory=list, max_length=MAX_VALUES_PER_CONDITION,
        description="Real client addresses allowed on these paths; others get 403 (empty: no allow-list).",
    )
    signed_in: bool = Field(
        False,
        description="The ALB signs users in on these paths, so its x-amzn-oidc-* headers are passed to the app; "
        "on every other path they are removed.",
    )


class ProxyConfig(_Model):
    """The Nginx reverse-proxy sidecar. Stack file key: `rampart:services.<name>.proxy` (camelCase)."""

    listen_port: int = Field(
        8443, ge=1024, le=65535,
        description="HTTPS port the proxy listens on (unprivileged, >= 1024); the ALB target port.",
    )
    server_names: list[HostName] = Field(
        default_factory=lambda: ["_"],
        min_length=1, max_length=32,
        description="Host names served ('_' = any); other names get 421 when names are given.",
    )
    upstream: UpstreamSettings = Field(
        default_factory=UpstreamSettings, description="The app container behind the proxy."
    )
    tls: TlsSettings = Field(default_factory=TlsSettings, description="TLS profile and sessions.")
    certificate: CertificateSettings = Field(
        default_factory=CertificateSettings, description="The sidecar's certificate: made at start, or brought."
    )
    hsts: HstsSettings = Field(default_factory=HstsSettings, description="Strict-Transport-Security.")
    headers: SecurityHeaders = Field(
        default_factory=SecurityHeaders, description="Security headers on every response."
    )
    rate_limit: RateLimiting = Field(
        default_factory=RateLimiting, description="Per-client request rate limits (429)."
    )
    trusted_proxy_cidrs: list[Network] = Field(
        default_factory=list,
        max_length=64,
        description="Peers whose X-Forwarded-For is believed (the ALB's subnets). The real client "
        "address, used for rate limits and logs, is taken from X-Forwarded-For only when the "
        "peer is inside one of these networks.",
    )
    access: list[PathAccess] = Field(
        default_factory=list,
        max_length=MAX_ACCESS_ENTRIES,
        description="Filled from the service's `routing.access` (in the order of its ALB rules); leave it unset. "
        "Paths with an allow-list answer 403 to other real client addresses; x-amzn-oidc-* headers reach the app "
        "only on signed-in paths.",
    )
    limits: ClientLimits = Field(default_factory=ClientLimits, description="Request size limits.")
    timeouts: Timeouts = Field(default_factory=Timeouts, description="Client and upstream timeouts.")
    cache: CacheSettings = Field(default_factory=CacheSettings, description="Proxy cache.")
    gzip: GzipSettings = Field(default_factory=GzipSettings, description="Response compression.")
    access_log_buffer_kb: int = Field(
        64, ge=0, le=1024,
        description="Access-log write buffer in KiB, flushed at least every second (0 = one write "
        "per request; buffering saves a system call per request and can lose up to 1 s of log "
        "lines if nginx is killed).",
    )
    stub_status_port: int = Field(
        0, ge=0, le=65535,
        description="Serve nginx `stub_status` at `/stub_status` on 127.0.0.1 at this port, for a "
        "Prometheus collector sidecar in the same task (0 = off; 1024-65535, not the listen port).",
    )
    worker_processes: int | Literal["auto"] = Field(
        "auto", description="nginx worker processes ('auto' = one per CPU)."
    )

    @model_validator(mode="after")
    def _stub_status_port_unprivileged(self) -> "ProxyConfig":
        if 0 < self.stub_status_port < 1024:
            raise ValueError(
                f"stubStatusPort {self.stub_status_port}: the sidecar runs as a non-root user and cannot bind "
                "a port below 1024; use 1024-65535 (for example 8081), or 0 for off"
            )
        return self
    worker_connections: int = Field(
        4096, ge=64, le=65536, description="Connections per worker (clients plus upstream)."
    )

    @model_validator(mode="after")
    def _check_workers(self) -> ProxyConfig:
        if isinstance(self.worker_processes, int) and not 1 <= self.worker_processes <= 64:
            raise ValueError("workerProcesses must be 'auto' or between 1 and 64")
        return self

    def open_files_per_worker(self) -> int:
        """worker_rlimit_nofile: a client and an upstream socket per connection, plus the files
        each cache location keeps open (cache.openFileCache). The sidecar's container ulimit
        allows at least this much."""
        cache_locations = sum(_is_cache_location(self, p) for p in _location_prefixes(self))
        kept_files = _OPEN_FILE_CACHE_MAX * cache_locations if self.cache.open_file_cache else 0
        return self.worker_connections * 2 + kept_files


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
    '"user_agent":"$http_user_agent"'
    "}'"
)


#: Cache files a worker keeps open per cache location with cache.openFileCache (counted in
#: worker_rlimit_nofile), and how long one may go unused before a later hit there closes it. Both
#: small: a kept file the cache has since evicted holds its disk beyond maxSizeMb until closed.
_OPEN_FILE_CACHE_MAX = 100
_OPEN_FILE_CACHE_INACTIVE_S = 20

#: An ALB trace id field's value: version 1, epoch seconds in 8 hex digits, 24 hex digits of id
#: (Elastic Load Balancing user guide, "Request tracing for your Application Load Balancer").
_ALB_TRACE_ID = "1-[0-9a-f]{8}-[0-9a-f]{24}"


def _location_prefixes(config: ProxyConfig) -> list[str]:
    prefixes = {"/"}
    if config.rate_limit.enabled:
        prefixes.update(z.path_prefix for z in config.rate_limit.zones)
    if config.cache.enabled:
        prefixes.update(config.cache.paths)
    return sorted(prefixes)


def _is_cache_location(config: ProxyConfig, prefix: str) -> bool:
    return config.cache.enabled and any(prefix.startswith(p) for p in config.cache.paths)


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
    w.comment("Generated by Rampart (rampart/components/proxy_config.py). Do not edit: change the service's proxy settings.")
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


def _misdirected_server(w: _Writer, config: ProxyConfig, listen_addr: str) -> None:
    w.comment("Unknown host names: 421 Misdirected Request")
    w.open("server")
    w.d("listen", listen_addr, "ssl", "http2", "default_server")
    w.d("server_name", "_")
    _security_headers(w, config)
    w.open("location", "/")
    w.d("return", "421")
    w.close()
    w.close()
    w.blank()


def _service_server(
    w: _Writer, config: ProxyConfig, listen_addr: str, names: list[str], any_name: bool, zones: list[RateLimitZone]
) -> None:
    """The service's server: security headers, the access check, /healthz, one location per prefix."""
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
    w.open("location", "=", "/healthz")
    w.d("access_log", "off")
    w.d("default_type", "text/plain")
    w.d("return", "200", '"ok\\n"')
    w.close()

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
    ALB tries its rules in order), or empty; /healthz is never restricted (the ALB probes it).
    $rampart_access_denied: 1 when that entry has an allow-list and the real client address is
    outside it. $rampart_oidc_*: the client's x-amzn-oidc-* header on signed-in paths, else empty,
    so nginx does not pass it upstream."""
    w.comment("Access control per path (from the service's routing.access)")
    w.open("map", "$uri", "$rampart_access")
    w.d("default", '""')
    w.d("/healthz", '""')
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
