"""A fully compliant baseline stack (engine-shaped properties) and helpers to run every policy on it.

Each resource is a dict {type, name, props}; props are what the engine sends (camelCase provider
names, containerDefinitions and policy documents as JSON strings) merged with the outputs the
relationship policies match on (id, arn). Tests copy the baseline and change one property.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Callable

PACK_DIR = Path(__file__).resolve().parents[2] / "policy" / "soc2"
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))

from rampart_soc2.model import Result, context_from_config, evaluate_resource, evaluate_stack, make_resource  # noqa: E402
from rampart_soc2.registry import POLICIES  # noqa: E402

ACCOUNT = "123456789012"
REGION = "eu-west-1"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
KMS_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188"
TG_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/73e2d6bc24d8a067"
HTTP_LISTENER_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web/50dc6c495c0c9188/80aa"
HTTPS_LISTENER_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web/50dc6c495c0c9188/443b"
WAF_ARN = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/web/a1b2c3d4"
EXEC_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/web-execution"
TASK_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/web-task"
DIGEST = "sha256:" + "a" * 64

COMPLIANT_DOCKERFILE = f"""ARG BASE=node:20-bookworm-slim@{DIGEST}
FROM ${{BASE}} AS build
WORKDIR /src
COPY package.json ./
RUN npm ci
FROM ${{BASE}} AS runtime
COPY --from=build /src /app
USER 10001:10001
HEALTHCHECK CMD ["node", "/app/healthcheck.js"]
CMD ["node", "/app/server.js"]
"""


def container(name: str, user: str, port: int) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web@{DIGEST}",
        "essential": True,
        "user": user,
        "readonlyRootFilesystem": True,
        "privileged": False,
        "memory": 512,
        "portMappings": [{"containerPort": port, "protocol": "tcp"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/web", "awslogs-region": REGION, "awslogs-stream-prefix": name}},
        "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DATABASE_SECRET_ARN", "value": "arn:x"}],
        "secrets": [{"name": "DATABASE_URL", "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"}],
        "healthCheck": {"command": ["CMD", "/bin/healthcheck"], "interval": 15, "timeout": 5, "retries": 3},
    }


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


TLS_DENY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::web-alb-logs", "arn:aws:s3:::web-alb-logs/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
ELB_WRITE = {"Sid": "ElbWrite", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::156460612806:root"},
             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::web-alb-logs/*"}

S3_LOG_WRITE = {"Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject", "Resource": "arn:aws:s3:::web-alb-logs-access/s3-access/*",
                "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::web-alb-logs"}}}


#: The key policy: the account's IAM principals, and CloudWatch Logs for this region's log groups.
KEY_POLICY = (
    {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
     "Resource": "*"},
    {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
     "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
     "Resource": "*",
     "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"}}},
)
DB_SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"
#: The execution role's secret statements (ECR pulls and log writes come from the AWS managed policy).
EXEC_SECRETS = (
    {"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": DB_SECRET_ARN},
    {"Sid": "DecryptViaSecretsManager", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS_ARN,
     "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}},
)


def readiness_baseline(R: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """What the first deploy needs beyond the controls: the tasks' way out, the secret they read, the recorder."""
    return [
        R("aws:ec2/routeTable:RouteTable", "private-rt", vpcId="vpc-1", id="rtb-private"),
        R("aws:ec2/routeTableAssociation:RouteTableAssociation", "private-rta-a", subnetId="subnet-a",
          routeTableId="rtb-private"),
        R("aws:ec2/routeTableAssociation:RouteTableAssociation", "private-rta-b", subnetId="subnet-b",
          routeTableId="rtb-private"),
        R("aws:ec2/route:Route", "private-default", routeTableId="rtb-private", destinationCidrBlock="0.0.0.0/0",
          natGatewayId="nat-1"),
        R("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoint-s3", vpcId="vpc-1", vpcEndpointType="Gateway",
          serviceName=f"com.amazonaws.{REGION}.s3", routeTableIds=["rtb-private"]),
        R("aws:ec2/vpcEndpoint:VpcEndpoint", "endpoint-logs", vpcId="vpc-1", vpcEndpointType="Interface",
          serviceName=f"com.amazonaws.{REGION}.logs", privateDnsEnabled=True, subnetIds=["subnet-a", "subnet-b"],
          securityGroupIds=["sg-endpoints"]),
        R("aws:secretsmanager/secret:Secret", "db-secret", kmsKeyId=KMS_ARN, name="db", arn=DB_SECRET_ARN),
        R("aws:iam/rolePolicy:RolePolicy", "exec-secrets", role="web-execution", policy=doc(*EXEC_SECRETS)),
        R("aws:cfg/recorder:Recorder", "recorder", roleArn=f"arn:aws:iam::{ACCOUNT}:role/config-recorder"),
        R("aws:cfg/rule:Rule", "config-rule", source={"owner": "AWS", "sourceIdentifier": "ECS_NO_ENVIRONMENT_SECRETS"}),
    ]


