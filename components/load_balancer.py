"""Load balancer: an internet-facing ALB with HTTPS only (HTTP redirects), an ACM certificate,
a hardened configuration, access logs into a locked-down S3 bucket, a target group with health
checks, and a security group that admits 80/443 from the internet and reaches only the service.
"""

from __future__ import annotations

import re
from typing import Literal, Optional, get_args

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components._util import ArgsModel, AwsContext, StrInput, merge_tags, physical_name, policy_json, Tags

#: ALB security policies that negotiate only TLS 1.2 and 1.3 with forward-secret ciphers: exactly the
#: SOC 2 pack's default allowedTlsPolicies (tests/foundation/test_agreement.py keeps the two equal).
TlsPolicy = Literal[
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
]
ALLOWED_TLS_POLICIES: tuple[str, ...] = get_args(TlsPolicy)
DEFAULT_TLS_POLICY: TlsPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_MATCHER = re.compile(r"^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$")

INTERNET_IPV4 = "0.0.0.0/0"


class HealthCheckSettings(ArgsModel):
    """Target group health check (what the ALB probes before sending traffic to a task)."""

    path: str = Field("/healthz", description="HTTP path probed; must answer `matcher` when healthy.")
    matcher: str = Field("200", description="HTTP codes that mean healthy, e.g. `200` or `200-299`.")
    interval_seconds: int = Field(15, ge=5, le=300, description="Seconds between probes.")
    timeout_seconds: int = Field(5, ge=2, le=120, description="Seconds before a probe counts as failed.")
    healthy_threshold: int = Field(2, ge=2, le=10, description="Consecutive successes to become healthy.")
    unhealthy_threshold: int = Field(3, ge=2, le=10, description="Consecutive failures to become unhealthy.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError(f"health_check.path {value!r} must be an absolute URL path such as /healthz")
        return value

    @field_validator("matcher")
    @classmethod
    def _matcher(cls, value: str) -> str:
        if not _MATCHER.match(value):
            raise ValueError(f"health_check.matcher {value!r} must be HTTP codes such as 200 or 200-299")
        return value

    @model_validator(mode="after")
    def _timeout(self) -> "HealthCheckSettings":
        if self.timeout_seconds >= self.interval_seconds:
            raise ValueError(
                f"health_check.timeout_seconds ({self.timeout_seconds}) must be less than "
                f"health_check.interval_seconds ({self.interval_seconds})"
            )
        return self


class LoadBalancerSettings(ArgsModel):
    """What a service owner chooses about the load balancer (WebService fills in the wiring)."""

    certificate_arn: Optional[StrInput] = Field(
        None, description="Existing ACM certificate for HTTPS; give either this or `domain`."
    )
    domain: Optional[str] = Field(
        None, description="DNS name to serve: an ACM certificate is created and DNS-validated in `hosted_zone_id`."
    )
    hosted_zone_id: Optional[StrInput] = Field(
        None, description="Route 53 hosted zone of `domain` (certificate validation and the alias record)."
    )
    create_dns_record: bool = Field(
        True, description="With `domain`: create an alias A record pointing the domain at the ALB."
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
    deregistration_delay_seconds: int = Field(
        30, ge=0, le=3600, description="Connection draining for deregistering targets (short for fast deploys)."
    )
    health_check: HealthCheckSettings = Field(
        default_factory=HealthCheckSettings, description="Target group health check."
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _DOMAIN.match(value):
            raise ValueError(f"domain {value!r} is not a lower-case DNS name such as app.example.com")
        return value

    @model_validator(mode="after")
    def _certificate(self) -> "LoadBalancerSettings":
        if self.certificate_arn is not None and self.domain is not None:
            raise ValueError("give either `certificate_arn` or `domain`, not both")
        if self.certificate_arn is None and self.domain is None:
            raise ValueError("HTTPS needs a certificate: give `certificate_arn` or `domain` (with `hosted_zone_id`)")
        if self.domain is not None and self.hosted_zone_id is None:
            raise ValueError("`domain` needs `hosted_zone_id`, the Route 53 zone where the certificate is validated")
        if self.access_log_bucket is not None and not self.access_logs:
            raise ValueError("`access_log_bucket` is set but `access_logs` is False; drop one of them")
        return self


class LoadBalancerArgs(LoadBalancerSettings):
    """Settings plus the wiring: where the ALB lives and what it sends traffic to."""

    vpc_id: StrInput = Field(description="VPC of the ALB and its targets.")
    subnet_ids: list[StrInput] = Field(min_length=2, description="Public subnets (two or more AZs).")
    target_port: int = Field(ge=1, le=65535, description="Port of the targets (app or proxy container).")
    target_protocol: Literal["HTTP", "HTTPS"] = Field(
        "HTTP", description="Protocol to the targets: HTTPS when a TLS sidecar terminates in the task."
    )
    target_security_group_id: StrInput = Field(
        description="The service's security group: the only egress destination of the ALB's group."
    )


class LoadBalancer(pulumi.ComponentResource):
    """ALB, listeners, target group, security group, certificate and access-log bucket."""

    alb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    security_group: aws.ec2.SecurityGroup
    https_listener: aws.lb.Listener
    log_bucket: Optional[aws.s3.Bucket]
    url: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("rampart:load_balancer:LoadBalancer", name, None, opts)
        tags = merge_tags(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        ctx = AwsContext(pulumi.InvokeOptions(parent=self))

        # Security group: 443 and 80 from the internet, egress only to the service on its port.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-alb-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description=f"{name} ALB: HTTPS/HTTP from the internet, egress to the service only",
                tags={**tags, "Name": f"{name}-alb"},
            ),
            opts=child,
        )
        for port, why in ((443, "HTTPS from the internet"), (80, "HTTP from the internet (redirected to HTTPS)")):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-in-{port}",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=self.security_group.id,
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
            f"{name}-alb-out-service",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=args.target_port,
                to_port=args.target_port,
                referenced_security_group_id=args.target_security_group_id,
                description=f"To the service tasks on port {args.target_port}",  # EC2 refuses apostrophes here
                tags=tags,
            ),
            opts=child,
        )

        # Access logs: skip, existing bucket, or a bucket created here.
        self.log_bucket = None
        log_bucket_name: Optional[pulumi.Output[str]] = None
        depends: list[pulumi.Resource] = []
        log_prefix = "alb"
        if args.access_logs:
            if args.access_log_bucket is not None:
                log_bucket_name = pulumi.Output.from_input(args.access_log_bucket)
            else:
                self.log_bucket, bucket_policy = self._log_bucket(name, args, tags, ctx, log_prefix)
                log_bucket_name = self.log_bucket.id  # an S3 bucket's id is its name
                depends.append(bucket_policy)

        alb_name = physical_name(name, 32)  # ALB names: at most 32 characters, unique per region
        self.alb = aws.lb.LoadBalancer(
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
                    aws.lb.LoadBalancerAccessLogsArgs(bucket=log_bucket_name, prefix=log_prefix, enabled=True)
                    if log_bucket_name is not None
                    else None
                ),
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

        hc = args.health_check
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            aws.lb.TargetGroupArgs(
                name_prefix="rmp-",
                vpc_id=args.vpc_id,
                target_type="ip",
                port=args.target_port,
                protocol=args.target_protocol,
                deregistration_delay=args.deregistration_delay_seconds,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    enabled=True,
                    protocol=args.target_protocol,
                    port="traffic-port",
                    path=hc.path,
                    matcher=hc.matcher,
                    interval=hc.interval_seconds,
                    timeout=hc.timeout_seconds,
                    healthy_threshold=hc.healthy_threshold,
                    unhealthy_threshold=hc.unhealthy_threshold,
                ),
                tags=tags,
            ),
            opts=child,
        )

        self.certificate_arn = self._certificate(name, args, tags)

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
            opts=child,
        )
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            aws.lb.ListenerArgs(
                load_balancer_arn=self.alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=args.tls_policy,
                certificate_arn=self.certificate_arn,
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)
                ],
                tags=tags,
            ),
            opts=child,
        )

        if args.domain is not None:
            if args.create_dns_record:
                assert args.hosted_zone_id is not None
                aws.route53.Record(
                    f"{name}-dns",
                    aws.route53.RecordArgs(
                        zone_id=args.hosted_zone_id,
                        name=args.domain,
                        type="A",
                        aliases=[
                            aws.route53.RecordAliasArgs(
                                name=self.alb.dns_name, zone_id=self.alb.zone_id, evaluate_target_health=True
                            )
                        ],
                    ),
                    opts=child,
                )
            self.url = pulumi.Output.from_input(f"https://{args.domain}")
        else:
            self.url = pulumi.Output.concat("https://", self.alb.dns_name)

        self.log_bucket_name = log_bucket_name
        self.register_outputs(
            {
                "url": self.url,
                "dns_name": self.alb.dns_name,
                "alb_arn": self.alb.arn,
                "target_group_arn": self.target_group.arn,
                "security_group_id": self.security_group.id,
                "access_log_bucket": log_bucket_name,
            }
        )

    def _certificate(self, name: str, args: LoadBalancerArgs, tags: dict[str, str]) -> pulumi.Output[str]:
        if args.certificate_arn is not None:
            return pulumi.Output.from_input(args.certificate_arn)
        assert args.domain is not None and args.hosted_zone_id is not None
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(
            f"{name}-cert",
            aws.acm.CertificateArgs(
                domain_name=args.domain,
                validation_method="DNS",
                key_algorithm="EC_prime256v1",
                tags=tags,
            ),
            opts=child,
        )
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        record = aws.route53.Record(
            f"{name}-cert-validation",
            aws.route53.RecordArgs(
                zone_id=args.hosted_zone_id,
                name=option.apply(lambda o: o.resource_record_name or ""),
                type=option.apply(lambda o: o.resource_record_type or "CNAME"),
                records=[option.apply(lambda o: o.resource_record_value or "")],
                ttl=300,
                allow_overwrite=True,
            ),
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-cert-validated",
            aws.acm.CertificateValidationArgs(
                certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn]
            ),
            opts=child,
        )
        return validation.certificate_arn

    def _log_bucket(
        self,
        name: str,
        args: LoadBalancerArgs,
        tags: dict[str, str],
        ctx: AwsContext,
        prefix: str,
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-alb-logs",
            aws.s3.BucketArgs(force_destroy=args.access_log_force_destroy, tags=tags),
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-alb-logs-ownership",
            aws.s3.BucketOwnershipControlsArgs(
                bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            ),
            opts=child,
        )
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-alb-logs-public-access",
            aws.s3.BucketPublicAccessBlockArgs(
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            ),
            opts=child,
        )
        # ALB access logs support SSE-S3 only (SSE-KMS is refused by the log delivery service).
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-alb-logs-encryption",
            aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
                bucket=bucket.id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="AES256"
                        ),
                    )
                ],
            ),
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-alb-logs-versioning",
            aws.s3.BucketVersioningInitArgs(
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-alb-logs-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(
                bucket=bucket.id,
                rules=[
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id="expire-access-logs",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                            days=args.access_log_expiry_days
                        ),
                        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=30
                        ),
                        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=7
                        ),
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        elb_account = aws.elb.get_service_account_output(opts=pulumi.InvokeOptions(parent=self))
        log_objects = pulumi.Output.concat(bucket.arn, f"/{prefix}/AWSLogs/", ctx.account_id, "/*")
        policy = aws.s3.BucketPolicy(
            f"{name}-alb-logs-policy",
            aws.s3.BucketPolicyArgs(
                bucket=bucket.id,
                policy=policy_json(
                    [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                        {
                            "Sid": "RegionalElbLogDelivery",
                            "Effect": "Allow",
                            "Principal": {"AWS": elb_account.arn},
                            "Action": "s3:PutObject",
                            "Resource": log_objects,
                        },
                        {
                            "Sid": "ElbLogDeliveryService",
                            "Effect": "Allow",
                            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": log_objects,
                        },
                    ]
                ),
            ),
            # The public access block must exist first or a policy naming a principal may be refused.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )
        return bucket, policy
