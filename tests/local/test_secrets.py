"""The local secrets file and the locally made TLS pair."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography import x509

from rampart.errors import UserError
from rampart.local.secrets import read_secrets_file, resolve_secrets, tls_pair

VALUE = "s3cr3t-value-that-must-not-show"


def write(path: Path, text: str, mode: int) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_file_readable_by_others_is_refused_without_showing_values(tmp_path: Path) -> None:
    path = write(tmp_path / "dev.env", f"TOKEN={VALUE}\n", 0o640)
    with pytest.raises(UserError, match="chmod 600") as raised:
        read_secrets_file(path)
    assert VALUE not in str(raised.value)


def test_file_is_parsed_at_mode_0600(tmp_path: Path) -> None:
    path = write(tmp_path / "dev.env", f"# comment\n\nTOKEN={VALUE}\nEMPTY=\nWITH_EQ=a=b\n", 0o600)
    assert read_secrets_file(path) == {"TOKEN": VALUE, "EMPTY": "", "WITH_EQ": "a=b"}
    assert read_secrets_file(tmp_path / "absent.env") == {}


def test_malformed_line_names_the_line_not_the_value(tmp_path: Path) -> None:
    path = write(tmp_path / "dev.env", f"not a pair {VALUE}\n", 0o600)
    with pytest.raises(UserError, match=r"dev.env:1: expected NAME=value") as raised:
        read_secrets_file(path)
    assert VALUE not in str(raised.value)


def test_missing_secret_names_the_secret_and_the_file(tmp_path: Path) -> None:
    container = {"name": "app", "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:x"}]}
    with pytest.raises(UserError, match=r"needs secrets DB_PASSWORD: add NAME=value lines for them to .*dev.env"):
        resolve_secrets(container, {}, tmp_path / "dev.env", tmp_path / "tls")
    assert resolve_secrets(container, {"DB_PASSWORD": VALUE}, tmp_path / "dev.env", tmp_path / "tls") == {
        "DB_PASSWORD": VALUE}


def test_sidecar_gets_a_local_tls_pair_under_its_secret_names_and_reuses_it(tmp_path: Path) -> None:
    proxy = {"name": "proxy", "secrets": [{"name": "PROXY_TLS_CERT", "valueFrom": "arn:c"},
                                          {"name": "PROXY_TLS_KEY", "valueFrom": "arn:k"}]}
    first = resolve_secrets(proxy, {}, tmp_path / "dev.env", tmp_path / "tls")
    cert = x509.load_pem_x509_certificate(first["PROXY_TLS_CERT"].encode())
    assert "PRIVATE KEY" in first["PROXY_TLS_KEY"]
    assert cert.subject.rfc4514_string() == "CN=localhost"
    assert stat.S_IMODE((tmp_path / "tls" / "key.pem").stat().st_mode) == 0o600
    assert resolve_secrets(proxy, {}, tmp_path / "dev.env", tmp_path / "tls") == first
    assert tls_pair(tmp_path / "tls", "localhost")[0] == first["PROXY_TLS_CERT"]


def test_files_holding_secrets_are_0600_even_when_an_older_copy_was_readable(tmp_path: Path) -> None:
    """os.open's mode applies only to a new file: a readable leftover must not stay readable."""
    from rampart.local.compose import write_private

    (tmp_path / "compose").mkdir()
    env_file = write(tmp_path / "compose" / "web-app.env", "OLD=1\n", 0o644)
    write_private(env_file, f"DB_PASSWORD={VALUE}\n")
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    tls = tmp_path / "tls"
    tls.mkdir()
    write(tls / "key.pem", "leftover without its certificate", 0o644)  # no pair: tls_pair writes over it
    tls_pair(tls, "localhost")
    assert stat.S_IMODE((tls / "key.pem").stat().st_mode) == 0o600
