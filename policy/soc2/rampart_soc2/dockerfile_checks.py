"""Dockerfile checks as code, shared by the SOC 2 policy pack and the CLI.

The Dockerfile is parsed by the ``dockerfile`` package, which binds BuildKit's own
parser, so line continuations, JSON (exec) forms, heredocs and flags are read exactly
as ``docker build`` reads them.  The checks then walk the parsed instructions stage by
stage, judging what the build builds: the target stage (``--target``, else the last) and the stages it
depends on; stages it does not reach are not judged.  Only the standard library, ``dockerfile`` and the pack's ``secret_values`` are imported: the policy pack
imports this module inside its own process.

Rules (stable ids; the policy pack maps them to policies and SOC 2 criteria):

``parse-error``
    the text is not a Dockerfile BuildKit can parse (or has no FROM).
``multi-stage``
    the Dockerfile has at least two stages, so build tools stay out of the final image.
``non-root-user``
    the target stage runs as an explicit non-root USER (inherited through stage
    references); a missing USER, ``root`` or UID ``0`` is a violation.
``healthcheck``
    the target stage has a HEALTHCHECK with a command (``HEALTHCHECK NONE`` is a violation).
``pinned-base-image``
    every external base image is pinned by a version tag or a digest (``name:tag``,
    ``name:tag@sha256:...`` or ``name@sha256:...``), as SOC2.md's image control says;
    ``latest``, untagged and unresolvable references are violations. A digest is the stronger
    pin (Rampart's own Dockerfiles carry tag and digest); a tag alone is accepted.  ``FROM ${ARG}`` resolves the ARG's default declared before the first FROM;
    ``FROM <earlier stage>`` and ``scratch`` are not base images; an image named by
    ``COPY --from`` or ``RUN --mount=...,from=`` in a reached stage is judged the same way.
``no-secrets-in-env``
    no ENV or ARG has a secret-looking name (password, token, api key, ...) or a
    secret-looking value (``rampart_soc2.vocabulary.secret_values``: a password in a URL, a private key, an AWS key,
    a bearer token or JWT, a long random-looking string).
    Names ending in ``_FILE``, ``_PATH``, ``_DIR`` or ``_URL`` point at secrets and are allowed.
``no-add-url``
    ADD never fetches a remote URL or git repository (unverified downloads; use a
    verified download in a build stage, or COPY).
``no-sudo``
    no RUN uses or installs ``sudo``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import dockerfile

from .vocabulary.secret_values import secret_kind, secret_name

__all__ = ["DockerfileFinding", "RULES", "check_dockerfile", "main"]

RULES: Mapping[str, str] = {
    "parse-error": "The Dockerfile parses and has at least one FROM.",
    "multi-stage": "The Dockerfile is multi-stage (build tools stay out of the final image).",
    "non-root-user": "The final stage runs as an explicit non-root USER.",
    "healthcheck": "The final stage declares a HEALTHCHECK with a command.",
    "pinned-base-image": "Every base image is pinned by a version tag or digest, never `latest` or untagged.",
    "no-secrets-in-env": "No ENV or ARG carries a secret-looking name or value.",
    "no-add-url": "ADD does not fetch remote URLs or git repositories.",
    "no-sudo": "RUN does not use or install sudo.",
}


@dataclass(frozen=True)
class DockerfileFinding:
    """One violation of one rule."""

    rule: str
    """Stable rule id, a key of :data:`RULES`."""
    line: int | None
    """1-based line of the offending instruction, or None for whole-file findings."""
    message: str
    """One sentence saying what is wrong and how to fix it."""


# --------------------------------------------------------------------------- helpers

_VAR_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class _Unresolved(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _expand(text: str, scope: Mapping[str, str | None]) -> str:
    """Expand $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} the way the Dockerfile
    frontend does for FROM/USER; raise _Unresolved for a variable with no value."""

    def repl(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("plain")
        value = scope.get(name)
        op = m.group("op")
        word = m.group("word") or ""
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return _expand(word, scope)
            return value
        if op in (":+", "+"):
            if value is None or (op == ":+" and value == ""):
                return ""
            return _expand(word, scope)
        if value is None:
            raise _Unresolved(name)
        return value

    return _VAR_RE.sub(repl, text)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _arg_pairs(values: Sequence[str]) -> list[tuple[str, str | None]]:
    """ARG NAME[=default] ... -> [(name, default or None)]."""
    out: list[tuple[str, str | None]] = []
    for raw in values:
        item = _unquote(raw)
        if "=" in item:
            name, default = item.split("=", 1)
            out.append((name, _unquote(default)))
        else:
            out.append((item, None))
    return out


def _env_pairs(values: Sequence[str]) -> list[tuple[str, str]]:
    """The parser gives ENV/LABEL as a flat (key, value, key, value, ...) tuple."""
    return [(values[i], _unquote(values[i + 1]) if i + 1 < len(values) else "")
            for i in range(0, len(values), 2)]


_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def _split_reference(ref: str) -> tuple[str, str | None, str | None]:
    """name[:tag][@digest] -> (name, tag, digest). A ':' in the registry host
    (host:port/...) is not a tag separator."""
    digest: str | None = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    tag: str | None = None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
    return ref, tag, digest


def _pin_problem(ref: str) -> str | None:
    """Why `ref` is not pinned, or None when it is."""
    name, tag, digest = _split_reference(ref)
    if not name:
        return f"base image reference {ref!r} has no repository name"
    if tag is not None and tag.lower() == "latest":
        return (f"base image {ref!r} uses the mutable `latest` tag; pin a version tag "
                "and its digest (name:tag@sha256:...)")
    if digest is None and tag is None:
        return (f"base image {ref!r} has no tag and no digest; pin a version tag, ideally with its "
                "digest (name:tag@sha256:...) so rebuilds get the same bytes")
    if digest is not None and not _DIGEST_RE.match(digest):
        return f"base image {ref!r} has a malformed digest; use @sha256:<64 hex digits>"
    return None


_URL_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|git@)")
_SUDO_RE = re.compile(r"(?:^|[\s;&|()`'\"])sudo(?=$|[\s;&|()`'\"])")


def _is_root(user: str) -> bool:
    who = user.split(":", 1)[0].strip()
    return who in ("root", "0") or (who.isdigit() and int(who) == 0)


# --------------------------------------------------------------------------- stages

@dataclass
class _Stage:
    index: int
    line: int
    name: str | None
    parent_stage: int | None          # index of the stage this one is FROM, if any
    args: dict[str, str | None] = field(default_factory=dict)
    user: tuple[str, int] | None = None            # (raw USER value, line)
    healthcheck: tuple[bool, int] | None = None    # (has command, line)
    uses: list[str] = field(default_factory=list)  # COPY --from / RUN --mount from= references
    findings: list[DockerfileFinding] = field(default_factory=list)


_MOUNT_FROM_RE = re.compile(r"(?:^|,)from=([^,]+)")


def _stage_refs(cmd: "dockerfile.Command") -> list[str]:
    """Stages (or images) an instruction reads from: COPY --from=X, RUN --mount=...,from=X."""
    out = []
    for flag in cmd.flags:
        if flag.startswith("--from="):
            out.append(_unquote(flag.split("=", 1)[1]))
        elif flag.startswith("--mount="):
            out += [m.group(1) for m in _MOUNT_FROM_RE.finditer(flag.split("=", 1)[1])]
    return out


def _reached(stages: list[_Stage], target: _Stage) -> tuple[set[int], list[DockerfileFinding]]:
    """Indexes of the stages the target's build runs (itself, its FROM chain, every stage it copies or
    mounts from, transitively), and findings for external images it copies from."""
    by_name = {s.name.lower(): s.index for s in stages if s.name}
    seen: set[int] = set()
    findings: list[DockerfileFinding] = []
    todo = [target.index]
    while todo:
        index = todo.pop()
        if index in seen:
            continue
        seen.add(index)
        stage = stages[index]
        if stage.parent_stage is not None:
            todo.append(stage.parent_stage)
        for ref in stage.uses:
            if ref.lower() in by_name and by_name[ref.lower()] < index:
                todo.append(by_name[ref.lower()])
            elif ref.isdigit() and int(ref) < index:
                todo.append(int(ref))
            else:
                try:
                    image = _expand(ref, stage.args)
                except _Unresolved:
                    image = ref
                problem = _pin_problem(image)
                if problem:
                    findings.append(DockerfileFinding(
                        "pinned-base-image", stage.line,
                        f"stage {stage.name or stage.index} copies from {problem}."))
    return seen, findings


def check_dockerfile(text: str, build_args: Mapping[str, str] | None = None,
                     target: str | None = None) -> list[DockerfileFinding]:
    """Check one Dockerfile's text as the build builds it; return every finding (empty list = compliant).

    `build_args` are the values the build passes (`--build-arg`): as in a real build, each
    overrides the default of the ARG it names, so `FROM ${NODE_IMAGE}` is judged by the image
    that will actually be used. `target` is the stage the build selects (`--target`; the last
    stage when None): its USER and HEALTHCHECK are the image's, and it and every stage it depends
    on (FROM chain, COPY --from, RUN --mount from=) are judged for pinning, secrets and ADD of
    URLs. Stages the target does not reach (a trailing test stage, say) are not judged.
    """
    overrides = dict(build_args or {})
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        return [DockerfileFinding("parse-error", None, f"Dockerfile does not parse: {exc}.")]

    findings: list[DockerfileFinding] = []   # global (before the first FROM)
    global_args: dict[str, str | None] = {}
    stages: list[_Stage] = []

    for cmd in commands:
        kind = cmd.cmd.upper()
        line = cmd.start_line
        stage = stages[-1] if stages else None
        scoped = stage.findings if stage is not None else findings

        if kind == "ARG":
            for name, declared in _arg_pairs(cmd.value):
                default = overrides.get(name, declared)
                if stage is None:
                    # a default may use earlier ARGs (ARG IMAGE=node:${VERSION}@sha256:...)
                    try:
                        global_args[name] = None if default is None else _expand(default, global_args)
                    except _Unresolved:
                        global_args[name] = None
                elif default is None and name in global_args:
                    stage.args[name] = global_args[name]     # re-declared global ARG
                else:
                    stage.args[name] = default
                _check_secret(scoped, "ARG", name, declared or "", line)

        elif kind == "FROM":
            pin = _from_stage(cmd, stages, global_args)
            stages[-1].findings.extend(pin)

        elif kind == "ENV":
            for name, value in _env_pairs(cmd.value):
                _check_secret(scoped, "ENV", name, value, line)

        elif kind == "USER" and stage is not None:
            stage.user = (cmd.value[0] if cmd.value else "", line)

        elif kind == "HEALTHCHECK" and stage is not None:
            has_cmd = bool(cmd.value) and cmd.value[0].upper() != "NONE"
            stage.healthcheck = (has_cmd, line)

        elif kind == "ADD":
            for src in cmd.value[:-1]:
                if _URL_RE.match(src):
                    scoped.append(DockerfileFinding(
                        "no-add-url", line,
                        f"ADD fetches {src!r} from the network without verification; "
                        "download it in a build stage with a checksum check, or COPY a vendored file."))

        elif kind == "RUN":
            bodies = list(cmd.value) + [h.content for h in cmd.heredocs]
            if any(_SUDO_RE.search(b) for b in bodies):
                scoped.append(DockerfileFinding(
                    "no-sudo", line,
                    "RUN uses or installs sudo; build steps already run as the build user "
                    "and the image must not carry a privilege-escalation tool."))

        if kind in ("COPY", "ADD", "RUN") and stage is not None:
            stage.uses += _stage_refs(cmd)

    if not stages:
        return findings + [DockerfileFinding("parse-error", None, "Dockerfile has no FROM instruction.")]

    if target is None:
        final = stages[-1]
    else:
        named = [s for s in stages if s.name and s.name.lower() == target.lower()]
        if not named:
            return findings + [DockerfileFinding(
                "parse-error", None, f"the build's target stage {target!r} is not a stage of this Dockerfile.")]
        final = named[0]
    reached, copied_from = _reached(stages, final)
    for stage in stages:
        if stage.index in reached:
            findings.extend(stage.findings)
    findings.extend(copied_from)
    what = f"target stage {final.name!r}" if target is not None else "final stage"

    if len(stages) < 2:
        findings.append(DockerfileFinding(
            "multi-stage", stages[0].line,
            "Dockerfile has a single stage; build in one stage and copy only the runtime "
            "artifacts into a minimal final stage."))

    user = _inherited(stages, final, "user")
    if user is None:
        findings.append(DockerfileFinding(
            "non-root-user", final.line,
            f"{what} sets no USER, so it runs as the base image's user (root by default); "
            "add `USER <uid>:<gid>` with a non-zero numeric id."))
    else:
        raw, uline = str(user[0]), user[1]
        try:
            resolved = _expand(raw, {**final.args})
        except _Unresolved as exc:
            findings.append(DockerfileFinding(
                "non-root-user", uline,
                f"{what}'s USER {raw!r} uses ${exc.name}, which has no default, so the user cannot "
                "be verified; use a literal non-root uid."))
        else:
            if not resolved.strip() or _is_root(resolved):
                findings.append(DockerfileFinding(
                    "non-root-user", uline,
                    f"{what} runs as root (USER {raw!r}); use a non-zero numeric uid such as 10001."))

    hc = _inherited(stages, final, "healthcheck")
    if hc is None:
        findings.append(DockerfileFinding(
            "healthcheck", final.line,
            f"{what} has no HEALTHCHECK; add an exec-form `HEALTHCHECK CMD [...]` probing the service."))
    elif not hc[0]:
        findings.append(DockerfileFinding(
            "healthcheck", hc[1],
            f"{what} disables its health check (HEALTHCHECK NONE); declare a probing command instead."))

    return sorted(findings, key=lambda f: (f.line or 0, f.rule))


def _inherited(stages: list[_Stage], stage: _Stage, attr: str) -> tuple[object, int] | None:
    """The stage's USER/HEALTHCHECK, or the nearest one up its FROM-stage chain."""
    current: _Stage | None = stage
    while current is not None:
        value = getattr(current, attr)
        if value is not None:
            return value  # type: ignore[no-any-return]
        current = stages[current.parent_stage] if current.parent_stage is not None else None
    return None


