"""WebService: one containerised web service on ECS Fargate behind an ALB with TLS and WAF.

Composes Monitoring (KMS key, alarm topic), Network, LoadBalancer and WebAcl with the ECS
cluster, task definition, service, IAM roles, security group, autoscaling and alarms.

Two ingress modes:
- ``alb``: target group (HTTP) -> app container port.
- ``nginx``: target group (HTTPS) -> the Nginx sidecar's TLS port -> app on 127.0.0.1; the app
  port is not reachable from the ALB. The sidecar comes from ``components.sidecar.ProxySidecar``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, Mapping, Optional, TypeVar

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components._util import (
    SECRET_LOOKING_NAME,
    ArgsModel,
    AwsContext,
    StrInput,
    assume_role_policy,
    check_component_name,
    log_group_prefix as default_log_group_prefix,
    merge_tags,
    physical_name,
    policy_json,
    Tags,
)
from components.load_balancer import LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from components.monitoring import Monitoring, MonitoringArgs, encrypted_log_group, metric_alarm
from components.network import Network, NetworkArgs, NetworkSettings
from components.proxy_config import ProxyConfig
from components.sidecar import ProxySidecar, ProxySidecarArgs
from components.waf import WafSettings, WebAcl, WebAclArgs

# Fargate task sizes: CPU units -> allowed memory (MiB).
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|ssm:[a-z0-9-]+:\d{12}:parameter/.+)$"
)
_ROOT_USERS = {"root", "0"}


def check_environment(value: dict[str, str]) -> dict[str, str]:
    """Plain environment: valid names, none that looks like it holds a secret."""
    for key in value:
        if not _ENV_NAME.match(key):
            raise ValueError(f"environment: {key!r} is not a valid variable name")
        if SECRET_LOOKING_NAME.search(key):
            raise ValueError(
                f"environment: {key!r} looks like a secret; put it in `secrets` as a Secrets Manager "
                "or SSM parameter ARN so it is never stored in plain text"
            )
    return value


SecretRefs = TypeVar("SecretRefs", bound=Mapping[str, Any])


def check_secret_refs(value: SecretRefs) -> SecretRefs:
    """Secrets: valid names, each a Secrets Manager secret or SSM parameter ARN (when known now)."""
    for key, arn in value.items():
        if not _ENV_NAME.match(key):
            raise ValueError(f"secrets: {key!r} is not a valid variable name")
        if isinstance(arn, str) and not _SECRET_ARN.match(arn):
            raise ValueError(
                f"secrets: {key!r} must be a Secrets Manager secret ARN or SSM parameter ARN, not {arn!r}"
            )
    return value

APP_CONTAINER = "app"
DEFAULT_CONTAINER_PORT = 8080
DEFAULT_USER = "65532:65532"
DEFAULT_HEALTH_COMMAND = ("CMD", "/nodejs/bin/node", "/app/dist/healthcheck.js")
#: Share of the task the Nginx sidecar reserves (ingress='nginx'); the app gets the rest.
PROXY_CPU_UNITS = 128
PROXY_MEMORY_MIB = 128


class ContainerHealthCheck(ArgsModel):
    """The app container's own health check (ECS restarts a container that fails it)."""

    command: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HEALTH_COMMAND),
        min_length=2,
        description="`CMD`/`CMD-SHELL` and its arguments; the default runs the sample app's healthcheck.js.",
    )
    interval_seconds: int = Field(15, ge=5, le=300, description="Seconds between checks.")
    timeout_seconds: int = Field(5, ge=2, le=60, description="Seconds before a check fails.")
    retries: int = Field(3, ge=1, le=10, description="Failures before the container is unhealthy.")
    start_period_seconds: int = Field(30, ge=0, le=300, description="Grace period after start.")

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        if value[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError(f"container_health_check.command must start with CMD or CMD-SHELL, not {value[0]!r}")
        return value


class AlarmSettings(ArgsModel):
    """Alarm thresholds; every alarm notifies the encrypted alarm topic."""

    enabled: bool = Field(True, description="Create the alarms below (False skips them all).")
    http_5xx_rate_percent: float = Field(5.0, gt=0, le=100, description="ALB + target 5xx as % of requests.")
    target_p99_seconds: float = Field(2.0, gt=0, description="p99 target response time.")
    cpu_percent: float = Field(80.0, gt=0, le=100, description="Service average CPU utilisation.")
    memory_percent: float = Field(80.0, gt=0, le=100, description="Service average memory utilisation.")
    waf_blocked_requests: int = Field(
        500, ge=1, description="WAF-blocked requests in 5 minutes that count as a spike."
    )


class WebServiceArgs(ArgsModel):
    """Everything a team sets to run one web service; only `image`, `image_repository_arn` and
    a certificate (`load_balancer.certificate_arn` or `.domain`) are required."""

    image: StrInput = Field(description="App image by digest (`registry/repo@sha256:...`), e.g. `Image.image_ref`.")
    image_repository_arn: StrInput = Field(
        description="ECR repository ARN of `image`: the only repository the execution role may pull from."
    )
    load_balancer: LoadBalancerSettings = Field(description="Certificate, TLS policy, access logs, health check.")
    ingress: Literal["alb", "nginx"] = Field(
        "alb", description="`alb`: ALB -> app; `nginx`: ALB -> Nginx TLS sidecar -> app on 127.0.0.1."
    )
    proxy: Optional[ProxyConfig] = Field(
        None, description="The Nginx sidecar's settings (ingress='nginx' only)."
    )
    proxy_image: Optional[StrInput] = Field(None, description="Proxy image by digest (ingress='nginx' only).")
    proxy_image_repository_arn: Optional[StrInput] = Field(
        None, description="ECR repository ARN of `proxy_image` (ingress='nginx' only)."
    )
    container_port: int = Field(DEFAULT_CONTAINER_PORT, ge=1024, le=65535, description="Port the app listens on.")
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = Field(256, description="Task CPU units.")
    memory: int = Field(512, description="Task memory (MiB); a size Fargate offers for `cpu`.")
    cpu_architecture: Literal["X86_64", "ARM64"] = Field("X86_64", description="Task CPU architecture.")
    user: str = Field(DEFAULT_USER, description="uid[:gid] the app runs as; root (0) is refused.")
    readonly_root_filesystem: bool = Field(True, description="Mount the container's root filesystem read-only.")
    writable_paths: list[str] = Field(
        default_factory=lambda: ["/tmp"],
        description="Paths given a task-scoped writable volume (Fargate has no tmpfs) under a read-only root.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="Plain, non-secret environment; secret-looking names are refused."
    )
    secrets: dict[str, StrInput] = Field(
        default_factory=dict, description="Variable name -> Secrets Manager secret or SSM parameter ARN."
    )
    secret_kms_key_arns: list[StrInput] = Field(
        default_factory=list, description="Customer-managed keys encrypting `secrets` (execution role may decrypt)."
    )
    container_health_check: ContainerHealthCheck = Field(
        default_factory=ContainerHealthCheck, description="The app container's health check."
    )
    desired_count: int = Field(2, ge=0, le=1000, description="Tasks after a deployment.")
    min_count: int = Field(2, ge=0, le=1000, description="Autoscaling lower bound.")
    max_count: int = Field(4, ge=1, le=1000, description="Autoscaling upper bound.")
    cpu_target_percent: int = Field(60, ge=10, le=90, description="Target average CPU for autoscaling.")
    requests_per_target: int = Field(1000, ge=1, le=100000, description="Target ALB requests per task per minute.")
    health_check_grace_period_seconds: int = Field(
        60, ge=0, le=2_147_483_647, description="Seconds ECS ignores ALB health checks after a task starts."
    )
    enable_execute_command: bool = Field(
        False, description="ECS Exec into tasks; when on, sessions are logged to an encrypted log group."
    )
    network: NetworkSettings = Field(default_factory=NetworkSettings, description="VPC: create (default) or existing.")
    waf: Optional[WafSettings] = Field(
        default_factory=WafSettings, description="WAFv2 web ACL settings; None skips the web ACL (explicit opt-out)."
    )
    monitoring: MonitoringArgs = Field(default_factory=MonitoringArgs, description="KMS key, alarm topic, retention.")
    alarms: AlarmSettings = Field(default_factory=AlarmSettings, description="Alarm thresholds.")
    log_group_prefix: Optional[str] = Field(None, description="Log group name prefix; default `/rampart/<stack>/<name>`.")
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        uid = value.split(":", 1)[0]
        if uid in _ROOT_USERS or value.strip() == "":
            raise ValueError(f"user {value!r} is root; give a non-root uid[:gid] such as {DEFAULT_USER}")
        return value

    @field_validator("writable_paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/") or path == "/":
                raise ValueError(f"writable_paths: {path!r} must be an absolute path below /")
        if len(set(value)) != len(value):
            raise ValueError("writable_paths lists a path twice")
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        return check_environment(value)

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: dict[str, StrInput]) -> dict[str, StrInput]:
        return check_secret_refs(value)

    @model_validator(mode="after")
    def _consistent(self) -> "WebServiceArgs":
        if self.memory not in FARGATE_MEMORY[self.cpu]:
            raise ValueError(
                f"memory={self.memory} is not offered with cpu={self.cpu}; "
                f"allowed: {', '.join(str(m) for m in FARGATE_MEMORY[self.cpu])}"
            )
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError(
                f"min_count ({self.min_count}) <= desired_count ({self.desired_count}) <= max_count "
                f"({self.max_count}) must hold"
            )
        overlap = sorted(set(self.environment) & set(self.secrets))
        if overlap:
            raise ValueError(f"{', '.join(overlap)} is in both `environment` and `secrets`; keep it in `secrets` only")
        nginx_only = {
            "proxy": self.proxy,
            "proxy_image": self.proxy_image,
            "proxy_image_repository_arn": self.proxy_image_repository_arn,
        }
        if self.ingress == "nginx":
            missing = [k for k, v in nginx_only.items() if v is None]
            if missing:
                raise ValueError(f"ingress='nginx' needs {', '.join(missing)}")
            assert self.proxy is not None
            if self.proxy.listen_port == self.container_port:
                raise ValueError(
                    f"proxy.listen_port and container_port are both {self.container_port}; the sidecar and the "
                    "app share the task's network namespace, so give them different ports"
                )
            upstream = self.proxy.upstream.port
            if upstream is not None and upstream != self.container_port:
                raise ValueError(
                    f"proxy.upstream.port ({upstream}) differs from container_port ({self.container_port}); "
                    "the proxy must forward to the app's port (leave upstream.port empty to follow container_port)"
                )
        else:
            given = [k for k, v in nginx_only.items() if v is not None]
            if given:
                raise ValueError(f"{', '.join(given)} apply only with ingress='nginx'; remove them or set ingress='nginx'")
        return self


