"""Opt-outs and alternatives: each is an explicit arg, and does what it says (and nothing more)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rampart.components.environment import EnvironmentAlarmSettings
from rampart.components.load_balancer import DomainSettings, LoadBalancerSettings
from rampart.components.monitoring import MonitoringArgs
from rampart.components.network import CreateNetworkArgs, ExistingNetworkArgs, NetworkSettings, Subnet
from rampart.components.waf import WafSettings
from rampart.components.web_service import AlarmSettings
from components_support import REPOSITORY_ARN, Plan, minimal_args, run_service

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def _lb(**overrides: object) -> LoadBalancerSettings:
    return LoadBalancerSettings(**{"certificate_arns": [CERT], **overrides})


def test_waf_opt_out_removes_acl_and_its_alarm() -> None:
    plan = run_service(minimal_args(waf=None))
    assert plan.of_type("aws:wafv2/webAcl:WebAcl") == []
    assert plan.of_type("aws:wafv2/webAclAssociation:WebAclAssociation") == []
    alarms = {a.name for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert "shop-alarm-waf-blocked" not in alarms and "shop-alarm-alb-5xx" in alarms, alarms
    assert "waf" not in plan.outputs["logGroupNames"], plan.outputs["logGroupNames"]
    assert not [g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup") if g.inputs["name"].startswith("aws-waf-logs-")]


def test_waf_settings_reach_the_acl() -> None:
    plan = run_service(
        minimal_args(
            waf=WafSettings(
                rate_limit=500,
                rate_limit_window_seconds=60,
                managed_rule_groups=["AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"],
                count_only_rules={"AWSManagedRulesSQLiRuleSet": ["SQLi_BODY"]},
            )
        )
    )
    acl = plan.one("aws:wafv2/webAcl:WebAcl")
    rate = acl.inputs["rules"][0]["statement"]["rateBasedStatement"]
    assert (rate["limit"], rate["evaluationWindowSec"]) == (500, 60)
    groups = {r["name"]: r["statement"]["managedRuleGroupStatement"] for r in acl.inputs["rules"][1:]}
    assert list(groups) == ["AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"]
    assert groups["AWSManagedRulesSQLiRuleSet"]["ruleActionOverrides"] == [
        {"name": "SQLi_BODY", "actionToUse": {"count": {}}}
    ]
    assert "ruleActionOverrides" not in groups["AWSManagedRulesKnownBadInputsRuleSet"]


def test_access_logs_skip_and_existing_bucket() -> None:
    skipped = run_service(minimal_args(load_balancer=_lb(access_logs=False)))
    assert skipped.of_type("aws:s3/bucket:Bucket") == []
    assert "accessLogs" not in skipped.one("aws:lb/loadBalancer:LoadBalancer").inputs

    existing = run_service(minimal_args(load_balancer=_lb(access_log_bucket="corp-alb-logs")))
    assert existing.of_type("aws:s3/bucket:Bucket") == []
    assert existing.of_type("aws:s3/bucketLogging:BucketLogging") == [], "the owner's bucket is left alone"
    assert existing.one("aws:lb/loadBalancer:LoadBalancer").inputs["accessLogs"]["bucket"] == "corp-alb-logs"


def test_load_balancer_choices() -> None:
    plan = run_service(
        minimal_args(
            load_balancer=_lb(
                deletion_protection=False,
                desync_mitigation="strictest",
                tls_policy="ELBSecurityPolicy-TLS13-1-3-2021-06",
                access_log_expiry_days=90,
            ),
            deregistration_delay_seconds=5,
        )
    )
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["enableDeletionProtection"] is False
    assert alb.inputs["desyncMitigationMode"] == "strictest"
    assert plan.named("shop-lb-https").inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-3-2021-06"
    assert plan.one("aws:lb/targetGroup:TargetGroup").inputs["deregistrationDelay"] == 5
    for lifecycle in plan.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        assert lifecycle.inputs["rules"][0]["expiration"]["days"] == 90, f"{lifecycle.name}: expiry"


def test_domain_creates_validated_certificate_and_alias() -> None:
    domain = DomainSettings(domain="shop.example.com", hosted_zone_id="Z123456ABC")
    plan = run_service(minimal_args(load_balancer=LoadBalancerSettings(domains=[domain])))
    cert = plan.one("aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == "shop.example.com" and cert.inputs["validationMethod"] == "DNS"
    validation_record = plan.named("shop-lb-cert-shop.example.com-validation")
    assert validation_record.inputs["zoneId"] == "Z123456ABC" and validation_record.inputs["type"] == "CNAME"
    validated = plan.one("aws:acm/certificateValidation:CertificateValidation")
    assert validated.inputs["certificateArn"] == cert.outputs["arn"]
    https = plan.named("shop-lb-https")
    assert https.inputs["certificateArn"] == validated.outputs["certificateArn"] == cert.outputs["arn"]
    assert plan.of_type("aws:lb/listenerCertificate:ListenerCertificate") == [], "one domain needs no SNI certificate"
    alias = plan.named("shop-lb-dns-shop.example.com")
    assert alias.inputs["name"] == "shop.example.com" and alias.inputs["type"] == "A"
    assert alias.inputs["zoneId"] == "Z123456ABC"
    assert plan.outputs["environment"]["url"] == "https://shop.example.com"
    assert plan.outputs["url"] == "https://shop.example.com/"


def test_each_domain_gets_its_certificate_served_by_sni() -> None:
    domains = [DomainSettings(domain=d, hosted_zone_id="Z123456ABC") for d in ("shop.example.com", "api.example.com")]
    plan = run_service(minimal_args(load_balancer=LoadBalancerSettings(domains=domains)))
    certs = {c.inputs["domainName"]: c for c in plan.of_type("aws:acm/certificate:Certificate")}
    assert set(certs) == {"shop.example.com", "api.example.com"}, set(certs)
    validated = {v.inputs["certificateArn"]: v.outputs["certificateArn"]
                 for v in plan.of_type("aws:acm/certificateValidation:CertificateValidation")}
    https = plan.named("shop-lb-https")
    assert https.inputs["certificateArn"] == validated[certs["shop.example.com"].outputs["arn"]], "first domain is not the default"
    (sni,) = plan.of_type("aws:lb/listenerCertificate:ListenerCertificate")
    assert sni.inputs["listenerArn"] == https.outputs["arn"], f"{sni.name}: not on the HTTPS listener"
    assert sni.inputs["certificateArn"] == validated[certs["api.example.com"].outputs["arn"]], f"{sni.name}: certificate"
    aliases = {r.inputs["name"] for r in plan.of_type("aws:route53/record:Record") if r.inputs.get("type") == "A"}
    assert aliases == {"shop.example.com", "api.example.com"}, aliases


def test_domain_without_alias_record() -> None:
    domain = DomainSettings(domain="shop.example.com", hosted_zone_id="Z123456ABC", create_dns_record=False)
    plan = run_service(minimal_args(load_balancer=LoadBalancerSettings(domains=[domain])))
    assert [r.inputs["type"] for r in plan.of_type("aws:route53/record:Record")] == ["CNAME"], "alias created"
    assert plan.one("aws:acm/certificate:Certificate").inputs["domainName"] == "shop.example.com"


def test_existing_network_creates_no_vpc() -> None:
    existing = ExistingNetworkArgs(
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.40.0.0/16",
        public_subnets=[Subnet(id="subnet-0a", cidr_block="10.40.0.0/24"), Subnet(id="subnet-0b", cidr_block="10.40.1.0/24")],
        private_subnets=[Subnet(id="subnet-1a"), Subnet(id="subnet-1b")],
    )
    plan = run_service(minimal_args(network=NetworkSettings(existing=existing)))
    for type_token in ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ec2/vpcEndpoint:VpcEndpoint"):
        assert plan.of_type(type_token) == [], f"existing network mode created {type_token}"
    service = plan.one("aws:ecs/service:Service")
    assert service.inputs["networkConfiguration"]["subnets"] == ["subnet-1a", "subnet-1b"]
    assert plan.one("aws:lb/loadBalancer:LoadBalancer").inputs["subnets"] == ["subnet-0a", "subnet-0b"]
    assert plan.one("aws:ec2/flowLog:FlowLog").inputs["vpcId"] == "vpc-0123456789abcdef0"
    egress = plan.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "shop-lb-alb-out-tasks")
    assert egress.inputs["cidrIpv4"] == "10.40.0.0/16", f"{egress.name}: ALB egress not limited to the existing VPC"
    assert plan.outputs["environment"]["alb_subnet_cidrs"] == ["10.40.0.0/24", "10.40.1.0/24"]


def test_nat_per_az_and_endpoints_only() -> None:
    per_az = run_service(minimal_args(network=NetworkSettings(create=CreateNetworkArgs(az_count=3, nat_gateways="perAz", vpc_endpoints=False))))
    assert len(per_az.of_type("aws:ec2/natGateway:NatGateway")) == 3
    assert per_az.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") == []
    routes = {r.name: r.inputs["natGatewayId"] for r in per_az.of_type("aws:ec2/route:Route") if "natGatewayId" in r.inputs}
    assert len(set(routes.values())) == 3, f"private subnets share a NAT gateway: {routes}"

    endpoints_only = run_service(minimal_args(network=NetworkSettings(create=CreateNetworkArgs(nat_gateways="none"))))
    assert endpoints_only.of_type("aws:ec2/natGateway:NatGateway") == []
    assert len(endpoints_only.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")) == 5


def test_flow_logs_opt_out() -> None:
    plan = run_service(minimal_args(network=NetworkSettings(flow_logs=False)))
    assert plan.of_type("aws:ec2/flowLog:FlowLog") == []
    assert "vpc_flow" not in plan.outputs["logGroupNames"]


def _endpoint_services(plan: Plan) -> set[str]:
    return {e.inputs["serviceName"].rsplit(".", 1)[-1] for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}


def test_execute_command_needs_a_writable_root() -> None:
    with pytest.raises(ValueError) as caught:
        minimal_args(enable_execute_command=True)
    message = str(caught.value)
    assert "enable_execute_command=True" in message and "readonly_root_filesystem=False" in message, message


def test_execute_command_on_is_logged_and_encrypted() -> None:
    plan = run_service(minimal_args(execute_command=True, enable_execute_command=True, readonly_root_filesystem=False))
    assert plan.one("aws:ecs/service:Service").inputs["enableExecuteCommand"] is True
    cluster = plan.one("aws:ecs/cluster:Cluster")
    config = cluster.inputs["configuration"]["executeCommandConfiguration"]
    exec_group = plan.named("shop-exec-logs")
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    assert config["logging"] == "OVERRIDE" and config["kmsKeyId"] == key_arn
    assert config["logConfiguration"] == {"cloudWatchLogGroupName": exec_group.outputs["name"], "cloudWatchEncryptionEnabled": True}
    assert exec_group.inputs["kmsKeyId"] == key_arn and exec_group.inputs["retentionInDays"] == 365
    policy = json.loads(plan.named("shop-task-exec-policy").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "ssmmessages:CreateControlChannel" in actions and "kms:Decrypt" in actions
    assert plan.named("shop-task-exec-policy").inputs["role"] == plan.named("shop-task-role").outputs["id"]
    logs = next(s for s in policy["Statement"] if s["Sid"] == "EcsExecSessionLogs")
    assert logs["Resource"] == exec_group.outputs["arn"] + ":*", f"exec session logs go to {logs['Resource']}"
    assert plan.outputs["logGroupNames"]["exec"] == exec_group.outputs["name"]


def test_execute_command_needs_an_environment_configured_for_it() -> None:
    with pytest.raises(ValueError) as caught:
        minimal_args(enable_execute_command=True, readonly_root_filesystem=False)
    message = str(caught.value)
    assert "enable_execute_command=True" in message and "execute_command=True" in message, message


def test_environment_exec_alone_changes_no_service() -> None:
    plan = run_service(minimal_args(execute_command=True))
    assert plan.one("aws:ecs/service:Service").inputs["enableExecuteCommand"] is False
    assert plan.of_type("aws:iam/rolePolicy:RolePolicy") and not [
        p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "shop-task-exec-policy"
    ]


def test_execute_command_needs_its_endpoints_without_nat() -> None:
    """Without NAT, a service with ECS Exec is refused unless its environment has the ssmmessages and
    kms endpoints; with them listed, the environment creates them (and nothing else it was not asked for)."""
    no_nat = NetworkSettings(create=CreateNetworkArgs(nat_gateways="none"))
    plain = run_service(minimal_args(network=no_nat))
    assert not _endpoint_services(plain) & {"ssm", "ssmmessages", "kms"}, "endpoints the service does not need cost money"
    with pytest.raises(ValueError) as caught:
        minimal_args(network=no_nat, execute_command=True, enable_execute_command=True, readonly_root_filesystem=False)
    message = str(caught.value)
    assert "ssmmessages" in message and "kms" in message and "extra_endpoints" in message, message
    exec_on = run_service(minimal_args(network=no_nat, execute_command=True, extra_endpoints=["ssmmessages", "kms"],
                                       enable_execute_command=True, readonly_root_filesystem=False))
    assert {"ssmmessages", "kms"} <= _endpoint_services(exec_on), _endpoint_services(exec_on)
    assert "ssm" not in _endpoint_services(exec_on)


def test_ssm_secrets_need_the_ssm_endpoint_without_nat() -> None:
    api = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/api"
    sm = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    no_nat = NetworkSettings(create=CreateNetworkArgs(nat_gateways="none"))
    with pytest.raises(ValueError) as caught:
        minimal_args(network=no_nat, secrets={"API": api})
    assert "ssm" in str(caught.value) and "extra_endpoints" in str(caught.value), str(caught.value)
    assert "ssm" in _endpoint_services(run_service(minimal_args(network=no_nat, extra_endpoints=["ssm"], secrets={"API": api})))
    assert "ssm" not in _endpoint_services(
        run_service(minimal_args(network=no_nat, secrets={"DB": sm}, secret_kms_key_arns={"DB": SECRET_KEY}))
    )
    # With NAT the tasks reach SSM without an endpoint: nothing is refused.
    assert minimal_args(secrets={"API": api}).service["secrets"] == {"API": api}


def test_deploy_waits_for_a_steady_state() -> None:
    default = run_service(minimal_args()).one("aws:ecs/service:Service")
    assert default.inputs["waitForSteadyState"] is True, f"{default.name}: pulumi up would not see a rolled-back deploy"
    assert default.custom_timeouts == {"create": "20m", "update": "20m"}, default.custom_timeouts
    longer = run_service(minimal_args(steady_state_timeout_minutes=45)).one("aws:ecs/service:Service")
    assert longer.custom_timeouts == {"create": "45m", "update": "45m"}, longer.custom_timeouts


@pytest.mark.parametrize(("minutes", "ok"), [(4, False), (5, True), (180, True), (181, False)])
def test_steady_state_timeout_bounds(minutes: int, ok: bool) -> None:
    if ok:
        assert minimal_args(steady_state_timeout_minutes=minutes).service["steady_state_timeout_minutes"] == minutes
    else:
        with pytest.raises(ValueError, match="steady_state_timeout_minutes"):
            minimal_args(steady_state_timeout_minutes=minutes)


SECRET_KEY = "arn:aws:kms:us-east-1:123456789012:key/0d9f8e7c-1111-2222-3333-444455556666"


def test_secrets_scope_the_execution_role() -> None:
    """Each secret is read and decrypted only with its own key, only through its own service, and the
    policy says which key decrypts which secret (the encryption context names the secrets)."""
    db = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    api = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/api"
    cmk = "arn:aws:kms:us-east-1:123456789012:key/secrets"
    plan = run_service(minimal_args(secrets={"DB_URL": db + ":url::", "API_CREDENTIAL": api},
                                    secret_kms_key_arns={"DB_URL": cmk, "API_CREDENTIAL": SECRET_KEY}))
    app = plan.container()
    assert app["secrets"] == [{"name": "DB_URL", "valueFrom": db + ":url::"}, {"name": "API_CREDENTIAL", "valueFrom": api}]
    assert all(e["name"] in ("HOST", "PORT") for e in app["environment"]), "secret leaked into environment"
    by_sid = {s["Sid"]: s for s in plan.policy(plan.named("shop-execution-policy"))["Statement"]}
    assert by_sid["ReadTheseSecrets"]["Resource"] == [db]
    assert by_sid["ReadTheseParameters"]["Resource"] == [api]
    decrypts = [s for s in by_sid.values() if s["Action"] == "kms:Decrypt"]
    assert {d["Resource"] for d in decrypts} == {cmk, SECRET_KEY}, "the environment's key or another key is granted"
    secret = next(d for d in decrypts if d["Resource"] == cmk)
    assert secret["Condition"]["StringEquals"] == {
        "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com", "kms:EncryptionContext:SecretARN": [db]}
    parameter = next(d for d in decrypts if d["Resource"] == SECRET_KEY)
    assert parameter["Condition"]["StringEquals"] == {
        "kms:ViaService": "ssm.us-east-1.amazonaws.com", "kms:EncryptionContext:PARAMETER_ARN": [api]}
    assert by_sid["PullThisImage"]["Resource"] == [REPOSITORY_ARN]


def test_secrets_sharing_a_key_get_one_grant_naming_both() -> None:
    one = "arn:aws:secretsmanager:us-east-1:123456789012:secret:one-AbCdEf"
    two = "arn:aws:secretsmanager:us-east-1:123456789012:secret:two-AbCdEf"
    plan = run_service(minimal_args(secrets={"ONE": one, "TWO": two}, secret_kms_key_arns={"ONE": SECRET_KEY, "TWO": SECRET_KEY}))
    decrypts = [s for s in plan.policy(plan.named("shop-execution-policy"))["Statement"] if s["Action"] == "kms:Decrypt"]
    assert len(decrypts) == 1, decrypts
    assert decrypts[0]["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"] == [one, two]


def test_an_ssm_parameter_without_a_key_gets_no_decrypt_grant() -> None:
    api = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/api"
    plan = run_service(minimal_args(secrets={"API": api}))
    statements = plan.policy(plan.named("shop-execution-policy"))["Statement"]
    assert not [s for s in statements if s["Action"] == "kms:Decrypt"], statements


def test_a_secret_without_its_key_is_refused_naming_the_secret_and_the_setting() -> None:
    db = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rampart/prod/database-url-AbCdEf"
    with pytest.raises(ValueError) as caught:
        minimal_args(secrets={"DATABASE_URL": db})
    message = str(caught.value)
    assert "DATABASE_URL" in message and db in message, message
    assert "secret_kms_key_arns" in message and "secretKmsKeyArns" in message, message


@pytest.mark.parametrize(
    ("keys", "refused"),
    [
        ({"OTHER": SECRET_KEY}, "'OTHER' is not a variable in `secrets`"),
        ({"DB": "arn:aws:kms:us-east-1:123456789012:alias/db"}, "not a KMS key ARN"),
        ({"DB": "6c1d0f3e-8a2b-4c5d-9e7f-1a2b3c4d5e6f"}, "not a KMS key ARN"),
    ],
)
def test_secret_keys_that_cannot_be_granted_are_refused(keys: dict[str, str], refused: str) -> None:
    db = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    with pytest.raises(ValueError, match=refused):
        minimal_args(secrets={"DB": db}, secret_kms_key_arns={"DB": SECRET_KEY, **keys})


def test_readonly_root_opt_out_and_writable_paths() -> None:
    plan = run_service(minimal_args(readonly_root_filesystem=False, writable_paths=["/tmp", "/var/cache/app"]))
    app = plan.container()
    assert app["readonlyRootFilesystem"] is False
    assert [m["containerPath"] for m in app["mountPoints"]] == ["/tmp", "/var/cache/app"]
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert task.inputs["volumes"] == [{"name": "writable-tmp"}, {"name": "writable-var-cache-app"}]


def test_alarms_opt_out_and_thresholds() -> None:
    service_off = run_service(minimal_args(alarms=AlarmSettings(enabled=False)))
    assert sorted(a.name for a in service_off.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == [
        "shop-alarm-alb-5xx", "shop-alarm-waf-blocked"], "the service's opt-out reached the environment's alarms"
    none = run_service(minimal_args(alarms=AlarmSettings(enabled=False), environment_alarms=EnvironmentAlarmSettings(enabled=False)))
    assert none.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []
    tuned = run_service(minimal_args(alarms=AlarmSettings(cpu_percent=70, target_p99_seconds=0.5),
                                     environment_alarms=EnvironmentAlarmSettings(alb_5xx_per_minute=10, waf_blocked_requests=100)))
    assert tuned.named("shop-alarm-cpu").inputs["threshold"] == 70
    p99 = tuned.named("shop-alarm-p99-latency")
    assert p99.inputs["threshold"] == 0.5 and p99.inputs["extendedStatistic"] == "p99"
    assert tuned.named("shop-alarm-alb-5xx").inputs["threshold"] == 10
    assert tuned.named("shop-alarm-waf-blocked").inputs["threshold"] == 100


def test_existing_key_and_topic() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/existing"
    topic = "arn:aws:sns:us-east-1:123456789012:ops-alarms"
    plan = run_service(minimal_args(monitoring=MonitoringArgs(kms_key_arn=key, alarm_topic_arn=topic, log_retention_days=731)))
    assert plan.of_type("aws:kms/key:Key") == [] and plan.of_type("aws:sns/topic:Topic") == []
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["kmsKeyId"] == key and group.inputs["retentionInDays"] == 731, group.name
    for alarm in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm.inputs["alarmActions"] == [topic], alarm.name


def test_scaling_and_size_args() -> None:
    plan = run_service(minimal_args(cpu=512, memory=2048, desired_count=3, min_count=3, max_count=10, container_port=3000,
                                    cpu_target_percent=50, requests_per_target=200))
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("512", "2048")
    target = plan.one("aws:appautoscaling/target:Target")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (3, 10)
    assert plan.one("aws:lb/targetGroup:TargetGroup").inputs["port"] == 3000
    assert {"name": "PORT", "value": "3000"} in plan.container()["environment"]


def test_alb_mode_app_port_is_the_only_service_ingress() -> None:
    plan: Plan = run_service(minimal_args(container_port=9000))
    service_sg = plan.named("shop-service-sg").outputs["id"]
    ports = [
        (r.inputs["fromPort"], r.inputs["toPort"])
        for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == service_sg
    ]
    assert ports == [(9000, 9000)]


def test_flow_log_retention_override() -> None:
    # Above the pack's minimum (365): a shorter one is refused at plan (tests/components/test_component_thresholds.py).
    plan = run_service(minimal_args(network=NetworkSettings(flow_log_retention_days=731)))
    assert plan.named("shop-network-flow-logs").inputs["retentionInDays"] == 731
    assert plan.named("shop-app-logs").inputs["retentionInDays"] == 365


def test_prod_stack_names_the_key_of_its_database_secret(tmp_path: Path) -> None:
    """prod's DATABASE_URL is an existing secret: its stack file names the key, the plan grants it, and
    the same file without the key is refused at plan, naming the secret and the setting."""
    import shutil

    import yaml

    from rampart.offline.plan import run_stack

    root = Path(__file__).resolve().parents[2]
    prod = yaml.safe_load((root / "stacks" / "Pulumi.prod.yaml").read_text())
    web = prod["config"]["rampart:services"]["web"]
    secret, key = web["secrets"]["DATABASE_URL"], web["secretKmsKeyArns"]["DATABASE_URL"]
    project = tmp_path / "project"
    shutil.copytree(root / "stacks", project / "stacks")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(root / name, project / name)
    shutil.copytree(root / "app", project / "app", ignore=shutil.ignore_patterns("node_modules", "dist"))
    shutil.copytree(root / "proxy", project / "proxy")
    policy = next(r for r in run_stack(project, "prod").resources if r.name == "web-execution-policy")
    grants = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Action"] == "kms:Decrypt"]
    assert [(g["Resource"], g["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"]) for g in grants] == [
        (key, [secret])], grants
    del web["secretKmsKeyArns"]
    (project / "stacks" / "Pulumi.prod.yaml").write_text(yaml.safe_dump(prod, sort_keys=False))
    with pytest.raises(Exception) as caught:
        run_stack(project, "prod")
    message = str(caught.value)
    assert "rampart:services.web" in message and "DATABASE_URL" in message and "secretKmsKeyArns" in message, message
