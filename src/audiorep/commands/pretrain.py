"""`audiorep pretrain`: self-supervised pretraining from a YAML recipe."""

from __future__ import annotations

import json
import os

from audiorep.commands._arguments import positive_float

NAME = "pretrain"
HELP = "pretrain a representation with a method recipe (YAML + key=value overrides)"
DESCRIPTION = """Pretrain a representation. Example:
  audiorep pretrain --config simclr_demo train.minutes=5 train.out_dir=runs/simclr
Run under torchrun for several GPUs or machines:
  torchrun --nproc_per_node=4 -m audiorep pretrain --config simclr data.source=folder data.path=/data/audio"""


def add_arguments(p):
    p.add_argument("--config", default="simclr_demo", help="YAML file or packaged recipe name")
    p.add_argument("--out", default=None, help="output folder (overrides train.out_dir)")
    p.add_argument("--resume", action="store_true", help="continue the run in the output folder from its last checkpoint")
    p.add_argument("--minutes", type=positive_float, default=None, help="wall-clock budget (overrides train.minutes)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("overrides", nargs="*", help="key=value config overrides, e.g. train.steps=500 encoder.width=16")


def run(args) -> int:
    from audiorep.config import load_config
    from audiorep.train.trainer import Trainer

    overrides = list(args.overrides)
    if args.minutes is not None:
        overrides.append(f"train.minutes={args.minutes}")
    if args.out:
        overrides.append(f"train.out_dir={args.out}")
    cfg = load_config(args.config, overrides)
    summary = Trainer(cfg, resume=args.resume, progress=not args.no_progress).fit()
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one summary, not one per process
        print(json.dumps(summary, indent=2))
    return 0
