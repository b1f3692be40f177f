"""Single-stage vs multi-stage build of the sample app: image sizes, the size floor, cold
build time and rebuild time after a one-file source change; and the proxy image's size and layer
count, today's (before issue 15) and the bare runtime, built from the same rendered config.

    sudo .venv/bin/python benchmarks/images/bench.py [--repeats 3] [--write-results]
    sudo .venv/bin/python benchmarks/images/bench.py --only proxy [--write-results]

`--only proxy` measures only the proxy images and keeps the app's numbers of results.json.

Runs against the private engine (scripts/docker-engine.sh; started and stopped here unless
one is already running) and the registry-free base images (scripts/base-images.sh), so it
needs root, dockerd, debootstrap and network access to deb.debian.org and the npm registry.

Builds use BuildKit (what `rampart/components/image.py` builds with): `docker buildx build --load`
when the buildx plugin exists, otherwise a docker CLI with the classic BuildKit client
(`DOCKER_BUILDKIT=1`, e.g. Debian's /usr/bin/docker 20.10). The two variants build the same
sources on the same bases, interleaved within each repeat (order alternates).

Definitions
- size: `docker image inspect .Size` (uncompressed bytes of all layers).
- floor: the runtime base image + the app's artifacts (compiled dist/, production
  node_modules/, package.json) measured in the build stages with `du -sb`; the smallest an
  image of this app on this runtime can be.
- cold build: `--no-cache` (every step runs, npm ci downloads), bases already present.
- rebuild: change one source file (append a line to src/server.ts) after a cached build,
  build again; the time is wall clock of the build command.
- proxy before: `benchmarks/images/proxy-full/` (proxy/Dockerfile, entrypoint.sh and
  healthcheck.sh as of commit 315bc9a: runtime FROM the nginx image itself); proxy after:
  proxy/Dockerfile (runtime FROM scratch). Both get the nginx.conf of
  `rampart render-proxy --stack dev` and NGINX_IMAGE=rampart/nginx:bookworm (debootstrap bookworm
  + Debian nginx, curl: the stand-in for the official nginx image); the bare one also
  BUILD_IMAGE=rampart/c-build:bookworm. Layers: `len(.RootFS.Layers)`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NODE_BASE = "rampart/node-build:bookworm"
RUNTIME_BASE = "rampart/node-runtime:bookworm"
VARIANTS = {
    "single-stage": (HERE / "single-stage.Dockerfile", None),
    "multi-stage": (ROOT / "app" / "Dockerfile", "runtime"),
}
NGINX_BASE = "rampart/nginx:bookworm"
C_BUILD_BASE = "rampart/c-build:bookworm"
PROXY_BEFORE = HERE / "proxy-full"


def sh(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 1800) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
    return proc.stdout.strip()


def buildkit_command(env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    if subprocess.run(["docker", "buildx", "version"], env=env, capture_output=True, check=False).returncode == 0:
        return ["docker", "buildx", "build", "--load"], env
    for cli in ("/usr/bin/docker", shutil.which("docker") or "docker"):
        probe = subprocess.run([cli, "build", "--help"], env={**env, "DOCKER_BUILDKIT": "1"},
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and "buildx component is missing" not in probe.stderr:
            return [cli, "build"], {**env, "DOCKER_BUILDKIT": "1"}
    raise SystemExit("no BuildKit-capable docker CLI (install docker-buildx or Debian's docker.io CLI)")


class Bench:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.build_cmd, self.build_env = buildkit_command(env)
        self.context = Path(tempfile.mkdtemp(prefix="rampart-bench-"))
        shutil.copytree(ROOT / "app", self.context / "app",
                        ignore=shutil.ignore_patterns("node_modules", "dist"))
        self.server_source = (self.app / "src" / "server.ts").read_text()
        self.changes = 0

    @property
    def app(self) -> Path:
        return self.context / "app"

    def build(self, variant: str, tag: str, *, no_cache: bool = False, target: str | None = None) -> float:
        dockerfile, default_target = VARIANTS[variant]
        target = target or default_target
        cmd = [*self.build_cmd, "--network", "host", "-f", str(dockerfile), "-t", tag,
               "--build-arg", f"NODE_IMAGE={NODE_BASE}", "--build-arg", f"RUNTIME_IMAGE={RUNTIME_BASE}"]
        if target:
            cmd += ["--target", target]
        if no_cache:
            cmd.append("--no-cache")
        t0 = time.monotonic()
        sh([*cmd, str(self.app)], env=self.build_env)
        return time.monotonic() - t0

    def size(self, image: str) -> int:
        return int(sh(["docker", "image", "inspect", "-f", "{{.Size}}", image], env=self.env))

    def du(self, image: str, *paths: str) -> int:
        out = sh(["docker", "run", "--rm", "--network", "none", "--entrypoint", "du", image, "-sb", *paths], env=self.env)
        return sum(int(line.split()[0]) for line in out.splitlines())

    def change_source(self) -> None:
        # a real code change (not a comment), different every time: the compiled output changes too
        self.changes += 1
        (self.app / "src" / "server.ts").write_text(
            self.server_source + f"\nexport const benchRevision = {self.changes};\n")

    def layers(self, image: str) -> int:
        return int(sh(["docker", "image", "inspect", "-f", "{{len .RootFS.Layers}}", image], env=self.env))

    def proxy(self) -> dict[str, object]:
        """Build the proxy image before and after from the same rendered config; sizes and layers."""
        out = self.context / "render"
        sh([sys.executable, "-m", "rampart.cli", "render-proxy", "-C", str(ROOT), "--stack", "dev", "--service", "web", "--out", str(out)])
        after = out / "image"
        before = self.context / "proxy-full"
        shutil.copytree(PROXY_BEFORE, before)
        shutil.copy2(after / "nginx.conf", before / "nginx.conf")
        builds = {
            "proxy-before": (before, [f"NGINX_IMAGE={NGINX_BASE}"]),
            "proxy-bare": (after, [f"NGINX_IMAGE={NGINX_BASE}", f"BUILD_IMAGE={C_BUILD_BASE}"]),
        }
        result: dict[str, object] = {}
        for name, (context, args) in builds.items():
            tag = f"rampart-bench/{name}:latest-run"
            flags = [a for arg in args for a in ("--build-arg", arg)]
            sh([*self.build_cmd, "--network", "host", *flags, "-t", tag, str(context)], env=self.build_env)
            result[name] = {"size_bytes": self.size(tag), "layers": self.layers(tag)}
            sh(["docker", "rmi", "-f", tag], env=self.env)
        self.build("multi-stage", "rampart-bench/app:latest-run")
        result["app"] = {"size_bytes": self.size("rampart-bench/app:latest-run"),
                         "layers": self.layers("rampart-bench/app:latest-run")}
        sh(["docker", "rmi", "-f", "rampart-bench/app:latest-run"], env=self.env)
        result["nginx_base"] = {"size_bytes": self.size(NGINX_BASE), "layers": self.layers(NGINX_BASE)}
        return result

    def cleanup(self) -> None:
        shutil.rmtree(self.context, ignore_errors=True)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} vCPU ({cpu}), {mem} RAM, Linux {platform.release()}"


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write-results", action="store_true",
                        help="rewrite benchmarks/images/RESULTS.md and results.json")
    parser.add_argument("--render", metavar="JSON", help="only re-render RESULTS.md from a saved results.json")
    parser.add_argument("--only", choices=["proxy"], help="measure only the proxy images (keeps the app's results)")
    opts = parser.parse_args()
    if opts.render:
        write_results(json.loads(Path(opts.render).read_text()))
        return 0

    host = sh([str(ROOT / "scripts/docker-engine.sh"), "host"])
    env = {**os.environ, "DOCKER_HOST": host}
    was_running = subprocess.run(["docker", "version"], env=env, capture_output=True, check=False).returncode == 0
    sh([str(ROOT / "scripts/docker-engine.sh"), "start"])
    bench: Bench | None = None
    try:
        sh([str(ROOT / "scripts/base-images.sh")], env=env)
        bench = Bench(env)
        server_version = sh(["docker", "version", "-f", "{{.Server.Version}}"], env=env)
        if opts.only == "proxy":
            saved = json.loads((HERE / "results.json").read_text())
            saved["proxy"] = {**bench.proxy(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                              "machine": machine(), "docker": server_version}
            print(json.dumps(saved["proxy"], indent=2))
            if opts.write_results:
                (HERE / "results.json").write_text(json.dumps(saved, indent=2) + "\n")
                write_results(saved)
            return 0
        cold: dict[str, list[float]] = {v: [] for v in VARIANTS}
        rebuild: dict[str, list[float]] = {v: [] for v in VARIANTS}
        order = list(VARIANTS)
        for r in range(opts.repeats):
            for variant in (order if r % 2 == 0 else order[::-1]):
                tag = f"rampart-bench/{variant}:r{r}"
                cold[variant].append(bench.build(variant, tag, no_cache=True))
                bench.build(variant, tag)  # warm: everything cached
                bench.change_source()
                rebuild[variant].append(bench.build(variant, tag))
                print(f"repeat {r + 1}: {variant}: cold {cold[variant][-1]:.1f} s, "
                      f"rebuild {rebuild[variant][-1]:.2f} s", file=sys.stderr)
        last = opts.repeats - 1
        sizes = {v: bench.size(f"rampart-bench/{v}:r{last}") for v in VARIANTS}
        # artifacts, measured where they are produced
        bench.build("multi-stage", "rampart-bench/stage:build", target="build")
        bench.build("multi-stage", "rampart-bench/stage:prod-deps", target="prod-deps")
        dist = bench.du("rampart-bench/stage:build", "/src/dist", "/src/package.json")
        deps = bench.du("rampart-bench/stage:prod-deps", "/src/node_modules")
        runtime_base = bench.size(RUNTIME_BASE)
        floor = runtime_base + dist + deps
        result = {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine(),
            "docker": server_version,
            "builder": " ".join(bench.build_cmd) + (" (DOCKER_BUILDKIT=1)" if "DOCKER_BUILDKIT" in bench.build_env else ""),
            "repeats": opts.repeats,
            "size_bytes": sizes,
            "runtime_base_bytes": runtime_base,
            "artifact_bytes": {"dist+package.json": dist, "prod node_modules": deps},
            "floor_bytes": floor,
            "cold_build_s": cold,
            "rebuild_s": rebuild,
            "proxy": {**bench.proxy(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "machine": machine(), "docker": server_version},
        }
        print(json.dumps(result, indent=2))
        result["load_average_after"] = Path("/proc/loadavg").read_text().split()[:3]
        if opts.write_results:
            (HERE / "results.json").write_text(json.dumps(result, indent=2) + "\n")
            write_results(result)
        for v in VARIANTS:
            sh(["docker", "rmi", "-f", *(f"rampart-bench/{v}:r{r}" for r in range(opts.repeats))], env=env)
        sh(["docker", "rmi", "-f", "rampart-bench/stage:build", "rampart-bench/stage:prod-deps"], env=env)
    finally:
        if bench is not None:
            bench.cleanup()
        if not was_running:
            sh([str(ROOT / "scripts/docker-engine.sh"), "stop"])
    return 0


def write_results(r: dict) -> None:  # type: ignore[type-arg]
    single, multi = r["size_bytes"]["single-stage"], r["size_bytes"]["multi-stage"]
    floor = r["floor_bytes"]
    med = {k: {v: statistics.median(xs) for v, xs in r[k].items()} for k in ("cold_build_s", "rebuild_s")}
    raw = {k: {v: ", ".join(f"{x:.2f}" for x in xs) for v, xs in r[k].items()} for k in ("cold_build_s", "rebuild_s")}
    ok = lambda c: "met" if c else "**missed**"  # noqa: E731
    text = f"""# Image benchmark results

