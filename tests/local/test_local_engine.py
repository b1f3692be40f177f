"""`rampart local` on a real engine: the private dockerd and base images of the image tests
(tests/image/conftest.py). The engine has no default bridge (`--bridge=none`); a user-defined
bridge network per stack works on it, with ports published on 127.0.0.1 by the userland proxy,
which is how the edge is reached here and on a developer's machine alike."""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.image.conftest import C_BUILD_BASE, NGINX_BASE, NODE_BUILD_BASE, RUNTIME_BASE, Docker, base_images, docker  # noqa: F401

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
STACK = "localtest"
#: Containers are named by project (Rampart's own: `rampart`) and stack.
PREFIX = f"rampart-rampart-{STACK}"
SECRET = "local-secret-7f3a9c2e-never-logged"
HTTPS_PORT = 18443
HTTP_PORT = 18080
BUILD_ARGS = [f"--build-arg=NODE_IMAGE={NODE_BUILD_BASE}", f"--build-arg=RUNTIME_IMAGE={RUNTIME_BASE}",
              f"--build-arg=NGINX_IMAGE={NGINX_BASE}", f"--build-arg=BUILD_IMAGE={C_BUILD_BASE}"]


def rampart(docker: Docker, project: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**docker.env(), "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "policy" / "soc2")])}
    return subprocess.run([sys.executable, "-m", "rampart", *args, "-C", str(project)], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def get(path: str, host: str = "localhost") -> tuple[int, dict[str, str], str]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(f"https://127.0.0.1:{HTTPS_PORT}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


@pytest.fixture(scope="module")
def project(docker: Docker, base_images: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:  # noqa: F811
    """A copy of the project with a test stack: the dev stack plus one app secret from the local file."""
    import shutil

    dest = tmp_path_factory.mktemp("local") / "project"
    dest.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("app", "proxy", "stacks"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("node_modules", "dist", "__pycache__"))
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    stack["config"]["rampart:services"]["web"]["routing"]["hosts"] = ["localhost"]
    stack["config"]["rampart:services"]["web"]["secrets"] = {
        "GREETING_TOKEN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:greeting-AbCdEf"}
    stack["config"]["rampart:services"]["web"]["secretKmsKeyArns"] = {
        "GREETING_TOKEN": "arn:aws:kms:eu-west-1:123456789012:key/0d9f8e7c-1111-2222-3333-444455556666"}
    (dest / "stacks" / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump(stack))
    secrets = dest / ".rampart" / "local" / f"{STACK}.env"
    secrets.parent.mkdir(parents=True)
    secrets.write_text(f"GREETING_TOKEN={SECRET}\n")
    secrets.chmod(0o600)
    up = rampart(docker, dest, "local", "up", "--stack", STACK, *BUILD_ARGS, f"--https-port={HTTPS_PORT}",
                 f"--http-port={HTTP_PORT}")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert SECRET not in up.stdout + up.stderr
        yield dest
    finally:
        rampart(docker, dest, "local", "down", "--stack", STACK, timeout=120)


def labelled(docker: Docker, kind: str) -> list[str]:
    return docker.run(kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter",
                      f"label=rampart.local.stack={STACK}").stdout.split()


def test_each_service_answers_on_its_route_through_the_edge_and_sidecar(project: Path) -> None:
    status, headers, body = get("/api/v1/info")
    assert status == 200, body
    assert headers.get("Strict-Transport-Security", "").startswith("max-age=")
    assert headers.get("X-Content-Type-Options") == "nosniff"
    # the sidecar's request id is the trace id the edge added, as behind the ALB
    assert re.fullmatch(r"1-[0-9a-f]{8}-[0-9a-f]{24}", headers.get("X-Request-ID", "")), headers
    status, _, body = get("/healthz")
    assert status == 200 and body.strip() == "ok"


def test_a_burst_gets_429(project: Path) -> None:
    """More requests at once than the sidecar's default zone allows (its burst plus a second's rate),
    on kept-alive connections as a browser or load generator would send them."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    from rampart.components.proxy_config import ProxyConfig

    (zone,) = ProxyConfig().rate_limit.zones
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def client(requests: int) -> list[int]:
        connection = http.client.HTTPSConnection("127.0.0.1", HTTPS_PORT, context=context, timeout=10)
        codes = []
        for _ in range(requests):
            connection.request("GET", "/api/v1/info", headers={"Host": "localhost"})
            response = connection.getresponse()
            response.read()
            codes.append(response.status)
        connection.close()
        return codes

    workers = 8
    per_worker = 2 * (zone.burst + zone.rate_per_second) // workers
    with ThreadPoolExecutor(max_workers=workers) as pool:
        codes = [code for batch in pool.map(client, [per_worker] * workers) for code in batch]
    assert 429 in codes and 200 in codes, sorted(set(codes))


def test_unrouted_request_gets_404_from_the_edge(docker: Docker, project: Path) -> None:
    """The test stack routes web only for Host localhost: another host matches no listener rule."""
    status, _, body = get("/", host="unrouted.example")
    assert status == 404
    edge_log = docker.run("logs", f"{PREFIX}-edge-edge").stdout.splitlines()
    (line,) = [json.loads(x) for x in edge_log if '"host":"unrouted.example"' in x]
    assert line["status"] == 404 and line["target"] == "" and line["upstream_status"] == ""


def test_http_redirects_to_https(project: Path) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)
    connection.request("GET", "/api/v1/info?x=1", headers={"Host": "localhost"})
    response = connection.getresponse()
    assert response.status == 308
    assert response.getheader("Location") == f"https://localhost:{HTTPS_PORT}/api/v1/info?x=1"


def test_the_secret_reaches_the_app_and_no_output(docker: Docker, project: Path) -> None:
    app = f"{PREFIX}-web-app"
    seen = docker.run("exec", app, "/nodejs/bin/node", "-e",
                      "process.stdout.write(String(process.env.GREETING_TOKEN === process.argv[1]))", SECRET).stdout
    assert seen == "true"
    status = rampart(docker, project, "local", "status", "--stack", STACK)
    logs = rampart(docker, project, "local", "logs", "--stack", STACK)
    assert status.returncode == 0 and logs.returncode == 0
    assert SECRET not in status.stdout + status.stderr + logs.stdout + logs.stderr


def test_status_shows_every_task_healthy_and_the_routes(docker: Docker, project: Path) -> None:
    out = rampart(docker, project, "local", "status", "--stack", STACK).stdout
    assert "task web: RUNNING" in out and "task api: RUNNING" in out
    assert out.count(" healthy ") == 4, out
    assert "paths /api/*  -> api over HTTPS" in out
    # web's /admin/* access entry: its allow-list rule and its 403 rule read apart
    (allow,) = [line for line in out.splitlines() if "paths /admin/*  from " in line]
    (deny,) = [line for line in out.splitlines() if "paths /admin/*  -> answered 403 by the edge" in line]
    assert "-> web over HTTPS" in allow, allow
    assert "web: HTTPS GET /healthz on" in out and "-> 200 (healthy; matcher 200)" in out
    assert out.count("web: HTTPS GET") == 1, "one health line per target group, not per listener rule"


def test_containers_run_with_the_task_definitions_settings(docker: Docker, project: Path) -> None:
    app, proxy = (json.loads(docker.run("inspect", f"{PREFIX}-web-{n}").stdout)[0] for n in ("app", "proxy"))
    for c, user, memory in ((app, "65532:65532", 384), (proxy, "10101:10101", 128)):
        host = c["HostConfig"]
        assert c["Config"]["User"] == user
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert host["Privileged"] is False and host["Init"] is True
        assert host["Memory"] == memory * 1024 * 1024
        assert c["State"]["Health"]["Status"] == "healthy"
    # one network namespace per task: the proxy joins the app's (awsvpc: it reaches the app on 127.0.0.1)
    assert proxy["HostConfig"]["NetworkMode"] == f"container:{app['Id']}"
    assert proxy["Config"]["Healthcheck"]["Interval"] == 10 * 1_000_000_000
    # /tmp is declared by the app image (VOLUME): its mode is copied into the task volume, so the
    # app's user can write there (an undeclared path would be root's 0755)
    written = docker.run("exec", f"{PREFIX}-web-app", "/nodejs/bin/node", "-e",
                         "const fs=require('fs');fs.writeFileSync('/tmp/x','1');"
                         "process.stdout.write((fs.statSync('/tmp').mode & 0o7777).toString(8))").stdout
    assert written == "1777"
    mounts = {m["Destination"]: m for m in proxy["Mounts"]}
    assert set(mounts) == {"/run/proxy", "/var/cache/proxy"} and all(m["Type"] == "volume" for m in mounts.values())


def test_killing_an_essential_container_stops_its_task(docker: Docker, project: Path) -> None:
    docker.run("kill", f"{PREFIX}-api-app")
    out = rampart(docker, project, "local", "status", "--stack", STACK).stdout
    assert "task api: STOPPED: essential container 'app' exited" in out, out
    assert "task web: RUNNING" in out
    proxy_state = docker.run("inspect", "-f", "{{.State.Status}}", f"{PREFIX}-api-proxy").stdout.strip()
    assert proxy_state == "exited"
    # a second `up` replaces only what changed: the stopped task comes back, web is left alone
    web_id = docker.run("inspect", "-f", "{{.Id}}", f"{PREFIX}-web-app").stdout.strip()
    up = rampart(docker, project, "local", "up", "--stack", STACK, *BUILD_ARGS, f"--https-port={HTTPS_PORT}",
                 f"--http-port={HTTP_PORT}")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "web: unchanged" in up.stdout
    assert docker.run("inspect", "-f", "{{.Id}}", f"{PREFIX}-web-app").stdout.strip() == web_id


def test_z_down_leaves_nothing_with_rampart_labels(docker: Docker, project: Path) -> None:
    down = rampart(docker, project, "local", "down", "--stack", STACK, timeout=120)
    assert down.returncode == 0, down.stderr
    for kind in ("container", "volume", "network"):
        assert labelled(docker, kind) == [], kind
