"""Shared helpers for Rampart's components (owned by the service components).

Kept deliberately small: the args base model, input type aliases, tag merging,
IAM policy-document building and the account/region lookups every component needs.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Mapping, Optional, Sequence, Union

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

#: A string that may be known now or only after deployment (another resource's output).
StrInput = Union[str, pulumi.Output[str]]

#: ARN of a KMS key (IAM grants kms:Decrypt on key ARNs, not on aliases).
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")

#: Tag every Rampart resource carries, in addition to the caller's `tags`.
MANAGED_BY_TAG: dict[str, str] = {"managed-by": "rampart"}


class ArgsModel(BaseModel):
    """Base for every component's args: unknown keys are errors, Outputs are allowed as values.

    Fields take their Python names in code and camelCase aliases in stack files, so a stack file's
    section is the component's own model, not a copy of it."""

    model_config = ConfigDict(
        extra="forbid",
        arbitrary_types_allowed=True,
        validate_default=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


def merge_tags(*tag_sets: Optional[Mapping[str, str]]) -> dict[str, str]:
    """Merge tag dictionaries left to right over the `managed-by` tag."""
    merged: dict[str, str] = dict(MANAGED_BY_TAG)
    for tags in tag_sets:
        if tags:
            merged.update(tags)
    return merged


def validate_tags(tags: Mapping[str, str]) -> Mapping[str, str]:
    """AWS tag limits, checked before anything is created."""
    for key, value in tags.items():
        if not key or len(key) > 128:
            raise ValueError(f"tags: key {key!r} must be 1 to 128 characters")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tags: key {key!r} uses the reserved `aws:` prefix; choose another key")
        if len(value) > 256:
            raise ValueError(f"tags: value of {key!r} is longer than 256 characters")
    return tags


#: Tags on a component's resources, checked against AWS's limits before anything is created.
Tags = Annotated[dict[str, str], AfterValidator(validate_tags)]


class AwsContext:
    """Account, region and partition of the current provider, as Outputs (invokes, no resources)."""

    def __init__(self, opts: Optional[pulumi.InvokeOptions] = None) -> None:
        identity = aws.get_caller_identity_output(opts=opts)
        region = aws.get_region_output(opts=opts)
        partition = aws.get_partition_output(opts=opts)
        self.account_id: pulumi.Output[str] = identity.account_id
        self.region: pulumi.Output[str] = region.region
        self.partition: pulumi.Output[str] = partition.partition
        self.dns_suffix: pulumi.Output[str] = partition.dns_suffix


def policy_json(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """An IAM policy document (JSON) from statements whose values may contain Outputs."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service principal assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def physical_name(name: str, max_length: int) -> str:
    """A name for an AWS resource that must be unique per account and region: the component name
    plus the stack (two stacks of one program in one account must not collide), shortened with a
    stable hash when the service limit requires it. Only the stack's name is used, never its config.

    Pulumi stack names may hold upper-case letters, `_` and `.`, which ALB names, KMS aliases, ECR
    repositories and task families refuse: the stack part is lower-cased with every other character
    turned into `-`, and then the hash of the real stack name is always added, so `dev.eu` and
    `dev-eu` still get different names."""
    stack = pulumi.get_stack()
    safe = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-") or "stack"
    full = f"{name}-{safe}"
    if safe == stack and len(full) <= max_length:
        return full
    digest = hashlib.sha256(f"{pulumi.get_project()}/{name}-{stack}".encode()).hexdigest()[:8]
    return f"{full[: max_length - 9].rstrip('-')}-{digest}"


def project_namespace() -> str:
    """The Pulumi project as a name space for fixed names (log groups, KMS aliases), so two programs
    deployed into one account keep apart; `.` (allowed in project names) becomes `-`."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", pulumi.get_project())


def log_group_prefix(name: str) -> str:
    """Default log group name prefix of a component: `/<project>/<stack>/<name>`."""
    return f"/{project_namespace()}/{pulumi.get_stack()}/{name}"


_RESOURCE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def check_component_name(name: str) -> str:
    """Component names feed AWS names (ALB and target group names max 32 characters)."""
    if not _RESOURCE_NAME.match(name):
        raise ValueError(
            f"component name {name!r} must start with a lowercase letter and use only "
            "lowercase letters, digits and '-' (at most 40 characters)"
        )
    return name
