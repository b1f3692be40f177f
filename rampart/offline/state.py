"""A deployed stack's state, read from `pulumi stack export`, as the engine sends it to a policy pack.

The export is Pulumi's deployment format, version 3 (apitype.UntypedDeployment wrapping
apitype.DeploymentV3): `{"version": 3, "deployment": {"manifest": {"time", "magic", "version"},
"secrets_providers": {...}, "resources": [ResourceV3...]}}`. Each ResourceV3 carries `urn`, `custom`,
`type`, `inputs`, `outputs`, `parent`, `dependencies`, `propertyDependencies`, `provider` and, for a
resource waiting to be deleted, `delete: true`.

What the pack gets: every custom resource that is not a provider, the stack or pending deletion,
its properties being the recorded inputs with the real outputs over them (a setting changed in the
cloud and refreshed into state shows in the outputs), its parent and dependencies as recorded.
Secrets stay secret: a value the export holds as `{SIG: SECRET_SIG, "ciphertext": ...}` is sent as
a secret whose value is unknown (Rampart has no key to the stack's secrets provider, so a policy
that needs it reports `unknown`, never a pass); one exported with `--show-secrets` (`"plaintext"`)
is sent as a secret with its value. Neither is ever printed.

`export_from_plan` turns the mock engine's resources into such an export, for tests and for trying
`rampart check --state` before a first deployment (`rampart plan --json` entries carry no outputs,
so the policies that match resources by ARN or id could not judge an export made from them).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from rampart.offline.analyzer import SECRET_SIG, SIG_KEY, Analysis, AnalysisResource, Outcome, OutcomeKind
from rampart.errors import UserError

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's sentinel for an unknown string
REDACTED_MARKS = ("[secret]", "[redacted: looks like a secret]")
"""What `rampart plan --json` writes in place of a secret (rampart.offline.mock_engine, rampart_soc2.vocabulary.secret_values)."""


@dataclass(frozen=True)
class DeployedState:
    """The part of an export a policy check needs."""

    path: Path
    checkpoint_time: str
    """The manifest's time: when the deployment that wrote this state finished."""
    stack: str
    project: str
    resources: list[AnalysisResource]
    """What the pack is sent: custom resources, no providers, no stack, none pending deletion."""
    tree: dict[str, tuple[str, str | None]]
    """Every live resource, components included: URN -> (type, parent URN)."""
    encrypted_secrets: int
    """Secret values the export holds encrypted (sent to the pack as unknown secrets)."""


def _urn_parts(urn: str) -> tuple[str, str]:
    """(stack, project) of `urn:pulumi:STACK::PROJECT::TYPE::NAME`."""
    head = urn.split("::")
    if len(head) < 4 or not head[0].startswith("urn:pulumi:"):
        raise ValueError(urn)
    return head[0].removeprefix("urn:pulumi:"), head[1]


