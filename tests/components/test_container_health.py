"""Container health checks that run in the image: the image's own HEALTHCHECK (its Dockerfile's
target stage, or its image config), else an explicit `container_health_check`, else none; a
command whose program the image certainly does not hold is refused at plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from components_support import IMAGE, REPOSITORY_ARN, ServiceCase, minimal_args, placeholder_ref, run_service
from pydantic import ValidationError

from rampart.components.container_health import ContainerHealthCheck, health_check_from_image_config
from rampart.components.image import ImageFacts, read_image_facts
from rampart.components.proxy_config import ProxyConfig
from rampart.components.web_service import WebServiceArgs

ROOT = Path(__file__).resolve().parents[2]
APP_DOCKERFILE = ROOT / "app" / "Dockerfile"

#: A Go-style service whose final stage is only a static binary.
STATIC_BINARY = """\
ARG BUILD_IMAGE=rampart/c-build:bookworm
FROM ${BUILD_IMAGE} AS build
RUN gcc -static -o /out/server /src/server.c
FROM scratch
COPY --from=build /out/server /server
USER 10001:10001
HEALTHCHECK CMD ["/server", "-health"]
ENTRYPOINT ["/server"]
"""


def dockerfile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return path


def facts_of(tmp_path: Path, text: str, target: str | None = None) -> ImageFacts:
    return read_image_facts(dockerfile(tmp_path, text), target)


# --- reading the image's HEALTHCHECK ------------------------------------------------------------

def test_sample_app_keeps_its_health_check_from_its_dockerfile() -> None:
    facts = read_image_facts(APP_DOCKERFILE, "runtime")
    assert facts.health_check is not None, "app/Dockerfile's runtime stage declares a HEALTHCHECK"
    assert facts.health_check.ecs() == {
        "command": ["CMD", "/nodejs/bin/node", "/app/dist/healthcheck.js"],
        "interval": 15, "timeout": 3, "retries": 3, "startPeriod": 10,
    }
    assert facts.contents is None, "a distroless base adds files not known here: nothing is refused"
    assert facts.volumes == ("/tmp",)


def test_static_binary_image_gets_its_own_check_with_dockers_defaults(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, STATIC_BINARY)
    assert facts.health_check is not None
    assert facts.health_check.ecs() == {"command": ["CMD", "/server", "-health"], "interval": 30, "timeout": 30,
                                        "retries": 3, "startPeriod": 0}
    assert facts.contents == ("/server",)
    assert facts.missing_executable(facts.health_check) is None


def test_shell_form_is_cmd_shell(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, "FROM debian:12\nHEALTHCHECK --retries=2 CMD wget -q -O- http://127.0.0.1:8080/ || exit 1\n")
    assert facts.health_check is not None
    assert facts.health_check.command == ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/ || exit 1"]
    assert facts.health_check.retries == 2


def test_none_in_the_target_stage_overrides_an_inherited_check(tmp_path: Path) -> None:
    text = "FROM debian:12 AS base\nHEALTHCHECK CMD [\"/bin/true\"]\nFROM base AS final\nHEALTHCHECK NONE\n"
    assert facts_of(tmp_path, text).health_check is None
    inherited = facts_of(tmp_path, text.replace("HEALTHCHECK NONE\n", "USER 1\n"))
    assert inherited.health_check is not None and inherited.health_check.command == ["CMD", "/bin/true"]


def test_only_the_target_stage_chain_counts(tmp_path: Path) -> None:
    text = "FROM debian:12 AS runtime\nUSER 1\nFROM runtime AS test\nHEALTHCHECK CMD [\"/bin/true\"]\n"
    assert facts_of(tmp_path, text, target="runtime").health_check is None
    assert facts_of(tmp_path, text).health_check is not None


@pytest.mark.parametrize("flag,value,field,expected", [
    ("interval", "5s", "interval_seconds", 5), ("interval", "300s", "interval_seconds", 300),
    ("interval", "5m", "interval_seconds", 300), ("interval", "1m30s", "interval_seconds", 90),
    ("timeout", "2s", "timeout_seconds", 2), ("timeout", "60s", "timeout_seconds", 60),
    ("retries", "1", "retries", 1), ("retries", "10", "retries", 10),
    ("start-period", "0s", "start_period_seconds", 0), ("start-period", "300s", "start_period_seconds", 300),
])
def test_dockerfile_flags_at_the_ecs_limits_are_taken(tmp_path: Path, flag: str, value: str, field: str,
                                                      expected: int) -> None:
    facts = facts_of(tmp_path, f"FROM debian:12\nHEALTHCHECK --{flag}={value} CMD [\"/bin/true\"]\n")
    assert facts.health_check is not None and getattr(facts.health_check, field) == expected


@pytest.mark.parametrize("flag,value", [
    ("interval", "4s"), ("interval", "301s"), ("interval", "1500ms"), ("timeout", "1s"), ("timeout", "61s"),
    ("retries", "0"), ("retries", "11"), ("retries", "3s"), ("start-period", "301s"), ("interval", "soon"),
    ("interval", "30500ms"),  # within the bounds, but ECS takes whole seconds only
])
def test_dockerfile_flags_ecs_cannot_run_are_refused_naming_the_line(tmp_path: Path, flag: str, value: str) -> None:
    path = dockerfile(tmp_path, f"FROM debian:12\nUSER 1\nHEALTHCHECK --{flag}={value} CMD [\"/bin/true\"]\n")
    with pytest.raises(ValueError) as error:
        read_image_facts(path)
    assert f"Dockerfile:3: HEALTHCHECK --{flag}={value}" in str(error.value), str(error.value)


def test_image_config_health_check() -> None:
    config = {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "Interval": 10_000_000_000,
                              "Retries": 2}, "Env": ["PATH=/opt/bin"], "Volumes": {"/data": {}}}
    facts = ImageFacts.from_image_config(config)
    assert facts.health_check is not None
    assert facts.health_check.ecs() == {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
                                        "interval": 10, "timeout": 30, "retries": 2, "startPeriod": 0}
    assert facts.volumes == ("/data",) and facts.search_path == ("/opt/bin",) and facts.contents is None
    assert health_check_from_image_config({"Healthcheck": {"Test": ["NONE"]}}) is None
    assert health_check_from_image_config({}) is None
    with pytest.raises(ValueError, match="--interval=1.5s"):
        health_check_from_image_config({"Healthcheck": {"Test": ["CMD", "/x"], "Interval": 1_500_000_000}})


# --- what the image holds ---------------------------------------------------------------------------

@pytest.mark.parametrize("command,missing", [
    (["CMD", "/server", "-health"], None),
    (["CMD", "/nodejs/bin/node", "/app/dist/healthcheck.js"], "/nodejs/bin/node"),
    (["CMD", "wget", "-q", "http://127.0.0.1/"], "wget"),
    (["CMD-SHELL", "/server -health"], "/bin/sh"),
])
def test_missing_executable_in_a_scratch_image(tmp_path: Path, command: list[str], missing: str | None) -> None:
    facts = facts_of(tmp_path, STATIC_BINARY)
    assert facts.missing_executable(ContainerHealthCheck(command=command)) == missing


def test_copies_into_directories_and_path_lookups(tmp_path: Path) -> None:
    text = ("FROM golang:1.22 AS build\nFROM scratch\nWORKDIR /srv\nCOPY --from=build /out/ bin/\n"
            "COPY --from=build /probe /usr/local/bin/\nENV PATH=/srv/bin:/usr/local/bin\n")
    facts = facts_of(tmp_path, text)
    assert facts.contents == ("/srv/bin", "/usr/local/bin")
    assert facts.missing_executable(ContainerHealthCheck(command=["CMD", "/srv/bin/api", "-h"])) is None
    assert facts.missing_executable(ContainerHealthCheck(command=["CMD", "probe"])) is None
    assert facts.missing_executable(ContainerHealthCheck(command=["CMD", "/usr/bin/probe"])) == "/usr/bin/probe"


def test_contents_are_unknown_after_run_or_from_a_base_image(tmp_path: Path) -> None:
    run = "FROM busybox:1.36 AS tools\nFROM scratch\nCOPY --from=tools /bin/busybox /bin/sh\nRUN [\"/bin/sh\", \"-c\", \"true\"]\n"
    assert facts_of(tmp_path, run).contents is None
    base = "FROM debian:12\nCOPY server /server\n"
    facts = facts_of(tmp_path, base)
    assert facts.contents is None
    assert facts.missing_executable(ContainerHealthCheck(command=["CMD", "/usr/bin/curl"])) is None


# --- the explicit settings model: bounds ECS accepts ------------------------------------------------

@pytest.mark.parametrize("field,good,bad", [
    ("interval_seconds", (5, 300), (4, 301)),
    ("timeout_seconds", (2, 60), (1, 61)),
    ("retries", (1, 10), (0, 11)),
    ("start_period_seconds", (0, 300), (-1, 301)),
])
def test_explicit_check_bounds(field: str, good: tuple[int, int], bad: tuple[int, int]) -> None:
    for value in good:
        ContainerHealthCheck(command=["CMD", "/server", "-health"], **{field: value})
    for value in bad:
        with pytest.raises(ValidationError, match=field):
            ContainerHealthCheck(command=["CMD", "/server", "-health"], **{field: value})


def test_explicit_check_command_form() -> None:
    with pytest.raises(ValidationError, match="CMD or CMD-SHELL"):
        ContainerHealthCheck(command=["RUN", "/server"])
    with pytest.raises(ValidationError, match="one shell command line"):
        ContainerHealthCheck(command=["CMD-SHELL", "curl", "-f"])


# --- the service: which check its task gets -------------------------------------------------------------

class FactsCase(ServiceCase):
    """A service whose image's facts are known (as `Image.facts` gives them)."""

    def __init__(self, case: ServiceCase, facts: ImageFacts | None) -> None:
        super().__init__(case.service, case.environment)
        self.facts = facts

    def args(self, environment: Any) -> WebServiceArgs:
        return WebServiceArgs(environment_ref=environment, image=IMAGE, image_repository_arn=REPOSITORY_ARN,
                              image_facts=self.facts, **self.service)


