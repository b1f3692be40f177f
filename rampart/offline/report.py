"""The SOC 2 evidence report `rampart check --report DIR` writes: Markdown, JSON and one HTML file.

Per SOC 2 criterion: the controls (policies) that support it and every resource (URN) each control
judged, with its outcome; per service (WebService component) the controls that judged the resources
under it. Also: waivers with reasons and expiry, enforcement overrides, unknowns,
the stack, git commit, time, tool and pack versions. The report is of one checkpoint: a preview
(the plan of the stack's program) or the deployed state (`--state`, a `pulumi stack export`, with the
time the export was written); per control it also shows the other checkpoints it has: the preview
result, the deployed-state result, and the AWS Config rule that checks it at run time.
Each file ends with a checksum (SHA-256) of its body, so an auditor can tell it was not edited;
`rampart verify FILE` (`verify_report(path)`) recomputes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import platform
import subprocess
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from rampart.cost import summary as cost_summary
from rampart.offline.result import CheckResult, pack_registry
from rampart_soc2.model import parse_waivers
from rampart_soc2.vocabulary.thresholds import BY_KEY, WAF_DEFAULT_RATE_WINDOW


CRITERIA = {
    "CC6.1": "Logical access security and encryption of data at rest",
    "CC6.3": "Least privilege: access is authorised, modified and removed by role",
    "CC6.6": "Boundary protection against threats from outside the system",
    "CC6.7": "Data in transmission is protected",
    "CC6.8": "Unauthorised or malicious software is prevented or detected",
    "CC7.1": "Configuration changes and vulnerabilities are detected",
    "CC7.2": "System components are monitored for anomalies",
    "CC7.3": "Security events are evaluated",
    "CC7.4": "Incidents are responded to",
    "CC8.1": "Changes are authorised, tested and approved (change management)",
    "A1.1": "Capacity is managed to meet objectives",
    "A1.2": "Recovery and resilience (backups, redundancy, monitoring of availability)",
    "C1.1": "Confidential information is identified and protected",
    "C1.2": "Confidential information is disposed of on schedule",
}
#: Control outcomes the HTML report shows as one row (nothing to act on); others get a full section.
QUIET_OUTCOMES = ("compliant", "not-applicable", "disabled")
HTML_START, HTML_END = "<!-- report-body:start -->", "<!-- report-body:end -->"
MD_SEAL = ("\n---\n\nChecksum of the report body (SHA-256 of every byte before the `---` line above; "
           "`rampart verify FILE` recomputes it): `")
ORDER = ("violation", "missing", "unknown", "waived", "disabled", "compliant", "not-applicable")
COUNTS_OF = ("policy x resource results: one per control and resource it judged "
             "(a resource judged by five controls counts five times)")
CONFIG_RULE_TYPE = "aws:cfg/rule:Rule"
UNUSED_WAIVER = "unused (matches no resource)"
WEB_ACL_TYPE = "aws:wafv2/webAcl:WebAcl"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
    if dist == "rampart":  # running from a checkout that is not pip-installed
        try:
            project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
            return f"{project['project']['version']} (source checkout)"
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            pass
    return "not installed"


def _git(project_dir: Path) -> dict[str, Any]:
    def run(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    sha = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": sha or "unknown (not a git checkout)", "dirty": bool(status) if status is not None else None}


def _pack_version(pack_dir: Path) -> str:
    try:
        doc = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return "unknown"
    return str(doc.get("version", "unknown"))


def _packs(result: CheckResult) -> list[dict[str, Any]]:
    """Every pack that ran, with its own counts (policy x resource results by outcome)."""
    dirs = getattr(result, "pack_dirs", None) or [result.pack_dir]
    out = []
    for pack, where in zip(result.analysis.per_pack(), dirs, strict=False):
        counts: Counter[str] = Counter(o.kind for o in pack.outcomes)
        out.append({"name": pack.pack_name, "version": pack.pack_version, "path": str(where.relative_to(result.project_dir)) if where.is_relative_to(result.project_dir) else where.name,
                    "policies": len(pack.policies),
                    "mandatoryViolations": len(pack.mandatory_violations()),
                    "counts": {k: counts.get(k, 0) for k in ORDER}})
    return out


def _aggregate(kinds: set[str]) -> str:
    for k in ORDER:
        if k in kinds:
            return k
    return "not-applicable"


SERVICE_TYPE = "rampart:web_service:WebService"
IMAGE_TYPE = "rampart:image:Image"


def _service_images(tree: Mapping[str, tuple[str, str | None]], services: Sequence[str]) -> dict[str, str]:
    """Image component URN -> its service's URN: an `Image` named `<service>-app` / `<service>-proxy`
    (how Rampart's program names a service's images; they sit beside the WebService, not under it)."""
    from rampart.program import IMAGE_SUFFIXES

    by_name = {urn.rsplit("::", 1)[-1]: urn for urn in services}
    found = {}
    for urn, (kind, _) in tree.items():
        name = urn.rsplit("::", 1)[-1]
        owner = next((by_name[name.removesuffix(s)] for s in IMAGE_SUFFIXES.values()
                      if kind == IMAGE_TYPE and name.endswith(s) and name.removesuffix(s) in by_name), None)
        if owner is not None:
            found[urn] = owner
    return found


def service_sections(outcomes: Sequence[Any], tree: Mapping[str, tuple[str, str | None]]) -> list[dict[str, Any]]:
    """Per WebService component: the policies that judged its descendant resources and its images, and
    their outcomes.

    `tree` maps every planned URN (components included) to (type, parent URN); a resource belongs to
    the nearest WebService above it, or to the service whose image (`<service>-app`, `<service>-proxy`)
    it is part of. Stack-wide outcomes and not-applicable ones are left out.
    """
    services = sorted(u for u, (t, _) in tree.items() if t == SERVICE_TYPE)
    images = _service_images(tree, services)

    def service_of(urn: str) -> str | None:
        seen: set[str] = set()
        at: str | None = tree[urn][1] if urn in tree else None
        while at and at in tree and at not in seen:
            seen.add(at)
            if tree[at][0] == SERVICE_TYPE:
                return at
            if at in images:
                return images[at]
            at = tree[at][1]
        return None

    judged: dict[str, dict[str, list[Any]]] = {u: {} for u in services}
    for o in outcomes:
        if o.kind == "not-applicable":
            continue
        svc = service_of(o.urn)
        if svc is not None:
            judged[svc].setdefault(o.policy, []).append(o)
    members = Counter(s for s in (service_of(u) for u in tree) if s is not None)
    out = []
    for svc in services:
        policies: list[dict[str, Any]] = []
        for pid, outs in sorted(judged[svc].items()):
            findings = [{"urn": o.urn, "outcome": o.kind, **({"message": o.message} if o.message else {})}
                        for o in sorted(outs, key=lambda o: (ORDER.index(o.kind), o.urn)) if o.kind != "compliant"]
            policies.append({"policy": pid, "outcome": _aggregate({o.kind for o in outs}),
                             "resourcesJudged": len({o.urn for o in outs}), "findings": findings})
        out.append({"urn": svc, "name": svc.rsplit("::", 1)[-1], "resources": members.get(svc, 0),
                    "outcome": _aggregate({str(p["outcome"]) for p in policies}), "policies": policies})
    return out


def _value_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def rate_windows(resources: Iterable[Any]) -> list[int]:
    """The evaluation windows (seconds) of the planned web ACLs' rate-based rules (AWS's default when unset)."""
    windows = set()
    for r in resources:
        if r.type != WEB_ACL_TYPE:
            continue
        for rule in r.properties.get("rules") or []:
            rate = ((rule.get("statement") or {}).get("rateBasedStatement") if isinstance(rule, Mapping) else None)
            if isinstance(rate, Mapping):
                windows.add(int(rate.get("evaluationWindowSec") or WAF_DEFAULT_RATE_WINDOW))
    return sorted(windows)


def window_text(windows: Sequence[int]) -> str:
    """`300 seconds`, `60 or 300 seconds`: the windows a rate limit counts requests in, as configured."""
    if not windows:
        return "evaluation window (no rate-based rule is planned)"
    shown = [str(w) for w in windows]
    return (", ".join(shown[:-1]) + " or " if len(shown) > 1 else "") + f"{shown[-1]} seconds"


def threshold_sentences(pack_config: Mapping[str, Any], resources: Iterable[Any] = ()) -> list[dict[str, Any]]:
    """The thresholds a stack sets, one sentence each (the pack's record's), with the controls that apply it."""
    found: dict[tuple[str, str], list[str]] = {}
    for pid, cfg in sorted(pack_config.items()):
        if not isinstance(cfg, dict):
            continue
        for key, value in sorted(cfg.items()):
            if key not in ("waivers", "enforcementLevel"):
                found.setdefault((key, json.dumps(value, sort_keys=True)), []).append(pid)
    window = window_text(rate_windows(resources))
    out = []
    for (key, value_json), pids in sorted(found.items()):
        value = json.loads(value_json)
        template = BY_KEY[key].sentence if key in BY_KEY else key + " is {value}."
        out.append({"setting": key, "value": value, "sentence": template.format(value=_value_text(value), window=window),
                    "policies": pids})
    return out


def waiver_statuses(result: CheckResult, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every waiver of the stack file with its status: applied, unused (matched no resource), expired, invalid."""
    a = result.analysis
    applied = {(o.policy, o.urn) for o in a.outcomes if o.kind == "waived"}
    judged = {(o.policy, o.urn) for o in a.outcomes}
    today = today or dt.datetime.now(dt.timezone.utc).date()
    waivers = []
    for pid, cfg in sorted(result.pack_config.items()):
        for w in cfg.get("waivers", []) if isinstance(cfg, dict) else []:
            # The pack's own reading of a waiver (one implementation): malformed ones never apply.
            parsed = parse_waivers([w], pid)
            if not parsed:
                waivers.append({**w, "status": "invalid (never applies)"})
                continue
            waiver = parsed[0]
            def matches(pairs: set[tuple[str, str]]) -> bool:
                return any(p == pid and waiver.covers(pid, urn, urn.rsplit("::", 1)[-1]) for p, urn in pairs)

            if not waiver.active(today):
                status = "expired"
            elif matches(applied):
                status = "applied"
            elif matches(judged):
                status = "not needed (the resource complies)"
            else:
                status = UNUSED_WAIVER

            waivers.append({**w, "status": status})
    return waivers


