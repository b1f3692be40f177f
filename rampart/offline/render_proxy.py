"""`rampart render-proxy`: the Nginx sidecar's nginx.conf and image context, for review or a local run.

    rampart render-proxy --stack dev --service web --out proxy-out
        proxy-out/nginx.conf         the config the image runs (container paths)
        proxy-out/image/             the image context: proxy/ with that nginx.conf
        proxy-out/proxy-config.json  the effective settings (defaults filled in)

    rampart render-proxy --stack dev --service web --out proxy-local --local --upstream 127.0.0.1:8080
        proxy-local/nginx.conf       the same settings, every path relative to the prefix
        proxy-local/tls/             --tls-dir's cert.pem/key.pem, or a fresh self-signed ECDSA pair
        run it:  nginx -p proxy-local -c nginx.conf -e logs/error.log
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
from pathlib import Path

from pydantic import ValidationError

from rampart.components.proxy_config import ProxyConfig
from rampart.components.nginx_conf import RenderError, RenderTarget, render_nginx_conf, write_image_context
from rampart.config import StackConfig, load_stack_config
from rampart.errors import UserError


def _service(stack: StackConfig, stack_name: str, named: str | None) -> str:
    """The service named with --service, or the stack's only one with a sidecar."""
    with_sidecar = sorted(name for name, service in stack.services.items() if service.sidecar() is not None)
    if named is not None:
        if named not in with_sidecar:
            raise UserError(
                f"--service {named!r}: stack {stack_name!r} has no such service with ingress nginx; "
                f"services with a sidecar: {', '.join(with_sidecar) or 'none'}"
            )
        return named
    if len(with_sidecar) != 1:
        raise UserError(
            f"stack {stack_name!r} has {len(with_sidecar)} services with a sidecar ({', '.join(with_sidecar) or 'none'}); "
            "name one with --service"
        )
    return with_sidecar[0]


def effective_config(project_dir: Path, stack_name: str, service: str | None, upstream: tuple[str, int] | None = None,
                     listen: int | None = None) -> tuple[ProxyConfig, list[str]]:
    """The stack's sidecar settings exactly as the deployment renders them, then --upstream/--listen;
    and notes for the reviewer."""
    from rampart.program import proxy_settings
    from rampart.project import load_project

    project = load_project(project_dir)
    if not project.is_rampart_program:
        raise UserError(
            f"render-proxy reads the sidecar settings of Rampart's own program from its stack file "
            f"(`rampart:services.<name>.proxy`); {project.shown(project.program())} is another program, whose "
            "sidecar settings are in its code: `rampart local up` runs its sidecars, and "
            "`rampart.components.nginx_conf.render_nginx_conf(ProxyConfig(...))` renders one in Python")
    stack = load_stack_config(project_dir, stack_name)
    proxy = proxy_settings(stack, _service(stack, stack_name, service))
    notes = [f"trusted proxies (X-Forwarded-For believed from): {', '.join(map(str, proxy.trusted_proxy_cidrs)) or 'none'}"]
    data = proxy.model_dump(mode="json", by_alias=True)
    if upstream:
        data["upstream"]["host"], data["upstream"]["port"] = upstream
    if listen is not None:
        data["listenPort"] = listen
    try:
        return ProxyConfig.model_validate(data), notes
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{where}: {first['msg']} (from --upstream/--listen or the service's proxy settings)") from None


def write_self_signed_pair(tls_dir: Path, common_name: str = "localhost", days: int = 30) -> tuple[Path, Path]:
    """A fresh ECDSA P-256 key (mode 0600 before any byte is written) and a self-signed certificate
    for localhost and 127.0.0.1, as `cert.pem` and `key.pem` in `tls_dir`; returns (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path = tls_dir / "key.pem"
    key_path.touch(mode=0o600)
    key_path.chmod(0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path = tls_dir / "cert.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _write_local(config: ProxyConfig, out: Path, tls_source: Path | None) -> None:
    tls_dir = out / "tls"
    for sub in ("logs", "var"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    tls_dir.mkdir(parents=True, exist_ok=True)
    tls_dir.chmod(0o700)
    if tls_source is not None:
        missing = [n for n in ("cert.pem", "key.pem") if not (tls_source / n).is_file()]
        if missing:
            raise UserError(f"--tls-dir {tls_source}: missing {', '.join(missing)}")
        shutil.copyfile(tls_source / "cert.pem", tls_dir / "cert.pem")
        (tls_dir / "key.pem").touch(mode=0o600)
        (tls_dir / "key.pem").chmod(0o600)
        shutil.copyfile(tls_source / "key.pem", tls_dir / "key.pem")
    else:
        write_self_signed_pair(tls_dir)
    (out / "nginx.conf").write_text(render_nginx_conf(config, RenderTarget(mode="local")))


def _write_image(config: ProxyConfig, out: Path, project_dir: Path) -> None:
    source = project_dir / "proxy"
    if not (source / "Dockerfile").is_file():
        raise UserError(f"{source}: no proxy/Dockerfile in the project to build the image context from")
    image = out / "image"
    write_image_context(config, image, source_dir=source)
    shutil.copyfile(image / "nginx.conf", out / "nginx.conf")


def write_rendered(config: ProxyConfig, out: Path, *, local: bool, project_dir: Path, tls_source: Path | None = None) -> None:
    """Into `out`: nginx.conf, with the image context (`image/`) or, `local`, a prefix to run it in;
    and proxy-config.json, the effective settings."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        if local:
            _write_local(config, out, tls_source)
        else:
            _write_image(config, out, project_dir)
    except RenderError as exc:
        raise UserError(str(exc)) from None
    (out / "proxy-config.json").write_text(config.model_dump_json(by_alias=True, indent=2) + "\n")
