"""Two stacks deployed into one AWS account must not claim the same physical name.

Names AWS keeps unique per account and region (task families, log groups, ALBs, KMS aliases, ECR
repositories), per account (IAM roles) or across AWS (S3 buckets) must be derived from the stack or
auto-generated; a fixed one makes the second stack's `pulumi up` fail with "already exists", or,
for a task family, silently mixes the two stacks' revisions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.offline.mock_engine import ProgramRun, cross_stack_clashes
from rampart.offline.plan import run_stack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev_and_prod() -> dict[str, ProgramRun]:
    return {stack: run_stack(ROOT, stack) for stack in ("dev", "prod")}


def test_dev_and_prod_in_one_account_claim_no_name_twice(dev_and_prod: dict[str, ProgramRun]) -> None:
    clashes = cross_stack_clashes(dev_and_prod)
    assert clashes == [], "\n".join(str(c) for c in clashes)


def test_the_comparison_sees_the_fixed_names(dev_and_prod: dict[str, ProgramRun]) -> None:
    # The check compares what matters: each stack has fixed, account-scoped names to compare.
    for stack, run in dev_and_prod.items():
        fixed = {n.rule.type for r in run.resources for n in r.physical_names if n.origin == "explicit"}
        for type_ in ("aws:ecs/taskDefinition:TaskDefinition", "aws:cloudwatch/logGroup:LogGroup",
                      "aws:lb/loadBalancer:LoadBalancer", "aws:kms/alias:Alias", "aws:ecr/repository:Repository"):
            assert type_ in fixed, f"{stack}: no fixed {type_} name to compare"


def test_one_stack_file_under_two_stack_names_clashes_only_on_its_own_domain(project_copy: Path) -> None:
    # The dev settings deployed twice (say `dev` and a copy `dev-2` for a feature branch): every name
    # the program derives differs; only the DNS records of the domain the stack file itself names
    # (and must change for the copy) coincide.
    stacks = project_copy / "stacks"
    (stacks / "Pulumi.dev-2.yaml").write_text((stacks / "Pulumi.dev.yaml").read_text())
    runs = {stack: run_stack(project_copy, stack) for stack in ("dev", "dev-2")}
    clashes = cross_stack_clashes(runs)
    assert {c.type for c in clashes} <= {"aws:route53/record:Record"}, "\n".join(str(c) for c in clashes)


def test_rampart_plan_reports_a_name_aws_would_refuse_without_a_traceback(project_copy: Path) -> None:
    import os
    import subprocess
    import sys

    main = project_copy / "__main__.py"
    main.write_text(main.read_text() + '\nimport pulumi_aws as aws\naws.lb.LoadBalancer("extra-alb", name="internal-extra")\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "rampart", "plan", "-C", str(project_copy), "--stack", "dev"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "rampart plan: AWS would refuse this plan (1 finding(s))" in result.stderr, result.stderr
    assert "aws:lb/loadBalancer:LoadBalancer 'extra-alb': name 'internal-extra'" in result.stderr
    assert "must not begin with `internal-`" in result.stderr and "Fix:" in result.stderr


def test_rampart_plan_shows_the_name_aws_will_know_each_resource_by() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "rampart", "plan", "--stack", "prod"], cwd=ROOT,
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    # The environment is named after the project (`rampart`), the prod stack's service is `web`.
    assert "aws:ecs/taskDefinition:TaskDefinition  web-task  [web-prod]" in result.stdout, result.stdout
    assert "aws:lb/loadBalancer:LoadBalancer  rampart-lb-alb  [rampart-lb-prod]" in result.stdout
    assert "aws:ecs/cluster:Cluster  rampart-cluster  [rampart-cluster-" in result.stdout, "auto-names shown too"
