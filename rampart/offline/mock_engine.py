"""Run a Pulumi program under Pulumi's mock engine and record what it registers.

This is the one stand-in the project accepts: no cloud, no Pulumi CLI, no provider plugins.
The recording monitor sees each registration exactly as the engine would (type, name, parent,
camelCase inputs, secret markers, dependencies), rejects duplicate URNs (the stock mock silently
overwrites them) and answers the handful of provider invokes the components use.

It also names resources as AWS and the provider would (`rampart.offline.aws_names`): a physical name left
unset is auto-generated (logical name, `-`, 7 hex characters, deterministic per stack), every
physical name is checked against AWS's limits for its type, and two resources claiming one name in
one scope are refused, as are the relationships the ECS API checks at create (`rampart.offline.aws_checks`);
a run with any such finding raises :class:`AwsRefusal`, naming the resource, the value, the limit
and the fix.

Used by `rampart plan`, `rampart check` and every component test:

    resources = run_program(lambda: runpy.run_path("__main__.py", run_name="__main__"),
                            stack="dev", config={"rampart:service": "{...}"})
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
from google.protobuf import json_format
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import settings as _settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from rampart.offline import aws_checks, aws_names
from rampart.errors import UserError

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
SIG_KEY = "4dabf18193072939515e22adb298388d"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
REDACTED = "[secret]"

ACCOUNT_ID = "123456789012"
#: The region's Elastic Load Balancing account (us-east-1's), as aws.elb.get_service_account answers.
ELB_ACCOUNT_ARN = "arn:aws:iam::127311923021:root"
STACK_TYPE = "pulumi:pulumi:Stack"


class DuplicateUrnError(RuntimeError):
    """Two resources were registered with the same URN; a real engine would refuse the update."""


class AwsRefusal(UserError):
    """The plan holds something AWS (or the provider, at preview) would refuse: a physical name
    outside AWS's limits or claimed twice, or a relationship the ECS API checks (`rampart.offline.aws_checks`)."""

    def __init__(self, findings: list[str]) -> None:
        self.findings = findings
        lines = "\n".join(f"  - {f}" for f in findings)
        super().__init__(f"AWS would refuse this plan ({len(findings)} finding(s)):\n{lines}")


@dataclass(frozen=True)
class RegisteredResource:
    """One resource as the engine received it."""

    urn: str
    type: str
    name: str
    parent_urn: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    custom: bool
    secret_paths: frozenset[str] = field(default_factory=frozenset)
    """Dotted paths (``a.b.0.c``) of input values the program marked secret."""
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """The resource's `customTimeouts` option (``create``/``update``/``delete``), as the engine gets it."""
    dependencies: frozenset[str] = field(default_factory=frozenset)
    """URNs the engine waits for before creating this resource: `depends_on` and the resources
    whose outputs feed its inputs (a component in `depends_on` stands for all its children)."""
    ignore_changes: tuple[str, ...] = ()
    """The resource's `ignore_changes` option: properties a later `pulumi up` leaves as they are in AWS
    (a listener rule's actions, which ECS rewrites during blue/green, canary and linear deployments)."""
    physical_names: tuple[aws_names.PhysicalName, ...] = ()
    """Every physical name the provider would send to AWS (explicit, from a prefix, or auto-named),
    then the other strings AWS restricts (descriptions), as `rampart.offline.aws_names` resolves them."""

    @property
    def physical_name(self) -> str | None:
        """The resource's own physical name (its first name rule), if it has one."""
        own = [n for n in self.physical_names if n.rule.kind == "name"]
        return own[0].value if own else None

    def redacted_inputs(self) -> dict[str, Any]:
        """The inputs with every secret value replaced by ``[secret]``."""
        return _redact(self.inputs, self.secret_paths, "")


@dataclass
class ProgramRun:
    """Everything one mocked run produced."""

    resources: list[RegisteredResource]
    stack_outputs: dict[str, Any]
    secret_outputs: frozenset[str]
    region: str = "us-east-1"
    notes: list[str] = field(default_factory=list)
    """What the program logged (`pulumi.log.info` / `warn`), which `pulumi preview` shows as diagnostics."""


