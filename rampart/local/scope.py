"""What one local run is keyed by: the Pulumi project AND the stack. Two programs may both have a
`dev` stack; every container, volume, network and image `rampart local` makes carries both labels and
both names, so `down --stack dev` in one project never sees another project's `dev`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rampart.project import load_project

LABEL_PROJECT = "rampart.local.project"
LABEL_STACK = "rampart.local.stack"
LABEL_SERVICE = "rampart.local.service"
#: Which of a service's two releases a container or volume belongs to (rampart.local.rollout): a
#: change starts beside the running release, in the other slot, as ECS blue/green starts a green
#: revision beside the blue one. Objects made before releases had slots carry no label: blue.
LABEL_RELEASE = "rampart.local.release"
BLUE, GREEN = "blue", "green"
RELEASES = (BLUE, GREEN)


def other_release(release: str) -> str:
    return GREEN if release == BLUE else BLUE


def release_suffix(release: str) -> str:
    """Blue keeps the names a single release always had; green's end in `-green`."""
    return "" if release == BLUE else f"-{release}"


@dataclass(frozen=True)
class Scope:
    project: str
    stack: str

    @classmethod
    def of(cls, project_dir: Path, stack: str) -> Scope:
        """The scope of `stack` in the project whose Pulumi.yaml is in `project_dir`."""
        return cls(load_project(project_dir).name, stack)

    @property
    def prefix(self) -> str:
        """`rampart-<project>-<stack>`, in the characters engine object names and image tags allow
        (lower case; anything else Pulumi allows in a project name becomes `-`)."""
        return "rampart-" + re.sub(r"[^a-z0-9_.-]", "-", f"{self.project}-{self.stack}".lower())

    def __str__(self) -> str:
        return f"project {self.project!r} stack {self.stack!r}"

    def labels(self, service: str | None = None) -> dict[str, str]:
        return {LABEL_PROJECT: self.project, LABEL_STACK: self.stack, **({LABEL_SERVICE: service} if service else {})}

    def label_filter(self, service: str | None = None) -> list[str]:
        return [f"{k}={v}" for k, v in self.labels(service).items()]

    def network_name(self) -> str:
        return self.prefix

    def container_name(self, service: str, container: str, release: str = BLUE) -> str:
        return f"{self.prefix}-{service}-{container}{release_suffix(release)}"

    def volume_name(self, service: str, volume: str, release: str = BLUE) -> str:
        return f"{self.prefix}-{service}-{volume}{release_suffix(release)}"

    def image_tag(self, service: str, container: str) -> str:
        return f"rampart-local/{self.prefix.removeprefix('rampart-')}-{service}-{container}:latest".lower()
