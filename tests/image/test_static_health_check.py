"""A team's image that holds nothing but one static binary (`FROM scratch`, no shell, no Node) gets
the health check its Dockerfile declares, and that check, exactly as the plan gives it to ECS,
runs and passes in the real container."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from rampart.components import Environment, EnvironmentArgs, Image, ImageArgs, LoadBalancerSettings, WebService, WebServiceArgs
from rampart.offline.mock_engine import run_program_full
from tests.image.conftest import C_BUILD_BASE, Container, Docker, buildkit

CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666"

#: Serves on 127.0.0.1:8080; with `-health`, exits 0 only when that port answers.
SERVER_C = r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(8080);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (argc > 1 && strcmp(argv[1], "-health") == 0)
        return connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 ? 0 : 1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0)
        return 2;
    static const char reply[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (;;) {
        int client = accept(fd, 0, 0);
        if (client < 0) continue;
        write(client, reply, sizeof reply - 1);
        close(client);
    }
}
"""

DOCKERFILE = """\
ARG BUILD_IMAGE=debian:bookworm
FROM ${BUILD_IMAGE} AS build
COPY server.c /src/server.c
RUN mkdir -p /out && gcc -static -Os -o /out/server /src/server.c

FROM scratch AS runtime
COPY --from=build /out/server /server
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=2s --retries=2 CMD ["/server", "-health"]
ENTRYPOINT ["/server"]
"""


def planned_app_container(context: Path) -> dict[str, Any]:
    """The app container definition the plan gives a service of this image (Image -> WebService)."""

    def program() -> None:
        environment = Environment("team", EnvironmentArgs(load_balancer=LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN]),
                                                       compliance={"recorder": {"existing": "default"}}))
        image = Image("static", ImageArgs(context=str(context), target="runtime"))
        WebService("static", WebServiceArgs(
            environment_ref=environment.ref, image=image.image_ref, image_repository_arn=image.repository.arn,
            image_facts=image.facts,
        ))

    run = run_program_full(program, region="us-east-1")
    task = next(r for r in run.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition")
    return next(c for c in json.loads(task.inputs["containerDefinitions"]) if c["name"] == "app")


@pytest.fixture(scope="module")
def static_image(docker: Docker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if docker.run("image", "inspect", C_BUILD_BASE, check=False).returncode != 0:
        pytest.fail(f"{C_BUILD_BASE} is missing: run scripts/base-images.sh against this engine")
    context = tmp_path_factory.mktemp("static")
    (context / "server.c").write_text(SERVER_C)
    (context / "Dockerfile").write_text(DOCKERFILE)
    tag = f"rampart-test/static:{uuid.uuid4().hex[:8]}"
    cmd, env = buildkit(docker)
    proc = subprocess.run([*cmd, "--network", "host", "--target", "runtime", "--build-arg", f"BUILD_IMAGE={C_BUILD_BASE}",
                           "-t", tag, str(context)], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    yield tag, context
    docker.run("rmi", "-f", tag, check=False)


def test_the_image_holds_only_the_binary(docker: Docker, static_image: tuple[str, Path]) -> None:
    tag, _ = static_image
    layers = json.loads(docker.run("image", "inspect", tag).stdout)[0]["RootFS"]["Layers"]
    assert len(layers) == 1, f"the final stage should be one COPY of the binary, got {len(layers)} layers"


def test_the_planned_health_check_runs_and_passes_in_the_container(docker: Docker, static_image: tuple[str, Path]) -> None:
    tag, context = static_image
    check = planned_app_container(context)["healthCheck"]
    assert check == {"command": ["CMD", "/server", "-health"], "interval": 5, "timeout": 2, "retries": 2,
                     "startPeriod": 0}, check

    container = Container(docker, tag, "--network", "none", "--read-only", "--cap-drop", "ALL", "--user", "10001:10001")
    try:
        # ECS runs a CMD check as an exec of its arguments in the container: do exactly that.
        deadline = time.monotonic() + 20
        result = container.exec(*check["command"][1:], check=False)
        while result.returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            result = container.exec(*check["command"][1:], check=False)
        assert result.returncode == 0, f"{check['command']} failed in the container: {result.stdout}{result.stderr}"
        # The engine's own health status, from the same HEALTHCHECK the plan read.
        state: dict[str, Any] = {}
        while time.monotonic() < deadline + 20:
            state = container.inspect()["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                break
            time.sleep(0.5)
        assert state.get("Health", {}).get("Status") == "healthy", json.dumps(state.get("Health"), indent=1)
        # The sample app's old default could never run here: the image has no node (nor a shell).
        node = container.exec("/nodejs/bin/node", "/app/dist/healthcheck.js", check=False)
        assert node.returncode != 0, "a Node health check ran in a static-binary image"
    finally:
        docker.run("rm", "-f", container.name, check=False)