def unused_waiver_warnings(result: CheckResult) -> list[str]:
    """A waiver in the stack file that matched no resource of this check: likely a typo or a stale entry."""
    return [f"waiver for {w['policy']} on {w['resource']!r} ({w['reason']}) matches no resource of "
            f"{result.checkpoint} of stack {result.stack!r}; fix its resource name or remove it from {result.stack_file}"
            for w in waiver_statuses(result) if w["status"] == UNUSED_WAIVER]


def _control_outcome(outs: Sequence[Any], level: str) -> str:
    return "disabled" if level == "disabled" else _aggregate({o.kind for o in outs if o.kind != "not-applicable"})


def runtime_rules(resources: Sequence[Any]) -> dict[str, list[str]]:
    """AWS Config rules among the resources: source identifier -> the rules' URNs."""
    found: dict[str, list[str]] = {}
    for r in resources:
        if r.type != CONFIG_RULE_TYPE:
            continue
        source = r.properties.get("source") or {}
        identifier = source.get("sourceIdentifier") if isinstance(source, Mapping) else None
        if isinstance(identifier, str):
            found.setdefault(identifier, []).append(r.urn)
    return {k: sorted(v) for k, v in found.items()}


def _runtime_checkpoint(spec: Any, rules: Mapping[str, list[str]], where: str) -> dict[str, Any]:
    rule = getattr(spec, "config_rule", None)
    if rule is None:
        return {"status": "none in AWS Config",
                "text": "none in AWS Config: the pack's registry names no AWS Config managed rule for this control"}
    deployed = rules.get(rule.identifier, [])
    if not deployed:
        return {"status": "not deployed by this stack", "identifier": rule.identifier,
                "text": f"AWS Config rule {rule.identifier}: not deployed by this stack"}
    names = ", ".join(u.rsplit("::", 1)[-1] for u in deployed)
    return {"status": "deployed", "identifier": rule.identifier, "rules": deployed,
            "text": f"AWS Config rule {rule.identifier}: deployed by this stack ({where}: {names})"}


