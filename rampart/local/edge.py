"""The local edge in place of the ALB: nginx in a container on the stack's network, published on
127.0.0.1. Requests are routed by the listener rules of the plan (hosts, paths, lowest priority
first; an nginx `map` checks its regular expressions in order), unrouted ones get 404, the HTTP
port redirects to HTTPS, each target is reached by its target group's protocol (HTTP in `alb`
mode; HTTPS to a sidecar, without verification, as the ALB reaches an HTTPS target group), and
each request is one JSON log line.

A rule's source-ip condition is one `geo` flag per rule on the client address, prefixed to the map's
key, so a client outside the allow-list falls through to the next rule (the access entry's 403), as
at the ALB. Rules that answer themselves (a fixed response; a sign-in, which the edge cannot reach an
identity provider for) return their status.

Request tracing as at the ALB: each forwarded request carries `X-Amzn-Trace-Id` with a Root of the
edge's own when the client sent none, else a Self of the edge's own in front of what it sent, and
the log line records it (the ALB's access log `trace_id`). The ids are `1-` + 8 + `-` + 24 hex
digits as the ALB's, but all random: nginx has no hex clock for the ALB's epoch-seconds part."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rampart.errors import UserError
from rampart.local.tasks import Route, Task

EDGE_CONFIG_DIR = "/etc/rampart-edge"
#: The proxy image's nginx base: the edge runs the same pinned nginx (overridable like a build arg).
NGINX_IMAGE_ARG = "NGINX_IMAGE"

LOG_FORMAT = (
    '{"time":"$time_iso8601","remote":"$remote_addr","host":"$host","method":"$request_method",'
    '"uri":"$request_uri","status":$status,"bytes":$body_bytes_sent,"duration":$request_time,'
    '"target":"$rampart_target","upstream_status":"$upstream_status","trace_id":"$rampart_trace"}'
)

#: The ALB's request tracing: a fresh id in its form from nginx's random $request_id, sent as Root
#: when the request has no valid Root, else as a Self field in front of the client's header.
TRACE_MAPS = """    map $request_id $rampart_trace_own {
        "~^(?<rampart_trace_time>[0-9a-f]{8})(?<rampart_trace_rand>[0-9a-f]{24})$" "1-$rampart_trace_time-$rampart_trace_rand";
    }
    map $http_x_amzn_trace_id $rampart_trace {
        default "Root=$rampart_trace_own";
        "~(?:^|;)Root=1-[0-9a-f]{8}-[0-9a-f]{24}(?:;|$)" "Self=$rampart_trace_own;$http_x_amzn_trace_id";
    }"""


def wildcard_regex(pattern: str) -> str:
    """An ALB condition value (`*` any run of characters, `?` one character) as a regex fragment."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def route_regex(route: Route) -> str:
    """Matches `host:path` when both the rule's host condition (case-insensitive, as the ALB's)
    and its path condition (case-sensitive) match; a missing condition matches anything."""
    hosts = "|".join(wildcard_regex(h.lower()) for h in route.hosts) or "[^:]*"
    paths = "|".join(wildcard_regex(p) for p in route.paths) or "/.*"
    return f"^({hosts}):({paths})$"


@dataclass(frozen=True)
class EdgeTarget:
    service: str
    route: Route
    address: str
    """host:port the edge forwards to (the task's network-namespace owner, by container name)."""


def targets(tasks: list[Task], owner_name: dict[str, str]) -> list[EdgeTarget]:
    """Every route of every task, lowest priority first (the order the ALB evaluates rules)."""
    found = [EdgeTarget(t.service, r, f"{owner_name[t.service]}:{r.port}") for t in tasks for r in t.routes]
    return sorted(found, key=lambda e: e.route.priority)


def upstream_name(target: EdgeTarget) -> str:
    return "target_" + re.sub(r"[^A-Za-z0-9_]", "_", target.address)


def upstream_scheme(route: Route) -> str:
    """The scheme the edge speaks to a target: its target group's protocol."""
    if route.protocol not in ("HTTP", "HTTPS"):
        raise UserError(f"target group protocol {route.protocol!r}: an ALB's target groups speak HTTP or HTTPS, "
                        "and the local edge speaks only those")
    return route.protocol.lower()


def matcher_accepts(matcher: str, code: int) -> bool:
    """Whether a target group's matcher (`200`, `200-299`, `200,302`) counts `code` as healthy."""
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        if int(low) <= code <= int(high or low):
            return True
    return False


def map_value(target: EdgeTarget) -> str:
    """What the map yields for a rule: the upstream to forward to, or `status_N` for a rule that
    answers the request itself."""
    return f"status_{target.route.answer}" if target.route.answer is not None else upstream_name(target)


