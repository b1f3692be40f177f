"""`rampart local up` deploys a change as ECS blue/green does, on the real engine, with the app team's
`alb`-mode program (tests/local/alb_program): the new release starts beside the old one, takes the
edge's traffic once healthy, is watched for the bake time while the old one is kept, and is rolled
back when it fails. A client requests the route the whole time: no request may fail.

The tests run in order on one project: release 1 (blue) is up; a good change moves traffic to green;
a change that fails during the bake (its /ready turns 503) is rolled back to green; a change whose
container health check fails never gets traffic."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import threading
import time
from datetime import datetime
from collections.abc import Iterator
from pathlib import Path

import docker as docker_sdk
import pytest

from rampart.errors import UserError
from rampart.local import engine
from rampart.local.deployment import deployment_of
from rampart.local.edge import EdgeTarget, upstream_name
from rampart.local.scope import BLUE, GREEN, Scope
from rampart.local.tasks import Task, stack_tasks
from tests.image.conftest import Docker, base_images, docker  # noqa: F401
from tests.local.test_local_alb import HTTPS_PORT as ALB_HTTPS_PORT
from tests.local.test_local_alb import STACK, copy_program, get, in_process_up
from tests.local.test_local_engine import rampart

pytestmark = pytest.mark.docker

PROJECT = "rollout-static"
SCOPE = Scope(PROJECT, STACK)
PORT = ALB_HTTPS_PORT + 300


class Client(threading.Thread):
    """Requests GET /hello through the edge, one new connection each, until stopped; counts them."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()
        self.count = 0
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                status, body = get("/hello", PORT)
                if status != 200:
                    self.failures.append(f"{status}: {body[:80]}")
            except Exception as e:  # noqa: BLE001 - a refused or reset connection is a failed request too
                self.failures.append(repr(e))
            self.count += 1
            time.sleep(0.02)

    def __enter__(self) -> Client:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.join(timeout=30)


def changed(task: Task, **environment: str) -> Task:
    """The task with extra environment variables: a new task definition, so a new release."""
    new = copy.deepcopy(task)
    (container,) = new.containers
    container["environment"] = [*(container.get("environment") or []),
                                *({"name": k, "value": v} for k, v in environment.items())]
    return new


def releases(docker: Docker) -> dict[str, str]:  # noqa: F811
    """Release -> the state of its app container."""
    out = docker.run("ps", "-a", "--filter", f"label=rampart.local.project={PROJECT}", "--filter",
                     "label=rampart.local.service=hello", "--format", '{{.Label "rampart.local.release"}} {{.State}}')
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


def upstream_of(task: Task, release: str) -> str:
    """The name the edge's access log gives a release's target (`"target":...`)."""
    (route, *_) = task.routes
    address = f"{SCOPE.container_name('hello', 'app', release)}:{route.port}"
    return upstream_name(EdgeTarget("hello", route, address))


def served_by(docker: Docker, task: Task, since: str) -> list[tuple[float, str]]:  # noqa: F811
    """When each /hello request since `since` was answered (the edge logs whole seconds) and the release
    it was forwarded to, in log order, from the edge's log."""
    lines = docker.run("logs", "--since", since, SCOPE.container_name(engine.EDGE, engine.EDGE)).stdout.splitlines()
    names = {upstream_of(task, r): r for r in (BLUE, GREEN)}
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    return [(datetime.fromisoformat(e["time"]).timestamp(), names.get(e["target"], e["target"]))
            for e in entries if e["uri"] == "/hello"]


