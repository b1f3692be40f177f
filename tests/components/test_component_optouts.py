"""Opt-outs and alternatives: each is an explicit arg, and does what it says (and nothing more)."""

from __future__ import annotations

import json

from components.load_balancer import LoadBalancerSettings
from components.monitoring import MonitoringArgs
from components.network import CreateNetworkArgs, ExistingNetworkArgs, NetworkSettings
from components.waf import WafSettings
from components.web_service import AlarmSettings
from components_support import REPOSITORY_ARN, Plan, minimal_args, run_service

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def _lb(**overrides: object) -> LoadBalancerSettings:
    return LoadBalancerSettings(**{"certificate_arn": CERT, **overrides})


def test_waf_opt_out_removes_acl_and_its_alarm() -> None:
    plan = run_service(minimal_args(waf=None))
    assert plan.of_type("aws:wafv2/webAcl:WebAcl") == []
    assert plan.of_type("aws:wafv2/webAclAssociation:WebAclAssociation") == []
    assert "shop-alarm-waf-blocked" not in {a.name for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert plan.outputs.get("webAclArn") is None


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
                deregistration_delay_seconds=5,
                access_log_expiry_days=90,
            )
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
    plan = run_service(minimal_args(load_balancer=LoadBalancerSettings(domain="shop.example.com", hosted_zone_id="Z123456ABC")))
    cert = plan.one("aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == "shop.example.com" and cert.inputs["validationMethod"] == "DNS"
    validation_record = plan.named("shop-lb-cert-validation")
    assert validation_record.inputs["zoneId"] == "Z123456ABC" and validation_record.inputs["type"] == "CNAME"
    validated = plan.one("aws:acm/certificateValidation:CertificateValidation")
    assert validated.inputs["certificateArn"] == cert.outputs["arn"]
    https = plan.named("shop-lb-https")
    assert https.inputs["certificateArn"] == validated.outputs["certificateArn"] == cert.outputs["arn"]
    alias = plan.named("shop-lb-dns")
    assert alias.inputs["name"] == "shop.example.com" and alias.inputs["type"] == "A"
    assert plan.outputs["url"] == "https://shop.example.com"


def test_existing_network_creates_no_vpc() -> None:
    existing = ExistingNetworkArgs(
        vpc_id="vpc-0123456789abcdef0",
        public_subnet_ids=["subnet-0a", "subnet-0b"],
        private_subnet_ids=["subnet-1a", "subnet-1b"],
    )
    plan = run_service(minimal_args(network=NetworkSettings(existing=existing)))
    for type_token in ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ec2/vpcEndpoint:VpcEndpoint"):
        assert plan.of_type(type_token) == [], f"existing network mode created {type_token}"
    service = plan.one("aws:ecs/service:Service")
    assert service.inputs["networkConfiguration"]["subnets"] == ["subnet-1a", "subnet-1b"]
    assert plan.one("aws:lb/loadBalancer:LoadBalancer").inputs["subnets"] == ["subnet-0a", "subnet-0b"]
    assert plan.one("aws:ec2/flowLog:FlowLog").inputs["vpcId"] == "vpc-0123456789abcdef0"


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


def test_execute_command_on_is_logged_and_encrypted() -> None:
    plan = run_service(minimal_args(enable_execute_command=True))
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


def test_secrets_scope_the_execution_role() -> None:
    db = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    api = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/api"
    cmk = "arn:aws:kms:us-east-1:123456789012:key/secrets"
    plan = run_service(minimal_args(secrets={"DB_URL": db + ":url::", "API_CREDENTIAL": api}, secret_kms_key_arns=[cmk]))
    app = plan.container()
    assert app["secrets"] == [{"name": "DB_URL", "valueFrom": db + ":url::"}, {"name": "API_CREDENTIAL", "valueFrom": api}]
    assert all(e["name"] in ("HOST", "PORT") for e in app["environment"]), "secret leaked into environment"
    by_sid = {s["Sid"]: s for s in plan.policy(plan.named("shop-execution-policy"))["Statement"]}
    assert by_sid["ReadTheseSecrets"]["Resource"] == [db]
    assert by_sid["ReadTheseParameters"]["Resource"] == [api]
    decrypt = by_sid["DecryptSecretsViaService"]
    assert cmk in decrypt["Resource"] and "*" not in decrypt["Resource"]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == ["secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"]
    assert by_sid["PullThisImage"]["Resource"] == [REPOSITORY_ARN]


def test_readonly_root_opt_out_and_writable_paths() -> None:
    plan = run_service(minimal_args(readonly_root_filesystem=False, writable_paths=["/tmp", "/var/cache/app"]))
    app = plan.container()
    assert app["readonlyRootFilesystem"] is False
    assert [m["containerPath"] for m in app["mountPoints"]] == ["/tmp", "/var/cache/app"]
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert task.inputs["volumes"] == [{"name": "writable-tmp"}, {"name": "writable-var-cache-app"}]


def test_alarms_opt_out_and_thresholds() -> None:
    none = run_service(minimal_args(alarms=AlarmSettings(enabled=False)))
    assert none.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []
    tuned = run_service(minimal_args(alarms=AlarmSettings(cpu_percent=70, target_p99_seconds=0.5)))
    assert tuned.named("shop-alarm-cpu").inputs["threshold"] == 70
    p99 = tuned.named("shop-alarm-p99-latency")
    assert p99.inputs["threshold"] == 0.5 and p99.inputs["extendedStatistic"] == "p99"


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
    plan = run_service(minimal_args(network=NetworkSettings(flow_log_retention_days=90)))
    assert plan.named("shop-network-flow-logs").inputs["retentionInDays"] == 90
    assert plan.named("shop-app-logs").inputs["retentionInDays"] == 365
