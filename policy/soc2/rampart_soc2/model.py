"""The framework-neutral core: outcomes, the policy record, pack config, waivers and the runner.

A check knows nothing of Pulumi's SDK. A resource check takes a `Resource` and a `Context` and
returns one `Outcome`; a stack check takes every resource and returns one `Finding` per resource it
judged. `pulumi_adapter` turns the records into CrossGuard policies; the tests call the runner here.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence, Union

from .props import InvalidDocument, UnknownValue, View, view
# Re-exported: policies and tools read the thresholds here too.
from .vocabulary.thresholds import DEFAULT_THRESHOLDS as DEFAULT_THRESHOLDS, THRESHOLD_SCHEMAS as THRESHOLD_SCHEMAS
from .vocabulary.config_rules import ConfigRule

Severity = Literal["low", "medium", "high", "critical"]
Enforcement = Literal["advisory", "mandatory", "disabled"]
Kind = Literal["resource", "stack"]


@dataclass(frozen=True)
class Compliant:
    kind: Literal["compliant"] = "compliant"


@dataclass(frozen=True)
class Violation:
    message: str
    kind: Literal["violation"] = "violation"


@dataclass(frozen=True)
class NotApplicable:
    reason: str
    kind: Literal["not-applicable"] = "not-applicable"


@dataclass(frozen=True)
class Unknown:
    path: str
    kind: Literal["unknown"] = "unknown"


@dataclass(frozen=True)
class Waived:
    """A violation covered by an unexpired waiver (added by the runner, never by a check)."""

    message: str
    reason: str
    expires: str
    kind: Literal["waived"] = "waived"


Outcome = Union[Compliant, Violation, NotApplicable, Unknown]
Result = Union[Compliant, Violation, NotApplicable, Unknown, Waived]

COMPLIANT = Compliant()


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it: provider type token, name, URN and input properties."""

    type: str
    name: str
    urn: str
    props: View
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A stack check's judgement of one resource."""

    urn: str
    outcome: Outcome


WAIVER_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "exceptions: {policy, resource (URN or name), reason, expires (YYYY-MM-DD)}",
    "items": {
        "type": "object",
        "properties": {
            "policy": {"type": "string"},
            "resource": {"type": "string"},
            "reason": {"type": "string"},
            "expires": {"type": "string"},
        },
        "required": ["resource", "reason", "expires"],
    },
}


@dataclass(frozen=True)
class Waiver:
    policy: str
    resource: str
    reason: str
    expires: _dt.date

    def covers(self, policy_id: str, urn: str, name: str) -> bool:
        if self.policy not in (policy_id, "*", ""):
            return False
        return self.resource in (urn, name) or urn.endswith("::" + self.resource)

    def active(self, today: _dt.date) -> bool:
        """A waiver applies through its expiry date and not after it."""
        return today <= self.expires


def parse_waivers(raw: Any, policy_id: str) -> list[Waiver]:
    """Waivers from pack config; malformed ones (no reason or no valid expiry) never apply."""
    out: list[Waiver] = []
    for item in raw or []:
        if not isinstance(item, Mapping):
            continue
        resource, reason, expires = item.get("resource"), item.get("reason"), item.get("expires")
        if not (isinstance(resource, str) and resource and isinstance(reason, str) and reason.strip()):
            continue
        try:
            when = expires if isinstance(expires, _dt.date) else _dt.date.fromisoformat(str(expires)[:10])
        except ValueError:
            continue
        out.append(Waiver(str(item.get("policy") or policy_id), resource, reason.strip(), when))
    return out


@dataclass(frozen=True)
class Context:
    """What a check may read besides the resource: thresholds and the stack name."""

    thresholds: Mapping[str, Any]
    stack: str = ""
    waivers: tuple[Waiver, ...] = ()
    today: _dt.date = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).date())

    def threshold(self, key: str) -> Any:
        return self.thresholds.get(key, DEFAULT_THRESHOLDS[key])


def context_from_config(policy_id: str, config: Mapping[str, Any] | None, stack: str = "",
                        today: _dt.date | None = None) -> Context:
    """The Context for one policy from its pack config properties (enforcementLevel is the SDK's)."""
    cfg = dict(config or {})
    waivers = tuple(parse_waivers(cfg.pop("waivers", None), policy_id))
    cfg.pop("enforcementLevel", None)
    thresholds = {k: v for k, v in cfg.items() if k in DEFAULT_THRESHOLDS}
    if today is None:
        return Context(thresholds, stack, waivers)
    return Context(thresholds, stack, waivers, today)


ResourceCheck = Callable[[Resource, Context], Outcome]
StackCheck = Callable[[Sequence[Resource], Context], list[Finding]]