def _checkpoint_text(outs: Sequence[Any], level: str) -> str:
    outcome = _control_outcome(outs, level)
    judged = len({o.urn for o in outs if o.kind != "not-applicable"})
    if outcome in ("disabled", "not-applicable"):
        return outcome
    if outcome == "compliant":
        return f"compliant ({judged} resource(s))"
    return f"{outcome} on {len({o.urn for o in outs if o.kind == outcome})} of {judged} resource(s)"


def checkpoints(result: CheckResult) -> dict[str, dict[str, Any]]:
    """Per control: preview result, deployed-state result (when --state was given), runtime rule."""
    registry = pack_registry()
    a = result.analysis
    preview = result.preview if result.state is not None else a
    state = a if result.state is not None else None
    rules = runtime_rules(result.resources)  # the plan's resources for a preview, the export's for a state check
    where = "in the deployed state" if result.state is not None else "in the plan"
    out = {}
    for pid, meta in sorted(a.policies.items()):
        level = a.enforcement.get(pid, meta.enforcement)
        out[pid] = {
            "preview": (_checkpoint_text([o for o in preview.outcomes if o.policy == pid], level)
                        if preview is not None else "not run"),
            "deployedState": (_checkpoint_text([o for o in state.outcomes if o.policy == pid], level)
                              if state is not None else "not checked (no --state export given)"),
            "runtime": _runtime_checkpoint(registry.get(pid), rules, where),
        }
    return out