class _NoteRecorder(logging.Handler):
    """Collects the messages the program logs through the engine (the mock engine hands them to a logger)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.notes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append(record.getMessage())


def _engine_logger() -> tuple[logging.Logger, _NoteRecorder]:
    logger = logging.getLogger("rampart.offline.mock_engine.program_log")
    logger.setLevel(logging.INFO)
    logger.propagate = False  # printed by the commands, not by logging's last-resort handler
    for old in list(logger.handlers):
        logger.removeHandler(old)
    recorder = _NoteRecorder()
    logger.addHandler(recorder)
    return logger, recorder


def _redact(value: Any, secret_paths: frozenset[str], path: str) -> Any:
    if path and path in secret_paths:
        return REDACTED
    if isinstance(value, dict):
        return {k: _redact(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secret_paths, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]
    return value


def _plain(value: Any, path: str, secrets: set[str]) -> Any:
    """Turn a JSON-decoded protobuf Struct into plain values, noting where secrets were."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            secrets.add(path)
            return _plain(value.get("value"), path, set())
        if sig == RESOURCE_SIG:
            return {"urn": value.get("urn"), "id": value.get("id")}
        if sig == ASSET_SIG or sig == ARCHIVE_SIG:
            return {k: v for k, v in value.items() if k != SIG_KEY}
        return {k: _plain(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}.{i}" if path else str(i), secrets) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fake_id(type_: str, name: str) -> str:
    return f"{name}-{hashlib.sha256(f'{type_}/{name}'.encode()).hexdigest()[:8]}"


STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"


class StackReferenceError(Exception):
    """The program reads another stack whose outputs were not supplied."""


#: Types whose provider id is their physical name (as pulumi-aws reports them).
_ID_IS_NAME = frozenset(
    {
        "aws:s3/bucket:Bucket",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:iam/role:Role",
        "aws:ecr/repository:Repository",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
    }
)


def _arn(type_: str, region: str, physical: str | None) -> str | None:
    """The ARN AWS gives the resources whose ARN the checks and policies read, in AWS's format."""
    if physical is None:
        return None
    if type_ == "aws:s3/bucket:Bucket":
        return f"arn:aws:s3:::{physical}"
    if type_ == "aws:cloudwatch/logGroup:LogGroup":
        return f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{physical}"
    if type_ == "aws:iam/role:Role":
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}"
    if type_ == "aws:ecr/repository:Repository":
        return f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/{physical}"
    return None


