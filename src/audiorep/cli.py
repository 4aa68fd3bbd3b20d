"""The `audiorep` command line. Each subcommand lives in `audiorep/commands/<name>.py` and
defines NAME, HELP, add_arguments(parser) and run(args) -> int (and may define DESCRIPTION);
they are discovered here, so adding a command never means editing this file.

Every command gets the same help layout (`HelpFormatter`), "did you mean" on a mistyped
choice (`ArgumentParser`), and its `--device` checked before it runs (`check_device`)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import textwrap

from audiorep import __version__
from audiorep.errors import AudiorepError, ConfigError, did_you_mean


class HelpFormatter(argparse.HelpFormatter):
    """Help that says each thing once.

    A description keeps its shape: consecutive unindented lines are one paragraph (reflowed to
    the terminal), a blank line ends a paragraph, and an indented line (an example command) is
    printed as written, on its own line. An option's help gets "(default: X)" only when X says
    something (not None, False, empty, or a flag) and the help does not already speak of its
    default."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines, paragraph = [], []

        def flush() -> None:
            if paragraph:
                lines.append(textwrap.fill(" ".join(paragraph), width, initial_indent=indent,
                                           subsequent_indent=indent))
                paragraph.clear()

        for line in textwrap.dedent(text).strip("\n").splitlines():
            if not line.strip():
                flush()
                lines.append("")
            elif line[0].isspace():
                flush()
                lines.append(indent + line.rstrip())
            else:
                paragraph.append(line.strip())
        flush()
        return "\n".join(lines)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (default is None or default is False or default is argparse.SUPPRESS or action.nargs == 0
                or (isinstance(default, (list, tuple)) and not default) or "default" in text.lower()):
            return text
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
        return f"{text} (default: {shown.replace('%', '%%')})"


class ArgumentParser(argparse.ArgumentParser):
    """argparse with `HelpFormatter` for every (sub)command and a "did you mean" after an
    invalid choice (`audiorep embd`, `--format parqet`)."""

    def __init__(self, *args, formatter_class=None, **kwargs):
        if formatter_class in (None, argparse.HelpFormatter, argparse.ArgumentDefaultsHelpFormatter,
                               argparse.RawDescriptionHelpFormatter):
            formatter_class = HelpFormatter
        super().__init__(*args, formatter_class=formatter_class, **kwargs)

    def _check_value(self, action, value):
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as err:
            hint = did_you_mean(value, action.choices or ())
            if not hint:
                raise
            raise argparse.ArgumentError(action, err.message + hint) from None


DEVICE_TYPES = ("cpu", "cuda", "mps")


def check_device(text: str) -> str:
    """A `--device` as the command will use it: cpu, cuda, cuda:N or mps, present on this
    machine; `auto` is cuda when there is one, else cpu. Anything else is a ConfigError."""
    import torch

    spec = text.strip().lower()
    if spec == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(spec)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in DEVICE_TYPES:
        hint = " (did you mean 'cuda'?)" if spec.startswith("gpu") else did_you_mean(spec, DEVICE_TYPES)
        raise ConfigError(f"--device {text!r} is not a device{hint}; use cpu, cuda, cuda:N, mps or auto")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {text}: CUDA is not available here (torch {torch.__version__} sees no "
                              "GPU); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"--device {text}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                              f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError(f"--device {text}: MPS (Apple GPU) is not available here; use --device cpu")
    return str(device)


def _command_modules():
    import audiorep.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"audiorep.commands.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            yield module


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="audiorep",
        description="Self-supervised audio representations: pretrain, embed, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"audiorep {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP))
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
        if isinstance(getattr(args, "device", None), str):
            args.device = check_device(args.device)
        return int(args._run(args) or 0)
    except AudiorepError as err:
        print(f"audiorep {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"audiorep {args.command}: interrupted", file=sys.stderr)
        return 130