@dataclass(frozen=True)
class PolicySpec:
    """One registry record; fields in the order STYLE.md asks for."""

    id: str
    description: str
    severity: Severity
    enforcement: Enforcement
    criteria: tuple[str, ...]
    remediation: str
    reference: str
    resource_types: tuple[str, ...]
    kind: Kind = "resource"
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    thresholds: tuple[str, ...] = ()
    peer: str = ""
    service: str = ""
    non_production_enforcement: Enforcement | None = None
    """The level on stacks not named in `productionStacks`, when it differs from `enforcement`."""
    config_rule: ConfigRule | None = None
    """The AWS Config managed rule for the same control, when AWS has one (the runtime checkpoint). Declared
    in `vocabulary.config_rules`, keyed by policy id, and attached by the registry; a policy file sets none."""
    category: str = ""
    """A category spanning services (`readiness`: what AWS needs at the first deploy and request); "" for a control."""

    def enforcement_for(self, stack: str, production_stacks: Sequence[str] | None = None) -> Enforcement:
        """The policy's default level on this stack (pack config may still override it)."""
        if self.non_production_enforcement is None:
            return self.enforcement
        production = DEFAULT_THRESHOLDS["productionStacks"] if production_stacks is None else production_stacks
        return self.enforcement if stack in production else self.non_production_enforcement

    def message(self, what: str) -> str:
        """One sentence on what is wrong, then the remediation, then the criteria."""
        what = what.rstrip()
        if not what.endswith("."):
            what += "."
        return f"{what} Remediation: {self.remediation} SOC 2: {', '.join(self.criteria)}."


def _guarded(fn: Callable[[], Outcome]) -> Outcome:
    try:
        return fn()
    except UnknownValue as exc:
        return Unknown(exc.path)
    except InvalidDocument as exc:
        return Violation(str(exc))
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        # Fail closed: a value of an unexpected shape is reported, never silently passed.
        return Violation(f"a property has an unexpected shape, so the control cannot be shown to hold "
                         f"({type(exc).__name__}: {exc})")


def _apply_waiver(spec: PolicySpec, outcome: Outcome, urn: str, name: str, ctx: Context) -> Result:
    if not isinstance(outcome, Violation):
        return outcome
    for w in ctx.waivers:
        if w.covers(spec.id, urn, name) and w.active(ctx.today):
            return Waived(outcome.message, w.reason, w.expires.isoformat())
    return outcome


def evaluate_resource(spec: PolicySpec, resource: Resource, ctx: Context) -> Result:
    """Run a resource policy on one resource: not-applicable for other types, waivers applied."""
    if spec.kind != "resource" or spec.check is None:
        raise ValueError(f"{spec.id} is not a resource policy")
    if resource.type not in spec.resource_types:
        return NotApplicable(f"applies to {', '.join(spec.resource_types)}")
    check = spec.check
    outcome = _guarded(lambda: check(resource, ctx))
    return _apply_waiver(spec, outcome, resource.urn, resource.name, ctx)


def evaluate_stack(spec: PolicySpec, resources: Sequence[Resource], ctx: Context) -> list[tuple[str, Result]]:
    """Run a stack policy: one result per resource it judged, waivers applied."""
    if spec.kind != "stack" or spec.stack_check is None:
        raise ValueError(f"{spec.id} is not a stack policy")
    by_urn = {r.urn: r for r in resources}
    results: list[tuple[str, Result]] = []
    for f in spec.stack_check(resources, ctx):
        name = by_urn[f.urn].name if f.urn in by_urn else f.urn
        results.append((f.urn, _apply_waiver(spec, f.outcome, f.urn, name, ctx)))
    return results


def make_resource(type_: str, name: str, props: Mapping[str, Any], urn: str | None = None,
                  parent: str | None = None,
                  property_dependencies: Mapping[str, Sequence[str]] | None = None,
                  dependencies: Sequence[str] = (), project: str = "rampart", stack: str = "test") -> Resource:
    """Build a `Resource` from raw engine-style properties (used by tests and `rampart check`)."""
    urn = urn or f"urn:pulumi:{stack}::{project}::{type_}::{name}"
    deps = {k: tuple(v) for k, v in (property_dependencies or {}).items()}
    return Resource(type_, name, urn, view(props), parent, tuple(dependencies), deps)


def stack_findings(subjects: Sequence[Resource], judge: Callable[[Resource], Outcome]) -> list[Finding]:
    """Judge each subject resource on its own, so one unknown never hides another's violation."""
    return [Finding(r.urn, _guarded(lambda r=r: judge(r))) for r in subjects]  # type: ignore[misc]
