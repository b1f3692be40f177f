"""With the nginx sidecar the load balancer probes the sidecar, which answers its own health path
(`HEALTH_CHECK_PATH`, `SIDECAR_HEALTH_MATCHER`), whatever the service's `health_check` names for the
app: nginx serves no other path itself, and an app path would be proxied, so the target would stay
healthy with the sidecar broken. Both target groups of a blue/green service probe the same."""

from __future__ import annotations

from components_support import run_service
from test_component_nginx import nginx_args
from rampart.components.ingress import SIDECAR_HEALTH_MATCHER
from rampart.components.routing import HEALTH_CHECK_PATH, HealthCheckSettings


def test_the_sidecars_target_groups_probe_the_sidecars_own_health_path() -> None:
    plan = run_service(nginx_args(health_check=HealthCheckSettings(path="/ready", matcher="200-299"),
                                  deployment={"strategy": "blue_green"}))
    groups = plan.of_type("aws:lb/targetGroup:TargetGroup")
    assert len(groups) == 2, [g.name for g in groups]
    for group in groups:
        hc = group.inputs["healthCheck"]
        assert (hc["path"], hc["matcher"]) == (HEALTH_CHECK_PATH, SIDECAR_HEALTH_MATCHER), f"{group.name}: {hc}"
