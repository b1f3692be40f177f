"""The local run's pieces on the Docker Engine (docker SDK): build the images, start each task's
containers in dependsOn order in one network namespace, run and reload the edge, and find everything
again by label for `status`, `logs` and `down`. Everything is keyed by project and stack
(rampart.local.scope); nothing without those labels is touched. A service may run two releases at
once (blue and green, while a change is switched to and baked: rampart.local.rollout, which runs
`up` from these pieces)."""

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
from rampart.local.edge import EDGE_CONFIG_DIR, matcher_accepts, nginx_conf, targets
from rampart.local.scope import BLUE, LABEL_PROJECT, LABEL_RELEASE, LABEL_SERVICE, LABEL_STACK, RELEASES, Scope
from rampart.local.secrets import LOCAL_DIR, resolve_secrets, tls_pair
from rampart.local.tasks import DEFAULT_UNHEALTHY_THRESHOLD, Task
from rampart.local.volumes import task_mounts

LABEL_CONTAINER = "rampart.local.container"
LABEL_ESSENTIAL = "rampart.local.essential"
LABEL_CONFIG = "rampart.local.config"
LABEL_PORTS = "rampart.local.ports"
LABEL_ROUTES = "rampart.local.routes"
EDGE = "edge"
#: How long a dependsOn condition may take before `up` gives up (an unhealthy container fails at once).
CONDITION_TIMEOUT_S = 300.0
#: How long `up` waits for each target to pass its target group's health check, once its containers
#: are healthy (or running, without a health check of their own).
TARGET_HEALTH_TIMEOUT_S = 60.0
POLL_S = 0.25
#: How often a wait says what it is waiting for.
PROGRESS_S = 10.0
#: The most health-check output `up` prints of a container that turned unhealthy.
HEALTH_LOG_CHARS = 2000
#: The edge's state beside its nginx.conf: the routes it serves, which release of each service it
#: serves, and the bakes under way (`status` reads it; the edge's labels say only how it started).
EDGE_STATE = "state.json"
#: How long a reload waits for the edge's old workers to finish the requests they hold before the
#: release they forwarded to is stopped (nginx's graceful shutdown; the ALB's deregistration delay).
DRAIN_TIMEOUT_S = 30.0


def engine() -> docker.DockerClient:
    """The engine DOCKER_HOST (or the default socket) points at."""
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as e:
        raise UserError(f"cannot reach the Docker Engine ({e}); start it or set DOCKER_HOST") from None
    return client


# -- images -------------------------------------------------------------------------------------

