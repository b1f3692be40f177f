"""`rampart local up|status|logs|down`: run a stack's services on the local Docker Engine, from
the tasks its plan registers (see docs/local.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rampart.errors import UserError
from rampart.local import engine, rollout
from rampart.local.compose import compose_document, render
from rampart.local.deployment import parse_bake_time
from rampart.local.edge import NGINX_IMAGE_ARG, default_nginx_image
from rampart.local.fidelity import check_fargate_fidelity
from rampart.local.scope import Scope
from rampart.local.secrets import LOCAL_DIR, default_secrets_file, read_secrets_file
from rampart.local.tasks import select_services, stack_tasks
from rampart.components.nginx_conf import PROXY_IMAGE_SOURCES

DEFAULT_HTTPS_PORT = 8443
DEFAULT_HTTP_PORT = 8080
#: `--local-base-images`: the registry-free base images `scripts/base-images.sh` makes (Debian from
#: debootstrap, `docker import`ed), as the build args the Dockerfiles take their bases from. With
#: them `up` builds and runs with no registry (the edge runs NGINX_IMAGE too).
LOCAL_BASE_IMAGES = {
    "NODE_IMAGE": "rampart/node-build:bookworm",
    "RUNTIME_IMAGE": "rampart/node-runtime:bookworm",
    "NGINX_IMAGE": "rampart/nginx:bookworm",
    "BUILD_IMAGE": "rampart/c-build:bookworm",
}


def say(message: str) -> None:
    print(f"rampart local: {message}", flush=True)


def parse_build_args(pairs: list[str], local_base_images: bool = False) -> dict[str, str]:
    """`--build-arg NAME=VALUE`s, over the local base images when asked for (an explicit one wins)."""
    found: dict[str, str] = dict(LOCAL_BASE_IMAGES) if local_base_images else {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"--build-arg {pair!r}: give NAME=VALUE")
        found[name] = value
    return found


def require_local_base_images(client: Any, build_args: dict[str, str]) -> None:
    """With `--local-base-images`, the images must be in the engine: say how to make them if not."""
    import docker

    missing = []
    for name, image in LOCAL_BASE_IMAGES.items():
        if build_args.get(name) != image:
            continue  # replaced by an explicit --build-arg
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            missing.append(image)
    if missing:
        raise UserError(f"--local-base-images: {', '.join(missing)} not in the engine; make them with "
                        "`scripts/base-images.sh` (root, debootstrap; DOCKER_HOST set to this engine)")


def run_up(args: argparse.Namespace) -> int:
    bake_s = None if args.bake_time is None else parse_bake_time(args.bake_time)  # before anything is built
    tasks = stack_tasks(args.project_dir, args.stack)  # all of them: the edge routes to every running task
    check_fargate_fidelity(select_services(tasks, args.service, args.stack))  # before anything is built or started
    secrets_path = args.secrets_file or default_secrets_file(args.project_dir, args.stack)
    secrets = read_secrets_file(secrets_path)
    build_args = parse_build_args(args.build_arg, args.local_base_images)
    client = engine.engine()
    if args.local_base_images:
        require_local_base_images(client, build_args)
    rollout.up(client, Scope.of(args.project_dir, args.stack), tasks, project_dir=args.project_dir, secrets=secrets,
               secrets_path=secrets_path, build_args=build_args, edge_image=edge_image(args, build_args),
               https_port=args.https_port, http_port=args.http_port, say=say, services=args.service or None,
               bake_s=bake_s)
    return 0


def run_compose(args: argparse.Namespace) -> int:
    tasks = stack_tasks(args.project_dir, args.stack, args.service)
    check_fargate_fidelity(tasks)
    secrets_path = args.secrets_file or default_secrets_file(args.project_dir, args.stack)
    build_args = parse_build_args(args.build_arg, args.local_base_images)
    document = compose_document(
        Scope.of(args.project_dir, args.stack), tasks, project_dir=args.project_dir, secrets=read_secrets_file(secrets_path),
        secrets_path=secrets_path, build_args=build_args, edge_image=edge_image(args, build_args),
        https_port=args.https_port, http_port=args.http_port)
    output = args.output or args.project_dir / LOCAL_DIR / args.stack / "compose.yaml"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(document))
    say(f"wrote {output}; run it with `docker compose -f {output} up -d`")
    return 0


def edge_image(args: argparse.Namespace, build_args: dict[str, str]) -> str | None:
    """The edge's nginx: NGINX_IMAGE when given as a build arg, else the proxy Dockerfile's pin."""
    return build_args.get(NGINX_IMAGE_ARG) or default_nginx_image(PROXY_IMAGE_SOURCES / "Dockerfile")


def run_status(args: argparse.Namespace) -> int:
    print(engine.status(engine.engine(), Scope.of(args.project_dir, args.stack)))
    return 0


def run_logs(args: argparse.Namespace) -> int:
    engine.logs(engine.engine(), Scope.of(args.project_dir, args.stack), args.service, args.follow, lambda line: print(line, flush=True))
    return 0


def run_down(args: argparse.Namespace) -> int:
    scope = Scope.of(args.project_dir, args.stack)
    removed = engine.down(engine.engine(), scope)
    for item in removed:
        say(f"removed {item}")
    say(f"{scope}: nothing with its labels is left" if removed else f"{scope}: nothing to remove")
    return 0


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    local = subparsers.add_parser("local", help="run a stack's services on the local Docker Engine")
    commands = local.add_subparsers(dest="local_command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = commands.add_parser(name, parents=[parent], help=help_text)
        p.add_argument("--stack", "-s", required=True, help="stack name: stacks/Pulumi.<NAME>.yaml")
        return p

    def run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--service", action="append", default=[], metavar="S", help="only this service (repeatable)")
        p.add_argument("--secrets-file", type=Path, metavar="FILE",
                       help="NAME=value lines for the tasks' secrets (default .rampart/local/<stack>.env, mode 0600)")
        p.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE",
                       help="added to every build, e.g. base images from a mirror (NGINX_IMAGE also picks the edge's)")
        p.add_argument("--local-base-images", action="store_true",
                       help="offline: build on the base images scripts/base-images.sh makes ("
                            + ", ".join(f"{k}={v}" for k, v in LOCAL_BASE_IMAGES.items()) + "); no registry")
        p.add_argument("--https-port", type=int, default=DEFAULT_HTTPS_PORT, help="edge HTTPS port on 127.0.0.1")
        p.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT, help="edge HTTP port (redirects to HTTPS)")

    up = command("up", "build the images and start every task (idempotent), and the edge on https://localhost; "
                       "a changed task starts beside the running one, takes its traffic once healthy, and is "
                       "rolled back if it fails during the bake")
    run_options(up)
    up.add_argument("--bake-time", metavar="DURATION",
                    help="how long the old release is kept beside a changed one, watching the new one (`30s`, "
                         "`10m`; a bare number is minutes); default: the service's bake time in the plan "
                         "(0 for ROLLING)")
    up.set_defaults(func=run_up)

    compose = command("compose", "write the same tasks as a Compose Specification file")
    run_options(compose)
    compose.add_argument("--output", "-o", type=Path, metavar="FILE",
                         help="where to write it (default .rampart/local/<stack>/compose.yaml)")
    compose.set_defaults(func=run_compose)

    command("status", "each task's containers, health and ports; the edge's routes and target health").set_defaults(
        func=run_status)

    logs = command("logs", "the containers' logs, prefixed service/container")
    logs.add_argument("--service", metavar="S", help="only this service's containers ('edge' for the edge)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep streaming")
    logs.set_defaults(func=run_logs)

    command("down", "remove every container, volume and network with the project's and stack's labels").set_defaults(func=run_down)
