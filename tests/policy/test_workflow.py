"""The users' CI workflow: valid against GitHub's schema (offline), and wired as documented."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "soc2.yml"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_workflow_validates_against_the_github_workflow_schema() -> None:
    result = validate(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    doc["jobs"]["rampart-check"]["runs-on"] = {"not": "valid"}
    doc["jobs"]["rampart-check"]["steps"][0] = {"uses": "actions/checkout@v4", "bogus-key": 1}
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(doc))
    assert validate(broken).returncode != 0


def test_workflow_runs_the_pack_for_every_stack_and_uploads_the_html_report() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    stacks = sorted(p.name.split(".")[1] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
    assert "pull_request" in doc[True]  # `on:` parses as True in YAML 1.1
    check, preview = doc["jobs"]["rampart-check"], doc["jobs"]["pulumi-preview"]
    assert sorted(check["strategy"]["matrix"]["stack"]) == stacks
    assert sorted(preview["strategy"]["matrix"]["stack"]) == stacks
    runs = " ".join(s.get("run", "") for s in check["steps"])
    assert "rampart check --stack" in runs and "html" in runs
    upload = next(s for s in check["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and "soc2-report" in upload["with"]["path"]
    action = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert action["with"]["command"] == "preview" and action["with"]["policyPacks"] == "policy/soc2"
    assert "policy-config-" in action["with"]["policyPackConfigs"]
    emit = " ".join(s.get("run", "") for s in preview["steps"])
    assert "--emit-pack-config" in emit