def _unseal(value: Any, path: str, secrets: set[str], encrypted: list[str]) -> Any:
    """The value with each secret envelope replaced by its plaintext, or by the unknown sentinel when
    only its ciphertext is there; secret paths collected (dotted, as the analyzer marks them)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            secrets.add(path)
            if "plaintext" in value:
                try:
                    return json.loads(value["plaintext"])
                except (TypeError, json.JSONDecodeError):
                    return value["plaintext"]
            if "value" in value:
                return value["value"]
            encrypted.append(path)
            return UNKNOWN_STRING
        return {k: _unseal(v, f"{path}.{k}" if path else k, secrets, encrypted) for k, v in value.items()}
    if isinstance(value, list):
        return [_unseal(v, f"{path}.{i}" if path else str(i), secrets, encrypted) for i, v in enumerate(value)]
    return value


def parse_export(doc: Any, path: Path = Path("state.json")) -> DeployedState:
    """A `pulumi stack export` document (version 3) as the pack's input; UserError naming what is wrong."""
    if not isinstance(doc, dict) or "deployment" not in doc:
        raise UserError(f"{path}: not a `pulumi stack export` file (no \"deployment\" key)")
    if doc.get("version") != 3:
        raise UserError(f"{path}: deployment version {doc.get('version')!r}; Rampart reads version 3, "
                        "what `pulumi stack export` writes since Pulumi 1.0")
    deployment = doc["deployment"] or {}
    if not isinstance(deployment, dict):
        raise UserError(f"{path}: \"deployment\" is a {type(deployment).__name__}, not an object; write the file "
                        f"with `pulumi stack export --file {path}`")
    manifest = deployment.get("manifest") or {}
    raw = deployment.get("resources") or []
    if not isinstance(raw, list):
        raise UserError(f"{path}: deployment.resources is a {type(raw).__name__}, not a list of resources")
    for i, r in enumerate(raw):
        if not isinstance(r, dict):
            raise UserError(f"{path}: resources[{i}] is {r!r}, not a resource object (with urn, type, inputs, outputs)")
    stacks = [r for r in raw if r.get("type") == STACK_TYPE]
    if not raw:
        raise UserError(f"{path}: the export has no resources (an empty or destroyed stack)")
    try:
        stack, project = _urn_parts(str((stacks or raw)[0]["urn"]))
    except (KeyError, ValueError):
        raise UserError(f"{path}: resource {raw[0].get('urn')!r} has no Pulumi URN") from None
    resources: list[AnalysisResource] = []
    tree: dict[str, tuple[str, str | None]] = {}
    encrypted: list[str] = []
    for i, r in enumerate(raw):
        missing = [k for k in ("urn", "type") if not r.get(k)]
        if missing:
            raise UserError(f"{path}: resources[{i}] lacks {', '.join(missing)}")
        if r.get("delete"):  # replaced, waiting to be deleted: not what runs
            continue
        urn, rtype = str(r["urn"]), str(r["type"])
        tree[urn] = (rtype, r.get("parent") or None)
        if not r.get("custom") or rtype == STACK_TYPE or rtype.startswith(PROVIDER_PREFIX):
            continue
        secrets: set[str] = set()
        inputs = _unseal(r.get("inputs") or {}, "", secrets, encrypted)
        outputs = _unseal(r.get("outputs") or {}, "", secrets, encrypted)
        resources.append(AnalysisResource(
            urn=urn, type=rtype, name=urn.rsplit("::", 1)[-1], properties={**inputs, **outputs},
            parent=r.get("parent") or None, dependencies=tuple(r.get("dependencies") or ()),
            property_dependencies={k: tuple(v) for k, v in (r.get("propertyDependencies") or {}).items()},
            secret_paths=frozenset(secrets)))
    return DeployedState(path, str(manifest.get("time") or "unknown"), stack, project, resources, tree, len(encrypted))


def read_export(path: Path) -> DeployedState:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"--state {path}: no such file; write it with `pulumi stack export --file {path}`") from None
    except json.JSONDecodeError as e:
        raise UserError(f"--state {path}: not JSON ({e}); write it with `pulumi stack export --file {path}`") from None
    return parse_export(doc, Path(path))


MISSING_MESSAGE = "planned, but absent from the deployed state (deleted out of band, or never deployed)"


def missing_outcomes(planned: Sequence[AnalysisResource], state: DeployedState, analysis: Analysis) -> list[Outcome]:
    """One `missing` outcome per (control, planned resource of a type it checks) the export lacks:
    a control whose resource is gone has no evidence, so it is never shown as passed."""
    live = set(state.tree)
    out = []
    for r in planned:
        if r.urn in live:
            continue
        for pid, meta in sorted(analysis.policies.items()):
            level = analysis.enforcement.get(pid, meta.enforcement)
            if r.type in meta.types and level != "disabled":
                out.append(Outcome(pid, r.urn, cast(OutcomeKind, "missing"), MISSING_MESSAGE, level))
    return out


# ----------------------------------------------------------------------------- building exports

def _ciphertext(path: str, value: Any) -> str:
    """Encrypted-looking text (deterministic, not reversible, never the value)."""
    digest = hashlib.sha256(f"{path}\0{json.dumps(value, sort_keys=True)}".encode()).digest() * 2
    return "v1:" + base64.b64encode(digest[:12]).decode() + ":" + base64.b64encode(digest).decode()


