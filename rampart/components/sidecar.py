"""ProxySidecar: the Nginx reverse-proxy sidecar's ECS container definition and its TLS wiring.

The sidecar terminates TLS from the ALB (target group protocol HTTPS) and proxies to the app on the
task's loopback. By default the proxy image's entrypoint (proxy/proxy-init.c) makes a fresh EC P-256
key and a self-signed certificate at every task start, on the task-scoped volume at /run/proxy: the
ALB does not validate target certificates, it only encrypts, so the key needs to exist nowhere else.
Nothing of it is in Pulumi state, Secrets Manager, an image layer, a log or a stack output, and there
is nothing to rotate: a new task has a new key. The certificate's name and lifetime reach the
entrypoint as two plain, non-secret variables (PROXY_TLS_COMMON_NAME, PROXY_TLS_VALIDITY_DAYS).

A stack may bring its own certificate instead (`proxy.certificate.secrets`, for clients other than the
ALB): two Secrets Manager secrets it does not create and their KMS key, delivered through ECS `secrets`
(PROXY_TLS_CERT, PROXY_TLS_KEY; resolved by the ECS agent with the execution role, which WebService
grants exactly those secrets and that key). The entrypoint writes them to the volume and removes them
from its environment.

Usage (what WebService does in `ingress="nginx"` mode; see docs/proxy.md):

    sidecar = ProxySidecar(f"{name}-proxy", ProxySidecarArgs(proxy=cfg, image=image_ref,
        app_container_name="app", log_group_name=group.name, region=region),
        opts=ResourceOptions(parent=self))
    definitions.append(sidecar.container_definition())
    volumes.extend(sidecar.task_volumes())
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from rampart.components.proxy_config import CertificateSecrets, ProxyConfig
from rampart.components.nginx_conf import CONTAINER_PATHS
from rampart.components.routing import HEALTH_CHECK_PATH

__all__ = ["ProxySidecar", "ProxySidecarArgs", "PROXY_CONTAINER", "PROXY_USER", "MOUNT_PATHS"]

PROXY_CONTAINER = "proxy"
#: The unprivileged user the proxy image runs as (see proxy/Dockerfile).
PROXY_USER = "10101:10101"
RUN_VOLUME = "proxy-run"
CACHE_VOLUME = "proxy-cache"
#: Task volume -> the path it is mounted at in the proxy container. The proxy image declares each
#: path as a VOLUME (proxy/Dockerfile): on Fargate an undeclared mount path is an empty root-owned
#: 0755 directory the proxy's user cannot write to.
MOUNT_PATHS: dict[str, str] = {RUN_VOLUME: "/run/proxy", CACHE_VOLUME: CONTAINER_PATHS["var"]}
#: ECS `secrets` the entrypoint writes when the stack brings its own certificate.
CERT_ENV = "PROXY_TLS_CERT"
KEY_ENV = "PROXY_TLS_KEY"
#: Plain variables the entrypoint reads when it makes its own certificate (proxy/proxy-init.c).
COMMON_NAME_ENV = "PROXY_TLS_COMMON_NAME"
VALIDITY_DAYS_ENV = "PROXY_TLS_VALIDITY_DAYS"
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
    log_group_name: pulumi.Input[str]
    """CloudWatch log group for the proxy container (awslogs)."""
    region: pulumi.Input[str]
    """AWS region of the log group (awslogs-region)."""
    proxy: ProxyConfig | None = None
    """The proxy settings (listen port, certificate); defaults when None."""
    cpu: int = 128
    """CPU units reserved for the proxy container."""
    memory_mib: int = 128
    """Hard memory limit of the proxy container, in MiB."""
    app_has_health_check: bool = True
    """Whether the app container has a health check (decides the proxy's start condition)."""

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

    @property
    def config(self) -> ProxyConfig:
        assert self.proxy is not None
        return self.proxy


class ProxySidecar(pulumi.ComponentResource):
    """The proxy's ECS container definition; it creates no resources (the image makes its own TLS pair)."""

    container_name: str
    listen_port: int
    health_check_path: str
    certificate_secrets: CertificateSecrets | None
    """The certificate the stack brings (None: the image makes one at start)."""

    def __init__(self, name: str, args: ProxySidecarArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rampart:sidecar:ProxySidecar", name, None, opts)
        self._args = args
        cfg = args.config

        self.container_name = PROXY_CONTAINER
        self.listen_port = cfg.listen_port
        self.health_check_path = HEALTH_CHECK_PATH
        self.certificate_secrets = cfg.certificate.secrets

        self.register_outputs(
            {
                "listenPort": self.listen_port,
                "certificate": "brought" if self.certificate_secrets is not None else "made at task start",
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
            image, log_group, region = values
            return {
                "name": PROXY_CONTAINER,
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": self.listen_port, "protocol": "tcp"}],
                **self._tls_inputs(),
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

        return pulumi.Output.all(args.image, args.log_group_name, args.region).apply(build)

    def _tls_inputs(self) -> dict[str, Any]:
        """What the entrypoint reads to put the TLS pair in place: the brought certificate's secrets
        (ECS resolves their current version at task start), else the made certificate's name and lifetime."""
        own = self.certificate_secrets
        if own is not None:
            return {"secrets": [{"name": name, "valueFrom": arn} for name, arn in self.secret_arns().items()]}
        cert = self._args.config.certificate
        return {"environment": [
            {"name": COMMON_NAME_ENV, "value": cert.common_name},
            {"name": VALIDITY_DAYS_ENV, "value": str(cert.validity_days)},
        ]}

    def secret_arns(self) -> dict[str, str]:
        """The proxy container's ECS `secrets` (variable name -> secret ARN): the brought certificate's
        two, else none. Each is encrypted with `certificate_secrets.kms_key_arn`."""
        own = self.certificate_secrets
        if own is None:
            return {}
        return {CERT_ENV: own.cert_secret_arn, KEY_ENV: own.key_secret_arn}
