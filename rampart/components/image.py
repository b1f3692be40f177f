"""Image: a hardened ECR repository and a container image built into it from a Dockerfile.

The repository scans on push, has immutable tags, is encrypted with a customer-managed KMS
key (given: the environment's, which Rampart's program passes; or created with rotation), expires untagged images and keeps only the last N,
and has no repository policy (access stays with IAM in the owning account). The image is a
`pulumi_docker.Image` built with BuildKit from any Dockerfile, context and target stage for
one platform, pushed with a short-lived ECR token and tagged by the content of its build
inputs (or an explicit tag such as a git revision; never `latest`). Tasks use `image_ref`,
the pushed image by digest (`repo@sha256:...`), so a deployment always runs the bytes that
were built and scanned.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import dockerfile as dockerfile_parser  # type: ignore[import-not-found]
import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pydantic import Field, field_validator, model_validator

from rampart.components._util import ArgsModel, StrInput, merge_tags, physical_name, Tags
from rampart.components.container_health import (
    ContainerHealthCheck,
    health_check_from_image_config,
    health_check_from_instruction,
)
from rampart_soc2.vocabulary.secret_values import secret_kind, secret_name

#: Platforms Fargate runs (x86_64 and Graviton).
PLATFORMS = ("linux/amd64", "linux/arm64")

_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REPO_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_STAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_build_args(value: dict[str, str]) -> dict[str, str]:
    """Build args are recorded in the image history: none may look like a secret, by name or by value."""
    for key, item in value.items():
        kind = secret_kind(item)
        if secret_name(key) or kind is not None:
            why = f"holds what looks like {kind}" if kind is not None else "looks like a secret"
            raise ValueError(
                f"build_args: {key!r} {why}; build args are stored in the image history. "
                "Give secrets to the task at run time instead (`secrets`)."
            )
    return value


class RepositoryLifecycle(ArgsModel):
    """How the image's ECR repository keeps images (its lifecycle policy): part of `ImageArgs`, and of a
    stack file's `rampart:services.<name>.image` as it is (camelCase keys), not a copy."""

    untagged_expiry_days: int = Field(7, ge=1, le=365, description="Days after which untagged images are expired.")
    keep_tagged_images: int = Field(30, ge=1, le=1000, description="How many most-recent images the lifecycle policy keeps.")

    def lifecycle(self) -> dict[str, int]:
        """These settings as `ImageArgs` takes them."""
        return {name: getattr(self, name) for name in RepositoryLifecycle.model_fields}


