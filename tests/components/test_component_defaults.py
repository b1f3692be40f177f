"""One test per secure default in docs/components.md: an Environment and a WebService attached to
it, both built from only the required args, must carry each default; changing the default in the
component turns its test red.

The ids of DEFAULT_CHECKS are the `Setting` column of the defaults tables; a test below keeps
the two in step, so a documented default without a test (or a test for an undocumented one) fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from components_support import CERTIFICATE_ARN, IMAGE, REPOSITORY_ARN, Plan, minimal_args, run_service

DOCS = Path(__file__).resolve().parents[2] / "docs" / "components.md"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_service(minimal_args())


def _log_groups(plan: Plan) -> list[Any]:
    return plan.of_type("aws:cloudwatch/logGroup:LogGroup")


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["Statement"])


# --- monitoring --------------------------------------------------------------------------------
def key_rotation(plan: Plan) -> None:
    key = plan.one("aws:kms/key:Key")
    assert key.inputs.get("enableKeyRotation") is True, f"{key.name}: rotation is off"
    assert key.inputs.get("rotationPeriodInDays") == 365, f"{key.name}: rotation period {key.inputs.get('rotationPeriodInDays')}"


def key_deletion_window(plan: Plan) -> None:
    key = plan.one("aws:kms/key:Key")
    assert key.inputs.get("deletionWindowInDays") == 30, f"{key.name}: deletion window"


def key_policy_logs(plan: Plan) -> None:
    key = plan.one("aws:kms/key:Key")
    statements = _statements(plan.policy(key))
    logs = [s for s in statements if s.get("Principal", {}).get("Service") == "logs.us-east-1.amazonaws.com"]
    assert logs, f"{key.name}: key policy does not admit CloudWatch Logs of this region"
    condition = logs[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert condition == "arn:aws:logs:us-east-1:123456789012:log-group:*", f"{key.name}: logs not limited to this account"


def key_policy_alarms(plan: Plan) -> None:
    """SNS, CloudWatch and EventBridge may use the key, on behalf of this account only: without the
    aws:SourceAccount condition another account could use it through those services (confused deputy)."""
    key = plan.one("aws:kms/key:Key")
    expected = ["sns.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]
    statements = [s for s in _statements(plan.policy(key)) if s.get("Principal", {}).get("Service") == expected]
    assert statements, f"{key.name}: SNS/CloudWatch/EventBridge cannot use the key"
    for statement in statements:
        assert statement.get("Condition") == {"StringEquals": {"aws:SourceAccount": "123456789012"}}, (
            f"{key.name}: statement {statement.get('Sid')} lets the services use the key for any account: "
            f"{statement.get('Condition')}")


def key_policy_ecr(plan: Plan) -> None:
    """ECR may use the environment's key for the services' repositories: exactly the grant and describe
    calls it makes when a repository is created, only through ECR of this region, only for this
    account's callers. Pushes and pulls go through ECR's grant, so no Encrypt/Decrypt is granted here."""
    key = plan.one("aws:kms/key:Key")
    ecr = [s for s in _statements(plan.policy(key)) if s.get("Sid") == "EcrRepositoriesInThisRegion"]
    assert len(ecr) == 1, f"{key.name}: key policy has no statement for ECR"
    (statement,) = ecr
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}, statement["Principal"]
    assert sorted(statement["Action"]) == ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"], statement["Action"]
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "ecr.us-east-1.amazonaws.com",
                                                       "kms:CallerAccount": "123456789012"}}, statement["Condition"]


def log_retention(plan: Plan) -> None:
    groups = _log_groups(plan)
    assert len(groups) >= 3
    for group in groups:
        assert group.inputs.get("retentionInDays") == 365, f"{group.name}: retention {group.inputs.get('retentionInDays')}"


def log_encryption(plan: Plan) -> None:
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    for group in _log_groups(plan):
        assert group.inputs.get("kmsKeyId") == key_arn, f"{group.name}: not encrypted with the service key"


def alarm_topic_encrypted(plan: Plan) -> None:
    topic = plan.one("aws:sns/topic:Topic")
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    assert topic.inputs.get("kmsMasterKeyId") == key_arn, f"{topic.name}: topic not encrypted with the key"


def alarm_topic_tls_only(plan: Plan) -> None:
    policy = plan.one("aws:sns/topicPolicy:TopicPolicy")
    deny = [s for s in _statements(plan.policy(policy)) if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, f"{policy.name}: no TLS-only deny"


def alarm_actions(plan: Plan) -> None:
    topic_arn = plan.one("aws:sns/topic:Topic").outputs["arn"]
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    names = sorted(a.name for a in alarms)
    service = ("5xx-rate", "unhealthy-targets", "no-healthy-targets", "p99-latency", "cpu", "memory")
    environment = ("alb-5xx", "waf-blocked")
    assert names == sorted(f"shop-alarm-{s}" for s in (*service, *environment)), names
    for alarm in alarms:
        assert alarm.inputs.get("alarmActions") == [topic_arn], f"{alarm.name}: no action to the alarm topic"
        assert alarm.inputs.get("okActions") == [topic_arn], f"{alarm.name}: no OK action"


# --- network -----------------------------------------------------------------------------------
def network_create(plan: Plan) -> None:
    vpc = plan.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16", f"{vpc.name}: cidr {vpc.inputs['cidrBlock']}"


def network_az_count(plan: Plan) -> None:
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    public = {s.inputs["availabilityZone"] for s in subnets if s.inputs["tags"].get("rampart:tier") == "public"}
    private = {s.inputs["availabilityZone"] for s in subnets if s.inputs["tags"].get("rampart:tier") == "private"}
    assert len(public) == 2 and len(private) == 2, f"subnets span public {public}, private {private}"
    assert len(subnets) == 4


def network_no_public_ip_on_launch(plan: Plan) -> None:
    for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.inputs.get("mapPublicIpOnLaunch") is False, f"{subnet.name}: maps public IPs"


def network_nat_gateways(plan: Plan) -> None:
    nats = plan.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 1, f"expected one NAT gateway, got {[n.name for n in nats]}"


def network_vpc_endpoints(plan: Plan) -> None:
    endpoints = {e.inputs["serviceName"]: e.inputs["vpcEndpointType"] for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    expected = {f"com.amazonaws.us-east-1.{s}": "Interface" for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager")}
    expected["com.amazonaws.us-east-1.s3"] = "Gateway"
    assert endpoints == expected, endpoints
    rule = plan.named("shop-network-endpoints-https-in")
    assert rule.inputs["cidrIpv4"] == "10.0.0.0/16" and rule.inputs["fromPort"] == 443, "endpoints open beyond the VPC"


def network_default_sg_closed(plan: Plan) -> None:
    sg = plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert sg.inputs.get("ingress", []) == [] and sg.inputs.get("egress", []) == [], f"{sg.name}: has rules"


def network_flow_logs(plan: Plan) -> None:
    flow = plan.one("aws:ec2/flowLog:FlowLog")
    group = plan.named("shop-network-flow-logs")
    assert flow.inputs["trafficType"] == "ALL", f"{flow.name}: traffic {flow.inputs['trafficType']}"
    assert flow.inputs["logDestination"] == group.outputs["arn"], f"{flow.name}: not into the encrypted group"
    assert group.inputs.get("kmsKeyId"), f"{group.name}: flow log group not encrypted"


# --- load balancer -----------------------------------------------------------------------------
def alb_internet_facing(plan: Plan) -> None:
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    public_ids = {s.outputs["id"] for s in plan.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["rampart:tier"] == "public"}
    assert alb.inputs["internal"] is False and set(alb.inputs["subnets"]) == public_ids, f"{alb.name}: not public"


def alb_tls_policy(plan: Plan) -> None:
    https = plan.named("shop-lb-https")
    assert https.inputs["protocol"] == "HTTPS" and https.inputs["port"] == 443
    assert https.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06", f"{https.name}: {https.inputs['sslPolicy']}"
    assert https.inputs["certificateArn"] == CERTIFICATE_ARN, f"{https.name}: certificate"


def alb_http_redirects(plan: Plan) -> None:
    http = plan.named("shop-lb-http")
    (action,) = http.inputs["defaultActions"]
    assert action["type"] == "redirect", f"{http.name}: port 80 does {action['type']}"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}, action
    listeners = plan.of_type("aws:lb/listener:Listener")
    assert sorted(x.inputs["port"] for x in listeners) == [80, 443], "unexpected listeners"


def alb_drop_invalid_headers(plan: Plan) -> None:
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs.get("dropInvalidHeaderFields") is True, f"{alb.name}: forwards invalid headers"


def alb_desync_mitigation(plan: Plan) -> None:
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs.get("desyncMitigationMode") == "defensive", f"{alb.name}: {alb.inputs.get('desyncMitigationMode')}"


def alb_deletion_protection(plan: Plan) -> None:
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs.get("enableDeletionProtection") is True, f"{alb.name}: deletable"


def alb_idle_timeout(plan: Plan) -> None:
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs.get("idleTimeout") == 60, f"{alb.name}: idle timeout"


LOG_BUCKET = "shop-lb-alb-logs"
#: The dedicated bucket that receives the ALB log bucket's S3 server access logs.
ACCESS_LOG_BUCKET = "shop-lb-alb-logs-access"
LOG_BUCKETS = (LOG_BUCKET, ACCESS_LOG_BUCKET)


def _bucket_part(plan: Plan, type_token: str, bucket: str, suffix: str) -> Any:
    """The settings resource of one created bucket, checked to point at that bucket."""
    part = plan.one(type_token, f"{bucket}{suffix}")
    assert part.inputs["bucket"] == plan.named(bucket).outputs["id"], f"{part.name}: not on bucket {bucket}"
    return part


def alb_access_logs(plan: Plan) -> None:
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    bucket = plan.named(LOG_BUCKET)
    logs = alb.inputs["accessLogs"]
    assert logs["enabled"] is True and logs["prefix"] == "alb", f"{alb.name}: access logs {logs}"
    assert logs.get("bucket") == bucket.outputs["id"], f"{alb.name}: access logs go to {logs.get('bucket')}"


def bucket_encryption(plan: Plan) -> None:
    for name in LOG_BUCKETS:
        sse = _bucket_part(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                           name, "-encryption")
        rule = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert rule["sseAlgorithm"] == "AES256", f"{sse.name}: {rule}"


def bucket_versioning(plan: Plan) -> None:
    for name in LOG_BUCKETS:
        versioning = _bucket_part(plan, "aws:s3/bucketVersioning:BucketVersioning", name, "-versioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", f"{versioning.name}: off"


def bucket_public_access_block(plan: Plan) -> None:
    for name in LOG_BUCKETS:
        block = _bucket_part(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name, "-public-access")
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert block.inputs.get(flag) is True, f"{block.name}: {flag} is not true"


def bucket_tls_only(plan: Plan) -> None:
    for name in LOG_BUCKETS:
        policy = _bucket_part(plan, "aws:s3/bucketPolicy:BucketPolicy", name, "-policy")
        deny = [s for s in _statements(plan.policy(policy)) if s["Effect"] == "Deny"]
        assert deny and deny[0]["Action"] == "s3:*" and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, (
            f"{policy.name}: no deny of non-TLS requests"
        )


def bucket_elb_delivery(plan: Plan) -> None:
    policy = _bucket_part(plan, "aws:s3/bucketPolicy:BucketPolicy", LOG_BUCKET, "-policy")
    allows = [s for s in _statements(plan.policy(policy)) if s["Effect"] == "Allow"]
    principals = [s["Principal"] for s in allows]
    assert {"AWS": "arn:aws:iam::127311923021:root"} in principals, f"{policy.name}: regional ELB account missing"
    for statement in allows:
        assert statement["Action"] == "s3:PutObject", f"{policy.name}: grants {statement['Action']}"
        assert statement["Resource"].endswith("/alb/AWSLogs/123456789012/*"), statement["Resource"]


def bucket_server_access_logging(plan: Plan) -> None:
    """The ALB log bucket logs its own access into the dedicated bucket; that bucket logs nowhere."""
    loggings = plan.of_type("aws:s3/bucketLogging:BucketLogging")
    source, target = plan.named(LOG_BUCKET).outputs["id"], plan.named(ACCESS_LOG_BUCKET).outputs["id"]
    assert [(l.inputs["bucket"], l.inputs["targetBucket"]) for l in loggings] == [(source, target)], (
        f"{LOG_BUCKET}: server access logging {[(l.name, l.inputs) for l in loggings]}"
    )
    assert loggings[0].inputs["targetPrefix"] == "s3-access/", f"{loggings[0].name}: prefix"


def access_log_bucket_delivery(plan: Plan) -> None:
    """Only S3 log delivery may write to the dedicated bucket, only for the ALB log bucket of this account."""
    policy = _bucket_part(plan, "aws:s3/bucketPolicy:BucketPolicy", ACCESS_LOG_BUCKET, "-policy")
    allows = [s for s in _statements(plan.policy(policy)) if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "logging.s3.amazonaws.com"}], f"{policy.name}: {allows}"
    (statement,) = allows
    assert statement["Action"] == "s3:PutObject" and statement["Resource"].endswith("/s3-access/*"), statement
    assert statement["Condition"] == {
        "ArnLike": {"aws:SourceArn": plan.named(LOG_BUCKET).outputs["arn"]},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }, f"{policy.name}: delivery not limited to the ALB log bucket: {statement['Condition']}"


def bucket_lifecycle(plan: Plan) -> None:
    for name in LOG_BUCKETS:
        lifecycle = _bucket_part(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                                 name, "-lifecycle")
        (rule,) = lifecycle.inputs["rules"]
        assert rule["status"] == "Enabled" and rule["expiration"]["days"] == 365, f"{lifecycle.name}: {rule}"


def bucket_ownership(plan: Plan) -> None:
    for name in LOG_BUCKETS:
        ownership = _bucket_part(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name, "-ownership")
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced", f"{ownership.name}: ACLs enabled"


def bucket_force_destroy(plan: Plan) -> None:
    buckets = plan.of_type("aws:s3/bucket:Bucket")
    assert sorted(b.name for b in buckets) == sorted(LOG_BUCKETS), [b.name for b in buckets]
    for bucket in buckets:
        assert bucket.inputs.get("forceDestroy") is False, f"{bucket.name}: force_destroy on"


def target_group_health_check(plan: Plan) -> None:
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    hc = tg.inputs["healthCheck"]
    expected = {"enabled": True, "path": "/healthz", "matcher": "200", "interval": 15, "timeout": 5,
                "healthyThreshold": 2, "unhealthyThreshold": 3, "protocol": "HTTP"}
    assert {k: hc.get(k) for k in expected} == expected, f"{tg.name}: health check {hc}"
    assert tg.inputs["targetType"] == "ip" and tg.inputs["port"] == 8080


def target_group_deregistration_delay(plan: Plan) -> None:
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    assert tg.inputs.get("deregistrationDelay") == 30, f"{tg.name}: delay {tg.inputs.get('deregistrationDelay')}"


def alb_sg_ingress(plan: Plan) -> None:
    alb_sg = plan.named("shop-lb-alb-sg")
    rules = [r for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.inputs["securityGroupId"] == alb_sg.outputs["id"]]
    assert sorted((r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]) for r in rules) == [
        (80, 80, "0.0.0.0/0"), (443, 443, "0.0.0.0/0")], [r.name for r in rules]
    for rule in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") + plan.of_type(
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
    ):
        assert rule.inputs.get("description"), f"{rule.name}: security group rule without description"
    for sg in plan.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not sg.inputs.get("ingress") and not sg.inputs.get("egress"), f"{sg.name}: inline rules"
        assert sg.inputs.get("description"), f"{sg.name}: no description"


def alb_sg_egress(plan: Plan) -> None:
    """The shared ALB reaches only the VPC, only on the unprivileged task ports; which task port is
    open is each service's own group's decision (`web_service.security_group`)."""
    alb_sg = plan.named("shop-lb-alb-sg")
    rules = [r for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
             if r.inputs["securityGroupId"] == alb_sg.outputs["id"]]
    assert len(rules) == 1, [r.name for r in rules]
    rule = rules[0]
    vpc_cidr = plan.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
    assert rule.inputs.get("cidrIpv4") == vpc_cidr, f"{rule.name}: egress to {rule.inputs.get('cidrIpv4')}, not the VPC"
    assert "referencedSecurityGroupId" not in rule.inputs and "cidrIpv6" not in rule.inputs, rule.inputs
    assert rule.inputs["ipProtocol"] == "tcp", f"{rule.name}: protocol {rule.inputs['ipProtocol']}"
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (1024, 65535), f"{rule.name}: privileged ports open"


# --- WAF ---------------------------------------------------------------------------------------
def _acl(plan: Plan) -> Any:
    return plan.one("aws:wafv2/webAcl:WebAcl")


def waf_rate_limit(plan: Plan) -> None:
    acl = _acl(plan)
    rule = next(r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"])
    statement = rule["statement"]["rateBasedStatement"]
    assert statement == {"aggregateKeyType": "IP", "limit": 2000, "evaluationWindowSec": 300}, statement
    assert rule["priority"] == 0, f"{acl.name}: rate rule is not evaluated first"


def waf_rate_limit_429(plan: Plan) -> None:
    acl = _acl(plan)
    rule = next(r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"])
    response = rule["action"]["block"]["customResponse"]
    assert response["responseCode"] == 429, response
    keys = [b["key"] for b in acl.inputs["customResponseBodies"]]
    assert response["customResponseBodyKey"] in keys, f"{acl.name}: 429 body missing"


def waf_managed_rule_groups(plan: Plan) -> None:
    acl = _acl(plan)
    groups = [r["statement"]["managedRuleGroupStatement"] for r in acl.inputs["rules"] if "managedRuleGroupStatement" in r["statement"]]
    assert [(g["vendorName"], g["name"]) for g in groups] == [
        ("AWS", "AWSManagedRulesCommonRuleSet"),
        ("AWS", "AWSManagedRulesKnownBadInputsRuleSet"),
        ("AWS", "AWSManagedRulesAmazonIpReputationList"),
    ], groups
    for rule in acl.inputs["rules"]:
        if "managedRuleGroupStatement" in rule["statement"]:
            assert rule["overrideAction"] == {"none": {}}, f"{acl.name}: {rule['name']} is count-only"
            assert not rule["statement"]["managedRuleGroupStatement"].get("ruleActionOverrides"), rule["name"]


def waf_metrics(plan: Plan) -> None:
    acl = _acl(plan)
    configs = [acl.inputs["visibilityConfig"]] + [r["visibilityConfig"] for r in acl.inputs["rules"]]
    for config in configs:
        assert config["cloudwatchMetricsEnabled"] is True and config["sampledRequestsEnabled"] is True, config
    assert len({c["metricName"] for c in configs}) == len(configs), "metric names collide"


def waf_default_allow(plan: Plan) -> None:
    acl = _acl(plan)
    assert acl.inputs["defaultAction"] == {"allow": {}} and acl.inputs["scope"] == "REGIONAL", acl.inputs["defaultAction"]


def waf_association(plan: Plan) -> None:
    association = plan.one("aws:wafv2/webAclAssociation:WebAclAssociation")
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert association.inputs["resourceArn"] == alb.outputs["arn"], f"{association.name}: not on the ALB"
    assert association.inputs["webAclArn"] == _acl(plan).outputs["arn"]


def waf_logging(plan: Plan) -> None:
    logging = plan.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    group = plan.named("shop-waf-logs")
    assert group.inputs["name"].startswith("aws-waf-logs-"), f"{group.name}: WAF cannot log to {group.inputs['name']}"
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]], f"{logging.name}: destination"


def waf_log_redaction(plan: Plan) -> None:
    logging = plan.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    redacted = sorted(f["singleHeader"]["name"] for f in logging.inputs["redactedFields"])
    assert redacted == ["authorization", "cookie"], f"{logging.name}: redacts {redacted}"


# --- compliance (runtime rules) ---------------------------------------------------------------
def _config_rules(plan: Plan) -> list[Any]:
    return plan.of_type("aws:cfg/rule:Rule")


def compliance_rules(plan: Plan) -> None:
    from rampart_soc2.registry import POLICIES

    identifiers = {s.config_rule.identifier for s in POLICIES.values() if s.config_rule is not None}
    deployed = [r.inputs["source"]["sourceIdentifier"] for r in _config_rules(plan)]
    assert sorted(deployed) == sorted(identifiers), f"Config rules {deployed} are not the registry's {sorted(identifiers)}"


def compliance_rule_parameters(plan: Plan) -> None:
    rule = next(r for r in _config_rules(plan) if r.inputs["source"]["sourceIdentifier"] == "CW_LOGGROUP_RETENTION_PERIOD_CHECK")
    assert json.loads(rule.inputs["inputParameters"]) == {"MinRetentionTime": "365"}, f"{rule.name}: {rule.inputs}"


def compliance_scope(plan: Plan) -> None:
    for rule in _config_rules(plan):
        assert rule.inputs["scope"] == {"tagKey": "managed-by", "tagValue": "rampart"}, f"{rule.name}: {rule.inputs['scope']}"


def compliance_alarm_route(plan: Plan) -> None:
    event_rule = plan.one("aws:cloudwatch/eventRule:EventRule")
    pattern = json.loads(event_rule.inputs["eventPattern"])
    assert pattern["detail"]["newEvaluationResult"] == {"complianceType": ["NON_COMPLIANT"]}, f"{event_rule.name}: {pattern}"
    assert sorted(pattern["detail"]["configRuleName"]) == sorted(r.inputs["name"] for r in _config_rules(plan))
    target = plan.one("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"] == plan.one("aws:sns/topic:Topic").outputs["arn"], f"{target.name}: not the alarm topic"
    publishers = [s for s in _statements(plan.policy(plan.one("aws:sns/topicPolicy:TopicPolicy"))) if s["Effect"] == "Allow"]
    events = [s for s in publishers if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert events and events[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}, publishers


def compliance_recorder(plan: Plan) -> None:
    # minimal_args declares the account's recorder (the setting has no default: unset is refused at plan):
    # nothing of AWS Config's singletons is created, and every rule names the recorder it relies on.
    from rampart_soc2.vocabulary.tags import CONFIG_RECORDER_TAG

    for token in ("aws:cfg/recorder:Recorder", "aws:cfg/deliveryChannel:DeliveryChannel", "aws:cfg/recorderStatus:RecorderStatus"):
        assert not plan.of_type(token), f"{token} created for a declared recorder"
    for rule in _config_rules(plan):
        assert rule.inputs["tags"][CONFIG_RECORDER_TAG] == "default", f"{rule.name}: {rule.inputs['tags']}"


# --- web service -------------------------------------------------------------------------------
def cluster_container_insights(plan: Plan) -> None:
    cluster = plan.one("aws:ecs/cluster:Cluster")
    settings = {s["name"]: s["value"] for s in cluster.inputs["settings"]}
    assert settings.get("containerInsights") == "enhanced", f"{cluster.name}: {settings}"


def task_non_root(plan: Plan) -> None:
    assert plan.container()["user"] == "65532:65532"


def task_readonly_root(plan: Plan) -> None:
    app = plan.container()
    assert app["readonlyRootFilesystem"] is True, "app: root filesystem is writable"
    assert app["mountPoints"] == [{"sourceVolume": "writable-tmp", "containerPath": "/tmp", "readOnly": False}]
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert task.inputs["volumes"] == [{"name": "writable-tmp"}], task.inputs["volumes"]


def task_not_privileged(plan: Plan) -> None:
    app = plan.container()
    assert app["privileged"] is False and app["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}, app
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert "pidMode" not in task.inputs and "ipcMode" not in task.inputs


def task_init_process(plan: Plan) -> None:
    assert plan.container()["linuxParameters"]["initProcessEnabled"] is True


def task_memory_limit(plan: Plan) -> None:
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("256", "512"), "task size"
    assert plan.container()["memory"] == 512, "app container has no hard memory limit"


def task_health_check(plan: Plan) -> None:
    # No image HEALTHCHECK known and none given: no container check (never another image's command);
    # the target group's health check still guards traffic.
    app = plan.container()
    assert "healthCheck" not in app, f"app container got a health check nobody declared: {app.get('healthCheck')}"
    assert plan.one("aws:lb/targetGroup:TargetGroup").inputs["healthCheck"]["enabled"] is True


def task_awslogs(plan: Plan) -> None:
    config = plan.container()["logConfiguration"]
    group = plan.named("shop-app-logs")
    assert config["logDriver"] == "awslogs", config
    assert config["options"]["awslogs-group"] == group.outputs["name"], "app logs go elsewhere"
    assert config["options"]["awslogs-region"] == "us-east-1"
    assert group.inputs["kmsKeyId"], "app log group not encrypted"


def task_environment(plan: Plan) -> None:
    app = plan.container()
    assert app["environment"] == [{"name": "HOST", "value": "0.0.0.0"}, {"name": "PORT", "value": "8080"}]
    assert app["secrets"] == []


def roles_separate(plan: Plan) -> None:
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert task.inputs["executionRoleArn"] != task.inputs["taskRoleArn"], "one role for agent and app"
    task_role = plan.named("shop-task-role")
    attached = [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == task_role.outputs["id"]]
    assert attached == [], f"task role has policies {[p.name for p in attached]}"


def execution_role_scope(plan: Plan) -> None:
    policy = plan.policy(plan.named("shop-execution-policy"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"EcrAuth", "PullThisImage", "WriteTheseLogGroups"}, set(by_sid)
    assert by_sid["PullThisImage"]["Resource"] == [REPOSITORY_ARN]
    assert by_sid["WriteTheseLogGroups"]["Resource"] == [plan.named("shop-app-logs").outputs["arn"] + ":log-stream:*"]
    for statement in policy["Statement"]:
        if statement["Resource"] == "*":
            assert statement["Action"] == "ecr:GetAuthorizationToken", f"wildcard resource for {statement['Action']}"


def sidecar_tls(plan: Plan) -> None:
    """The row is about `nginx` ingress, which the minimal plan does not use: plan a service with the
    sidecar, everything else at its defaults."""
    from rampart.components.proxy_config import ProxyConfig

    nginx = run_service(minimal_args(
        ingress="nginx", proxy=ProxyConfig(),
        proxy_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/proxy@sha256:" + "b" * 64,
        proxy_image_repository_arn="arn:aws:ecr:us-east-1:123456789012:repository/proxy"))
    tls = [(r.type, r.name) for r in nginx.resources if r.type.startswith("tls:") or r.type.startswith("aws:secretsmanager")]
    assert tls == [], f"TLS material or a secret for it in the plan: {tls}"
    proxy = nginx.container("proxy")
    assert "secrets" not in proxy, f"proxy container reads secrets {proxy['secrets']}"
    assert {e["name"]: e["value"] for e in proxy["environment"]} == {
        "PROXY_TLS_COMMON_NAME": "proxy.internal", "PROXY_TLS_VALIDITY_DAYS": "365"}, proxy["environment"]
    for policy in nginx.of_type("aws:iam/rolePolicy:RolePolicy"):
        actions = json.dumps(plan.policy(policy))
        assert "secretsmanager:GetSecretValue" not in actions and "kms:Decrypt" not in actions, \
            f"{policy.name} grants reading secrets the sidecar no longer has"


def service_private(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    network = service.inputs["networkConfiguration"]
    private_ids = {s.outputs["id"] for s in plan.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["rampart:tier"] == "private"}
    assert network["assignPublicIp"] is False, f"{service.name}: public IP"
    assert set(network["subnets"]) == private_ids, f"{service.name}: not in the private subnets"


def service_sg_from_alb_only(plan: Plan) -> None:
    service_sg = plan.named("shop-service-sg")
    alb_sg = plan.named("shop-lb-alb-sg")
    rules = [r for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.inputs["securityGroupId"] == service_sg.outputs["id"]]
    assert len(rules) == 1, [r.name for r in rules]
    rule = rules[0]
    assert rule.inputs["referencedSecurityGroupId"] == alb_sg.outputs["id"] and "cidrIpv4" not in rule.inputs
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (8080, 8080)


def service_circuit_breaker(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}, service.name


def service_deployment(plan: Plan) -> None:
    """Rolling by default (ECS's own default: no deploymentConfiguration), rolled back by the service's 5xx-rate,
    unhealthy-targets and p99-latency alarms; one target group and one rule."""
    service = plan.one("aws:ecs/service:Service")
    assert "deploymentConfiguration" not in service.inputs, service.inputs.get("deploymentConfiguration")
    alarms = {r.name: r.outputs["name"] for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    expected = [alarms[f"shop-alarm-{s}"] for s in ("5xx-rate", "unhealthy-targets", "p99-latency")]
    assert service.inputs["alarms"] == {"enable": True, "rollback": True, "alarmNames": expected}, service.inputs["alarms"]
    assert len(plan.of_type("aws:lb/targetGroup:TargetGroup")) == 1 and len(plan.of_type("aws:lb/listenerRule:ListenerRule")) == 1
    assert sigint_rollback(service), f"{service.name}: Ctrl-C during pulumi up does not roll the deployment back"


def sigint_rollback(service: Any) -> bool:
    return service.inputs.get("sigintRollback") is True


def service_deployment_percentages(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    assert (service.inputs["deploymentMinimumHealthyPercent"], service.inputs["deploymentMaximumPercent"]) == (100, 200)


def service_grace_period(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    assert service.inputs["healthCheckGracePeriodSeconds"] == 60


def service_platform_latest(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    assert service.inputs["platformVersion"] == "LATEST" and service.inputs["launchType"] == "FARGATE"


def service_exec_off(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    assert service.inputs.get("enableExecuteCommand") is False, f"{service.name}: ECS Exec on"
    assert "configuration" not in plan.one("aws:ecs/cluster:Cluster").inputs


def service_steady_state(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    assert service.inputs.get("waitForSteadyState") is True, f"{service.name}: pulumi up does not wait for healthy tasks"
    assert service.custom_timeouts == {"create": "20m", "update": "20m"}, f"{service.name}: {service.custom_timeouts}"


def service_load_balancer(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    (lb,) = service.inputs["loadBalancers"]
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    assert lb == {"targetGroupArn": tg.outputs["arn"], "containerName": "app", "containerPort": 8080}, lb


def service_task_counts(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    target = plan.one("aws:appautoscaling/target:Target")
    assert service.inputs["desiredCount"] == 2
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 4)


def autoscaling_policies(plan: Plan) -> None:
    policies = {
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]["predefinedMetricType"]:
        p.inputs["targetTrackingScalingPolicyConfiguration"]
        for p in plan.of_type("aws:appautoscaling/policy:Policy")
    }
    assert set(policies) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}, set(policies)
    assert policies["ECSServiceAverageCPUUtilization"]["targetValue"] == 60
    requests = policies["ALBRequestCountPerTarget"]
    assert requests["targetValue"] == 1000
    assert re.match(r"^app/.+/targetgroup/.+$", requests["predefinedMetricSpecification"]["resourceLabel"])


def https_default_404(plan: Plan) -> None:
    https = next(l for l in plan.of_type("aws:lb/listener:Listener") if l.inputs["protocol"] == "HTTPS")
    (action,) = https.inputs["defaultActions"]
    assert action["type"] == "fixed-response" and action["fixedResponse"]["statusCode"] == "404", (
        f"{https.name}: unrouted requests reach {action}"
    )


def service_routing(plan: Plan) -> None:
    (rule,) = plan.of_type("aws:lb/listenerRule:ListenerRule")
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/*"]}}], f"{rule.name}: {rule.inputs['conditions']}"
    assert 41_000 <= rule.inputs["priority"] < 49_000, f"{rule.name}: a catch-all route is tried last ({rule.inputs['priority']})"
    (action,) = rule.inputs["actions"]
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    assert action == {"type": "forward", "targetGroupArn": tg.outputs["arn"]}, f"{rule.name}: {action}"


def service_access_control(plan: Plan) -> None:
    from rampart_soc2.vocabulary.tags import PRIVATE_ROUTE_TAG

    for rule in plan.of_type("aws:lb/listenerRule:ListenerRule"):
        assert PRIVATE_ROUTE_TAG not in rule.inputs["tags"], f"{rule.name}: marked private without routing.access"
        kinds = [a["type"] for a in rule.inputs["actions"]]
        assert kinds == ["forward"], f"{rule.name}: {kinds} without routing.access"
        assert all("sourceIp" not in c for c in rule.inputs["conditions"]), f"{rule.name}: an allow-list nobody set"


DEFAULT_CHECKS: dict[str, Callable[[Plan], None]] = {
    "monitoring.key_rotation": key_rotation,
    "monitoring.key_deletion_window_days": key_deletion_window,
    "monitoring.key_policy_logs": key_policy_logs,
    "monitoring.key_policy_alarms": key_policy_alarms,
    "monitoring.key_policy_ecr": key_policy_ecr,
    "monitoring.log_retention_days": log_retention,
    "monitoring.log_encryption": log_encryption,
    "monitoring.alarm_topic_encryption": alarm_topic_encrypted,
    "monitoring.alarm_topic_tls_only": alarm_topic_tls_only,
    "monitoring.alarm_actions": alarm_actions,
    "network.create": network_create,
    "network.az_count": network_az_count,
    "network.map_public_ip_on_launch": network_no_public_ip_on_launch,
    "network.nat_gateways": network_nat_gateways,
    "network.vpc_endpoints": network_vpc_endpoints,
    "network.default_security_group": network_default_sg_closed,
    "network.flow_logs": network_flow_logs,
    "load_balancer.internet_facing": alb_internet_facing,
    "load_balancer.tls_policy": alb_tls_policy,
    "load_balancer.http_redirect": alb_http_redirects,
    "load_balancer.drop_invalid_header_fields": alb_drop_invalid_headers,
    "load_balancer.desync_mitigation": alb_desync_mitigation,
    "load_balancer.deletion_protection": alb_deletion_protection,
    "load_balancer.idle_timeout_seconds": alb_idle_timeout,
    "load_balancer.access_logs": alb_access_logs,
    "load_balancer.log_bucket_encryption": bucket_encryption,
    "load_balancer.log_bucket_versioning": bucket_versioning,
    "load_balancer.log_bucket_public_access_block": bucket_public_access_block,
    "load_balancer.log_bucket_tls_only": bucket_tls_only,
    "load_balancer.log_bucket_elb_delivery": bucket_elb_delivery,
    "load_balancer.log_bucket_server_access_logging": bucket_server_access_logging,
    "load_balancer.access_log_bucket_delivery": access_log_bucket_delivery,
    "load_balancer.access_log_expiry_days": bucket_lifecycle,
    "load_balancer.log_bucket_ownership": bucket_ownership,
    "load_balancer.access_log_force_destroy": bucket_force_destroy,
    "load_balancer.health_check": target_group_health_check,
    "load_balancer.deregistration_delay_seconds": target_group_deregistration_delay,
    "load_balancer.security_group_ingress": alb_sg_ingress,
    "load_balancer.security_group_egress": alb_sg_egress,
    "waf.rate_limit": waf_rate_limit,
    "waf.rate_limit_response": waf_rate_limit_429,
    "waf.managed_rule_groups": waf_managed_rule_groups,
    "waf.metrics": waf_metrics,
    "waf.default_action": waf_default_allow,
    "waf.association": waf_association,
    "waf.logging": waf_logging,
    "waf.log_redaction": waf_log_redaction,
    "compliance.rules": compliance_rules,
    "compliance.rule_parameters": compliance_rule_parameters,
    "compliance.scope": compliance_scope,
    "compliance.alarm_route": compliance_alarm_route,
    "compliance.recorder": compliance_recorder,
    "web_service.container_insights": cluster_container_insights,
    "web_service.user": task_non_root,
    "web_service.readonly_root_filesystem": task_readonly_root,
    "web_service.privileged": task_not_privileged,
    "web_service.init_process": task_init_process,
    "web_service.memory": task_memory_limit,
    "web_service.container_health_check": task_health_check,
    "web_service.awslogs": task_awslogs,
    "web_service.environment": task_environment,
    "web_service.separate_roles": roles_separate,
    "web_service.execution_role_scope": execution_role_scope,
    "web_service.sidecar_tls": sidecar_tls,
    "web_service.private_subnets": service_private,
    "web_service.security_group": service_sg_from_alb_only,
    "web_service.circuit_breaker": service_circuit_breaker,
    "web_service.wait_for_steady_state": service_steady_state,
    "web_service.routing": service_routing,
    "web_service.access_control": service_access_control,
    "load_balancer.default_action": https_default_404,
    "web_service.deployment_percent": service_deployment_percentages,
    "web_service.deployment": service_deployment,
    "web_service.health_check_grace_period_seconds": service_grace_period,
    "web_service.platform_version": service_platform_latest,
    "web_service.enable_execute_command": service_exec_off,
    "web_service.ingress": service_load_balancer,
    "web_service.task_counts": service_task_counts,
    "web_service.autoscaling": autoscaling_policies,
}


@pytest.mark.parametrize("setting", sorted(DEFAULT_CHECKS))
def test_secure_default(plan: Plan, setting: str) -> None:
    DEFAULT_CHECKS[setting](plan)


def test_defaults_tables_match_tests() -> None:
    """docs/components.md lists exactly the defaults tested here (its `Setting` column)."""
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z0-9_]+)` \|", DOCS.read_text(), flags=re.MULTILINE))
    assert documented == set(DEFAULT_CHECKS), (
        f"documented but untested: {sorted(documented - set(DEFAULT_CHECKS))}; "
        f"tested but undocumented: {sorted(set(DEFAULT_CHECKS) - documented)}"
    )


def test_minimal_args_are_only_image_and_certificate() -> None:
    """The required args are exactly the image, its repository and the environment it attaches to;
    the environment's requirements are a certificate (given ARNs or domains) and where its AWS Config
    recorder is (`compliance.recorder`, which has no default: a stack file without it is refused)."""
    from pydantic import ValidationError

    from rampart.components.environment import EnvironmentArgs
    from rampart.components.load_balancer import LoadBalancerSettings
    from rampart.components.web_service import WebServiceArgs

    required = {name for name, field in WebServiceArgs.model_fields.items() if field.is_required()}
    assert required == {"environment_ref", "image", "image_repository_arn"}, required
    required = {name for name, field in EnvironmentArgs.model_fields.items() if field.is_required()}
    assert required == {"load_balancer"}, required
    required = {name for name, field in LoadBalancerSettings.model_fields.items() if field.is_required()}
    assert required == set(), required
    with pytest.raises(ValidationError, match="certificate"):
        LoadBalancerSettings()
    with pytest.raises(ValidationError, match="compliance.recorder is not set"):
        EnvironmentArgs(load_balancer=LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN]))
    assert IMAGE and REPOSITORY_ARN and CERTIFICATE_ARN


def test_outputs_hold_no_secret() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf"
    key = "arn:aws:kms:us-east-1:123456789012:key/0d9f8e7c-1111-2222-3333-444455556666"
    plan = run_service(minimal_args(secrets={"DB_PASSWORD": secret}, secret_kms_key_arns={"DB_PASSWORD": key}))
    dumped = json.dumps(plan.outputs)
    assert secret not in dumped and "db-password" not in dumped, plan.outputs
    assert set(plan.outputs) == {"environment", "url", "serviceName", "logGroupNames"}
    assert plan.outputs["url"].startswith("https://")
    assert plan.outputs["environment"]["url"].startswith("https://")
    assert set(plan.outputs["logGroupNames"]) == {"app", "vpc_flow", "waf"}
