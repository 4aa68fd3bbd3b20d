"""`audiorep supervised`: the fully supervised reference on a task -> results table (markdown,
CSV, JSON), beside which self-supervised encoders are read."""

from __future__ import annotations

from pathlib import Path

from audiorep.commands._arguments import positive_float, positive_int
from audiorep.config import DEFAULT_RECIPE
from audiorep.errors import ConfigError

NAME = "supervised"
HELP = "train the recipe's encoder with a task's labels, fold by fold, and probe it like any model"
DESCRIPTION = """The fully supervised reference: for every fold of a task, the recipe's encoder (its `encoder:` and
`frontend:` sections) is trained with the labels of the fold's train + valid clips (cross-entropy;
BCE for multi-label tasks), then frozen, and the same probe as `audiorep evaluate` scores it on
that fold's test clips. Tasks are named as for `audiorep evaluate`: synthetic[=SEED] (the
world's held-out scene and event tasks at the recipe's rate), NAME=PATH or NAME with --task-root
(fsdd, fsdd_digit, esc50, speech_commands, ...), or --manifest CSV. Overrides are key=value;
method.* keys (label_smoothing, wave_augment, spec_augment) set the supervised method's. Example:
  audiorep supervised --config simclr_cpu_demo --task fsdd_digit --task-root ../shared/data/fsdd --steps 500"""


def add_arguments(p) -> None:
    p.add_argument("--config", default=DEFAULT_RECIPE, help="recipe whose encoder and front-end are trained")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--task", metavar="NAME[=PATH]", help="synthetic[=SEED], NAME=PATH, or NAME with --task-root")
    which.add_argument("--manifest", metavar="CSV", help="a labelled manifest CSV (path,label[,fold|split|group])")
    p.add_argument("--task-root", metavar="PATH", help="the dataset folder of --task NAME")
    p.add_argument("--synthetic-clips", type=positive_int, nargs=2, default=[700, 500], metavar=("TRAIN", "TEST"),
                   help="clips of the synthetic tasks (--task synthetic)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=positive_int, default=None, help="training steps per fold (lifts the recipe's minutes)")
    budget.add_argument("--minutes", type=positive_float, default=None, help="wall-clock budget per fold")
    p.add_argument("--probe", nargs="+", default=["linear"], choices=["linear", "mlp"], help="probes to run")
    p.add_argument("--out", default="supervised_results", help="folder for results.{md,csv,json} and checkpoints")
    p.add_argument("--seed", type=int, default=None, help="training and probe seed (default: the recipe's)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", help="key=value config overrides, e.g. train.batch_size=32")


def task_spec(args) -> str:
    """The task as `audiorep evaluate` names it: NAME=PATH, a manifest path, or synthetic[=SEED]."""
    if args.manifest:
        if args.task_root:
            raise ConfigError("--task-root goes with --task NAME, not with --manifest")
        return args.manifest
    if args.task_root:
        if "=" in args.task:
            raise ConfigError(f"--task {args.task} already names its path; drop --task-root")
        return f"{args.task}={args.task_root}"
    return args.task


def load_tasks_for(spec: str, cfg, n_train: int, n_test: int, progress: bool = True) -> list:
    """`load_tasks(spec)`, except that the synthetic tasks are generated at the recipe's rate,
    clip length and event count (its held-out scenes, as the demo probes them)."""
    from audiorep.eval.tasks import load_tasks, synthetic_tasks
    from audiorep.workflows.demo import held_out_tasks

    name, _, seed = spec.partition("=")
    if name != "synthetic":
        return load_tasks(spec, progress=progress)
    if not seed:
        return held_out_tasks(cfg, n_train, n_test, progress)
    if not seed.isdigit():
        raise ConfigError(f"task {spec!r}: give synthetic or synthetic=SEED (a whole number)")
    s = cfg.data.synthetic
    return synthetic_tasks(n_train, n_test, int(seed), cfg.data.sample_rate, s.clip_seconds, s.max_events,
                           progress=progress)


def split_overrides(overrides: list[str]) -> tuple[list[str], dict]:
    """(overrides of the recipe, keys of the supervised method section from method.KEY=VALUE)."""
    from audiorep.config import parse_overrides

    recipe, method = [], {}
    for item, (key, value) in zip(overrides, parse_overrides(overrides)):
        if not key.startswith("method."):
            recipe.append(item)
        elif key in ("method.name", "method.n_classes", "method.multilabel"):
            raise ConfigError(f"override {item!r}: the supervised reference sets {key} itself (from the task)")
        else:
            method[key.removeprefix("method.")] = value
    return recipe, method


def check_method(cfg, method: dict, args, seed: int) -> None:
    """The supervised method's keys (method.KEY=VALUE overrides) checked against the config
    schema now, before any task is loaded or generated (a stand-in task gives the class count)."""
    from types import SimpleNamespace

    from audiorep.workflows.supervised import supervised_config

    stand_in = SimpleNamespace(n_classes=2, multilabel=False, clip_seconds=None)
    supervised_config(cfg, stand_in, Path(args.out), args.steps, args.minutes, seed, method)


def run(args) -> int:
    from audiorep.config import load_config
    from audiorep.eval.report import command_line, markdown_table, write_all
    from audiorep.workflows.supervised import supervised_reference

    recipe_overrides, method = split_overrides(list(args.overrides))
    cfg = load_config(args.config, recipe_overrides)
    seed = cfg.seed if args.seed is None else args.seed
    check_method(cfg, method, args, seed)
    tasks = load_tasks_for(task_spec(args), cfg, *args.synthetic_clips, progress=not args.quiet)
    out = Path(args.out)
    rows, runs = [], []
    for task in tasks:
        task_rows, task_runs = supervised_reference(cfg, task, out, steps=args.steps, minutes=args.minutes, seed=seed,
                                                    progress=not args.quiet, probes=tuple(args.probe), method=method)
        rows += task_rows
        runs += task_runs
    tasks_run = [{"name": t.name, "root": t.root, "n_clips": len(t.paths), "folds": [f.name for f in t.folds],
                  "multilabel": t.multilabel, "clip_seconds": t.clip_seconds} for t in tasks]
    write_all(rows, out, {"command": command_line(), "config": args.config, "overrides": list(args.overrides),
                          "tasks": tasks_run, "runs": runs})
    print()
    print(markdown_table(rows), end="")
    steps = sorted({r["steps"] for r in runs})
    print(f"\n{len(runs)} supervised runs ({'/'.join(map(str, steps))} steps, "
          f"{sum(r['train_seconds'] for r in runs):.0f} s of training); wrote {out / 'results.md'}, results.csv, "
          "results.json")
    return 0
