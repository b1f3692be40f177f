"""Packs beside Rampart's behave as under the Pulumi CLI (issue 20, deliver 6).

Each pack's own initialConfig (GetAnalyzerInfo) is applied, then `--policy-pack-config FILE`, one per
`--policy-pack` in the same order (policy name or `all` -> a level or {enforcementLevel, properties}).
A pack that fails to start or whose policy raises is that pack's error, with its message, exit 3;
the exit codes are 0 pass, 1 mandatory violation, 2 usage or configuration error, 3 a pack failed.
The packs are real processes over gRPC: a tiny Python pack written here, and AWSGuard from npm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2

from rampart.offline.analyzer import PackConfigError, reconcile_config, policy_meta
from pulumi.runtime.proto import analyzer_pb2

ROOT = Path(__file__).resolve().parents[2]
AWSGUARD = ROOT / "tests" / "packs" / "awsguard"

#: A plain Pulumi program (no Rampart component): one bucket and one ACM certificate.
PROGRAM = '''\
import pulumi_aws as aws

aws.s3.Bucket("assets")
aws.acm.Certificate("site", domain_name="shop.example.com", validation_method="DNS")
'''

#: A team's Python pack: `team-no-buckets` fires on every bucket (mandatory unless configured);
#: `team-lookup` raises on a certificate when its `explode` property is true (as a policy that calls
#: AWS without credentials does); the pack sets `team-no-buckets` advisory in its own initialConfig.
PACK = '''\
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy


def no_buckets(args, report_violation):
    if args.resource_type == "aws:s3/bucket:Bucket":
        report_violation(f"a bucket ({args.get_config()['why']})")


def lookup(args, report_violation):
    if args.resource_type == "aws:acm/certificate:Certificate" and args.get_config()["explode"]:
        raise RuntimeError("could not describe the certificate: no AWS credentials")


PolicyPack(
    "team-pack",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="team-no-buckets", description="No buckets.", validate=no_buckets,
                                 config_schema=PolicyConfigSchema(properties={"why": {"type": "string", "default": "default reason"}})),
        ResourceValidationPolicy(name="team-lookup", description="Looks a certificate up.", validate=lookup,
                                 config_schema=PolicyConfigSchema(properties={"explode": {"type": "boolean", "default": False}})),
    ],
    initial_config=%(initial)s,
)
'''


def write_program(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "Pulumi.yaml").write_text("name: plain\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (directory / "__main__.py").write_text(PROGRAM)
    return directory


def write_pack(directory: Path, initial: str = '{"team-no-buckets": EnforcementLevel.ADVISORY}',
               source: str | None = None) -> Path:
    """The team's pack; `initial` is its initial_config as Python source."""
    directory.mkdir(parents=True)
    (directory / "PulumiPolicy.yaml").write_text("runtime: python\ndescription: a team's pack\n")
    (directory / "__main__.py").write_text(source if source is not None else PACK % {"initial": initial})
    return directory


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(json.dumps(config))
    return path


def check(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rampart", "check", "--stack", "dev", *args], cwd=project,
                          capture_output=True, text=True, timeout=600)


def summary_row(result: subprocess.CompletedProcess[str], policy: str) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith(policy + " "))


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return write_program(tmp_path / "plain")


# ----------------------------------------------------------------------------- Python packs over gRPC