class ImageArgs(RepositoryLifecycle):
    """How to build the image and how to keep its repository."""

    context: str = Field(
        description="Build context directory. Relative paths are resolved against the current "
        "directory when the program runs (the Pulumi project directory); the resource records the "
        "path relative to it, so the build's inputs are the same from any checkout."
    )
    dockerfile: Optional[str] = Field(
        None,
        description="Dockerfile path; relative paths are resolved against `context`. None means "
        "`<context>/Dockerfile`. The SOC 2 pack reads this file to check the Dockerfile.",
    )
    target: Optional[str] = Field(
        None, description="Stage of a multi-stage Dockerfile to build; None builds the last stage."
    )
    platform: str = Field(
        "linux/amd64", description=f"Platform to build for; one of {', '.join(PLATFORMS)} (match the task's CPU architecture)."
    )
    build_args: dict[str, str] = Field(
        default_factory=dict,
        description="Build arguments (e.g. base image overrides, REVISION). Not for secrets: build "
        "args are recorded in the image history.",
    )
    tag: Optional[str] = Field(
        None,
        description="Image tag, e.g. a git revision. None tags with a hash of the build inputs "
        "(context files not excluded by .dockerignore, Dockerfile, target, platform, build args), "
        "so an unchanged context is not rebuilt and a changed one gets a new immutable tag. "
        "`latest` is refused.",
    )
    cache_from: list[str] = Field(
        default_factory=list,
        description="Extra image references to use as BuildKit cache sources (e.g. the image "
        "currently deployed). The image's own tag is always a cache source and every image is "
        "built with inline cache metadata, so any pushed image can seed a later build.",
    )
    repository_name: Optional[str] = Field(
        None, description="ECR repository name; None derives `<name>-<stack>` from the component name."
    )
    kms_key_arn: Optional[StrInput] = Field(
        None,
        description="Customer-managed KMS key ARN that encrypts the repository: the environment's "
        "(`EnvironmentRef.kms_key_arn`, whose key policy lets ECR use it; Rampart's own program passes it) or "
        "your own. None creates a key with automatic rotation for this repository alone ($1 a month each).",
    )
    key_deletion_window_days: int = Field(
        30, ge=7, le=30, description="Waiting period before a deleted created key is destroyed (created key only)."
    )
    scan_on_push: bool = Field(True, description="Scan every pushed image for vulnerabilities (opt-out is reported by the SOC 2 pack).")
    immutable_tags: bool = Field(True, description="Refuse to overwrite a pushed tag (opt-out is reported by the SOC 2 pack).")
    force_delete: bool = Field(
        False, description="Let `pulumi destroy` delete the repository while it still holds images."
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        if value not in PLATFORMS:
            raise ValueError(f"platform {value!r} is not a Fargate platform; use one of {', '.join(PLATFORMS)}")
        return value

    @field_validator("target")
    @classmethod
    def _target(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _STAGE_RE.match(value):
            raise ValueError(f"target {value!r} is not a stage name (letters, digits, '.', '_', '-')")
        return value

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        if not _TAG_RE.match(value):
            raise ValueError(f"tag {value!r} is not a Docker tag (1-128 of letters, digits, '_', '.', '-')")
        if value.lower() == "latest":
            raise ValueError("tag 'latest' is refused: tags are immutable and tasks deploy by digest; use a git revision or leave tag unset")
        return value

    @field_validator("repository_name")
    @classmethod
    def _repository_name(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and (len(value) < 2 or len(value) > 256 or not _REPO_NAME_RE.match(value)):
            raise ValueError(f"repository_name {value!r} must be 2-256 lowercase letters, digits and . _ - / separators")
        return value

    @field_validator("build_args")
    @classmethod
    def _build_args(cls, value: dict[str, str]) -> dict[str, str]:
        return check_build_args(value)

    @model_validator(mode="after")
    def _paths(self) -> ImageArgs:
        context = Path(self.context)
        if not context.is_dir():
            raise ValueError(f"context {self.context!r} is not a directory (resolved: {context.resolve()})")
        dockerfile = self.dockerfile_path()
        if not dockerfile.is_file():
            raise ValueError(f"dockerfile {str(dockerfile)!r} does not exist; set `dockerfile` to the file's path")
        return self

    def context_path(self) -> Path:
        """The build context as an absolute path."""
        return Path(self.context).resolve()

    def dockerfile_path(self) -> Path:
        """The Dockerfile as an absolute path."""
        if self.dockerfile is None:
            return self.context_path() / "Dockerfile"
        path = Path(self.dockerfile)
        return (path if path.is_absolute() else self.context_path() / path).resolve()


def project_relative(path: Path) -> str:
    """`path` relative to the Pulumi project directory (the program's working directory), in `/`
    form: `app`, `app/Dockerfile`, `../services/api` in a monorepo."""
    return Path(os.path.relpath(path, Path.cwd())).as_posix()


# --------------------------------------------------------------------------- content tag

def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex over slash paths."""
    out = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(c)
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(f"^{out}$")


def _read_dockerignore(context: Path) -> list[tuple[bool, re.Pattern[str], str]]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    rules: list[tuple[bool, re.Pattern[str], str]] = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line[1:] if negate else line).lstrip("/")
        if pattern == ".":
            continue
        rules.append((negate, _dockerignore_regex(pattern), pattern))
    return rules


def _excluded(rel: str, rules: list[tuple[bool, re.Pattern[str], str]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negate, regex, _ in rules:
        if any(regex.match(p) for p in prefixes):
            excluded = not negate
    return excluded


def _prunable(rel_dir: str, rules: list[tuple[bool, re.Pattern[str], str]]) -> bool:
    """An excluded directory no `!pattern` could re-include anything under (so the walk can
    skip it, e.g. node_modules)."""
    if not _excluded(rel_dir, rules):
        return False
    for negate, _, pattern in rules:
        if negate and (pattern.startswith(rel_dir + "/") or pattern[:1] in "*?[\\"):
            return False
    return True


def content_tag(args: ImageArgs) -> str:
    """Tag from a hash of everything that goes into the build: the context files Docker would
    send (after .dockerignore), the Dockerfile, target, platform and build args."""
    context = args.context_path()
    rules = _read_dockerignore(context)
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(context):
        here = Path(root).relative_to(context).as_posix()
        dirs[:] = sorted(d for d in dirs if not _prunable(d if here == "." else f"{here}/{d}", rules))
        for filename in sorted(files):
            full = Path(root) / filename
            rel = full.relative_to(context).as_posix()
            if _excluded(rel, rules):
                continue
            digest.update(rel.encode() + b"\0")
            if full.is_symlink():
                digest.update(b"link:" + os.readlink(full).encode())
            else:
                digest.update(full.read_bytes())
            digest.update(b"\0")
    digest.update(args.dockerfile_path().read_bytes())
    digest.update(json.dumps(
        {"target": args.target, "platform": args.platform, "args": args.build_args}, sort_keys=True
    ).encode())
    return "c-" + digest.hexdigest()[:16]


def lifecycle_policy(untagged_expiry_days: int, keep_tagged_images: int) -> str:
    """ECR lifecycle policy: expire untagged images after N days, keep the last N images."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images after {untagged_expiry_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_expiry_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep only the {keep_tagged_images} most recent images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_tagged_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


# --------------------------------------------------------------------------- declared volumes
#
# On Fargate a task volume mounted into a container is an empty directory owned by root with mode
# 0755, unless the image declares a `VOLUME` at exactly the mount path: then the image's content,
# ownership and mode at that path are copied into the volume. A non-root container under a
# read-only root can therefore write only to mount paths its image declares.

_DF_VAR_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def _df_expand(text: str, scope: Mapping[str, Optional[str]]) -> str:
    """Expand $VAR, ${VAR}, ${VAR:-word} and ${VAR:+word} as the Dockerfile frontend does
    (an unset variable expands to the empty string)."""

    def repl(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("plain")
        value = scope.get(name)
        op, word = m.group("op"), m.group("word") or ""
        if op in (":-", "-"):
            return _df_expand(word, scope) if value is None or (op == ":-" and value == "") else value
        if op in (":+", "+"):
            return "" if value is None or (op == ":+" and value == "") else _df_expand(word, scope)
        return value or ""

    return _DF_VAR_RE.sub(repl, text)


def _df_unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


#: The PATH a container gets when its image sets none (Docker's and ECS's default).
DEFAULT_SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass(frozen=True)
class ImageFacts:
    """What an image declares, and where its Dockerfile shows it, what it holds: read from the
    stage a build targets (`read_image_facts`) or from an image config (`from_image_config`)."""

    source: str
    """Where the facts come from, for messages: `app/Dockerfile, stage 'runtime'`, `image config`."""
    volumes: tuple[str, ...] = ()
    """The `VOLUME` paths the image declares, in declaration order."""
    health_check: Optional[ContainerHealthCheck] = None
    """The image's own `HEALTHCHECK` as ECS runs it; None when it has none (or `HEALTHCHECK NONE`)."""
    health_check_where: Optional[str] = None
    """The instruction the health check comes from (`file:line`), for messages."""
    contents: Optional[tuple[str, ...]] = None
    """The paths COPY/ADD put into the image, each with everything below it, when that is all it
    holds (a stage chain from `scratch` without RUN); None when a base image adds files not known here."""
    search_path: tuple[str, ...] = DEFAULT_SEARCH_PATH
    """The directories a command name is looked up in (the image's `PATH`)."""

    @classmethod
    def from_image_config(cls, config: Mapping[str, Any], source: str = "image config") -> "ImageFacts":
        """Facts from an image config (`docker inspect`'s `Config`, an OCI config's `config`): its
        health check and VOLUMEs; its files are not known."""
        path = next((e.split("=", 1)[1] for e in config.get("Env") or [] if e.startswith("PATH=")), None)
        return cls(
            source=source,
            volumes=tuple(config.get("Volumes") or {}),
            health_check=health_check_from_image_config(config, source),
            health_check_where=source,
            search_path=tuple(p for p in path.split(":") if p) if path else DEFAULT_SEARCH_PATH,
        )

    def may_hold(self, path: str) -> bool:
        """False only when the image certainly has nothing at `path`."""
        if self.contents is None:
            return True
        return any(path == item or item == "/" or path.startswith(item + "/") for item in self.contents)

    def missing_executable(self, check: ContainerHealthCheck) -> Optional[str]:
        """The program `check` runs when this image certainly does not hold it (looked up in the
        image's PATH for a bare name), else None."""
        program = check.executable()
        if "/" not in program:
            candidates = [posixpath.join(d, program) for d in self.search_path]
        elif program.startswith("/"):
            candidates = [program]
        else:
            return None  # relative to the working directory: not judged
        return None if any(self.may_hold(c) for c in candidates) else program


@dataclass
class _StageScan:
    name: Optional[str]
    parent: Optional[int]          # index of the stage this one is FROM, if any
    from_scratch: bool
    env: dict[str, Optional[str]]
    volumes: list[str] = field(default_factory=list)
    health: Optional[tuple[Optional[ContainerHealthCheck], str]] = None   # (check or None for NONE, where)
    contents: list[str] = field(default_factory=list)
    runs: bool = False
    workdir: str = "/"


def _copy_destination(values: Sequence[str], workdir: str, scope: Mapping[str, Optional[str]], exec_form: bool) -> str:
    dest = _df_expand(values[-1] if exec_form else _df_unquote(values[-1]), scope)
    return posixpath.normpath(posixpath.join(workdir, dest))


def read_image_facts(
    dockerfile_path: str | os.PathLike[str],
    target: Optional[str] = None,
    build_args: Optional[Mapping[str, str]] = None,
) -> ImageFacts:
    """What the image built from `dockerfile_path` at stage `target` (None: the last stage) declares
    and holds: its VOLUMEs, its HEALTHCHECK, and (from `scratch`) its files.

    A stage inherits the VOLUMEs, HEALTHCHECK, ENV and files of the earlier stage it is built `FROM`
    (and so on up the chain); stages the target does not build on are not counted, nor what an
    external base image declares (not visible here: declare it again in the Dockerfile). Variables
    are expanded as the build does: a stage's ARGs (defaults overridden by `build_args`; a global
    ARG re-declared without a value takes the global value) and ENVs, ENVs inherited through the
    FROM chain. Both the JSON form (`VOLUME ["/a", "/b"]`) and the plain form (`VOLUME /a /b`)
    are read. Raises ValueError when the file does not parse, has no stage `target`, or has a
    HEALTHCHECK ECS cannot run as written."""
    overrides = dict(build_args or {})
    path = Path(dockerfile_path)
    try:
        commands = dockerfile_parser.parse_file(str(path))
    except dockerfile_parser.GoParseError as exc:
        raise ValueError(f"{path}: the Dockerfile does not parse: {exc}") from exc
    shown = project_relative(path.resolve())

    global_args: dict[str, Optional[str]] = {}
    stages: list[_StageScan] = []
    stage_args: dict[str, Optional[str]] = {}
    for cmd in commands:
        kind = cmd.cmd.upper()
        if kind == "FROM":
            values = list(cmd.value)
            ref = _df_expand(values[0], global_args) if values else ""
            name = values[2] if len(values) >= 3 and values[1].upper() == "AS" else None
            known = {s.name.lower(): i for i, s in enumerate(stages) if s.name}
            parent = known.get(ref.lower())
            base = stages[parent] if parent is not None else None
            stages.append(_StageScan(
                name=name, parent=parent, from_scratch=ref.lower() == "scratch",
                env=dict(base.env) if base else {}, workdir=base.workdir if base else "/"))
            stage_args = {}
            continue
        if kind == "ARG":
            for raw in cmd.value:
                item = _df_unquote(raw)
                arg_name, sep, default = item.partition("=")
                value: Optional[str] = _df_unquote(default) if sep else None
                if not stages:
                    value = overrides.get(arg_name, value)
                    global_args[arg_name] = None if value is None else _df_expand(value, global_args)
                else:
                    if arg_name in overrides:
                        value = overrides[arg_name]
                    elif value is None:
                        value = global_args.get(arg_name)
                    else:
                        value = _df_expand(value, {**stages[-1].env, **stage_args})
                    stage_args[arg_name] = value
            continue
        if not stages:
            continue
        stage = stages[-1]
        scope = {**stage_args, **stage.env}
        if kind == "ENV":
            values = list(cmd.value)
            for i in range(0, len(values) - 1, 2):
                stage.env[values[i]] = _df_expand(_df_unquote(values[i + 1]), scope)
        elif kind == "VOLUME":
            for raw in cmd.value:
                # BuildKit expands variables in both forms; the shell form may quote a word
                volume = _df_expand(raw if cmd.json else _df_unquote(raw), scope)
                if volume and volume not in stage.volumes:
                    stage.volumes.append(volume)
        elif kind == "WORKDIR" and cmd.value:
            stage.workdir = posixpath.normpath(posixpath.join(stage.workdir, _df_expand(_df_unquote(cmd.value[0]), scope)))
        elif kind in ("COPY", "ADD") and len(cmd.value) >= 2:
            stage.contents.append(_copy_destination(cmd.value, stage.workdir, scope, cmd.json))
        elif kind == "RUN":
            stage.runs = True
        elif kind == "HEALTHCHECK":
            where = f"{shown}:{cmd.start_line}"
            stage.health = (health_check_from_instruction(cmd.flags, cmd.value, cmd.json, where), where)

    if not stages:
        raise ValueError(f"{path}: the Dockerfile has no FROM instruction")
    if target is None:
        index = len(stages) - 1
    else:
        matches = [i for i, s in enumerate(stages) if s.name and s.name.lower() == target.lower()]
        if not matches:
            raise ValueError(f"{path}: no stage named {target!r} (stages: "
                             f"{', '.join(s.name for s in stages if s.name) or 'none named'})")
        index = matches[0]
    chain: list[_StageScan] = []
    current: Optional[int] = index
    while current is not None:
        chain.append(stages[current])
        current = stages[current].parent
    volumes: list[str] = []
    contents: list[str] = []
    for stage in reversed(chain):
        volumes.extend(v for v in stage.volumes if v not in volumes)
        contents.extend(c for c in stage.contents if c not in contents)
    health = next((s.health for s in chain if s.health is not None), None)
    known_contents = chain[-1].from_scratch and not any(s.runs for s in chain)
    search = chain[0].env.get("PATH")
    final = stages[index]
    return ImageFacts(
        source=f"{shown}, stage {final.name!r}" if final.name else f"{shown}, final stage",
        volumes=tuple(volumes),
        health_check=health[0] if health else None,
        health_check_where=health[1] if health else None,
        contents=tuple(contents) if known_contents else None,
        search_path=tuple(p for p in search.split(":") if p) if search else DEFAULT_SEARCH_PATH,
    )


def declared_volumes(
    dockerfile_path: str | os.PathLike[str],
    target: Optional[str] = None,
    build_args: Optional[Mapping[str, str]] = None,
) -> tuple[str, ...]:
    """The `VOLUME` paths the image built from `dockerfile_path` at stage `target` (None: the
    last stage) declares, in declaration order, without duplicates (see `read_image_facts`)."""
    return read_image_facts(dockerfile_path, target, build_args).volumes

def undeclared_volume_findings(container_name: str, mount_paths: Sequence[str],
                               declared: Sequence[str]) -> list[str]:
    """One sentence per mount path of a task volume that the container's image does not declare
    as a `VOLUME` (exact path match, as Fargate applies it); empty when every path is declared."""
    declared_set = set(declared)
    return [
        f"container {container_name!r} mounts a task volume at {path!r}, which its image does not "
        f"declare as a VOLUME, so on Fargate it is an empty root-owned 0755 directory the "
        f"non-root user cannot write to; in the Dockerfile's final stage, create {path} owned by "
        f"the runtime user and add `VOLUME {path}` after it."
        for path in mount_paths
        if path not in declared_set
    ]


# --------------------------------------------------------------------------- pullable images

#: An ECR image reference: registry host, repository, then a tag, a digest, or both.
ECR_IMAGE_REF = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
#: An ECR repository ARN.
ECR_REPOSITORY_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecr:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):repository/(?P<repo>.+)$"
)
#: Tags that name whatever was pushed last: never an immutable pin.
MUTABLE_TAGS = frozenset({"latest"})


def check_pullable_image(image: str, repository_arn: str, tag_mutability: Optional[str], where: str) -> None:
    """Refuse an image a task's execution role could not pull, or that could change under the task:
    `image` must be in the ECR repository `repository_arn` names (account, region and name), and
    pinned by digest, or by a tag only when the repository's tags are known to be immutable
    (`tag_mutability` IMMUTABLE) and the tag is not one like `latest`."""
    ref = ECR_IMAGE_REF.match(image)
    if ref is None:
        raise ValueError(
            f"{where}: image {image!r} is not an ECR image reference "
            "(<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>); the execution role may pull "
            f"only from image_repository_arn {repository_arn!r}: give an image of that repository, by digest"
        )
    arn = ECR_REPOSITORY_ARN.match(repository_arn)
    if arn is None or (ref["account"], ref["region"], ref["repo"]) != (arn["account"], arn["region"], arn["repo"]):
        raise ValueError(
            f"{where}: image {image!r} is not in the repository image_repository_arn {repository_arn!r} names, the "
            "only one its execution role may pull from; give the image of that repository, or the ARN of the "
            "image's repository (arn:aws:ecr:<region>:<account>:repository/<name>)"
        )
    if ref["digest"] is not None:
        return
    tag = ref["tag"]
    if tag is None or tag.lower() in MUTABLE_TAGS or tag_mutability != "IMMUTABLE":
        why = (
            "has no tag and no digest" if tag is None
            else f"names the tag {tag!r}, which is moved by every push" if tag.lower() in MUTABLE_TAGS
            else f"names the tag {tag!r}, and its repository is not known to have immutable tags "
                 f"(image_tag_mutability: {tag_mutability!r})"
        )
        raise ValueError(
            f"{where}: image {image!r} {why}, so a task could run other bytes than were scanned; give it by digest "
            f"in image_repository_arn {repository_arn!r} (`Image.image_ref`, or <repository>@sha256:<digest>)"
        )


# --------------------------------------------------------------------------- component

class Image(pulumi.ComponentResource):
    """A hardened ECR repository and one image built from a Dockerfile and pushed to it."""

    repository: aws.ecr.Repository
    lifecycle_policy: aws.ecr.LifecyclePolicy
    kms_key: Optional[aws.kms.Key]
    image: docker.Image
    kms_key_arn: pulumi.Output[str]
    repository_url: pulumi.Output[str]
    image_name: pulumi.Output[str]
    image_ref: pulumi.Output[str]
    """The pushed image by digest (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:...`)."""
    facts: ImageFacts
    """What the built stage declares and holds (`read_image_facts`): its VOLUMEs, its HEALTHCHECK
    (the task's health check for this image) and, from `scratch`, its files. Give it to `WebService`
    as `image_facts`."""
    volumes: tuple[str, ...]
    """The `VOLUME` paths the built stage declares (see `declared_volumes`): the only mount paths
    of task volumes a non-root container of this image can write to on Fargate."""

    def __init__(self, name: str, args: ImageArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("rampart:image:Image", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = merge_tags(args.tags)
        self.facts = read_image_facts(args.dockerfile_path(), args.target, args.build_args)
        self.volumes = self.facts.volumes

        if args.kms_key_arn is None:
            self.kms_key = aws.kms.Key(
                f"{name}-key",
                description=f"{name}: encrypts the ECR repository's images",
                enable_key_rotation=True,
                deletion_window_in_days=args.key_deletion_window_days,
                tags=tags,
                opts=child,
            )
            key_arn: pulumi.Output[str] = self.kms_key.arn
        else:
            self.kms_key = None
            key_arn = pulumi.Output.from_input(args.kms_key_arn)
        self.kms_key_arn = key_arn

        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name or physical_name(name, 200),
            image_tag_mutability="IMMUTABLE" if args.immutable_tags else "MUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=args.scan_on_push
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key_arn)
            ],
            force_delete=args.force_delete,
            tags=tags,
            opts=child,
        )

        self.lifecycle_policy = aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(args.untagged_expiry_days, args.keep_tagged_images),
            opts=child,
        )

        tag = args.tag or content_tag(args)
        self.repository_url = self.repository.repository_url
        image_name = pulumi.Output.concat(self.repository.repository_url, ":", tag)
        cache_sources: list[pulumi.Input[str]] = [image_name, *args.cache_from]
        auth = aws.ecr.get_authorization_token_output(
            registry_id=self.repository.registry_id, opts=pulumi.InvokeOptions(parent=self)
        )
        self.image = docker.Image(
            f"{name}-image",
            image_name=image_name,
            build=docker.DockerBuildArgs(
                # Relative to the project directory (the program's working directory, which the
                # provider resolves both against): the same inputs from any checkout, so a build from
                # another path is no change, and no machine's path is in the plan or the state.
                context=project_relative(args.context_path()),
                dockerfile=project_relative(args.dockerfile_path()),
                target=args.target,
                platform=args.platform,
                # Inline cache metadata lets any pushed image serve as a cache source.
                args={**args.build_args, "BUILDKIT_INLINE_CACHE": "1"},
                builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
                cache_from=docker.CacheFromArgs(images=cache_sources),
            ),
            registry=docker.RegistryArgs(
                server=self.repository.repository_url,
                username=auth.user_name,
                password=pulumi.Output.secret(auth.password),
            ),
            skip_push=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.lifecycle_policy]),
        )
        self.image_name = self.image.image_name
        self.image_ref = self.image.repo_digest

        self.register_outputs(
            {
                "repositoryUrl": self.repository_url,
                "repositoryArn": self.repository.arn,
                "kmsKeyArn": self.kms_key_arn,
                "imageName": self.image_name,
                "imageRef": self.image_ref,
            }
        )
