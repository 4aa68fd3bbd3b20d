"""`audiorep separator train`: train a MixIT (or PIT) separator and keep early/middle/late checkpoints.

Separator training is a method (`method.name: separator`) on the shared trainer, so a
separator recipe is a config like any other and takes the same `key=value` overrides; the
options below are shortcuts for the common ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from audiorep.commands._arguments import nonnegative_int, positive_float, positive_int
from audiorep.data.shard_format import INDEX_NAME
from audiorep.errors import ConfigError

NAME = "separator"
DEFAULT_RECIPE = "separator_mixit"
HELP = "train a sound separator without isolated sources (MixIT), or with them (PIT)"
DESCRIPTION = ("Train a sound separator on the shared trainer: MixIT learns from mixtures alone, PIT from the "
               "synthetic world's isolated sources. The one action is `train`.")
TRAIN_DESCRIPTION = """Train a separator and keep early / middle / late checkpoints (separation-based SSL uses them).
Examples:
  audiorep separator train --out runs/sep --minutes 30
  audiorep separator train --data /my/audio --out runs/sep --channels 4
  audiorep separator train --out runs/sep --resume"""
OLD_RECIPE = ("{path}: a separator recipe in the old layout (top-level 'model:'). Put the model keys under "
              "method.model and the training keys under train (learning_rate -> lr, max_steps -> steps, "
              "max_minutes -> minutes, checkpoints -> keep_checkpoints, clip_seconds -> data.clip_seconds, "
              "objective -> method.objective); see the packaged separator_mixit recipe.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="separator_command", metavar="ACTION", help="train (the one action)")
    train = sub.add_parser("train", help="train a separator", formatter_class=parser.formatter_class,
                           description=TRAIN_DESCRIPTION)
    train.add_argument("--data", default=None,
                       help="'synthetic' (built-in world), a folder of audio files, or a manifest .csv "
                            "(default: the recipe's data section)")
    train.add_argument("--out", required=True, help="folder for early.pt, middle.pt, late.pt, last.pt and metrics.csv")
    train.add_argument("--config", default=DEFAULT_RECIPE,
                       help="recipe: a YAML file (read over separator_mixit: give what differs) or a packaged name "
                            "(separator_mixit, separator_mixit_m4, separator_pit)")
    train.add_argument("--objective", choices=("mixit", "pit"), default=None,
                       help="mixit (mixtures of mixtures, no isolated sources) or pit (needs the synthetic "
                            "world's sources); default: the recipe's")
    train.add_argument("--channels", type=positive_int, default=None, help="output channels M (e.g. 4 or 8)")
    train.add_argument("--sample-rate", type=positive_int, default=None,
                       help="the separator's rate in Hz (inputs are resampled to it); default: the recipe's")
    train.add_argument("--steps", type=positive_int, default=None, help="maximum optimisation steps")
    train.add_argument("--minutes", type=positive_float, default=None, help="wall-clock budget")
    train.add_argument("--batch-size", type=positive_int, default=None,
                       help="separator inputs per step (MixIT draws twice as many clips)")
    train.add_argument("--synthetic-scenes", type=positive_int, default=None, help="pool size when --data synthetic")
    train.add_argument("--device", default=argparse.SUPPRESS,
                       help="torch device (cpu when not given; a resumed run keeps its own)")
    train.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    train.add_argument("--num-workers", type=nonnegative_int, default=None, help="loader workers for file data")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last checkpoint, with the config it was started with "
                            "(a resume may change its budget, cadence and device; docs/training.md)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("overrides", nargs="*", help="key=value config overrides, e.g. train.lr=0.002")


def data_overrides(data: str | None) -> list[str]:
    """--data as config overrides: the synthetic world, a folder, a manifest, or tar shards (a
    folder `audiorep shard` wrote, a .tar, a brace pattern, a URL or a `pipe:` command)."""
    if data is None:
        return []
    if data == "synthetic":
        return ["data.source=synthetic"]
    path = Path(data)
    if (path.is_dir() and (path / INDEX_NAME).is_file()) or data.endswith(".tar") or "{" in data or \
            data.startswith("pipe:") or "://" in data:
        return ["data.source=shards", f"data.path={data}"]
    if path.is_dir():
        return ["data.source=folder", f"data.path={path}"]
    if path.suffix.lower() == ".csv":
        return ["data.source=manifest", f"data.path={path}"]
    raise ConfigError(f"training data {data!r}: expected 'synthetic', a folder of audio files, a manifest .csv "
                      "or tar shards")


def batch_size_override(batch_size: int | None, method: dict) -> list[str]:
    """--batch-size counts separator inputs; MixIT pairs clips into its mixtures of mixtures."""
    if not batch_size:
        return []
    per_input = 2 if method.get("objective", "mixit") == "mixit" else 1
    return [f"train.batch_size={batch_size * per_input}"]


def base_recipe(recipe: str) -> dict:
    """What a separator recipe is read over: the packaged `separator_mixit` (a user's recipe
    states only what differs from it). A recipe in the old layout gets a migration note."""
    from audiorep.config import read_recipe

    if "model" in read_recipe(recipe):
        raise ConfigError(OLD_RECIPE.format(path=recipe))
    return read_recipe(DEFAULT_RECIPE)


def run(args) -> int:
    if getattr(args, "separator_command", None) != "train":
        raise ConfigError("missing action: use `audiorep separator train --out DIR ...`")
    import torch

    from audiorep.config import load_config
    from audiorep.train.trainer import Trainer

    shortcuts = {"method.objective": args.objective, "method.model.num_channels": args.channels,
                 "data.sample_rate": args.sample_rate, "train.steps": args.steps, "train.minutes": args.minutes,
                 "data.synthetic.n_clips": args.synthetic_scenes, "data.num_workers": args.num_workers,
                 "train.device": getattr(args, "device", None)}
    overrides = data_overrides(args.data) + [f"{k}={v}" for k, v in shortcuts.items() if v is not None]
    if args.resume:  # the run's own config; only what this command line states may change
        from audiorep.train.checkpointing import saved_config
        from audiorep.train.resume import resumed_config

        saved = saved_config(args.out)
        overrides += [f"train.out_dir={args.out}", *args.overrides]
        cfg = resumed_config(saved, overrides + batch_size_override(args.batch_size, saved["method"]))
    else:
        base = base_recipe(args.config)
        if getattr(args, "device", None) is None:
            overrides.append("train.device=cpu")
        overrides += [f"train.out_dir={args.out}", *args.overrides]
        cfg = load_config(args.config, overrides, base=base)
        if args.batch_size:
            cfg = load_config(args.config, overrides + batch_size_override(args.batch_size, cfg.method), base=base)
    if cfg.method["name"] != "separator":
        what = f"{args.out}: a run" if args.resume else f"{args.config}: a recipe"
        raise ConfigError(f"{what} of method {cfg.method['name']!r}; use `audiorep pretrain` for it")
    if args.threads:
        torch.set_num_threads(args.threads)
    trainer = Trainer(cfg, resume=args.resume, progress=not args.no_progress)
    m = trainer.cfg.method
    print(f"separator: {m['model'].get('num_channels', 'default')} channels at {cfg.data.sample_rate} Hz; "
          f"{m['objective']}, {cfg.train.steps} steps" + (f" / {cfg.train.minutes} min" if cfg.train.minutes else ""),
          flush=True)
    summary = trainer.fit()
    kept = ", ".join(f"{name}.pt" for name in cfg.train.keep_checkpoints)
    print(f"done: {summary['steps']} steps in {summary['seconds'] / 60:.1f} min; checkpoints {kept} and last.pt "
          f"in {args.out}")
    return 0
