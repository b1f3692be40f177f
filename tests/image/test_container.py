"""The real app image, built from app/Dockerfile on local bases, running in a real engine."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

from tests.image.conftest import (ROOT, Container, Docker, app_task_mount_paths, build_app, git_revision,
                                  run_app_as_on_fargate)

FETCH = (
    "fetch('http://127.0.0.1:8080' + process.argv[1])"
    ".then(async r => console.log(JSON.stringify({status: r.status, body: await r.json()})))"
    ".catch(e => { console.error(e); process.exit(1); })"
)


def wait_listening(c: Container, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if '"msg":"listening"' in c.logs():
            return
        time.sleep(0.2)
    raise AssertionError(f"container {c.name} never logged 'listening':\n{c.logs()}")


def get(c: Container, path: str) -> dict:  # type: ignore[type-arg]
    out = c.exec("/nodejs/bin/node", "-e", FETCH, path).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_healthz_answers_inside_the_hardened_container(container: Container) -> None:
    wait_listening(container)
    assert get(container, "/healthz") == {"status": 200, "body": {"status": "ok"}}
    assert get(container, "/api/v1/greeting?name=Ada") == {"status": 200, "body": {"message": "Hello, Ada!"}}
    host = container.inspect()["HostConfig"]
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]


def test_image_healthcheck_reports_healthy(container: Container) -> None:
    deadline = time.monotonic() + 30
    state: dict = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        state = container.inspect()["State"]
        if state.get("Health", {}).get("Status") == "healthy":
            break
        time.sleep(0.5)
    assert state["Health"]["Status"] == "healthy", json.dumps(state.get("Health"), indent=1)
    config = container.inspect()["Config"]["Healthcheck"]
    assert config["Test"][0] == "CMD", "HEALTHCHECK must be exec form (no shell in the image)"


def test_runs_as_non_root(container: Container, docker: Docker, app_image: str) -> None:
    wait_listening(container)
    image = json.loads(docker.run("image", "inspect", app_image).stdout)[0]
    assert image["Config"]["User"] == "65532:65532"
    ids = json.loads(container.node(
        "console.log(JSON.stringify([process.getuid(), process.getgid(), process.geteuid()]))").stdout)
    assert ids == [65532, 65532, 65532]
    status = container.exec("/nodejs/bin/node", "-e", "process.stdout.write(require('fs').readFileSync('/proc/1/status','utf8'))").stdout
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == ["65532"] * 4, uid_line
    cap_eff = next(line for line in status.splitlines() if line.startswith("CapEff:"))
    assert int(cap_eff.split()[1], 16) == 0, cap_eff


WRITE_PROBE = (
    "const fs=require('fs'); const r={};"
    "for (const p of ['/app/dist/x', '/tmp/x', '/home/nonroot/x']) {"
    " try { fs.writeFileSync(p, 'x'); r[p]='written'; } catch (e) { r[p]=e.code; } }"
    "const s=fs.statSync('/tmp'); r.tmp=[s.uid, s.gid, (s.mode & 0o7777).toString(8)];"
    "console.log(JSON.stringify(r))"
)


def test_root_filesystem_is_read_only_and_only_the_task_volume_is_writable(container: Container) -> None:
    """The app runs read-only as the task's user with its task volumes (/tmp) mounted as Fargate
    mounts them: the image declares /tmp, so the volume carries the image's owner and mode."""
    wait_listening(container)
    assert app_task_mount_paths() == ["/tmp"]
    mounts = {m["Destination"]: m for m in container.inspect()["Mounts"]}
    assert sorted(mounts) == ["/tmp"] and mounts["/tmp"]["Type"] == "volume", mounts
    probe = json.loads(container.node(WRITE_PROBE).stdout)
    assert probe == {"/app/dist/x": "EROFS", "/tmp/x": "written", "/home/nonroot/x": "EROFS",
                     "tmp": [65532, 65532, "1777"]}, probe


