"""Network: an existing VPC and subnets, or a new VPC with public subnets for the load balancer
and private subnets for tasks across at least two availability zones, NAT gateway(s) and/or
VPC endpoints, flow logs into a KMS-encrypted log group, and the default security group closed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Callable, Literal, Optional, Sequence

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from rampart.components._util import (
    ArgsModel,
    AwsContext,
    StrInput,
    assume_role_policy,
    log_group_prefix as default_log_group_prefix,
    merge_tags,
    policy_json,
    Tags,
)
from rampart.components.monitoring import DEFAULT_LOG_RETENTION_DAYS, check_retention_days, encrypted_log_group

#: Interface endpoints a Fargate task needs to pull from ECR, log and read secrets without NAT.
INTERFACE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
#: Further interface endpoints a task may need, by what needs them: SSM parameters in `secrets`,
#: and ECS Exec (its agent's channels, and KMS for the encrypted session).
OPTIONAL_ENDPOINTS: tuple[str, ...] = ("ssm", "ssmmessages", "kms")


def check_vpc_cidr(value: str) -> str:
    """A VPC CIDR Rampart will create: IPv4, private (RFC 1918), /16 to /24."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"cidr_block {value!r} is not an IPv4 network in CIDR form: {error}") from None
    if not 16 <= network.prefixlen <= 24 or not network.is_private:
        raise ValueError(f"cidr_block {value!r} must be a private (RFC 1918) network between /16 and /24")
    return value


def subnet_blocks(args: "CreateNetworkArgs") -> tuple[list[str], list[str]]:
    """The CIDRs of a created VPC's public and private subnets, one per AZ: the VPC is cut into 16
    blocks (/20s in a /16); public subnets take the first `az_count`, private the next."""
    blocks = [str(b) for b in ipaddress.IPv4Network(args.cidr_block).subnets(prefixlen_diff=4)]
    return blocks[: args.az_count], blocks[args.az_count : 2 * args.az_count]


class Subnet(ArgsModel):
    """An existing subnet: its ID, and what Rampart checks or uses it for when known."""

    id: StrInput = Field(description="Subnet ID.")
    availability_zone: Optional[str] = Field(
        None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$", description="Its availability zone, e.g. eu-west-1a."
    )
    cidr_block: Optional[str] = Field(
        None, description="Its IPv4 CIDR. For public subnets: the load balancer's addresses, the only peers whose "
        "X-Forwarded-For the Nginx sidecar believes."
    )

    @field_validator("cidr_block")
    @classmethod
    def _cidr(cls, value: Optional[str]) -> Optional[str]:
        if value is not None:
            try:
                ipaddress.IPv4Network(value, strict=True)
            except ValueError as error:
                raise ValueError(f"cidr_block {value!r} is not an IPv4 network in CIDR form: {error}") from None
        return value


class ExistingNetworkArgs(ArgsModel):
    """A VPC and subnets that already exist (nothing is created in them but flow logs)."""

    vpc_id: StrInput = Field(description="Existing VPC ID.")
    vpc_cidr_block: str = Field(description="The VPC's IPv4 CIDR: where the load balancer may reach tasks.")
    public_subnets: list[Subnet] = Field(
        min_length=2, description="Public subnets (at least two AZs) for the internet-facing load balancer."
    )
    private_subnets: list[Subnet] = Field(
        min_length=2, description="Private subnets (at least two AZs) for the tasks; they need a route to ECR, "
        "CloudWatch Logs and Secrets Manager (NAT or VPC endpoints).",
    )

    @field_validator("vpc_cidr_block")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        try:
            ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise ValueError(f"vpc_cidr_block {value!r} is not an IPv4 network in CIDR form: {error}") from None
        return value

    @model_validator(mode="after")
    def _zones(self) -> "ExistingNetworkArgs":
        for key, subnets in (("public_subnets", self.public_subnets), ("private_subnets", self.private_subnets)):
            zones = [s.availability_zone for s in subnets]
            if all(zones) and len(set(zones)) < 2:
                raise ValueError(f"{key} must span at least two availability zones; got {sorted(set(z for z in zones if z))}")
        return self

    def public_subnet_cidrs(self) -> Optional[list[str]]:
        """The public subnets' CIDRs, when every one is given."""
        cidrs = [s.cidr_block for s in self.public_subnets]
        return [c for c in cidrs if c] if all(cidrs) else None


