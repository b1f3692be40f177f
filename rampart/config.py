"""The stack configuration model: what `stacks/Pulumi.<stack>.yaml` may say, typed and validated.

A stack file holds one object per top-level key plus `aws:region`: `rampart:environment` (the
Environment component's own settings) or `rampart:environmentStack` (another stack's environment),
`rampart:services` (a map from service name to the WebService component's own settings, plus its
image), `rampart:tags` and `rampart:policy`. The sections are the components' models with camelCase
keys, not copies of them: each setting has one owner. Loading validates the whole file before the program registers any resource; an
error names the key as written in the stack file (`rampart:services.web.cpu`), the bad value and what
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
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from rampart_soc2.vocabulary.thresholds import BY_KEY, THRESHOLDS, WAF_RATE_LIMIT_MAX, WAF_RATE_LIMIT_MIN, in_effect

from rampart.components._util import KMS_KEY_ARN
from rampart.components.environment import EnvironmentSettings, threshold_problems
from rampart.components.waf import ScopedRateLimit
from rampart.components.image import RepositoryLifecycle, check_build_args
from rampart.components.proxy_config import ProxyConfig
from rampart.components.routing import check_routes
from rampart.components.ingress import Ingress, check_proxy_access, ingress_class, ingress_mode
from rampart.components.web_service import ServiceSettings, endpoints_needed
from rampart.errors import UserError


NAMESPACE = "rampart"
REGION_KEY = "aws:region"

SERVICE_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
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


class ImageConfig(Model, RepositoryLifecycle):
    """Where the application image comes from: built here, or an existing image pinned by digest; and how
    its repository keeps images (the Image component's own `RepositoryLifecycle` settings)."""

    build: Annotated[BuildConfig | None, Field(description="Build from a Dockerfile into a new ECR repository.")] = None
    uri: Annotated[str | None, Field(description="An existing ECR image, referenced by digest (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>`); tasks may pull only from that repository.")] = None
    kms_key_arn: Annotated[str | None, Field(description="ARN of the KMS key that encrypts the service's ECR repositories (`build` only: the app's and the sidecar's); omitted, the environment's key does (one key for the environment, not $1 a month per repository). Your key's policy must let ECR use it (kms:CreateGrant, kms:RetireGrant and kms:DescribeKey through ecr.REGION.amazonaws.com).")] = None

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

    @field_validator("kms_key_arn")
    @classmethod
    def _kms_key_arn(cls, v: str | None) -> str | None:
        if v is not None and not KMS_KEY_ARN.match(v):
            raise ValueError(
                f"{v!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID): give the key's ARN, not an alias "
                "or a key ID, or leave `kmsKeyArn` out to use the environment's key"
            )
        return v

    @model_validator(mode="after")
    def _one_source(self) -> ImageConfig:
        if (self.build is None) == (self.uri is None):
            raise ValueError("give either `build` or `uri`, not both and not neither")
        if self.uri is not None and self.kms_key_arn is not None:
            raise ValueError("give `kmsKeyArn` only with `build`: an image given by `uri` lives in a repository this "
                             "stack does not create, so its key is that repository's")
        return self


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
        """The stack's tags; the components add their own `managed-by` tag (one owner)."""
        return {
            "Owner": self.owner,
            "Environment": self.environment,
            "DataClassification": self.data_classification,
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


def threshold_field(key: str) -> Any:
    """The stack-file field of pack threshold `key`: its bounds and meaning, read from the pack's record."""
    record = BY_KEY[key]
    bounds = {"ge": record.schema.get("minimum"), "le": record.schema.get("maximum"), "pattern": record.schema.get("pattern")}
    meaning = record.description[:1].upper() + record.description[1:]
    return Field(description=f"{meaning}; unset: {record.unset_text()}.", **{k: v for k, v in bounds.items() if v is not None})


class PolicySettings(Model):
    """How the SOC 2 policy pack treats this stack: levels, waivers and the thresholds a stack file may set
    (one field per `rampart_soc2.vocabulary.thresholds` record, named after it; tests/foundation/test_config.py checks
    that none is missing)."""

    enforcement: Annotated[dict[str, Literal["advisory", "mandatory", "disabled"]], Field(description="Policy ID -> enforcement level override.")] = {}
    waivers: Annotated[list[Waiver], Field(description="Documented exceptions.")] = []
    min_log_retention_days: Annotated[int | None, threshold_field("minLogRetentionDays")] = None
    allowed_tls_policies: Annotated[list[str] | None, threshold_field("allowedTlsPolicies")] = None
    min_task_count: Annotated[int | None, threshold_field("minTaskCount")] = None
    rate_limit_min: Annotated[int | None, threshold_field("rateLimitMin")] = None
    rate_limit_max: Annotated[int | None, threshold_field("rateLimitMax")] = None
    required_managed_rule_groups: Annotated[list[str] | None, threshold_field("requiredManagedRuleGroups")] = None
    min_fargate_platform_version: Annotated[str | None, threshold_field("minFargatePlatformVersion")] = None
    min_bake_time_minutes: Annotated[int | None, threshold_field("minBakeTimeMinutes")] = None

    def thresholds(self) -> dict[str, Any]:
        """The thresholds this stack sets, by their pack keys (unset ones stay out: the pack's defaults apply)."""
        return {t.key: getattr(self, t.field) for t in THRESHOLDS if t.in_stack_file and getattr(self, t.field) is not None}

    @model_validator(mode="after")
    def _rate_bounds_in_order(self) -> PolicySettings:
        values = in_effect(self.thresholds())
        if values["rateLimitMin"] > values["rateLimitMax"]:
            raise ValueError(
                f"rateLimitMin {values['rateLimitMin']} is above rateLimitMax {values['rateLimitMax']} (unset ones are the "
                "pack's defaults), so no rate limit could pass; lower rateLimitMin or raise rateLimitMax"
            )
        return self

    @field_validator("enforcement")
    @classmethod
    def _ids(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not POLICY_ID.match(key):
                raise ValueError(f"{key!r} is not a policy ID (see POLICIES.md)")
        return v


class ServiceConfig(ServiceSettings):
    """One service of `rampart:services`: the WebService component's own settings (camelCase keys),
    plus where its image comes from and, in `nginx` mode, the sidecar's settings."""

    image: Annotated[ImageConfig, Field(description="Where the application image comes from.")]
    proxy: Annotated[ProxyConfig | None, Field(description="The Nginx sidecar (ingress `nginx`); see docs/proxy.md. Defaults apply when omitted.")] = None
    rate_limit: Annotated[int | None, Field(ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX, description="Requests one client IP may send per WAF window to this service's hosts and paths: a rate-based rule in the environment's web ACL (this stack's environment only).")] = None

    def scoped_rate_limit(self, name: str) -> ScopedRateLimit | None:
        """This service's own WAF rate limit, scoped to its routes (path patterns by their literal prefix)."""
        if self.rate_limit is None:
            return None
        prefixes = sorted({re.split(r"[*?]", p, maxsplit=1)[0] for p in self.routing.paths} - {"/"})
        return ScopedRateLimit(name=name, limit=self.rate_limit, hosts=list(self.routing.hosts), path_prefixes=prefixes)

    @model_validator(mode="after")
    def _proxy_only_with_nginx(self) -> ServiceConfig:
        if ingress_class(self.ingress).misplaced({"proxy": self.proxy}):
            raise ValueError("`proxy` applies only with `ingress: nginx`; remove it or set ingress: nginx")
        self.ingress_mode().for_sidecar(check_proxy_access)
        return self

    def settings(self) -> dict[str, Any]:
        """The component's settings, as WebServiceArgs takes them (nested models kept)."""
        return {name: getattr(self, name) for name in ServiceSettings.model_fields}

    def ingress_mode(self) -> Ingress:
        """The service's ingress mode (`rampart.components.ingress`), before the environment fills in what it knows."""
        return ingress_mode(self.ingress, self.proxy)

    def sidecar(self) -> ProxyConfig | None:
        """The sidecar's settings before the environment fills in what it knows (None: the mode has no sidecar)."""
        return self.ingress_mode().proxy


def known_regions() -> list[str]:
    """Every AWS region botocore knows, in every partition (aws, aws-cn, aws-us-gov, ...), read from
    its bundled endpoints data: offline, and as current as the installed botocore."""
    import botocore.session  # type: ignore[import-untyped]

    partitions = botocore.session.get_session().get_data("endpoints")["partitions"]
    return sorted(region for partition in partitions for region in partition["regions"])


def region_problem(region: str) -> str | None:
    """Why `region` is not an AWS region (with the closest one botocore knows), or None when it is."""
    regions = known_regions()
    if region in regions:
        return None
    close = difflib.get_close_matches(region, regions, n=1)
    hint = f"did you mean `{close[0]}`?" if close else f"use one of {', '.join(regions)}"
    return f"{region!r} is not an AWS region botocore knows; {hint}"


class StackConfig(Model):
    """Everything one stack file configures: an environment (or a reference to another stack's) and
    the services attached to it."""

    region: Annotated[str, Field(alias=REGION_KEY, description="AWS region to deploy into (the `aws:region` key).")]
    environment: Annotated[EnvironmentSettings | None, Field(description="The environment this stack creates: network, load balancer and TLS, web ACL, monitoring (the Environment component's settings).")] = None
    environment_stack: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="Instead of `environment`: attach the services to the environment another stack exports (`org/project/stack`).")] = None
    services: Annotated[dict[str, ServiceConfig], Field(description="Service name -> its settings (the WebService component's, plus `image` and `proxy`).")] = {}
    tags: Annotated[TagsConfig, Field(description="Tags on every taggable resource.")]
    policy: Annotated[PolicySettings, Field(description="SOC 2 policy pack settings for this stack.")] = PolicySettings()

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        problem = region_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("services")
    @classmethod
    def _service_names(cls, v: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        for name in v:
            if not SERVICE_NAME.match(name):
                raise ValueError(f"service name {name!r} must be a lower-case DNS label: letters, digits and '-', starting with a letter, at most 32 characters")
        check_routes({name: service.routing for name, service in v.items()}, where="rampart:services",
                     test_rules={name for name, service in v.items() if service.deployment.shifts_traffic})
        return v

    @model_validator(mode="after")
    def _one_environment(self) -> StackConfig:
        if (self.environment is None) == (self.environment_stack is None):
            raise ValueError("give either rampart:environment (this stack creates it) or rampart:environmentStack (org/project/stack), not both and not neither")
        if self.environment is not None and self.environment.waf is None:
            limited = sorted(name for name, service in self.services.items() if service.rate_limit is not None)
            if limited:
                raise ValueError(
                    f"services set rateLimit, but rampart:environment.waf is off: a service's rate limit is a rule in "
                    f"the environment's web ACL ({', '.join(limited)}); turn the web ACL on or remove rateLimit"
                )
        if self.environment_stack is not None:
            for name, service in self.services.items():
                if service.rate_limit is not None:
                    raise ValueError(
                        f"rampart:services.{name}.rateLimit is a rule in the environment's web ACL, which another stack "
                        f"owns; ask its owners to add it there (rampart:environment.waf.scopedRateLimits), or remove it"
                    )
                if service.ingress_mode().lacks_trusted_proxies():
                    raise ValueError(
                        f"rampart:services.{name} uses ingress nginx with an environment from another stack: give its "
                        "proxy.trustedProxyCidrs (the CIDRs of that environment's load balancer subnets, the only peers whose X-Forwarded-For the sidecar may believe)"
                    )
        return self

    @model_validator(mode="after")
    def _passes_the_pack(self) -> StackConfig:
        """Refuse here what `rampart check` would fail under this stack's own thresholds (`rampart:policy`)."""
        thresholds = self.policy.thresholds()
        problems: list[str] = []
        if self.environment is not None:
            problems += [f"rampart:environment{_stack_path(path)}: {why}"
                         for path, why in threshold_problems(self.environment_settings(), thresholds)]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def environment_settings(self) -> EnvironmentSettings:
        """This stack's environment with what its services add: their endpoints and WAF rate limits."""
        assert self.environment is not None
        settings = self.environment
        updates: dict[str, Any] = {"extra_endpoints": sorted({*settings.extra_endpoints, *self.needed_endpoints()})}
        scoped = [limit for name, service in self.services.items() if (limit := service.scoped_rate_limit(name))]
        assert not scoped or settings.waf is not None  # StackConfig refuses rateLimit without a web ACL
        if settings.waf is not None and scoped:
            updates["waf"] = settings.waf.model_copy(update={"scoped_rate_limits": [*settings.waf.scoped_rate_limits, *scoped]})
        return settings.model_copy(update=updates)

    def needed_endpoints(self) -> list[str]:
        """Interface endpoints this stack's services need beyond the base set (SSM parameters, ECS Exec)."""
        return sorted({e for service in self.services.values() for e in endpoints_needed(service)})


def _stack_path(path: tuple[str | int, ...]) -> str:
    """`("waf", "rate_limit")` -> `.waf.rateLimit`: a component setting's path as a stack file writes it."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{to_camel(part)}" for part in path)


# The keys a stack file may hold, as written there.
STACK_KEYS: dict[str, str] = {
    (REGION_KEY if name == "region" else f"{NAMESPACE}:{field.alias or name}"): name
    for name, field in StackConfig.model_fields.items()
}


class ConfigError(UserError):
    """A stack file that does not validate; the message is ready to show a user."""


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
    map_key_next = False
    for part in loc:
        if model is None or isinstance(part, int) or map_key_next:
            map_key_next = False
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        model = _model_in(field.annotation) if field else None
        # A map of models (rampart:services): the next part is the entry's name, not a field.
        map_key_next = field is not None and get_origin(field.annotation) is dict
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
    """Validate a mapping of stack-file keys (`rampart:services`, `aws:region`, ...) into a StackConfig."""
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


def validate_policy_settings(value: Any, source: str) -> PolicySettings:
    """A stack file's `rampart:policy` alone (any program's stack file): the same model and the same
    messages as in Rampart's own stack files, "Did you mean" included."""
    try:
        return PolicySettings.model_validate({} if value is None else value)
    except ValidationError as e:
        problems = [_describe({**err, "loc": ("policy", *err["loc"])}) for err in e.errors()]
    lines = "\n".join(f"  - {p}" for p in problems)
    raise ConfigError(f"{source}: rampart:policy is not valid:\n{lines}")


def validate_region(region: str, where: str) -> str:
    """`region` if botocore knows it; else a ConfigError naming where it was written and the closest region."""
    problem = region_problem(region)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return region


def read_stack_values(project_dir: Path, stack: str) -> tuple[Path, dict[str, Any]]:
    """The raw `config:` mapping of a Rampart stack file (found as rampart/project.py finds any)."""
    from rampart.project import load_project, read_stack_file

    path, config = read_stack_file(load_project(project_dir), stack)
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value and len(value) == 1:
            raise ConfigError(f"{path.name}: {key} is an encrypted `secure:` value; Rampart takes secrets only as Secrets Manager/SSM ARNs in a service's `secrets`")
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
                "ARNs in a service's `secrets`, so no secret passes through stack config or state"
            )
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return validate_stack_config(values, f"stack {pulumi.get_stack()!r}")
