"""The SOC 2 pack over a stack, offline (`rampart check`, rampart.commands.check).

Plans the stack of any Pulumi Python project under Pulumi's mock engine (`rampart plan`), then runs
each policy pack (Rampart's installed SOC 2 pack by default; `--policy-pack DIR`, repeatable, Python
or Node.js) the way the Pulumi CLI does: as its own process speaking the Analyzer gRPC protocol,
Analyze per resource and AnalyzeStack once; Rampart's pack is configured from `rampart:policy`.
Each pack's own initialConfig applies, then `--policy-pack-config FILE` (one per pack, in order).
The result (rampart.offline.result.CheckResult) fails on a mandatory violation; `summary_lines` is
its one-line-per-policy summary, rampart.offline.report its evidence report.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rampart_soc2.vocabulary.thresholds import THRESHOLDS

from rampart import cost
from rampart.offline.analyzer import (Analysis, AnalysisResource, AnalyzerError, Outcome, PackConfigError,
                                      merge_analyses, run_pack)
from rampart.config import engine_config
from rampart.errors import PackError, UserError
from rampart.offline.result import CheckResult, pack_registry

STACK_TYPE = "pulumi:pulumi:Stack"
#: The stack-file namespace whose `policy` key configures Rampart's pack, in any project.
NAMESPACE = "rampart"

LEVELS = ("advisory", "mandatory", "disabled")


def _as_mapping(settings: Any) -> dict[str, Any]:
    if settings is None:
        return {}
    if hasattr(settings, "model_dump"):
        # Unset thresholds stay unset, so the pack applies its own defaults (e.g. 2 tasks on prod).
        return dict(settings.model_dump(by_alias=False, exclude_none=True))
    if isinstance(settings, Mapping):
        return dict(settings)
    raise UserError(f"rampart:policy must be a mapping, not {type(settings).__name__}")


def _date_text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value)


def pack_config_from_stack(policy_settings: Any, policies: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The pack config (the CLI's --policy-pack-config shape) for a stack's `rampart:policy` settings.

    Accepts the config model's PolicySettings or the raw mapping from the stack file. Fields:
    `enforcement` {policy: advisory|mandatory|disabled}, `waivers` [{policy, resource, reason,
    expires}], thresholds either under `thresholds` or directly (minTaskCount, minLogRetentionDays,
    ...). Each threshold goes to the policies that read it; each waiver to its policy.
    """
    policies = policies if policies is not None else pack_registry()
    raw = _as_mapping(policy_settings)
    config: dict[str, dict[str, Any]] = {}

    def entry(pid: str, where: str) -> dict[str, Any]:
        if pid not in policies:
            raise UserError(f"rampart:policy.{where} names {pid!r}, which is not a policy of the pack (see POLICIES.md)")
        return config.setdefault(pid, {})

    for pid, level in dict(raw.get("enforcement") or {}).items():
        if level not in LEVELS:
            raise UserError(f"rampart:policy.enforcement.{pid} is {level!r}; use one of {', '.join(LEVELS)}")
        entry(pid, "enforcement")["enforcementLevel"] = level

    for i, w in enumerate(raw.get("waivers") or []):
        w = _as_mapping(w)
        missing = [k for k in ("policy", "resource", "reason", "expires") if not w.get(k)]
        if missing:
            raise UserError(f"rampart:policy.waivers[{i}] lacks {', '.join(missing)}")
        e = entry(str(w["policy"]), f"waivers[{i}].policy")
        e.setdefault("waivers", []).append({"policy": str(w["policy"]), "resource": str(w["resource"]),
                                            "reason": str(w["reason"]), "expires": _date_text(w["expires"])})

    thresholds: dict[str, Any] = {}
    nested = _as_mapping(raw.get("thresholds"))
    for record in THRESHOLDS:
        for source in (nested, raw):
            for spelling in record.spellings:
                if source.get(spelling) is not None:
                    thresholds[record.key] = source[spelling]
    unknown = sorted(k for k in nested if not any(k in t.spellings for t in THRESHOLDS))
    if unknown:
        raise UserError(f"rampart:policy.thresholds has unknown keys {', '.join(unknown)}; "
                        f"known: {', '.join(t.key for t in THRESHOLDS)}")
    for pid, spec in policies.items():
        for key in getattr(spec, "thresholds", ()):
            if key in thresholds:
                config.setdefault(pid, {})[key] = thresholds[key]
    return config


