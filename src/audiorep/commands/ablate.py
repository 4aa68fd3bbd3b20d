"""`audiorep ablate`: the separation-based SSL variants under one equal budget, one table."""

from __future__ import annotations

from pathlib import Path

from audiorep.commands._arguments import positive_float, positive_int
from audiorep.errors import ConfigError

NAME = "ablate"
HELP = "train and probe the separation-SSL variants under one equal budget each"
VARIANTS = ("mixture_only", "separated_converged", "separated_multi_state", "coincidence", "joint")
"""The variants of `audiorep.workflows.ablation.variants`, in its order (a test keeps them equal)."""
DEFAULT_MINUTES = 5.0
DESCRIPTION = f"""Pretrain, under the same budget each (--steps, or --minutes of wall clock), the variants that test the
separation-SSL claims (mixture-only views; + separated views from one converged separator;
+ several convergence states; coincidence prediction; joint), then probe each on held-out
synthetic scenes (or on evaluation tasks, --probe-tasks) beside random-init and log-mel
baselines. Separator checkpoints come from `audiorep separator train` (give them early to
converged; the last counts as converged). Writes OUT/ablation.md and OUT/ablation.json.

Variants (--only): {", ".join(VARIANTS)}. Example:
  audiorep ablate --separators runs/sep/early.pt runs/sep/late.pt --steps 500 --only mixture_only joint"""


def add_arguments(p):
    p.add_argument("--separators", nargs="+", required=True, metavar="CHECKPOINT",
                   help="separator checkpoints, early ... converged (checked before any training)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=positive_float, default=None,
                        help=f"wall-clock budget per variant (default {DEFAULT_MINUTES:g} when --steps is not given)")
    budget.add_argument("--steps", type=positive_int, default=None,
                        help="step budget per variant (compares views; --minutes also charges separator compute)")
    p.add_argument("--probe-tasks", nargs="*", default=None, metavar="TASK",
                   help="probe on evaluation tasks such as fsdd=PATH, a manifest .csv or synthetic=SEED instead of "
                        "the held-out synthetic scenes")
    p.add_argument("--out", default="ablation_out", help="output folder: one run folder per variant, ablation.md/json")
    p.add_argument("--config", default="separation_ssl_demo",
                   help="recipe (YAML file or packaged name) of every variant")
    p.add_argument("--only", nargs="+", default=None, choices=VARIANTS, metavar="VARIANT",
                   help=f"run only these variants: {', '.join(VARIANTS)}")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", help="key=value config overrides, applied to every variant")


def check_task(spec: str) -> None:
    """Refuse a --probe-tasks entry that `load_tasks` would refuse, before any training (it is
    only read once every variant has trained): an unknown name, a missing path."""
    from audiorep.errors import did_you_mean
    from audiorep.eval.tasks import TASK_GROUPS, TASKS

    name, sep, path = spec.partition("=")
    names = ["synthetic", *TASKS, *TASK_GROUPS]
    if name == "synthetic":
        if path and not path.isdigit():
            raise ConfigError(f"--probe-tasks {spec!r}: give synthetic or synthetic=SEED (a whole number)")
        return
    if not sep:
        if spec.lower().endswith(".csv"):
            name, path = "manifest", spec
        else:
            raise ConfigError(f"--probe-tasks {spec!r}: give NAME=PATH (NAME one of {', '.join(names)}), "
                              f"synthetic[=SEED] or a manifest .csv{did_you_mean(spec, names)}")
    if name not in TASKS and name not in TASK_GROUPS:
        raise ConfigError(f"--probe-tasks {spec!r}: task {name!r} is unknown{did_you_mean(name, names)}; "
                          f"choose one of {', '.join(names)}")
    if not Path(path).exists():
        raise ConfigError(f"--probe-tasks {spec!r}: {path} does not exist")


def check_separators(paths: list[str]) -> None:
    """Every separator checkpoint loads (a missing or wrong file is named now, not after the
    variants before the first one that uses it have trained)."""
    from audiorep.builders import load_separator

    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise ConfigError(f"--separators: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not a file "
                          "(train them with `audiorep separator train`)")
    for path in paths:
        load_separator(path, "cpu")


def run(args) -> int:
    from audiorep.config import load_config
    from audiorep.workflows.ablation import run_ablation

    for spec in args.probe_tasks or []:
        check_task(spec)
    load_config(args.config, list(args.overrides))  # a bad recipe or override, before any training
    check_separators(args.separators)
    minutes = DEFAULT_MINUTES if args.minutes is None and args.steps is None else args.minutes
    result = run_ablation(args.out, args.separators, minutes, args.config, args.overrides, args.only,
                          progress=not args.no_progress, steps=args.steps, probe_tasks=args.probe_tasks)
    print((Path(args.out) / "ablation.md").read_text())
    return 0 if result else 1
