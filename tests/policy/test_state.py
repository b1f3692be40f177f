"""`rampart check --state`: a deployed stack's export (Pulumi deployment format v3) through the real pack.

Exports are built from this repository's own plan (`rampart.offline.state.export_from_plan`): the stack
resource, one default provider per package, real-looking outputs, encrypted-looking secrets; a test
then changes what the cloud would have changed (a log group's retention) or deletes a resource.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from rampart.offline.analyzer import SECRET_SIG, SIG_KEY
from rampart.offline.check import check_state
from rampart.errors import UserError
from rampart.offline.plan import plan_stack
from rampart.offline.report import build_report, render_html, render_json, render_md
from rampart.offline.state import UNKNOWN_STRING, export_from_plan, parse_export, read_export

REPO = Path(__file__).resolve().parents[2]
FLOW_LOGS = "rampart-network-flow-logs"
RETENTION = "aws-cloudwatch-loggroup-require-retention"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def planned() -> list[Any]:
    return plan_stack(REPO, "dev")


def write(tmp_path: Path, doc: dict[str, Any], name: str = "state.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def secrets_in(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return [value]
        return [s for v in value.values() for s in secrets_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in secrets_in(v)]
    return []


# ----------------------------------------------------------------------------- the export format

def test_export_has_the_v3_shape(planned: list[Any]) -> None:
    doc = export_from_plan(planned, time="2026-11-30T08:15:00Z")
    assert doc["version"] == 3
    resources = doc["deployment"]["resources"]
    assert doc["deployment"]["manifest"]["time"] == "2026-11-30T08:15:00Z"
    assert resources[0]["type"] == "pulumi:pulumi:Stack"
    assert any(r["type"] == "pulumi:providers:aws" for r in resources)
    custom = [r for r in resources if r["custom"] and not r["type"].startswith("pulumi:")]
    assert custom and all(r["provider"].startswith("urn:pulumi:dev::rampart::pulumi:providers:") for r in custom)
    assert all({"urn", "type", "id", "inputs", "outputs", "parent"} <= set(r) for r in custom)


def test_secrets_are_encrypted_in_the_export_and_unknown_secrets_to_the_pack(planned: list[Any]) -> None:
    doc = export_from_plan(planned)
    sealed = secrets_in(doc)
    assert sealed and all("ciphertext" in s and "plaintext" not in s for s in sealed)
    state = parse_export(doc)
    # the registry password the image build pushes with (the plan's one secret input since the sidecar's
    # TLS key is no longer in state, issue 23)
    image = next(r for r in state.resources if r.name == "web-app-image")
    assert "registry.password" in image.secret_paths
    assert image.properties["registry"]["password"] == UNKNOWN_STRING
    assert state.encrypted_secrets == len(sealed)


def test_plaintext_secrets_reach_the_pack_as_secrets() -> None:
    doc = {"version": 3, "deployment": {"manifest": {"time": "t"}, "resources": [
        {"urn": "urn:pulumi:dev::p::aws:secretsmanager/secret:Secret::db", "custom": True,
         "type": "aws:secretsmanager/secret:Secret", "inputs": {},
         "outputs": {"description": {SIG_KEY: SECRET_SIG, "plaintext": json.dumps("the value")},
                     "tags": {"a": {SIG_KEY: SECRET_SIG, "plaintext": "[1, 2]"}}}}]}}
    r = parse_export(doc).resources[0]
    assert r.properties["description"] == "the value" and r.properties["tags"]["a"] == [1, 2]
    assert r.secret_paths == {"description", "tags.a"}


def test_providers_stack_components_and_pending_deletes_are_not_sent(planned: list[Any]) -> None:
    doc = export_from_plan(planned)
    victim = next(r for r in doc["deployment"]["resources"] if r["urn"].endswith("::" + FLOW_LOGS))
    doc["deployment"]["resources"].append({**victim, "delete": True, "urn": victim["urn"] + "-old"})
    state = parse_export(doc)
    types = {r.type for r in state.resources}
    assert not any(t.startswith("pulumi:") or t.startswith("rampart:") for t in types)
    assert all(not r.urn.endswith("-old") for r in state.resources)
    assert any(t.startswith("rampart:") for t, _ in state.tree.values())  # components kept for the report tree
    assert len(state.resources) == sum(1 for r in planned if r.custom and r.type != "pulumi:pulumi:Stack")


def test_outputs_win_over_inputs(planned: list[Any]) -> None:
    state = parse_export(export_from_plan(planned, changes={FLOW_LOGS: {"retentionInDays": 30}}))
    logs = next(r for r in state.resources if r.name == FLOW_LOGS)
    assert logs.properties["retentionInDays"] == 30


@pytest.mark.parametrize("doc, says", [
    ({"version": 2, "deployment": {"resources": []}}, "deployment version 2"),
    ({"resources": []}, "not a `pulumi stack export` file"),
    ({"version": 3, "deployment": {"resources": []}}, "no resources"),
    ({"version": 3, "deployment": {"resources": [{"urn": "x", "type": "t"}]}}, "has no Pulumi URN"),
    ({"version": 3, "deployment": {"resources": [1]}}, r"resources\[0\] is 1, not a resource object"),
    ({"version": 3, "deployment": {"resources": {"urn": "x"}}}, "deployment.resources is a dict, not a list"),
    ({"version": 3, "deployment": ["x"]}, "\"deployment\" is a list, not an object"),
])
def test_bad_exports_are_named(tmp_path: Path, doc: dict[str, Any], says: str) -> None:
    with pytest.raises(UserError, match=says):
        read_export(write(tmp_path, doc))


def test_missing_and_non_json_files_say_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="pulumi stack export --file"):
        read_export(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UserError, match="not JSON"):
        read_export(tmp_path / "bad.json")


def test_export_of_another_stack_is_refused(tmp_path: Path, planned: list[Any]) -> None:
    path = write(tmp_path, export_from_plan(planned))
    with pytest.raises(UserError, match="export of stack 'dev', not 'prod'"):
        check_state(REPO, "prod", path)


# ----------------------------------------------------------------------------- the real pack

def _cli(*args: str) -> int:
    from rampart.cli import main as cli

    return cli(["check", "-C", str(REPO), "--stack", "dev", *args])


def test_retention_changed_after_deployment_fails_naming_the_log_group(
        tmp_path: Path, planned: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    """Acceptance: retention changed to 30 days in the cloud (and refreshed into state) -> exit 1."""
    path = write(tmp_path, export_from_plan(planned, changes={FLOW_LOGS: {"retentionInDays": 30}}))
    assert _cli("--state", str(path), "--report", str(tmp_path / "r"), "--format", "md,json") == 1
    out = capsys.readouterr().out
    assert f"[mandatory] {RETENTION} on " in out and f"::{FLOW_LOGS} " in out and "30 days" in out
    assert "deployed state" in out and "2026-11-30T12:00:00Z" in out
    report = json.loads((tmp_path / "r" / "soc2-dev.json").read_text())["report"]
    assert report["checkpoint"]["name"] == "deployed state"
    assert report["checkpoint"]["time"] == "2026-11-30T12:00:00Z"
    assert report["result"] == "FAIL" and f"1 failed a mandatory check ({RETENTION})" in report["headline"]
    ctl = next(c for c in report["controls"] if c["policy"] == RETENTION)
    assert ctl["checkpoints"]["preview"].startswith("compliant")
    assert ctl["checkpoints"]["deployedState"].startswith("violation")
    md = (tmp_path / "r" / "soc2-dev.md").read_text()
    assert md.startswith("# SOC 2 evidence report: stack `dev`, deployed state at 2026-11-30T12:00:00Z")


@pytest.mark.parametrize("days, kind", [(365, "compliant"), (364, "violation")])
def test_retention_at_the_minimum_passes_one_below_fails(tmp_path: Path, planned: list[Any], days: int, kind: str) -> None:
    path = write(tmp_path, export_from_plan(planned, changes={FLOW_LOGS: {"retentionInDays": days}}))
    result = check_state(REPO, "dev", path)
    got = {o.urn.rsplit("::", 1)[-1]: o.kind for o in result.analysis.outcomes if o.policy == RETENTION}
    assert got[FLOW_LOGS] == kind and result.failed == (kind == "violation")


def test_a_resource_deleted_out_of_band_is_never_passed(tmp_path: Path, planned: list[Any]) -> None:
    path = write(tmp_path, export_from_plan(planned, deleted=[FLOW_LOGS]))
    result = check_state(REPO, "dev", path)
    missing = {(o.policy, o.urn.rsplit("::", 1)[-1]) for o in result.analysis.outcomes if o.kind == "missing"}
    assert (RETENTION, FLOW_LOGS) in missing
    assert result.failed  # the retention control is mandatory and has no evidence for that log group
    report = build_report(result)
    ctl = next(c for c in report["controls"] if c["policy"] == RETENTION)
    assert ctl["outcome"] == "missing" and ctl["checkpoints"]["deployedState"].startswith("missing")
    assert "lack a planned resource in the deployed state" in report["headline"]
    assert FLOW_LOGS in render_md(report).split("## Planned but absent from the deployed state", 1)[1]


def test_the_report_never_prints_a_secret(tmp_path: Path, planned: list[Any]) -> None:
    doc = export_from_plan(planned)
    ciphertexts = [s["ciphertext"] for s in secrets_in(doc)]
    result = check_state(REPO, "dev", write(tmp_path, doc))
    report = build_report(result)
    for text in (render_md(report), render_json(report), render_html(report)):
        assert not [c for c in ciphertexts if c in text]
        assert UNKNOWN_STRING not in text


def test_runtime_rule_checkpoint(tmp_path: Path, planned: list[Any]) -> None:
    """The registry names each control's AWS Config rule; the export holds the rule the stack deployed
    for it, or, once that rule is deleted out of band, does not."""
    from rampart_soc2 import registry

    identifier = registry.POLICIES[RETENTION].config_rule.identifier
    (rule,) = [r for r in planned if r.type == "aws:cfg/rule:Rule" and r.inputs["source"]["sourceIdentifier"] == identifier]
    assert registry.POLICIES["aws-kms-key-enable-rotation"].config_rule is not None
    no_rule = next(pid for pid, spec in registry.POLICIES.items() if spec.config_rule is None)

    deployed = build_report(check_state(REPO, "dev", write(tmp_path, export_from_plan(planned), "a.json")))
    point = next(c for c in deployed["controls"] if c["policy"] == RETENTION)["checkpoints"]["runtime"]
    assert point["status"] == "deployed" and point["rules"] == [rule.urn]
    assert rule.name in render_md(deployed)
    assert next(c for c in deployed["controls"] if c["policy"] == no_rule)["checkpoints"]["runtime"]["status"] == "none in AWS Config"

    gone = build_report(check_state(REPO, "dev", write(tmp_path, export_from_plan(planned, deleted=[rule.urn]), "b.json")))
    points = {c["policy"]: c["checkpoints"]["runtime"] for c in gone["controls"]}
    assert points[RETENTION]["status"] == "not deployed by this stack"


def test_an_export_from_the_plan_json_matches_one_from_the_plan(planned: list[Any]) -> None:
    """`rampart plan --json` entries (secrets already redacted) give the same resources, secrets sealed."""
    from rampart.offline.plan import to_json
    from rampart_soc2.vocabulary.secret_values import REDACTED

    plan_json = json.loads(json.dumps(to_json([r for r in planned if r.type != "pulumi:pulumi:Stack"])))
    from_json, from_plan = parse_export(export_from_plan(plan_json)), parse_export(export_from_plan(planned))
    assert sorted(r.urn for r in from_json.resources) == sorted(r.urn for r in from_plan.resources)
    assert set(from_json.tree) == set(from_plan.tree)
    doc = json.dumps(export_from_plan(plan_json))
    assert REDACTED not in doc and "[secret]" not in doc
    image = next(r for r in from_json.resources if r.name == "web-app-image")
    assert "registry.password" in image.secret_paths
