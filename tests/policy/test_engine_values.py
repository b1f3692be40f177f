"""What the engine really sends: unknowns during preview, secret-wrapped values, config, waivers."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from policy_fixtures import SECRET_SIG, UNKNOWN_STRING, edit_containers, find, fired, run_all
from rampart_soc2.model import Context, Waived, context_from_config, evaluate_resource, make_resource, parse_waivers
from rampart_soc2.registry import POLICIES

Stack = list[dict[str, Any]]

EXPECTED_IDS = [
    "aws-cloudwatch-loggroup-require-kms-encryption",
    "aws-cloudwatch-loggroup-require-retention",
    "aws-cloudwatch-logresourcepolicy-disallow-public",
    "aws-cloudwatch-metricalarm-require-actions",
    "aws-cloudwatch-metricalarm-require-subscribed-topic",
    "aws-config-rule-require-configuration-recorder",
    "aws-ec2-defaultsecuritygroup-require-no-rules",
    "aws-ec2-securitygroup-disallow-public-ingress",
    "aws-ec2-securitygroup-require-rule-descriptions",
    "aws-ec2-subnet-disallow-public-ip-on-launch",
    "aws-ec2-vpc-require-flow-logs",
    "aws-ecr-repository-require-immutable-tags",
    "aws-ecr-repository-require-kms-encryption",
    "aws-ecr-repository-require-lifecycle-policy",
    "aws-ecr-repository-require-scan-on-push",
    "aws-ecr-repositorypolicy-disallow-public",
    "aws-ecs-cluster-enable-container-insights",
    "aws-ecs-service-configure-fargate-platform-version",
    "aws-ecs-service-disallow-public-ip",
    "aws-ecs-service-require-alarm-rollback-and-bake",
    "aws-ecs-service-require-aws-api-network-path",
    "aws-ecs-service-require-circuit-breaker-rollback",
    "aws-ecs-service-require-load-balancer-only-ingress",
    "aws-ecs-service-require-load-balancer-path",
    "aws-ecs-service-require-min-task-count",
    "aws-ecs-taskdefinition-disallow-environment-secrets",
    "aws-ecs-taskdefinition-disallow-privileged",
    "aws-ecs-taskdefinition-require-awsvpc-network-mode",
    "aws-ecs-taskdefinition-require-encrypted-log-group",
    "aws-ecs-taskdefinition-require-health-check",
    "aws-ecs-taskdefinition-require-image-pull-access",
    "aws-ecs-taskdefinition-require-log-configuration",
    "aws-ecs-taskdefinition-require-log-write-access",
    "aws-ecs-taskdefinition-require-memory-limit",
    "aws-ecs-taskdefinition-require-non-root-user",
    "aws-ecs-taskdefinition-require-read-only-root-filesystem",
    "aws-ecs-taskdefinition-require-secret-access",
    "aws-ecs-taskdefinition-require-separate-execution-role",
    "aws-iam-policy-disallow-admin-access",
    "aws-iam-policy-disallow-privilege-escalation",
    "aws-kms-key-enable-rotation",
    "aws-lb-listener-require-certificate",
    "aws-lb-listener-require-https-redirect",
    "aws-lb-listener-require-tls-policy",
    "aws-lb-listenerrule-disallow-http-forwarding",
    "aws-lb-listenerrule-require-https-oidc-endpoints",
    "aws-lb-listenerrule-require-identity-provider-egress",
    "aws-lb-listenerrule-require-private-access",
    "aws-lb-listenerrule-require-unique-priority",
    "aws-lb-loadbalancer-configure-desync-mitigation",
    "aws-lb-loadbalancer-enable-access-logs",
    "aws-lb-loadbalancer-enable-deletion-protection",
    "aws-lb-loadbalancer-enable-drop-invalid-headers",
    "aws-lb-loadbalancer-require-multiple-azs",
    "aws-lb-loadbalancer-require-waf-association",
    "aws-lb-targetgroup-require-health-check",
    "aws-s3-bucket-enable-versioning",
    "aws-s3-bucket-require-encryption",
    "aws-s3-bucket-require-public-access-block",
    "aws-s3-bucket-require-server-access-logging",
    "aws-s3-bucket-require-tls-requests-only",
    "aws-secretsmanager-secret-require-cmk",
    "aws-sns-topic-require-kms-encryption",
    "aws-wafv2-webacl-disallow-empty",
    "aws-wafv2-webacl-enable-cloudwatch-metrics",
    "aws-wafv2-webacl-require-logging",
    "aws-wafv2-webacl-require-managed-rule-groups",
    "aws-wafv2-webacl-require-rate-based-rule",
    "docker-image-require-dockerfile-controls",
]


def test_manifest_pins_the_exact_policy_ids() -> None:
    assert sorted(POLICIES) == EXPECTED_IDS


def test_every_record_carries_full_metadata() -> None:
    for pid, spec in POLICIES.items():
        where = f"policy {pid}"
        assert spec.description.endswith("."), where
        assert spec.severity in ("low", "medium", "high", "critical"), where
        assert spec.enforcement == "mandatory", f"{where}: SOC 2 controls default to mandatory"
        assert spec.criteria and all(c.split(".")[0] in ("CC6", "CC7", "CC8", "A1", "C1") for c in spec.criteria), where
        assert len(spec.remediation) > 20 and spec.reference.startswith("https://"), where
        assert spec.resource_types, where
        assert pid.startswith(("aws-", "docker-")) and any(v in pid for v in ("-require-", "-disallow-", "-enable-", "-configure-")), where
        module_service = spec.service
        assert pid.split("-")[1] == module_service or pid.startswith("docker-"), f"{where} lives under {module_service}/"


# ------------------------------------------------------------------ unknowns (preview)

UNKNOWN_CASES = [
    ("logs", "retentionInDays", "aws-cloudwatch-loggroup-require-retention"),
    ("waf-logs", "kmsKeyId", "aws-cloudwatch-loggroup-require-kms-encryption"),
    ("https", "sslPolicy", "aws-lb-listener-require-tls-policy"),
    ("https", "certificateArn", "aws-lb-listener-require-certificate"),
    ("task", "containerDefinitions", "aws-ecs-taskdefinition-require-non-root-user"),
    ("task", "taskRoleArn", "aws-ecs-taskdefinition-require-separate-execution-role"),
    ("repo", "imageTagMutability", "aws-ecr-repository-require-immutable-tags"),
    ("alb-logs-pab", "bucket", "aws-s3-bucket-require-public-access-block"),
    ("waf-assoc", "resourceArn", "aws-lb-loadbalancer-require-waf-association"),
    ("waf-logging", "resourceArn", "aws-wafv2-webacl-require-logging"),
    ("repo-lifecycle", "repository", "aws-ecr-repository-require-lifecycle-policy"),
    ("task-role-policy", "policy", "aws-iam-policy-disallow-admin-access"),
    ("svc", "desiredCount", "aws-ecs-service-require-min-task-count"),
    ("alerts", "kmsMasterKeyId", "aws-sns-topic-require-kms-encryption"),
    ("flow-log", "vpcId", "aws-ec2-vpc-require-flow-logs"),
    ("subnet-a", "mapPublicIpOnLaunch", "aws-ec2-subnet-disallow-public-ip-on-launch"),
    ("default-sg", "vpcId", "aws-ec2-defaultsecuritygroup-require-no-rules"),
    ("default-sg", "ingress", "aws-ec2-defaultsecuritygroup-require-no-rules"),
    ("task", "networkMode", "aws-ecs-taskdefinition-require-awsvpc-network-mode"),
    ("alb", "subnets", "aws-lb-loadbalancer-require-multiple-azs"),
    ("waf", "rules", "aws-wafv2-webacl-disallow-empty"),
    ("alb-logs-server-access", "bucket", "aws-s3-bucket-require-server-access-logging"),
    ("alb", "accessLogs", "aws-s3-bucket-require-server-access-logging"),
    ("alb-logs-server-access", "targetBucket", "aws-s3-bucket-require-server-access-logging"),
    ("exec-policy", "policy", "aws-iam-policy-disallow-privilege-escalation"),
    ("logs-delivery", "policyDocument", "aws-cloudwatch-logresourcepolicy-disallow-public"),
    ("web-rule", "listenerArn", "aws-lb-listenerrule-disallow-http-forwarding"),
    ("web-rule", "priority", "aws-lb-listenerrule-require-unique-priority"),
    ("app-from-alb", "referencedSecurityGroupId", "aws-ecs-service-require-load-balancer-only-ingress"),
    ("app-from-alb", "securityGroupId", "aws-ecs-service-require-load-balancer-only-ingress"),
    # readiness: a document or a relation not known until apply is unknown, never a missing permission or path
    ("exec-secrets", "policy", "aws-ecs-taskdefinition-require-secret-access"),
    ("db-secret", "arn", "aws-ecs-taskdefinition-require-secret-access"),
    ("task", "executionRoleArn", "aws-ecs-taskdefinition-require-image-pull-access"),
    ("kms", "policy", "aws-ecs-taskdefinition-require-log-write-access"),
    ("private-rta-a", "routeTableId", "aws-ecs-service-require-aws-api-network-path"),
    ("private-default", "routeTableId", "aws-ecs-service-require-aws-api-network-path"),
    ("app-sg", "egress", "aws-ecs-service-require-aws-api-network-path"),
    ("alb-sg", "egress", "aws-lb-listenerrule-require-identity-provider-egress"),
]


@pytest.mark.parametrize("resource,prop,policy", UNKNOWN_CASES, ids=[f"{p}:{r}.{k}" for r, k, p in UNKNOWN_CASES])
def test_unknown_value_is_reported_unknown_never_a_violation(stack: Stack, resource: str, prop: str, policy: str) -> None:
    find(stack, resource)["props"][prop] = UNKNOWN_STRING
    results = run_all(stack)
    assert fired(results) == set(), f"an unknown {resource}.{prop} produced violations: {fired(results)}"
    unknown = {pid for pid, _ in fired(results, "unknown")}
    assert policy in unknown, f"{policy} should report {resource}.{prop} as unknown; unknowns: {unknown}"


def test_unknown_nested_value_inside_a_list(stack: Stack) -> None:
    find(stack, "waf")["props"]["rules"][0]["statement"]["rateBasedStatement"]["limit"] = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
    results = run_all(stack)
    assert fired(results) == set()
    assert results[("aws-wafv2-webacl-require-rate-based-rule", "waf")].kind == "unknown"


def test_unknown_on_one_resource_does_not_hide_a_violation_on_another(stack: Stack) -> None:
    from policy_fixtures import ALB_ARN

    second = {"type": "aws:lb/loadBalancer:LoadBalancer", "name": "alb2",
              "props": {**find(stack, "alb")["props"], "arn": ALB_ARN + "-2", "id": ALB_ARN + "-2"}}
    stack.append(second)
    find(stack, "waf-assoc")["props"]["resourceArn"] = ALB_ARN  # alb2 has no association
    stack.append({"type": "aws:wafv2/webAclAssociation:WebAclAssociation", "name": "pending",
                  "props": {"resourceArn": UNKNOWN_STRING}})
    results = run_all(stack)
    assert results[("aws-lb-loadbalancer-require-waf-association", "alb")].kind == "compliant"
    assert results[("aws-lb-loadbalancer-require-waf-association", "alb2")].kind == "unknown"


# ------------------------------------------------------------------ secrets

def secret(value: Any) -> dict[str, Any]:
    return {**SECRET_SIG, "value": value}


def test_secret_wrapped_values_are_read_through(stack: Stack) -> None:
    task = find(stack, "task")["props"]
    task["containerDefinitions"] = secret(task["containerDefinitions"])
    find(stack, "tls-key")["props"]["kmsKeyId"] = secret(find(stack, "tls-key")["props"]["kmsKeyId"])
    assert fired(run_all(stack)) == set()
    defs = json.loads(task["containerDefinitions"]["value"])
    defs[1]["environment"].append({"name": "API_TOKEN", "value": "s3cr3t"})
    task["containerDefinitions"] = secret(json.dumps(defs))
    assert {p for p, _ in fired(run_all(stack))} == {"aws-ecs-taskdefinition-disallow-environment-secrets"}


def test_numbers_as_protobuf_doubles(stack: Stack) -> None:
    find(stack, "logs")["props"]["retentionInDays"] = 365.0
    find(stack, "svc")["props"]["desiredCount"] = 2.0
    assert fired(run_all(stack)) == set()


# ------------------------------------------------------------------ waivers and thresholds

def waiver(policy: str, resource: str, expires: str) -> dict[str, str]:
    return {"policy": policy, "resource": resource, "reason": "accepted risk for the test", "expires": expires}


def test_unexpired_waiver_turns_violation_into_waived(stack: Stack) -> None:
    pid = "aws-lb-loadbalancer-enable-deletion-protection"
    find(stack, "alb")["props"]["enableDeletionProtection"] = False
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    results = run_all(stack, {pid: {"waivers": [waiver(pid, "alb", future)]}})
    assert fired(results) == set()
    res = results[(pid, "alb")]
    assert isinstance(res, Waived) and res.expires == future and "accepted risk" in res.reason


def test_waiver_by_urn_for_stack_policy(stack: Stack) -> None:
    pid = "aws-s3-bucket-enable-versioning"
    stack.remove(find(stack, "alb-logs-versioning"))
    urn = "urn:pulumi:test::rampart::aws:s3/bucket:Bucket::alb-logs"
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert run_all(stack, {pid: {"waivers": [waiver(pid, urn, future)]}})[(pid, "alb-logs")].kind == "waived"


def test_expired_waiver_no_longer_applies(stack: Stack) -> None:
    pid = "aws-lb-loadbalancer-enable-deletion-protection"
    find(stack, "alb")["props"]["enableDeletionProtection"] = False
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert (pid, "alb") in fired(run_all(stack, {pid: {"waivers": [waiver(pid, "alb", past)]}}))


def test_waiver_expiring_today_still_applies_and_tomorrow_not() -> None:
    w = parse_waivers([{"resource": "alb", "reason": "r", "expires": "2030-01-31"}], "p")[0]
    assert w.active(dt.date(2030, 1, 31)) and not w.active(dt.date(2030, 2, 1))


def test_waiver_for_another_policy_or_resource_does_not_apply(stack: Stack) -> None:
    pid = "aws-lb-loadbalancer-enable-deletion-protection"
    find(stack, "alb")["props"]["enableDeletionProtection"] = False
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    cfg = {pid: {"waivers": [waiver("aws-kms-key-enable-rotation", "alb", future), waiver(pid, "other", future)]}}
    assert (pid, "alb") in fired(run_all(stack, cfg))


@pytest.mark.parametrize("bad", [
    {"resource": "alb", "reason": "no expiry"},
    {"resource": "alb", "reason": "bad date", "expires": "someday"},
    {"resource": "alb", "reason": "", "expires": "2099-01-01"},
    {"reason": "no resource", "expires": "2099-01-01"},
])
def test_malformed_waivers_never_apply(bad: dict[str, str]) -> None:
    assert parse_waivers([bad], "p") == []


def test_context_ignores_unknown_keys_and_uses_defaults() -> None:
    ctx = context_from_config("p", {"enforcementLevel": "advisory", "minLogRetentionDays": 400, "junk": 1})
    assert ctx.threshold("minLogRetentionDays") == 400 and ctx.threshold("minTaskCount") == 2
    assert "junk" not in ctx.thresholds


# ------------------------------------------------------------------ the Dockerfile wrapper

def test_dockerfile_wrapper_with_fake_checker(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wrapper's contract with dockerfile_checks: findings become one violation naming rule and line."""
    import rampart_soc2.dockerfile_checks as checks

    calls: list[str] = []
    passed_args: list[Any] = []

    class FakeFinding:
        def __init__(self, rule: str, line: int | None, message: str) -> None:
            self.rule, self.line, self.message = rule, line, message

    passed_targets: list[Any] = []

    def fake(text: str, build_args: Any = None, target: Any = None) -> list[Any]:
        calls.append(text)
        passed_args.append(build_args)
        passed_targets.append(target)
        return [FakeFinding("healthcheck", 7, "no HEALTHCHECK."), FakeFinding("multi-stage", None, "one stage")]

    monkeypatch.setattr(checks, "check_dockerfile", fake)
    spec = POLICIES["docker-image-require-dockerfile-controls"]
    img = find(stack, "image")
    res = evaluate_resource(spec, make_resource(img["type"], img["name"], img["props"]), Context({}))
    assert res.kind == "violation"
    assert "healthcheck@7: no HEALTHCHECK" in res.message and "multi-stage: one stage" in res.message  # type: ignore[union-attr]
    assert calls and "HEALTHCHECK CMD" in calls[0], "the wrapper did not pass the Dockerfile's text"
    assert passed_targets == ["runtime"], "the wrapper did not pass the build's target stage"
    assert passed_args == [{str(k): str(v) for k, v in (img["props"]["build"].get("args") or {}).items()}]


