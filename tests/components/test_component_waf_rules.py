"""The web ACL's rules in the order `WebAcl._rules` promises: the ACL-wide per-IP limit at priority 0,
the scoped limits from 1 in the settings' order, the managed groups from MANAGED_GROUP_PRIORITY, 10
apart, in the settings' order. Cases: no scoped limit, one, and the most the settings allow."""

from __future__ import annotations

import pytest

from components_support import REGION
from rampart.components.waf import MANAGED_GROUP_PRIORITY, ScopedRateLimit, WafSettings, WebAcl, WebAclArgs
from rampart.offline.mock_engine import run_program_full

MOST = WafSettings.model_fields["scoped_rate_limits"].metadata[0].max_length
GROUPS = ["AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"]


def _rules(scoped: int) -> list[tuple[str, int]]:
    limits = [ScopedRateLimit(name=f"svc-{i}", limit=100, path_prefixes=[f"/s{i}/"]) for i in range(scoped)]

    def program() -> None:
        WebAcl("edge", WebAclArgs(resource_arn="arn:aws:elasticloadbalancing:alb", kms_key_arn="key",
                                  scoped_rate_limits=limits, managed_rule_groups=GROUPS))

    (acl,) = [r for r in run_program_full(program, region=REGION).resources if r.type == "aws:wafv2/webAcl:WebAcl"]
    return [(rule["name"], rule["priority"]) for rule in acl.inputs["rules"]]


@pytest.mark.parametrize("scoped", [0, 1, MOST])
def test_rules_are_numbered_as_promised(scoped: int) -> None:
    expected = [("rate-limit-per-ip", 0)]
    expected += [(f"rate-limit-svc-{i}", 1 + i) for i in range(scoped)]
    expected += [(group, MANAGED_GROUP_PRIORITY + 10 * i) for i, group in enumerate(GROUPS)]
    assert _rules(scoped) == expected
