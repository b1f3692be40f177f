"""The execution role can read every secret its containers reference and decrypt it with that secret's key.

ECS fetches `secrets[].valueFrom` as the execution role before the container starts: Secrets Manager
needs secretsmanager:GetSecretValue on the secret, and kms:Decrypt on the secret's customer-managed
key (through Secrets Manager, so `kms:ViaService` = `secretsmanager.<region>.amazonaws.com` and the
encryption context's `SecretARN` are known to the evaluation). The secret's key is read from the
plan: the `aws:secretsmanager/secret:Secret`'s `kmsKeyId` for a secret the stack creates, or for one
it does not create, the task definition's tag `rampart-secret-kms-key:<secret name>` = key ARN (or
`aws/secretsmanager`). When the key is stated nowhere the answer is not known, and never compliant.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..common import KMS_KEY, SECRET, TASK_DEFINITION, of_type, raw_get
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Violation, stack_findings
from ..props import UNKNOWN, UnknownValue
from ..vocabulary.arns import COMPLETE_SECRET_ARN
from ._iam import Request, describe, evaluate
from ._needs import (AWS_MANAGED_SECRETS_KEY, KMS_DECRYPT_ACTION, SECRET_ERROR, SECRET_KEY_TAG_PREFIX,
                     SECRET_READ_ACTION, SSM_READ_ACTION)
from ._plan import RoleDocuments, by_value, containers, execution_role, role_documents, secret_base


def _stated_key(task: Resource, name: str) -> str | None:
    tags = raw_get(task, "tags")
    if tags is UNKNOWN:
        raise UnknownValue("tags")
    value = (tags or {}).get(SECRET_KEY_TAG_PREFIX + name)
    return value if isinstance(value, str) and value else None


def _key_arns(key_id: str, keys: Sequence[Resource]) -> tuple[str, ...] | None:
    """Every ARN the key `key_id` (an ARN, key id or alias) is known by; None when it cannot be resolved."""
    key = by_value(keys, key_id, ("arn", "id", "keyId"))
    if key is not None and isinstance(raw_get(key, "arn"), str):
        return tuple(dict.fromkeys([raw_get(key, "arn"), *([key_id] if key_id.startswith("arn:") else [])]))
    if key_id.startswith("arn:") and ":alias/" not in key_id:
        return (key_id,)
    return None


class _Judge:
    def __init__(self, task: Resource, docs: RoleDocuments, resources: Sequence[Resource]) -> None:
        self.task, self.docs = task, docs
        self.secrets = of_type(resources, SECRET)
        self.keys = of_type(resources, KMS_KEY)
        self.problems: list[str] = []

    def allow(self, where: str, req: Request) -> None:
        answer = evaluate(self.docs.documents, req)
        if not answer.allowed:
            self.problems.append(f"{where}: {req.action} on {req.resources[0]}: {describe(answer)}")

    def secret(self, container: str, name: str, value_from: str) -> None:
        where = f"container '{container}' secret {name}"
        if ":secretsmanager:" not in value_from:
            arn = value_from if value_from.startswith("arn:") else None
            if arn is None:
                self.problems.append(f"{where}: valueFrom {value_from!r} is not an ARN, so the parameter it reads "
                                     "cannot be told from the plan")
            else:
                self.allow(where, Request(SSM_READ_ACTION, (arn,)))
            return
        arn = secret_base(value_from)
        created = by_value(self.secrets, arn, ("arn", "id"))
        if created is None and any(raw_get(s, "arn") is UNKNOWN for s in self.secrets):
            raise UnknownValue("secret arn")  # one of this stack's secrets may be it
        if created is None and not COMPLETE_SECRET_ARN.match(arn):
            self.problems.append(f"{where}: {value_from!r} is a partial secret ARN (no '-' and six characters after "
                                 "the name): IAM grants and the decrypt context match the complete ARN only, so "
                                 "AccessDenied; reference the complete ARN `aws secretsmanager describe-secret` prints")
            return
        self.allow(where, Request(SECRET_READ_ACTION, (arn,)))
        if created is not None:
            key_id = raw_get(created, "kmsKeyId")
            if key_id is UNKNOWN:
                raise UnknownValue(f"{created.name}.kmsKeyId")
            stated_where = f"secret '{created.name}' kmsKeyId"
        else:
            key_id = _stated_key(self.task, name)
            stated_where = f"tag {SECRET_KEY_TAG_PREFIX}{name}"
            if key_id is None:
                self.problems.append(
                    f"{where}: {arn} is not created by this stack and its KMS key is not stated, so kms:Decrypt "
                    f"cannot be shown (state it: tag the task definition {SECRET_KEY_TAG_PREFIX}{name} = the key's "
                    f"ARN, or {AWS_MANAGED_SECRETS_KEY})")
                return
        if key_id in (None, AWS_MANAGED_SECRETS_KEY, "alias/" + AWS_MANAGED_SECRETS_KEY):
            return  # the AWS managed key admits Secrets Manager's callers in the account without an IAM grant
        key_arns = _key_arns(str(key_id), self.keys)
        if key_arns is None:
            self.problems.append(f"{where}: key {key_id!r} ({stated_where}) is neither a key ARN nor a key in this "
                                 "stack, so kms:Decrypt cannot be shown")
            return
        region = arn.split(":")[3]
        self.allow(where, Request(KMS_DECRYPT_ACTION, key_arns, context={
            "kms:ViaService": (f"secretsmanager.{region}.amazonaws.com",),
            "kms:EncryptionContext:SecretARN": (arn,),
        }))


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    def judge(task: Resource) -> Outcome:
        refs: list[tuple[str, str, Any]] = [(str(c.get("name")), str(s.get("name")), s.get("valueFrom"))
                                            for c in containers(task) for s in (c.get("secrets") or [])]
        if not refs:
            return NotApplicable("no container references a secret")
        role, role_arn = execution_role(task, resources)
        if role is None:
            return Violation(f"execution role {role_arn or '(none)'} of '{task.name}' is not in this stack, so its "
                             "permission to read the secrets cannot be shown from the plan")
        j = _Judge(task, role_documents(role, resources), resources)
        for container, name, value_from in refs:
            j.secret(container, name, str(value_from))
        if j.problems:
            return Violation(f"execution role '{role.name}' of '{task.name}' cannot fetch its secrets: "
                             f"{'; '.join(j.problems)}; the first deploy fails with {SECRET_ERROR}")
        return COMPLIANT

    return stack_findings(of_type(resources, TASK_DEFINITION), judge)


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-secret-access",
    description=f"Readiness: each task's execution role is allowed {SECRET_READ_ACTION} on every secret its "
                f"containers reference and {KMS_DECRYPT_ACTION} (via Secrets Manager) on that secret's key; a secret "
                "the stack did not create must have its key stated. Prevents: " + SECRET_ERROR + ".",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1", "CC8.1"),
    remediation=f"Grant the execution role {SECRET_READ_ACTION} on each secret ARN and {KMS_DECRYPT_ACTION} on its "
                "key (a kms:ViaService condition naming secretsmanager.<region>.amazonaws.com is understood); for a "
                f"secret another stack or team created, tag the task definition {SECRET_KEY_TAG_PREFIX}<secret name> "
                "with its key ARN.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html",
    resource_types=TASK_DEFINITION,
    kind="stack",
    stack_check=stack_check,
    peer="(none: AWS reports it at the first deploy)",
)
