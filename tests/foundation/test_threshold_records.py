"""The pack's threshold records are the one owner: the stack file's `rampart:policy`, `rampart check`
and the report read them, and a stack file is refused where its own thresholds would fail the check."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rampart_soc2.vocabulary.thresholds import BY_KEY, THRESHOLDS

from rampart.config import ConfigError, PolicySettings, read_stack_values, validate_stack_config
from rampart.offline.report import WEB_ACL_TYPE, threshold_sentences

ROOT = Path(__file__).resolve().parents[2]


def dev_values() -> dict[str, Any]:
    return copy.deepcopy(read_stack_values(ROOT, "dev")[1])


def test_the_stack_file_offers_one_field_per_record_named_after_it() -> None:
    fields = {name: f for name, f in PolicySettings.model_fields.items() if name not in ("enforcement", "waivers")}
    assert {f.alias for f in fields.values()} == {t.key for t in THRESHOLDS if t.in_stack_file}
    assert all(BY_KEY[f.alias or ""].field == name for name, f in fields.items())


def test_a_stack_file_is_refused_where_its_own_thresholds_would_fail_the_check() -> None:
    values = dev_values()
    values["rampart:environment"]["waf"]["rateLimit"] = 10001
    # A service's own limit within the bounds is a rule the pack accepts (it asks for one): without it,
    # no rule of the web ACL is within them.
    for service in values["rampart:services"].values():
        service.pop("rateLimit", None)
    with pytest.raises(ConfigError) as info:
        validate_stack_config(values, "Pulumi.dev.yaml")
    message = str(info.value)
    assert "rampart:environment.waf.rateLimit: 10001 is outside the SOC 2 pack's rate limit bounds [100, 10000]" in message, message
    assert "`rampart:policy.rateLimitMax`" in message, message
    values["rampart:policy"]["rateLimitMax"] = 10001  # the fix the message names
    validate_stack_config(values, "Pulumi.dev.yaml")


def test_a_stack_files_log_retention_below_its_minimum_is_refused_with_the_key() -> None:
    values = dev_values()
    values["rampart:environment"]["monitoring"]["logRetentionDays"] = 180
    with pytest.raises(ConfigError, match=r"rampart:environment\.monitoring\.logRetentionDays: 180 days is less than .* 365 days"):
        validate_stack_config(values, "Pulumi.dev.yaml")


def _web_acl(*windows: int | None) -> SimpleNamespace:
    rules = [{"statement": {"rateBasedStatement": {"limit": 1000, **({} if w is None else {"evaluationWindowSec": w})}}}
             for w in windows]
    return SimpleNamespace(type=WEB_ACL_TYPE, properties={"rules": rules})


def test_the_rate_limit_sentence_states_the_configured_window() -> None:
    config = {"aws-wafv2-webacl-require-rate-based-rule": {"rateLimitMax": 5000}}
    [one] = threshold_sentences(config, [_web_acl(60)])
    assert one["sentence"] == "A web ACL's rate limit must be at most 5000 requests per 60 seconds."
    [two] = threshold_sentences(config, [_web_acl(600, None)])  # AWS's default window is 300 s
    assert two["sentence"] == "A web ACL's rate limit must be at most 5000 requests per 300 or 600 seconds."


def test_rate_limit_bounds_out_of_order_are_refused_at_equal_and_one_past() -> None:
    assert PolicySettings(rate_limit_min=500, rate_limit_max=500).thresholds() == {"rateLimitMin": 500, "rateLimitMax": 500}
    with pytest.raises(ValueError, match="rateLimitMin 501 is above rateLimitMax 500"):
        PolicySettings(rate_limit_min=501, rate_limit_max=500)
    with pytest.raises(ValueError, match="rateLimitMin 10001 is above rateLimitMax 10000"):
        PolicySettings(rate_limit_min=10001)  # against the pack's default maximum
