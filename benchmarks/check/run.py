"""Benchmark `rampart check`: the prod stack cold, and a synthetic stack of N services.

    .venv/bin/python benchmarks/check/run.py [--repeat 5] [--services 50] [--skip-prod]

1. `rampart check --stack prod`, cold: a fresh `python -m rampart check` process per run (imports,
   plan under the mock engine, pack process start, Analyze per resource, AnalyzeStack), wall time.
2. Synthetic stack: the dev stack's environment with N services attached (every other one behind
   the Nginx sidecar), written as a stack file into a copy of the project and checked by a cold
   `python -m rampart check` process, as a user runs it: the program planned under the mock engine,
   then every resource sent through the real pack over gRPC. The check prints its plan and pack
   times separately.
Prints a Markdown table; paste it into RESULTS.md with the machine noted.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def time_prod(repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "rampart", "check", "--stack", "prod"], cwd=REPO,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"rampart check failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        print(f"  prod run: {times[-1]:.2f}s (exit {proc.returncode}) {proc.stdout.strip().splitlines()[-1]}", file=sys.stderr)
    return times


def synthetic_stack(services: int) -> dict[str, object]:
    """The dev stack's environment, with `services` services attached by config alone."""
    import yaml

    doc = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())
    config = doc["config"]
    account, region = "123456789012", "eu-west-1"
    config["rampart:services"] = {
        f"svc{i:02d}": {
            "image": {"uri": f"{account}.dkr.ecr.{region}.amazonaws.com/svc{i:02d}@sha256:" + "a" * 64},
            "ingress": "nginx" if i % 2 else "alb",
            # Many services on one listener take explicit priorities (derived ones can meet).
            "routing": {"paths": [f"/svc{i:02d}/*"], "priority": 100 + i},
            "containerPort": 3000,
            "desiredCount": 1,
            "minCount": 1,
        }
        for i in range(services)
    }
    return doc


def synthetic(services: int) -> tuple[float, float, float, str]:
    """Wall time of a cold `rampart check` of the synthetic stack, its plan and pack times, and its summary."""
    import re
    import shutil
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy2(REPO / name, project / name)
        for name in ("stacks", "proxy", "policy"):
            shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        (project / "stacks" / "Pulumi.bench.yaml").write_text(yaml.safe_dump(synthetic_stack(services)))
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "rampart", "check", "-C", str(project), "--stack", "bench"],
                              cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"rampart check failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    last = proc.stdout.strip().splitlines()[-1]
    times = re.search(r"plan ([0-9.]+)s, pack ([0-9.]+)s", last)
    assert times, last
    return wall, float(times[1]), float(times[2]), last


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--skip-prod", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    rows = []
    if not args.skip_prod:
        t = time_prod(args.repeat)
        rows.append(("`rampart check --stack prod`, cold process (target < 10 s)",
                     f"min {min(t):.2f} s, median {statistics.median(t):.2f} s, max {max(t):.2f} s over {len(t)} runs"))
    wall, plan_s, pack_s, summary = synthetic(args.services)
    label = f"one environment, {args.services} services"
    rows.append((f"{label}: cold `rampart check` process (target < 60 s)", f"{wall:.2f} s"))
    rows.append((f"{label}: plan under the mock engine", f"{plan_s:.2f} s"))
    rows.append((f"{label}: the pack over gRPC (target < 20 s)", f"{pack_s:.2f} s"))
    rows.append((f"{label}: the check's own summary", summary))
    print("\n| measurement | result |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
