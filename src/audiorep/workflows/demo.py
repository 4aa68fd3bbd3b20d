"""The demo: generate the synthetic world, pretrain, and measure on clips never trained on.

Pretraining sees only unlabelled clips of one seed range; the probe clips (labelled, for a
linear probe's train and test splits) come from other seeds, so every score is on data the
representation never saw. The pretrained encoder is compared with the same encoder at random
initialisation and with log-mel statistics, through the evaluation package like any task.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from audiorep.builders import build_baselines, load_embedder
from audiorep.config import DEFAULT_RECIPE, Config, load_config
from audiorep.eval.evaluate import evaluate
from audiorep.eval.plots import plot_scores
from audiorep.eval.progress import stderr_is_terminal
from audiorep.eval.report import command_line, scores_table, summarise
from audiorep.eval.tasks import synthetic_tasks
from audiorep.train.trainer import Trainer

HELD_OUT_SEED_OFFSET = 10_000  # the probe's scenes: seeds pretraining never uses


def held_out_tasks(cfg: Config, n_train: int, n_test: int, progress: bool = True):
    """The synthetic world's scene and event tasks on scenes pretraining never saw."""
    s = cfg.data.synthetic
    return synthetic_tasks(n_train, n_test, s.seed + HELD_OUT_SEED_OFFSET, cfg.data.sample_rate, s.clip_seconds,
                           s.max_events, progress=progress)


def run_demo(out: str | Path, minutes: float | None = None, config: str = DEFAULT_RECIPE, overrides=None,
             probe_train: int = 700, probe_test: int = 500, progress: bool = True) -> dict:
    """Pretrain, then probe; `minutes` (when given) overrides the recipe's wall-clock budget."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    overrides = ([f"train.minutes={minutes}"] if minutes is not None else []) + [f"train.out_dir={out / 'pretrain'}"] \
        + list(overrides or [])
    cfg = load_config(config, overrides)
    t0 = time.time()
    budget = f"{cfg.train.steps} steps" + (f" or {cfg.train.minutes:g} min" if cfg.train.minutes else "")
    print(f"[1/3] pretraining {cfg.method['name']} on {cfg.data.synthetic.n_clips} synthetic scenes (budget {budget})")
    summary = Trainer(cfg, progress=progress).fit()

    print(f"[2/3] generating {probe_train + probe_test} held-out labelled scenes for the probe")
    # the line above says what is happening; a bar only on a terminal (no second line in a log)
    tasks = held_out_tasks(cfg, probe_train, probe_test, progress and stderr_is_terminal())

    models = {"ssl": load_embedder(summary["checkpoint"]), **build_baselines(cfg)}
    print(f"[3/3] probing frozen embeddings: pretrained vs random init vs log-mel statistics ({len(models)} models: "
          f"each embeds the {probe_train + probe_test} scenes once, then fits a linear probe per task)")
    t3 = time.time()
    rows = evaluate(models, tasks, probes=("linear",), batch_size=64, plots=False, seed=cfg.seed, progress=progress)
    print(f"      probed in {time.time() - t3:.0f} s")
    results = {
        "tasks": summarise(rows),
        "pretrain": {k: summary[k] for k in ("method", "steps", "seconds", "clips_per_second")},
        "probe": {"kind": "linear", "train_clips": probe_train, "test_clips": probe_test,
                  "classes": tasks[1].class_names, "scenes": tasks[0].class_names},
        "demo_seconds": round(time.time() - t0, 1),
        "checkpoint": summary["checkpoint"],
        "command": command_line(),
        "results": rows,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    p = results["pretrain"]
    (out / "results.md").write_text(
        scores_table(results["tasks"]) + f"\nPretraining: {p['method']}, {p['steps']} steps in {p['seconds']:.0f} s "
        f"({p['clips_per_second']:.1f} clips/s). Probe: linear, {probe_train} train / {probe_test} test clips from "
        "scenes never used in pretraining.\n")
    plot_scores(results["tasks"], out / "results.png")
    return results