def test_without_the_volume_declaration_tmp_is_not_writable_on_fargate(
        docker: Docker, base_images: tuple[str, str], tmp_path: Path) -> None:
    """The same app image minus its `VOLUME ["/tmp"]`: Fargate mounts /tmp as an empty root-owned
    0755 directory, and the app's user cannot write to it (what the VOLUME line fixes)."""
    text = (ROOT / "app" / "Dockerfile").read_text()
    stripped = [line for line in text.splitlines() if not line.startswith("VOLUME ")]
    assert len(stripped) < len(text.splitlines()), "app/Dockerfile has no VOLUME line to strip"
    dockerfile = tmp_path / "Dockerfile.no-volume"
    dockerfile.write_text("\n".join(stripped) + "\n")
    tag = build_app(docker, base_images, f"rampart-test/app-no-volume:{uuid.uuid4().hex[:8]}", dockerfile=dockerfile)
    c = run_app_as_on_fargate(docker, tag)
    try:
        wait_listening(c)
        probe = json.loads(c.node(WRITE_PROBE).stdout)
        assert probe["/tmp/x"] == "EACCES" and probe["tmp"] == [0, 0, "755"], probe
    finally:
        c.remove()
        docker.run("rmi", "-f", tag, check=False)


def test_final_image_has_no_compiler_package_manager_or_shell(docker: Docker, app_image: str) -> None:
    name = docker.run("create", app_image).stdout.strip()
    try:
        # the container filesystem as a tar, read in binary mode
        tar_bytes = subprocess.run(["docker", "export", name], env=docker.env(), capture_output=True,
                                   check=True, timeout=120).stdout
    finally:
        docker.run("rm", "-f", "-v", name, check=False)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        members = tar.getmembers()
    names = {"/" + m.name.lstrip("./") for m in members}
    # programs are files or links (directories such as /usr/lib/gcc are not tools)
    basenames = {m.name.rsplit("/", 1)[-1] for m in members if not m.isdir()}
    forbidden = {
        "compiler": {"gcc", "cc", "c++", "g++", "clang", "tcc", "as", "ld", "make", "cc1"},
        "npm": {"npm", "npx", "npm-cli.js", "corepack", "yarn", "pnpm"},
        "apt/dpkg": {"apt", "apt-get", "dpkg", "apt-cache"},
        "apk": {"apk"},
        "shell": {"sh", "bash", "dash", "busybox", "ash", "zsh"},
        "sudo/su": {"sudo", "su"},
    }
    found = {kind: sorted(basenames & tools) for kind, tools in forbidden.items() if basenames & tools}
    assert not found, f"final image contains {found}"
    assert not any("/node_modules/npm/" in n for n in names), "npm's own package is in the image"
    assert "/app/dist/main.js" in names and "/app/dist/healthcheck.js" in names
    assert not any(n.startswith("/app/src/") or n.startswith("/app/test/") for n in names), \
        "sources and tests must stay in the build stage"
    assert not any(n.startswith("/app/node_modules/typescript") for n in names), "dev dependencies leaked"


def test_sigterm_stops_it_cleanly_within_10_seconds(container: Container) -> None:
    wait_listening(container)
    t0 = time.monotonic()
    container.docker.run("stop", "--time", "10", container.name, timeout=30)
    elapsed = time.monotonic() - t0
    state = container.inspect()["State"]
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']} (137 means SIGKILL after the timeout)"
    assert elapsed < 10, f"docker stop took {elapsed:.1f} s"
    records = [json.loads(line) for line in container.logs().splitlines() if line.strip()]
    assert [r["msg"] for r in records][-2:] == ["shutting down", "stopped"]
    assert records[-2]["signal"] == "SIGTERM"


def test_logs_are_json_lines(container: Container) -> None:
    wait_listening(container)
    get(container, "/api/v1/info")
    get(container, "/nope")
    records = [json.loads(line) for line in container.logs().splitlines() if line.strip()]
    requests = [r for r in records if r["msg"] == "request"]
    assert [(r["path"], r["status"]) for r in requests] == [("/api/v1/info", 200), ("/nope", 404)]
    assert all({"time", "level", "msg"} <= r.keys() for r in records)


def test_oci_labels(docker: Docker, app_image: str) -> None:
    labels = json.loads(docker.run("image", "inspect", app_image).stdout)[0]["Config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == git_revision()
    assert labels["org.opencontainers.image.source"].startswith("https://")


def test_type_check_stage_passes(docker: Docker, base_images: tuple[str, str]) -> None:
    """The `check` stage (tsc --noEmit) is off the runtime path; CI builds it explicitly."""
    from tests.image.conftest import build_app

    tag = build_app(docker, base_images, "rampart-test/app-check:latest-run", target="check")
    docker.run("rmi", "-f", tag, check=False)
