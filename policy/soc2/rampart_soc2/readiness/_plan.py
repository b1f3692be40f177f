"""Reading what a task needs out of the plan: its execution role's documents, images, secrets, log groups.

How a permission is related to a resource (the plan holds values, not objects):
- a role's documents are its `inlinePolicies`, every `aws:iam/rolePolicy:RolePolicy` whose `role` is the
  role's name/id/ARN, and every `aws:iam/rolePolicyAttachment:RolePolicyAttachment`'s policy: an
  `aws:iam/policy:Policy` of the plan (by `arn`) or an AWS managed policy whose document `_needs` holds;
- a resource is known by every ARN the plan gives it: the ARN derived the way AWS builds it (from the
  image URI, the secret reference, the log group's name) and the plan resource's own `arn` output (the
  value a role policy built from `repository.arn` holds, real or, under the mock engine, made up). A
  statement applies when one of them matches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from ..common import IAM_POLICY, ROLE, ROLE_POLICY, ROLE_POLICY_ATTACHMENT, items, of_type, raw_get
from ..model import Resource
from ..props import UNKNOWN, UnknownValue, json_document
from ._needs import AWS_MANAGED_POLICIES

ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<cn>\.cn)?"
                       r"/(?P<repo>[a-z0-9._/-]+?)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$")


def by_value(resources: Sequence[Resource], value: Any, keys: Sequence[str] = ("arn", "id", "name")) -> Resource | None:
    """The resource whose identifying property equals `value` (None when none does)."""
    if not isinstance(value, str) or not value:
        return None
    for r in resources:
        if any(raw_get(r, k) == value for k in keys):
            return r
    return None


def known_str(r: Resource, key: str) -> str | None:
    """A string property; raises UnknownValue while it is unknown."""
    value = raw_get(r, key)
    if value is UNKNOWN:
        raise UnknownValue(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class RoleDocuments:
    role: Resource
    documents: tuple[tuple[str, Any], ...]
    unreadable: tuple[str, ...]
    """Attached managed policies whose document is neither in the plan nor known (may grant more)."""


def role_documents(role: Resource, resources: Sequence[Resource]) -> RoleDocuments:
    names = {v for v in (raw_get(role, "name"), raw_get(role, "id"), raw_get(role, "arn")) if isinstance(v, str)}
    docs: list[tuple[str, Any]] = []
    for i, inline in enumerate(items(role.props.get("inlinePolicies"))):
        raw = inline.raw().get("policy") if hasattr(inline, "raw") else None
        if raw is not None:
            docs.append((f"{role.name}.inlinePolicies[{i}]", json_document(raw, f"inlinePolicies[{i}].policy")))
    for rp in of_type(resources, ROLE_POLICY):
        if _names_role(rp, role, names):
            docs.append((rp.name, json_document(rp.props.raw().get("policy"), f"{rp.name}.policy")))
    unreadable: list[str] = []
    attached = [str(a) for a in items(role.props.get("managedPolicyArns"))]
    attached += [known_str(a, "policyArn") or "" for a in of_type(resources, ROLE_POLICY_ATTACHMENT)
                 if _names_role(a, role, names)]
    for arn in filter(None, attached):
        policy = by_value(of_type(resources, IAM_POLICY), arn, ("arn",))
        parts = arn.split(":", 5)
        managed = AWS_MANAGED_POLICIES.get(parts[5]) if len(parts) == 6 and parts[4] == "aws" else None
        if policy is not None:
            docs.append((policy.name, json_document(policy.props.raw().get("policy"), f"{policy.name}.policy")))
        elif managed is not None:
            docs.append((arn.rsplit("/", 1)[-1], managed))
        else:
            unreadable.append(arn)
    return RoleDocuments(role, tuple(docs), tuple(unreadable))


def _names_role(r: Resource, role: Resource, names: set[str]) -> bool:
    if role.urn in r.property_dependencies.get("role", ()):
        return True
    value = raw_get(r, "role")
    if value is UNKNOWN:
        raise UnknownValue(f"{r.name}.role")
    return value in names


def execution_role(task: Resource, resources: Sequence[Resource]) -> tuple[Resource | None, str | None]:
    """(the execution role resource, its ARN); the resource is None when the role is not in the plan."""
    deps = task.property_dependencies.get("executionRoleArn", ())
    roles = of_type(resources, ROLE)
    for role in roles:
        if role.urn in deps:
            return role, raw_get(role, "arn") if isinstance(raw_get(role, "arn"), str) else None
    arn = known_str(task, "executionRoleArn")
    return by_value(roles, arn, ("arn",)), arn


def containers(task: Resource) -> list[Any]:
    return list(json_document(task.props.raw().get("containerDefinitions"), "containerDefinitions"))


def account_of(arn: str | None) -> str:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4] else "*"


@dataclass(frozen=True)
class EcrImage:
    uri: str
    account: str
    region: str
    partition: str
    repository: str

    @property
    def repository_arn(self) -> str:
        return f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"

    @property
    def registry(self) -> str:
        return self.uri.split("/", 1)[0]


def ecr_image(uri: str) -> EcrImage | None:
    """The private ECR repository an image URI names (None for any other registry)."""
    m = ECR_IMAGE.match(uri)
    if m is None:
        return None
    return EcrImage(uri, m["account"], m["region"], "aws-cn" if m["cn"] else "aws", m["repo"])


def secret_base(value_from: str) -> str:
    """A Secrets Manager reference without its `:json-key:stage:version` suffix (the IAM resource)."""
    return ":".join(value_from.split(":")[:7])
