"""`rampart local up`'s two verdicts after traffic moved, without Docker (tests/local/test_local_rollout.py
runs the whole story on the engine): a new release is rolled back once its target group health check
failed its unhealthy threshold's number of times in a row (not before, and not one later), and the old
release is kept until the bake ends."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from rampart.local import rollout
from rampart.local.engine import Probe
from rampart.local.scope import Scope
from rampart.local.tasks import Task


def _switch(monkeypatch: pytest.MonkeyPatch, probe: Probe, codes: list[int]) -> rollout.Switch:
    monkeypatch.setattr(rollout, "task_containers", lambda client, scope, service, release=None: [])
    answers = iter(codes)
    monkeypatch.setattr(rollout, "run_probe", lambda edge, p: next(answers))
    switch = rollout.Switch(client=None, scope=Scope("p", "dev"), routed=[], serving={"web": "green"},  # type: ignore[arg-type]
                            edge=object(), config_dir=Path("."), https_port=8443, say=lambda _: None)  # type: ignore[arg-type]
    monkeypatch.setattr(switch, "probes_of", lambda change: [probe])
    return switch


def _change(bake_s: float = 0.0) -> rollout.Change:
    return rollout.Change(Task("web", "web-dev", {}, [{"name": "app"}]), [], new="green", old="blue", bake_s=bake_s)


@pytest.mark.parametrize("threshold", [1, 3])
def test_a_release_is_rolled_back_at_its_unhealthy_threshold_not_before(monkeypatch: pytest.MonkeyPatch,
                                                                        threshold: int) -> None:
    probe = Probe("web", "10.0.0.2:8443", "HTTPS", "/healthz", "200", unhealthy_threshold=threshold)
    switch = _switch(monkeypatch, probe, [503] * threshold)
    change = _change()
    verdicts = [switch.release_problem(change, moved=True) for _ in range(threshold)]
    assert verdicts[:-1] == [None] * (threshold - 1), verdicts
    assert verdicts[-1] is not None and f"failed {threshold} times in a row" in verdicts[-1], verdicts


def test_a_passing_check_starts_the_count_again(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = Probe("web", "10.0.0.2:8443", "HTTPS", "/healthz", "200", unhealthy_threshold=2)
    switch = _switch(monkeypatch, probe, [503, 200, 503, 503])
    change = _change()
    assert [switch.release_problem(change, moved=True) is None for _ in range(4)] == [True, True, True, False]


def test_the_old_release_is_kept_until_the_bake_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    switch = _switch(monkeypatch, Probe("web", "a", "HTTPS", "/healthz", "200"), [])
    monkeypatch.setattr(rollout, "CHECK_INTERVAL_S", 0.01)
    monkeypatch.setattr(switch, "release_problem", lambda change, moved: None)
    finished: list[float] = []
    monkeypatch.setattr(switch, "finish", lambda change: finished.append(time.time()))
    monkeypatch.setattr(switch, "roll_back", lambda change, moved: pytest.fail("a clean release was rolled back"))
    change = _change(bake_s=0.3)
    change.bake_until = time.time() + 0.3
    switch.bake([change])
    assert len(finished) == 1 and finished[0] >= change.bake_until, (finished, change.bake_until)


def test_a_release_that_fails_during_the_bake_is_rolled_back_not_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    switch = _switch(monkeypatch, Probe("web", "a", "HTTPS", "/healthz", "200"), [])
    monkeypatch.setattr(rollout, "CHECK_INTERVAL_S", 0.01)
    verdicts = iter([None, "its container 'app' is unhealthy"])
    monkeypatch.setattr(switch, "release_problem", lambda change, moved: next(verdicts))
    outcome: list[Any] = []
    monkeypatch.setattr(switch, "finish", lambda change: outcome.append("finished"))
    monkeypatch.setattr(switch, "roll_back", lambda change, moved: outcome.append(("rolled back", moved)))
    change = _change(bake_s=60)
    change.bake_until = time.time() + 60
    switch.bake([change])
    assert outcome == [("rolled back", True)], outcome
