"""Production services run at least `minTaskCount` tasks (stack policy, stack config)."""
from __future__ import annotations

from typing import Sequence

from ..common import ECS_SERVICE, SCALABLE_TARGET, of_type
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Violation, stack_findings


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    minimum = int(ctx.threshold("minTaskCount"))
    # A minTaskCount set in the stack's pack config applies to that stack; the default (2) applies to
    # the stacks named in productionStacks.
    production = "minTaskCount" in ctx.thresholds or ctx.stack in list(ctx.threshold("productionStacks"))
    # Why the minimum applies to this stack, in the finding: a dev stack's own minTaskCount is no
    # "production" minimum.
    why = ("this stack's minTaskCount" if "minTaskCount" in ctx.thresholds
           else f"the minimum on production stacks; '{ctx.stack}' is in productionStacks")
    targets = [t for t in of_type(resources, SCALABLE_TARGET)
               if t.props.raw().get("scalableDimension") == "ecs:service:DesiredCount"]

    def judge(svc: Resource) -> Outcome:
        if not production:
            return NotApplicable(f"stack '{ctx.stack}' is not a production stack")
        if svc.props.get("schedulingStrategy") == "DAEMON":
            return NotApplicable("daemon service")
        desired = svc.props.get("desiredCount")
        desired = 1 if desired is None else int(desired)
        if desired < minimum:
            return Violation(f"service runs {desired} task(s), fewer than {minimum} ({why})")
        return COMPLIANT

    findings = stack_findings(of_type(resources, ECS_SERVICE), judge)

    def judge_target(t: Resource) -> Outcome:
        if not production:
            return NotApplicable(f"stack '{ctx.stack}' is not a production stack")
        raw = t.props.get("minCapacity")
        if raw is None:
            return Violation("autoscaling target sets no minCapacity")
        low = int(raw)
        if low < minimum:
            return Violation(f"autoscaling can scale the service down to {low} task(s), fewer than {minimum} ({why})")
        return COMPLIANT

    return findings + stack_findings(targets, judge_target)


POLICY = PolicySpec(
    id="aws-ecs-service-require-min-task-count",
    description="Services run at least the stack's minimum task count (default 2 in production stacks), "
                "counting desiredCount and autoscaling minCapacity.",
    severity="medium",
    enforcement="mandatory",
    criteria=("A1.2",),
    remediation="Set desiredCount and the autoscaling target's minCapacity to at least minTaskCount (default 2) "
                "so one task failure or AZ loss keeps the service up.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html",
    resource_types=ECS_SERVICE + SCALABLE_TARGET,
    kind="stack",
    stack_check=stack_check,
    thresholds=("minTaskCount", "productionStacks"),
    peer="(none)",
)
