"""The separation-based SSL ablation: each variant pretrained under one equal budget, then
probed on held-out scenes beside random-init and log-mel baselines, in one table.

Variants (issue: "mixture-only views; + separated views from one converged separator;
+ several convergence states; + coincidence prediction; joint"):

| variant | separators | similarity | coincidence |
|---|---|---|---|
| mixture_only | none | NT-Xent | - |
| separated_converged | the last (converged) checkpoint | NT-Xent | - |
| separated_multi_state | all checkpoints | NT-Xent | - |
| coincidence | all checkpoints | - | yes |
| joint | all checkpoints | NT-Xent | yes |
"""

from __future__ import annotations

import json
from pathlib import Path

from audiorep.config import load_config
from audiorep.demo import evaluate_embedders, held_out_scenes
from audiorep.eval.baselines import LogMelStatsEmbedder
from audiorep.models.embedder import load_embedder, random_init_embedder
from audiorep.train.trainer import Trainer


def variants(separators: list[str]) -> dict[str, list[str]]:
    every = json.dumps(list(separators))
    return {
        "mixture_only": ["method.separators=[]", "method.coincidence_weight=0"],
        "separated_converged": [f"method.separators={json.dumps(separators[-1:])}", "method.coincidence_weight=0"],
        "separated_multi_state": [f"method.separators={every}", "method.coincidence_weight=0"],
        "coincidence": [f"method.separators={every}", "method.similarity=none", "method.coincidence_weight=1"],
        "joint": [f"method.separators={every}", "method.coincidence_weight=1"],
    }


def run_ablation(out, separators: list[str], minutes: float, config: str = "separation_ssl_demo", overrides=None,
                 only: list[str] | None = None, probe_train: int = 700, probe_test: int = 500,
                 progress: bool = True) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs, embedders, cfg = {}, {}, None
    for name, variant in variants(separators).items():
        if only and name not in only:
            continue
        cfg = load_config(config, variant + [f"train.minutes={minutes}", f"train.out_dir={out / name}"] + list(overrides or []))
        print(f"[{name}] pretraining for {minutes} min")
        summary = Trainer(cfg, progress=progress).fit()
        runs[name] = {k: summary[k] for k in ("steps", "seconds", "clips_per_second")}
        embedders[name] = load_embedder(summary["checkpoint"])
    embedders["random_init"] = random_init_embedder(cfg=cfg, seed=cfg.seed)
    embedders["logmel"] = LogMelStatsEmbedder(cfg.data.sample_rate, cfg.frontend.n_mels, cfg.frontend.hop_ms)
    audio, events, scene, _ = held_out_scenes(cfg, probe_train + probe_test, progress)
    tasks = evaluate_embedders(embedders, audio, events, scene, probe_train, seed=cfg.seed)
    result = {"tasks": tasks, "pretrain": runs, "budget_minutes": minutes, "separators": list(separators)}
    (out / "ablation.json").write_text(json.dumps(result, indent=2))
    (out / "ablation.md").write_text(ablation_markdown(result))
    return result


def ablation_markdown(result: dict) -> str:
    tasks = result["tasks"]
    names = list(next(iter(tasks.values()))["models"])
    lines = ["| variant | " + " | ".join(f"{t} ({r['metric']})" for t, r in tasks.items()) + " | steps |",
             "|---|" + "---|" * (len(tasks) + 1)]
    for name in names:
        steps = result["pretrain"].get(name, {}).get("steps", "-")
        lines.append(f"| {name} | " + " | ".join(f"{r['models'][name]:.3f}" for r in tasks.values()) + f" | {steps} |")
    return "\n".join(lines) + f"\n\nEqual budget: {result['budget_minutes']} min of pretraining per variant.\n"
