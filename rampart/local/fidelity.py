"""Refuse, before anything runs, what Fargate would refuse: a local run must not work where the
deployment cannot. Each message names the task, the container and the key."""

from __future__ import annotations

from typing import Any

from rampart.errors import UserError
from rampart.local.tasks import Task

#: The one capability Fargate lets a task definition add.
FARGATE_ADDABLE_CAPABILITIES = frozenset({"SYS_PTRACE"})
#: linuxParameters keys Fargate does not support.
FARGATE_UNSUPPORTED_LINUX_PARAMETERS = ("devices", "tmpfs", "sharedMemorySize", "swappiness", "maxSwap")


def container_refusals(family: str, container: dict[str, Any]) -> list[str]:
    where = f"task {family}, container {container.get('name')!r}"
    found: list[str] = []
    if container.get("privileged"):
        found.append(f"{where}: privileged is true; Fargate runs no privileged container (set it false)")
    linux = container.get("linuxParameters") or {}
    added = [str(c) for c in (linux.get("capabilities") or {}).get("add") or []]
    extra = sorted({c.upper().removeprefix("CAP_") for c in added} - FARGATE_ADDABLE_CAPABILITIES)
    if extra:
        found.append(f"{where}: linuxParameters.capabilities.add has {', '.join(extra)}; Fargate adds only SYS_PTRACE")
    for key in FARGATE_UNSUPPORTED_LINUX_PARAMETERS:
        if linux.get(key):
            found.append(f"{where}: linuxParameters.{key} is set; Fargate does not support it (remove it)")
    return found


def task_refusals(task: Task) -> list[str]:
    where = f"task {task.family}"
    found: list[str] = []
    mode = task.definition.get("networkMode", "awsvpc")
    if mode != "awsvpc":
        found.append(f"{where}: networkMode is {mode!r}; Fargate tasks use 'awsvpc' only (no host network)")
    if task.definition.get("pidMode") not in (None, "task"):
        found.append(f"{where}: pidMode is {task.definition['pidMode']!r}; Fargate allows only 'task' "
                     "(no host PID namespace)")
    if task.definition.get("ipcMode") is not None:
        found.append(f"{where}: ipcMode is {task.definition['ipcMode']!r}; Fargate does not support ipcMode "
                     "(no host IPC namespace; remove it)")
    for volume in task.volumes:
        for key in ("host", "dockerVolumeConfiguration"):
            if volume.get(key):
                found.append(f"{where}: volume {volume.get('name')!r} sets {key}; Fargate supports only task "
                             "storage and EFS volumes")
    for container in task.containers:
        found += container_refusals(task.family, container)
    return found


def check_fargate_fidelity(tasks: list[Task]) -> None:
    """Raise a UserError listing every refusal of every task, or return."""
    found = [problem for task in tasks for problem in task_refusals(task)]
    if found:
        raise UserError("Fargate would refuse these settings, so the local run does too:\n"
                        + "\n".join(f"  - {p}" for p in found))
