"""The web ACL's rule priorities: the ACL-wide limit first, then one scoped limit per service, then the
managed rule groups. At the most scoped limits the settings allow, every priority is still unique and
every scoped limit is evaluated before the managed groups."""

from __future__ import annotations

import pydantic
import pytest

from components_support import REGION
from rampart.components.waf import MANAGED_GROUP_PRIORITY, ScopedRateLimit, WafSettings, WebAcl, WebAclArgs
from rampart.offline.mock_engine import run_program_full

MOST = WafSettings.model_fields["scoped_rate_limits"].metadata[0].max_length


def _limits(count: int) -> list[ScopedRateLimit]:
    return [ScopedRateLimit(name=f"svc-{i}", limit=100, path_prefixes=[f"/s{i}/"]) for i in range(count)]


def test_at_the_most_scoped_limits_priorities_are_unique_and_before_the_managed_groups() -> None:
    def program() -> None:
        WebAcl("edge", WebAclArgs(resource_arn="arn:aws:elasticloadbalancing:alb", kms_key_arn="key",
                                  scoped_rate_limits=_limits(MOST)))

    (acl,) = [r for r in run_program_full(program, region=REGION).resources if r.type == "aws:wafv2/webAcl:WebAcl"]
    rules = {rule["name"]: rule["priority"] for rule in acl.inputs["rules"]}
    assert len(set(rules.values())) == len(rules), f"{acl.name}: priorities repeat: {rules}"
    scoped = [p for name, p in rules.items() if name.startswith("rate-limit-svc-")]
    managed = [p for name, p in rules.items() if not name.startswith("rate-limit-")]
    assert len(scoped) == MOST and managed, rules
    assert max(scoped) < MANAGED_GROUP_PRIORITY <= min(managed), rules


def test_one_more_scoped_limit_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="at most 50 items"):
        WafSettings(scoped_rate_limits=_limits(MOST + 1))
