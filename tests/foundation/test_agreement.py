"""The component library's defaults and the SOC 2 pack's default thresholds agree.

The pack knows nothing of the components (it sees only resource properties), so the two keep
their own lists; these tests fail when one moves without the other.
"""

from __future__ import annotations

from rampart_soc2.model import DEFAULT_THRESHOLDS

from rampart.components.load_balancer import ALLOWED_TLS_POLICIES, DEFAULT_TLS_POLICY
from rampart.components.monitoring import DEFAULT_LOG_RETENTION_DAYS
from rampart.components.waf import DEFAULT_MANAGED_RULE_GROUPS, WafSettings


def test_the_component_offers_exactly_the_tls_policies_the_pack_allows() -> None:
    assert sorted(ALLOWED_TLS_POLICIES) == sorted(DEFAULT_THRESHOLDS["allowedTlsPolicies"])
    assert DEFAULT_TLS_POLICY in DEFAULT_THRESHOLDS["allowedTlsPolicies"]


def test_default_waf_settings_pass_the_packs_bounds() -> None:
    default = WafSettings()
    assert DEFAULT_THRESHOLDS["rateLimitMin"] <= default.rate_limit <= DEFAULT_THRESHOLDS["rateLimitMax"]
    assert set(DEFAULT_THRESHOLDS["requiredManagedRuleGroups"]) <= set(DEFAULT_MANAGED_RULE_GROUPS)


def test_default_retention_meets_the_packs_minimum() -> None:
    assert DEFAULT_LOG_RETENTION_DAYS >= DEFAULT_THRESHOLDS["minLogRetentionDays"]
