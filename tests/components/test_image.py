"""Image component under Pulumi's mock engine: what the repository, lifecycle policy and
image look like to the engine (and so to the SOC 2 pack)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pulumi
import pytest
from pydantic import ValidationError

from rampart.components.image import Image, ImageArgs, content_tag
from rampart.offline.mock_engine import RegisteredResource, run_program_full

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"

REPO = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
DOCKER_IMAGE = "docker:index/image:Image"
KMS_KEY = "aws:kms/key:Key"


def run(make: Callable[[], Image]) -> tuple[list[RegisteredResource], dict[str, Any]]:
    def program() -> None:
        image = make()
        pulumi.export("imageRef", image.image_ref)
        pulumi.export("imageName", image.image_name)

    result = run_program_full(program, stack="test")
    return result.resources, result.stack_outputs


def one(resources: list[RegisteredResource], type_: str) -> RegisteredResource:
    found = [r for r in resources if r.type == type_]
    assert len(found) == 1, f"expected one {type_}, found {[r.name for r in found]}"
    return found[0]


@pytest.fixture(scope="module")
def default_run() -> tuple[list[RegisteredResource], dict[str, Any]]:
    return run(lambda: Image("web", ImageArgs(context=str(APP), target="runtime")))


def test_component_type_and_children(default_run: tuple[list[RegisteredResource], dict[str, Any]]) -> None:
    resources, _ = default_run
    component = one(resources, "rampart:image:Image")
    assert component.name == "web"
    children = [r for r in resources if r.parent_urn == component.urn]
    assert sorted(r.type for r in children) == sorted([KMS_KEY, REPO, LIFECYCLE, DOCKER_IMAGE])
    assert all(r.name.startswith("web-") for r in children), [r.name for r in children]


def test_repository_is_hardened(default_run: tuple[list[RegisteredResource], dict[str, Any]]) -> None:
    resources, _ = default_run
    repo = one(resources, REPO).inputs
    key = one(resources, KMS_KEY)
    assert repo["name"] == "web-test", "repository web-repo: name is <component>-<stack>"
    assert repo["imageTagMutability"] == "IMMUTABLE", "repository web-repo: tags must be immutable"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}, "repository web-repo: scan on push"
    assert repo["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key.outputs["arn"]}], \
        "repository web-repo: encrypted with the component's own KMS key"
    assert repo["forceDelete"] is False, "repository web-repo: force_delete must default to False"
    assert repo["tags"]["managed-by"] == "rampart"
    assert key.inputs["enableKeyRotation"] is True, "key web-key: rotation must be on"
    assert key.inputs["deletionWindowInDays"] == 30


def test_no_repository_policy(default_run: tuple[list[RegisteredResource], dict[str, Any]]) -> None:
    resources, _ = default_run
    assert not [r for r in resources if r.type in (
        "aws:ecr/repositoryPolicy:RepositoryPolicy", "aws:ecr/registryPolicy:RegistryPolicy")], \
        "Image must not attach a repository policy (access stays with IAM in the account)"


def test_lifecycle_policy_json(default_run: tuple[list[RegisteredResource], dict[str, Any]]) -> None:
    resources, _ = default_run
    repo = one(resources, REPO)
    policy = one(resources, LIFECYCLE).inputs
    assert policy["repository"] == repo.outputs["name"]
    rules = sorted(json.loads(policy["policy"])["rules"], key=lambda r: r["rulePriority"])
    assert rules[0]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                     "countUnit": "days", "countNumber": 7}
    assert rules[1]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30}
    assert all(r["action"] == {"type": "expire"} for r in rules)


def test_image_build(default_run: tuple[list[RegisteredResource], dict[str, Any]]) -> None:
    resources, _ = default_run
    repo = one(resources, REPO)
    image = one(resources, DOCKER_IMAGE).inputs
    build = image["build"]
    # Relative to the project directory (the working directory): the same from any checkout.
    assert not Path(build["context"]).is_absolute() and (Path.cwd() / build["context"]).resolve() == APP, build
    assert build["dockerfile"] == f"{build['context']}/Dockerfile", "the policy pack reads build.dockerfile"
    assert build["target"] == "runtime"
    assert build["platform"] == "linux/amd64"
    assert build["builderVersion"] == "BuilderBuildKit"
    assert build["args"] == {"BUILDKIT_INLINE_CACHE": "1"}
    tag = content_tag(ImageArgs(context=str(APP), target="runtime"))
    assert image["imageName"] == f"{repo.outputs['repositoryUrl']}:{tag}"
    assert build["cacheFrom"] == {"images": [image["imageName"]]}
    assert image["registry"]["server"] == repo.outputs["repositoryUrl"]
    assert image["registry"]["username"] == "AWS"
    assert "registry.password" in one(resources, DOCKER_IMAGE).secret_paths, "the ECR token must be a secret"
    assert image.get("skipPush") is False


def test_image_ref_is_by_digest(default_run: tuple[list[RegisteredResource], dict[str, Any]]) -> None:
    resources, outputs = default_run
    repo_url = one(resources, REPO).outputs["repositoryUrl"]
    ref = outputs["imageRef"]
    assert ref == one(resources, DOCKER_IMAGE).outputs["repoDigest"]
    name, _, digest = ref.partition("@")
    assert name == repo_url and digest.startswith("sha256:") and len(digest) == 71, ref
    assert not outputs["imageName"].endswith(":latest")


def test_given_key_and_settings() -> None:
    resources, _ = run(lambda: Image("api", ImageArgs(
        context=str(APP), dockerfile="Dockerfile", kms_key_arn=KEY_ARN, platform="linux/arm64",
        tag="0123abc", build_args={"REVISION": "0123abc"}, cache_from=["example/cache:1"],
        keep_tagged_images=5, untagged_expiry_days=1, repository_name="team/api",
        tags={"Owner": "team"})))
    assert not [r for r in resources if r.type == KMS_KEY], "a given key must not create another"
    repo = one(resources, REPO).inputs
    assert repo["name"] == "team/api"
    assert repo["encryptionConfigurations"][0]["kmsKey"] == KEY_ARN
    assert repo["tags"] == {"managed-by": "rampart", "Owner": "team"}
    image = one(resources, DOCKER_IMAGE).inputs
    assert image["imageName"].endswith("/team/api:0123abc")
    assert image["build"]["platform"] == "linux/arm64"
    assert "target" not in image["build"] or image["build"]["target"] is None
    assert image["build"]["args"] == {"REVISION": "0123abc", "BUILDKIT_INLINE_CACHE": "1"}
    assert image["build"]["cacheFrom"]["images"][1:] == ["example/cache:1"]
    rules = json.loads(one(resources, LIFECYCLE).inputs["policy"])["rules"]
    assert {r["selection"]["countNumber"] for r in rules} == {1, 5}


def test_any_dockerfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "main.go").write_text("package main\n")
    (tmp_path / "build.Dockerfile").write_text("FROM scratch\nCOPY main.go /\n")
    resources, _ = run(lambda: Image("go", ImageArgs(
        context=str(tmp_path / "svc"), dockerfile=str(tmp_path / "build.Dockerfile"))))
    build = one(resources, DOCKER_IMAGE).inputs["build"]
    assert build["dockerfile"] == "build.Dockerfile"
    assert build["context"] == "svc"


def test_build_paths_are_relative_to_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given absolute or relative, the build records paths relative to the project directory (the
    program's working directory), so a plan from another checkout has the same inputs."""
    monkeypatch.chdir(ROOT)
    relative, _ = run(lambda: Image("rel", ImageArgs(context="app")))
    absolute, _ = run(lambda: Image("rel", ImageArgs(context=str(APP), dockerfile=str(APP / "Dockerfile"))))
    for resources in (relative, absolute):
        build = one(resources, DOCKER_IMAGE).inputs["build"]
        assert build["context"] == "app" and build["dockerfile"] == "app/Dockerfile", build
    monkeypatch.chdir(ROOT / "stacks")
    outside, _ = run(lambda: Image("rel", ImageArgs(context=str(APP))))
    build = one(outside, DOCKER_IMAGE).inputs["build"]
    assert build["context"] == "../app" and build["dockerfile"] == "../app/Dockerfile", build


