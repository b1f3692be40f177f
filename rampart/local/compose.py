"""The same tasks as a Compose Specification file (`rampart local compose`), for people who prefer
`docker compose`. Each container's settings are the engine create arguments `rampart local up`
uses (rampart.local.containers), rewritten in Compose's keys: one mapping, two spellings.

Secrets never enter the file: a container's secrets are read by Compose from env files beside the
secrets file (`.rampart/local/<stack>/compose/<service>-<container>.env`, mode 0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from rampart.components.image import declared_volumes
from rampart.local.containers import NO_HEALTH_CHECK, STOP_TIMEOUT_LABEL, create_args
from rampart.local.edge import EDGE_CONFIG_DIR, nginx_conf, targets
from rampart.local.engine import EDGE, LABEL_CONTAINER, start_order
from rampart.local.scope import Scope
from rampart.local.secrets import LOCAL_DIR, resolve_secrets, tls_pair
from rampart.local.tasks import Task
from rampart.local.volumes import task_mounts

#: dependsOn condition -> Compose's. COMPLETE (exited, any code) has no Compose equivalent: the
#: nearest, successful completion, is stricter, and is said so in docs/local.md.
CONDITIONS = {"START": "service_started", "HEALTHY": "service_healthy", "COMPLETE": "service_completed_successfully",
              "SUCCESS": "service_completed_successfully"}
NANOSECONDS = 1_000_000_000


def seconds(value: int) -> str:
    return f"{value // NANOSECONDS}s"


def compose_service_name(task: Task, container: str) -> str:
    return f"{task.service}-{container}"


def env_file_text(values: dict[str, str]) -> str:
    """Compose env-file lines; multi-line values (PEM) double-quoted with `\\n` escapes."""
    return "".join(f"{k}={json.dumps(v)}\n" for k, v in values.items())


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the mode above applies only when the file is created
    with os.fdopen(fd, "w") as f:
        f.write(text)


def service_entry(args: dict[str, Any], secret_names: list[str], env_file: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "container_name": args["name"],
        "image": args["image"],
        "labels": {k: v for k, v in args["labels"].items() if k != STOP_TIMEOUT_LABEL},
        "environment": {k: v for k, v in args["environment"].items() if k not in secret_names},
        "read_only": args["read_only"],
        "privileged": False,
        "cap_drop": args["cap_drop"],
        "security_opt": args["security_opt"],
        "init": args["init"],
        "stop_grace_period": f"{args['labels'][STOP_TIMEOUT_LABEL]}s",
    }
    if args["cap_add"]:
        entry["cap_add"] = args["cap_add"]
    if env_file:
        entry["env_file"] = [{"path": env_file, "required": True}]
    for key in ("user", "entrypoint", "command", "working_dir", "mem_limit", "memswap_limit", "mem_reservation"):
        if key in args:
            entry[key] = args[key]
    if "nano_cpus" in args:
        entry["cpus"] = args["nano_cpus"] / NANOSECONDS
    if args["ulimits"]:
        entry["ulimits"] = {u.name: {"soft": u.soft, "hard": u.hard} for u in args["ulimits"]}
    if args["healthcheck"] == NO_HEALTH_CHECK:
        entry["healthcheck"] = {"disable": True}
    else:
        check = args["healthcheck"]
        entry["healthcheck"] = {"test": check["test"], "interval": seconds(check["interval"]),
                                "timeout": seconds(check["timeout"]), "retries": check["retries"],
                                "start_period": seconds(check["start_period"])}
    entry["volumes"] = [
        {"type": "volume", "source": m["Source"], "target": m["Target"], "read_only": m["ReadOnly"],
         "volume": {"nocopy": bool(m.get("VolumeOptions", {}).get("NoCopy", False))}}
        for m in args["mounts"]
    ]
    return entry


def declared_by_dockerfile(task: Task, container: str, build_args: dict[str, str]) -> set[str]:
    """The VOLUMEs the container's image will declare, read from its Dockerfile as the program
    reads them (no engine needed); an image built elsewhere is taken to declare none."""
    build = task.builds.get(container)
    if build is None:
        return set()
    return set(declared_volumes(build.dockerfile, build.target, {**build.args, **build_args}))


def local_image(scope: Scope, task: Task, container: str, definition: dict[str, Any]) -> str:
    """The tag `rampart local up` builds a container's image under (the definition's image when built elsewhere)."""
    return scope.image_tag(task.service, container) if container in task.builds else str(definition["image"])


def compose_document(scope: Scope, tasks: list[Task], *, project_dir: Path, secrets: dict[str, str],
                     secrets_path: Path, build_args: dict[str, str], edge_image: str | None, https_port: int,
                     http_port: int) -> dict[str, Any]:
    """The Compose document (absolute paths: it is written under the git-ignored .rampart/); env
    files for secrets and the edge's config are written beside it."""
    local = project_dir / LOCAL_DIR / scope.stack
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for task in tasks:
        owner = None
        for definition in start_order(task):
            name = definition["name"]
            resolved = resolve_secrets(definition, secrets, secrets_path, local / "tls" / task.service)
            labels = {**scope.labels(task.service), LABEL_CONTAINER: name}
            mounts = task_mounts(scope, task.service, definition, declared_by_dockerfile(task, name, build_args))
            args = create_args(definition, task.definition, image=local_image(scope, task, name, definition),
                               name=scope.container_name(task.service, name), labels=labels, mounts=mounts,
                               secrets=resolved, network_mode=None)
            env_file = None
            if resolved:
                path = local / "compose" / f"{task.service}-{name}.env"
                write_private(path, env_file_text(resolved))
                env_file = str(path.resolve())
            entry = service_entry(args, list(resolved), env_file)
            build = task.builds.get(name)
            if build is not None:
                entry["build"] = {"context": str(build.context), "dockerfile": str(build.dockerfile),
                                  **({"target": build.target} if build.target else {}),
                                  "args": {**build.args, **build_args}, "network": "host"}
            service_name = compose_service_name(task, name)
            if owner is None:
                entry["networks"] = [scope.network_name()]
                owner = service_name
            else:
                entry["network_mode"] = f"service:{owner}"
            depends = {compose_service_name(task, d["containerName"]): {"condition": CONDITIONS[d["condition"]]}
                       for d in definition.get("dependsOn") or []}
            if depends:
                entry["depends_on"] = depends
            services[service_name] = entry
        for volume in task.volumes:
            name = scope.volume_name(task.service, volume["name"])
            volumes[name] = {"name": name, "labels": scope.labels(task.service)}
    if edge_image and any(t.routes for t in tasks):
        owners = {t.service: scope.container_name(t.service, start_order(t)[0]["name"]) for t in tasks}
        edge_dir = local / EDGE
        tls_pair(edge_dir, "localhost")
        (edge_dir / "nginx.conf").write_text(nginx_conf(targets(tasks, owners), https_port))
        services[EDGE] = {
            "container_name": scope.container_name(EDGE, EDGE),
            "image": edge_image,
            "command": ["nginx", "-e", "stderr", "-c", f"{EDGE_CONFIG_DIR}/nginx.conf"],
            "labels": {**scope.labels(EDGE), LABEL_CONTAINER: EDGE},
            "networks": [scope.network_name()],
            "ports": [f"127.0.0.1:{https_port}:8443", f"127.0.0.1:{http_port}:8080"],
            "volumes": [{"type": "bind", "source": str(edge_dir.resolve()), "target": EDGE_CONFIG_DIR,
                         "read_only": True}],
            "read_only": True, "tmpfs": ["/tmp:mode=1777"], "cap_drop": ["ALL"],
            "cap_add": ["CHOWN", "SETUID", "SETGID"], "security_opt": ["no-new-privileges"], "mem_limit": "128m",
            "depends_on": {compose_service_name(t, r.container): {"condition": "service_healthy"}
                           for t in tasks for r in t.routes},
        }
    return {
        "name": scope.prefix.replace(".", "-"),  # Compose project names allow no dots
        "services": services,
        "networks": {scope.network_name(): {"name": scope.network_name(), "labels": scope.labels()}},
        "volumes": volumes,
    }


def render(document: dict[str, Any]) -> str:
    header = ("# Generated by `rampart local compose` from the stack's plan. Do not edit: change the stack or\n"
              "# the components and generate it again. Secrets are in the env files it names, not here.\n")
    return header + yaml.safe_dump(document, sort_keys=False)
