"""WebService: one containerised web service on ECS Fargate, attached to an environment.

A service creates only what is its own: its route on the environment's HTTPS listener (target group
and listener rule, `rampart.components.routing`), its security group (ingress only from the ALB's group, on
its port), log groups, IAM roles, the Nginx sidecar, the task definition, the service, autoscaling
on its own target group, and alarms on its own target group and tasks. It never creates or changes
shared infrastructure: that is the `Environment` (`rampart.components.environment`), reached through one
`EnvironmentRef`.

Two ingress modes, worked out once from the args (``rampart.components.ingress``; the service asks
the mode object and never tests which one it is):
- ``alb``: target group (HTTP) -> app container port.
- ``nginx``: target group (HTTPS) -> the Nginx sidecar's TLS port -> app on 127.0.0.1; the app
  port is not reachable from the ALB. The sidecar comes from ``rampart.components.sidecar.ProxySidecar``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, Mapping, Optional, TypeVar

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from rampart.components._util import (
    KMS_KEY_ARN,
    ArgsModel,
    AwsContext,
    StrInput,
    assume_role_policy,
    check_component_name,
    merge_tags,
    physical_name,
    policy_json,
    Tags,
)
from rampart.components.environment import EnvironmentRef
from rampart_soc2.vocabulary.arns import COMPLETE_SECRET_ARN
from rampart_soc2.vocabulary.secret_values import secret_kind, secret_message, secret_name
from rampart_soc2.vocabulary.deployments import (
    BAKE_TIME_RANGE, CANARY_PERCENT_RANGE, LINEAR_STEP_PERCENT_RANGE, PERCENT_STEP, linear_intervals, percent_problem,
)
from rampart_soc2.vocabulary.tags import SECRET_KEY_TAG_PREFIX
from rampart_soc2.vocabulary.thresholds import DEFAULT_THRESHOLDS
from rampart.components.monitoring import encrypted_log_group
from rampart.components.service_alarms import (
    ALTERNATE_ALARM,
    AlarmScope,
    TargetGroupWatch,
    target_group_alarms,
    task_alarms,
)
from rampart.components.observability import (
    ServiceMetrics,
    dashboard,
    service_dashboard_body,
)
from rampart.components.proxy_config import ProxyConfig
from rampart.components.routing import (
    MAX_VALUES_PER_RULE,
    HealthCheckSettings,
    RoutingSettings,
    ServiceRoute,
    TestRoute,
    effective_priority,
    priority_range_problem,
)
from rampart.components.container_health import ContainerHealthCheck
from rampart.components.image import ImageFacts, check_pullable_image, undeclared_volume_findings
from rampart.components.ingress import APP_CONTAINER, Ingress, check_proxy_access, ingress_class, ingress_mode
from rampart.components.sidecar import CERT_ENV as PROXY_CERT_ENV, KEY_ENV as PROXY_KEY_ENV

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
    """Plain environment: valid names, none that looks like it holds a secret by name or by value."""
    for key, item in value.items():
        if not _ENV_NAME.match(key):
            raise ValueError(f"environment: {key!r} is not a valid variable name")
        kind = secret_kind(item)
        if kind is not None:
            raise ValueError(secret_message(f"environment: {key!r}", kind))
        if secret_name(key):
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
        if isinstance(arn, str) and ":secretsmanager:" in arn and not COMPLETE_SECRET_ARN.match(arn):
            raise ValueError(
                f"secrets: {key!r}: {arn!r} is not a complete secret ARN (it lacks the '-' and six characters Secrets "
                "Manager appends to the name): IAM matches the execution role's grant against the complete ARN, so "
                "the task would fail to start with AccessDenied. Give the ARN `aws secretsmanager describe-secret "
                "--secret-id NAME --query ARN` prints"
            )
    return value



def _is_parameter(arn: Any) -> bool:
    return isinstance(arn, str) and ":ssm:" in arn


def check_secret_keys(secrets: Mapping[str, Any], keys: Mapping[str, Any]) -> None:
    """Every Secrets Manager secret names the KMS key that encrypts it: the stack creates none of them,
    so the key is not the environment's and the execution role could not decrypt the secret (the task
    fails to start with `kms:Decrypt AccessDenied`). Keys are key ARNs (IAM grants on key ARNs, not aliases)."""
    for name in keys:
        if name not in secrets:
            raise ValueError(
                f"secret_kms_key_arns: {name!r} is not a variable in `secrets`; name the secret whose key it is, "
                "or drop it"
            )
    for name, key in keys.items():
        if isinstance(key, str) and not KMS_KEY_ARN.match(key):
            raise ValueError(
                f"secret_kms_key_arns: {name!r}: {key!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); "
                "IAM grants kms:Decrypt on key ARNs, not on aliases"
            )
    missing = [name for name, arn in secrets.items() if not _is_parameter(arn) and name not in keys]
    if missing:
        shown = "; ".join(f"{name!r} ({secrets[name]})" for name in missing)
        raise ValueError(
            f"secrets: {shown} has no key: the stack did not create it, so the execution role may decrypt it only "
            "with a key named for it. Add the ARN of the KMS key that encrypts it to `secret_kms_key_arns` "
            f"(stack file: `secretKmsKeyArns: {{{missing[0]}: arn:aws:kms:REGION:ACCOUNT:key/ID}}` beside `secrets`; "
            "`aws secretsmanager describe-secret` shows the key as KmsKeyId, none meaning the AWS managed key "
            "aws/secretsmanager, whose key ARN `aws kms describe-key --key-id alias/aws/secretsmanager` prints)"
        )


DEFAULT_CONTAINER_PORT = 8080
DEFAULT_USER = "65532:65532"


class AlarmSettings(ArgsModel):
    """The service's alarm thresholds; every alarm notifies the environment's encrypted alarm topic."""

    enabled: bool = Field(True, description="Create the alarms below (False skips them all).")
    http_5xx_rate_percent: float = Field(5.0, gt=0, le=100, description="The targets' 5xx (HTTPCode_Target_5XX_Count) as % of the service's requests; the load "
        "balancer's own 5xx, which AWS publishes per load balancer only, is the environment's alarm (`alb_5xx_per_minute`).")
    target_p99_seconds: float = Field(2.0, gt=0, description="p99 target response time.")
    cpu_percent: float = Field(80.0, gt=0, le=100, description="Service average CPU utilisation.")
    memory_percent: float = Field(80.0, gt=0, le=100, description="Service average memory utilisation.")
    rate_limited_per_minute: int = Field(
        100, ge=1, description="Requests the sidecar answered 429 in a minute (nginx ingress only)."
    )
    upstream_5xx_per_minute: int = Field(
        10, ge=1, description="Upstream 5xx responses the sidecar saw in a minute (nginx ingress only)."
    )


_BAKE_RANGE = f"{BAKE_TIME_RANGE[0]}-{BAKE_TIME_RANGE[1]}"


def _share_ecs_accepts(value: float, accepted: tuple[float, float]) -> float:
    """A canary's or linear step's share, refused here when ECS would refuse it at `pulumi up`."""
    problem = percent_problem(value, accepted)
    if problem:
        raise ValueError(f"{problem}; ECS accepts multiples of {PERCENT_STEP:g} from {accepted[0]:g} to {accepted[1]:g}")
    return value


#: The service's own alarms (suffixes of `<service>-alarm-<suffix>`, the names `_alarms` registers) that
#: roll a deployment back unless `deployment.rollback_alarms` names others: failing traffic, not load.
ROLLBACK_ALARMS: tuple[str, ...] = ("5xx-rate", "unhealthy-targets", "p99-latency")
RollbackAlarm = Literal["5xx-rate", "unhealthy-targets", "no-healthy-targets", "p99-latency"]
#: The header a team sends to reach a blue/green/canary/linear release's new tasks before traffic moves (the
#: test listener rule; same hosts and paths as the service's own rule).
TEST_TRAFFIC_HEADER = "X-Rampart-Test-Traffic"
TEST_TRAFFIC_VALUE = "candidate"


class CanarySettings(ArgsModel):
    """A canary deployment: `percent` of the traffic to the new tasks for `interval_minutes`, then all of it."""

    percent: float = Field(
        10.0, ge=CANARY_PERCENT_RANGE[0], le=CANARY_PERCENT_RANGE[1],
        description=f"Share of production traffic the new tasks get first (ECS: multiples of {PERCENT_STEP:g}, "
        f"{CANARY_PERCENT_RANGE[0]:g}-{CANARY_PERCENT_RANGE[1]:g}).",
    )
    interval_minutes: int = Field(
        5, ge=BAKE_TIME_RANGE[0], le=BAKE_TIME_RANGE[1],
        description=f"Minutes at that share, watched by the rollback alarms, before all traffic moves ({_BAKE_RANGE}).",
    )

    @field_validator("percent")
    @classmethod
    def _ecs_share(cls, value: float) -> float:
        return _share_ecs_accepts(value, CANARY_PERCENT_RANGE)


class LinearSettings(ArgsModel):
    """A linear deployment: traffic moves to the new tasks in equal steps of `step_percent`."""

    step_percent: float = Field(
        25.0, ge=LINEAR_STEP_PERCENT_RANGE[0], le=LINEAR_STEP_PERCENT_RANGE[1],
        description=f"Share of production traffic each step moves (ECS: multiples of {PERCENT_STEP:g}, "
        f"{LINEAR_STEP_PERCENT_RANGE[0]:g}-{LINEAR_STEP_PERCENT_RANGE[1]:g}).",
    )
    interval_minutes: int = Field(
        3, ge=BAKE_TIME_RANGE[0], le=BAKE_TIME_RANGE[1],
        description=f"Minutes between steps, watched by the rollback alarms ({_BAKE_RANGE}; none after the step "
        "that reaches 100%).",
    )

    @field_validator("step_percent")
    @classmethod
    def _ecs_share(cls, value: float) -> float:
        return _share_ecs_accepts(value, LINEAR_STEP_PERCENT_RANGE)


class DeploymentSettings(ArgsModel):
    """How a new release replaces the running one (ECS `deploymentConfiguration`). Every strategy rolls
    back on the circuit breaker (tasks that never become healthy) and on the rollback alarms (tasks that
    are healthy but fail real traffic); `blue_green`, `canary` and `linear` start the new tasks beside the
    old ones in a second target group, reachable first through the test listener rule, and keep the old
    ones for `bake_time_minutes` after all traffic moved, so a rollback is a listener-rule switch."""

    strategy: Literal["rolling", "blue_green", "canary", "linear"] = Field(
        "rolling",
        description="`rolling` replaces tasks in place; `blue_green` moves all traffic at once to a full new set; "
        "`canary` moves `canary.percent` first; `linear` moves it in `linear.step_percent` steps.",
    )
    bake_time_minutes: int = Field(
        # the pack's default minimum: a service left at its default passes the safe-deploy policy's bake check
        DEFAULT_THRESHOLDS["minBakeTimeMinutes"], ge=BAKE_TIME_RANGE[0], le=BAKE_TIME_RANGE[1],
        description="Minutes the old tasks stay after all traffic moved, watched by the rollback alarms, so a "
        f"rollback is immediate (ECS: {_BAKE_RANGE}; not with `rolling`, which keeps no old tasks).",
    )
    canary: Optional[CanarySettings] = Field(None, description="The canary's share and interval (strategy `canary`; "
                                             "unset there: the defaults).")
    linear: Optional[LinearSettings] = Field(None, description="The linear steps (strategy `linear`; unset there: the "
                                             "defaults).")
    rollback_alarms: Optional[list[RollbackAlarm]] = Field(
        None,
        description="The service's own alarms that fail and roll back a deployment when they go to ALARM. Unset: "
        f"{', '.join(ROLLBACK_ALARMS)} (none when `alarms.enabled` is false); [] turns alarm rollback off.",
    )

    @model_validator(mode="after")
    def _strategy_blocks(self) -> "DeploymentSettings":
        for key in ("canary", "linear"):
            if getattr(self, key) is not None and self.strategy != key:
                raise ValueError(
                    f"deployment.{key} is set but deployment.strategy is {self.strategy!r}; set strategy: {key}, or "
                    f"remove deployment.{key}"
                )
        if self.strategy == "rolling" and "bake_time_minutes" in self.model_fields_set:
            raise ValueError(
                f"deployment.bake_time_minutes={self.bake_time_minutes} with strategy 'rolling', which keeps no old tasks "
                "to bake; set strategy: blue_green (or canary, linear), or remove bake_time_minutes"
            )
        if self.rollback_alarms is not None and len(set(self.rollback_alarms)) != len(self.rollback_alarms):
            raise ValueError(f"deployment.rollback_alarms lists an alarm twice ({self.rollback_alarms}); list each once")
        return self

    @property
    def shifts_traffic(self) -> bool:
        """True for the strategies that need a second target group and ECS-managed listener rules."""
        return self.strategy != "rolling"

    def ecs_strategy(self) -> str:
        """The provider's `deploymentConfiguration.strategy` value."""
        return self.strategy.upper()

    def canary_or_default(self) -> CanarySettings:
        return self.canary or CanarySettings()

    def linear_or_default(self) -> LinearSettings:
        return self.linear or LinearSettings()

    def rollback_alarm_suffixes(self, alarms_enabled: bool) -> list[str]:
        """The alarms (suffixes of `<service>-alarm-<suffix>`) that roll a deployment back."""
        if self.rollback_alarms is None:
            return list(ROLLBACK_ALARMS) if alarms_enabled else []
        return list(self.rollback_alarms)

    def longest_minutes(self) -> int:
        """Minutes a deployment may take beyond the tasks becoming healthy: the canary's or linear steps'
        intervals and the bake time (what `pulumi up` waits for on top of the steady-state timeout)."""
        if self.strategy == "rolling":
            return 0
        shifting = 0
        if self.strategy == "canary":
            shifting = self.canary_or_default().interval_minutes
        elif self.strategy == "linear":
            linear = self.linear_or_default()
            shifting = linear_intervals(linear.step_percent) * linear.interval_minutes
        return shifting + self.bake_time_minutes


