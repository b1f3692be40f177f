"""`rampart verify REPORT...`: recompute the checksum an evidence report carries and compare.

Each report file `rampart check --report` writes (Markdown, JSON, HTML) ends with the SHA-256 of its
body. An edited body no longer matches. Exit 0 when every file matches, 1 when one does not (named),
2 when a file is not a report.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rampart.commands import COMMANDS
from rampart.errors import UserError


def run(args: argparse.Namespace) -> int:
    from rampart.offline.report import verify_report

    code = 0
    for path in args.reports:
        try:
            ok = verify_report(path)
        except ValueError as e:
            raise UserError(str(e)) from None
        except (KeyError, TypeError):
            ok = False
        if ok:
            print(f"{path}: checksum matches the report body")
        else:
            print(f"{path}: checksum does NOT match the report body (edited, or not written by rampart check)")
            code = 1
    return code


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("verify", parents=[parent], help=COMMANDS["verify"].summary,
                              description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("reports", type=Path, nargs="+", metavar="REPORT", help="a report file (.md, .json or .html)")
    p.set_defaults(func=run)
