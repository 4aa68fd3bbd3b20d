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


def run_ablation(out, separators: list[str], minutes: float | None = None, config: str = "separation_ssl_demo",
                 overrides=None, only: list[str] | None = None, probe_train: int = 700, probe_test: int = 500,
                 progress: bool = True, steps: int | None = None, probe_tasks: list[str] | None = None) -> dict:
    """Pretrain each variant under the same budget (`minutes` of wall clock, or `steps`), then probe.

    Equal steps compare views; equal minutes also charge the separation variants for running
    their separators. `probe_tasks` (task specs such as `fsdd=PATH`) replaces the held-out
    synthetic scenes with the evaluation suite's tasks and folds (e.g. speaker-independent).
    """
    if (minutes is None) == (steps is None):
        raise ValueError("give exactly one budget: minutes or steps")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    budget = [f"train.minutes={minutes}"] if steps is None else ["train.minutes=null", f"train.steps={steps}"]
    runs, embedders, cfg = {}, {}, None
    for name, variant in variants(separators).items():
        if only and name not in only:
            continue
        cfg = load_config(config, variant + budget + [f"train.out_dir={out / name}"] + list(overrides or []))
        print(f"[{name}] pretraining for {minutes} min" if steps is None else f"[{name}] pretraining for {steps} steps")
        summary = Trainer(cfg, progress=progress).fit()
        runs[name] = {k: summary[k] for k in ("steps", "seconds", "clips_per_second")}
        embedders[name] = load_embedder(summary["checkpoint"])
    embedders["random_init"] = random_init_embedder(cfg=cfg, seed=cfg.seed)
    embedders["logmel"] = LogMelStatsEmbedder(cfg.data.sample_rate, cfg.frontend.n_mels, cfg.frontend.hop_ms)
    if probe_tasks:
        tasks = probe_on_tasks(embedders, probe_tasks, out / "probe", progress)
    else:
        audio, events, scene, _ = held_out_scenes(cfg, probe_train + probe_test, progress)
        tasks = evaluate_embedders(embedders, audio, events, scene, probe_train, seed=cfg.seed)
    result = {"tasks": tasks, "pretrain": runs, "budget_minutes": minutes, "budget_steps": steps,
              "separators": list(separators), "config": config, "overrides": list(overrides or [])}
    (out / "ablation.json").write_text(json.dumps(result, indent=2))
    (out / "ablation.md").write_text(ablation_markdown(result))
    return result


def probe_on_tasks(embedders: dict, specs: list[str], out: Path, progress: bool = True) -> dict:
    """Linear probe on evaluation-suite tasks (their own folds): {task: {metric, models, std}}."""
    from audiorep.eval.evaluate import evaluate
    from audiorep.eval.tasks import load_tasks

    tasks = [t for spec in specs for t in load_tasks(spec)]
    primary = {t.name: ("accuracy" if t.primary_metric == "pitch_accuracy" else t.primary_metric) for t in tasks}
    rows = evaluate(embedders, tasks, probes=("linear",), out_dir=out, cache_dir=out / "cache", plots=False,
                    progress=progress)
    result = {t.name: {"metric": primary[t.name], "models": {}, "std": {}} for t in tasks}
    for r in rows:
        if r["metric"] == primary[r["task"]]:
            result[r["task"]]["models"][r["model"]] = round(float(r["mean"]), 4)
            result[r["task"]]["std"][r["model"]] = round(float(r["std"]), 4)
    return result


def ablation_markdown(result: dict) -> str:
    tasks = result["tasks"]
    names = list(next(iter(tasks.values()))["models"])
    lines = ["| variant | " + " | ".join(f"{t} ({r['metric']})" for t, r in tasks.items()) + " | steps | minutes |",
             "|---|" + "---|" * (len(tasks) + 2)]
    for name in names:
        run = result["pretrain"].get(name, {})
        steps, minutes = run.get("steps", "-"), (f"{run['seconds'] / 60:.1f}" if "seconds" in run else "-")
        cells = [f"{r['models'][name]:.3f}" + (f" ± {r['std'][name]:.3f}" if r.get("std") else "")
                 for r in tasks.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {steps} | {minutes} |")
    budget = (f"{result['budget_minutes']} min" if result.get("budget_steps") is None
              else f"{result['budget_steps']} steps")
    return "\n".join(lines) + f"\n\nEqual budget: {budget} of pretraining per variant.\n"
