"""The component library's defaults and the SOC 2 pack's default thresholds agree.

The TLS policy list and the log retention default are no longer kept equal here: the components read
them from the pack's threshold records (rampart_soc2.vocabulary.thresholds), and tests/foundation/test_thresholds.py
walks each mirrored threshold's boundary. What is left are defaults the components choose themselves.
"""

from __future__ import annotations

from rampart_soc2.model import DEFAULT_THRESHOLDS

from rampart.components.waf import DEFAULT_MANAGED_RULE_GROUPS, WafSettings


def test_default_waf_settings_pass_the_packs_bounds() -> None:
    default = WafSettings()
    assert DEFAULT_THRESHOLDS["rateLimitMin"] <= default.rate_limit <= DEFAULT_THRESHOLDS["rateLimitMax"]
    assert set(DEFAULT_THRESHOLDS["requiredManagedRuleGroups"]) <= set(DEFAULT_MANAGED_RULE_GROUPS)
