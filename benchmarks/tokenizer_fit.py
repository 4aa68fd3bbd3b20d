"""How long a tokenizer takes to fit, and how well it uses its codebook, on synthetic-world audio.

    OMP_NUM_THREADS=1 python benchmarks/tokenizer_fit.py --json tokenizer_fit_cpu.json
    python benchmarks/tokenizer_fit.py --device cuda --threads 4 --clips 2000 --json tokenizer_fit_gpu.json

`--clips` scenes of `--seconds` s from `generate_clips` (16 kHz) -> `LogMel(16000, 64, 25, 10,
60, 7800)` -> patches of `--patch-frames` frames (dim 64 x patch_frames), on which k-means and
the VQ are fitted with `--codebook-size` codes. Per tokenizer: `fit_s` (wall time of `fit`:
statistics, seeding and all iterations; not the final assignment of the data), `patches_per_s`
(patches the optimiser visited per second: iterations x batch), `usage` and `perplexity` of the
codes of the fitted patches and of `--heldout-clips` other scenes, and `mse_per_dim` (squared
error per dimension of a standardised patch against its code: k-means inertia / dim, the VQ's
decoded reconstruction), both on up to 20,000 of the fitted patches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time

import torch


def log_mels(clips: int, seconds: float, seed: int, device: str) -> torch.Tensor:
    """[clips, 64, frames] log-mel of synthetic scenes."""
    from audiorep.data.synthetic import generate_clips
    from audiorep.frontend.log_mel import LogMel

    audio = generate_clips(clips, seed, 16000, seconds, progress=False).audio
    frontend = LogMel(16000, 64, 25.0, 10.0, 60.0, 7800.0).to(device)
    with torch.no_grad():
        return torch.cat([frontend(chunk.to(device)) for chunk in audio.split(64)])


def markdown(rows: list[dict]) -> str:
    lines = ["| tokenizer | K | patches | fit s | patches/s | usage | ppl | held-out usage | held-out ppl | MSE/dim |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['tokenizer']} | {r['codebook_size']} | {r['patches']} | {r['fit_s']} | "
                     f"{r['patches_per_s']} | {r['usage']} | {r['perplexity']} | {r['heldout_usage']} | "
                     f"{r['heldout_perplexity']} | {r['mse_per_dim']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=1000, help="synthetic scenes to fit on")
    p.add_argument("--heldout-clips", type=int, default=200, help="other scenes, for held-out codebook use")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--patch-frames", type=int, default=4)
    p.add_argument("--codebook-size", type=int, default=256)
    p.add_argument("--tokenizers", nargs="+", default=["kmeans", "vq"], choices=["kmeans", "vq"])
    p.add_argument("--kmeans-iterations", type=int, default=200)
    p.add_argument("--kmeans-batch", type=int, default=4096)
    p.add_argument("--vq-steps", type=int, default=1000)
    p.add_argument("--vq-batch", type=int, default=1024)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the figures to PATH")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    from audiorep.tokenizers import build_tokenizer, codebook_stats

    start = time.perf_counter()
    mel = log_mels(args.clips, args.seconds, args.seed, args.device)
    heldout = log_mels(args.heldout_clips, args.seconds, args.seed + 1, args.device)
    train = build_tokenizer("kmeans", 64, 1, args.patch_frames).patches(mel).flatten(0, 1)  # [N, 64 x patch_frames]
    data_s = time.perf_counter() - start
    result = {"command": shlex.join(["python", *sys.argv]),
              "note": "synthetic-world log-mel patches; fit_s excludes data generation and the final assignment; "
                      "patches_per_s counts patches visited by the optimiser (iterations x batch); MSE/dim is "
                      "on standardised patches (1.0 = predicting the mean)",
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "device": args.device,
              "machine": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
              "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
              "data": {"clips": args.clips, "heldout_clips": args.heldout_clips, "clip_seconds": args.seconds,
                       "patch_frames": args.patch_frames, "patches": int(train.shape[0]),
                       "dim": int(train.shape[1]), "seconds": round(data_s, 2)},
              "rows": []}
    settings = {"kmeans": ({"iterations": args.kmeans_iterations, "batch_size": args.kmeans_batch},
                           args.kmeans_iterations * args.kmeans_batch),
                "vq": ({"steps": args.vq_steps, "batch_size": args.vq_batch}, args.vq_steps * args.vq_batch)}
    for name in args.tokenizers:
        fit, visited = settings[name]
        tok = build_tokenizer(name, 64, args.codebook_size, args.patch_frames).to(args.device)
        history = tok.fit(train, seed=args.seed, **fit)
        held = codebook_stats(tok.encode(heldout), args.codebook_size)
        mse = history["inertia"][-1] / tok.dim if name == "kmeans" else history["final_reconstruction"]
        row = {"tokenizer": name, "codebook_size": args.codebook_size, "patches": int(train.shape[0]), **fit,
               "fit_s": round(history["seconds"], 2), "patches_per_s": round(visited / history["seconds"]),
               "usage": round(history["stats"]["usage"], 3), "perplexity": round(history["stats"]["perplexity"], 1),
               "heldout_usage": round(held["usage"], 3), "heldout_perplexity": round(held["perplexity"], 1),
               "mse_per_dim": round(mse, 4), "threads": torch.get_num_threads()}
        result["rows"].append(row)
        print(json.dumps(row), flush=True)
    print(markdown(result["rows"]), end="")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
