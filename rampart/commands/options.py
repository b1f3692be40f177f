"""Options more than one subcommand takes."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rampart.errors import UserError


def add_stack_outputs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack-outputs", action="append", default=[], metavar="REF=FILE",
        help="outputs of a stack the program reads (org/project/stack), as `pulumi stack output --json` prints "
        "them; a stack of this project is planned offline instead when not given",
    )


def read_stack_outputs(pairs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """`--stack-outputs REF=FILE` pairs: each FILE is what `pulumi stack output --json` prints for REF."""
    found: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        ref, sep, file = pair.partition("=")
        if not sep or not ref or not file:
            raise UserError(f"--stack-outputs {pair!r}: give ORG/PROJECT/STACK=FILE")
        try:
            outputs = json.loads(Path(file).read_text())
        except json.JSONDecodeError as e:
            raise UserError(f"--stack-outputs {ref}: {file} is not JSON ({e})") from None
        if not isinstance(outputs, dict):
            raise UserError(f"--stack-outputs {ref}: {file} must hold an object of outputs, as `pulumi stack output --json` prints")
        found[ref] = outputs
    return found


