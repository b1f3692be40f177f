"""Reading IAM-style policy documents (IAM, ECR repository and S3 bucket policies)."""
from __future__ import annotations

import fnmatch
from typing import Any

from .common import items, truthy


def statements(doc: Any) -> list[Any]:
    if doc is None or isinstance(doc, str):
        return []
    return items(doc.get("Statement"))


def _label(st: Any, i: int) -> str:
    return str(st.get("Sid") or f"#{i}")


def _strings(value: Any) -> list[str]:
    return [str(v) for v in items(value)]


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if hasattr(principal, "get"):
        return "*" in _strings(principal.get("AWS"))
    return False


def public_statements(doc: Any) -> list[str]:
    """Allow statements whose principal is everyone and that carry no condition."""
    out = []
    for i, st in enumerate(statements(doc)):
        if st.get("Effect") == "Allow" and _is_everyone(st.get("Principal")) and not st.get("Condition"):
            out.append(_label(st, i))
    return out


def admin_statements(doc: Any) -> list[str]:
    """Allow statements granting every action on every resource."""
    out = []
    for i, st in enumerate(statements(doc)):
        if st.get("Effect") != "Allow":
            continue
        actions = _strings(st.get("Action"))
        resources = _strings(st.get("Resource"))
        if any(a in ("*", "*:*") for a in actions) and "*" in resources:
            out.append(_label(st, i))
    return out


def denies_insecure_transport(doc: Any) -> bool:
    """A Deny statement for every principal conditioned on aws:SecureTransport = false."""
    for st in statements(doc):
        if st.get("Effect") != "Deny" or not _is_everyone(st.get("Principal")):
            continue
        cond = st.get("Condition") or {}
        for op in ("Bool", "BoolIfExists"):
            block = cond.get(op) or {}
            for key in block:
                if key.lower() == "aws:securetransport":
                    values = _strings(block.get(key))
                    if values and all(not truthy(v) for v in values):
                        return True
    return False


#: Actions that let a principal raise its own privileges (Prowler's privilege-escalation list, IAM part).
PRIVILEGE_ESCALATION_ACTIONS = (
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
)


def _matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, `*` any run of characters, `?` one character."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower().replace("[", "[[]"))


def escalation_grants(doc: Any) -> list[str]:
    """'<statement>: <actions>' for Allow statements granting privilege-escalation actions on every
    resource. A statement granting every action is the admin policy's finding, not repeated here."""
    out = []
    for i, st in enumerate(statements(doc)):
        if st.get("Effect") != "Allow" or "*" not in _strings(st.get("Resource")):
            continue
        actions, not_actions = _strings(st.get("Action")), _strings(st.get("NotAction"))
        if any(a in ("*", "*:*") for a in actions):
            continue
        if not_actions:
            granted = [e for e in PRIVILEGE_ESCALATION_ACTIONS if not any(_matches(p, e) for p in not_actions)]
        else:
            granted = [e for e in PRIVILEGE_ESCALATION_ACTIONS if any(_matches(p, e) for p in actions)]
        if granted:
            out.append(f"{_label(st, i)}: {', '.join(granted)}")
    return out


#: Condition keys that tie a grant to known accounts, organisations or resources.
SCOPING_CONDITION_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths",
                          "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:sourceowner")


def open_to_everyone(doc: Any) -> list[str]:
    """Allow statements whose principal is everyone and whose condition names no account, organisation or
    source resource (a condition on anything else, such as the time of day, does not narrow who)."""
    out = []
    for i, st in enumerate(statements(doc)):
        if st.get("Effect") != "Allow" or not _is_everyone(st.get("Principal")):
            continue
        keys = {str(k).lower() for block in (st.get("Condition") or {}).values()
                if hasattr(block, "keys") for k in block.keys()}
        if not keys & set(SCOPING_CONDITION_KEYS):
            out.append(_label(st, i))
    return out
