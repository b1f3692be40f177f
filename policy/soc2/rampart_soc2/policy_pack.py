"""Build and serve Rampart's SOC 2 policy pack: what a pack directory's `__main__.py` runs.

The Pulumi CLI starts a Python pack as `python -u -m pulumi.policy <engine> <pack-dir>`, which runs the
directory's `__main__.py`. Rampart has two such directories, both calling `serve()`:
`rampart_soc2/pack/` (installed with the package; `rampart pack-path` prints it) and `policy/soc2/`
(the repository's, for `pulumi preview --policy-pack policy/soc2` from a checkout).
"""

from __future__ import annotations

from pathlib import Path

#: The installed pack directory: PulumiPolicy.yaml and the entry point, shipped as package data.
PACK_DIR = Path(__file__).resolve().parent / "pack"


def serve() -> None:
    """Start the pack's Analyzer server; constructing `PolicyPack` serves until the CLI stops it."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    from rampart_soc2.pulumi_adapter import PACK_NAME, build_policies

    PolicyPack(
        name=PACK_NAME,
        policies=build_policies(),
        enforcement_level=EnforcementLevel.MANDATORY,
        description="Rampart SOC 2 controls (AICPA TSC 2017, points of focus 2022)",
        provider="aws",
        tags=["soc2", "aws", "ecs", "docker"],
    )
