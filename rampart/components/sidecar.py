"""ProxySidecar: the Nginx reverse-proxy sidecar's TLS material and ECS container definition.

The sidecar terminates TLS from the ALB (target group protocol HTTPS) and proxies to the app on the
task's loopback. Its key and certificate are made by pulumi-tls (ECDSA P-256, self-signed: the ALB
does not validate target certificates, it only encrypts), stored in two Secrets Manager secrets
encrypted with the given customer-managed KMS key, and delivered to the container through ECS
`secrets` (resolved by the ECS agent with the execution role). The proxy image's entrypoint writes
them to the task-scoped volume at /run/proxy at start and removes them from its environment; they are never
in an image layer, a plain environment variable of the task definition, a log or a stack output.

The certificate is replaced `early_renewal_days` before it expires (pulumi-tls `early_renewal_hours`):
the next `pulumi up` inside that window creates a new key version; the container definition
references the exact secret *version*, so the task definition changes and ECS rolls the tasks.

Usage (what WebService does in `ingress="nginx"` mode; see docs/proxy.md):

    sidecar = ProxySidecar(f"{name}-proxy", ProxySidecarArgs(proxy=cfg, image=image_ref,
        app_container_name="app", kms_key_arn=key.arn, log_group_name=group.name, region=region),
        opts=ResourceOptions(parent=self))
    definitions.append(sidecar.container_definition())
    volumes.extend(sidecar.task_volumes())
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from rampart.components.proxy_config import CONTAINER_PATHS, ProxyConfig

__all__ = ["ProxySidecar", "ProxySidecarArgs", "PROXY_CONTAINER", "PROXY_USER", "MOUNT_PATHS"]

PROXY_CONTAINER = "proxy"
#: The unprivileged user the proxy image runs as (see proxy/Dockerfile).
PROXY_USER = "10101:10101"
HEALTH_CHECK_PATH = "/healthz"
RUN_VOLUME = "proxy-run"
CACHE_VOLUME = "proxy-cache"
#: Task volume -> the path it is mounted at in the proxy container. The proxy image declares each
#: path as a VOLUME (proxy/Dockerfile): on Fargate an undeclared mount path is an empty root-owned
#: 0755 directory the proxy's user cannot write to.
MOUNT_PATHS: dict[str, str] = {RUN_VOLUME: "/run/proxy", CACHE_VOLUME: CONTAINER_PATHS["var"]}
CERT_ENV = "PROXY_TLS_CERT"
KEY_ENV = "PROXY_TLS_KEY"
#: The proxy container's open-file limit unless its nginx needs more (ProxyConfig.open_files_per_worker):
#: the unprivileged workers cannot raise their worker_rlimit_nofile above the container's hard limit.
MIN_OPEN_FILES = 65536

_CONTAINER_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}")


@dataclass(frozen=True)
class ProxySidecarArgs:
    """Arguments of ProxySidecar. Plain values are validated on construction (ValueError naming the field)."""

    image: pulumi.Input[str]
    """The proxy image reference (by digest), built from `rampart render-proxy`'s image context."""
    app_container_name: str
    """Name of the app container in the same task; the proxy starts after it is HEALTHY (after it
    started, when it has no health check: ECS refuses HEALTHY on a container without one)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed KMS key that encrypts the two Secrets Manager secrets."""
    log_group_name: pulumi.Input[str]
    """CloudWatch log group for the proxy container (awslogs)."""
    region: pulumi.Input[str]
    """AWS region of the log group and the secrets (awslogs-region, kms:ViaService)."""
    proxy: ProxyConfig | None = None
    """The proxy settings (listen port, certificate validity); defaults when None."""
    cpu: int = 128
    """CPU units reserved for the proxy container."""
    memory_mib: int = 128
    """Hard memory limit of the proxy container, in MiB."""
    app_has_health_check: bool = True
    """Whether the app container has a health check (decides the proxy's start condition)."""
    secret_recovery_window_days: int = 7
    """Days a deleted secret can be restored (0 = delete at once, else 7-30)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the secrets."""

    def __post_init__(self) -> None:
        if self.proxy is None:
            object.__setattr__(self, "proxy", ProxyConfig())
        if not isinstance(self.proxy, ProxyConfig):
            raise ValueError("proxy: give a rampart.components.proxy_config.ProxyConfig (or None for the defaults)")
        if not _CONTAINER_NAME_RE.fullmatch(self.app_container_name) or self.app_container_name == PROXY_CONTAINER:
            raise ValueError(
                f"app_container_name: {self.app_container_name!r} is not a container name (letters, digits, "
                f"'_', '-') other than {PROXY_CONTAINER!r}"
            )
        if not 0 <= self.cpu <= 16384:
            raise ValueError(f"cpu: {self.cpu} is outside 0-16384 CPU units")
        if not 32 <= self.memory_mib <= 122880:
            raise ValueError(f"memory_mib: {self.memory_mib} is outside 32-122880 MiB; nginx needs at least 32")
        if self.secret_recovery_window_days != 0 and not 7 <= self.secret_recovery_window_days <= 30:
            raise ValueError(
                f"secret_recovery_window_days: {self.secret_recovery_window_days} must be 0 or 7-30 "
                "(the Secrets Manager limits)"
            )

    @property
    def config(self) -> ProxyConfig:
        assert self.proxy is not None
        return self.proxy


