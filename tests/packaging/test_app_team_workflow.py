"""The GitHub Actions example docs/policy.md gives app teams is a valid workflow running `rampart check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "app-team-soc2.yml"


def test_the_app_team_workflow_example_is_a_valid_github_workflow() -> None:
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                             str(EXAMPLE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = yaml.safe_load(EXAMPLE.read_text())["jobs"]["rampart-check"]["steps"]
    assert any("rampart check --stack" in str(step.get("run", "")) for step in steps)
    assert "docs/examples/app-team-soc2.yml" in (ROOT / "docs" / "policy.md").read_text()
