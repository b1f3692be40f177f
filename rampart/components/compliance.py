"""Compliance: the runtime checkpoint of the SOC 2 controls, all audit period long.

For every policy of the pack whose control AWS Config has a managed rule for (the shared vocabulary
declares the rule's identifier and parameters by policy id: `rampart_soc2.vocabulary.config_rules`, which
the pack's registry attaches to the policy as `PolicySpec.config_rule`), one `aws.cfg.Rule`,
with its parameters taken from this stack's pack thresholds (the log retention minimum the preview
checks is the one AWS Config checks), scoped to this environment's resources by a tag. An EventBridge
rule sends each change of one of these rules to NON_COMPLIANT to the environment's alarm topic.

AWS Config rules evaluate only what a configuration recorder records, and AWS refuses a rule in an
account and region without one (`NoAvailableConfigurationRecorderException`). AWS allows one recorder
and one delivery channel per account and region, so exactly one stack (or the account's baseline) owns
them and every other stack declares them. `recorder` says which: `create` adds the recorder, its IAM role
(AWS managed policy `AWS_ConfigRole` plus the delivery permissions AWS documents for a same-account
bucket), the delivery channel and its bucket; `{existing: NAME}` declares a recorder this stack does not
own, looked up through the Cloud Control API at deploy (and preview) before any rule is registered, so a
missing one fails the deploy with a message that says what to do; `none` (an environment setting) deploys
no rules. Every rule carries the tag `rampart-config-recorder` naming the recorder that evaluates it, so a
stack policy can see the declaration: a recorder of that name in the stack, or a declared one.

Dependency direction: components know nothing of stacks or of individual policies, and the pack knows
nothing of components; like every component, this module reads only the vocabulary both share (the Config
rules, the thresholds, the recorder tag). A policy with a Config rule is `RULE_POLICY_LEVEL` on every stack
(the registry refuses any other), so the level of a rule's policy needs no policy: the stack's override, else that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Optional, Union

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator
from rampart_soc2.vocabulary.config_rules import CONFIG_RULES, RULE_POLICY_LEVEL
from rampart_soc2.vocabulary.tags import CONFIG_RECORDER_TAG
from rampart_soc2.vocabulary.thresholds import DEFAULT_THRESHOLDS

from rampart.components._util import (
    ArgsModel,
    AwsContext,
    StrInput,
    Tags,
    assume_role_policy,
    merge_tags,
    physical_name,
    policy_json,
    project_namespace,
)
from rampart.components.buckets import locked_bucket

Level = Literal["advisory", "mandatory", "disabled"]

#: The tag that scopes the rules when the environment's tags carry it (Rampart's stack files always set it).
DEFAULT_SCOPE_TAG = "Environment"

#: What AWS Config publishes to EventBridge when a rule's result for a resource changes.
COMPLIANCE_CHANGE = "Config Rules Compliance Change"

#: AWS managed policy a configuration recorder's role needs (read-only describe/list of recorded types).
CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"

#: The Cloud Control (CloudFormation registry) type of a configuration recorder; its primary identifier is
#: the recorder's name (aws-native's `getConfigurationRecorder` takes exactly that one argument).
RECORDER_TYPE = "AWS::Config::ConfigurationRecorder"

#: Where to look a recorder's name up, for the messages.
LIST_RECORDERS = "aws configservice describe-configuration-recorders"


#: Input parameters AWS Config accepts only from a fixed set (the rule's page lists them): a threshold
#: outside it would leave the rule in ERROR, checking nothing, so it is refused before deployment.
#: https://docs.aws.amazon.com/config/latest/developerguide/cw-loggroup-retention-period-check.html
ACCEPTED_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("CW_LOGGROUP_RETENTION_PERIOD_CHECK", "MinRetentionTime"): (
        "1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365", "400", "545", "731", "1827", "3653",
    ),
}


class ExistingRecorder(ArgsModel):
    """A configuration recorder this stack does not own: another stack's, or the account baseline's."""

    existing: str = Field(
        min_length=1,
        max_length=256,
        description="Name of the AWS Config configuration recorder that records in this stack's account and region "
        f"(`{LIST_RECORDERS}` lists it; the console and most baselines name it `default`). It must exist before "
        "`pulumi up`: the deploy looks it up before creating any rule and stops with a message if it is missing.",
    )


#: Who owns the account and region's configuration recorder, as the stack file says it.
RecorderChoice = Union[Literal["create", "none"], ExistingRecorder]


def recorder_unset_message() -> str:
    """The plan-time refusal of an environment that deploys Config rules without saying where their recorder is."""
    return (
        "compliance.recorder is not set, but the environment deploys AWS Config rules, which AWS refuses "
        "in an account and region without a configuration recorder (NoAvailableConfigurationRecorderException). "
        "Choose one: `recorder: create` (this stack creates the recorder and delivery channel; only one per account "
        "and region), `recorder: {existing: NAME}` (one that already records there, see "
        f"`{LIST_RECORDERS}`), or `recorder: none` (no AWS Config rules)"
    )


class ComplianceSettings(ArgsModel):
    """What a platform team chooses for the environment's AWS Config rules."""

    recorder: Optional[RecorderChoice] = Field(
        None,
        description="The AWS Config configuration recorder the rules need (one per account and region): `create` "
        "(this stack creates the recorder, its role, the delivery channel and its bucket), `{existing: NAME}` "
        "(declared: another stack or the account baseline owns it; looked up at deploy), or `none` (deploy no "
        "AWS Config rules; the evidence report then shows no runtime rule for any control). Must be set: an "
        "environment without it is refused at plan.",
    )
    tag_key: Optional[str] = Field(
        None,
        min_length=1,
        max_length=128,
        description="Tag key that scopes the rules to this environment's resources; default `Environment` when "
        "the environment's tags carry it, else `managed-by` (every Rampart resource in the account and region).",
    )
    tag_value: Optional[str] = Field(
        None, min_length=1, max_length=256, description="The tag's value; default: the environment's value of `tag_key`."
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @property
    def deploys_rules(self) -> bool:
        """Whether the environment deploys Config rules (every choice but `none`; unset is refused)."""
        return self.recorder != "none"

    @field_validator("tag_key")
    @classmethod
    def _tag_key(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value.lower().startswith("aws:"):
            raise ValueError(f"tag_key {value!r} uses the reserved `aws:` prefix; choose a tag the environment sets")
        return value


class ComplianceArgs(ArgsModel):
    """The Compliance component's args: the scope, the alarm topic and the stack's pack settings."""

    tag_key: str = Field(min_length=1, max_length=128, description="Tag key of the resources the rules evaluate.")
    tag_value: str = Field(min_length=1, max_length=256, description="Its value.")
    alarm_topic_arn: StrInput = Field(description="Topic a change to NON_COMPLIANT is sent to (must admit EventBridge).")
    thresholds: dict[str, Any] = Field(
        default_factory=dict,
        description="The stack's pack thresholds (`rampart:policy`, pack keys such as `minLogRetentionDays`) over "
        "the pack's defaults; they give the rules' parameters.",
    )
    enforcement: dict[str, Level] = Field(
        default_factory=dict,
        description="Policy id -> level on this stack (`rampart:policy.enforcement`): a disabled policy's rule is "
        "not deployed; only rules of mandatory policies alarm.",
    )
    recorder: Union[Literal["create"], ExistingRecorder] = Field(
        description="`create` the recorder and delivery channel here, or the `existing` one the rules rely on."
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")


@dataclass(frozen=True)
class PlannedRule:
    """One Config rule to deploy: the managed rule, its parameters and the policies it is the runtime check of."""

    identifier: str
    parameters: dict[str, str]
    policies: tuple[str, ...]
    alarms: bool
    """Whether a change to NON_COMPLIANT pages: one of its policies is mandatory on this stack."""


def parameter_text(value: Any) -> str:
    """A threshold as AWS Config takes an input parameter: a string, lists comma-separated."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def planned_rules(thresholds: Mapping[str, Any], enforcement: Mapping[str, str]) -> list[PlannedRule]:
    """The rules a stack deploys, one per managed rule and parameters, in policy-id order (the registry's).

    A rule several policies share (the HTTP-listener redirect check) is deployed once for all of them. A
    policy not named in `enforcement` is at `RULE_POLICY_LEVEL`, its default on every stack."""
    values = {**DEFAULT_THRESHOLDS, **thresholds}
    unknown = sorted(set(thresholds) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise ValueError(f"thresholds: {', '.join(unknown)} are not pack thresholds; use {', '.join(DEFAULT_THRESHOLDS)}")
    planned: dict[tuple[str, str], PlannedRule] = {}
    for policy_id in sorted(CONFIG_RULES):
        rule = CONFIG_RULES[policy_id]
        level = enforcement.get(policy_id) or RULE_POLICY_LEVEL
        if level == "disabled":
            continue
        parameters = {name: parameter_text(values[threshold]) for name, threshold in rule.parameters}
        for (name, threshold) in rule.parameters:
            accepted = ACCEPTED_VALUES.get((rule.identifier, name))
            if accepted is not None and parameters[name] not in accepted:
                raise ValueError(
                    f"threshold {threshold}={parameters[name]} cannot be {rule.identifier}'s {name}, which "
                    f"accepts only {', '.join(accepted)}; choose one of those, or opt out with compliance.recorder: none"
                )
        key = (rule.identifier, json.dumps(parameters, sort_keys=True))
        previous = planned.get(key)
        planned[key] = PlannedRule(
            rule.identifier,
            parameters,
            (previous.policies if previous else ()) + (policy_id,),
            (previous.alarms if previous else False) or level == "mandatory",
        )
    return list(planned.values())


def recorder_note(choice: Union[Literal["create"], ExistingRecorder], recorder_name: str, rule_count: int) -> str:
    """The line `pulumi preview` and `rampart plan` print about the recorder the rules rely on."""
    if choice == "create":
        return (
            f"AWS Config: this stack creates the recorder {recorder_name!r} and its delivery channel for its "
            f"{rule_count} rules; AWS allows one of each per account and region, so every other stack in this account "
            f"and region declares it (`recorder: {{existing: {recorder_name}}}`), and destroying this stack stops their rules."
        )
    return (
        f"AWS Config: this stack declares recorder {recorder_name!r}: it must exist in the account/region before "
        f"`pulumi up` (`{LIST_RECORDERS}`); the deploy looks it up before creating the {rule_count} rules."
    )


def account_name(name: str, suffix: str, limit: int) -> str:
    """A name unique per account and region: project, component, what it is, stack (Config rule and
    EventBridge rule names are not scoped by anything else, and two projects may share a component name)."""
    return physical_name(f"{project_namespace()}-{name}-{suffix}", limit)


def rule_suffix(identifier: str) -> str:
    """`CW_LOGGROUP_RETENTION_PERIOD_CHECK` -> `cw-loggroup-retention-period-check` (AWS's page name)."""
    return identifier.lower().replace("_", "-")


class Compliance(pulumi.ComponentResource):
    """AWS Config managed rules for the pack's controls, scoped by tag, alarming through EventBridge."""

    rules: dict[str, aws.cfg.Rule]
    """Managed-rule identifier -> the deployed rule."""
    alarmed_rule_names: list[str]
    event_rule: Optional[aws.cloudwatch.EventRule]
    recorder: Optional[aws.cfg.Recorder]
    """The recorder created here (`recorder: create`), else None."""
    recorder_status: Optional[aws.cfg.RecorderStatus]
    recorder_name: str
    """The recorder the rules rely on: the one created here or the declared one (tagged on every rule)."""

    def __init__(self, name: str, args: ComplianceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("rampart:compliance:Compliance", name, None, opts)
        self._tags = merge_tags(args.tags)
        plan = planned_rules(args.thresholds, args.enforcement)
        if args.recorder == "create":
            self.recorder, self.recorder_status = self._recorder(name)
            self.recorder_name = account_name(name, "recorder", 256)
        else:
            self.recorder, self.recorder_status = None, None
            self.recorder_name = self._declared_recorder(args.recorder.existing)
        pulumi.log.info(recorder_note(args.recorder, self.recorder_name, len(plan)))
        self.rules = {rule.identifier: self._rule(name, rule, args) for rule in plan}
        self.alarmed_rule_names = [account_name(name, rule_suffix(r.identifier), 128) for r in plan if r.alarms]
        self.event_rule = self._alarm_route(name, args) if self.alarmed_rule_names else None
        self.register_outputs(
            {
                "rule_names": [rule.name for rule in self.rules.values()],
                "scope": {"tagKey": args.tag_key, "tagValue": args.tag_value},
                "recorder": self.recorder_name,
            }
        )

    # --- pieces, in the order the constructor uses them -------------------------------------
    def _child(self, depends_on: Optional[list[pulumi.Resource]] = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=depends_on)

    def _rule(self, name: str, rule: PlannedRule, args: ComplianceArgs) -> aws.cfg.Rule:
        # A rule created before the region's recorder exists is refused: wait for the one created here.
        after: list[pulumi.Resource] = [self.recorder_status] if self.recorder_status is not None else []
        return aws.cfg.Rule(
            f"{name}-{rule_suffix(rule.identifier)}",
            aws.cfg.RuleArgs(
                name=account_name(name, rule_suffix(rule.identifier), 128),
                description=f"Runtime check of {', '.join(rule.policies)} (Rampart SOC 2 pack).",
                source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier=rule.identifier),
                input_parameters=json.dumps(rule.parameters, sort_keys=True) if rule.parameters else None,
                scope=aws.cfg.RuleScopeArgs(tag_key=args.tag_key, tag_value=args.tag_value),
                tags={**self._tags, CONFIG_RECORDER_TAG: self.recorder_name},
            ),
            opts=self._child(after),
        )

    def _declared_recorder(self, recorder_name: str) -> str:
        """Look the declared recorder up (Cloud Control API, at preview and deploy) before any rule is
        registered: a recorder that is missing, or that this account cannot read, stops the program here."""
        try:
            found = aws.cloudcontrol.get_resource(
                type_name=RECORDER_TYPE, identifier=recorder_name, opts=pulumi.InvokeOptions(parent=self)
            )
        except Exception as e:  # the provider's error says why (not found, access denied, ...); keep it
            raise ValueError(
                f"AWS Config: the recorder {recorder_name!r} declared in compliance.recorder.existing could not be read "
                f"in this account and region ({e}); create it first (or have its owning stack deployed), correct the "
                f"name (`{LIST_RECORDERS}`), or set `compliance.recorder: create` if this stack should own it"
            ) from e
        return found.identifier or recorder_name

    def _alarm_route(self, name: str, args: ComplianceArgs) -> aws.cloudwatch.EventRule:
        """EventBridge: a change of one of the alarmed rules to NON_COMPLIANT goes to the alarm topic."""
        pattern = {
            "source": ["aws.config"],
            "detail-type": [COMPLIANCE_CHANGE],
            "detail": {
                "configRuleName": sorted(self.alarmed_rule_names),
                "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
            },
        }
        event_rule = aws.cloudwatch.EventRule(
            f"{name}-noncompliant",
            aws.cloudwatch.EventRuleArgs(
                name=account_name(name, "noncompliant", 64),
                description=f"{name}: a Rampart SOC 2 control's AWS Config rule found a resource NON_COMPLIANT",
                event_pattern=json.dumps(pattern, sort_keys=True),
                tags=self._tags,
            ),
            opts=self._child(list(self.rules.values())),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-noncompliant-alarm-topic",
            aws.cloudwatch.EventTargetArgs(rule=event_rule.name, arn=args.alarm_topic_arn),
            opts=self._child(),
        )
        return event_rule

    def _recorder(self, name: str) -> tuple[aws.cfg.Recorder, aws.cfg.RecorderStatus]:
        """The configuration recorder, its role and its delivery channel into a locked-down bucket."""
        ctx = AwsContext(pulumi.InvokeOptions(parent=self))
        role = aws.iam.Role(
            f"{name}-recorder-role",
            aws.iam.RoleArgs(
                description=f"{name}: AWS Config configuration recorder",
                assume_role_policy=assume_role_policy("config.amazonaws.com"),
                tags=self._tags,
            ),
            opts=self._child(),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-recorder-role-config",
            aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=CONFIG_ROLE_POLICY),
            opts=self._child(),
        )
        recorder = aws.cfg.Recorder(
            f"{name}-recorder",
            aws.cfg.RecorderArgs(
                name=account_name(name, "recorder", 256),
                role_arn=role.arn,
                recording_group=aws.cfg.RecorderRecordingGroupArgs(
                    all_supported=True, include_global_resource_types=False
                ),
            ),
            opts=self._child(),
        )
        bucket, bucket_policy = self._delivery_bucket(name, ctx)
        delivery = self._delivery_permissions(name, role, bucket, ctx)
        channel = aws.cfg.DeliveryChannel(
            f"{name}-delivery",
            aws.cfg.DeliveryChannelArgs(
                name=account_name(name, "delivery", 256),
                s3_bucket_name=bucket.bucket,
                snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                    delivery_frequency="TwentyFour_Hours"
                ),
            ),
            # AWS checks that the recorder's role can write the bucket when the channel is created
            # (InsufficientDeliveryPolicyException otherwise); a channel needs its recorder.
            opts=self._child([recorder, bucket_policy, delivery]),
        )
        status = aws.cfg.RecorderStatus(
            f"{name}-recorder-status",
            aws.cfg.RecorderStatusArgs(name=recorder.name, is_enabled=True),
            opts=self._child([channel]),
        )
        return recorder, status

    def _delivery_permissions(
        self, name: str, role: aws.iam.Role, bucket: aws.s3.Bucket, ctx: AwsContext
    ) -> aws.iam.RolePolicy:
        """What the recorder's role needs to deliver: for a bucket in the same account AWS Config writes with
        the role, and `AWS_ConfigRole` grants no S3 write. As AWS documents it (Permissions for the IAM role
        assigned to AWS Config): PutObject under `AWSLogs/<account>/Config/` with the bucket-owner-full-control
        ACL, and GetBucketAcl (with ListBucket) on the bucket. The bucket is SSE-S3 (`buckets.locked_bucket`),
        so no KMS permission is needed; a KMS-encrypted bucket would need kms:GenerateDataKey and kms:Decrypt."""
        return aws.iam.RolePolicy(
            f"{name}-recorder-delivery",
            aws.iam.RolePolicyArgs(
                role=role.id,
                policy=policy_json(
                    [
                        {
                            "Sid": "ConfigDelivery",
                            "Effect": "Allow",
                            "Action": "s3:PutObject",
                            "Resource": pulumi.Output.concat(bucket.arn, "/AWSLogs/", ctx.account_id, "/Config/*"),
                            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                        },
                        {
                            "Sid": "ConfigBucketCheck",
                            "Effect": "Allow",
                            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                            "Resource": bucket.arn,
                        },
                    ]
                ),
            ),
            opts=self._child(),
        )

    def _delivery_bucket(self, name: str, ctx: AwsContext) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        """The delivery channel's bucket with the pack's S3 controls (`buckets.locked_bucket`); AWS
        Config may check it and write under `AWSLogs/<account>/Config/`."""
        same_account = {"StringEquals": {"AWS:SourceAccount": ctx.account_id}}
        return locked_bucket(
            f"{name}-config",
            self,
            self._tags,
            lambda arn: [
                {
                    "Sid": "ConfigBucketCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                    "Resource": arn,
                    "Condition": same_account,
                },
                {
                    "Sid": "ConfigDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.concat(arn, "/AWSLogs/", ctx.account_id, "/Config/*"),
                    "Condition": same_account,
                },
            ],
        )
