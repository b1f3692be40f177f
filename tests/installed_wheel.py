"""The built wheel installed in a clean virtualenv: what an app team gets from `pip install`.

`install_wheel` builds the wheel (`pip wheel --no-deps`, setuptools from PyPI in an isolated
build) from a copy of the source tree, creates a clean virtualenv and installs the wheel there with
`--no-deps`. The locked dependencies (pulumi, pulumi-aws, ...) come from the test run's own
environment, added to the clean venv's path by a .pth line (that directory's own .pth files, such
as an editable install of this checkout, are not processed), so every `rampart`/`rampart_soc2`
module the commands import comes from the wheel. Commands run with no PYTHONPATH, from a directory
outside the repository unless given another.

The session fixture `installed` (tests/conftest.py) builds it once for every test that needs it
(tests/packaging, tests/examples).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv", "venv", "build", "*.egg-info", "__pycache__", "node_modules",
                              ".rampart", ".pytest_cache", ".mypy_cache", "tests", "benchmarks", "examples")


class Installed:
    """The wheel, the clean virtualenv it is installed in, and a work directory outside the repository."""

    def __init__(self, wheel: Path, venv: Path, workdir: Path) -> None:
        self.wheel, self.venv, self.workdir = wheel, venv, workdir
        self.python = venv / "bin" / "python"
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        self.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{self.env.get('PATH', '')}"

    def run(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """The installed `rampart` command; `env` adds to (or overrides) the clean environment."""
        return subprocess.run([str(self.venv / "bin" / "rampart"), *args], cwd=cwd or self.workdir,
                              env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout)


def install_wheel(base: Path) -> Installed:
    """Build the wheel from a copy of the source tree under `base` and install it in a clean venv there."""
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=SKIP)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                    "-w", str(base / "dist"), str(source)], check=True, capture_output=True, timeout=600)
    wheel = next((base / "dist").glob("rampart-*.whl"))
    venv = base / "clean-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--quiet",
                    "--disable-pip-version-check", str(wheel)], check=True, capture_output=True, timeout=300)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "locked_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    workdir = base / "elsewhere"
    workdir.mkdir()
    return Installed(wheel, venv, workdir)
