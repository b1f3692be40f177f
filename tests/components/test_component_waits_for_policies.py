"""Resources that need another resource in place before they work wait for it.

The engine creates resources in parallel as soon as their inputs are known. A resource that only
works once a policy (or a route) exists, but takes nothing from it, must say so with `depends_on`,
or AWS sees it first: the ECS service starts tasks before the execution role may pull the image or
read the secrets (the circuit breaker then rolls the first deployment back), the ALB checks it can
write its access logs before the bucket policy allows it (creation fails), flow logs are created
with a role that may not yet write to the log group (delivery fails). The recording mock keeps each
registration's dependencies (explicit and through inputs) and its parent; these tests follow them
transitively.

The service's way out of its private subnets (NAT routes, VPC endpoints) belongs to the environment
and reaches the service through no input: `rampart.program` passes the environment in the service's
`depends_on`, and a component user's own program must do the same (the last test shows both).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.components.load_balancer import DomainSettings, LoadBalancerSettings
from rampart.components.network import CreateNetworkArgs, NetworkSettings
from components_support import TAGS, Plan, ServiceCase, minimal_args, run_service
from rampart.offline.mock_engine import RegisteredResource
from rampart.offline.plan import run_stack

ROOT = Path(__file__).resolve().parents[2]

VARIANTS = {
    "defaults": lambda: minimal_args(tags=TAGS),
    "no NAT, secrets": lambda: minimal_args(
        secrets={"DB_URL": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"},
        secret_kms_key_arns={"DB_URL": "arn:aws:kms:us-east-1:123456789012:key/0d9f8e7c-1111-2222-3333-444455556666"},
        network=NetworkSettings(create=CreateNetworkArgs(nat_gateways="none")),
    ),
    "exec on, domain": lambda: minimal_args(
        execute_command=True,  # the environment's cluster logs ECS Exec sessions
        enable_execute_command=True,
        readonly_root_filesystem=False,  # the ECS Exec agent writes to the root filesystem
        load_balancer=LoadBalancerSettings(domains=[DomainSettings(domain="shop.example.com", hosted_zone_id="Z123456ABC")]),
    ),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def plan(request: pytest.FixtureRequest) -> Plan:
    """The environment and its service composed as `rampart.program` composes them (the service in
    `depends_on` of the environment)."""
    return run_service(VARIANTS[request.param](), wait_for_environment=True)


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def own_plan(request: pytest.FixtureRequest) -> Plan:
    """The same, composed with only the required arguments (no `depends_on`): what the components
    guarantee by themselves. A `depends_on` only adds dependencies, so whatever waits here also
    waits in `plan`; the checks of the components' own wiring run here, where they cannot pass
    through the service's wait for the whole environment."""
    return run_service(VARIANTS[request.param]())


def waits_for(plan: Plan, resource: RegisteredResource, other: RegisteredResource) -> bool:
    """True when the engine creates `other` before `resource` (a dependency path between them).

    A resource waits for its dependencies and for its parent: the SDK registers a child only once its
    parent's URN is known, and registers the parent only once its own `depends_on` exists (a
    component there stands for all its children)."""
    by_urn = {r.urn: r for r in plan.resources}

    def before(r: RegisteredResource) -> list[str]:
        return [*r.dependencies, *([r.parent_urn] if r.parent_urn else [])]

    seen: set[str] = set()
    todo = before(resource)
    while todo:
        urn = todo.pop()
        if urn == other.urn:
            return True
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo.extend(before(by_urn[urn]))
    return False


def _role_policies(plan: Plan, role: RegisteredResource) -> list[RegisteredResource]:
    return [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["id"]]


def test_dependencies_are_recorded(own_plan: Plan) -> None:
    plan = own_plan
    # Guard for the tests below: a policy found nowhere in the dependencies would make them vacuous.
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    execution_role = next(r for r in plan.of_type("aws:iam/role:Role") if r.outputs["arn"] == task.inputs["executionRoleArn"])
    waits = waits_for(plan, task, execution_role)
    assert waits, "the task definition takes the role's ARN, so it waits for it"
    backwards = waits_for(plan, execution_role, task)
    assert not backwards, "the role does not wait for the task definition"


def test_service_waits_for_every_policy_of_its_task_roles(own_plan: Plan) -> None:
    plan = own_plan
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


