"""Shared fixtures: the repository root, a fresh copy of the project for tests that edit stack files, and
the built wheel installed in a clean virtualenv (once per session)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from installed_wheel import Installed, install_wheel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A throwaway copy of the Pulumi project files (program, stacks), for tests that change them."""
    dest = tmp_path / "project"
    dest.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "stacks", dest / "stacks")
    for name in ("app", "proxy", "policy"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("node_modules", "dist", "__pycache__", "venv"))
    return dest


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from this checkout, installed in a clean virtualenv (tests/installed_wheel.py)."""
    return install_wheel(tmp_path_factory.mktemp("installed"))