# --- content tag -----------------------------------------------------------------

def _copy_app(tmp_path: Path) -> Path:
    dest = tmp_path / "app"
    shutil.copytree(APP, dest, ignore=shutil.ignore_patterns("node_modules", "dist"))
    return dest


def test_content_tag_follows_the_build_inputs(tmp_path: Path) -> None:
    ctx = _copy_app(tmp_path)
    args = ImageArgs(context=str(ctx), target="runtime")
    first = content_tag(args)
    assert first == content_tag(args), "the tag must be deterministic"
    (ctx / "node_modules").mkdir()
    (ctx / "node_modules" / "junk.js").write_text("x")
    (ctx / "dist").mkdir()
    (ctx / "dist" / "main.js").write_text("x")
    assert content_tag(args) == first, "files excluded by .dockerignore must not change the tag"
    (ctx / "src" / "server.ts").write_text((ctx / "src" / "server.ts").read_text() + "\n// change\n")
    second = content_tag(args)
    assert second != first, "a source change must change the tag"
    assert content_tag(ImageArgs(context=str(ctx), target="build")) != second
    assert content_tag(ImageArgs(context=str(ctx), target="runtime", build_args={"REVISION": "x"})) != second
    assert content_tag(ImageArgs(context=str(ctx), target="runtime", platform="linux/arm64")) != second


