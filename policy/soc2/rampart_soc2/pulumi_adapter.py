"""CrossGuard glue: registry records -> pulumi_policy policies, and outcomes -> the Analyzer protocol.

How an outcome reaches the engine (and `rampart check`):
- violation      -> report_violation (the SDK attaches the policy's enforcement level)
- not applicable -> args.not_applicable(reason)
- waived         -> args.not_applicable("waived: <resource>: <reason> (expires YYYY-MM-DD)")
- unknown        -> UnknownValueError, which the SDK reports as an ADVISORY diagnostic
                    "can't run policy ... during preview: ..." (never blocks, never a violation)
Stack policies report violations per URN first, then raise once for waivers/unknowns.
"""
from __future__ import annotations

import json
import os
from typing import Any, Mapping, Sequence

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from .model import (
    THRESHOLD_SCHEMAS,
    WAIVER_SCHEMA,
    NotApplicable,
    PolicySpec,
    Resource,
    Result,
    Unknown,
    Violation,
    Waived,
    context_from_config,
    evaluate_resource,
    evaluate_stack,
)
from .props import view
from .registry import POLICIES
from .vocabulary.thresholds import THRESHOLDS

PACK_NAME = "rampart-soc2"
FRAMEWORK = PolicyComplianceFramework(
    name="SOC 2",
    version="TSC 2017 (points of focus 2022)",
    reference="https://www.aicpa-cima.com/resources/download/2017-trust-services-criteria-with-revised-points-of-focus-2022",
)
WAIVED_PREFIX = "waived: "
UNKNOWN_PREFIX = "unknown: "

_LEVELS = {"advisory": EnforcementLevel.ADVISORY, "mandatory": EnforcementLevel.MANDATORY,
           "disabled": EnforcementLevel.DISABLED}
_SEVERITY = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}


def _stack_name() -> str:
    return os.environ.get("PULUMI_STACK", "")




def stack_settings(pulumi_config: str | None) -> dict[str, Any]:
    """Thresholds and waivers from the stack's own `rampart:policy` (PULUMI_CONFIG, which the CLI passes).

    `pulumi preview --policy-pack policy/soc2` then honours the stack file without a separate
    --policy-pack-config; enforcement levels still come only from the pack config (the SDK applies
    them before a policy runs).
    """
    try:
        raw = json.loads(pulumi_config or "{}").get("rampart:policy")
        settings = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, AttributeError):
        return {}
    if not isinstance(settings, dict):
        return {}
    found = settings.get("thresholds")
    nested: dict[str, Any] = found if isinstance(found, dict) else {}
    out: dict[str, Any] = {"waivers": settings.get("waivers") or []}
    for key, spellings in ((t.key, t.spellings) for t in THRESHOLDS):
        for source in (nested, settings):
            for name in spellings:
                if source.get(name) is not None:
                    out[key] = source[name]
    return out


def effective_config(spec: PolicySpec, configured: Mapping[str, Any] | None) -> dict[str, Any]:
    """Pack config for one policy, with the stack's rampart:policy filling what it leaves out."""
    cfg = dict(configured or {})
    stack = stack_settings(os.environ.get("PULUMI_CONFIG"))
    if "waivers" not in cfg:
        mine = [w for w in stack.get("waivers", []) if isinstance(w, Mapping) and w.get("policy") == spec.id]
        if mine:
            cfg["waivers"] = mine
    for key in spec.thresholds:
        if key not in cfg and key in stack:
            cfg[key] = stack[key]
    return cfg


def waived_text(resource: str, w: Waived) -> str:
    return f"{resource}: {w.reason} (expires {w.expires})"


class _Unknown(UnknownValueError):
    def __init__(self, message: str) -> None:
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.message = message


def _tags(spec: PolicySpec) -> list[str]:
    return ["soc2", f"service:{spec.service}", f"kind:{spec.kind}", *([f"category:{spec.category}"] if spec.category else []),
            *[f"criteria:{c}" for c in spec.criteria], *[f"type:{t}" for t in spec.resource_types]]


def _schema(spec: PolicySpec) -> PolicyConfigSchema:
    props: dict[str, dict[str, Any]] = {"waivers": WAIVER_SCHEMA}
    for key in spec.thresholds:
        props[key] = THRESHOLD_SCHEMAS[key]
    return PolicyConfigSchema(properties=props)


def _dispatch_resource(spec: PolicySpec, result: Result, args: ResourceValidationArgs,
                       report: ReportViolation) -> None:
    if isinstance(result, Violation):
        report(spec.message(result.message), None)
    elif isinstance(result, Waived):
        args.not_applicable(WAIVED_PREFIX + waived_text(args.urn, result))
    elif isinstance(result, NotApplicable):
        args.not_applicable(result.reason)
    elif isinstance(result, Unknown):
        raise _Unknown(f"{result.path} (not known during preview)")


def resource_validator(spec: PolicySpec) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        ctx = context_from_config(spec.id, effective_config(spec, args.get_config()), _stack_name())
        resource = Resource(args.resource_type, args.name, args.urn, view(args.props),
                            args.opts.parent if args.opts else None)
        _dispatch_resource(spec, evaluate_resource(spec, resource, ctx), args, report_violation)
    return validate


def stack_resources(resources: Sequence[Any]) -> list[Resource]:
    out = []
    for r in resources:
        deps = {k: tuple(d.urn for d in v) for k, v in (r.property_dependencies or {}).items()}
        out.append(Resource(r.resource_type, r.name, r.urn, view(r.props),
                            r.parent.urn if r.parent is not None else (r.opts.parent if r.opts else None),
                            tuple(d.urn for d in r.dependencies or []), deps))
    return out


def stack_validator(spec: PolicySpec) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        ctx = context_from_config(spec.id, effective_config(spec, args.get_config()), _stack_name())
        results = evaluate_stack(spec, stack_resources(args.resources), ctx)
        waived, unknown = [], []
        for urn, result in results:
            if isinstance(result, Violation):
                report_violation(spec.message(result.message), urn)
            elif isinstance(result, Waived):
                waived.append(waived_text(urn, result))
            elif isinstance(result, Unknown):
                unknown.append(f"{urn}: {result.path}")
        if unknown:
            raise _Unknown("; ".join(unknown) + (" | waived " + "; ".join(waived) if waived else ""))
        if waived:
            args.not_applicable(WAIVED_PREFIX + "; ".join(waived))
    return validate


def build_policy(spec: PolicySpec) -> Policy:
    common: dict[str, Any] = dict(
        name=spec.id,
        description=spec.description,
        enforcement_level=_LEVELS[spec.enforcement_for(
            _stack_name(), stack_settings(os.environ.get("PULUMI_CONFIG")).get("productionStacks"))],
        config_schema=_schema(spec),
        severity=_SEVERITY[spec.severity],
        framework=FRAMEWORK,
        tags=_tags(spec),
        remediation_steps=spec.remediation,
        url=spec.reference,
    )
    if spec.kind == "resource":
        return ResourceValidationPolicy(validate=resource_validator(spec), **common)
    return StackValidationPolicy(validate=stack_validator(spec), **common)


def build_policies(policies: Mapping[str, PolicySpec] | None = None) -> list[Policy]:
    specs = policies if policies is not None else POLICIES
    return [build_policy(specs[k]) for k in sorted(specs)]
