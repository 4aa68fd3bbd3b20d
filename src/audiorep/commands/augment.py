"""`audiorep augment`: write a recipe's augmented views of your own files, to hear and see them."""

from __future__ import annotations

import argparse
from pathlib import Path

from audiorep.commands._arguments import positive_float, positive_int

NAME = "augment"
HELP = "write augmented views of audio files (WAV + log-mel picture) to check a chain"
DESCRIPTION = (
    "Run an augmentation chain on your own recordings: each file is copied --views times, "
    "every copy draws its own parameters, and the views are written as WAV files with one "
    "picture per file (the log-mel of the original above those of its views). The chain is "
    "a recipe's method.wave_augment (--config, --key) or a YAML list (--chain). Inputs are "
    "audio files, folders (searched recursively) and manifest CSVs (a 'path' column), in any "
    "mix. Unreadable files are skipped and listed at the end."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="audio files, folders (recursive) and manifest CSVs with a 'path' column, in any mix")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--config", default="simclr", help="recipe (packaged name or YAML path) whose chain to run")
    parser.add_argument("--key", default="wave_augment", help="which chain of the recipe: method.<key>")
    parser.add_argument("--chain", default=None, help="YAML file with a chain (a list of entries); overrides --config")
    parser.add_argument("--views", type=positive_int, default=4, help="augmented views per file")
    parser.add_argument("--seconds", type=positive_float, default=10.0, help="use the first this many seconds of each file")
    parser.add_argument("--sample-rate", type=positive_int, default=None, help="load at this rate; the recipe's when not given")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same views")
    parser.add_argument("--limit", type=positive_int, default=16, help="preview at most this many files (folders can hold thousands)")
    parser.add_argument("--no-figure", action="store_true", help="write the WAV files only")


def run(args: argparse.Namespace) -> int:
    from audiorep.augment.compose import build_chain
    from audiorep.augment.preview import chain_from_config, chain_from_yaml, preview_views
    from audiorep.data.input_files import audio_inputs

    files = [Path(rec.path) for rec in audio_inputs(args.inputs)]  # a missing input is refused first
    if args.chain:
        spec, sample_rate = chain_from_yaml(args.chain), 16000
    else:
        spec, sample_rate = chain_from_config(args.config, args.key)
    sample_rate = args.sample_rate or sample_rate
    chain = build_chain(spec, sample_rate=sample_rate)
    if len(files) > args.limit:
        print(f"previewing the first {args.limit} of {len(files)} files (--limit)")
        files = files[: args.limit]
    print(f"chain ({sample_rate} Hz):\n{chain}")
    summary = preview_views(files, chain, args.out, sample_rate, views=args.views, seconds=args.seconds,
                            seed=args.seed, figure=not args.no_figure)
    print(f"wrote {args.views} views of {len(summary['written'])} file(s) to {summary['out_dir']}")
    if summary["skipped"]:
        print(f"skipped {len(summary['skipped'])} unreadable file(s):")
        for line in summary["skipped"]:
            print(f"  {line}")
    return 0 if summary["written"] else 2
