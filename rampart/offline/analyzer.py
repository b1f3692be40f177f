"""Run a Pulumi policy pack the way the Pulumi CLI does, and speak the Analyzer gRPC protocol to it.

The CLI starts a Python pack as `python -u -m pulumi.policy <engine-address> <pack-dir>` with the
pack directory as working directory and PULUMI_PROJECT / PULUMI_STACK / PULUMI_DRY_RUN /
PULUMI_CONFIG in the environment; the pack prints the port of its Analyzer server on stdout and
logs through the engine address. This module plays the engine: it serves the Engine service
in-process (collecting logs), starts the pack, then calls GetAnalyzerInfo, Configure, Analyze per
resource and AnalyzeStack once. `classify` turns the responses into one outcome per
(policy, resource), using the conventions of Rampart's pack (see rampart_soc2.pulumi_adapter).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import yaml
import grpc  # type: ignore[import-untyped,unused-ignore]
from google.protobuf import empty_pb2, json_format, struct_pb2  # type: ignore[import-untyped,unused-ignore]
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
WAIVED_PREFIX = "waived: "
UNKNOWN_MARK = re.compile(r"^can't run policy '([^']+)' from policy pack '[^']*' during preview: (.*)$", re.S)
URN_RE = re.compile(r"(urn:pulumi:[^\s;|]+?): ")
_GRPC_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024),
                 ("grpc.max_send_message_length", 400 * 1024 * 1024)]

Level = Literal["advisory", "mandatory", "remediate", "disabled"]
OutcomeKind = Literal["compliant", "violation", "waived", "unknown", "not-applicable", "disabled"]

_LEVEL_TO_PROTO = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
                   "remediate": analyzer_pb2.REMEDIATE, "disabled": analyzer_pb2.DISABLED}
_PROTO_TO_LEVEL: dict[int, Level] = {v: k for k, v in _LEVEL_TO_PROTO.items()}  # type: ignore[misc]
_SEVERITY = {0: "unspecified", 1: "low", 2: "medium", 3: "high", 4: "critical"}


class AnalyzerError(RuntimeError):
    """The pack could not be started or answered with an error."""


class PackConfigError(AnalyzerError):
    """The config given for a pack does not fit it (a policy it does not have, a pack that takes none):
    the user's input, not the pack's failure."""


@dataclass(frozen=True)
class AnalysisResource:
    """One resource as the engine sends it to a policy pack."""

    urn: str
    type: str
    name: str
    properties: Mapping[str, Any]
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    secret_paths: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PolicyMeta:
    name: str
    description: str
    enforcement: Level
    severity: str
    kind: str
    criteria: tuple[str, ...]
    types: tuple[str, ...]
    remediation: str
    url: str
    framework: str
    pack: str = ""
    """The name of the pack the policy belongs to."""


@dataclass(frozen=True)
class Outcome:
    """The judgement of one policy on one resource (urn "" = the stack as a whole)."""

    policy: str
    urn: str
    kind: OutcomeKind
    message: str = ""
    enforcement: Level | None = None


@dataclass
class Analysis:
    """Everything one run of the pack produced."""

    pack_name: str
    pack_version: str
    policies: dict[str, PolicyMeta]
    enforcement: dict[str, Level]
    """Effective enforcement per policy after Configure."""
    outcomes: list[Outcome]
    logs: list[tuple[int, str]]
    seconds: float = 0.0
    packs: list["Analysis"] = field(default_factory=list)
    """For several packs run together (merge_analyses): each pack's own analysis."""

    def per_pack(self) -> list["Analysis"]:
        """Each pack's own analysis (this one alone when one pack ran)."""
        return self.packs or [self]

    def mandatory_violations(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == "violation" and o.enforcement == "mandatory"]


# ----------------------------------------------------------------------------- engine side

class _Engine(engine_pb2_grpc.EngineServicer):
    """The slice of the Engine service a policy pack calls: logging and the root resource."""

    def __init__(self) -> None:
        self.logs: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        with self._lock:
            self.logs.append((int(request.severity), str(request.message)))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


def _to_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_value(v) for v in value]
    if isinstance(value, list):
        return [_to_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_value(v) for k, v in value.items()}
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    return str(value)


