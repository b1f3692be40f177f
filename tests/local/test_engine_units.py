"""The engine's decisions without an engine: fail-fast health waits, the target groups' health checks,
project-and-stack keys, `status` rows and `logs --service` (fakes stand in for docker SDK objects)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rampart.errors import UserError
from rampart.local import engine, rollout
from rampart.local.command import LOCAL_BASE_IMAGES, parse_build_args
from rampart.local.edge import matcher_accepts, nginx_conf, targets
from rampart.local.scope import Scope
from rampart.local.tasks import Route, TargetGroupProbe, Task, stack_tasks

ROOT = Path(__file__).resolve().parents[2]
ALB_PROGRAM = Path(__file__).resolve().parent / "alb_program"


class FakeContainer:
    """What the engine code reads of a docker SDK Container; `states` are what successive reloads see."""

    def __init__(self, states: list[dict[str, Any]], labels: dict[str, str] | None = None,
                 test: list[str] | None = None) -> None:
        self.states = states
        self.labels = labels or {engine.LABEL_SERVICE: "hello", engine.LABEL_CONTAINER: "app"}
        self.name = "c"
        self.id = "id-c"
        self.attrs: dict[str, Any] = {"State": states[0], "Config": {"Healthcheck": {"Test": test or []}}}

    @property
    def status(self) -> str:
        return str(self.attrs["State"]["Status"])

    def reload(self) -> None:
        self.attrs["State"] = self.states.pop(0) if len(self.states) > 1 else self.states[0]


def state(health: str | None, log: list[dict[str, Any]] | None = None, status: str = "running") -> dict[str, Any]:
    return {"Status": status, "ExitCode": 0, **({"Health": {"Status": health, "Log": log or []}} if health else {})}


# -- fail fast ------------------------------------------------------------------------------------

def test_an_unhealthy_container_fails_at_once_with_its_own_health_check_output() -> None:
    log = [{"ExitCode": 1, "Output": "health: no answer on 127.0.0.1:9090\n"},
           {"ExitCode": 1, "Output": "health: refused on purpose\n"}]
    container = FakeContainer([state("unhealthy", log)], test=["CMD", "/server", "--check"])
    with pytest.raises(UserError) as raised:
        engine.condition_met(container, "HEALTHY")  # type: ignore[arg-type]
    message = str(raised.value)
    assert "'hello/app' is unhealthy" in message
    assert "`CMD /server --check`" in message
    assert "exit 1: health: no answer on 127.0.0.1:9090" in message
    assert message.index("no answer") < message.index("refused on purpose"), "the last run comes last"


def test_starting_is_not_unhealthy() -> None:
    assert engine.condition_met(FakeContainer([state("starting")]), "HEALTHY") is False  # type: ignore[arg-type]
    assert engine.condition_met(FakeContainer([state("healthy")]), "HEALTHY") is True  # type: ignore[arg-type]


def test_the_wait_says_what_it_waits_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "PROGRESS_S", 0.0)
    monkeypatch.setattr(engine, "POLL_S", 0.0)
    said: list[str] = []
    container = FakeContainer([state("starting"), state("starting"), state("healthy")])
    engine.wait_for(container, "HEALTHY", said.append)  # type: ignore[arg-type]
    assert said and said[0].startswith("hello/app: waiting for HEALTHY (running, health starting, "), said


def test_wait_healthy_fails_on_the_unhealthy_container_without_waiting_for_the_others(
        monkeypatch: pytest.MonkeyPatch) -> None:
    slow = FakeContainer([state("starting")], labels={engine.LABEL_SERVICE: "api", engine.LABEL_CONTAINER: "app"})
    slow.id = "slow"
    broken = FakeContainer([state("starting"), state("unhealthy", [{"ExitCode": 1, "Output": "boom"}])])
    monkeypatch.setattr(engine, "task_containers", lambda client, scope, service, release=None: [slow] if service == "api" else [broken])
    monkeypatch.setattr(engine, "POLL_S", 0.0)
    tasks = [Task("api", "api-dev", {}, []), Task("hello", "hello-dev", {}, [])]
    with pytest.raises(UserError, match="(?s)'hello/app' is unhealthy.*exit 1: boom"):
        engine.wait_healthy(None, Scope("p", "dev"), tasks, lambda _: None)  # type: ignore[arg-type]


def test_wait_healthy_takes_a_running_container_without_a_health_check_as_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    """No health check is the default now (the image's own, else none): such a container is ready
    once running, as ECS counts it, and `up` must not demand a health status it cannot have."""
    plain = FakeContainer([state(None, status="created"), state(None, status="running")])
    checked = FakeContainer([state("starting"), state("healthy")], labels={engine.LABEL_SERVICE: "api",
                                                                        engine.LABEL_CONTAINER: "app"})
    checked.id = "checked"
    monkeypatch.setattr(engine, "task_containers", lambda client, scope, service, release=None: [plain] if service == "hello" else [checked])
    monkeypatch.setattr(engine, "POLL_S", 0.0)
    engine.wait_healthy(None, Scope("p", "dev"), [Task("hello", "hello-dev", {}, []), Task("api", "api-dev", {}, [])],  # type: ignore[arg-type]
                        lambda _: None)
    assert plain.status == "running" and checked.attrs["State"]["Health"]["Status"] == "healthy"


# -- the target group's protocol, path and matcher -----------------------------------------------

def test_an_alb_mode_target_group_is_http_with_its_own_health_check() -> None:
    (task,) = stack_tasks(ALB_PROGRAM, "dev")
    (route,) = task.routes
    assert (route.container, route.port, route.protocol) == ("app", 9090, "HTTP")
    assert (route.health_check_protocol, route.health_check_path, route.matcher) == ("HTTP", "/ready", "200-299")


def test_a_sidecar_target_group_is_https(dev_tasks: list[Task]) -> None:
    for task in dev_tasks:
        for route in task.routes:
            assert (route.protocol, route.health_check_protocol) == ("HTTPS", "HTTPS"), task.service


def target_group(**inputs: Any) -> Any:
    from rampart.offline.mock_engine import RegisteredResource

    return RegisteredResource(urn="urn:tg", type="aws:lb/targetGroup:TargetGroup", name="tg", parent_urn=None,
                              inputs=inputs, outputs={}, custom=True)


def test_a_target_group_that_leaves_its_settings_out_gets_the_albs_defaults() -> None:
    """AWS defaults an ALB target group to HTTP, its health check to the group's protocol, path `/`
    and matcher `200`: the local edge must probe what the ALB would, not what Rampart usually sets."""
    from rampart.local.tasks import target_group_probe

    assert target_group_probe(target_group()) == TargetGroupProbe("HTTP", "HTTP", "/", "200")
    assert target_group_probe(target_group(protocol="https")) == TargetGroupProbe("HTTPS", "HTTPS", "/", "200")


def test_a_health_check_protocol_of_its_own_is_kept() -> None:
    """An HTTPS group may check its targets over HTTP (`healthCheck.protocol`): the probe follows the check."""
    from rampart.local.tasks import target_group_probe

    group = target_group(protocol="HTTPS", healthCheck={"protocol": "HTTP", "path": "/ready", "matcher": "200-399"})
    assert target_group_probe(group) == TargetGroupProbe("HTTPS", "HTTP", "/ready", "200-399")


def http_route(port: int, protocol: str) -> Route:
    return Route(priority=1, hosts=[], paths=["/*"], container="app", port=port, health_check_path="/ready",
                 protocol=protocol)


def test_the_edge_speaks_each_target_groups_protocol() -> None:
    conf = nginx_conf(targets([Task("a", "a", {}, [], routes=[http_route(9090, "HTTP")]),
                               Task("s", "s", {}, [], routes=[http_route(8443, "HTTPS")])],
                              {"a": "alb-app", "s": "sidecar"}), 8443)
    assert '"target_alb_app_9090" http;' in conf
    assert '"target_sidecar_8443" https;' in conf
    assert "proxy_pass $rampart_scheme://$rampart_target;" in conf
    with pytest.raises(UserError, match="target group protocol 'TCP'"):
        nginx_conf(targets([Task("a", "a", {}, [], routes=[http_route(9090, "TCP")])], {"a": "x"}), 8443)


@pytest.mark.parametrize("owner_length", [34, 35, 98, 99])  # the name fits 64 bytes up to 34, 128 up to 98
def test_the_edges_maps_hold_the_longest_upstream_name(owner_length: int) -> None:
    """Names carry project, stack and service: an upstream name past the default 64-byte map bucket made
    nginx refuse the edge ("could not build map_hash"). Each entry takes the name, a pointer, two bytes."""
    import re

    owner = "r" * owner_length
    conf = nginx_conf(targets([Task("a", "a", {}, [], routes=[http_route(9090, "HTTP")])], {"a": owner}), 8443)
    name = f"target_{owner}_9090"
    bucket = int(re.search(r"map_hash_bucket_size (\d+);", conf)[1])  # type: ignore[index]
    assert bucket >= len(name) + 18 and bucket & (bucket - 1) == 0, (len(name), bucket)
    assert bucket == (64 if len(name) + 18 <= 64 else 128 if len(name) + 18 <= 128 else 256), (len(name), bucket)


def test_up_says_when_the_edge_stopped_instead_of_probing_it() -> None:
    class Edge(FakeContainer):
        def logs(self, tail: int) -> bytes:
            return b"[emerg] could not build map_hash, you should increase map_hash_bucket_size: 64"

    edge = Edge([state(None, status="exited")])
    edge.name = "rampart-shop-dev-edge-edge"
    with pytest.raises(UserError, match=r"(?s)edge rampart-shop-dev-edge-edge is exited.*could not build map_hash"):
        engine.check_edge_running(edge)  # type: ignore[arg-type]
    engine.check_edge_running(Edge([state(None)]))  # type: ignore[arg-type]


@pytest.mark.parametrize(("matcher", "code", "healthy"), [
    ("200", 200, True), ("200", 201, False), ("200", 199, False),
    ("200-299", 200, True), ("200-299", 299, True), ("200-299", 300, False), ("200-299", 199, False),
    ("200,302", 302, True), ("200,302", 301, False), ("200,300-301", 301, True), ("200,300-301", 302, False),
])
def test_the_matcher_is_read_as_the_alb_reads_it(matcher: str, code: int, healthy: bool) -> None:
    assert matcher_accepts(matcher, code) is healthy


def route_label(**changes: Any) -> dict[str, Any]:
    base = {"service": "web", "url": "https://localhost:8443", "hosts": [], "paths": ["/admin/*"], "priority": 10,
            "address": "w:8443", "health": "/healthz", "protocol": "HTTPS", "health_protocol": "HTTPS",
            "matcher": "200", "source_ips": [], "answer": None}
    return {**base, **changes}


def test_status_shows_an_allow_rule_and_its_403_apart_and_probes_each_target_group_once() -> None:
    allow = route_label(source_ips=["203.0.113.0/24"])
    deny = route_label(priority=11, answer=403)
    catch_all = route_label(priority=20, paths=["/*"])
    assert engine.route_line(allow) != engine.route_line(deny)
    assert "from 203.0.113.0/24  -> web over HTTPS (priority 10)" in engine.route_line(allow)
    assert "-> answered 403 by the edge (web's rule) (priority 11)" in engine.route_line(deny)
    (probe,) = engine.probes([allow, deny, catch_all])
    assert probe.url() == "https://w:8443/healthz"


def test_a_target_that_answers_outside_its_matcher_fails_up(monkeypatch: pytest.MonkeyPatch) -> None:
    class Edge:
        attrs: dict[str, Any] = {}  # no config mount: the routes it started with, from its label
        labels = {engine.LABEL_ROUTES: json.dumps([route_label(protocol="HTTP", health_protocol="HTTP",
                                                               health="/ready", matcher="200-299")])}

    urls: list[str] = []

    def answer(edge: object, probe: engine.Probe) -> int:
        urls.append(probe.url())
        return 300

    monkeypatch.setattr(engine, "run_probe", answer)
    monkeypatch.setattr(engine, "TARGET_HEALTH_TIMEOUT_S", 0.0)
    with pytest.raises(UserError, match=r"web: HTTP GET /ready on w:8443 -> 300 \(unhealthy; matcher 200-299\)"):
        engine.wait_targets_healthy(Edge(), lambda _: None)  # type: ignore[arg-type]
    assert urls == ["http://w:8443/ready"]
    monkeypatch.setattr(engine, "run_probe", lambda edge, probe: 299)
    engine.wait_targets_healthy(Edge(), lambda _: None)  # type: ignore[arg-type]


# -- keyed by project and stack -------------------------------------------------------------------

def test_two_projects_with_the_same_stack_share_no_name_and_no_label_filter() -> None:
    shop, blog = Scope("shop", "dev"), Scope("blog", "dev")
    assert shop.label_filter() != blog.label_filter()
    assert "rampart.local.project=shop" in shop.label_filter() and "rampart.local.stack=dev" in shop.label_filter()
    assert shop.prefix != blog.prefix and shop.network_name() != blog.network_name()
    assert shop.container_name("web", "app") != blog.container_name("web", "app")
    assert shop.volume_name("web", "tmp") != blog.volume_name("web", "tmp")
    assert shop.image_tag("web", "app") != blog.image_tag("web", "app")
    assert Scope("Shop.Front", "dev").image_tag("web", "app") == "rampart-local/shop.front-dev-web-app:latest"


def test_scope_of_reads_the_project_name() -> None:
    assert Scope.of(ALB_PROGRAM, "dev") == Scope("hello-static", "dev")
    assert Scope.of(ROOT, "dev") == Scope("rampart", "dev")


class FakeClient:
    def __init__(self, containers: list[FakeContainer]) -> None:
        outer = self

        class Containers:
            def list(self, all: bool, filters: dict[str, list[str]],  # noqa: A002
                     ignore_removed: bool = False) -> list[FakeContainer]:
                wanted = dict(f.split("=", 1) for f in filters["label"])
                return [c for c in outer.all if all and wanted.items() <= c.labels.items()]

        self.all = containers
        self.containers = Containers()


def labelled(project: str, service: str) -> FakeContainer:
    return FakeContainer([state(None, status="running")], labels={
        **Scope(project, "dev").labels(service), engine.LABEL_CONTAINER: "app", engine.LABEL_ESSENTIAL: "true"})


def test_logs_of_a_service_that_does_not_exist_lists_the_ones_that_do() -> None:
    client = FakeClient([labelled("shop", "web"), labelled("shop", "api"), labelled("blog", "posts")])
    with pytest.raises(UserError) as raised:
        engine.logs(client, Scope("shop", "dev"), "nope", False, print)  # type: ignore[arg-type]
    assert str(raised.value) == ("--service nope: project 'shop' stack 'dev' has no such service running locally; "
                                 "it has api, web")
    with pytest.raises(UserError, match="project 'none' stack 'dev': nothing to show; run `rampart local up` first"):
        engine.logs(client, Scope("none", "dev"), "web", False, print)  # type: ignore[arg-type]


# -- offline builds -------------------------------------------------------------------------------

def test_local_base_images_are_the_ones_the_script_makes_and_an_explicit_build_arg_wins() -> None:
    script = (ROOT / "scripts" / "base-images.sh").read_text()
    for image in LOCAL_BASE_IMAGES.values():
        assert image in script, f"scripts/base-images.sh does not make {image}"
    assert parse_build_args([], local_base_images=True) == LOCAL_BASE_IMAGES
    assert parse_build_args(["NGINX_IMAGE=mirror/nginx:1"], local_base_images=True)["NGINX_IMAGE"] == "mirror/nginx:1"
    assert parse_build_args([]) == {}


def test_local_base_images_missing_from_the_engine_are_named_unless_a_build_arg_replaces_them() -> None:
    import docker

    from rampart.local.command import require_local_base_images

    present = {LOCAL_BASE_IMAGES["NODE_IMAGE"], LOCAL_BASE_IMAGES["RUNTIME_IMAGE"], LOCAL_BASE_IMAGES["BUILD_IMAGE"]}

    class Images:
        def get(self, image: str) -> str:
            if image not in present:
                raise docker.errors.ImageNotFound(image)
            return image

    class Client:
        images = Images()

    nginx = LOCAL_BASE_IMAGES["NGINX_IMAGE"]
    with pytest.raises(UserError, match=f"--local-base-images: {nginx} not in the engine; make them with "
                                        "`scripts/base-images.sh`"):
        require_local_base_images(Client(), parse_build_args([], local_base_images=True))
    require_local_base_images(Client(), parse_build_args(["NGINX_IMAGE=mirror/nginx:1"], local_base_images=True))
    present.add(nginx)
    require_local_base_images(Client(), parse_build_args([], local_base_images=True))


def test_docs_state_the_waits_and_the_offline_images_the_code_uses() -> None:
    docs = (ROOT / "docs" / "local.md").read_text()
    assert f"every {engine.PROGRESS_S:.0f} s" in docs
    assert f"fails after {engine.TARGET_HEALTH_TIMEOUT_S:.0f} s" in docs
    for image in LOCAL_BASE_IMAGES.values():
        assert f"`{image}`" in docs, image
    assert "--local-base-images" in (ROOT / "README.md").read_text()


class FakeObject:
    """A volume or network: a name, labels, and whether `down` removed it."""

    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.name, self.labels, self.removed = name, labels, False
        self.attrs = {"Labels": labels}

    def remove(self, force: bool = False) -> None:
        self.removed = True


def matching(objects: list[Any], filters: dict[str, list[str]]) -> list[Any]:
    """The engine's label filter: every `key=value` given must be one of the object's labels (a bare
    `key`: the object has that label)."""
    wanted = [f.split("=", 1) for f in filters["label"]]
    return [o for o in objects if not getattr(o, "removed", False)
            and all(k in o.labels and (not v or o.labels[k] == v[0]) for k, *v in wanted)]


class FakeEngine:
    """Containers, volumes and networks of several projects on one engine, filtered as the engine filters."""

    def __init__(self, containers: list[FakeContainer], volumes: list[FakeObject], networks: list[FakeObject]) -> None:
        outer = self
        self.all, self.volume_list, self.network_list = containers, volumes, networks

        class Listing:
            def __init__(self, objects: list[Any]) -> None:
                self.objects = objects

            def list(self, all: bool = False, filters: dict[str, list[str]] | None = None,  # noqa: A002
                     ignore_removed: bool = False) -> list[Any]:
                return matching(self.objects, filters or {"label": []})

        self.containers = Listing(outer.all)
        self.volumes = Listing(outer.volume_list)
        self.networks = Listing(outer.network_list)


class ProjectContainer(FakeContainer):
    """A container of one project's `dev` task, as `rampart local up` labels and names it."""

    def __init__(self, project: str, service: str, status: str, essential: bool = True) -> None:
        super().__init__([state(None, status=status)], labels={
            **Scope(project, "dev").labels(service), engine.LABEL_CONTAINER: "app",
            engine.LABEL_ESSENTIAL: str(essential).lower()})
        self.name = Scope(project, "dev").container_name(service, "app")
        self.attrs["HostConfig"] = {"NetworkMode": "rampart"}
        self.removed = self.stopped = False

    def remove(self, force: bool = False) -> None:
        self.removed = True

    def stop(self, timeout: int = 0) -> None:
        self.stopped = True


def test_down_and_the_stopped_task_check_of_one_project_leave_another_projects_same_stack_alone() -> None:
    """Two programs with a `dev` stack on one engine: `down` in one removes only its own containers,
    volumes and network; an exited essential container of the other project's task stops nothing of
    this one."""
    shop, blog = Scope("shop", "dev"), Scope("blog", "dev")
    shop_app = ProjectContainer("shop", "web", "running")
    blog_app = ProjectContainer("blog", "web", "running")
    blog_exited = ProjectContainer("blog", "worker", "exited")
    blog_worker_sidecar = ProjectContainer("blog", "worker", "running", essential=False)
    volumes = [FakeObject(s.volume_name("web", "tmp"), s.labels("web")) for s in (shop, blog)]
    networks = [FakeObject(s.network_name(), s.labels()) for s in (shop, blog)]
    client = FakeEngine([shop_app, blog_app, blog_exited, blog_worker_sidecar], volumes, networks)

    assert engine.stopped_tasks(client, shop) == {}  # type: ignore[arg-type]
    assert not blog_worker_sidecar.stopped, "shop's look at its tasks stopped blog's"
    removed = engine.down(client, shop)  # type: ignore[arg-type]
    assert removed == ["container rampart-shop-dev-web-app", "volume rampart-shop-dev-web-tmp",
                       "network rampart-shop-dev"], removed
    assert not any(c.removed for c in (blog_app, blog_exited, blog_worker_sidecar))
    assert [v.removed for v in volumes] == [True, False] and [n.removed for n in networks] == [True, False]


def test_up_refuses_names_another_project_and_stack_already_hold() -> None:
    """Project `a` stack `b-c` and project `a-b` stack `c` spell the same names (`rampart-a-b-c-...`):
    the second `up` stops before building, naming what the first holds, instead of mounting its volume."""
    first, second = Scope("a", "b-c"), Scope("a-b", "c")
    assert first.container_name("web", "app") == second.container_name("web", "app"), "the clash this guards"
    held = ProjectContainer("a", "web", "running")
    held.labels.update(first.labels("web"))
    held.name = first.container_name("web", "app")
    edge = ProjectContainer("a", engine.EDGE, "running")
    edge.labels.update(first.labels(engine.EDGE))
    edge.name = first.container_name(engine.EDGE, engine.EDGE)
    volume = FakeObject(first.volume_name("web", "tmp"), first.labels("web"))
    client = FakeEngine([held, edge], [volume], [FakeObject(first.network_name(), first.labels())])
    task = Task("web", "web-c", {"volumes": [{"name": "tmp"}]}, [{"name": "app"}])
    with pytest.raises(UserError) as raised:
        rollout.up(client, second, [task], project_dir=Path("."), secrets={}, secrets_path=Path("x.env"),  # type: ignore[arg-type]
                   build_args={}, edge_image=None, https_port=8443, http_port=8080, say=print)
    assert str(raised.value) == (
        "project 'a-b' stack 'c': another local run already uses these names: "
        "container rampart-a-b-c-web-app (project 'a' stack 'b-c'); container rampart-a-b-c-edge-edge (project 'a' "
        "stack 'b-c'); volume rampart-a-b-c-web-tmp (project 'a' "
        "stack 'b-c'); network rampart-a-b-c (project 'a' stack 'b-c'); run `rampart local down` there, or "
        "rename this project or stack")
    assert engine.name_clashes(client, first, [task]) == [], "a run's own names are no clash"  # type: ignore[arg-type]
