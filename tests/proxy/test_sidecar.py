"""ProxySidecar under Pulumi's mock engine: TLS material, secrets, the container definition."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from rampart.components.proxy_config import ProxyConfig, RenderTarget, render_nginx_conf
from rampart.components.sidecar import ProxySidecar, ProxySidecarArgs
from rampart.mock_engine import ProgramRun, RecordingMocks, RegisteredResource, run_program_full

KMS = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/proxy@sha256:" + "b" * 64
MOCK_KEY = "mock-private-key"


@pytest.fixture(autouse=True)
def secret_version_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS returns a version id for each SecretVersion; the shared mock does not, so add it here."""
    original = RecordingMocks.new_resource

    def new_resource(self: RecordingMocks, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        rid, outputs = original(self, args)
        if args.typ == "aws:secretsmanager/secretVersion:SecretVersion":
            outputs["versionId"] = f"v-{args.name}"
        if args.typ == "tls:index/selfSignedCert:SelfSignedCert":
            outputs["validityEndTime"] = "2027-02-23T00:00:00Z"
        return rid, outputs

    monkeypatch.setattr(RecordingMocks, "new_resource", new_resource)


def build(proxy: ProxyConfig | None = None, **kw: Any) -> ProgramRun:
    def program() -> None:
        sidecar = ProxySidecar(
            "web-proxy",
            ProxySidecarArgs(proxy=proxy, image=IMAGE, app_container_name="app", kms_key_arn=KMS,
                             log_group_name="/rampart/web/proxy", region="eu-west-1",
                             tags={"owner": "platform"}, **kw),
        )
        pulumi.export("definition", sidecar.container_definition())
        pulumi.export("policy", sidecar.execution_role_policy())
        pulumi.export("volumes", sidecar.task_volumes())
        pulumi.export("port", sidecar.listen_port)
        pulumi.export("health", sidecar.health_check_path)
        pulumi.export("name", sidecar.container_name)

    return run_program_full(program, stack="test", region="eu-west-1")


def one(run: ProgramRun, type_: str, name: str | None = None) -> RegisteredResource:
    found = [r for r in run.resources if r.type == type_ and (name is None or r.name == name)]
    assert len(found) == 1, f"expected one {type_} {name or ''}, got {[r.name for r in found]}"
    return found[0]


def test_component_and_children() -> None:
    run = build()
    comp = one(run, "rampart:sidecar:ProxySidecar")
    children = [r for r in run.resources if r.parent_urn == comp.urn]
    assert sorted((r.type, r.name) for r in children) == sorted([
        ("tls:index/privateKey:PrivateKey", "web-proxy-tls-key"),
        ("tls:index/selfSignedCert:SelfSignedCert", "web-proxy-tls-cert"),
        ("aws:secretsmanager/secret:Secret", "web-proxy-tls-key-secret"),
        ("aws:secretsmanager/secret:Secret", "web-proxy-tls-cert-secret"),
        ("aws:secretsmanager/secretVersion:SecretVersion", "web-proxy-tls-key-version"),
        ("aws:secretsmanager/secretVersion:SecretVersion", "web-proxy-tls-cert-version"),
    ])


def test_ecdsa_p256_key_and_certificate_validity_from_config() -> None:
    run = build(ProxyConfig.model_validate({"certificate": {"validityDays": 60, "earlyRenewalDays": 20,
                                                            "commonName": "proxy.shop.internal"}}))
    key = one(run, "tls:index/privateKey:PrivateKey")
    assert key.inputs["algorithm"] == "ECDSA" and key.inputs["ecdsaCurve"] == "P256"
    cert = one(run, "tls:index/selfSignedCert:SelfSignedCert")
    assert cert.inputs["validityPeriodHours"] == 60 * 24
    assert cert.inputs["earlyRenewalHours"] == 20 * 24, "the certificate must be replaced before it expires"
    assert cert.inputs["earlyRenewalHours"] < cert.inputs["validityPeriodHours"]
    assert "server_auth" in cert.inputs["allowedUses"]
    assert cert.inputs["subject"]["commonName"] == "proxy.shop.internal"
    defaults = one(build(), "tls:index/selfSignedCert:SelfSignedCert")
    assert (defaults.inputs["validityPeriodHours"], defaults.inputs["earlyRenewalHours"]) == (90 * 24, 30 * 24)


def test_secrets_use_the_customer_managed_key_and_the_key_is_secret() -> None:
    run = build()
    for s in [r for r in run.resources if r.type == "aws:secretsmanager/secret:Secret"]:
        assert s.inputs["kmsKeyId"] == KMS, f"{s.name}: not encrypted with the given KMS key"
        assert s.inputs["recoveryWindowInDays"] == 7
        assert s.inputs["tags"] == {"owner": "platform"}
    key_version = one(run, "aws:secretsmanager/secretVersion:SecretVersion", "web-proxy-tls-key-version")
    assert key_version.inputs["secretString"] == MOCK_KEY
    assert "secretString" in key_version.secret_paths, "the private key reached the engine unmarked as secret"
    # the key appears nowhere else: no other input, no stack output
    for r in run.resources:
        for path, value in _walk(r.inputs):
            if value == MOCK_KEY:
                assert r.type.startswith("tls:") or (r is key_version and path == "secretString"), (
                    f"{r.type} {r.name}.{path} carries the private key"
                )
    assert MOCK_KEY not in json.dumps(run.stack_outputs, default=str)


def test_container_definition() -> None:
    run = build(ProxyConfig(listen_port=9443), cpu=256, memory_mib=192)
    d = run.stack_outputs["definition"]
    key_secret = one(run, "aws:secretsmanager/secret:Secret", "web-proxy-tls-key-secret")
    cert_secret = one(run, "aws:secretsmanager/secret:Secret", "web-proxy-tls-cert-secret")
    assert d["name"] == "proxy" and d["image"] == IMAGE and d["essential"] is True
    assert d["portMappings"] == [{"containerPort": 9443, "protocol": "tcp"}]
    assert d["secrets"] == [
        {"name": "PROXY_TLS_CERT", "valueFrom": f"{cert_secret.outputs['arn']}:::v-web-proxy-tls-cert-version"},
        {"name": "PROXY_TLS_KEY", "valueFrom": f"{key_secret.outputs['arn']}:::v-web-proxy-tls-key-version"},
    ]
    assert "environment" not in d, "the proxy needs no plain environment variables"
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
    assert (run.stack_outputs["port"], run.stack_outputs["health"], run.stack_outputs["name"]) == (9443, "/healthz", "proxy")


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


def test_execution_role_policy_is_least_privilege() -> None:
    run = build()
    policy = json.loads(run.stack_outputs["policy"])
    arns = sorted(r.outputs["arn"] for r in run.resources if r.type == "aws:secretsmanager/secret:Secret")
    read, decrypt = policy["Statement"]
    assert read["Action"] == "secretsmanager:GetSecretValue" and sorted(read["Resource"]) == arns
    assert decrypt["Action"] == "kms:Decrypt" and decrypt["Resource"] == KMS
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.eu-west-1.amazonaws.com"
    assert "*" not in json.dumps(policy)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"app_container_name": "bad name"}, "app_container_name"),
        ({"app_container_name": "proxy"}, "app_container_name"),
        ({"memory_mib": 8}, "memory_mib"),
        ({"cpu": -1}, "cpu"),
        ({"secret_recovery_window_days": 3}, "secret_recovery_window_days"),
        ({"proxy": {"listenPort": 9443}}, "proxy"),
    ],
)
def test_bad_args_name_the_field(kw: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"image": IMAGE, "app_container_name": "app", "kms_key_arn": KMS,
                            "log_group_name": "g", "region": "eu-west-1"}
    with pytest.raises(ValueError, match=field):
        ProxySidecarArgs(**{**base, **kw})


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _walk(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _walk(v, f"{path}.{i}")]
    return [(path, value)]
