"""`rampart local` on an app team's `alb`-mode program (tests/local/alb_program: its own static-binary
image, port, routes and health checks), on the real engine: the edge speaks HTTP to the HTTP target
group, `up` checks the target group's health check, a read-only mount point is read-only, an
unhealthy container fails `up` at once, and two projects with the same stack name stay apart."""

from __future__ import annotations

import copy
import shutil
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import docker as docker_sdk
import pytest

from rampart.errors import UserError
from rampart.local import engine, rollout
from rampart.local.command import LOCAL_BASE_IMAGES
from rampart.local.scope import Scope
from rampart.local.tasks import Task, stack_tasks
from tests.image.conftest import Docker, base_images, docker  # noqa: F401
from tests.local.test_local_engine import rampart

pytestmark = pytest.mark.docker

PROGRAM = Path(__file__).resolve().parent / "alb_program"
STACK = "dev"
HTTPS_PORT, HTTP_PORT = 18543, 18580


def copy_program(dest: Path, project: str) -> Path:
    shutil.copytree(PROGRAM, dest)
    pulumi_yaml = dest / "Pulumi.yaml"
    pulumi_yaml.write_text(pulumi_yaml.read_text().replace("name: hello-static", f"name: {project}"))
    return dest


def get(path: str, port: int = HTTPS_PORT) -> tuple[int, str]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(f"https://127.0.0.1:{port}{path}", headers={"Host": "localhost"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture(scope="module")
def hello(docker: Docker, base_images: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:  # noqa: F811
    """The program brought up with the documented offline option, as a user runs it."""
    project = copy_program(tmp_path_factory.mktemp("alb") / "hello", "hello-static")
    up = rampart(docker, project, "local", "up", "--stack", STACK, "--local-base-images",
                 f"--https-port={HTTPS_PORT}", f"--http-port={HTTP_PORT}")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "every target passes its target group's health check" in up.stdout, up.stdout
        yield project
    finally:
        rampart(docker, project, "local", "down", "--stack", STACK, timeout=120)


def in_process_up(docker: Docker, project: Path, tasks: list[Task], https_port: int,  # noqa: F811
                  bake_s: float | None = None, say: Callable[[str], None] = print) -> None:
    rollout.up(docker_sdk.DockerClient(base_url=docker.host), Scope.of(project, STACK), tasks, project_dir=project,
               secrets={}, secrets_path=project / "none.env", build_args=dict(LOCAL_BASE_IMAGES),
               edge_image=LOCAL_BASE_IMAGES["NGINX_IMAGE"], https_port=https_port, http_port=https_port + 1,
               say=say, bake_s=bake_s)


def test_an_alb_mode_program_answers_200_on_its_route(docker: Docker, hello: Path) -> None:  # noqa: F811
    assert get("/hello") == (200, "hello from a static binary\n")
    assert get("/elsewhere")[0] == 404, "no listener rule matches: the edge answers 404"
    edge_log = docker.run("logs", "rampart-hello-static-dev-edge-edge").stdout
    assert '"uri":"/hello","status":200' in edge_log and '"upstream_status":"200"' in edge_log, edge_log


def test_status_probes_the_target_group_over_http_with_its_path_and_matcher(docker: Docker, hello: Path) -> None:  # noqa: F811
    out = rampart(docker, hello, "local", "status", "--stack", STACK).stdout
    assert "paths /hello,/ready  -> hello over HTTP" in out, out
    assert "hello: HTTP GET /ready on rampart-hello-static-dev-hello-app:9090 -> 200 (healthy; matcher 200-299)" in out


def test_a_read_only_mount_point_is_read_only_and_another_project_with_the_same_stack_stays_apart(
        docker: Docker, hello: Path, tmp_path: Path) -> None:  # noqa: F811
    """A second project, also `dev`, whose task mounts /tmp with readOnly: true, and whose container has
    no healthCheck in its definition (its image has a HEALTHCHECK, which ECS ignores, so must `up`)."""
    other = copy_program(tmp_path / "other", "other-static")
    (task,) = copy.deepcopy(stack_tasks(other, STACK))
    (mount,) = task.containers[0]["mountPoints"]
    assert mount["containerPath"] == "/tmp"
    mount["readOnly"] = True
    del task.containers[0]["healthCheck"]
    try:
        in_process_up(docker, other, [task], HTTPS_PORT + 100)
        health = docker.run("inspect", "-f", "{{json .State.Health}}", "rampart-other-static-dev-hello-app")
        assert health.stdout.strip() == "null", "the image's HEALTHCHECK runs, which ECS would not run"
        refused = docker.run("exec", "rampart-other-static-dev-hello-app", "/server", "--write", "/tmp/probe",
                             check=False)
        assert refused.returncode != 0 and "Read-only file system" in refused.stdout, refused.stdout
        written = docker.run("exec", "rampart-hello-static-dev-hello-app", "/server", "--write", "/tmp/probe",
                             check=False)
        assert written.returncode == 0, "hello's /tmp mount is writable (readOnly: false)"

        status = rampart(docker, hello, "local", "status", "--stack", STACK).stdout
        assert "project 'hello-static' stack 'dev'" in status and "other-static" not in status, status
        down = rampart(docker, other, "local", "down", "--stack", STACK, timeout=120)
        assert down.returncode == 0, down.stderr
        assert "rampart-other-static-dev-hello-app" in down.stdout and "hello-static" not in down.stdout, down.stdout
    finally:
        rampart(docker, other, "local", "down", "--stack", STACK, timeout=120)
    assert get("/hello")[0] == 200, "the other project's down left hello's task and edge alone"


def test_up_fails_fast_with_the_containers_own_health_check_output(
        docker: Docker, base_images: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    project = copy_program(tmp_path / "failing", "failing-static")
    (task,) = copy.deepcopy(stack_tasks(project, STACK))
    task.containers[0]["healthCheck"].update(command=["CMD", "/server", "--check-fail"], interval=5, retries=1,
                                             startPeriod=0)
    start = time.monotonic()
    try:
        with pytest.raises(UserError) as raised:
            in_process_up(docker, project, [task], HTTPS_PORT + 200)
    finally:
        rampart(docker, project, "local", "down", "--stack", STACK, timeout=120)
    took = time.monotonic() - start
    assert "'hello/app' is unhealthy: its health check `CMD /server --check-fail` failed" in str(raised.value)
    assert "exit 1: health: refused on purpose by the fail-fast test" in str(raised.value)
    assert took < engine.CONDITION_TIMEOUT_S / 5, f"took {took:.0f} s: it waited instead of failing fast"
