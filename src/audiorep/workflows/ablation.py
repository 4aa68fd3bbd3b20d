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

from audiorep.builders import build_baselines, load_embedder
from audiorep.config import load_config
from audiorep.eval.evaluate import evaluate
from audiorep.eval.report import command_line, scores_table, summarise
from audiorep.eval.tasks import load_tasks
from audiorep.train.trainer import Trainer
from audiorep.workflows.demo import held_out_tasks


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
    runs, models, cfg = {}, {}, None
    for name, variant in variants(separators).items():
        if only and name not in only:
            continue
        cfg = load_config(config, variant + budget + [f"train.out_dir={out / name}"] + list(overrides or []))
        print(f"[{name}] pretraining for {minutes} min" if steps is None else f"[{name}] pretraining for {steps} steps")
        summary = Trainer(cfg, progress=progress).fit()
        runs[name] = {k: summary[k] for k in ("steps", "seconds", "clips_per_second")}
        models[name] = load_embedder(summary["checkpoint"])
    models.update(build_baselines(cfg))
    if probe_tasks:
        tasks = [t for spec in probe_tasks for t in load_tasks(spec, progress)]
    else:
        tasks = held_out_tasks(cfg, probe_train, probe_test, progress)
    rows = evaluate(models, tasks, probes=("linear",), out_dir=out / "probe", cache_dir=out / "probe" / "cache",
                    batch_size=64, plots=False, seed=cfg.seed, progress=progress)
    result = {"tasks": summarise(rows), "pretrain": runs, "budget_minutes": minutes, "budget_steps": steps,
              "separators": list(separators), "config": config, "overrides": list(overrides or []),
              "command": command_line(), "results": rows}
    (out / "ablation.json").write_text(json.dumps(result, indent=2))
    (out / "ablation.md").write_text(ablation_markdown(result))
    return result


def ablation_markdown(result: dict) -> str:
    runs = result["pretrain"]
    extra = {"steps": {n: str(r["steps"]) for n, r in runs.items()},
             "minutes": {n: f"{r['seconds'] / 60:.1f}" for n, r in runs.items()}}
    budget = (f"{result['budget_minutes']} min" if result.get("budget_steps") is None
              else f"{result['budget_steps']} steps")
    return (scores_table(result["tasks"], rows_are="models", first_column="variant", extra_columns=extra)
            + f"\nEqual budget: {budget} of pretraining per variant.\n")