def test_no_image_check_and_no_explicit_one_means_no_container_check() -> None:
    app = run_service(minimal_args()).container()
    assert "healthCheck" not in app, f"app container got a health check nobody declared: {app.get('healthCheck')}"


def test_the_images_own_check_is_the_containers(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, STATIC_BINARY)
    app = run_service(FactsCase(minimal_args(), facts)).container()
    assert app["healthCheck"] == {"command": ["CMD", "/server", "-health"], "interval": 30, "timeout": 30,
                                  "retries": 3, "startPeriod": 0}


def test_an_explicit_check_when_the_image_has_none(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, STATIC_BINARY.replace('HEALTHCHECK CMD ["/server", "-health"]\n', ""))
    explicit = {"command": ["CMD", "/server", "-health"], "interval_seconds": 10}
    app = run_service(FactsCase(minimal_args(container_health_check=explicit), facts)).container()
    assert app["healthCheck"]["command"] == ["CMD", "/server", "-health"] and app["healthCheck"]["interval"] == 10


def test_an_explicit_check_beside_the_images_own_is_refused(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, STATIC_BINARY)
    case = minimal_args(container_health_check={"command": ["CMD", "/server", "-ready"]})
    with pytest.raises(ValidationError) as error:
        FactsCase(case, facts).args(placeholder_ref(case.environment))
    message = str(error.value)
    assert "/server', '-ready'" in message and "/server', '-health'" in message and "Dockerfile:7" in message, message


