"""How `rampart local up` reads a service's deployment from the plan (strategy, bake time) and the
`--bake-time` override: the boundaries ECS sets (0-1440 whole minutes), and the bake each strategy
gets locally."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from rampart.errors import UserError
from rampart.local.deployment import (
    MAX_BAKE_MINUTES, STRATEGIES, Deployment, deployment_of, parse_bake_time,
)
from rampart.local.tasks import ECS_SERVICE, tasks_from_resources
from rampart.offline.plan import run_stack

ROOT = Path(__file__).resolve().parents[2]
WHERE = "aws:ecs/service:Service 'web'"


def service(**config: Any) -> dict[str, Any]:
    """An ECS service's plan inputs with this deploymentConfiguration (camelCase, as the mock records)."""
    return {"cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/c", "deploymentConfiguration": config}


def test_no_deployment_configuration_is_ecs_default_rolling_without_bake() -> None:
    assert deployment_of({}, WHERE) == Deployment("ROLLING", 0)
    assert deployment_of(service(), WHERE) == Deployment("ROLLING", 0)
    assert Deployment().bake_s == 0.0


@pytest.mark.parametrize(("raw", "minutes"), [("0", 0), ("1", 1), ("10", 10), (str(MAX_BAKE_MINUTES), 1440), (15, 15)])
def test_bake_time_within_ecs_range_is_taken(raw: object, minutes: int) -> None:
    found = deployment_of(service(strategy="BLUE_GREEN", bakeTimeInMinutes=raw), WHERE)
    assert found == Deployment("BLUE_GREEN", minutes)
    assert found.bake_s == minutes * 60.0


@pytest.mark.parametrize("raw", [str(MAX_BAKE_MINUTES + 1), "-1", "1.5", "ten", "", True, 2.0])
def test_bake_time_outside_ecs_range_is_refused_naming_the_value_and_where(raw: object) -> None:
    with pytest.raises(UserError) as raised:
        deployment_of(service(strategy="BLUE_GREEN", bakeTimeInMinutes=raw), WHERE)
    message = str(raised.value)
    assert f"{WHERE}: deploymentConfiguration.bakeTimeInMinutes is {raw!r}" in message
    assert "from 0 to 1440" in message


def test_an_unknown_strategy_is_refused_with_the_ones_ecs_accepts() -> None:
    with pytest.raises(UserError, match=r"strategy is 'BLUEGREEN'; ECS accepts ROLLING, BLUE_GREEN, CANARY, LINEAR"):
        deployment_of(service(strategy="BLUEGREEN"), WHERE)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_bakes_locally_as_documented(strategy: str) -> None:
    """ROLLING ignores bakeTimeInMinutes (as ECS does: the same safe switch, bake 0); the others keep
    the old release for it (canary and linear move all traffic at once locally)."""
    found = deployment_of(service(strategy=strategy, bakeTimeInMinutes="10",
                                  canaryConfiguration={"canaryPercent": 10, "canaryBakeTimeInMinutes": "5"}), WHERE)
    assert found.bake_s == (0.0 if strategy == "ROLLING" else 600.0)
    assert ("all traffic moves at once" in found.describe()) is (strategy in ("CANARY", "LINEAR"))


@pytest.mark.parametrize(("text", "seconds"), [
    ("0", 0.0), ("0s", 0.0), ("1s", 1.0), ("90s", 90.0), ("10", 600.0), ("10m", 600.0),
    (str(MAX_BAKE_MINUTES), MAX_BAKE_MINUTES * 60.0), (f"{MAX_BAKE_MINUTES * 60}s", MAX_BAKE_MINUTES * 60.0),
])
def test_bake_time_option_in_seconds_or_minutes(text: str, seconds: float) -> None:
    assert parse_bake_time(text) == seconds


@pytest.mark.parametrize("text", [str(MAX_BAKE_MINUTES + 1), f"{MAX_BAKE_MINUTES * 60 + 1}s", "-1", "1h", "1.5m", "", "m"])
def test_bake_time_option_outside_the_range_or_unit_is_refused(text: str) -> None:
    with pytest.raises(UserError, match=rf"--bake-time {text!r}: give whole seconds or minutes up to 1440 min"):
        parse_bake_time(text)


def test_a_plans_ecs_service_gives_its_task_the_deployment() -> None:
    """The plan's `aws:ecs/service:Service` is read for each service: today's dev plan has no setting
    (ROLLING, bake 0); the same resources with a BLUE_GREEN configuration on web's service give web
    that deployment and leave api's alone."""
    resources = run_stack(ROOT, "dev").resources
    planned = {t.service: t.deployment for t in tasks_from_resources(resources, ROOT)}
    assert planned == {"web": Deployment(), "api": Deployment()}
    (web,) = [r for r in resources if r.type == ECS_SERVICE and r.name.startswith("web")]
    changed = [dataclasses.replace(r, inputs={**r.inputs, "deploymentConfiguration": {
        "strategy": "BLUE_GREEN", "bakeTimeInMinutes": "10"}}) if r is web else r for r in resources]
    deployed = {t.service: t.deployment for t in tasks_from_resources(changed, ROOT)}
    assert deployed == {"web": Deployment("BLUE_GREEN", 10), "api": Deployment()}
    refused = [dataclasses.replace(r, inputs={**r.inputs, "deploymentConfiguration": {
        "strategy": "BLUE_GREEN", "bakeTimeInMinutes": "1441"}}) if r is web else r for r in resources]
    with pytest.raises(UserError, match=rf"{ECS_SERVICE} '{web.name}': deploymentConfiguration.bakeTimeInMinutes"):
        tasks_from_resources(refused, ROOT)