def _secret_resource(arn: str) -> str:
    """The IAM resource of a `valueFrom`: Secrets Manager references may end in `:key:stage:version`."""
    if ":secretsmanager:" in arn:
        return ":".join(arn.split(":")[:7])
    return arn


def execution_role_policy(
    *,
    repository_arns: list[StrInput],
    log_group_arns: list[pulumi.Output[str]],
    secret_arns: list[StrInput],
    kms_key_arns: list[StrInput],
    region: pulumi.Output[str],
) -> pulumi.Output[str]:
    """Least privilege for the ECS agent: pull this image, write these log groups, read these secrets."""

    def build(values: list[Any]) -> str:
        n_repo, n_logs, n_secrets = len(repository_arns), len(log_group_arns), len(secret_arns)
        repos = values[:n_repo]
        logs = values[n_repo : n_repo + n_logs]
        secrets = values[n_repo + n_logs : n_repo + n_logs + n_secrets]
        keys = values[n_repo + n_logs + n_secrets : -1]
        region_name = values[-1]
        statements: list[dict[str, Any]] = [
            # GetAuthorizationToken has no resource-level permission; it grants nothing by itself.
            {"Sid": "EcrAuth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "PullThisImage",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                "Resource": sorted(set(repos)),
            },
            {
                "Sid": "WriteTheseLogGroups",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{arn}:log-stream:*" for arn in logs],
            },
        ]
        resources = sorted({_secret_resource(a) for a in secrets})
        sm = [a for a in resources if ":secretsmanager:" in a]
        ssm = [a for a in resources if ":ssm:" in a]
        if sm:
            statements.append(
                {"Sid": "ReadTheseSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": sm}
            )
        if ssm:
            statements.append(
                {"Sid": "ReadTheseParameters", "Effect": "Allow", "Action": "ssm:GetParameters", "Resource": ssm}
            )
        if resources and keys:
            statements.append(
                {
                    "Sid": "DecryptSecretsViaService",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": sorted(set(keys)),
                    "Condition": {
                        "StringEquals": {
                            "kms:ViaService": [
                                f"secretsmanager.{region_name}.amazonaws.com",
                                f"ssm.{region_name}.amazonaws.com",
                            ]
                        }
                    },
                }
            )
        return json.dumps({"Version": "2012-10-17", "Statement": statements})

    inputs: list[Any] = [*repository_arns, *log_group_arns, *secret_arns, *kms_key_arns, region]
    return pulumi.Output.all(*inputs).apply(build)


