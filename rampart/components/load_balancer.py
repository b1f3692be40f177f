"""Load balancer: the environment's internet-facing ALB, shared by its services.

HTTPS only (HTTP redirects), one ACM certificate per domain served by SNI, a hardened
configuration, access logs into a locked-down S3 bucket, a security group that admits 80/443 from
the internet and reaches only the VPC's task ports (and, with `sign_in_egress`, identity providers on
443 for the listener rules that authenticate), and an HTTPS listener whose default action
answers 404: a request reaches a service only through that service's own listener rule
(`rampart.components.routing`).
"""

from __future__ import annotations

import re
from typing import Literal, Optional, get_args

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator
from rampart_soc2.vocabulary.thresholds import TLS_POLICIES

from rampart.components._util import ArgsModel, AwsContext, StrInput, merge_tags, physical_name, Tags
from rampart.components.buckets import locked_bucket

#: ALB security policies that negotiate only TLS 1.2 and 1.3 with forward-secret ciphers: the SOC 2 pack's
#: list (its allowedTlsPolicies default), owned by `rampart_soc2.vocabulary.thresholds`.
TlsPolicy = Literal[TLS_POLICIES]  # type: ignore[valid-type]
ALLOWED_TLS_POLICIES: tuple[str, ...] = get_args(TlsPolicy)
DEFAULT_TLS_POLICY: TlsPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

INTERNET_IPV4 = "0.0.0.0/0"
#: Where in the access-log bucket the ALB writes (the bucket policy admits log delivery there only).
ACCESS_LOG_PREFIX = "alb"


class DomainSettings(ArgsModel):
    """A DNS name the load balancer serves, with the hosted zone that validates its certificate."""

    domain: str = Field(description="Lower-case DNS name, e.g. app.example.com.")
    hosted_zone_id: StrInput = Field(description="Route 53 hosted zone of `domain` (certificate validation and alias).")
    create_dns_record: bool = Field(True, description="Create an alias A record pointing the domain at the ALB.")

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not _DOMAIN.match(value):
            raise ValueError(f"domain {value!r} is not a lower-case DNS name such as app.example.com")
        return value


class LoadBalancerSettings(ArgsModel):
    """What the platform team chooses about the shared load balancer (Environment fills in the wiring)."""

    certificate_arns: list[StrInput] = Field(
        default_factory=list, description="Existing ACM certificates for HTTPS (the first is the listener's default; "
        "the others are served by SNI)."
    )
    domains: list[DomainSettings] = Field(
        default_factory=list,
        description="DNS names to serve: one ACM certificate per domain, DNS-validated in its hosted zone, served by SNI.",
    )
    tls_policy: TlsPolicy = Field(
        DEFAULT_TLS_POLICY, description="HTTPS listener security policy; only TLS 1.2+ forward-secret policies."
    )
    deletion_protection: bool = Field(True, description="Refuse to delete the ALB until this is turned off.")
    desync_mitigation: Literal["defensive", "strictest"] = Field(
        "defensive", description="HTTP desync mitigation mode (`monitor` is not offered)."
    )
    drop_invalid_header_fields: bool = Field(
        True, description="Drop HTTP headers with invalid names instead of forwarding them (request smuggling)."
    )
    idle_timeout_seconds: int = Field(60, ge=1, le=4000, description="ALB idle connection timeout.")
    access_logs: bool = Field(True, description="Write ALB access logs to S3; False skips the bucket.")
    access_log_bucket: Optional[StrInput] = Field(
        None, description="Existing bucket (name) for access logs; its policy must admit ELB log delivery. "
        "None creates an encrypted, versioned, private, TLS-only bucket.",
    )
    access_log_expiry_days: int = Field(365, ge=1, le=3653, description="Days access logs are kept (created bucket).")
    access_log_force_destroy: bool = Field(
        False, description="Let `pulumi destroy` empty the created log bucket (keeps evidence when False)."
    )
    sign_in_egress: bool = Field(
        False,
        description="Let the ALB reach identity providers on TCP 443 on the internet: listener rules that "
        "authenticate (OIDC, Cognito) call the provider's token and user-info endpoints (or the Cognito domain) "
        "after sign-in, and fail with HTTP 500/561 without it. Off: the ALB reaches only its targets.",
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @model_validator(mode="after")
    def _certificate(self) -> "LoadBalancerSettings":
        if not self.certificate_arns and not self.domains:
            raise ValueError(
                "HTTPS needs a certificate: give `domains` (each with its `hosted_zone_id`) or `certificate_arns`"
            )
        names = [d.domain for d in self.domains]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"domains lists {', '.join(twice)} twice; give each domain once")
        if self.access_log_bucket is not None and not self.access_logs:
            raise ValueError("`access_log_bucket` is set but `access_logs` is False; drop one of them")
        return self