def to_analysis(resources: Iterable[Any]) -> list[AnalysisResource]:
    """Planned resources (rampart.offline.mock_engine.RegisteredResource) as the engine sends them to a pack.

    Properties are the inputs (camelCase, secrets re-marked) over the outputs the mock filled in
    (id, arn, ...), which is what the relationship policies match on. Component resources and the
    stack itself are not sent, as the engine sends only what a provider will create.
    """
    out = []
    for r in sorted(resources, key=lambda r: r.urn):  # the engine's registration order varies between runs
        if r.type == STACK_TYPE or not getattr(r, "custom", True):
            continue
        props = {**(r.outputs or {}), **(r.inputs or {})}
        out.append(AnalysisResource(urn=r.urn, type=r.type, name=r.name, properties=props,
                                    parent=r.parent_urn, secret_paths=frozenset(getattr(r, "secret_paths", ()))))
    return out


def pack_config_for_stack(project_dir: Path, stack: str) -> dict[str, Any]:
    """The pack config for a stack file, as `pulumi preview --policy-pack-config` takes it: from its
    `rampart:policy` key (validated with the whole file for Rampart's program, alone for any other)."""
    from rampart.config import read_stack_values, validate_policy_settings, validate_stack_config
    from rampart.project import load_project, stack_config

    project = load_project(project_dir)
    if project.is_rampart_program:
        path, values = read_stack_values(project_dir, stack)
        return pack_config_from_stack(validate_stack_config(values, path.name).policy, pack_registry())
    found = stack_config(project, stack)
    settings = validate_policy_settings(found.values.get(f"{NAMESPACE}:policy"), project.shown(found.path))
    return pack_config_from_stack(settings, pack_registry())


def default_pack_dir() -> Path:
    """Rampart's SOC 2 pack as installed with the package (what `rampart pack-path` prints)."""
    from rampart_soc2.policy_pack import PACK_DIR

    return PACK_DIR


def _pack_dirs(pack_dirs: Path | Sequence[Path] | None) -> list[Path]:
    """The packs to run: those given, else Rampart's installed pack; each must be a pack directory."""
    dirs = [pack_dirs] if isinstance(pack_dirs, Path) else list(pack_dirs or [default_pack_dir()])
    dirs = [d.resolve() for d in dirs]
    for d in dirs:
        if not (d / "PulumiPolicy.yaml").is_file():
            raise UserError(f"{d} is not a policy pack (no PulumiPolicy.yaml); pass --policy-pack DIR")
    return dirs


def read_pack_configs(files: Sequence[Path] | None, packs: int) -> list[dict[str, Any]]:
    """`--policy-pack-config FILE`, one per `--policy-pack` in the same order, as the Pulumi CLI takes
    them: each a JSON object keyed by policy name (a level, or {enforcementLevel, ...properties}),
    plus `all` for every policy's level."""
    files = list(files or [])
    if not files:
        return [{} for _ in range(packs)]
    if len(files) != packs:
        raise UserError(f"{len(files)} --policy-pack-config for {packs} policy pack(s): give one config file per "
                        "--policy-pack, in the same order (as `pulumi preview` takes them)")
    configs = []
    for file in files:
        try:
            config = json.loads(file.read_text())
        except json.JSONDecodeError as e:
            raise UserError(f"--policy-pack-config {file} is not JSON ({e})") from None
        if not isinstance(config, dict) or not all(isinstance(v, (str, dict)) for v in config.values()):
            raise UserError(f"--policy-pack-config {file}: give a JSON object keyed by policy name (or `all`), "
                            'each a level or {"enforcementLevel": ..., property: value}')
        configs.append(config)
    return configs


