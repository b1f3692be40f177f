"""examples/platform-and-app from the installed wheel: the platform team's program (an environment,
no service) and the reports team's program, attached to it by stack reference. Offline the
reference is the platform stack's outputs file (`--stack-outputs org/project/stack=FILE`); the
committed file must have the shape the platform program exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from installed_wheel import Installed
from tests.examples.examples_support import EXAMPLES, containers, example_copy, of_type, ok, plan_json

NAME = "platform-and-app"
APP_CONFIG = yaml.safe_load((EXAMPLES / NAME / "reports" / "Pulumi.dev.yaml").read_text())["config"]
PLATFORM_STACK = APP_CONFIG["reports:platformStack"]
OUTPUTS_FILE = "platform-dev.outputs.json"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_copy(NAME, tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="module")
def platform_plan(installed: Installed, example: Path) -> str:
    return ok(installed.run("plan", "--stack", "dev", cwd=example / "platform"))


def planned_outputs(plan_stdout: str) -> dict[str, object]:
    """The `Outputs:` section `rampart plan` prints: name -> JSON value."""
    section = plan_stdout.split("\nOutputs:\n", 1)[1]
    return {m[1]: json.loads(m[2]) for m in re.finditer(r"^  (\w+): (.*)$", section, re.MULTILINE)}


def reports(installed: Installed, example: Path, *args: str) -> str:
    return ok(installed.run(*args, "--stack", "dev", "--stack-outputs", f"{PLATFORM_STACK}={OUTPUTS_FILE}",
                            cwd=example / "reports"))


def test_the_platform_plans_an_environment_and_no_service(platform_plan: str) -> None:
    assert "rampart:environment:Environment  apps" in platform_plan, platform_plan
    assert "rampart:web_service:WebService" not in platform_plan and "aws:ecs/service:Service" not in platform_plan
    assert "environment" in planned_outputs(platform_plan), platform_plan


def test_the_outputs_file_has_the_shape_the_platform_exports(platform_plan: str) -> None:
    """The file stands for `pulumi stack output --json` of the deployed platform stack: the same
    outputs, and the same facts in `environment`, as the platform program exports."""
    exported = planned_outputs(platform_plan)
    committed = json.loads((EXAMPLES / NAME / "reports" / OUTPUTS_FILE).read_text())
    assert set(committed) == set(exported), f"outputs file has {sorted(committed)}, the platform exports {sorted(exported)}"
    assert isinstance(exported["environment"], dict)
    assert set(committed["environment"]) == set(exported["environment"]), (
        f"missing: {sorted(set(exported['environment']) - set(committed['environment']))}; "
        f"extra: {sorted(set(committed['environment']) - set(exported['environment']))}")


def test_the_platform_passes_the_soc2_check(installed: Installed, example: Path) -> None:
    out = ok(installed.run("check", "--stack", "dev", cwd=example / "platform"))
    assert "0 mandatory violation(s)" in out and "PASSED" in out, out


def test_the_app_attaches_its_service_to_the_platforms_listener(installed: Installed, example: Path) -> None:
    out = reports(installed, example, "plan")
    assert "rampart:web_service:WebService  reports" in out, out
    assert "rampart:environment:Environment" not in out and "aws:lb/loadBalancer:LoadBalancer" not in out, (
        "the app stack must not create anything shared")
    environment = json.loads((example / "reports" / OUTPUTS_FILE).read_text())["environment"]
    planned = plan_json(installed, example / "reports", "dev", "--stack-outputs", f"{PLATFORM_STACK}={OUTPUTS_FILE}")
    rules = of_type(planned, "aws:lb/listenerRule:ListenerRule")
    rule, test_rule = rules["reports-route-rule"], rules["reports-route-test-rule"]  # canary: and its test rule
    assert len(rules) == 2, sorted(rules)
    for each in (rule, test_rule):
        assert each["inputs"]["listenerArn"] == environment["https_listener_arn"], each["inputs"]
    assert rule["inputs"]["priority"] == APP_CONFIG["reports:priority"], rule["inputs"]
    assert test_rule["inputs"]["priority"] == APP_CONFIG["reports:priority"] - 1, test_rule["inputs"]
    (service,) = of_type(planned, "aws:ecs/service:Service").values()
    assert service["inputs"]["deploymentConfiguration"]["strategy"] == "CANARY", service["inputs"]
    assert set(service["inputs"]["loadBalancers"][0]["advancedConfiguration"]) == {
        "alternateTargetGroupArn", "productionListenerRule", "testListenerRule", "roleArn"}
    assert service["inputs"]["cluster"] == environment["cluster_arn"], service["inputs"]
    assert service["inputs"]["networkConfiguration"]["subnets"] == environment["private_subnet_ids"]
    (task,) = of_type(planned, "aws:ecs/taskDefinition:TaskDefinition").values()
    app = containers(task)["app"]
    assert app["image"] == APP_CONFIG["reports:image"], app["image"]
    assert app["healthCheck"]["command"] == ["CMD", "/usr/local/bin/reports", "healthcheck"], app["healthCheck"]


def test_the_app_passes_the_soc2_check(installed: Installed, example: Path) -> None:
    out = reports(installed, example, "check")
    assert "0 mandatory violation(s)" in out and "PASSED" in out, out


def test_without_the_platforms_outputs_the_app_says_how_to_give_them(installed: Installed, example: Path) -> None:
    result = installed.run("plan", "--stack", "dev", cwd=example / "reports")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"--stack-outputs {PLATFORM_STACK}=FILE" in result.stderr and "Traceback" not in result.stderr, result.stderr