def test_a_check_the_image_cannot_run_is_refused_at_plan(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, STATIC_BINARY.replace('HEALTHCHECK CMD ["/server", "-health"]\n', ""))
    node = ["CMD", "/nodejs/bin/node", "/app/dist/healthcheck.js"]
    with pytest.raises(ValueError) as error:
        run_service(FactsCase(minimal_args(container_health_check={"command": node}), facts), name="api")
    message = str(error.value)
    assert "WebService 'api'" in message and "/nodejs/bin/node" in message and "final stage" in message, message


def test_the_images_own_check_it_cannot_run_is_refused(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, STATIC_BINARY.replace('CMD ["/server", "-health"]', 'CMD ["/bin/wget", "-q", "x"]'))
    with pytest.raises(ValueError, match="'/bin/wget'"):
        run_service(FactsCase(minimal_args(), facts))


@pytest.mark.parametrize("with_check,condition", [(True, "HEALTHY"), (False, "START")])
def test_sidecar_waits_for_what_the_app_can_report(tmp_path: Path, with_check: bool, condition: str) -> None:
    text = STATIC_BINARY if with_check else STATIC_BINARY.replace('HEALTHCHECK CMD ["/server", "-health"]\n', "")
    case = minimal_args(
        ingress="nginx", proxy=ProxyConfig(), proxy_image=IMAGE, proxy_image_repository_arn=REPOSITORY_ARN,
        writable_paths=["/tmp"],
    )
    plan = run_service(FactsCase(case, facts_of(tmp_path, text)))
    assert plan.container("proxy")["dependsOn"] == [{"containerName": "app", "condition": condition}]
