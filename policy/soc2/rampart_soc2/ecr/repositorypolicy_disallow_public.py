"""ECR repository policies are not public."""
from __future__ import annotations

from ..common import ECR_REPOSITORY_POLICY
from ..iam_documents import public_statements
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ..props import json_document


def check(r: Resource, ctx: Context) -> Outcome:
    raw = r.props.raw().get("policy")
    if raw is None:
        return COMPLIANT
    public = public_statements(json_document(raw, "policy"))
    if public:
        return Violation(f"repository policy allows any principal ('*') without a condition (statements {', '.join(public)})")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecr-repositorypolicy-disallow-public",
    description="ECR repository policies grant nothing to every principal.",
    severity="critical",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Name specific account or role ARNs as principals, or add a condition such as aws:PrincipalOrgID.",
    reference="https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html",
    resource_types=ECR_REPOSITORY_POLICY,
    check=check,
    peer="CKV_AWS_32",
)
