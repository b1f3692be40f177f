"""The runtime checkpoint: the environment deploys each control's AWS Config managed rule, with the
stack's thresholds as parameters, scoped to the stack's resources by tag, and routes a change to
NON_COMPLIANT to the environment's alarm topic through EventBridge, which the topic and its key admit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components_support import Plan, minimal_args, run_environment, run_service, TAGS
from rampart.components.compliance import ComplianceSettings, planned_rules, rule_suffix
from rampart.config import load_stack_config
from rampart.plan import run_stack
from rampart_soc2.model import DEFAULT_THRESHOLDS
from rampart_soc2.registry import POLICIES

ROOT = Path(__file__).resolve().parents[2]
RULE = "aws:cfg/rule:Rule"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"


def registry_rules() -> dict[str, set[str]]:
    """Managed-rule identifier -> the policies whose runtime check it is, read from the pack's registry."""
    rules: dict[str, set[str]] = {}
    for policy_id, spec in POLICIES.items():
        if spec.config_rule is not None:
            rules.setdefault(spec.config_rule.identifier, set()).add(policy_id)
    return rules


@pytest.fixture(scope="module")
def dev() -> Plan:
    run = run_stack(ROOT, "dev")
    return Plan(resources=run.resources, outputs=run.stack_outputs)


def pattern(plan: Plan) -> dict[str, Any]:
    return json.loads(plan.one(EVENT_RULE).inputs["eventPattern"])


def test_dev_deploys_one_rule_per_registry_config_rule(dev: Plan) -> None:
    deployed = {r.inputs["source"]["sourceIdentifier"]: r for r in dev.of_type(RULE)}
    assert sorted(deployed) == sorted(registry_rules()), "the deployed Config rules differ from the registry's"
    assert len(dev.of_type(RULE)) == len(deployed), "a managed rule is deployed twice"
    for identifier, rule in deployed.items():
        assert rule.inputs["source"]["owner"] == "AWS", f"{rule.name}: not an AWS managed rule"
        assert rule.inputs["name"].endswith(f"{rule_suffix(identifier)}-dev"), f"{rule.name}: {rule.inputs['name']}"


def test_dev_rule_parameters_come_from_the_stacks_thresholds(dev: Plan) -> None:
    config = load_stack_config(ROOT, "dev")
    retention = next(r for r in dev.of_type(RULE) if r.inputs["source"]["sourceIdentifier"] == "CW_LOGGROUP_RETENTION_PERIOD_CHECK")
    assert json.loads(retention.inputs["inputParameters"]) == {"MinRetentionTime": str(config.policy.min_log_retention_days)}
    fargate = next(r for r in dev.of_type(RULE) if r.inputs["source"]["sourceIdentifier"] == "ECS_FARGATE_LATEST_PLATFORM_VERSION")
    assert json.loads(fargate.inputs["inputParameters"]) == {"latestLinuxVersion": DEFAULT_THRESHOLDS["minFargatePlatformVersion"]}
    for rule in dev.of_type(RULE):
        spec = next(POLICIES[p] for p in registry_rules()[rule.inputs["source"]["sourceIdentifier"]])
        if not spec.config_rule.parameters:
            assert "inputParameters" not in rule.inputs, f"{rule.name}: parameters the registry does not give"


def test_a_changed_threshold_reaches_the_rule() -> None:
    rules = planned_rules({"minLogRetentionDays": 731}, {}, "test")
    retention = next(r for r in rules if r.identifier == "CW_LOGGROUP_RETENTION_PERIOD_CHECK")
    assert retention.parameters == {"MinRetentionTime": "731"}
    with pytest.raises(ValueError, match="minLogRetention.*not pack thresholds"):
        planned_rules({"minLogRetention": 731}, {}, "test")


@pytest.mark.parametrize("days, accepted", [(731, True), (1827, True), (1096, False), (366, False)])
def test_a_retention_minimum_the_config_rule_refuses_is_refused_before_deployment(days: int, accepted: bool) -> None:
    # 1096 is a CloudWatch retention but not a MinRetentionTime AWS Config accepts: the rule would sit in ERROR.
    if accepted:
        assert planned_rules({"minLogRetentionDays": days}, {}, "test")
    else:
        with pytest.raises(ValueError, match=f"minLogRetentionDays={days} cannot be CW_LOGGROUP_RETENTION_PERIOD_CHECK's"):
            planned_rules({"minLogRetentionDays": days}, {}, "test")