def baseline(dockerfile_dir: Path) -> list[dict[str, Any]]:
    """Every resource type the pack checks, each fully compliant."""
    R = lambda t, n, **p: {"type": t, "name": n, "props": p}  # noqa: E731
    return [
        R("aws:kms/key:Key", "kms", enableKeyRotation=True, arn=KMS_ARN, id="1234abcd", policy=doc(*KEY_POLICY)),
        R("aws:cloudwatch/logGroup:LogGroup", "logs", name="/ecs/web", retentionInDays=365, kmsKeyId=KMS_ARN,
          arn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/web"),
        R("aws:cloudwatch/logGroup:LogGroup", "waf-logs", name="aws-waf-logs-web", retentionInDays=400,
          kmsKeyId=KMS_ARN, arn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-waf-logs-web"),
        R("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm-5xx", actionsEnabled=True,
          alarmActions=[f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"], metricName="HTTPCode_Target_5XX_Count"),
        R("aws:sns/topic:Topic", "alerts", kmsMasterKeyId=KMS_ARN, arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts",
          id=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"),
        R("aws:sns/topicSubscription:TopicSubscription", "alerts-oncall", topic=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts",
          protocol="email", endpoint="oncall@example.com"),
        R("aws:s3/bucket:Bucket", "alb-logs", bucket="web-alb-logs", id="web-alb-logs", arn="arn:aws:s3:::web-alb-logs"),
        R("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "alb-logs-sse",
          bucket="web-alb-logs", rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]),
        R("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "alb-logs-pab", bucket="web-alb-logs",
          blockPublicAcls=True, blockPublicPolicy=True, ignorePublicAcls=True, restrictPublicBuckets=True),
        R("aws:s3/bucketPolicy:BucketPolicy", "alb-logs-policy", bucket="web-alb-logs", policy=doc(TLS_DENY, ELB_WRITE)),
        R("aws:s3/bucketVersioning:BucketVersioning", "alb-logs-versioning", bucket="web-alb-logs",
          versioningConfiguration={"status": "Enabled"}),
        # The dedicated bucket that receives the ALB log bucket's server access logs (logs nowhere itself).
        R("aws:s3/bucket:Bucket", "alb-logs-access", bucket="web-alb-logs-access", id="web-alb-logs-access",
          arn="arn:aws:s3:::web-alb-logs-access"),
        R("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "alb-logs-access-sse",
          bucket="web-alb-logs-access", rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]),
        R("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "alb-logs-access-pab", bucket="web-alb-logs-access",
          blockPublicAcls=True, blockPublicPolicy=True, ignorePublicAcls=True, restrictPublicBuckets=True),
        R("aws:s3/bucketPolicy:BucketPolicy", "alb-logs-access-policy", bucket="web-alb-logs-access",
          policy=doc(TLS_DENY, S3_LOG_WRITE)),
        R("aws:s3/bucketVersioning:BucketVersioning", "alb-logs-access-versioning", bucket="web-alb-logs-access",
          versioningConfiguration={"status": "Enabled"}),
        R("aws:s3/bucketLogging:BucketLogging", "alb-logs-server-access", bucket="web-alb-logs",
          targetBucket="web-alb-logs-access", targetPrefix="s3-access/"),
        R("aws:ec2/vpc:Vpc", "vpc", cidrBlock="10.0.0.0/16", id="vpc-1"),
        R("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default-sg", vpcId="vpc-1", ingress=[], egress=[]),
        R("aws:ec2/flowLog:FlowLog", "flow-log", vpcId="vpc-1", trafficType="ALL", logDestinationType="cloud-watch-logs",
          logDestination=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/vpc/flow"),
        R("aws:ec2/subnet:Subnet", "subnet-a", vpcId="vpc-1", cidrBlock="10.0.0.0/20", id="subnet-a",
          availabilityZone=f"{REGION}a", mapPublicIpOnLaunch=False),
        R("aws:ec2/subnet:Subnet", "subnet-b", vpcId="vpc-1", cidrBlock="10.0.16.0/20", id="subnet-b",
          availabilityZone=f"{REGION}b"),
        R("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "logs-delivery", policyName="delivery",
          policyDocument=doc({"Sid": "Delivery", "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
                              "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                              "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-waf-logs-web:*",
                              "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})),
        R("aws:ec2/securityGroup:SecurityGroup", "alb-sg", id="sg-alb", description="ALB",
          ingress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"],
                    "ipv6CidrBlocks": ["::/0"], "description": "HTTPS from the internet"},
                   {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"],
                    "description": "HTTP, redirected to HTTPS"}],
          egress=[{"protocol": "tcp", "fromPort": 8443, "toPort": 8443, "cidrBlocks": ["10.0.0.0/16"],
                   "description": "to the tasks"},
                  {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"],
                   "description": "OIDC sign-in: the identity provider's token and user-info endpoints"}]),
        R("aws:ec2/securityGroup:SecurityGroup", "app-sg", id="sg-app", description="tasks",
          egress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"],
                   "description": "AWS APIs over HTTPS"}]),
        R("aws:ec2/securityGroup:SecurityGroup", "endpoints-sg", id="sg-endpoints", description="VPC endpoints",
          ingress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/16"],
                    "description": "HTTPS to AWS APIs from the VPC"}]),
        R("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "app-from-alb", securityGroupId="sg-app",
          referencedSecurityGroupId="sg-alb", ipProtocol="tcp", fromPort=8443, toPort=8443,
          description="HTTPS from the ALB only"),
        R("aws:lb/loadBalancer:LoadBalancer", "alb", loadBalancerType="application", internal=False,
          securityGroups=["sg-alb"], subnets=["subnet-a", "subnet-b"], dropInvalidHeaderFields=True,
          accessLogs={"bucket": "web-alb-logs", "enabled": True, "prefix": "alb"}, enableDeletionProtection=True,
          desyncMitigationMode="defensive", arn=ALB_ARN, id=ALB_ARN),
        R("aws:lb/listener:Listener", "http", loadBalancerArn=ALB_ARN, port=80, protocol="HTTP", arn=HTTP_LISTENER_ARN,
          defaultActions=[{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]),
        R("aws:lb/listener:Listener", "https", loadBalancerArn=ALB_ARN, port=443, protocol="HTTPS", arn=HTTPS_LISTENER_ARN,
          sslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
          certificateArn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/abc",
          defaultActions=[{"type": "forward", "targetGroupArn": TG_ARN}]),
        # one service's routes on the HTTPS listener; the same priority on the HTTP listener is another slot
        R("aws:lb/listenerRule:ListenerRule", "web-rule", listenerArn=HTTPS_LISTENER_ARN, priority=10,
          actions=[{"type": "forward", "targetGroupArn": TG_ARN}],
          conditions=[{"hostHeader": {"values": ["app.example.com"]}}, {"pathPattern": {"values": ["/*"]}}]),
        R("aws:lb/listenerRule:ListenerRule", "api-rule", listenerArn=HTTPS_LISTENER_ARN, priority=20,
          actions=[{"type": "forward", "targetGroupArn": TG_ARN}],
          conditions=[{"hostHeader": {"values": ["app.example.com"]}}, {"pathPattern": {"values": ["/api/*"]}}]),
        # private paths: /admin/* behind OIDC sign-in; /ops/* only from one network, 403 for everyone else
        R("aws:lb/listenerRule:ListenerRule", "admin-sso", listenerArn=HTTPS_LISTENER_ARN, priority=6,
          tags={"rampart-private-route": "true"},
          actions=[{"type": "authenticate-oidc", "order": 1, "authenticateOidc": {
                        "issuer": "https://idp.example.com", "authorizationEndpoint": "https://idp.example.com/auth",
                        "tokenEndpoint": "https://idp.example.com/token",
                        "userInfoEndpoint": "https://idp.example.com/userinfo", "clientId": "rampart",
                        "clientSecret": {**SECRET_SIG, "value": "not-a-real-client-secret"},
                        "onUnauthenticatedRequest": "authenticate"}},
                   {"type": "forward", "order": 2, "targetGroupArn": TG_ARN}],
          conditions=[{"hostHeader": {"values": ["app.example.com"]}}, {"pathPattern": {"values": ["/admin/*"]}}]),
        R("aws:lb/listenerRule:ListenerRule", "ops-allow", listenerArn=HTTPS_LISTENER_ARN, priority=7,
          tags={"rampart-private-route": "true"},
          actions=[{"type": "forward", "targetGroupArn": TG_ARN}],
          conditions=[{"hostHeader": {"values": ["app.example.com"]}}, {"pathPattern": {"values": ["/ops/*"]}},
                      {"sourceIp": {"values": ["198.51.100.0/24"]}}]),
        R("aws:lb/listenerRule:ListenerRule", "ops-deny", listenerArn=HTTPS_LISTENER_ARN, priority=8,
          tags={"rampart-private-route": "true"},
          actions=[{"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "403"}}],
          conditions=[{"hostHeader": {"values": ["app.example.com"]}}, {"pathPattern": {"values": ["/ops/*"]}}]),
        R("aws:lb/listenerRule:ListenerRule", "http-rule", listenerArn=HTTP_LISTENER_ARN, priority=10,
          actions=[{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}],
          conditions=[{"hostHeader": {"values": ["app.example.com"]}}]),
        R("aws:lb/targetGroup:TargetGroup", "tg", port=8443, protocol="HTTPS", targetType="ip", arn=TG_ARN,
          healthCheck={"enabled": True, "path": "/healthz", "protocol": "HTTPS", "matcher": "200"}),
        R("aws:wafv2/webAcl:WebAcl", "waf", scope="REGIONAL", arn=WAF_ARN, defaultAction={"allow": {}},
          visibilityConfig={"cloudwatchMetricsEnabled": True, "metricName": "web", "sampledRequestsEnabled": True},
          rules=[
              {"name": "rate-limit", "priority": 0, "action": {"block": {}},
               "statement": {"rateBasedStatement": {"limit": 1000, "aggregateKeyType": "IP"}},
               "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": "rate", "sampledRequestsEnabled": True}},
              {"name": "known-bad-inputs", "priority": 1, "overrideAction": {"none": {}},
               "statement": {"managedRuleGroupStatement": {"vendorName": "AWS", "name": "AWSManagedRulesKnownBadInputsRuleSet"}},
               "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": "kbi", "sampledRequestsEnabled": True}},
              {"name": "common", "priority": 2, "overrideAction": {"none": {}},
               "statement": {"managedRuleGroupStatement": {"vendorName": "AWS", "name": "AWSManagedRulesCommonRuleSet"}},
               "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": "common", "sampledRequestsEnabled": True}},
          ]),
        R("aws:wafv2/webAclAssociation:WebAclAssociation", "waf-assoc", resourceArn=ALB_ARN, webAclArn=WAF_ARN),
        R("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "waf-logging", resourceArn=WAF_ARN,
          logDestinationConfigs=[f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-waf-logs-web"]),
        R("aws:ecs/cluster:Cluster", "cluster", settings=[{"name": "containerInsights", "value": "enabled"}]),
        R("aws:ecs/taskDefinition:TaskDefinition", "task", family="web", cpu="512", memory="1024",
          networkMode="awsvpc", requiresCompatibilities=["FARGATE"], executionRoleArn=EXEC_ROLE_ARN,
          taskRoleArn=TASK_ROLE_ARN,
          containerDefinitions=json.dumps([container("proxy", "101:101", 8443), container("app", "10001:10001", 3000)])),
        R("aws:ecs/service:Service", "svc", launchType="FARGATE", desiredCount=2, platformVersion="LATEST",
          networkConfiguration={"assignPublicIp": False, "subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-app"]},
          deploymentCircuitBreaker={"enable": True, "rollback": True},
          deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "10"},
          alarms={"enable": True, "rollback": True, "alarmNames": ["web-alarm-5xx-rate"]},
          loadBalancers=[{"targetGroupArn": TG_ARN, "containerName": "proxy", "containerPort": 8443}]),
        R("aws:appautoscaling/target:Target", "svc-scaling", scalableDimension="ecs:service:DesiredCount",
          serviceNamespace="ecs", resourceId="service/cluster/web", minCapacity=2, maxCapacity=10),
        R("aws:ecr/repository:Repository", "repo", name="web", id="web",
          imageScanningConfiguration={"scanOnPush": True}, imageTagMutability="IMMUTABLE",
          encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": KMS_ARN}]),
        R("aws:ecr/lifecyclePolicy:LifecyclePolicy", "repo-lifecycle", repository="web",
          policy=json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged",
                                                                         "countType": "sinceImagePushed",
                                                                         "countUnit": "days", "countNumber": 7},
                                        "action": {"type": "expire"}}]})),
        R("aws:ecr/repositoryPolicy:RepositoryPolicy", "repo-policy", repository="web",
          policy=doc({"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                      "Action": ["ecr:BatchGetImage"]})),
        R("aws:secretsmanager/secret:Secret", "tls-key", kmsKeyId=KMS_ARN, name="web/tls-key"),
        R("aws:iam/role:Role", "exec-role", arn=EXEC_ROLE_ARN, name="web-execution", id="web-execution",
          assumeRolePolicy=doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                "Action": "sts:AssumeRole"}),
          inlinePolicies=[{"name": "pull", "policy": doc({"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
                                                            "Resource": "*"})}]),
        R("aws:iam/role:Role", "task-role", arn=TASK_ROLE_ARN,
          assumeRolePolicy=doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                "Action": "sts:AssumeRole"})),
        R("aws:iam/rolePolicy:RolePolicy", "task-role-policy", role="web-task",
          policy=doc({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::web-data/*"})),
        R("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "exec-role-managed", role="web-execution",
          policyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"),
        R("aws:iam/policy:Policy", "exec-policy",
          policy=doc({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                      "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"})),
        *readiness_baseline(R),
        R("docker:index/image:Image", "image", imageName=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web:1",
          build={"context": str(dockerfile_dir), "dockerfile": "Dockerfile", "platform": "linux/amd64",
                 "target": "runtime"}),
    ]


def find(stack: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for r in stack:
        if r["name"] == name:
            return r
    raise KeyError(name)


def containers_of(stack: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return json.loads(find(stack, "task")["props"]["containerDefinitions"])


def edit_containers(stack: list[dict[str, Any]], fn: Callable[[list[dict[str, Any]]], None]) -> None:
    defs = containers_of(stack)
    fn(defs)
    find(stack, "task")["props"]["containerDefinitions"] = json.dumps(defs)


def run_all(stack: list[dict[str, Any]], config: dict[str, dict[str, Any]] | None = None,
            stack_name: str = "prod") -> dict[tuple[str, str], Result]:
    """Every policy on every resource: {(policy id, resource name): result} for judged pairs."""
    resources = [make_resource(r["type"], r["name"], copy.deepcopy(r["props"])) for r in stack]
    names = {r.urn: r.name for r in resources}
    out: dict[tuple[str, str], Result] = {}
    for pid, spec in POLICIES.items():
        ctx = context_from_config(pid, (config or {}).get(pid), stack_name)
        if spec.kind == "resource":
            for r in resources:
                res = evaluate_resource(spec, r, ctx)
                if not (res.kind == "not-applicable" and r.type not in spec.resource_types):
                    out[(pid, r.name)] = res
        else:
            for urn, res in evaluate_stack(spec, resources, ctx):
                out[(pid, names.get(urn, urn))] = res
    return out


def fired(results: dict[tuple[str, str], Result], kind: str = "violation") -> set[tuple[str, str]]:
    return {k for k, v in results.items() if v.kind == kind}
