"""What each service adds: plan a stack's environment alone, then with its services added one at a
time (and a third service made like the last, on its own path), and price every step.

    .venv/bin/python benchmarks/cost/steps.py [--stack dev] [--extra 1]

Writes the plans under out/plans/ (git-ignored) and prints `cost.py`'s tables for them, the last one
being what each step adds. The stack file is copied into a scratch project; the repository is not
changed.
"""
from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def steps(config: dict[str, Any], extra: int) -> list[tuple[str, dict[str, Any]]]:
    """(label, stack config) for the environment alone, then one more service per step."""
    services = dict(config.get("rampart:services") or {})
    last = next(reversed(services.values()))
    for i in range(extra):
        added = copy.deepcopy(last)
        added["routing"] = {"paths": [f"/extra{i + 1}/*"]}
        added.pop("rateLimit", None)
        services[f"extra{i + 1}"] = added
    out = []
    for n in range(len(services) + 1):
        step = copy.deepcopy(config)
        step["rampart:services"] = dict(list(services.items())[:n])
        out.append(("environment only" if n == 0 else f"+ {list(services)[n - 1]}", step))
    return out


def main(argv: list[str] | None = None) -> int:
    from rampart import cost as pricing
    from rampart.offline.plan import run_stack, to_json
    from rampart.offline.mock_engine import STACK_TYPE
    import cost

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--extra", type=int, default=1, help="services to add beyond the stack's own")
    args = parser.parse_args(argv)
    doc = yaml.safe_load((REPO / "stacks" / f"Pulumi.{args.stack}.yaml").read_text())
    out_dir = REPO / "out" / "plans"
    out_dir.mkdir(parents=True, exist_ok=True)
    plans: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy2(REPO / name, project / name)
        for name in ("proxy", "app"):
            shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("node_modules", "dist"))
        (project / "stacks").mkdir()
        for index, (label, config) in enumerate(steps(doc["config"], args.extra)):
            (project / "stacks" / f"Pulumi.{args.stack}.yaml").write_text(yaml.safe_dump({"config": config}))
            run = run_stack(project, args.stack)
            resources = [r for r in run.resources if r.type != STACK_TYPE]
            path = out_dir / f"{args.stack}-step{index}.json"
            entries = pricing.annotate(to_json(resources), pricing.entries(resources), run.region)
            path.write_text(json.dumps(entries, indent=1) + "\n")
            print(f"step {index}: {label}: {len(resources)} resources -> {path.relative_to(REPO)}", file=sys.stderr)
            plans.append(path)
    return cost.main([str(p) for p in plans])


if __name__ == "__main__":
    sys.exit(main())