def test_dev_rules_are_scoped_to_the_stacks_environment_tag(dev: Plan) -> None:
    config = load_stack_config(ROOT, "dev")
    for rule in dev.of_type(RULE):
        assert rule.inputs["scope"] == {"tagKey": "Environment", "tagValue": config.tags.environment}, rule.name
    # Every resource the rules evaluate carries that tag (what is not tagged is not evaluated).
    assert dev.one("aws:lb/loadBalancer:LoadBalancer").inputs["tags"]["Environment"] == config.tags.environment
    for task in dev.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        assert task.inputs["tags"]["Environment"] == config.tags.environment, task.name


def test_event_pattern_names_exactly_the_mandatory_rules_and_targets_the_alarm_topic(dev: Plan) -> None:
    got = pattern(dev)
    assert got["source"] == ["aws.config"]
    assert got["detail-type"] == ["Config Rules Compliance Change"]
    assert got["detail"]["newEvaluationResult"] == {"complianceType": ["NON_COMPLIANT"]}
    # dev makes deletion protection advisory: its rule is deployed and evaluated, but does not page.
    deployed = {r.inputs["name"]: r.inputs["source"]["sourceIdentifier"] for r in dev.of_type(RULE)}
    advisory = {n for n, ident in deployed.items() if ident == "ELB_DELETION_PROTECTION_ENABLED"}
    assert len(advisory) == 1
    assert sorted(got["detail"]["configRuleName"]) == sorted(set(deployed) - advisory)
    target = dev.one("aws:cloudwatch/eventTarget:EventTarget")
    topic = dev.one("aws:sns/topic:Topic")
    assert target.inputs["arn"] == topic.outputs["arn"], "the NON_COMPLIANT events do not reach the alarm topic"
    assert target.inputs["rule"] == dev.one(EVENT_RULE).outputs["name"]


def test_topic_and_key_policies_admit_eventbridge(dev: Plan) -> None:
    topic_policy = dev.policy(dev.one("aws:sns/topicPolicy:TopicPolicy"))
    publishers = [s for s in topic_policy["Statement"] if s["Effect"] == "Allow" and s["Action"] == "sns:Publish"]
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} for s in publishers), topic_policy
    key_policy = dev.policy(dev.one("aws:kms/key:Key", "rampart-monitoring-key"))
    users = [s for s in key_policy["Statement"] if "kms:GenerateDataKey*" in s["Action"] and "kms:Decrypt" in s["Action"]]
    assert any("events.amazonaws.com" in s["Principal"]["Service"] for s in users), "EventBridge cannot use the topic's key"


def test_a_disabled_policy_gets_no_rule() -> None:
    rules = planned_rules({}, {"aws-lb-loadbalancer-enable-deletion-protection": "disabled"}, "test")
    assert "ELB_DELETION_PROTECTION_ENABLED" not in {r.identifier for r in rules}
    # A rule two policies share stays while one of them is on.
    shared = planned_rules({}, {"aws-lb-listener-require-https-redirect": "disabled"}, "test")
    assert "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK" in {r.identifier for r in shared}


@pytest.mark.parametrize("advisory", ["aws-lb-listener-require-https-redirect", "aws-lb-listenerrule-disallow-http-forwarding"])
def test_a_shared_rule_pages_while_either_of_its_policies_is_mandatory(advisory: str) -> None:
    def alarms(enforcement: dict[str, str]) -> bool:
        return next(r for r in planned_rules({}, enforcement, "test") if r.identifier == "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK").alarms
    assert alarms({advisory: "advisory"}), f"the other policy is mandatory, so the rule must page with {advisory} advisory"
    both = {"aws-lb-listener-require-https-redirect": "advisory", "aws-lb-listenerrule-disallow-http-forwarding": "advisory"}
    assert not alarms(both), "control: with both advisory the rule does not page"


def test_opt_out_removes_rules_and_event_route() -> None:
    plan = run_service(minimal_args(tags=TAGS, compliance=ComplianceSettings(enabled=False)))
    assert not plan.of_type(RULE) and not plan.of_type(EVENT_RULE)
    assert not plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert not plan.of_type("rampart:compliance:Compliance")


