"""The execution role can pull every container image from its private ECR repository.

ECS calls ecr:GetAuthorizationToken (no resource-level permission: it must be allowed on "*") and
then reads the image and its layers from the repository the image URI names, as the execution role.
"""
from __future__ import annotations

from typing import Sequence

from ..common import ECR_REPOSITORY, TASK_DEFINITION, of_type, raw_get
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Violation, stack_findings
from ._iam import Request, describe, evaluate
from ._needs import ECR_AUTH_ACTION, ECR_PULL_ACTIONS, ECR_PULL_ERROR
from ._plan import EcrImage, containers, ecr_image, execution_role, role_documents


def repository_arns(image: EcrImage, repositories: Sequence[Resource]) -> tuple[str, ...]:
    """The repository's ARN derived from the URI, and the plan's `arn` of the repository that URI names."""
    url = f"{image.registry}/{image.repository}"
    arns = [image.repository_arn]
    for repo in repositories:
        if raw_get(repo, "repositoryUrl") == url or (raw_get(repo, "repositoryUrl") is None
                                                     and raw_get(repo, "name") == image.repository):
            arn = raw_get(repo, "arn")
            if isinstance(arn, str):
                arns.append(arn)
    return tuple(dict.fromkeys(arns))


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    repositories = of_type(resources, ECR_REPOSITORY)

    def judge(task: Resource) -> Outcome:
        images = [(str(c.get("name")), image) for c in containers(task)
                  if (image := ecr_image(str(c.get("image") or ""))) is not None]
        if not images:
            return NotApplicable("no container image comes from a private ECR repository")
        role, role_arn = execution_role(task, resources)
        if role_arn is None:
            return Violation(f"task definition '{task.name}' has no executionRoleArn, so ECS cannot get an ECR "
                             f"token for {images[0][1].uri} ({ECR_PULL_ERROR})")
        if role is None:
            return Violation(f"execution role {role_arn} of '{task.name}' is not in this stack, so its permission to "
                             "pull the images cannot be shown from the plan")
        docs = role_documents(role, resources)
        missing = []
        auth = evaluate(docs.documents, Request(ECR_AUTH_ACTION, ("*",)))
        if not auth.allowed:
            missing.append(f"{ECR_AUTH_ACTION} on \"*\": {describe(auth)}")
        for name, image in images:
            arns = repository_arns(image, repositories)
            for action in ECR_PULL_ACTIONS:
                answer = evaluate(docs.documents, Request(action, arns))
                if not answer.allowed:
                    missing.append(f"container '{name}': {action} on {image.repository_arn}: {describe(answer)}")
        if missing:
            unread = f" (attached policies not readable from the plan: {', '.join(docs.unreadable)})" if docs.unreadable else ""
            return Violation(f"execution role '{role.name}' of '{task.name}' cannot pull its images: "
                             f"{'; '.join(missing)}{unread}; the first deploy fails with {ECR_PULL_ERROR}")
        return COMPLIANT

    return stack_findings(of_type(resources, TASK_DEFINITION), judge)


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-image-pull-access",
    description=f"Readiness: each task's execution role is allowed {ECR_AUTH_ACTION} on \"*\" and "
                f"{', '.join(ECR_PULL_ACTIONS)} on the repository of every private ECR image it runs (IAM "
                f"documents evaluated: Deny wins, wildcards, NotAction, conditions unknown). Prevents: {ECR_PULL_ERROR}.",
    severity="high",
    enforcement="mandatory",
    criteria=("A1.2", "CC8.1"),
    remediation=f"Grant the execution role {ECR_AUTH_ACTION} on \"*\" and {', '.join(ECR_PULL_ACTIONS)} on each "
                "image's repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>), without a Deny or "
                "condition that removes it.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
    resource_types=TASK_DEFINITION,
    kind="stack",
    stack_check=stack_check,
    peer="(none: AWS reports it at the first deploy)",
)
