"""A blue/green, canary or linear service's test listener rule takes the priority just below its own
rules; both places that see several services at once count it: the environment a service attaches to
(`Environment.attach_route`, the component user's program) and the stack file's `rampart:services`
(rampart/config.py). A service whose rule sits just below would meet that test rule on the listener."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from components_support import minimal_args, placeholder_ref
from rampart.components.routing import RoutingSettings
from rampart.config import ConfigError, read_stack_values, validate_stack_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("below,meets", [(99, True), (98, False)])
def test_the_environment_counts_an_attached_services_test_rule(below: int, meets: bool) -> None:
    ref = placeholder_ref(minimal_args().environment)
    ref.attach_route("web", RoutingSettings(paths=["/*"], priority=100), test_rule=True)
    api = RoutingSettings(paths=["/api/*"], priority=below)
    if meets:
        with pytest.raises(ValueError, match=f"both take listener rule priority {below}"):
            ref.attach_route("api", api)
    else:
        ref.attach_route("api", api)


@pytest.mark.parametrize("below,meets", [(99, True), (98, False)])
def test_the_stack_file_counts_a_services_test_rule(below: int, meets: bool) -> None:
    values = copy.deepcopy(read_stack_values(ROOT, "dev")[1])
    services = values["rampart:services"]
    services["api"]["routing"]["priority"] = 100
    services["api"]["deployment"] = {"strategy": "blue_green"}
    services["web"]["routing"] = {"paths": ["/*"], "priority": below}
    if meets:
        with pytest.raises(ConfigError, match=f"both take listener rule priority {below}"):
            validate_stack_config(values, "Pulumi.test.yaml")
    else:
        validate_stack_config(values, "Pulumi.test.yaml")
