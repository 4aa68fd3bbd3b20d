"""How well separators split real speech: FSDD two-speaker digit mixtures (and single digits).

Each mixture sums two FSDD recordings (1 s, 8 kHz, two different speakers, levels within
+-3 dB of each other); a third of the inputs hold one recording only. Reports MSi (SI-SNR
improvement of the best channel per speaker) and single-source pass-through SI-SNR for each
checkpoint given (channels assigned to speakers one-to-one; the earlier best-channel MSi
beside it), e.g. a MixIT separator trained on unlabelled wake-word speech against one
trained on the synthetic world:

    python benchmarks/separation_fsdd.py --checkpoints runs/sep_speech/early.pt runs/sep_speech/middle.pt \
        runs/sep_speech/late.pt runs/sep_q/mixit/late.pt --json benchmarks/results/separation_fsdd.json
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

from audiorep.builders import load_separator
from audiorep.io.audio import load_audio
from audiorep.io.checkpoint import load_checkpoint
from audiorep.separation.metrics import evaluate_separator

FSDD = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd"


def fsdd_mixtures(root: Path, n: int, seed: int = 0, sample_rate: int = 8000) -> torch.Tensor:
    """Sources [n, 2, sample_rate]: two speakers per mixture; the first third have one source only."""
    rows = list(csv.DictReader(open(root / "manifest.csv")))
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2, sample_rate), np.float32)
    for i in range(n):
        a, b = rng.choice(len(rows), 2, replace=False)
        while rows[a]["speaker"] == rows[b]["speaker"]:
            b = rng.choice(len(rows))
        for k, j in enumerate((a, b)):
            x = load_audio(root / rows[j]["path"], sample_rate)[:sample_rate]
            x = x / (np.sqrt(np.mean(x**2)) + 1e-8) * 0.1 * 10 ** (rng.uniform(-3, 3) / 20 * k)
            out[i, k, : len(x)] = x
    out[: n // 3, 1] = 0.0
    return torch.from_numpy(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoints", nargs="+", required=True)
    p.add_argument("--data", default=str(FSDD))
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", dest="json_path")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    sources = fsdd_mixtures(Path(args.data), args.n)
    result = {"data": "FSDD, 2 different speakers per mixture (1 s, 8 kHz); a third single-speaker",
              "command": shlex.join(["python", *sys.argv]), "models": {}}
    print("| checkpoint | step | MSi 2 speakers | best-channel MSi | 1-speaker SI-SNR |\n|---|---|---|---|---|")
    for path in args.checkpoints:
        model = load_separator(path)
        if model.sample_rate != 8000:
            raise SystemExit(f"{path}: separator runs at {model.sample_rate} Hz; this benchmark uses FSDD's 8 kHz")
        scores = evaluate_separator(model, sources.sum(1), sources)
        step = load_checkpoint(path).get("step")
        result["models"][path] = {"step": step, **scores}
        print(f"| {path} | {step} | {scores['2']['msi']:.2f} dB | {scores['2']['msi_best_channel']:.2f} dB "
              f"| {scores['1']['single_source_si_snr']:.2f} dB |")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
