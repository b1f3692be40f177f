"""A container's health check: the settings model ECS takes, read from an image's `HEALTHCHECK`
(its Dockerfile instruction or its image config) or given explicitly.

ECS runs a container's health check inside the container, so the command must name an
executable the image holds: a Node script in a static-binary image marks every task unhealthy.
`rampart.components.image.ImageFacts` knows, where the Dockerfile shows it, what the final stage
holds; `missing_executable` says when a command cannot run there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from pydantic import Field, field_validator

from rampart.components._util import ArgsModel

#: What ECS accepts in a container definition's `healthCheck` (seconds; retries a count).
INTERVAL_SECONDS = (5, 300)
TIMEOUT_SECONDS = (2, 60)
RETRIES = (1, 10)
START_PERIOD_SECONDS = (0, 300)

#: Docker's defaults for a `HEALTHCHECK` flag left out (what the image's check means without ECS).
DOCKER_DEFAULTS = {"interval": 30, "timeout": 30, "start-period": 0, "retries": 3}

#: The shell ECS (like Docker) runs a `CMD-SHELL` command with.
SHELL = "/bin/sh"


class ContainerHealthCheck(ArgsModel):
    """A container's health check as ECS runs it (ECS replaces a container that fails it)."""

    command: list[str] = Field(
        min_length=2,
        description="`CMD` and the executable with its arguments, or `CMD-SHELL` and a shell command line "
        "(needs /bin/sh in the image); it runs inside the container.",
    )
    interval_seconds: int = Field(
        15, ge=INTERVAL_SECONDS[0], le=INTERVAL_SECONDS[1], description="Seconds between checks."
    )
    timeout_seconds: int = Field(
        5, ge=TIMEOUT_SECONDS[0], le=TIMEOUT_SECONDS[1], description="Seconds before a check fails."
    )
    retries: int = Field(3, ge=RETRIES[0], le=RETRIES[1], description="Failures before the container is unhealthy.")
    start_period_seconds: int = Field(
        30, ge=START_PERIOD_SECONDS[0], le=START_PERIOD_SECONDS[1], description="Grace period after start."
    )

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        if value[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError(f"command must start with CMD or CMD-SHELL, not {value[0]!r}")
        if value[0] == "CMD-SHELL" and len(value) != 2:
            raise ValueError(f"a CMD-SHELL command is one shell command line, not {len(value) - 1} words: {value!r}")
        return value

    def executable(self) -> str:
        """What the container must hold to run the check: the command's program, or the shell."""
        return SHELL if self.command[0] == "CMD-SHELL" else self.command[1]

    def ecs(self) -> dict[str, Any]:
        """The container definition's `healthCheck` (camelCase, as ECS takes it)."""
        return {
            "command": list(self.command),
            "interval": self.interval_seconds,
            "timeout": self.timeout_seconds,
            "retries": self.retries,
            "startPeriod": self.start_period_seconds,
        }


# --------------------------------------------------------------------------- from a Dockerfile

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_FLAG_FIELDS = {
    "interval": ("interval_seconds", INTERVAL_SECONDS),
    "timeout": ("timeout_seconds", TIMEOUT_SECONDS),
    "start-period": ("start_period_seconds", START_PERIOD_SECONDS),
    "retries": ("retries", RETRIES),
}


def _duration_seconds(text: str) -> Optional[float]:
    """A Go duration (`30s`, `1m30s`, `500ms`) in seconds, or None when it is not one."""
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) and pos > 0 else None


def health_check_from_instruction(
    flags: Sequence[str], values: Sequence[str], exec_form: bool, where: str
) -> Optional[ContainerHealthCheck]:
    """The ECS health check a Dockerfile's `HEALTHCHECK` instruction means, Docker's defaults filling
    flags left out; None for `HEALTHCHECK NONE`. `where` (file:line) goes into every error."""
    if not values or values[0].upper() == "NONE":
        return None
    settings: dict[str, Any] = {}
    given = {flag.split("=", 1)[0].lstrip("-"): flag.split("=", 1)[1] for flag in flags if "=" in flag}
    for flag, default in DOCKER_DEFAULTS.items():
        field, (low, high) = _FLAG_FIELDS[flag]
        raw = given.get(flag)
        if raw is None:
            settings[field] = default
            continue
        if flag == "retries":
            number: Optional[float] = float(raw) if raw.isdigit() else None
        else:
            number = _duration_seconds(raw)
        unit = "" if flag == "retries" else " s"
        if number is None or number != int(number) or not low <= number <= high:
            raise ValueError(
                f"{where}: HEALTHCHECK --{flag}={raw} is not what ECS accepts for a container health check "
                f"(whole{'' if flag == 'retries' else ' seconds'}, {low}-{high}{unit}); change it in the Dockerfile"
            )
        settings[field] = int(number)
    command = ["CMD", *values[1:]] if exec_form else ["CMD-SHELL", " ".join(values[1:])]
    return ContainerHealthCheck(command=command, **settings)


# --------------------------------------------------------------------------- from an image config

_NANOS = 1_000_000_000


def health_check_from_image_config(config: Mapping[str, Any], where: str = "image config") -> Optional[ContainerHealthCheck]:
    """The ECS health check an image config's `Healthcheck` means (`docker inspect`'s `Config`, or
    an OCI image config's `config`): `Test` and durations in nanoseconds, 0 for Docker's default.
    None when the image has none (no `Healthcheck`, an empty `Test`, or `["NONE"]`)."""
    check = config.get("Healthcheck") or config.get("healthcheck")
    if not check:
        return None
    test = list(check.get("Test") or [])
    if not test or test[0] == "NONE":
        return None
    if test[0] not in ("CMD", "CMD-SHELL"):
        raise ValueError(f"{where}: Healthcheck.Test {test!r} must start with CMD, CMD-SHELL or NONE")
    flags = []
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod")):
        nanos = int(check.get(key) or 0)
        if nanos:
            flags.append(f"--{flag}={nanos / _NANOS:g}s")
    if check.get("Retries"):
        flags.append(f"--retries={int(check['Retries'])}")
    if test[0] == "CMD-SHELL":
        return health_check_from_instruction(flags, ["CMD", *test[1:]], False, where)
    return health_check_from_instruction(flags, test, True, where)
