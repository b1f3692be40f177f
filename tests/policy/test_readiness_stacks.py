"""The repository's stacks under the readiness policies: no violation, and exactly the unknowns
readiness_today.py explains (what the plan of an existing VPC or a services-only stack cannot show).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from rampart.offline.check import check_stack
from rampart_soc2.registry import POLICIES
from readiness_today import TODAY

REPO = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.split(".")[1] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
READINESS = {pid for pid, spec in POLICIES.items() if spec.category == "readiness"}
pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("stack", STACKS)
def test_stack_readiness_findings_are_exactly_those_known_today(stack: str) -> None:
    analysis = check_stack(REPO, stack).analysis
    found = {(o.policy, o.kind) for o in analysis.outcomes
             if o.policy in READINESS and o.kind not in ("compliant", "not-applicable")}
    expected = set(TODAY.get(stack, {}))
    assert found - expected == set(), f"stack {stack}: new readiness findings {sorted(found - expected)}: " + "; ".join(
        o.message[:400] for o in analysis.outcomes if (o.policy, o.kind) in found - expected)
    assert expected - found == set(), (f"stack {stack}: fixed, delete from readiness_today.TODAY: "
                                       f"{sorted(expected - found)}")
    judged = {o.policy for o in analysis.outcomes if o.policy in READINESS and o.kind == "compliant"}
    assert judged, f"stack {stack}: no readiness policy judged anything compliant"


def test_every_stack_is_in_the_table_or_clean() -> None:
    assert set(TODAY) <= set(STACKS), sorted(set(TODAY) - set(STACKS))


@pytest.mark.parametrize("stack", STACKS)
def test_readiness_exceptions_in_a_stack_file_cover_only_todays_findings(stack: str) -> None:
    """An advisory override or waiver of a readiness policy lasts exactly as long as its finding."""
    import yaml

    settings = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"].get("rampart:policy") or {}
    overridden = {pid for pid in (settings.get("enforcement") or {}) if pid in READINESS}
    waived = {w["policy"] for w in settings.get("waivers") or [] if w.get("policy") in READINESS}
    today = TODAY.get(stack, {})
    assert overridden == {pid for pid, kind in today if kind == "violation"}, (stack, overridden)
    assert waived == {pid for pid, kind in today if kind == "waived"}, (stack, waived)
