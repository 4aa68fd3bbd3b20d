"""`audiorep demo`: the whole system on built-in data, in minutes, on a laptop CPU."""

from __future__ import annotations

from audiorep.commands._arguments import positive_float, positive_int
from audiorep.config import DEFAULT_RECIPE

NAME = "demo"
HELP = "generate the synthetic world, pretrain SimCLR, and probe it against baselines"
DESCRIPTION = """Generate the built-in synthetic sound world, pretrain the default SimCLR recipe
(simclr_cpu_demo) for a fixed number of steps (the recipe's train.steps: 1,300, about 5 minutes
of pretraining and 6 in all on an idle 2-core CPU; a slower or busier machine takes longer but
trains the same run, so its figures match the README's), and evaluate the frozen encoder with
a linear probe on held-out scenes (scene accuracy, event-tagging mAP) against the same encoder
at random init and log-mel statistics. Writes OUT/results.json, OUT/results.md and
OUT/results.png, and prints how long it took."""


def add_arguments(p):
    p.add_argument("--out", default="demo_out", help="output folder")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="pretraining steps (default: the recipe's train.steps, 1300 for simclr_cpu_demo)")
    p.add_argument("--minutes", type=positive_float, default=None,
                   help="a wall-clock budget as well: pretraining stops at the steps or the minutes, whichever "
                        "comes first, so the figures then depend on the machine's speed (default: the recipe's "
                        "train.minutes, none for simclr_cpu_demo)")
    p.add_argument("--config", default=DEFAULT_RECIPE, help="recipe (YAML file or packaged name)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", help="key=value config overrides")


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def run(args) -> int:
    import time
    from pathlib import Path

    from audiorep.config import load_config
    from audiorep.workflows.demo import run_demo

    t0 = time.time()
    overrides = list(args.overrides)
    if args.steps is not None:
        overrides.append(f"train.steps={args.steps}")
    if args.minutes is not None:
        overrides.append(f"train.minutes={args.minutes}")
    train = load_config(args.config, overrides).train  # the budget the run will have, checked before any work
    results = run_demo(args.out, minutes=None, config=args.config, overrides=overrides,
                       progress=not args.no_progress)
    took = time.time() - t0
    p = results["pretrain"]
    print((Path(args.out) / "results.md").read_text())
    if train.minutes and p["steps"] < train.steps:
        print(f"pretraining stopped at the {train.minutes:g}-minute budget after {p['steps']} of {train.steps} steps")
    print(f"results: {args.out}/results.json, {args.out}/results.md, {args.out}/results.png")
    print(f"the demo took {_duration(took)} ({p['steps']} pretraining steps in {_duration(p['seconds'])})")
    return 0
