"""No `*` action on `*` resource in role policies."""
from __future__ import annotations

from ..common import IAM_POLICY, ROLE, ROLE_POLICY, items
from ..iam_documents import admin_statements
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ..props import json_document


def check(r: Resource, ctx: Context) -> Outcome:
    docs = []
    if r.type in ROLE:
        for i, inline in enumerate(items(r.props.get("inlinePolicies"))):
            raw = inline.raw().get("policy") if hasattr(inline, "raw") else None
            if raw is not None:
                docs.append((str(inline.get("name") or f"inline #{i}"), json_document(raw, f"inlinePolicies[{i}].policy")))
    else:
        raw = r.props.raw().get("policy")
        if raw is not None:
            docs.append(("policy", json_document(raw, "policy")))
    bad = [f"{label} ({', '.join(sts)})" for label, doc in docs if (sts := admin_statements(doc))]
    if bad:
        return Violation(f"policy allows every action on every resource: {'; '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-iam-policy-disallow-admin-access",
    description="IAM role and managed policies never allow action '*' on resource '*'.",
    severity="critical",
    enforcement="mandatory",
    criteria=("CC6.3",),
    remediation="List the specific actions the role needs and scope Resource to the ARNs it uses.",
    reference="https://docs.aws.amazon.com/config/latest/developerguide/iam-policy-no-statements-with-admin-access.html",
    resource_types=ROLE_POLICY + IAM_POLICY + ROLE,
    check=check,
    peer="iam-policy-no-statements-with-admin-access",
)
