"""POLICIES.md is generated from the registry; this fails when it is stale."""
from __future__ import annotations

from pathlib import Path

from rampart_soc2 import docs
from rampart_soc2.registry import POLICIES

REPO = Path(__file__).resolve().parents[2]


def test_policies_md_is_current() -> None:
    current = (REPO / "POLICIES.md").read_text(encoding="utf-8")
    assert current == docs.render(), "POLICIES.md is stale: run `PYTHONPATH=policy/soc2 python -m rampart_soc2.docs POLICIES.md`"


def test_every_policy_is_documented_with_criteria_and_remediation() -> None:
    text = docs.render()
    for pid, spec in POLICIES.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{pid}` | {spec.description}"))
        assert ", ".join(spec.criteria) in row and spec.severity in row and spec.reference in row, pid


def test_check_mode_detects_a_stale_file(tmp_path: Path) -> None:
    path = tmp_path / "POLICIES.md"
    path.write_text(docs.render().replace("CC6.7", "CC6.9", 1))
    assert docs.main(["--check", str(path)]) == 1
    assert docs.main([str(path)]) == 0 and docs.main(["--check", str(path)]) == 0
