"""Derived listener-rule priorities at the edges of each specificity class: a pattern one character
shorter than a class's minimum literal prefix falls into the next, less specific class."""

from __future__ import annotations

import pytest

from rampart.components.routing import (
    APP_STACK_PRIORITIES,
    DERIVED_PRIORITIES,
    RoutingSettings,
    effective_priority,
    specificity_class,
)


def _path_of_prefix(length: int) -> str:
    """A path pattern whose literal part (before the first wildcard) is `length` characters."""
    return ("/" + "a" * (length - 1) if length else "") + "*"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [(17, 0), (16, 1), (9, 1), (8, 2), (5, 2), (4, 3), (2, 3), (1, 5)],
)
def test_each_class_starts_at_its_minimum_literal_prefix(prefix: int, expected: int) -> None:
    routing = RoutingSettings(paths=[_path_of_prefix(prefix)])
    assert specificity_class(routing) == expected, routing.paths


def test_a_question_mark_ends_the_literal_prefix_like_a_star() -> None:
    assert specificity_class(RoutingSettings(paths=["/abcdefgh?"])) == 1  # 9 literal characters
    assert specificity_class(RoutingSettings(paths=["/abcdefg?x"])) == 2  # 8


def test_the_least_specific_path_decides_the_class() -> None:
    assert specificity_class(RoutingSettings(paths=["/" + "a" * 20 + "/*", "/b*"])) == 3


def test_host_only_rules_sit_between_short_paths_and_catch_alls() -> None:
    assert specificity_class(RoutingSettings(hosts=["api.example.com"])) == 4
    assert specificity_class(RoutingSettings(hosts=["api.example.com"], paths=["/*"])) == 4
    assert specificity_class(RoutingSettings(paths=["/*"])) == 5


@pytest.mark.parametrize("service", ["web", "api", "reports", "a" * 40])
def test_a_derived_priority_stays_inside_its_class_band(service: str) -> None:
    """Every class owns a band of 6500 priorities from 10000 (after the app stacks' 1000-9999), so a
    more specific route always wins."""
    bands = [effective_priority(service, RoutingSettings(paths=[_path_of_prefix(n)])) for n in (17, 9, 5, 2, 1)]
    bands.insert(4, effective_priority(service, RoutingSettings(hosts=["x.example.com"])))
    for cls, priority in enumerate(bands):
        assert 10_000 + cls * 6500 <= priority < 10_000 + (cls + 1) * 6500, (cls, priority)
        assert priority in DERIVED_PRIORITIES and priority not in APP_STACK_PRIORITIES, (cls, priority)
    assert bands == sorted(bands) and max(bands) <= 50000, bands


def test_an_explicit_priority_is_kept_as_given() -> None:
    assert effective_priority("web", RoutingSettings(paths=["/*"], priority=7)) == 7