def test_docs_state_the_deployment_waits_and_limits_the_code_uses() -> None:
    from rampart.local import engine, rollout

    docs = (ROOT / "docs" / "local.md").read_text()
    section = docs[docs.index("## Deploying a change"):]
    section = " ".join(section[:section.index("\n## ", 1)].split())  # one line: the prose wraps anywhere
    assert f"within {engine.CONDITION_TIMEOUT_S:.0f} s" in section
    assert f"within {engine.TARGET_HEALTH_TIMEOUT_S:.0f} s" in section
    assert f"at most {engine.DRAIN_TIMEOUT_S:.0f} s" in section
    assert f"watched every {rollout.CHECK_INTERVAL_S:.0f} s" in section
    assert f"0 up to {MAX_BAKE_MINUTES} minutes" in section
    for strategy in STRATEGIES:
        assert f"`{strategy}`" in section, strategy


def test_up_refuses_a_bad_bake_time_before_it_plans_or_builds(capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from rampart.cli import main
    from rampart.local import command

    def never(*args: object, **kwargs: object) -> object:
        raise AssertionError("planned before the option was checked")

    monkeypatch.setattr(command, "stack_tasks", never)
    assert main(["local", "up", "--stack", "dev", "-C", str(ROOT), "--bake-time", "1441"]) != 0
    assert "rampart local: --bake-time '1441': give whole seconds or minutes up to 1440 min" in capsys.readouterr().err


class Labelled:
    """A container as the rollout reads it: its release label, status and health."""

    def __init__(self, release: str, status: str = "running", health: str | None = "healthy") -> None:
        self.labels = {"rampart.local.release": release}
        self.status = status
        self.attrs = {"State": {"Status": status, **({"Health": {"Status": health}} if health else {})}}


@pytest.mark.parametrize(("edge_says", "present", "serving"), [
    ("green", ["blue", "green"], "green"),  # an interrupted bake: the edge's release is the current one
    (None, ["green"], "green"),
    (None, ["blue", "green"], "blue"),
    ("green", ["blue"], "blue"),  # the edge names a release that is gone
    (None, [], "blue"),
])
def test_the_current_release_is_the_one_the_edge_serves_else_the_one_that_runs(
        monkeypatch: pytest.MonkeyPatch, edge_says: str | None, present: list[str], serving: str) -> None:
    from rampart.local import rollout
    from rampart.local.scope import Scope
    from rampart.local.tasks import Task

    monkeypatch.setattr(rollout, "running_edge", lambda client, scope: object() if edge_says else None)
    monkeypatch.setattr(rollout, "edge_state", lambda edge: {"serving": {"web": edge_says}})
    monkeypatch.setattr(rollout, "task_containers", lambda client, scope, service, release=None: [
        Labelled(r) for r in present if release in (None, r)])
    task = Task("web", "web-dev", {}, [{"name": "app"}])
    assert rollout.serving_releases(None, Scope("p", "dev"), [task]) == {"web": serving}


@pytest.mark.parametrize(("containers", "keeps"), [
    ([Labelled("blue"), Labelled("blue", health=None)], True),
    ([Labelled("blue"), Labelled("blue", health="starting")], True),
    ([Labelled("blue"), Labelled("blue", health="unhealthy")], False),
    ([Labelled("blue"), Labelled("blue", status="exited", health=None)], False),
    ([], False),
])
def test_a_change_starts_beside_the_old_release_only_while_that_one_can_serve(containers: list[Labelled],
                                                                               keeps: bool) -> None:
    from rampart.local import rollout

    assert rollout.keeps_serving(containers) is keeps


@pytest.mark.parametrize(("image", "ports", "mounted", "reloaded"), [
    ("nginx:1", "8443,8080", "here", True),
    ("nginx:2", "8443,8080", "here", False),  # another image: a new edge
    ("nginx:1", "9443,8080", "here", False),  # other ports: a new edge
    ("nginx:1", "8443,8080", "elsewhere", False),  # another copy's config directory: a new edge
])
def test_a_running_edge_is_reloaded_only_when_it_would_read_this_config(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, image: str, ports: str, mounted: str, reloaded: bool) -> None:
    from rampart.local import engine
    from rampart.local.scope import Scope

    here = tmp_path / "here"

    class Edge:
        labels = {engine.LABEL_PORTS: ports}
        attrs = {"Config": {"Image": image},
                 "Mounts": [{"Destination": engine.EDGE_CONFIG_DIR, "Source": str(tmp_path / mounted)}]}

    calls: list[str] = []
    monkeypatch.setattr(engine, "running_edge", lambda client, scope: Edge())
    monkeypatch.setattr(engine, "reload_edge", lambda *args: calls.append("reload"))
    monkeypatch.setattr(engine, "start_edge", lambda *args: calls.append("start"))
    config = engine.EdgeConfig("conf", {})
    engine.ensure_edge(None, Scope("p", "dev"), config, "nginx:1", here, 8443, 8080, print)
    assert calls == (["reload"] if reloaded else ["start"])
