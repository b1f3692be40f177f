"""Bad or conflicting args fail while the args are built, before any resource exists, with a
message that names the field(s) and the fix."""

from __future__ import annotations

import re
from typing import Any, Callable

import pytest
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from rampart.components.environment import Environment, EnvironmentArgs
from rampart.components.load_balancer import DomainSettings, LoadBalancerArgs, LoadBalancerSettings
from rampart.components.monitoring import MonitoringArgs
from rampart.components.proxy_config import ProxyConfig
from rampart.components.network import CreateNetworkArgs, ExistingNetworkArgs, NetworkArgs, NetworkSettings, Subnet
from rampart.components.routing import HealthCheckSettings
from rampart.components.waf import WafSettings
from rampart.components.web_service import ContainerHealthCheck, WebService
from components_support import CERTIFICATE_ARN, minimal_args, placeholder_ref, run_environment
from rampart.offline.mock_engine import run_program

EXISTING = ExistingNetworkArgs(
    vpc_id="vpc-1",
    vpc_cidr_block="10.40.0.0/16",
    public_subnets=[Subnet(id="a"), Subnet(id="b")],
    private_subnets=[Subnet(id="c"), Subnet(id="d")],
)
ZONE = "Z1"

CASES: dict[str, tuple[Callable[[], Any], list[str]]] = {
    "same domain twice": (
        lambda: LoadBalancerSettings(
            domains=[DomainSettings(domain="a.example.com", hosted_zone_id=ZONE)] * 2
        ),
        ["domains", "a.example.com", "twice"],
    ),
    "no certificate": (lambda: LoadBalancerSettings(), ["certificate_arns", "domains"]),
    "domain without zone": (lambda: DomainSettings(domain="a.example.com"), ["hosted_zone_id"]),
    "bad domain": (lambda: DomainSettings(domain="Not A Domain", hosted_zone_id=ZONE), ["domain"]),
    "TLS 1.0 policy": (
        lambda: LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN], tls_policy="ELBSecurityPolicy-2016-08"),
        ["tls_policy"],
    ),
    "desync monitor": (
        lambda: LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN], desync_mitigation="monitor"),
        ["desync_mitigation"],
    ),
    "bucket while logs off": (
        lambda: LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN], access_logs=False, access_log_bucket="b"),
        ["access_log_bucket", "access_logs"],
    ),
    "health check timeout >= interval": (
        lambda: HealthCheckSettings(interval_seconds=5, timeout_seconds=5),
        ["timeout_seconds", "interval_seconds"],
    ),
    "service health check timeout >= interval": (
        lambda: minimal_args(health_check={"interval_seconds": 5, "timeout_seconds": 5}),
        ["timeout_seconds", "interval_seconds"],
    ),
    "one public subnet": (
        lambda: LoadBalancerArgs(
            certificate_arns=[CERTIFICATE_ARN], vpc_id="v", subnet_ids=["a"], target_cidr_block="10.0.0.0/16"
        ),
        ["subnet_ids"],
    ),
    "one existing public subnet": (
        lambda: ExistingNetworkArgs(
            vpc_id="vpc-1", vpc_cidr_block="10.40.0.0/16", public_subnets=[Subnet(id="a")],
            private_subnets=[Subnet(id="c"), Subnet(id="d")],
        ),
        ["public_subnets"],
    ),
    "existing subnets in one AZ": (
        lambda: ExistingNetworkArgs(
            vpc_id="vpc-1", vpc_cidr_block="10.40.0.0/16",
            public_subnets=[Subnet(id="a", availability_zone="eu-west-1a"), Subnet(id="b", availability_zone="eu-west-1a")],
            private_subnets=[Subnet(id="c"), Subnet(id="d")],
        ),
        ["public_subnets", "two availability zones"],
    ),
    "existing VPC without CIDR": (
        lambda: ExistingNetworkArgs(vpc_id="vpc-1", public_subnets=[Subnet(id="a"), Subnet(id="b")],
                                    private_subnets=[Subnet(id="c"), Subnet(id="d")]),
        ["vpc_cidr_block"],
    ),
    "exec without an exec environment": (
        lambda: minimal_args(enable_execute_command=True, readonly_root_filesystem=False),
        ["enable_execute_command", "execute_command=True"],
    ),
    "nginx without known ALB subnets": (
        lambda: minimal_args(
            network=NetworkSettings(existing=EXISTING),
            ingress="nginx", proxy=ProxyConfig(), proxy_image="p", proxy_image_repository_arn="r",
        ),
        ["proxy.trusted_proxy_cidrs", "X-Forwarded-For"],
    ),
    "existing and create": (
        lambda: NetworkSettings(existing=EXISTING, create=CreateNetworkArgs()),
        ["existing", "create", "not both"],
    ),
    "no egress path": (
        lambda: CreateNetworkArgs(nat_gateways="none", vpc_endpoints=False),
        ["nat_gateways", "vpc_endpoints"],
    ),
    "one AZ": (lambda: CreateNetworkArgs(az_count=1), ["az_count"]),
    "public CIDR": (lambda: CreateNetworkArgs(cidr_block="8.8.0.0/16"), ["cidr_block"]),
    "flow logs without key": (lambda: NetworkArgs(), ["flow_logs", "kms_key_arn"]),
    "retention not offered": (lambda: MonitoringArgs(log_retention_days=100), ["log_retention_days"]),
    "bad alarm e-mail": (lambda: MonitoringArgs(alarm_email_endpoints=["ops"]), ["alarm_email_endpoints"]),
    "unknown count-only group": (
        lambda: WafSettings(count_only_rules={"AWSManagedRulesSQLiRuleSet": ["SQLi_BODY"]}),
        ["count_only_rules", "managed_rule_groups"],
    ),
    "non-AWS rule group": (lambda: WafSettings(managed_rule_groups=["MyGroup"]), ["managed_rule_groups"]),
    "rate limit too low": (lambda: WafSettings(rate_limit=5), ["rate_limit"]),
    "secret-looking environment": (
        lambda: minimal_args(environment={"DB_PASSWORD": "hunter2"}),
        ["DB_PASSWORD", "secrets"],
    ),
    "api key in environment": (lambda: minimal_args(environment={"STRIPE_API_KEY": "x"}), ["STRIPE_API_KEY"]),
    "password in a URL under a harmless name": (
        lambda: minimal_args(environment={"DATABASE_URL": "postgres://user:" + "pass@host/db"}),
        ["DATABASE_URL", "password in a URL", "secrets"],
    ),
    "private key under a harmless name": (
        lambda: minimal_args(environment={"TLS_MATERIAL": "-----BEGIN " + "PRIVATE KEY-----\nMIIE"}),
        ["TLS_MATERIAL", "PEM private key", "secrets"],
    ),
    "plain value as secret": (lambda: minimal_args(secrets={"DB_PASSWORD": "hunter2"}), ["DB_PASSWORD", "ARN"]),
    # a partial ARN (no random suffix): Secrets Manager finds it, but IAM grants on the complete ARN only
    "partial secret ARN": (
        lambda: minimal_args(secrets={"DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"},
                             secret_kms_key_arns={"DB_PASSWORD": "arn:aws:kms:us-east-1:123456789012:key/1234"}),
        ["DB_PASSWORD", "secret:db'", "complete secret ARN", "describe-secret"],
    ),
    "secret ARN suffix one short": (
        lambda: minimal_args(secrets={"DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdE"},
                             secret_kms_key_arns={"DB_PASSWORD": "arn:aws:kms:us-east-1:123456789012:key/1234"}),
        ["DB_PASSWORD", "secret:db-AbCdE'", "complete secret ARN"],
    ),
    "same name in env and secrets": (
        lambda: minimal_args(
            environment={"DB_HOST": "db"},
            secrets={"DB_HOST": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
        ),
        ["DB_HOST", "environment", "secrets"],
    ),
    "root user": (lambda: minimal_args(user="0:0"), ["user", "root"]),
    "root by name": (lambda: minimal_args(user="root"), ["user", "root"]),
    "memory not offered": (lambda: minimal_args(cpu=256, memory=4096), ["memory", "cpu"]),
    "counts out of order": (lambda: minimal_args(min_count=3, desired_count=2), ["min_count", "desired_count"]),
    "relative writable path": (lambda: minimal_args(writable_paths=["tmp"]), ["writable_paths"]),
    "privileged port": (lambda: minimal_args(container_port=80), ["container_port"]),
    "health check without CMD": (lambda: ContainerHealthCheck(command=["curl", "x"]), ["CMD"]),
    "nginx without proxy": (lambda: minimal_args(ingress="nginx"), ["ingress", "proxy", "proxy_image"]),
    "proxy on the app port": (
        lambda: minimal_args(
            ingress="nginx", proxy=ProxyConfig(listen_port=8080), proxy_image="p", proxy_image_repository_arn="r"
        ),
        ["proxy.listen_port", "container_port"],
    ),
    "proxy upstream elsewhere": (
        lambda: minimal_args(
            ingress="nginx",
            proxy=ProxyConfig.model_validate({"upstream": {"port": 9999}}),
            proxy_image="p",
            proxy_image_repository_arn="r",
        ),
        ["proxy.upstream.port", "container_port"],
    ),
    "proxy image in alb mode": (lambda: minimal_args(proxy_image="x"), ["proxy_image", "ingress"]),
    "unknown arg": (lambda: minimal_args(public_ip=True), ["public_ip"]),
    "reserved tag key": (lambda: minimal_args(tags={"aws:team": "x"}), ["tags", "aws:"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_args_fail_with_a_message_naming_the_fields(case: str) -> None:
    build, words = CASES[case]
    with pytest.raises(ValidationError) as caught:
        build()
    message = str(caught.value)
    for word in words:
        # A missing required field is reported under its camelCase alias (the stack file's spelling).
        alias = to_camel(word) if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", word) else word
        assert word in message or alias in message, f"{case}: message does not name {word!r}:\n{message}"


def test_bad_component_name_fails_before_any_resource() -> None:
    case = minimal_args()

    def service() -> None:
        WebService("Shop_Service", case.args(placeholder_ref(case.environment)))

    def environment() -> None:
        Environment("Shop_Env", EnvironmentArgs(**dict(case.environment)))

    for program in (service, environment):
        with pytest.raises(Exception, match="lowercase"):
            run_program(program)


def test_two_services_in_one_program_do_not_collide() -> None:
    """Two services with different names in one environment register disjoint URNs (the engine refuses duplicates)."""
    case = minimal_args()
    plan = run_environment(case.environment, {"shop": {}, "admin": {"routing": {"paths": ["/admin/*"]}}})
    urns = [r.urn for r in plan.resources]
    assert len(urns) == len(set(urns))
    assert any(r.name == "admin-service" for r in plan.resources)
    assert any(r.name == "shop-service" for r in plan.resources)