def _seal(value: Any, secret_paths: frozenset[str], path: str = "") -> Any:
    if (path and path in secret_paths) or value in REDACTED_MARKS:
        return {SIG_KEY: SECRET_SIG, "ciphertext": _ciphertext(path, value)}
    if isinstance(value, dict):
        return {k: _seal(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_seal(v, secret_paths, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]
    return value


def _plan_entries(plan: Iterable[Any]) -> list[dict[str, Any]]:
    """Plan resources as dicts: `rampart plan --json` entries, or mock-engine RegisteredResources."""
    out = []
    for r in plan:
        if isinstance(r, Mapping):
            package = str(r["type"]).split(":", 1)[0]
            out.append({"urn": r["urn"], "type": r["type"], "parent": r.get("parent"),
                        "inputs": dict(r.get("inputs") or {}), "outputs": dict(r.get("outputs") or {}),
                        "custom": r.get("custom", package not in ("rampart", "pulumi")),
                        "secret_paths": frozenset(), "dependencies": sorted(r.get("dependencies") or ())})
        else:
            out.append({"urn": r.urn, "type": r.type, "parent": r.parent_urn, "inputs": dict(r.inputs),
                        "outputs": dict(r.outputs or {}), "custom": r.custom, "secret_paths": r.secret_paths,
                        "dependencies": sorted(r.dependencies)})
    return out


def export_from_plan(plan: Iterable[Any], *, time: str = "2026-11-30T12:00:00Z",
                     changes: Mapping[str, Mapping[str, Any]] | None = None,
                     deleted: Iterable[str] = ()) -> dict[str, Any]:
    """A version-3 `pulumi stack export` of a plan as if deployed: the stack resource, one default
    provider per package, each resource with an id, its inputs, outputs (inputs + what the provider
    filled in), parent, dependencies, and every secret encrypted-looking.

    `changes` {resource name or URN: {output: value}} sets outputs as a change made in the cloud and
    refreshed into state would; `deleted` names resources removed out of band (absent from the export).
    """
    entries = [e for e in _plan_entries(plan) if e["type"] != STACK_TYPE]
    if not entries:
        raise ValueError("the plan has no resources")
    stack, project = _urn_parts(entries[0]["urn"])
    stack_urn = f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"
    gone = set(deleted)
    changes = dict(changes or {})
    resources: list[dict[str, Any]] = [{"urn": stack_urn, "custom": False, "type": STACK_TYPE, "outputs": {}}]
    providers: dict[str, str] = {}
    for e in entries:
        name = e["urn"].rsplit("::", 1)[-1]
        if name in gone or e["urn"] in gone:
            continue
        record: dict[str, Any] = {"urn": e["urn"], "custom": e["custom"], "type": e["type"],
                                  "parent": e["parent"] or stack_urn}
        if e["custom"]:
            package = e["type"].split(":", 1)[0]
            if package not in providers:
                providers[package] = f"urn:pulumi:{stack}::{project}::{PROVIDER_PREFIX}{package}::default"
                resources.append({"urn": providers[package], "custom": True, "id": f"{package}-provider-id",
                                  "type": f"{PROVIDER_PREFIX}{package}", "inputs": {"version": "0.0.0"},
                                  "outputs": {"version": "0.0.0"}, "parent": stack_urn})
            outputs = {**e["inputs"], **e["outputs"], **changes.get(name, {}), **changes.get(e["urn"], {})}
            record.update({
                "id": str(outputs.get("id") or f"{name}-id"),
                "inputs": _seal(e["inputs"], e["secret_paths"]),
                "outputs": _seal(outputs, e["secret_paths"]),
                "provider": f"{providers[package]}::{package}-provider-id",
            })
        if e["dependencies"]:
            record["dependencies"] = e["dependencies"]
        resources.append(record)
    return {"version": 3, "deployment": {
        "manifest": {"time": time, "magic": "", "version": "v3.0.0"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:c2FsdA==:v1:ZmFrZQ==:ZmFrZQ=="}},
        "resources": resources}}
