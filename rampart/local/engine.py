"""The local run's lifecycle on the Docker Engine (docker SDK): build the images, start each task's
containers in dependsOn order in one network namespace, and find everything again by label for
`status`, `logs` and `down`. Nothing without Rampart's labels is touched."""

from __future__ import annotations

import hashlib
import resource
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.types import Mount, Ulimit

from rampart.errors import UserError
from rampart.local.containers import ECS_STOP_TIMEOUT_S, STOP_TIMEOUT_LABEL, create_args
from rampart.local.edge import EDGE_CONFIG_DIR, nginx_conf, targets
from rampart.local.secrets import LOCAL_DIR, resolve_secrets, tls_pair
from rampart.local.tasks import Task
from rampart.local.volumes import task_mounts, volume_name

LABEL_STACK = "rampart.local.stack"
LABEL_SERVICE = "rampart.local.service"
LABEL_CONTAINER = "rampart.local.container"
LABEL_ESSENTIAL = "rampart.local.essential"
LABEL_CONFIG = "rampart.local.config"
LABEL_PORTS = "rampart.local.ports"
LABEL_ROUTES = "rampart.local.routes"
EDGE = "edge"
#: How long a dependsOn condition may take before `up` gives up.
CONDITION_TIMEOUT_S = 300.0
POLL_S = 0.25


def engine() -> docker.DockerClient:
    """The engine DOCKER_HOST (or the default socket) points at."""
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as e:
        raise UserError(f"cannot reach the Docker Engine ({e}); start it or set DOCKER_HOST") from None
    return client


def network_name(stack: str) -> str:
    return f"rampart-{stack}"


def container_name(stack: str, service: str, container: str) -> str:
    return f"rampart-{stack}-{service}-{container}"


def stack_labels(stack: str, service: str | None = None) -> dict[str, str]:
    return {LABEL_STACK: stack, **({LABEL_SERVICE: service} if service else {})}


def label_filter(stack: str, service: str | None = None) -> list[str]:
    return [f"{k}={v}" for k, v in stack_labels(stack, service).items()]


def local_image_tag(stack: str, service: str, container: str) -> str:
    return f"rampart-local/{stack}-{service}-{container}:latest"


# -- images -------------------------------------------------------------------------------------

def build_images(client: docker.DockerClient, stack: str, task: Task, extra_args: dict[str, str],
                 say: Callable[[str], None]) -> dict[str, str]:
    """Container name -> the local image it runs: built from the deployment's Dockerfile, target
    and build args (plus `--build-arg`s), or the definition's image pulled when built elsewhere."""
    images: dict[str, str] = {}
    for definition in task.containers:
        name = definition["name"]
        build = task.builds.get(name)
        if build is None:
            ref = definition["image"]
            try:
                client.images.get(ref)
            except ImageNotFound:
                say(f"pulling {ref}")
                client.images.pull(ref)
            images[name] = ref
            continue
        tag = local_image_tag(stack, task.service, name)
        dockerfile = build.dockerfile.relative_to(build.context) if build.dockerfile.is_relative_to(build.context) \
            else build.dockerfile
        say(f"building {tag} from {build.dockerfile} (target {build.target})")
        try:
            client.images.build(path=str(build.context), dockerfile=str(dockerfile), target=build.target,
                                buildargs={**build.args, **extra_args}, tag=tag, network_mode="host",
                                rm=True, forcerm=True, labels=stack_labels(stack, task.service))
        except docker.errors.BuildError as e:
            tail = "".join(str(chunk.get("stream") or chunk.get("error") or "") for chunk in e.build_log)
            raise UserError(f"building {tag} failed: {e.msg}\n{tail[-3000:]}") from None
        images[name] = tag
    return images


def declared_volumes(client: docker.DockerClient, image: str) -> set[str]:
    return set((client.images.get(image).attrs.get("Config") or {}).get("Volumes") or {})


# -- starting a task ----------------------------------------------------------------------------

