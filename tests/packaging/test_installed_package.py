"""The built wheel alone carries the library and the whole pack, and checks an app team's program.

The wheel is built and installed in a clean virtualenv once per session (the `installed` fixture,
tests/installed_wheel.py); a test asserts that every `rampart`/`rampart_soc2` module the checks
import comes from the wheel. Every command runs from a directory outside the repository with no
PYTHONPATH.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

from app_team import write_project
from installed_wheel import Installed

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOTS = {"rampart": ROOT / "rampart", "rampart_soc2": ROOT / "policy" / "soc2" / "rampart_soc2"}
PACK_FILES = ("rampart_soc2/pack/PulumiPolicy.yaml", "rampart_soc2/pack/__main__.py")
#: The price table `rampart plan` prices with, and every file of the sidecar image's sources (proxy/),
#: which a program in nginx mode builds its sidecar from.
DATA_FILES = ("rampart/cost/prices.json",
              *(f"rampart/proxy_image/{p.name}" for p in sorted((ROOT / "proxy").iterdir()) if p.is_file()))


def packages_on_disk() -> set[str]:
    return {name + "".join("." + p for p in init.parent.relative_to(base).parts)
            for name, base in PACKAGE_ROOTS.items() for init in base.rglob("__init__.py")}


def test_the_wheel_carries_every_package_and_the_pack_directory(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    packaged = {n.removesuffix("/__init__.py").replace("/", ".") for n in names if n.endswith("/__init__.py")}
    assert packaged == packages_on_disk(), f"missing: {sorted(packages_on_disk() - packaged)}; extra: {sorted(packaged - packages_on_disk())}"
    for name in (*PACK_FILES, *DATA_FILES):
        assert name in names, f"{name} is not in the wheel"
    # Never a bare generic top-level name beside Rampart's own.
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"rampart", "rampart_soc2"}


def test_the_installed_proxy_sources_render_a_sidecar_image_context(installed: Installed, tmp_path: Path) -> None:
    """A program in nginx mode renders its sidecar's image context from the wheel alone."""
    code = ("import sys; from pathlib import Path; from rampart.components import PROXY_IMAGE_SOURCES, ProxyConfig, "
            "write_image_context; print(PROXY_IMAGE_SOURCES); write_image_context(ProxyConfig(), Path(sys.argv[1]), upstream_port=8080)")
    out = subprocess.run([str(installed.python), "-c", code, str(tmp_path / "ctx")], cwd=installed.workdir,
                         env=installed.env, capture_output=True, text=True, check=True).stdout.split()
    assert Path(out[0]).is_relative_to(installed.venv), out
    rendered = {p.name for p in (tmp_path / "ctx").iterdir()}
    assert {p.name for p in (ROOT / "proxy").iterdir()} | {"nginx.conf"} <= rendered, rendered


def test_modules_come_from_the_wheel_not_the_checkout(installed: Installed) -> None:
    code = "import rampart.components, rampart_soc2.registry as r; print(rampart.components.__file__); print(r.__file__)"
    out = subprocess.run([str(installed.python), "-c", code], cwd=installed.workdir, env=installed.env,
                         capture_output=True, text=True, check=True).stdout.split()
    for path in out:
        assert Path(path).is_relative_to(installed.venv), path


def test_pack_path_prints_the_installed_pack(installed: Installed) -> None:
    result = installed.run("pack-path")
    assert result.returncode == 0, result.stderr
    pack = Path(result.stdout.strip())
    assert pack.is_relative_to(installed.venv) and (pack / "PulumiPolicy.yaml").is_file() and (pack / "__main__.py").is_file()


def test_an_app_teams_program_plans_and_passes_from_the_installed_package(installed: Installed, tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop")
    plan = installed.run("plan", "-C", str(project), "--stack", "dev")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "rampart:web_service:WebService  web" in plan.stdout and "rampart:web_service:WebService  api" in plan.stdout, plan.stdout
    check = installed.run("check", "-C", str(project), "--stack", "dev", "--report", str(tmp_path / "report"), "--format", "json")
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads((tmp_path / "report" / "soc2-dev.json").read_text())["report"]
    assert report["pack"]["name"] == "rampart-soc2" and report["pack"]["policies"] >= 45, report["pack"]
    assert "0 mandatory violation(s)" in check.stdout, check.stdout


def test_the_same_program_fails_when_a_setting_breaks_a_control(installed: Installed, tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop", extra="  shop:webAcl: false\n")
    check = installed.run("check", "-C", str(project), "--stack", "dev")
    assert check.returncode == 1, check.stdout + check.stderr
    line = next((ln for ln in check.stdout.splitlines() if ln.startswith("- [mandatory]")), "")
    assert "aws-lb-loadbalancer-require-waf-association" in line, check.stdout
    assert "shop-lb-alb" in line and "(CC6.6)" in line, line


def test_python_dash_m_rampart_is_the_installed_rampart_command(installed: Installed) -> None:
    """`python -m rampart` and the `rampart` console script, both from the wheel: every command listed,
    and the same answer."""
    from rampart.commands import COMMANDS

    def module(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(installed.python), "-m", "rampart", *args], cwd=installed.workdir, env=installed.env,
                              capture_output=True, text=True, timeout=300)

    listed = module("--help")
    assert listed.returncode == 0, listed.stderr
    assert [name for name in COMMANDS if f"\n    {name}" in listed.stdout] == list(COMMANDS), listed.stdout
    by_module, by_script = module("pack-path"), installed.run("pack-path")
    assert by_module.returncode == by_script.returncode == 0, by_module.stderr + by_script.stderr
    assert by_module.stdout == by_script.stdout and Path(by_module.stdout.strip()).is_relative_to(installed.venv), by_module.stdout