class ServiceSettings(ArgsModel):
    """What a team chooses for one service: everything but the wiring. The stack file's
    `rampart:services.<name>` section is this model (camelCase keys), plus where its image comes from."""

    routing: RoutingSettings = Field(
        default_factory=RoutingSettings, description="Hosts and paths the service answers on the shared listener."
    )
    ingress: Literal["alb", "nginx"] = Field(
        "alb", description="`alb`: ALB -> app; `nginx`: ALB -> Nginx TLS sidecar -> app on 127.0.0.1."
    )
    health_check: HealthCheckSettings = Field(
        default_factory=HealthCheckSettings,
        description="The target group's health check (in `nginx` mode the ALB probes the sidecar's own path).",
    )
    deregistration_delay_seconds: int = Field(
        30, ge=0, le=3600, description="Connection draining for deregistering targets (short for fast deploys)."
    )
    container_port: int = Field(DEFAULT_CONTAINER_PORT, ge=1024, le=65535, description="Port the app listens on.")
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = Field(256, description="Task CPU units.")
    memory: int = Field(512, description="Task memory (MiB); a size Fargate offers for `cpu`.")
    cpu_architecture: Literal["X86_64", "ARM64"] = Field("X86_64", description="Task CPU architecture.")
    user: str = Field(DEFAULT_USER, description="uid[:gid] the app runs as; root (0) is refused.")
    readonly_root_filesystem: bool = Field(True, description="Mount the container's root filesystem read-only.")
    writable_paths: list[str] = Field(
        default_factory=lambda: ["/tmp"],
        description="Paths given a task volume under a read-only root. On Fargate a task volume is an empty, "
        "root-owned directory unless the image declares a `VOLUME` at that exact path: declare each one, "
        "owned by the runtime user.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="Plain, non-secret environment; secret-looking names are refused."
    )
    secrets: dict[str, StrInput] = Field(
        default_factory=dict, description="Variable name -> Secrets Manager secret or SSM parameter ARN."
    )
    secret_kms_key_arns: dict[str, StrInput] = Field(
        default_factory=dict,
        description="Variable name in `secrets` -> ARN of the KMS key that encrypts that secret (`arn:aws:kms:REGION:"
        "ACCOUNT:key/ID`). Required for every Secrets Manager secret (this stack creates none of them); optional for "
        "SSM parameters (SecureString with a customer-managed key). The execution role may decrypt with each key "
        "only through that service and only for its own secrets.",
    )
    container_health_check: Optional[ContainerHealthCheck] = Field(
        None,
        description="The app container's health check, for an image without a `HEALTHCHECK` of its own. None: the "
        "image's `HEALTHCHECK` (`image_facts`), else no container health check (the target group's check still "
        "guards traffic). The command runs inside the container: it must name a program the image holds.",
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
        False,
        description="ECS Exec into tasks; when on, sessions are logged to the environment's encrypted log group. Its "
        "agent writes to the container's root filesystem, so it needs `readonly_root_filesystem=False`.",
    )
    steady_state_timeout_minutes: int = Field(
        20,
        ge=5,
        le=180,
        description="`pulumi up` waits this long for the service's tasks to become healthy, plus the deployment's "
        "traffic shifts and bake time; a deployment the circuit breaker or a rollback alarm rolls back (or that never "
        "becomes healthy) fails the update, with ECS's reason, instead of passing.",
    )
    alarms: AlarmSettings = Field(default_factory=AlarmSettings, description="Alarm thresholds.")
    deployment: DeploymentSettings = Field(
        default_factory=DeploymentSettings,
        description="How a release replaces the running tasks: strategy, bake time and the alarms that roll it back "
        "(docs/components.md, Safe deploys).",
    )
    dashboard: bool = Field(
        False,
        description="Give the service a CloudWatch dashboard of its own ($3 a month). Off: the environment's "
        "dashboard shows it (choose its target group and ECS service in the dashboard's toolbar).",
    )
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
    def _secret_keys(self) -> "ServiceSettings":
        check_secret_keys(self.secrets, self.secret_kms_key_arns)
        return self

    @model_validator(mode="after")
    def _consistent(self) -> "ServiceSettings":
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
        if self.enable_execute_command and self.readonly_root_filesystem:
            raise ValueError(
                "enable_execute_command=True cannot work with readonly_root_filesystem=True: the ECS Exec agent "
                "writes to the container's root filesystem. Keep ECS Exec off (the default), or set "
                "readonly_root_filesystem=False and record the read-only-root exception as a waiver"
            )
        self._check_deployment()
        overlap = sorted(set(self.environment) & set(self.secrets))
        if overlap:
            raise ValueError(f"{', '.join(overlap)} is in both `environment` and `secrets`; keep it in `secrets` only")
        return self

    def _check_deployment(self) -> None:
        """Rollback alarms must exist, and a strategy that shifts traffic needs one forwarding rule."""
        deployment = self.deployment
        if deployment.rollback_alarms and not self.alarms.enabled:
            raise ValueError(
                f"deployment.rollback_alarms names {', '.join(deployment.rollback_alarms)}, but alarms.enabled is false, "
                "so those alarms do not exist; enable the alarms, or set deployment.rollback_alarms: [] to deploy "
                "without alarm rollback"
            )
        values = len(self.routing.hosts) + len(self.routing.path_patterns()) + 1
        if deployment.shifts_traffic and values > MAX_VALUES_PER_RULE:
            raise ValueError(
                f"deployment.strategy {deployment.strategy!r} adds a test listener rule with the route's hosts and paths "
                f"and the {TEST_TRAFFIC_HEADER} header: {values} condition values, and an ALB rule takes at most "
                f"{MAX_VALUES_PER_RULE}; drop a host or path from routing (a wildcard can cover two)"
            )
        if deployment.shifts_traffic and self.routing.access:
            raise ValueError(
                f"deployment.strategy {deployment.strategy!r} with routing.access: ECS moves traffic on one production "
                "listener rule, and the access rules forward to the first target group only, so after a release "
                "their paths would reach no task; use strategy: rolling for a service with access rules"
            )