def _wrap_secrets(value: Any, secret_paths: frozenset[str], path: str = "") -> Any:
    """Re-mark the values the program made secret, as the engine marshals them."""
    if path and path in secret_paths:
        return {SIG_KEY: SECRET_SIG, "value": value}
    if isinstance(value, dict):
        return {k: _wrap_secrets(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap_secrets(v, secret_paths, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]
    return value


def to_struct(props: Mapping[str, Any], secret_paths: frozenset[str] = frozenset()) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(_wrap_secrets(_to_value(dict(props)), secret_paths))
    return s


def _options(r: AnalysisResource) -> Any:
    return analyzer_pb2.AnalyzerResourceOptions(parent=r.parent or "")


def analyze_request(r: AnalysisResource) -> Any:
    return analyzer_pb2.AnalyzeRequest(type=r.type, name=r.name, urn=r.urn,
                                       properties=to_struct(r.properties, r.secret_paths), options=_options(r))


def stack_request(resources: Sequence[AnalysisResource]) -> Any:
    items = []
    for r in resources:
        deps = {k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v)) for k, v in r.property_dependencies.items()}
        items.append(analyzer_pb2.AnalyzerResource(
            type=r.type, name=r.name, urn=r.urn, properties=to_struct(r.properties, r.secret_paths),
            options=_options(r), parent=r.parent or "", dependencies=list(r.dependencies),
            propertyDependencies=deps))
    return analyzer_pb2.AnalyzeStackRequest(resources=items)


def config_request(policy_config: Mapping[str, Any], defaults: Mapping[str, Level] | None = None) -> Any:
    """Pack config in the CLI's --policy-pack-config shape: {policy: level | {enforcementLevel, ...props}}.

    As the CLI does, every entry carries an enforcement level: the SDK reads a missing one as the
    proto default (ADVISORY), so an entry that only sets properties gets the policy's default level
    (`defaults`, from GetAnalyzerInfo). An "all" level applies to every policy without its own.
    """
    levels: dict[str, str] = dict(defaults or {})
    config = dict(policy_config)
    everyone = config.pop("all", None)
    if everyone is not None:
        level = everyone if isinstance(everyone, str) else everyone.get("enforcementLevel")
        if level:
            levels = {k: str(level) for k in levels}
            for name in levels:
                config.setdefault(name, {})
    req = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, value in config.items():
        cfg = analyzer_pb2.PolicyConfig()
        # Every entry carries a properties struct, empty or not, as the CLI sends it: a Node.js pack
        # reads the properties of each entry and fails on one without.
        cfg.properties.SetInParent()
        if isinstance(value, str):
            cfg.enforcementLevel = _LEVEL_TO_PROTO[value]
        else:
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = value.get("enforcementLevel") or levels.get(name)
            if level is None:
                raise AnalyzerError(f"pack config for {name} has no enforcementLevel and the pack has no default")
            cfg.enforcementLevel = _LEVEL_TO_PROTO[level]
            cfg.properties.update(_to_value(props))
        req.policyConfig[name].CopyFrom(cfg)
    return req


RUN_POLICY_PACK = "@pulumi/pulumi/cmd/run-policy-pack"


def pack_runtime(pack_dir: Path) -> tuple[str, dict[str, Any]]:
    """The runtime a pack's PulumiPolicy.yaml declares (a name, or {name, options}) and its options."""
    try:
        doc = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except OSError:
        raise AnalyzerError(f"{pack_dir} is not a policy pack (no PulumiPolicy.yaml)") from None
    except yaml.YAMLError as e:
        raise AnalyzerError(f"{pack_dir}/PulumiPolicy.yaml is not valid YAML: {e}") from None
    runtime = doc.get("runtime") if isinstance(doc, dict) else None
    if isinstance(runtime, dict):
        return str(runtime.get("name")), dict(runtime.get("options") or {})
    return str(runtime), {}


def pack_version(pack_dir: Path) -> str | None:
    """The `version` a pack's PulumiPolicy.yaml sets, if any."""
    doc = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    version = doc.get("version") if isinstance(doc, dict) else None
    return str(version) if version else None


