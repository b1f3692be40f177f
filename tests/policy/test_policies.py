"""Every policy: the compliant baseline passes; each single-property violation fires exactly that policy."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from policy_fixtures import (
    ALB_ARN,
    DB_SECRET_ARN,
    EXEC_ROLE_ARN,
    EXEC_SECRETS,
    HTTPS_LISTENER_ARN,
    KEY_POLICY,
    KMS_ARN,
    TASK_ROLE_ARN,
    TG_ARN,
    TLS_DENY,
    doc,
    edit_containers,
    find,
    fired,
    run_all,
)
from rampart_soc2.registry import POLICIES

Stack = list[dict[str, Any]]


def setp(name: str, path: str, value: Any) -> Callable[[Stack], None]:
    """Set (or with value=DELETE remove) the dotted property path of one resource."""
    def mutate(stack: Stack) -> None:
        target: Any = find(stack, name)["props"]
        keys = path.split(".")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if value is DELETE:
            del target[int(last) if isinstance(target, list) else last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return mutate


DELETE = object()


def remove(name: str) -> Callable[[Stack], None]:
    def mutate(stack: Stack) -> None:
        stack.remove(find(stack, name))
    return mutate


def container(index: int, key: str, value: Any) -> Callable[[Stack], None]:
    def mutate(stack: Stack) -> None:
        def edit(defs: list[dict[str, Any]]) -> None:
            if value is DELETE:
                del defs[index][key]
            else:
                defs[index][key] = value
        edit_containers(stack, edit)
    return mutate


def add(resource: dict[str, Any]) -> Callable[[Stack], None]:
    def mutate(stack: Stack) -> None:
        stack.append(resource)
    return mutate


def role_policy(name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    """An extra inline policy of the baseline's execution role."""
    return {"type": "aws:iam/rolePolicy:RolePolicy", "name": name, "props": {"role": "web-execution",
                                                                             "policy": doc(*statements)}}


def ecr_endpoints_instead_of_nat(**props: Any) -> Callable[[Stack], None]:
    """No NAT route; ECR's two endpoints in the VPC instead (interface, private DNS, unless `props` say otherwise)."""
    return both(remove("private-default"), *[add({"type": "aws:ec2/vpcEndpoint:VpcEndpoint", "name": f"endpoint-{s}",
                                                  "props": {"vpcId": "vpc-1", "vpcEndpointType": "Interface",
                                                            "serviceName": f"com.amazonaws.eu-west-1.{s}",
                                                            "privateDnsEnabled": True, "securityGroupIds": ["sg-endpoints"],
                                                            **props}})
                                             for s in ("ecr.api", "ecr.dkr")])


def outside_secret(arn: str) -> Callable[[Stack], None]:
    """The task reads a secret this stack did not create, by `arn`, with its key stated and the execution
    role granted GetSecretValue on exactly that secret's ARN."""
    def mutate(stack: Stack) -> None:
        def edit(defs: list[dict[str, Any]]) -> None:
            for d in defs:
                d["secrets"] = [{"name": "DATABASE_URL", "valueFrom": arn}]
        remove("db-secret")(stack)
        setp("task", "tags", {"rampart-secret-kms-key:DATABASE_URL": KMS_ARN})(stack)
        secret = ":".join(arn.split(":")[:7])  # without a `:json-key:stage:version` suffix
        setp("exec-secrets", "policy", doc({**EXEC_SECRETS[0], "Resource": secret}, EXEC_SECRETS[1]))(stack)
        edit_containers(stack, edit)
    return mutate


def both(*fns: Callable[[Stack], None]) -> Callable[[Stack], None]:
    def mutate(stack: Stack) -> None:
        for f in fns:
            f(stack)
    return mutate


@dataclass
class Case:
    policy: str
    name: str
    mutate: Callable[[Stack], None]
    resource: str
    also: set[str] = field(default_factory=set)
    config: dict[str, dict[str, Any]] | None = None
    stack_name: str = "prod"


def single_stage_dockerfile(stack: Stack) -> None:
    ctx = Path(find(stack, "image")["props"]["build"]["context"])
    (ctx / "Dockerfile.single").write_text("FROM node:20@sha256:" + "b" * 64 + "\nUSER 1000\nHEALTHCHECK CMD [\"true\"]\n")
    find(stack, "image")["props"]["build"]["dockerfile"] = "Dockerfile.single"


def trailing_test_stage(stack: Stack) -> None:
    """A stage after the target that the build never runs: unpinned, root, no health check, ADD of a URL."""
    ctx = Path(find(stack, "image")["props"]["build"]["context"])
    text = (ctx / "Dockerfile").read_text()
    (ctx / "Dockerfile").write_text(text + "FROM node:latest AS test\nADD https://example.com/f.tgz /f/\nUSER root\n")


def root_dockerfile(stack: Stack) -> None:
    ctx = Path(find(stack, "image")["props"]["build"]["context"])
    text = (ctx / "Dockerfile").read_text().replace("USER 10001:10001", "USER root")
    (ctx / "Dockerfile").write_text(text)