def _from_stage(cmd: "dockerfile.Command", stages: list[_Stage],
                global_args: Mapping[str, str | None]) -> list[DockerfileFinding]:
    line = cmd.start_line
    values = list(cmd.value)
    raw = values[0] if values else ""
    name = values[2] if len(values) >= 3 and values[1].upper() == "AS" else None
    findings: list[DockerfileFinding] = []
    parent: int | None = None
    try:
        ref = _expand(raw, global_args)
    except _Unresolved as exc:
        findings.append(DockerfileFinding(
            "pinned-base-image", line,
            f"base image {raw!r} uses ${exc.name}, which has no default before the first FROM; "
            "give the ARG a pinned default (name:tag@sha256:...)."))
    else:
        known = {s.name.lower(): s.index for s in stages if s.name}
        if ref.lower() in known:
            parent = known[ref.lower()]
        elif ref.lower() != "scratch":
            problem = _pin_problem(ref)
            if problem:
                shown = problem if raw == ref else problem.replace(
                    f"base image {ref!r}", f"base image {raw!r} (= {ref!r})", 1)
                findings.append(DockerfileFinding("pinned-base-image", line, shown[0].upper() + shown[1:] + "."))
    stages.append(_Stage(index=len(stages), line=line, name=name, parent_stage=parent))
    return findings


