"""Type tokens (pulumi-aws 7.x, pulumi-docker 5.x) and helpers shared by the policies."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from .model import Resource
from .props import UNKNOWN, UnknownValue, as_list

LB = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULE = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
TARGET_GROUP = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
WEB_ACL = ("aws:wafv2/webAcl:WebAcl",)
WEB_ACL_ASSOCIATION = ("aws:wafv2/webAclAssociation:WebAclAssociation",)
WEB_ACL_LOGGING = ("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",)
TASK_DEFINITION = ("aws:ecs/taskDefinition:TaskDefinition",)
ECS_SERVICE = ("aws:ecs/service:Service",)
ECS_CLUSTER = ("aws:ecs/cluster:Cluster",)
SCALABLE_TARGET = ("aws:appautoscaling/target:Target",)
ECR_REPOSITORY = ("aws:ecr/repository:Repository",)
ECR_LIFECYCLE = ("aws:ecr/lifecyclePolicy:LifecyclePolicy",)
ECR_REPOSITORY_POLICY = ("aws:ecr/repositoryPolicy:RepositoryPolicy",)
LOG_GROUP = ("aws:cloudwatch/logGroup:LogGroup",)
METRIC_ALARM = ("aws:cloudwatch/metricAlarm:MetricAlarm",)
SNS_TOPIC = ("aws:sns/topic:Topic",)
SNS_SUBSCRIPTION = ("aws:sns/topicSubscription:TopicSubscription",)
BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_PAB = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
BUCKET_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
KMS_KEY = ("aws:kms/key:Key",)
SECURITY_GROUP = ("aws:ec2/securityGroup:SecurityGroup",)
SG_RULE = ("aws:ec2/securityGroupRule:SecurityGroupRule",)
SG_INGRESS_RULE = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",)
SG_EGRESS_RULE = ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",)
SECRET = ("aws:secretsmanager/secret:Secret",)
ROLE = ("aws:iam/role:Role",)
ROLE_POLICY = ("aws:iam/rolePolicy:RolePolicy",)
IAM_POLICY = ("aws:iam/policy:Policy",)
ROLE_POLICY_ATTACHMENT = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",)
DOCKER_IMAGE = ("docker:index/image:Image",)
SNS_TOPIC = ("aws:sns/topic:Topic",)
VPC = ("aws:ec2/vpc:Vpc",)
SUBNET = ("aws:ec2/subnet:Subnet",)
FLOW_LOG = ("aws:ec2/flowLog:FlowLog",)
DEFAULT_SECURITY_GROUP = ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",)
BUCKET_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
LOG_RESOURCE_POLICY = ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy",)
CLOUDTRAIL = ("aws:cloudtrail/trail:Trail",)
CONFIG_RECORDER = ("aws:cfg/recorder:Recorder",)
CONFIG_RULE_RESOURCE = ("aws:cfg/rule:Rule",)

AWS_DOCS = "https://docs.aws.amazon.com"
CONFIG_RULE = AWS_DOCS + "/config/latest/developerguide/{}.html"


def of_type(resources: Iterable[Resource], types: Sequence[str]) -> list[Resource]:
    return [r for r in resources if r.type in types]


def truthy(value: Any) -> bool:
    """Booleans may arrive as bools or, from some providers and JSON, as strings."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def raw_get(resource: Resource, key: str) -> Any:
    """A top-level property without raising on unknown (UNKNOWN or None if absent)."""
    return resource.props.raw().get(key)


def refers_to(src: Resource, prop: str, target: Resource,
              target_keys: Sequence[str] = ("arn", "id")) -> bool | None:
    """Does `src.<prop>` point at `target`? True, False, or None when it cannot be known yet.

    The engine's property dependencies answer it when present (what `pulumi preview` sends);
    otherwise the value is compared with the target's identifying properties (what a resolved plan,
    such as `rampart check`'s mock run, holds).
    """
    deps = src.property_dependencies.get(prop)
    if deps:
        if target.urn in deps:
            return True
    value = raw_get(src, prop)
    values = value if isinstance(value, list) else [value]
    if any(v is UNKNOWN for v in values):
        return None if not deps else False
    if value is None:
        return False
    candidates = [raw_get(target, k) for k in target_keys]
    if any(c is not None and c is not UNKNOWN and c in values for c in candidates):
        return True
    if any(c is UNKNOWN for c in candidates):
        return None
    return False


def any_refers(sources: Iterable[Resource], prop: str, target: Resource,
               target_keys: Sequence[str] = ("arn", "id")) -> bool | None:
    """True if some source points at target, None if none does but one might, else False."""
    maybe = False
    for s in sources:
        r = refers_to(s, prop, target, target_keys)
        if r is True:
            return True
        if r is None:
            maybe = True
    return None if maybe else False


def referent(src: Resource, prop: str, targets: Iterable[Resource],
             target_keys: Sequence[str] = ("arn", "id")) -> Resource | None:
    """The one target `src.<prop>` points at; None when none does.

    Raises UnknownValue(prop) when no target is known to match but one might (an unknown value at
    preview without a property dependency that settles it), so a check never passes silently.
    """
    maybe = False
    for t in targets:
        r = refers_to(src, prop, t, target_keys)
        if r is True:
            return t
        if r is None:
            maybe = True
    if maybe:
        raise UnknownValue(prop)
    return None


def items(value: Any) -> list[Any]:
    """A list property that may be absent; reading it raises UnknownValue when it is unknown."""
    return as_list(value)
