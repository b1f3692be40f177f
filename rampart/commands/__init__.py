"""The `rampart` subcommands: one thin module each, argparse wiring and output only, over the
offline engine (`rampart.offline`) or `rampart.local`.

A command module exposes `register(subparsers, parent)`, which adds its subparser and sets `func`
to a `run(args) -> int`. As pip's `commands_dict` does, `COMMANDS` names each module and the
one-line summary `rampart --help` lists, and rampart.cli imports only the module of the subcommand
given: `rampart --help` loads no engine, `rampart verify` no Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str
    summary: str


#: Subcommand -> its module and summary, in the order `rampart --help` lists them.
COMMANDS: dict[str, Command] = {
    "plan": Command("rampart.commands.plan", "show what a stack would create (offline, mock engine)"),
    "render-proxy": Command("rampart.commands.render_proxy", "write the Nginx sidecar's nginx.conf and image context for a stack"),
    "check": Command("rampart.commands.check", "run the SOC 2 policy pack over a stack's plan, offline"),
    "verify": Command("rampart.commands.verify", "recompute an evidence report's checksum"),
    "pack-path": Command("rampart.commands.pack_path", "print the installed SOC 2 policy pack's directory"),
    "local": Command("rampart.commands.local", "run a stack's services on the local Docker Engine"),
}