def name_seed(urn: str) -> str:
    """Seed of a resource's auto-name: its URN (project, stack, parent types, type, name), so names
    are deterministic in tests, differ per stack, and two resources with one logical name under
    parents of different types get different names, as the provider's random suffix would give them."""
    return urn


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers registrations with plausible outputs and common invokes with fixed facts."""

    def __init__(self, region: str = "us-east-1", stack_references: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.region = region
        self.stack_references = dict(stack_references or {})
        #: The URN of the registration in progress on this thread (set by the monitor).
        self.current = threading.local()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        name = args.name
        if args.typ == STACK_REFERENCE_TYPE:
            return name, self._stack_reference(str(args.inputs.get("name") or name))
        seed = getattr(self.current, "urn", None) or f"{pulumi.get_project()}/{pulumi.get_stack()}/{args.typ}/{name}"
        names, _ = aws_names.resolve(args.typ, name, args.inputs, name_seed(seed))
        # The physical name AWS would know the resource by: given, from a prefix, or auto-generated.
        names = [n for n in names if n.rule.kind == "name"]
        physical = names[0].value if names else None
        rid = args.resource_id or (physical if args.typ in _ID_IS_NAME and physical else _fake_id(args.typ, name))
        service = args.typ.split(":")[1].split("/")[0] if args.typ.count(":") >= 2 else "x"
        # An `arn` input names the resource the new one is about (a topic policy's topic): the
        # provider reports that ARN back, as AWS does.
        arn = args.inputs.get("arn") or _arn(args.typ, self.region, physical) or f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{name}"
        # A physical name is the resource's name output too, as with a real provider (policy checks
        # match e.g. a task's awslogs-group against the log group's name).
        outputs: dict[str, Any] = {"id": rid, "arn": arn, "name": args.inputs.get("name") or name}
        if names and names[0].where == names[0].rule.prop:
            outputs[names[0].rule.prop] = physical
        if args.typ == "aws:ecr/repository:Repository":
            outputs["repositoryUrl"] = f"{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com/{physical or name}"
            outputs["registryId"] = ACCOUNT_ID
        elif args.typ == "aws:lb/loadBalancer:LoadBalancer":
            outputs["dnsName"] = f"{physical or name}-1234567890.{self.region}.elb.amazonaws.com"
            outputs["zoneId"] = "Z35SXDOTRQ7X7K"
            outputs["arnSuffix"] = f"app/{physical or name}/0123456789abcdef"
        elif args.typ == "aws:lb/targetGroup:TargetGroup":
            outputs["arnSuffix"] = f"targetgroup/{physical or name}/0123456789abcdef"
        elif args.typ == "docker:index/image:Image":
            digest = hashlib.sha256(json.dumps(args.inputs, sort_keys=True, default=str).encode()).hexdigest()
            image_name = str(args.inputs.get("imageName", name)).split(":")[0]
            outputs["repoDigest"] = f"{image_name}@sha256:{digest}"
            outputs["imageName"] = args.inputs.get("imageName", name)
        elif args.typ == "aws:acm/certificate:Certificate":
            domain = args.inputs.get("domainName", "example.com")
            outputs["domainValidationOptions"] = [
                {
                    "domainName": domain,
                    "resourceRecordName": f"_x1.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": "_x2.acm-validations.aws.",
                }
            ]
        elif args.typ == "aws:secretsmanager/secret:Secret":
            outputs["arn"] = f"arn:aws:secretsmanager:{self.region}:{ACCOUNT_ID}:secret:{name}-AbCdEf"
        elif args.typ == "aws:secretsmanager/secretVersion:SecretVersion":
            outputs["versionId"] = f"v-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
            outputs["arn"] = str(args.inputs.get("secretId", arn))
        elif args.typ.startswith("tls:"):
            outputs["privateKeyPem"] = "mock-private-key"
            outputs["certPem"] = "mock-certificate"
        return rid, {**args.inputs, **outputs}

    def _stack_reference(self, stack_name: str) -> dict[str, Any]:
        """Another stack's outputs, as `pulumi.StackReference` reads them, from what the caller supplied."""
        if stack_name not in self.stack_references:
            known = ", ".join(sorted(self.stack_references)) or "none"
            raise StackReferenceError(
                f"the program reads stack {stack_name!r}, whose outputs are not known offline (given: {known}); "
                f"pass --stack-outputs {stack_name}=FILE with the JSON that `pulumi stack output --json` prints"
            )
        return {"name": stack_name, "outputs": dict(self.stack_references[stack_name]), "secretOutputNames": []}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token = args.token
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:root", "userId": ACCOUNT_ID, "id": ACCOUNT_ID}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            zones = [f"{self.region}{s}" for s in "abc"]
            return {"names": zones, "zoneIds": [f"use1-az{i}" for i in range(1, 4)], "id": self.region}
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return {"json": json.dumps(_policy_document(args.args)), "id": "policy"}
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            return {"arn": ELB_ACCOUNT_ARN, "id": ELB_ACCOUNT_ARN.split(":")[4]}
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "userName": "AWS",
                "password": "mock-ecr-password",
                "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com",
                "authorizationToken": "mock",
                "id": self.region,
            }
        if token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            # A value only the mock makes up, so tests can search plans and reports for it.
            arn = str(args.args.get("secretId") or "")
            return {
                "arn": arn,
                "id": f"{arn}|AWSCURRENT",
                "secretId": arn,
                "secretString": mock_secret_string(arn),
                "versionId": "mock-version",
                "versionStage": "AWSCURRENT",
                "versionStages": ["AWSCURRENT"],
            }
        if token == "aws:cloudcontrol/getResource:getResource":
            # Offline, a declared resource (an AWS Config recorder another stack owns) is taken to exist; at
            # deploy the provider looks it up and the program stops if it does not.
            identifier = str(args.args.get("identifier") or "")
            return {"id": identifier, "identifier": identifier, "typeName": args.args.get("typeName"),
                    "properties": json.dumps({"Name": identifier}), "region": self.region}
        raise NotImplementedError(f"the mock engine has no answer for invoke {token}; add one in rampart/offline/mock_engine.py")


