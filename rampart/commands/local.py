"""`rampart local up|compose|status|logs|down`: a stack's tasks, exactly as planned, on the local
Docker Engine behind a local stand-in for the ALB. Its wiring and its engine are rampart.local's
own (rampart/local/command.py); this module only hands the subcommand to it (docs/local.md)."""

from __future__ import annotations

import argparse
from typing import Any

from rampart.local import command


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    command.register(subparsers, parent)
