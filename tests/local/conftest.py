"""Fixtures for `rampart local`: the dev stack's tasks read from its plan (once per session)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from rampart.local.tasks import Task, stack_tasks

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def _dev_tasks() -> list[Task]:
    return stack_tasks(ROOT, "dev")


@pytest.fixture
def dev_tasks(_dev_tasks: list[Task]) -> list[Task]:
    """A copy each test may change."""
    return copy.deepcopy(_dev_tasks)


def pytest_configure(config: pytest.Config) -> None:
    # test_local_engine.py uses the image tests' engine fixtures and their marker
    config.addinivalue_line("markers", "docker: needs a real Docker engine (root, dockerd; scripts/install-image.sh)")
