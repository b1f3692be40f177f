"""POLICIES.md is generated from the registry; this fails when it is stale."""
from __future__ import annotations

import json
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


# ---- docs/policy.md and POLICIES.md match the code

import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402
import yaml  # noqa: E402

POLICY_DOC = REPO / "docs" / "policy.md"
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    return {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.+)$", path.read_text(), flags=re.MULTILINE)}


@pytest.mark.parametrize("doc", [POLICY_DOC, REPO / "POLICIES.md"], ids=["docs/policy.md", "POLICIES.md"])
def test_relative_links_point_at_files_and_headings_that_exist(doc: Path) -> None:
    for target in _LINK.findall(doc.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (doc.parent / path).resolve() if path else doc
        assert resolved.exists(), f"{doc.name}: link {target} points at a missing file"
        if anchor:
            assert anchor in _anchors(resolved), f"{doc.name}: link {target} names a missing heading"


def _policy_example() -> dict[str, object]:
    block = re.search(r"```yaml\n(  rampart:policy:.*?)```", POLICY_DOC.read_text(), re.S)
    assert block, "docs/policy.md has no rampart:policy example"
    return dict(yaml.safe_load(block.group(1))["rampart:policy"])


def test_thresholds_shown_are_exactly_those_the_stack_file_accepts() -> None:
    from rampart.config import PolicySettings

    accepted = {f.alias or n for n, f in PolicySettings.model_fields.items()} - {"enforcement", "waivers"}
    text = POLICY_DOC.read_text()
    section = text.split("## Configure it per stack", 1)[1].split("\n## ", 1)[0]
    example = set(_policy_example()) - {"enforcement", "waivers"}
    others = set(re.findall(r"`([a-z][A-Za-z]+)`", section.split("The other thresholds", 1)[1].split("listed with their", 1)[0]))
    assert example | (others - {"rampart:policy"}) == accepted, (example, others, accepted)
    assert example <= accepted, f"the example sets keys the stack file refuses: {example - accepted}"
    # the example as a whole is a valid rampart:policy section
    PolicySettings.model_validate(_policy_example())


def test_example_enforcement_and_waiver_name_real_policies_and_resources() -> None:
    from rampart.offline.plan import plan_stack
    from rampart_soc2.registry import POLICIES

    example = _policy_example()
    names = {r.name for r in plan_stack(REPO, "prod")}
    for pid in dict(example["enforcement"]):  # type: ignore[call-overload]
        assert pid in POLICIES, pid
    for waiver in list(example["waivers"]):  # type: ignore[call-overload]
        assert waiver["policy"] in POLICIES, waiver
        assert waiver["resource"] in names, f"the waiver example names {waiver['resource']!r}, not a resource of the stacks"


def _doc_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", POLICY_DOC.read_text(), re.S)
    lines = [line.split("  #", 1)[0].strip() for b in blocks for line in b.splitlines()]
    return [line for line in lines if line.startswith(("rampart ", "PYTHONPATH=", "python -c"))]


@pytest.mark.e2e
def test_the_commands_shown_run_as_written(project_copy: Path) -> None:
    shutil.copy2(REPO / "POLICIES.md", project_copy / "POLICIES.md")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    prose = POLICY_DOC.read_text().replace("\n", " ")
    inline = re.findall(r"`((?:python -c|PYTHONPATH=)[^`]*)`", prose)
    commands = _doc_commands() + inline
    assert len(commands) >= 5 and any(c.startswith("rampart verify") for c in commands), commands
    assert any("rampart_soc2.docs" in c for c in inline), commands
    # The deployed-state example reads an export; this one is the prod plan as if deployed.
    from rampart.offline.plan import plan_stack
    from rampart.offline.state import export_from_plan

    (project_copy / "prod-state.json").write_text(json.dumps(export_from_plan(plan_stack(project_copy, "prod"))))
    for command in commands:
        done = subprocess.run(command, shell=True, cwd=project_copy, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command!r} exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    assert (project_copy / "POLICIES.md").read_text() == (REPO / "POLICIES.md").read_text(), "regenerating changed POLICIES.md"