def pack_command(pack_dir: Path, engine_address: str, python: str) -> list[str]:
    """The command the Pulumi CLI's policy analyzer runs in the pack directory, per runtime.

    Python: `python -u -m pulumi.policy <engine> .` (the pulumi-analyzer-policy-python shim). Node.js:
    `node <run-policy-pack> <engine> . -<option>=<value>...`, with run-policy-pack resolved from the
    pack's own node_modules, as the pulumi-analyzer-policy shim resolves it (pulumi/pulumi
    sdk/go/common/resource/plugin/analyzer_plugin.go passes the runtime options as flags).
    """
    runtime, options = pack_runtime(pack_dir)
    if runtime == "python":
        return [python, "-u", "-m", "pulumi.policy", engine_address, "."]
    if runtime == "nodejs":
        node = shutil.which("node")
        if node is None:
            raise AnalyzerError(f"{pack_dir} is a Node.js policy pack and `node` is not on PATH")
        found = subprocess.run(
            [node, "-e", f"console.log(require.resolve({RUN_POLICY_PACK!r}))"],
            cwd=pack_dir, capture_output=True, text=True, check=False)
        if found.returncode != 0 or not found.stdout.strip():
            raise AnalyzerError(f"{pack_dir}: the pack's dependencies are not installed (no {RUN_POLICY_PACK}); "
                                f"run `npm ci` (or npm install) in {pack_dir}")
        flags = [f"-{k}={v}" for k, v in options.items() if str(v) != ""]
        return [node, found.stdout.strip(), engine_address, ".", *flags]
    raise AnalyzerError(f"{pack_dir}: policy packs in runtime {runtime!r} are not supported (python, nodejs)")