def _run_packs(dirs: Sequence[Path], resources: list[AnalysisResource], *, project: Any, project_name: str,
               stack: str, pack_config: Mapping[str, Any], stack_values: Mapping[str, Any], dry_run: bool,
               pack_configs: Sequence[Mapping[str, Any]] = ()) -> Analysis:
    """Every pack over the same resources, as the CLI runs them; their results merged into one Analysis.
    The stack's `rampart:policy` configures Rampart's pack only; `pack_configs[i]` (its
    --policy-pack-config) configures pack `dirs[i]`, over its own initialConfig and the stack's."""
    from rampart_soc2.pulumi_adapter import PACK_NAME

    analyses = []
    for i, d in enumerate(dirs):
        try:
            analyses.append(run_pack(d, resources, project=project_name, stack=stack, policy_config=pack_config,
                                     config_pack=PACK_NAME, stack_config=engine_config(stack_values),
                                     dry_run=dry_run, extra_env={"RAMPART_PROJECT_DIR": str(project.directory)},
                                     pack_config=pack_configs[i] if i < len(pack_configs) else None))
        except PackConfigError as e:
            raise UserError(f"--policy-pack {d}: {e}") from None
        except AnalyzerError as e:
            raise PackError(f"policy pack {d} failed: {e}") from e
    return merge_analyses(analyses)


def _program_shown(project: Any) -> str:
    """CheckResult.program: the entry file of a program that is not Rampart's own, else ""."""
    return "" if project.is_rampart_program else project.shown(project.program())


def check_stack(project_dir: Path, stack: str, pack_dirs: Path | Sequence[Path] | None = None,
                stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
                pack_config_files: Sequence[Path] | None = None) -> CheckResult:
    """Plan `stack` and run each policy pack over it (Rampart's installed pack by default); the
    subcommand-free entry point."""
    from rampart.offline.plan import run_stack
    from rampart.project import load_project, stack_config

    project = load_project(project_dir)
    dirs = _pack_dirs(pack_dirs)
    pack_configs = read_pack_configs(pack_config_files, len(dirs))
    stack_values = stack_config(project, stack)
    pack_config = pack_config_for_stack(project.directory, stack)
    started = time.monotonic()
    run = run_stack(project.directory, stack, stack_outputs)
    planned = run.resources
    plan_seconds = time.monotonic() - started
    resources = to_analysis(planned)
    analysis = _run_packs(dirs, resources, project=project, project_name=project.name, stack=stack,
                          pack_config=pack_config, stack_values=stack_values.values, dry_run=True,
                          pack_configs=pack_configs)
    return CheckResult(stack, project.name, project.directory, dirs[0], analysis, resources,
                       pack_config, plan_seconds, time.monotonic() - started, project.shown(stack_values.path),
                       tree={r.urn: (r.type, r.parent_urn) for r in planned}, pack_dirs=dirs, notes=run.notes,
                       program=_program_shown(project), cost=cost.estimate(cost.entries(planned), run.region))


def check_state(project_dir: Path, stack: str, state_file: Path, pack_dirs: Path | Sequence[Path] | None = None,
                stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
                pack_config_files: Sequence[Path] | None = None) -> CheckResult:
    """Run the packs over a deployed stack's export (`pulumi stack export`), configured from the stack
    file as for a preview; the plan of the same stack is the preview checkpoint and names the
    resources the export lacks."""
    from rampart.offline.plan import run_stack
    from rampart.project import load_project, stack_config
    from rampart.offline.state import missing_outcomes, read_export

    project = load_project(project_dir)
    dirs = _pack_dirs(pack_dirs)
    pack_configs = read_pack_configs(pack_config_files, len(dirs))
    state = read_export(state_file)
    if state.stack != stack:
        raise UserError(f"--state {state_file} is an export of stack {state.stack!r}, not {stack!r}; "
                        f"pass --stack {state.stack} or the export of {stack!r}")
    stack_values = stack_config(project, stack)
    pack_config = pack_config_for_stack(project.directory, stack)
    started = time.monotonic()
    run = run_stack(project.directory, stack, stack_outputs)
    planned = run.resources
    plan_seconds = time.monotonic() - started
    preview_resources = to_analysis(planned)
    analysis, preview = (
        _run_packs(dirs, resources, project=project, project_name=state.project, stack=stack,
                   pack_config=pack_config, stack_values=stack_values.values, dry_run=dry_run,
                   pack_configs=pack_configs)
        for resources, dry_run in ((state.resources, False), (preview_resources, True)))
    analysis.outcomes += missing_outcomes(preview_resources, state, analysis)
    return CheckResult(stack, state.project, project.directory, dirs[0], analysis, state.resources, pack_config,
                       plan_seconds, time.monotonic() - started, project.shown(stack_values.path), tree=state.tree,
                       state=state, planned={r.urn: (r.type, r.parent_urn) for r in planned}, preview=preview,
                       pack_dirs=dirs, program=_program_shown(project), cost=cost.estimate(cost.entries(planned), run.region))


