"""The demo: generate the synthetic world, pretrain, and measure on clips never trained on.

Pretraining sees only unlabelled clips of one seed range; the probe clips (labelled, for a
linear probe's train and test splits) come from other seeds, so every score is on data the
representation never saw. The pretrained encoder is compared with the same encoder at random
initialisation and with log-mel statistics, by the same probe code.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from audiorep.builders import generate_synthetic_audio
from audiorep.config import load_config
from audiorep.eval.baselines import LogMelStatsEmbedder
from audiorep.eval.probe import linear_probe
from audiorep.models.embedder import load_embedder, random_init_embedder
from audiorep.train.trainer import Trainer

TASKS = {"scene": ("accuracy", False), "events": ("mAP", True)}


@torch.no_grad()
def embed_all(embedder, audio: torch.Tensor, batch_size: int = 64, device="cpu") -> torch.Tensor:
    embedder = embedder.to(device).eval()
    return torch.cat([embedder(audio[i : i + batch_size].to(device)).float().cpu()
                      for i in range(0, len(audio), batch_size)])


def held_out_scenes(cfg, n: int, progress: bool = True):
    """Labelled synthetic scenes from seeds pretraining never uses: (audio, events, scene, world)."""
    s = cfg.data.synthetic
    audio, _, events, scene, world = generate_synthetic_audio(
        n, seed=s.seed + 10_000, sample_rate=cfg.data.sample_rate, clip_seconds=s.clip_seconds,
        max_events=s.max_events, progress=progress, with_labels=True)
    return audio, events, scene, world


def evaluate_embedders(embedders: dict, audio, events, scene, n_train: int, seed: int = 0) -> dict:
    """Linear-probe scores on scene (accuracy) and events (mAP) for each embedder."""
    results = {task: {"metric": metric, "models": {}} for task, (metric, _) in TASKS.items()}
    for name, embedder in embedders.items():
        x = embed_all(embedder, audio)
        for task, (metric, multilabel) in TASKS.items():
            y = events.numpy() if multilabel else scene.numpy()
            scores = linear_probe(x[:n_train], y[:n_train], x[n_train:], y[n_train:], multilabel=multilabel, seed=seed)
            results[task]["models"][name] = round(float(scores[metric]), 4)
    return results


def results_markdown(results: dict) -> str:
    models = list(next(iter(results["tasks"].values()))["models"])
    lines = ["| task | metric | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
    for task, r in results["tasks"].items():
        best = max(r["models"].values())
        cells = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in r["models"].values()]
        lines.append(f"| {task} | {r['metric']} | " + " | ".join(cells) + " |")
    p = results["pretrain"]
    lines += ["", f"Pretraining: {p['method']}, {p['steps']} steps in {p['seconds']:.0f} s "
                  f"({p['clips_per_second']:.1f} clips/s). Probe: linear, {results['probe']['train_clips']} train / "
                  f"{results['probe']['test_clips']} test clips from scenes never used in pretraining."]
    return "\n".join(lines) + "\n"


def plot_results(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(results["tasks"])
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.4))
    for ax, task in zip(axes, tasks):
        r = results["tasks"][task]
        names, values = list(r["models"]), list(r["models"].values())
        bars = ax.bar(names, values, color=["#2b7bba", "#aaaaaa", "#e08a3c"][: len(names)])
        ax.bar_label(bars, fmt="%.3f")
        ax.set_ylim(0, 1)
        ax.set_title(f"{task} ({r['metric']}, held-out clips)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_demo(out: str | Path, minutes: float = 5.0, config: str = "simclr_demo", overrides=None,
             probe_train: int = 700, probe_test: int = 500, progress: bool = True) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    overrides = [f"train.minutes={minutes}", f"train.out_dir={out / 'pretrain'}"] + list(overrides or [])
    cfg = load_config(config, overrides)
    t0 = time.time()
    print(f"[1/3] pretraining {cfg.method['name']} on {cfg.data.synthetic.n_clips} synthetic scenes "
          f"(budget {minutes} min)")
    summary = Trainer(cfg, progress=progress).fit()

    print(f"[2/3] generating {probe_train + probe_test} held-out labelled scenes for the probe")
    audio, events, scene, world = held_out_scenes(cfg, probe_train + probe_test, progress)

    print("[3/3] probing frozen embeddings: pretrained vs random init vs log-mel statistics")
    embedders = {
        "ssl": load_embedder(summary["checkpoint"]),
        "random_init": random_init_embedder(cfg=cfg, seed=cfg.seed),
        "logmel": LogMelStatsEmbedder(cfg.data.sample_rate, cfg.frontend.n_mels, cfg.frontend.hop_ms),
    }
    tasks = evaluate_embedders(embedders, audio, events, scene, probe_train, seed=cfg.seed)
    results = {
        "tasks": tasks,
        "pretrain": {k: summary[k] for k in ("method", "steps", "seconds", "clips_per_second")},
        "probe": {"kind": "linear", "train_clips": probe_train, "test_clips": probe_test,
                  "classes": list(world.class_names), "scenes": list(world.scene_names)},
        "demo_seconds": round(time.time() - t0, 1),
        "checkpoint": summary["checkpoint"],
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(results_markdown(results))
    plot_results(results, out / "results.png")
    return results
