"""`rampart local compose`: the same tasks as a Compose Specification file, valid against the
specification's JSON schema (the copy check-jsonschema vendors, Apache-2.0, from compose-spec/compose-spec)."""

from __future__ import annotations

import json
import os
import stat
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from rampart.local.compose import compose_document, render
from rampart.local.scope import Scope
from rampart.local.tasks import Task

ROOT = Path(__file__).resolve().parents[2]
SECRET = "compose-secret-2b8e41-never-in-the-file"


def compose_schema() -> dict:  # type: ignore[type-arg]
    vendored = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(vendored.read_text())  # type: ignore[no-any-return]


@pytest.fixture
def document(dev_tasks: list[Task], tmp_path: Path) -> tuple[dict, str, Path]:  # type: ignore[type-arg]
    web = next(t for t in dev_tasks if t.service == "web")
    web.containers[0]["secrets"] = [{"name": "GREETING_TOKEN", "valueFrom": "arn:aws:secretsmanager:x"}]
    doc = compose_document(Scope("rampart", "dev"), dev_tasks, project_dir=tmp_path, secrets={"GREETING_TOKEN": SECRET},
                           secrets_path=tmp_path / "dev.env", build_args={}, edge_image="nginx:test",
                           https_port=8443, http_port=8080)
    return doc, render(doc), tmp_path


def test_the_file_is_valid_against_the_compose_specification(document) -> None:  # type: ignore[no-untyped-def]
    _, text, _ = document
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(yaml.safe_load(text)), key=str)
    assert not errors, "\n".join(e.message for e in errors)


def test_no_secret_value_is_in_the_file_but_in_a_0600_env_file(document) -> None:  # type: ignore[no-untyped-def]
    doc, text, project = document
    assert SECRET not in text
    assert "BEGIN" not in text, "the sidecar's TLS pair belongs in its env file"
    app = doc["services"]["web-app"]
    (env_file,) = app["env_file"]
    path = Path(env_file["path"])
    assert path.is_relative_to(project / ".rampart" / "local")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == f'GREETING_TOKEN="{SECRET}"\n'


def test_the_sidecar_makes_its_own_tls_pair_so_nothing_is_made_for_it(document) -> None:  # type: ignore[no-untyped-def]
    """As on ECS: the proxy container gets the certificate's name and lifetime, no secret, and no
    local pair is made for it (only the edge's)."""
    doc, _, project = document
    proxy = doc["services"]["web-proxy"]
    assert "env_file" not in proxy, proxy.get("env_file")
    assert proxy["environment"]["PROXY_TLS_COMMON_NAME"] == "proxy.internal"
    assert "PROXY_TLS_CERT" not in proxy["environment"] and "PROXY_TLS_KEY" not in proxy["environment"]
    assert not (project / ".rampart" / "local" / "dev" / "tls").exists(), "a local TLS pair was made for the sidecar"


def test_tasks_keep_their_namespace_order_and_hardening(document) -> None:  # type: ignore[no-untyped-def]
    doc, _, _ = document
    app, proxy = doc["services"]["web-app"], doc["services"]["web-proxy"]
    assert app["networks"] == ["rampart-rampart-dev"] and proxy["network_mode"] == "service:web-app"
    assert proxy["depends_on"] == {"web-app": {"condition": "service_healthy"}}
    for service in (app, proxy):
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert service["security_opt"] == ["no-new-privileges"]
    assert proxy["user"] == "10101:10101" and proxy["ulimits"] == {"nofile": {"soft": 65536, "hard": 65536}}
    assert proxy["healthcheck"]["interval"] == "10s"
    declared = {v["target"]: v["volume"]["nocopy"] for v in proxy["volumes"]}
    assert declared == {"/run/proxy": False, "/var/cache/proxy": False}, "the proxy image declares both paths"
    assert app["build"]["context"] == str(ROOT / "app") and app["build"]["target"] == "runtime"
    assert doc["services"]["edge"]["ports"] == ["127.0.0.1:8443:8443", "127.0.0.1:8080:8080"]
    assert os.path.isabs(doc["services"]["edge"]["volumes"][0]["source"])


def test_a_container_without_a_health_check_runs_none_not_its_images(dev_tasks: list[Task], tmp_path: Path) -> None:
    web = next(t for t in dev_tasks if t.service == "web")
    del web.containers[0]["healthCheck"]
    web.containers[1]["dependsOn"] = []  # the sidecar's HEALTHY wait needs the app's check
    doc = compose_document(Scope("rampart", "dev"), [web], project_dir=tmp_path, secrets={},
                           secrets_path=tmp_path / "dev.env", build_args={}, edge_image=None,
                           https_port=8443, http_port=8080)
    assert doc["services"]["web-app"]["healthcheck"] == {"disable": True}
    assert doc["services"]["web-proxy"]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    schema = compose_schema()
    assert not list(jsonschema.validators.validator_for(schema)(schema).iter_errors(yaml.safe_load(render(doc))))


def test_the_compose_project_is_keyed_by_project_and_stack(document) -> None:  # type: ignore[no-untyped-def]
    """`docker compose down` removes what its Compose project name owns: with the stack alone, two
    programs' `dev` files would be one Compose project."""
    doc, _, _ = document
    assert doc["name"] == "rampart-rampart-dev"
    networks = {n for s in doc["services"].values() for n in s.get("networks", [])}
    assert networks == {"rampart-rampart-dev"} and set(doc["networks"]) == networks
