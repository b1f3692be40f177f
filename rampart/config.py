"""The stack configuration model: what `stacks/Pulumi.<stack>.yaml` may say, typed and validated.

A stack file holds one object per top-level key (`rampart:service`, `rampart:ingress`, ...) plus
`aws:region`. Loading validates the whole file before the program registers any resource; an
error names the key as written in the stack file (`rampart:service.cpu`), the bad value and what
is allowed.

The same model is read two ways: from the stack file on disk (`load_stack_config`, used by the
offline `rampart` commands) and from the Pulumi engine's config (`from_pulumi_config`, used by
`__main__.py` under `pulumi up` and under the mock engine).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from components.load_balancer import DEFAULT_TLS_POLICY, HealthCheckSettings, TlsPolicy
from components.monitoring import ALLOWED_RETENTION_DAYS as LOG_RETENTION_DAYS
from components.proxy_config import ProxyConfig
from components.waf import DEFAULT_MANAGED_RULE_GROUPS, WafSettings
from components.network import check_vpc_cidr
from components.image import check_build_args
from components.web_service import FARGATE_MEMORY, WebServiceArgs, check_environment, check_secret_refs
from rampart.errors import UserError


NAMESPACE = "rampart"
REGION_KEY = "aws:region"

AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$")
ECR_IMAGE_BY_DIGEST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[a-z0-9._/-]+)@sha256:[a-f0-9]{64}$")
POLICY_ID = re.compile(r"^aws-[a-z0-9-]+$|^docker-[a-z0-9-]+$")
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")


class Model(BaseModel):
    """Base for every config section: unknown keys are errors, keys are camelCase in the file."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        validate_default=True,
    )


# The service's defaults are the component's: a stack that omits a key gets what an app team gets.
_SERVICE_DEFAULTS: dict[str, Any] = {
    name: WebServiceArgs.model_fields[name].default
    for name in ("container_port", "desired_count", "min_count", "max_count", "cpu", "memory", "cpu_target_percent", "requests_per_target", "steady_state_timeout_minutes")
}


class ServiceConfig(Model):
    """The containerised application and how many copies of it run."""

    name: Annotated[str, Field(description="Service name: lower-case DNS label, 1-32 characters; prefixes every resource name.")]
    container_port: Annotated[int, Field(ge=1024, le=65535, description="Port the application listens on inside the task (unprivileged, 1024-65535).")] = _SERVICE_DEFAULTS["container_port"]
    cpu: Annotated[Literal[256, 512, 1024, 2048, 4096, 8192, 16384], Field(description="Fargate task CPU units.")] = _SERVICE_DEFAULTS["cpu"]
    memory: Annotated[int, Field(description="Fargate task memory in MiB; must be a size Fargate offers for the chosen cpu.")] = _SERVICE_DEFAULTS["memory"]
    desired_count: Annotated[int, Field(ge=0, le=1000, description="Tasks to run after a deployment.")] = _SERVICE_DEFAULTS["desired_count"]
    min_count: Annotated[int, Field(ge=0, le=1000, description="Autoscaling lower bound.")] = _SERVICE_DEFAULTS["min_count"]
    max_count: Annotated[int, Field(ge=1, le=1000, description="Autoscaling upper bound.")] = _SERVICE_DEFAULTS["max_count"]
    cpu_target_percent: Annotated[int, Field(ge=10, le=90, description="Target average CPU utilisation for autoscaling.")] = _SERVICE_DEFAULTS["cpu_target_percent"]
    requests_per_target: Annotated[int, Field(ge=1, le=100000, description="Target ALB requests per task per minute for autoscaling.")] = _SERVICE_DEFAULTS["requests_per_target"]
    environment: Annotated[dict[str, str], Field(description="Plain, non-secret environment variables for the app container. Secret-looking names are refused: use `secrets`.")] = {}
    secrets: Annotated[dict[str, str], Field(description="Environment variable name -> Secrets Manager secret or SSM parameter ARN, injected by ECS at start.")] = {}
    secret_kms_key_arns: Annotated[list[str], Field(description="Customer-managed KMS keys that encrypt the `secrets` (the execution role may decrypt with them).")] = []
    enable_execute_command: Annotated[bool, Field(description="Allow ECS Exec into running tasks (sessions are logged and encrypted when on). Refused: its agent needs a writable root filesystem, which the service never gets.")] = False
    steady_state_timeout_minutes: Annotated[int, Field(ge=5, le=180, description="Minutes `pulumi up` waits for the service to reach a steady state; a deployment the circuit breaker rolls back fails the update.")] = _SERVICE_DEFAULTS["steady_state_timeout_minutes"]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not DNS_LABEL.match(v):
            raise ValueError("must be a lower-case DNS label: letters, digits and '-', starting with a letter, at most 32 characters")
        return v

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: dict[str, str]) -> dict[str, str]:
        return check_environment(v)

    @field_validator("enable_execute_command")
    @classmethod
    def _exec(cls, v: bool) -> bool:
        if v:
            raise ValueError(
                "ECS Exec cannot work here: its agent writes to the container's root filesystem, which is "
                "read-only in every Rampart stack. Remove enableExecuteCommand, or compose WebService yourself with readonly_root_filesystem=False and a waiver"
            )
        return v

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, v: dict[str, str]) -> dict[str, str]:
        return check_secret_refs(v)

    @model_validator(mode="after")
    def _sizes(self) -> ServiceConfig:
        allowed = FARGATE_MEMORY[self.cpu]
        if self.memory not in allowed:
            raise ValueError(
                f"memory {self.memory} is not offered with cpu {self.cpu}; allowed: {_ranges(allowed)}"
            )
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError(
                f"task counts must satisfy minCount <= desiredCount <= maxCount; got {self.min_count} <= {self.desired_count} <= {self.max_count}"
            )
        return self


