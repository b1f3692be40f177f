"""The stack config model: good stacks load, and each kind of mistake fails naming the key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from rampart.config import (
    FARGATE_MEMORY,
    STACK_KEYS,
    ConfigError,
    StackConfig,
    load_stack_config,
    read_stack_values,
    validate_stack_config,
)

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


def dev_values() -> dict[str, Any]:
    return copy.deepcopy(read_stack_values(ROOT, "dev")[1])


def errors_for(values: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        validate_stack_config(values, "Pulumi.test.yaml")
    return str(info.value)


def test_there_are_dev_and_prod_stacks() -> None:
    assert {"dev", "prod"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_validates(stack: str) -> None:
    config = load_stack_config(ROOT, stack)
    assert isinstance(config, StackConfig)


def test_prod_is_stricter_than_dev() -> None:
    dev, prod = load_stack_config(ROOT, "dev"), load_stack_config(ROOT, "prod")
    assert prod.service.min_count >= 2 and prod.service.desired_count >= 2
    assert prod.policy.min_task_count >= 2
    assert prod.ingress.deletion_protection is True
    assert prod.logging.retention_days >= 365
    assert prod.logging.retention_days >= dev.logging.retention_days
    assert prod.tags.environment == "prod" and dev.tags.environment == "dev"


def set_in(values: dict[str, Any], key: str, value: Any) -> None:
    section, _, path = key.partition(".")
    node = values.setdefault(section, {})
    parts = path.split(".") if path else []
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if parts:
        node[parts[-1]] = value
    else:
        values[section] = value


def test_misspelled_key_is_named_with_a_suggestion() -> None:
    values = dev_values()
    values["rampart:service"]["memroy"] = 512
    message = errors_for(values)
    assert "rampart:service.memroy: unknown key" in message
    assert "Did you mean `memory`?" in message


def test_misspelled_top_level_key() -> None:
    values = dev_values()
    values["rampart:servce"] = values.pop("rampart:service")
    message = errors_for(values)
    assert "rampart:servce: unknown key. Did you mean `rampart:service`?" in message


def test_cpu_300_names_key_value_and_allowed_values() -> None:
    values = dev_values()
    values["rampart:service"]["cpu"] = 300
    message = errors_for(values)
    assert "rampart:service.cpu: 300 is not valid" in message
    for allowed in FARGATE_MEMORY:
        assert str(allowed) in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("rampart:service.containerPort", "http", "rampart:service.containerPort: \"http\" is not valid"),
        ("rampart:service.containerPort", 80, "rampart:service.containerPort: 80 is not valid"),
        ("rampart:service.desiredCount", -1, "rampart:service.desiredCount: -1 is not valid"),
        ("rampart:service.name", "Web_Service", "rampart:service.name"),
        ("rampart:logging.retentionDays", 42, "rampart:logging.retentionDays: 42 is not valid"),
        ("rampart:waf.rateLimit", 10, "rampart:waf.rateLimit: 10 is not valid"),
        ("rampart:ingress.tlsPolicy", "ELBSecurityPolicy-2016-08", "rampart:ingress.tlsPolicy: \"ELBSecurityPolicy-2016-08\" is not valid: Input should be 'ELBSecurityPolicy-TLS13-1-2-2021-06'"),
        ("rampart:ingress.mode", "haproxy", "rampart:ingress.mode"),
        ("rampart:network.cidr", "8.8.0.0/16", "must be a private"),
        ("rampart:tags.dataClassification", "secret", "rampart:tags.dataClassification"),
        ("rampart:service.environment", {"DB_PASSWORD": "x"}, "looks like a secret"),
        ("rampart:service.environment", {"DATABASE_URL": "postgres://user:" + "pass@host/db"},
         "rampart:service.environment: environment: 'DATABASE_URL' holds what looks like a password in a URL"),
        ("rampart:service.environment", {"UPSTREAM": "AKIA" + "Q4RT7ZXW2PLM9KJN"}, "put it in `secrets`"),
        ("rampart:service.secrets", {"DB": "plaintext"}, "must be a Secrets Manager secret ARN"),
        ("rampart:image.build.context", "../elsewhere", "inside the project directory"),
        ("aws:region", "mars-1", "aws:region: \"mars-1\" is not valid"),
        ("rampart:policy.waivers", [{"policy": "aws-x", "resource": "r", "reason": "because it is so", "expires": "soon"}], "rampart:policy.waivers[0].expires"),
    ],
)
def test_wrong_type_or_out_of_range_names_the_key(key: str, value: Any, expected: str) -> None:
    values = dev_values()
    set_in(values, key, value)
    assert expected in errors_for(values)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"rampart:service.cpu": 256, "rampart:service.memory": 4096}, "memory 4096 is not offered with cpu 256; allowed: 512, 1024, 2048"),
        ({"rampart:service.cpu": 1024, "rampart:service.memory": 1024}, "allowed: 2048-8192 in steps of 1024"),
        ({"rampart:service.minCount": 3, "rampart:service.desiredCount": 2}, "minCount <= desiredCount <= maxCount"),
        ({"rampart:service.desiredCount": 5, "rampart:service.maxCount": 4}, "minCount <= desiredCount <= maxCount"),
        ({"rampart:ingress.certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc"}, "give either `domain`"),
        ({"rampart:ingress.domain": None}, "HTTPS needs a certificate"),
        ({"rampart:ingress.hostedZoneId": None}, "`domain` needs `hostedZoneId`"),
        ({"rampart:ingress.healthCheck.timeoutSeconds": 20, "rampart:ingress.healthCheck.intervalSeconds": 15}, "rampart:ingress.healthCheck: health_check.timeout_seconds (20) must be less than"),
        ({"rampart:network.mode": "existing"}, "existing network mode needs `vpcId`"),
        ({"rampart:network.vpcId": "vpc-0123456789abcdef0"}, "apply only with mode: existing"),
        ({"rampart:image.uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:" + "a" * 64}, "give either `build` or `uri`"),
        ({"rampart:image.build": None}, "give either `build` or `uri`"),
        ({"rampart:waf.managedRuleGroups": ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesCommonRuleSet"]}, "rampart:waf: managed_rule_groups lists a group twice"),
    ],
)
def test_cross_field_rules(changes: dict[str, Any], expected: str) -> None:
    values = dev_values()
    for key, value in changes.items():
        set_in(values, key, value)
    assert expected in errors_for(values)


def test_existing_network_needs_subnets_in_two_zones() -> None:
    values = copy.deepcopy(read_stack_values(ROOT, "prod")[1])
    validate_stack_config(values, "prod")  # the baseline is valid
    for subnet in values["rampart:network"]["privateSubnets"]:
        subnet["availabilityZone"] = "eu-west-1a"
    message = errors_for(values)
    assert "`privateSubnets` in at least two availability zones; got ['eu-west-1a']" in message


def test_image_uri_must_be_an_ecr_image() -> None:
    values = dev_values()
    values["rampart:image"] = {"uri": "ghcr.io/team/web@sha256:" + "a" * 64}
    assert "must be an ECR image referenced by digest" in errors_for(values)
    values["rampart:image"] = {"uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:" + "a" * 64}
    config = validate_stack_config(values, "test")
    assert config.image.repository_arn() == "arn:aws:ecr:eu-west-1:123456789012:repository/team/web"


def test_image_uri_must_be_pinned_by_digest() -> None:
    values = dev_values()
    values["rampart:image"] = {"uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:latest"}
    assert "rampart:image.uri" in errors_for(values) and "by digest" in errors_for(values)


def test_every_problem_is_reported_at_once() -> None:
    values = dev_values()
    values["rampart:service"]["cpu"] = 300
    values["rampart:waf"]["rateLimit"] = 1
    message = errors_for(values)
    assert "rampart:service.cpu" in message and "rampart:waf.rateLimit" in message


def test_unknown_stack_lists_the_stacks_there() -> None:
    with pytest.raises(ConfigError, match=r"unknown stack 'staging'.*Stacks here: .*dev.*prod"):
        load_stack_config(ROOT, "staging")


def test_encrypted_config_values_are_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  rampart:token:\n    secure: AAABAA==\n")
    with pytest.raises(ConfigError, match="Secrets Manager/SSM ARNs"):
        load_stack_config(tmp_path, "s")


def test_stack_keys_cover_the_model() -> None:
    assert set(STACK_KEYS.values()) == set(StackConfig.model_fields)
    assert "aws:region" in STACK_KEYS and "rampart:service" in STACK_KEYS


def test_every_policy_threshold_in_the_stack_file_reaches_the_pack() -> None:
    from rampart.check import pack_config_from_stack
    from rampart.config import PolicySettings

    values = {
        "minTaskCount": 3,
        "minLogRetentionDays": 400,
        "allowedTlsPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"],
        "rateLimitMin": 200,
        "rateLimitMax": 5000,
        "requiredManagedRuleGroups": ["AWSManagedRulesKnownBadInputsRuleSet"],
        "minFargatePlatformVersion": "1.4.0",
    }
    thresholds = set(PolicySettings.model_fields) - {"enforcement", "waivers"}
    assert {PolicySettings.model_fields[f].alias for f in thresholds} == set(values), "a threshold field has no case here"
    config = pack_config_from_stack(PolicySettings.model_validate(values))
    delivered = {key: value for entry in config.values() for key, value in entry.items()}
    assert delivered == values


def test_secret_config_is_refused_under_the_pulumi_engine_too() -> None:
    """`pulumi config set --secret` values reach the program decrypted; refuse them there as well."""
    from rampart.config import engine_config, from_pulumi_config
    from rampart.mock_engine import run_program

    values = engine_config(dev_values())
    with pytest.raises(ConfigError, match="rampart:service holds an encrypted"):
        run_program(from_pulumi_config, config=values, secret_keys=["rampart:service"])
    loaded: list[StackConfig] = []
    run_program(lambda: loaded.append(from_pulumi_config()), config=values)
    assert loaded and loaded[0].service.name == "rampart-web"
