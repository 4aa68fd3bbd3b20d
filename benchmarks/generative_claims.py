"""C7 by one command: contrastive and generative representations against a fully supervised
model of the same encoder, random init and log-mel statistics, on one linear probe.

Per track, every self-supervised row gets the same wall-clock budget (`--minutes`):
- contrastive: SimCLR, `simclr_demo` (CNN width 16);
- generative: `generative_demo` (k-means tokens -> causal transformer; the hidden states of
  `encoder.layer`);
- both: the two embeddings side by side (`ConcatEmbedder`), probed as one;
- supervised: the contrastive row's CNN trained with the task's labels on each fold's training
  split (`audiorep.workflows.supervised`), `--supervised-minutes` (or `--supervised-steps`) per
  fold, then the same probe on that fold's test split;
- random init of each architecture, and log-mel statistics.

Tracks: `synthetic` pretrains on the built-in world and probes held-out scenes (scene type and
events); `real` pretrains on `../shared/data/pool_manifest.csv` (4 h, no labels) and probes FSDD
digits (speakers held out), speech_commands_mini (speakers held out) and catmeows (cats held
out), none of which is in the pool. The synthetic track also probes every layer of the
generative model (`--layers`), to show where its representation lives.

    python benchmarks/generative_claims.py --tracks synthetic real --minutes 5 \\
        --json benchmarks/results/c7.json --figure docs/img/c7.png
    python benchmarks/generative_claims.py --merge A.json B.json --json C.json --figure F.png
    python benchmarks/generative_claims.py --variants base= k1024=encoder.codebook_size=1024 --minutes 4
"""

from __future__ import annotations

import argparse
import copy
import json
import shlex
import sys
import time
from pathlib import Path

from claims_common import SHARED, probe, real_tasks

ROWS = ("contrastive", "generative", "both", "supervised", "random_init_cnn", "random_init_token_lm",
        "logmel")


def pretrain(recipe: str, minutes: float, out: Path, overrides: list[str]):
    from audiorep.config import load_config
    from audiorep.train.trainer import Trainer

    cfg = load_config(recipe, [f"train.minutes={minutes}", "train.steps=1000000", f"train.out_dir={out}",
                               *overrides])
    t = time.time()
    summary = Trainer(cfg, progress=sys.stderr.isatty()).fit()
    budget = {"recipe": recipe, "overrides": overrides, "minutes": minutes, "steps": summary["steps"],
              "wall_s": round(time.time() - t, 1), "clips_per_second": summary["clips_per_second"]}
    return summary["checkpoint"], budget, cfg


def supervised_rows(cfg, tasks, out: Path, steps: int, seed: int, minutes: float | None = None):
    """The same CNN trained with labels on each fold: `minutes` per fold when given (steps
    unbounded), else `steps` per fold."""
    from audiorep.workflows.supervised import supervised_reference

    rows, budgets = [], {}
    for task in tasks:
        t = time.time()
        budget = {"steps": 1_000_000, "minutes": minutes} if minutes else {"steps": steps}
        task_rows, runs = supervised_reference(cfg, task, out / f"supervised_{task.name}", seed=seed, progress=False,
                                               **budget)
        rows += task_rows
        budgets[task.name] = {"steps_per_fold": [r["steps"] for r in runs], "minutes_per_fold": minutes,
                              "folds": len(runs), "wall_s": round(time.time() - t, 1), "runs": runs}
        print("supervised", task.name, json.dumps(budgets[task.name]["wall_s"]), flush=True)
    return rows, budgets


