"""Acceptance: a component user's own Pulumi program that composes an Environment and two
WebServices with only the required args (and the address the alarms go to, and the health check
their image runs: an image built elsewhere, whose HEALTHCHECK the program cannot read) passes the SOC 2 pack,
run as the Pulumi CLI runs it (`rampart check`: the program under the mock engine, the pack as its
own process over the Analyzer gRPC protocol).

The same program with two explicit opt-outs fails the check, so the pass is not vacuous.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The stack file `rampart check` validates and reads its pack settings from; the program below
# ignores the `rampart:` sections and composes the components itself.
STACK = """\
config:
  aws:region: us-east-1
  rampart:environment:
    loadBalancer:
      certificateArns:
        - arn:aws:acm:us-east-1:123456789012:certificate/abc
  rampart:tags:
    owner: shop-team
    environment: dev
    dataClassification: internal
"""


PROGRAM = '''\
"""A component user's program: one Environment and two WebServices with only the required args."""
import pulumi
from rampart.components import Environment, EnvironmentArgs, LoadBalancerSettings, MonitoringArgs, WebService, WebServiceArgs

environment = Environment("shop", EnvironmentArgs(
    load_balancer=LoadBalancerSettings(certificate_arns=["arn:aws:acm:us-east-1:123456789012:certificate/abc"]{lb_extra}),
    compliance={{"recorder": {{"existing": "default"}}}},
    {monitoring}{env_extra}
))
web = WebService("web", WebServiceArgs(
    environment_ref=environment.ref,
    image="123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:" + "a" * 64,
    image_repository_arn="arn:aws:ecr:us-east-1:123456789012:repository/shop",
    container_health_check={{"command": ["CMD", "/server", "-health"]}},
))
api = WebService("api", WebServiceArgs(
    environment_ref=environment.ref,
    image="123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:" + "a" * 64,
    image_repository_arn="arn:aws:ecr:us-east-1:123456789012:repository/shop",
    routing={{"paths": ["/api/*"]}},
    container_health_check={{"command": ["CMD", "/server", "-health"]}},
))
pulumi.export("url", web.url)
pulumi.export("apiUrl", api.url)
'''


ON_CALL = 'monitoring=MonitoringArgs(alarm_email_endpoints=["oncall@example.com"]),'
#: Six alarms per service (its target group and tasks) and two of the environment's (ALB 5xx, WAF).
ALARMS = 6 * 2 + 2
#: The two services deploy rolling (the components' default): the safe-deploy policy advises blue/green with a
#: bake time, advisory because the stack is not a production stack.
ROLLING_ADVICE = 2
SAFE_DEPLOY = "aws-ecs-service-require-alarm-rollback-and-bake"


def _project(tmp_path: Path, lb_extra: str = "", env_extra: str = "", monitoring: str = ON_CALL) -> Path:
    project = tmp_path / "app-team"
    (project / "stacks").mkdir(parents=True)
    shutil.copy2(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(STACK)
    (project / "__main__.py").write_text(PROGRAM.format(lb_extra=lb_extra, env_extra=env_extra, monitoring=monitoring))
    return project


def _check(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rampart", "check", "-C", str(project), "--stack", "dev",
         "--policy-pack", str(ROOT / "policy" / "soc2")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_required_args_only_pass_the_pack(tmp_path: Path) -> None:
    result = _check(_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"0 mandatory violation(s), {ROLLING_ADVICE} advisory" in result.stdout, result.stdout
    advice = [ln for ln in result.stdout.splitlines() if ln.startswith("- [advisory] ")]
    assert len(advice) == ROLLING_ADVICE and all(ln.startswith(f"- [advisory] {SAFE_DEPLOY} ") for ln in advice), advice
    for policy in ("aws-lb-loadbalancer-require-waf-association", "aws-ecs-taskdefinition-require-read-only-root-filesystem",
                   "aws-s3-bucket-require-tls-requests-only", "aws-cloudwatch-loggroup-require-kms-encryption"):
        line = next((ln for ln in result.stdout.splitlines() if ln.startswith(policy)), "")
        assert " pass " in line, f"{policy}: {line or 'not in the summary'}"


def test_alarms_that_notify_no_one_are_reported(tmp_path: Path) -> None:
    result = _check(_project(tmp_path, monitoring=""))
    # The stack is not a production stack, so the finding is advisory and the check passes.
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"0 mandatory violation(s), {ALARMS + ROLLING_ADVICE} advisory" in result.stdout, result.stdout
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("aws-cloudwatch-metricalarm-require-subscribed-topic"))
    assert " fail " in line or "advisory" in line, line


def test_explicit_opt_outs_fail_the_pack(tmp_path: Path) -> None:
    result = _check(_project(tmp_path, lb_extra=", deletion_protection=False", env_extra="\n    waf=None,"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "aws-lb-loadbalancer-require-waf-association" in result.stdout
