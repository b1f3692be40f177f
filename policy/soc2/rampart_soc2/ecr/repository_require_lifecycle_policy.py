"""Every ECR repository has a lifecycle policy (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import CONFIG_RULE, ECR_LIFECYCLE, ECR_REPOSITORY, any_refers, of_type
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    policies = of_type(resources, ECR_LIFECYCLE)

    def judge(repo: Resource) -> Outcome:
        found = any_refers(policies, "repository", repo, ("name", "id"))
        if found is None:
            return Unknown("lifecyclePolicy.repository")
        if not found:
            return Violation("repository has no lifecycle policy, so old images are never expired")
        return COMPLIANT

    return stack_findings(of_type(resources, ECR_REPOSITORY), judge)


POLICY = PolicySpec(
    id="aws-ecr-repository-require-lifecycle-policy",
    description="Every ECR repository has a lifecycle policy.",
    severity="low",
    enforcement="mandatory",
    criteria=("C1.2",),
    remediation="Create an aws.ecr.LifecyclePolicy for the repository that expires untagged images and keeps "
                "a bounded number of tagged ones.",
    reference=CONFIG_RULE.format("ecr-private-lifecycle-policy-configured"),
    resource_types=ECR_REPOSITORY,
    kind="stack",
    stack_check=stack_check,
    peer="ecr-private-lifecycle-policy-configured",
)
