"""The execution role can write every awslogs log group its containers use, and the group's key admits Logs.

The awslogs driver creates the task's log stream and puts events as the execution role (CloudWatch Logs
authorizes both on the stream's ARN, `<group ARN>:log-stream:<prefix>/<container>/<task id>`). A group
encrypted with a customer-managed key needs that key's policy to admit the `logs.<region>.amazonaws.com`
service principal; the `kms:EncryptionContext:aws:logs:arn` condition AWS recommends is evaluated with the
group's ARN.
"""
from __future__ import annotations

from typing import Sequence

from ..common import KMS_KEY, LOG_GROUP, TASK_DEFINITION, of_type, raw_get
from ..model import (COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation,
                     stack_findings)
from ..props import UNKNOWN, UnknownValue, json_document
from ._iam import Request, describe, evaluate
from ._needs import LOG_ERROR, LOG_WRITE_ACTIONS, LOGS_KEY_ACTIONS
from ._plan import account_of, by_value, containers, execution_role, role_documents

#: A task id as it appears in a stream name (the real one is known only when the task starts).
EXAMPLE_TASK_ID = "0123456789abcdef0123456789abcdef"


def key_admits_logs(group: Resource, group_arn: str, region: str, keys: Sequence[Resource]) -> list[str] | None:
    """Problems with the group's key policy; None when the key is not in this stack (cannot be read)."""
    key_id = raw_get(group, "kmsKeyId")
    if key_id is UNKNOWN:
        raise UnknownValue(f"{group.name}.kmsKeyId")
    if not key_id:
        return []
    key = by_value(keys, key_id, ("arn", "id", "keyId"))
    if key is None:
        return None
    raw = key.props.raw().get("policy")
    if raw is None:
        return [f"key '{key.name}' has the default key policy, which admits only the account's IAM principals, "
                f"not logs.{region}.amazonaws.com"]
    policy = json_document(raw, f"{key.name}.policy")
    problems = []
    for action in LOGS_KEY_ACTIONS:
        answer = evaluate([(key.name, policy)], Request(action, (str(raw_get(key, "arn") or key_id),),
                                                         principal_service=f"logs.{region}.amazonaws.com",
                                                         context={"kms:EncryptionContext:aws:logs:arn": (group_arn,)}))
        if not answer.allowed:
            problems.append(f"key '{key.name}' policy: {action} for logs.{region}.amazonaws.com: {describe(answer)}")
    return problems


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    groups = of_type(resources, LOG_GROUP)
    keys = of_type(resources, KMS_KEY)

    def judge(task: Resource) -> Outcome:
        targets = []
        for c in containers(task):
            config = c.get("logConfiguration") or {}
            if config.get("logDriver") == "awslogs":
                options = config.get("options") or {}
                targets.append((str(c.get("name")), str(options.get("awslogs-group")),
                                str(options.get("awslogs-region") or ""), str(options.get("awslogs-stream-prefix") or "")))
        if not targets:
            return NotApplicable("no container logs with the awslogs driver")
        role, role_arn = execution_role(task, resources)
        if role is None:
            return Violation(f"execution role {role_arn or '(none)'} of '{task.name}' is not in this stack, so its "
                             "permission to write the log groups cannot be shown from the plan")
        docs = role_documents(role, resources)
        problems, unknown = [], []
        for container, name, region, prefix in targets:
            group = by_value(groups, name, ("name",))
            derived = f"arn:aws:logs:{region}:{account_of(role_arn)}:log-group:{name}"
            group_arns = list(dict.fromkeys([derived] + ([raw_get(group, "arn")] if group is not None
                                                         and isinstance(raw_get(group, "arn"), str) else [])))
            stream = f"{prefix}/{container}/{EXAMPLE_TASK_ID}" if prefix else EXAMPLE_TASK_ID
            streams = tuple(f"{a}:log-stream:{stream}" for a in group_arns)
            for action in LOG_WRITE_ACTIONS:
                answer = evaluate(docs.documents, Request(action, streams))
                if not answer.allowed:
                    problems.append(f"container '{container}': {action} on {streams[0]}: {describe(answer)}")
            if group is None:
                unknown.append(f"log group {name} (not in this stack: its key cannot be read)")
                continue
            key_problems = key_admits_logs(group, group_arns[-1], region, keys)
            if key_problems is None:
                unknown.append(f"{group.name}.kmsKeyId (key not in this stack)")
            else:
                problems += key_problems
        if problems:
            return Violation(f"the logs of '{task.name}' cannot be written: {'; '.join(dict.fromkeys(problems))}; "
                             f"the first deploy fails with {LOG_ERROR}")
        if unknown:
            return Unknown("; ".join(unknown))
        return COMPLIANT

    return stack_findings(of_type(resources, TASK_DEFINITION), judge)


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-log-write-access",
    description=f"Readiness: each task's execution role is allowed {', '.join(LOG_WRITE_ACTIONS)} on the streams of "
                "every awslogs log group its containers use, and each group's KMS key policy admits the "
                "logs.<region>.amazonaws.com service principal. Prevents: " + LOG_ERROR + ".",
    severity="high",
    enforcement="mandatory",
    criteria=("CC7.2", "CC8.1"),
    remediation=f"Grant the execution role {', '.join(LOG_WRITE_ACTIONS)} on <log group ARN>:log-stream:*; give the "
                "group's key a statement allowing Service logs.<region>.amazonaws.com kms:Encrypt*, kms:Decrypt*, "
                "kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* (condition kms:EncryptionContext:aws:logs:arn "
                "may name the group).",
    reference="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
    resource_types=TASK_DEFINITION,
    kind="stack",
    stack_check=stack_check,
    peer="(none: AWS reports it at the first deploy)",
)
