"""`audiorep demo`: the whole system on built-in data, in minutes, on a laptop CPU."""

from __future__ import annotations

from audiorep.commands._arguments import positive_float

NAME = "demo"
HELP = "generate the synthetic world, pretrain SimCLR, and probe it against baselines"
DESCRIPTION = """Generate the built-in synthetic sound world, pretrain the default SimCLR recipe within
a wall-clock budget, and evaluate the frozen encoder with a linear probe on held-out scenes
(scene accuracy, event-tagging mAP) against the same encoder at random init and log-mel
statistics. Writes OUT/results.json, OUT/results.md and OUT/results.png."""


def add_arguments(p):
    p.add_argument("--out", default="demo_out", help="output folder")
    p.add_argument("--minutes", type=positive_float, default=5.0, help="pretraining budget in minutes")
    p.add_argument("--config", default="simclr_demo", help="recipe (YAML file or packaged name)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", help="key=value config overrides")


def run(args) -> int:
    from audiorep.workflows.demo import run_demo

    results = run_demo(args.out, minutes=args.minutes, config=args.config, overrides=args.overrides,
                       progress=not args.no_progress)
    print((__import__("pathlib").Path(args.out) / "results.md").read_text())
    print(f"results: {args.out}/results.json, {args.out}/results.md, {args.out}/results.png "
          f"({results['demo_seconds']:.0f} s in all)")
    return 0
