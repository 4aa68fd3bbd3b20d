"""Separation benchmark: MixIT (no isolated sources seen) vs PIT (supervised upper reference).

Trains a TDCN++-style separator on synthetic-world scenes within a wall-clock budget, then
measures on held-out synthetic mixtures of 1 to 4 sources (sources summed, no background):
MSi (SI-SNR improvement, channels assigned to sources one-to-one; the earlier best-channel figure beside it), single-source pass-through
SI-SNR, the training budget used, and the real-time factor on this machine's CPU.

    OMP_NUM_THREADS=2 nice -n 10 python benchmarks/separation.py --mixit-minutes 30 --pit-minutes 8 \
        --threads 2 --json benchmarks/results/separation_cpu.json --figure docs/img/separation.png

(docs/separation.md has the exact commands behind the published table.)

Training each objective in its own process (`--objectives mixit` and `--objectives pit`,
same --out-dir), then one `--objectives none` run, evaluates both checkpoints from disk.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from audiorep.builders import load_separator
from audiorep.config import load_config
from audiorep.data.synthetic import SyntheticWorld
from audiorep.io.checkpoint import load_checkpoint
from audiorep.separation.metrics import evaluate_separator, separation_scores
from audiorep.separation.tdcn import count_parameters
from audiorep.train.trainer import Trainer


def real_time_factor(model, sample_rate: int, seconds: float = 10.0, repeats: int = 7) -> float:
    """Best of `repeats` timed passes over 10 s of audio, after one untimed warm-up pass."""
    audio = torch.randn(1, int(seconds * sample_rate)) * 0.1
    best = float("inf")
    with torch.no_grad():
        model(audio)
        for _ in range(repeats):
            start = time.perf_counter()
            model(audio)
            best = min(best, time.perf_counter() - start)
    return best / seconds


def spectrogram_figure(path, model, mixture, sources, sample_rate, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with torch.no_grad():
        channels = model(mixture.unsqueeze(0))[0]
    active = sources[sources.pow(2).sum(-1) > 0]
    order = separation_scores(channels.unsqueeze(0), active.unsqueeze(0), mixture.unsqueeze(0))["channel"][0].tolist()
    rest = [m for m in range(channels.shape[0]) if m not in order]
    panels = [("mixture", mixture)] + [(f"true source {k + 1}", s) for k, s in enumerate(active)]

    def label(m):
        matched = [str(k + 1) for k, c in enumerate(order) if c == m]
        return f"channel {m} (source {matched[0]})" if matched else f"channel {m}"

    panels += [(label(m), channels[m]) for m in list(dict.fromkeys(order)) + rest]
    cols = 4
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.4 * rows), squeeze=False)
    window = torch.hann_window(256)
    for ax, (name, wave) in zip(axes.flat, panels):
        spec = torch.stft(wave, 256, 64, window=window, return_complex=True).abs().clamp_min(1e-5)
        ax.imshow(20 * spec.log10().numpy(), origin="lower", aspect="auto", vmin=-80, vmax=20, cmap="magma",
                  extent=[0, wave.shape[-1] / sample_rate, 0, sample_rate / 2000])
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("s", fontsize=8)
        ax.set_ylabel("kHz", fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objectives", default="mixit,pit", help="which to train now: mixit,pit / mixit / pit / none")
    p.add_argument("--mixit-minutes", type=float, default=30.0)
    p.add_argument("--pit-minutes", type=float, default=5.0)
    p.add_argument("--max-steps", type=int, default=1_000_000)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--sample-rate", type=int, default=8000)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--clip-seconds", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--warmup-steps", type=int, default=0)
    p.add_argument("--lr-decay", default="none", choices=["none", "cosine"], help="after the warm-up")
    p.add_argument("--background", action="store_true",
                   help="train on scenes with background noise (the test mixtures never have it)")
    p.add_argument("--train-scenes", type=int, default=1500)
    p.add_argument("--test-scenes", type=int, default=300)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out-dir", default="runs/separation_bench")
    p.add_argument("--json", dest="json_path", default=None)
    p.add_argument("--figure", default=None, help="PNG: spectrograms of a mixture, its sources, the MixIT channels")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out_dir)

    for objective in [o for o in args.objectives.split(",") if o in ("mixit", "pit")]:
        minutes = args.mixit_minutes if objective == "mixit" else args.pit_minutes
        clips_per_input = 2 if objective == "mixit" else 1  # MixIT never sees isolated sources
        cfg = load_config(f"separator_{objective}", [
            f"method.model.num_channels={args.channels}", f"data.sample_rate={args.sample_rate}",
            f"data.clip_seconds={args.clip_seconds}", f"data.synthetic.n_clips={args.train_scenes}",
            "data.synthetic.seed=1", f"data.synthetic.background={str(args.background).lower()}",
            f"train.batch_size={args.batch_size * clips_per_input}", f"train.lr={args.lr}",
            f"train.warmup_steps={args.warmup_steps}",
            f"train.lr_schedule={'constant' if args.lr_decay == 'none' else 'cosine'}", "train.final_lr_fraction=0.05",
            f"train.steps={args.max_steps}", f"train.minutes={minutes}", "train.log_every=100",
            f"train.out_dir={out / objective}"])
        print(f"training {objective}: budget {minutes} min", flush=True)
        print(Trainer(cfg, progress=False).fit(), flush=True)

    world = SyntheticWorld(sample_rate=args.sample_rate, clip_seconds=4.0, max_events=4, background=False)
    test = world.generate(args.test_scenes, seed=12345)  # training pools use seed 1
    mixtures = test.sources.sum(1)
    result = {"sample_rate": args.sample_rate, "test_scenes": args.test_scenes, "test_clip_seconds": 4.0,
              "test_mixture": "sum of isolated synthetic events (1-4), no background", "models": {}}
    for objective in ("mixit", "pit"):
        ckpt = out / objective / "late.pt"
        if not ckpt.is_file():
            continue
        state = load_checkpoint(ckpt)
        model = load_separator(ckpt)
        train, data = state["config"]["train"], state["config"]["data"]
        inputs = train["batch_size"] // (2 if objective == "mixit" else 1)
        entry = {
            "params_m": round(count_parameters(model) / 1e6, 3),
            "channels": model.num_channels,
            "train_steps": state["step"],
            "train_minutes": round(state["elapsed_s"] / 60, 1),
            "train_examples": state["step"] * inputs,
            "train_clip_seconds": data["clip_seconds"],
            "train_batch_size": inputs,
            "train_learning_rate": train["lr"],
            "train_warmup_steps": train["warmup_steps"],
            "train_lr_decay": "none" if train["lr_schedule"] == "constant" else train["lr_schedule"],
            "train_scenes_background": args.background,
            "rtf_cpu": round(real_time_factor(model, args.sample_rate), 4),
            "rtf_threads": args.threads,
            "by_num_sources": evaluate_separator(model, mixtures, test.sources),
            "stages": {},
            "trainer": "shared trainer, separator method",
        }
        for stage in ("early", "middle"):
            if (out / objective / f"{stage}.pt").is_file():
                s_model = load_separator(out / objective / f"{stage}.pt")
                s_state = load_checkpoint(out / objective / f"{stage}.pt")
                summary = evaluate_separator(s_model, mixtures, test.sources)
                entry["stages"][stage] = {"step": s_state["step"], "minutes": round(s_state["elapsed_s"] / 60, 1),
                                          "msi_multi": summary.get("multi", {}).get("msi"),
                                          "msi_multi_best_channel": summary.get("multi", {}).get("msi_best_channel")}
        result["models"][objective] = entry
        print(objective, json.dumps(entry, indent=1), flush=True)
        if objective == "mixit" and args.figure:
            counts = (test.sources.pow(2).sum(-1) > 0).sum(1)
            i = int(torch.nonzero(counts == 3)[0]) if (counts == 3).any() else 0
            spectrogram_figure(args.figure, model, mixtures[i], test.sources[i], args.sample_rate,
                               f"MixIT separator ({entry['train_minutes']} min CPU): mixture, true sources, channels")
    result["device"] = "cpu"
    result["command"] = shlex.join(["python", *sys.argv])
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
