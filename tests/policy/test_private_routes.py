"""Acceptance for access control on this repository's dev stack (copied): a route marked private
with neither sign-in nor an allow-list fails `rampart check`; an OIDC client secret never shows in
the plan JSON, the evidence report or the stack outputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rampart.offline.check import check_stack
from rampart.offline.result import CheckResult
from rampart.offline.mock_engine import mock_secret_string
from rampart.cli import main as cli_main
from rampart.offline.plan import run_stack
from rampart.offline.report import write_reports

pytestmark = pytest.mark.e2e

POLICY = "aws-lb-listenerrule-require-private-access"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rampart/dev/oidc-AbCdEf"
OIDC = {
    "issuer": "https://idp.example.com",
    "authorizationEndpoint": "https://idp.example.com/authorize",
    "tokenEndpoint": "https://idp.example.com/token",
    "userInfoEndpoint": "https://idp.example.com/userinfo",
    "clientId": "rampart-dev",
    "clientSecretArn": SECRET_ARN,
}


def set_web_access(project: Path, access: list[dict[str, object]]) -> None:
    path = project / "stacks" / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["rampart:services"]["web"]["routing"]["access"] = access
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def allow_sign_in_egress(project: Path) -> None:
    """Sign-in routes need the load balancer's egress to the identity provider, an environment setting."""
    path = project / "stacks" / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["rampart:environment"]["loadBalancer"]["signInEgress"] = True
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def outcome_of(result: CheckResult, rule: str) -> str:
    kinds = [o.kind for o in result.analysis.outcomes if o.policy == POLICY and o.urn.endswith(f"::{rule}")]
    assert len(kinds) == 1, f"{POLICY} judged {rule} {len(kinds)} times"
    return kinds[0]


def test_the_dev_stack_keeps_admin_private_by_allow_list(project_copy: Path) -> None:
    result = check_stack(project_copy, "dev")
    assert outcome_of(result, "web-route-access-0-allow") == "compliant"
    assert outcome_of(result, "web-route-access-0-deny") == "compliant"


def test_private_route_with_neither_sign_in_nor_allow_list_fails_the_check(
    project_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_web_access(project_copy, [{"paths": ["/admin/*"], "private": True}])
    code = cli_main(["check", "-C", str(project_copy), "--stack", "dev"])
    out = capsys.readouterr().out
    assert code == 1, out
    line = next(l for l in out.splitlines() if l.startswith(f"- [mandatory] {POLICY} on "))
    assert "web-route-access-0-allow" in line and "(CC6.1)" in line and "neither a sign-in action" in line, line
    assert "rampart:services.<name>.routing.access" in out, "the hint names the stack key to change"


def test_oidc_client_secret_is_never_plain_in_plan_report_or_outputs(project_copy: Path, tmp_path: Path) -> None:
    set_web_access(project_copy, [{"paths": ["/admin/*"], "private": True, "oidc": OIDC}])
    allow_sign_in_egress(project_copy)
    secret = mock_secret_string(SECRET_ARN)
    plan_json = tmp_path / "plan.json"
    assert cli_main(["plan", "-C", str(project_copy), "--stack", "dev", "--json", str(plan_json)]) == 0
    run = run_stack(project_copy, "dev")
    assert run.stack_outputs and secret not in json.dumps(run.stack_outputs, default=str), "an output shows the secret"
    result = check_stack(project_copy, "dev")
    assert outcome_of(result, "web-route-access-0-allow") == "compliant"
    # control: the rule really carries the secret the mock engine answered, as a secret input
    rule = next(r for r in result.resources if r.name == "web-route-access-0-allow")
    assert secret in json.dumps(rule.properties, default=str)
    assert "actions.0.authenticateOidc.clientSecret" in rule.secret_paths
    reports = write_reports(result, tmp_path / "report", ["json", "html", "md"])
    for path in [plan_json, *reports]:
        assert secret not in path.read_text(), f"{path.name} shows the OIDC client secret"
