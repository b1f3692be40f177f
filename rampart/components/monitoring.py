"""Logging and monitoring: a customer-managed KMS key, an encrypted SNS alarm topic,
and helpers every other component uses to create encrypted log groups and alarms.

`Monitoring` owns the key and the topic. Log groups and alarms belong to the component
that needs them (each calls `encrypted_log_group` / `metric_alarm` with `parent=self`),
so a resource's parent always says which part of the service it serves.
"""

from __future__ import annotations

from typing import Literal, Optional, Sequence, Union

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator
from rampart_soc2.vocabulary.thresholds import CLOUDWATCH_RETENTION_DAYS, DEFAULT_THRESHOLDS

from rampart.components._util import (
    ArgsModel,
    AwsContext,
    StrInput,
    merge_tags,
    physical_name,
    policy_json,
    project_namespace,
    Tags,
)

#: Retention values CloudWatch Logs accepts (days), and the default: the pack's minimum, so the default passes.
ALLOWED_RETENTION_DAYS: tuple[int, ...] = CLOUDWATCH_RETENTION_DAYS
DEFAULT_LOG_RETENTION_DAYS: int = DEFAULT_THRESHOLDS["minLogRetentionDays"]


def check_retention_days(value: Optional[int], field: str) -> Optional[int]:
    """`value` when CloudWatch Logs accepts it as a retention (or it is None); the one validator of every
    `*_retention_days` setting. The stack's minimum is checked where the thresholds are known
    (`rampart.components.environment`)."""
    if value is not None and value not in ALLOWED_RETENTION_DAYS:
        raise ValueError(
            f"{field}={value} is not a CloudWatch Logs retention; use one of "
            f"{', '.join(str(v) for v in ALLOWED_RETENTION_DAYS)}"
        )
    return value


class MonitoringArgs(ArgsModel):
    """Settings of the KMS key, the alarm topic and log retention."""

    log_retention_days: int = Field(
        DEFAULT_LOG_RETENTION_DAYS,
        description="Days CloudWatch keeps every log group this service creates (SOC 2 CC7.2, C1.2).",
    )
    kms_key_arn: Optional[StrInput] = Field(
        None,
        description="Existing customer-managed KMS key for logs and the alarm topic; None creates one "
        "with rotation. Its key policy must let `logs.<region>.amazonaws.com`, SNS and CloudWatch use it.",
    )
    key_deletion_window_days: int = Field(
        30, ge=7, le=30, description="Waiting period before a deleted key is destroyed (created key only)."
    )
    key_rotation_period_days: int = Field(
        365, ge=90, le=2560, description="Automatic rotation period of the created key (rotation is always on)."
    )
    alarm_topic_arn: Optional[StrInput] = Field(
        None, description="Existing SNS topic for alarm actions; None creates a KMS-encrypted topic."
    )
    alarm_email_endpoints: list[str] = Field(
        default_factory=list,
        description="E-mail addresses subscribed to the created alarm topic (each must confirm).",
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @field_validator("log_retention_days")
    @classmethod
    def _retention_allowed(cls, value: int) -> int:
        return check_retention_days(value, "log_retention_days")  # type: ignore[return-value]

    @field_validator("alarm_email_endpoints")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or address.startswith("@") or address.endswith("@"):
                raise ValueError(f"alarm_email_endpoints: {address!r} is not an e-mail address")
        return value


#: What ECR needs of a customer-managed key that encrypts a repository (through ECR only).
ECR_KEY_ACTIONS = ("kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey")


def key_policy(ctx: AwsContext) -> pulumi.Output[str]:
    """Key policy: account administrators, CloudWatch Logs of this region (for this account's
    log groups only), ECR of this region (the services' image repositories) and SNS / CloudWatch
    alarms / EventBridge (publishing to an encrypted topic)."""
    root = pulumi.Output.concat("arn:", ctx.partition, ":iam::", ctx.account_id, ":root")
    logs_principal = pulumi.Output.concat("logs.", ctx.region, ".", ctx.dns_suffix)
    log_group_arns = pulumi.Output.concat(
        "arn:", ctx.partition, ":logs:", ctx.region, ":", ctx.account_id, ":log-group:*"
    )
    return policy_json(
        [
            {
                "Sid": "AccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsInThisRegion",
                "Effect": "Allow",
                "Principal": {"Service": logs_principal},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}},
            },
            {
                # ECR (AWS, "Encryption at rest", Amazon ECR User Guide): creating a repository with this key,
                # ECR calls DescribeKey and creates grants for itself (CreateGrant, later RetireGrant) on behalf
                # of whoever creates the repository; pushes and pulls then use ECR's grant, so the principals
                # that push or pull need no kms:Decrypt of their own. Only through ECR in this region, only for
                # callers of this account (who still need those actions in their IAM policy).
                "Sid": "EcrRepositoriesInThisRegion",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(ECR_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": pulumi.Output.concat("ecr.", ctx.region, ".", ctx.dns_suffix),
                        "kms:CallerAccount": ctx.account_id,
                    }
                },
            },
            {
                "Sid": "AlarmNotificationsToEncryptedTopic",
                "Effect": "Allow",
                # EventBridge delivers the AWS Config rules' NON_COMPLIANT events (rampart.components.compliance).
                "Principal": {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            },
        ]
    )