def start_order(task: Task) -> list[dict[str, Any]]:
    """The containers with every dependsOn target before its dependents (definition order otherwise)."""
    by_name = {c["name"]: c for c in task.containers}
    ordered: list[dict[str, Any]] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(c["name"] == name for c in ordered):
            return
        if name in visiting:
            raise UserError(f"task {task.family}: dependsOn has a cycle through {name!r}")
        if name not in by_name:
            raise UserError(f"task {task.family}: dependsOn names {name!r}, which is not a container of the task")
        visiting.add(name)
        for dep in by_name[name].get("dependsOn") or []:
            visit(dep["containerName"])
        visiting.discard(name)
        ordered.append(by_name[name])

    for c in task.containers:
        visit(c["name"])
    return ordered


def condition_met(container: Container, condition: str) -> bool:
    """Whether a dependsOn condition holds; raises when it never can."""
    container.reload()
    state = container.attrs["State"]
    status = state["Status"]
    name = container.labels.get(LABEL_CONTAINER, container.name)
    if condition == "START":
        return status in ("running", "exited")
    if condition == "HEALTHY":
        health = (state.get("Health") or {}).get("Status")
        if health is None:
            raise UserError(f"dependsOn HEALTHY on {name!r}, which has no healthCheck")
        if status == "exited":
            raise UserError(f"{name!r} exited (code {state['ExitCode']}) before it was healthy; "
                            f"see `rampart local logs`")
        return bool(health == "healthy")
    if status != "exited":
        return False
    if condition == "SUCCESS" and state["ExitCode"] != 0:
        raise UserError(f"dependsOn SUCCESS on {name!r}, which exited with code {state['ExitCode']}")
    return condition in ("COMPLETE", "SUCCESS")


def wait_for(container: Container, condition: str) -> None:
    deadline = time.monotonic() + CONDITION_TIMEOUT_S
    while not condition_met(container, condition):
        if time.monotonic() > deadline:
            raise UserError(f"{container.name}: dependsOn {condition} not met within {CONDITION_TIMEOUT_S:.0f} s")
        time.sleep(POLL_S)


@dataclass
class PreparedContainer:
    definition: dict[str, Any]
    args: dict[str, Any]
    secret_names: list[str] = field(default_factory=list)


def config_digest(args: dict[str, Any], image_id: str, secret_names: list[str]) -> str:
    """What decides whether a running container is still current: its create arguments with secret
    values left out (their names stay) and the image it runs. Never a secret's value or hash."""
    shown = {k: v for k, v in args.items() if k not in ("environment", "mounts", "ulimits", "network_mode")}
    shown["environment"] = {k: ("[secret]" if k in secret_names else v) for k, v in args["environment"].items()}
    shown["mounts"] = [dict(m) for m in args["mounts"]]
    shown["ulimits"] = [dict(u) for u in args["ulimits"]]
    shown["image_id"] = image_id
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:16]


def prepare(client: docker.DockerClient, stack: str, task: Task, images: dict[str, str],
            secrets: dict[str, str], secrets_path: Path, tls_root: Path) -> list[PreparedContainer]:
    prepared: list[PreparedContainer] = []
    for definition in start_order(task):
        name = definition["name"]
        resolved = resolve_secrets(definition, secrets, secrets_path, tls_root / task.service)
        labels = {
            **stack_labels(stack, task.service),
            LABEL_CONTAINER: name,
            LABEL_ESSENTIAL: str(bool(definition.get("essential", True))).lower(),
            LABEL_PORTS: ",".join(str(p["containerPort"]) for p in definition.get("portMappings") or []),
        }
        mounts = task_mounts(stack, task.service, definition, declared_volumes(client, images[name]))
        args = create_args(definition, task.definition, image=images[name],
                           name=container_name(stack, task.service, name), labels=labels, mounts=mounts,
                           secrets=resolved, network_mode=None)
        args["labels"][LABEL_CONFIG] = config_digest(args, client.images.get(images[name]).id, list(resolved))
        prepared.append(PreparedContainer(definition, args, list(resolved)))
    return prepared


def task_containers(client: docker.DockerClient, stack: str, service: str) -> list[Container]:
    return [c for c in client.containers.list(all=True, filters={"label": label_filter(stack, service)})
            if c.labels.get(LABEL_CONTAINER) != EDGE]


