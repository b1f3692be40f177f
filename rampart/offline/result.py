"""What `rampart check` found: the result the check builds and the evidence report reads.

Both `rampart.offline.check` (which builds a `CheckResult`) and `rampart.offline.report` (which
renders one) import it from here, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampart.offline.stack_keys import program_hint, stack_hint

if TYPE_CHECKING:  # the analyzer client imports gRPC; a report is rendered without it
    from rampart.offline.analyzer import Analysis, AnalysisResource


def pack_registry() -> Mapping[str, Any]:
    """The pack's registry (policy id -> record), importable without starting the pack."""
    from rampart_soc2.registry import POLICIES

    return POLICIES


@dataclass
class CheckResult:
    stack: str
    project: str
    project_dir: Path
    pack_dir: Path
    """The first pack checked (Rampart's unless --policy-pack says otherwise); pack_dirs has them all."""
    analysis: Analysis
    """Every pack's results together (analysis.per_pack() gives each pack's own)."""
    resources: list[AnalysisResource]
    pack_config: dict[str, Any]
    plan_seconds: float
    check_seconds: float
    stack_file: str = ""
    """The stack file, relative to the project (where the user changes a finding's setting)."""
    tree: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Every planned resource, components included: URN -> (type, parent URN), for the per-service report."""
    notes: list[str] = field(default_factory=list)
    """What the program logged while it was planned (`pulumi preview` shows the same as diagnostics)."""
    state: Any = None
    """The deployed state checked (rampart.offline.state.DeployedState) when `--state` was given, else None (a preview)."""
    planned: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """With `--state`: the plan of the same stack (URN -> (type, parent)), to name what the export lacks."""
    preview: Analysis | None = None
    """With `--state`: the pack's results on the plan of the same stack (the preview checkpoint)."""
    pack_dirs: list[Path] = field(default_factory=list)
    program: str = ""
    """The program's entry file, relative to the project, when it is not Rampart's own config-driven
    program: then a finding's fix is a component argument in it, not a key of Rampart's stack file."""
    cost: dict[str, Any] | None = None
    """The plan's fixed monthly cost (rampart.cost.estimate), for the evidence report."""

    def stack_hint(self, policy_id: str) -> str | None:
        """Where the user changes what `policy_id` judged, in the user's words (None if nowhere): the
        stack key in Rampart's own program, the component argument in any other program."""
        if not self.stack_file:
            return None
        thresholds = tuple(getattr(pack_registry().get(policy_id), "thresholds", ()) or ())
        if self.program:
            return program_hint(policy_id, thresholds, self.program, self.stack_file)
        return stack_hint(policy_id, thresholds, self.stack_file)

    @property
    def checkpoint(self) -> str:
        return "deployed state" if self.state is not None else "preview"

    @property
    def failed(self) -> bool:
        """A mandatory violation, or (deployed state) a planned resource a mandatory control checks is gone."""
        return bool(self.analysis.mandatory_violations()) or any(
            o.kind == "missing" and o.enforcement == "mandatory" for o in self.analysis.outcomes)