def build_images(client: docker.DockerClient, scope: Scope, task: Task, extra_args: dict[str, str],
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
        tag = scope.image_tag(task.service, name)
        dockerfile = build.dockerfile.relative_to(build.context) if build.dockerfile.is_relative_to(build.context) \
            else build.dockerfile
        say(f"building {tag} from {build.dockerfile} (target {build.target})")
        try:
            client.images.build(path=str(build.context), dockerfile=str(dockerfile), target=build.target,
                                buildargs={**build.args, **extra_args}, tag=tag, network_mode="host",
                                rm=True, forcerm=True, labels=scope.labels(task.service))
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


def release_of(labelled: Any) -> str:
    """The release a container or volume belongs to (blue when made before releases had labels)."""
    labels = labelled.labels if hasattr(labelled, "labels") else labelled.attrs.get("Labels") or {}
    return str(labels.get(LABEL_RELEASE) or BLUE)


def shown_name(container: Container) -> str:
    """`service/container` (`service[green]/container` for a green release's), as `rampart local logs`
    prefixes its lines."""
    release = release_of(container)
    service = container.labels.get(LABEL_SERVICE, '?') + ("" if release == BLUE else f"[{release}]")
    return f"{service}/{container.labels.get(LABEL_CONTAINER, container.name)}"


def health_log(state: dict[str, Any]) -> str:
    """The container's own health-check output (the engine keeps the last few runs), last run last."""
    runs = (state.get("Health") or {}).get("Log") or []
    text = "\n".join(f"  exit {run.get('ExitCode')}: {str(run.get('Output') or '').strip() or '(no output)'}"
                     for run in runs)
    return text[-HEALTH_LOG_CHARS:] or "  (the engine kept no output)"


def condition_met(container: Container, condition: str) -> bool:
    """Whether a dependsOn condition holds; raises when it never can (an unhealthy container fails
    at once, with its health check's own output: ECS would replace the task)."""
    container.reload()
    state = container.attrs["State"]
    status = state["Status"]
    name = shown_name(container)
    if condition == "START":
        return status in ("running", "exited")
    if condition == "HEALTHY":
        health = (state.get("Health") or {}).get("Status")
        if health is None:
            raise UserError(f"dependsOn HEALTHY on {name!r}, which has no healthCheck")
        if status == "exited":
            raise UserError(f"{name!r} exited (code {state['ExitCode']}) before it was healthy; "
                            f"see `rampart local logs`")
        if health == "unhealthy":
            check = " ".join((container.attrs["Config"].get("Healthcheck") or {}).get("Test") or [])
            raise UserError(f"{name!r} is unhealthy: its health check {f'`{check}` ' if check else ''}failed; "
                            f"its output:\n"
                            f"{health_log(state)}\nfix the container's healthCheck (or the app), then run "
                            "`rampart local up` again; `rampart local logs` shows the container's own log")
        return bool(health == "healthy")
    if status != "exited":
        return False
    if condition == "SUCCESS" and state["ExitCode"] != 0:
        raise UserError(f"dependsOn SUCCESS on {name!r}, which exited with code {state['ExitCode']}")
    return condition in ("COMPLETE", "SUCCESS")


def wait_for(container: Container, condition: str, say: Callable[[str], None]) -> None:
    """Until the condition holds, saying every PROGRESS_S what it waits for."""
    start = time.monotonic()
    said = start
    while not condition_met(container, condition):
        now = time.monotonic()
        if now - start > CONDITION_TIMEOUT_S:
            raise UserError(f"{shown_name(container)}: {condition} not reached within {CONDITION_TIMEOUT_S:.0f} s")
        if now - said >= PROGRESS_S:
            health = (container.attrs["State"].get("Health") or {}).get("Status") or "no health check"
            say(f"{shown_name(container)}: waiting for {condition} ({container.attrs['State']['Status']}, "
                f"health {health}, {now - start:.0f} s)")
            said = now
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


def prepare(client: docker.DockerClient, scope: Scope, task: Task, images: dict[str, str],
            secrets: dict[str, str], secrets_path: Path, tls_root: Path, release: str = BLUE) -> list[PreparedContainer]:
    """The create arguments of the task's containers as `release` of the service (its names, volumes
    and label), each with the digest that decides whether a running one is still current."""
    prepared: list[PreparedContainer] = []
    for definition in start_order(task):
        name = definition["name"]
        resolved = resolve_secrets(definition, secrets, secrets_path, tls_root / task.service)
        labels = {
            **scope.labels(task.service),
            LABEL_CONTAINER: name,
            LABEL_RELEASE: release,
            LABEL_ESSENTIAL: str(bool(definition.get("essential", True))).lower(),
            LABEL_PORTS: ",".join(str(p["containerPort"]) for p in definition.get("portMappings") or []),
        }
        mounts = task_mounts(scope, task.service, definition, declared_volumes(client, images[name]), release)
        args = create_args(definition, task.definition, image=images[name],
                           name=scope.container_name(task.service, name, release), labels=labels, mounts=mounts,
                           secrets=resolved, network_mode=None)
        args["labels"][LABEL_CONFIG] = config_digest(args, client.images.get(images[name]).id, list(resolved))
        prepared.append(PreparedContainer(definition, args, list(resolved)))
    return prepared


def task_containers(client: docker.DockerClient, scope: Scope, service: str,
                    release: str | None = None) -> list[Container]:
    """The service's containers: of one release, or of both when None."""
    return [c for c in client.containers.list(all=True, filters={"label": scope.label_filter(service)}, ignore_removed=True)
            if c.labels.get(LABEL_CONTAINER) != EDGE and release in (None, release_of(c))]


def is_current(existing: list[Container], prepared: list[PreparedContainer]) -> bool:
    wanted = {p.args["name"]: p.args["labels"][LABEL_CONFIG] for p in prepared}
    have = {c.name: c.labels.get(LABEL_CONFIG) for c in existing if c.status == "running"}
    return wanted == have


def remove_task(client: docker.DockerClient, scope: Scope, service: str, release: str | None = None) -> None:
    """The service's containers and volumes: of one release, or of both when None."""
    containers = task_containers(client, scope, service, release)
    # dependents first: the namespace owner goes last
    for c in sorted(containers, key=lambda c: c.attrs["HostConfig"]["NetworkMode"].startswith("container:"),
                    reverse=True):
        c.remove(force=True)
    for v in client.volumes.list(filters={"label": scope.label_filter(service)}):
        if release in (None, release_of(v)):
            v.remove(force=True)


def ensure_network(client: docker.DockerClient, scope: Scope) -> str:
    name = scope.network_name()
    if not client.networks.list(names=[name], filters={"label": scope.label_filter()}):
        client.networks.create(name, driver="bridge", labels=scope.labels())
    return name


def start_task(client: docker.DockerClient, scope: Scope, task: Task, prepared: list[PreparedContainer],
               say: Callable[[str], None], release: str = BLUE) -> None:
    """Fresh volumes, then each container in order after its dependsOn conditions; the first one
    owns the task's network namespace (on the stack network), the others join it."""
    network = ensure_network(client, scope)
    for volume in task.volumes:
        client.volumes.create(scope.volume_name(task.service, volume["name"], release),
                              labels={**scope.labels(task.service), LABEL_RELEASE: release})
    started: dict[str, Container] = {}
    owner: Container | None = None
    for p in prepared:
        for dep in p.definition.get("dependsOn") or []:
            say(f"{task.service}: {p.definition['name']} waits for {dep['containerName']} {dep['condition']}")
            wait_for(started[dep["containerName"]], dep["condition"], say)
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


def wait_healthy(client: docker.DockerClient, scope: Scope, tasks: list[Task], say: Callable[[str], None],
                 releases: dict[str, str] | None = None) -> None:
    """Until every container with a health check is healthy (others: running), all watched at once:
    the first that turns unhealthy fails `up` there and then, with its health check's output. Only
    the given release of a service when `releases` names one."""
    pending: dict[str, tuple[Container, str]] = {}
    for task in tasks:
        for c in task_containers(client, scope, task.service, (releases or {}).get(task.service)):
            has_check = bool((c.attrs["State"].get("Health") or {}).get("Status"))
            pending[c.id] = (c, "HEALTHY" if has_check else "START")
    start = said = time.monotonic()
    while True:
        for key, (c, condition) in list(pending.items()):
            if condition_met(c, condition):
                del pending[key]
        if not pending:
            return
        now = time.monotonic()
        waiting = ", ".join(f"{shown_name(c)} ({(c.attrs['State'].get('Health') or {}).get('Status') or c.status})"
                            for c, _ in pending.values())
        if now - start > CONDITION_TIMEOUT_S:
            raise UserError(f"not healthy within {CONDITION_TIMEOUT_S:.0f} s: {waiting}; see `rampart local logs`")
        if now - said >= PROGRESS_S:
            say(f"waiting for {waiting}, {now - start:.0f} s")
            said = now
        time.sleep(POLL_S)


# -- the edge -----------------------------------------------------------------------------------

def edge_config_dir(project_dir: Path, scope: Scope) -> Path:
    """Where the edge's nginx.conf, certificate and state live (bind-mounted read-only into it)."""
    return project_dir / LOCAL_DIR / scope.stack / EDGE


@dataclass(frozen=True)
class EdgeConfig:
    """What the edge serves: its nginx.conf, and the state `status` reads (routes, the release of
    each service it forwards to, the bakes under way)."""

    conf: str
    state: dict[str, Any]


def edge_config(scope: Scope, tasks: list[Task], serving: dict[str, str], https_port: int,
                bakes: dict[str, dict[str, Any]] | None = None) -> EdgeConfig:
    """The edge's config forwarding each routed service to its `serving` release (blue if unnamed)."""
    owner = {t.service: scope.container_name(t.service, start_order(t)[0]["name"], serving.get(t.service, BLUE))
             for t in tasks}
    edge_targets = targets([t for t in tasks if t.routes], owner)
    routes = [{"service": e.service, "url": f"https://localhost:{https_port}", "hosts": e.route.hosts,
               "paths": e.route.paths, "priority": e.route.priority, "address": e.address,
               "health": e.route.health_check_path, "protocol": e.route.protocol,
               "health_protocol": e.route.health_check_protocol, "matcher": e.route.matcher,
               "unhealthy_threshold": e.route.unhealthy_threshold,
               "source_ips": e.route.source_ips, "answer": e.route.answer} for e in edge_targets]
    state = {"routes": routes, "serving": {t.service: serving.get(t.service, BLUE) for t in tasks},
             "bakes": bakes or {}}
    return EdgeConfig(nginx_conf(edge_targets, https_port), state)


def replace_text(path: Path, text: str) -> None:
    """Replace `path` whole (write beside it, then rename), so the edge never reads half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def write_edge_state(config_dir: Path, state: dict[str, Any]) -> None:
    replace_text(config_dir / EDGE_STATE, json.dumps(state, indent=1))


def edge_state(edge: Container) -> dict[str, Any]:
    """The edge's current state, from the config directory it mounts; an edge started before the
    state file existed has only the routes it started with, in its label."""
    for mount in edge.attrs.get("Mounts") or []:
        if mount.get("Destination") == EDGE_CONFIG_DIR:
            path = Path(mount["Source"]) / EDGE_STATE
            if path.is_file():
                return dict(json.loads(path.read_text()))
    return {"routes": json.loads(edge.labels.get(LABEL_ROUTES, "[]")), "serving": {}, "bakes": {}}


def start_edge(client: docker.DockerClient, scope: Scope, config: EdgeConfig, image: str, config_dir: Path,
               https_port: int, http_port: int) -> Container:
    """(Re)create the edge with `config`."""
    tls_pair(config_dir, "localhost")
    replace_text(config_dir / "nginx.conf", config.conf)
    write_edge_state(config_dir, config.state)
    name = scope.container_name(EDGE, EDGE)
    for old in client.containers.list(all=True, filters={"name": f"^{name}$", "label": scope.label_filter()}):
        old.remove(force=True)
    return client.containers.run(
        image, ["nginx", "-e", "stderr", "-c", f"{EDGE_CONFIG_DIR}/nginx.conf"], name=name, detach=True,
        labels={**scope.labels(EDGE), LABEL_CONTAINER: EDGE, LABEL_ESSENTIAL: "true",
                LABEL_ROUTES: json.dumps(config.state["routes"]), LABEL_PORTS: f"{https_port},{http_port}"},
        network=scope.network_name(),
        ports={"8443/tcp": ("127.0.0.1", https_port), "8080/tcp": ("127.0.0.1", http_port)},
        mounts=[Mount(EDGE_CONFIG_DIR, str(config_dir.resolve()), type="bind", read_only=True)],
        read_only=True, tmpfs={"/tmp": "mode=1777"}, cap_drop=["ALL"], cap_add=["CHOWN", "SETUID", "SETGID"],
        security_opt=["no-new-privileges"], mem_limit="128m",
    )


def running_edge(client: docker.DockerClient, scope: Scope) -> Container | None:
    name = scope.container_name(EDGE, EDGE)
    found = client.containers.list(all=True, filters={"name": f"^{name}$", "label": scope.label_filter()})
    return found[0] if found and found[0].status == "running" else None


def ensure_edge(client: docker.DockerClient, scope: Scope, config: EdgeConfig, image: str, config_dir: Path,
                https_port: int, http_port: int, say: Callable[[str], None]) -> Container:
    """The running edge reloaded with `config` (no request dropped), or a new edge when there is none
    or it runs another image or ports, or mounts another config directory (another copy of the project)."""
    edge = running_edge(client, scope)
    mounted = {m.get("Destination"): m.get("Source") for m in (edge.attrs.get("Mounts") or [])} if edge else {}
    if edge is not None and edge.attrs["Config"]["Image"] == image \
            and edge.labels.get(LABEL_PORTS) == f"{https_port},{http_port}" \
            and mounted.get(EDGE_CONFIG_DIR) == str(config_dir.resolve()):
        reload_edge(edge, config_dir, config, say)
        return edge
    return start_edge(client, scope, config, image, config_dir, https_port, http_port)


#: The PIDs of the edge's nginx workers (a shell loop over /proc: the nginx images carry no `ps`). The
#: title is anchored at the start so that the loop's own shell and grep, whose command lines hold it, do not match.
WORKER_PIDS = ["sh", "-c", 'for p in /proc/[0-9]*; do grep -qa "^nginx: worker process" "$p/cmdline" 2>/dev/null '
                           '&& echo "${p#/proc/}"; done']


def edge_workers(edge: Container) -> set[str]:
    return set(edge.exec_run(WORKER_PIDS).output.decode().split())


def reload_edge(edge: Container, config_dir: Path, config: EdgeConfig, say: Callable[[str], None]) -> None:
    """Check `config` with the edge's own nginx, then reload it gracefully (nginx's SIGHUP: new workers
    take new connections, old ones finish the requests they hold), and wait until the old workers are
    gone, so that nothing forwards to the release it served before when this returns."""
    candidate = config_dir / "candidate.conf"
    replace_text(candidate, config.conf)
    checked = edge.exec_run(["nginx", "-e", "stderr", "-t", "-c", f"{EDGE_CONFIG_DIR}/candidate.conf"])
    if checked.exit_code != 0:
        raise UserError(f"the local edge refused its new config (the old one still serves):\n"
                        f"{checked.output.decode(errors='replace').strip()}")
    candidate.replace(config_dir / "nginx.conf")
    write_edge_state(config_dir, config.state)
    before = edge_workers(edge)
    signalled = edge.exec_run(["nginx", "-e", "stderr", "-s", "reload", "-c", f"{EDGE_CONFIG_DIR}/nginx.conf"])
    if signalled.exit_code != 0:
        raise UserError(f"the local edge did not reload: {signalled.output.decode(errors='replace').strip()}")
    start = time.monotonic()
    while True:
        now_running = edge_workers(edge)
        if now_running and not now_running & before:
            return
        if time.monotonic() - start > DRAIN_TIMEOUT_S:
            say(f"WARNING the edge's old workers still hold requests after {DRAIN_TIMEOUT_S:.0f} s; going on")
            return
        time.sleep(POLL_S)


@dataclass(frozen=True)
class Probe:
    """One target group's health check of one target, run from inside the edge as the ALB runs it."""

    service: str
    address: str
    protocol: str
    path: str
    matcher: str
    unhealthy_threshold: int = DEFAULT_UNHEALTHY_THRESHOLD

    def url(self) -> str:
        return f"{self.protocol.lower()}://{self.address}{self.path}"


