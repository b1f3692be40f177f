"""The readiness pack's IAM evaluator: IAM's own decision logic, on the documents a plan carries."""
from __future__ import annotations

from typing import Any

import pytest

import policy_fixtures  # noqa: F401  (puts the pack on sys.path)
from rampart_soc2.readiness._iam import Decision, Request, evaluate

REPO = "arn:aws:ecr:eu-west-1:123456789012:repository/web"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234"


def doc(*statements: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("doc", {"Version": "2012-10-17", "Statement": list(statements)})]


def allow(action: Any = "ecr:BatchGetImage", resource: Any = REPO, **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def decide(documents: list[tuple[str, Any]], action: str = "ecr:BatchGetImage", resource: str = REPO,
           **request: Any) -> Decision:
    return evaluate(documents, Request(action, (resource,), **request)).decision


def test_an_allow_on_the_exact_action_and_resource_grants() -> None:
    assert decide(doc(allow())) is Decision.ALLOWED


def test_nothing_granted_is_an_implicit_deny() -> None:
    assert decide([]) is Decision.NOT_ALLOWED
    assert decide(doc(allow("ecr:BatchCheckLayerAvailability"))) is Decision.NOT_ALLOWED


def test_deny_wins_over_any_allow() -> None:
    assert decide(doc(allow("*", "*"), {"Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": REPO})) is Decision.DENIED
    # a Deny on another repository leaves this one allowed
    assert decide(doc(allow(), {"Effect": "Deny", "Action": "ecr:*", "Resource": REPO + "-other"})) is Decision.ALLOWED


@pytest.mark.parametrize(("pattern", "granted"), [
    ("ecr:*", True), ("ecr:Batch*", True), ("ECR:batchgetimage", True), ("ecr:BatchGet?mage", True), ("*", True),
    ("ecr:BatchGet", False), ("ecr:BatchGetImages", False), ("ecr:?atchGetImag", False), ("ecr-public:*", False),
])
def test_action_wildcards_and_case(pattern: str, granted: bool) -> None:
    assert (decide(doc(allow(pattern))) is Decision.ALLOWED) is granted, pattern


@pytest.mark.parametrize(("pattern", "granted"), [
    ("*", True), ("arn:aws:ecr:*:*:repository/*", True), ("arn:aws:ecr:eu-west-1:123456789012:repository/w?b", True),
    ("arn:aws:ecr:eu-west-1:123456789012:repository/WEB", False),  # ARNs are case-sensitive
    ("arn:aws:ecr:eu-west-1:123456789012:repository/we", False),
    ("arn:aws:ecr:us-east-1:*:repository/web", False),
])
def test_resource_wildcards(pattern: str, granted: bool) -> None:
    assert (decide(doc(allow(resource=pattern))) is Decision.ALLOWED) is granted, pattern


def test_not_action_grants_everything_else() -> None:
    everything_but_logs = {"Effect": "Allow", "NotAction": "logs:*", "Resource": "*"}
    assert decide(doc(everything_but_logs)) is Decision.ALLOWED
    assert decide(doc(everything_but_logs), "logs:PutLogEvents", "arn:aws:logs:eu-west-1:1:log-group:g") is Decision.NOT_ALLOWED
    deny_all_but_ecr = {"Effect": "Deny", "NotAction": ["ecr:*"], "Resource": "*"}
    assert decide(doc(allow("*", "*"), deny_all_but_ecr)) is Decision.ALLOWED
    assert decide(doc(allow("*", "*"), deny_all_but_ecr), "kms:Decrypt", KEY) is Decision.DENIED


def test_not_resource() -> None:
    st = {"Effect": "Allow", "Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/secret-*"}
    assert decide(doc(st)) is Decision.ALLOWED
    assert decide(doc(st), resource="arn:aws:ecr:eu-west-1:1:repository/secret-x") is Decision.NOT_ALLOWED


def test_an_allow_under_an_unknown_condition_is_maybe_never_proof() -> None:
    conditional = allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "web"}})
    assert decide(doc(conditional)) is Decision.MAYBE
    assert not evaluate(doc(conditional), Request("ecr:BatchGetImage", (REPO,))).allowed


def test_a_deny_under_an_unknown_condition_makes_an_allow_maybe() -> None:
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
    assert decide(doc(allow(), deny)) is Decision.MAYBE


def test_a_policy_variable_in_the_resource_is_maybe() -> None:
    assert decide(doc(allow(resource="arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}"))) is Decision.MAYBE


