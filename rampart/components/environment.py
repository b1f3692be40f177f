"""Environment: what many services share and pay for once.

The network (created or existing; VPC endpoints; flow logs; default security group closed), the
KMS key and alarm topic, the ECS cluster (Container Insights), the internet-facing ALB (HTTPS with
one certificate per domain, HTTP only redirects, unrouted requests answered 404, access logs) and
the web ACL in front of it. Services attach through one typed value, `EnvironmentRef`: in the same
program (`Environment.ref`) or from another stack (`EnvironmentRef.from_stack_reference`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Optional, Union

import pulumi
import pulumi_aws as aws
from pydantic import Field, PrivateAttr, model_validator
from rampart_soc2.vocabulary.thresholds import rate_limit_problem, retention_problem, tls_policy_problem

from rampart.components._util import (
    ArgsModel,
    StrInput,
    Tags,
    check_component_name,
    log_group_prefix as default_log_group_prefix,
    merge_tags,
)
from rampart.components.compliance import (
    DEFAULT_SCOPE_TAG,
    Compliance,
    ComplianceArgs,
    ComplianceSettings,
    Level,
    recorder_unset_message,
)
from rampart.components.load_balancer import LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from rampart.components.monitoring import Monitoring, MonitoringArgs, encrypted_log_group, metric_alarm
from rampart.components.network import Network, NetworkArgs, NetworkSettings, alb_subnet_cidrs
from rampart.components.observability import dashboard, dashboard_body, environment_dashboard
from rampart.components.waf import WafSettings, WebAcl, WebAclArgs

#: The stack output under which an environment stack exports its `EnvironmentRef`.
ENVIRONMENT_OUTPUT = "environment"

Endpoint = Literal["ssm", "ssmmessages", "kms"]
ListInput = Union[list[StrInput], pulumi.Output[list[str]]]
IntInput = Union[int, pulumi.Output[int]]
BoolInput = Union[bool, pulumi.Output[bool]]


class EnvironmentAlarmSettings(ArgsModel):
    """Thresholds of the environment's own alarms (each service alarms on its own target group and tasks)."""

    enabled: bool = Field(True, description="Create the alarms below (False skips them).")
    alb_5xx_per_minute: int = Field(
        50, ge=1, description="Responses the load balancer itself answers 5xx in a minute (no target, timeouts)."
    )
    waf_blocked_requests: int = Field(500, ge=1, description="WAF-blocked requests in 5 minutes that count as a spike.")


class EnvironmentSettings(ArgsModel):
    """What a platform team chooses for an environment; every field has a secure default except
    the certificate (`load_balancer.domains` or `.certificate_arns`)."""

    load_balancer: LoadBalancerSettings = Field(description="Certificates, TLS policy, access logs, deletion protection.")
    network: NetworkSettings = Field(default_factory=NetworkSettings, description="VPC: create (default) or existing.")
    waf: Optional[WafSettings] = Field(
        default_factory=WafSettings, description="The web ACL in front of the ALB; None skips it (explicit opt-out)."
    )
    monitoring: MonitoringArgs = Field(
        default_factory=MonitoringArgs, description="KMS key, alarm topic and its subscribers, log retention."
    )
    extra_endpoints: list[Endpoint] = Field(
        default_factory=list,
        description="Interface endpoints beyond ECR, Logs and Secrets Manager (`ssm` for SSM parameters in a "
        "service's secrets, `ssmmessages` and `kms` for ECS Exec); created when the VPC is created with endpoints.",
    )
    execute_command: bool = Field(
        False, description="Configure the cluster for ECS Exec: sessions logged to an encrypted log group."
    )
    alarms: EnvironmentAlarmSettings = Field(
        default_factory=EnvironmentAlarmSettings, description="The environment's own alarm thresholds."
    )
    compliance: ComplianceSettings = Field(
        default_factory=ComplianceSettings,
        description="AWS Config managed rules for the SOC 2 controls, all audit period long, and who owns the "
        "configuration recorder they need (`recorder`: `create`, `{existing: NAME}` or `none`, which opts out).",
    )
    log_group_prefix: Optional[str] = Field(None, description="Log group name prefix; default `/rampart/<stack>/<name>`.")
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @model_validator(mode="after")
    def _recorder_chosen(self) -> "EnvironmentSettings":
        # AWS refuses Config rules where no recorder records: the stack says who owns it, or deploys none.
        if self.compliance.recorder is None:
            raise ValueError(recorder_unset_message())
        return self


