"""The audio-visual claims, each by one command that writes a table (markdown + JSON) and a plot.

Every run pretrains from the `audiovisual_demo` recipe (built-in world with its video track,
CNN width 16) for the same number of steps, then probes the frozen AUDIO encoder, linear, on
held-out scenes (700 train / 500 test) beside random init and log-mel statistics:

- `resolution` (C4): frames at 8, 16, 32 and 64 px, and audio-only (SimCLR, `simclr_demo`).
- `mixing` (C5): mixing across examples off and on (`method.mix_p`) at batch sizes 32 to 256.
  Each batch fits in memory on this CPU, so there is no accumulation: one batch, one step.
- `video_vs_audio` (C6): audio-visual vs audio-only (SimCLR) training of the same audio encoder,
  probed on the synthetic tasks and on real audio neither heard: FSDD digits (speakers held
  out), speech_commands_mini (speakers held out) and catmeows (cats held out).

    python benchmarks/audiovisual_claims.py resolution --steps 300 --json benchmarks/results/av_resolution.json \\
        --figure docs/img/av_resolution.png
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from claims_common import pretrain, probe, real_tasks


def runs_for(claim: str, args) -> dict:
    """{model name: (recipe, overrides)} for a claim."""
    av = "audiovisual_demo"
    if claim == "resolution":
        runs = {f"av_{px}px": (av, [f"data.video.size={px}"]) for px in args.sizes}
        runs["audio_only"] = ("simclr_demo", [])
    elif claim == "mixing":
        runs = {}
        for b in args.batch_sizes:
            runs[f"b{b}_no_mix"] = (av, [f"train.batch_size={b}", "method.mix_p=0.0"])
            runs[f"b{b}_mix"] = (av, [f"train.batch_size={b}", f"method.mix_p={args.mix_p}"])
    else:
        runs = {"audio_visual": (av, []), "audio_only": ("simclr_demo", [])}
    return runs


def figure(result: dict, path: str) -> None:
    """The claim's plot, drawn from its results (so `--replot RESULTS.json` redraws a saved run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    claim, scores = result["claim"], result["scores"]
    spread = {k.split(", std over")[0]: v for k, v in result.get("spread", {}).items()}
    tasks = list(scores) if claim == "video_vs_audio" else [t for t in scores if t.split(" (")[0] in ("scene", "events")]
    cols = min(len(tasks), 3)
    rows = -(-len(tasks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(tasks):]:
        ax.axis("off")
    for ax, task in zip(axes.flat, tasks):
        models = scores[task]
        if claim == "resolution":
            sizes = sorted(int(m[3:-2]) for m in models if m.startswith("av_"))
            ax.plot(sizes, [models[f"av_{px}px"] for px in sizes], "o-", label="audio-visual")
            ax.set_xscale("log", base=2)
            ax.set_xticks(sizes, [str(px) for px in sizes])
            ax.set_xlabel("frame size (px)")
            refs = {"audio only (SimCLR)": "audio_only", "random init": "random_init", "log-mel": "logmel"}
        elif claim == "mixing":
            sizes = sorted({int(m[1:].split("_")[0]) for m in models if m.startswith("b")})
            for kind, style, colour in (("no_mix", "o--", "tab:blue"), ("mix", "o-", "tab:red")):
                ax.plot(sizes, [models[f"b{b}_{kind}"] for b in sizes], style, color=colour,
                        label="mixing" if kind == "mix" else "no mixing")
            ax.set_xscale("log", base=2)
            ax.set_xticks(sizes, [str(b) for b in sizes])
            ax.set_xlabel("batch size")
            refs = {"random init": "random_init", "log-mel": "logmel"}
        else:
            names = list(models)
            err = [spread.get(task, {}).get(n, 0.0) for n in names]
            ax.bar(range(len(names)), [models[n] for n in names], yerr=err, capsize=3,
                   color=["tab:blue", "tab:purple", "tab:grey", "tab:orange"][: len(names)])
            ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=20, ha="right")
            refs = {}
        colours = {"audio_only": "tab:purple", "random_init": "tab:grey", "logmel": "tab:orange"}
        for label, key in refs.items():
            ax.axhline(models[key], ls=":", color=colours[key], label=label)
        ax.set_title(task)
        ax.grid(alpha=0.3)
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=8)
    fig.suptitle({"resolution": "C4: frame size (same steps)", "mixing": "C5: mixing across examples x batch size",
                  "video_vs_audio": "C6: audio-visual vs audio-only, same audio encoder and steps "
                                    "(bars: std over held-out groups)"}[claim], fontsize=10)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("claim", choices=["resolution", "mixing", "video_vs_audio"])
    p.add_argument("--replot", metavar="RESULTS_JSON", help="only redraw --figure from a saved results file")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32, 64])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    p.add_argument("--mix-p", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json")
    p.add_argument("--figure")
    p.add_argument("--out", default="runs/audiovisual_claims")
    p.add_argument("overrides", nargs="*", help="key=value overrides for every run")
    args = p.parse_intermixed_args()
    if args.replot:
        figure(json.loads(Path(args.replot).read_text()), args.figure)
        return

    from audiorep.builders import build_baselines, load_embedder
    from audiorep.eval.report import scores_table
    from audiorep.workflows.demo import held_out_tasks

    out = Path(args.out) / args.claim
    out.mkdir(parents=True, exist_ok=True)
    embedders, runs, cfg = {}, {}, None
    for name, (recipe, overrides) in runs_for(args.claim, args).items():
        checkpoint, runs[name], run_cfg = pretrain(recipe, args.steps, out / name,
                                                   [f"seed={args.seed}", *overrides, *args.overrides])
        embedders[name] = load_embedder(checkpoint)
        cfg = cfg or run_cfg
        print(name, json.dumps(runs[name]), flush=True)
    embedders.update(build_baselines(cfg, seed=args.seed))
    tasks = held_out_tasks(cfg, 700, 500, progress=False)
    if args.claim == "video_vs_audio":
        tasks += real_tasks(out)
    summary = probe(embedders, tasks, args.seed)
    result = {"claim": args.claim, "steps": args.steps, "pretrain": runs,
              "scores": {f"{t} ({r['metric']})": r["models"] for t, r in summary.items()},
              "spread": {f"{t} ({r['metric']}), std over {r['n_folds']} folds": r["std"]
                         for t, r in summary.items() if r["n_folds"] > 1},
              "command": shlex.join(["python", *sys.argv])}
    print(scores_table(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.figure:
        figure(result, args.figure)


if __name__ == "__main__":
    main()
