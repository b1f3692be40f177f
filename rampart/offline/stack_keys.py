"""Remediation in the user's words: which key of this project's stack file controls what a policy judges.

One table, policy id -> the stack keys (as written in `stacks/Pulumi.<stack>.yaml`) that set the
judged property through Rampart's components. A policy's thresholds are not listed here: the
registry owns them, and each is `rampart:policy.<threshold>`. tests/policy/test_stack_keys.py
resolves every key against the stack-file model, so a renamed key fails the build here.
"""
from __future__ import annotations

from typing import Sequence

from rampart_soc2.vocabulary.thresholds import BY_KEY

#: policy id -> stack keys that control the judged setting (policies not listed: secure by default,
#: with no stack key to change; fix the program, or waive with rampart:policy.waivers).
STACK_KEYS: dict[str, tuple[str, ...]] = {
    "aws-cloudwatch-loggroup-require-retention": ("rampart:environment.monitoring.logRetentionDays", "rampart:environment.network.flowLogRetentionDays"),
    "aws-cloudwatch-metricalarm-require-subscribed-topic": ("rampart:environment.monitoring.alarmEmailEndpoints",),
    "aws-lb-loadbalancer-enable-deletion-protection": ("rampart:environment.loadBalancer.deletionProtection",),
    "aws-lb-loadbalancer-configure-desync-mitigation": ("rampart:environment.loadBalancer.desyncMitigation",),
    "aws-lb-listener-require-tls-policy": ("rampart:environment.loadBalancer.tlsPolicy",),
    "aws-lb-listener-require-certificate": ("rampart:environment.loadBalancer.certificateArns", "rampart:environment.loadBalancer.domains"),
    "aws-lb-targetgroup-require-health-check": ("rampart:services.<name>.healthCheck",),
    "aws-lb-listenerrule-require-private-access": ("rampart:services.<name>.routing.access",),
    "aws-wafv2-webacl-require-rate-based-rule": ("rampart:environment.waf.rateLimit", "rampart:services.<name>.rateLimit"),
    "aws-wafv2-webacl-require-managed-rule-groups": ("rampart:environment.waf.managedRuleGroups", "rampart:environment.waf.countOnlyRules"),
    "aws-ecs-service-require-alarm-rollback-and-bake": ("rampart:services.<name>.deployment.strategy", "rampart:services.<name>.deployment.bakeTimeMinutes", "rampart:services.<name>.deployment.rollbackAlarms"),
    "aws-ecs-service-require-min-task-count": ("rampart:services.<name>.desiredCount", "rampart:services.<name>.minCount"),
    "aws-ecs-taskdefinition-disallow-environment-secrets": ("rampart:services.<name>.environment", "rampart:services.<name>.secrets"),
    "aws-ecs-taskdefinition-require-memory-limit": ("rampart:services.<name>.memory",),
    "aws-ecs-taskdefinition-require-read-only-root-filesystem": ("rampart:services.<name>.readonlyRootFilesystem",),
    "aws-ecs-taskdefinition-require-non-root-user": ("rampart:services.<name>.user",),
    "docker-image-require-dockerfile-controls": ("rampart:services.<name>.image.build.dockerfile", "rampart:services.<name>.image.build.target"),
}


def _threshold_keys(thresholds: Sequence[str]) -> list[str]:
    """`rampart:policy.<threshold>` for the thresholds the stack file's `rampart:policy` accepts."""
    return [f"rampart:policy.{t}" for t in thresholds if t in BY_KEY and BY_KEY[t].in_stack_file]


def stack_keys(policy_id: str, thresholds: Sequence[str] = ()) -> list[str]:
    """The stack keys behind a policy's finding: its settings, then its thresholds."""
    return [*STACK_KEYS.get(policy_id, ()), *_threshold_keys(thresholds)]


def stack_hint(policy_id: str, thresholds: Sequence[str], stack_file: str) -> str | None:
    """'In stacks/Pulumi.dev.yaml: rampart:environment.monitoring.logRetentionDays (...)' or None when no key controls it."""
    settings = list(STACK_KEYS.get(policy_id, ()))
    limits = _threshold_keys(thresholds)
    if not settings and not limits:
        return None
    parts = []
    if settings:
        parts.append("set " + " / ".join(f"`{k}`" for k in settings))
    if limits:
        parts.append("the policy's threshold is " + " / ".join(f"`{k}`" for k in limits))
    return f"In your stack file {stack_file}: " + "; ".join(parts) + "."


# ----------------------------------------------------------------------------- in a program's words

#: Stack keys of Rampart's stack file that are not a component argument of the same path: the image
#: (built by the `Image` component) and a service's own WAF rate limit (a rule of the environment's
#: web ACL). Every other `rampart:environment.*` / `rampart:services.<name>.*` key is the argument of
#: EnvironmentArgs / WebServiceArgs at the same path (the stack file's sections are those models).
PROGRAM_ARGUMENTS: dict[str, str] = {
    "rampart:services.<name>.image.build.dockerfile": "ImageArgs.dockerfile",
    "rampart:services.<name>.image.build.target": "ImageArgs.target",
    "rampart:services.<name>.rateLimit": "EnvironmentArgs.waf.scoped_rate_limits",
}


def _component_models() -> dict[str, type]:
    from rampart.components.environment import EnvironmentArgs
    from rampart.components.image import ImageArgs
    from rampart.components.web_service import WebServiceArgs

    return {model.__name__: model for model in (EnvironmentArgs, ImageArgs, WebServiceArgs)}


def component_argument(key: str) -> str:
    """The component argument, as written in Python, that a stack key of Rampart's program sets:
    `rampart:environment.waf.rateLimit` -> `EnvironmentArgs.waf.rate_limit`."""
    from rampart.errors import python_path

    models = _component_models()
    if key in PROGRAM_ARGUMENTS:
        model_name, _, path = PROGRAM_ARGUMENTS[key].partition(".")
        python_path(models[model_name], path.split("."), strict=True)  # still an argument
        return PROGRAM_ARGUMENTS[key]
    for prefix, model in (("rampart:environment.", models["EnvironmentArgs"]), ("rampart:services.<name>.", models["WebServiceArgs"])):
        if key.startswith(prefix):
            return f"{model.__name__}.{python_path(model, key.removeprefix(prefix).split('.'), strict=True)}"
    raise KeyError(f"{key} is not a key of a component's settings")


def program_hint(policy_id: str, thresholds: Sequence[str], program: str, stack_file: str) -> str | None:
    """'In your program __main__.py: set `EnvironmentArgs.waf.rate_limit`; ...' for a program that composes
    the components itself (its stack file has no rampart:environment or rampart:services). The pack's
    thresholds are set in any program's stack file, under rampart:policy."""
    settings = [component_argument(key) for key in STACK_KEYS.get(policy_id, ())]
    limits = _threshold_keys(thresholds)
    parts = []
    if settings:
        parts.append(f"In your program {program}: set " + " / ".join(f"`{a}`" for a in settings))
    if limits:
        parts.append("the policy's threshold is " + " / ".join(f"`{k}`" for k in limits) + f" in {stack_file}")
    return "; ".join(parts) + "." if parts else None