def mock_secret_string(secret_id: str) -> str:
    """The secret value the mock engine answers for `secret_id` (never a real secret)."""
    return "mock-secret-" + hashlib.sha256(secret_id.encode()).hexdigest()[:24]


def _policy_document(args: Mapping[str, Any]) -> dict[str, Any]:
    """Render aws:iam/getPolicyDocument arguments the way the provider does (close enough to inspect)."""
    statements = []
    for st in args.get("statements") or []:
        out: dict[str, Any] = {"Effect": st.get("effect", "Allow")}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        if st.get("actions"):
            out["Action"] = st["actions"]
        if st.get("resources"):
            out["Resource"] = st["resources"]
        for p in st.get("principals") or []:
            out.setdefault("Principal", {})[p["type"]] = p["identifiers"]
        for c in st.get("conditions") or []:
            out.setdefault("Condition", {}).setdefault(c["test"], {})[c["variable"]] = c["values"]
        statements.append(out)
    return {"Version": "2012-10-17", "Statement": statements}


class RecordingMonitor(_mocks.MockMonitor):
    """MockMonitor that keeps each registration's parent, inputs and secrets, and rejects duplicate URNs."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording_mocks = mocks
        self.recorded: list[RegisteredResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.secret_outputs: set[str] = set()
        self.name_findings: list[str] = []
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine does: a child's qualified type is its parent's whole qualified type chain
        # plus its own, the root stack excepted. (The stock mock keeps only the last parent type,
        # so its URNs differ from the ones `pulumi up` would record and a waiver would name.)
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            if any(r.urn == urn for r in self.recorded):
                raise DuplicateUrnError(f"duplicate URN {urn}: two resources of type {request.type} are named {request.name!r}")
        self.recording_mocks.current.urn = urn  # new_resource, called below on this thread, seeds auto-names with it
        try:
            response = super().RegisterResource(request)
        finally:
            self.recording_mocks.current.urn = None
        if request.type == STACK_TYPE:
            return response
        secrets: set[str] = set()
        inputs = _plain(json_format.MessageToDict(request.object), "", secrets)
        out_secrets: set[str] = set()
        outputs = _plain(json_format.MessageToDict(response.object), "", out_secrets) if response.object else {}
        names, findings = aws_names.resolve(request.type, request.name, inputs, name_seed(urn))
        dependencies = set(request.dependencies)
        for deps in request.propertyDependencies.values():
            dependencies.update(deps.urns)
        with self._lock:
            self.name_findings.extend(str(f) for f in findings)
            self.recorded.append(
                RegisteredResource(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    parent_urn=request.parent or None,
                    inputs=inputs,
                    outputs=outputs,
                    custom=bool(request.custom),
                    secret_paths=frozenset(secrets),
                    custom_timeouts={
                        k: v for k, v in json_format.MessageToDict(request.customTimeouts).items() if v
                    },
                    dependencies=frozenset(dependencies),
                    ignore_changes=tuple(request.ignoreChanges),
                    physical_names=tuple(names),
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == STACK_TYPE:
            secrets: set[str] = set()
            self.stack_outputs = _plain(json_format.MessageToDict(request.outputs), "", secrets)
            self.secret_outputs = {p.split(".")[0] for p in secrets}
        return super().RegisterResourceOutputs(request)


def run_program(
    fn: Callable[[], Any],
    *,
    project: str = "rampart",
    stack: str = "test",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    region: str = "us-east-1",
) -> list[RegisteredResource]:
    """Run ``fn`` as a Pulumi program under the mock engine; return every resource it registered."""
    return run_program_full(fn, project=project, stack=stack, config=config, secret_keys=secret_keys, region=region).resources


def run_program_full(
    fn: Callable[[], Any],
    *,
    project: str = "rampart",
    stack: str = "test",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    region: str = "us-east-1",
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
) -> ProgramRun:
    """Like :func:`run_program`, and also return the stack's exported outputs. `stack_references`
    maps `org/project/stack` names to the outputs a `pulumi.StackReference` to them reads."""
    full_config = {"aws:region": region, **(config or {})}
    pulumi.runtime.set_all_config(dict(full_config), secret_keys or [])
    monitor = RecordingMonitor(RecordingMocks(region=region, stack_references=stack_references))
    logger, notes = _engine_logger()
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor, logger=logger)
    # set_mocks made a root stack for ad-hoc tests; run the program in a fresh one, as the CLI does,
    # so its exports are registered as the stack's outputs and nothing leaks between runs.
    _settings.ROOT.set(None)
    _settings.SETTINGS.rpc_manager.clear()
    _settings.SETTINGS.outputs.clear()
    try:
        _sync_await(run_in_stack(fn))
    finally:
        _settings.ROOT.set(None)
    run = ProgramRun(
        resources=list(monitor.recorded),
        stack_outputs=monitor.stack_outputs,
        secret_outputs=frozenset(monitor.secret_outputs),
        region=region,
        notes=list(notes.notes),
    )
    refusals = monitor.name_findings + [str(c) for c in name_clashes(run)] + aws_checks.refusals(run.resources, ACCOUNT_ID, ELB_ACCOUNT_ARN)
    if refusals:
        raise AwsRefusal(refusals)
    return run


@dataclass(frozen=True)
class NameClash:
    """Resources that would claim one physical name where AWS keeps names unique."""

    name: str
    type: str
    scope: str
    resources: tuple[str, ...]
    """URNs (or `stack: URN`) of the claimants."""
    consequence: str = 'the second create fails with "already exists"'

    def __str__(self) -> str:
        return (
            f"{self.type}: {len(self.resources)} resources claim the name {self.name!r}, unique per {self.scope} "
            f"({', '.join(self.resources)}); {self.consequence}. Fix: derive the "
            f"name from the component's name and the stack (`rampart.components._util.physical_name`), or leave it to auto-naming"
        )


_SCOPE_WORDS = {"global": "all of AWS", "account": "account", "region": "account and region",
                "parent": "parent resource", "zone": "hosted zone and record type"}


def _named(run: ProgramRun) -> list[tuple[str, aws_names.NamedResource]]:
    return [
        (r.urn, aws_names.NamedResource(r.urn, r.type, n, r.inputs))
        for r in run.resources
        for n in r.physical_names
        if n.rule.scope != "none"
    ]


def name_clashes(run: ProgramRun) -> list[NameClash]:
    """Physical names two resources of one plan would both claim in the same scope."""
    named = [n for _, n in _named(run)]
    return [
        NameClash(rs[0].name.value, rs[0].type, _SCOPE_WORDS[rs[0].name.rule.scope], tuple(r.urn for r in rs), rs[0].name.rule.on_clash)
        for _, rs in aws_names.duplicates(named, run.region)
    ]


def cross_stack_clashes(runs: Mapping[str, ProgramRun]) -> list[NameClash]:
    """Physical names that two stacks deployed into one account would both claim.

    Only names unique across the account (all of AWS, the account, the account and region, a hosted
    zone) are compared: names unique inside a parent (a security group in its VPC) cannot collide
    between stacks whose parents differ.
    """
    named: list[aws_names.NamedResource] = []
    for stack, run in runs.items():
        for urn, n in _named(run):
            if n.name.rule.scope in ("global", "account", "region", "zone"):
                named.append(aws_names.NamedResource(f"{stack}: {urn}", n.type, n.name, n.inputs))
    region = next(iter(runs.values())).region if runs else "us-east-1"
    out = []
    for _, rs in aws_names.duplicates(named, region):
        if len({r.urn.split(":", 1)[0] for r in rs}) > 1:
            out.append(NameClash(rs[0].name.value, rs[0].type, _SCOPE_WORDS[rs[0].name.rule.scope], tuple(r.urn for r in rs), rs[0].name.rule.on_clash))
    return out