def headline(controls: Sequence[Mapping[str, Any]], failed: bool) -> str:
    """What passed and what did not, per control, advisories included."""
    def named(rows: list[Mapping[str, Any]]) -> str:
        return ", ".join(str(c["policy"]) for c in rows)

    by = {k: [c for c in controls if c["outcome"] == k] for k in ORDER}
    mandatory = [c for c in by["violation"] if c["enforcement"] == "mandatory"]
    advisory = [c for c in by["violation"] if c["enforcement"] != "mandatory"]
    parts = [f"{'FAIL' if failed else 'PASS'}: of {len(controls)} controls,"]
    clauses = [f"{len(mandatory)} failed a mandatory check" + (f" ({named(mandatory)})" if mandatory else ""),
               f"{len(advisory)} failed an advisory check" + (f" ({named(advisory)})" if advisory else "")]
    if by["missing"]:
        clauses.append(f"{len(by['missing'])} lack a planned resource in the deployed state ({named(by['missing'])})")
    if by["unknown"]:
        clauses.append(f"{len(by['unknown'])} could not be judged (unknown values: {named(by['unknown'])})")
    clauses += [f"{len(by['compliant'])} passed",
                f"{len(by['waived'])} passed with waivers" + (f" ({named(by['waived'])})" if by["waived"] else ""),
                f"{len(by['not-applicable'])} had no resource to check", f"{len(by['disabled'])} are disabled"]
    return " ".join(parts) + " " + "; ".join(clauses) + "."


def build_report(result: CheckResult, now: dt.datetime | None = None) -> dict[str, Any]:
    a = result.analysis
    now = now or dt.datetime.now(dt.timezone.utc)
    types = {**{u: t for u, (t, _) in (getattr(result, "planned", {}) or {}).items()},
             **{r.urn: r.type for r in result.resources}}
    by_policy: dict[str, list[Any]] = {}
    for o in a.outcomes:
        by_policy.setdefault(o.policy, []).append(o)

    controls: dict[str, dict[str, Any]] = {}
    for pid, meta in sorted(a.policies.items()):
        outs = [o for o in by_policy.get(pid, []) if o.kind != "not-applicable"]
        level = a.enforcement.get(pid, meta.enforcement)
        controls[pid] = {
            "policy": pid, "description": meta.description, "severity": meta.severity,
            "defaultEnforcement": meta.enforcement, "enforcement": level, "kind": meta.kind,
            "criteria": list(meta.criteria), "remediation": meta.remediation, "reference": meta.url,
            "outcome": _control_outcome(outs, level),
            "resources": [{"urn": o.urn, "type": types.get(o.urn, ""), "outcome": o.kind,
                           **({"enforcement": o.enforcement} if o.enforcement else {}),
                           **({"message": o.message} if o.message else {})}
                          for o in sorted(outs, key=lambda o: (ORDER.index(o.kind), o.urn))],
        }
    criteria = []
    for cid in sorted({c for m in a.policies.values() for c in m.criteria},
                      key=lambda c: (list(CRITERIA).index(c) if c in CRITERIA else 99, c)):
        ids = [pid for pid in sorted(a.policies) if cid in a.policies[pid].criteria]
        criteria.append({"id": cid, "name": CRITERIA.get(cid, ""),
                         "outcome": _aggregate({controls[p]["outcome"] for p in ids}), "controls": ids})

    for pid, points in checkpoints(result).items():
        controls[pid]["checkpoints"] = points
    waivers = waiver_statuses(result, now.date())
    state = result.state

    overrides = [{"policy": pid, "default": a.policies[pid].enforcement, "effective": level}
                 for pid, level in sorted(a.enforcement.items()) if level != a.policies[pid].enforcement]
    counts: Counter[str] = Counter(o.kind for o in a.outcomes)
    mandatory = a.mandatory_violations()
    return {
        "title": "SOC 2 evidence report",
        "stack": result.stack,
        "project": result.project,
        "checkpoint": {"name": result.checkpoint,
                       "time": state.checkpoint_time if state is not None else now.isoformat(timespec="seconds"),
                       "source": (f"pulumi stack export {state.path.name}" if state is not None
                                  else "plan of the stack's program (mock engine)")},
        "headline": headline(list(controls.values()), result.failed),
        "generatedAt": now.isoformat(timespec="seconds"),
        "git": _git(result.project_dir),
        "tools": {"rampart": _version("rampart"), "python": platform.python_version(),
                  "pulumi": _version("pulumi"), "pulumi-policy": _version("pulumi-policy"),
                  "pulumi-aws": _version("pulumi-aws")},
        "pack": {"name": a.pack_name, "version": _pack_version(result.pack_dir), "policies": len(a.policies),
                 "packs": _packs(result),
                 "path": str(result.pack_dir.relative_to(result.project_dir))
                 if result.pack_dir.is_relative_to(result.project_dir) else result.pack_dir.name},
        "method": (("Every resource recorded in the deployed stack's export (its real outputs, parents and "
                    "dependencies; encrypted secrets sent as secret values the pack cannot read) was sent to the "
                    "policy pack" if state is not None else
                    "The stack's program ran under Pulumi's mock engine (no cloud account); every planned "
                    "resource was sent to the policy pack")
                   + " over the Pulumi Analyzer gRPC protocol (Analyze per resource, AnalyzeStack once), with the "
                   "pack configured from the stack file's rampart:policy."),
        "result": "FAIL" if result.failed else "PASS",
        "countsOf": COUNTS_OF,
        "counts": {k: counts.get(k, 0) for k in ORDER},
        "resourcesChecked": len(result.resources),
        "mandatoryViolations": len(mandatory),
        "enforcementOverrides": overrides,
        "waivers": waivers,
        "thresholds": threshold_sentences(result.pack_config, result.resources),
        "violations": [{"policy": o.policy, "urn": o.urn, "enforcement": o.enforcement,
                        "criteria": list(a.policies[o.policy].criteria), "message": o.message,
                        **({"inYourStack": hint} if (hint := result.stack_hint(o.policy)) else {})}
                       for o in sorted(a.outcomes, key=lambda o: (o.policy, o.urn)) if o.kind == "violation"],
        "missing": [{"policy": o.policy, "urn": o.urn, "enforcement": o.enforcement}
                    for o in sorted(a.outcomes, key=lambda o: (o.policy, o.urn)) if o.kind == "missing"],
        "unknowns": [{"policy": o.policy, "urn": o.urn, "message": o.message}
                     for o in sorted(a.outcomes, key=lambda o: (o.policy, o.urn)) if o.kind == "unknown"],
        "criteria": criteria,
        "services": service_sections(a.outcomes, getattr(result, "tree", {}) or {}),
        "controls": list(controls.values()),
        **({"cost": result.cost} if getattr(result, "cost", None) else {}),
    }


