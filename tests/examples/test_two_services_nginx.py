"""examples/two-services-nginx from the installed wheel: two services in `nginx` ingress mode (each
behind its own TLS sidecar, the sidecar image rendered from Rampart's proxy sources), one route
signed in with OIDC and one path allow-listed. Planned and checked; then served by `rampart local
up` on the engine: 200 from the app through the edge and the sidecar, 403 on the allow-listed path
from an address not on the list, the HTTP redirect; then `down`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from installed_wheel import Installed
from tests.examples.examples_support import (
    EXAMPLES, containers, dockerfile_healthcheck, example_copy, http_get, https_get, left_behind, of_type,
    ok, plan_json, served_locally,
)
from tests.image.conftest import Docker, base_images, docker  # noqa: F401

NAME = "two-services-nginx"
HOST = "bookshop.dev.example.com"
SERVICES = ("storefront", "backoffice")
APP_DOCKERFILE = EXAMPLES / NAME / "app" / "Dockerfile"
#: The stack file's allow-list for the storefront's /admin/* (the program reads bookshop:officeCidrs).
OFFICE_CIDRS = yaml.safe_load((EXAMPLES / NAME / "Pulumi.dev.yaml").read_text())["config"]["bookshop:officeCidrs"]
#: What the local edge answers on a sign-in route: it cannot reach the identity provider (rampart.local.tasks).
SIGN_IN_NOT_REPRODUCED = 401
#: A stack of its own on the shared engine, and edge ports no other test uses.
LOCAL_STACK, HTTPS_PORT, HTTP_PORT = "nginxexample", 19444, 19081


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_copy(NAME, tmp_path_factory.mktemp("examples"), stack=LOCAL_STACK)


@pytest.fixture(scope="module")
def planned(installed: Installed, project: Path) -> list[dict]:  # type: ignore[type-arg]
    return plan_json(installed, project, "dev")


def test_it_plans_two_services_each_with_its_sidecar(installed: Installed, project: Path) -> None:
    out = ok(installed.run("plan", "--stack", "dev", cwd=project))
    for service in SERVICES:
        assert f"rampart:web_service:WebService  {service}" in out, out
        assert f"rampart:sidecar:ProxySidecar  {service}-proxy" in out, out
        assert f"rampart:image:Image  {service}-proxy" in out, out
    assert f'backofficeUrl: "https://{HOST}/backoffice/"' in out, out


def test_each_task_runs_the_app_behind_its_proxy_with_the_images_own_healthcheck(planned: list[dict]) -> None:  # type: ignore[type-arg]
    tasks = of_type(planned, "aws:ecs/taskDefinition:TaskDefinition")
    expected = dockerfile_healthcheck(APP_DOCKERFILE)
    for service in SERVICES:
        task = containers(tasks[f"{service}-task"])
        assert set(task) == {"app", "proxy"}, f"{service}: {sorted(task)}"
        assert {"name": "SERVICE_NAME", "value": service} in task["app"]["environment"], task["app"]["environment"]
        assert task["app"]["healthCheck"]["command"] == expected, (
            f"{service}'s app container health check is {task['app']['healthCheck']['command']}, "
            f"not its image's HEALTHCHECK {expected}")


def test_admin_is_allow_listed_and_the_back_office_signs_in(planned: list[dict]) -> None:  # type: ignore[type-arg]
    rules = of_type(planned, "aws:lb/listenerRule:ListenerRule")
    allow, deny = rules["storefront-route-access-0-allow"]["inputs"], rules["storefront-route-access-0-deny"]["inputs"]
    assert {"sourceIp": {"values": OFFICE_CIDRS}} in allow["conditions"], allow["conditions"]
    assert {"pathPattern": {"values": ["/admin/*"]}} in deny["conditions"], deny["conditions"]
    assert deny["actions"][0]["fixedResponse"]["statusCode"] == "403", deny["actions"]
    assert allow["priority"] < deny["priority"] < rules["storefront-route-rule"]["inputs"]["priority"]
    sign_in = rules["backoffice-route-access-0-allow"]["inputs"]
    assert [a["type"] for a in sign_in["actions"]] == ["authenticate-oidc", "forward"], sign_in["actions"]
    assert sign_in["actions"][0]["authenticateOidc"]["issuer"] == "https://login.example.com", sign_in["actions"][0]
    assert sign_in["priority"] < rules["backoffice-route-rule"]["inputs"]["priority"]


def test_it_passes_the_soc2_check(installed: Installed, project: Path, tmp_path: Path) -> None:
    out = ok(installed.run("check", "--stack", "dev", "--report", str(tmp_path), "--format", "json", cwd=project))
    assert "0 mandatory violation(s)" in out and "PASSED" in out, out
    report = json.loads((tmp_path / "soc2-dev.json").read_text())["report"]
    assert (report["project"], report["result"]) == ("bookshop", "PASS"), report["headline"]
    assert sorted(s["name"] for s in report["services"]) == sorted(SERVICES), report["services"]
    # the private routes are held to their access control (an allow-list, a sign-in)
    (private,) = [c for c in report["controls"] if c["policy"] == "aws-lb-listenerrule-require-private-access"]
    assert private["outcome"] == "compliant", private


# ---- served locally ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(installed: Installed, project: Path, docker: Docker, base_images: tuple[str, str]) -> Iterator[Docker]:  # noqa: F811
    yield from served_locally(installed, project, docker, LOCAL_STACK, HTTPS_PORT, HTTP_PORT)


@pytest.mark.docker
def test_the_storefront_answers_200_from_the_app_through_its_sidecar(served: Docker) -> None:
    status, headers, body = https_get(HTTPS_PORT, "/books/42", HOST)
    assert status == 200, f"GET https://{HOST}/books/42 answered {status}: {body}"
    assert json.loads(body) == {"service": "storefront", "path": "/books/42", "user": None}, body
    assert headers.get("Strict-Transport-Security", "").startswith("max-age="), headers  # the sidecar's headers


@pytest.mark.docker
def test_the_allow_listed_path_answers_403_to_an_address_not_on_the_list(served: Docker) -> None:
    status, _, body = https_get(HTTPS_PORT, "/admin/reports", HOST)
    assert status == 403, f"GET /admin/reports from 127.0.0.1 (not in {OFFICE_CIDRS}) answered {status}: {body}"
    assert "storefront" not in body, "the request reached the app"


@pytest.mark.docker
def test_the_sign_in_route_never_reaches_the_app_unauthenticated(served: Docker) -> None:
    status, _, body = https_get(HTTPS_PORT, "/backoffice/orders", HOST)
    assert status == SIGN_IN_NOT_REPRODUCED, f"GET /backoffice/orders answered {status}: {body}"
    assert "backoffice" not in body, "the request reached the app"


@pytest.mark.docker
def test_http_redirects_to_https(served: Docker) -> None:
    status, location = http_get(HTTP_PORT, "/books?page=2", HOST)
    assert (status, location) == (308, f"https://{HOST}:{HTTPS_PORT}/books?page=2")


@pytest.mark.docker
def test_down_removes_everything_it_started(installed: Installed, project: Path, served: Docker) -> None:
    ok(installed.run("local", "down", "--stack", LOCAL_STACK, cwd=project, env={"DOCKER_HOST": served.host}))
    assert left_behind(served, LOCAL_STACK) == {}