def is_current(existing: list[Container], prepared: list[PreparedContainer]) -> bool:
    wanted = {p.args["name"]: p.args["labels"][LABEL_CONFIG] for p in prepared}
    have = {c.name: c.labels.get(LABEL_CONFIG) for c in existing if c.status == "running"}
    return wanted == have


def remove_task(client: docker.DockerClient, stack: str, service: str) -> None:
    containers = task_containers(client, stack, service)
    # dependents first: the namespace owner goes last
    for c in sorted(containers, key=lambda c: c.attrs["HostConfig"]["NetworkMode"].startswith("container:"),
                    reverse=True):
        c.remove(force=True)
    for v in client.volumes.list(filters={"label": label_filter(stack, service)}):
        v.remove(force=True)


def ensure_network(client: docker.DockerClient, stack: str) -> str:
    name = network_name(stack)
    if not client.networks.list(names=[name], filters={"label": label_filter(stack)}):
        client.networks.create(name, driver="bridge", labels=stack_labels(stack))
    return name


def start_task(client: docker.DockerClient, stack: str, task: Task, prepared: list[PreparedContainer],
               say: Callable[[str], None]) -> None:
    """Fresh volumes, then each container in order after its dependsOn conditions; the first one
    owns the task's network namespace (on the stack network), the others join it."""
    network = ensure_network(client, stack)
    for volume in task.volumes:
        client.volumes.create(volume_name(stack, task.service, volume["name"]), labels=stack_labels(stack, task.service))
    started: dict[str, Container] = {}
    owner: Container | None = None
    for p in prepared:
        for dep in p.definition.get("dependsOn") or []:
            say(f"{task.service}: {p.definition['name']} waits for {dep['containerName']} {dep['condition']}")
            wait_for(started[dep["containerName"]], dep["condition"])
        args = dict(p.args)
        if owner is None:
            args["network"] = network
        else:
            args["network_mode"] = f"container:{owner.id}"
        container = client.containers.create(**args)
        try:
            container.start()
        except APIError as e:
            if "rlimit" not in str(e):
                raise
            container.remove(force=True)
            args["ulimits"] = clamped_ulimits(args["ulimits"], say, f"{task.service}/{p.definition['name']}")
            container = client.containers.create(**args)
            container.start()
        owner = owner or container
        started[p.definition["name"]] = container
        say(f"{task.service}: started {p.definition['name']}")


def clamped_ulimits(ulimits: list[Ulimit], say: Callable[[str], None], where: str) -> list[Ulimit]:
    """Ulimits lowered to what this machine allows (the engine could not raise them: it runs without
    CAP_SYS_RESOURCE above its own hard limit). Said aloud: Fargate grants the definition's values."""
    host_soft, host_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = []
    for u in ulimits:
        if u.name == "nofile" and u.hard > host_hard:
            say(f"WARNING {where}: ulimit nofile {u.soft}/{u.hard} lowered to {min(u.soft, host_hard)}/{host_hard}, "
                "this engine's limit (Fargate grants the task definition's value)")
            u = Ulimit(name=u.name, soft=min(u.soft, host_hard), hard=host_hard)
        lowered.append(u)
    return lowered


def wait_healthy(client: docker.DockerClient, stack: str, tasks: list[Task]) -> None:
    """Until every container with a health check is healthy (others: running)."""
    for task in tasks:
        for c in task_containers(client, stack, task.service):
            has_check = bool((c.attrs["State"].get("Health") or {}).get("Status"))
            wait_for(c, "HEALTHY" if has_check else "START")


# -- the edge -----------------------------------------------------------------------------------