def _short(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def resource_count(result: CheckResult) -> str:
    """The resources checked, and why that is fewer than `rampart plan` counts: the plan lists component
    resources too, which no provider creates, so the engine sends them to no pack."""
    checked = f"{len(result.resources)} resources"
    if result.state is not None:
        return checked
    planned = sum(1 for kind, _ in result.tree.values() if kind != STACK_TYPE)
    components = planned - len(result.resources)
    if components <= 0:
        return checked
    return f"{checked} (the plan's {planned} less {components} component resources, which packs are not sent)"


def summary_lines(result: CheckResult) -> list[str]:
    """One line per policy: policy, outcome, resources (the non-compliant ones named)."""
    a = result.analysis
    by_policy: dict[str, list[Outcome]] = {}
    for o in a.outcomes:
        by_policy.setdefault(o.policy, []).append(o)
    width = max(len(p) for p in a.policies)
    where = (f"deployed state {result.state.path} (checkpoint {result.state.checkpoint_time})"
             if result.state is not None else "preview")
    packs = ", ".join(f"{p.pack_name} {p.pack_version}: {len(p.policies)}" for p in a.per_pack())
    lines = [f"rampart check: stack {result.stack!r}, {where}, {resource_count(result)}, "
             f"{len(a.policies)} policies ({packs})", ""]
    if result.notes:  # the program's own notes (prerequisites such as a declared AWS Config recorder)
        lines += [*result.notes, ""]
    lines.append(f"{'POLICY'.ljust(width)}  {'OUTCOME'.ljust(20)}  RESOURCES")
    for pid in sorted(a.policies):
        outs = by_policy.get(pid, [])
        level = a.enforcement.get(pid, "mandatory")
        kinds = {o.kind for o in outs}
        if level == "disabled":
            outcome = "disabled"
        elif "violation" in kinds:
            outcome = f"FAIL ({level})"
        elif "missing" in kinds:
            outcome = f"MISSING ({level})"
        elif "unknown" in kinds:
            outcome = "unknown"
        elif "waived" in kinds:
            outcome = "pass (waived)"
        elif "compliant" in kinds:
            outcome = "pass"
        else:
            outcome = "not applicable"
        flagged = [o for o in outs if o.kind in ("violation", "missing", "waived", "unknown")]
        judged = [o for o in outs if o.kind in ("compliant", "violation", "waived", "unknown", "disabled")]
        names = ", ".join(f"{_short(o.urn)}" + ("" if o.kind == "violation" else f" ({o.kind})") for o in flagged)
        lines.append(f"{pid.ljust(width)}  {outcome.ljust(20)}  {names or len(judged)}")
    violations = [o for o in a.outcomes if o.kind == "violation"]
    if violations:
        lines += ["", "Violations:"]
        for o in violations:
            meta = a.policies[o.policy]
            lines.append(f"- [{o.enforcement}] {o.policy} on {o.urn or '(stack)'} ({', '.join(meta.criteria)}): {o.message}")
            hint = result.stack_hint(o.policy)
            if hint:
                lines.append(f"  {hint}")
    missing = [o for o in a.outcomes if o.kind == "missing"]
    if missing:
        lines += ["", "Planned but absent from the deployed state (deleted out of band?):"]
        lines += [f"- [{o.enforcement}] {o.policy} on {o.urn}" for o in missing]
    mandatory = a.mandatory_violations()
    unknown = sum(1 for o in a.outcomes if o.kind == "unknown")
    lines += ["", f"{len(mandatory)} mandatory violation(s), {len(violations) - len(mandatory)} advisory, "
                  f"{sum(1 for o in a.outcomes if o.kind == 'waived')} waived, {unknown} unknown"
                  + (f", {len(missing)} missing" if missing else "") + ". "
                  f"{'FAILED' if result.failed else 'PASSED'} in {result.check_seconds:.1f}s "
                  f"(plan {result.plan_seconds:.1f}s, pack {a.seconds:.1f}s)."]
    return lines
