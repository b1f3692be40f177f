"""Shared fixtures: the repository root, and a fresh copy of the project for tests that edit stack files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
