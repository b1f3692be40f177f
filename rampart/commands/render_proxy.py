"""`rampart render-proxy`: the Nginx sidecar's files for a stack, as rampart.offline.render_proxy
writes them (its docstring, which lists them, is this command's description)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rampart.commands import COMMANDS
from rampart.components.routing import HEALTH_CHECK_PATH
from rampart.errors import UserError
from rampart.offline import render_proxy
from rampart.offline.render_proxy import effective_config, write_rendered


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "render-proxy",
        parents=[parent],
        help=COMMANDS["render-proxy"].summary,
        description=render_proxy.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    p.add_argument("--service", help="the service whose sidecar to render (default: the stack's only nginx service)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.add_argument("--local", action="store_true", help="write a config for a plain local nginx (nginx -p DIR)")
    p.add_argument("--upstream", metavar="HOST:PORT", help="upstream app address (default: 127.0.0.1:<the service's containerPort>)")
    p.add_argument("--listen", type=int, metavar="PORT", help="port to listen on (default: the stack's proxy listenPort)")
    p.add_argument("--tls-dir", type=Path, metavar="DIR", help="with --local: directory holding cert.pem and key.pem")
    p.set_defaults(func=run)


def _parse_upstream(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UserError(f"--upstream {text!r}: give HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def run(args: argparse.Namespace) -> int:
    if args.tls_dir is not None and not args.local:
        raise UserError("--tls-dir applies only with --local (the image makes its own key at start, or reads a brought one from `proxy.certificate.secrets`)")
    upstream = _parse_upstream(args.upstream) if args.upstream else None
    config, notes = effective_config(args.project_dir, args.stack, args.service, upstream, args.listen)
    out: Path = args.out if args.out.is_absolute() else Path.cwd() / args.out
    write_rendered(config, out, local=args.local, project_dir=args.project_dir, tls_source=args.tls_dir)
    for note in notes:
        print(note, file=sys.stderr)
    print(f"wrote {out / 'nginx.conf'}")
    if args.local:
        print(f"run:  nginx -p {out} -c nginx.conf -e logs/error.log   (as root add: -g 'user root;')")
        print(f"test: curl -k https://127.0.0.1:{config.listen_port}{HEALTH_CHECK_PATH}")
    else:
        print(f"image context: {out / 'image'}")
    return 0
