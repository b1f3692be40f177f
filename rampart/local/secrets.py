"""Secrets for a local run: the task definitions' `secrets` entries resolved from a local file
(`.rampart/local/<stack>.env`: `NAME=value` lines, mode 0600, under the git-ignored .rampart/),
and TLS pairs made here: the edge's certificate for localhost, and a stand-in for a sidecar
certificate the stack brings (its PROXY_TLS_CERT/PROXY_TLS_KEY secrets, which a local run cannot
read). A sidecar that makes its own pair at start (the default) has no such secrets, so nothing is
made for it here. Values are handed to the engine only; nothing here prints one."""

from __future__ import annotations

import datetime
import os
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rampart.components.sidecar import CERT_ENV, KEY_ENV, PROXY_CONTAINER
from rampart.errors import UserError

LOCAL_DIR = Path(".rampart") / "local"
#: A brought sidecar certificate's secrets, made locally rather than read from Secrets Manager.
SIDECAR_TLS_SECRETS = {CERT_ENV: "cert.pem", KEY_ENV: "key.pem"}
TLS_VALIDITY_DAYS = 90


def default_secrets_file(project_dir: Path, stack: str) -> Path:
    return project_dir / LOCAL_DIR / f"{stack}.env"


def read_secrets_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines (blank lines and `#` comments skipped). A missing file is no secrets; a
    file others can read is refused, as ssh refuses a readable private key."""
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UserError(f"{path}: mode {mode:04o} lets others read local secrets; run `chmod 600 {path}`")
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, value = text.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UserError(f"{path}:{number}: expected NAME=value (the value is not shown)")
        values[name.strip()] = value
    return values


def tls_pair(directory: Path, common_name: str) -> tuple[str, str]:
    """A self-signed ECDSA P-256 pair (as the sidecar's image makes), kept in `directory`
    (mode 0700, files 0600) so that a second `up` reuses it; remade when it has expired."""
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1):
            return cert_path.read_text(), key_path.read_text()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=TLS_VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    for path, text in ((key_path, key_pem), (cert_path, cert_pem)):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # the mode above applies only when the file is created
        with os.fdopen(fd, "w") as f:
            f.write(text)
    return cert_pem, key_pem


def resolve_secrets(container: dict[str, object], values: dict[str, str], secrets_path: Path,
                    tls_dir: Path) -> dict[str, str]:
    """The container's `secrets` as the variables ECS would set: a brought sidecar certificate
    from `tls_dir` (made there; only when the sidecar has those secrets), every other one from the
    secrets file (by variable name)."""
    resolved: dict[str, str] = {}
    entries = container.get("secrets") or []
    assert isinstance(entries, list)
    missing: list[str] = []
    for entry in entries:
        name = str(entry["name"])
        if container.get("name") == PROXY_CONTAINER and name in SIDECAR_TLS_SECRETS:
            cert_pem, key_pem = tls_pair(tls_dir, "localhost")
            resolved[name] = cert_pem if name == CERT_ENV else key_pem
        elif name in values:
            resolved[name] = values[name]
        else:
            missing.append(name)
    if missing:
        raise UserError(f"container {container.get('name')!r} needs secrets {', '.join(missing)}: add "
                        f"NAME=value lines for them to {secrets_path} (mode 0600)")
    return resolved
