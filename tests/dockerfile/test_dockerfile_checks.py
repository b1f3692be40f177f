"""Dockerfile checks: one compliant baseline, then one change per failing case."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rampart_soc2.dockerfile_checks import RULES, DockerfileFinding, check_dockerfile

REPO = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "a" * 64
DIGEST2 = "sha256:" + "b" * 64

GOOD = f"""\
ARG NODE_IMAGE=node:20-bookworm-slim@{DIGEST}
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot@{DIGEST2}
FROM ${{NODE_IMAGE}} AS build
WORKDIR /src
COPY . .
RUN npm ci && npm test && npm run build

FROM build AS prod-deps
RUN npm ci --omit=dev

FROM ${{RUNTIME_IMAGE}} AS runtime
ARG REVISION=unknown
ENV NODE_ENV=production TOKEN_FILE=/run/secrets/token
LABEL org.opencontainers.image.revision=$REVISION
COPY --from=build /src/dist /app
COPY --from=prod-deps /src/node_modules /app/node_modules
USER 10001:10001
HEALTHCHECK --interval=10s CMD ["/nodejs/bin/node", "/app/healthcheck.js"]
CMD ["/app/server.js"]
"""


def rules(text: str) -> list[str]:
    return [f.rule for f in check_dockerfile(text)]


def test_baseline_is_compliant() -> None:
    assert check_dockerfile(GOOD) == []


def test_finding_is_frozen_and_has_line() -> None:
    (finding,) = check_dockerfile(GOOD.replace("USER 10001:10001", "USER root"))
    assert isinstance(finding, DockerfileFinding)
    assert finding.rule == "non-root-user" and finding.line == 17
    with pytest.raises(AttributeError):
        finding.rule = "x"  # type: ignore[misc]


# One failing case per rule: (rule id, the one change to the baseline).
FAILING = [
    ("multi-stage", lambda t: f"FROM node:20@{DIGEST}\nUSER 1000\nHEALTHCHECK CMD [\"true\"]\n"),
    ("non-root-user", lambda t: t.replace("USER 10001:10001", "USER 0:0")),
    ("healthcheck", lambda t: t.replace('HEALTHCHECK --interval=10s CMD ["/nodejs/bin/node", "/app/healthcheck.js"]', "HEALTHCHECK NONE")),
    ("pinned-base-image", lambda t: t.replace(f"node:20-bookworm-slim@{DIGEST}", "node:latest")),
    ("no-secrets-in-env", lambda t: t.replace("NODE_ENV=production", "DB_PASSWORD=hunter2")),
    ("no-add-url", lambda t: t.replace("COPY . .", "ADD https://example.com/app.tgz /src/")),
    ("no-sudo", lambda t: t.replace("RUN npm ci --omit=dev", "RUN sudo npm ci --omit=dev")),
    ("parse-error", lambda t: "# only a comment\n"),
]


def test_every_rule_has_a_failing_case() -> None:
    assert sorted(r for r, _ in FAILING) == sorted(RULES)


@pytest.mark.parametrize("rule,change", FAILING, ids=[r for r, _ in FAILING])
def test_one_change_fires_exactly_that_rule(rule: str, change) -> None:  # type: ignore[no-untyped-def]
    assert rules(change(GOOD)) == [rule]


# --- base images -----------------------------------------------------------------

@pytest.mark.parametrize("ref", [
    "node", "node:latest", f"node:latest@{DIGEST}", "node@sha256:abc",
    "registry.example.com:5000/team/node",
])
def test_unpinned_base_images(ref: str) -> None:
    assert "pinned-base-image" in rules(GOOD.replace(f"node:20-bookworm-slim@{DIGEST}", ref))


@pytest.mark.parametrize("ref", [
    f"node@{DIGEST}", f"registry.example.com:5000/team/node:20@{DIGEST}",
    f"public.ecr.aws/docker/library/node:20-slim@{DIGEST}",
    "node:20", "registry.example.com:5000/team/node:20",
])
def test_pinned_base_images(ref: str) -> None:
    assert rules(GOOD.replace(f"node:20-bookworm-slim@{DIGEST}", ref)) == []


def test_arg_without_default_is_unresolvable() -> None:
    text = GOOD.replace(f"ARG NODE_IMAGE=node:20-bookworm-slim@{DIGEST}", "ARG NODE_IMAGE")
    (f,) = check_dockerfile(text)
    assert f.rule == "pinned-base-image" and f.line == 3 and "NODE_IMAGE" in f.message


def test_arg_default_expression_and_quotes() -> None:
    text = GOOD.replace("FROM ${NODE_IMAGE} AS build", f"FROM ${{UNSET:-node:20@{DIGEST}}} AS build")
    assert rules(text) == []
    text = GOOD.replace(f"ARG NODE_IMAGE=node:20-bookworm-slim@{DIGEST}",
                        f'ARG NODE_IMAGE="node:20@{DIGEST}"')
    assert rules(text) == []


def test_arg_declared_after_first_from_does_not_resolve_from() -> None:
    text = (f"FROM node:20@{DIGEST} AS a\nARG LATE=node:20@{DIGEST}\nFROM $LATE\n"
            "USER 1\nHEALTHCHECK CMD [\"true\"]\n")
    assert rules(text) == ["pinned-base-image"]


def test_stage_reference_is_not_a_base_image_and_is_case_insensitive() -> None:
    text = GOOD.replace("FROM build AS prod-deps", "FROM BUILD AS prod-deps")
    assert rules(text) == []


def test_scratch_is_allowed() -> None:
    text = GOOD.replace("FROM ${RUNTIME_IMAGE} AS runtime", "FROM scratch AS runtime")
    assert rules(text) == []


# --- user / healthcheck ----------------------------------------------------------

@pytest.mark.parametrize("user,ok", [
    ("10001", True), ("node", True), ("nonroot:nonroot", True), ("root", False),
    ("0", False), ("00", False), ("root:1000", False), ("0:10001", False),
])
def test_final_user(user: str, ok: bool) -> None:
    assert (rules(GOOD.replace("USER 10001:10001", f"USER {user}")) == []) is ok


def test_missing_user_is_a_violation() -> None:
    (f,) = check_dockerfile(GOOD.replace("USER 10001:10001\n", ""))
    assert f.rule == "non-root-user" and f.line == 11


def test_user_set_only_in_build_stage_does_not_count() -> None:
    text = GOOD.replace("USER 10001:10001\n", "").replace("WORKDIR /src", "WORKDIR /src\nUSER 1000")
    assert rules(text) == ["non-root-user"]


def test_last_user_wins() -> None:
    text = GOOD.replace("USER 10001:10001", "USER 10001:10001\nRUN true\nUSER root")
    assert rules(text) == ["non-root-user"]


def test_user_and_healthcheck_inherit_through_stage_reference() -> None:
    text = GOOD + "\nFROM runtime AS final\nCOPY --from=build /x /y\n"
    assert rules(text) == []
    text2 = GOOD + "\nFROM runtime AS final\nUSER root\n"
    assert rules(text2) == ["non-root-user"]


def test_user_from_arg() -> None:
    assert rules(GOOD.replace("USER 10001:10001", "ARG UID=10001\nUSER ${UID}")) == []
    assert rules(GOOD.replace("USER 10001:10001", "ARG UID=0\nUSER $UID")) == ["non-root-user"]
    assert rules(GOOD.replace("USER 10001:10001", "ARG UID\nUSER $UID")) == ["non-root-user"]


def test_missing_healthcheck() -> None:
    text = GOOD.replace('HEALTHCHECK --interval=10s CMD ["/nodejs/bin/node", "/app/healthcheck.js"]\n', "")
    assert rules(text) == ["healthcheck"]


def test_healthcheck_none_after_a_real_one_wins() -> None:
    assert rules(GOOD.replace('CMD ["/app/server.js"]', 'HEALTHCHECK NONE\nCMD ["/app/server.js"]')) == ["healthcheck"]


# --- secrets ---------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "ENV API_KEY=x", "ENV apiKey=x", "ARG NPM_TOKEN", "ARG GITHUB_TOKEN=abc",
    "ENV AWS_SECRET_ACCESS_KEY=x", "ENV CLIENT_SECRET x", "ARG DB_PASSWORD",
    "ENV PRIVATE_KEY=x",
    "ENV HARMLESS=AKIA" + "IOSFODNN7EXAMPLE",  # split: no key-looking text in git
    "ENV GH=ghp_" + "a" * 36,
    'ENV KEY_MATERIAL="-----BEGIN RSA ' + 'PRIVATE KEY-----"',  # split: no key-looking text in git
    "ENV DATABASE_URL=postgres://user:" + "pass@db.internal/shop",  # a harmless name, a password in the value
    "ARG UPSTREAM_HEADER=" + '"Bearer ' + "Zk9xR2tQbTN2WnQ4cUx3ZTJ5" + '"',
])
def test_secret_looking_env_and_arg(line: str) -> None:
    text = GOOD.replace("ARG REVISION=unknown", f"ARG REVISION=unknown\n{line}")
    assert rules(text) == ["no-secrets-in-env"], line


@pytest.mark.parametrize("line", [
    "ENV PASSWORD_FILE=/run/secrets/pw", "ENV TOKEN_URL=https://auth.example.com/token",
    "ENV KEYBOARD=us", "ENV PORT=8080", "ARG NODE_VERSION=20", "ENV MONKEY=1",
    "ENV DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/shop",
    "ARG BASE=node:20-bookworm-slim@sha256:" + "c" * 64, "ENV REQUEST_ID=123e4567-e89b-12d3-a456-426614174000",
])
def test_harmless_env_and_arg(line: str) -> None:
    text = GOOD.replace("ARG REVISION=unknown", f"ARG REVISION=unknown\n{line}")
    assert rules(text) == [], line


# --- ADD / sudo ------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "ADD http://example.com/x.tgz /x", 'ADD ["https://example.com/x", "/x"]',
    "ADD --chown=1:1 https://example.com/x /x", "ADD git@github.com:o/r.git /r",
    "ADD local.tgz https://example.com/y /x",
])
def test_add_url(line: str) -> None:
    assert rules(GOOD.replace("COPY . .", line)) == ["no-add-url"]


def test_add_local_archive_is_fine() -> None:
    assert rules(GOOD.replace("COPY . .", "ADD vendor.tar.gz /src/")) == []


@pytest.mark.parametrize("run", [
    "RUN apt-get install -y sudo", 'RUN ["sudo", "ls"]', "RUN true && sudo -u x ls",
    "RUN <<EOF\nset -e\nsudo ls\nEOF",
])
def test_sudo(run: str) -> None:
    assert rules(GOOD.replace("RUN npm ci --omit=dev", run)) == ["no-sudo"]


def test_sudo_like_words_are_fine() -> None:
    assert rules(GOOD.replace("RUN npm ci --omit=dev", "RUN echo pseudo sudoku /usr/bin/sudoers.d")) == []


# --- line continuations parsed by BuildKit, not by lines ---------------------------

def test_continuation_lines_are_one_instruction() -> None:
    text = GOOD.replace("RUN npm ci --omit=dev", "RUN npm ci \\\n    --omit=dev \\\n  && su\\\ndo ls")
    # BuildKit joins continuation lines, so "su\\\ndo" is the word "sudo".
    (f,) = check_dockerfile(text)
    assert f.rule == "no-sudo" and f.line == 9


# --- the real Dockerfiles and the CLI --------------------------------------------

def test_app_dockerfile_is_compliant() -> None:
    path = REPO / "app" / "Dockerfile"
    if not path.exists():
        pytest.fail("app/Dockerfile is missing")
    assert check_dockerfile(path.read_text()) == []


def test_cli(tmp_path: Path) -> None:
    good = tmp_path / "Good.Dockerfile"
    good.write_text(GOOD)
    bad = tmp_path / "Bad.Dockerfile"
    bad.write_text(GOOD.replace("USER 10001:10001", "USER root"))
    env_path = str(REPO / "policy" / "soc2")
    run = lambda *p: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "rampart_soc2.dockerfile_checks", *map(str, p)],
        capture_output=True, text=True, env={"PYTHONPATH": env_path}, check=False)
    ok = run(good)
    assert ok.returncode == 0 and ok.stdout == ""
    nok = run(good, bad)
    assert nok.returncode == 1
    assert nok.stdout.startswith(f"{bad}:17: non-root-user: ")
    missing = run(tmp_path / "nope")
    assert missing.returncode == 2


def test_arg_default_built_from_earlier_args() -> None:
    text = GOOD.replace(f"ARG NODE_IMAGE=node:20-bookworm-slim@{DIGEST}",
                        f"ARG NODE_VERSION=20\nARG NODE_IMAGE=node:${{NODE_VERSION}}-bookworm-slim@{DIGEST}")
    assert rules(text) == []
    text = GOOD.replace(f"ARG NODE_IMAGE=node:20-bookworm-slim@{DIGEST}",
                        f"ARG NODE_VERSION=latest\nARG NODE_IMAGE=node:${{NODE_VERSION}}@{DIGEST}")
    assert rules(text) == ["pinned-base-image"]
    text = GOOD.replace(f"ARG NODE_IMAGE=node:20-bookworm-slim@{DIGEST}",
                        f"ARG NODE_VERSION\nARG NODE_IMAGE=node:${{NODE_VERSION}}@{DIGEST}")
    (f,) = check_dockerfile(text)
    assert f.rule == "pinned-base-image" and "NODE_IMAGE" in f.message


def test_build_args_override_arg_defaults_as_in_a_real_build() -> None:
    # GOOD pins its base through `ARG NODE_IMAGE=...@sha256`; the build may pass another image.
    assert rules(GOOD) == []
    assert check_dockerfile(GOOD, {"NODE_IMAGE": "node:latest"})[0].rule == "pinned-base-image"
    assert check_dockerfile(GOOD, {"NODE_IMAGE": f"node:22@{DIGEST}"}) == []
    assert check_dockerfile(GOOD, {"UNRELATED": "node:latest"}) == []


# --- what the build builds: the target stage and the stages it reaches --------------------

# A stage the runtime never uses, after it: what `docker build --target runtime` skips.
TEST_STAGE = f"""
FROM node:latest AS test
ENV CI_PASSWORD=x
ADD https://example.com/fixtures.tgz /fixtures/
USER root
HEALTHCHECK NONE
RUN sudo npm test
"""


def test_unreached_trailing_stage_is_not_judged() -> None:
    assert check_dockerfile(GOOD + TEST_STAGE, target="runtime") == []


def test_without_a_target_the_last_stage_is_what_is_built() -> None:
    assert sorted(set(rules(GOOD + TEST_STAGE))) == sorted(
        ["pinned-base-image", "no-secrets-in-env", "no-add-url", "non-root-user", "healthcheck", "no-sudo"])


def test_target_stage_user_and_healthcheck_are_the_images() -> None:
    # `build` has no USER and no HEALTHCHECK of its own: building it yields a root image without a probe.
    assert sorted(f.rule for f in check_dockerfile(GOOD, target="build")) == ["healthcheck", "non-root-user"]
    # the stage names are matched as BuildKit matches them (case-insensitively)
    assert check_dockerfile(GOOD, target="RUNTIME") == []


@pytest.mark.parametrize("how", ["from-chain", "copy-from", "copy-from-index", "mount-from"])
def test_stages_the_target_depends_on_are_judged(how: str) -> None:
    helper = f"FROM node:20-bookworm-slim@{DIGEST} AS assets\nADD https://example.com/a.tgz /a/\n"
    use = {
        "from-chain": None,
        "copy-from": "COPY --from=assets /a /app/a",
        "copy-from-index": "COPY --from=0 /a /app/a",
        "mount-from": "RUN --mount=type=bind,from=assets,target=/mnt true",
    }[how]
    first_from = GOOD.index("FROM ")  # after the global ARGs: the helper becomes stage 0

    def with_helper(text: str) -> str:
        return text[:first_from] + helper + text[first_from:]

    if how == "from-chain":
        text = GOOD.replace("FROM build AS prod-deps", "FROM build AS prod-deps\nADD https://example.com/a.tgz /a/")
    else:
        text = with_helper(GOOD.replace("USER 10001:10001", f"{use}\nUSER 10001:10001"))
    assert rules(text) == ["no-add-url"], how
    # the same helper stage, unused, is not judged
    if how != "from-chain":
        assert check_dockerfile(with_helper(GOOD), target="runtime") == [], how


def test_an_image_copied_from_must_be_pinned() -> None:
    text = GOOD.replace("USER 10001:10001", "COPY --from=busybox:latest /bin/sh /bin/sh\nUSER 10001:10001")
    assert rules(text) == ["pinned-base-image"]
    pinned = GOOD.replace("USER 10001:10001", f"COPY --from=busybox:1.36@{DIGEST} /bin/true /bin/true\nUSER 10001:10001")
    assert rules(pinned) == []


def test_unknown_target_is_a_finding() -> None:
    assert rules_of(check_dockerfile(GOOD, target="nope")) == ["parse-error"]


def rules_of(findings: list[DockerfileFinding]) -> list[str]:
    return [f.rule for f in findings]


def test_cli_takes_the_target(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(GOOD + TEST_STAGE)
    run = lambda *p: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "rampart_soc2.dockerfile_checks", *map(str, p)],
        capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "policy" / "soc2")}, check=False)
    assert run("--target", "runtime", path).returncode == 0
    assert run(path).returncode == 1
