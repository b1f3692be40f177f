"""Which VOLUME paths an image declares (read from its Dockerfile, no build), and the finding for a
task volume mounted at a path the image does not declare: on Fargate such a volume is an empty
root-owned 0755 directory, unwritable by a non-root container. No Docker needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.components.image import Image, ImageArgs, declared_volumes, undeclared_volume_findings
from rampart.components.nginx_conf import CONTAINER_PATHS
from rampart.offline.mock_engine import run_program_full

ROOT = Path(__file__).resolve().parents[2]

MULTI = """\
ARG BASE=debian:12@sha256:{digest}
ARG CACHE_DIR=/var/cache/x
FROM ${{BASE}} AS build
VOLUME /build-only
FROM ${{BASE}} AS base
VOLUME ["/run/a", "/run/b"]
FROM base AS middle
ARG CACHE_DIR
ENV STATE=/var/lib/state
VOLUME $CACHE_DIR ${{STATE}}/db /run/a
FROM middle AS runtime
ARG SUB=tls
VOLUME /run/proxy/${{SUB}}
FROM base AS other
VOLUME /other-only
""".format(digest="0" * 64)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return path


def test_volumes_are_inherited_through_the_target_stages_from_chain_only(tmp_path: Path) -> None:
    path = write(tmp_path, MULTI)
    assert declared_volumes(path, "runtime") == (
        "/run/a", "/run/b", "/var/cache/x", "/var/lib/state/db", "/run/proxy/tls")
    # stages the target does not build on: `build` (same base image, not a stage parent), `other`
    assert "/build-only" not in declared_volumes(path, "runtime")
    assert "/other-only" not in declared_volumes(path, "runtime")
    assert declared_volumes(path, "base") == ("/run/a", "/run/b")
    assert declared_volumes(path, "build") == ("/build-only",)
    assert declared_volumes(path) == ("/run/a", "/run/b", "/other-only"), "no target: the last stage"


def test_build_args_override_arg_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, MULTI)
    volumes = declared_volumes(path, "runtime", {"CACHE_DIR": "/cache", "SUB": "certs"})
    assert volumes == ("/run/a", "/run/b", "/cache", "/var/lib/state/db", "/run/proxy/certs")


def test_json_and_plain_forms_and_several_paths_per_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'FROM scratch\nVOLUME ["/a", "/b"]\nVOLUME /c /d\nVOLUME "/e"\nVOLUME /a\n')
    assert declared_volumes(path) == ("/a", "/b", "/c", "/d", "/e")


def test_unknown_stage_and_unparsable_file_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, MULTI)
    with pytest.raises(ValueError, match="no stage named 'nope'"):
        declared_volumes(path, "nope")
    with pytest.raises(ValueError, match="no FROM"):
        declared_volumes(write(tmp_path, "ARG X=1\n"))
    with pytest.raises(ValueError, match="does not parse"):
        declared_volumes(write(tmp_path, "# nothing\n"))


def test_shipped_images_declare_every_path_their_tasks_mount() -> None:
    """The task definition mounts /run/proxy and /var/cache/proxy into the sidecar (sidecar.py) and
    the app's writable_paths (default ["/tmp"], web_service.py) into the app."""
    proxy = declared_volumes(ROOT / "proxy" / "Dockerfile", "runtime")
    assert undeclared_volume_findings("proxy", ["/run/proxy", CONTAINER_PATHS["var"]], proxy) == []
    app = declared_volumes(ROOT / "app" / "Dockerfile", "runtime")
    assert undeclared_volume_findings("app", ["/tmp"], app) == []


def test_findings_name_container_path_and_fix() -> None:
    findings = undeclared_volume_findings("proxy", ["/run/proxy", "/var/cache/proxy", "/tmp"],
                                          ("/run/proxy", "/var/cache/proxy/"))
    assert len(findings) == 2, findings
    first, second = findings
    assert "'proxy'" in first and "'/var/cache/proxy'" in first, first
    assert "VOLUME /var/cache/proxy" in first and "owned by the runtime user" in first, first
    assert "'/tmp'" in second and "VOLUME /tmp" in second, second
    assert undeclared_volume_findings("app", [], ()) == []


def test_image_component_knows_its_volumes(tmp_path: Path) -> None:
    path = write(tmp_path, MULTI)
    seen: list[tuple[str, ...]] = []

    def program() -> None:
        image = Image("svc", ImageArgs(context=str(tmp_path), target="middle", build_args={"CACHE_DIR": "/c"}))
        seen.append(image.volumes)

    run_program_full(program, stack="test")
    assert seen == [("/run/a", "/run/b", "/c", "/var/lib/state/db")], path
