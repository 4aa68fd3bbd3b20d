"""`audiorep pretrain`: self-supervised pretraining from a YAML recipe."""

from __future__ import annotations

import json
import os

from audiorep.commands._arguments import positive_float
from audiorep.config import DEFAULT_RECIPE

NAME = "pretrain"
HELP = "pretrain a representation with a method recipe (YAML + key=value overrides)"
DESCRIPTION = """Pretrain a representation. Example:
  audiorep pretrain --config simclr_cpu_demo train.minutes=5 train.out_dir=runs/simclr
Run under torchrun for several GPUs or machines:
  torchrun --nproc_per_node=4 -m audiorep pretrain --config simclr data.source=folder data.path=/data/audio"""


def add_arguments(p):
    p.add_argument("--config", default=DEFAULT_RECIPE, help="YAML file or packaged recipe name")
    p.add_argument("--out", default=None, help="output folder (overrides train.out_dir)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in the output folder from its last checkpoint, with the config it was "
                        "started with (a resume may change its budget, cadence and device; docs/training.md)")
    p.add_argument("--minutes", type=positive_float, default=None, help="wall-clock budget (overrides train.minutes)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("overrides", nargs="*", help="key=value config overrides, e.g. train.steps=500 encoder.width=16")


def run(args) -> int:
    from audiorep.train.trainer import Trainer

    overrides = list(args.overrides)
    if args.minutes is not None:
        overrides.append(f"train.minutes={args.minutes}")
    if args.out:
        overrides.append(f"train.out_dir={args.out}")
    main = os.environ.get("RANK", "0") == "0"  # under torchrun, one message, not one per process
    if args.resume:  # the run's own config, not the recipe's; only what this command line states may change
        from audiorep.train.checkpointing import saved_config
        from audiorep.train.resume import resumed_config

        cfg = resumed_config(saved_config(run_folder(args.config, overrides)), overrides,
                             say=print if main else lambda _: None)
    else:
        from audiorep.config import load_config

        cfg = load_config(args.config, overrides)
    summary = Trainer(cfg, resume=args.resume, progress=not args.no_progress).fit()
    if main:
        print(json.dumps(summary, indent=2))
    return 0


def run_folder(recipe: str, overrides: list[str]) -> str:
    """The folder --resume continues: the train.out_dir stated (--out), else the recipe's. The
    recipe is not validated: its other keys (a data.path it leaves to the command line) do not
    matter to a resume."""
    from audiorep.config import TrainConfig, parse_overrides, read_recipe

    stated = [value for key, value in parse_overrides(overrides) if key == "train.out_dir"]
    if stated:
        return str(stated[-1])
    return str((read_recipe(recipe).get("train") or {}).get("out_dir") or TrainConfig().out_dir)