def token_diagnostics(generative):
    """Two probes of what the tokens keep, without the transformer: a bag of tokens (each
    clip's normalised token histogram) and log-mel statistics of the tokenized spectrogram
    (each patch replaced by its k-means centroid, then mean and std per band, as the log-mel
    row computes them on the real spectrogram). They bound what the codebook passes on."""
    import torch
    from torch import nn

    class BagOfTokens(nn.Module):
        def __init__(self, embedder):
            super().__init__()
            self.embedder, self.sample_rate = embedder, embedder.sample_rate
            self.embedding_size = embedder.encoder.tokenizer.codebook_size

        def forward(self, wave):
            tokens = self.embedder.encoder.tokens(self.embedder.frontend(wave))
            hist = torch.zeros(len(tokens), self.embedding_size, device=tokens.device)
            return hist.scatter_add_(1, tokens, torch.ones_like(tokens, dtype=hist.dtype)) / tokens.shape[1]

    class TokenizedLogMelStats(BagOfTokens):
        def __init__(self, embedder):
            super().__init__(embedder)
            self.embedding_size = 2 * embedder.frontend.n_features

        def forward(self, wave):
            tok = self.embedder.encoder.tokenizer
            mel = self.embedder.frontend(wave)
            patches = tok.centroids[tok.encode(mel)] * tok.std + tok.mean  # [B, N, p * F], frame-major
            frames = patches.reshape(len(mel), -1, tok.n_features)  # [B, N * p, F]
            return torch.cat([frames.mean(1), frames.std(1, unbiased=False)], dim=1)

    if generative.encoder.tokenizer.name != "kmeans":
        return {"bag_of_tokens": BagOfTokens(generative)}
    return {"bag_of_tokens": BagOfTokens(generative), "tokenized_logmel_stats": TokenizedLogMelStats(generative)}


def layer_rows(generative, tasks, seed: int, depth: int) -> dict:
    """The generative model probed at every layer (0 = token embeddings, depth = last block)."""
    out = {}
    for layer in range(depth + 1):
        model = copy.deepcopy(generative)
        model.encoder.layer = layer
        out[f"generative_layer{layer}"] = model
    return probe(out, tasks, seed)


def run_track(track: str, args) -> dict:
    from audiorep.builders import build_baseline, load_embedder, random_init_like
    from audiorep.eval.evaluate import evaluate
    from audiorep.eval.report import summarise
    from audiorep.models.concat_embedder import ConcatEmbedder
    from audiorep.workflows.demo import held_out_tasks

    out = Path(args.out) / track
    out.mkdir(parents=True, exist_ok=True)
    data = [] if track == "synthetic" else ["data.source=manifest", f"data.path={SHARED / 'pool_manifest.csv'}"]
    seed = [f"seed={args.seed}"]
    ckpt_c, budget_c, cfg_c = pretrain("simclr_demo", args.minutes, out / "contrastive", [*seed, *data])
    ckpt_g, budget_g, cfg_g = pretrain("generative_demo", args.minutes, out / "generative",
                                       [*seed, *data, *args.generative])
    contrastive, generative = load_embedder(ckpt_c), load_embedder(ckpt_g)
    random_lm = random_init_like(ckpt_g, seed=args.seed)
    random_lm.encoder.tokenizer = copy.deepcopy(generative.encoder.tokenizer)  # fitted codebook, untrained LM
    models = {"contrastive": contrastive, "generative": generative, "both": ConcatEmbedder([contrastive, generative]),
              "random_init_cnn": random_init_like(ckpt_c, seed=args.seed),
              "random_init_token_lm": random_init_like(ckpt_g, seed=args.seed),
              "random_lm_fitted_tokens": random_lm, "logmel": build_baseline("logmel", cfg=cfg_c),
              **token_diagnostics(generative)}
    tasks = held_out_tasks(cfg_c, 700, 500, progress=False) if track == "synthetic" else real_tasks(out)
    rows = evaluate(models, tasks, probes=("linear",), batch_size=64, plots=False, seed=args.seed, progress=False)
    sup_rows, sup_budget = supervised_rows(cfg_c, tasks, out, args.supervised_steps, args.seed,
                                           args.supervised_minutes)
    summary = summarise(rows + sup_rows)
    result = {"track": track, "scores": {f"{t} ({r['metric']})": r["models"] for t, r in summary.items()},
              "std_over_folds": {f"{t} ({r['metric']})": r["std"] for t, r in summary.items() if r["n_folds"] > 1},
              "n_folds": {t: r["n_folds"] for t, r in summary.items()},
              "budget": {"contrastive": budget_c, "generative": budget_g, "supervised": sup_budget,
                         "tokenizer": _tokenizer_report(generative)}}
    if track == "synthetic" and args.layers:
        layers = layer_rows(generative, tasks, args.seed, cfg_g.encoder["depth"])
        result["generative_layers"] = {f"{t} ({r['metric']})": r["models"] for t, r in layers.items()}
    return result


