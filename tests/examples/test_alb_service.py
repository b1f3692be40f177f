"""examples/alb-service from the installed wheel: one service in `alb` ingress mode whose image is a
static C binary, with its own port, load-balancer health check path and Dockerfile HEALTHCHECK.
Planned and checked; then served by `rampart local up` on the engine and requested through the
local edge, and removed with `down`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from installed_wheel import Installed
from tests.examples.examples_support import (
    EXAMPLES, containers, dockerfile_healthcheck, example_copy, http_get, https_get, left_behind, of_type,
    ok, plan_json, served_locally,
)
from tests.image.conftest import Docker, base_images, docker  # noqa: F401

NAME = "alb-service"
HOST = "catalog.dev.example.com"
#: What the program sets and the app answers on (examples/alb-service/__main__.py, app/server.c).
PORT, READY_PATH = 9090, "/status/ready"
#: A stack of its own on the shared engine, and edge ports no other test uses.
LOCAL_STACK, HTTPS_PORT, HTTP_PORT = "albexample", 19443, 19080


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_copy(NAME, tmp_path_factory.mktemp("examples"), stack=LOCAL_STACK)


@pytest.fixture(scope="module")
def planned(installed: Installed, project: Path) -> list[dict]:  # type: ignore[type-arg]
    return plan_json(installed, project, "dev")


def test_it_plans_one_alb_service_built_from_its_own_dockerfile(installed: Installed, project: Path) -> None:
    out = ok(installed.run("plan", "--stack", "dev", cwd=project))
    assert "rampart:web_service:WebService  catalog" in out, out
    assert "rampart:image:Image  catalog" in out and "docker:index/image:Image" in out, out
    assert "ProxySidecar" not in out and "proxy" not in out.lower().split("outputs:")[0], "alb mode has no sidecar"
    assert f'url: "https://{HOST}/"' in out, out


def test_the_target_group_probes_the_services_own_port_and_path(planned: list[dict]) -> None:  # type: ignore[type-arg]
    (group,) = of_type(planned, "aws:lb/targetGroup:TargetGroup").values()
    assert (group["inputs"]["port"], group["inputs"]["protocol"]) == (PORT, "HTTP"), group["inputs"]
    health = group["inputs"]["healthCheck"]
    assert (health["path"], health["port"], health["protocol"]) == (READY_PATH, "traffic-port", "HTTP"), health


def test_the_app_container_runs_the_images_own_healthcheck(planned: list[dict]) -> None:  # type: ignore[type-arg]
    """The binary's own `healthcheck` from the Dockerfile's HEALTHCHECK: a command the image contains."""
    (task,) = of_type(planned, "aws:ecs/taskDefinition:TaskDefinition").values()
    app = containers(task)["app"]
    assert app["portMappings"] == [{"containerPort": PORT, "protocol": "tcp"}], app["portMappings"]
    expected = dockerfile_healthcheck(EXAMPLES / NAME / "app" / "Dockerfile")
    assert app["healthCheck"]["command"] == expected, (
        f"catalog's app container health check is {app['healthCheck']['command']}, not its image's HEALTHCHECK {expected}")


def test_it_passes_the_soc2_check(installed: Installed, project: Path, tmp_path: Path) -> None:
    out = ok(installed.run("check", "--stack", "dev", "--report", str(tmp_path), "--format", "json", cwd=project))
    assert "0 mandatory violation(s)" in out and "PASSED" in out, out
    report = json.loads((tmp_path / "soc2-dev.json").read_text())["report"]
    assert (report["project"], report["result"], report["pack"]["name"]) == ("catalog", "PASS", "rampart-soc2"), report["headline"]
    assert [s["name"] for s in report["services"]] == ["catalog"], report["services"]


# ---- served locally ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(installed: Installed, project: Path, docker: Docker, base_images: tuple[str, str]) -> Iterator[Docker]:  # noqa: F811
    yield from served_locally(installed, project, docker, LOCAL_STACK, HTTPS_PORT, HTTP_PORT)


@pytest.mark.docker
def test_its_route_answers_200_from_the_app(served: Docker) -> None:
    status, _, body = https_get(HTTPS_PORT, "/", HOST)
    assert status == 200, f"GET https://{HOST}/ answered {status}: {body}"
    assert json.loads(body)["service"] == "catalog", body


@pytest.mark.docker
def test_http_redirects_to_https(served: Docker) -> None:
    status, location = http_get(HTTP_PORT, "/items?page=2", HOST)
    assert (status, location) == (308, f"https://{HOST}:{HTTPS_PORT}/items?page=2")


@pytest.mark.docker
def test_the_container_is_healthy_by_its_own_healthcheck(served: Docker) -> None:
    from rampart.local.scope import Scope

    name = Scope("catalog", LOCAL_STACK).container_name("catalog", "app")  # keyed by project and stack
    state = json.loads(served.run("inspect", name).stdout)[0]
    assert state["Config"]["Healthcheck"]["Test"] == dockerfile_healthcheck(EXAMPLES / NAME / "app" / "Dockerfile")
    assert state["State"]["Health"]["Status"] == "healthy", state["State"]["Health"]


@pytest.mark.docker
def test_down_removes_everything_it_started(installed: Installed, project: Path, served: Docker) -> None:
    ok(installed.run("local", "down", "--stack", LOCAL_STACK, cwd=project, env={"DOCKER_HOST": served.host}))
    assert left_behind(served, LOCAL_STACK) == {}
