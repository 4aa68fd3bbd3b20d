"""What the pitch/timbre augmentations add over the basic chain, measured by linear probe.

Two settings, each pretraining SimCLR with the same encoder and the same number of steps for
both chains, then probing frozen embeddings on data never trained on:

- `synthetic`: pretrain on synthetic scenes; probe scene accuracy and event mAP on held-out scenes.
- `speech`: pretrain on the unlabelled wake-word recordings (../shared/data/wakewords, labels
  unused); probe FSDD digits leave-one-speaker-out and FSDD speaker ID (../shared/data/fsdd).

    python benchmarks/augment_ablation.py --setting synthetic --steps 300 --json ablation_synthetic.json
    python benchmarks/augment_ablation.py --setting speech --steps 300 --json ablation_speech.json
    python benchmarks/augment_ablation.py --setting speech --chains pitch_tempo timbre room --json families.json

Random-init and log-mel rows are computed by the same probe code. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

BASIC = [
    {"name": "random_crop", "seconds": 1.0},
    {"name": "gain", "db": [-10, 6]},
    {"name": "noise", "snr_db": [5, 40], "p": 0.5},
]
PITCH_TIMBRE = [
    {"name": "random_crop", "seconds": 1.0},
    {"name": "gain", "db": [-6, 6], "p": 0.8},
    {"name": "pitch_shift", "semitones": [-4, 4], "p": 0.5},
    {"name": "time_stretch", "rate": [0.8, 1.25], "p": 0.3},
    {"name": "eq", "bands": 3, "gain_db": [-12, 12], "p": 0.8},
    {"name": "one_of", "p": 0.3, "ops": [{"name": "lowpass"}, {"name": "highpass"}, {"name": "bandpass"}]},
    {"name": "reverb", "rt60": [0.2, 1.0], "p": 0.3},
    {"name": "noise", "snr_db": [5, 30], "p": 0.5},
    {"name": "polarity", "p": 0.5},
]
PITCH_TEMPO_OPS = [
    {"name": "pitch_shift", "semitones": [-4, 4], "p": 0.5},
    {"name": "time_stretch", "rate": [0.8, 1.25], "p": 0.3},
]
TIMBRE_OPS = [
    {"name": "eq", "bands": 3, "gain_db": [-12, 12], "p": 0.8},
    {"name": "one_of", "p": 0.3, "ops": [{"name": "lowpass"}, {"name": "highpass"}, {"name": "bandpass"}]},
]
ROOM_OPS = [{"name": "reverb", "rt60": [0.2, 1.0], "p": 0.3}]
#: chain name -> chain; the one-family chains add a family to the basic chain, after its gain
CHAINS = {
    "basic": BASIC,
    "pitch_timbre": PITCH_TIMBRE,
    "pitch_tempo": BASIC[:2] + PITCH_TEMPO_OPS + BASIC[2:],
    "timbre": BASIC[:2] + TIMBRE_OPS + BASIC[2:],
    "room": BASIC[:2] + ROOM_OPS + BASIC[2:],
}


def pretrain(chain: list, setting: str, steps: int, out: Path, seed: int, extra: list[str]) -> dict:
    from audiorep.config import load_config
    from audiorep.train.trainer import Trainer

    overrides = ["train.minutes=null", f"train.steps={steps}", f"train.out_dir={out}", f"seed={seed}",
                 f"method.wave_augment={json.dumps(chain)}"]
    if setting == "speech":
        overrides += ["data.source=manifest", f"data.path={SHARED / 'wakewords' / 'manifest.csv'}"]
    cfg = load_config("simclr_demo", overrides + extra)
    t = time.time()
    summary = Trainer(cfg, progress=True).fit()
    summary["wall_s"] = round(time.time() - t, 1)
    return summary, cfg


def probe(embedders: dict, tasks: list, seed: int) -> dict:
    """{task: {"metric", "models": {model: mean}, ...}} from the evaluation package's linear probe."""
    from audiorep.eval.evaluate import evaluate
    from audiorep.eval.report import summarise

    return summarise(evaluate(embedders, tasks, probes=("linear",), batch_size=64, plots=False, seed=seed))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--setting", choices=["synthetic", "speech"], default="synthetic")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chains", nargs="+", default=["basic", "pitch_timbre"], choices=sorted(CHAINS),
                   help="which chains to pretrain with (pitch_tempo, timbre, room: basic plus one family)")
    p.add_argument("--json")
    p.add_argument("--out", default="runs/augment_ablation")
    p.add_argument("overrides", nargs="*", help="key=value overrides of the simclr_demo recipe")
    args = p.parse_args()

    from audiorep.builders import build_baselines, load_embedder
    from audiorep.eval.report import scores_table
    from audiorep.eval.tasks import load_tasks
    from audiorep.workflows.demo import held_out_tasks

    embedders, runs, cfg = {}, {}, None
    for name in args.chains:
        chain = CHAINS[name]
        summary, cfg = pretrain(chain, args.setting, args.steps, Path(args.out) / args.setting / name, args.seed,
                                args.overrides)
        embedders[f"ssl_{name}"] = load_embedder(summary["checkpoint"])
        runs[name] = {k: summary[k] for k in ("steps", "wall_s", "clips_per_second")}
    embedders.update(build_baselines(cfg, seed=args.seed))
    tasks = held_out_tasks(cfg, 700, 500) if args.setting == "synthetic" else load_tasks(f"fsdd={SHARED / 'fsdd'}")
    summary = probe(embedders, tasks, args.seed)
    scores = {f"{task} ({r['metric']})": r["models"] for task, r in summary.items()}
    result = {"setting": args.setting, "steps": args.steps, "pretrain": runs, "scores": scores,
              "spread": {f"{task} ({r['metric']}), std over {r['n_folds']} folds": r["std"]
                         for task, r in summary.items() if r["n_folds"] > 1},
              "chains": {name: CHAINS[name] for name in args.chains},
              "command": shlex.join(["python", *sys.argv])}
    print(scores_table(summary))
    print(json.dumps(runs))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