class WebService(pulumi.ComponentResource):
    """A hardened ECS Fargate web service behind an ALB with TLS and WAF."""

    url: pulumi.Output[str]
    alb_dns_name: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    log_group_names: dict[str, pulumi.Output[str]]
    web_acl_arn: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: WebServiceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        check_component_name(name)
        super().__init__("rampart:web_service:WebService", name, None, opts)
        tags = merge_tags(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        ctx = AwsContext(pulumi.InvokeOptions(parent=self))
        prefix = args.log_group_prefix or default_log_group_prefix(name)
        nginx = args.ingress == "nginx"

        def with_tags(settings_tags: Mapping[str, str]) -> dict[str, str]:
            return {**args.tags, **settings_tags}

        # --- monitoring: key and alarm topic -------------------------------------------------
        self.monitoring = Monitoring(
            f"{name}-monitoring",
            args.monitoring.model_copy(update={"tags": with_tags(args.monitoring.tags)}),
            opts=child,
        )
        key_arn = self.monitoring.kms_key_arn
        retention = args.monitoring.log_retention_days

        # --- network ------------------------------------------------------------------------
        self.network = Network(
            f"{name}-network",
            NetworkArgs(
                **args.network.model_dump(exclude={"tags", "flow_log_retention_days"}),
                kms_key_arn=key_arn,
                flow_log_retention_days=args.network.flow_log_retention_days or retention,
                log_group_prefix=prefix,
                tags=with_tags(args.network.tags),
            ),
            opts=child,
        )

        # --- the service's security group (rules added once the ALB's group exists) ---------
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-service-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=self.network.vpc_id,
                description=f"{name} tasks: only the ALB reaches the service port",
                tags={**tags, "Name": f"{name}-service"},
            ),
            opts=child,
        )

        # --- sidecar (nginx mode) -----------------------------------------------------------
        app_log_group = encrypted_log_group(
            f"{name}-app-logs",
            log_group_name=f"{prefix}/app",
            kms_key_arn=key_arn,
            retention_days=retention,
            tags=tags,
            parent=self,
        )
        log_groups: dict[str, aws.cloudwatch.LogGroup] = {"app": app_log_group}
        sidecar: Optional[ProxySidecar] = None
        if nginx:
            assert args.proxy_image is not None  # WebServiceArgs requires it with ingress='nginx'
            proxy_log_group = encrypted_log_group(
                f"{name}-proxy-logs",
                log_group_name=f"{prefix}/proxy",
                kms_key_arn=key_arn,
                retention_days=retention,
                tags=tags,
                parent=self,
            )
            log_groups["proxy"] = proxy_log_group
            sidecar = ProxySidecar(
                f"{name}-proxy",
                ProxySidecarArgs(
                    proxy=args.proxy,
                    image=args.proxy_image,
                    app_container_name=APP_CONTAINER,
                    kms_key_arn=key_arn,
                    log_group_name=proxy_log_group.name,
                    region=ctx.region,
                    cpu=PROXY_CPU_UNITS,
                    memory_mib=PROXY_MEMORY_MIB,
                    tags=tags,
                ),
                opts=child,
            )
            target_container: str = sidecar.container_name
            target_port: int = sidecar.listen_port
            health = args.load_balancer.health_check.model_copy(update={"path": sidecar.health_check_path})
            lb_settings = args.load_balancer.model_copy(update={"health_check": health})
        else:
            target_container = APP_CONTAINER
            target_port = args.container_port
            lb_settings = args.load_balancer

        # --- load balancer ------------------------------------------------------------------
        self.load_balancer = LoadBalancer(
            f"{name}-lb",
            LoadBalancerArgs(
                **{k: getattr(lb_settings, k) for k in LoadBalancerSettings.model_fields if k != "tags"},
                tags=with_tags(lb_settings.tags),
                vpc_id=self.network.vpc_id,
                subnet_ids=list(self.network.public_subnet_ids),
                target_port=target_port,
                target_protocol="HTTPS" if nginx else "HTTP",
                target_security_group_id=self.security_group.id,
            ),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-service-in-alb",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=target_port,
                to_port=target_port,
                referenced_security_group_id=self.load_balancer.security_group.id,
                description=f"From the ALB only, to the {target_container} container port {target_port}",
                tags=tags,
            ),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-service-out-https",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4="0.0.0.0/0",
                description="HTTPS to AWS APIs (ECR, CloudWatch Logs, Secrets Manager) and HTTPS services",
                tags=tags,
            ),
            opts=child,
        )

        # --- WAF ----------------------------------------------------------------------------
        self.web_acl: Optional[WebAcl] = None
        if args.waf is not None:
            self.web_acl = WebAcl(
                f"{name}-waf",
                WebAclArgs(
                    **{k: getattr(args.waf, k) for k in WafSettings.model_fields if k != "tags"},
                    tags=with_tags(args.waf.tags),
                    resource_arn=self.load_balancer.alb.arn,
                    kms_key_arn=key_arn,
                    log_retention_days=retention,
                ),
                opts=child,
            )

        # --- ECS Exec (off by default) ------------------------------------------------------
        exec_log_group: Optional[aws.cloudwatch.LogGroup] = None
        if args.enable_execute_command:
            exec_log_group = encrypted_log_group(
                f"{name}-exec-logs",
                log_group_name=f"{prefix}/ecs-exec",
                kms_key_arn=key_arn,
                retention_days=retention,
                tags=tags,
                parent=self,
            )
            log_groups["exec"] = exec_log_group

        # --- cluster ------------------------------------------------------------------------
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            aws.ecs.ClusterArgs(
                settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
                configuration=(
                    aws.ecs.ClusterConfigurationArgs(
                        execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                            kms_key_id=key_arn,
                            logging="OVERRIDE",
                            log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                                cloud_watch_log_group_name=exec_log_group.name,
                                cloud_watch_encryption_enabled=True,
                            ),
                        )
                    )
                    if exec_log_group is not None
                    else None
                ),
                tags=tags,
            ),
            opts=child,
        )

        # --- IAM: execution role (agent) and task role (app), never the same ----------------
        execution_role = aws.iam.Role(
            f"{name}-execution-role",
            aws.iam.RoleArgs(
                assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
                description=f"{name}: ECS agent pulls the image, writes logs, reads named secrets",
                tags=tags,
            ),
            opts=child,
        )
        repositories: list[StrInput] = [args.image_repository_arn]
        if nginx and args.proxy_image_repository_arn is not None:
            repositories.append(args.proxy_image_repository_arn)
        role_policies: list[pulumi.Resource] = []  # the service waits for these (see below)
        role_policies.append(aws.iam.RolePolicy(
            f"{name}-execution-policy",
            aws.iam.RolePolicyArgs(
                role=execution_role.id,
                policy=execution_role_policy(
                    repository_arns=repositories,
                    log_group_arns=[lg.arn for key, lg in log_groups.items() if key != "exec"],
                    secret_arns=list(args.secrets.values()),
                    kms_key_arns=[key_arn, *args.secret_kms_key_arns],
                    region=ctx.region,
                ),
            ),
            opts=child,
        ))
        if sidecar is not None:
            role_policies.append(aws.iam.RolePolicy(
                f"{name}-execution-proxy-policy",
                aws.iam.RolePolicyArgs(role=execution_role.id, policy=sidecar.execution_role_policy()),
                opts=child,
            ))
        task_role = aws.iam.Role(
            f"{name}-task-role",
            aws.iam.RoleArgs(
                assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
                description=f"{name}: the application's own AWS permissions (none by default)",
                tags=tags,
            ),
            opts=child,
        )
        self.task_role = task_role
        if exec_log_group is not None:
            role_policies.append(aws.iam.RolePolicy(
                f"{name}-task-exec-policy",
                aws.iam.RolePolicyArgs(
                    role=task_role.id,
                    policy=policy_json(
                        [
                            {
                                "Sid": "EcsExecChannels",
                                "Effect": "Allow",
                                "Action": [
                                    "ssmmessages:CreateControlChannel",
                                    "ssmmessages:CreateDataChannel",
                                    "ssmmessages:OpenControlChannel",
                                    "ssmmessages:OpenDataChannel",
                                ],
                                "Resource": "*",
                            },
                            {
                                "Sid": "EcsExecSessionLogs",
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                "Resource": pulumi.Output.concat(exec_log_group.arn, ":*"),
                            },
                            {
                                "Sid": "EcsExecDescribeLogGroups",
                                "Effect": "Allow",
                                "Action": "logs:DescribeLogGroups",
                                "Resource": "*",
                            },
                            {
                                "Sid": "EcsExecSessionEncryption",
                                "Effect": "Allow",
                                "Action": "kms:Decrypt",
                                "Resource": key_arn,
                            },
                        ]
                    ),
                ),
                opts=child,
            ))

        # --- task definition ----------------------------------------------------------------
        app_memory = args.memory - (PROXY_MEMORY_MIB if nginx else 0)
        volumes: list[dict[str, Any]] = [
            {"name": _volume_name(path)} for path in args.writable_paths
        ]
        if sidecar is not None:
            volumes.extend(sidecar.task_volumes())

        environment = {"PORT": str(args.container_port), "HOST": "127.0.0.1" if nginx else "0.0.0.0"}
        environment.update(args.environment)
        hc = args.container_health_check

        def app_container(values: list[Any]) -> dict[str, Any]:
            image, log_group_name, region, *secret_arns = values
            return {
                "name": APP_CONTAINER,
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": args.container_port, "protocol": "tcp"}],
                "user": args.user,
                "readonlyRootFilesystem": args.readonly_root_filesystem,
                "privileged": False,
                "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
                "memory": app_memory,
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                "secrets": [
                    {"name": k, "valueFrom": arn} for k, arn in zip(args.secrets.keys(), secret_arns)
                ],
                "mountPoints": [
                    {"sourceVolume": _volume_name(path), "containerPath": path, "readOnly": False}
                    for path in args.writable_paths
                ],
                "healthCheck": {
                    "command": hc.command,
                    "interval": hc.interval_seconds,
                    "timeout": hc.timeout_seconds,
                    "retries": hc.retries,
                    "startPeriod": hc.start_period_seconds,
                },
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": log_group_name,
                        "awslogs-region": region,
                        "awslogs-stream-prefix": APP_CONTAINER,
                        "mode": "non-blocking",
                        "max-buffer-size": "25m",
                    },
                },
                "stopTimeout": 30,
            }

        app_definition = pulumi.Output.all(
            args.image, app_log_group.name, ctx.region, *args.secrets.values()
        ).apply(app_container)
        definitions: list[pulumi.Output[dict[str, Any]]] = [app_definition]
        if sidecar is not None:
            definitions.append(sidecar.container_definition())
        container_definitions = pulumi.Output.all(*definitions).apply(lambda defs: json.dumps(list(defs)))

        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            aws.ecs.TaskDefinitionArgs(
                family=physical_name(name, 255),  # one family per stack: a shared one mixes stacks' revisions
                cpu=str(args.cpu),
                memory=str(args.memory),
                network_mode="awsvpc",
                requires_compatibilities=["FARGATE"],
                runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                    operating_system_family="LINUX", cpu_architecture=args.cpu_architecture
                ),
                execution_role_arn=execution_role.arn,
                task_role_arn=task_role.arn,
                volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=v["name"]) for v in volumes],
                container_definitions=container_definitions,
                tags=tags,
            ),
            opts=child,
        )

        # --- service ------------------------------------------------------------------------
        self.service = aws.ecs.Service(
            f"{name}-service",
            aws.ecs.ServiceArgs(
                cluster=self.cluster.arn,
                task_definition=self.task_definition.arn,
                desired_count=args.desired_count,
                launch_type="FARGATE",
                platform_version="LATEST",
                network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                    subnets=list(self.network.private_subnet_ids),
                    security_groups=[self.security_group.id],
                    assign_public_ip=False,
                ),
                load_balancers=[
                    aws.ecs.ServiceLoadBalancerArgs(
                        target_group_arn=self.load_balancer.target_group.arn,
                        container_name=target_container,
                        container_port=target_port,
                    )
                ],
                deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
                deployment_minimum_healthy_percent=100,
                deployment_maximum_percent=200,
                health_check_grace_period_seconds=args.health_check_grace_period_seconds,
                enable_execute_command=args.enable_execute_command,
                enable_ecs_managed_tags=True,
                propagate_tags="SERVICE",
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                # Tasks start at once: the roles' policies and the private subnets' way out (routes,
                # endpoints: the network's children) must exist, or the first tasks fail to start.
                depends_on=[self.load_balancer.https_listener, *role_policies, self.network],
                # Autoscaling owns the running count after the first deployment.
                ignore_changes=["desiredCount"],
            ),
        )

        # --- autoscaling --------------------------------------------------------------------
        resource_id = pulumi.Output.concat("service/", self.cluster.name, "/", self.service.name)
        scaling_target = aws.appautoscaling.Target(
            f"{name}-scaling-target",
            aws.appautoscaling.TargetArgs(
                service_namespace="ecs",
                scalable_dimension="ecs:service:DesiredCount",
                resource_id=resource_id,
                min_capacity=args.min_count,
                max_capacity=args.max_count,
                tags=tags,
            ),
            opts=child,
        )
        scaling = [
            ("cpu", "ECSServiceAverageCPUUtilization", float(args.cpu_target_percent), None),
            (
                "requests",
                "ALBRequestCountPerTarget",
                float(args.requests_per_target),
                pulumi.Output.concat(
                    self.load_balancer.alb.arn_suffix, "/", self.load_balancer.target_group.arn_suffix
                ),
            ),
        ]
        for suffix, metric, target, label in scaling:
            aws.appautoscaling.Policy(
                f"{name}-scale-{suffix}",
                aws.appautoscaling.PolicyArgs(
                    policy_type="TargetTrackingScaling",
                    service_namespace=scaling_target.service_namespace,
                    scalable_dimension=scaling_target.scalable_dimension,
                    resource_id=scaling_target.resource_id,
                    target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                        target_value=target,
                        predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                            predefined_metric_type=metric, resource_label=label
                        ),
                        scale_in_cooldown=300,
                        scale_out_cooldown=60,
                    ),
                ),
                opts=child,
            )

        # --- alarms -------------------------------------------------------------------------
        if args.alarms.enabled:
            self._alarms(name, args, tags)

        # --- outputs (no secrets) -----------------------------------------------------------
        self.url = self.load_balancer.url
        self.alb_dns_name = self.load_balancer.alb.dns_name
        self.cluster_name = self.cluster.name
        self.service_name = self.service.name
        self.log_group_names = {key: lg.name for key, lg in log_groups.items()}
        if self.network.flow_log_group is not None:
            self.log_group_names["vpc_flow"] = self.network.flow_log_group.name
        if self.web_acl is not None and self.web_acl.log_group is not None:
            self.log_group_names["waf"] = self.web_acl.log_group.name
        self.web_acl_arn = self.web_acl.web_acl_arn if self.web_acl is not None else None
        self.register_outputs(
            {
                "url": self.url,
                "alb_dns_name": self.alb_dns_name,
                "cluster_name": self.cluster_name,
                "service_name": self.service_name,
                "log_group_names": self.log_group_names,
                "web_acl_arn": self.web_acl_arn,
            }
        )

    def _alarms(self, name: str, args: WebServiceArgs, tags: dict[str, str]) -> None:
        topic = self.monitoring.alarm_topic_arn
        alb = self.load_balancer.alb
        tg = self.load_balancer.target_group
        thresholds = args.alarms

        def alb_metric(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApplicationELB",
                    metric_name=metric_name,
                    dimensions={"LoadBalancer": alb.arn_suffix},
                    period=60,
                    stat="Sum",
                ),
            )

        metric_alarm(
            f"{name}-alarm-5xx-rate",
            description=f"{name}: more than {thresholds.http_5xx_rate_percent}% of requests answered 5xx",
            metric_queries=[
                alb_metric("target5xx", "HTTPCode_Target_5XX_Count"),
                alb_metric("elb5xx", "HTTPCode_ELB_5XX_Count"),
                alb_metric("requests", "RequestCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    label="5xx rate (%)",
                    expression="100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests",
                    return_data=True,
                ),
            ],
            threshold=thresholds.http_5xx_rate_percent,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            topic_arn=topic,
            tags=tags,
            parent=self,
        )
        alb_target_dims: dict[str, StrInput] = {"LoadBalancer": alb.arn_suffix, "TargetGroup": tg.arn_suffix}
        metric_alarm(
            f"{name}-alarm-unhealthy-targets",
            description=f"{name}: at least one target failed the load balancer health check",
            namespace="AWS/ApplicationELB",
            metric_name="UnHealthyHostCount",
            dimensions=alb_target_dims,
            statistic="Maximum",
            threshold=0,
            evaluation_periods=3,
            topic_arn=topic,
            tags=tags,
            parent=self,
        )
        metric_alarm(
            f"{name}-alarm-p99-latency",
            description=f"{name}: p99 target response time above {thresholds.target_p99_seconds}s",
            namespace="AWS/ApplicationELB",
            metric_name="TargetResponseTime",
            dimensions=alb_target_dims,
            extended_statistic="p99",
            threshold=thresholds.target_p99_seconds,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            topic_arn=topic,
            tags=tags,
            parent=self,
        )
        ecs_dims: dict[str, StrInput] = {"ClusterName": self.cluster.name, "ServiceName": self.service.name}
        for suffix, metric, threshold in (
            ("cpu", "CPUUtilization", thresholds.cpu_percent),
            ("memory", "MemoryUtilization", thresholds.memory_percent),
        ):
            metric_alarm(
                f"{name}-alarm-{suffix}",
                description=f"{name}: service average {metric} above {threshold}%",
                namespace="AWS/ECS",
                metric_name=metric,
                dimensions=ecs_dims,
                statistic="Average",
                threshold=threshold,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                topic_arn=topic,
                tags=tags,
                parent=self,
            )
        if self.web_acl is not None:
            ctx_region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
            metric_alarm(
                f"{name}-alarm-waf-blocked",
                description=f"{name}: spike of WAF-blocked requests (more than {thresholds.waf_blocked_requests} in 5 minutes)",
                namespace="AWS/WAFV2",
                metric_name="BlockedRequests",
                dimensions={"WebACL": self.web_acl.web_acl_name, "Region": ctx_region, "Rule": "ALL"},
                statistic="Sum",
                period=300,
                threshold=thresholds.waf_blocked_requests,
                evaluation_periods=1,
                topic_arn=topic,
                tags=tags,
                parent=self,
            )


def _volume_name(path: str) -> str:
    """Task volume name for a writable path: `writable-tmp`, `writable-var-cache`, ..."""
    return "writable" + re.sub(r"[^A-Za-z0-9]+", "-", path).rstrip("-")