def test_component_default_is_on_and_recorder_is_off() -> None:
    plan = run_service(minimal_args(tags=TAGS))
    assert len(plan.of_type(RULE)) == len(registry_rules())
    assert not plan.of_type("aws:cfg/recorder:Recorder") and not plan.of_type("aws:cfg/deliveryChannel:DeliveryChannel")


def test_without_an_environment_tag_the_scope_is_the_managed_by_tag() -> None:
    plan = run_service(minimal_args())
    for rule in plan.of_type(RULE):
        assert rule.inputs["scope"] == {"tagKey": "managed-by", "tagValue": "rampart"}, rule.name


def test_a_scope_tag_the_environment_does_not_carry_is_refused() -> None:
    with pytest.raises(Exception, match="compliance.tag_key 'CostCentre' is not among the environment's tags"):
        run_service(minimal_args(compliance=ComplianceSettings(tag_key="CostCentre")))


def test_recorder_option_creates_recorder_delivery_channel_and_role() -> None:
    plan = run_environment(
        minimal_args(tags=TAGS, compliance=ComplianceSettings(create_recorder=True)).environment, {}
    )
    recorder = plan.one("aws:cfg/recorder:Recorder")
    role = plan.one("aws:iam/role:Role", "shop-compliance-recorder-role")
    assert recorder.inputs["roleArn"] == role.outputs["arn"]
    assert recorder.inputs["recordingGroup"]["allSupported"] is True
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "config.amazonaws.com"}
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "shop-compliance-recorder-role-config")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
    channel = plan.one("aws:cfg/deliveryChannel:DeliveryChannel")
    bucket = plan.one("aws:s3/bucket:Bucket", "shop-compliance-config")
    assert channel.inputs["s3BucketName"] == bucket.outputs["bucket"]
    status = plan.one("aws:cfg/recorderStatus:RecorderStatus")
    assert status.inputs["isEnabled"] is True and status.inputs["name"] == recorder.outputs["name"]
    # Each rule waits for the recorder to record (AWS refuses a rule in a region without one).
    for rule in plan.of_type(RULE):
        assert status.urn in rule.dependencies, f"{rule.name} does not wait for the recorder"
    policy = plan.policy(plan.one("aws:s3/bucketPolicy:BucketPolicy", "shop-compliance-config-policy"))
    (delivery,) = [s for s in policy["Statement"] if s["Principal"] == {"Service": "config.amazonaws.com"}
                   and s["Action"] == "s3:PutObject"]
    # AWS Config writes only under AWSLogs/<this account>/Config/, and only for this account's recorder.
    assert delivery["Resource"] == f"{bucket.outputs['arn']}/AWSLogs/123456789012/Config/*", delivery
    assert delivery["Condition"] == {"StringEquals": {"AWS:SourceAccount": "123456789012"}}, delivery


def test_the_programs_stack_thresholds_and_levels_reach_the_environments_rules() -> None:
    from rampart.config import PolicySettings
    from rampart.mock_engine import run_program_full
    from rampart.program import attach_environment

    config = load_stack_config(ROOT, "dev")
    policy = PolicySettings(min_log_retention_days=731, enforcement={
        "aws-ecr-repository-require-scan-on-push": "disabled", "aws-kms-key-enable-rotation": "advisory"})
    changed = config.model_copy(update={"policy": policy})
    run = run_program_full(lambda: attach_environment(changed, changed.tags.as_dict()) and None, region=config.region, stack="dev")
    rules = {r.inputs["source"]["sourceIdentifier"]: r for r in run.resources if r.type == RULE}
    assert json.loads(rules["CW_LOGGROUP_RETENTION_PERIOD_CHECK"].inputs["inputParameters"]) == {"MinRetentionTime": "731"}
    assert "ECR_PRIVATE_IMAGE_SCANNING_ENABLED" not in rules
    # An advisory policy's rule is evaluated but does not page; a mandatory one's does.
    names = json.loads(next(r for r in run.resources if r.type == EVENT_RULE).inputs["eventPattern"])["detail"]["configRuleName"]
    assert rules["CMK_BACKING_KEY_ROTATION_ENABLED"].inputs["name"] not in names
    assert rules["ELB_DELETION_PROTECTION_ENABLED"].inputs["name"] in names
