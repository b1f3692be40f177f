"""`rampart local up`: deploy what changed as ECS blue/green does, on one machine (docs/local.md,
"Deploying a change").

A service whose task changed while its current release runs and is healthy gets its new release
beside the old one, in the other slot (blue or green; rampart.local.scope). Once the new release
passes its containers' health checks and its target group's, the edge's traffic moves to it with a
graceful nginx reload; the old release is kept for the bake time (the plan's, or `--bake-time`) while
the new one is watched. A new release that fails its health checks, before the move or during the
bake, is rolled back: the edge serves the old release again, the new one is stopped with its health
checks' output shown, and `up` fails saying so. After a clean bake the old release is stopped.

A service with nothing healthy to keep (its first `up`, or a stopped task) is started in place, as
before: there is no old release to move back to.

Pieces, top-down: `up`; what changed (`Change`, `plan_changes`); starting; the switch (`ready`,
`move`, `bake`, `roll_back`); watching a release (`release_problem`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker

from rampart.errors import UserError
from rampart.local.engine import (
    CONDITION_TIMEOUT_S, LABEL_CONTAINER, LABEL_ESSENTIAL, PROGRESS_S, TARGET_HEALTH_TIMEOUT_S, EdgeConfig, PreparedContainer,
    Probe, build_images, check_edge_running, edge_config, edge_config_dir, edge_state, ensure_edge,
    ensure_network, health_log, is_current, name_clashes, prepare, probe_line, probes, reload_edge, release_of,
    remove_task, run_probe, running_edge, shown_name, start_task, task_containers, wait_healthy,
    wait_targets_healthy, write_edge_state,
)
from rampart.local.edge import matcher_accepts
from rampart.local.scope import BLUE, Scope, other_release
from rampart.local.secrets import LOCAL_DIR
from rampart.local.tasks import Task

Say = Callable[[str], None]
#: How often a new release's health is checked while it starts and bakes (the ALB checks every
#: `healthCheck.interval`; locally more often, so that a failure is seen within seconds).
CHECK_INTERVAL_S = 1.0


def up(client: docker.DockerClient, scope: Scope, tasks: list[Task], *, project_dir: Path, secrets: dict[str, str],
       secrets_path: Path, build_args: dict[str, str], edge_image: str | None, https_port: int, http_port: int,
       say: Say, services: list[str] | None = None, bake_s: float | None = None) -> None:
    """Build; start what changed (beside a healthy running release, else in its place), all at once as
    ECS starts a service's tasks; the edge routing to every serving release; wait for the health
    checks of what started in place (each failure ends `up` at once); then switch each changed
    service to its new release, bake (`bake_s` overrides each service's plan), and roll back the
    ones that fail."""
    clashes = name_clashes(client, scope, tasks)
    if clashes:
        raise UserError(f"{scope}: another local run already uses these names: {'; '.join(clashes)}; "
                        "run `rampart local down` there, or rename this project or stack")
    selected = [t for t in tasks if not services or t.service in services]
    serving = serving_releases(client, scope, tasks)
    changes = plan_changes(client, scope, selected, serving, project_dir=project_dir, secrets=secrets,
                           secrets_path=secrets_path, build_args=build_args, say=say, bake_s=bake_s)
    ensure_network(client, scope)
    start_releases(client, scope, changes, say)
    routed = [t for t in tasks if t.routes and task_containers(client, scope, t.service, serving[t.service])]
    edge = None
    if routed:
        if not edge_image:
            raise UserError("no nginx image for the local edge: give `--build-arg NGINX_IMAGE=<image>` "
                            "(or `--local-base-images`)")
        say(f"edge: https://localhost:{https_port} (http://localhost:{http_port} redirects)")
        edge = ensure_edge(client, scope, edge_config(scope, routed, serving, https_port), edge_image,
                           edge_config_dir(project_dir, scope), https_port, http_port, say)
    switching = {c.service for c in changes if c.old is not None}
    wait_healthy(client, scope, [t for t in selected if t.service not in switching], say, releases=serving)
    say("every container is healthy" + ("; checking each target group's health check" if edge else ""))
    if edge is not None:
        check_edge_running(edge)
        wait_targets_healthy(edge, say)
        say("every target passes its target group's health check")
    switches = [c for c in changes if c.old is not None]
    if switches:
        Switch(client, scope, routed, serving, edge, edge_config_dir(project_dir, scope), https_port, say).run(switches)


# -- what changed ---------------------------------------------------------------------------------

@dataclass
class Change:
    """One service's new release, and the release it replaces."""

    task: Task
    prepared: list[PreparedContainer]
    new: str
    """The release (slot) it starts as."""
    old: str | None
    """The release serving now, kept until the bake ends; None when there is none to keep (started in place)."""
    bake_s: float = 0.0
    problem: str | None = None
    """Why it is rolled back (set when it fails a health check)."""
    failed_checks: dict[Probe, int] = field(default_factory=dict)
    """Consecutive failed target group health checks, per target group."""
    bake_until: float | None = None

    @property
    def service(self) -> str:
        return self.task.service


def serving_releases(client: docker.DockerClient, scope: Scope, tasks: list[Task]) -> dict[str, str]:
    """Each service's current release: the one the edge forwards to, else the one that has containers
    (blue when both or neither do)."""
    edge = running_edge(client, scope)
    told = (edge_state(edge).get("serving") or {}) if edge is not None else {}
    found: dict[str, str] = {}
    for task in tasks:
        present = {release_of(c) for c in task_containers(client, scope, task.service)}
        release = told.get(task.service)
        if release not in present:
            release = next(iter(present)) if len(present) == 1 else BLUE
        found[task.service] = str(release)
    return found


def keeps_serving(containers: list[docker.models.containers.Container]) -> bool:
    """Whether a release can serve while its successor starts: every container running, none unhealthy."""
    return bool(containers) and all(
        c.status == "running" and (c.attrs["State"].get("Health") or {}).get("Status") != "unhealthy"
        for c in containers)


def plan_changes(client: docker.DockerClient, scope: Scope, selected: list[Task], serving: dict[str, str], *,
                 project_dir: Path, secrets: dict[str, str], secrets_path: Path, build_args: dict[str, str],
                 say: Say, bake_s: float | None) -> list[Change]:
    """Build each selected task's images and compare with its serving release: unchanged ones are left
    alone, changed ones start beside it when it can keep serving, else in its place."""
    tls_root = project_dir / LOCAL_DIR / scope.stack / "tls"
    changes: list[Change] = []
    for task in selected:
        images = build_images(client, scope, task, build_args, say)
        live = serving[task.service]
        existing = task_containers(client, scope, task.service, live)
        standby = other_release(live)
        leftovers = task_containers(client, scope, task.service, standby)
        if is_current(existing, prepare(client, scope, task, images, secrets, secrets_path, tls_root, live)):
            say(f"{task.service}: unchanged")
            if leftovers:
                say(f"{task.service}: removing release {standby}, which an interrupted `up` left beside it")
                remove_task(client, scope, task.service, standby)
            continue
        if keeps_serving(existing):
            remove_task(client, scope, task.service, standby)
            bake = task.deployment.bake_s if bake_s is None else bake_s
            say(f"{task.service}: changed; {task.deployment.describe()}: release {standby} starts beside {live}, "
                f"which is kept for a bake of {bake:.0f} s after traffic moves")
            changes.append(Change(task, prepare(client, scope, task, images, secrets, secrets_path, tls_root, standby),
                                  new=standby, old=live, bake_s=bake))
        else:
            if existing:
                say(f"{task.service}: changed; release {live} is not healthy, so the new one starts in its place")
            remove_task(client, scope, task.service)
            changes.append(Change(task, prepare(client, scope, task, images, secrets, secrets_path, tls_root, live),
                                  new=live, old=None))
    return changes


# -- starting ---------------------------------------------------------------------------------------

def start_releases(client: docker.DockerClient, scope: Scope, changes: list[Change], say: Say) -> None:
    """Every change's new release at once. One started in place fails `up` as it fails; one started
    beside a serving release is marked for rollback (its old release keeps serving)."""

    def start(change: Change) -> None:
        try:
            start_task(client, scope, change.task, change.prepared, say, change.new)
        except UserError as e:
            if change.old is None:
                raise
            change.problem = f"it did not start: {e}"

    with ThreadPoolExecutor(max_workers=max(1, len(changes))) as pool:
        list(pool.map(start, changes))  # list(): re-raises the first error


# -- the switch -------------------------------------------------------------------------------------

@dataclass
class Switch:
    """Moving changed services to their new releases at the edge, the bake, and rollbacks."""

    client: docker.DockerClient
    scope: Scope
    routed: list[Task]
    serving: dict[str, str]
    edge: docker.models.containers.Container | None
    config_dir: Path
    https_port: int
    say: Say
    bakes: dict[str, dict[str, object]] = field(default_factory=dict)
    """Service -> the bake under way (old and new release, until when), for `status`."""
    last_codes: dict[Probe, int | None] = field(default_factory=dict)
    """What each target last answered its target group's health check."""

    def run(self, changes: list[Change]) -> None:
        self.ready(changes)
        for change in changes:
            if change.problem:
                self.roll_back(change, moved=False)
        moving = [c for c in changes if not c.problem]
        if moving:
            self.move(moving)
            self.bake(moving)
        failed = [c for c in changes if c.problem]
        if failed:
            raise UserError("rolled back " + ", ".join(f"{c.service} (release {c.new})" for c in failed)
                            + ": the old release still serves (see above for why); fix the release and run "
                            "`rampart local up` again")

    # the new release's health, before any traffic moves

    def ready(self, changes: list[Change]) -> None:
        """Until each new release passes its containers' health checks (within CONDITION_TIMEOUT_S), then
        its target group's (within TARGET_HEALTH_TIMEOUT_S after that), or fails one of them."""
        start = said = time.monotonic()
        healthy_at: dict[str, float] = {}
        pending = [c for c in changes if not c.problem]
        while pending:
            now = time.monotonic()
            for change in list(pending):
                change.problem = self.release_problem(change, moved=False)
                containers_ok = change.problem is None and self.containers_healthy(change)
                if containers_ok and change.service not in healthy_at:
                    healthy_at[change.service] = now
                targets_ok = containers_ok and self.targets_pass(change)
                if change.problem is None and not containers_ok and now - start > CONDITION_TIMEOUT_S:
                    change.problem = f"its containers were not healthy within {CONDITION_TIMEOUT_S:.0f} s"
                if change.problem is None and containers_ok and not targets_ok \
                        and now - healthy_at[change.service] > TARGET_HEALTH_TIMEOUT_S:
                    change.problem = (f"it failed its target group's health check for {TARGET_HEALTH_TIMEOUT_S:.0f} s:\n"
                                      + "\n".join(self.target_lines(change)))
                if change.problem is not None or targets_ok:
                    pending.remove(change)
            if pending and now - said >= PROGRESS_S:
                self.say("waiting for the new release of " + ", ".join(c.service for c in pending)
                         + " to pass its health checks")
                said = now
            if pending:
                time.sleep(CHECK_INTERVAL_S)

    def containers_healthy(self, change: Change) -> bool:
        return all(c.status == "running" and (c.attrs["State"].get("Health") or {}).get("Status") in (None, "healthy")
                   for c in task_containers(self.client, self.scope, change.service, change.new))

    def targets_pass(self, change: Change) -> bool:
        """One passing check of each of its target groups (the edge probes the new release's address)."""
        if self.edge is None:
            return True
        return all(self.probe(change, p) for p in self.probes_of(change))

    # moving traffic

    def move(self, changes: list[Change]) -> None:
        now = time.time()
        for change in changes:
            self.serving[change.service] = change.new
            change.bake_until = now + change.bake_s
            self.bakes[change.service] = {"old": change.old, "new": change.new, "until": change.bake_until}
        self.publish(reload=True)
        self.say("traffic moved: " + ", ".join(f"{c.service} -> release {c.new}" for c in changes)
                 + ("" if self.edge else " (no route: nothing to move at the edge)"))

    def publish(self, reload: bool) -> None:
        """The edge's config and state for the current releases and bakes (reloaded when traffic moves)."""
        if self.edge is None:
            return
        config: EdgeConfig = edge_config(self.scope, self.routed, self.serving, self.https_port, self.bakes)
        if reload:
            reload_edge(self.edge, self.config_dir, config, self.say)
        else:
            write_edge_state(self.config_dir, config.state)

    # the bake

    def bake(self, changes: list[Change]) -> None:
        """Watch each new release until its bake ends (then stop the old one), or until it fails (then
        move back)."""
        baking = list(changes)
        said = time.monotonic()
        while baking:
            for change in list(baking):
                change.problem = self.release_problem(change, moved=True)
                if change.problem is not None:
                    self.roll_back(change, moved=True)
                    baking.remove(change)
                elif time.time() >= (change.bake_until or 0):
                    self.finish(change)
                    baking.remove(change)
            if baking and time.monotonic() - said >= PROGRESS_S:
                self.say("baking: " + ", ".join(
                    f"{c.service} release {c.new} ({max(0.0, (c.bake_until or 0) - time.time()):.0f} s left)"
                    for c in baking))
                said = time.monotonic()
            if baking:
                time.sleep(CHECK_INTERVAL_S)

    def finish(self, change: Change) -> None:
        assert change.old is not None
        remove_task(self.client, self.scope, change.service, change.old)
        self.bakes.pop(change.service, None)
        self.publish(reload=False)
        self.say(f"{change.service}: release {change.new} baked {change.bake_s:.0f} s clean; "
                 f"release {change.old} stopped")

    def roll_back(self, change: Change, moved: bool) -> None:
        """The edge back on the old release (when traffic had moved), then the new one stopped, with
        its health checks' output."""
        assert change.old is not None
        if moved:
            self.serving[change.service] = change.old
            self.bakes.pop(change.service, None)
            self.publish(reload=True)
        output = self.health_output(change)
        remove_task(self.client, self.scope, change.service, change.new)
        when, edge = (("during the bake", f"the edge serves release {change.old} again") if moved else
                      ("before traffic moved", f"the edge kept serving release {change.old}"))
        self.say(f"ROLLED BACK {change.service}: release {change.new} failed {when}: {change.problem}\n"
                 f"{edge}; release {change.new} is stopped and removed. Its health checks' output:\n{output}")

    def health_output(self, change: Change) -> str:
        lines = []
        for c in task_containers(self.client, self.scope, change.service, change.new):
            c.reload()
            health = c.attrs["State"].get("Health")
            if health:
                lines.append(f" {shown_name(c)} ({health.get('Status')}):\n{health_log(c.attrs['State'])}")
        return "\n".join(lines + self.target_lines(change)) or " (no health check output)"

    # watching a release

    def release_problem(self, change: Change, moved: bool) -> str | None:
        """Why the new release must be rolled back now, or None: an essential container that exited,
        a container health check that failed (the engine's verdict), or, once traffic moved, a target
        group health check failed its unhealthy threshold's number of times in a row."""
        if change.problem:
            return change.problem
        for c in task_containers(self.client, self.scope, change.service, change.new):
            if (c.attrs["State"].get("Health") or {}).get("Status") == "unhealthy":
                check = " ".join((c.attrs["Config"].get("Healthcheck") or {}).get("Test") or [])
                return f"its container {c.labels[LABEL_CONTAINER]!r} is unhealthy: its health check `{check}` failed"
            if c.status != "running" and c.labels.get(LABEL_ESSENTIAL) == "true":
                return (f"its essential container {c.labels[LABEL_CONTAINER]!r} is {c.status} "
                        f"(code {c.attrs['State'].get('ExitCode')})")
        if moved and self.edge is not None:
            for probe in self.probes_of(change):
                self.probe(change, probe)
                if change.failed_checks.get(probe, 0) >= probe.unhealthy_threshold:
                    return (f"its target group's health check failed {change.failed_checks[probe]} times in a row "
                            f"(unhealthy threshold {probe.unhealthy_threshold}):\n" + "\n".join(self.target_lines(change)))
        return None

    def probes_of(self, change: Change) -> list[Probe]:
        """The new release's targets, as its target groups probe them (by the new release's address)."""
        task = [change.task] if change.task.routes else []
        return probes(edge_config(self.scope, task, {change.service: change.new}, self.https_port).state["routes"])

    def probe(self, change: Change, probe: Probe) -> bool:
        assert self.edge is not None
        code = run_probe(self.edge, probe)
        passed = code is not None and matcher_accepts(probe.matcher, code)
        change.failed_checks[probe] = 0 if passed else change.failed_checks.get(probe, 0) + 1
        self.last_codes[probe] = code
        return passed

    def target_lines(self, change: Change) -> list[str]:
        return [probe_line(p, self.last_codes.get(p)) for p in self.probes_of(change) if p in self.last_codes]