class BuildConfig(Model):
    """Build the application image from a Dockerfile in this repository."""

    context: Annotated[str, Field(description="Build context directory, relative to the project directory.")] = "app"
    dockerfile: Annotated[str, Field(description="Dockerfile path, relative to the context.")] = "Dockerfile"
    target: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Stage of a multi-stage Dockerfile to build.")] = "runtime"
    args: Annotated[dict[str, str], Field(description="Build arguments (non-secret; they are recorded in the image history).")] = {}

    @field_validator("context", "dockerfile")
    @classmethod
    def _relative(cls, v: str) -> str:
        if v.startswith("/") or ".." in Path(v).parts:
            raise ValueError(f"{v!r} must be a path inside the project directory (relative, no '..')")
        return v

    @field_validator("args")
    @classmethod
    def _args(cls, v: dict[str, str]) -> dict[str, str]:
        return check_build_args(v)


class ImageConfig(Model):
    """Where the application image comes from: built here, or an existing image pinned by digest."""

    build: Annotated[BuildConfig | None, Field(description="Build from a Dockerfile into a new ECR repository.")] = None
    uri: Annotated[str | None, Field(description="An existing ECR image, referenced by digest (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>`); tasks may pull only from that repository.")] = None
    keep_images: Annotated[int, Field(ge=1, le=1000, description="Tagged images the repository lifecycle policy keeps.")] = 30
    untagged_expiry_days: Annotated[int, Field(ge=1, le=365, description="Days after which untagged images are expired.")] = 7

    @field_validator("uri")
    @classmethod
    def _uri(cls, v: str | None) -> str | None:
        if v is not None and not ECR_IMAGE_BY_DIGEST.match(v):
            raise ValueError(
                f"{v!r} must be an ECR image referenced by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits> "
                "(the task's execution role may pull only from that ECR repository)"
            )
        return v

    def repository_arn(self) -> str:
        """The ECR repository ARN of `uri`."""
        match = ECR_IMAGE_BY_DIGEST.match(self.uri or "")
        assert match, "repository_arn() is only meaningful for a validated `uri`"
        partition = "aws-cn" if ".amazonaws.com.cn/" in match.group(0) else "aws"
        return f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"

    @model_validator(mode="after")
    def _one_source(self) -> ImageConfig:
        if (self.build is None) == (self.uri is None):
            raise ValueError("give either `build` or `uri`, not both and not neither")
        return self


