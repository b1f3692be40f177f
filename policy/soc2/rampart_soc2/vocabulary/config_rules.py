"""Each control's AWS Config managed rule: the runtime checkpoint of a pack policy, all audit period long.

One control, three checkpoints (the policy at preview, the same policy on a deployed stack's export, and
the AWS Config rule deployed with the environment). The Config rule is declared here, keyed by policy id,
because two sides read it: the pack's registry attaches it to the policy's record (`PolicySpec.config_rule`,
what POLICIES.md and the evidence report show), and the component library's `Compliance` deploys it,
which must not import the policies. The registry refuses an entry that names no policy, and a policy
file that declares a rule of its own.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigRule:
    """The AWS Config managed rule that checks a policy's control on the deployed resources, all period long.

    `parameters` maps each of the rule's input parameters to the name of the pack threshold whose value
    it takes (so the runtime rule checks the stack's own minimum, not a second copy of it).
    """

    identifier: str
    parameters: tuple[tuple[str, str], ...] = ()


#: The pack's default level of every policy that has a Config rule, on every stack: such a rule deploys
#: and pages unless the stack's `rampart:policy.enforcement` says otherwise. The registry refuses a policy
#: with a rule here whose default level is another, so `Compliance` needs no policy to know it.
RULE_POLICY_LEVEL = "mandatory"

#: Policy id -> its AWS Config managed rule (https://docs.aws.amazon.com/config/latest/developerguide/<rule>.html).
CONFIG_RULES: dict[str, ConfigRule] = {
    "aws-cloudwatch-loggroup-require-kms-encryption": ConfigRule("CLOUDWATCH_LOG_GROUP_ENCRYPTED"),
    "aws-cloudwatch-loggroup-require-retention": ConfigRule(
        "CW_LOGGROUP_RETENTION_PERIOD_CHECK", (("MinRetentionTime", "minLogRetentionDays"),)
    ),
    "aws-ec2-defaultsecuritygroup-require-no-rules": ConfigRule("VPC_DEFAULT_SECURITY_GROUP_CLOSED"),
    "aws-ec2-subnet-disallow-public-ip-on-launch": ConfigRule("SUBNET_AUTO_ASSIGN_PUBLIC_IP_DISABLED"),
    "aws-ec2-vpc-require-flow-logs": ConfigRule("VPC_FLOW_LOGS_ENABLED"),
    "aws-ecr-repository-require-immutable-tags": ConfigRule("ECR_PRIVATE_TAG_IMMUTABILITY_ENABLED"),
    "aws-ecr-repository-require-lifecycle-policy": ConfigRule("ECR_PRIVATE_LIFECYCLE_POLICY_CONFIGURED"),
    "aws-ecr-repository-require-scan-on-push": ConfigRule("ECR_PRIVATE_IMAGE_SCANNING_ENABLED"),
    "aws-ecs-service-configure-fargate-platform-version": ConfigRule(
        "ECS_FARGATE_LATEST_PLATFORM_VERSION", (("latestLinuxVersion", "minFargatePlatformVersion"),)
    ),
    "aws-ecs-taskdefinition-disallow-privileged": ConfigRule("ECS_CONTAINERS_NONPRIVILEGED"),
    "aws-ecs-taskdefinition-require-awsvpc-network-mode": ConfigRule("ECS_AWSVPC_NETWORKING_ENABLED"),
    "aws-ecs-taskdefinition-require-log-configuration": ConfigRule("ECS_TASK_DEFINITION_LOG_CONFIGURATION"),
    "aws-ecs-taskdefinition-require-memory-limit": ConfigRule("ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT"),
    "aws-ecs-taskdefinition-require-read-only-root-filesystem": ConfigRule("ECS_CONTAINERS_READONLY_ACCESS"),
    "aws-kms-key-enable-rotation": ConfigRule("CMK_BACKING_KEY_ROTATION_ENABLED"),
    "aws-lb-listener-require-certificate": ConfigRule("ELBV2_ACM_CERTIFICATE_REQUIRED"),
    "aws-lb-listener-require-https-redirect": ConfigRule("ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK"),
    "aws-lb-listenerrule-disallow-http-forwarding": ConfigRule("ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK"),
    "aws-lb-loadbalancer-enable-access-logs": ConfigRule("ELB_LOGGING_ENABLED"),
    "aws-lb-loadbalancer-enable-deletion-protection": ConfigRule("ELB_DELETION_PROTECTION_ENABLED"),
    "aws-lb-loadbalancer-enable-drop-invalid-headers": ConfigRule("ALB_HTTP_DROP_INVALID_HEADER_ENABLED"),
    "aws-lb-loadbalancer-require-multiple-azs": ConfigRule("ELBV2_MULTIPLE_AZ"),
    "aws-lb-loadbalancer-require-waf-association": ConfigRule("ALB_WAF_ENABLED"),
    "aws-s3-bucket-enable-versioning": ConfigRule("S3_BUCKET_VERSIONING_ENABLED"),
    "aws-s3-bucket-require-encryption": ConfigRule("S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"),
    "aws-s3-bucket-require-public-access-block": ConfigRule("S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED"),
    "aws-s3-bucket-require-tls-requests-only": ConfigRule("S3_BUCKET_SSL_REQUESTS_ONLY"),
    "aws-secretsmanager-secret-require-cmk": ConfigRule("SECRETSMANAGER_USING_CMK"),
    "aws-sns-topic-require-kms-encryption": ConfigRule("SNS_ENCRYPTED_KMS"),
    "aws-wafv2-webacl-disallow-empty": ConfigRule("WAFV2_WEBACL_NOT_EMPTY"),
    "aws-wafv2-webacl-require-logging": ConfigRule("WAFV2_LOGGING_ENABLED"),
}