def test_the_packs_initial_config_is_honoured(project: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack")  # its initialConfig makes the mandatory policy advisory
    result = check(project, "--policy-pack", str(pack))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL (advisory)" in summary_row(result, "team-no-buckets") and "assets" in summary_row(result, "team-no-buckets")
    assert "a bucket (default reason)" in result.stdout  # the property's schema default reached the policy


def test_a_config_file_applies_over_the_initial_config(project: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack")
    config = write_config(tmp_path / "team.json", {"team-no-buckets": {"enforcementLevel": "mandatory", "why": "cost"}})
    result = check(project, "--policy-pack", str(pack), "--policy-pack-config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL (mandatory)" in summary_row(result, "team-no-buckets")
    assert "a bucket (cost)" in result.stdout


def test_all_in_a_config_file_sets_every_policys_level(project: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack", initial="{}")  # no initialConfig: the bucket policy is mandatory
    assert check(project, "--policy-pack", str(pack)).returncode == 1
    config = write_config(tmp_path / "team.json", {"all": "disabled"})
    result = check(project, "--policy-pack", str(pack), "--policy-pack-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "disabled" in summary_row(result, "team-no-buckets")


def test_config_files_go_to_the_packs_in_order(project: Path, tmp_path: Path) -> None:
    from rampart_soc2.policy_pack import PACK_DIR

    pack = write_pack(tmp_path / "pack")
    ours = write_config(tmp_path / "ours.json", {"all": "advisory"})
    team = write_config(tmp_path / "team.json", {"team-no-buckets": "mandatory"})
    result = check(project, "--policy-pack", str(PACK_DIR), "--policy-pack", str(pack),
                   "--policy-pack-config", str(ours), "--policy-pack-config", str(team))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL (mandatory)" in summary_row(result, "team-no-buckets")
    assert "[mandatory] aws-" not in result.stdout  # Rampart's pack: every policy advisory, from its own file
    # The same two files the other way round: the team's policy is not a policy of Rampart's pack.
    swapped = check(project, "--policy-pack", str(PACK_DIR), "--policy-pack", str(pack),
                    "--policy-pack-config", str(team), "--policy-pack-config", str(ours))
    assert swapped.returncode == 2, swapped.stdout + swapped.stderr
    assert "team-no-buckets" in swapped.stderr and "rampart-soc2" in swapped.stderr


def test_one_config_file_per_pack(project: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack")
    config = write_config(tmp_path / "team.json", {})
    result = check(project, "--policy-pack", str(pack), "--policy-pack-config", str(config),
                   "--policy-pack-config", str(config))
    assert result.returncode == 2 and "2 --policy-pack-config for 1 policy pack(s)" in result.stderr, result.stderr


def test_a_policy_that_raises_is_that_packs_error_exit_3(project: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack")
    config = write_config(tmp_path / "team.json", {"team-lookup": {"explode": True}})
    result = check(project, "--policy-pack", str(pack), "--policy-pack-config", str(config))
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"policy pack {pack} failed" in result.stderr
    assert "could not describe the certificate: no AWS credentials" in result.stderr
    assert "Traceback" not in result.stderr.split("failed", 1)[0]


def test_a_pack_that_cannot_start_is_that_packs_error_exit_3(project: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack", source="raise SystemExit('the pack needs TEAM_TOKEN')\n")
    result = check(project, "--policy-pack", str(pack))
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"policy pack {pack} failed" in result.stderr and "the pack needs TEAM_TOKEN" in result.stderr


def test_check_help_documents_the_exit_codes() -> None:
    result = subprocess.run([sys.executable, "-m", "rampart", "check", "--help"], capture_output=True, text=True)
    text = " ".join(result.stdout.split())
    for code in ("0 passed", "1 a mandatory violation", "2 a usage or configuration error", "3 a policy pack failed"):
        assert code in text, result.stdout
    assert "--policy-pack-config FILE" in result.stdout


def test_the_docs_list_the_exit_codes_as_the_cli_declares_them() -> None:
    from rampart.errors import EXIT_CODES

    docs = (ROOT / "docs" / "policy.md").read_text()
    for code, text in EXIT_CODES.items():
        assert f"| {code} | {text}" in docs, (code, text)
    assert "exits 0 on a pass, 1 on a mandatory violation, 2 on a" in (ROOT / "README.md").read_text()


# ----------------------------------------------------------------------------- the reconciliation, unit

def _info(initial: dict[str, analyzer_pb2.PolicyConfig]) -> Any:
    schema = analyzer_pb2.PolicyConfigSchema()
    schema.properties.update({"why": {"type": "string", "default": "d"}, "n": {"type": "integer", "default": 1}})
    return analyzer_pb2.AnalyzerInfo(
        name="p", supportsConfig=True, initialConfig=initial,
        policies=[analyzer_pb2.PolicyInfo(name="a", enforcementLevel=analyzer_pb2.MANDATORY, configSchema=schema),
                  analyzer_pb2.PolicyInfo(name="b", enforcementLevel=analyzer_pb2.ADVISORY)])


def test_reconcile_layers_defaults_initial_config_then_files_as_the_cli() -> None:
    props = struct_pb2.Struct()
    props.update({"why": "initial"})
    info = _info({"a": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.DISABLED, properties=props)})
    policies = policy_meta(info)
    assert reconcile_config(info, policies) == {
        "a": {"enforcementLevel": "disabled", "why": "initial", "n": 1}, "b": {"enforcementLevel": "advisory"}}
    # `all` sets every level first, then a policy's own entry; properties merge key by key.
    assert reconcile_config(info, policies, {"all": "mandatory", "b": "advisory"}, {"a": {"n": 2}}) == {
        "a": {"enforcementLevel": "mandatory", "why": "initial", "n": 2}, "b": {"enforcementLevel": "advisory"}}


def test_reconcile_refuses_a_policy_the_pack_lacks_and_a_bad_level() -> None:
    info = _info({})
    with pytest.raises(PackConfigError, match="does not have: c; its policies: a, b"):
        reconcile_config(info, policy_meta(info), {"c": "advisory"})
    with pytest.raises(PackConfigError, match="sets a of pack p to 'off'"):
        reconcile_config(info, policy_meta(info), {"a": "off"})


# ----------------------------------------------------------------------------- AWSGuard, from npm

@pytest.fixture(scope="session")
def awsguard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm = shutil.which("npm")
    assert npm, "npm is not installed: run scripts/install-node.sh (scripts/test does)"
    pack = tmp_path_factory.mktemp("awsguard") / "awsguard"
    shutil.copytree(AWSGUARD, pack, ignore=shutil.ignore_patterns("node_modules"))
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=pack, check=True,
                   capture_output=True, timeout=900)
    return pack


def test_awsguard_beside_ours_honours_its_initial_config(project: Path, tmp_path: Path, awsguard: Path) -> None:
    from rampart_soc2.policy_pack import PACK_DIR

    # AWSGuard's own config (index.js): every policy advisory, the ACM lookup (needs credentials) disabled.
    result = check(project, "--policy-pack", str(PACK_DIR), "--policy-pack", str(awsguard))
    assert result.returncode in (0, 1), result.stdout + result.stderr  # a verdict, not a crash
    assert "disabled" in summary_row(result, "acm-certificate-expiration")
    awsguard_rows = [summary_row(result, p) for p in ("s3-bucket-logging-enabled", "acm-certificate-expiration")]
    assert not any("mandatory" in row for row in awsguard_rows), awsguard_rows
    # Re-enabled by a config file, the ACM policy calls AWS without credentials: AWSGuard's error, exit 3.
    config = write_config(tmp_path / "awsguard.json", {"acm-certificate-expiration": "advisory"})
    ours = write_config(tmp_path / "ours.json", {})
    crashed = check(project, "--policy-pack", str(PACK_DIR), "--policy-pack", str(awsguard),
                    "--policy-pack-config", str(ours), "--policy-pack-config", str(config))
    assert crashed.returncode == 3, crashed.stdout + crashed.stderr
    assert f"policy pack {awsguard} failed" in crashed.stderr