# ----------------------------------------------------------------------------- sealing

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_body(report: dict[str, Any]) -> str:
    return json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False)


def render_json(report: dict[str, Any]) -> str:
    body = json_body(report)
    return json.dumps({"report": report, "sha256": _sha(body),
                       "sha256Of": ("checksum of the report body: json.dumps(report, sort_keys=True, indent=2, "
                                    "ensure_ascii=False) in UTF-8; `rampart verify FILE` recomputes it")},
                      sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def verify_report(path: Path) -> bool:
    """True when the file's recorded SHA-256 matches its body."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a report (not UTF-8 text, as every report rampart check writes is)") from None
    if path.suffix == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            return False  # edited until it is no longer JSON
        return isinstance(doc, dict) and "report" in doc and doc.get("sha256") == _sha(json_body(doc["report"]))
    if path.suffix == ".md":
        body, sep, rest = text.rpartition(MD_SEAL)
        return bool(sep) and rest.split("`", 1)[0] == _sha(body)
    if path.suffix == ".html":
        start, end = text.find(HTML_START), text.find(HTML_END)
        if start < 0 or end < 0:
            return False
        body = text[start + len(HTML_START):end]
        marker = 'data-sha256="'
        at = text.find(marker, end)
        return at >= 0 and text[at + len(marker):at + len(marker) + 64] == _sha(body)
    raise ValueError(f"{path}: not a report file (.md, .json or .html)")


# ----------------------------------------------------------------------------- markdown

def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _checkpoint_title(r: Mapping[str, Any]) -> str:
    cp = r["checkpoint"]
    return f"{cp['name']} at {cp['time']}" if cp["name"] == "deployed state" else str(cp["name"])


def _unknown_heading(r: Mapping[str, Any]) -> str:
    return "Unknown values" if r["checkpoint"]["name"] == "deployed state" else "Unknown during preview"


def render_md(report: dict[str, Any]) -> str:
    r = report
    lines = [
        f"# {r['title']}: stack `{r['stack']}`, {_checkpoint_title(r)}", "",
        f"**{r['headline']}**", "",
        f"{r['mandatoryViolations']} mandatory violation(s); {r['resourcesChecked']} resources checked by "
        f"{r['pack']['policies']} controls.", "",
        "| | |", "|---|---|",
        f"| Project | `{r['project']}` |",
        f"| Stack | `{r['stack']}` |",
        f"| Checkpoint | {r['checkpoint']['name']} at {r['checkpoint']['time']} ({_md_cell(r['checkpoint']['source'])}) |",
        f"| Generated | {r['generatedAt']} |",
        f"| Git commit | `{r['git']['commit']}`{' (uncommitted changes)' if r['git']['dirty'] else ''} |",
        f"| Policy pack | `{r['pack']['name']}` {r['pack']['version']} ({r['pack']['path']}) |",
        "| Tools | " + ", ".join(f"{k} {v}" for k, v in r["tools"].items()) + " |",
        "", f"_Method:_ {r['method']}", "",
        "## Results", "", f"Counts of {r['countsOf']}.", "", "| outcome | policy x resource results |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in r["counts"].items()], "",
        "## Enforcement overrides", "",
    ]
    if r["enforcementOverrides"]:
        lines += ["| policy | default | this stack |", "|---|---|---|",
                  *[f"| `{o['policy']}` | {o['default']} | **{o['effective']}** |" for o in r["enforcementOverrides"]]]
    else:
        lines.append("None: every control runs at its default level.")
    lines += ["", "## Waivers", ""]
    if r["waivers"]:
        lines += ["| policy | resource | reason | expires | status |", "|---|---|---|---|---|",
                  *[f"| `{w['policy']}` | `{_md_cell(w['resource'])}` | {_md_cell(w['reason'])} | {w['expires']} | {w['status']} |"
                    for w in r["waivers"]]]
    else:
        lines.append("None.")
    if r["thresholds"]:
        lines += ["", "## Thresholds set by this stack", "",
                  *[f"- {t['sentence']} (`{t['setting']}`, applied by {', '.join(f'`{p}`' for p in t['policies'])})"
                    for t in r["thresholds"]]]
    if r.get("cost"):
        lines += ["", *cost_summary.render_md(r["cost"])]
    lines += ["", "## Violations", ""]
    if r["violations"]:
        lines += ["| policy | enforcement | resource | criteria | finding |", "|---|---|---|---|---|",
                  *[f"| `{v['policy']}` | {v['enforcement']} | `{v['urn']}` | {', '.join(v['criteria'])} | {_md_cell(v['message'] + (' ' + v['inYourStack'] if v.get('inYourStack') else ''))} |"
                    for v in r["violations"]]]
    else:
        lines.append("None.")
    if r["missing"]:
        lines += ["", "## Planned but absent from the deployed state", "",
                  "These resources are in the stack's plan but not in the export (deleted out of band, or never "
                  "deployed); the controls that check them have no evidence for them.", "",
                  "| policy | enforcement | resource |", "|---|---|---|",
                  *[f"| `{m['policy']}` | {m['enforcement']} | `{m['urn']}` |" for m in r["missing"]]]
    lines += ["", f"## {_unknown_heading(r)}", ""]
    if r["unknowns"]:
        lines += ["| policy | resource | not known |", "|---|---|---|",
                  *[f"| `{u['policy']}` | `{u['urn']}` | {_md_cell(u['message'])} |" for u in r["unknowns"]]]
    else:
        lines.append("None: every checked value was known.")
    controls = {c["policy"]: c for c in r["controls"]}
    lines += ["", "## Controls by SOC 2 criterion", ""]
    for c in r["criteria"]:
        lines += [f"### {c['id']}: {c['name']} ({c['outcome']})", ""]
        for pid in c["controls"]:
            ctl = controls[pid]
            lines += [f"- `{pid}` ({ctl['severity']}, {ctl['enforcement']}): {ctl['description']} "
                      f"**{ctl['outcome']}** on {len(ctl['resources'])} resource(s)"]
    lines += ["", "## Services", ""]
    if r.get("services"):
        lines += ["What was checked on each service: the policies that judged resources under its "
                  "`rampart:web_service:WebService` component, with every finding that is not compliant.", ""]
        for svc in r["services"]:
            lines += [f"### Service `{svc['name']}` ({svc['outcome']})", "",
                      f"`{svc['urn']}`: {svc['resources']} resource(s) and component(s) under it, "
                      f"judged by {len(svc['policies'])} control(s).", ""]
            if svc["policies"]:
                lines += ["| policy | outcome | resources judged | findings |", "|---|---|---|---|",
                          *[f"| `{p['policy']}` | {p['outcome']} | {p['resourcesJudged']} | "
                            + _md_cell("; ".join(f"{f['outcome']}: `{f['urn'].rsplit('::', 1)[-1]}` {f.get('message', '')}".strip()
                                                 for f in p["findings"]) or "none")
                            + " |" for p in svc["policies"]]]
            lines.append("")
    else:
        lines.append("No `rampart:web_service:WebService` component in this stack.")
    lines += ["", "## Resources checked per control", ""]
    for ctl in r["controls"]:
        lines += [f"### `{ctl['policy']}`", "",
                  f"{ctl['description']} Criteria: {', '.join(ctl['criteria'])}. Severity {ctl['severity']}; "
                  f"enforcement {ctl['enforcement']}. Remediation: {ctl['remediation']} Reference: {ctl['reference']}", "",
                  f"- Preview: {ctl['checkpoints']['preview']}",
                  f"- Deployed state: {ctl['checkpoints']['deployedState']}",
                  f"- Runtime: {ctl['checkpoints']['runtime']['text']}", ""]
        if ctl["resources"]:
            lines += ["| resource (URN) | outcome | detail |", "|---|---|---|",
                      *[f"| `{x['urn']}` | {x['outcome']} | {_md_cell(x.get('message', ''))} |" for x in ctl["resources"]]]
        else:
            lines.append("No resource of the types this control checks is in the stack.")
        lines.append("")
    body = "\n".join(lines) + "\n"
    return body + MD_SEAL + _sha(body) + "`\n"


# ----------------------------------------------------------------------------- html

CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2530;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:.2em 0}h2{margin-top:1.8em;border-bottom:1px solid #d5dae1;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.6em 0;background:#fff}
th,td{border:1px solid #d5dae1;padding:4px 8px;text-align:left;vertical-align:top;font-size:.92em}
th{background:#eef1f5}code{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.85em;font-weight:600;color:#fff}
.violation,.FAIL{background:#c62828}.compliant,.PASS{background:#2e7d32}.unknown{background:#ef6c00}
.waived{background:#6a1b9a}.disabled{background:#546e7a}.not-applicable{background:#90a4ae}
.section{background:#fff;border:1px solid #d5dae1;border-radius:6px;margin:.5em 0;padding:.4em .8em}
.section h4{margin:.2em 0}.muted{color:#5f6b7a}footer{margin-top:2em;font-size:.85em;color:#5f6b7a}
.missing{background:#ad1457}@media print{.section{break-inside:avoid}}
code.pid{white-space:nowrap;word-break:normal}table.compact td{padding:2px 6px}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pid(policy: Any) -> str:
    """A policy id: kept on one line (URNs may break anywhere, an id never mid-word)."""
    return f"<code class='pid'>{_e(policy)}</code>"


def _badge(kind: str) -> str:
    return f'<span class="badge {_e(kind)}">{_e(kind)}</span>'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f" class='{css}'" if css else ""
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: dict[str, Any]) -> str:
    r = report
    parts = [
        f"<h1>{_e(r['title'])}: stack <code>{_e(r['stack'])}</code>, {_e(_checkpoint_title(r))}</h1>",
        f"<p>{_badge(r['result'])} <b>{_e(r['headline'])}</b></p>",
        f"<p>{r['mandatoryViolations']} mandatory violation(s); "
        f"{r['resourcesChecked']} resources checked by {r['pack']['policies']} controls.</p>",
        _table(["", ""], [
            ["Project", f"<code>{_e(r['project'])}</code>"], ["Stack", f"<code>{_e(r['stack'])}</code>"],
            ["Checkpoint", _e(f"{r['checkpoint']['name']} at {r['checkpoint']['time']} ({r['checkpoint']['source']})")],
            ["Generated", _e(r["generatedAt"])],
            ["Git commit", f"<code>{_e(r['git']['commit'])}</code>" + (" (uncommitted changes)" if r["git"]["dirty"] else "")],
            ["Policy pack", f"<code>{_e(r['pack']['name'])}</code> {_e(r['pack']['version'])} ({_e(r['pack']['path'])})"],
            ["Tools", _e(", ".join(f"{k} {v}" for k, v in r["tools"].items()))],
        ]),
        f"<p class='muted'>{_e(r['method'])}</p>",
        "<h2>Results</h2>", f"<p>Counts of {_e(r['countsOf'])}.</p>",
        _table(["outcome", "policy x resource results"], [[_badge(k), str(v)] for k, v in r["counts"].items()]),
        "<h2>Enforcement overrides</h2>",
        _table(["policy", "default", "this stack"], [[f"{_pid(o['policy'])}", _e(o["default"]), f"<b>{_e(o['effective'])}</b>"]
                                                     for o in r["enforcementOverrides"]])
        if r["enforcementOverrides"] else "<p>None: every control runs at its default level.</p>",
        "<h2>Waivers</h2>",
        _table(["policy", "resource", "reason", "expires", "status"],
               [[f"{_pid(w['policy'])}", f"<code>{_e(w['resource'])}</code>", _e(w["reason"]), _e(w["expires"]), _e(w["status"])]
                for w in r["waivers"]]) if r["waivers"] else "<p>None.</p>",
    ]
    if r["thresholds"]:
        parts += ["<h2>Thresholds set by this stack</h2>",
                  "<ul>" + "".join(f"<li>{_e(t['sentence'])} <span class='muted'>(<code>{_e(t['setting'])}</code>, applied by "
                                   + ", ".join(f"{_pid(p)}" for p in t["policies"]) + ")</span></li>"
                                   for t in r["thresholds"]) + "</ul>"]
    if r.get("cost"):
        parts.append(cost_summary.render_html(r["cost"]))
    parts += ["<h2>Violations</h2>",
              _table(["policy", "enforcement", "resource", "criteria", "finding"],
                     [[f"{_pid(v['policy'])}", _e(v["enforcement"]), f"<code>{_e(v['urn'])}</code>",
                       _e(", ".join(v["criteria"])), _e(v["message"] + (" " + v["inYourStack"] if v.get("inYourStack") else ""))]
                      for v in r["violations"]])
              if r["violations"] else "<p>None.</p>",
              *(["<h2>Planned but absent from the deployed state</h2>",
                 "<p>These resources are in the stack's plan but not in the export (deleted out of band, or never "
                 "deployed); the controls that check them have no evidence for them.</p>",
                 _table(["policy", "enforcement", "resource"],
                        [[f"{_pid(m['policy'])}", _e(m["enforcement"]), f"<code>{_e(m['urn'])}</code>"]
                         for m in r["missing"]])] if r["missing"] else []),
              f"<h2>{_e(_unknown_heading(r))}</h2>",
              _table(["policy", "resource", "not known"],
                     [[f"{_pid(u['policy'])}", f"<code>{_e(u['urn'])}</code>", _e(u["message"])] for u in r["unknowns"]])
              if r["unknowns"] else "<p>None: every checked value was known.</p>",
              "<h2>Controls by SOC 2 criterion</h2>"]
    controls = {c["policy"]: c for c in r["controls"]}
    for c in r["criteria"]:
        inner = []
        # A control with nothing to act on (passed, nothing to check, disabled) is one row of a table; a
        # control with findings gets its full section. Keeps the page short and prints expanded.
        quiet = [controls[pid] for pid in c["controls"] if controls[pid]["outcome"] in QUIET_OUTCOMES]
        if quiet:
            inner.append(_table(["", "control", "severity, level", "resources judged", "checkpoints"], [
                [_badge(ctl["outcome"]), _pid(ctl["policy"]), _e(f"{ctl['severity']}, {ctl['enforcement']}"),
                 _e(", ".join(x["urn"].rsplit("::", 1)[-1] for x in ctl["resources"]) or "none of its types in the stack"),
                 _e(f"Preview: {ctl['checkpoints']['preview']}; deployed state: {ctl['checkpoints']['deployedState']}; "
                    f"runtime: {ctl['checkpoints']['runtime']['text']}")] for ctl in quiet], css="compact"))
        for pid in c["controls"]:
            ctl = controls[pid]
            if ctl["outcome"] in QUIET_OUTCOMES:
                continue
            rows = [[f"<code>{_e(x['urn'])}</code>", _badge(x["outcome"]), _e(x.get("message", ""))] for x in ctl["resources"]]
            cp = ctl["checkpoints"]
            inner.append(
                f"<div class='section'><h4>{_badge(ctl['outcome'])} {_pid(pid)} "
                f"<span class='muted'>({_e(ctl['severity'])}, {_e(ctl['enforcement'])}; {len(rows)} resource(s))</span></h4>"
                f"<p>{_e(ctl['description'])}</p><p><b>Remediation:</b> {_e(ctl['remediation'])} "
                f"<a href='{_e(ctl['reference'])}'>reference</a></p>"
                f"<ul><li>Preview: {_e(cp['preview'])}</li><li>Deployed state: {_e(cp['deployedState'])}</li>"
                f"<li>Runtime: {_e(cp['runtime']['text'])}</li></ul>"
                + (_table(["resource (URN)", "outcome", "detail"], rows) if rows
                   else "<p class='muted'>No resource of the types this control checks is in the stack.</p>")
                + "</div>")
        parts.append(f"<h3>{_badge(c['outcome'])} {_e(c['id'])}: {_e(c['name'])}</h3>" + "".join(inner))
    parts.append("<h2>Services</h2>")
    if r.get("services"):
        for svc in r["services"]:
            rows = [[f"{_pid(p['policy'])}", _badge(p["outcome"]), str(p["resourcesJudged"]),
                     "<br>".join(f"{_badge(f['outcome'])} <code>{_e(f['urn'].rsplit('::', 1)[-1])}</code> {_e(f.get('message', ''))}"
                                 for f in p["findings"]) or "none"] for p in svc["policies"]]
            parts.append(
                f"<div class='section'><h4>{_badge(svc['outcome'])} service <code>{_e(svc['name'])}</code> "
                f"<span class='muted'>({svc['resources']} resource(s) and component(s), {len(rows)} control(s))</span></h4>"
                f"<p><code>{_e(svc['urn'])}</code></p>"
                + (_table(["policy", "outcome", "resources judged", "findings"], rows) if rows
                   else "<p class='muted'>No control judged a resource of this service.</p>")
                + "</div>")
    else:
        parts.append("<p>No <code>rampart:web_service:WebService</code> component in this stack.</p>")
    body = "\n".join(parts)
    digest = _sha(body)
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{_e(r['title'])}: {_e(r['stack'])}</title>"
            f"<style>{CSS}</style></head><body><main>{HTML_START}{body}{HTML_END}"
            f"<footer data-sha256=\"{digest}\">Checksum of the report body (SHA-256 of the bytes between the "
            f"report-body markers in this file's source; <code>rampart verify FILE</code> recomputes it): "
            f"<code>{digest}</code></footer></main></body></html>\n")


RENDERERS = {"md": render_md, "json": render_json, "html": render_html}


def write_reports(result: CheckResult, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(result)
    paths = []
    for fmt in formats:
        path = out_dir / f"soc2-{result.stack}.{fmt}"
        path.write_text(RENDERERS[fmt](report), encoding="utf-8")
        paths.append(path)
    return paths
