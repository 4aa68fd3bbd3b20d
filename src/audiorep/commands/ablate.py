"""`audiorep ablate`: the separation-based SSL variants under one equal budget, one table."""

from __future__ import annotations

from audiorep.commands._arguments import positive_float, positive_int

NAME = "ablate"
HELP = "train and probe the separation-SSL variants under one equal budget each"
DESCRIPTION = """Pretrain, under the same budget each (--steps, or --minutes of wall clock), the variants that test the
separation-SSL claims (mixture-only views; + separated views from one converged separator;
+ several convergence states; coincidence prediction; joint), then probe each on held-out
synthetic scenes (or on evaluation tasks, --probe-tasks) beside random-init and log-mel
baselines. Separator checkpoints come from
`audiorep separator train` (give them early to converged; the last counts as converged).
Writes OUT/ablation.md and OUT/ablation.json."""


def add_arguments(p):
    p.add_argument("--separators", nargs="+", required=True, help="separator checkpoints, early ... converged")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=positive_float, default=None, help="wall-clock budget per variant (default 5)")
    budget.add_argument("--steps", type=positive_int, default=None,
                        help="step budget per variant (compares views; --minutes also charges separator compute)")
    p.add_argument("--probe-tasks", nargs="*", default=None,
                   help="probe on evaluation tasks such as fsdd=PATH instead of held-out synthetic scenes")
    p.add_argument("--out", default="ablation_out")
    p.add_argument("--config", default="separation_ssl_demo")
    p.add_argument("--only", nargs="*", default=None, help="run only these variants")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("overrides", nargs="*", help="key=value config overrides")


def run(args) -> int:
    from audiorep.workflows.ablation import run_ablation

    minutes = 5.0 if args.minutes is None and args.steps is None else args.minutes
    result = run_ablation(args.out, args.separators, minutes, args.config, args.overrides, args.only,
                          progress=not args.no_progress, steps=args.steps, probe_tasks=args.probe_tasks)
    print((__import__("pathlib").Path(args.out) / "ablation.md").read_text())
    return 0 if result else 1
