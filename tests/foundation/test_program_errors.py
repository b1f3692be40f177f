"""Mistakes in a program point where the user wrote the value (issue 20, deliver 4 and 5).

Each case runs the `rampart` CLI on a small program in a tmp dir, as an app team would: one message
on stderr naming the program file and line, the component and resource name written there and the
argument in Python's words (snake_case), no traceback (`--debug` adds it), exit 2. A mistake in a
stack file names the stack file and the key, with a "Did you mean" when one is close.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

STACK = "config:\n  aws:region: us-east-1\n"
HEAD = '''\
import pulumi
from rampart.components import (Environment, EnvironmentArgs, LoadBalancerSettings, MonitoringArgs,
                                WebService, WebServiceArgs)
from rampart.components.waf import WafSettings

config = pulumi.Config()
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:" + "a" * 64
repository = "arn:aws:ecr:us-east-1:123456789012:repository/shop"
'''
ENVIRONMENT = '''\
environment = Environment("shop", EnvironmentArgs(
    load_balancer=LoadBalancerSettings(certificate_arns=["arn:aws:acm:us-east-1:123456789012:certificate/abc"]),
    monitoring=MonitoringArgs(alarm_email_endpoints=["oncall@example.com"]), compliance={{"recorder": "none"}},
    waf=WafSettings(rate_limit={rate_limit}),{thresholds}
))
'''


def write_program(directory: Path, body: str, *, rate_limit: int = 1000, stack: str = STACK, thresholds: str = "") -> Path:
    """A project `shop` with stack `dev`: the imports, an environment (`thresholds`: its policy_thresholds,
    Python source), then `body`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text("name: shop\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text(stack)
    (directory / "__main__.py").write_text(HEAD + ENVIRONMENT.format(rate_limit=rate_limit, thresholds=f" policy_thresholds={thresholds}," if thresholds else "") + body)
    return directory


def rampart(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rampart", *args], cwd=project, capture_output=True, text=True,
                          timeout=300)


def assert_one_message(result: subprocess.CompletedProcess[str], *expected: str, one_line: bool = True) -> str:
    """Exit 2, one message on stderr (one line, or a stack file's list of problems) that contains every
    `expected` piece, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip()
    assert message.count("rampart plan:") + message.count("rampart check:") == 1, message
    assert not one_line or len(message.splitlines()) == 1, message
    for piece in expected:
        assert piece in message, f"{piece!r} not in {message!r}"
    return message


def service(name: str, routing: str = "") -> str:
    extra = f", routing={routing}" if routing else ""
    return (f'{name} = WebService("{name}", WebServiceArgs(environment_ref=environment.ref, image=image,\n'
            f'    image_repository_arn=repository{extra}))\n')


def test_a_refused_argument_names_program_line_component_resource_and_python_argument(tmp_path: Path) -> None:
    project = write_program(tmp_path / "shop", "", rate_limit=5)
    line = assert_one_message(rampart(project, "plan", "--stack", "dev"),
                              "__main__.py line 12", "Environment('shop', ...)", "WafSettings.rate_limit = 5",
                              "greater than or equal to 10")
    assert "Pulumi.dev.yaml" not in line and "rateLimit" not in line  # not the stack file, not camelCase


def test_the_rate_limit_bounds_at_the_limit_and_one_past(tmp_path: Path) -> None:
    """AWS's bounds (10..2e9) are the type's; within them, the SOC 2 pack's thresholds in effect (issue 22):
    10 plans only where the program's thresholds allow it, and the pack's default minimum (100) refuses 99."""
    widest = '{"rateLimitMin": 10, "rateLimitMax": 2000000000}'
    at_limit = rampart(write_program(tmp_path / "ten", "", rate_limit=10, thresholds=widest), "plan", "--stack", "dev")
    assert at_limit.returncode == 0, at_limit.stderr
    assert_one_message(rampart(write_program(tmp_path / "nine", "", rate_limit=9, thresholds=widest), "plan", "--stack", "dev"),
                       "WafSettings.rate_limit = 9")
    assert_one_message(rampart(write_program(tmp_path / "big", "", rate_limit=2_000_000_001, thresholds=widest), "plan", "--stack", "dev"),
                       "WafSettings.rate_limit = 2000000001", "less than or equal to 2000000000")
    assert rampart(write_program(tmp_path / "hundred", "", rate_limit=100), "plan", "--stack", "dev").returncode == 0
    assert_one_message(rampart(write_program(tmp_path / "ninety-nine", "", rate_limit=99), "plan", "--stack", "dev"),
                       "__main__.py line 9", "waf.rate_limit: 99 is outside the SOC 2 pack's rate limit bounds [100, 10000]",
                       "`rampart:policy.rateLimitMin`", "EnvironmentArgs.policy_thresholds")


def test_a_missing_argument_is_named_in_snake_case_with_its_service(tmp_path: Path) -> None:
    body = 'web = WebService("web", WebServiceArgs(environment_ref=environment.ref, image=image))\n'
    line = assert_one_message(rampart(write_program(tmp_path / "shop", body), "plan", "--stack", "dev"),
                              "__main__.py line 14", "WebService('web', ...)",
                              "WebServiceArgs.image_repository_arn is required")
    assert "imageRepositoryArn" not in line and "Pulumi.dev.yaml" not in line


def test_two_services_on_one_path_name_the_second_and_the_argument(tmp_path: Path) -> None:
    body = service("web", '{"paths": ["/api/*"]}') + service("api", '{"paths": ["/api/*"]}')
    assert_one_message(rampart(write_program(tmp_path / "shop", body), "plan", "--stack", "dev"),
                       "__main__.py line 16", "WebService('api', ...)", "services.api.routing", "services.web.routing",
                       "'/api/*'")


def test_two_services_at_one_priority_name_the_second_and_the_argument(tmp_path: Path) -> None:
    body = service("web", '{"paths": ["/a/*"], "priority": 100}') + service("api", '{"paths": ["/b/*"], "priority": 100}')
    assert_one_message(rampart(write_program(tmp_path / "shop", body), "plan", "--stack", "dev"),
                       "__main__.py line 16", "WebService('api', ...)", "routing.priority", "priority 100")


def test_a_missing_required_config_key_names_the_key_and_the_stack_file(tmp_path: Path) -> None:
    body = 'pulumi.export("digest", config.require("imageDigest"))\n'
    line = assert_one_message(rampart(write_program(tmp_path / "shop", body), "plan", "--stack", "dev"),
                              "__main__.py line 14", "`shop:imageDigest`", "Pulumi.dev.yaml",
                              "pulumi config set imageDigest")
    # A function call (`pulumi.export("digest", ...)`, `config.require(...)`) is not named as if it were a resource.
    assert line.startswith("rampart plan: __main__.py line 14: the program requires"), line


def test_debug_shows_the_traceback_after_the_same_message(tmp_path: Path) -> None:
    project = write_program(tmp_path / "shop", "", rate_limit=5)
    for argv in (["--debug", "plan", "--stack", "dev"], ["plan", "--stack", "dev", "--debug"]):
        result = rampart(project, *argv)
        assert result.returncode == 2
        assert "Traceback (most recent call last)" in result.stderr and "ValidationError" in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("rampart plan: __main__.py line 12"), result.stderr


def test_project_dir_before_or_after_the_subcommand(tmp_path: Path) -> None:
    project = write_program(tmp_path / "shop", "", rate_limit=5)
    for argv in (["-C", str(project), "plan", "--stack", "dev"], ["plan", "-C", str(project), "--stack", "dev"]):
        result = subprocess.run([sys.executable, "-m", "rampart", *argv], cwd=tmp_path, capture_output=True,
                                text=True, timeout=300)
        assert_one_message(result, "WafSettings.rate_limit = 5")


def test_the_same_clash_in_ramparts_own_stack_file_names_the_stack_key(tmp_path: Path) -> None:
    project = tmp_path / "rampart"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    services = stack["config"]["rampart:services"]
    first, second = list(services)[:2]
    services[second]["routing"] = dict(services[first]["routing"])
    (project / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    line = assert_one_message(rampart(project, "plan", "--stack", "dev"), "Pulumi.dev.yaml",
                              f"rampart:services.{second}.routing", f"rampart:services.{first}.routing", "both claim",
                              one_line=False)
    assert "__main__.py" not in line


# ----------------------------------------------------------------------------- stack files of any program

def test_a_misspelled_policy_key_in_a_programs_stack_file_gets_a_suggestion(tmp_path: Path) -> None:
    project = write_program(tmp_path / "shop", "", stack=STACK + "  rampart:policy:\n    minTaskCont: 5\n")
    result = rampart(project, "check", "--stack", "dev")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "Pulumi.dev.yaml" in result.stderr and "rampart:policy.minTaskCont: unknown key" in result.stderr
    assert "Did you mean `minTaskCount`?" in result.stderr


def test_a_valid_policy_key_in_a_programs_stack_file_reaches_the_pack(tmp_path: Path) -> None:
    project = write_program(tmp_path / "shop", "", stack=STACK + "  rampart:policy:\n    minTaskCount: 5\n")
    result = rampart(project, "check", "--stack", "dev", "--emit-pack-config", str(tmp_path / "pack.json"))
    assert result.returncode == 0, result.stderr
    assert '"minTaskCount": 5' in (tmp_path / "pack.json").read_text()


def test_a_misspelled_region_names_the_file_the_key_and_the_region_meant(tmp_path: Path) -> None:
    project = write_program(tmp_path / "shop", "", stack="config:\n  aws:region: eu-wset-1\n")
    assert_one_message(rampart(project, "plan", "--stack", "dev"), "Pulumi.dev.yaml: aws:region", "'eu-wset-1'",
                       "did you mean `eu-west-1`?")


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1", "cn-north-1"])
def test_regions_botocore_knows_pass_in_every_partition(region: str) -> None:
    from rampart.config import region_problem

    assert region_problem(region) is None


def test_a_misspelled_region_in_ramparts_own_stack_file_is_refused() -> None:
    from rampart.config import ConfigError, read_stack_values, validate_stack_config

    values = dict(read_stack_values(ROOT, "dev")[1])
    values["aws:region"] = "eu-wset-1"
    with pytest.raises(ConfigError, match=r"aws:region: \"eu-wset-1\" is not valid: 'eu-wset-1' is not an AWS region "
                                          r"botocore knows; did you mean `eu-west-1`\?"):
        validate_stack_config(values, "Pulumi.dev.yaml")


# ----------------------------------------------------------------------------- plan and check agree

def test_check_says_why_it_counts_fewer_resources_than_plan(tmp_path: Path) -> None:
    import re

    project = write_program(tmp_path / "shop", "")
    plan = rampart(project, "plan", "--stack", "dev")
    planned = int(re.search(r"^(\d+) resources by type:", plan.stdout, re.M).group(1))  # type: ignore[union-attr]
    tree = plan.stdout.split("resources by type:", 1)[0]
    components = len(re.findall(r"^\s*rampart:\S+  ", tree, re.M))  # the tree's component resources
    check = rampart(project, "check", "--stack", "dev")
    first = check.stdout.splitlines()[0]
    assert (f"{planned - components} resources (the plan's {planned} less {components} component resources, "
            "which packs are not sent)") in first, (first, plan.stdout)


def test_a_config_value_of_the_wrong_type_names_the_key_the_value_and_the_type(tmp_path: Path) -> None:
    body = 'pulumi.export("replicas", config.require_int("replicas"))\n'
    stack = STACK + "  shop:replicas: two\n"
    assert_one_message(rampart(write_program(tmp_path / "shop", body, stack=stack), "plan", "--stack", "dev"),
                       "__main__.py line 14", "config key `shop:replicas` in Pulumi.dev.yaml is 'two', not the int")
