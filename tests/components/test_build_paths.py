"""Image builds are not tied to one checkout's path: `rampart plan --json` of dev and prod, from this
checkout and from a copy elsewhere, holds no absolute path of either, and the images' build inputs
are the same from both (so `pulumi up` from another path is no change, and no rebuild under the
same content tag into an IMMUTABLE repository)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "prod")
DOCKER_IMAGE = "docker:index/image:Image"


def plan_json(project: Path, stack: str, out: Path) -> tuple[str, list[dict[str, Any]]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "rampart", "plan", "--stack", stack, "--json", str(out)],
                            cwd=project, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    return text, json.loads(text)


def build_inputs(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r["inputs"]["build"] for r in resources if r["type"] == DOCKER_IMAGE}


@pytest.mark.parametrize("stack", STACKS)
def test_plans_hold_no_checkout_path_and_the_same_build_inputs(stack: str, project_copy: Path, tmp_path: Path) -> None:
    here_text, here = plan_json(ROOT, stack, tmp_path / "here.json")
    there_text, there = plan_json(project_copy, stack, tmp_path / "there.json")
    for text, checkout in ((here_text, ROOT), (there_text, project_copy)):
        for path in {str(checkout), str(checkout.resolve()), str(ROOT), str(project_copy)}:
            assert path not in text, f"{stack}: the plan holds the checkout path {path}"
    builds = build_inputs(here)
    assert builds, f"{stack}: no docker image in the plan"
    for name, build in builds.items():
        assert not Path(build["context"]).is_absolute() and not Path(build["dockerfile"]).is_absolute(), (name, build)
    assert build_inputs(there) == builds, f"{stack}: the build inputs depend on where the project is checked out"
    images = {r["name"]: r["inputs"]["imageName"] for r in here if r["type"] == DOCKER_IMAGE}
    assert images == {r["name"]: r["inputs"]["imageName"] for r in there if r["type"] == DOCKER_IMAGE}, \
        f"{stack}: the content tags differ between checkouts"
