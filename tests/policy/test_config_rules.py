"""The runtime checkpoint: each policy's AWS Config managed rule, pinned against the rules verified by hand.

`data/aws_config_managed_rules.csv` lists every managed-rule identifier the registry may name, the AWS
documentation page it was read from and the input parameters that page documents (those the registry
fills). A typo in an identifier, a parameter AWS does not document or a parameter that names no pack
threshold fails here, before a `Compliance` component deploys a rule AWS would refuse.
"""
from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rampart_soc2.model import DEFAULT_THRESHOLDS
from rampart_soc2.registry import POLICIES, check_config_rules, placed
from rampart_soc2.vocabulary.config_rules import CONFIG_RULES, RULE_POLICY_LEVEL, ConfigRule

VERIFIED = Path(__file__).parent / "data" / "aws_config_managed_rules.csv"

#: The policies mapped to a Config rule, by id: a mapping dropped or added by accident fails here.
MAPPED = {
    "aws-cloudwatch-loggroup-require-kms-encryption": "CLOUDWATCH_LOG_GROUP_ENCRYPTED",
    "aws-cloudwatch-loggroup-require-retention": "CW_LOGGROUP_RETENTION_PERIOD_CHECK",
    "aws-ec2-defaultsecuritygroup-require-no-rules": "VPC_DEFAULT_SECURITY_GROUP_CLOSED",
    "aws-ec2-subnet-disallow-public-ip-on-launch": "SUBNET_AUTO_ASSIGN_PUBLIC_IP_DISABLED",
    "aws-ec2-vpc-require-flow-logs": "VPC_FLOW_LOGS_ENABLED",
    "aws-ecr-repository-require-immutable-tags": "ECR_PRIVATE_TAG_IMMUTABILITY_ENABLED",
    "aws-ecr-repository-require-lifecycle-policy": "ECR_PRIVATE_LIFECYCLE_POLICY_CONFIGURED",
    "aws-ecr-repository-require-scan-on-push": "ECR_PRIVATE_IMAGE_SCANNING_ENABLED",
    "aws-ecs-service-configure-fargate-platform-version": "ECS_FARGATE_LATEST_PLATFORM_VERSION",
    "aws-ecs-taskdefinition-disallow-privileged": "ECS_CONTAINERS_NONPRIVILEGED",
    "aws-ecs-taskdefinition-require-awsvpc-network-mode": "ECS_AWSVPC_NETWORKING_ENABLED",
    "aws-ecs-taskdefinition-require-log-configuration": "ECS_TASK_DEFINITION_LOG_CONFIGURATION",
    "aws-ecs-taskdefinition-require-memory-limit": "ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT",
    "aws-ecs-taskdefinition-require-read-only-root-filesystem": "ECS_CONTAINERS_READONLY_ACCESS",
    "aws-kms-key-enable-rotation": "CMK_BACKING_KEY_ROTATION_ENABLED",
    "aws-lb-listener-require-certificate": "ELBV2_ACM_CERTIFICATE_REQUIRED",
    "aws-lb-listener-require-https-redirect": "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK",
    "aws-lb-listenerrule-disallow-http-forwarding": "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK",
    "aws-lb-loadbalancer-enable-access-logs": "ELB_LOGGING_ENABLED",
    "aws-lb-loadbalancer-enable-deletion-protection": "ELB_DELETION_PROTECTION_ENABLED",
    "aws-lb-loadbalancer-enable-drop-invalid-headers": "ALB_HTTP_DROP_INVALID_HEADER_ENABLED",
    "aws-lb-loadbalancer-require-multiple-azs": "ELBV2_MULTIPLE_AZ",
    "aws-lb-loadbalancer-require-waf-association": "ALB_WAF_ENABLED",
    "aws-s3-bucket-enable-versioning": "S3_BUCKET_VERSIONING_ENABLED",
    "aws-s3-bucket-require-encryption": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    "aws-s3-bucket-require-public-access-block": "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "aws-s3-bucket-require-tls-requests-only": "S3_BUCKET_SSL_REQUESTS_ONLY",
    "aws-secretsmanager-secret-require-cmk": "SECRETSMANAGER_USING_CMK",
    "aws-sns-topic-require-kms-encryption": "SNS_ENCRYPTED_KMS",
    "aws-wafv2-webacl-disallow-empty": "WAFV2_WEBACL_NOT_EMPTY",
    "aws-wafv2-webacl-require-logging": "WAFV2_LOGGING_ENABLED",
}


def verified_rules() -> dict[str, tuple[str, set[str]]]:
    """identifier -> (documentation page, documented parameters) from the vendored list."""
    rows = (line for line in VERIFIED.read_text().splitlines() if line and not line.startswith("#"))
    return {ident: (page, set(params.split())) for ident, page, params in csv.reader(rows)}


def test_verified_list_names_each_rules_own_documentation_page() -> None:
    for ident, (page, _) in verified_rules().items():
        assert page.endswith("/" + ident.lower().replace("_", "-") + ".html"), f"{ident}: page {page}"


