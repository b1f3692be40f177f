"""Task volumes as Fargate mounts them. A task-storage volume starts as an empty directory owned
by root, mode 0755, unless the container's image declares a VOLUME at exactly the mount path:
then Fargate copies the image's content, owner and mode into it. A Docker named volume does that
copy on first mount; `NoCopy` leaves it empty (root-owned 0755), so each mount asks for the copy
only where the image declares the path (tests/image/conftest.py FargateVolumes does the same).
A mount point's `readOnly` (ECS's spelling) makes the mount read-only, as on Fargate."""

from __future__ import annotations

from typing import Any

from docker.types import Mount

from rampart.local.scope import BLUE, Scope


def task_mounts(scope: Scope, service: str, container: dict[str, Any], declared: set[str],
                release: str = BLUE) -> list[Mount]:
    """The container's mountPoints as Docker mounts of the task's named volumes (the release's own:
    a new release starts on fresh task storage, as a new ECS task does)."""
    return [
        Mount(
            target=str(point["containerPath"]),
            source=scope.volume_name(service, str(point["sourceVolume"]), release),
            type="volume",
            read_only=bool(point.get("readOnly", False)),
            no_copy=str(point["containerPath"]) not in declared,
        )
        for point in container.get("mountPoints") or []
    ]
