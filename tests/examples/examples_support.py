"""Running an example as its team does: a copy of its directory (the program, stack file, app
source and Dockerfile, nothing else of this repository), commands from the installed wheel's
`rampart` in that directory, and what the plan registered read back from `rampart plan --json`."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from installed_wheel import Installed
from tests.image.conftest import Docker

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def example_copy(name: str, dest: Path, *, stack: str | None = None) -> Path:
    """A copy of examples/NAME in `dest` (links followed, as a team's checkout holds real files).
    `stack` also gives its dev stack file that name: a stack of its own on a shared engine."""
    project = dest / name
    shutil.copytree(EXAMPLES / name, project, ignore=shutil.ignore_patterns(".rampart", "node_modules", "__pycache__"))
    if stack is not None:
        for stack_file in project.rglob("Pulumi.dev.yaml"):
            shutil.copy2(stack_file, stack_file.with_name(f"Pulumi.{stack}.yaml"))
    return project


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The command's stdout, after asserting it exited 0 (the message shows everything it printed)."""
    assert result.returncode == 0, f"`{shlex.join(map(str, result.args))}` exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def plan_json(installed: Installed, project: Path, stack: str, *extra: str) -> list[dict[str, Any]]:
    """The resources `rampart plan --json` writes for the stack."""
    out = project / ".plan.json"
    ok(installed.run("plan", "--stack", stack, "--json", str(out), *extra, cwd=project))
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def of_type(resources: list[dict[str, Any]], type_: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by name."""
    return {r["name"]: r for r in resources if r["type"] == type_}


def containers(task_definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A planned task definition's container definitions, by container name."""
    raw = task_definition["inputs"]["containerDefinitions"]
    return {c["name"]: c for c in (json.loads(raw) if isinstance(raw, str) else raw)}


def dockerfile_healthcheck(dockerfile: Path) -> list[str]:
    """The `HEALTHCHECK ... CMD [...]` of a Dockerfile (exec form), as a task definition writes it."""
    text = dockerfile.read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$", text, re.MULTILINE)
    assert match, f"{dockerfile} has no exec-form HEALTHCHECK"
    return ["CMD", *json.loads(match.group(1))]


def summary_rows(check_stdout: str) -> dict[str, str]:
    """`rampart check`'s summary table: policy -> its outcome column."""
    rows: dict[str, str] = {}
    for line in check_stdout.splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) >= 2 and re.fullmatch(r"[a-z0-9][a-z0-9-]+", parts[0]) and "-" in parts[0]:
            rows[parts[0]] = parts[1]
    return rows


def https_get(port: int, path: str, host: str) -> tuple[int, dict[str, str], str]:
    """GET https://127.0.0.1:PORT/PATH with that Host header (the local edge's certificate is self-signed)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(f"https://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def http_get(port: int, path: str, host: str) -> tuple[int, str]:
    """GET http://127.0.0.1:PORT/PATH without following redirects: (status, Location)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def served_locally(installed: Installed, project: Path, docker: Docker, stack: str, https_port: int,
                   http_port: int) -> Iterator[Docker]:
    """`rampart local up` of the example as the README says to run it offline (`--local-base-images`:
    the registry-free bases scripts/base-images.sh makes), then always `down`."""
    env = {"DOCKER_HOST": docker.host}
    up = installed.run("local", "up", "--stack", stack, "--local-base-images", f"--https-port={https_port}",
                       f"--http-port={http_port}", cwd=project, env=env, timeout=900)
    try:
        ok(up)
        yield docker
    finally:
        installed.run("local", "down", "--stack", stack, cwd=project, env=env, timeout=120)


def left_behind(docker: Docker, stack: str) -> dict[str, list[str]]:
    """Containers, volumes and networks that still carry the stack's `rampart local` label."""
    found = {kind: docker.run(kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter",
                              f"label=rampart.local.stack={stack}").stdout.split()
             for kind in ("container", "volume", "network")}
    return {kind: names for kind, names in found.items() if names}