def probes(routes: list[dict[str, Any]]) -> list[Probe]:
    """One per target group a route forwards to (a service's several rules share one), in route order.
    Rules that answer themselves (an access entry's 403) forward nowhere and are not probed."""
    found: list[Probe] = []
    for r in routes:
        if r.get("answer") is not None:
            continue
        probe = Probe(r["service"], r["address"], r.get("health_protocol") or r.get("protocol") or "HTTPS",
                      r["health"], r.get("matcher") or "200",
                      int(r.get("unhealthy_threshold") or DEFAULT_UNHEALTHY_THRESHOLD))
        if probe not in found:
            found.append(probe)
    return found


def check_edge_running(edge: Container) -> None:
    """The edge's nginx refused its config or stopped: say so with its own words, not as a failed probe."""
    edge.reload()
    if edge.status != "running":
        logs = edge.logs(tail=20).decode(errors="replace").strip()
        raise UserError(f"the local edge {edge.name} is {edge.status}; its last lines:\n{logs}")


def run_probe(edge: Container, probe: Probe) -> int | None:
    """The status code the target answered (None: no answer within 5 s)."""
    result = edge.exec_run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", probe.url()])
    code = result.output.decode().strip()
    return int(code) if code.isdigit() and code != "000" else None


def probe_line(probe: Probe, code: int | None) -> str:
    verdict = "healthy" if code is not None and matcher_accepts(probe.matcher, code) else "unhealthy"
    return (f"  {probe.service}: {probe.protocol} GET {probe.path} on {probe.address} -> "
            f"{code if code is not None else 'no answer'} ({verdict}; matcher {probe.matcher})")