def source_flags(edge_targets: list[EdgeTarget]) -> tuple[list[str], str]:
    """One `geo` block per rule with a source-ip condition (1 when the client is in its CIDRs), and
    the map key: the flags, `|`, then `host:path`."""
    blocks = []
    for index, target in enumerate(t for t in edge_targets if t.route.source_ips):
        cidrs = "".join(f" {cidr} 1;" for cidr in target.route.source_ips)
        blocks.append(f"    geo $rampart_source_{index} {{ default 0;{cidrs} }}")
    key = "".join(f"$rampart_source_{i}" for i in range(len(blocks))) + "|$host:$uri"
    return blocks, key


def keyed_regex(route: Route, flag: int | None, flags: int) -> str:
    """`route_regex` behind the client-address flags: a rule with a source-ip condition needs its own
    flag set; other rules take any flags."""
    prefix = "." * flags if flag is None else "." * flag + "1" + "." * (flags - flag - 1)
    return f"^{prefix}\\|{route_regex(route)[1:]}"


def map_hash_bucket_size(keys: Iterable[str]) -> int:
    """A `map_hash_bucket_size` that holds the longest exact key of the edge's maps (the upstream names,
    which carry the project, stack and service): nginx refuses to start when one does not fit the
    default 64 bytes ("could not build map_hash"). An entry takes the key, a pointer and two bytes."""
    need = max((len(key) for key in keys), default=0) + 2 * 8 + 2
    size = 64
    while size < need:
        size *= 2
    return size


def nginx_conf(edge_targets: list[EdgeTarget], https_port: int) -> str:
    geo_blocks, key = source_flags(edge_targets)
    flag_of = {id(t): i for i, t in enumerate(t for t in edge_targets if t.route.source_ips)}
    entries = "\n".join(
        f'        "~{keyed_regex(e.route, flag_of.get(id(e)), len(geo_blocks))}" "{map_value(e)}";  # {e.service}, '
        f"priority {e.route.priority}" for e in edge_targets)
    answers = sorted({e.route.answer for e in edge_targets if e.route.answer is not None})
    answer_lines = "".join(f'\n            if ($rampart_target = "status_{n}") {{ return {n}; }}' for n in answers)
    geo = "\n".join(geo_blocks)
    # One upstream per target, with kept-alive connections as the ALB keeps them to its targets.
    # Names are resolved when nginx loads this config: `rampart local up` reloads it after starting tasks.
    forwarded = sorted({(upstream_name(e), e.address, upstream_scheme(e.route)) for e in edge_targets
                        if e.route.answer is None})
    upstreams = "\n".join(f"    upstream {name} {{ server {address}; keepalive 16; }}" for name, address, _ in forwarded)
    bucket = map_hash_bucket_size(name for name, _, _ in forwarded)
    # The scheme of each upstream: its target group's protocol (HTTP in alb mode, HTTPS to a sidecar).
    schemes = "".join(f'\n        "{name}" {scheme};' for name, _, scheme in forwarded)
    return f"""# Generated by `rampart local up` from the plan's listener rules. Do not edit.
daemon off;
pid /tmp/nginx.pid;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    log_format rampart_json escape=json '{LOG_FORMAT}';
    access_log /dev/stdout rampart_json;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    server_tokens off;
    map_hash_bucket_size {bucket};
{upstreams}

{TRACE_MAPS}
{geo}
    map $rampart_target $rampart_scheme {{
        default https;{schemes}
    }}
    map "{key}" $rampart_target {{
        default "";
{entries}
    }}

    server {{
        listen 8080;
        return 308 https://$host:{https_port}$request_uri;
    }}

    server {{
        listen 8443 ssl;
        ssl_certificate {EDGE_CONFIG_DIR}/cert.pem;
        ssl_certificate_key {EDGE_CONFIG_DIR}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            if ($rampart_target = "") {{ return 404; }}{answer_lines}
            proxy_pass $rampart_scheme://$rampart_target;
            proxy_ssl_verify off;
            proxy_ssl_server_name off;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_ssl_session_reuse on;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Port {https_port};
            proxy_set_header X-Amzn-Trace-Id $rampart_trace;
        }}
    }}
}}
"""


def default_nginx_image(proxy_dockerfile: Path) -> str | None:
    """The NGINX_IMAGE default the proxy's Dockerfile pins."""
    if not proxy_dockerfile.is_file():
        return None
    match = re.search(rf"^ARG {NGINX_IMAGE_ARG}=(\S+)", proxy_dockerfile.read_text(), re.MULTILINE)
    return match.group(1) if match else None
