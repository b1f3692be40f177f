"""The Dockerfile behind every docker.Image passes the image controls."""
from __future__ import annotations

import os
from pathlib import Path

from ..common import DOCKER_IMAGE
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Unknown, Violation

PACK_DIR = Path(__file__).resolve().parents[2]


def project_roots() -> list[Path]:
    """Where a relative build context may be rooted, most specific first."""
    roots = []
    env = os.environ.get("RAMPART_PROJECT_DIR")
    if env:
        roots.append(Path(env))
    roots.append(Path.cwd())
    roots.append(PACK_DIR.parent.parent)  # policy/soc2 inside the Pulumi project
    return roots


def locate_dockerfile(context: str, dockerfile: str | None) -> list[Path]:
    """Candidate paths: `dockerfile` relative to the context, then to the project root."""
    name = dockerfile or "Dockerfile"
    if Path(name).is_absolute():
        return [Path(name)]
    out: list[Path] = []
    ctx_path = Path(context)
    contexts = [ctx_path] if ctx_path.is_absolute() else [root / ctx_path for root in project_roots()]
    out += [c / name for c in contexts]
    if dockerfile:
        out += [root / name for root in project_roots()]
    return out


def check(r: Resource, ctx: Context) -> Outcome:
    from ..dockerfile_checks import check_dockerfile

    build = r.props.get("build")
    if not build:
        return Violation("image has no build block, so no Dockerfile can be checked")
    context = str(build.get("context") or ".")
    dockerfile = build.get("dockerfile")
    text = None
    tried = locate_dockerfile(context, str(dockerfile) if dockerfile else None)
    for path in tried:
        try:
            text = path.read_text(encoding="utf-8")
            break
        except OSError:
            continue
    if text is None:
        return Unknown(f"build.dockerfile ({dockerfile or 'Dockerfile'} in {context}) could not be read")
    build_args = {str(k): str(v) for k, v in dict(build.get("args") or {}).items()}
    target = build.get("target")
    findings = check_dockerfile(text, build_args, str(target) if target else None)
    if findings:
        parts = [f"{f.rule}{'@' + str(f.line) if f.line else ''}: {f.message.rstrip('.')}" for f in findings]
        shown = dockerfile if dockerfile and Path(str(dockerfile)).is_absolute() else f"{context}/{dockerfile or 'Dockerfile'}"
        return Violation(f"Dockerfile {shown} fails: " + "; ".join(parts))
    return COMPLIANT


POLICY = PolicySpec(
    id="docker-image-require-dockerfile-controls",
    description="The Dockerfile behind every docker.Image is multi-stage; the stage the build targets runs as "
                "a non-root USER with a HEALTHCHECK; it and every stage it depends on pin their base images "
                "(never latest), keep secrets out of ENV/ARG and do not ADD URLs (stages the target does "
                "not reach are not judged).",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1", "CC6.8", "CC8.1"),
    remediation="Fix the Dockerfile as each finding says; run `python -m rampart_soc2.dockerfile_checks "
                "--target <stage> <Dockerfile>` to check it locally.",
    reference="https://docs.docker.com/build/building/best-practices/",
    resource_types=DOCKER_IMAGE,
    check=check,
    peer="CKV_DOCKER_2/3/4/7/8, hadolint DL3007/DL3064",
)