def probe_targets(edge: Container, routes: list[dict[str, Any]]) -> list[str]:
    """Each target on its target group's health check: protocol, path and matcher, from inside the
    edge (as the ALB probes each registered target)."""
    return [probe_line(p, run_probe(edge, p)) for p in probes(routes)]


def wait_targets_healthy(edge: Container, say: Callable[[str], None]) -> None:
    """Until every target passes its target group's health check, as the ALB would before sending it
    traffic; a target that never does fails `up` with what it last answered."""
    pending = probes(edge_state(edge)["routes"])
    last: dict[Probe, int | None] = {}
    start = said = time.monotonic()
    while pending:
        for probe in list(pending):
            last[probe] = run_probe(edge, probe)
            if last[probe] is not None and matcher_accepts(probe.matcher, last[probe] or 0):
                pending.remove(probe)
        if not pending:
            return
        now = time.monotonic()
        if now - start > TARGET_HEALTH_TIMEOUT_S:
            failing = "\n".join(probe_line(p, last[p]) for p in pending)
            raise UserError(f"targets failed their target group's health check for {TARGET_HEALTH_TIMEOUT_S:.0f} s "
                            f"(the ALB would send them no traffic):\n{failing}\nmake the app answer the health "
                            "check's path with a code its matcher accepts, or change the service's health_check; "
                            "the containers are left running for `rampart local logs`")
        if now - said >= PROGRESS_S:
            say("waiting for the target group health check: " + "; ".join(
                f"{p.service} {p.protocol} {p.path} -> {last[p] or 'no answer'}" for p in pending))
            said = now
        time.sleep(1.0)


