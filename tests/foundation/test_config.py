"""The stack config model: good stacks load, and each kind of mistake fails naming the key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from rampart.components.web_service import FARGATE_MEMORY
from rampart.errors import UserError
from rampart.config import (
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
    assert prod.environment is not None and dev.environment is not None
    for name, service in prod.services.items():
        assert service.min_count >= 2 and service.desired_count >= 2, name
    assert prod.policy.min_task_count is not None and prod.policy.min_task_count >= 2
    assert prod.environment.load_balancer.deletion_protection is True
    assert prod.environment.monitoring.log_retention_days >= 365
    assert prod.environment.monitoring.log_retention_days >= dev.environment.monitoring.log_retention_days
    assert prod.tags.environment == "prod" and dev.tags.environment == "dev"


def test_dev_runs_two_services_in_one_environment() -> None:
    dev = load_stack_config(ROOT, "dev")
    assert dev.environment is not None and dev.environment_stack is None
    assert len(dev.services) == 2


def test_a_services_only_stack_references_another_stacks_environment() -> None:
    reports = load_stack_config(ROOT, "dev-reports")
    assert reports.environment is None and reports.environment_stack == "organization/rampart/dev"
    assert reports.services


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
    values["rampart:services"]["web"]["memroy"] = 512
    message = errors_for(values)
    assert "rampart:services.web.memroy: unknown key" in message
    assert "Did you mean `memory`?" in message


def test_misspelled_top_level_key() -> None:
    values = dev_values()
    values["rampart:servces"] = values.pop("rampart:services")
    message = errors_for(values)
    assert "rampart:servces: unknown key. Did you mean `rampart:services`?" in message


def test_cpu_300_names_key_value_and_allowed_values() -> None:
    values = dev_values()
    values["rampart:services"]["web"]["cpu"] = 300
    message = errors_for(values)
    assert "rampart:services.web.cpu: 300 is not valid" in message
    for allowed in FARGATE_MEMORY:
        assert str(allowed) in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("rampart:services.web.containerPort", "http", "rampart:services.web.containerPort: \"http\" is not valid"),
        ("rampart:services.web.containerPort", 80, "rampart:services.web.containerPort: 80 is not valid"),
        ("rampart:services.web.desiredCount", -1, "rampart:services.web.desiredCount: -1 is not valid"),
        ("rampart:services.web.steadyStateTimeoutMinutes", 4, "rampart:services.web.steadyStateTimeoutMinutes: 4 is not valid"),
        ("rampart:services.web.routing.paths", ["/a", "/b", "/c", "/d"], "an ALB rule condition takes at most 3"),
        ("rampart:environment.monitoring.logRetentionDays", 42, "rampart:environment.monitoring.logRetentionDays: 42 is not valid"),
        ("rampart:environment.waf.rateLimit", 9, "rampart:environment.waf.rateLimit: 9 is not valid"),
        ("rampart:environment.loadBalancer.tlsPolicy", "ELBSecurityPolicy-2016-08", "rampart:environment.loadBalancer.tlsPolicy: \"ELBSecurityPolicy-2016-08\" is not valid: Input should be 'ELBSecurityPolicy-TLS13-1-2-2021-06'"),
        ("rampart:services.web.ingress", "haproxy", "rampart:services.web.ingress"),
        ("rampart:environment.network.create.cidrBlock", "8.8.0.0/16", "must be a private"),
        ("rampart:tags.dataClassification", "secret", "rampart:tags.dataClassification"),
        ("rampart:services.web.environment", {"DB_PASSWORD": "x"}, "looks like a secret"),
        ("rampart:services.web.secrets", {"DB": "plaintext"}, "must be a Secrets Manager secret ARN"),
        ("rampart:services.web.image.build.context", "../elsewhere", "inside the project directory"),
        ("rampart:services.web.enableExecuteCommand", True, "enable_execute_command=True cannot work with readonly_root_filesystem=True"),
        ("rampart:services.web.environment", {"DATABASE_URL": "postgres://user:" + "pass@host/db"},
         "rampart:services.web.environment: environment: 'DATABASE_URL' holds what looks like a password in a URL"),
        ("rampart:services.web.environment", {"UPSTREAM": "AKIA" + "Q4RT7ZXW2PLM9KJN"}, "put it in `secrets`"),
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
        ({"rampart:services.web.cpu": 256, "rampart:services.web.memory": 4096}, "memory=4096 is not offered with cpu=256; allowed: 512, 1024, 2048"),
        ({"rampart:services.web.cpu": 1024, "rampart:services.web.memory": 1024}, "allowed: 2048, 3072, 4096, 5120, 6144, 7168, 8192"),
        ({"rampart:services.web.minCount": 3, "rampart:services.web.desiredCount": 2}, "min_count (3) <= desired_count (2) <= max_count (3) must hold"),
        ({"rampart:services.web.desiredCount": 5, "rampart:services.web.maxCount": 4}, "min_count (1) <= desired_count (5) <= max_count (4) must hold"),
        ({"rampart:environment.loadBalancer.domains": []}, "HTTPS needs a certificate"),
        ({"rampart:services.web.healthCheck.timeoutSeconds": 20, "rampart:services.web.healthCheck.intervalSeconds": 15}, "rampart:services.web.healthCheck: health_check.timeout_seconds (20) must be less than"),
        ({"rampart:environment.network.existing": {"vpcId": "vpc-0123456789abcdef0"}}, "rampart:environment.network.existing.vpcCidrBlock: required"),
        ({"rampart:services.web.image.uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:" + "a" * 64}, "give either `build` or `uri`"),
        ({"rampart:services.web.image.build": None}, "give either `build` or `uri`"),
        ({"rampart:environment.waf.managedRuleGroups": ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesCommonRuleSet"]}, "managed_rule_groups lists a group twice"),
        ({"rampart:environmentStack": "organization/rampart/prod"}, "give either rampart:environment (this stack creates it) or rampart:environmentStack"),
        ({"rampart:services.web.proxy": {"listenPort": 9443}, "rampart:services.web.ingress": "alb"}, "`proxy` applies only with `ingress: nginx`"),
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
    for subnet in values["rampart:environment"]["network"]["existing"]["privateSubnets"]:
        subnet["availabilityZone"] = "eu-west-1a"
    message = errors_for(values)
    assert "private_subnets must span at least two availability zones; got ['eu-west-1a']" in message


def test_two_services_claiming_one_route_are_refused_naming_both() -> None:
    values = dev_values()
    values["rampart:services"]["api"]["routing"] = {"paths": ["/*"]}
    message = errors_for(values)
    assert "rampart:services.api.routing and rampart:services.web.routing both claim host '*' path '/*'" in message


def test_duplicate_priorities_are_refused_naming_both() -> None:
    values = dev_values()
    values["rampart:services"]["web"]["routing"]["priority"] = 10
    values["rampart:services"]["api"]["routing"]["priority"] = 10
    message = errors_for(values)
    assert ("rampart:services.api.routing.priority and rampart:services.web.routing.priority both take listener rule "
            "priority 10") in message


def test_nginx_service_on_another_stacks_environment_needs_trusted_cidrs() -> None:
    values = copy.deepcopy(read_stack_values(ROOT, "dev-reports")[1])
    validate_stack_config(values, "dev-reports")
    del values["rampart:services"]["reports"]["proxy"]
    assert "give its proxy.trustedProxyCidrs" in errors_for(values)


def test_service_names_are_dns_labels() -> None:
    values = dev_values()
    values["rampart:services"]["Web_Service"] = values["rampart:services"].pop("api")
    assert "service name 'Web_Service' must be a lower-case DNS label" in errors_for(values)


def test_image_uri_must_be_an_ecr_image() -> None:
    values = dev_values()
    values["rampart:services"]["web"]["image"] = {"uri": "ghcr.io/team/web@sha256:" + "a" * 64}
    assert "must be an ECR image referenced by digest" in errors_for(values)
    values["rampart:services"]["web"]["image"] = {"uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:" + "a" * 64}
    config = validate_stack_config(values, "test")
    assert config.services["web"].image.repository_arn() == "arn:aws:ecr:eu-west-1:123456789012:repository/team/web"


def test_image_kms_key_arn_is_a_key_arn_and_only_for_built_images() -> None:
    """`image.kmsKeyArn` (issue 23: a service's own key for its repositories instead of the
    environment's) names a key by ARN; the error names the value, where it was written and the fix."""
    key = "arn:aws:kms:eu-west-1:123456789012:key/0d9f8e7c-1111-2222-3333-444455556666"
    values = dev_values()
    values["rampart:services"]["web"]["image"]["kmsKeyArn"] = key
    assert validate_stack_config(values, "test").services["web"].image.kms_key_arn == key
    for bad in ("alias/web-images", "arn:aws:kms:eu-west-1:123456789012:alias/web-images", key.replace("123456789012", "12345678901")):
        values["rampart:services"]["web"]["image"]["kmsKeyArn"] = bad
        errors = errors_for(values)
        assert "rampart:services.web.image.kmsKeyArn" in errors and repr(bad) in errors and "give the key's ARN" in errors, errors
    values = dev_values()
    values["rampart:services"]["web"]["image"] = {"uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:" + "a" * 64,
                                                  "kmsKeyArn": key}
    assert "give `kmsKeyArn` only with `build`" in errors_for(values)


def test_image_uri_must_be_pinned_by_digest() -> None:
    values = dev_values()
    values["rampart:services"]["web"]["image"] = {"uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:latest"}
    assert "rampart:services.web.image.uri" in errors_for(values) and "by digest" in errors_for(values)


def test_every_problem_is_reported_at_once() -> None:
    values = dev_values()
    values["rampart:services"]["web"]["cpu"] = 300
    values["rampart:environment"]["waf"]["rateLimit"] = 1
    message = errors_for(values)
    assert "rampart:services.web.cpu" in message and "rampart:environment.waf.rateLimit" in message


def test_unknown_stack_lists_the_stacks_there() -> None:
    # Found as any project's stack file is (rampart/project.py): where it looked, what it found.
    with pytest.raises(UserError, match=r"unknown stack 'staging': no Pulumi.staging.yaml in .*/stacks \(stackConfigDir\); stacks found: .*dev.*prod"):
        load_stack_config(ROOT, "staging")


def test_encrypted_config_values_are_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  rampart:token:\n    secure: AAABAA==\n")
    with pytest.raises(ConfigError, match="Secrets Manager/SSM ARNs"):
        load_stack_config(tmp_path, "s")


def test_stack_keys_cover_the_model() -> None:
    assert set(STACK_KEYS.values()) == set(StackConfig.model_fields)
    assert "aws:region" in STACK_KEYS and "rampart:services" in STACK_KEYS and "rampart:environment" in STACK_KEYS


def test_every_policy_threshold_in_the_stack_file_reaches_the_pack() -> None:
    from rampart.offline.check import pack_config_from_stack
    from rampart.config import PolicySettings

    values = {
        "minTaskCount": 3,
        "minLogRetentionDays": 400,
        "allowedTlsPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"],
        "rateLimitMin": 200,
        "rateLimitMax": 5000,
        "requiredManagedRuleGroups": ["AWSManagedRulesKnownBadInputsRuleSet"],
        "minFargatePlatformVersion": "1.4.0",
        "minBakeTimeMinutes": 15,
    }
    thresholds = set(PolicySettings.model_fields) - {"enforcement", "waivers"}
    assert {PolicySettings.model_fields[f].alias for f in thresholds} == set(values), "a threshold field has no case here"
    config = pack_config_from_stack(PolicySettings.model_validate(values))
    delivered = {key: value for entry in config.values() for key, value in entry.items()}
    assert delivered == values


def test_secret_config_is_refused_under_the_pulumi_engine_too() -> None:
    """`pulumi config set --secret` values reach the program decrypted; refuse them there as well."""
    from rampart.config import engine_config, from_pulumi_config
    from rampart.offline.mock_engine import run_program

    values = engine_config(dev_values())
    with pytest.raises(ConfigError, match="rampart:services holds an encrypted"):
        run_program(from_pulumi_config, config=values, secret_keys=["rampart:services"])
    loaded: list[StackConfig] = []
    run_program(lambda: loaded.append(from_pulumi_config()), config=values)
    assert loaded and set(loaded[0].services) == {"web", "api"}
