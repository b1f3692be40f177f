"""Nginx reverse-proxy sidecar: the typed configuration model.

`ProxyConfig` is a pydantic v2 model (``extra="forbid"``, every field described and validated)
that doubles as the ``proxy`` section of a service in a stack file (`rampart:services.<name>.proxy`) (camelCase keys, snake_case also
accepted). `rampart.components.nginx_conf.render_nginx_conf` turns it into one ``nginx.conf`` string.

The value checks below are shared with the renderer, which runs each one again at the point of
emission (see `rampart.components.nginx_conf` on injection safety).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from rampart.components._util import KMS_KEY_ARN
from rampart_soc2.vocabulary.arns import COMPLETE_SECRET_ARN
from rampart.components.routing import HEALTH_CHECK_PATH, MAX_ACCESS_ENTRIES, MAX_PATTERN_LENGTH, MAX_VALUES_PER_CONDITION

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
    "SecurityHeaders",
    "Timeouts",
    "TlsSettings",
    "UpstreamSettings",
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
        f"proxied requests; {HEALTH_CHECK_PATH} is never limited).",
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
# what the model implies for the rendered config (ProxyConfig.open_files_per_worker)
# ---------------------------------------------------------------------------------------------


#: Cache files a worker keeps open per cache location with cache.openFileCache (counted in
#: worker_rlimit_nofile), and how long one may go unused before a later hit there closes it. Both
#: small: a kept file the cache has since evicted holds its disk beyond maxSizeMb until closed.
_OPEN_FILE_CACHE_MAX = 100
_OPEN_FILE_CACHE_INACTIVE_S = 20


def _location_prefixes(config: ProxyConfig) -> list[str]:
    prefixes = {"/"}
    if config.rate_limit.enabled:
        prefixes.update(z.path_prefix for z in config.rate_limit.zones)
    if config.cache.enabled:
        prefixes.update(config.cache.paths)
    return sorted(prefixes)


def _is_cache_location(config: ProxyConfig, prefix: str) -> bool:
    return config.cache.enabled and any(prefix.startswith(p) for p in config.cache.paths)