def encrypted_log_group(
    resource_name: str,
    *,
    log_group_name: StrInput,
    kms_key_arn: StrInput,
    retention_days: Union[int, pulumi.Output[int]],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.LogGroup:
    """A log group with retention and the customer-managed key (the only way Rampart makes one)."""
    return aws.cloudwatch.LogGroup(
        resource_name,
        aws.cloudwatch.LogGroupArgs(
            name=log_group_name,
            retention_in_days=retention_days,
            kms_key_id=kms_key_arn,
            tags=tags,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


ComparisonOperator = Literal[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]


def metric_alarm(
    resource_name: str,
    *,
    description: str,
    namespace: Optional[str] = None,
    metric_name: Optional[str] = None,
    dimensions: Optional[dict[str, StrInput]] = None,
    statistic: Optional[str] = None,
    extended_statistic: Optional[str] = None,
    metric_queries: Optional[Sequence[aws.cloudwatch.MetricAlarmMetricQueryArgs]] = None,
    threshold: float,
    comparison_operator: ComparisonOperator = "GreaterThanThreshold",
    evaluation_periods: int = 3,
    datapoints_to_alarm: Optional[int] = None,
    period: int = 60,
    treat_missing_data: Literal["missing", "ignore", "breaching", "notBreaching"] = "notBreaching",
    topic_arn: StrInput,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.MetricAlarm:
    """An alarm whose ALARM and OK transitions notify the (encrypted) alarm topic."""
    single_metric = metric_queries is None
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        aws.cloudwatch.MetricAlarmArgs(
            alarm_description=description,
            namespace=namespace if single_metric else None,
            metric_name=metric_name if single_metric else None,
            dimensions=dimensions if single_metric else None,
            statistic=statistic if single_metric else None,
            extended_statistic=extended_statistic if single_metric else None,
            period=period if single_metric else None,
            metric_queries=metric_queries,
            threshold=threshold,
            comparison_operator=comparison_operator,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=treat_missing_data,
            actions_enabled=True,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            tags=tags,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


class Monitoring(pulumi.ComponentResource):
    """KMS key (rotating) and encrypted SNS alarm topic shared by a service's log groups and alarms."""

    kms_key_arn: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    log_retention_days: int
    key: Optional[aws.kms.Key]
    topic: Optional[aws.sns.Topic]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("rampart:monitoring:Monitoring", name, None, opts)
        tags = merge_tags(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        ctx = AwsContext(pulumi.InvokeOptions(parent=self))
        self.log_retention_days = args.log_retention_days

        self.key = None
        if args.kms_key_arn is None:
            self.key = aws.kms.Key(
                f"{name}-key",
                aws.kms.KeyArgs(
                    description=f"Rampart {name}: CloudWatch Logs and alarm topic encryption",
                    enable_key_rotation=True,
                    rotation_period_in_days=args.key_rotation_period_days,
                    deletion_window_in_days=args.key_deletion_window_days,
                    policy=key_policy(ctx),
                    tags=tags,
                ),
                opts=child,
            )
            aws.kms.Alias(
                f"{name}-key-alias",
                aws.kms.AliasArgs(name=f"alias/{project_namespace()}/{physical_name(name, 200)}", target_key_id=self.key.key_id),
                opts=child,
            )
            self.kms_key_arn = self.key.arn
        else:
            self.kms_key_arn = pulumi.Output.from_input(args.kms_key_arn)

        self.topic = None
        if args.alarm_topic_arn is None:
            self.topic = aws.sns.Topic(
                f"{name}-alarms",
                aws.sns.TopicArgs(kms_master_key_id=self.kms_key_arn, tags=tags),
                opts=child,
            )
            topic_policy = aws.sns.TopicPolicy(
                f"{name}-alarms-policy",
                aws.sns.TopicPolicyArgs(
                    arn=self.topic.arn,
                    policy=policy_json(
                        [
                            # CloudWatch alarms, and AWS Config rules' NON_COMPLIANT events through
                            # EventBridge (rampart.components.compliance), from this account only.
                            *(
                                {
                                    "Sid": sid,
                                    "Effect": "Allow",
                                    "Principal": {"Service": service},
                                    "Action": "sns:Publish",
                                    "Resource": self.topic.arn,
                                    "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
                                }
                                for sid, service in (
                                    ("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com"),
                                    ("EventBridgePublish", "events.amazonaws.com"),
                                )
                            ),
                            {
                                "Sid": "DenyInsecureTransport",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "sns:Publish",
                                "Resource": self.topic.arn,
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            },
                        ]
                    ),
                ),
                opts=child,
            )
            for index, address in enumerate(args.alarm_email_endpoints):
                aws.sns.TopicSubscription(
                    f"{name}-alarms-email-{index}",
                    aws.sns.TopicSubscriptionArgs(topic=self.topic.arn, protocol="email", endpoint=address),
                    opts=child,
                )
            # The topic's ARN as the policy reports it: alarms wait until CloudWatch may publish.
            self.alarm_topic_arn = topic_policy.arn
        else:
            self.alarm_topic_arn = pulumi.Output.from_input(args.alarm_topic_arn)

        self.register_outputs({"kms_key_arn": self.kms_key_arn, "alarm_topic_arn": self.alarm_topic_arn})