def start_edge(client: docker.DockerClient, stack: str, tasks: list[Task], image: str, project_dir: Path,
               https_port: int, http_port: int) -> None:
    """(Re)create the edge with a config generated from the tasks' routes."""
    owner = {t.service: container_name(stack, t.service, start_order(t)[0]["name"]) for t in tasks}
    edge_targets = targets(tasks, owner)
    config_dir = project_dir / LOCAL_DIR / stack / EDGE
    tls_pair(config_dir, "localhost")
    (config_dir / "nginx.conf").write_text(nginx_conf(edge_targets, https_port))
    name = container_name(stack, EDGE, EDGE)
    for old in client.containers.list(all=True, filters={"name": f"^{name}$", "label": label_filter(stack)}):
        old.remove(force=True)
    routes = [{"service": e.service, "url": f"https://localhost:{https_port}", "hosts": e.route.hosts,
               "paths": e.route.paths, "priority": e.route.priority, "address": e.address,
               "health": e.route.health_check_path} for e in edge_targets]
    client.containers.run(
        image, ["nginx", "-e", "stderr", "-c", f"{EDGE_CONFIG_DIR}/nginx.conf"], name=name, detach=True,
        labels={**stack_labels(stack, EDGE), LABEL_CONTAINER: EDGE, LABEL_ESSENTIAL: "true",
                LABEL_ROUTES: json.dumps(routes), LABEL_PORTS: f"{https_port},{http_port}"},
        network=network_name(stack),
        ports={"8443/tcp": ("127.0.0.1", https_port), "8080/tcp": ("127.0.0.1", http_port)},
        mounts=[Mount(EDGE_CONFIG_DIR, str(config_dir.resolve()), type="bind", read_only=True)],
        read_only=True, tmpfs={"/tmp": "mode=1777"}, cap_drop=["ALL"], cap_add=["CHOWN", "SETUID", "SETGID"],
        security_opt=["no-new-privileges"], mem_limit="128m",
    )


def probe_targets(edge: Container, routes: list[dict[str, Any]]) -> list[str]:
    """Each route's target on its target group's health-check path, from inside the edge (as the ALB
    probes each registered target)."""
    lines = []
    for route in routes:
        url = f"https://{route['address']}{route['health']}"
        result = edge.exec_run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url])
        code = result.output.decode().strip()
        lines.append(f"  {route['service']}: GET {route['health']} on {route['address']} -> "
                     f"{code if code and code != '000' else 'no answer'}")
    return lines


# -- essential containers -----------------------------------------------------------------------

def stopped_tasks(client: docker.DockerClient, stack: str) -> dict[str, str]:
    """Service -> why its task stopped: an essential container that exited stops the whole task
    (its other containers are stopped here, as ECS stops them)."""
    found: dict[str, str] = {}
    containers = client.containers.list(all=True, filters={"label": label_filter(stack)})
    for c in containers:
        if c.labels.get(LABEL_ESSENTIAL) == "true" and c.status in ("exited", "dead") \
                and c.labels.get(LABEL_CONTAINER) != EDGE:
            service = c.labels[LABEL_SERVICE]
            found.setdefault(service, f"essential container {c.labels[LABEL_CONTAINER]!r} exited "
                                      f"(code {c.attrs['State']['ExitCode']})")
    for c in containers:
        if c.labels.get(LABEL_SERVICE) in found and c.status == "running":
            c.stop(timeout=int(c.labels.get(STOP_TIMEOUT_LABEL) or ECS_STOP_TIMEOUT_S))
    return found


# -- commands -----------------------------------------------------------------------------------

def up(client: docker.DockerClient, stack: str, tasks: list[Task], *, project_dir: Path, secrets: dict[str, str],
       secrets_path: Path, build_args: dict[str, str], edge_image: str | None, https_port: int, http_port: int,
       say: Callable[[str], None], services: list[str] | None = None) -> None:
    """Build, then (re)start the tasks of `services` (all when None) whose containers changed, all
    tasks at once as ECS starts a service's tasks; then the edge, routing to every running task."""
    tls_root = project_dir / LOCAL_DIR / stack / "tls"
    selected = [t for t in tasks if not services or t.service in services]
    changed: list[tuple[Task, list[PreparedContainer]]] = []
    for task in selected:
        images = build_images(client, stack, task, build_args, say)
        prepared = prepare(client, stack, task, images, secrets, secrets_path, tls_root)
        if is_current(task_containers(client, stack, task.service), prepared):
            say(f"{task.service}: unchanged")
        else:
            changed.append((task, prepared))

    def restart(item: tuple[Task, list[PreparedContainer]]) -> None:
        task, prepared = item
        remove_task(client, stack, task.service)
        start_task(client, stack, task, prepared, say)

    ensure_network(client, stack)
    with ThreadPoolExecutor(max_workers=max(1, len(changed))) as pool:
        list(pool.map(restart, changed))  # list(): re-raises the first task's error
    routed = [t for t in tasks if t.routes and task_containers(client, stack, t.service)]
    if edge_image and routed:
        say(f"edge: https://localhost:{https_port} (http://localhost:{http_port} redirects)")
        start_edge(client, stack, routed, edge_image, project_dir, https_port, http_port)
    wait_healthy(client, stack, selected)
    say("every task is healthy")