Last run: {r.get('when', '?')} with `benchmarks/images/bench.py --repeats {r['repeats']} --write-results`
(raw numbers in `results.json`).

Machine: {r['machine']}; Docker engine {r['docker']} (overlay2); builder `{r['builder']}`.
Bases: `{NODE_BASE}` (debootstrap bookworm + Debian nodejs 18 and npm) for build stages,
`{RUNTIME_BASE}` (distroless-style nodejs closure) for the multi-stage runtime, both made by
`scripts/base-images.sh`. The single-stage image is `benchmarks/images/single-stage.Dockerfile`
(the usual `FROM node` + `npm ci` + build in one stage).

## Sizes (uncompressed, `docker image inspect .Size`)

| image | size | vs single-stage | vs floor |
|---|---|---|---|
| single-stage | {mib(single)} | 1.00 | {single / floor:.2f} |
| multi-stage (`app/Dockerfile`, target `runtime`) | {mib(multi)} | {multi / single:.2f} | {multi / floor:.3f} |
| floor = runtime base {mib(r['runtime_base_bytes'])} + dist/package.json {r['artifact_bytes']['dist+package.json'] / 1024:.1f} KiB + prod node_modules {r['artifact_bytes']['prod node_modules'] / 1024:.1f} KiB | {mib(floor)} | {floor / single:.2f} | 1.00 |

