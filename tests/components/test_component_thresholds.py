"""Each component setting that mirrors a SOC 2 pack threshold walks the threshold's boundary: at the
limit and one past it, the component and the pack agree. A value the component accepts passes the
check; a value the pack fails is refused when the program is planned, naming the threshold.

The pack's verdict is taken on what the component really registers: the environment is planned under
the mock engine with the widest thresholds (so it registers the value), then the policy is evaluated
with the thresholds under test.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from rampart.components.environment import Environment, EnvironmentArgs
from rampart.components.load_balancer import LoadBalancerSettings
from rampart.components.monitoring import MonitoringArgs
from rampart.components.network import NetworkSettings
from rampart.components.waf import ScopedRateLimit, WafSettings
from rampart.offline.mock_engine import run_program_full
from components_support import CERTIFICATE_ARN, DECLARED_RECORDER, REGION

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy" / "soc2"))

from rampart_soc2.model import NotApplicable, Violation, context_from_config, evaluate_resource, make_resource  # noqa: E402
from rampart_soc2.registry import POLICIES  # noqa: E402
from rampart_soc2.vocabulary.thresholds import (  # noqa: E402
    CLOUDWATCH_RETENTION_DAYS,
    DEFAULT_THRESHOLDS,
    TLS_POLICIES,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
)

RATE = "aws-wafv2-webacl-require-rate-based-rule"
RETENTION = "aws-cloudwatch-loggroup-require-retention"
TLS = "aws-lb-listener-require-tls-policy"

#: Thresholds under which the component accepts every value AWS does: the plan the pack then judges.
WIDEST: dict[str, Any] = {"rateLimitMin": WAF_RATE_LIMIT_MIN, "rateLimitMax": WAF_RATE_LIMIT_MAX,
                          "minLogRetentionDays": CLOUDWATCH_RETENTION_DAYS[0], "allowedTlsPolicies": list(TLS_POLICIES)}


def settings(**updates: Any) -> dict[str, Any]:
    return {
        "load_balancer": LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN]),
        "compliance": {"recorder": DECLARED_RECORDER},
        "monitoring": MonitoringArgs(alarm_email_endpoints=["oncall@example.com"]),
        **updates,
    }


def component_accepts(values: dict[str, Any], thresholds: dict[str, Any]) -> bool:
    try:
        EnvironmentArgs(**values, policy_thresholds=thresholds)
    except ValidationError:
        return False
    return True


def pack_passes(values: dict[str, Any], policy_id: str, thresholds: dict[str, Any]) -> bool:
    """The policy's verdict on every resource it judges in the planned environment."""
    run = run_program_full(lambda: Environment("shop", EnvironmentArgs(**values, policy_thresholds=WIDEST)), region=REGION)
    spec, ctx = POLICIES[policy_id], context_from_config(policy_id, thresholds, stack="test")
    results = [evaluate_resource(spec, make_resource(r.type, r.name, {**r.inputs, **r.outputs}, urn=r.urn), ctx)
               for r in run.resources if r.custom]
    judged = [r for r in results if not isinstance(r, NotApplicable)]
    assert judged, f"{policy_id} judged nothing in the planned environment"
    return not any(isinstance(r, Violation) for r in judged)


