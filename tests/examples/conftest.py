"""examples/ run as their teams run them: the `installed` wheel (tests/conftest.py) for every command;
for the served examples, the image tests' Docker engine and registry-free base images."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # the served examples use the image tests' engine fixtures and their marker
    config.addinivalue_line("markers", "docker: needs a real Docker engine (root, dockerd; scripts/install-image.sh)")