class HealthCheckConfig(HealthCheckSettings):
    """Target group health check: the load balancer component's own settings, camelCase in the file."""

    model_config = Model.model_config


class IngressConfig(Model):
    """How requests reach the service: ALB with TLS, then the app directly or through the Nginx sidecar."""

    mode: Annotated[Literal["nginx", "alb"], Field(description="`nginx`: ALB -> Nginx sidecar (TLS) -> app; `alb`: ALB -> app.")] = "nginx"
    domain: Annotated[str | None, Field(description="DNS name to serve; an ACM certificate is created and validated in `hostedZoneId`.")] = None
    hosted_zone_id: Annotated[str | None, Field(pattern=r"^Z[A-Z0-9]{1,32}$", description="Route 53 hosted zone for `domain` (certificate validation and alias record).")] = None
    certificate_arn: Annotated[str | None, Field(description="An existing ACM certificate ARN, instead of `domain`.")] = None
    tls_policy: Annotated[TlsPolicy, Field(description="ALB TLS security policy; TLS 1.2+ policies only.")] = DEFAULT_TLS_POLICY
    deletion_protection: Annotated[bool, Field(description="Refuse to delete the load balancer until this is turned off.")] = True
    desync_mitigation: Annotated[Literal["defensive", "strictest"], Field(description="ALB HTTP desync mitigation mode.")] = "defensive"
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=4000, description="ALB idle connection timeout.")] = 60
    access_log_expiry_days: Annotated[int, Field(ge=1, le=3653, description="Days the ALB access logs are kept in S3.")] = 365
    deregistration_delay_seconds: Annotated[int, Field(ge=0, le=3600, description="Connection draining time for deregistering targets.")] = 30
    health_check: Annotated[HealthCheckConfig, Field(description="Target group health check.")] = HealthCheckConfig()

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is not None and not DOMAIN.match(v):
            raise ValueError(f"{v!r} is not a lower-case DNS name such as app.example.com")
        return v

    @field_validator("certificate_arn")
    @classmethod
    def _cert(cls, v: str | None) -> str | None:
        if v is not None and not (ARN.match(v) and ":acm:" in v):
            raise ValueError(f"{v!r} is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)")
        return v

    @model_validator(mode="after")
    def _certificate(self) -> IngressConfig:
        if (self.domain is None) == (self.certificate_arn is None):
            raise ValueError("HTTPS needs a certificate: give either `domain` (with `hostedZoneId`) or `certificateArn`, not both")
        if self.domain is not None and self.hosted_zone_id is None:
            raise ValueError("`domain` needs `hostedZoneId`, the Route 53 zone where the certificate is validated")
        return self