# -- essential containers -----------------------------------------------------------------------

def stopped_tasks(client: docker.DockerClient, scope: Scope) -> dict[tuple[str, str], str]:
    """(service, release) -> why its task stopped: an essential container that exited stops the whole
    task (its other containers are stopped here, as ECS stops them; the other release's are not)."""
    found: dict[tuple[str, str], str] = {}
    containers = client.containers.list(all=True, filters={"label": scope.label_filter()}, ignore_removed=True)
    for c in containers:
        if c.labels.get(LABEL_ESSENTIAL) == "true" and c.status in ("exited", "dead") \
                and c.labels.get(LABEL_CONTAINER) != EDGE:
            found.setdefault((c.labels[LABEL_SERVICE], release_of(c)),
                             f"essential container {c.labels[LABEL_CONTAINER]!r} exited "
                             f"(code {c.attrs['State']['ExitCode']})")
    for c in containers:
        if (c.labels.get(LABEL_SERVICE), release_of(c)) in found and c.status == "running":
            c.stop(timeout=int(c.labels.get(STOP_TIMEOUT_LABEL) or ECS_STOP_TIMEOUT_S))
    return found


# -- commands -----------------------------------------------------------------------------------

def name_clashes(client: docker.DockerClient, scope: Scope, tasks: list[Task]) -> list[str]:
    """What another project or stack already holds under a name this run would use. Names join project
    and stack with `-` (`a-b`/`c` and `a`/`b-c` both spell `rampart-a-b-c`): without this check the
    second would fail on a taken container name after building, or mount the first one's volume."""
    wanted = {
        "container": {scope.container_name(t.service, c["name"], r) for t in tasks for c in t.containers
                      for r in RELEASES} | {scope.container_name(EDGE, EDGE)},
        "volume": {scope.volume_name(t.service, v["name"], r) for t in tasks for v in t.volumes for r in RELEASES},
        "network": {scope.network_name()},
    }
    ours = {"label": [LABEL_PROJECT]}  # anything `rampart local` made, whichever project
    found = [("container", c.name, c.labels) for c in client.containers.list(all=True, filters=ours)]
    found += [("volume", v.name, v.attrs.get("Labels") or {}) for v in client.volumes.list(filters=ours)]
    found += [("network", n.name, n.attrs.get("Labels") or {}) for n in client.networks.list(filters=ours)]
    owners = [(kind, name, Scope(labels.get(LABEL_PROJECT, "?"), labels.get(LABEL_STACK, "?")))
              for kind, name, labels in found]
    return [f"{kind} {name} ({owner})" for kind, name, owner in owners if name in wanted[kind] and owner != scope]



