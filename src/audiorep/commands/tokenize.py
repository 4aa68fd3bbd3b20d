"""`audiorep tokenize`: fit a generative recipe's tokenizer on its data and save it, with its
codebook usage and perplexity, so several runs can share one codebook
(`method.tokenizer_path=FILE`)."""

from __future__ import annotations

import json

NAME = "tokenize"
HELP = "fit a token_lm recipe's tokenizer (k-means or VQ codebook) on unlabelled audio and save it"
DESCRIPTION = """Fit the codebook a generative recipe names (encoder.tokenizer, codebook_size, patch_frames)
on random crops of its data, on --device, and save it (no pickle). Example:
  audiorep tokenize --config generative_demo --out runs/tokenizer.pt
  audiorep pretrain --config generative_demo method.tokenizer_path=runs/tokenizer.pt"""


def add_arguments(p):
    p.add_argument("--config", default="generative_demo", help="YAML file or packaged recipe name (token_lm encoder)")
    p.add_argument("--out", required=True, help="where to write the tokenizer (.pt)")
    p.add_argument("--device", default="cpu", help="where to fit: cpu, cuda, cuda:1, mps, auto")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("overrides", nargs="*", help="key=value config overrides, e.g. encoder.codebook_size=512")


def run(args) -> int:
    from audiorep.builders import build_fitted_tokenizer
    from audiorep.config import load_config
    from audiorep.errors import ConfigError
    from audiorep.tokenizers import save_tokenizer

    cfg = load_config(args.config, list(args.overrides))
    if cfg.encoder.get("name") != "token_lm":
        raise ConfigError(f"--config {args.config}: encoder.name is {cfg.encoder.get('name')!r}; a tokenizer "
                          "belongs to the token_lm encoder (try --config generative_demo)")
    if cfg.method.get("tokenizer_path"):
        raise ConfigError("method.tokenizer_path is set: that tokenizer is already fitted")
    tokenizer = build_fitted_tokenizer(cfg, device=args.device, progress=not args.no_progress)
    report = {k: v for k, v in tokenizer.fit_report.items() if k != "bad_files"}
    report["bad_files"] = len(tokenizer.fit_report["bad_files"])
    save_tokenizer(args.out, tokenizer.cpu(), fit_report=json.loads(json.dumps(report, default=float)))
    print(json.dumps({"tokenizer": args.out, **report}, indent=2, default=float))
    return 0