# --- validation ------------------------------------------------------------------

@pytest.mark.parametrize("overrides,needle", [
    ({"tag": "latest"}, "tag 'latest' is refused"),
    ({"tag": "has space"}, "is not a Docker tag"),
    ({"platform": "windows/amd64"}, "platform 'windows/amd64'"),
    ({"build_args": {"NPM_TOKEN": "x"}}, "build_args: 'NPM_TOKEN' looks like a secret"),
    ({"build_args": {"REGISTRY": "https://ci:" + "pw123@npm.example.com/"}},
     "build_args: 'REGISTRY' holds what looks like a password in a URL"),
    ({"context": "/nonexistent/ctx"}, "context '/nonexistent/ctx' is not a directory"),
    ({"dockerfile": "Nope.Dockerfile"}, "does not exist"),
    ({"keep_tagged_images": 0}, "keep_tagged_images"),
    ({"repository_name": "Upper"}, "repository_name 'Upper'"),
    ({"target": "bad stage"}, "target 'bad stage'"),
    ({"unknown": 1}, "unknown"),
])
def test_validation(overrides: dict[str, Any], needle: str) -> None:
    values: dict[str, Any] = {"context": str(APP), **overrides}
    with pytest.raises(ValidationError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        ImageArgs(**values)


def test_content_tag_honours_reincluded_files_under_excluded_dirs(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (tmp_path / ".dockerignore").write_text("vendor\n!vendor/keep.txt\n**/*.log\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "keep.txt").write_text("1")
    (tmp_path / "vendor" / "drop.txt").write_text("1")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "debug.log").write_text("1")
    args = ImageArgs(context=str(tmp_path))
    first = content_tag(args)
    (tmp_path / "vendor" / "drop.txt").write_text("2")
    (tmp_path / "sub" / "debug.log").write_text("2")
    assert content_tag(args) == first, "excluded files must not change the tag"
    (tmp_path / "vendor" / "keep.txt").write_text("2")
    assert content_tag(args) != first, "a file re-included with !pattern must change the tag"
