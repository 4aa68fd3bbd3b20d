"""The `audiorep` command line. Each subcommand lives in `audiorep/commands/<name>.py` and
defines NAME, HELP, add_arguments(parser) and run(args) -> int; they are discovered here,
so adding a command never means editing this file."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from audiorep import __version__
from audiorep.errors import AudiorepError


def _command_modules():
    import audiorep.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"audiorep.commands.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            yield module


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audiorep",
        description="Self-supervised audio representations: pretrain, embed, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"audiorep {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 1
    try:
        return int(args._run(args) or 0)
    except AudiorepError as err:
        print(f"audiorep {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"audiorep {args.command}: interrupted", file=sys.stderr)
        return 130