@pytest.fixture(scope="module")
def project(docker: Docker, base_images: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:  # noqa: F811
    dest = copy_program(tmp_path_factory.mktemp("rollout") / "hello", PROJECT)
    try:
        yield dest
    finally:
        rampart(docker, dest, "local", "down", "--stack", STACK, timeout=120)


@pytest.fixture(scope="module")
def planned(project: Path) -> Task:
    (task,) = stack_tasks(project, STACK)
    return task


def now_utc(docker: Docker) -> str:  # noqa: F811
    return docker.run("info", "--format", "{{.SystemTime}}").stdout.strip()


def test_a_good_change_moves_traffic_to_the_new_release_and_status_shows_both_during_the_bake(
        docker: Docker, project: Path, planned: Task) -> None:  # noqa: F811
    in_process_up(docker, project, [planned], PORT)
    assert releases(docker) == {BLUE: "running"}
    said: list[str] = []
    moved_at: list[float] = []

    def say(line: str) -> None:
        said.append(line)
        if line.startswith("traffic moved: hello -> release green"):
            moved_at.append(time.time())  # said once the edge's old workers have exited

    seen_status: list[str] = []
    since = now_utc(docker)
    with Client() as client:
        deploy = threading.Thread(target=in_process_up, args=(docker, project, [changed(planned, RELEASE="2")], PORT),
                                  kwargs={"bake_s": 8.0, "say": say}, daemon=True)
        deploy.start()
        while deploy.is_alive():
            out = engine.status(docker_sdk.DockerClient(base_url=docker.host), SCOPE)
            if "baking until" in out:
                seen_status.append(out)
            time.sleep(0.5)
        deploy.join()
        time.sleep(1)
    assert any("traffic moved: hello -> release green" in line for line in said), said
    assert any("release green baked 8 s clean; release blue stopped" in line for line in said), said
    assert seen_status, f"status never showed the bake; up said: {said}"
    during = seen_status[-1]
    assert re.search(r"task hello: RUNNING \(release green, new: serving, baking until \d\d:\d\d:\d\d UTC\)", during), during
    assert re.search(r"task hello: RUNNING \(release blue, old: kept until \d\d:\d\d:\d\d UTC to move back to\)",
                     during), during
    assert releases(docker) == {GREEN: "running"}, "after a clean bake the old release is stopped"
    assert client.failures == [] and client.count > 20, (client.count, client.failures[:5])
    served = served_by(docker, planned, since)
    assert served[0][1] == BLUE and served[-1][1] == GREEN, served
    (moved,) = moved_at
    # Requests the old workers held finish on the old release during the reload; every request
    # answered after the move was said (one second's margin: the log's times are whole seconds) is green.
    after = [release for answered, release in served if answered > moved + 1]
    assert after and set(after) == {GREEN}, f"moved at {moved}: {served}"
    after = rampart(docker, project, "local", "status", "--stack", STACK).stdout
    assert "task hello: RUNNING (release green, serving)" in after, after
    assert "rollout-static-dev-hello-app-green:9090 -> 200 (healthy; matcher 200-299)" in after, after


def test_a_release_that_fails_during_the_bake_is_rolled_back_without_a_failed_request(
        docker: Docker, project: Path, planned: Task) -> None:  # noqa: F811
    """BLUE_GREEN with a 1 min bake, from the plan's deployment setting (no override): the new release
    passes its checks, takes the traffic, then its /ready answers 503; the edge moves back to the
    old release before the bake ends, and `up` fails saying so."""
    assert releases(docker) == {GREEN: "running"}, "runs after the good change"
    task = dataclasses.replace(changed(planned, RELEASE="3", READY_FOR_SECONDS="20"), deployment=deployment_of(
        {"deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "1"}}, "the test's plan"))
    said: list[str] = []
    since = now_utc(docker)
    start = time.monotonic()
    with Client() as client:
        with pytest.raises(UserError) as raised:
            in_process_up(docker, project, [task], PORT, say=said.append)
        time.sleep(2)
    took = time.monotonic() - start
    assert "rolled back hello (release blue): the old release still serves" in str(raised.value)
    story = "\n".join(said)
    assert "traffic moved: hello -> release blue" in story, story
    assert "ROLLED BACK hello: release blue failed during the bake" in story, story
    assert "GET /ready on rampart-rollout-static-dev-hello-app:9090 -> 503 (unhealthy; matcher 200-299)" in story, story
    assert "the edge serves release green again" in story, story
    assert took < 60, f"took {took:.0f} s: the rollback waited for the bake's end"
    assert client.failures == [] and client.count > 20, (client.count, client.failures[:5])
    order = [release for _, release in served_by(docker, planned, since)]
    assert BLUE in order, f"the new release never had the traffic: {order}"
    assert order[0] == GREEN and order[-1] == GREEN, order
    assert releases(docker) == {GREEN: "running"}, "the failed release is stopped, the old one serves"
    assert get("/hello", PORT) == (200, "hello from a static binary\n")


def test_a_release_that_never_passes_its_health_check_gets_no_traffic(
        docker: Docker, project: Path, planned: Task) -> None:  # noqa: F811
    task = changed(planned, RELEASE="4")
    task.containers[0]["healthCheck"].update(command=["CMD", "/server", "--check-fail"], interval=2, retries=1)
    said: list[str] = []
    since = now_utc(docker)
    with Client() as client:
        with pytest.raises(UserError, match="rolled back hello"):
            in_process_up(docker, project, [task], PORT, bake_s=60.0, say=said.append)
    story = "\n".join(said)
    assert "ROLLED BACK hello: release blue failed before traffic moved: its container 'app' is unhealthy: " \
           "its health check `CMD /server --check-fail` failed" in story, story
    assert "exit 1: health: refused on purpose by the fail-fast test" in story, story
    assert "traffic moved: hello" not in story, story
    assert "the edge kept serving release green; release blue is stopped and removed" in story, story
    assert client.failures == [] and client.count > 5, (client.count, client.failures[:5])
    assert {release for _, release in served_by(docker, planned, since)} == {GREEN}
    assert releases(docker) == {GREEN: "running"}
