"""The proxy config model and renderer, without nginx: validation, rendering and injection safety.

The structural property tests parse the rendered config with `crossplane` (nginx's own Python
config parser, an independent tokenizer) and compare its directive tree with a baseline: no accepted
value may add, remove or re-nest a directive or change an argument count, and the value must reach
the file as exactly one argument, unchanged.
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path
from typing import Any, Callable

import crossplane  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rampart.components.proxy_config import CacheSettings, ProxyConfig
from rampart.components.nginx_conf import RenderError, RenderTarget, render_nginx_conf

LOCAL = RenderTarget(mode="local", upstream_port=8080, listen_port=18443)


def parse(conf: str) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "nginx.conf"
        path.write_text(conf)
        result = crossplane.parse(str(path), single=True, comments=False, check_ctx=False, check_args=False)
    assert result["status"] == "ok", result["errors"]
    parsed: list[dict[str, Any]] = result["config"][0]["parsed"]
    return parsed


def shape(tree: list[dict[str, Any]]) -> list[Any]:
    return [(d["directive"], len(d["args"]), shape(d["block"]) if "block" in d else None) for d in tree]


def all_args(tree: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for d in tree:
        out.extend(d["args"])
        out.extend(all_args(d.get("block", [])))
    return out


def find(tree: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for d in tree:
        if d["directive"] == name:
            out.append(d)
        out.extend(find(d.get("block", []), name))
    return out


# ----------------------------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------------------------


def test_defaults_are_valid_and_camel_case_aliases_work() -> None:
    cfg = ProxyConfig.model_validate(
        {
            "listenPort": 9443,
            "serverNames": ["api.example.com"],
            "rateLimit": {"zones": [{"name": "api", "ratePerSecond": 5, "burst": 10}], "retryAfterSeconds": 2},
            "trustedProxyCidrs": ["10.0.0.0/24"],
            "cache": {"enabled": False},
            "upstream": {"port": 3000, "expectedConcurrency": 100},
        }
    )
    assert cfg.listen_port == 9443
    assert cfg.rate_limit.zones[0].rate_per_second == 5
    assert cfg.upstream.keepalive_pool() == 100
    assert cfg.trusted_proxy_cidrs == [ipaddress.IPv4Network("10.0.0.0/24")]
    # snake_case is accepted too (populate_by_name)
    assert ProxyConfig(listen_port=9443).listen_port == 9443


def test_every_field_has_a_description() -> None:
    seen: set[type] = set()

    def walk(model: type) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            assert field.description, f"{model.__name__}.{name} has no description"
            ann = field.annotation
            for sub in getattr(ann, "__args__", ()) + (ann,):
                if isinstance(sub, type) and hasattr(sub, "model_fields"):
                    walk(sub)

    walk(ProxyConfig)
    assert len(seen) >= 10


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"unknownKey": 1}, ("unknownKey",)),
        ({"listenPort": 80}, ("listenPort",)),
        ({"serverNames": ["a.com; include /etc/passwd"]}, ("serverNames", 0)),
        ({"serverNames": ["a.com}"]}, ("serverNames", 0)),
        # Python's `$` matches before a trailing newline: found by the property test below
        ({"serverNames": ["a.com\n"]}, ("serverNames", 0)),
        ({"upstream": {"host": "app\n"}}, ("upstream", "host")),
        ({"cache": {"paths": ["/static/\n"]}}, ("cache", "paths", 0)),
        ({"headers": {"contentSecurityPolicy": "default-src 'none'\"; return 200"}}, ("headers", "contentSecurityPolicy")),
        ({"headers": {"permissionsPolicy": "camera=()\nadd_header X 1"}}, ("headers", "permissionsPolicy")),
        ({"headers": {"permissionsPolicy": "camera=($http_x)"}}, ("headers", "permissionsPolicy")),
        ({"cache": {"paths": ["/a b/"]}}, ("cache", "paths", 0)),
        ({"cache": {"paths": ["/a/{x}"]}}, ("cache", "paths", 0)),
        ({"gzip": {"types": ["text/css;"]}}, ("gzip", "types", 0)),
        ({"rateLimit": {"zones": [{"name": "a$b", "ratePerSecond": 1, "burst": 1}]}}, ("rateLimit", "zones", 0, "name")),
        ({"rateLimit": {"zones": [{"name": "a", "pathPrefix": "/x'", "ratePerSecond": 1, "burst": 1}]}}, ("rateLimit", "zones", 0, "pathPrefix")),
        ({"upstream": {"host": "127.0.0.1;"}}, ("upstream", "host")),
        ({"trustedProxyCidrs": ["10.0.0.1/16"]}, ("trustedProxyCidrs", 0)),
        ({"certificate": {"validityDays": 826}}, ("certificate", "validityDays")),
        ({"certificate": {"commonName": "proxy_internal"}}, ("certificate", "commonName")),
        # the pulumi-tls renewal window is gone (the image makes a new pair at every start): refused, not ignored
        ({"certificate": {"earlyRenewalDays": 30}}, ("certificate", "earlyRenewalDays")),
        ({"certificate": {"secrets": {"certSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:c-AbCdEf",
                                      "keySecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCdEf"}}},
         ("certificate", "secrets", "kmsKeyArn")),
        ({"hsts": {"preload": True, "includeSubdomains": False}}, ("hsts",)),
        ({"tls": {"profile": "old"}}, ("tls", "profile")),
    ],
)
def test_bad_values_are_rejected_naming_the_field(data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        ProxyConfig.model_validate(data)
    locs = [tuple(e["loc"]) for e in info.value.errors()]
    assert any(found[: len(loc)] == loc for found in locs), f"{data} failed at {locs}, expected {loc}"


def test_duplicate_zone_names_rejected() -> None:
    zone = {"name": "a", "ratePerSecond": 1, "burst": 1}
    with pytest.raises(ValidationError, match="unique"):
        ProxyConfig.model_validate({"rateLimit": {"zones": [zone, zone]}})


def test_renderer_rechecks_values_that_bypassed_validation() -> None:
    # model_construct skips validation: the renderer must still refuse the value, naming the field.
    bad_cache = CacheSettings.model_construct(enabled=True, paths=["/x/ { return 200; }"], ttl_seconds=60,
                                              zone_size_mb=10, max_size_mb=10, inactive_minutes=10)
    cfg = ProxyConfig().model_copy(update={"cache": bad_cache})
    with pytest.raises(RenderError, match="location prefix"):
        render_nginx_conf(cfg, LOCAL)
    cfg = ProxyConfig().model_copy(update={"server_names": ["a;b"]})
    with pytest.raises(RenderError, match=r"serverNames\[0\]"):
        render_nginx_conf(cfg, LOCAL)
    with pytest.raises(RenderError, match="upstream.port"):
        render_nginx_conf(ProxyConfig(), RenderTarget(mode="local"))


# ----------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------


def test_rendered_config_has_the_required_directives() -> None:
    cfg = ProxyConfig(trusted_proxy_cidrs=["10.0.1.0/24", "10.0.2.0/24"])  # type: ignore[list-item]
    tree = parse(render_nginx_conf(cfg, RenderTarget(upstream_port=3000)))
    http = find(tree, "http")[0]["block"]
    top = {d["directive"]: d["args"] for d in http}
    assert top["server_tokens"] == ["off"]
    assert top["ssl_protocols"] == ["TLSv1.2", "TLSv1.3"]
    assert top["ssl_session_tickets"] == ["off"]
    assert top["limit_req_status"] == ["429"]
    assert [d["args"] for d in find(tree, "set_real_ip_from")] == [["10.0.1.0/24"], ["10.0.2.0/24"]]
    assert find(tree, "listen")[0]["args"] == ["8443", "ssl", "http2", "default_server"]
    assert find(tree, "daemon")[0]["args"] == ["off"]
    # add_header only at server level, every one with `always`
    for loc in find(tree, "location"):
        assert not find(loc["block"], "add_header"), f"location {loc['args']} has its own add_header"
    for h in find(tree, "add_header"):
        assert h["args"][-1] == "always", h
    # keepalive to the app needs HTTP/1.1 and an empty Connection header in every proxied location
    for loc in find(tree, "location"):
        if find(loc["block"], "proxy_pass"):
            args = [d["args"] for d in loc["block"]]
            assert ["1.1"] in args and ["Connection", ""] in args
    assert find(tree, "keepalive")[0]["args"] == ["64"]


def test_local_mode_keeps_every_path_inside_the_prefix() -> None:
    tree = parse(render_nginx_conf(ProxyConfig(), LOCAL))
    path_directives = ["pid", "error_log", "access_log", "client_body_temp_path", "proxy_temp_path",
                       "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path", "proxy_cache_path",
                       "ssl_certificate", "ssl_certificate_key"]
    for name in path_directives:
        found = find(tree, name)
        assert found, name
        for d in found:
            if d["args"] == ["off"]:
                continue
            path = d["args"][0]
            assert not path.startswith("/") and ".." not in path, f"{name} {path} leaves the prefix"
    assert find(tree, "listen")[0]["args"][0] == "127.0.0.1:18443"
    assert not find(tree, "daemon")


def test_named_servers_get_a_catch_all_with_the_same_headers() -> None:
    tree = parse(render_nginx_conf(ProxyConfig(server_names=["api.example.com"]), LOCAL))
    servers = find(tree, "server")
    servers = [s for s in servers if "block" in s]
    assert len(servers) == 2
    for s in servers:
        assert len([d for d in s["block"] if d["directive"] == "add_header"]) == 10


# ----------------------------------------------------------------------------------------------
# injection: property tests
# ----------------------------------------------------------------------------------------------

DANGEROUS_CHARS = list(';{}"\'$\\#\n\r\t /~*()=:,.-_') + ["\x00", "é"]
DANGEROUS = DANGEROUS_CHARS + ["${", "\"; ", "}\n"]
safe_chars = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
texts = st.one_of(
    st.text(alphabet=st.one_of(safe_chars, st.sampled_from(DANGEROUS_CHARS)), min_size=1, max_size=40),
    st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,2}", fullmatch=True),
    st.from_regex(r"/[A-Za-z0-9._~-]{0,10}/?", fullmatch=True),
    st.from_regex(r"[a-z]{1,8}/[a-z0-9.+-]{1,10}", fullmatch=True),
    st.builds(lambda n, p: f"{n.network_address}/{p}", st.ip_addresses(v=4).map(lambda a: ipaddress.ip_network(a)),
              st.sampled_from(["32", "0", "24;", " 8", "16}"])),
    st.ip_addresses(v=6).map(str),
    st.from_regex(r"[a-z-]{1,10}=\(\)(; [a-z-]{1,8} '[a-z]{1,5}'){0,3}", fullmatch=True),
    st.builds(lambda a, b, c: a + b + c, st.from_regex(r"[a-z0-9/.]{1,6}", fullmatch=True),
              st.sampled_from(DANGEROUS), st.from_regex(r"[a-z0-9/.]{0,6}", fullmatch=True)),
)



def mutated(seed: str) -> st.SearchStrategy[str]:
    """A valid value with one dangerous character or sequence spliced in somewhere."""
    return st.builds(
        lambda i, s: seed[: i % (len(seed) + 1)] + s + seed[i % (len(seed) + 1):],
        st.integers(min_value=0, max_value=64),
        st.sampled_from(DANGEROUS),
    )


Build = Callable[[str], dict[str, Any]]

FIELDS: dict[str, tuple[Build, str]] = {
    "serverNames[0]": (lambda v: {"serverNames": [v]}, "api.example.com"),
    "headers.permissionsPolicy": (lambda v: {"headers": {"permissionsPolicy": v}}, "camera=()"),
    "headers.contentSecurityPolicy": (lambda v: {"headers": {"contentSecurityPolicy": v}}, "default-src 'none'"),
    "cache.paths[0]": (lambda v: {"cache": {"paths": [v]}, "rateLimit": {"enabled": False}}, "/static/"),
    "gzip.types[0]": (lambda v: {"gzip": {"types": [v]}}, "text/css"),
    "rateLimit.zones[0].name": (
        lambda v: {"rateLimit": {"zones": [{"name": v, "ratePerSecond": 1, "burst": 1}]}}, "per_client"),
    "rateLimit.zones[0].pathPrefix": (
        lambda v: {"cache": {"enabled": False},
                   "rateLimit": {"zones": [{"name": "z", "pathPrefix": v, "ratePerSecond": 1, "burst": 1}]}},
        "/api/"),
    "upstream.host": (lambda v: {"upstream": {"host": v}}, "app.internal"),
    "trustedProxyCidrs[0]": (lambda v: {"trustedProxyCidrs": [v]}, "10.0.0.0/16"),
}


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_no_accepted_value_changes_the_structure(field: str) -> None:
    build, baseline_value = FIELDS[field]
    baseline = parse(render_nginx_conf(ProxyConfig.model_validate(build(baseline_value)), LOCAL))
    accepted: list[str] = []

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(value=st.one_of(texts, mutated(baseline_value)))
    def check(value: str) -> None:
        # "/" as a path prefix merges with the catch-all location: a legitimately different shape.
        assume(value != "/" and value != "_")
        try:
            cfg = ProxyConfig.model_validate(build(value))
        except ValidationError as exc:
            assert any(str(part) in field for e in exc.errors() for part in e["loc"][:1]), exc
            return
        accepted.append(value)
        tree = parse(render_nginx_conf(cfg, LOCAL))
        assert shape(tree) == shape(baseline), f"{field}={value!r} changed the config structure"
        rendered_value = str(ipaddress.ip_network(value)) if field.startswith("trusted") else value
        args = all_args(tree)
        arrived = rendered_value in args or any(
            a == f"zone={value}" or a.startswith(f"zone={value}:") or a == f"{value}:8080" for a in args
        )
        assert arrived, f"{field}={value!r} did not arrive as one argument"

    check()
    assert accepted, f"no value was accepted for {field}: the property was never exercised"


@settings(max_examples=200, deadline=None)
@given(value=texts.filter(lambda v: any(c in v for c in ';{}"$\\\n\r\t\x00')))
def test_values_with_directive_breaking_characters_are_rejected(value: str) -> None:
    for field, (build, _) in FIELDS.items():
        if field.startswith("headers.") and not any(c in value for c in '{}"$\\\n\r\t\x00'):
            continue  # ';' is legal inside the quoted header values (CSP needs it)
        with pytest.raises(ValidationError):
            ProxyConfig.model_validate(build(value))


# ----------------------------------------------------------------------------------------------
# boundaries pinned (issue 13): each test fails when the renderer drops the behaviour it guards
# ----------------------------------------------------------------------------------------------


def _cached_locations(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [loc for loc in find(tree, "location") if find(loc["block"], "proxy_cache")]


@pytest.mark.parametrize("paths", [["/static/"], ["/static/", "/assets/"], ["/"]])
def test_every_cached_location_bypasses_and_never_stores_credentialed_traffic(paths: list[str]) -> None:
    """A request with Authorization is never answered from the cache nor stored, and a response that
    sets a cookie is never stored, in every location that caches."""
    cfg = ProxyConfig.model_validate({"cache": {"enabled": True, "paths": paths}, "rateLimit": {"enabled": False}})
    cached = _cached_locations(parse(render_nginx_conf(cfg, LOCAL)))
    assert cached, f"no cached location rendered for {paths}"
    for loc in cached:
        block = {d["directive"]: d["args"] for d in loc["block"]}
        where = f"location {loc['args']}"
        assert "$http_authorization" in block.get("proxy_cache_bypass", []), f"{where}: serves cached answers to Authorization requests"
        no_cache = block.get("proxy_no_cache", [])
        assert "$http_authorization" in no_cache, f"{where}: stores answers to Authorization requests"
        assert "$upstream_http_set_cookie" in no_cache, f"{where}: stores responses that set cookies"


def test_cache_directives_only_where_caching_is_on() -> None:
    cfg = ProxyConfig.model_validate({"cache": {"enabled": False}})
    assert _cached_locations(parse(render_nginx_conf(cfg, LOCAL))) == []


# What would end the quoted nginx string or be expanded: each must be refused at emission too.
_BAD_HEADER_VALUES = ['x" always; return 200 "owned', "a$request_uri", "a\\\"b", "a{b}", "a\nadd_header X y"]


@pytest.mark.parametrize("field,label", [
    ("content_security_policy", "headers.contentSecurityPolicy"),
    ("permissions_policy", "headers.permissionsPolicy"),
    ("frame_options", "headers.frameOptions"),
    ("referrer_policy", "headers.referrerPolicy"),
    ("cross_origin_opener_policy", "headers.crossOriginOpenerPolicy"),
])
@pytest.mark.parametrize("value", _BAD_HEADER_VALUES)
def test_header_value_that_bypassed_validation_is_refused_by_the_renderer(field: str, label: str, value: str) -> None:
    from rampart.components.proxy_config import SecurityHeaders

    headers = SecurityHeaders.model_construct(**{**SecurityHeaders().model_dump(), field: value})
    cfg = ProxyConfig().model_copy(update={"headers": headers})
    with pytest.raises(RenderError, match=label.replace(".", r"\.")):
        render_nginx_conf(cfg, LOCAL)


def test_open_file_cache_is_on_by_default_and_only_in_cache_locations() -> None:
    """cache.openFileCache (on unless turned off) keeps only the cache locations' files open: a
    location without proxy_cache serves nothing from disk."""
    target = RenderTarget(mode="container", upstream_port=3000)
    off = ProxyConfig.model_validate({"cache": {"openFileCache": False}})
    assert "open_file_cache" not in render_nginx_conf(off, target)
    assert "worker_rlimit_nofile 8192;" in render_nginx_conf(off, target)
    on = render_nginx_conf(ProxyConfig.model_validate({"cache": {"paths": ["/static/", "/assets/"]}}), target)
    # the kept files get descriptors of their own, beyond two per connection: up to 100 for
    # each cache location (every location's open_file_cache is a cache of its own)
    assert "worker_rlimit_nofile 8392;" in on
    one = ProxyConfig.model_validate({"cache": {"paths": ["/static/"]}})
    assert "worker_rlimit_nofile 8292;" in render_nginx_conf(one, target)
    no_cache = ProxyConfig.model_validate({"cache": {"enabled": False}})
    assert "worker_rlimit_nofile 8192;" in render_nginx_conf(no_cache, target)
    blocks = on.split("location ")
    with_ofc = [b.split(" ", 1)[0] for b in blocks[1:] if "open_file_cache max=100 inactive=20s;" in b]
    assert sorted(with_ofc) == ["/assets/", "/static/"], with_ofc
    assert on.count("open_file_cache_valid 10s;") == 2


# ----------------------------------------------------------------------------------------------
# access control without nginx (the live tests in test_live_access.py need it; these keep the
# two renderer choices guarded where nginx is absent)
# ----------------------------------------------------------------------------------------------

ACCESS_CONFIG: dict[str, Any] = {
    "trustedProxyCidrs": ["10.0.1.0/24", "10.0.2.0/24"],
    "access": [{"paths": ["/admin/*"], "allowCidrs": ["198.51.100.0/24"]},  # entry 0: allow-listed
               {"paths": ["/account/*"], "signedIn": True}],                # entry 1: signed in at the ALB
}


def _maps(tree: list[dict[str, Any]]) -> dict[str, list[tuple[str, list[str]]]]:
    """Each map by the variable it sets: its (key, values) lines in order."""
    return {m["args"][1]: [(d["directive"], d["args"]) for d in m["block"]] for m in find(tree, "map")}


@pytest.mark.parametrize("signed_in", [True, False])
def test_identity_headers_reach_the_app_only_from_signed_in_paths(signed_in: bool) -> None:
    """x-amzn-oidc-* are the ALB's word on who signed in: the app gets the client's copy only on a
    path the ALB signs in (where the ALB overwrites it); everywhere else each map's default, an
    empty value, makes nginx drop the header (a client cannot claim an identity)."""
    config = {**ACCESS_CONFIG, "access": [ACCESS_CONFIG["access"][0], {**ACCESS_CONFIG["access"][1], "signedIn": signed_in}]}
    tree = parse(render_nginx_conf(ProxyConfig.model_validate(config), RenderTarget(upstream_port=3000)))
    maps = _maps(tree)
    assert maps["$rampart_access"][-1] == ("~^/account/.*$", ["1"]), "entry 1 is the signed-in path"
    for header in ("x-amzn-oidc-accesstoken", "x-amzn-oidc-identity", "x-amzn-oidc-data"):
        variable = "$rampart_" + header.replace("-", "_")
        passed = [("1", ["$http_" + header.replace("-", "_")])] if signed_in else []
        assert maps[variable] == [("default", [""]), *passed], f"{variable}: {maps[variable]}"
        proxied = [loc for loc in find(tree, "location") if find(loc["block"], "proxy_pass")]
        assert proxied
        for loc in proxied:
            sets = [d["args"] for d in find(loc["block"], "proxy_set_header") if d["args"][0].lower() == header]
            assert sets == [[header, variable]], f"location {loc['args']}: {header} is set from {sets}"


def test_the_real_client_address_is_the_entry_the_alb_appended() -> None:
    """With trusted peers, the client address is X-Forwarded-For's last entry (the one the ALB
    appended), not walked back past trusted entries (`real_ip_recursive on` would believe a host in
    the ALB's subnets claiming an allow-listed address)."""
    tree = parse(render_nginx_conf(ProxyConfig.model_validate(ACCESS_CONFIG), RenderTarget(upstream_port=3000)))
    assert [d["args"] for d in find(tree, "set_real_ip_from")] == [["10.0.1.0/24"], ["10.0.2.0/24"]]
    assert [d["args"] for d in find(tree, "real_ip_header")] == [["X-Forwarded-For"]]
    assert [d["args"] for d in find(tree, "real_ip_recursive")] == [["off"]]
    untrusted = parse(render_nginx_conf(ProxyConfig(), RenderTarget(upstream_port=3000)))
    assert not find(untrusted, "real_ip_header") and not find(untrusted, "real_ip_recursive"), \
        "without trusted peers the peer's own address is the client's"