def _check_secret(findings: list[DockerfileFinding], kind: str, name: str, value: str,
                  line: int) -> None:
    if secret_name(name):
        findings.append(DockerfileFinding(
            "no-secrets-in-env", line,
            f"{kind} {name} looks like a secret; {kind} values persist in the image and its "
            "history. Pass secrets at run time (Secrets Manager) or with `RUN --mount=type=secret`."))
    elif (what := secret_kind(value)) is not None:
        findings.append(DockerfileFinding(
            "no-secrets-in-env", line,
            f"{kind} {name} has a value that looks like {what}; {kind} values persist in the image and its "
            "history: remove it, rotate the credential, and pass it at run time (the task's `secrets`)."))


# --------------------------------------------------------------------------- CLI

def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rampart_soc2.dockerfile_checks [--target STAGE] FILE...``: print findings as
    ``FILE:LINE: rule: message``; exit 1 when any file has a finding, 2 on an unreadable file."""
    paths = list(sys.argv[1:] if argv is None else argv)
    target = None
    if len(paths) >= 2 and paths[0] == "--target":
        target, paths = paths[1], paths[2:]
    if not paths or paths[0] in ("-h", "--help"):
        print("usage: python -m rampart_soc2.dockerfile_checks [--target STAGE] DOCKERFILE...", file=sys.stderr)
        print("rules: " + ", ".join(RULES), file=sys.stderr)
        return 0 if paths else 2
    status = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            return 2
        for f in check_dockerfile(text, target=target):
            where = f"{path}:{f.line}" if f.line is not None else path
            print(f"{where}: {f.rule}: {f.message}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