#: Ports the ALB may reach tasks on: services listen on unprivileged ports (container_port >= 1024).
TARGET_PORTS = (1024, 65535)
#: Where a signing-in ALB reaches identity providers: HTTPS, anywhere on the internet (an IdP's
#: addresses are not published and change; AWS documents the ALB's group must allow this egress).
SIGN_IN_PORT = 443
SIGN_IN_EGRESS_DESCRIPTION = (
    "HTTPS to identity providers: OIDC token and user-info endpoints, Cognito domains (listener rules that authenticate)"
)

#: What the HTTPS listener answers when no service's rule matches the request.
NOT_FOUND_BODY = '{"error":"not found"}'


class LoadBalancerArgs(LoadBalancerSettings):
    """Settings plus the wiring: where the ALB lives and where its targets are."""

    vpc_id: StrInput = Field(description="VPC of the ALB and its targets.")
    subnet_ids: list[StrInput] = Field(min_length=2, description="Public subnets (two or more AZs).")
    target_cidr_block: StrInput = Field(
        description="The VPC's CIDR: the ALB's only egress destination, on the task ports (1024-65535); each "
        "service's own group admits only the ALB's group on its one port."
    )


class LoadBalancer(pulumi.ComponentResource):
    """ALB, listeners, security group, certificates and access-log bucket, shared by an environment's services."""

    alb: aws.lb.LoadBalancer
    security_group: aws.ec2.SecurityGroup
    https_listener: aws.lb.Listener
    log_bucket: Optional[aws.s3.Bucket]
    log_bucket_name: Optional[pulumi.Output[str]]
    url: pulumi.Output[str]
    certificate_arns: list[pulumi.Output[str]]
    domains: list[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("rampart:load_balancer:LoadBalancer", name, None, opts)
        tags = merge_tags(args.tags)

        self.security_group = self._security_group(name, args, tags)
        self.log_bucket, self.log_bucket_name, log_delivery = self._access_logs(name, args, tags)
        self.alb = self._alb(name, args, tags, self.log_bucket_name, log_delivery)
        self.certificate_arns = self._certificates(name, args, tags)
        self._http_redirect(name, tags)
        self.https_listener = self._https_listener(name, args, tags)
        self._dns_records(name, args)
        self.domains = [d.domain for d in args.domains]
        self.url = self._url()

        self.register_outputs(
            {
                "url": self.url,
                "dns_name": self.alb.dns_name,
                "alb_arn": self.alb.arn,
                "https_listener_arn": self.https_listener.arn,
                "security_group_id": self.security_group.id,
                "access_log_bucket": self.log_bucket_name,
            }
        )

    # --- pieces, in the order the constructor uses them -------------------------------------
    def _security_group(self, name: str, args: LoadBalancerArgs, tags: dict[str, str]) -> aws.ec2.SecurityGroup:
        """443 and 80 from the internet; egress to the tasks on their ports and, with `sign_in_egress`,
        to identity providers on 443."""
        child = pulumi.ResourceOptions(parent=self)
        # A group's description cannot change without replacing the group: the words change only
        # when the group does more.
        reaches = "the service and identity providers" if args.sign_in_egress else "the service only"
        group = aws.ec2.SecurityGroup(
            f"{name}-alb-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description=f"{name} ALB: HTTPS/HTTP from the internet, egress to {reaches}",
                tags={**tags, "Name": f"{name}-alb"},
            ),
            opts=child,
        )
        for port, why in ((443, "HTTPS from the internet"), (80, "HTTP from the internet (redirected to HTTPS)")):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-in-{port}",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=INTERNET_IPV4,
                    description=why,
                    tags=tags,
                ),
                opts=child,
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-out-tasks",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=TARGET_PORTS[0],
                to_port=TARGET_PORTS[1],
                cidr_ipv4=args.target_cidr_block,
                description="To the service tasks in this VPC (each task group admits only this ALB, on its own port)",
                tags=tags,
            ),
            opts=child,
        )
        if args.sign_in_egress:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-alb-out-sign-in",
                aws.vpc.SecurityGroupEgressRuleArgs(
                    security_group_id=group.id,
                    ip_protocol="tcp",
                    from_port=SIGN_IN_PORT,
                    to_port=SIGN_IN_PORT,
                    cidr_ipv4=INTERNET_IPV4,
                    description=SIGN_IN_EGRESS_DESCRIPTION,
                    tags=tags,
                ),
                opts=child,
            )
        return group

    def _certificates(self, name: str, args: LoadBalancerArgs, tags: dict[str, str]) -> list[pulumi.Output[str]]:
        """The given certificates, then one DNS-validated certificate per domain."""
        arns = [pulumi.Output.from_input(arn) for arn in args.certificate_arns]
        arns += [self._domain_certificate(f"{name}-cert-{d.domain}", d, tags) for d in args.domains]
        return arns

    def _domain_certificate(self, name: str, domain: DomainSettings, tags: dict[str, str]) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(
            name,
            aws.acm.CertificateArgs(
                domain_name=domain.domain,
                validation_method="DNS",
                key_algorithm="EC_prime256v1",
                tags=tags,
            ),
            opts=child,
        )
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        record = aws.route53.Record(
            f"{name}-validation",
            aws.route53.RecordArgs(
                zone_id=domain.hosted_zone_id,
                name=option.apply(lambda o: o.resource_record_name or ""),
                type=option.apply(lambda o: o.resource_record_type or "CNAME"),
                records=[option.apply(lambda o: o.resource_record_value or "")],
                ttl=300,
                allow_overwrite=True,
            ),
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-validated",
            aws.acm.CertificateValidationArgs(
                certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn]
            ),
            opts=child,
        )
        return validation.certificate_arn

    def _access_logs(
        self, name: str, args: LoadBalancerArgs, tags: dict[str, str]
    ) -> tuple[Optional[aws.s3.Bucket], Optional[pulumi.Output[str]], list[pulumi.Resource]]:
        """Access logs: skip, an existing bucket, or a bucket created here. Returns the bucket created
        (if any), the bucket's name (None when skipped) and what the ALB must wait for before it
        checks that it may write there (the created bucket's policy)."""
        if not args.access_logs:
            return None, None, []
        if args.access_log_bucket is not None:
            return None, pulumi.Output.from_input(args.access_log_bucket), []
        ctx = AwsContext(pulumi.InvokeOptions(parent=self))
        bucket, bucket_policy = self._log_bucket(name, args, tags, ctx, ACCESS_LOG_PREFIX)
        return bucket, bucket.id, [bucket_policy]  # an S3 bucket's id is its name

    def _alb(
        self,
        name: str,
        args: LoadBalancerArgs,
        tags: dict[str, str],
        log_bucket_name: Optional[pulumi.Output[str]],
        log_delivery: list[pulumi.Resource],
    ) -> aws.lb.LoadBalancer:
        """The internet-facing ALB: hardened settings, access logs into `log_bucket_name` when given."""
        alb_name = physical_name(name, 32)  # ALB names: at most 32 characters, unique per region
        return aws.lb.LoadBalancer(
            f"{name}-alb",
            aws.lb.LoadBalancerArgs(
                name=alb_name,
                load_balancer_type="application",
                internal=False,
                subnets=args.subnet_ids,
                security_groups=[self.security_group.id],
                drop_invalid_header_fields=args.drop_invalid_header_fields,
                desync_mitigation_mode=args.desync_mitigation,
                enable_deletion_protection=args.deletion_protection,
                idle_timeout=args.idle_timeout_seconds,
                enable_http2=True,
                access_logs=(
                    aws.lb.LoadBalancerAccessLogsArgs(bucket=log_bucket_name, prefix=ACCESS_LOG_PREFIX, enabled=True)
                    if log_bucket_name is not None
                    else None
                ),
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=log_delivery),
        )

    def _http_redirect(self, name: str, tags: dict[str, str]) -> None:
        """The HTTP listener: every request redirected to HTTPS (301)."""
        aws.lb.Listener(
            f"{name}-http",
            aws.lb.ListenerArgs(
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="redirect",
                        redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                            protocol="HTTPS", port="443", status_code="HTTP_301"
                        ),
                    )
                ],
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _https_listener(self, name: str, args: LoadBalancerArgs, tags: dict[str, str]) -> aws.lb.Listener:
        """The HTTPS listener: the first certificate as its default, the others added for SNI, and a
        404 for every request no service's rule matches."""
        child = pulumi.ResourceOptions(parent=self)
        listener = aws.lb.Listener(
            f"{name}-https",
            aws.lb.ListenerArgs(
                load_balancer_arn=self.alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=args.tls_policy,
                certificate_arn=self.certificate_arns[0],
                # A request reaches a service only through that service's listener rule.
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="fixed-response",
                        fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                            content_type="application/json", message_body=NOT_FOUND_BODY, status_code="404"
                        ),
                    )
                ],
                tags=tags,
            ),
            opts=child,
        )
        for index, arn in enumerate(self.certificate_arns[1:], start=1):
            aws.lb.ListenerCertificate(
                f"{name}-https-cert-{index}",
                aws.lb.ListenerCertificateArgs(listener_arn=listener.arn, certificate_arn=arn),
                opts=child,
            )
        return listener

    def _dns_records(self, name: str, args: LoadBalancerArgs) -> None:
        """An alias A record to the ALB for each domain that asks for one."""
        for domain in args.domains:
            if domain.create_dns_record:
                aws.route53.Record(
                    f"{name}-dns-{domain.domain}",
                    aws.route53.RecordArgs(
                        zone_id=domain.hosted_zone_id,
                        name=domain.domain,
                        type="A",
                        aliases=[
                            aws.route53.RecordAliasArgs(
                                name=self.alb.dns_name, zone_id=self.alb.zone_id, evaluate_target_health=True
                            )
                        ],
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )

    def _url(self) -> pulumi.Output[str]:
        """The first domain's HTTPS URL, or the ALB's DNS name's."""
        if self.domains:
            return pulumi.Output.from_input(f"https://{self.domains[0]}")
        return pulumi.Output.concat("https://", self.alb.dns_name)

    def _log_bucket(
        self,
        name: str,
        args: LoadBalancerArgs,
        tags: dict[str, str],
        ctx: AwsContext,
        prefix: str,
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        """The ALB's access-log bucket, with S3 server access logging into a dedicated bucket.

        The dedicated bucket (`<name>-alb-logs-access`) is the end of the chain: it holds only the
        server access logs of the ALB log bucket, is locked down the same way (SSE-S3, which is what
        S3 log delivery accepts, public access block, TLS-only policy, versioning, lifecycle) and
        logs nowhere itself: logging a bucket into itself loops, and into a third bucket never ends.
        """
        elb_account = aws.elb.get_service_account_output(opts=pulumi.InvokeOptions(parent=self))
        bucket, policy = locked_bucket(
            f"{name}-alb-logs",
            self,
            tags,
            lambda arn: [
                {
                    "Sid": "RegionalElbLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"AWS": elb_account.arn},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.concat(arn, f"/{prefix}/AWSLogs/", ctx.account_id, "/*"),
                },
                {
                    "Sid": "ElbLogDeliveryService",
                    "Effect": "Allow",
                    "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.concat(arn, f"/{prefix}/AWSLogs/", ctx.account_id, "/*"),
                },
            ],
            force_destroy=args.access_log_force_destroy,
            expiry_days=args.access_log_expiry_days,
        )
        access_prefix = "s3-access/"
        access_bucket, access_policy = locked_bucket(
            f"{name}-alb-logs-access",
            self,
            tags,
            lambda arn: [
                {
                    "Sid": "S3ServerAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.concat(arn, f"/{access_prefix}*"),
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": bucket.arn},
                        "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    },
                }
            ],
            force_destroy=args.access_log_force_destroy,
            expiry_days=args.access_log_expiry_days,
        )
        aws.s3.BucketLogging(
            f"{name}-alb-logs-server-access-logging",
            aws.s3.BucketLoggingInitArgs(
                bucket=bucket.id, target_bucket=access_bucket.id, target_prefix=access_prefix
            ),
            # Log delivery is admitted by the target's policy, which must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access_policy]),
        )
        return bucket, policy
