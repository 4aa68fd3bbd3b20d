"""`audiorep separator train`: train a MixIT (or PIT) separator and keep early/middle/late checkpoints."""

from __future__ import annotations

import argparse
from dataclasses import asdict, fields
from pathlib import Path

import yaml

from audiorep.errors import ConfigError

NAME = "separator"
HELP = "train a sound separator without isolated sources (MixIT), or with them (PIT)"

MODEL_KEYS = ("num_channels", "sample_rate", "num_filters", "kernel_size", "bottleneck", "hidden",
              "blocks_per_repeat", "repeats", "conv_kernel", "consistency")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="separator_command", metavar="ACTION")
    train = sub.add_parser("train", help="train a separator", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--data", default="synthetic",
                       help="'synthetic' (built-in world), a folder of audio files, or a manifest .csv")
    train.add_argument("--out", required=True, help="folder for early.pt, middle.pt, late.pt and log.csv")
    train.add_argument("--config", default=None,
                       help="YAML with 'model:' (TDCN keys) and 'train:' (SeparatorTrainConfig keys) sections, "
                            "a file or a packaged recipe name such as separator_mixit")
    train.add_argument("--objective", choices=("mixit", "pit"), default=None)
    train.add_argument("--channels", type=int, default=None, help="output channels M (e.g. 4 or 8)")
    train.add_argument("--sample-rate", type=int, default=None)
    train.add_argument("--steps", type=int, default=None, help="maximum optimisation steps")
    train.add_argument("--minutes", type=float, default=None, help="wall-clock budget")
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--synthetic-scenes", type=int, default=1500, help="pool size when --data synthetic")
    train.add_argument("--device", default="cpu")
    train.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    train.add_argument("--num-workers", type=int, default=0, help="loader workers for file data")


def _load_recipe(name_or_path: str | None) -> dict:
    if not name_or_path:
        return {}
    path = Path(name_or_path)
    if not path.is_file():
        packaged = Path(__file__).resolve().parent.parent / "configs" / f"{name_or_path.removesuffix('.yaml')}.yaml"
        if not packaged.is_file():
            raise ConfigError(f"separator config {name_or_path!r} is neither a file nor a packaged recipe")
        path = packaged
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    if not isinstance(tree, dict) or set(tree) - {"model", "train"}:
        raise ConfigError(f"{path}: expected top-level keys 'model' and/or 'train', got {sorted(tree) if isinstance(tree, dict) else tree!r}")
    return tree


def _checked(section: dict, allowed, where: str) -> dict:
    unknown = set(section or {}) - set(allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {', '.join(allowed)}")
    return dict(section or {})


def run(args) -> int:
    if getattr(args, "separator_command", None) != "train":
        raise ConfigError("missing action: use `audiorep separator train --out DIR ...`")
    import torch

    from audiorep.separation.clip_batches import file_stream, synthetic_pool
    from audiorep.separation.tdcn import TDCNConfig, TDCNSeparator, count_parameters
    from audiorep.separation.train import SeparatorTrainConfig, train_separator

    recipe = _load_recipe(args.config)
    model_kw = _checked(recipe.get("model"), MODEL_KEYS, "config 'model'")
    train_kw = _checked(recipe.get("train"), [f.name for f in fields(SeparatorTrainConfig)], "config 'train'")
    for key, value in (("num_channels", args.channels), ("sample_rate", args.sample_rate)):
        if value is not None:
            model_kw[key] = value
    for key, value in (("objective", args.objective), ("max_steps", args.steps), ("max_minutes", args.minutes),
                       ("batch_size", args.batch_size)):
        if value is not None:
            train_kw[key] = value
    model_cfg = TDCNConfig(**model_kw)
    cfg = SeparatorTrainConfig(**train_kw).validate()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.data == "synthetic":
        clips = synthetic_pool(args.synthetic_scenes, model_cfg.sample_rate, cfg.clip_seconds, seed=cfg.seed,
                               device=args.device)
        if cfg.objective == "mixit":
            clips.sources = None
        elif clips.sources.shape[1] > model_cfg.num_channels:
            raise ConfigError(f"objective 'pit': scenes have up to {clips.sources.shape[1]} sources (events + "
                              f"background) but the model has {model_cfg.num_channels} channels; use --channels "
                              f"{clips.sources.shape[1]} or more")
    else:
        if cfg.objective == "pit":
            raise ConfigError(f"objective 'pit' needs isolated sources; --data {args.data!r} has none (use --data synthetic)")
        clips = file_stream(args.data, model_cfg.sample_rate, cfg.clip_seconds, args.device, args.num_workers, cfg.seed)
    model = TDCNSeparator(model_cfg).to(args.device)
    print(f"separator: {count_parameters(model) / 1e6:.2f} M params, {model_cfg.num_channels} channels, "
          f"{model_cfg.sample_rate} Hz; {cfg.objective}, {cfg.max_steps} steps"
          + (f" / {cfg.max_minutes} min" if cfg.max_minutes else ""), flush=True)
    train_separator(model, clips, cfg, args.out, log=lambda s: print(s, flush=True))
    print(f"done: checkpoints {', '.join(sorted(cfg.checkpoints))} in {args.out}; config {asdict(cfg)}")
    return 0
