"""The report an auditor reads: headline, counts, threshold sentences, expanded sections, the
checksum and `rampart verify`, a stable order between runs, and unused waivers warned about."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rampart.cli import main as cli
from rampart.offline.report import threshold_sentences
from test_check import make_project

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d|\d+\.\ds|[0-9a-f]{64}")
"""What differs between two runs of the same commit: time stamps, durations, and the checksums over them."""


def rampart(*args: str) -> subprocess.CompletedProcess[str]:
    """A fresh process per run: registration order and hash seeds differ between processes, not within one."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "policy" / "soc2")])}
    env.pop("PYTHONHASHSEED", None)
    return subprocess.run([sys.executable, "-m", "rampart", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = []
    for run in ("a", "b"):
        target = tmp_path_factory.mktemp(run)
        done = rampart("check", "--stack", "prod", "--report", str(target))
        assert done.returncode in (0, 1), done.stderr
        (target / "stdout.txt").write_text(done.stdout)
        out.append(target)
    return out


def test_two_plans_of_the_same_commit_are_byte_identical(tmp_path: Path) -> None:
    runs = [rampart("plan", "--stack", "prod", "--json", str(tmp_path / f"{n}.json")) for n in "ab"]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert runs[0].stdout.replace(str(tmp_path / "a.json"), "F") == runs[1].stdout.replace(str(tmp_path / "b.json"), "F")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


@pytest.mark.parametrize("name", ["soc2-prod.md", "soc2-prod.json", "soc2-prod.html", "stdout.txt"])
def test_two_checks_differ_only_in_time_stamps(reports: list[Path], name: str) -> None:
    a, b = (TIME.sub("T", (d / name).read_text().replace(str(d), "D")) for d in reports)
    assert a == b


def test_headline_counts_and_thresholds_read_as_sentences(reports: list[Path]) -> None:
    report = json.loads((reports[0] / "soc2-prod.json").read_text())["report"]
    controls = report["controls"]
    assert report["headline"].startswith(f"{report['result']}: of {len(controls)} controls,")
    for kind, words in (("compliant", "passed"), ("not-applicable", "had no resource to check")):
        assert f"{sum(c['outcome'] == kind for c in controls)} {words}" in report["headline"]
    advisory = [c["policy"] for c in controls if c["outcome"] == "violation" and c["enforcement"] == "advisory"]
    assert f"{len(advisory)} failed an advisory check" in report["headline"]
    assert all(p in report["headline"] for p in advisory)
    judged = sum(len(c["resources"]) for c in controls)  # every result but the not-applicable ones
    assert sum(report["counts"].values()) == judged + report["counts"]["not-applicable"]
    assert report["countsOf"].startswith("policy x resource results")
    md = (reports[0] / "soc2-prod.md").read_text()
    assert "| outcome | policy x resource results |" in md
    assert "- Log groups must keep their logs for at least 365 days." in md
    assert "{" not in md.split("## Thresholds set by this stack", 1)[1].split("##", 1)[0]


def test_sections_print_expanded(reports: list[Path]) -> None:
    html = (reports[0] / "soc2-prod.html").read_text()
    assert "<details" not in html and "<summary" not in html
    md = (reports[0] / "soc2-prod.md").read_text()
    assert "<details" not in md


def test_the_html_is_compact_and_keeps_policy_ids_whole(reports: list[Path]) -> None:
    """Controls with nothing to act on are one table row each (naming every resource they judged);
    only controls with findings get a full section. Policy ids never break mid-word."""
    from rampart.offline.report import QUIET_OUTCOMES

    report = json.loads((reports[0] / "soc2-prod.json").read_text())["report"]
    html = (reports[0] / "soc2-prod.html").read_text()
    loud = [c for c in report["controls"] if c["outcome"] not in QUIET_OUTCOMES]
    quiet = [c for c in report["controls"] if c["outcome"] in QUIET_OUTCOMES]
    # A loud control has its full section under each SOC 2 criterion it supports; each service one more.
    loud_ids = {c["policy"] for c in loud}
    sections = sum(1 for crit in report["criteria"] for pid in crit["controls"] if pid in loud_ids)
    assert quiet and html.count("<div class='section'><h4>") == sections + len(report["services"])
    for c in quiet:
        row = next(r for r in html.split("<tr>") if f"<td><code class='pid'>{c['policy']}</code></td>" in r and "Preview: " in r)
        assert all(x["urn"].rsplit("::", 1)[-1] in row for x in c["resources"]), c["policy"]
    assert not re.search(r"<code>(aws|docker)-[a-z0-9-]+</code>", html)  # every id is a nowrap `pid`
    assert "code.pid{white-space:nowrap" in html


def test_a_threshold_of_one_task_reads_well() -> None:
    [t] = threshold_sentences({"p": {"minTaskCount": 1}})
    assert t["sentence"] == "Each service must run at least this many tasks: 1."


def test_a_list_threshold_reads_as_one_sentence_for_every_control_that_applies_it() -> None:
    [t] = threshold_sentences({"a": {"allowedTlsPolicies": ["P1", "P2"]}, "b": {"allowedTlsPolicies": ["P1", "P2"]}})
    assert t["sentence"] == "HTTPS listeners may only use these TLS policies: P1, P2." and t["policies"] == ["a", "b"]


def test_every_control_shows_its_three_checkpoints(reports: list[Path]) -> None:
    report = json.loads((reports[0] / "soc2-prod.json").read_text())["report"]
    for c in report["controls"]:
        points = c["checkpoints"]
        assert points["deployedState"] == "not checked (no --state export given)"
        assert points["preview"].split(" ")[0] == c["outcome"]
        assert points["runtime"]["status"] in ("none in AWS Config", "not deployed by this stack", "deployed")
    md = (reports[0] / "soc2-prod.md").read_text()
    assert md.count("- Runtime: ") == len(report["controls"]) == md.count("- Preview: ")


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_verify_recomputes_the_checksum(reports: list[Path], tmp_path: Path, fmt: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    original = reports[0] / f"soc2-prod.{fmt}"
    assert cli(["verify", str(original)]) == 0
    assert "checksum matches" in capsys.readouterr().out
    edited = tmp_path / original.name
    edited.write_text(original.read_text().replace("aws-kms-key-enable-rotation", "aws-kms-key-enable-rotatio_", 1))
    assert cli(["verify", str(original), str(edited)]) == 1
    out = capsys.readouterr().out
    assert f"{edited}: checksum does NOT match" in out and f"{original}: checksum matches" in out


def test_verify_refuses_a_file_that_is_not_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    assert cli(["verify", str(tmp_path / "notes.txt")]) == 2
    assert "notes.txt: not a report file" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text("{")
    assert cli(["verify", str(tmp_path / "broken.json")]) == 1
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe report")
    assert cli(["verify", str(tmp_path / "binary.md")]) == 2
    assert "binary.md: not a report (not UTF-8 text" in capsys.readouterr().err


def test_a_waiver_that_matches_no_resource_is_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = [{"policy": "aws-kms-key-enable-rotation", "resource": "no-such-key", "reason": "typo in the name",
                "expires": "2099-12-31"},
               {"policy": "aws-kms-key-enable-rotation", "resource": "key", "reason": "rotated by the HSM",
                "expires": "2099-12-31"}]
    project = make_project(tmp_path, fixture={}, policy={"minTaskCount": 1, "waivers": waivers})
    assert cli(["check", "-C", str(project), "--stack", "dev"]) == 0
    err = capsys.readouterr().err
    assert "warning: waiver for aws-kms-key-enable-rotation on 'no-such-key' (typo in the name) matches no resource" in err
    assert "'key'" not in err  # not needed (the key rotates), but it names a real resource
    assert cli(["check", "-C", str(project), "--stack", "dev", "--report", str(tmp_path / "r"), "--format", "json"]) == 0
    statuses = {w["resource"]: w["status"] for w in
                json.loads((tmp_path / "r" / "soc2-dev.json").read_text())["report"]["waivers"]}
    assert statuses == {"no-such-key": "unused (matches no resource)", "key": "not needed (the resource complies)"}
