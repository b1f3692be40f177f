"""`rampart check` end to end on a small Pulumi project: plan (mock engine) -> pack (gRPC) -> report.

The fixture project is this repository's layout in miniature: Pulumi.yaml, a stack file validated by
the real config model, a program registering real pulumi-aws/docker resources, and a copy of the
policy pack. A `fixture:` config namespace lets a test break one secure default from the stack file.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy_fixtures import COMPLIANT_DOCKERFILE, PACK_DIR
from rampart.cli import main as cli
from rampart.commands.check import parse_formats
from rampart.offline.check import check_stack, pack_config_from_stack, summary_lines
from rampart.errors import UserError
from rampart.offline.report import build_report, render_html, render_json, render_md, verify_report

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e

PROGRAM = '''
import json
import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

fx = pulumi.Config("fixture")
retention = fx.get_int("retention") or 365
http_action = fx.get("httpAction") or "redirect"

key = aws.kms.Key("key", enable_key_rotation=True)
logs = aws.cloudwatch.LogGroup("logs", name="/ecs/web", retention_in_days=retention, kms_key_id=key.arn)
if http_action == "redirect":
    actions = [aws.lb.ListenerDefaultActionArgs(type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
        protocol="HTTPS", port="443", status_code="HTTP_301"))]
else:
    actions = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn="arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/1")]
aws.lb.Listener("http", load_balancer_arn="arn:lb", port=80, protocol="HTTP", default_actions=actions)
repo = aws.ecr.Repository("repo", name="web", image_tag_mutability="IMMUTABLE",
    image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
    encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)])
aws.ecr.LifecyclePolicy("repo-lifecycle", repository=repo.name, policy=json.dumps({"rules": []}))
aws.secretsmanager.Secret("db", kms_key_id=key.arn,
    description=pulumi.Output.secret("a secret-wrapped input"))
docker.Image("image", image_name=repo.repository_url,
    build=docker.DockerBuildArgs(context="app", dockerfile="Dockerfile", platform="linux/amd64"))
'''


def make_project(root: Path, *, fixture: dict[str, Any] | None = None, policy: dict[str, Any] | None = None,
                 stack: str = "dev") -> Path:
    (root / "stacks").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "app" / "Dockerfile").write_text(COMPLIANT_DOCKERFILE)
    (root / "Pulumi.yaml").write_text("name: fixture\nruntime: python\nmain: __main__.py\nstackConfigDir: stacks\n")
    (root / "__main__.py").write_text(PROGRAM)
    values = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    values["rampart:policy"] = policy if policy is not None else {"minTaskCount": 1, "minLogRetentionDays": 365}
    for k, v in (fixture or {}).items():
        values[f"fixture:{k}"] = v
    (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": values}))
    shutil.copytree(PACK_DIR, root / "policy" / "soc2", ignore=shutil.ignore_patterns("__pycache__", "venv"))
    return root


def outcomes(result: Any) -> dict[tuple[str, str], str]:
    return {(o.policy, o.urn.rsplit("::", 1)[-1]): o.kind for o in result.analysis.outcomes}


def test_compliant_project_passes_and_judges_each_resource(tmp_path: Path) -> None:
    result = check_stack(make_project(tmp_path), "dev")
    got = outcomes(result)
    assert not result.failed, summary_lines(result)
    assert got[("aws-cloudwatch-loggroup-require-retention", "logs")] == "compliant"
    assert got[("aws-lb-listener-require-https-redirect", "http")] == "compliant"
    assert got[("aws-ecr-repository-require-lifecycle-policy", "repo")] == "compliant"
    assert got[("docker-image-require-dockerfile-controls", "image")] == "compliant"
    assert got[("aws-secretsmanager-secret-require-cmk", "db")] == "compliant"
    assert {r.type for r in result.resources} >= {"aws:cloudwatch/logGroup:LogGroup", "docker:index/image:Image"}
    assert "pulumi:pulumi:Stack" not in {r.type for r in result.resources}
    secret = next(r for r in result.resources if r.name == "db")
    assert "description" in secret.secret_paths, "secret-marked inputs are re-marked for the pack"


@pytest.mark.parametrize("fixture,policy_id,resource", [
    ({"retention": 30}, "aws-cloudwatch-loggroup-require-retention", "logs"),
    ({"httpAction": "forward"}, "aws-lb-listener-require-https-redirect", "http"),
])
def test_breaking_a_secure_default_exits_1_naming_policy_resource_criteria(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fixture: dict[str, Any], policy_id: str, resource: str) -> None:
    project = make_project(tmp_path, fixture=fixture)
    code = cli(["check", "-C", str(project), "--stack", "dev"])
    out = capsys.readouterr().out
    assert code == 1, out
    line = next(l for l in out.splitlines() if l.startswith(f"- [mandatory] {policy_id} on "))
    assert f"::{resource} (" in line and "CC" in line, line
    summary = next(l for l in out.splitlines() if l.startswith(policy_id))
    assert "FAIL (mandatory)" in summary and resource in summary


def test_stack_policy_settings_advisory_disabled_and_waiver(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = {
        "minTaskCount": 1, "minLogRetentionDays": 30,
        "enforcement": {"aws-lb-listener-require-https-redirect": "advisory",
                        "aws-kms-key-enable-rotation": "disabled"},
        "waivers": [{"policy": "aws-ecr-repository-require-lifecycle-policy", "resource": "repo",
                     "reason": "images are pruned by the release job", "expires": "2099-12-31"}],
    }
    project = make_project(tmp_path, fixture={"retention": 30, "httpAction": "forward"}, policy=policy)
    # remove the lifecycle policy so the waiver has something to cover
    main_py = project / "__main__.py"
    main_py.write_text(main_py.read_text().replace('aws.ecr.LifecyclePolicy("repo-lifecycle"', 'dict(x="repo-lifecycle"'))
    code = cli(["check", "-C", str(project), "--stack", "dev", "--report", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "- [advisory] aws-lb-listener-require-https-redirect on" in out
    report = json.loads((tmp_path / "out" / "soc2-dev.json").read_text())["report"]
    assert {"policy": "aws-lb-listener-require-https-redirect", "default": "mandatory", "effective": "advisory"} in report["enforcementOverrides"]
    assert {"policy": "aws-kms-key-enable-rotation", "default": "mandatory", "effective": "disabled"} in report["enforcementOverrides"]
    [w] = report["waivers"]
    assert w["status"] == "applied" and w["reason"] == "images are pruned by the release job" and w["expires"] == "2099-12-31"
    assert {"setting": "minLogRetentionDays", "value": 30, "policies": ["aws-cloudwatch-loggroup-require-retention"],
            "sentence": "Log groups must keep their logs for at least 30 days."} in report["thresholds"]
    retention = next(c for c in report["controls"] if c["policy"] == "aws-cloudwatch-loggroup-require-retention")
    assert [x["outcome"] for x in retention["resources"]] == ["compliant"], "30 days passes when the stack sets 30"


def test_report_files_are_complete_sealed_and_self_contained(tmp_path: Path) -> None:
    project = make_project(tmp_path, fixture={"retention": 30})
    code = cli(["check", "-C", str(project), "--stack", "dev", "--report", str(tmp_path / "out"), "--format", "md,json,html"])
    assert code == 1
    paths = {p.suffix: p for p in (tmp_path / "out").iterdir()}
    assert set(paths) == {".md", ".json", ".html"}
    for p in paths.values():
        assert verify_report(p), f"{p.name}: recorded SHA-256 does not match its body"
    report = json.loads(paths[".json"].read_text())["report"]
    git = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert report["stack"] == "dev" and report["project"] == "fixture" and report["result"] == "FAIL"
    assert report["git"]["commit"].startswith("unknown") or len(report["git"]["commit"]) == 40
    assert git  # the repository itself is a checkout
    assert report["pack"]["name"] == "rampart-soc2" and report["pack"]["version"] == "0.1.0"
    assert report["tools"]["pulumi-policy"] == "1.21.0"
    crit = {c["id"]: c for c in report["criteria"]}
    assert "aws-cloudwatch-loggroup-require-retention" in crit["C1.2"]["controls"] and crit["C1.2"]["outcome"] == "violation"
    [v] = report["violations"]
    assert v["policy"] == "aws-cloudwatch-loggroup-require-retention" and v["urn"].endswith("::logs")
    html_text = paths[".html"].read_text()
    assert "<script" not in html_text and "http://" not in html_text and "<link" not in html_text
    assert v["urn"] in html_text and v["urn"] in paths[".md"].read_text()
    # tampering breaks the seal
    for p in paths.values():
        p.write_text(p.read_text().replace("keeps logs 30 days", "keeps logs 400 days"))
        assert not verify_report(p), f"{p.name}: an edited report still verifies"


def test_unknown_and_bad_arguments_are_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UserError, match="--format"):
        parse_formats("pdf")
    project = make_project(tmp_path, policy={"enforcement": {"aws-no-such-policy": "advisory"}})
    assert cli(["check", "-C", str(project), "--stack", "dev"]) == 2
    assert "aws-no-such-policy" in capsys.readouterr().err
    assert cli(["check", "-C", str(project), "--stack", "nope"]) == 2


def test_pack_config_from_stack_settings() -> None:
    from rampart.config import PolicySettings

    settings = PolicySettings.model_validate({
        "enforcement": {"aws-lb-loadbalancer-enable-deletion-protection": "advisory"},
        "waivers": [{"policy": "aws-kms-key-enable-rotation", "resource": "key", "reason": "HSM-backed key rotates itself",
                     "expires": "2030-01-01"}],
        "minTaskCount": 2, "minLogRetentionDays": 400})
    cfg = pack_config_from_stack(settings)
    assert cfg["aws-lb-loadbalancer-enable-deletion-protection"] == {"enforcementLevel": "advisory"}
    assert cfg["aws-kms-key-enable-rotation"]["waivers"] == [
        {"policy": "aws-kms-key-enable-rotation", "resource": "key", "reason": "HSM-backed key rotates itself", "expires": "2030-01-01"}]
    assert cfg["aws-cloudwatch-loggroup-require-retention"] == {"minLogRetentionDays": 400}
    assert cfg["aws-ecs-service-require-min-task-count"] == {"minTaskCount": 2}
    raw = pack_config_from_stack({"thresholds": {"allowedTlsPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"],
                                                 "rate_limit_max": 500}})
    assert raw == {"aws-lb-listener-require-tls-policy": {"allowedTlsPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"]},
                   "aws-wafv2-webacl-require-rate-based-rule": {"rateLimitMax": 500}}
    with pytest.raises(UserError, match="thresholds has unknown keys"):
        pack_config_from_stack({"thresholds": {"minRetention": 1}})
    with pytest.raises(UserError, match="advisory, mandatory, disabled"):
        pack_config_from_stack({"enforcement": {"aws-kms-key-enable-rotation": "off"}})


def test_report_renderers_escape_html() -> None:
    report = {"title": "t", "stack": "<s>", "project": "p", "generatedAt": "now", "git": {"commit": "c", "dirty": False},
              "checkpoint": {"name": "preview", "time": "now", "source": "<script>1</script>"}, "headline": "FAIL: <marquee>",
              "tools": {}, "pack": {"name": "n", "version": "v", "policies": 1, "path": "x"}, "method": "m",
              "result": "FAIL", "countsOf": "c", "counts": {}, "resourcesChecked": 1, "mandatoryViolations": 1,
              "enforcementOverrides": [], "waivers": [], "thresholds": [], "unknowns": [], "missing": [],
              "criteria": [], "controls": [],
              "violations": [{"policy": "p", "urn": "u", "enforcement": "mandatory", "criteria": [], "message": "<img src=x>"}]}
    assert "<img src=x>" not in render_html(report) and "&lt;img src=x&gt;" in render_html(report)
    assert "<script>" not in render_html(report) and "<marquee>" not in render_html(report)
    assert render_md(report) and json.loads(render_json(report))["report"]["stack"] == "<s>"


def test_emit_pack_config_for_pulumi_preview(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = {"minTaskCount": 1, "minLogRetentionDays": 300,
              "enforcement": {"aws-lb-loadbalancer-enable-deletion-protection": "advisory"}}
    project = make_project(tmp_path / "p", policy=policy)
    out = tmp_path / "cfg.json"
    assert cli(["check", "-C", str(project), "--stack", "dev", "--emit-pack-config", str(out)]) == 0
    cfg = json.loads(out.read_text())
    assert cfg["aws-lb-loadbalancer-enable-deletion-protection"] == {"enforcementLevel": "advisory"}
    assert cfg["aws-cloudwatch-loggroup-require-retention"] == {"minLogRetentionDays": 300}