def route_line(route: dict[str, Any]) -> str:
    """One listener rule as `status` shows it: what it matches, then what it does (forward to the
    service's target, or answer itself), so a route's allow rule and its 403 read apart."""
    source = f"  from {','.join(route['source_ips'])}" if route.get("source_ips") else ""
    action = (f"answered {route['answer']} by the edge ({route['service']}'s rule)" if route.get("answer") is not None
              else f"{route['service']} over {route.get('protocol') or 'HTTPS'}")
    return (f"  {route['url']}  hosts {','.join(route['hosts']) or '*'}  paths {','.join(route['paths']) or '/*'}"
            f"{source}  -> {action} (priority {route['priority']})")


def release_note(service: str, release: str, state: dict[str, Any]) -> str:
    """What a release is doing, from the edge's state: serving, or either side of a bake."""
    bake = (state.get("bakes") or {}).get(service) or {}
    until = time.strftime("%H:%M:%S UTC", time.gmtime(float(bake["until"]))) if bake else ""
    if bake.get("new") == release:
        return f", new: serving, baking until {until}"
    if bake.get("old") == release:
        return f", old: kept until {until} to move back to"
    if (state.get("serving") or {}).get(service) == release:
        return ", serving"
    return ", not serving"


def status(client: docker.DockerClient, scope: Scope) -> str:
    stopped = stopped_tasks(client, scope)
    containers = client.containers.list(all=True, filters={"label": scope.label_filter()}, ignore_removed=True)
    if not containers:
        return f"{scope}: nothing is running locally"
    lines = [str(scope)]
    by_task: dict[tuple[str, str], list[Container]] = {}
    for c in containers:
        by_task.setdefault((c.labels[LABEL_SERVICE], release_of(c)), []).append(c)
    edges = by_task.pop((EDGE, BLUE), [])
    state = edge_state(edges[0]) if edges else {}
    for service, release in sorted(by_task):
        task_state = f"STOPPED: {stopped[(service, release)]}" if (service, release) in stopped else "RUNNING"
        two = sum(1 for s, _ in by_task if s == service) > 1
        shown = f" (release {release}{release_note(service, release, state)})" if two or release != BLUE else ""
        lines.append(f"task {service}: {task_state}{shown}")
        for c in sorted(by_task[(service, release)], key=lambda c: c.name):
            health = (c.attrs["State"].get("Health") or {}).get("Status", "no health check")
            lines.append(f"  {c.labels[LABEL_CONTAINER]:<12} {c.status:<8} {health:<16} "
                         f"ports {c.labels.get(LABEL_PORTS) or '-'}  essential={c.labels.get(LABEL_ESSENTIAL)}")
    for edge in edges:
        routes = state.get("routes") or []
        lines.append(f"edge: {edge.status}; routes, lowest priority first:")
        lines += [route_line(r) for r in routes]
        if edge.status == "running":
            lines.append("target health (each target group's health check):")
            lines += probe_targets(edge, routes)
    return "\n".join(lines)


