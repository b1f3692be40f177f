"""Fargate refusals, checked before anything runs: each names the task, the container and the key."""

from __future__ import annotations

import pytest

from rampart.errors import UserError
from rampart.local.fidelity import check_fargate_fidelity, task_refusals
from rampart.local.tasks import Task


def web(tasks: list[Task]) -> Task:
    return next(t for t in tasks if t.service == "web")


def test_the_dev_stack_passes(dev_tasks: list[Task]) -> None:
    check_fargate_fidelity(dev_tasks)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda c: c.update(privileged=True), "container 'app': privileged is true"),
    (lambda c: c["linuxParameters"]["capabilities"].update(add=["NET_ADMIN"]),
     "container 'app': linuxParameters.capabilities.add has NET_ADMIN"),
    (lambda c: c["linuxParameters"]["capabilities"].update(add=["SYS_PTRACE", "CAP_SYS_ADMIN"]),
     "container 'app': linuxParameters.capabilities.add has SYS_ADMIN"),
    (lambda c: c["linuxParameters"].update(tmpfs=[{"containerPath": "/x", "size": 8}]),
     "container 'app': linuxParameters.tmpfs is set"),
    (lambda c: c["linuxParameters"].update(devices=[{"hostPath": "/dev/fuse"}]),
     "container 'app': linuxParameters.devices is set"),
])
def test_container_settings_fargate_refuses(dev_tasks: list[Task], change, expected: str) -> None:  # type: ignore[no-untyped-def]
    task = web(dev_tasks)
    change(task.containers[0])
    with pytest.raises(UserError) as raised:
        check_fargate_fidelity(dev_tasks)
    assert f"task web-dev, {expected}" in str(raised.value)


def test_sys_ptrace_is_the_one_capability_fargate_adds(dev_tasks: list[Task]) -> None:
    task = web(dev_tasks)
    task.containers[0]["linuxParameters"]["capabilities"]["add"] = ["SYS_PTRACE"]
    assert task_refusals(task) == []


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("networkMode", "host", "networkMode is 'host'"),
    ("pidMode", "host", "pidMode is 'host'"),
    ("ipcMode", "host", "ipcMode is 'host'"),
])
def test_task_settings_fargate_refuses(dev_tasks: list[Task], key: str, value: str, expected: str) -> None:
    task = web(dev_tasks)
    task.definition[key] = value
    (problem,) = task_refusals(task)
    assert problem.startswith(f"task web-dev: {expected}")


def test_pid_mode_task_is_allowed(dev_tasks: list[Task]) -> None:
    task = web(dev_tasks)
    task.definition["pidMode"] = "task"
    assert task_refusals(task) == []


def test_every_refusal_is_listed_at_once(dev_tasks: list[Task]) -> None:
    for task in dev_tasks:
        task.containers[1]["privileged"] = True
    with pytest.raises(UserError) as raised:
        check_fargate_fidelity(dev_tasks)
    assert str(raised.value).count("privileged is true") == 2
