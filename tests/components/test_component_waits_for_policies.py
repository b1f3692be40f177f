"""Resources that need another resource in place before they work wait for it.

The engine creates resources in parallel as soon as their inputs are known. A resource that only
works once a policy (or a route) exists, but takes nothing from it, must say so with `depends_on`,
or AWS sees it first: the ECS service starts tasks before the execution role may pull the image or
read the secrets (the circuit breaker then rolls the first deployment back), the ALB checks it can
write its access logs before the bucket policy allows it (creation fails), flow logs are created
with a role that may not yet write to the log group (delivery fails). The recording mock keeps each
registration's dependencies (explicit and through inputs); these tests follow them transitively.
"""

from __future__ import annotations

import pytest

from components.load_balancer import LoadBalancerSettings
from components.network import CreateNetworkArgs, NetworkSettings
from components_support import TAGS, Plan, minimal_args, run_service
from rampart.mock_engine import RegisteredResource

VARIANTS = {
    "defaults": lambda: minimal_args(tags=TAGS),
    "no NAT, secrets": lambda: minimal_args(
        secrets={"DB_URL": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"},
        network=NetworkSettings(create=CreateNetworkArgs(nat_gateways="none")),
    ),
    "exec on, domain": lambda: minimal_args(
        enable_execute_command=True,
        readonly_root_filesystem=False,
        load_balancer=LoadBalancerSettings(domain="shop.example.com", hosted_zone_id="Z123456ABC"),
    ),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def plan(request: pytest.FixtureRequest) -> Plan:
    return run_service(VARIANTS[request.param]())


def waits_for(plan: Plan, resource: RegisteredResource, other: RegisteredResource) -> bool:
    """True when the engine creates `other` before `resource` (a dependency path between them)."""
    by_urn = {r.urn: r for r in plan.resources}
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn == other.urn:
            return True
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo.extend(by_urn[urn].dependencies)
    return False


def _role_policies(plan: Plan, role: RegisteredResource) -> list[RegisteredResource]:
    return [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["id"]]


def test_dependencies_are_recorded(plan: Plan) -> None:
    # Guard for the tests below: a policy found nowhere in the dependencies would make them vacuous.
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    execution_role = next(r for r in plan.of_type("aws:iam/role:Role") if r.outputs["arn"] == task.inputs["executionRoleArn"])
    waits = waits_for(plan, task, execution_role)
    assert waits, "the task definition takes the role's ARN, so it waits for it"
    backwards = waits_for(plan, execution_role, task)
    assert not backwards, "the role does not wait for the task definition"


def test_service_waits_for_every_policy_of_its_task_roles(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    roles = [r for r in plan.of_type("aws:iam/role:Role") if r.outputs["arn"] in (task.inputs["executionRoleArn"], task.inputs["taskRoleArn"])]
    assert len(roles) == 2
    policies = [p for role in roles for p in _role_policies(plan, role)]
    assert policies, "no policies on the task's roles"
    for policy in policies:
        waits = waits_for(plan, service, policy)
        assert waits, (
            f"{service.name} may start tasks before {policy.name} is attached: the first tasks cannot pull "
            "the image, read secrets or write logs, and the circuit breaker rolls the deployment back"
        )


def test_service_waits_for_the_listener_that_forwards_to_its_target_group(plan: Plan) -> None:
    service = plan.one("aws:ecs/service:Service")
    tg_arn = service.inputs["loadBalancers"][0]["targetGroupArn"]
    listeners = [
        l for l in plan.of_type("aws:lb/listener:Listener")
        if any(a.get("targetGroupArn") == tg_arn for a in l.inputs.get("defaultActions", []))
    ]
    assert listeners, "no listener forwards to the service's target group"
    for listener in listeners:
        waits = waits_for(plan, service, listener)
        assert waits, f"{service.name}: ECS refuses a target group no listener uses"


def test_service_waits_for_the_private_subnets_way_out(plan: Plan) -> None:
    # Tasks in private subnets pull their image through the NAT route or the VPC endpoints; started
    # before those exist, the pull fails and the first deployment is rolled back.
    service = plan.one("aws:ecs/service:Service")
    private_tables = {
        r.inputs["routeTableId"] for r in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if r.inputs["subnetId"] in service.inputs["networkConfiguration"]["subnets"]
    }
    egress = [r for r in plan.of_type("aws:ec2/route:Route") if r.inputs.get("routeTableId") in private_tables]
    egress += plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    egress += [r for r in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation") if r.inputs["routeTableId"] in private_tables]
    assert egress, "no route or endpoint serves the private subnets"
    for resource in egress:
        waits = waits_for(plan, service, resource)
        assert waits, f"{service.name} may start tasks before {resource.name} exists"


def test_load_balancer_waits_for_the_access_log_bucket_policy(plan: Plan) -> None:
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    bucket_id = alb.inputs["accessLogs"]["bucket"]
    policy = next(p for p in plan.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.inputs["bucket"] == bucket_id)
    waits = waits_for(plan, alb, policy)
    assert waits, f"{alb.name}: AWS refuses access logs to a bucket the ELB account may not write"


def test_flow_log_waits_for_its_role_policy(plan: Plan) -> None:
    flow = plan.one("aws:ec2/flowLog:FlowLog")
    role = next(r for r in plan.of_type("aws:iam/role:Role") if r.outputs["arn"] == flow.inputs["iamRoleArn"])
    policies = _role_policies(plan, role)
    assert policies, f"{role.name} has no policy"
    for policy in policies:
        waits = waits_for(plan, flow, policy)
        assert waits, f"{flow.name} is created before {policy.name}: delivery fails"


def test_alarms_wait_for_the_topic_policy_that_lets_cloudwatch_publish(plan: Plan) -> None:
    topic_policy = plan.one("aws:sns/topicPolicy:TopicPolicy")
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarms
    for alarm in alarms:
        waits = waits_for(plan, alarm, topic_policy)
        assert waits, f"{alarm.name} may fire before CloudWatch may publish to the topic"