def test_service_waits_for_the_listener_rule_that_forwards_to_its_target_group(own_plan: Plan) -> None:
    # The service's target group is used by its route's listener rule on the environment's HTTPS
    # listener (whose default action answers 404); ECS refuses a target group no listener uses.
    plan = own_plan
    service = plan.one("aws:ecs/service:Service")
    tg_arn = service.inputs["loadBalancers"][0]["targetGroupArn"]
    rules = [
        r for r in plan.of_type("aws:lb/listenerRule:ListenerRule")
        if any(a.get("type") == "forward" and a.get("targetGroupArn") == tg_arn for a in r.inputs.get("actions", []))
    ]
    assert rules, "no listener rule forwards to the service's target group"
    listeners = {l.outputs["arn"]: l for l in plan.of_type("aws:lb/listener:Listener")}
    for rule in rules:
        listener = listeners.get(rule.inputs["listenerArn"])
        assert listener is not None, f"{rule.name} is on no listener of the plan"
        for needed in (rule, listener):
            waits = waits_for(plan, service, needed)
            assert waits, f"{service.name} may register targets before {needed.name} exists: ECS refuses a target group no listener uses"


def _ways_out(plan: Plan, service: RegisteredResource) -> list[RegisteredResource]:
    """The routes, route table associations and VPC endpoints the service's subnets reach AWS through."""
    private_tables = {
        r.inputs["routeTableId"] for r in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if r.inputs["subnetId"] in service.inputs["networkConfiguration"]["subnets"]
    }
    egress = [r for r in plan.of_type("aws:ec2/route:Route") if r.inputs.get("routeTableId") in private_tables]
    egress += plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    egress += [r for r in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation") if r.inputs["routeTableId"] in private_tables]
    return egress


def test_service_waits_for_the_private_subnets_way_out(plan: Plan) -> None:
    # Tasks in private subnets pull their image through the NAT route or the VPC endpoints; started
    # before those exist, the pull fails and the first deployment is rolled back.
    service = plan.one("aws:ecs/service:Service")
    egress = _ways_out(plan, service)
    assert egress, "no route or endpoint serves the private subnets"
    for resource in egress:
        waits = waits_for(plan, service, resource)
        assert waits, f"{service.name} may start tasks before {resource.name} exists"


def test_the_repository_program_makes_every_service_wait_for_the_way_out() -> None:
    # The same, on `rampart.program` itself: the dev stack creates its network (NAT routes) and runs
    # two services in it.
    run = run_stack(ROOT, "dev")
    plan = Plan(resources=run.resources, outputs=run.stack_outputs)
    services = plan.of_type("aws:ecs/service:Service")
    assert len(services) >= 2, [s.name for s in services]
    for service in services:
        egress = _ways_out(plan, service)
        assert egress, f"no route or endpoint serves {service.name}'s subnets"
        for resource in egress:
            waits = waits_for(plan, service, resource)
            assert waits, f"{service.name} may start tasks before {resource.name} exists"


def test_a_component_users_program_waits_for_the_way_out_without_depends_on() -> None:
    """The private subnet IDs in the environment's reference carry the routes, NAT route and VPC
    endpoints as dependencies, so a service attached with only the required arguments (no
    `depends_on`) still waits for its tasks' way out."""
    case: ServiceCase = minimal_args()
    bare = run_service(case)
    service = bare.one("aws:ecs/service:Service")
    egress = _ways_out(bare, service)
    assert egress, "no route or endpoint serves the private subnets"
    missed = [r.name for r in egress if not waits_for(bare, service, r)]
    assert not missed, f"{service.name} may start tasks before {missed} exist"


def test_load_balancer_waits_for_the_access_log_bucket_policy(own_plan: Plan) -> None:
    plan = own_plan
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    bucket_id = alb.inputs["accessLogs"]["bucket"]
    policy = next(p for p in plan.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.inputs["bucket"] == bucket_id)
    waits = waits_for(plan, alb, policy)
    assert waits, f"{alb.name}: AWS refuses access logs to a bucket the ELB account may not write"


def test_flow_log_waits_for_its_role_policy(own_plan: Plan) -> None:
    plan = own_plan
    flow = plan.one("aws:ec2/flowLog:FlowLog")
    role = next(r for r in plan.of_type("aws:iam/role:Role") if r.outputs["arn"] == flow.inputs["iamRoleArn"])
    policies = _role_policies(plan, role)
    assert policies, f"{role.name} has no policy"
    for policy in policies:
        waits = waits_for(plan, flow, policy)
        assert waits, f"{flow.name} is created before {policy.name}: delivery fails"


def test_alarms_wait_for_the_topic_policy_that_lets_cloudwatch_publish(own_plan: Plan) -> None:
    plan = own_plan
    topic_policy = plan.one("aws:sns/topicPolicy:TopicPolicy")
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarms
    for alarm in alarms:
        waits = waits_for(plan, alarm, topic_policy)
        assert waits, f"{alarm.name} may fire before CloudWatch may publish to the topic"