class WebServiceArgs(ServiceSettings):
    """A service's settings plus its wiring: the environment it attaches to and its images. Only
    `environment`, `image` and `image_repository_arn` are required."""

    environment_ref: EnvironmentRef = Field(description="The environment the service attaches to (`Environment.ref`).")
    image: StrInput = Field(
        description="App image by digest (`registry/repo@sha256:...`), e.g. `Image.image_ref`, in the repository "
        "`image_repository_arn` names; by tag only when `image_tag_mutability` is `IMMUTABLE`. Checked at plan."
    )
    image_repository_arn: StrInput = Field(
        description="ECR repository ARN of `image`: the only repository the execution role may pull from."
    )
    image_tag_mutability: Optional[StrInput] = Field(
        None,
        description="The `image_tag_mutability` of `image_repository_arn`'s repository (e.g. "
        "`Image.repository.image_tag_mutability`); `IMMUTABLE` lets `image` name a tag. None: not known, so "
        "`image` must be by digest.",
    )
    image_facts: Optional[ImageFacts] = Field(
        None,
        description="What `image` declares and holds (`Image.facts`, or `ImageFacts.from_image_config(...)` for "
        "an image built elsewhere): its `HEALTHCHECK` becomes the container's health check, and a health check "
        "whose program the image does not hold is refused. None: not known here.",
    )
    proxy: Optional[ProxyConfig] = Field(None, description="The Nginx sidecar's settings (ingress='nginx' only).")
    proxy_image: Optional[StrInput] = Field(None, description="Proxy image by digest (ingress='nginx' only).")
    proxy_image_repository_arn: Optional[StrInput] = Field(
        None, description="ECR repository ARN of `proxy_image` (ingress='nginx' only)."
    )
    image_volumes: Optional[list[str]] = Field(
        None,
        description="The `VOLUME` paths `image` declares (`Image.volumes`); when given, every writable path must "
        "be one, since on Fargate an undeclared mount path is an empty root-owned 0755 directory. None: not known "
        "here (an image built elsewhere): declare them in its Dockerfile.",
    )
    proxy_image_volumes: Optional[list[str]] = Field(
        None, description="The `VOLUME` paths `proxy_image` declares (`Image.volumes`), checked the same way."
    )

    @model_validator(mode="after")
    def _wiring(self) -> "WebServiceArgs":
        self._check_proxy()
        self._check_environment_supports()
        self._check_volumes()
        self._check_health_check_source()
        return self

    def _check_health_check_source(self) -> None:
        """One source for the container's health check: the image's own, or an explicit one."""
        own = self.image_facts.health_check if self.image_facts is not None else None
        if own is not None and self.container_health_check is not None:
            assert self.image_facts is not None
            raise ValueError(
                f"container_health_check {self.container_health_check.command!r} and the image's own HEALTHCHECK "
                f"{own.command!r} ({self.image_facts.health_check_where}) both give the container's health check; "
                "remove container_health_check to use the image's, or change the HEALTHCHECK in the Dockerfile"
            )

    def app_health_check(self) -> Optional[ContainerHealthCheck]:
        """The app container's health check: the image's own HEALTHCHECK, else `container_health_check`,
        else None (the target group's health check alone decides)."""
        own = self.image_facts.health_check if self.image_facts is not None else None
        return own or self.container_health_check

    def _check_volumes(self) -> None:
        """Refuse a task volume a non-root container could not write to on Fargate."""
        findings: list[str] = []
        if self.image_volumes is not None and self.readonly_root_filesystem:
            findings += undeclared_volume_findings(APP_CONTAINER, self.writable_paths, self.image_volumes)
        findings += self.ingress_mode().volume_findings(self.proxy_image_volumes)
        if findings:
            raise ValueError("; ".join(findings))

    def _check_proxy(self) -> None:
        nginx_only = {
            "proxy": self.proxy,
            "proxy_image": self.proxy_image,
            "proxy_image_repository_arn": self.proxy_image_repository_arn,
        }
        mode = ingress_class(self.ingress)
        given = mode.misplaced(nginx_only)
        if given:
            raise ValueError(f"{', '.join(given)} apply only with ingress='nginx'; remove them or set ingress='nginx'")
        missing = mode.missing(nginx_only)
        if missing:
            raise ValueError(f"ingress='nginx' needs {', '.join(missing)}")
        ingress_mode(self.ingress, self.proxy).for_sidecar(self._check_sidecar)

    def _check_sidecar(self, proxy: ProxyConfig) -> None:
        """What the sidecar's settings must agree on with the rest of the service."""
        check_proxy_access(proxy)
        if proxy.listen_port == self.container_port:
            raise ValueError(
                f"proxy.listen_port and container_port are both {self.container_port}; the sidecar and the "
                "app share the task's network namespace, so give them different ports"
            )
        clash = sorted(set(self.secrets) & {PROXY_CERT_ENV, PROXY_KEY_ENV})
        if clash and proxy.certificate.secrets is not None:
            raise ValueError(
                f"secrets: {', '.join(clash)} is the name the sidecar's brought certificate uses "
                "(proxy.certificate.secrets); rename the app's secret, so each secret's KMS key tag names one secret"
            )
        upstream = proxy.upstream.port
        if upstream is not None and upstream != self.container_port:
            raise ValueError(
                f"proxy.upstream.port ({upstream}) differs from container_port ({self.container_port}); "
                "the proxy must forward to the app's port (leave upstream.port empty to follow container_port)"
            )
        if not proxy.trusted_proxy_cidrs and self.environment_ref.alb_subnet_cidrs is None:
            raise ValueError(
                "ingress='nginx' needs proxy.trusted_proxy_cidrs: the environment's load balancer subnets are not "
                "known to this program (an existing VPC without subnet CIDRs, or an environment in another stack), "
                "and only they may set X-Forwarded-For"
            )

    def _check_environment_supports(self) -> None:
        env = self.environment_ref
        problem = priority_range_problem(self.routing, app_stack=env.in_other_stack, test_rule=self.deployment.shifts_traffic)
        if problem is not None:
            raise ValueError(problem)
        if self.routing.authenticates() and (
            env.sign_in_egress is False or (env.sign_in_egress is None and not env.in_other_stack)
        ):
            raise ValueError(sign_in_egress_problem(env.name))
        if self.enable_execute_command and env.execute_command_log_group_arn is None:
            raise ValueError(
                f"enable_execute_command=True needs an environment configured for ECS Exec; environment {env.name!r} "
                "is not (set execute_command=True on the environment)"
            )
        if env.nat is False and env.interface_endpoints is not None:
            missing = [e for e in endpoints_needed(self) if e not in env.interface_endpoints]
            if missing:
                raise ValueError(
                    f"environment {env.name!r} has no NAT gateway and no {', '.join(missing)} endpoint, which this "
                    f"service needs ({'SSM parameters in secrets' if 'ssm' in missing else 'ECS Exec'}); add "
                    f"{', '.join(missing)} to the environment's extra_endpoints"
                )

    def ingress_mode(self) -> Ingress:
        """The service's ingress mode (`rampart.components.ingress`), with the sidecar's settings as deployed."""
        mode = ingress_mode(self.ingress, self.proxy, image=self.proxy_image, repository_arn=self.proxy_image_repository_arn)
        return mode.deployed(self.container_port, self.environment_ref.alb_subnet_cidrs, self.routing)

    def effective_proxy(self) -> Optional[ProxyConfig]:
        """The sidecar's settings as deployed: forwarding to the app's port, trusting X-Forwarded-For
        from the environment's ALB subnets unless the settings name other CIDRs (None: no sidecar)."""
        return self.ingress_mode().proxy


