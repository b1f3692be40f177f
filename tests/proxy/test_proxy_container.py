"""The proxy image built from proxy/ (through `rampart render-proxy`) on a real Docker engine, and
run the way its ECS task runs it on Fargate: the task definition's user, read-only root, no
capabilities, the TLS pair made by the image at start (or, for a stack that brings its own, given in
PROXY_TLS_CERT / PROXY_TLS_KEY), and exactly the sidecar's task
volumes (rampart/components/sidecar.py MOUNT_PATHS) mounted as Fargate mounts them: the image's content
and owner where the image declares the path as a VOLUME, else an empty root-owned 0755 directory.

Uses the image engineer's engine and base-image fixtures (tests/image/conftest.py). The proxy's
base is made at test time from their Debian base plus Debian's nginx and curl (never committed)."""

from __future__ import annotations

import errno
import io
import json
import re
import subprocess
import tarfile
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rampart.components.routing import HEALTH_CHECK_PATH
from rampart.components.sidecar import MOUNT_PATHS, PROXY_USER
from proxy_harness import make_tls_pair
from tests.image.conftest import (C_BUILD_BASE, NGINX_BASE, Docker, FargateVolumes, base_images,  # noqa: F401
                                  buildkit, docker)

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
TASK_MOUNT_PATHS = sorted(MOUNT_PATHS.values())
HARDENED = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--network", "none")