def _tokenizer_report(embedder) -> dict:
    """Codebook usage and perplexity of the generative model's tokens on 200 held-out scenes."""
    import torch

    from audiorep.data.synthetic import generate_clips
    from audiorep.tokenizers.stats import codebook_stats

    clips = generate_clips(200, 777, embedder.sample_rate, 4.0, 4, progress=False)
    with torch.no_grad():
        tokens = embedder.encoder.tokens(embedder.frontend(torch.as_tensor(clips.audio)))
    stats = codebook_stats(tokens, embedder.encoder.tokenizer.codebook_size)
    return {k: float(v) for k, v in stats.items()}


def run_variants(args) -> dict:
    """Generative recipes side by side (same budget), each probed at every layer on the
    synthetic tasks: what the tokenizer, the context and the model size change."""
    from audiorep.builders import load_embedder
    from audiorep.workflows.demo import held_out_tasks

    out, tasks, results = Path(args.out) / "variants", None, {}
    for spec in args.variants:
        name, _, rest = spec.partition("=")
        overrides = [o for o in rest.split(",") if o]
        ckpt, budget, cfg = pretrain("generative_demo", args.minutes, out / name, [f"seed={args.seed}", *overrides])
        tasks = tasks or held_out_tasks(cfg, 700, 500, progress=False)
        embedder = load_embedder(ckpt)
        layers = layer_rows(embedder, tasks, args.seed, cfg.encoder["depth"])
        results[name] = {"budget": budget, "tokenizer": _tokenizer_report(embedder),
                         "layers": {f"{t} ({r['metric']})": r["models"] for t, r in layers.items()}}
        print(name, json.dumps(results[name]), flush=True)
    return results


def predictability(checkpoint: str, clips: int = 200) -> dict:
    """How much of next-token prediction is copying: on held-out scenes, the share of tokens
    equal to the one before, against the model's next-token accuracy and loss."""
    import torch
    import torch.nn.functional as F

    from audiorep.builders import load_embedder
    from audiorep.data.synthetic import generate_clips

    embedder = load_embedder(checkpoint)
    audio = torch.as_tensor(generate_clips(clips, 777, embedder.sample_rate, 4.0, 4, progress=False).audio)
    with torch.no_grad():
        tokens = embedder.encoder.tokens(embedder.frontend(audio))[:, : embedder.encoder.max_tokens]
        logits = embedder.encoder.lm(tokens)[:, :-1]
    following = tokens[:, 1:]
    return {"checkpoint": checkpoint, "clips": clips, "tokens_per_clip": int(tokens.shape[1]),
            "next_equals_current": float((following == tokens[:, :-1]).float().mean()),
            "model_next_token_accuracy": float((logits.argmax(-1) == following).float().mean()),
            "model_next_token_loss": float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), following.reshape(-1)))}


def table(results: list[dict]) -> str:
    """One markdown table: a row per representation, a column per task (both tracks)."""
    columns = [(r["track"], task) for r in results for task in r["scores"]]
    names = list(dict.fromkeys(m for r in results for t in r["scores"].values() for m in t))
    head = "| representation | " + " | ".join(f"{task} [{track}]" for track, task in columns) + " | budget |"
    lines = [head, "|---|" + "---|" * (len(columns) + 1)]
    for name in names:
        cells = []
        for track, task in columns:
            r = next(x for x in results if x["track"] == track)
            value = r["scores"][task].get(name)
            std = r.get("std_over_folds", {}).get(task, {}).get(name)
            best = max(r["scores"][task].values())
            text = "" if value is None else f"{value:.3f}" + (f" ± {std:.3f}" if std is not None else "")
            cells.append(f"**{text}**" if value is not None and value == best else text)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_budget(results, name)} |")
    return "\n".join(lines) + "\n"


