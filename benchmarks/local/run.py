"""Time `rampart local up` (images already built) until every task is healthy, and `down`.

    DOCKER_HOST=$(scripts/docker-engine.sh start) scripts/base-images.sh   # once: registry-free bases
    PYTHONPATH=$PWD:$PWD/policy/soc2 python benchmarks/local/run.py [--stack dev] [--runs 3]

Without registry access the bases are substituted with `--build-arg`s (as tests/local does); on a
machine that can pull the Dockerfiles' pinned images, pass --no-local-bases. The first `up` builds
the images and is not timed; each timed run is `up` from nothing (down before it) then `down`.
`up` returns when every container with a health check reports healthy, so its time is the
"every task healthy" time. Targets (issue 11): up < 30 s, down < 10 s.
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

ROOT = Path(__file__).resolve().parents[2]
LOCAL_BASES = ["--build-arg=NODE_IMAGE=rampart/node-build:bookworm",
               "--build-arg=RUNTIME_IMAGE=rampart/node-runtime:bookworm",
               "--build-arg=NGINX_IMAGE=rampart/nginx:bookworm", "--build-arg=BUILD_IMAGE=rampart/c-build:bookworm"]


def rampart(*args: str) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "policy" / "soc2")])}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "rampart", *args, "-C", str(ROOT)], env=env,
                          capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"rampart {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-local-bases", action="store_true")
    args = parser.parse_args()
    up = ["local", "up", "--stack", args.stack, *([] if args.no_local_bases else LOCAL_BASES)]
    down = ["local", "down", "--stack", args.stack]
    rampart(*down)
    print(f"build + first up (not timed): {rampart(*up):.1f} s", flush=True)
    ups, downs = [], []
    for run in range(args.runs):
        rampart(*down)
        ups.append(rampart(*up))
        downs.append(rampart(*down))
        print(f"run {run + 1}: up {ups[-1]:.1f} s, down {downs[-1]:.1f} s", flush=True)
    cpus = os.cpu_count()
    print(f"\nmachine: {platform.platform()}, {cpus} CPUs, Python {platform.python_version()}")
    print(f"up (images built, until every task healthy): median {statistics.median(ups):.1f} s, "
          f"max {max(ups):.1f} s (target < 30 s)")
    print(f"down: median {statistics.median(downs):.1f} s, max {max(downs):.1f} s (target < 10 s)")


if __name__ == "__main__":
    main()