def sign_in_egress_problem(environment: str) -> str:
    """Why a route that signs users in cannot work on this environment, and the setting that fixes it."""
    return (
        "routing.access signs users in (oidc or cognito): after sign-in the load balancer itself calls the identity "
        "provider's token and user-info endpoints (or the Cognito domain) on TCP 443, and answers HTTP 500 when it "
        f"cannot; environment {environment!r} does not let its load balancer reach them. Turn on the environment's "
        "`load_balancer.sign_in_egress` (stack file of the environment: `rampart:environment.loadBalancer."
        "signInEgress: true`)"
    )


def _listener_for_sign_in(listener_arn: StrInput, environment: EnvironmentRef) -> pulumi.Output[str]:
    """The listener ARN, once the environment another stack exports says its load balancer may reach
    identity providers; its rules are never registered (the plan fails, naming the setting) when not."""

    def allowed(values: list[Any]) -> str:
        arn, egress = values
        if egress is not True:
            raise ValueError(sign_in_egress_problem(environment.name))
        return str(arn)

    return pulumi.Output.all(listener_arn, environment.sign_in_egress).apply(allowed)


def endpoints_needed(args: ServiceSettings) -> list[Literal["ssm", "ssmmessages", "kms"]]:
    """Interface endpoints the tasks need beyond the network's base set: `ssm` for SSM parameters in
    `secrets`, `ssmmessages` and `kms` for ECS Exec. Without them, a VPC with no NAT gateway leaves the
    task unable to start (secrets) or the session unable to open (Exec)."""
    needed: list[Literal["ssm", "ssmmessages", "kms"]] = []
    if any(isinstance(arn, str) and ":ssm:" in arn for arn in args.secrets.values()):
        needed.append("ssm")
    if args.enable_execute_command:
        needed.extend(["ssmmessages", "kms"])
    return needed


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
    secret_key_arns: list[Optional[StrInput]],
    region: pulumi.Output[str],
) -> pulumi.Output[str]:
    """Least privilege for the ECS agent: pull this image, write these log groups, read these secrets
    and decrypt each with its own key (`secret_key_arns[i]` encrypts `secret_arns[i]`; None: no key to
    grant, an SSM parameter without a customer-managed key)."""

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
        statements += decrypt_statements(
            [(_secret_resource(arn), key) for arn, key in zip(secrets, keys) if key is not None], region_name
        )
        return json.dumps({"Version": "2012-10-17", "Statement": statements})

    inputs: list[Any] = [*repository_arns, *log_group_arns, *secret_arns, *secret_key_arns, region]
    return pulumi.Output.all(*inputs).apply(build)