## Build times (seconds; median of {r['repeats']}, all runs in brackets)

| image | cold build (`--no-cache`, bases present) | rebuild after one source change |
|---|---|---|
| single-stage | {med['cold_build_s']['single-stage']:.1f} [{raw['cold_build_s']['single-stage']}] | {med['rebuild_s']['single-stage']:.2f} [{raw['rebuild_s']['single-stage']}] |
| multi-stage | {med['cold_build_s']['multi-stage']:.1f} [{raw['cold_build_s']['multi-stage']}] | {med['rebuild_s']['multi-stage']:.2f} [{raw['rebuild_s']['multi-stage']}] |

Cold builds include `npm ci` downloading from the npm registry, so they vary with the network.
The rebuild re-runs the build stage from `COPY src` on: esbuild and the unit tests (`npm test`,
which starts the server in child processes), then the runtime stage's `COPY --from=build`.
Type checking (`tsc --noEmit`, about 4 s here) is the separate `check` stage, off this path.
The machine was shared with other jobs during the run (load average afterwards:
{' '.join(r.get('load_average_after', ['?']))}); the spread between runs of the same build is
that noise. The floor's artifact sizes come from `du -sb`, which also counts directory
entries, so the floor is an upper bound by a few KiB (hence multi-stage ≈ floor).

