"""The tasks `rampart local` runs are the plan's: task definitions, image builds and listener rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker.types import Mount

from rampart.local.containers import create_args, health_check
from rampart.local.tasks import Task, repository_of, stack_tasks
from rampart.local.scope import Scope
from rampart.local.volumes import task_mounts

ROOT = Path(__file__).resolve().parents[2]


def by_service(tasks: list[Task]) -> dict[str, Task]:
    return {t.service: t for t in tasks}


def test_dev_stack_has_one_task_per_service_with_app_and_sidecar(dev_tasks: list[Task]) -> None:
    tasks = by_service(dev_tasks)
    assert sorted(tasks) == ["api", "web"]
    for task in tasks.values():
        assert [c["name"] for c in task.containers] == ["app", "proxy"]
        assert task.builds["app"].context == ROOT / "app"
        assert task.builds["app"].target == "runtime"
        assert task.builds["proxy"].context == ROOT / ".rampart" / "build" / "dev" / task.service


def test_routes_come_from_the_listener_rules_in_priority_order(dev_tasks: list[Task]) -> None:
    tasks = by_service(dev_tasks)
    (api,) = tasks["api"].routes
    admin_allowed, admin_denied, web = sorted(tasks["web"].routes, key=lambda r: r.priority)
    assert api.paths == ["/api/*"] and web.paths == ["/*"]
    assert api.priority < web.priority, "the more specific route must be tried first"
    assert (api.container, api.port, api.health_check_path) == ("proxy", 8443, "/healthz")
    # web's private /admin/* entry: its allow-list rule, then the 403 for everyone else.
    assert admin_allowed.paths == admin_denied.paths == ["/admin/*"]
    assert admin_allowed.source_ips and admin_allowed.answer is None
    assert admin_denied.source_ips == [] and admin_denied.answer == 403


def test_a_blue_green_service_is_routed_by_its_production_rule_and_bakes_as_planned() -> None:
    """prod deploys blue/green: its rule forwards with weights (ECS moves them), and a test rule with a
    header condition reaches the new release. Locally the route is the production rule's heavier
    target group, the test rule is no route of its own, and the bake time is the plan's."""
    (web,) = stack_tasks(ROOT, "prod")
    (route,) = web.routes
    assert (route.paths, route.container, route.port) == (["/*"], "proxy", 8443)
    assert web.deployment.strategy == "BLUE_GREEN" and web.deployment.bake_minutes >= 10


def test_repository_of_strips_digest_or_tag_but_keeps_a_registry_port() -> None:
    assert repository_of("r.example:5000/app@sha256:abc") == "r.example:5000/app"
    assert repository_of("r.example:5000/app:c-1") == "r.example:5000/app"
    assert repository_of("r.example:5000/app") == "r.example:5000/app"


def test_unknown_service_is_refused_with_the_known_ones() -> None:
    from rampart.errors import UserError

    with pytest.raises(UserError, match="--service nope: stack 'dev' has services api, web"):
        stack_tasks(ROOT, "dev", ["nope"])


def test_hardening_settings_map_to_engine_create_args(dev_tasks: list[Task]) -> None:
    task = by_service(dev_tasks)["web"]
    app = task.containers[0]
    args = create_args(app, task.definition, image="img", name="n", labels={}, mounts=[], secrets={},
                       network_mode=None)
    assert args["read_only"] is True
    assert args["user"] == "65532:65532"
    assert args["cap_drop"] == ["ALL"] and args["cap_add"] == []
    assert args["security_opt"] == ["no-new-privileges"]
    assert args["privileged"] is False and args["init"] is True
    assert args["mem_limit"] == "384m" and args["memswap_limit"] == "384m"
    assert args["nano_cpus"] == 256 * 1_000_000_000 // 1024  # the task's 256 units: app sets none of its own
    assert args["environment"]["HOST"] == "127.0.0.1"
    assert args["healthcheck"]["test"] == app["healthCheck"]["command"]
    proxy = task.containers[1]
    proxy_args = create_args(proxy, task.definition, image="img", name="n", labels={}, mounts=[], secrets={},
                             network_mode=None)
    assert proxy_args["nano_cpus"] == 128 * 1_000_000_000 // 1024
    assert [(u.name, u.soft, u.hard) for u in proxy_args["ulimits"]] == [("nofile", 65536, 65536)]


def test_health_check_timings_and_ecs_defaults() -> None:
    check = health_check({"healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 7}})
    assert check == {"test": ["CMD-SHELL", "true"], "interval": 7_000_000_000, "timeout": 5_000_000_000,
                     "retries": 3, "start_period": 0}
    # none in the definition: none on the engine either, not even the image's HEALTHCHECK (ECS ignores it)
    assert health_check({}) == {"test": ["NONE"]}


def test_volumes_copy_image_content_only_where_the_image_declares_the_path(dev_tasks: list[Task]) -> None:
    proxy = by_service(dev_tasks)["web"].containers[1]
    mounts = task_mounts(Scope("rampart", "dev"), "web", proxy, declared={"/run/proxy"})
    assert [(m["Target"], m["Source"], m.get("VolumeOptions", {}).get("NoCopy", False)) for m in mounts] == [
        ("/run/proxy", "rampart-rampart-dev-web-proxy-run", False),
        ("/var/cache/proxy", "rampart-rampart-dev-web-proxy-cache", True),
    ]
    assert all(isinstance(m, Mount) and m["Type"] == "volume" for m in mounts)


def test_a_read_only_mount_point_is_mounted_read_only() -> None:
    """ECS spells it `readOnly`; a mount without it is writable (tests/local/test_local_alb.py checks
    both on the engine)."""
    container = {"mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": True},
                                 {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False},
                                 {"sourceVolume": "cache", "containerPath": "/cache"}]}
    mounts = task_mounts(Scope("shop", "dev"), "web", container, declared=set())
    assert [(m["Target"], m["ReadOnly"]) for m in mounts] == [("/data", True), ("/tmp", False), ("/cache", False)]


def test_a_component_setting_reaches_the_local_run_with_no_local_code_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the app's read-only root off inside the component (as an edit to web_service.py would):
    the local run follows, because it reads the plan."""
    import rampart.components.web_service as web_service

    original = getattr(web_service.WebService, "_app_container", None)
    if original is None:
        pytest.fail("WebService no longer builds the app's definition in _app_container; update this test")

    def writable_root(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return original(self, *args, **kwargs).apply(lambda d: {**d, "readonlyRootFilesystem": False})

    monkeypatch.setattr(web_service.WebService, "_app_container", writable_root)
    task = by_service(stack_tasks(ROOT, "dev"))["web"]
    args = create_args(task.containers[0], task.definition, image="i", name="n", labels={}, mounts=[],
                       secrets={}, network_mode=None)
    assert args["read_only"] is False
