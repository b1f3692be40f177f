"""The proxy's default nginx base against gixy-ng's nginx CVE database (version-based check).

The nginx version is read from the default NGINX_IMAGE tag in proxy/Dockerfile (the image a
deployment builds on), and the check runs on the config that image ships (`rampart render-proxy
--stack dev`), so CVEs that need a config trigger are judged against the real config. A known
high-severity match fails. (CI builds the image on Debian's nginx 1.22, a stand-in with Debian's
own backported fixes; this test is about the version the deployment runs.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import dockerfile  # type: ignore[import-untyped]
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "proxy" / "Dockerfile"
GIXY = Path(sys.executable).parent / "gixy"
#: nginx:1.27-bookworm, the base before issue 15: its line ended at 1.27.5.
PREVIOUS_BASE_VERSION = "1.27.5"


def default_nginx_image() -> str:
    for cmd in dockerfile.parse_file(str(DOCKERFILE)):
        if cmd.cmd.upper() == "FROM":
            break
        if cmd.cmd.upper() == "ARG" and cmd.value[0].startswith("NGINX_IMAGE="):
            return str(cmd.value[0].split("=", 1)[1])
    raise AssertionError("proxy/Dockerfile declares no NGINX_IMAGE default before its first FROM")


def base_version() -> str:
    image = default_nginx_image()
    match = re.fullmatch(r"nginx:(\d+\.\d+\.\d+)(?:-[a-z0-9.]+)?@sha256:[0-9a-f]{64}", image)
    assert match, (f"NGINX_IMAGE default {image!r} must be the official image pinned by a full "
                   "version tag (x.y.z, so the version check knows the release) and a digest")
    return match.group(1)


@pytest.fixture(scope="module")
def shipped_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render")
    done = subprocess.run([sys.executable, "-m", "rampart.cli", "render-proxy", "-C", str(ROOT), "--stack", "dev", "--service", "web",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out / "image" / "nginx.conf"


def cve_findings(conf: Path, version: str) -> list[dict[str, object]]:
    done = subprocess.run([str(GIXY), "--checks", "nginx_cves", "--nginx-version", version, "-f", "json", str(conf)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), f"gixy failed ({done.returncode}): {done.stderr}"
    findings = json.loads(done.stdout or "[]")
    assert all(f["plugin"] == "nginx_cves" for f in findings), findings
    return findings  # type: ignore[no-any-return]


def high(findings: list[dict[str, object]]) -> list[str]:
    return [str(f["reason"]).split(":", 1)[0] for f in findings if f["severity"] == "HIGH"]


def test_default_base_has_no_known_high_severity_cve(shipped_config: Path) -> None:
    version = base_version()
    found = high(cve_findings(shipped_config, version))
    assert not found, f"nginx {version} (proxy/Dockerfile NGINX_IMAGE) has known high-severity CVEs: {found}; bump it"


def test_control_the_previous_base_is_flagged(shipped_config: Path) -> None:
    """The check can fail: the same config on the previous base's last release has a HIGH match."""
    assert high(cve_findings(shipped_config, PREVIOUS_BASE_VERSION)), \
        f"gixy-ng reports no HIGH CVE for nginx {PREVIOUS_BASE_VERSION}: is the nginx_cves check running?"


def test_the_pin_says_why_and_when() -> None:
    text = DOCKERFILE.read_text()
    head = text[: text.index("\nFROM ")]
    assert re.search(r"Pinned \d{4}-\d{2}-\d{2}", head), "the NGINX_IMAGE pin must carry its date"
    assert "maintained" in head, "the NGINX_IMAGE pin must say why this line (maintained)"