def egress_facts(settings: EnvironmentSettings) -> tuple[Optional[list[str]], Optional[bool]]:
    """(extra interface endpoints, NAT egress) of an environment's tasks, known only for a created
    VPC (None, None for an existing one): the one reading used by `Environment.ref` and by a
    program that checks its services before creating the environment."""
    if settings.network.existing is not None:
        return None, None
    create = settings.network.create
    return list(settings.extra_endpoints), create is None or create.nat_gateways != "none"


def threshold_problems(settings: EnvironmentSettings, thresholds: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(setting path, why) for every setting the SOC 2 pack would fail under these thresholds (pack keys,
    unset ones at the pack's defaults): a value the component accepts must also pass the check."""
    found: list[tuple[tuple[str | int, ...], Optional[str]]] = [
        (("load_balancer", "tls_policy"), tls_policy_problem(settings.load_balancer.tls_policy, thresholds)),
        (("monitoring", "log_retention_days"), retention_problem(settings.monitoring.log_retention_days, thresholds)),
    ]
    if settings.network.flow_logs and settings.network.flow_log_retention_days is not None:
        found.append((("network", "flow_log_retention_days"),
                      retention_problem(settings.network.flow_log_retention_days, thresholds)))
    if settings.waf is not None:
        # The pack asks for one blocking rate-based rule within the bounds, any of the ACL's (all block):
        # the ACL-wide rule, or failing that a scoped (per-service) one.
        limits = [settings.waf.rate_limit, *(scoped.limit for scoped in settings.waf.scoped_rate_limits)]
        if all(rate_limit_problem(limit, thresholds) for limit in limits):
            found.append((("waf", "rate_limit"), rate_limit_problem(settings.waf.rate_limit, thresholds)))
    return [(path, why) for path, why in found if why]


class EnvironmentArgs(EnvironmentSettings):
    """The environment's args: its settings, and the stack's SOC 2 pack settings its compliance rules follow."""

    policy_thresholds: dict[str, Any] = Field(
        default_factory=dict,
        description="The stack's pack thresholds (`rampart:policy`, e.g. `minLogRetentionDays`), which the AWS Config "
        "rules take their parameters from; unset ones are the pack's defaults.",
    )
    policy_enforcement: dict[str, Level] = Field(
        default_factory=dict,
        description="The stack's policy levels (`rampart:policy.enforcement`): a disabled policy gets no Config rule, "
        "an advisory one no alarm.",
    )

    @model_validator(mode="after")
    def _passes_the_pack(self) -> "EnvironmentArgs":
        problems = threshold_problems(self, self.policy_thresholds)
        if problems:
            raise ValueError("; ".join(f"{'.'.join(str(p) for p in path)}: {why} (in a program: "
                                       f"EnvironmentArgs.policy_thresholds)" for path, why in problems))
        return self


class EnvironmentRef(ArgsModel):
    """Everything a service needs from its environment, as plain values or Outputs.

    Values a service needs while the program runs (to render the sidecar's config or to refuse a
    combination that cannot work) are plain when known and None when the environment lives in
    another stack; the service then asks for them explicitly.
    """

    name: str = Field(description="The environment's name.")
    vpc_id: StrInput = Field(description="VPC of the tasks.")
    private_subnet_ids: ListInput = Field(description="Subnets the tasks run in (no public IPs).")
    cluster_arn: StrInput = Field(description="ECS cluster the services run in.")
    cluster_name: StrInput = Field(description="Its name (the ECS alarms' ClusterName dimension).")
    https_listener_arn: StrInput = Field(description="The ALB's HTTPS listener, which services attach rules to.")
    alb_arn_suffix: StrInput = Field(description="The ALB's ARN suffix (the LoadBalancer metric dimension).")
    alb_security_group_id: StrInput = Field(description="The ALB's security group, the only source services admit.")
    kms_key_arn: StrInput = Field(description="Key for log groups and secrets.")
    alarm_topic_arn: StrInput = Field(description="Topic every alarm notifies.")
    log_group_prefix: StrInput = Field(description="Prefix of the environment's log group names.")
    log_retention_days: IntInput = Field(description="Retention of every log group in the environment.")
    url: StrInput = Field(description="https:// URL of the environment's first domain (or the ALB's DNS name).")
    alb_subnet_cidrs: Optional[list[str]] = Field(
        None, description="The ALB subnets' CIDRs (X-Forwarded-For trust); None when not known to this program."
    )
    interface_endpoints: Optional[list[str]] = Field(
        None, description="Interface endpoints beyond the base set; None when not known to this program."
    )
    nat: Optional[bool] = Field(None, description="Whether tasks have NAT egress; None when not known.")
    web_acl_metric_name: Optional[StrInput] = Field(
        None, description="The WAF ACL's metric name (the WAFV2 WebACL dimension); None without a WAF."
    )
    sign_in_egress: Optional[BoolInput] = Field(
        None,
        description="Whether the load balancer may reach identity providers (`load_balancer.sign_in_egress`), "
        "which a route that authenticates needs; None when the environment does not say (refused like False).",
    )
    execute_command_log_group_arn: Optional[StrInput] = Field(
        None, description="ECS Exec session log group, when the cluster is configured for ECS Exec."
    )
    in_other_stack: bool = Field(
        False,
        description="The environment is another stack's: its listener's other rules are not visible here, so "
        "services take explicit priorities from the app-stack range (`routing.APP_STACK_PRIORITIES`).",
    )
    #: The routes this program has attached so far (service name -> routing), so a service that would
    #: shadow another's route or reuse its priority is refused before anything is registered. Services
    #: of other stacks are not visible here.
    _routes: dict[str, Any] = PrivateAttr(default_factory=dict)
    _test_rules: set[str] = PrivateAttr(default_factory=set)

    @classmethod
    def planned(cls, name: str, settings: EnvironmentSettings) -> "EnvironmentRef":
        """The reference an `Environment` with these settings will report, before any resource exists:
        what a program checks its services against first. The facts a service reads while the program
        runs are those `Environment.ref` gets; the resource IDs are placeholders."""
        endpoints, nat = egress_facts(settings)
        placeholder = "(planned)"
        return cls(
            name=name, vpc_id=placeholder, private_subnet_ids=[placeholder], cluster_arn=placeholder,
            cluster_name=placeholder, https_listener_arn=placeholder, alb_arn_suffix=placeholder,
            alb_security_group_id=placeholder, kms_key_arn=placeholder, alarm_topic_arn=placeholder,
            log_group_prefix=placeholder, log_retention_days=settings.monitoring.log_retention_days,
            url=f"https://{placeholder}",
            alb_subnet_cidrs=alb_subnet_cidrs(settings.network),
            interface_endpoints=endpoints,
            nat=nat,
            execute_command_log_group_arn=placeholder if settings.execute_command else None,
            sign_in_egress=settings.load_balancer.sign_in_egress,
        )

    def attach_route(self, service: str, routing: Any, test_rule: bool = False) -> None:
        """Record a service's route on this environment's listener, refusing one that conflicts
        (`test_rule`: the route has a deployment's test listener rule too)."""
        from rampart.components.routing import check_routes

        if service in self._routes:
            raise ValueError(f"a service named {service!r} is already attached to environment {self.name!r}")
        test_rules = {*self._test_rules, service} if test_rule else set(self._test_rules)
        check_routes({**self._routes, service: routing}, where=f"environment {self.name!r}: services", test_rules=test_rules)
        self._routes[service] = routing
        self._test_rules = test_rules

    def outputs(self) -> dict[str, Any]:
        """The reference as a stack output (plain values and Outputs), for `pulumi.export`."""
        return {key: value for key, value in self.__dict__.items() if value is not None and key != "in_other_stack"}

    @classmethod
    def from_outputs(cls, outputs: pulumi.Output[Mapping[str, Any]], name: str) -> "EnvironmentRef":
        """A reference from another stack's exported `environment` output.

        Values this program needs while it runs (the ALB subnets' CIDRs, the endpoints) are not
        known before that stack is read, so they are None here; a service asks for them explicitly.
        """

        def field(key: str) -> pulumi.Output[Any]:
            def pick(values: Mapping[str, Any]) -> Any:
                if key not in values:
                    raise ValueError(f"the environment stack {name!r} exports no `{ENVIRONMENT_OUTPUT}.{key}`")
                return values[key]

            return outputs.apply(pick)

        optional: Callable[[str], pulumi.Output[Any]] = lambda key: outputs.apply(lambda v: v.get(key))  # noqa: E731
        return cls(
            name=name,
            vpc_id=field("vpc_id"),
            private_subnet_ids=field("private_subnet_ids"),
            cluster_arn=field("cluster_arn"),
            cluster_name=field("cluster_name"),
            https_listener_arn=field("https_listener_arn"),
            alb_arn_suffix=field("alb_arn_suffix"),
            alb_security_group_id=field("alb_security_group_id"),
            kms_key_arn=field("kms_key_arn"),
            alarm_topic_arn=field("alarm_topic_arn"),
            log_group_prefix=field("log_group_prefix"),
            log_retention_days=field("log_retention_days"),
            url=field("url"),
            execute_command_log_group_arn=optional("execute_command_log_group_arn"),
            web_acl_metric_name=optional("web_acl_metric_name"),
            sign_in_egress=optional("sign_in_egress"),
            in_other_stack=True,
        )

    @classmethod
    def from_stack_reference(cls, stack_name: str, opts: Optional[pulumi.ResourceOptions] = None) -> "EnvironmentRef":
        """Attach to the environment another stack exports (`org/project/stack`)."""
        reference = pulumi.StackReference(stack_name, opts=opts)
        return cls.from_outputs(reference.require_output(ENVIRONMENT_OUTPUT), stack_name)


class Environment(pulumi.ComponentResource):
    """The shared parts of an environment: network, key and alarm topic, cluster, ALB and web ACL."""

    ref: EnvironmentRef
    monitoring: Monitoring
    network: Network
    cluster: aws.ecs.Cluster
    load_balancer: LoadBalancer
    web_acl: Optional[WebAcl]
    compliance: Optional[Compliance]

    def __init__(self, name: str, args: EnvironmentArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        check_component_name(name)
        super().__init__("rampart:environment:Environment", name, None, opts)
        self._tags = merge_tags(args.tags)
        self._prefix = args.log_group_prefix or default_log_group_prefix(name)
        self.monitoring = Monitoring(f"{name}-monitoring", self._with_tags(args.monitoring, args), opts=self._child())
        self.network = self._network(name, args)
        exec_log_group = self._exec_log_group(name, args) if args.execute_command else None
        self.cluster = self._cluster(name, exec_log_group)
        self.load_balancer = LoadBalancer(
            f"{name}-lb",
            LoadBalancerArgs(
                **self._with_tags(args.load_balancer, args).model_dump(),
                vpc_id=self.network.vpc_id,
                subnet_ids=list(self.network.public_subnet_ids),
                target_cidr_block=self.network.vpc_cidr_block,
            ),
            opts=self._child(),
        )
        self.web_acl = self._web_acl(name, args) if args.waf is not None else None
        if args.alarms.enabled:
            self._alarms(name, args.alarms)
        self.compliance = self._compliance(name, args) if args.compliance.deploys_rules else None

        endpoints, nat = egress_facts(args)
        self.ref = EnvironmentRef(
            name=name,
            vpc_id=self.network.vpc_id,
            private_subnet_ids=list(self.network.private_subnet_ids),
            cluster_arn=self.cluster.arn,
            cluster_name=self.cluster.name,
            https_listener_arn=self.load_balancer.https_listener.arn,
            alb_arn_suffix=self.load_balancer.alb.arn_suffix,
            alb_security_group_id=self.load_balancer.security_group.id,
            kms_key_arn=self.monitoring.kms_key_arn,
            alarm_topic_arn=self.monitoring.alarm_topic_arn,
            log_group_prefix=self._prefix,
            log_retention_days=args.monitoring.log_retention_days,
            url=self.load_balancer.url,
            alb_subnet_cidrs=self.network.public_subnet_cidrs,
            interface_endpoints=endpoints,
            nat=nat,
            execute_command_log_group_arn=exec_log_group.arn if exec_log_group is not None else None,
            web_acl_metric_name=self.web_acl.web_acl_metric_name if self.web_acl is not None else None,
            sign_in_egress=args.load_balancer.sign_in_egress,
        )
        self.dashboard = self._dashboard(name)
        self.log_group_names: dict[str, pulumi.Output[str]] = {}
        if self.network.flow_log_group is not None:
            self.log_group_names["vpc_flow"] = self.network.flow_log_group.name
        if self.web_acl is not None and self.web_acl.log_group is not None:
            self.log_group_names["waf"] = self.web_acl.log_group.name
        if exec_log_group is not None:
            self.log_group_names["exec"] = exec_log_group.name
        self.register_outputs({ENVIRONMENT_OUTPUT: self.ref.outputs()})

    # --- pieces, in the order the constructor uses them -------------------------------------
    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _with_tags(self, settings: Any, args: EnvironmentArgs) -> Any:
        """A sub-component's settings with the environment's tags under its own."""
        return settings.model_copy(update={"tags": {**args.tags, **settings.tags}})

    def _network(self, name: str, args: EnvironmentArgs) -> Network:
        return Network(
            f"{name}-network",
            NetworkArgs(
                **self._with_tags(args.network, args).model_dump(exclude={"flow_log_retention_days"}),
                extra_endpoints=list(args.extra_endpoints),
                kms_key_arn=self.monitoring.kms_key_arn,
                flow_log_retention_days=args.network.flow_log_retention_days or args.monitoring.log_retention_days,
                log_group_prefix=self._prefix,
            ),
            opts=self._child(),
        )

    def _exec_log_group(self, name: str, args: EnvironmentArgs) -> aws.cloudwatch.LogGroup:
        return encrypted_log_group(
            f"{name}-exec-logs",
            log_group_name=f"{self._prefix}/ecs-exec",
            kms_key_arn=self.monitoring.kms_key_arn,
            retention_days=args.monitoring.log_retention_days,
            tags=self._tags,
            parent=self,
        )

    def _cluster(self, name: str, exec_log_group: Optional[aws.cloudwatch.LogGroup]) -> aws.ecs.Cluster:
        configuration = None
        if exec_log_group is not None:
            configuration = aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    kms_key_id=self.monitoring.kms_key_arn,
                    logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_log_group_name=exec_log_group.name,
                        cloud_watch_encryption_enabled=True,
                    ),
                )
            )
        return aws.ecs.Cluster(
            f"{name}-cluster",
            aws.ecs.ClusterArgs(
                settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
                configuration=configuration,
                tags=self._tags,
            ),
            opts=self._child(),
        )

    def _web_acl(self, name: str, args: EnvironmentArgs) -> WebAcl:
        assert args.waf is not None
        waf = self._with_tags(args.waf, args)
        return WebAcl(
            f"{name}-waf",
            WebAclArgs(
                **{k: getattr(waf, k) for k in WafSettings.model_fields},
                resource_arn=self.load_balancer.alb.arn,
                kms_key_arn=self.monitoring.kms_key_arn,
                log_retention_days=args.monitoring.log_retention_days,
            ),
            opts=self._child(),
        )

    def _compliance(self, name: str, args: EnvironmentArgs) -> Compliance:
        """The AWS Config rules of the pack's controls, scoped to this environment's resources by a tag
        every one of them carries (`Environment` from the stack's tags by default)."""
        settings = args.compliance
        key = settings.tag_key or (DEFAULT_SCOPE_TAG if DEFAULT_SCOPE_TAG in self._tags else "managed-by")
        value = settings.tag_value or self._tags.get(key)
        if value is None:
            raise ValueError(
                f"compliance.tag_key {key!r} is not among the environment's tags ({', '.join(sorted(self._tags))}); "
                "add it to `tags`, set `compliance.tag_value`, or choose another tag key"
            )
        return Compliance(
            f"{name}-compliance",
            ComplianceArgs(
                tag_key=key,
                tag_value=value,
                alarm_topic_arn=self.monitoring.alarm_topic_arn,
                thresholds=dict(args.policy_thresholds),
                enforcement=dict(args.policy_enforcement),
                recorder=settings.recorder,
                tags={**args.tags, **settings.tags},
            ),
            opts=self._child(),
        )

    def _dashboard(self, name: str) -> aws.cloudwatch.Dashboard:
        """The environment's dashboard: its load balancer, WAF and cluster, any attached service chosen
        in its toolbar, and every service's sidecar (a service's own dashboard is opt-in)."""
        region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
        widgets, selectors = environment_dashboard(
            self.load_balancer.alb.arn_suffix, self.cluster.name, region,
            self.web_acl.web_acl_metric_name if self.web_acl is not None else None,
        )
        return dashboard(
            f"{name}-environment-dashboard", f"{name}-environment", dashboard_body(widgets, region, selectors), self
        )

    def _alarms(self, name: str, thresholds: EnvironmentAlarmSettings) -> None:
        """The environment's own alarms: the load balancer's 5xx and a spike of WAF blocks.
        Each service alarms on its own target group and tasks."""
        topic = self.monitoring.alarm_topic_arn
        metric_alarm(
            f"{name}-alarm-alb-5xx",
            description=f"{name}: the load balancer itself answered 5xx (no healthy target, timeouts) more than "
            f"{thresholds.alb_5xx_per_minute} times a minute",
            namespace="AWS/ApplicationELB",
            metric_name="HTTPCode_ELB_5XX_Count",
            dimensions={"LoadBalancer": self.load_balancer.alb.arn_suffix},
            statistic="Sum",
            threshold=thresholds.alb_5xx_per_minute,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            topic_arn=topic,
            tags=self._tags,
            parent=self,
        )
        if self.web_acl is not None:
            region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
            metric_alarm(
                f"{name}-alarm-waf-blocked",
                description=f"{name}: spike of WAF-blocked requests (more than {thresholds.waf_blocked_requests} in 5 minutes)",
                namespace="AWS/WAFV2",
                metric_name="BlockedRequests",
                dimensions={"WebACL": self.web_acl.web_acl_metric_name, "Region": region, "Rule": "ALL"},
                statistic="Sum",
                period=300,
                threshold=thresholds.waf_blocked_requests,
                evaluation_periods=1,
                topic_arn=topic,
                tags=self._tags,
                parent=self,
            )
