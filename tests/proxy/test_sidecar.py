"""ProxySidecar under Pulumi's mock engine: no TLS material in the plan by default, the brought
certificate's secrets when a stack gives them, the container definition."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from rampart.components.proxy_config import CertificateSecrets, ProxyConfig
from rampart.components.nginx_conf import RenderTarget, render_nginx_conf
from rampart.components.sidecar import ProxySidecar, ProxySidecarArgs
from rampart.offline.mock_engine import ProgramRun, RegisteredResource, run_program_full

KMS = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/proxy@sha256:" + "b" * 64
CERT_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/proxy-cert-AbCdEf"
KEY_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/proxy-key-AbCdEf"
BROUGHT = {"certificate": {"secrets": {"certSecretArn": CERT_ARN, "keySecretArn": KEY_ARN, "kmsKeyArn": KMS}}}


def build(proxy: ProxyConfig | None = None, **kw: Any) -> ProgramRun:
    def program() -> None:
        sidecar = ProxySidecar(
            "web-proxy",
            ProxySidecarArgs(proxy=proxy, image=IMAGE, app_container_name="app",
                             log_group_name="/rampart/web/proxy", region="eu-west-1", **kw),
        )
        pulumi.export("definition", sidecar.container_definition())
        pulumi.export("secrets", sidecar.secret_arns())
        pulumi.export("volumes", sidecar.task_volumes())
        pulumi.export("port", sidecar.listen_port)
        pulumi.export("name", sidecar.container_name)

    return run_program_full(program, stack="test", region="eu-west-1")


def one(run: ProgramRun, type_: str, name: str | None = None) -> RegisteredResource:
    found = [r for r in run.resources if r.type == type_ and (name is None or r.name == name)]
    assert len(found) == 1, f"expected one {type_} {name or ''}, got {[r.name for r in found]}"
    return found[0]


@pytest.mark.parametrize("proxy", [None, ProxyConfig.model_validate(BROUGHT)], ids=["made", "brought"])
def test_the_component_creates_no_resource(proxy: ProxyConfig | None) -> None:
    """No tls:PrivateKey, SelfSignedCert or Secrets Manager secret: the image makes its pair at
    start, or the stack brings secrets it created elsewhere."""
    run = build(proxy)
    comp = one(run, "rampart:sidecar:ProxySidecar")
    children = [(r.type, r.name) for r in run.resources if r.parent_urn == comp.urn]
    assert children == [], f"the sidecar created {children}"
    assert not [r.type for r in run.resources if r.type.startswith("tls:") or r.type.startswith("aws:secretsmanager")]


def test_by_default_the_entrypoint_gets_the_certificate_name_and_lifetime_and_no_secret() -> None:
    d = build(ProxyConfig.model_validate({"certificate": {"validityDays": 60, "commonName": "proxy.shop.internal"}})
              ).stack_outputs["definition"]
    assert "secrets" not in d, f"the made certificate needs no ECS secret: {d.get('secrets')}"
    assert d["environment"] == [{"name": "PROXY_TLS_COMMON_NAME", "value": "proxy.shop.internal"},
                                {"name": "PROXY_TLS_VALIDITY_DAYS", "value": "60"}]
    defaults = build().stack_outputs["definition"]["environment"]
    assert defaults == [{"name": "PROXY_TLS_COMMON_NAME", "value": "proxy.internal"},
                        {"name": "PROXY_TLS_VALIDITY_DAYS", "value": "365"}]


def test_a_brought_certificate_arrives_through_ecs_secrets() -> None:
    run = build(ProxyConfig.model_validate(BROUGHT))
    d = run.stack_outputs["definition"]
    assert d["secrets"] == [{"name": "PROXY_TLS_CERT", "valueFrom": CERT_ARN},
                            {"name": "PROXY_TLS_KEY", "valueFrom": KEY_ARN}]
    assert "environment" not in d, "a brought certificate needs no name or lifetime"
    assert run.stack_outputs["secrets"] == {"PROXY_TLS_CERT": CERT_ARN, "PROXY_TLS_KEY": KEY_ARN}


@pytest.mark.parametrize(
    ("secrets", "field"),
    [
        ({"certSecretArn": "arn:aws:ssm:eu-west-1:123456789012:parameter/cert"}, "certSecretArn"),
        ({"keySecretArn": "web/proxy-key"}, "keySecretArn"),
        # a partial ARN (without the six characters AWS adds) matches no IAM grant: the task could not read it
        ({"certSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/proxy-cert"}, "certSecretArn"),
        ({"kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:alias/aws/secretsmanager"}, "kmsKeyArn"),
        ({"kmsKeyArn": None}, "kmsKeyArn"),
    ],
)
def test_a_brought_certificate_names_its_secrets_and_key_by_arn(secrets: dict[str, Any], field: str) -> None:
    given = {**BROUGHT["certificate"]["secrets"], **secrets}
    given = {k: v for k, v in given.items() if v is not None}
    with pytest.raises(ValueError, match=field):
        ProxyConfig.model_validate({"certificate": {"secrets": given}})


@pytest.mark.parametrize(("days", "ok"), [(0, False), (1, True), (825, True), (826, False)])
def test_validity_days_bounds(days: int, ok: bool) -> None:
    if ok:
        assert ProxyConfig.model_validate({"certificate": {"validityDays": days}}).certificate.validity_days == days
    else:
        with pytest.raises(ValueError, match="validityDays"):
            ProxyConfig.model_validate({"certificate": {"validityDays": days}})


@pytest.mark.parametrize(("name", "ok"), [("a" * 31 + "." + "b" * 32, True), ("a" * 32 + "." + "b" * 32, False),
                                          ("_", False), ("*.proxy.internal", False)], ids=["64", "65", "any", "wildcard"])
def test_common_name_is_one_dns_name_of_at_most_64_characters(name: str, ok: bool) -> None:
    if ok:
        assert CertificateSecrets  # the model the brought certificate uses is exported beside it
        assert ProxyConfig.model_validate({"certificate": {"commonName": name}}).certificate.common_name == name
    else:
        with pytest.raises(ValueError, match="commonName"):
            ProxyConfig.model_validate({"certificate": {"commonName": name}})


def test_container_definition() -> None:
    run = build(ProxyConfig(listen_port=9443), cpu=256, memory_mib=192)
    d = run.stack_outputs["definition"]
    assert d["name"] == "proxy" and d["image"] == IMAGE and d["essential"] is True
    assert d["portMappings"] == [{"containerPort": 9443, "protocol": "tcp"}]
    assert d["readonlyRootFilesystem"] is True and d["privileged"] is False
    assert d["user"].split(":")[0] not in ("0", "root")
    assert d["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert (d["cpu"], d["memory"]) == (256, 192)
    assert d["healthCheck"]["command"] == ["CMD", "/usr/local/bin/proxy-healthcheck", "9443"]
    assert d["logConfiguration"]["logDriver"] == "awslogs"
    assert d["logConfiguration"]["options"]["awslogs-group"] == "/rampart/web/proxy"
    assert d["logConfiguration"]["options"]["awslogs-region"] == "eu-west-1"
    assert d["dependsOn"] == [{"containerName": "app", "condition": "HEALTHY"}]
    mounts = {m["containerPath"]: m["sourceVolume"] for m in d["mountPoints"]}
    assert mounts == {"/run/proxy": "proxy-run", "/var/cache/proxy": "proxy-cache"}
    assert {v["name"] for v in run.stack_outputs["volumes"]} == set(mounts.values())
    assert (run.stack_outputs["port"], run.stack_outputs["name"]) == (9443, "proxy")


@pytest.mark.parametrize(("connections", "limit"), [(4096, 65536), (32718, 65536), (32719, 65538), (65536, 131172)])
def test_open_file_limit_covers_what_nginx_sets(connections: int, limit: int) -> None:
    """The container's nofile limit is at least nginx's worker_rlimit_nofile (two per connection
    plus 100 kept cache files for the default /static/ cache): a non-root worker cannot raise its
    limit above the container's hard limit."""
    proxy = ProxyConfig(worker_connections=connections)
    run = build(proxy)
    ulimits = run.stack_outputs["definition"]["ulimits"]
    assert ulimits == [{"name": "nofile", "softLimit": limit, "hardLimit": limit}]
    conf = render_nginx_conf(proxy, RenderTarget(mode="container", upstream_port=3000))
    assert f"worker_rlimit_nofile {proxy.open_files_per_worker()};" in conf
    assert proxy.open_files_per_worker() <= limit


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"app_container_name": "bad name"}, "app_container_name"),
        ({"app_container_name": "proxy"}, "app_container_name"),
        ({"memory_mib": 8}, "memory_mib"),
        ({"cpu": -1}, "cpu"),
        ({"proxy": {"listenPort": 9443}}, "proxy"),
    ],
)
def test_bad_args_name_the_field(kw: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"image": IMAGE, "app_container_name": "app",
                            "log_group_name": "g", "region": "eu-west-1"}
    with pytest.raises(ValueError, match=field):
        ProxySidecarArgs(**{**base, **kw})
