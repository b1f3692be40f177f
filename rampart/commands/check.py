"""`rampart check --stack NAME [--report DIR] [--format md,json,html]`: the SOC 2 pack, offline.

Plans the stack (or reads a deployed stack's export) and runs the policy packs over it, as
rampart.offline.check does; prints the summary and any unused waiver, writes the evidence report
(rampart.offline.report); exits 0 on a pass, 1 on a mandatory violation, 2 on a usage or
configuration error, 3 when a pack fails to start or a policy raises (rampart.errors.EXIT_CODES).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rampart.commands import COMMANDS
from rampart.commands.options import add_stack_outputs_option, read_stack_outputs
from rampart.errors import UserError, exit_codes_text
from rampart.offline.check import check_stack, check_state, pack_config_for_stack, summary_lines
from rampart.offline.report import RENDERERS, unused_waiver_warnings, write_reports

#: The evidence report's formats, as `--format` names them.
FORMATS = tuple(RENDERERS)


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("check", parents=[parent], help=COMMANDS["check"].summary,
                              description=__doc__.splitlines()[0] if __doc__ else None,
                              epilog=exit_codes_text(),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stack", "-s", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    p.add_argument("--report", type=Path, metavar="DIR", help="write the SOC 2 evidence report into DIR")
    p.add_argument("--format", default=",".join(FORMATS), help=f"report formats, comma-separated: {','.join(FORMATS)}")
    p.add_argument("--state", type=Path, metavar="FILE",
                   help="check the deployed stack in FILE (`pulumi stack export` output) instead of a preview")
    p.add_argument("--policy-pack", type=Path, action="append", metavar="DIR",
                   help="a policy pack directory (Python or Node.js), repeatable; default: Rampart's installed "
                        "SOC 2 pack (`rampart pack-path`); give it too to run it beside others")
    p.add_argument("--policy-pack-config", type=Path, action="append", metavar="FILE",
                   help="a JSON config file for a pack, repeatable: one per --policy-pack, in the same order, as "
                        "`pulumi preview` takes them (policy name or `all` -> a level or {enforcementLevel, properties}); "
                        "applied over the pack's own initialConfig (and, for Rampart's pack, the stack's rampart:policy)")
    p.add_argument("--emit-pack-config", type=Path, metavar="FILE",
                   help="only write the stack's pack config as JSON for `pulumi preview --policy-pack-config FILE`")
    add_stack_outputs_option(p)
    p.set_defaults(func=run)


def parse_formats(text: str) -> list[str]:
    """`--format`: report formats, comma-separated."""
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UserError(f"--format {text!r}: use a comma-separated list of {', '.join(FORMATS)}")
    return formats


def run(args: argparse.Namespace) -> int:
    formats = parse_formats(args.format)
    if args.emit_pack_config:
        config = pack_config_for_stack(Path(args.project_dir), args.stack)
        args.emit_pack_config.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        print(f"wrote {args.emit_pack_config} ({len(config)} policies configured)")
        return 0
    outputs = read_stack_outputs(args.stack_outputs)
    if args.state:
        result = check_state(Path(args.project_dir), args.stack, args.state, args.policy_pack, outputs,
                             args.policy_pack_config)
    else:
        result = check_stack(Path(args.project_dir), args.stack, args.policy_pack, outputs, args.policy_pack_config)
    print("\n".join(summary_lines(result)))
    for warning in unused_waiver_warnings(result):
        print(f"rampart check: warning: {warning}", file=sys.stderr)
    if args.report:
        for path in write_reports(result, Path(args.report), formats):
            print(f"wrote {path}")
    return 1 if result.failed else 0
