"""The `rampart` command: offline tooling for a Rampart Pulumi project.

Every subcommand acts on the Pulumi project in the current directory, or the one given with
`-C DIR`, as the Pulumi CLI does. A subcommand lives in its own module under rampart/commands,
exposing `register(subparsers, parent)`; it sets `func` to a `run(args) -> int`. Only the module of
the subcommand given is imported (rampart.commands.COMMANDS lists them all).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rampart.commands import COMMANDS
from rampart.errors import UserError, exit_codes_text


def _common_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """-C and --debug, accepted before the subcommand (`rampart -C DIR check`) and after it
    (`rampart check -C DIR`); after it wins. `default` is SUPPRESS on the subcommand's copy, so an
    option given only before the subcommand is not overwritten by the subcommand's default."""
    parser.add_argument(
        "-C",
        dest="project_dir",
        type=Path,
        default=Path.cwd() if default is None else default,
        metavar="DIR",
        help="the Pulumi project directory (default: the current directory)",
    )
    parser.add_argument(
        "--debug", action="store_true", default=False if default is None else default,
        help="on an error, also print its Python traceback",
    )


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` names: its first word that is no option and no -C value, if a subcommand."""
    words = iter(argv)
    for word in words:
        if word == "-C":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for `argv`: the subcommand it names is registered by its module; every other one is
    only listed, with its summary, so that its module (and the engine behind it) is not imported."""
    parent = argparse.ArgumentParser(add_help=False)
    _common_options(parent, argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="rampart", description=__doc__.splitlines()[0] if __doc__ else None,
                                     epilog=exit_codes_text(), formatter_class=argparse.RawDescriptionHelpFormatter)
    _common_options(parser, None)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = chosen_command(argv)
    for name, command in COMMANDS.items():
        if name == chosen:
            importlib.import_module(command.module).register(subparsers, parent)
        else:
            subparsers.add_parser(name, help=command.summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    args.project_dir = args.project_dir.resolve()
    try:
        code: int = args.func(args)
    except UserError as e:
        if args.debug:
            traceback.print_exception(e.__cause__ or e, file=sys.stderr)
        print(f"rampart {args.command}: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # an output path that cannot be written, a file that cannot be read
        if args.debug:
            traceback.print_exception(e, file=sys.stderr)
        where = f": {e.filename}" if e.filename else ""
        print(f"rampart {args.command}: {e.strerror or e}{where}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
