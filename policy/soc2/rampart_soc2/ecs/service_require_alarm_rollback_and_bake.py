"""A deployment that fails real traffic is contained: the service rolls back on alarms and bakes.

The circuit breaker catches tasks that never become healthy; a release that starts, passes its health
checks and then answers 5xx or slowly is caught only by alarms watched during the deployment. This
policy asks for both halves of that: `alarms {enable, rollback}` with at least one alarm name, and a
strategy that keeps the old tasks (BLUE_GREEN, CANARY or LINEAR) for at least `minBakeTimeMinutes`
after all traffic moved, so the rollback is a listener-rule switch, not another deploy. A rolling
deployment keeps no old tasks to switch back to.

Mandatory on production stacks (the pack's `productionStacks`), advisory on the others.
"""
from __future__ import annotations

from ..common import ECS_SERVICE, truthy
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation
from ..vocabulary.deployments import ROLLING, SHIFTING_STRATEGIES


def check(r: Resource, ctx: Context) -> Outcome:
    controller = (r.props.get("deploymentController") or {}).get("type") or "ECS"
    if controller != "ECS":
        return NotApplicable(f"deployment controller is {controller}")
    minimum = int(ctx.threshold("minBakeTimeMinutes"))
    problems = []
    alarms = r.props.get("alarms") or {}
    names = [n for n in (alarms.get("alarmNames") or []) if n]
    if not (truthy(alarms.get("enable")) and truthy(alarms.get("rollback")) and names):
        problems.append("it rolls back on no CloudWatch alarm (alarms {enable, rollback, alarmNames})")
    config = r.props.get("deploymentConfiguration") or {}
    strategy = str(config.get("strategy") or ROLLING)
    if strategy not in SHIFTING_STRATEGIES:
        problems.append(f"its strategy {strategy} keeps no old tasks to switch back to")
    else:
        raw = config.get("bakeTimeInMinutes")
        bake = 0 if raw in (None, "") else int(str(raw))
        if bake < minimum:
            problems.append(f"it bakes {bake} minute(s), fewer than {minimum} (minBakeTimeMinutes)")
    if problems:
        return Violation(f"a deployment that fails real traffic is not contained: {'; '.join(problems)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-service-require-alarm-rollback-and-bake",
    description="ECS services roll a deployment back on at least one CloudWatch alarm and deploy blue/green, "
                "canary or linear with a bake time of at least minBakeTimeMinutes; mandatory on production "
                "stacks, advisory on the others.",
    severity="medium",
    enforcement="mandatory",
    non_production_enforcement="advisory",
    criteria=("CC8.1",),
    remediation="Set alarms = {enable: true, rollback: true, alarmNames: [...]} and deploymentConfiguration = "
                "{strategy: BLUE_GREEN (or CANARY, LINEAR), bakeTimeInMinutes: >= minBakeTimeMinutes} on the service "
                "(Rampart: rampart:services.<name>.deployment, strategy blue_green and bakeTimeMinutes; the "
                "service's own 5xx, unhealthy-target and p99 alarms roll back by default).",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html",
    resource_types=ECS_SERVICE,
    check=check,
    thresholds=("minBakeTimeMinutes", "productionStacks"),
    peer="(none)",
)