class CreateNetworkArgs(ArgsModel):
    """A VPC Rampart creates."""

    cidr_block: str = Field("10.0.0.0/16", description="IPv4 CIDR of the VPC (private, /16 to /24).")
    az_count: int = Field(2, ge=2, le=6, description="Availability zones to span (at least two for A1.2).")
    nat_gateways: Literal["none", "single", "perAz"] = Field(
        "single",
        description="NAT gateways for the private subnets: one shared, one per AZ (no cross-AZ dependency), "
        "or none (then `vpc_endpoints` must be on and tasks have no internet egress).",
    )
    vpc_endpoints: bool = Field(
        True,
        description="Interface endpoints for ECR api/dkr, CloudWatch Logs and Secrets Manager plus an S3 "
        "gateway endpoint, so image pulls, logs and secrets never leave the AWS network.",
    )

    @field_validator("cidr_block")
    @classmethod
    def _cidr(cls, value: str) -> str:
        return check_vpc_cidr(value)

    @model_validator(mode="after")
    def _egress(self) -> "CreateNetworkArgs":
        if self.nat_gateways == "none" and not self.vpc_endpoints:
            raise ValueError(
                "tasks in private subnets could not pull images or write logs: with nat_gateways='none' "
                "keep vpc_endpoints=True, or choose nat_gateways='single' or 'perAz'"
            )
        return self


class NetworkSettings(ArgsModel):
    """What a service owner chooses: use `existing`, or create a VPC from `create` (the default)."""

    existing: Optional[ExistingNetworkArgs] = Field(
        None, description="Use this VPC and these subnets; give either `existing` or `create`, not both."
    )
    create: Optional[CreateNetworkArgs] = Field(
        None, description="Settings of the VPC to create (defaults apply when neither is given)."
    )
    flow_logs: bool = Field(True, description="VPC flow logs (all traffic) into a KMS-encrypted log group.")
    flow_log_retention_days: Optional[int] = Field(
        None, description="Retention of the flow log group; None uses the service's log retention "
        f"({DEFAULT_LOG_RETENTION_DAYS} days)."
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: Optional[int]) -> Optional[int]:
        return check_retention_days(value, "flow_log_retention_days")

    @model_validator(mode="after")
    def _one_source(self) -> "NetworkSettings":
        if self.existing is not None and self.create is not None:
            raise ValueError("give either `existing` (a VPC to use) or `create` (a VPC to make), not both")
        return self


class NetworkArgs(NetworkSettings):
    """Settings plus what the flow log group needs (WebService fills these in)."""

    kms_key_arn: Optional[StrInput] = Field(
        None, description="KMS key of the flow log group (required when `flow_logs` is on)."
    )
    log_group_prefix: Optional[str] = Field(
        None, description="Flow log group name prefix; defaults to `/rampart/<stack>/<component name>`."
    )
    extra_endpoints: list[Literal["ssm", "ssmmessages", "kms"]] = Field(
        default_factory=list,
        description="Interface endpoints beyond ECR, Logs and Secrets Manager that the tasks need (SSM "
        "parameters, ECS Exec); created with the others when `vpc_endpoints` is on.",
    )

    @model_validator(mode="after")
    def _flow_log_key(self) -> "NetworkArgs":
        if self.flow_logs and self.kms_key_arn is None:
            raise ValueError("flow_logs=True needs `kms_key_arn` for the encrypted flow log group (or set flow_logs=False)")
        return self


def alb_subnet_cidrs(settings: NetworkSettings) -> Optional[list[str]]:
    """The CIDRs of the subnets the load balancer lives in, when they are known before deployment:
    a created VPC's public subnets, or an existing VPC's public subnets when each names its CIDR."""
    if settings.existing is not None:
        return settings.existing.public_subnet_cidrs()
    return subnet_blocks(settings.create or CreateNetworkArgs())[0]


@dataclass
class _Subnets:
    """A created VPC's subnets, one of each tier per AZ in AZ order, and the resources that give the
    private ones their way out (route table associations, NAT routes; endpoints are added later)."""

    public: list[aws.ec2.Subnet] = field(default_factory=list)
    private: list[aws.ec2.Subnet] = field(default_factory=list)
    private_route_tables: list[aws.ec2.RouteTable] = field(default_factory=list)
    ways_out: list[pulumi.CustomResource] = field(default_factory=list)


