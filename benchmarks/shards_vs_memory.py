"""Does training from tar shards learn as well as training from the same clips in memory?

The demo recipe's synthetic world (2,000 scenes of 4 s) is built in memory, packed into shards
with `write_shards` (16-bit FLAC), and the demo is run twice per seed for the same number of
steps: once from memory, once from the shards (`data.source=shards`, shuffle buffer 1000).
Both are probed the demo's way (linear probe, held-out scenes). The seeds' spread is the noise
the difference is compared with.

    OMP_NUM_THREADS=2 python benchmarks/shards_vs_memory.py --steps 600 --seeds 0 1 --threads 2 \
        --json benchmarks/results/shards_vs_memory.json
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from audiorep.builders import build_source
from audiorep.config import load_config
from audiorep.data.shard_writer import write_shards
from audiorep.workflows.demo import run_demo


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--work", default=None, help="keep the shards and runs here (default: a temporary folder)")
    p.add_argument("--json", help="write the figures to this file")
    p.add_argument("overrides", nargs="*", help="key=value overrides of the demo recipe (both runs)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(args.work or tempfile.mkdtemp(prefix="shards_vs_memory_"))
    cfg = load_config("simclr_demo", args.overrides)
    t = time.perf_counter()
    packed = write_shards(build_source(cfg, progress=False), work / "shards", sample_rate=cfg.data.sample_rate,
                          max_samples=100, progress=False)
    shard_s = time.perf_counter() - t
    runs = []
    for seed in args.seeds:
        for data, extra in (("memory", []), ("shards", ["data.source=shards", f"data.path={work / 'shards'}"])):
            out = work / f"{data}_seed{seed}"
            res = run_demo(out, minutes=None, overrides=[f"train.steps={args.steps}", "train.minutes=null", f"seed={seed}",
                                                         *args.overrides, *extra], progress=False)
            row = {"data": data, "seed": seed, "steps": res["pretrain"]["steps"],
                   "seconds": res["pretrain"]["seconds"], "clips_per_second": res["pretrain"]["clips_per_second"]}
            for task, r in res["tasks"].items():
                row.update({f"{task}_{m}": round(v, 3) for m, v in r["models"].items()})
            runs.append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for data in ("memory", "shards"):
        mine = [r for r in runs if r["data"] == data]
        summary[data] = {k: round(statistics.mean(r[k] for r in mine), 3) for k in ("scene_ssl", "events_ssl")}
        summary[data]["clips_per_second"] = round(statistics.mean(r["clips_per_second"] for r in mine), 1)
        summary[data].update({f"{k}_spread": round(max(r[k] for r in mine) - min(r[k] for r in mine), 3)
                              for k in ("scene_ssl", "events_ssl")})
    diff = {k: round(summary["shards"][k] - summary["memory"][k], 3) for k in ("scene_ssl", "events_ssl")}
    noise = {k: max(summary[d][f"{k}_spread"] for d in summary) for k in ("scene_ssl", "events_ssl")}
    print("\n| data | seeds | steps | scene accuracy | event mAP | clips/s |\n|---|---|---|---|---|---|")
    for data in ("memory", "shards"):
        mine = [r for r in runs if r["data"] == data]
        print(f"| {data} | {len(mine)} | {args.steps} | {summary[data]['scene_ssl']:.3f} | "
              f"{summary[data]['events_ssl']:.3f} | {statistics.mean(r['clips_per_second'] for r in mine):.1f} |")
    print(f"shards - memory: scene {diff['scene_ssl']:+.3f}, events {diff['events_ssl']:+.3f}; "
          f"seed spread: scene {noise['scene_ssl']:.3f}, events {noise['events_ssl']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "command": f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python "
                       + shlex.join(["benchmarks/shards_vs_memory.py", *sys.argv[1:]]),
            "date": time.strftime("%Y-%m-%d"), "torch": torch.__version__, "threads": args.threads,
            "shards": {k: packed[k] for k in ("shards", "samples", "bytes")}, "shard_writing_seconds": round(shard_s, 1),
            "runs": runs, "summary": summary, "shards_minus_memory": diff, "seed_spread": noise,
            "within_noise": {k: abs(diff[k]) <= noise[k] for k in diff},
            "note": "The same 2,000 in-memory scenes of the demo recipe, trained directly and from 16-bit FLAC "
                    "shards; same steps, same seed pairs; probed on held-out scenes (linear probe). 'within_noise' "
                    "compares the difference of means with the largest spread between seeds.",
        }, indent=2))


if __name__ == "__main__":
    main()