#: How each service that decrypts for the task names the secret in its KMS encryption context
#: (Secrets Manager and Parameter Store user guides, "How ... uses AWS KMS").
_DECRYPT_VIA = {
    "secretsmanager": ("DecryptSecrets", "secretsmanager", "kms:EncryptionContext:SecretARN"),
    "ssm": ("DecryptParameters", "ssm", "kms:EncryptionContext:PARAMETER_ARN"),
}


def decrypt_statements(pairs: list[tuple[str, str]], region: str) -> list[dict[str, Any]]:
    """One kms:Decrypt statement per (service, key): on that key only, only through that service in
    this region, and only for the secrets that key encrypts (the encryption context names them), so
    the policy itself says which key decrypts which secret."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for arn, key in pairs:
        service = "ssm" if ":ssm:" in arn else "secretsmanager"
        grouped.setdefault((service, key), []).append(arn)
    statements = []
    for index, ((service, key), arns) in enumerate(sorted(grouped.items()), start=1):
        sid, via, context = _DECRYPT_VIA[service]
        statements.append(
            {
                "Sid": f"{sid}WithKey{index}",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"{via}.{region}.amazonaws.com", context: sorted(set(arns))}
                },
            }
        )
    return statements


class WebService(pulumi.ComponentResource):
    """A hardened ECS Fargate service attached to an environment's load balancer by its own route."""

    url: pulumi.Output[str]
    service_name: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    log_group_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: WebServiceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        check_component_name(name)
        super().__init__("rampart:web_service:WebService", name, None, opts)
        self._name = name
        self._args = args
        self._env = args.environment_ref
        self._tags = merge_tags(args.tags)
        self._ctx = AwsContext(pulumi.InvokeOptions(parent=self))
        self.ingress = args.ingress_mode()  # the mode, worked out once: everything below asks it
        # refuses a route another service already claims
        self._env.attach_route(name, args.routing, test_rule=args.deployment.shifts_traffic)

        self._check_image_now()
        self.app_health_check = self._app_health_check()
        self.log_groups = self._log_groups()
        self.sidecar = self.ingress.add_sidecar(
            name, self.log_groups, self._ctx.region, self.app_health_check is not None, self._child()
        )
        target_container, target_port = self.ingress.target(args.container_port)
        self.route = self._route(target_port)
        self.security_group = self._security_group(target_container, target_port)
        execution_role, self.task_role = self._roles()
        self.task_definition = self._task_definition(execution_role)
        self._alarm_scope = AlarmScope(
            service=name, topic_arn=self._env.alarm_topic_arn, tags=self._tags, parent=self,
            alb_arn_suffix=self._env.alb_arn_suffix,
        )
        self.alarms = self._alarm_scope.alarms  # by suffix: the names deployments roll back on
        self._infrastructure_policies: list[aws.iam.RolePolicy] = []
        if args.alarms.enabled:
            self._target_group_alarms()  # before the service: its deployments roll back on them
        self.infrastructure_role = self._infrastructure_role() if args.deployment.shifts_traffic else None
        self.service = self._service(target_container, target_port)
        self._scaling()
        self.access_log_metrics_namespace = self._access_log_metrics()
        if args.alarms.enabled:
            self._alarms()
        self.dashboard = self._dashboard() if args.dashboard else None

        # --- outputs (no secrets) -----------------------------------------------------------
        self.url = self._url()
        self.service_name = self.service.name
        self.target_group_arn = self.route.target_group.arn
        self.log_group_names = {key: lg.name for key, lg in self.log_groups.items()}
        self.register_outputs(
            {
                "url": self.url,
                "service_name": self.service_name,
                "target_group_arn": self.target_group_arn,
                "log_group_names": self.log_group_names,
            }
        )

    # --- pieces, in the order the constructor uses them -------------------------------------
    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _check_image_now(self) -> None:
        """Refuse an image the tasks could not pull before anything is registered, when its values are
        known now (Outputs are checked where the container definition resolves them)."""
        args = self._args
        values = (args.image, args.image_repository_arn, args.image_tag_mutability)
        if all(v is None or isinstance(v, str) for v in values):
            check_pullable_image(args.image, args.image_repository_arn, args.image_tag_mutability,  # type: ignore[arg-type]
                                 where=f"WebService {self._name!r}")

    def _app_health_check(self) -> Optional[ContainerHealthCheck]:
        """The app container's health check, refused when its image certainly cannot run it."""
        check, facts = self._args.app_health_check(), self._args.image_facts
        if check is None or facts is None:
            return check
        missing = facts.missing_executable(check)
        if missing is not None:
            raise ValueError(
                f"WebService {self._name!r}: the container health check {check.command!r} runs {missing!r}, which "
                f"the image ({facts.source}) does not hold, so every task would be marked unhealthy and replaced; "
                "make the check run a program the final stage copies in (e.g. the server binary with a health "
                "flag), or copy that program into the final stage"
            )
        return check

    def _log_groups(self) -> dict[str, aws.cloudwatch.LogGroup]:
        """One encrypted log group per container, under the environment's prefix and retention. The
        service part carries the stack: services of two stacks on one environment may share a name."""
        containers = self.ingress.containers
        service_part = physical_name(self._name, 128)
        return {
            container: encrypted_log_group(
                f"{self._name}-{container}-logs",
                log_group_name=pulumi.Output.concat(self._env.log_group_prefix, f"/{service_part}/{container}"),
                kms_key_arn=self._env.kms_key_arn,
                retention_days=self._env.log_retention_days,
                tags=self._tags,
                parent=self,
            )
            for container in containers
        }

    def _stated_secret_keys(self) -> dict[str, StrInput]:
        """Variable name -> the KMS key of each secret this stack does not create: the app's
        (`secret_kms_key_arns`) and the sidecar's brought certificate's."""
        return {**self._args.secret_kms_key_arns, **self.ingress.secret_keys()}

    def _secret_keys(self) -> list[tuple[StrInput, Optional[StrInput]]]:
        """Every secret the task's containers read, with the key that encrypts it (None: an SSM
        parameter without a customer-managed key): what the execution role is granted."""
        keys = self._stated_secret_keys()
        pairs: list[tuple[StrInput, Optional[StrInput]]] = [
            (arn, keys.get(name)) for name, arn in self._args.secrets.items()
        ]
        pairs += [(arn, keys[name]) for name, arn in self.ingress.secret_arns().items()]
        return pairs

    def _route(self, target_port: int) -> ServiceRoute:
        return ServiceRoute(
            f"{self._name}-route",
            routing=self._args.routing,
            priority=effective_priority(self._name, self._args.routing),
            listener_arn=self._listener_arn(),
            vpc_id=self._env.vpc_id,
            port=target_port,
            protocol=self.ingress.protocol,
            health_check=self.ingress.target_health_check(self._args.health_check),
            deregistration_delay_seconds=self._args.deregistration_delay_seconds,
            tags=self._tags,
            test_route=TestRoute(TEST_TRAFFIC_HEADER, TEST_TRAFFIC_VALUE) if self._args.deployment.shifts_traffic else None,
            opts=self._child(),
        )

    def _listener_arn(self) -> StrInput:
        """The HTTPS listener the route attaches to; for a route that signs users in on another stack's
        environment, only once that environment says its load balancer may reach identity providers
        (this program's own environment was checked with the args)."""
        egress = self._env.sign_in_egress
        if not self._args.routing.authenticates() or egress is True:
            return self._env.https_listener_arn
        if isinstance(egress, pulumi.Output):
            return _listener_for_sign_in(self._env.https_listener_arn, self._env)
        raise ValueError(sign_in_egress_problem(self._env.name))

    def _security_group(self, target_container: str, target_port: int) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{self._name}-service-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=self._env.vpc_id,
                description=f"{self._name} tasks: only the ALB reaches the service port",
                tags={**self._tags, "Name": f"{self._name}-service"},
            ),
            opts=self._child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-service-in-alb",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=target_port,
                to_port=target_port,
                referenced_security_group_id=self._env.alb_security_group_id,
                description=f"From the ALB only, to the {target_container} container port {target_port}",
                tags=self._tags,
            ),
            opts=self._child(),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-service-out-https",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4="0.0.0.0/0",
                description="HTTPS to AWS APIs (ECR, CloudWatch Logs, Secrets Manager) and HTTPS services",
                tags=self._tags,
            ),
            opts=self._child(),
        )
        return group

    def _roles(self) -> tuple[aws.iam.Role, aws.iam.Role]:
        """The execution role (the ECS agent) and the task role (the app), never the same."""
        name, args = self._name, self._args
        execution_role = aws.iam.Role(
            f"{name}-execution-role",
            aws.iam.RoleArgs(
                assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
                description=f"{name}: ECS agent pulls the image, writes logs, reads named secrets",
                tags=self._tags,
            ),
            opts=self._child(),
        )
        repositories: list[StrInput] = [args.image_repository_arn, *self.ingress.repository_arns()]
        self._execution_policies = [
            aws.iam.RolePolicy(
                f"{name}-execution-policy",
                aws.iam.RolePolicyArgs(
                    role=execution_role.id,
                    policy=execution_role_policy(
                        repository_arns=repositories,
                        log_group_arns=[lg.arn for lg in self.log_groups.values()],
                        secret_arns=[arn for arn, _ in self._secret_keys()],
                        secret_key_arns=[key for _, key in self._secret_keys()],
                        region=self._ctx.region,
                    ),
                ),
                opts=self._child(),
            )
        ]
        task_role = aws.iam.Role(
            f"{name}-task-role",
            aws.iam.RoleArgs(
                assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
                description=f"{name}: the application's own AWS permissions (none by default)",
                tags=self._tags,
            ),
            opts=self._child(),
        )
        if args.enable_execute_command:
            self._exec_policy(task_role)
        return execution_role, task_role

    def _exec_policy(self, task_role: aws.iam.Role) -> None:
        log_group_arn = self._env.execute_command_log_group_arn
        assert log_group_arn is not None  # WebServiceArgs requires an environment configured for ECS Exec
        self._execution_policies.append(aws.iam.RolePolicy(
            f"{self._name}-task-exec-policy",
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
                            "Resource": pulumi.Output.concat(log_group_arn, ":*"),
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
                            "Resource": self._env.kms_key_arn,
                        },
                    ]
                ),
            ),
            opts=self._child(),
        ))

    def _task_definition(self, execution_role: aws.iam.Role) -> aws.ecs.TaskDefinition:
        args = self._args
        volumes: list[dict[str, Any]] = [{"name": _volume_name(path)} for path in args.writable_paths]
        volumes.extend(self.ingress.task_volumes())
        definitions: list[pulumi.Output[dict[str, Any]]] = [self._app_container(), *self.ingress.container_definitions()]
        container_definitions = pulumi.Output.all(*definitions).apply(lambda defs: json.dumps(list(defs)))
        return aws.ecs.TaskDefinition(
            f"{self._name}-task",
            aws.ecs.TaskDefinitionArgs(
                # The family is account-wide: two stacks (or environments) must not share one.
                family=physical_name(self._name, 255),
                cpu=str(args.cpu),
                memory=str(args.memory),
                network_mode="awsvpc",
                requires_compatibilities=["FARGATE"],
                runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                    operating_system_family="LINUX", cpu_architecture=args.cpu_architecture
                ),
                execution_role_arn=execution_role.arn,
                task_role_arn=self.task_role.arn,
                volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=v["name"]) for v in volumes],
                container_definitions=container_definitions,
                # Each secret's key stated where the pack's readiness policy reads it (the role's grant alone
                # cannot show which key encrypts which secret).
                tags={**self._tags, **{SECRET_KEY_TAG_PREFIX + name: key for name, key in self._stated_secret_keys().items()}},
            ),
            opts=self._child(),
        )

    def _app_container(self) -> pulumi.Output[dict[str, Any]]:
        args = self._args
        app_memory = args.memory - self.ingress.reserved_memory_mib
        environment = {"PORT": str(args.container_port), "HOST": self.ingress.app_host}
        environment.update(args.environment)
        health_check = self.app_health_check

        def definition(values: list[Any]) -> dict[str, Any]:
            image, repository_arn, mutability, log_group_name, region, *secret_arns = values
            # Here, where the values are known (also under the mock engine that plans), before ECS sees them.
            check_pullable_image(image, repository_arn, mutability, where=f"WebService {self._name!r}")
            container = {
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
                "secrets": [{"name": k, "valueFrom": arn} for k, arn in zip(args.secrets.keys(), secret_arns)],
                "mountPoints": [
                    {"sourceVolume": _volume_name(path), "containerPath": path, "readOnly": False}
                    for path in args.writable_paths
                ],
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
            if health_check is not None:
                container["healthCheck"] = health_check.ecs()
            return container

        return pulumi.Output.all(
            args.image,
            args.image_repository_arn,
            args.image_tag_mutability,
            self.log_groups[APP_CONTAINER].name,
            self._ctx.region,
            *args.secrets.values(),
        ).apply(definition)

    def _service(self, target_container: str, target_port: int) -> aws.ecs.Service:
        args = self._args
        # `pulumi up` waits for the whole deployment: the tasks becoming healthy, then the traffic shifts and
        # the bake time, during which a rollback alarm still fails it.
        timeout = f"{args.steady_state_timeout_minutes + args.deployment.longest_minutes()}m"
        return aws.ecs.Service(
            f"{self._name}-service",
            aws.ecs.ServiceArgs(
                cluster=self._env.cluster_arn,
                task_definition=self.task_definition.arn,
                desired_count=args.desired_count,
                launch_type="FARGATE",
                platform_version="LATEST",
                network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                    subnets=self._env.private_subnet_ids,
                    security_groups=[self.security_group.id],
                    assign_public_ip=False,
                ),
                load_balancers=[
                    aws.ecs.ServiceLoadBalancerArgs(
                        target_group_arn=self.route.target_group.arn,
                        container_name=target_container,
                        container_port=target_port,
                        advanced_configuration=self._advanced_configuration(),
                    )
                ],
                # Kept in every strategy: ECS's failure detection (circuit breaker and alarms) supports rolling
                # and blue/green deployments, and either one fails the deployment.
                deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
                deployment_configuration=self._deployment_configuration(),
                alarms=self._deployment_alarms(),
                deployment_minimum_healthy_percent=100,
                deployment_maximum_percent=200,
                health_check_grace_period_seconds=args.health_check_grace_period_seconds,
                # `pulumi up` fails when the tasks never become healthy, the circuit breaker or a rollback
                # alarm rolls the deployment back, instead of reporting success for the old release (the
                # provider checks the deployment's state, not only the task count: docs/components.md).
                wait_for_steady_state=True,
                # Ctrl-C during `pulumi up` stops the deployment and rolls it back (StopServiceDeployment)
                # instead of leaving a half-shifted release behind.
                sigint_rollback=True,
                enable_execute_command=args.enable_execute_command,
                enable_ecs_managed_tags=True,
                propagate_tags="SERVICE",
                tags=self._tags,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The target group must be on the listener before ECS registers targets in it, and the
                # roles' policies must exist before the first task pulls its image, reads its secrets
                # or opens an ECS Exec session. (The environment's routes and endpoints come first
                # too: a program that creates both passes the environment in `depends_on`.)
                depends_on=[self.route.listener_rule, *self._execution_policies, *self._infrastructure_policies],
                # Autoscaling owns the running count after the first deployment.
                ignore_changes=["desiredCount"],
                custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
            ),
        )

    def _deployment_configuration(self) -> Optional[aws.ecs.ServiceDeploymentConfigurationArgs]:
        """ECS's `deploymentConfiguration`: the strategy, bake time and canary or linear steps (None for
        rolling, ECS's default, so a rolling service plans as before)."""
        deployment = self._args.deployment
        if not deployment.shifts_traffic:
            return None
        canary = linear = None
        if deployment.strategy == "canary":
            c = deployment.canary_or_default()
            canary = aws.ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
                canary_percent=c.percent, canary_bake_time_in_minutes=str(c.interval_minutes)
            )
        if deployment.strategy == "linear":
            step = deployment.linear_or_default()
            linear = aws.ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
                step_percent=step.step_percent, step_bake_time_in_minutes=str(step.interval_minutes)
            )
        return aws.ecs.ServiceDeploymentConfigurationArgs(
            strategy=deployment.ecs_strategy(),
            # pulumi-aws 7 types the minutes as a string
            bake_time_in_minutes=str(deployment.bake_time_minutes),
            canary_configuration=canary,
            linear_configuration=linear,
        )

    def _rollback_alarm_names(self) -> list[pulumi.Output[str]]:
        """The names of the alarms that roll a deployment back: each chosen alarm, and its twin on the
        alternate target group (the new tasks of every other release serve from there)."""
        suffixes = self._args.deployment.rollback_alarm_suffixes(self._args.alarms.enabled)
        names = []
        for suffix in suffixes:
            for key in (suffix, f"{suffix}{ALTERNATE_ALARM}"):
                if key in self.alarms:
                    names.append(self.alarms[key].name)
        return names

    def _deployment_alarms(self) -> Optional[aws.ecs.ServiceAlarmsArgs]:
        names = self._rollback_alarm_names()
        if not names:
            return None
        return aws.ecs.ServiceAlarmsArgs(alarm_names=names, enable=True, rollback=True)

    def _advanced_configuration(self) -> Optional[aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs]:
        """What ECS moves traffic with: the alternate target group, the production and test listener rules
        and the role ECS acts with (strategies that shift traffic only)."""
        route, role = self.route, self.infrastructure_role
        if route.alternate_target_group is None or route.test_listener_rule is None or role is None:
            return None
        return aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
            alternate_target_group_arn=route.alternate_target_group.arn,
            production_listener_rule=route.listener_rule.arn,
            test_listener_rule=route.test_listener_rule.arn,
            role_arn=role.arn,
        )

    def _infrastructure_role(self) -> aws.iam.Role:
        """The role ECS assumes to move traffic: register and deregister targets in this service's two
        target groups and rewrite the weights of its production and test rules on the environment's
        listener, nothing else (the managed AmazonECSInfrastructureRolePolicyForLoadBalancers allows every
        target group and listener of the account)."""
        route = self.route
        assert route.alternate_target_group is not None and route.test_listener_rule is not None
        role = aws.iam.Role(
            f"{self._name}-ecs-infrastructure-role",
            aws.iam.RoleArgs(
                assume_role_policy=assume_role_policy("ecs.amazonaws.com"),
                description=f"{self._name}: ECS moves traffic between the service's target groups during a deployment",
                tags=self._tags,
            ),
            opts=self._child(),
        )
        self._infrastructure_policies = [
            aws.iam.RolePolicy(
                f"{self._name}-ecs-infrastructure-policy",
                aws.iam.RolePolicyArgs(
                    role=role.id,
                    policy=policy_json(
                        [
                            {
                                # Describe* have no resource-level permissions.
                                "Sid": "ReadLoadBalancing",
                                "Effect": "Allow",
                                "Action": [
                                    "elasticloadbalancing:DescribeListeners",
                                    "elasticloadbalancing:DescribeRules",
                                    "elasticloadbalancing:DescribeTargetGroups",
                                    "elasticloadbalancing:DescribeTargetHealth",
                                ],
                                "Resource": "*",
                            },
                            {
                                "Sid": "RegisterInTheseTargetGroups",
                                "Effect": "Allow",
                                "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                                "Resource": [route.target_group.arn, route.alternate_target_group.arn],
                            },
                            {
                                "Sid": "ShiftTheseRules",
                                "Effect": "Allow",
                                "Action": "elasticloadbalancing:ModifyRule",
                                "Resource": [route.listener_rule.arn, route.test_listener_rule.arn],
                            },
                        ]
                    ),
                ),
                opts=self._child(),
            )
        ]
        return role

    def _scaling(self) -> None:
        args = self._args
        resource_id = pulumi.Output.concat("service/", self._env.cluster_name, "/", self.service.name)
        scaling_target = aws.appautoscaling.Target(
            f"{self._name}-scaling-target",
            aws.appautoscaling.TargetArgs(
                service_namespace="ecs",
                scalable_dimension="ecs:service:DesiredCount",
                resource_id=resource_id,
                min_capacity=args.min_count,
                max_capacity=args.max_count,
                tags=self._tags,
            ),
            opts=self._child(),
        )
        scaling = [
            ("cpu", "ECSServiceAverageCPUUtilization", float(args.cpu_target_percent), None),
            (
                "requests",
                "ALBRequestCountPerTarget",
                float(args.requests_per_target),
                pulumi.Output.concat(self._env.alb_arn_suffix, "/", self.route.target_group.arn_suffix),
            ),
        ]
        for suffix, metric, target, label in scaling:
            aws.appautoscaling.Policy(
                f"{self._name}-scale-{suffix}",
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
                opts=self._child(),
            )

    def _access_log_metrics(self) -> Optional[str]:
        """Metric filters on the sidecar's JSON access log (nginx ingress only: in alb mode there is no
        access log of the service's own, and its metrics are the load balancer's). Returns the namespace."""
        return self.ingress.access_log_metrics(self._name, self.log_groups, self)

    def _dashboard(self) -> aws.cloudwatch.Dashboard:
        """The service's own CloudWatch dashboard, when asked for (`dashboard`; layout:
        rampart/components/observability.py)."""
        metrics = ServiceMetrics(
            alb_arn_suffix=self._env.alb_arn_suffix,
            target_group_arn_suffix=self.route.target_group.arn_suffix,
            cluster_name=self._env.cluster_name,
            service_name=self.service.name,
            region=self._ctx.region,
            access_log_namespace=self.access_log_metrics_namespace,
            web_acl_metric_name=self._env.web_acl_metric_name,
        )
        # "-service": an environment and a service may share a name, and the environment has a dashboard too
        return dashboard(f"{self._name}-dashboard", f"{self._name}-service", service_dashboard_body(metrics), self)

    def _target_group_alarms(self) -> None:
        """Failing traffic on the service's target groups (the alternate too, where every other release
        serves), before the service: its deployments roll back on them."""
        groups = [TargetGroupWatch("", self.route.target_group.arn_suffix)]
        if self.route.alternate_target_group is not None:
            groups.append(TargetGroupWatch(ALTERNATE_ALARM, self.route.alternate_target_group.arn_suffix))
        target_group_alarms(self._alarm_scope, self._args.alarms, groups)

    def _alarms(self) -> None:
        """The tasks' alarms and the sidecar's (rampart/components/service_alarms.py)."""
        task_alarms(
            self._alarm_scope,
            self._args.alarms,
            {"ClusterName": self._env.cluster_name, "ServiceName": self.service.name},
            self.access_log_metrics_namespace,
        )

    def _url(self) -> pulumi.Output[str]:
        """Where the service answers: its first host (or the environment's URL) and its first path."""
        routing = self._args.routing
        path = routing.path_patterns()[0].rstrip("*") if routing.path_patterns() else "/"
        host = next((h for h in routing.hosts if "*" not in h and "?" not in h), None)
        base = pulumi.Output.from_input(f"https://{host}") if host else pulumi.Output.from_input(self._env.url)
        return base.apply(lambda b: b.rstrip("/") + (path if path.startswith("/") else "/" + path))


def _volume_name(path: str) -> str:
    """Task volume name for a writable path: `writable-tmp`, `writable-var-cache`, ..."""
    return "writable" + re.sub(r"[^A-Za-z0-9]+", "-", path).rstrip("-")
