"""Pretraining throughput (clips/s) and embedding throughput (seconds of audio per second).

    python benchmarks/throughput.py --json throughput.json [--recipe simclr_demo] [--device cpu]

Pretraining is timed on the demo recipe through the real trainer (views, augmentations,
log-mel, encoder, loss, optimiser), on in-memory clips so data generation is not counted;
the first steps are excluded as warm-up. A method that asks for video (`audiovisual_demo`)
gets random uint8 frames of the recipe's `data.video` size and rate; a generative recipe
(`generative_demo`) fits its tokenizer on the clips first (not timed) and also reports the
language model's tokens per second. Embedding is timed on 10 s clips.

    python benchmarks/throughput.py --recipe audiovisual_demo --threads 1 data.video.size=32 data.video.fps=8
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import tempfile
import time

import torch

from audiorep.builders import method_config, random_init_embedder
from audiorep.config import load_config
from audiorep.data.sources import ArraySource
from audiorep.train.trainer import Trainer


def pretrain_throughput(recipe: str, steps: int, warmup: int, device: str, overrides: list[str]) -> dict:
    cfg = load_config(recipe, overrides + ["train.minutes=null", f"train.steps={warmup + steps}", f"train.device={device}",
                                           f"train.log_every={warmup + steps}", "train.checkpoint_every=100000"])
    n = cfg.train.batch_size * 4
    g = torch.Generator().manual_seed(0)
    audio = 0.1 * torch.randn(n, int(cfg.data.clip_seconds * cfg.data.sample_rate), generator=g)
    fields, rates = {}, {}
    if "video" in method_config(cfg)[0].batch_fields:
        v = cfg.data.video
        frames = round(cfg.data.clip_seconds * v.fps)
        fields["video"] = torch.randint(0, 256, (n, frames, 3, v.size, v.size), dtype=torch.uint8, generator=g)
        rates["video"] = v.fps
    times = []

    class Timed(Trainer):
        def _optimise(self, *args):
            times.append(time.perf_counter())
            return super()._optimise(*args)

    with tempfile.TemporaryDirectory() as out:
        source = ArraySource(audio, cfg.data.sample_rate, fields=fields or None, field_rates=rates or None)
        Timed(cfg, out_dir=out, progress=False, source=source).fit()
    seconds = times[-1] - times[warmup]
    timed_steps = len(times) - 1 - warmup
    out = {"recipe": recipe, "batch_size": cfg.train.batch_size, "encoder": cfg.encoder["name"],
           "width": cfg.encoder.get("width"), "overrides": overrides, "steps_timed": timed_steps,
           "seconds_per_step": round(seconds / timed_steps, 4),
           "clips_per_second": round(timed_steps * cfg.train.batch_size / seconds, 2)}
    if "patch_frames" in cfg.encoder:  # a language model over tokens: count its tokens too
        frames = int(cfg.data.clip_seconds * 1000 / cfg.frontend.hop_ms) + 1
        per_clip = min(frames // cfg.encoder["patch_frames"], cfg.encoder["max_tokens"])
        out["tokens_per_clip"] = per_clip
        out["tokens_per_second"] = round(out["clips_per_second"] * per_clip, 1)
    return out


@torch.no_grad()
def embed_speed(emb, device: str = "cpu", clip_seconds: float = 10.0, batch: int = 16, repeats: int = 3) -> float:
    """Seconds of audio an embedder turns into clip embeddings per second (best of `repeats`)."""
    x = 0.1 * torch.randn(batch, int(clip_seconds * emb.sample_rate), generator=torch.Generator().manual_seed(0)).to(device)
    emb(x)
    best = float("inf")
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        emb(x)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return round(batch * clip_seconds / best, 1)


def embed_throughput(recipe: str, device: str, clip_seconds: float = 10.0, batch: int = 16, repeats: int = 3) -> dict:
    emb = random_init_embedder(cfg=load_config(recipe)).to(device)
    return {"clip_seconds": clip_seconds, "batch": batch,
            "audio_seconds_per_second": embed_speed(emb, device, clip_seconds, batch, repeats)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", help="write the figures to this file")
    p.add_argument("--recipe", default="simclr_demo")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("overrides", nargs="*", help="key=value overrides of the recipe")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "torch": torch.__version__,
                    "threads": torch.get_num_threads(), "device": args.device,
                    "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None},
        "pretrain": pretrain_throughput(args.recipe, args.steps, args.warmup, args.device, args.overrides),
        "embed": embed_throughput(args.recipe, args.device),
        "command": shlex.join(["python", *sys.argv]),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        from pathlib import Path

        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