class PolicyPackProcess:
    """A policy pack started as the Pulumi CLI starts it; use as a context manager."""

    def __init__(self, pack_dir: Path, *, project: str, stack: str, dry_run: bool = True,
                 stack_config: Mapping[str, str] | None = None, python: str | None = None,
                 extra_env: Mapping[str, str] | None = None, start_timeout: float = 60.0) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project, self.stack, self.dry_run = project, stack, dry_run
        self.stack_config = dict(stack_config or {})
        self.python = python or sys.executable
        self.extra_env = dict(extra_env or {})
        self.start_timeout = start_timeout
        self.engine = _Engine()
        self._server: grpc.Server | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.stderr = ""

    def __enter__(self) -> "PolicyPackProcess":
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        runtime, _ = pack_runtime(self.pack_dir)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=_GRPC_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, server)
        engine_port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        engine = {"PULUMI_PROJECT": self.project, "PULUMI_STACK": self.stack,
                  "PULUMI_DRY_RUN": "true" if self.dry_run else "false"}
        if runtime == "nodejs":  # the Node.js SDK reads the PULUMI_NODEJS_* spellings (as the CLI sets both)
            engine |= {k.replace("PULUMI_", "PULUMI_NODEJS_", 1): v for k, v in engine.items()}
        env = {**os.environ, **self.extra_env, **engine, "PULUMI_CONFIG": json.dumps(self.stack_config)}
        try:
            command = pack_command(self.pack_dir, f"127.0.0.1:{engine_port}", self.python)
        except AnalyzerError:
            self.close()
            raise
        self._proc = subprocess.Popen(command, cwd=self.pack_dir, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._stderr_chunks: list[bytes] = []
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_GRPC_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
        except grpc.FutureTimeoutError as exc:
            self.close()
            raise AnalyzerError(f"policy pack on port {port} never became ready") from exc
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _drain_stderr(self) -> None:
        # Read the pack's stderr continuously so a chatty pack never blocks on a full pipe.
        proc = self._proc
        if proc is None or proc.stderr is None:
            return
        stream: Any = proc.stderr
        for chunk in iter(lambda: stream.read1(65536), b""):
            self._stderr_chunks.append(chunk)

    def _read_port(self) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self._proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.start_timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = self._proc.stdout.read1(64)  # type: ignore[attr-defined]
            if not chunk:
                break
            line += chunk
        sel.close()
        text = line.decode(errors="replace").strip()
        if not text.isdigit():
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            self._stderr_thread.join(timeout=5)
            self.close()
            raise AnalyzerError(f"policy pack in {self.pack_dir} did not print its port "
                                f"(got {text!r}); stderr:\n{self.stderr[-4000:]}")
        return int(text)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            thread = getattr(self, "_stderr_thread", None)
            if thread is not None:
                thread.join(timeout=5)
            self.stderr = b"".join(getattr(self, "_stderr_chunks", [])).decode(errors="replace")
            if self._proc.stderr is not None:
                self._proc.stderr.close()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._server is not None:
            self._server.stop(0)
            self._server = None

    def _stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self.stub is None:
            raise AnalyzerError("policy pack is not running")
        return self.stub

    def info(self) -> Any:
        return self._stub().GetAnalyzerInfo(empty_pb2.Empty())

    def configure(self, policy_config: Mapping[str, Any], defaults: Mapping[str, Level] | None = None) -> None:
        if defaults is None:
            defaults = {k: v.enforcement for k, v in policy_meta(self.info()).items()}
        self._stub().Configure(config_request(policy_config, defaults))

    def analyze(self, resource: AnalysisResource) -> Any:
        return self._stub().Analyze(analyze_request(resource))

    def analyze_stack(self, resources: Sequence[AnalysisResource]) -> Any:
        return self._stub().AnalyzeStack(stack_request(resources))


# ----------------------------------------------------------------------------- outcomes

def policy_meta(info: Any) -> dict[str, PolicyMeta]:
    out = {}
    for p in info.policies:
        tags = list(p.tags)
        kind = next((t.split(":", 1)[1] for t in tags if t.startswith("kind:")),
                    "stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource")
        out[p.name] = PolicyMeta(
            name=p.name, description=p.description,
            enforcement=_PROTO_TO_LEVEL.get(p.enforcementLevel, "advisory"),
            severity=_SEVERITY.get(int(p.severity), "unspecified"), kind=kind,
            criteria=tuple(t.split(":", 1)[1] for t in tags if t.startswith("criteria:")),
            types=tuple(t.split(":", 1)[1] for t in tags if t.startswith("type:")),
            remediation=p.remediation_steps, url=p.url,
            framework=f"{p.framework.name} {p.framework.version}".strip(), pack=info.name)
    return out


def _as_entry(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """A pack config entry as a mapping: a bare level is {"enforcementLevel": level}."""
    return {"enforcementLevel": value} if isinstance(value, str) else dict(value)


def schema_defaults(info: Any, policy: str) -> dict[str, Any]:
    """A policy's config properties at their schema defaults, as the CLI fills them in before Configure."""
    for p in info.policies:
        if p.name == policy and p.HasField("configSchema"):
            schema = json_format.MessageToDict(p.configSchema.properties)
            return {k: v["default"] for k, v in schema.items() if isinstance(v, dict) and "default" in v}
    return {}


def _unknown_of(diag: Any) -> str | None:
    m = UNKNOWN_MARK.match(diag.message)
    return m.group(2) if m else None


def _split_items(text: str) -> list[tuple[str, str]]:
    """'urn:...: text; urn:...: text' -> [(urn, text)]."""
    marks = list(URN_RE.finditer(text))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append((m.group(1), text[m.end():end].strip().rstrip(";").strip()))
    return out


def classify_resource(policies: Mapping[str, PolicyMeta], levels: Mapping[str, Level],
                      resource: AnalysisResource, response: Any) -> list[Outcome]:
    """One outcome per resource policy for a resource, from its Analyze response."""
    seen: dict[str, Outcome] = {}
    for d in response.diagnostics:
        unknown = _unknown_of(d)
        if unknown is not None:
            seen[d.policyName] = Outcome(d.policyName, resource.urn, "unknown", unknown)
        else:
            message = d.message[len(d.description) + 1:] if d.message.startswith(d.description + "\n") else d.message
            seen[d.policyName] = Outcome(d.policyName, resource.urn, "violation", message,
                                         _PROTO_TO_LEVEL.get(d.enforcementLevel))
    for na in response.not_applicable:
        if na.reason.startswith(WAIVED_PREFIX):
            seen[na.policy_name] = Outcome(na.policy_name, resource.urn, "waived", na.reason[len(WAIVED_PREFIX):])
        else:
            seen[na.policy_name] = Outcome(na.policy_name, resource.urn, "not-applicable", na.reason)
    out = []
    for name, meta in policies.items():
        if meta.kind != "resource":
            continue
        if levels.get(name) == "disabled":
            if resource.type in meta.types:
                out.append(Outcome(name, resource.urn, "disabled"))
            continue
        o = seen.get(name)
        if o is None:
            o = Outcome(name, resource.urn, "compliant")
        if o.kind != "not-applicable" or resource.type in meta.types:
            out.append(o)
    return out


def classify_stack(policies: Mapping[str, PolicyMeta], levels: Mapping[str, Level],
                   resources: Sequence[AnalysisResource], response: Any) -> list[Outcome]:
    """Outcomes of the stack policies: per subject resource, from the AnalyzeStack response."""
    found: dict[tuple[str, str], Outcome] = {}
    for d in response.diagnostics:
        unknown = _unknown_of(d)
        if unknown is not None:
            text = unknown.split(" | waived ", 1)
            for urn, what in _split_items(text[0]):
                found[(d.policyName, urn)] = Outcome(d.policyName, urn, "unknown", what)
            if len(text) > 1:
                for urn, what in _split_items(text[1]):
                    found[(d.policyName, urn)] = Outcome(d.policyName, urn, "waived", f"{urn}: {what}")
            continue
        message = d.message[len(d.description) + 1:] if d.message.startswith(d.description + "\n") else d.message
        found[(d.policyName, d.urn)] = Outcome(d.policyName, d.urn, "violation", message,
                                               _PROTO_TO_LEVEL.get(d.enforcementLevel))
    for na in response.not_applicable:
        if na.reason.startswith(WAIVED_PREFIX):
            for urn, what in _split_items(na.reason[len(WAIVED_PREFIX):]):
                found[(na.policy_name, urn)] = Outcome(na.policy_name, urn, "waived", f"{urn}: {what}")
    out = []
    for name, meta in policies.items():
        if meta.kind != "stack":
            continue
        subjects = [r for r in resources if r.type in meta.types]
        urns = {r.urn for r in subjects}
        for r in subjects:
            kind: OutcomeKind = "disabled" if levels.get(name) == "disabled" else "compliant"
            out.append(found.pop((name, r.urn), Outcome(name, r.urn, kind)))
        # violations reported against related resources (e.g. a public access block) or the stack
        out.extend(o for (p, urn), o in list(found.items()) if p == name and urn not in urns)
    return out


PolicyConfig = dict[str, Any]
"""One policy's config as the CLI reconciles it: {"enforcementLevel": level, **properties}."""


def initial_config(info: Any) -> dict[str, Any]:
    """The config a pack sets for itself (`new PolicyPack(..., {initialConfig})`, AWSGuard's
    `new AwsGuard({...})`), as GetAnalyzerInfo reports it. As the CLI reads it, an entry's level is
    the proto's value, whose default is advisory."""
    found: dict[str, Any] = {}
    for name, cfg in info.initialConfig.items():
        found[name] = {"enforcementLevel": _PROTO_TO_LEVEL.get(cfg.enforcementLevel, "advisory"),
                       **json_format.MessageToDict(cfg.properties)}
    return found


def apply_config(result: Mapping[str, PolicyConfig], layer: Mapping[str, Any]) -> dict[str, PolicyConfig]:
    """One layer of config over the reconciled one, as the Pulumi CLI's applyConfig: an `all` level
    first, then each policy's level (when given) and properties (merged key by key)."""
    merged = {name: dict(cfg) for name, cfg in result.items()}
    everyone = _as_entry(layer["all"]).get("enforcementLevel") if "all" in layer else None
    if everyone:
        for cfg in merged.values():
            cfg["enforcementLevel"] = everyone
    for name, value in layer.items():
        if name == "all":
            continue
        entry = _as_entry(value)
        cfg = merged.setdefault(name, {})
        cfg.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        if entry.get("enforcementLevel"):
            cfg["enforcementLevel"] = entry["enforcementLevel"]
    return merged


def reconcile_config(info: Any, policies: Mapping[str, PolicyMeta], *layers: Mapping[str, Any]) -> dict[str, PolicyConfig]:
    """Every policy's config as the Pulumi CLI sends it in Configure (ReconcilePolicyPackConfig): its
    default level and schema defaults, then the pack's own initialConfig, then each given layer."""
    result: dict[str, PolicyConfig] = {name: {"enforcementLevel": meta.enforcement, **schema_defaults(info, name)}
                                       for name, meta in policies.items()}
    for layer in (initial_config(info), *layers):
        unknown = sorted(set(layer) - set(policies) - {"all"})
        if unknown:
            raise PackConfigError(f"the config names policies pack {info.name} does not have: {', '.join(unknown)}; "
                                  f"its policies: {', '.join(sorted(policies))}")
        for name, value in layer.items():
            level = _as_entry(value).get("enforcementLevel")
            if level is not None and level not in _LEVEL_TO_PROTO:
                raise PackConfigError(f"the config sets {name} of pack {info.name} to {level!r}; "
                                      f"use one of {', '.join(_LEVEL_TO_PROTO)}")
        result = apply_config(result, layer)
    return result


def run_pack(pack_dir: Path, resources: Sequence[AnalysisResource], *, project: str, stack: str,
             policy_config: Mapping[str, Any] | None = None, stack_config: Mapping[str, str] | None = None,
             dry_run: bool = True, extra_env: Mapping[str, str] | None = None,
             config_pack: str | None = None, pack_config: Mapping[str, Any] | None = None) -> Analysis:
    """Start the pack, configure it as the CLI does, Analyze every resource, AnalyzeStack once; classify
    everything. The pack's own initialConfig applies first, then `policy_config` (to the pack named
    `config_pack` only; to any pack when None), then `pack_config` (this pack's --policy-pack-config).
    A pack that fails to start or whose policy raises is an AnalyzerError naming the pack."""
    started = time.monotonic()
    with PolicyPackProcess(pack_dir, project=project, stack=stack, dry_run=dry_run,
                           stack_config=stack_config, extra_env=extra_env) as pack:
        try:
            info = pack.info()
            config = dict(policy_config or {}) if config_pack in (None, info.name) else {}
            policies = policy_meta(info)
            given = [layer for layer in (config, dict(pack_config or {})) if layer]
            if given and not info.supportsConfig:
                raise PackConfigError(f"pack {info.name} takes no config, but config was given for it")
            reconciled = reconcile_config(info, policies, *given)
            if info.supportsConfig:
                pack.configure(reconciled, {k: v.enforcement for k, v in policies.items()})
            levels: dict[str, Level] = {name: cast(Level, cfg["enforcementLevel"]) for name, cfg in reconciled.items()
                                        if name in policies}
            outcomes: list[Outcome] = []
            for r in resources:
                outcomes += classify_resource(policies, levels, r, pack.analyze(r))
            outcomes += classify_stack(policies, levels, resources, pack.analyze_stack(resources))
        except grpc.RpcError as e:
            raise AnalyzerError(f"{e.details() or e}") from e
        logs = list(pack.engine.logs)
    for i, o in enumerate(outcomes):
        if o.kind == "violation" and o.enforcement is None:
            outcomes[i] = Outcome(o.policy, o.urn, o.kind, o.message, levels.get(o.policy))
    # As the CLI does: the version in PulumiPolicy.yaml, when set, over the one the pack reports.
    version = str(pack_version(Path(pack_dir)) or info.version)
    return Analysis(info.name, version, policies, levels, outcomes, logs, time.monotonic() - started)


def merge_analyses(analyses: Sequence[Analysis]) -> Analysis:
    """Several packs' analyses as one, as the CLI reports every pack of a preview together. Each
    policy keeps its pack (PolicyMeta.pack); a name two packs share is kept apart as `pack/policy`."""
    if len(analyses) == 1:
        return analyses[0]
    policies: dict[str, PolicyMeta] = {}
    enforcement: dict[str, Level] = {}
    outcomes: list[Outcome] = []
    logs: list[tuple[int, str]] = []
    for a in analyses:
        names = {name: (f"{a.pack_name}/{name}" if name in policies else name) for name in a.policies}
        policies |= {names[n]: replace(meta, name=names[n]) for n, meta in a.policies.items()}
        enforcement |= {names[n]: level for n, level in a.enforcement.items()}
        outcomes += [replace(o, policy=names.get(o.policy, o.policy)) for o in a.outcomes]
        logs += a.logs
    return Analysis(" + ".join(a.pack_name for a in analyses), " + ".join(a.pack_version for a in analyses),
                    policies, enforcement, outcomes, logs, sum(a.seconds for a in analyses), packs=list(analyses))
