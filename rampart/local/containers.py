"""An ECS container definition -> the Docker Engine API's create arguments (docker SDK
`containers.create` keywords). Every setting comes from the definition; the few things ECS adds
on its own are added here once: no new privileges, the awsvpc namespace shared by the task."""

from __future__ import annotations

from typing import Any

from docker.types import Mount, Ulimit

NANOSECONDS = 1_000_000_000
#: ECS healthCheck defaults (seconds) for keys the definition leaves out.
ECS_HEALTH_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}
#: ECS's stopTimeout default (SIGTERM, then SIGKILL after this many seconds).
ECS_STOP_TIMEOUT_S = 30
STOP_TIMEOUT_LABEL = "rampart.local.stop-timeout"
#: CPU units per vCPU.
CPU_UNITS = 1024


#: The engine's health check for a definition without one: ECS runs no image HEALTHCHECK, so the
#: engine must not run the image's either (else a container would be judged by a check ECS ignores).
NO_HEALTH_CHECK = {"test": ["NONE"]}


def health_check(definition: dict[str, Any]) -> dict[str, Any]:
    """ECS healthCheck -> the engine's: the same command (CMD / CMD-SHELL) and timings; none at all
    (not even the image's HEALTHCHECK) when the definition has none."""
    check = definition.get("healthCheck")
    if not check:
        return dict(NO_HEALTH_CHECK)
    timing = {**ECS_HEALTH_DEFAULTS, **{k: v for k, v in check.items() if k != "command"}}
    return {
        "test": list(check["command"]),
        "interval": int(timing["interval"]) * NANOSECONDS,
        "timeout": int(timing["timeout"]) * NANOSECONDS,
        "retries": int(timing["retries"]),
        "start_period": int(timing["startPeriod"]) * NANOSECONDS,
    }


def limits(definition: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """Memory and CPU: the container's own when set, else the task's (Fargate's task size bounds
    every container of the task)."""
    memory = definition.get("memory") or task.get("memory")
    cpu = definition.get("cpu") or task.get("cpu")
    found: dict[str, Any] = {}
    if memory:
        found["mem_limit"] = f"{int(memory)}m"
        found["memswap_limit"] = f"{int(memory)}m"  # Fargate has no swap
    if definition.get("memoryReservation"):
        found["mem_reservation"] = f"{int(definition['memoryReservation'])}m"
    if cpu:
        found["nano_cpus"] = int(cpu) * NANOSECONDS // CPU_UNITS
    return found


def environment(definition: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """Plain environment then secrets, as ECS sets them (a secret wins; the components refuse overlaps)."""
    plain = {str(e["name"]): str(e["value"]) for e in definition.get("environment") or []}
    return {**plain, **secrets}


def create_args(definition: dict[str, Any], task: dict[str, Any], *, image: str, name: str,
                labels: dict[str, str], mounts: list[Mount], secrets: dict[str, str],
                network_mode: str | None) -> dict[str, Any]:
    """The docker SDK `containers.create` keywords for one container of a task."""
    linux = definition.get("linuxParameters") or {}
    capabilities = linux.get("capabilities") or {}
    args: dict[str, Any] = {
        "image": image,
        "name": name,
        "labels": {**{str(k): str(v) for k, v in (definition.get("dockerLabels") or {}).items()}, **labels},
        "environment": environment(definition, secrets),
        "read_only": bool(definition.get("readonlyRootFilesystem", False)),
        "privileged": False,
        "cap_drop": list(capabilities.get("drop") or []),
        "cap_add": list(capabilities.get("add") or []),
        "security_opt": ["no-new-privileges"],
        "init": bool(linux.get("initProcessEnabled", False)),
        "mounts": mounts,
        "ulimits": [Ulimit(name=u["name"], soft=int(u["softLimit"]), hard=int(u["hardLimit"]))
                    for u in definition.get("ulimits") or []],
        "detach": True,
        **limits(definition, task),
    }
    optional = {
        "user": definition.get("user"),
        "entrypoint": definition.get("entryPoint"),
        "command": definition.get("command"),
        "working_dir": definition.get("workingDirectory"),
        "healthcheck": health_check(definition),
        "network_mode": network_mode,
    }
    args.update({k: v for k, v in optional.items() if v is not None})
    # The engine's StopTimeout is not a docker SDK create keyword: kept as a label, used when stopping.
    args["labels"][STOP_TIMEOUT_LABEL] = str(int(definition.get("stopTimeout") or ECS_STOP_TIMEOUT_S))
    return args