CASES = {
    # name: (settings, policy, the stack's thresholds, accepted)
    "rate limit at the default max": (settings(waf=WafSettings(rate_limit=10000)), RATE, {}, True),
    "rate limit one past the default max": (settings(waf=WafSettings(rate_limit=10001)), RATE, {}, False),
    "rate limit at the default min": (settings(waf=WafSettings(rate_limit=100)), RATE, {}, True),
    "rate limit one below the default min": (settings(waf=WafSettings(rate_limit=99)), RATE, {}, False),
    "rate limit at a stack's max": (settings(waf=WafSettings(rate_limit=50000)), RATE, {"rateLimitMax": 50000}, True),
    "rate limit one past a stack's max": (settings(waf=WafSettings(rate_limit=50001)), RATE, {"rateLimitMax": 50000}, False),
    "rate limit at AWS's max, allowed by the stack": (
        settings(waf=WafSettings(rate_limit=WAF_RATE_LIMIT_MAX)), RATE, {"rateLimitMax": WAF_RATE_LIMIT_MAX}, True),
    "rate limit past the max, with a scoped limit within": (
        settings(waf=WafSettings(rate_limit=10001, scoped_rate_limits=[ScopedRateLimit(name="api", limit=10000, path_prefixes=["/api"])])),
        RATE, {}, True),
    "rate limit and scoped limit both past the max": (
        settings(waf=WafSettings(rate_limit=10001, scoped_rate_limits=[ScopedRateLimit(name="api", limit=10001, path_prefixes=["/api"])])),
        RATE, {}, False),
    "log retention at the default minimum": (settings(monitoring=MonitoringArgs(log_retention_days=365)), RETENTION, {}, True),
    "log retention one CloudWatch value below it": (settings(monitoring=MonitoringArgs(log_retention_days=180)), RETENTION, {}, False),
    "log retention at a stack's minimum": (
        settings(monitoring=MonitoringArgs(log_retention_days=30)), RETENTION, {"minLogRetentionDays": 30}, True),
    "log retention below a stack's minimum": (
        settings(monitoring=MonitoringArgs(log_retention_days=14)), RETENTION, {"minLogRetentionDays": 30}, False),
    "flow log retention at the minimum": (settings(network=NetworkSettings(flow_log_retention_days=365)), RETENTION, {}, True),
    "flow log retention below it": (settings(network=NetworkSettings(flow_log_retention_days=180)), RETENTION, {}, False),
    "TLS policy a stack allows": (
        settings(load_balancer=LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN], tls_policy=TLS_POLICIES[2])),
        TLS, {"allowedTlsPolicies": [TLS_POLICIES[2]]}, True),
    "TLS policy a stack does not allow": (
        settings(load_balancer=LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN], tls_policy=TLS_POLICIES[0])),
        TLS, {"allowedTlsPolicies": [TLS_POLICIES[2]]}, False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_component_and_the_pack_agree_at_the_boundary(case: str) -> None:
    values, policy_id, thresholds, expected = CASES[case]
    assert component_accepts(values, thresholds) is expected, f"{case}: the component should {'accept' if expected else 'refuse'} it"
    assert pack_passes(values, policy_id, thresholds) is expected, f"{case}: {policy_id} should {'pass' if expected else 'fail'} it"


def test_a_refusal_names_the_setting_the_threshold_and_where_to_change_it() -> None:
    with pytest.raises(ValidationError) as info:
        EnvironmentArgs(**settings(waf=WafSettings(rate_limit=10001)))
    message = str(info.value)
    assert "waf.rate_limit: 10001 is outside the SOC 2 pack's rate limit bounds [100, 10000]" in message, message
    assert "`rampart:policy.rateLimitMax`" in message and "EnvironmentArgs.policy_thresholds" in message, message


def test_nothing_past_what_aws_accepts_is_offered_on_either_side() -> None:
    from rampart.config import PolicySettings

    with pytest.raises(ValidationError):
        WafSettings(rate_limit=WAF_RATE_LIMIT_MAX + 1)
    with pytest.raises(ValidationError):
        WafSettings(rate_limit=WAF_RATE_LIMIT_MIN - 1)
    with pytest.raises(ValidationError):
        PolicySettings(rate_limit_max=WAF_RATE_LIMIT_MAX + 1)
    with pytest.raises(ValidationError):
        PolicySettings(rate_limit_min=WAF_RATE_LIMIT_MIN - 1)
    assert PolicySettings(rate_limit_max=WAF_RATE_LIMIT_MAX, rate_limit_min=WAF_RATE_LIMIT_MIN).thresholds() == {
        "rateLimitMin": WAF_RATE_LIMIT_MIN, "rateLimitMax": WAF_RATE_LIMIT_MAX}
    with pytest.raises(ValidationError):
        PolicySettings(min_log_retention_days=CLOUDWATCH_RETENTION_DAYS[-1] + 1)


def test_the_component_defaults_pass_the_packs_defaults() -> None:
    assert component_accepts(settings(), {})
    assert MonitoringArgs().log_retention_days == DEFAULT_THRESHOLDS["minLogRetentionDays"]
    assert LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN]).tls_policy in DEFAULT_THRESHOLDS["allowedTlsPolicies"]