def test_conditions_on_keys_the_request_carries_are_evaluated() -> None:
    via = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
           "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}}
    secrets = {"kms:ViaService": ("secretsmanager.eu-west-1.amazonaws.com",)}
    assert decide(doc(via), "kms:Decrypt", KEY, context=secrets) is Decision.ALLOWED
    assert decide(doc(via), "kms:Decrypt", KEY, context={"kms:ViaService": ("ssm.eu-west-1.amazonaws.com",)}) \
        is Decision.NOT_ALLOWED
    assert decide(doc(via), "kms:Decrypt", KEY) is Decision.MAYBE  # the key is not known to the request
    two_keys = {**via, "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com",
                                                      "aws:SourceVpc": "vpc-1"}}}
    assert decide(doc(two_keys), "kms:Decrypt", KEY, context=secrets) is Decision.MAYBE
    like = {**via, "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:1:log-group:*"}}}
    group = {"kms:EncryptionContext:aws:logs:arn": ("arn:aws:logs:eu-west-1:1:log-group:/ecs/web",)}
    assert decide(doc(like), "kms:Decrypt", KEY, context=group) is Decision.ALLOWED
    assert decide(doc(like), "kms:Decrypt", KEY, context={"kms:EncryptionContext:aws:logs:arn": (
        "arn:aws:logs:eu-west-1:2:log-group:/ecs/web",)}) is Decision.NOT_ALLOWED


def test_a_principal_must_name_the_caller() -> None:
    logs = {"Effect": "Allow", "Principal": {"Service": "logs.eu-west-1.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}
    assert decide(doc(logs), "kms:Encrypt", KEY, principal_service="logs.eu-west-1.amazonaws.com") is Decision.ALLOWED
    assert decide(doc(logs), "kms:Encrypt", KEY, principal_service="logs.us-east-1.amazonaws.com") is Decision.NOT_ALLOWED
    root = {**logs, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}
    assert decide(doc(root), "kms:Encrypt", KEY, principal_service="logs.eu-west-1.amazonaws.com") is Decision.NOT_ALLOWED
    anyone = {**logs, "Principal": "*"}
    assert decide(doc(anyone), "kms:Encrypt", KEY, principal_service="logs.eu-west-1.amazonaws.com") is Decision.ALLOWED


def test_a_resource_known_by_two_arns_matches_either() -> None:
    """The plan's own `arn` output (made up under the mock engine) and the ARN AWS would give it."""
    fake = "arn:aws:ecr:eu-west-1:123456789012:web-repo"
    answer = evaluate(doc(allow(resource=fake)), Request("ecr:BatchGetImage", (REPO, fake)))
    assert answer.decision is Decision.ALLOWED and answer.why == ("doc/#0",)


# Cases found by a mutation review: each kills one plausible slip in the evaluator.

def test_a_deny_wins_even_when_the_only_allow_is_conditional_or_absent() -> None:
    deny = {"Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": REPO}
    conditional = allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "web"}})
    assert decide(doc(conditional, deny)) is Decision.DENIED
    assert decide(doc(deny)) is Decision.DENIED


def test_a_deny_whose_known_condition_does_not_hold_does_not_apply() -> None:
    """A Deny scoped to Parameter Store decryption leaves decryption through Secrets Manager allowed."""
    grant = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}
    deny_ssm = {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": KEY,
                "Condition": {"StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}}}
    via_secrets = {"kms:ViaService": ("secretsmanager.eu-west-1.amazonaws.com",)}
    assert decide(doc(grant, deny_ssm), "kms:Decrypt", KEY, context=via_secrets) is Decision.ALLOWED
    via_ssm = {"kms:ViaService": ("ssm.eu-west-1.amazonaws.com",)}
    assert decide(doc(grant, deny_ssm), "kms:Decrypt", KEY, context=via_ssm) is Decision.DENIED


def test_string_like_is_case_sensitive() -> None:
    like = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
            "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}}
    assert decide(doc(like), "kms:Decrypt", KEY,
                  context={"kms:ViaService": ("secretsmanager.eu-west-1.amazonaws.com",)}) is Decision.ALLOWED
    assert decide(doc(like), "kms:Decrypt", KEY,
                  context={"kms:ViaService": ("SecretsManager.eu-west-1.amazonaws.com",)}) is Decision.NOT_ALLOWED


def test_a_principal_arn_must_be_the_callers_own() -> None:
    role = "arn:aws:iam::123456789012:role/web-exec"
    named = {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*"}
    assert decide(doc(named), "kms:Decrypt", KEY, principal_arns=(role,)) is Decision.ALLOWED
    assert decide(doc(named), "kms:Decrypt", KEY, principal_arns=(role + "-other",)) is Decision.NOT_ALLOWED


def test_not_principal_applies_to_everyone_but_the_named() -> None:
    role = "arn:aws:iam::123456789012:role/web-exec"
    deny_others = {"Effect": "Deny", "NotPrincipal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*"}
    grant = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    assert decide(doc(grant, deny_others), "kms:Decrypt", KEY, principal_arns=(role,)) is Decision.ALLOWED
    assert decide(doc(grant, deny_others), "kms:Decrypt", KEY, principal_arns=(role + "-other",)) is Decision.DENIED


def test_a_policy_variable_in_not_resource_is_maybe() -> None:
    st = {"Effect": "Allow", "Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}"}
    assert decide(doc(st)) is Decision.MAYBE