def status(client: docker.DockerClient, stack: str) -> str:
    stopped = stopped_tasks(client, stack)
    containers = client.containers.list(all=True, filters={"label": label_filter(stack)})
    if not containers:
        return f"stack {stack!r}: nothing is running locally"
    lines = [f"stack {stack!r}"]
    by_service: dict[str, list[Container]] = {}
    for c in containers:
        by_service.setdefault(c.labels[LABEL_SERVICE], []).append(c)
    for service in sorted(by_service):
        if service == EDGE:
            continue
        state = f"STOPPED: {stopped[service]}" if service in stopped else "RUNNING"
        lines.append(f"task {service}: {state}")
        for c in sorted(by_service[service], key=lambda c: c.name):
            health = (c.attrs["State"].get("Health") or {}).get("Status", "no health check")
            lines.append(f"  {c.labels[LABEL_CONTAINER]:<12} {c.status:<8} {health:<16} "
                         f"ports {c.labels.get(LABEL_PORTS) or '-'}  essential={c.labels.get(LABEL_ESSENTIAL)}")
    for edge in by_service.get(EDGE, []):
        routes = json.loads(edge.labels.get(LABEL_ROUTES, "[]"))
        lines.append(f"edge: {edge.status}; routes, lowest priority first:")
        lines += [f"  {r['url']}  hosts {','.join(r['hosts']) or '*'}  paths {','.join(r['paths']) or '/*'}  "
                  f"-> {r['service']} (priority {r['priority']})" for r in routes]
        if edge.status == "running":
            lines.append("target health (each target group's health-check path):")
            lines += probe_targets(edge, routes)
    return "\n".join(lines)


def logs(client: docker.DockerClient, stack: str, service: str | None, follow: bool,
         write: Callable[[str], None]) -> None:
    stopped_tasks(client, stack)  # an essential container's exit stops its task, whoever looks first
    containers = client.containers.list(all=True, filters={"label": label_filter(stack, service)})
    if not containers:
        raise UserError(f"stack {stack!r}{f' service {service!r}' if service else ''}: nothing to show; "
                        "run `rampart local up` first")
    lock = threading.Lock()

    def stream(c: Container) -> None:
        prefix = f"{c.labels[LABEL_SERVICE]}/{c.labels[LABEL_CONTAINER]} | "
        for line in _lines(c.logs(stream=True, follow=follow)):
            with lock:
                write(prefix + line)

    threads = [threading.Thread(target=stream, args=(c,), daemon=True) for c in containers]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        pass


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode(errors="replace")
    if buffer:
        yield buffer.decode(errors="replace")


def down(client: docker.DockerClient, stack: str) -> list[str]:
    """Remove every container, volume and network with the stack's label; returns what was removed."""
    removed: list[str] = []
    containers = client.containers.list(all=True, filters={"label": label_filter(stack)})
    for c in sorted(containers, key=lambda c: c.attrs["HostConfig"]["NetworkMode"].startswith("container:"),
                    reverse=True):
        try:
            c.remove(force=True)
            removed.append(f"container {c.name}")
        except NotFound:
            pass
    for v in client.volumes.list(filters={"label": label_filter(stack)}):
        v.remove(force=True)
        removed.append(f"volume {v.name}")
    for n in client.networks.list(filters={"label": label_filter(stack)}):
        try:
            n.remove()
            removed.append(f"network {n.name}")
        except APIError as e:
            print(f"network {n.name}: {e}", file=sys.stderr)
    return removed
