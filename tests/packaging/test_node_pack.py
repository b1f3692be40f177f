"""A Node.js policy pack beside Rampart's: a repeated --policy-pack starts it the way the Pulumi CLI
does (`node <its @pulumi/pulumi/cmd/run-policy-pack> <engine> .` in the pack directory), configures
it with fully formed Configure entries, and its findings join the summary and the evidence report.

The pack (tests/packs/node-team-tags) gets @pulumi/policy and @pulumi/pulumi from npm through
`npm ci` in a session fixture (scripts/install-node.sh provides node and npm on a fresh machine).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from app_team import write_project

from rampart.offline.analyzer import config_request

#: The safe-deploy policy, which advises a rolling service on a stack that is not production.
SAFE_DEPLOY = "aws-ecs-service-require-alarm-rollback-and-bake"

ROOT = Path(__file__).resolve().parents[2]
NODE_PACK = ROOT / "tests" / "packs" / "node-team-tags"


@pytest.fixture(scope="session")
def node_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm = shutil.which("npm")
    assert npm, "npm is not installed: run scripts/install-node.sh (scripts/test does)"
    pack = tmp_path_factory.mktemp("node-pack") / "node-team-tags"
    shutil.copytree(NODE_PACK, pack, ignore=shutil.ignore_patterns("node_modules"))
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=pack, check=True,
                   capture_output=True, timeout=600)
    return pack


def _check(project: Path, *packs: Path, report: Path) -> subprocess.CompletedProcess[str]:
    args = [arg for pack in packs for arg in ("--policy-pack", str(pack))]
    return subprocess.run([sys.executable, "-m", "rampart", "check", "-C", str(project), "--stack", "dev", *args,
                           "--report", str(report), "--format", "json,md"],
                          cwd=project, capture_output=True, text=True, timeout=300)


def test_a_nodejs_pack_adds_its_findings_to_the_summary_and_the_report(node_pack: Path, tmp_path: Path) -> None:
    from rampart_soc2.policy_pack import PACK_DIR

    project = write_project(tmp_path / "shop")
    result = _check(project, PACK_DIR, node_pack, report=tmp_path / "report")
    assert result.returncode == 0, result.stdout + result.stderr  # the Node.js policy is advisory
    assert "(rampart-soc2 0.1.0: " in result.stdout.splitlines()[0] and "node-team-tags 0.1.0: 1)" in result.stdout.splitlines()[0]
    summary = next(ln for ln in result.stdout.splitlines() if ln.startswith("aws-require-team-tag "))
    assert "FAIL (advisory)" in summary and "shop-lb-alb" in summary, summary
    # The policy's tagKey came from its config schema's default, in the Configure request's properties.
    assert "no 'team' tag" in result.stdout, result.stdout

    report = json.loads((tmp_path / "report" / "soc2-dev.json").read_text())["report"]
    packs = {p["name"]: p for p in report["pack"]["packs"]}
    assert set(packs) == {"rampart-soc2", "node-team-tags"}
    assert packs["node-team-tags"]["policies"] == 1 and packs["node-team-tags"]["counts"]["violation"] > 0
    # Rampart's own findings are only its advice to the two rolling services (the components' default) to
    # deploy blue/green with a bake time: advisory, since dev is not a production stack.
    advice = [ln for ln in result.stdout.splitlines()
              if ln.startswith("- [advisory] ") and not ln.startswith("- [advisory] aws-require-team-tag ")]
    assert len(advice) == 2 and all(ln.startswith(f"- [advisory] {SAFE_DEPLOY} ") for ln in advice), advice
    assert packs["rampart-soc2"]["policies"] >= 45 and packs["rampart-soc2"]["counts"]["violation"] == len(advice)
    assert any(v["policy"] == "aws-require-team-tag" and v["urn"].endswith("::shop-lb-alb") for v in report["violations"])
    assert "node-team-tags" in (tmp_path / "report" / "soc2-dev.md").read_text()


def test_the_nodejs_pack_alone_replaces_the_default_pack(node_pack: Path, tmp_path: Path) -> None:
    result = _check(write_project(tmp_path / "shop"), node_pack, report=tmp_path / "report")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 policies (node-team-tags 0.1.0: 1)" in result.stdout.splitlines()[0], result.stdout


def test_every_configure_entry_carries_a_properties_struct() -> None:
    request = config_request({"a": "advisory", "b": {"enforcementLevel": "mandatory", "limit": 3}}, {"a": "mandatory", "b": "advisory"})
    for name in ("a", "b"):
        assert request.policyConfig[name].HasField("properties"), name
    assert dict(request.policyConfig["b"].properties) == {"limit": 3}