def test_the_mapped_policies_are_exactly_the_pinned_ones() -> None:
    mapped = {pid: spec.config_rule.identifier for pid, spec in POLICIES.items() if spec.config_rule is not None}
    assert mapped == MAPPED


def test_every_identifier_is_a_verified_managed_rule() -> None:
    verified = verified_rules()
    for pid, spec in POLICIES.items():
        if spec.config_rule is not None:
            assert spec.config_rule.identifier in verified, (
                f"{pid}: {spec.config_rule.identifier} is not in {VERIFIED.name}; verify it against AWS's "
                "documentation and add it there"
            )


def test_every_parameter_is_documented_and_takes_an_existing_threshold() -> None:
    verified = verified_rules()
    for pid, spec in POLICIES.items():
        if spec.config_rule is None:
            continue
        documented = verified[spec.config_rule.identifier][1]
        for parameter, threshold in spec.config_rule.parameters:
            assert parameter in documented, f"{pid}: {spec.config_rule.identifier} documents no parameter {parameter}"
            assert threshold in DEFAULT_THRESHOLDS, f"{pid}: parameter {parameter} names no pack threshold {threshold!r}"
            assert threshold in spec.thresholds, f"{pid}: parameter {parameter} reads {threshold}, which the policy does not use"


def test_the_log_retention_rule_takes_the_stacks_minimum() -> None:
    rule = POLICIES["aws-cloudwatch-loggroup-require-retention"].config_rule
    assert rule is not None and dict(rule.parameters) == {"MinRetentionTime": "minLogRetentionDays"}


#: Rules that exist but are not deployed because they would not judge what Rampart creates (issue 21
#: item 7): each is unmapped, and docs/policy.md says why beside the rule's identifier.
NOT_DEPLOYED = {
    "aws-iam-policy-disallow-admin-access": "IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS",  # customer-managed only
    "aws-ecs-cluster-enable-container-insights": "ECS_CONTAINER_INSIGHTS_ENABLED",  # `enhanced` undocumented
}


def test_rules_that_would_check_nothing_are_not_deployed_and_the_docs_say_why() -> None:
    table = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text()
    for pid, identifier in NOT_DEPLOYED.items():
        assert POLICIES[pid].config_rule is None, f"{pid}: {identifier} is deployed but does not judge Rampart's resources"
        rows = [line for line in table.splitlines() if line.startswith(f"| `{pid}` | `{identifier}` |")]
        assert len(rows) == 1 and len(rows[0].split("|")[3].strip()) > 40, f"docs/policy.md gives no reason for {pid}"


# --- who owns the rule: the vocabulary declares it, the registry attaches it -----------------------------

def test_the_registry_attaches_exactly_the_vocabularys_rules() -> None:
    attached = {pid: spec.config_rule for pid, spec in POLICIES.items() if spec.config_rule is not None}
    assert attached == CONFIG_RULES


def test_a_policy_file_that_declares_its_own_rule_is_refused_naming_where_to_declare_it() -> None:
    spec = replace(POLICIES["aws-kms-key-enable-rotation"], config_rule=ConfigRule("CMK_BACKING_KEY_ROTATION_ENABLED"))
    with pytest.raises(ValueError, match=r"rampart_soc2\.kms\.key_enable_rotation declares its AWS Config rule itself; "
                                         r"declare it in policy/soc2/rampart_soc2/vocabulary/config_rules\.py"):
        placed(spec, "kms", "rampart_soc2.kms.key_enable_rotation")


def test_a_placed_policy_takes_its_rule_from_the_vocabulary_by_id() -> None:
    spec = replace(POLICIES["aws-kms-key-enable-rotation"], config_rule=None)
    rule = ConfigRule("SOME_RULE")
    assert placed(spec, "kms", "m", {"aws-kms-key-enable-rotation": rule}).config_rule == rule
    assert placed(spec, "kms", "m", {"aws-other": rule}).config_rule is None


def test_a_rule_for_no_policy_is_refused_naming_the_id() -> None:
    with pytest.raises(ValueError, match=r"CONFIG_RULES names aws-kms-key-enable-rotaton, which no policy has"):
        check_config_rules(POLICIES, {**CONFIG_RULES, "aws-kms-key-enable-rotaton": ConfigRule("X")})


@pytest.mark.parametrize("change", [{"enforcement": "advisory"}, {"non_production_enforcement": "advisory"}])
def test_a_rule_on_a_policy_not_mandatory_everywhere_is_refused(change: dict[str, Any]) -> None:
    """Compliance deploys and pages each rule at RULE_POLICY_LEVEL unless the stack says otherwise, without
    reading the policy: a policy at another default level would be paged wrongly."""
    found = {**POLICIES, "aws-kms-key-enable-rotation": replace(POLICIES["aws-kms-key-enable-rotation"], **change)}
    with pytest.raises(ValueError, match=f"aws-kms-key-enable-rotation has an AWS Config rule .* make the policy "
                                         f"{RULE_POLICY_LEVEL} everywhere or remove its Config rule"):
        check_config_rules(found)
    check_config_rules(POLICIES)  # the pack as it is passes