def _budget(results: list[dict], name: str) -> str:
    parts = []
    for r in results:
        b = r["budget"]
        if name in ("contrastive", "generative"):
            parts.append(f"{r['track']}: {b[name]['steps']} steps, {b[name]['wall_s']:.0f} s")
        elif name == "both":
            parts.append(f"{r['track']}: the two above")
        elif name == "supervised":
            s = b["supervised"]
            parts.append(f"{r['track']}: " + ", ".join(_per_fold(t, v) for t, v in s.items()))
        elif name.startswith("random") or name == "logmel":
            return "no training" if name != "random_lm_fitted_tokens" else "k-means fit only"
        elif name in ("bag_of_tokens", "tokenized_logmel_stats"):
            return "the generative row's tokenizer, no transformer"
    return "; ".join(parts)


def _per_fold(task: str, budget: dict) -> str:
    steps = budget["steps_per_fold"]
    steps = [steps] * budget["folds"] if isinstance(steps, int) else steps
    spent = f"{min(steps)}-{max(steps)} steps" if min(steps) != max(steps) else f"{steps[0]} steps"
    if budget.get("minutes_per_fold"):
        spent = f"{budget['minutes_per_fold']:g} min ({spent})"
    return f"{task} {spent} x {budget['folds']} folds"


def figure(results: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(r, task) for r in results for task in r["scores"]]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.6), squeeze=False)
    colours = {"contrastive": "tab:blue", "generative": "tab:green", "both": "tab:cyan", "supervised": "black",
               "random_init_cnn": "tab:grey", "random_init_token_lm": "silver", "random_lm_fitted_tokens": "wheat",
               "logmel": "tab:orange", "bag_of_tokens": "tab:olive", "tokenized_logmel_stats": "gold"}
    for ax, (r, task) in zip(axes[0], panels):
        names = [n for n in colours if n in r["scores"][task]]
        std = r.get("std_over_folds", {}).get(task, {})
        ax.bar(range(len(names)), [r["scores"][task][n] for n in names], color=[colours[n] for n in names],
               yerr=[std.get(n, 0.0) for n in names], capsize=2)
        ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{task}\n[{r['track']}]", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("C7: contrastive, generative, both, supervised (same CNN), random init, log-mel; linear probe",
                 fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tracks", nargs="+", default=["synthetic", "real"], choices=["synthetic", "real"])
    p.add_argument("--minutes", type=float, default=5.0, help="wall-clock budget of each pretraining")
    p.add_argument("--supervised-steps", type=int, default=250, help="supervised steps per fold")
    p.add_argument("--supervised-minutes", type=float, default=None,
                   help="supervised wall-clock minutes per fold (instead of --supervised-steps)")
    p.add_argument("--generative", nargs="*", default=[], help="overrides for the generative recipe only")
    p.add_argument("--layers", action="store_true", help="also probe every layer of the generative model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--variants", nargs="+", metavar="NAME=KEY=VALUE,...",
                   help="only pretrain these generative variants and probe each layer on the synthetic tasks")
    p.add_argument("--predictability", metavar="CHECKPOINT",
                   help="only measure how often the next token repeats the current one, beside the model's accuracy")
    p.add_argument("--merge", nargs="+", metavar="RESULTS_JSON", help="only join saved track results")
    p.add_argument("--json")
    p.add_argument("--figure")
    p.add_argument("--out", default="runs/generative_claims")
    args = p.parse_args()
    command = shlex.join(["python", *sys.argv])
    if args.predictability:
        result = {**predictability(args.predictability), "command": command}
        print(json.dumps(result, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        return
    if args.variants:
        result = {"variants": run_variants(args), "command": command}
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        return
    if args.merge:
        saved = [json.loads(Path(f).read_text()) for f in args.merge]
        results = [t for s in saved for t in s["tracks"]]
        result = {"claim": "C7", "tracks": results, "command": command,
                  "commands_of_the_parts": [s["command"] for s in saved]}
    else:
        results = [run_track(track, args) for track in args.tracks]
        result = {"claim": "C7", "tracks": results, "command": command}
    result["table"] = table(results)
    print(result["table"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.figure:
        figure(results, args.figure)


if __name__ == "__main__":
    main()
