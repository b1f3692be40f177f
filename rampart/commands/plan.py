"""`rampart plan`: what a stack would create, from its program run under the mock engine
(rampart.offline.plan): the resource tree, counts by type, the fixed monthly cost, the outputs, and
optionally the resources as JSON (secrets redacted; priced ones with their monthly cost)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rampart import cost
from rampart.commands import COMMANDS
from rampart.commands.options import add_stack_outputs_option, read_stack_outputs
from rampart.offline.mock_engine import STACK_TYPE
from rampart.offline.plan import render_counts, render_tree, run_stack, to_json


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("plan", parents=[parent], help=COMMANDS["plan"].summary)
    p.add_argument("--stack", "-s", required=True, help="stack name: stacks/Pulumi.<NAME>.yaml")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the resources as JSON (secrets redacted; priced ones with their monthly cost)")
    add_stack_outputs_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = run_stack(args.project_dir, args.stack, read_stack_outputs(args.stack_outputs))
    resources = [r for r in result.resources if r.type != STACK_TYPE]
    print(f"Plan of stack {args.stack!r} (mock engine; nothing was deployed)\n")
    for note in result.notes:  # what the program logged: `pulumi preview` shows it as diagnostics
        print(note)
    if result.notes:
        print()
    print(render_tree(resources))
    print()
    print(render_counts(resources))
    plan = cost.entries(resources)
    print()
    print(cost.render_text(cost.estimate(plan, result.region)))
    if result.stack_outputs:
        print("\nOutputs:")
        for key, value in sorted(result.stack_outputs.items()):
            shown = "[secret]" if key in result.secret_outputs else json.dumps(value)
            print(f"  {key}: {shown}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        entries = cost.annotate(to_json(resources), plan, result.region)
        args.json.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
        print(f"\nWrote {len(resources)} resources to {args.json}")
    return 0
