"""Benchmark `rampart check`: the prod stack cold, and a synthetic stack of N services.

    .venv/bin/python benchmarks/check/run.py [--repeat 5] [--services 50] [--skip-prod]

1. `rampart check --stack prod`, cold: a fresh `python -m rampart check` process per run (imports,
   plan under the mock engine, pack process start, Analyze per resource, AnalyzeStack), wall time.
2. Synthetic stack: N WebService components (the real library, each with its own VPC, ALB, WAF,
   cluster, task definition, buckets ...) planned under the mock engine, then every resource sent
   through the same analyzer (`rampart.analyzer.run_pack`, the real pack over gRPC). Plan and
   check are timed separately.
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


def synthetic(services: int) -> tuple[float, float, int, int]:
    import pulumi

    from components.load_balancer import LoadBalancerSettings
    from components.web_service import WebService, WebServiceArgs
    from rampart.analyzer import run_pack
    from rampart.check import to_analysis
    from rampart.mock_engine import run_program_full

    account, region = "123456789012", "eu-west-1"

    def program() -> None:
        for i in range(services):
            name = f"svc{i:02d}"
            WebService(name, WebServiceArgs(
                image=f"{account}.dkr.ecr.{region}.amazonaws.com/{name}@sha256:" + "a" * 64,
                image_repository_arn=f"arn:aws:ecr:{region}:{account}:repository/{name}",
                load_balancer=LoadBalancerSettings(
                    certificate_arn=f"arn:aws:acm:{region}:{account}:certificate/00000000-0000-0000-0000-{i:012d}")))
        pulumi.export("services", services)

    start = time.perf_counter()
    run = run_program_full(program, stack="bench", region=region)
    plan_s = time.perf_counter() - start
    resources = to_analysis(run.resources)
    start = time.perf_counter()
    analysis = run_pack(REPO / "policy" / "soc2", resources, project="rampart", stack="bench")
    check_s = time.perf_counter() - start
    mandatory = len(analysis.mandatory_violations())
    return plan_s, check_s, len(resources), mandatory


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
    plan_s, check_s, n, mandatory = synthetic(args.services)
    rows.append((f"synthetic {args.services}-service stack: plan under the mock engine", f"{plan_s:.2f} s"))
    rows.append((f"synthetic {args.services}-service stack: pack over gRPC ({n} resources, target < 60 s)",
                 f"{check_s:.2f} s ({mandatory} mandatory violations)"))
    rows.append((f"synthetic {args.services}-service stack: plan + check", f"{plan_s + check_s:.2f} s"))
    print("\n| measurement | result |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
