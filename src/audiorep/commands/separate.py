"""`audiorep separate`: split audio files into the separator's M channels, one file per channel."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "separate"
HELP = "separate audio files into M channel files with a trained separator checkpoint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="separator checkpoint (e.g. runs/sep/late.pt)")
    parser.add_argument("--out", required=True, help="output folder; writes <stem>_ch<m>.wav per input")
    parser.add_argument("inputs", nargs="+", help="audio files")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--chunk-seconds", type=float, default=10.0, help="process long files in chunks")


def run(args) -> int:
    import soundfile as sf
    import torch

    from audiorep.builders import load_separator
    from audiorep.errors import AudioFileError
    from audiorep.io.audio import load_audio

    model = load_separator(args.checkpoint, args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.inputs:
        try:
            audio = load_audio(path, model.sample_rate, max_seconds=None)
        except AudioFileError as err:
            print(f"skipped {err}")
            failed += 1
            continue
        with torch.no_grad():
            channels = model.separate_long(torch.from_numpy(audio).to(args.device), args.chunk_seconds).cpu().numpy()
        for m, wave in enumerate(channels):  # 32-bit float: no clipping, channels still sum to the input
            sf.write(out / f"{Path(path).stem}_ch{m}.wav", wave, model.sample_rate, subtype="FLOAT")
        print(f"{path}: {len(channels)} channels -> {out}/{Path(path).stem}_ch*.wav")
    return 1 if failed else 0
