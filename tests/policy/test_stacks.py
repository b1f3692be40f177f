"""Acceptance on this repository's own stacks: the plans pass; breaking a secure default fails, named."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rampart.config import load_stack_config
from rampart.cli import main as cli
from rampart.offline.check import check_stack
from readiness_today import pending

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
#: Policies that relate a service to the environment's listener or ALB security group.
CROSS_STACK_RELATIONS = {"aws-lb-listenerrule-disallow-http-forwarding", "aws-ecs-service-require-load-balancer-only-ingress"}
STACKS = sorted(p.name.split(".")[1] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("stack", STACKS)
def test_repository_stacks_have_no_mandatory_violation(stack: str) -> None:
    result = check_stack(REPO, stack)
    bad = [(o.policy, o.urn, o.message) for o in result.analysis.mandatory_violations()]
    assert bad == [], f"stack {stack}: mandatory violations {bad}"
    # What a readiness policy cannot read from this plan (readiness_today.py, pinned exactly both ways by
    # test_readiness_stacks) is the only other unknown allowed.
    unknown = [(o.policy, o.urn) for o in result.analysis.outcomes if o.kind == "unknown"
               and not pending(stack, o.policy, "unknown")]
    if load_stack_config(REPO, stack).environment_stack is not None:
        # The listener and the ALB's group live in the environment's stack, whose own check judges
        # them; here the two relationships to them cannot be shown either way, and say so.
        unknown = [(p, u) for p, u in unknown if p not in CROSS_STACK_RELATIONS]
    assert unknown == [], f"stack {stack}: a resolved plan should leave nothing unknown: {unknown}"
    judged = {o.policy for o in result.analysis.outcomes if o.kind in ("compliant", "violation", "waived")}
    # A services-only stack has no network, load balancer or web ACL of its own to judge.
    minimum = 40 if load_stack_config(REPO, stack).environment is not None else 25
    assert len(judged) >= minimum, f"stack {stack}: only {len(judged)} policies judged a resource"


def test_root_user_in_the_app_dockerfile_fails_the_check(project_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = project_copy
    dockerfile = project / "app" / "Dockerfile"
    text, n = re.subn(r"(?m)^USER .*$", "USER root", dockerfile.read_text())
    assert n >= 1
    dockerfile.write_text(text)
    code = cli(["check", "-C", str(project), "--stack", "prod"])
    out = capsys.readouterr().out
    assert code == 1, out
    line = next(l for l in out.splitlines() if l.startswith("- [mandatory] docker-image-require-dockerfile-controls on "))
    assert "docker:index/image:Image::" in line and "(CC6.1, CC6.8, CC8.1)" in line and "non-root-user" in line, line


@pytest.mark.parametrize("stack", STACKS)
def test_evidence_report_shows_the_stack_file_overrides(stack: str, tmp_path: Path) -> None:
    import json

    import yaml

    from rampart.offline.report import verify_report, write_reports

    settings = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"].get("rampart:policy") or {}
    result = check_stack(REPO, stack)
    paths = write_reports(result, tmp_path, ["json", "html"])
    assert all(verify_report(p) for p in paths)
    report = json.loads(paths[0].read_text())["report"]
    shown = {o["policy"]: o["effective"] for o in report["enforcementOverrides"]}
    assert shown == {k: v for k, v in (settings.get("enforcement") or {}).items() if v != "mandatory"}
    assert len(report["waivers"]) == len(settings.get("waivers") or [])
    assert report["git"]["commit"] != "unknown (not a git checkout)"
    subject_types = {t for meta in result.analysis.policies.values() for t in meta.types}
    subjects = {r.urn for r in result.resources if r.type in subject_types}
    judged = {x["urn"] for c in report["controls"] for x in c["resources"]}
    only_na = {o.urn for o in result.analysis.outcomes} - {o.urn for o in result.analysis.outcomes if o.kind != "not-applicable"}
    assert judged <= subjects and subjects - judged <= only_na, (
        f"resources a control applies to but missing from the evidence: {sorted(subjects - judged - only_na)}")
    # each WebService of the plan has its section: the controls that judged the resources under it
    planned_services = {u for u, (t, _) in result.tree.items() if t == "rampart:web_service:WebService"}
    assert planned_services and {s["urn"] for s in report["services"]} == planned_services
    for s in report["services"]:
        assert any(p["policy"] == "aws-ecs-service-require-load-balancer-only-ingress" for p in s["policies"]), s["name"]
