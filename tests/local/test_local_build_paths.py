"""The plan records build paths relative to the project directory; `rampart local` builds from that
project wherever it is run from (`-C DIR`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.local.tasks import stack_tasks


def test_builds_resolve_against_the_project_not_the_working_directory(project_copy: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    tasks = stack_tasks(project_copy, "dev", ["web"])
    builds = tasks[0].builds
    assert builds["app"].context == project_copy.resolve() / "app", builds["app"]
    assert builds["app"].dockerfile == project_copy.resolve() / "app" / "Dockerfile", builds["app"]
    assert builds["proxy"].context == project_copy.resolve() / ".rampart" / "build" / "dev" / "web", builds["proxy"]
