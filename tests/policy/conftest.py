"""Fixtures for the SOC 2 policy pack tests."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

PACK_DIR = Path(__file__).resolve().parents[2] / "policy" / "soc2"
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "e2e: starts the real policy pack process and drives it over gRPC")


@pytest.fixture
def dockerfile_dir(tmp_path: Path) -> Path:
    from policy_fixtures import COMPLIANT_DOCKERFILE

    (tmp_path / "Dockerfile").write_text(COMPLIANT_DOCKERFILE)
    return tmp_path


@pytest.fixture
def stack(dockerfile_dir: Path) -> list[dict[str, Any]]:
    from policy_fixtures import baseline

    return baseline(dockerfile_dir)