class WafConfig(Model):
    """WAFv2 web ACL in front of the ALB."""

    rate_limit: Annotated[int, Field(ge=100, le=2_000_000_000, description="Requests per client IP per 5-minute window before WAF answers 429.")] = WafSettings.model_fields["rate_limit"].default
    managed_rule_groups: Annotated[list[str], Field(min_length=1, description="AWS managed rule groups to apply, in priority order.")] = list(DEFAULT_MANAGED_RULE_GROUPS)
    count_only_rules: Annotated[dict[str, list[str]], Field(description="Rule group -> rule names to set to COUNT instead of BLOCK (documented exceptions).")] = {}

    @model_validator(mode="after")
    def _component_rules(self) -> WafConfig:
        # The web ACL component's own rules (group names, duplicates, overrides), reported here.
        try:
            self.settings()
        except ValidationError as e:
            raise ValueError("; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors())) from None
        return self

    def settings(self, tags: dict[str, str] | None = None) -> WafSettings:
        """The web ACL component's settings for this section."""
        return WafSettings(
            rate_limit=self.rate_limit,
            managed_rule_groups=list(self.managed_rule_groups),
            count_only_rules={group: list(rules) for group, rules in self.count_only_rules.items()},
            tags=tags or {},
        )


class Subnet(Model):
    """An existing subnet and the availability zone it lives in."""

    id: Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$", description="Subnet ID.")]
    availability_zone: Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$", description="Its availability zone, e.g. us-east-1a.")]


class NetworkConfig(Model):
    """Create a VPC, or use an existing one."""

    mode: Annotated[Literal["create", "existing"], Field(description="`create` a VPC, or use an `existing` one.")] = "create"
    cidr: Annotated[str, Field(description="CIDR of a created VPC (/16 to /24).")] = "10.0.0.0/16"
    az_count: Annotated[int, Field(ge=2, le=6, description="Availability zones a created VPC spans.")] = 2
    nat_gateways: Annotated[Literal["none", "single", "perAz"], Field(description="NAT gateways for private subnets; `none` relies on VPC endpoints only.")] = "single"
    vpc_id: Annotated[str | None, Field(pattern=r"^vpc-[0-9a-f]{8,17}$", description="Existing VPC ID (existing mode).")] = None
    public_subnets: Annotated[list[Subnet], Field(description="Existing public subnets for the ALB (existing mode).")] = []
    private_subnets: Annotated[list[Subnet], Field(description="Existing private subnets for the tasks (existing mode).")] = []
    flow_log_retention_days: Annotated[int | None, Field(description="Retention of VPC flow logs; defaults to logging.retentionDays.")] = None

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return check_vpc_cidr(v)

    @model_validator(mode="after")
    def _mode(self) -> NetworkConfig:
        if self.mode == "existing":
            if self.vpc_id is None:
                raise ValueError("existing network mode needs `vpcId`")
            for field_name, subnets in (("publicSubnets", self.public_subnets), ("privateSubnets", self.private_subnets)):
                zones = {s.availability_zone for s in subnets}
                if len(zones) < 2:
                    raise ValueError(f"existing network mode needs `{field_name}` in at least two availability zones; got {sorted(zones) or 'none'}")
        elif self.vpc_id or self.public_subnets or self.private_subnets:
            raise ValueError("`vpcId`, `publicSubnets` and `privateSubnets` apply only with mode: existing; remove them or set mode: existing")
        return self


class LoggingConfig(Model):
    """CloudWatch Logs and alarms."""

    retention_days: Annotated[int, Field(description="Days log groups keep events.")] = 365
    alarm_email: Annotated[str | None, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", description="Address subscribed to the alarm topic (confirmation needed).")] = None

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if v not in LOG_RETENTION_DAYS:
            raise ValueError(f"{v} is not a CloudWatch Logs retention period; allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return v


class TagsConfig(Model):
    """Tags on every taggable resource."""

    owner: Annotated[str, Field(description="Team or person accountable for the service.")]
    environment: Annotated[str, Field(description="Environment name, e.g. dev or prod.")]
    data_classification: Annotated[Literal["public", "internal", "confidential", "restricted"], Field(description="Highest classification of data the service handles.")]
    extra: Annotated[dict[str, str], Field(description="Further tags.")] = {}

    @model_validator(mode="after")
    def _values(self) -> TagsConfig:
        for key, value in {"owner": self.owner, "environment": self.environment, **self.extra}.items():
            if not TAG_VALUE.match(value) or not TAG_VALUE.match(key):
                raise ValueError(f"tag {key}={value!r} has characters AWS tags do not allow")
        return self

    def as_dict(self) -> dict[str, str]:
        return {
            "Owner": self.owner,
            "Environment": self.environment,
            "DataClassification": self.data_classification,
            "ManagedBy": "pulumi-rampart",
            **self.extra,
        }


class Waiver(Model):
    """A documented exception to one policy for one resource."""

    policy: Annotated[str, Field(description="Policy ID, e.g. aws-lb-loadbalancer-enable-deletion-protection.")]
    resource: Annotated[str, Field(min_length=1, description="Resource URN or logical name the waiver covers.")]
    reason: Annotated[str, Field(min_length=10, description="Why the exception is acceptable (shown in the evidence report).")]
    expires: Annotated[date, Field(description="Date (YYYY-MM-DD) after which the waiver no longer applies.")]

    @field_validator("policy")
    @classmethod
    def _policy(cls, v: str) -> str:
        if not POLICY_ID.match(v):
            raise ValueError(f"{v!r} is not a policy ID (see POLICIES.md)")
        return v


class PolicySettings(Model):
    """How the SOC 2 policy pack treats this stack."""

    enforcement: Annotated[dict[str, Literal["advisory", "mandatory", "disabled"]], Field(description="Policy ID -> enforcement level override.")] = {}
    waivers: Annotated[list[Waiver], Field(description="Documented exceptions.")] = []
    min_task_count: Annotated[int | None, Field(ge=1, le=100, description="Fewest tasks a service may run; unset: 2 on stacks named prod or production, otherwise not checked.")] = None
    min_log_retention_days: Annotated[int | None, Field(ge=1, le=3653, description="Shortest log retention the pack accepts; unset: 365.")] = None
    allowed_tls_policies: Annotated[list[str] | None, Field(description="ELB security policies HTTPS listeners may use; unset: the pack's TLS 1.2+ list.")] = None
    rate_limit_min: Annotated[int | None, Field(ge=10, description="Lowest WAF rate-based limit accepted; unset: the pack's default (100).")] = None
    rate_limit_max: Annotated[int | None, Field(ge=10, description="Highest WAF rate-based limit accepted; unset: the pack's default.")] = None
    required_managed_rule_groups: Annotated[list[str] | None, Field(description="AWS managed rule groups every web ACL must use; unset: Common and KnownBadInputs.")] = None
    min_fargate_platform_version: Annotated[str | None, Field(pattern=r"^\d+\.\d+\.\d+$", description="Oldest pinned Fargate platform version accepted; unset: 1.4.0.")] = None

    @field_validator("enforcement")
    @classmethod
    def _ids(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not POLICY_ID.match(key):
                raise ValueError(f"{key!r} is not a policy ID (see POLICIES.md)")
        return v


class StackConfig(Model):
    """Everything one stack file configures."""

    region: Annotated[str, Field(alias=REGION_KEY, description="AWS region to deploy into (the `aws:region` key).")]
    service: Annotated[ServiceConfig, Field(description="The application service.")]
    image: Annotated[ImageConfig, Field(description="Where the application image comes from.")]
    ingress: Annotated[IngressConfig, Field(description="Load balancer, TLS and the request path.")]
    waf: Annotated[WafConfig, Field(description="WAFv2 rate limits and managed rules.")] = WafConfig()
    network: Annotated[NetworkConfig, Field(description="VPC and subnets.")] = NetworkConfig()
    logging: Annotated[LoggingConfig, Field(description="Log retention and alarms.")] = LoggingConfig()
    proxy: Annotated[ProxyConfig, Field(description="The Nginx sidecar (ingress mode `nginx`); see docs/proxy.md.")] = ProxyConfig()
    tags: Annotated[TagsConfig, Field(description="Tags on every taggable resource.")]
    policy: Annotated[PolicySettings, Field(description="SOC 2 policy pack settings for this stack.")] = PolicySettings()

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not AWS_REGION.match(v):
            raise ValueError(f"{v!r} is not an AWS region name such as us-east-1")
        return v

    @model_validator(mode="after")
    def _cross(self) -> StackConfig:
        if self.ingress.mode == "nginx" and self.network.mode == "existing" and not self.proxy.trusted_proxy_cidrs:
            raise ValueError(
                "ingress mode nginx in an existing VPC needs rampart:proxy.trustedProxyCidrs: the CIDRs of the "
                "load balancer's subnets, whose X-Forwarded-For the sidecar may believe"
            )
        return self


# The keys a stack file may hold, as written there.
STACK_KEYS: dict[str, str] = {
    (REGION_KEY if name == "region" else f"{NAMESPACE}:{field.alias or name}"): name
    for name, field in StackConfig.model_fields.items()
}


class ConfigError(UserError):
    """A stack file that does not validate; the message is ready to show a user."""


def _ranges(values: tuple[int, ...]) -> str:
    if len(values) <= 3:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]}-{values[-1]} in steps of {step}"


def _key_path(loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into the key as written in the stack file."""
    if not loc:
        return "(stack file)"
    head, *rest = loc
    if head == REGION_KEY or head == "region":
        key = REGION_KEY
    else:
        field = StackConfig.model_fields.get(str(head))
        key = f"{NAMESPACE}:{field.alias if field and field.alias else head}" if field or ":" not in str(head) else str(head)
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _section_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model at `loc` (the parent of an unknown key) accepts, as written in the file."""
    model: type[BaseModel] | None = StackConfig
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        model = _model_in(field.annotation) if field else None
    return [f.alias or n for n, f in model.model_fields.items()] if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    key = _key_path(loc)
    msg = str(error["msg"]).removeprefix("Value error, ")
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        known = _section_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        return f"{key}: unknown key.{hint} Allowed here: {', '.join(known)}."
    if kind == "missing":
        return f"{key}: required, but not set."
    if isinstance(value, dict):
        return f"{key}: {msg}."
    shown = json.dumps(value, default=str)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{key}: {shown} is not valid: {msg}."


def validate_stack_config(values: Mapping[str, Any], source: str) -> StackConfig:
    """Validate a mapping of stack-file keys (`rampart:service`, `aws:region`, ...) into a StackConfig."""
    data: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in values.items():
        if key.startswith(f"{NAMESPACE}:") or key == REGION_KEY:
            if key not in STACK_KEYS:
                close = difflib.get_close_matches(key, STACK_KEYS, n=1)
                hint = f" Did you mean `{close[0]}`?" if close else ""
                problems.append(f"{key}: unknown key.{hint} Known keys: {', '.join(sorted(STACK_KEYS))}.")
                continue
            data[key if key == REGION_KEY else key.split(":", 1)[1]] = value
        # Other namespaces (aws:profile, pulumi:tags, ...) belong to providers or the CLI.
    if not problems:
        try:
            return StackConfig.model_validate(data)
        except ValidationError as e:
            problems.extend(_describe(err) for err in e.errors())
    lines = "\n".join(f"  - {p}" for p in problems)
    raise ConfigError(f"{source} is not a valid Rampart stack configuration:\n{lines}")


def stack_file(project_dir: Path, stack: str) -> Path:
    """The stack file for `stack`, honouring the project's `stackConfigDir`."""
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        raise ConfigError(f"{project_dir} has no Pulumi.yaml; run from a Pulumi project directory or pass -C DIR")
    project = yaml.safe_load(project_file.read_text()) or {}
    config_dir = project_dir / str(project.get("stackConfigDir", "."))
    path = config_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        available = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in config_dir.glob("Pulumi.*.yaml"))
        raise ConfigError(f"unknown stack {stack!r}: {path.relative_to(project_dir)} does not exist. Stacks here: {', '.join(available) or 'none'}")
    return path


def read_stack_values(project_dir: Path, stack: str) -> tuple[Path, dict[str, Any]]:
    """The raw `config:` mapping of a stack file."""
    path = stack_file(project_dir, stack)
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path.name} is not valid YAML: {e}") from None
    config = doc.get("config", {}) if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise ConfigError(f"{path.name}: `config` must be a mapping of keys to values")
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value and len(value) == 1:
            raise ConfigError(f"{path.name}: {key} is an encrypted `secure:` value; Rampart takes secrets only as Secrets Manager/SSM ARNs in rampart:service.secrets")
    return path, config


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    """Read and validate `stacks/Pulumi.<stack>.yaml` (or wherever stackConfigDir points)."""
    path, values = read_stack_values(project_dir, stack)
    return validate_stack_config(values, path.name)


def engine_config(values: Mapping[str, Any]) -> dict[str, str]:
    """Stack-file values as the Pulumi engine hands them to a program: objects as JSON strings."""
    return {k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in values.items()}


def from_pulumi_config() -> StackConfig:
    """Load the stack config from the running Pulumi program's configuration."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config_env, is_config_secret

    values: dict[str, Any] = {}
    # Read every key in our namespace, not only the known ones, so a misspelled key fails here too.
    for key, raw in {**get_config_env(), **CONFIG.get()}.items():
        if not (key.startswith(f"{NAMESPACE}:") or key == REGION_KEY):
            continue
        if is_config_secret(key):
            raise ConfigError(
                f"{key} holds an encrypted (secret) value; Rampart takes secrets only as Secrets Manager/SSM "
                "ARNs in rampart:service.secrets, so no secret passes through stack config or state"
            )
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return validate_stack_config(values, f"stack {pulumi.get_stack()!r}")
