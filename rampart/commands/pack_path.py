"""`rampart pack-path`: print the installed SOC 2 policy pack's directory.

For the Pulumi CLI from any project: `pulumi preview --policy-pack "$(rampart pack-path)"`. The pack
runs with the Python the CLI finds (its PulumiPolicy.yaml names no virtualenv), so run pulumi with
the environment `rampart` is installed in active.
"""

from __future__ import annotations

import argparse
from typing import Any

from rampart.commands import COMMANDS


def run(args: argparse.Namespace) -> int:
    from rampart.offline.check import default_pack_dir

    print(default_pack_dir())
    return 0


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("pack-path", parents=[parent], help=COMMANDS["pack-path"].summary,
                              description=__doc__.splitlines()[0] if __doc__ else None)
    p.set_defaults(func=run)