P = "aws-"
CASES = [
    # ---- load balancing
    Case("aws-lb-listener-require-https-redirect", "http-forwards", setp("http", "defaultActions", [{"type": "forward", "targetGroupArn": "tg"}]), "http"),
    Case("aws-lb-listener-require-https-redirect", "redirect-to-http", setp("http", "defaultActions.0.redirect.protocol", "HTTP"), "http"),
    Case("aws-lb-listener-require-https-redirect", "no-actions", setp("http", "defaultActions", []), "http"),
    Case("aws-lb-listener-require-tls-policy", "legacy-policy", setp("https", "sslPolicy", "ELBSecurityPolicy-2016-08"), "https"),
    Case("aws-lb-listener-require-tls-policy", "no-policy", setp("https", "sslPolicy", DELETE), "https"),
    Case("aws-lb-listener-require-tls-policy", "not-in-configured-list", lambda s: None, "https",
         config={"aws-lb-listener-require-tls-policy": {"allowedTlsPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"]}}),
    Case("aws-lb-listener-require-certificate", "no-certificate", setp("https", "certificateArn", DELETE), "https"),
    Case("aws-lb-listener-require-certificate", "empty-certificate", setp("https", "certificateArn", ""), "https"),
    Case("aws-lb-loadbalancer-enable-drop-invalid-headers", "false", setp("alb", "dropInvalidHeaderFields", False), "alb"),
    Case("aws-lb-loadbalancer-enable-drop-invalid-headers", "unset", setp("alb", "dropInvalidHeaderFields", DELETE), "alb"),
    Case("aws-lb-loadbalancer-enable-access-logs", "disabled", setp("alb", "accessLogs.enabled", False), "alb"),
    Case("aws-lb-loadbalancer-enable-access-logs", "unset", setp("alb", "accessLogs", DELETE), "alb"),
    Case("aws-lb-loadbalancer-enable-deletion-protection", "false", setp("alb", "enableDeletionProtection", False), "alb"),
    Case("aws-lb-loadbalancer-configure-desync-mitigation", "monitor", setp("alb", "desyncMitigationMode", "monitor"), "alb"),
    Case("aws-lb-loadbalancer-require-waf-association", "no-association", remove("waf-assoc"), "alb"),
    Case("aws-lb-loadbalancer-require-waf-association", "association-elsewhere", setp("waf-assoc", "resourceArn", "arn:other"), "alb"),
    Case("aws-lb-targetgroup-require-health-check", "disabled", setp("tg", "healthCheck.enabled", False), "tg"),
    Case("aws-lb-targetgroup-require-health-check", "unset", setp("tg", "healthCheck", DELETE), "tg"),
    Case("aws-lb-targetgroup-require-health-check", "no-path", setp("tg", "healthCheck.path", DELETE), "tg"),
    Case("aws-lb-listenerrule-disallow-http-forwarding", "forward-on-http",
         setp("http-rule", "actions", [{"type": "forward", "targetGroupArn": TG_ARN}]), "http-rule"),
    Case("aws-lb-listenerrule-disallow-http-forwarding", "redirect-stays-http",
         setp("http-rule", "actions.0.redirect.protocol", DELETE), "http-rule"),
    Case("aws-lb-listenerrule-disallow-http-forwarding", "fixed-response-on-http",
         setp("http-rule", "actions", [{"type": "fixed-response", "fixedResponse": {"contentType": "text/plain",
                                                                                   "statusCode": "200"}}]), "http-rule"),
    Case("aws-lb-listenerrule-disallow-http-forwarding", "https-redirects-down-to-http",
         setp("api-rule", "actions", [{"type": "redirect", "redirect": {"protocol": "HTTP", "statusCode": "HTTP_302"}}]),
         "api-rule"),
    Case("aws-lb-listenerrule-disallow-http-forwarding", "no-action", setp("web-rule", "actions", []), "web-rule"),
    Case("aws-lb-listenerrule-require-unique-priority", "same-priority-same-listener",
         setp("api-rule", "priority", 10), "api-rule"),
    # ---- private routes and OIDC sign-in
    Case("aws-lb-listenerrule-require-private-access", "private-forward-without-sign-in-or-source-ip",
         setp("admin-sso", "actions.0", {"type": "forward", "targetGroupArn": TG_ARN}), "admin-sso"),
    Case("aws-lb-listenerrule-require-private-access", "sign-in-that-allows-anonymous",
         setp("admin-sso", "actions.0.authenticateOidc.onUnauthenticatedRequest", "allow"), "admin-sso"),
    Case("aws-lb-listenerrule-require-private-access", "source-ip-without-a-403-after-it",
         setp("ops-deny", "priority", 5), "ops-allow"),
    Case("aws-lb-listenerrule-require-private-access", "403-rule-for-other-paths",
         setp("ops-deny", "conditions.1.pathPattern.values", ["/other/*"]), "ops-allow"),
    Case("aws-lb-listenerrule-require-private-access", "allow-list-dropped",
         setp("ops-allow", "conditions.2", DELETE), "ops-allow"),
    Case("aws-lb-listenerrule-require-private-access", "403-rule-on-another-listener",
         setp("ops-deny", "listenerArn", HTTPS_LISTENER_ARN.replace("/443b", "/443c")), "ops-allow"),
    Case("aws-lb-listenerrule-require-private-access", "partner-rule-forwards-signed-in-users",
         lambda s: find(s, "ops-deny")["props"].update(actions=json.loads(json.dumps(find(s, "admin-sso")["props"]["actions"]))),
         "ops-allow"),
    Case("aws-lb-listenerrule-require-https-oidc-endpoints", "http-token-endpoint-on-a-listener",
         lambda s: find(s, "https")["props"].update(defaultActions=[
             {**json.loads(json.dumps(find(s, "admin-sso")["props"]["actions"][0])),
              "authenticateOidc": {**find(s, "admin-sso")["props"]["actions"][0]["authenticateOidc"],
                                   "tokenEndpoint": "http://idp.example.com/token"}},
             {"type": "forward", "order": 2, "targetGroupArn": TG_ARN}]), "https"),
    Case("aws-lb-listenerrule-require-https-oidc-endpoints", "http-token-endpoint",
         setp("admin-sso", "actions.0.authenticateOidc.tokenEndpoint", "http://idp.example.com/token"), "admin-sso"),
    Case("aws-lb-listenerrule-require-https-oidc-endpoints", "http-issuer",
         setp("admin-sso", "actions.0.authenticateOidc.issuer", "http://idp.example.com"), "admin-sso"),
    # ---- WAF
    Case("aws-wafv2-webacl-require-rate-based-rule", "no-rate-rule", setp("waf", "rules.0", DELETE), "waf"),
    Case("aws-wafv2-webacl-require-rate-based-rule", "limit-too-low", setp("waf", "rules.0.statement.rateBasedStatement.limit", 20), "waf"),
    Case("aws-wafv2-webacl-require-rate-based-rule", "limit-above-config", lambda s: None, "waf",
         config={"aws-wafv2-webacl-require-rate-based-rule": {"rateLimitMax": 500}}),
    Case("aws-wafv2-webacl-require-rate-based-rule", "count-only", setp("waf", "rules.0.action", {"count": {}}), "waf"),
    Case("aws-wafv2-webacl-require-managed-rule-groups", "no-known-bad-inputs", setp("waf", "rules.1", DELETE), "waf"),
    Case("aws-wafv2-webacl-require-managed-rule-groups", "common-count-only", setp("waf", "rules.2.overrideAction", {"count": {}}), "waf"),
    Case("aws-wafv2-webacl-require-logging", "no-logging", remove("waf-logging"), "waf"),
    Case("aws-wafv2-webacl-enable-cloudwatch-metrics", "acl-metrics-off", setp("waf", "visibilityConfig.cloudwatchMetricsEnabled", False), "waf"),
    Case("aws-wafv2-webacl-enable-cloudwatch-metrics", "rule-metrics-off", setp("waf", "rules.1.visibilityConfig.cloudwatchMetricsEnabled", False), "waf"),
    # ---- ECS
    Case("aws-ecs-taskdefinition-require-non-root-user", "no-user", container(1, "user", DELETE), "task"),
    Case("aws-ecs-taskdefinition-require-non-root-user", "root", container(0, "user", "root"), "task"),
    Case("aws-ecs-taskdefinition-require-non-root-user", "uid-0", container(1, "user", "0:0"), "task"),
    Case("aws-ecs-taskdefinition-require-read-only-root-filesystem", "writable", container(1, "readonlyRootFilesystem", False), "task"),
    Case("aws-ecs-taskdefinition-require-read-only-root-filesystem", "unset", container(0, "readonlyRootFilesystem", DELETE), "task"),
    Case("aws-ecs-taskdefinition-disallow-privileged", "privileged", container(1, "privileged", True), "task"),
    Case("aws-ecs-taskdefinition-disallow-privileged", "host-pid", setp("task", "pidMode", "host"), "task"),
    Case("aws-ecs-taskdefinition-disallow-privileged", "host-ipc", setp("task", "ipcMode", "host"), "task"),
    Case("aws-ecs-taskdefinition-require-log-configuration", "no-logs", container(0, "logConfiguration", DELETE), "task"),
    Case("aws-ecs-taskdefinition-disallow-environment-secrets", "password-name",
         container(1, "environment", [{"name": "DB_PASSWORD", "value": "hunter2"}]), "task"),
    Case("aws-ecs-taskdefinition-disallow-environment-secrets", "access-key-value",
         container(1, "environment", [{"name": "UPSTREAM", "value": "AKIA" + "ABCDEFGHIJKLMNOP"}]), "task"),
    Case("aws-ecs-taskdefinition-disallow-environment-secrets", "password-in-url-under-a-harmless-name",
         container(1, "environment", [{"name": "DATABASE_URL", "value": "postgres://user:" + "pass@host/db"}]), "task"),
    Case("aws-ecs-taskdefinition-disallow-environment-secrets", "jwt-value",
         container(0, "environment", [{"name": "UPSTREAM_HEADER", "value": "Bearer ey" + "JhbGciOiJIUzI1NiJ9.ey" + "JzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"}]), "task"),
    Case("aws-ecs-taskdefinition-require-health-check", "no-health-check", container(1, "healthCheck", DELETE), "task"),
    Case("aws-ecs-taskdefinition-require-memory-limit", "container-without-memory", container(1, "memory", DELETE), "task"),
    Case("aws-ecs-taskdefinition-require-memory-limit", "reservation-only",
         both(container(0, "memory", DELETE), container(0, "memoryReservation", 256)), "task"),
    Case("aws-ecs-taskdefinition-require-memory-limit", "zero", container(1, "memory", 0), "task"),
    Case("aws-ecs-taskdefinition-require-separate-execution-role", "same-role", setp("task", "taskRoleArn", EXEC_ROLE_ARN), "task"),
    Case("aws-ecs-taskdefinition-require-encrypted-log-group", "unmanaged-group",
         container(1, "logConfiguration", {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/elsewhere"}}), "task"),
    Case("aws-ecs-taskdefinition-require-encrypted-log-group", "group-unencrypted", setp("logs", "kmsKeyId", DELETE), "task",
         also={"aws-cloudwatch-loggroup-require-kms-encryption"}),
    Case("aws-ecs-service-disallow-public-ip", "public-ip", setp("svc", "networkConfiguration.assignPublicIp", True), "svc"),
    Case("aws-ecs-service-require-circuit-breaker-rollback", "no-rollback", setp("svc", "deploymentCircuitBreaker.rollback", False), "svc"),
    Case("aws-ecs-service-require-circuit-breaker-rollback", "unset", setp("svc", "deploymentCircuitBreaker", DELETE), "svc"),
    Case("aws-ecs-service-require-alarm-rollback-and-bake", "alarms-off", setp("svc", "alarms.enable", False), "svc"),
    Case("aws-ecs-service-require-alarm-rollback-and-bake", "alarms-do-not-roll-back", setp("svc", "alarms.rollback", False), "svc"),
    Case("aws-ecs-service-require-alarm-rollback-and-bake", "no-alarm-named", setp("svc", "alarms.alarmNames", []), "svc"),
    Case("aws-ecs-service-require-alarm-rollback-and-bake", "alarms-unset", setp("svc", "alarms", DELETE), "svc"),
    Case("aws-ecs-service-require-alarm-rollback-and-bake", "rolling", setp("svc", "deploymentConfiguration.strategy", "ROLLING"), "svc"),
    Case("aws-ecs-service-require-alarm-rollback-and-bake", "strategy-unset", setp("svc", "deploymentConfiguration", DELETE), "svc"),
    Case("aws-ecs-service-require-alarm-rollback-and-bake", "short-bake", setp("svc", "deploymentConfiguration.bakeTimeInMinutes", "9"), "svc"),
    Case("aws-ecs-service-require-alarm-rollback-and-bake", "bake-unset", setp("svc", "deploymentConfiguration.bakeTimeInMinutes", DELETE), "svc"),
    Case("aws-ecs-service-configure-fargate-platform-version", "old", setp("svc", "platformVersion", "1.3.0"), "svc"),
    Case("aws-ecs-cluster-enable-container-insights", "disabled", setp("cluster", "settings.0.value", "disabled"), "cluster"),
    Case("aws-ecs-cluster-enable-container-insights", "unset", setp("cluster", "settings", DELETE), "cluster"),
    Case("aws-ecs-service-require-load-balancer-only-ingress", "cidr-source",
         both(setp("app-from-alb", "referencedSecurityGroupId", DELETE), setp("app-from-alb", "cidrIpv4", "10.0.0.0/16")), "svc"),
    Case("aws-ecs-service-require-load-balancer-only-ingress", "other-group",
         setp("app-from-alb", "referencedSecurityGroupId", "sg-endpoints"), "svc",
         also={"aws-ecs-service-require-load-balancer-path"}),  # the ALB's only way in is gone too
    Case("aws-ecs-service-require-load-balancer-only-ingress", "inline-prefix-list",
         setp("app-sg", "ingress", [{"protocol": "tcp", "fromPort": 8443, "toPort": 8443, "description": "office",
                                     "prefixListIds": ["pl-0123"]}]), "svc"),
    Case("aws-ecs-service-require-load-balancer-only-ingress", "inline-self",
         setp("app-sg", "ingress", [{"protocol": "tcp", "fromPort": 8443, "toPort": 8443, "self": True,
                                     "description": "task to task"}]), "svc"),
    Case("aws-ecs-service-require-load-balancer-only-ingress", "security-group-rule-from-other-group",
         add({"type": "aws:ec2/securityGroupRule:SecurityGroupRule", "name": "app-from-endpoints",
              "props": {"type": "ingress", "securityGroupId": "sg-app", "sourceSecurityGroupId": "sg-endpoints",
                        "protocol": "tcp", "fromPort": 8443, "toPort": 8443, "description": "from endpoints"}}), "svc"),
    Case("aws-ecs-service-require-min-task-count", "one-task", setp("svc", "desiredCount", 1), "svc"),
    Case("aws-ecs-service-require-min-task-count", "scales-to-one", setp("svc-scaling", "minCapacity", 1), "svc-scaling"),
    Case("aws-ecs-service-require-min-task-count", "configured-dev-minimum", lambda s: None, "svc",
         config={"aws-ecs-service-require-min-task-count": {"minTaskCount": 3}}, stack_name="dev"),
    # ---- ECR
    Case("aws-ecr-repository-require-scan-on-push", "off", setp("repo", "imageScanningConfiguration.scanOnPush", False), "repo"),
    Case("aws-ecr-repository-require-scan-on-push", "unset", setp("repo", "imageScanningConfiguration", DELETE), "repo"),
    Case("aws-ecr-repository-require-immutable-tags", "mutable", setp("repo", "imageTagMutability", "MUTABLE"), "repo"),
    Case("aws-ecr-repository-require-kms-encryption", "aes", setp("repo", "encryptionConfigurations.0.encryptionType", "AES256"), "repo"),
    Case("aws-ecr-repository-require-kms-encryption", "unset", setp("repo", "encryptionConfigurations", DELETE), "repo"),
    Case("aws-ecr-repository-require-lifecycle-policy", "none", remove("repo-lifecycle"), "repo"),
    Case("aws-ecr-repositorypolicy-disallow-public", "public",
         setp("repo-policy", "policy", doc({"Effect": "Allow", "Principal": "*", "Action": "ecr:*"})), "repo-policy"),
    Case("aws-ecr-repositorypolicy-disallow-public", "public-aws-star",
         setp("repo-policy", "policy", doc({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "ecr:BatchGetImage"})), "repo-policy"),
    # ---- logs and alarms
    Case("aws-cloudwatch-loggroup-require-retention", "30-days", setp("logs", "retentionInDays", 30), "logs"),
    Case("aws-cloudwatch-loggroup-require-retention", "unset", setp("waf-logs", "retentionInDays", DELETE), "waf-logs"),
    Case("aws-cloudwatch-loggroup-require-retention", "below-configured", lambda s: None, "logs",
         config={"aws-cloudwatch-loggroup-require-retention": {"minLogRetentionDays": 400}}),
    Case("aws-cloudwatch-loggroup-require-kms-encryption", "unencrypted", setp("waf-logs", "kmsKeyId", DELETE), "waf-logs"),
    Case("aws-cloudwatch-metricalarm-require-actions", "no-actions", setp("alarm-5xx", "alarmActions", []), "alarm-5xx"),
    Case("aws-cloudwatch-metricalarm-require-actions", "disabled", setp("alarm-5xx", "actionsEnabled", False), "alarm-5xx"),
    Case("aws-cloudwatch-metricalarm-require-subscribed-topic", "no-subscription", remove("alerts-oncall"), "alarm-5xx"),
    Case("aws-cloudwatch-metricalarm-require-subscribed-topic", "subscribed-elsewhere",
         setp("alerts-oncall", "topic", "arn:aws:sns:eu-west-1:123456789012:other"), "alarm-5xx"),
    # ---- S3
    Case("aws-s3-bucket-require-encryption", "no-config", remove("alb-logs-sse"), "alb-logs"),
    Case("aws-s3-bucket-require-encryption", "no-algorithm", setp("alb-logs-sse", "rules", []), "alb-logs"),
    Case("aws-s3-bucket-require-public-access-block", "none", remove("alb-logs-pab"), "alb-logs"),
    Case("aws-s3-bucket-require-public-access-block", "one-off", setp("alb-logs-pab", "restrictPublicBuckets", False), "alb-logs"),
    Case("aws-s3-bucket-require-tls-requests-only", "no-policy", remove("alb-logs-policy"), "alb-logs"),
    Case("aws-s3-bucket-require-tls-requests-only", "no-deny", setp("alb-logs-policy", "policy", doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::156460612806:root"}, "Action": "s3:PutObject", "Resource": "*"})), "alb-logs"),
    Case("aws-s3-bucket-enable-versioning", "suspended", setp("alb-logs-versioning", "versioningConfiguration.status", "Suspended"), "alb-logs"),
    Case("aws-s3-bucket-enable-versioning", "none", remove("alb-logs-versioning"), "alb-logs"),
    # ---- KMS, network, secrets, IAM
    Case("aws-kms-key-enable-rotation", "off", setp("kms", "enableKeyRotation", False), "kms"),
    Case("aws-ec2-securitygroup-disallow-public-ingress", "ssh-open",
         setp("app-sg", "ingress", [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"], "description": "ssh"}]), "app-sg",
         also={"aws-ecs-service-require-load-balancer-only-ingress"}),
    Case("aws-ec2-securitygroup-disallow-public-ingress", "https-open-on-task-group",
         setp("app-from-alb", "cidrIpv4", "0.0.0.0/0"), "app-from-alb",
         also={"aws-ecs-service-require-load-balancer-only-ingress"}),
    Case("aws-ec2-securitygroup-disallow-public-ingress", "alb-extra-port",
         setp("alb-sg", "ingress.1.fromPort", 8080), "alb-sg"),
    Case("aws-ec2-securitygroup-disallow-public-ingress", "alb-open-8080",
         both(setp("alb-sg", "ingress.1.fromPort", 8080), setp("alb-sg", "ingress.1.toPort", 8080)), "alb-sg"),
    Case("aws-ec2-securitygroup-disallow-public-ingress", "ipv6-all-traffic",
         setp("alb-sg", "ingress.0", {"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"], "description": "all"}), "alb-sg"),
    Case("aws-ec2-securitygroup-require-rule-descriptions", "inline", setp("alb-sg", "ingress.0.description", DELETE), "alb-sg"),
    Case("aws-ec2-securitygroup-require-rule-descriptions", "standalone", setp("app-from-alb", "description", ""), "app-from-alb"),
    Case("aws-secretsmanager-secret-require-cmk", "default-key", setp("tls-key", "kmsKeyId", DELETE), "tls-key"),
    Case("aws-secretsmanager-secret-require-cmk", "aws-alias", setp("tls-key", "kmsKeyId", "alias/aws/secretsmanager"), "tls-key"),
    Case("aws-iam-policy-disallow-admin-access", "role-policy",
         setp("task-role-policy", "policy", doc({"Effect": "Allow", "Action": "*", "Resource": "*"})), "task-role-policy"),
    Case("aws-iam-policy-disallow-admin-access", "inline",
         setp("exec-role", "inlinePolicies.0.policy", doc({"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]})), "exec-role"),
    Case("aws-iam-policy-disallow-admin-access", "managed",
         setp("exec-policy", "policy", doc({"Effect": "Allow", "Action": "*", "Resource": "*"})), "exec-policy"),
    Case("aws-iam-policy-disallow-admin-access", "admin-attachment",
         setp("exec-role-managed", "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"), "exec-role-managed"),
    Case("aws-iam-policy-disallow-admin-access", "admin-managed-arn",
         setp("task-role", "managedPolicyArns", ["arn:aws:iam::aws:policy/AdministratorAccess"]), "task-role"),
    # ---- controls peers check (SOC2.md's added rows)
    Case("aws-sns-topic-require-kms-encryption", "no-key", setp("alerts", "kmsMasterKeyId", DELETE), "alerts"),
    Case("aws-sns-topic-require-kms-encryption", "empty-key", setp("alerts", "kmsMasterKeyId", ""), "alerts"),
    Case("aws-ec2-vpc-require-flow-logs", "no-flow-log", remove("flow-log"), "vpc"),
    Case("aws-ec2-vpc-require-flow-logs", "flow-log-on-another-vpc", setp("flow-log", "vpcId", "vpc-other"), "vpc"),
    Case("aws-ec2-subnet-disallow-public-ip-on-launch", "true", setp("subnet-a", "mapPublicIpOnLaunch", True), "subnet-a"),
    Case("aws-ec2-subnet-disallow-public-ip-on-launch", "string-true", setp("subnet-b", "mapPublicIpOnLaunch", "true"), "subnet-b"),
    Case("aws-ec2-defaultsecuritygroup-require-no-rules", "ingress",
         setp("default-sg", "ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]), "default-sg"),
    Case("aws-ec2-defaultsecuritygroup-require-no-rules", "egress",
         setp("default-sg", "egress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]), "default-sg"),
    Case("aws-ec2-defaultsecuritygroup-require-no-rules", "not-adopted", remove("default-sg"), "vpc"),
    Case("aws-ecs-taskdefinition-require-awsvpc-network-mode", "bridge", setp("task", "networkMode", "bridge"), "task"),
    Case("aws-ecs-taskdefinition-require-awsvpc-network-mode", "unset", setp("task", "networkMode", DELETE), "task"),
    Case("aws-lb-loadbalancer-require-multiple-azs", "one-subnet", setp("alb", "subnets", ["subnet-a"]), "alb"),
    Case("aws-lb-loadbalancer-require-multiple-azs", "same-subnet-twice", setp("alb", "subnets", ["subnet-a", "subnet-a"]), "alb"),
    Case("aws-lb-loadbalancer-require-multiple-azs", "one-mapping",
         both(setp("alb", "subnets", DELETE), setp("alb", "subnetMappings", [{"subnetId": "subnet-a"}])), "alb"),
    Case("aws-wafv2-webacl-disallow-empty", "no-rules", setp("waf", "rules", []), "waf",
         also={"aws-wafv2-webacl-require-rate-based-rule", "aws-wafv2-webacl-require-managed-rule-groups"}),
    Case("aws-s3-bucket-require-server-access-logging", "none", remove("alb-logs-server-access"), "alb-logs"),
    Case("aws-s3-bucket-require-server-access-logging", "into-itself",
         setp("alb-logs-server-access", "targetBucket", "web-alb-logs"), "alb-logs"),
    Case("aws-s3-bucket-require-server-access-logging", "into-another-audit-bucket",
         # the log bucket also receives WAF logs: no longer dedicated (and now itself an unlogged audit bucket)
         add({"type": "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "name": "waf-s3-logging",
              "props": {"resourceArn": "arn:other-acl", "logDestinationConfigs": ["arn:aws:s3:::web-alb-logs-access"]}}),
         "alb-logs"),
    # Issue 21 item 11: the dedicated log bucket holds no audit logs of the four kinds, but logging it into
    # itself loops all the same (each log write is logged again).
    Case("aws-s3-bucket-require-server-access-logging", "log-bucket-into-itself",
         add({"type": "aws:s3/bucketLogging:BucketLogging", "name": "alb-logs-access-self-logging",
              "props": {"bucket": "web-alb-logs-access", "targetBucket": "web-alb-logs-access", "targetPrefix": "self/"}}),
         "alb-logs-access"),
    Case("aws-s3-bucket-require-server-access-logging", "log-bucket-into-itself-by-arn-inline",
         setp("alb-logs-access", "logging", {"targetBucket": "arn:aws:s3:::web-alb-logs-access", "targetPrefix": "self/"}),
         "alb-logs-access"),
    Case("aws-s3-bucket-enable-versioning", "dedicated-log-bucket", remove("alb-logs-access-versioning"), "alb-logs-access"),
    Case("aws-iam-policy-disallow-privilege-escalation", "pass-any-role",
         setp("task-role-policy", "policy", doc({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})), "task-role-policy"),
    Case("aws-iam-policy-disallow-privilege-escalation", "attach-wildcard-managed",
         setp("exec-policy", "policy", doc({"Effect": "Allow", "Action": ["iam:Attach*"], "Resource": ["*"]})), "exec-policy"),
    Case("aws-iam-policy-disallow-privilege-escalation", "inline-not-action",
         setp("exec-role", "inlinePolicies.0.policy", doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})), "exec-role"),
    Case("aws-cloudwatch-logresourcepolicy-disallow-public", "principal-star",
         setp("logs-delivery", "policyDocument", doc({"Effect": "Allow", "Principal": "*", "Action": "logs:*", "Resource": "*"})),
         "logs-delivery"),
    Case("aws-cloudwatch-logresourcepolicy-disallow-public", "aws-star-with-unscoped-condition",
         setp("logs-delivery", "policyDocument", doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "logs:GetLogEvents",
                                                      "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}})),
         "logs-delivery"),
    # ---- readiness: what the first deploy and request need (one missing permission or path each)
    Case("aws-ecs-taskdefinition-require-image-pull-access", "deny-wins-over-the-managed-allow",
         add(role_policy("exec-deny", {"Effect": "Deny", "Action": "ecr:BatchGetImage",
                                       "Resource": "arn:aws:ecr:*:*:repository/web"})), "task"),
    Case("aws-ecs-taskdefinition-require-image-pull-access", "token-scoped-to-a-repository",
         both(remove("exec-role-managed"), setp("exec-role", "inlinePolicies", []),
              add(role_policy("exec-pull", {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage",
                                                                         "ecr:GetDownloadUrlForLayer",
                                                                         "ecr:BatchCheckLayerAvailability"],
                                            "Resource": "arn:aws:ecr:*:*:repository/web"},
                                  {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}))), "task"),
    Case("aws-ecs-taskdefinition-require-secret-access", "key-of-an-outside-secret-not-stated", remove("db-secret"), "task"),
    # Secrets Manager resolves a partial ARN, but IAM matches the grant against the complete one: AccessDenied
    Case("aws-ecs-taskdefinition-require-secret-access", "outside-secret-by-a-partial-arn",
         outside_secret(DB_SECRET_ARN), "task"),
    Case("aws-ecs-taskdefinition-require-secret-access", "decrypt-only-via-ssm",
         setp("exec-secrets", "policy", doc(EXEC_SECRETS[0], {**EXEC_SECRETS[1], "Condition": {"StringEquals": {
             "kms:ViaService": "ssm.eu-west-1.amazonaws.com"}}})), "task"),
    Case("aws-ecs-taskdefinition-require-secret-access", "no-get-secret-value",
         setp("exec-secrets", "policy", doc(EXEC_SECRETS[1])), "task"),
    Case("aws-ecs-taskdefinition-require-log-write-access", "key-policy-without-logs",
         setp("kms", "policy", doc(KEY_POLICY[0])), "task"),
    Case("aws-ecs-taskdefinition-require-log-write-access", "streams-created-but-events-denied",
         add(role_policy("exec-deny", {"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*"})), "task"),
    Case("aws-ecs-taskdefinition-require-log-write-access", "not-action-deny-on-logs",
         add(role_policy("exec-deny", {"Effect": "Deny", "NotAction": ["ecr:*", "secretsmanager:*", "kms:*"],
                                       "Resource": "*"})), "task"),
    Case("aws-ecs-service-require-aws-api-network-path", "no-https-egress", setp("app-sg", "egress", []), "svc"),
    Case("aws-ecs-service-require-aws-api-network-path", "no-nat-and-no-ecr-endpoints", remove("private-default"), "svc"),
    # subnets of another stack: their routes are unknown, but no egress on 443 at all is a violation still
    Case("aws-ecs-service-require-aws-api-network-path", "subnets-elsewhere-and-no-https-egress",
         both(setp("svc", "networkConfiguration.subnets", ["subnet-elsewhere"]), setp("app-sg", "egress", [])), "svc"),
    Case("aws-ecs-service-require-aws-api-network-path", "logs-endpoint-admits-nothing",
         setp("endpoints-sg", "ingress", []), "svc"),
    # an internet gateway route serves only tasks with a public IP
    Case("aws-ecs-service-require-aws-api-network-path", "internet-gateway-route-without-public-ip",
         both(setp("private-default", "natGatewayId", DELETE), setp("private-default", "gatewayId", "igw-1")), "svc"),
    Case("aws-ecs-service-require-aws-api-network-path", "ecr-endpoints-without-private-dns",
         ecr_endpoints_instead_of_nat(privateDnsEnabled=False), "svc"),
    Case("aws-ecs-service-require-aws-api-network-path", "ecr-endpoints-of-the-gateway-kind",
         ecr_endpoints_instead_of_nat(vpcEndpointType="Gateway"), "svc"),
    Case("aws-ecs-service-require-load-balancer-path", "alb-egress-on-another-port",
         both(setp("alb-sg", "egress.0.fromPort", 9000), setp("alb-sg", "egress.0.toPort", 9000)), "svc"),
    # the tasks run in subnet-a and subnet-b: egress to subnet-a's CIDR alone misses half of them
    Case("aws-ecs-service-require-load-balancer-path", "alb-egress-to-one-of-two-task-subnets",
         setp("alb-sg", "egress.0.cidrBlocks", ["10.0.0.0/20"]), "svc"),
    Case("aws-lb-listenerrule-require-identity-provider-egress", "alb-without-internet-egress",
         setp("alb-sg", "egress.1", DELETE), "admin-sso"),
    # 443 open, but only into the VPC: the identity provider is on the internet
    Case("aws-lb-listenerrule-require-identity-provider-egress", "alb-https-egress-only-into-the-vpc",
         setp("alb-sg", "egress.1.cidrBlocks", ["10.0.0.0/16"]), "admin-sso"),
    Case("aws-config-rule-require-configuration-recorder", "no-recorder", remove("recorder"), "config-rule"),
    Case("aws-config-rule-require-configuration-recorder", "declared-by-a-blank-tag",
         both(remove("recorder"), setp("config-rule", "tags", {"rampart-config-recorder": "  "})), "config-rule"),
    # ---- image
    Case("docker-image-require-dockerfile-controls", "single-stage", single_stage_dockerfile, "image"),
    Case("docker-image-require-dockerfile-controls", "root-user", root_dockerfile, "image"),
    Case("docker-image-require-dockerfile-controls", "target-stage-without-user", setp("image", "build.target", "build"), "image"),
    Case("docker-image-require-dockerfile-controls", "trailing-stage-built-without-target",
         both(trailing_test_stage, setp("image", "build.target", DELETE)), "image"),
]


# Variants that must stay compliant: the near misses of the cases above.
STILL_COMPLIANT = [
    # by its complete ARN (a partial one, without the random suffix, is a case above)
    ("aws-ecs-taskdefinition-require-secret-access", "outside-secret-with-its-key-stated",
     outside_secret(f"{DB_SECRET_ARN}-AbCdEf"), "task"),
    ("aws-ecs-taskdefinition-require-secret-access", "outside-secret-json-key-of-the-complete-arn",
     outside_secret(f"{DB_SECRET_ARN}-AbCdEf:password::"), "task"),
    ("aws-ecs-service-require-aws-api-network-path", "endpoints-instead-of-nat", ecr_endpoints_instead_of_nat(), "svc"),
    ("aws-config-rule-require-configuration-recorder", "recorder-declared-by-tag",
     both(remove("recorder"), setp("config-rule", "tags", {"rampart-config-recorder": "stack:org/platform/prod"})),
     "config-rule"),
    ("aws-sns-topic-require-kms-encryption", "aws-managed-key", setp("alerts", "kmsMasterKeyId", "alias/aws/sns"), "alerts"),
    ("aws-ec2-subnet-disallow-public-ip-on-launch", "string-false", setp("subnet-a", "mapPublicIpOnLaunch", "false"), "subnet-a"),
    ("aws-ec2-defaultsecuritygroup-require-no-rules", "rules-unset",
     both(setp("default-sg", "ingress", DELETE), setp("default-sg", "egress", DELETE)), "default-sg"),
    ("aws-lb-loadbalancer-require-multiple-azs", "two-mappings",
     both(setp("alb", "subnets", DELETE), setp("alb", "subnetMappings", [{"subnetId": "subnet-a"}, {"subnetId": "subnet-b"}])), "alb"),
    ("aws-iam-policy-disallow-privilege-escalation", "pass-one-role",
     setp("task-role-policy", "policy", doc({"Effect": "Allow", "Action": "iam:PassRole", "Resource": TASK_ROLE_ARN})), "task-role-policy"),
    ("aws-iam-policy-disallow-privilege-escalation", "read-only-iam-on-star",
     setp("exec-policy", "policy", doc({"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"})), "exec-policy"),
    ("aws-iam-policy-disallow-privilege-escalation", "deny-statement",
     setp("exec-policy", "policy", doc({"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"})), "exec-policy"),
    ("aws-cloudwatch-logresourcepolicy-disallow-public", "star-limited-to-account",
     setp("logs-delivery", "policyDocument", doc({"Effect": "Allow", "Principal": "*", "Action": "logs:PutLogEvents", "Resource": "*",
                                                  "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}})), "logs-delivery"),
    ("aws-s3-bucket-require-server-access-logging", "log-bucket-exempt", lambda s: None, "alb-logs-access"),
    ("aws-s3-bucket-require-server-access-logging", "log-bucket-into-a-further-bucket",
     add({"type": "aws:s3/bucketLogging:BucketLogging", "name": "alb-logs-access-logging",
          "props": {"bucket": "web-alb-logs-access", "targetBucket": "org-central-access-logs", "targetPrefix": "rampart/"}}),
     "alb-logs-access"),
    ("docker-image-require-dockerfile-controls", "unreached-trailing-stage", trailing_test_stage, "image"),
    ("aws-ecs-taskdefinition-require-memory-limit", "hard-and-soft-limit", container(0, "memoryReservation", 256), "task"),
    ("aws-ecs-taskdefinition-disallow-environment-secrets", "ordinary-values",
     container(1, "environment", [{"name": "DATABASE_URL", "value": "postgres://app:${DB_PASSWORD}@db.internal:5432/shop"},
                                  {"name": "API_BASE", "value": "https://api.example.com/v1"},
                                  {"name": "SECRET_ARN", "value": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"},
                                  {"name": "IMAGE", "value": "web@sha256:" + "c" * 64},
                                  {"name": "REQUEST_ID", "value": "123e4567-e89b-12d3-a456-426614174000"}]), "task"),
]


@pytest.mark.parametrize("policy,name,mutate,resource", STILL_COMPLIANT, ids=[f"{c[0]}[{c[1]}]" for c in STILL_COMPLIANT])
def test_near_miss_stays_compliant(stack: Stack, policy: str, name: str, mutate: Callable[[Stack], None],
                                   resource: str) -> None:
    mutate(stack)
    results = run_all(stack)
    assert fired(results) == set(), f"{policy}[{name}]: {sorted(fired(results))}"
    assert results[(policy, resource)].kind in ("compliant", "not-applicable"), results[(policy, resource)]


def test_baseline_is_compliant(stack: Stack) -> None:
    results = run_all(stack)
    bad = {k: v for k, v in results.items() if v.kind not in ("compliant", "not-applicable")}
    assert not bad, f"baseline resources are not compliant: {bad}"


def test_baseline_exercises_every_policy(stack: Stack) -> None:
    judged = {pid for (pid, _), r in run_all(stack).items() if r.kind == "compliant"}
    assert sorted(set(POLICIES) - judged) == [], "policies the baseline never judged compliant"


def test_every_policy_has_a_failing_case() -> None:
    assert sorted(set(POLICIES) - {c.policy for c in CASES}) == []


@pytest.mark.parametrize("case", CASES, ids=[f"{c.policy}[{c.name}]" for c in CASES])
def test_single_violation_fires_exactly_that_policy(stack: Stack, case: Case) -> None:
    case.mutate(stack)
    results = run_all(stack, case.config, case.stack_name)
    hits = fired(results)
    assert {pid for pid, _ in hits} == {case.policy} | case.also, (
        f"{case.policy}[{case.name}] on {case.resource}: expected only {case.policy} to fire, got {sorted(hits)}")
    assert (case.policy, case.resource) in hits, f"{case.policy} did not name resource {case.resource}: {sorted(hits)}"
    message = results[(case.policy, case.resource)].message  # type: ignore[union-attr]
    assert message.strip(), f"{case.policy} gave an empty violation message"


def test_violation_message_is_what_then_remediation_then_criteria(stack: Stack) -> None:
    find(stack, "logs")["props"]["retentionInDays"] = 30
    from rampart_soc2.model import Violation, context_from_config, evaluate_resource, make_resource

    spec = POLICIES["aws-cloudwatch-loggroup-require-retention"]
    r = find(stack, "logs")
    res = evaluate_resource(spec, make_resource(r["type"], r["name"], r["props"]), context_from_config(spec.id, None))
    assert isinstance(res, Violation)
    text = spec.message(res.message)
    assert text.startswith("log group keeps logs 30 days, less than the required 365.")
    assert "Remediation: Set retentionInDays" in text and text.endswith("SOC 2: CC7.2, C1.2.")


def test_min_task_count_does_not_apply_to_dev_by_default(stack: Stack) -> None:
    find(stack, "svc")["props"]["desiredCount"] = 1
    results = run_all(stack, stack_name="dev")
    assert results[("aws-ecs-service-require-min-task-count", "svc")].kind == "not-applicable"


def test_container_definitions_as_list_are_read_too(stack: Stack) -> None:
    task = find(stack, "task")["props"]
    defs = json.loads(task["containerDefinitions"])
    defs[0]["privileged"] = True
    task["containerDefinitions"] = defs
    assert {p for p, _ in fired(run_all(stack))} == {"aws-ecs-taskdefinition-disallow-privileged"}


def test_invalid_container_json_is_a_violation_not_a_crash(stack: Stack) -> None:
    find(stack, "task")["props"]["containerDefinitions"] = "[{not json"
    hits = {p for p, _ in fired(run_all(stack))}
    assert "aws-ecs-taskdefinition-require-non-root-user" in hits


def test_alb_association_matched_by_property_dependency_when_arn_unknown(stack: Stack) -> None:
    """What `pulumi preview` sends: the ARN is unknown but the engine names the dependency."""
    from policy_fixtures import UNKNOWN_STRING
    from rampart_soc2.model import context_from_config, evaluate_stack, make_resource

    find(stack, "alb")["props"]["arn"] = UNKNOWN_STRING
    find(stack, "waf-assoc")["props"]["resourceArn"] = UNKNOWN_STRING
    resources = []
    for r in stack:
        deps = {"resourceArn": ["urn:pulumi:test::rampart::aws:lb/loadBalancer:LoadBalancer::alb"]} if r["name"] == "waf-assoc" else None
        resources.append(make_resource(r["type"], r["name"], r["props"], property_dependencies=deps))
    spec = POLICIES["aws-lb-loadbalancer-require-waf-association"]
    results = dict(evaluate_stack(spec, resources, context_from_config(spec.id, None)))
    assert [r.kind for r in results.values()] == ["compliant"]
    # a dependency on some other resource does not count
    resources = [make_resource(r["type"], r["name"], r["props"],
                               property_dependencies={"resourceArn": ["urn:pulumi:test::rampart::aws:lb/loadBalancer:LoadBalancer::other"]}
                               if r["name"] == "waf-assoc" else None) for r in stack]
    results = dict(evaluate_stack(spec, resources, context_from_config(spec.id, None)))
    assert [r.kind for r in results.values()] == ["violation"]
    # without the dependency the same plan is unknown, never a violation
    resources = [make_resource(r["type"], r["name"], r["props"]) for r in stack]
    results = dict(evaluate_stack(spec, resources, context_from_config(spec.id, None)))
    assert [r.kind for r in results.values()] == ["unknown"]


# ---- listener rules and service groups: relationships as preview sends them, and what the stack cannot show

LISTENER_URN = "urn:pulumi:test::rampart::aws:lb/listener:Listener::{}"


def _judge(stack: Stack, policy: str, deps: dict[str, dict[str, list[str]]] | None = None) -> dict[str, str]:
    """{resource name: outcome kind} of one stack policy, with property dependencies per resource name."""
    from rampart_soc2.model import context_from_config, evaluate_stack, make_resource

    resources = [make_resource(r["type"], r["name"], r["props"], property_dependencies=(deps or {}).get(r["name"]))
                 for r in stack]
    names = {r.urn: r.name for r in resources}
    spec = POLICIES[policy]
    return {names[urn]: res.kind for urn, res in evaluate_stack(spec, resources, context_from_config(spec.id, None))}


def test_listener_rule_matched_by_property_dependency_when_arns_unknown(stack: Stack) -> None:
    """At preview the listener's ARN is unknown; the engine names the listener in the rule's dependencies."""
    from policy_fixtures import UNKNOWN_STRING

    for name in ("admin-sso", "ops-allow", "ops-deny"):  # the private rules are judged elsewhere
        stack.remove(find(stack, name))
    for name in ("http", "https", "web-rule", "api-rule", "http-rule"):
        find(stack, name)["props"]["arn" if name in ("http", "https") else "listenerArn"] = UNKNOWN_STRING
    pid = "aws-lb-listenerrule-disallow-http-forwarding"
    on = {"web-rule": {"listenerArn": [LISTENER_URN.format("https")]},
          "api-rule": {"listenerArn": [LISTENER_URN.format("https")]},
          "http-rule": {"listenerArn": [LISTENER_URN.format("http")]}}
    assert _judge(stack, pid, on) == {"web-rule": "compliant", "api-rule": "compliant", "http-rule": "compliant"}
    # the same forwarding rule, attached by its dependency to the HTTP listener, is a violation
    moved = {**on, "web-rule": {"listenerArn": [LISTENER_URN.format("http")]}}
    assert _judge(stack, pid, moved)["web-rule"] == "violation"
    # without dependencies nothing can be told: unknown, never compliant
    assert set(_judge(stack, pid).values()) == {"unknown"}
    # priorities: web-rule (10) and http-rule (10) sit on different listeners; on one listener they collide
    uniq = "aws-lb-listenerrule-require-unique-priority"
    assert set(_judge(stack, uniq, on).values()) == {"compliant"}
    assert _judge(stack, uniq, moved) == {"web-rule": "violation", "api-rule": "compliant", "http-rule": "violation"}
    assert set(_judge(stack, uniq).values()) == {"unknown"}


def test_listener_of_another_stack(stack: Stack) -> None:
    """A services-only stack: the listener lives in the environment's stack."""
    elsewhere = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shared/1/443"
    for name in ("web-rule", "api-rule"):
        find(stack, name)["props"]["listenerArn"] = elsewhere
    # its protocol cannot be read here: unknown, not a pass
    assert _judge(stack, "aws-lb-listenerrule-disallow-http-forwarding")["web-rule"] == "unknown"
    # but two rules on it with one priority still collide, named by the ARN
    find(stack, "api-rule")["props"]["priority"] = 10
    from rampart_soc2.model import context_from_config, evaluate_stack, make_resource

    spec = POLICIES["aws-lb-listenerrule-require-unique-priority"]
    results = dict(evaluate_stack(spec, [make_resource(r["type"], r["name"], r["props"]) for r in stack],
                                  context_from_config(spec.id, None)))
    message = results["urn:pulumi:test::rampart::aws:lb/listenerRule:ListenerRule::web-rule"].message  # type: ignore[union-attr]
    assert "'web-rule' and 'api-rule'" in message and elsewhere in message, message


def test_unknown_priority_elsewhere_on_the_listener_is_unknown_not_compliant(stack: Stack) -> None:
    from policy_fixtures import UNKNOWN_STRING

    find(stack, "api-rule")["props"]["priority"] = UNKNOWN_STRING
    got = _judge(stack, "aws-lb-listenerrule-require-unique-priority")
    private = {name: "unknown" for name in ("admin-sso", "ops-allow", "ops-deny")}  # the same HTTPS listener
    assert got == {"web-rule": "unknown", "api-rule": "unknown", "http-rule": "compliant", **private}


def test_rule_without_priority_never_collides(stack: Stack) -> None:
    del find(stack, "api-rule")["props"]["priority"]
    got = _judge(stack, "aws-lb-listenerrule-require-unique-priority")
    private = {name: "compliant" for name in ("admin-sso", "ops-allow", "ops-deny")}
    assert got == {"web-rule": "compliant", "api-rule": "not-applicable", "http-rule": "compliant", **private}


def test_service_group_sources_outside_the_stack_are_unknown(stack: Stack) -> None:
    pid = "aws-ecs-service-require-load-balancer-only-ingress"
    # the source group is another stack's (say, the shared environment's ALB group given by id)
    find(stack, "app-from-alb")["props"]["referencedSecurityGroupId"] = "sg-0123456789abcdef0"
    assert _judge(stack, pid) == {"svc": "unknown"}
    # and a service group that is not in the stack cannot be read
    find(stack, "app-from-alb")["props"]["referencedSecurityGroupId"] = "sg-alb"
    find(stack, "svc")["props"]["networkConfiguration"]["securityGroups"] = ["sg-app", "sg-elsewhere"]
    assert _judge(stack, pid) == {"svc": "unknown"}


def test_service_group_matched_by_property_dependency_when_ids_unknown(stack: Stack) -> None:
    from policy_fixtures import UNKNOWN_STRING

    sg = "urn:pulumi:test::rampart::aws:ec2/securityGroup:SecurityGroup::{}"
    find(stack, "svc")["props"]["networkConfiguration"]["securityGroups"] = [UNKNOWN_STRING]
    for name in ("app-sg", "alb-sg", "endpoints-sg"):
        find(stack, name)["props"]["id"] = UNKNOWN_STRING
    find(stack, "alb")["props"]["securityGroups"] = [UNKNOWN_STRING]
    rule = find(stack, "app-from-alb")["props"]
    rule["securityGroupId"] = rule["referencedSecurityGroupId"] = UNKNOWN_STRING
    deps = {"svc": {"networkConfiguration": [sg.format("app-sg"), "urn:pulumi:test::rampart::aws:ec2/subnet:Subnet::c"]},
            "alb": {"securityGroups": [sg.format("alb-sg")]},
            "app-from-alb": {"securityGroupId": [sg.format("app-sg")], "referencedSecurityGroupId": [sg.format("alb-sg")]}}
    pid = "aws-ecs-service-require-load-balancer-only-ingress"
    assert _judge(stack, pid, deps) == {"svc": "compliant"}
    deps["app-from-alb"]["referencedSecurityGroupId"] = [sg.format("endpoints-sg")]
    assert _judge(stack, pid, deps) == {"svc": "violation"}
    assert _judge(stack, pid) == {"svc": "unknown"}


def test_unknown_listener_arn_is_not_reported_as_another_stacks_listener(stack: Stack) -> None:
    from policy_fixtures import UNKNOWN_STRING
    from rampart_soc2.model import context_from_config, evaluate_stack, make_resource

    find(stack, "web-rule")["props"]["listenerArn"] = UNKNOWN_STRING
    spec = POLICIES["aws-lb-listenerrule-disallow-http-forwarding"]
    results = dict(evaluate_stack(spec, [make_resource(r["type"], r["name"], r["props"]) for r in stack],
                                  context_from_config(spec.id, None)))
    unknown = results["urn:pulumi:test::rampart::aws:lb/listenerRule:ListenerRule::web-rule"]
    assert unknown.kind == "unknown" and unknown.path == "listenerArn", unknown  # type: ignore[union-attr]
