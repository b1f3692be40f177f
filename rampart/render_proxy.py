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

import argparse
import datetime as dt
import ipaddress
import shutil
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rampart.components.proxy_config import ProxyConfig
from rampart.components.nginx_conf import RenderError, RenderTarget, render_nginx_conf, write_image_context
from rampart.config import StackConfig, load_stack_config
from rampart.errors import UserError


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "render-proxy",
        parents=[parent],
        help="write the Nginx sidecar's nginx.conf and image context for a stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    p.add_argument("--service", help="the service whose sidecar to render (default: the stack's only nginx service)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.add_argument("--local", action="store_true", help="write a config for a plain local nginx (nginx -p DIR)")
    p.add_argument("--upstream", metavar="HOST:PORT", help="upstream app address (default: 127.0.0.1:<the service's containerPort>)")
    p.add_argument("--listen", type=int, metavar="PORT", help="port to listen on (default: the stack's proxy listenPort)")
    p.add_argument("--tls-dir", type=Path, metavar="DIR", help="with --local: directory holding cert.pem and key.pem")
    p.set_defaults(func=run)


def _parse_upstream(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UserError(f"--upstream {text!r}: give HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def _service(stack: StackConfig, args: argparse.Namespace) -> str:
    """The service named with --service, or the stack's only one with a sidecar."""
    with_sidecar = sorted(name for name, service in stack.services.items() if service.sidecar() is not None)
    if args.service is not None:
        if args.service not in with_sidecar:
            raise UserError(
                f"--service {args.service!r}: stack {args.stack!r} has no such service with ingress nginx; "
                f"services with a sidecar: {', '.join(with_sidecar) or 'none'}"
            )
        return str(args.service)
    if len(with_sidecar) != 1:
        raise UserError(
            f"stack {args.stack!r} has {len(with_sidecar)} services with a sidecar ({', '.join(with_sidecar) or 'none'}); "
            "name one with --service"
        )
    return with_sidecar[0]


def _effective_config(args: argparse.Namespace) -> tuple[ProxyConfig, list[str]]:
    """The stack's sidecar settings exactly as the deployment renders them, then --upstream/--listen."""
    from rampart.program import proxy_settings

    stack = load_stack_config(args.project_dir, args.stack)
    proxy = proxy_settings(stack, _service(stack, args))
    notes = [f"trusted proxies (X-Forwarded-For believed from): {', '.join(map(str, proxy.trusted_proxy_cidrs)) or 'none'}"]
    data = proxy.model_dump(mode="json", by_alias=True)
    if args.upstream:
        host, port = _parse_upstream(args.upstream)
        data["upstream"]["host"], data["upstream"]["port"] = host, port
    if args.listen is not None:
        data["listenPort"] = args.listen
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


def run(args: argparse.Namespace) -> int:
    if args.tls_dir is not None and not args.local:
        raise UserError("--tls-dir applies only with --local (the image makes its own key at start, or reads a brought one from `proxy.certificate.secrets`)")
    config, notes = _effective_config(args)
    out: Path = args.out if args.out.is_absolute() else Path.cwd() / args.out
    out.mkdir(parents=True, exist_ok=True)
    try:
        if args.local:
            _write_local(config, out, args.tls_dir)
        else:
            source = args.project_dir / "proxy"
            if not (source / "Dockerfile").is_file():
                raise UserError(f"{source}: no proxy/Dockerfile in the project to build the image context from")
            image = out / "image"
            write_image_context(config, image, source_dir=source)
            shutil.copyfile(image / "nginx.conf", out / "nginx.conf")
    except RenderError as exc:
        raise UserError(str(exc)) from None
    (out / "proxy-config.json").write_text(config.model_dump_json(by_alias=True, indent=2) + "\n")
    for note in notes:
        print(note, file=sys.stderr)
    print(f"wrote {out / 'nginx.conf'}")
    if args.local:
        print(f"run:  nginx -p {out} -c nginx.conf -e logs/error.log   (as root add: -g 'user root;')")
        print(f"test: curl -k https://127.0.0.1:{config.listen_port}/healthz")
    else:
        print(f"image context: {out / 'image'}")
    return 0
