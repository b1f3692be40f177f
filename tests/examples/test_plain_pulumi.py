"""examples/plain-pulumi from the installed wheel: a program with no Rampart component, checked by
Rampart's pack (`rampart pack-path`) and AWSGuard (`@pulumi/awsguard`, npm) together, each pack
configured as the Pulumi CLI configures it (AWSGuard by its `new AwsGuard({...})` initial config)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from installed_wheel import Installed
from tests.examples.examples_support import example_copy, ok

NAME = "plain-pulumi"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_copy(NAME, tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="module")
def awsguard(project: Path) -> Path:
    """The example's AWSGuard pack with its npm dependencies (`npm ci` from its package-lock.json)."""
    npm = shutil.which("npm")
    assert npm, "npm is not installed: run scripts/install-node.sh (scripts/test does)"
    pack = project / "awsguard"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=pack, check=True,
                   capture_output=True, timeout=900)
    return pack


def test_it_plans_plain_pulumi_aws_resources(installed: Installed, project: Path) -> None:
    out = ok(installed.run("plan", "--stack", "dev", cwd=project))
    for resource in ("aws:kms/key:Key  archive-key", "aws:s3/bucket:Bucket  archive", "aws:s3/bucketLogging:BucketLogging  archive-logging"):
        assert resource in out, out
    assert "rampart:" not in out, "no Rampart component in this program"


@pytest.fixture(scope="module")
def checked(installed: Installed, project: Path, awsguard: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:  # type: ignore[type-arg]
    """`rampart check` with both packs, as the example's README runs it: its output and its JSON report."""
    report_dir = tmp_path_factory.mktemp("report")
    pack_path = ok(installed.run("pack-path")).strip()
    out = ok(installed.run("check", "--stack", "dev", "--policy-pack", pack_path, "--policy-pack", awsguard.name,
                           "--report", str(report_dir), "--format", "json", cwd=project))
    return out, json.loads((report_dir / "soc2-dev.json").read_text())["report"]


def test_ramparts_pack_and_awsguard_check_it_together(checked: tuple[str, dict]) -> None:  # type: ignore[type-arg]
    out, report = checked
    assert "0 mandatory violation(s)" in out and "PASSED" in out, out
    assert {p["name"] for p in report["pack"]["packs"]} == {"rampart-soc2", "pulumi-awsguard"}, report["pack"]
    controls = {c["policy"]: c for c in report["controls"]}
    # Rampart's pack judges the plain resources as it judges a component's
    for policy in ("aws-kms-key-enable-rotation", "aws-s3-bucket-require-encryption",
                   "aws-s3-bucket-require-server-access-logging", "aws-s3-bucket-require-tls-requests-only"):
        assert controls[policy]["outcome"] == "compliant", controls[policy]


def test_awsguards_initial_config_is_honoured(checked: tuple[str, dict]) -> None:  # type: ignore[type-arg]
    """awsguard/index.js: `all: "mandatory"`, two policies disabled."""
    controls = {c["policy"]: c for c in checked[1]["controls"]}
    key = controls["cmk-backing-key-rotation-enabled"]
    assert (key["enforcement"], key["outcome"]) == ("mandatory", "compliant"), key
    for policy in ("acm-certificate-expiration", "s3-bucket-logging-enabled"):
        assert controls[policy]["enforcement"] == "disabled", controls[policy]