def test_dockerfile_relative_to_context_and_unreadable_is_unknown(stack: Stack, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    spec = POLICIES["docker-image-require-dockerfile-controls"]
    img = find(stack, "image")
    ctx_dir = Path(img["props"]["build"]["context"])
    monkeypatch.chdir(ctx_dir.parent)
    img["props"]["build"]["context"] = ctx_dir.name  # relative to the project (cwd)
    ok = evaluate_resource(spec, make_resource(img["type"], img["name"], img["props"]), Context({}))
    assert ok.kind == "compliant"
    img["props"]["build"]["dockerfile"] = "Missing.Dockerfile"
    res = evaluate_resource(spec, make_resource(img["type"], img["name"], img["props"]), Context({}))
    assert res.kind == "unknown", "an unreadable Dockerfile must be unknown, never a pass"
    img["props"]["build"]["dockerfile"] = UNKNOWN_STRING
    assert evaluate_resource(spec, make_resource(img["type"], img["name"], img["props"]), Context({})).kind == "unknown"


@pytest.mark.parametrize("resource,prop,value,policy", [
    ("logs", "retentionInDays", "a year", "aws-cloudwatch-loggroup-require-retention"),
    ("svc-scaling", "minCapacity", None, "aws-ecs-service-require-min-task-count"),
    ("waf", "rules", "not-a-list", "aws-wafv2-webacl-require-rate-based-rule"),
])
def test_unexpected_shapes_fail_closed(stack: Stack, resource: str, prop: str, value: Any, policy: str) -> None:
    find(stack, resource)["props"][prop] = value
    results = run_all(stack)
    assert (policy, resource if policy != "aws-ecs-service-require-min-task-count" else "svc-scaling") in fired(results)


def test_new_stack_policies_match_by_property_dependency_during_preview(stack: Stack) -> None:
    """What `pulumi preview` sends for a new VPC and log bucket: ids unknown, the engine names the dependency."""
    from rampart_soc2.model import evaluate_stack

    urn = lambda n: f"urn:pulumi:test::rampart::{find(stack, n)['type']}::{n}"  # noqa: E731
    for name, prop in (("vpc", "id"), ("flow-log", "vpcId"), ("default-sg", "vpcId"), ("alb-logs", "id"),
                       ("alb-logs", "bucket"), ("alb-logs-access", "id"), ("alb-logs-access", "bucket"),
                       ("alb-logs-server-access", "bucket"), ("alb-logs-server-access", "targetBucket")):
        find(stack, name)["props"][prop] = UNKNOWN_STRING
    deps = {"flow-log": {"vpcId": [urn("vpc")]}, "default-sg": {"vpcId": [urn("vpc")]},
            "alb-logs-server-access": {"bucket": [urn("alb-logs")], "targetBucket": [urn("alb-logs-access")]},
            "alb": {"accessLogs": [urn("alb-logs")]}}
    policies = ("aws-ec2-vpc-require-flow-logs", "aws-ec2-defaultsecuritygroup-require-no-rules",
                "aws-s3-bucket-require-server-access-logging")

    def kinds(with_deps: bool) -> dict[tuple[str, str], str]:
        resources = [make_resource(r["type"], r["name"], r["props"],
                                   property_dependencies=deps.get(r["name"]) if with_deps else None) for r in stack]
        names = {r.urn: r.name for r in resources}
        return {(pid, names[u]): res.kind for pid in policies
                for u, res in evaluate_stack(POLICIES[pid], resources, context_from_config(pid, None))}

    with_deps = kinds(True)
    assert "violation" not in with_deps.values(), with_deps
    assert with_deps[("aws-ec2-vpc-require-flow-logs", "vpc")] == "compliant"
    assert with_deps[("aws-ec2-defaultsecuritygroup-require-no-rules", "vpc")] == "compliant"
    assert with_deps[("aws-s3-bucket-require-server-access-logging", "alb-logs")] == "compliant"
    without = kinds(False)
    assert "violation" not in without.values(), without
    assert without[("aws-ec2-vpc-require-flow-logs", "vpc")] == "unknown"