class ProxySidecar(pulumi.ComponentResource):
    """TLS key and certificate (pulumi-tls) in Secrets Manager, and the proxy's ECS container definition."""

    container_name: str
    listen_port: int
    health_check_path: str
    private_key: tls.PrivateKey
    certificate: tls.SelfSignedCert
    key_secret: aws.secretsmanager.Secret
    cert_secret: aws.secretsmanager.Secret
    key_secret_version: aws.secretsmanager.SecretVersion
    cert_secret_version: aws.secretsmanager.SecretVersion

    def __init__(self, name: str, args: ProxySidecarArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rampart:sidecar:ProxySidecar", name, None, opts)
        self._args = args
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)

        self.container_name = PROXY_CONTAINER
        self.listen_port = cfg.listen_port
        self.health_check_path = HEALTH_CHECK_PATH

        cert_cfg = cfg.certificate
        self.private_key = tls.PrivateKey(
            f"{name}-tls-key",
            tls.PrivateKeyArgs(algorithm="ECDSA", ecdsa_curve="P256"),
            opts=child,
        )
        self.certificate = tls.SelfSignedCert(
            f"{name}-tls-cert",
            tls.SelfSignedCertArgs(
                private_key_pem=self.private_key.private_key_pem,
                subject=tls.SelfSignedCertSubjectArgs(common_name=cert_cfg.common_name),
                dns_names=[cert_cfg.common_name],
                validity_period_hours=cert_cfg.validity_days * 24,
                early_renewal_hours=cert_cfg.early_renewal_days * 24,
                allowed_uses=["digital_signature", "server_auth"],
            ),
            opts=child,
        )

        tags = dict(args.tags)
        self.key_secret = aws.secretsmanager.Secret(
            f"{name}-tls-key-secret",
            aws.secretsmanager.SecretArgs(
                description="Private key (PEM) of the Nginx sidecar's TLS certificate",
                kms_key_id=args.kms_key_arn,
                recovery_window_in_days=args.secret_recovery_window_days,
                tags=tags,
            ),
            opts=child,
        )
        self.key_secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-tls-key-version",
            aws.secretsmanager.SecretVersionArgs(
                secret_id=self.key_secret.id,
                secret_string=pulumi.Output.secret(self.private_key.private_key_pem),
            ),
            opts=child,
        )
        self.cert_secret = aws.secretsmanager.Secret(
            f"{name}-tls-cert-secret",
            aws.secretsmanager.SecretArgs(
                description="Self-signed TLS certificate (PEM) of the Nginx sidecar",
                kms_key_id=args.kms_key_arn,
                recovery_window_in_days=args.secret_recovery_window_days,
                tags=tags,
            ),
            opts=child,
        )
        self.cert_secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-tls-cert-version",
            aws.secretsmanager.SecretVersionArgs(
                secret_id=self.cert_secret.id,
                secret_string=self.certificate.cert_pem,
            ),
            opts=child,
        )

        self.secret_arns: list[pulumi.Output[str]] = [self.cert_secret.arn, self.key_secret.arn]

        self.register_outputs(
            {
                "listenPort": self.listen_port,
                "keySecretArn": self.key_secret.arn,
                "certSecretArn": self.cert_secret.arn,
                "certificateValidUntil": self.certificate.validity_end_time,
            }
        )

    # -- what WebService calls ------------------------------------------------------------------

    def task_volumes(self) -> list[dict[str, Any]]:
        """Task-level volumes the proxy mounts (writable scratch on a read-only root filesystem)."""
        return [{"name": volume} for volume in MOUNT_PATHS]

    def mount_paths(self) -> list[str]:
        """The paths the proxy container mounts task volumes at: what its image must declare as
        VOLUMEs (`rampart.components.image.undeclared_volume_findings`)."""
        return list(MOUNT_PATHS.values())

    def container_definition(self) -> pulumi.Output[dict[str, Any]]:
        """The proxy's ECS container definition (camelCase keys, ready for json.dumps)."""
        args = self._args

        open_files = max(MIN_OPEN_FILES, args.config.open_files_per_worker())

        def build(values: list[Any]) -> dict[str, Any]:
            image, log_group, region, cert_arn, cert_version, key_arn, key_version = values
            return {
                "name": PROXY_CONTAINER,
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": self.listen_port, "protocol": "tcp"}],
                # Exact versions: a renewed certificate changes the task definition, so ECS rolls tasks.
                "secrets": [
                    {"name": CERT_ENV, "valueFrom": _versioned(cert_arn, cert_version)},
                    {"name": KEY_ENV, "valueFrom": _versioned(key_arn, key_version)},
                ],
                "readonlyRootFilesystem": True,
                "user": PROXY_USER,
                "privileged": False,
                "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
                "cpu": args.cpu,
                "memory": args.memory_mib,
                "ulimits": [{"name": "nofile", "softLimit": open_files, "hardLimit": open_files}],
                "mountPoints": [
                    {"sourceVolume": volume, "containerPath": path, "readOnly": False}
                    for volume, path in MOUNT_PATHS.items()
                ],
                "healthCheck": {
                    "command": ["CMD", "/usr/local/bin/proxy-healthcheck", str(self.listen_port)],
                    "interval": 10,
                    "timeout": 3,
                    "retries": 3,
                    "startPeriod": 10,
                },
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": log_group,
                        "awslogs-region": region,
                        "awslogs-stream-prefix": PROXY_CONTAINER,
                        "mode": "non-blocking",
                        "max-buffer-size": "25m",
                    },
                },
                "dependsOn": [{
                    "containerName": args.app_container_name,
                    "condition": "HEALTHY" if args.app_has_health_check else "START",
                }],
                "stopTimeout": 30,
            }

        return pulumi.Output.all(
            args.image,
            args.log_group_name,
            args.region,
            self.cert_secret.arn,
            self.cert_secret_version.version_id,
            self.key_secret.arn,
            self.key_secret_version.version_id,
        ).apply(build)

    def execution_role_policy(self) -> pulumi.Output[str]:
        """IAM policy JSON for the task *execution* role: read exactly these two secrets and decrypt
        them with the KMS key, only through Secrets Manager."""

        def build(values: list[Any]) -> str:
            cert_arn, key_arn, kms_arn, region = values
            return json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ReadProxyTlsSecrets",
                            "Effect": "Allow",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": [cert_arn, key_arn],
                        },
                        {
                            "Sid": "DecryptProxyTlsSecrets",
                            "Effect": "Allow",
                            "Action": "kms:Decrypt",
                            "Resource": kms_arn,
                            "Condition": {
                                "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                            },
                        },
                    ],
                }
            )

        return pulumi.Output.all(
            self.cert_secret.arn, self.key_secret.arn, self._args.kms_key_arn, self._args.region
        ).apply(build)


def _versioned(arn: str, version_id: str | None) -> str:
    """ECS `valueFrom` for one exact secret version: arn:json-key:version-stage:version-id."""
    if not version_id:
        return str(arn)
    return f"{arn}:::{version_id}"