## What this does not measure

No registry is reachable from these machines, so the pinned production bases
(`node:22-bookworm-slim`, `gcr.io/distroless/nodejs22-debian12`) were not built here; the
local bases stand in for them (the runtime one is, like distroless, only node and its shared
libraries). Sizes with the production bases will differ by the bases' own sizes. Build times
exclude pushing to ECR.

## Targets

| target | result |
|---|---|
| multi-stage ≤ 50% of single-stage | {multi / single:.0%} — {ok(multi <= 0.5 * single)} |
| multi-stage ≤ 1.15× the floor | {multi / floor:.3f}× — {ok(multi <= 1.15 * floor)} |
| cached rebuild after one source change < 5 s | median {med['rebuild_s']['multi-stage']:.2f} s — {ok(med['rebuild_s']['multi-stage'] < 5)}; worst of {r['repeats']}: {max(r['rebuild_s']['multi-stage']):.2f} s — {ok(max(r['rebuild_s']['multi-stage']) < 5)} |
"""
    if "proxy" in r:
        text += proxy_section(r["proxy"])
    (HERE / "RESULTS.md").write_text(text)


def proxy_section(p: dict) -> str:  # type: ignore[type-arg]
    before, bare, app = p["proxy-before"], p["proxy-bare"], p["app"]
    ratio = bare["size_bytes"] / before["size_bytes"]
    ok = "met" if ratio <= 0.40 else "**missed**"
    return f"""
## Proxy image: before and after the bare runtime (issue 15)

Measured {p['when']} with `benchmarks/images/bench.py --only proxy --write-results` on
{p['machine']}; Docker engine {p['docker']}. Both images are built from the same config
(`rampart render-proxy --stack dev`) on the same local nginx base, `{NGINX_BASE}`
({mib(p['nginx_base']['size_bytes'])}, {p['nginx_base']['layers']} layer: debootstrap bookworm + Debian's nginx 1.22,
curl, shell and apt, standing in for the official nginx image, which no registry here serves).

| image | size | layers | vs before |
|---|---|---|---|
| proxy before (`benchmarks/images/proxy-full/`: runtime FROM the nginx image) | {mib(before['size_bytes'])} | {before['layers']} | 1.00 |
| proxy bare (`proxy/Dockerfile`: runtime FROM scratch) | {mib(bare['size_bytes'])} | {bare['layers']} | {ratio:.2f} |
| app (`app/Dockerfile`, target `runtime`), beside them | {mib(app['size_bytes'])} | {app['layers']} | — |

Of the bare image, the static helper (`proxy-init`, OpenSSL linked in) is about 4.7 MiB and
nginx with its shared libraries (glibc, OpenSSL, PCRE2, zlib, libcrypt) the rest. With the
official nginx image as base the "before" image is that image's size plus the config; the bare one
stays nginx's closure plus the helper.

| target | result |
|---|---|
| bare runtime ≤ 40% of today's image built from the same config | {ratio:.0%} — {ok} |
"""


if __name__ == "__main__":
    sys.exit(main())
