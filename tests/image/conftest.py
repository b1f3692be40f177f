"""Real Docker builds for the image tests: a private engine, registry-free base images,
and the app image built from app/Dockerfile with those bases substituted via build args.

Everything expensive is session-scoped: the engine starts once (scripts/docker-engine.sh),
the base images are made once per cache (scripts/base-images.sh), the app image is built
once. The engine is stopped at session end, tests passed or not, when this session
started it (an engine that was already running is left as it was).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rampart.local.command import LOCAL_BASE_IMAGES

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
# The registry-free base images scripts/base-images.sh makes, as `rampart local --local-base-images` names
# them (one owner): the Node build and runtime bases, and stand-ins for the proxy's NGINX_IMAGE (Debian +
# nginx, curl, shell, apt) and BUILD_IMAGE (Debian + gcc, libc6-dev, libssl-dev).
NODE_BUILD_BASE = LOCAL_BASE_IMAGES["NODE_IMAGE"]
RUNTIME_BASE = LOCAL_BASE_IMAGES["RUNTIME_IMAGE"]
NGINX_BASE = LOCAL_BASE_IMAGES["NGINX_IMAGE"]
C_BUILD_BASE = LOCAL_BASE_IMAGES["BUILD_IMAGE"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a real Docker engine (root, dockerd; scripts/install-image.sh)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/image/test_container" in item.nodeid:
            item.add_marker(pytest.mark.docker)


@dataclass(frozen=True)
class Docker:
    """The docker CLI pointed at the private engine."""

    host: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host}

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["docker", *args], env=self.env(), capture_output=True, text=True,
                              timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc


def _script(*args: str, timeout: float, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([str(SCRIPTS / args[0]), *args[1:]], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + "\n" + proc.stderr).strip().splitlines()[-40:])
        raise RuntimeError(f"scripts/{' '.join(args)} failed ({proc.returncode}); last lines:\n{tail}")
    return proc.stdout.strip()


@pytest.fixture(scope="session")
def docker() -> Iterator[Docker]:
    if os.geteuid() != 0:
        pytest.fail("the image tests start dockerd and need root")
    for tool in ("dockerd", "docker", "debootstrap"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed; run scripts/install-image.sh")
    host = _script("docker-engine.sh", "host", timeout=10)
    already_running = subprocess.run(["docker", "version"], env={**os.environ, "DOCKER_HOST": host},
                                     capture_output=True, timeout=20, check=False).returncode == 0
    host = _script("docker-engine.sh", "start", timeout=90)
    try:
        yield Docker(host)
    finally:
        if not already_running:
            _script("docker-engine.sh", "stop", timeout=60)


@pytest.fixture(scope="session")
def base_images(docker: Docker) -> tuple[str, str]:
    _script("base-images.sh", timeout=1800, env=docker.env())
    return NODE_BUILD_BASE, RUNTIME_BASE


def git_revision() -> str:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "unknown"


def buildkit(docker: Docker) -> tuple[list[str], dict[str, str]]:
    """A BuildKit build command (what the Image component uses): `docker buildx build --load`
    when the plugin exists, else a CLI with the classic BuildKit client (DOCKER_BUILDKIT=1,
    e.g. Debian's /usr/bin/docker); the engine's legacy builder only as a last resort."""
    env = docker.env()
    if subprocess.run(["docker", "buildx", "version"], env=env, capture_output=True, check=False).returncode == 0:
        return ["docker", "buildx", "build", "--load"], env
    for cli in ("/usr/bin/docker", shutil.which("docker") or "docker"):
        probe = subprocess.run([cli, "build", "--help"], env={**env, "DOCKER_BUILDKIT": "1"},
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and "buildx component is missing" not in probe.stderr:
            return [cli, "build"], {**env, "DOCKER_BUILDKIT": "1"}
    return ["docker", "build"], env


def build_app(docker: Docker, bases: tuple[str, str], tag: str, *, dockerfile: Path | None = None,
              context: Path | None = None, target: str = "runtime") -> str:
    """Build the app with the local bases; returns the image tag. Build containers use the
    host network because the engine has no bridge (npm ci fetches from the registry)."""
    node_image, runtime_image = bases
    context = context or ROOT / "app"
    cmd, env = buildkit(docker)
    proc = subprocess.run(
        [*cmd, "--network", "host", "--target", target,
         "--build-arg", f"NODE_IMAGE={node_image}",
         "--build-arg", f"RUNTIME_IMAGE={runtime_image}",
         "--build-arg", f"REVISION={git_revision()}",
         "-f", str(dockerfile or context / "Dockerfile"),
         "-t", tag, str(context)],
        env=env, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        raise AssertionError(f"building {target} of {context} failed:\n{tail}")
    return tag


@pytest.fixture(scope="session")
def app_image(docker: Docker, base_images: tuple[str, str]) -> Iterator[str]:
    tag = build_app(docker, base_images, f"rampart-test/app:{uuid.uuid4().hex[:8]}")
    yield tag
    docker.run("rmi", "-f", tag, check=False)


def app_task_mount_paths() -> list[str]:
    """Where the app's task definition mounts task volumes: WebService's default writable_paths."""
    from rampart.components.web_service import WebServiceArgs

    factory = WebServiceArgs.model_fields["writable_paths"].default_factory
    assert factory is not None, "WebServiceArgs.writable_paths lost its default"
    return list(factory())  # type: ignore[call-arg]


def image_volumes(docker: Docker, image: str) -> set[str]:
    """The VOLUME paths in the built image's config."""
    config = json.loads(docker.run("image", "inspect", image).stdout)[0]["Config"]
    return set(config.get("Volumes") or {})


class FargateVolumes:
    """Task volumes mounted the way Fargate mounts them: a fresh Docker named volume per mount
    path. Where the image declares the path as a VOLUME, Docker copies the image's content, owner
    and mode into the empty volume, as Fargate does; where it does not, `volume-nocopy` leaves it an
    empty root-owned 0755 directory, as Fargate does. (Without volume-nocopy Docker would copy the
    image's directory into any named volume, declared or not, and hide the difference.)"""

    def __init__(self, docker: Docker, image: str, paths: list[str]) -> None:
        self.docker = docker
        declared = image_volumes(docker, image)
        self.names: list[str] = []
        self.flags: list[str] = []
        for path in paths:
            name = f"rampart-test-vol-{uuid.uuid4().hex[:10]}"
            docker.run("volume", "create", name)
            self.names.append(name)
            mount = f"type=volume,src={name},dst={path}"
            self.flags += ["--mount", mount if path in declared else mount + ",volume-nocopy"]

    def remove(self) -> None:
        for name in self.names:
            self.docker.run("volume", "rm", "-f", name, check=False)


class Container:
    """A running container; removed at teardown (with the task volumes it was given)."""

    def __init__(self, docker: Docker, image: str, *flags: str, volumes: FargateVolumes | None = None) -> None:
        self.docker = docker
        self.name = f"rampart-test-{uuid.uuid4().hex[:10]}"
        self.volumes = volumes
        docker.run("run", "-d", "--name", self.name, *(volumes.flags if volumes else ()), *flags, image)

    def exec(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.docker.run("exec", self.name, *cmd, check=check, timeout=30)

    def node(self, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.exec("/nodejs/bin/node", "-e", script, check=check)

    def inspect(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.docker.run("inspect", self.name).stdout)[0]  # type: ignore[no-any-return]

    def logs(self) -> str:
        return self.docker.run("logs", self.name).stdout

    def remove(self) -> None:
        self.docker.run("rm", "-f", "-v", self.name, check=False, timeout=60)
        if self.volumes is not None:
            self.volumes.remove()


HARDENED = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--network", "none")

def app_user() -> str:
    """The app container's `user` in the task definition: WebService's default."""
    from rampart.components.web_service import DEFAULT_USER

    return DEFAULT_USER


def run_app_as_on_fargate(docker: Docker, image: str) -> Container:
    """The app as its task runs it on Fargate: the task definition's user, read-only root, no
    capabilities, no privilege gain, and its task volumes mounted as Fargate mounts them."""
    volumes = FargateVolumes(docker, image, app_task_mount_paths())
    try:
        return Container(docker, image, *HARDENED, "--user", app_user(), "--health-interval", "1s",
                         "--health-start-period", "0s", volumes=volumes)
    except BaseException:
        volumes.remove()
        raise


@pytest.fixture
def container(docker: Docker, app_image: str) -> Iterator[Container]:
    c = run_app_as_on_fargate(docker, app_image)
    try:
        yield c
    finally:
        c.remove()
