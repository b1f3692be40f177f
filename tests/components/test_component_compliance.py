"""The runtime checkpoint: the environment deploys each control's AWS Config managed rule, with the
stack's thresholds as parameters, scoped to the stack's resources by tag, and routes a change to
NON_COMPLIANT to the environment's alarm topic through EventBridge, which the topic and its key admit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components_support import DECLARED_RECORDER, Plan, minimal_args, run_environment, run_service, TAGS
from rampart.components.compliance import RECORDER_TYPE, ComplianceSettings, ExistingRecorder, planned_rules, rule_suffix
from rampart.config import load_stack_config
from rampart.offline.plan import run_stack
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
    rules = planned_rules({"minLogRetentionDays": 731}, {})
    retention = next(r for r in rules if r.identifier == "CW_LOGGROUP_RETENTION_PERIOD_CHECK")
    assert retention.parameters == {"MinRetentionTime": "731"}
    with pytest.raises(ValueError, match="minLogRetention.*not pack thresholds"):
        planned_rules({"minLogRetention": 731}, {})


@pytest.mark.parametrize("days, accepted", [(731, True), (1827, True), (1096, False), (366, False)])
def test_a_retention_minimum_the_config_rule_refuses_is_refused_before_deployment(days: int, accepted: bool) -> None:
    # 1096 is a CloudWatch retention but not a MinRetentionTime AWS Config accepts: the rule would sit in ERROR.
    if accepted:
        assert planned_rules({"minLogRetentionDays": days}, {})
    else:
        with pytest.raises(ValueError, match=f"minLogRetentionDays={days} cannot be CW_LOGGROUP_RETENTION_PERIOD_CHECK's"):
            planned_rules({"minLogRetentionDays": days}, {})


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
    rules = planned_rules({}, {"aws-lb-loadbalancer-enable-deletion-protection": "disabled"})
    assert "ELB_DELETION_PROTECTION_ENABLED" not in {r.identifier for r in rules}
    # A rule two policies share stays while one of them is on.
    shared = planned_rules({}, {"aws-lb-listener-require-https-redirect": "disabled"})
    assert "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK" in {r.identifier for r in shared}


@pytest.mark.parametrize("advisory", ["aws-lb-listener-require-https-redirect", "aws-lb-listenerrule-disallow-http-forwarding"])
def test_a_shared_rule_pages_while_either_of_its_policies_is_mandatory(advisory: str) -> None:
    def alarms(enforcement: dict[str, str]) -> bool:
        return next(r for r in planned_rules({}, enforcement) if r.identifier == "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK").alarms
    assert alarms({advisory: "advisory"}), f"the other policy is mandatory, so the rule must page with {advisory} advisory"
    both = {"aws-lb-listener-require-https-redirect": "advisory", "aws-lb-listenerrule-disallow-http-forwarding": "advisory"}
    assert not alarms(both), "control: with both advisory the rule does not page"


def test_opt_out_removes_rules_and_event_route() -> None:
    plan = run_service(minimal_args(tags=TAGS, compliance=ComplianceSettings(recorder="none")))
    assert not plan.of_type(RULE) and not plan.of_type(EVENT_RULE)
    assert not plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert not plan.of_type("rampart:compliance:Compliance")


def test_a_declared_recorder_deploys_the_rules_and_creates_no_recorder() -> None:
    plan = run_service(minimal_args(tags=TAGS))
    assert len(plan.of_type(RULE)) == len(registry_rules())
    assert not plan.of_type("aws:cfg/recorder:Recorder") and not plan.of_type("aws:cfg/deliveryChannel:DeliveryChannel")


def test_without_an_environment_tag_the_scope_is_the_managed_by_tag() -> None:
    plan = run_service(minimal_args())
    for rule in plan.of_type(RULE):
        assert rule.inputs["scope"] == {"tagKey": "managed-by", "tagValue": "rampart"}, rule.name


def test_a_scope_tag_the_environment_does_not_carry_is_refused() -> None:
    with pytest.raises(Exception, match="compliance.tag_key 'CostCentre' is not among the environment's tags"):
        run_service(minimal_args(compliance=ComplianceSettings(tag_key="CostCentre", recorder=DECLARED_RECORDER)))


def test_recorder_option_creates_recorder_delivery_channel_and_role() -> None:
    plan = run_environment(
        minimal_args(tags=TAGS, compliance=ComplianceSettings(recorder="create")).environment, {}
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
    # Its bucket check (GetBucketAcl/ListBucket) is only for this account's recorder too (confused deputy).
    (check,) = [s for s in policy["Statement"] if s["Principal"] == {"Service": "config.amazonaws.com"}
                and s["Action"] != "s3:PutObject"]
    assert check["Resource"] == bucket.outputs["arn"], check
    assert check["Condition"] == {"StringEquals": {"AWS:SourceAccount": "123456789012"}}, check


def test_the_programs_stack_thresholds_and_levels_reach_the_environments_rules() -> None:
    from rampart.config import PolicySettings
    from rampart.offline.mock_engine import run_program_full
    from rampart.program import attach_environment

    config = load_stack_config(ROOT, "dev")
    policy = PolicySettings(min_log_retention_days=731, enforcement={
        "aws-ecr-repository-require-scan-on-push": "disabled", "aws-kms-key-enable-rotation": "advisory"})
    # The environment keeps its logs that long too: a shorter retention is refused at plan (issue 22).
    assert config.environment is not None
    monitoring = config.environment.monitoring.model_copy(update={"log_retention_days": 731})
    changed = config.model_copy(update={"policy": policy,
                                        "environment": config.environment.model_copy(update={"monitoring": monitoring})})
    run = run_program_full(lambda: attach_environment(changed, changed.tags.as_dict()) and None, region=config.region, stack="dev")
    rules = {r.inputs["source"]["sourceIdentifier"]: r for r in run.resources if r.type == RULE}
    assert json.loads(rules["CW_LOGGROUP_RETENTION_PERIOD_CHECK"].inputs["inputParameters"]) == {"MinRetentionTime": "731"}
    assert "ECR_PRIVATE_IMAGE_SCANNING_ENABLED" not in rules
    # An advisory policy's rule is evaluated but does not page; a mandatory one's does.
    names = json.loads(next(r for r in run.resources if r.type == EVENT_RULE).inputs["eventPattern"])["detail"]["configRuleName"]
    assert rules["CMK_BACKING_KEY_ROTATION_ENABLED"].inputs["name"] not in names
    assert rules["ELB_DELETION_PROTECTION_ENABLED"].inputs["name"] in names


# --- who owns the recorder (issue 21 items 1 and 2) -----------------------------------------------
RECORDER = "aws:cfg/recorder:Recorder"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"


def test_an_environment_that_does_not_say_where_its_recorder_is_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        minimal_args(compliance=ComplianceSettings())
    message = str(refused.value)
    # What is wrong, the AWS error it prevents, and the three ways out.
    for words in ("compliance.recorder is not set", "NoAvailableConfigurationRecorderException",
                  "`recorder: create`", "`recorder: {existing: NAME}`", "`recorder: none`"):
        assert words in message, f"{words!r} missing from: {message}"


@pytest.mark.parametrize("value, accepted", [("", False), ("r" * 256, True), ("r" * 257, False), ("default", True)])
def test_a_declared_recorder_name_is_a_name_aws_accepts(value: str, accepted: bool) -> None:
    from pydantic import ValidationError

    if accepted:
        assert ComplianceSettings(recorder={"existing": value}).recorder == ExistingRecorder(existing=value)
    else:
        with pytest.raises(ValidationError, match="recorder"):
            ComplianceSettings(recorder={"existing": value})


def test_the_stack_files_say_who_owns_the_recorder() -> None:
    # dev (its own new account) creates the recorder and channel; prod (its own established account)
    # declares the baseline's; dev-reports attaches to dev's environment and deploys no rules.
    dev = load_stack_config(ROOT, "dev").environment.compliance.recorder
    prod = load_stack_config(ROOT, "prod").environment.compliance.recorder
    assert dev == "create", dev
    assert prod == ExistingRecorder(existing="default"), prod


def test_created_recorders_role_can_deliver_to_its_bucket() -> None:
    plan = run_environment(minimal_args(tags=TAGS, compliance=ComplianceSettings(recorder="create")).environment, {})
    role = plan.one("aws:iam/role:Role", "shop-compliance-recorder-role")
    bucket = plan.one("aws:s3/bucket:Bucket", "shop-compliance-config")
    grants = [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["id"]]
    assert len(grants) == 1, f"{role.name}: expected one delivery policy, got {[g.name for g in grants]}"
    statements = plan.policy(grants[0])["Statement"]
    (put,) = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert put["Effect"] == "Allow"
    assert put["Resource"] == f"{bucket.outputs['arn']}/AWSLogs/123456789012/Config/*", put
    assert put["Condition"] == {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}, put
    (check,) = [s for s in statements if s["Action"] != "s3:PutObject"]
    assert sorted(check["Action"]) == ["s3:GetBucketAcl", "s3:ListBucket"] and check["Resource"] == bucket.outputs["arn"], check
    # The bucket is SSE-S3: AWS Config needs no KMS grant to write it (a KMS bucket would need one).
    sse = plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   "shop-compliance-config-encryption")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}, sse.inputs
    # AWS checks the delivery permissions when the channel is created: the channel waits for them.
    assert grants[0].urn in plan.one(CHANNEL).dependencies, "the delivery channel does not wait for the role's grant"


def test_every_rule_names_its_recorder_in_a_tag_a_stack_policy_can_read() -> None:
    from rampart_soc2.vocabulary.tags import CONFIG_RECORDER_TAG

    created = run_environment(minimal_args(tags=TAGS, compliance=ComplianceSettings(recorder="create")).environment, {})
    name = created.one(RECORDER).inputs["name"]
    declared = run_service(minimal_args(tags=TAGS, compliance=ComplianceSettings(recorder={"existing": "org-recorder"})))
    for plan, expected in ((created, name), (declared, "org-recorder")):
        assert plan.of_type(RULE)
        for rule in plan.of_type(RULE):
            assert rule.inputs["tags"].get(CONFIG_RECORDER_TAG) == expected, f"{rule.name}: {rule.inputs['tags']}"
    assert not declared.of_type(RECORDER)


def test_a_declared_recorder_is_looked_up_before_any_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi_aws as aws

    looked_up: list[tuple[str, str, int]] = []
    rules: list[str] = []
    real_lookup, real_rule = aws.cloudcontrol.get_resource, aws.cfg.Rule.__init__

    def spy(*, type_name: str, identifier: str, **kwargs: Any) -> Any:
        looked_up.append((type_name, identifier, len(rules)))
        return real_lookup(type_name=type_name, identifier=identifier, **kwargs)

    def rule(self: Any, resource_name: str, *args: Any, **kwargs: Any) -> None:
        rules.append(resource_name)
        real_rule(self, resource_name, *args, **kwargs)

    monkeypatch.setattr(aws.cloudcontrol, "get_resource", spy)
    monkeypatch.setattr(aws.cfg.Rule, "__init__", rule)
    run_service(minimal_args(tags=TAGS, compliance=ComplianceSettings(recorder={"existing": "org-recorder"})))
    # Looked up once, by its Cloud Control type and name, when no rule had been registered yet.
    assert looked_up == [("AWS::Config::ConfigurationRecorder", "org-recorder", 0)] and RECORDER_TYPE == looked_up[0][0]
    assert len(rules) == len(registry_rules())


def test_a_missing_declared_recorder_stops_the_program_before_any_rule_saying_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi_aws as aws

    def missing(**kwargs: Any) -> Any:
        raise Exception("ResourceNotFoundException: Resource of type 'AWS::Config::ConfigurationRecorder' with identifier 'org-recorder' was not found.")

    monkeypatch.setattr(aws.cloudcontrol, "get_resource", missing)
    with pytest.raises(Exception) as stopped:
        run_service(minimal_args(tags=TAGS, compliance=ComplianceSettings(recorder={"existing": "org-recorder"})))
    message = str(stopped.value)
    for words in ("'org-recorder'", "compliance.recorder.existing", "ResourceNotFoundException",
                  "describe-configuration-recorders", "`compliance.recorder: create`"):
        assert words in message, f"{words!r} missing from: {message}"


def test_rampart_plan_of_dev_says_that_dev_creates_the_recorder(dev: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from rampart.commands import plan as plan_command

    plan_command.run(argparse.Namespace(project_dir=ROOT, stack="dev", stack_outputs=[], json=None))
    out = capsys.readouterr().out
    (line,) = [l for l in out.splitlines() if l.startswith("AWS Config:")]
    name = dev.one(RECORDER).inputs["name"]
    assert line.startswith(f"AWS Config: this stack creates the recorder {name!r} and its delivery channel for its "
                           f"{len(dev.of_type(RULE))} rules"), line
    assert "one of each per account and region" in line, line


def test_prod_notes_that_its_declared_recorder_must_exist_before_pulumi_up() -> None:
    run = run_stack(ROOT, "prod")
    (line,) = [n for n in run.notes if n.startswith("AWS Config:")]
    assert line.startswith("AWS Config: this stack declares recorder 'default': it must exist in the account/region "
                           "before `pulumi up`"), line
    assert not [r for r in run.resources if r.type in (RECORDER, CHANNEL)], "prod creates a recorder it only declares"


def test_dev_owns_exactly_one_recorder_and_channel(dev: Plan) -> None:
    recorder, channel = dev.one(RECORDER), dev.one(CHANNEL)
    status = dev.one("aws:cfg/recorderStatus:RecorderStatus")
    assert status.inputs["name"] == recorder.outputs["name"]
    for rule in dev.of_type(RULE):
        assert status.urn in rule.dependencies, f"{rule.name} does not wait for dev's recorder to record"
    assert channel.inputs["name"].endswith("-dev")


def test_rampart_check_of_dev_says_that_dev_creates_the_recorder(dev: Plan) -> None:
    from rampart.offline.check import check_stack, summary_lines

    lines = summary_lines(check_stack(ROOT, "dev"))
    name = dev.one(RECORDER).inputs["name"]
    notes = [l for l in lines if l.startswith("AWS Config:")]
    assert len(notes) == 1 and notes[0].startswith(f"AWS Config: this stack creates the recorder {name!r}"), lines[:5]


def test_a_stack_file_without_the_recorder_is_refused_naming_the_file_and_key() -> None:
    from rampart.config import read_stack_values, validate_stack_config
    from rampart.errors import UserError

    path, values = read_stack_values(ROOT, "dev")
    del values["rampart:environment"]["compliance"]
    with pytest.raises(UserError) as refused:
        validate_stack_config(values, path.name)
    assert "Pulumi.dev.yaml" in str(refused.value), str(refused.value)
    assert "rampart:environment: compliance.recorder is not set" in str(refused.value), str(refused.value)
