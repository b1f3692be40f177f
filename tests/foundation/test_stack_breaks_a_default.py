"""Issue 6's acceptance on the real stacks: breaking one secure default in a stack file makes
`rampart check` exit 1 and name the policy, the resource and the criteria. The stack config
accepts such values (they are valid AWS settings); judging them is the policy pack's job, except where a
setting mirrors a pack threshold (issue 22): there the plan refuses what the check would fail."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def check(project: Path, stack: str, mutate: Callable[[dict[str, Any]], None]) -> subprocess.CompletedProcess[str]:
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(path.read_text())
    mutate(doc["config"])
    path.write_text(yaml.safe_dump(doc))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "rampart", "check", "-C", str(project), "--stack", stack],
                          capture_output=True, text=True, env=env, timeout=300)


def set_retention_30(config: dict[str, Any]) -> None:
    config["rampart:environment"]["monitoring"]["logRetentionDays"] = 30


def one_task_and_no_policy_section(config: dict[str, Any]) -> None:
    config.pop("rampart:policy")
    config["rampart:services"]["web"].update(desiredCount=1, minCount=1)


def drop_known_bad_inputs(config: dict[str, Any]) -> None:
    config["rampart:environment"]["waf"]["managedRuleGroups"] = ["AWSManagedRulesCommonRuleSet"]


def build_from_latest(config: dict[str, Any]) -> None:
    config["rampart:services"]["web"]["image"]["build"]["args"] = {"NODE_IMAGE": "node:latest"}


def no_alarm_address(config: dict[str, Any]) -> None:
    config["rampart:environment"]["monitoring"].pop("alarmEmailEndpoints")


def no_rollback_alarms(config: dict[str, Any]) -> None:
    config["rampart:services"]["web"]["deployment"]["rollbackAlarms"] = []


def rolling_deploys(config: dict[str, Any]) -> None:
    config["rampart:services"]["web"].pop("deployment")


def short_bake(config: dict[str, Any]) -> None:
    config["rampart:services"]["web"]["deployment"]["bakeTimeMinutes"] = 9


@pytest.mark.parametrize(
    ("mutate", "policy", "resource", "criteria"),
    [
        (no_rollback_alarms, "aws-ecs-service-require-alarm-rollback-and-bake", "service:Service::", "CC8.1"),
        (rolling_deploys, "aws-ecs-service-require-alarm-rollback-and-bake", "service:Service::", "CC8.1"),
        (short_bake, "aws-ecs-service-require-alarm-rollback-and-bake", "service:Service::", "CC8.1"),
        (one_task_and_no_policy_section, "aws-ecs-service-require-min-task-count", "service:Service::", "A1.2"),
        (drop_known_bad_inputs, "aws-wafv2-webacl-require-managed-rule-groups", "webAcl:WebAcl::", "CC6.8"),
        (build_from_latest, "docker-image-require-dockerfile-controls", "image:Image::", "CC8.1"),
        (no_alarm_address, "aws-cloudwatch-metricalarm-require-subscribed-topic", "metricAlarm:MetricAlarm::", "CC7.4"),
    ],
)
def test_breaking_a_default_in_prod_fails_the_check(project_copy: Path, mutate: Callable[[dict[str, Any]], None], policy: str, resource: str, criteria: str) -> None:
    result = check(project_copy, "prod", mutate)
    assert result.returncode == 1, result.stdout + result.stderr
    # A policy may judge several resources (the service and its scaling target); one is the resource named.
    violations = [line for line in result.stdout.splitlines() if line.startswith(f"- [mandatory] {policy} on ")]
    assert any(resource in line and criteria in line for line in violations), result.stdout


def test_a_retention_below_the_stacks_minimum_is_refused_at_plan(project_copy: Path) -> None:
    """Log retention mirrors the pack's minLogRetentionDays (issue 22): the plan refuses what the check would
    fail, naming the key and the threshold, instead of planning a stack that fails the check."""
    result = check(project_copy, "prod", set_retention_30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "rampart:environment.monitoring.logRetentionDays: 30 days is less than the SOC 2 pack's minimum log retention, 365 days" in result.stderr
    assert "`rampart:policy.minLogRetentionDays`" in result.stderr


#: The prod stack's alarms: the environment's two and the web service's eleven (nginx ingress: six on its
#: target group and tasks, two on its sidecar's access-log metrics; blue/green: three on its alternate target group).
ALARMS = ("rampart-alarm-alb-5xx", "rampart-alarm-waf-blocked", *(
    f"web-alarm-{a}" for a in ("5xx-rate", "unhealthy-targets", "no-healthy-targets", "p99-latency", "cpu", "memory",
                               "429-surge", "upstream-5xx-surge", "5xx-rate-alternate", "unhealthy-targets-alternate",
                               "p99-latency-alternate")))


def test_a_waiver_records_that_another_system_subscribes(project_copy: Path) -> None:
    def paged_elsewhere(config: dict[str, Any]) -> None:
        no_alarm_address(config)
        config["rampart:policy"]["waivers"] = [
            {"policy": "aws-cloudwatch-metricalarm-require-subscribed-topic", "resource": alarm,
             "reason": "PagerDuty subscribes to this topic from the incident-tooling stack", "expires": "2099-12-31"}
            for alarm in ALARMS
        ]

    result = check(project_copy, "prod", paged_elsewhere)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 mandatory violation(s)" in result.stdout and f"{len(ALARMS)} waived" in result.stdout, result.stdout


def test_dev_without_an_alarm_address_is_advised_not_blocked(project_copy: Path) -> None:
    result = check(project_copy, "dev", no_alarm_address)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "- [advisory] aws-cloudwatch-metricalarm-require-subscribed-topic on " in result.stdout, result.stdout