def build(docker: Docker, context: Path, tag: str, *build_args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd, env = buildkit(docker)
    args = [a for pair in build_args for a in ("--build-arg", pair)]
    proc = subprocess.run([*cmd, "--network", "host", *args, "-t", tag, str(context)], env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker build {context} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def nginx_base(base_images: tuple[str, str]) -> str:
    """Debian bookworm + nginx + curl (scripts/base-images.sh): stands in for NGINX_IMAGE."""
    return NGINX_BASE


def bases(nginx_base: str) -> tuple[str, str]:
    return f"NGINX_IMAGE={nginx_base}", f"BUILD_IMAGE={C_BUILD_BASE}"


def render_context(out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "rampart.cli", "render-proxy", "-C", str(ROOT), "--stack", "dev", "--service", "web",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out / "image"


@pytest.fixture(scope="module")
def proxy_image(docker: Docker, nginx_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context = render_context(tmp_path_factory.mktemp("proxy-ctx"))
    tag = f"rampart-test/proxy:{uuid.uuid4().hex[:8]}"
    build(docker, context, tag, *bases(nginx_base))
    yield tag
    docker.run("rmi", "-f", tag, check=False)


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("proxy-tls")
    cert, key = make_tls_pair(d)
    return cert.read_text(), key.read_text()


class ProxyTask:
    """One proxy container as its Fargate task runs it; `remove` drops it and its task volumes."""

    def __init__(self, docker: Docker, image: str, env: dict[str, str]) -> None:
        self.docker = docker
        self.name = f"rampart-test-proxy-{uuid.uuid4().hex[:10]}"
        self.volumes = FargateVolumes(docker, image, TASK_MOUNT_PATHS)
        env_flags = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        try:
            docker.run("run", "-d", "--name", self.name, *HARDENED, "--user", PROXY_USER, *self.volumes.flags,
                       "--health-interval", "1s", "--health-start-period", "0s", *env_flags, image)
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        self.docker.run("rm", "-f", "-v", self.name, check=False, timeout=60)
        self.volumes.remove()


def run(docker: Docker, image: str, env: dict[str, str]) -> ProxyTask:
    return ProxyTask(docker, image, env)


@pytest.fixture
def proxy_container(docker: Docker, proxy_image: str, tls_pair: tuple[str, str]) -> Iterator[str]:
    cert, key = tls_pair
    task = run(docker, proxy_image, {"PROXY_TLS_CERT": cert, "PROXY_TLS_KEY": key})
    try:
        yield task.name
    finally:
        task.remove()


def wait_stopped(docker: Docker, name: str, timeout: float = 20) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    state: dict = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        state = json.loads(docker.run("inspect", name).stdout)[0]["State"]
        if not state["Running"]:
            break
        time.sleep(0.2)
    return state


def wait_healthy(docker: Docker, name: str, timeout: float = 30) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    state: dict = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        state = json.loads(docker.run("inspect", name).stdout)[0]["State"]
        if state.get("Health", {}).get("Status") == "healthy" or not state.get("Running"):
            break
        time.sleep(0.3)
    return state


# The runtime image has no shell, coreutils or curl to `docker exec`: the tests look at the
# container from the host (this engine runs here, as root) through /proc/<pid> of its nginx, and
# send requests from a probe container (the nginx base, which has curl) in its network namespace.

def pid_of(docker: Docker, name: str) -> int:
    pid = int(json.loads(docker.run("inspect", name).stdout)[0]["State"]["Pid"])
    assert pid > 0, f"{name} is not running"
    return pid


def in_container(docker: Docker, name: str, path: str) -> Path:
    """`path` inside the running container, seen from the host (through its root and mounts)."""
    return Path(f"/proc/{pid_of(docker, name)}/root") / path.lstrip("/")


def curl(docker: Docker, name: str, nginx_base: str, *args: str) -> subprocess.CompletedProcess[str]:
    return docker.run("run", "--rm", "--network", f"container:{name}", "--entrypoint", "curl", nginx_base,
                      *args, check=False)


def test_runs_healthy_unprivileged_on_a_read_only_root_with_the_tasks_exact_volumes(
        docker: Docker, proxy_container: str, proxy_image: str) -> None:
    state = wait_healthy(docker, proxy_container)
    assert state["Running"] and state["Health"]["Status"] == "healthy", json.dumps(state, indent=1)
    info = json.loads(docker.run("inspect", proxy_container).stdout)[0]
    assert info["HostConfig"]["ReadonlyRootfs"] is True and info["Config"]["User"] == PROXY_USER
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert sorted(mounts) == TASK_MOUNT_PATHS, f"mounted {sorted(mounts)}, the task mounts {TASK_MOUNT_PATHS}"
    assert all(m["Type"] == "volume" and m["RW"] for m in mounts.values()), mounts
    declared = json.loads(docker.run("image", "inspect", proxy_image).stdout)[0]["Config"]["Volumes"] or {}
    assert sorted(declared) == TASK_MOUNT_PATHS, "the image declares exactly the task's mount paths as VOLUMEs"
    status = Path(f"/proc/{pid_of(docker, proxy_container)}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == ["10101"] * 4, uid_line
    owners = {p: in_container(docker, proxy_container, p).stat() for p in TASK_MOUNT_PATHS}
    assert {p: (st.st_uid, oct(st.st_mode & 0o7777)) for p, st in owners.items()} == \
        {p: (10101, "0o700") for p in TASK_MOUNT_PATHS}, "the volumes carry the image's owner and mode"
    with pytest.raises(OSError) as refused:
        in_container(docker, proxy_container, "/etc/x").write_text("x")
    assert refused.value.errno == errno.EROFS, refused.value


def test_without_volume_declarations_the_sidecar_cannot_start_on_fargate(
        docker: Docker, nginx_base: str, tls_pair: tuple[str, str], tmp_path: Path) -> None:
    """The shipped Dockerfile minus its VOLUME lines: Fargate mounts /run/proxy and
    /var/cache/proxy as empty root-owned 0755 directories, so user 10101 cannot create the TLS
    directory and the container stops (the task would never become healthy)."""
    context = render_context(tmp_path / "out")
    dockerfile = context / "Dockerfile"
    text = dockerfile.read_text()
    stripped = [line for line in text.splitlines() if not line.startswith("VOLUME ")]
    assert len(stripped) < len(text.splitlines()), "proxy/Dockerfile has no VOLUME line to strip"
    dockerfile.write_text("\n".join(stripped) + "\n")
    tag = f"rampart-test/proxy-no-volume:{uuid.uuid4().hex[:8]}"
    build(docker, context, tag, *bases(nginx_base))
    cert, key = tls_pair
    task = run(docker, tag, {"PROXY_TLS_CERT": cert, "PROXY_TLS_KEY": key})
    try:
        state = wait_stopped(docker, task.name)
        logs = docker.run("logs", task.name)
        assert not state["Running"] and state["ExitCode"] != 0, json.dumps(state, indent=1)
        assert "Permission denied" in logs.stderr, logs.stderr
    finally:
        task.remove()
        docker.run("rmi", "-f", tag, check=False)


def test_serves_tls_with_security_headers_and_json_logs(docker: Docker, proxy_container: str, nginx_base: str) -> None:
    wait_healthy(docker, proxy_container)
    out = curl(docker, proxy_container, nginx_base, "-sk", "--http2", "-D", "-", "-o", "/dev/null",
               "https://127.0.0.1:8443/").stdout.lower()
    assert out.startswith("http/2 502"), out  # no app in this container: the upstream is down
    for header in ("strict-transport-security", "content-security-policy", "x-frame-options", "x-request-id"):
        assert f"\n{header}:" in out, f"{header} missing on the 502:\n{out}"
    assert "\nserver: nginx\n" in out, "the Server header must carry no version"
    time.sleep(1.2)  # the access log is buffered, flushed every second
    logs = docker.run("logs", proxy_container).stdout
    line = next(json.loads(x) for x in logs.splitlines() if x.startswith("{") and '"path":"/"' in x)
    assert line["status"] == 502 and line["tls"] == "TLSv1.3" and line["protocol"] == "HTTP/2.0"


def test_secrets_live_only_on_the_task_volume(docker: Docker, proxy_container: str, proxy_image: str,
                                              tls_pair: tuple[str, str]) -> None:
    wait_healthy(docker, proxy_container)
    key_line = tls_pair[1].splitlines()[1]
    # That the entrypoint drops the variables before exec is tested in test_proxy_image.py with a
    # fake nginx: here /proc/1/environ proves nothing, nginx overwrites that memory for its title.
    for name in ("key.pem", "cert.pem"):
        st = in_container(docker, proxy_container, f"/run/proxy/tls/{name}").stat()
        assert (oct(st.st_mode & 0o777), st.st_uid) == ("0o600", 10101), name
    # /run/proxy is the task volume (its own mount, not the image's read-only root)
    mounts = Path(f"/proc/{pid_of(docker, proxy_container)}/mounts").read_text()
    assert any(m.split()[1] == "/run/proxy" for m in mounts.splitlines()), mounts
    saved = subprocess.run(["docker", "save", proxy_image], env=docker.env(), capture_output=True, timeout=300).stdout
    assert key_line.encode() not in saved, "the private key is in an image layer"
    exported = subprocess.run(["docker", "export", proxy_container], env=docker.env(), capture_output=True, timeout=300).stdout
    assert key_line.encode() not in exported, "the private key is in the container's filesystem layer"


def test_refuses_to_start_with_half_a_brought_pair(docker: Docker, proxy_image: str) -> None:
    task = run(docker, proxy_image, {"PROXY_TLS_CERT": "x"})
    try:
        state = wait_stopped(docker, task.name)
        assert not state["Running"] and state["ExitCode"] == 64
        assert "PROXY_TLS_KEY" in docker.run("logs", task.name).stderr
    finally:
        task.remove()


# --- the default: the image makes its own pair at start (what every task runs unless the stack
# brings a certificate); the task definition gives it only the name and lifetime ------------------

MADE_ENV = {"PROXY_TLS_COMMON_NAME": "proxy.internal", "PROXY_TLS_VALIDITY_DAYS": "365"}
TLS_CHECK_PATH = "/tls-check"  # logged (/healthz is not)


@pytest.fixture
def made_task(docker: Docker, proxy_image: str) -> Iterator[ProxyTask]:
    task = run(docker, proxy_image, MADE_ENV)
    try:
        yield task
    finally:
        task.remove()


def served_certificate(docker: Docker, name: str, nginx_base: str, *tls: str) -> str:
    """The PEM certificate the sidecar presents, as an ALB-style client (no verification) sees it."""
    done = curl(docker, name, nginx_base, "-sk", *tls, "-o", "/dev/null", "-w", "%{http_code}\n%{certs}",
                f"https://127.0.0.1:8443{TLS_CHECK_PATH}")
    assert done.returncode == 0, (done.returncode, done.stderr)
    status, _, certs = done.stdout.partition("\n")
    assert status == "502", done.stdout  # served by nginx over TLS; no app behind it in this test
    return certs


def pem_body(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    begin = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN"))
    end = next(i for i, line in enumerate(lines) if line.startswith("-----END") and i > begin)
    return "".join(lines[begin + 1:end])


def test_made_pair_serves_tls_12_and_13_to_an_alb_style_client_with_its_own_key(
        docker: Docker, made_task: ProxyTask, nginx_base: str) -> None:
    state = wait_healthy(docker, made_task.name)
    assert state["Running"] and state["Health"]["Status"] == "healthy", json.dumps(state, indent=1)
    on_volume = in_container(docker, made_task.name, "/run/proxy/tls/cert.pem").read_text()
    for tls in (("--tlsv1.2", "--tls-max", "1.2"), ("--tlsv1.3", "--tls-max", "1.3")):
        served = served_certificate(docker, made_task.name, nginx_base, *tls)
        assert pem_body(served) == pem_body(on_volume), f"{tls}: the served certificate is not the one made at start"
    time.sleep(1.2)  # the access log is flushed every second
    versions = {json.loads(x)["tls"] for x in docker.run("logs", made_task.name).stdout.splitlines()
                if x.startswith("{") and f'"path":"{TLS_CHECK_PATH}"' in x}
    assert {"TLSv1.2", "TLSv1.3"} <= versions, versions


def test_made_pair_fails_a_strict_client_and_only_for_want_of_trust(
        docker: Docker, made_task: ProxyTask, nginx_base: str, tmp_path: Path) -> None:
    """A client that verifies (the default for curl) refuses the self-signed certificate: exit 60.
    Given that very certificate as its trust anchor and the certificate's name, the same client
    succeeds: the certificate is well formed, only nobody vouches for it (the ALB never asks)."""
    wait_healthy(docker, made_task.name)
    strict = curl(docker, made_task.name, nginx_base, "-s", "-o", "/dev/null", f"https://127.0.0.1:8443{HEALTH_CHECK_PATH}")
    assert strict.returncode == 60, (strict.returncode, strict.stderr)
    cert = in_container(docker, made_task.name, "/run/proxy/tls/cert.pem").read_text()
    anchor = tmp_path / "anchor"
    anchor.mkdir()
    (anchor / "proxy.pem").write_text(cert)
    pinned = docker.run("run", "--rm", "--network", f"container:{made_task.name}", "-v", f"{anchor}:/anchor:ro",
                        "--entrypoint", "curl", nginx_base, "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "--cacert", "/anchor/proxy.pem", "--resolve", "proxy.internal:8443:127.0.0.1",
                        f"https://proxy.internal:8443{HEALTH_CHECK_PATH}", check=False)
    assert (pinned.returncode, pinned.stdout) == (0, "200"), (pinned.returncode, pinned.stdout, pinned.stderr)


def test_made_key_is_0600_on_the_task_volume_and_nowhere_else(
        docker: Docker, made_task: ProxyTask, proxy_image: str) -> None:
    wait_healthy(docker, made_task.name)
    tls_dir = in_container(docker, made_task.name, "/run/proxy/tls")
    assert (oct(tls_dir.stat().st_mode & 0o777), tls_dir.stat().st_uid) == ("0o700", 10101)
    for name in ("key.pem", "cert.pem"):
        st = (tls_dir / name).stat()
        assert (oct(st.st_mode & 0o777), st.st_uid) == ("0o600", 10101), name
    key_line = (tls_dir / "key.pem").read_text().splitlines()[1]
    logs = docker.run("logs", made_task.name)
    assert key_line not in logs.stdout + logs.stderr and "PRIVATE KEY" not in logs.stdout + logs.stderr
    assert "made a self-signed EC P-256 certificate for proxy.internal, valid 365 days" in logs.stderr, logs.stderr
    saved = subprocess.run(["docker", "save", proxy_image], env=docker.env(), capture_output=True, timeout=300).stdout
    assert key_line.encode() not in saved, "the private key is in an image layer"
    # nor any other key: a PEM private key block (the bare words are in OpenSSL's own strings)
    assert not re.search(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40}", saved), "the image carries a private key"
    exported = subprocess.run(["docker", "export", made_task.name], env=docker.env(), capture_output=True, timeout=300).stdout
    assert key_line.encode() not in exported, "the private key is in the container's filesystem layer"


def test_every_start_makes_a_new_key(docker: Docker, made_task: ProxyTask, proxy_image: str) -> None:
    """A restarted container (same task volume) and a new task (a fresh volume) each get a new key."""
    wait_healthy(docker, made_task.name)
    first = in_container(docker, made_task.name, "/run/proxy/tls/key.pem").read_text()
    docker.run("restart", "--time", "10", made_task.name, timeout=60)
    wait_healthy(docker, made_task.name)
    restarted = in_container(docker, made_task.name, "/run/proxy/tls/key.pem").read_text()
    assert restarted != first, "a restart kept the key"
    other = run(docker, proxy_image, MADE_ENV)
    try:
        wait_healthy(docker, other.name)
        fresh = in_container(docker, other.name, "/run/proxy/tls/key.pem").read_text()
    finally:
        other.remove()
    assert fresh not in (first, restarted), "a new task reused a key"


def test_a_broken_config_fails_the_build(docker: Docker, nginx_base: str, tmp_path: Path) -> None:
    context = render_context(tmp_path / "out")
    conf = context / "nginx.conf"
    conf.write_text(conf.read_text().replace("limit_req_status 429;", "limit_req_status 429;\n    no_such_directive on;"))
    done = build(docker, context, f"rampart-test/proxy-broken:{uuid.uuid4().hex[:8]}", *bases(nginx_base),
                 check=False)
    assert done.returncode != 0, "a config nginx -t rejects must fail the image build"
    assert "no_such_directive" in done.stdout + done.stderr


def exported_members(docker: Docker, image: str) -> list[tarfile.TarInfo]:
    name = docker.run("create", image).stdout.strip()
    try:
        tar_bytes = subprocess.run(["docker", "export", name], env=docker.env(), capture_output=True,
                                   check=True, timeout=120).stdout
    finally:
        docker.run("rm", "-f", "-v", name, check=False)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        return tar.getmembers()


def test_runtime_image_is_bare(docker: Docker, proxy_image: str) -> None:
    """No shell, package manager, perl, curl or compiler: nginx, its libraries, the config, the
    users and the static helper (the same kind of check as the app image's)."""
    members = exported_members(docker, proxy_image)
    basenames = {m.name.rsplit("/", 1)[-1] for m in members if not m.isdir()}
    forbidden = {
        "shell": {"sh", "bash", "dash", "busybox", "ash", "zsh"},
        "apt/dpkg": {"apt", "apt-get", "dpkg", "apt-cache", "apk"},
        "perl": {"perl", "perl5"},
        "curl/wget": {"curl", "wget", "libcurl.so.4"},
        "compiler": {"gcc", "cc", "c++", "g++", "clang", "tcc", "as", "ld", "make", "cc1"},
        "coreutils": {"ls", "cat", "cp", "mkdir", "chmod", "env", "id", "stat", "touch"},
        "sudo/su": {"sudo", "su"},
    }
    found = {kind: sorted(basenames & tools) for kind, tools in forbidden.items() if basenames & tools}
    assert not found, f"runtime image contains {found}"
    # (docker export adds empty stubs: /.dockerenv, /etc/hosts, ...)
    programs = sorted("/" + m.name.lstrip("./") for m in members
                      if m.isfile() and m.size > 0 and m.mode & 0o111 and ".so" not in m.name)
    assert programs == ["/usr/local/bin/proxy-entrypoint", "/usr/sbin/nginx"], programs
    names = {"/" + m.name.lstrip("./"): m for m in members}
    assert names["/usr/local/bin/proxy-healthcheck"].issym()
    passwd = next(m for m in members if m.name.lstrip("./") == "etc/passwd")
    assert passwd.size < 200, "passwd holds root and the runtime user only"
    for tool in ("sh", "/bin/sh", "bash", "apt-get", "curl"):
        done = docker.run("run", "--rm", "--entrypoint", tool, proxy_image, check=False)
        said = (done.stdout + done.stderr).lower()
        assert done.returncode == 127 and ("no such file or directory" in said or "not found in $path" in said), \
            f"--entrypoint {tool}: {done.returncode} {done.stderr}"


def test_healthcheck_fails_when_nginx_does_not_answer(docker: Docker, proxy_container: str) -> None:
    """The image's health check is a real probe: pointed at a port nothing listens on, it fails."""
    wait_healthy(docker, proxy_container)
    ok = docker.run("exec", proxy_container, "/usr/local/bin/proxy-healthcheck", check=False)
    bad = docker.run("exec", proxy_container, "/usr/local/bin/proxy-healthcheck", "8444", check=False)
    assert ok.returncode == 0, ok.stderr
    assert bad.returncode == 1 and "proxy-healthcheck:" in bad.stderr, (bad.returncode, bad.stderr)


def test_sigquit_drains_and_exits_cleanly(docker: Docker, proxy_container: str, nginx_base: str) -> None:
    """STOPSIGNAL SIGQUIT reaches nginx itself (the helper execs it as PID 1): graceful shutdown."""
    wait_healthy(docker, proxy_container)
    t0 = time.monotonic()
    docker.run("stop", "--time", "10", proxy_container, timeout=30)
    elapsed = time.monotonic() - t0
    state = json.loads(docker.run("inspect", proxy_container).stdout)[0]["State"]
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']} (137: killed after the timeout)"
    config = json.loads(docker.run("inspect", proxy_container).stdout)[0]["Config"]
    assert config["StopSignal"] == "SIGQUIT", "nginx drains open requests on SIGQUIT (SIGTERM cuts them)"
    assert elapsed < 10, f"docker stop took {elapsed:.1f} s"