class Network(pulumi.ComponentResource):
    """VPC, subnets, egress and flow logs for one service."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    vpc_cidr_block: str
    public_subnet_cidrs: Optional[list[str]]
    flow_log_group: Optional[aws.cloudwatch.LogGroup]

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("rampart:network:Network", name, None, opts)
        self._name = name
        self._tags = merge_tags(args.tags)

        if args.existing is not None:
            self._use_existing(args.existing)
        else:
            self._create(args.create or CreateNetworkArgs(), args.extra_endpoints)
        self.public_subnet_cidrs = alb_subnet_cidrs(args)
        self.flow_log_group = self._flow_logs(args) if args.flow_logs else None

        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )

    # --- pieces, in the order the constructor uses them -------------------------------------
    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _use_existing(self, existing: ExistingNetworkArgs) -> None:
        """An existing VPC and subnets: their IDs, as given."""
        self.vpc_id = pulumi.Output.from_input(existing.vpc_id)
        self.public_subnet_ids = [pulumi.Output.from_input(s.id) for s in existing.public_subnets]
        self.private_subnet_ids = [pulumi.Output.from_input(s.id) for s in existing.private_subnets]
        self.vpc_cidr_block = existing.vpc_cidr_block

    def _create(self, args: CreateNetworkArgs, extra_endpoints: Sequence[str]) -> None:
        """A new VPC: its default security group closed, public subnets behind an internet gateway,
        private subnets with NAT routes and/or VPC endpoints as their way out."""
        self.vpc_cidr_block = args.cidr_block
        self.vpc = self._vpc(args.cidr_block)
        self.vpc_id = self.vpc.id
        self._close_default_security_group()
        igw, public_rt = self._internet_route()
        subnets = self._subnets(args, igw, public_rt)
        self.public_subnet_ids = [s.id for s in subnets.public]
        private_ids = [s.id for s in subnets.private]
        if args.vpc_endpoints:
            subnets.ways_out += self._endpoints(args.cidr_block, extra_endpoints, private_ids, subnets.private_route_tables)
        self.private_subnet_ids = _waiting_for(private_ids, subnets.ways_out)

    def _vpc(self, cidr_block: str) -> aws.ec2.Vpc:
        name = self._name
        return aws.ec2.Vpc(
            f"{name}-vpc",
            aws.ec2.VpcArgs(
                cidr_block=cidr_block,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags={**self._tags, "Name": f"{name}-vpc"},
            ),
            opts=self._child(),
        )

    def _close_default_security_group(self) -> None:
        # The default security group admits traffic between its members and all egress; adopt it
        # and strip every rule so nothing can use it by accident (CC6.6).
        name = self._name
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            aws.ec2.DefaultSecurityGroupArgs(
                vpc_id=self.vpc.id, ingress=[], egress=[], tags={**self._tags, "Name": f"{name}-default-closed"}
            ),
            opts=self._child(),
        )

    def _internet_route(self) -> tuple[aws.ec2.InternetGateway, aws.ec2.RouteTable]:
        """The internet gateway and the public route table whose default route goes through it."""
        name, tags, child = self._name, self._tags, self._child()
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", aws.ec2.InternetGatewayArgs(vpc_id=self.vpc.id, tags=tags), opts=child
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            aws.ec2.RouteTableArgs(vpc_id=self.vpc.id, tags={**tags, "Name": f"{name}-public"}),
            opts=child,
        )
        aws.ec2.Route(
            f"{name}-public-default-route",
            aws.ec2.RouteArgs(route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id),
            opts=child,
        )
        return igw, public_rt

    def _subnets(self, args: CreateNetworkArgs, igw: aws.ec2.InternetGateway, public_rt: aws.ec2.RouteTable) -> _Subnets:
        """Per AZ, in order: a public subnet, a private subnet with its own route table, and the
        private default route through a NAT gateway (one in the first AZ, or one per AZ with `perAz`)."""
        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOptions(parent=self))
        public_blocks, private_blocks = subnet_blocks(args)
        subnets = _Subnets()
        nat_ids: list[pulumi.Output[str]] = []
        for index in range(args.az_count):
            az = zones.names.apply(_nth(index))
            public = self._public_subnet(index, az, public_blocks[index], public_rt)
            private, private_rt, association = self._private_subnet(index, az, private_blocks[index])
            subnets.ways_out.append(association)
            if args.nat_gateways == "perAz" or (args.nat_gateways == "single" and index == 0):
                nat_ids.append(self._nat_gateway(index, public, igw))
            if nat_ids:
                nat_id = nat_ids[index if args.nat_gateways == "perAz" else 0]
                subnets.ways_out.append(self._nat_route(index, private_rt, nat_id))
            subnets.public.append(public)
            subnets.private.append(private)
            subnets.private_route_tables.append(private_rt)
        return subnets

    def _public_subnet(
        self, index: int, az: pulumi.Output[str], cidr_block: str, public_rt: aws.ec2.RouteTable
    ) -> aws.ec2.Subnet:
        """The load balancer's subnet in one AZ, on the public route table (no public IPs on launch)."""
        name, child = self._name, self._child()
        public = aws.ec2.Subnet(
            f"{name}-public-{index}",
            aws.ec2.SubnetArgs(
                vpc_id=self.vpc.id,
                cidr_block=cidr_block,
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={**self._tags, "Name": f"{name}-public-{index}", "rampart:tier": "public"},
            ),
            opts=child,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-public-{index}-rta",
            aws.ec2.RouteTableAssociationArgs(subnet_id=public.id, route_table_id=public_rt.id),
            opts=child,
        )
        return public

    def _private_subnet(
        self, index: int, az: pulumi.Output[str], cidr_block: str
    ) -> tuple[aws.ec2.Subnet, aws.ec2.RouteTable, aws.ec2.RouteTableAssociation]:
        """The tasks' subnet in one AZ, its own route table, and their association."""
        name, tags, child = self._name, self._tags, self._child()
        private = aws.ec2.Subnet(
            f"{name}-private-{index}",
            aws.ec2.SubnetArgs(
                vpc_id=self.vpc.id,
                cidr_block=cidr_block,
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-private-{index}", "rampart:tier": "private"},
            ),
            opts=child,
        )
        private_rt = aws.ec2.RouteTable(
            f"{name}-private-{index}-rt",
            aws.ec2.RouteTableArgs(vpc_id=self.vpc.id, tags={**tags, "Name": f"{name}-private-{index}"}),
            opts=child,
        )
        association = aws.ec2.RouteTableAssociation(
            f"{name}-private-{index}-rta",
            aws.ec2.RouteTableAssociationArgs(subnet_id=private.id, route_table_id=private_rt.id),
            opts=child,
        )
        return private, private_rt, association

    def _nat_gateway(self, index: int, public: aws.ec2.Subnet, igw: aws.ec2.InternetGateway) -> pulumi.Output[str]:
        """A NAT gateway with its Elastic IP in one AZ's public subnet; its ID."""
        name, tags = self._name, self._tags
        eip = aws.ec2.Eip(
            f"{name}-nat-{index}-eip",
            aws.ec2.EipArgs(domain="vpc", tags={**tags, "Name": f"{name}-nat-{index}"}),
            opts=self._child(),
        )
        nat = aws.ec2.NatGateway(
            f"{name}-nat-{index}",
            aws.ec2.NatGatewayArgs(
                subnet_id=public.id,
                allocation_id=eip.allocation_id,
                tags={**tags, "Name": f"{name}-nat-{index}"},
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
        )
        return nat.id

    def _nat_route(self, index: int, private_rt: aws.ec2.RouteTable, nat_id: pulumi.Output[str]) -> aws.ec2.Route:
        """One AZ's private default route, through the NAT gateway `nat_id`."""
        return aws.ec2.Route(
            f"{self._name}-private-{index}-default-route",
            aws.ec2.RouteArgs(
                route_table_id=private_rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat_id,
            ),
            opts=self._child(),
        )

    def _endpoints(
        self,
        cidr_block: str,
        extra_endpoints: Sequence[str],
        private_ids: list[pulumi.Output[str]],
        private_route_tables: list[aws.ec2.RouteTable],
    ) -> list[aws.ec2.VpcEndpoint]:
        """The interface endpoints in the private subnets, behind a security group that admits HTTPS
        from the VPC only, and the S3 gateway endpoint on the private route tables."""
        name, tags, child = self._name, self._tags, self._child()
        ctx = AwsContext(pulumi.InvokeOptions(parent=self))
        endpoint_sg = self._endpoint_security_group(cidr_block)
        endpoints: list[aws.ec2.VpcEndpoint] = []
        extra = [e for e in OPTIONAL_ENDPOINTS if e in extra_endpoints]
        for service in (*INTERFACE_ENDPOINTS, *extra):
            endpoints.append(aws.ec2.VpcEndpoint(
                f"{name}-endpoint-{service.replace('.', '-')}",
                aws.ec2.VpcEndpointArgs(
                    vpc_id=self.vpc.id,
                    service_name=pulumi.Output.concat("com.amazonaws.", ctx.region, f".{service}"),
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=private_ids,
                    security_group_ids=[endpoint_sg.id],
                    tags={**tags, "Name": f"{name}-{service}"},
                ),
                opts=child,
            ))
        # ECR stores image layers in S3: a gateway endpoint on the private route tables.
        endpoints.append(aws.ec2.VpcEndpoint(
            f"{name}-endpoint-s3",
            aws.ec2.VpcEndpointArgs(
                vpc_id=self.vpc.id,
                service_name=pulumi.Output.concat("com.amazonaws.", ctx.region, ".s3"),
                vpc_endpoint_type="Gateway",
                route_table_ids=[rt.id for rt in private_route_tables],
                tags={**tags, "Name": f"{name}-s3"},
            ),
            opts=child,
        ))
        return endpoints

    def _endpoint_security_group(self, cidr_block: str) -> aws.ec2.SecurityGroup:
        """The interface endpoints' security group: HTTPS in from the VPC's CIDR only."""
        name, tags, child = self._name, self._tags, self._child()
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=self.vpc.id,
                description="Interface VPC endpoints: HTTPS from inside the VPC only",
                tags={**tags, "Name": f"{name}-endpoints"},
            ),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https-in",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=endpoint_sg.id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr_block,
                description="HTTPS to AWS APIs from resources in this VPC",
                tags=tags,
            ),
            opts=child,
        )
        return endpoint_sg

    def _flow_logs(self, args: NetworkArgs) -> aws.cloudwatch.LogGroup:
        """VPC flow logs (all traffic) into an encrypted log group, written through their own role."""
        assert args.kms_key_arn is not None  # checked by NetworkArgs
        name, tags = self._name, self._tags
        prefix = args.log_group_prefix or default_log_group_prefix(name)
        log_group = encrypted_log_group(
            f"{name}-flow-logs",
            log_group_name=f"{prefix}/vpc-flow-logs",
            kms_key_arn=args.kms_key_arn,
            retention_days=args.flow_log_retention_days or DEFAULT_LOG_RETENTION_DAYS,
            tags=tags,
            parent=self,
        )
        role, role_policy = self._flow_log_role(log_group)
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            aws.ec2.FlowLogArgs(
                vpc_id=self.vpc_id,
                traffic_type="ALL",
                log_destination_type="cloud-watch-logs",
                log_destination=log_group.arn,
                iam_role_arn=role.arn,
                max_aggregation_interval=60,
                tags=tags,
            ),
            # The role may write to the group only once its policy is attached.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        return log_group

    def _flow_log_role(self, log_group: aws.cloudwatch.LogGroup) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """The role VPC flow logs assume, allowed to write to `log_group` only."""
        name, child = self._name, self._child()
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            aws.iam.RoleArgs(
                # IAM role names are at most 64 characters; the provider's auto-name (logical name
                # plus 8) would not fit a long component name. A prefix of at most 38 plus the
                # provider's 26 unique characters always does, and stays unique per stack.
                name_prefix=f"{name[:27].rstrip('-')}-flow-logs-",
                assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
                description="VPC flow logs delivery into one log group",
                tags=self._tags,
            ),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            aws.iam.RolePolicyArgs(
                role=role.id,
                policy=policy_json(
                    [
                        {
                            "Sid": "WriteFlowLogs",
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": [
                                log_group.arn,
                                pulumi.Output.concat(log_group.arn, ":*"),
                            ],
                        }
                    ]
                ),
            ),
            opts=child,
        )
        return role, role_policy


def _waiting_for(subnet_ids: list[pulumi.Output[str]], ways_out: list[pulumi.CustomResource]) -> list[pulumi.Output[str]]:
    """What a task in a private subnet needs to reach ECR, Logs and Secrets Manager: its route
    table, the NAT route, the endpoints. The subnet IDs handed to services carry them as
    dependencies, so a service waits for its tasks' way out even across a component boundary."""
    return [
        pulumi.Output.all(subnet_id, *[r.id for r in ways_out]).apply(lambda values: values[0])
        for subnet_id in subnet_ids
    ]


def _nth(index: int) -> "Callable[[list[str]], str]":
    """Pick one availability zone name from the invoke's list (a value, never a resource)."""

    def pick(names: list[str]) -> str:
        return names[index]

    return pick