def logs(client: docker.DockerClient, scope: Scope, service: str | None, follow: bool,
         write: Callable[[str], None]) -> None:
    stopped_tasks(client, scope)  # an essential container's exit stops its task, whoever looks first
    everything = client.containers.list(all=True, filters={"label": scope.label_filter()}, ignore_removed=True)
    if not everything:
        raise UserError(f"{scope}: nothing to show; run `rampart local up` first")
    containers = [c for c in everything if service is None or c.labels.get(LABEL_SERVICE) == service]
    if not containers:
        known = sorted({c.labels.get(LABEL_SERVICE, "?") for c in everything})
        raise UserError(f"--service {service}: {scope} has no such service running locally; "
                        f"it has {', '.join(known)}")
    lock = threading.Lock()

    def stream(c: Container) -> None:
        prefix = f"{shown_name(c)} | "
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


def down(client: docker.DockerClient, scope: Scope) -> list[str]:
    """Remove every container, volume and network with the stack's label; returns what was removed."""
    removed: list[str] = []
    containers = client.containers.list(all=True, filters={"label": scope.label_filter()}, ignore_removed=True)
    for c in sorted(containers, key=lambda c: c.attrs["HostConfig"]["NetworkMode"].startswith("container:"),
                    reverse=True):
        try:
            c.remove(force=True)
            removed.append(f"container {c.name}")
        except NotFound:
            pass
    for v in client.volumes.list(filters={"label": scope.label_filter()}):
        v.remove(force=True)
        removed.append(f"volume {v.name}")
    for n in client.networks.list(filters={"label": scope.label_filter()}):
        try:
            n.remove()
            removed.append(f"network {n.name}")
        except APIError as e:
            print(f"network {n.name}: {e}", file=sys.stderr)
    return removed
