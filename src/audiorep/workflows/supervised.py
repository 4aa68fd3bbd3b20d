"""The fully supervised reference: the recipe's encoder trained with a task's labels, then
frozen and probed exactly as every self-supervised encoder is.

For each fold of the task one model is trained, by the shared `Trainer` with the
`supervised` method, on that fold's train + valid clips (what the linear probe trains on),
so the fold's test clips never reach the encoder that embeds them. Its embedder then embeds
every clip of the task the way `evaluate` does (`EmbeddingCache`), and `evaluate_embeddings`
probes that fold alone; the folds' scores are combined into rows with the keys of
`evaluate_embeddings` (mean ± std over folds), under the model name "supervised".
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import numpy as np

from audiorep.builders import load_embedder, resolve
from audiorep.config import Config, config_from_dict
from audiorep.data.sources import ArraySource
from audiorep.eval import metrics
from audiorep.eval.embedding_cache import EmbeddingCache, task_clips
from audiorep.eval.evaluate import evaluate_embeddings
from audiorep.eval.tasks import Task
from audiorep.train.trainer import Trainer

MODEL_NAME = "supervised"


def supervised_config(cfg: Config, task: Task, out_dir, steps: int | None = None, minutes: float | None = None,
                      seed: int = 0, method: dict | None = None) -> Config:
    """`cfg` (its front-end, encoder, data rate and training keys) with the method section
    replaced by the supervised one for `task`; `method` adds its other keys (label_smoothing,
    chains). Training crops are the task's clip length (the recipe's when the task has none).
    `steps` alone lifts the recipe's wall-clock budget; the online probe is off (the folds'
    probes are the measurement)."""
    tree = cfg.to_dict()
    tree["method"] = {**(method or {}), "name": "supervised", "n_classes": task.n_classes,
                      "multilabel": task.multilabel}
    tree["seed"] = seed
    tree["data"]["clip_seconds"] = task.clip_seconds or cfg.data.clip_seconds
    train = tree["train"]
    train["online_probe"]["every_steps"] = 0
    train["out_dir"] = str(out_dir)
    if steps is not None:
        train["steps"], train["minutes"] = steps, minutes
    elif minutes is not None:
        train["minutes"] = minutes
    return resolve(config_from_dict(tree))  # the method's keys checked now, not at its first fold


def labelled_source(task: Task, sample_rate: int) -> ArraySource:
    """Every clip of the task in memory at `sample_rate`, with its `label` (class index, or
    multi-hot for multi-label tasks) as a per-clip field; record i is clip i of the task."""
    targets = np.asarray(task.targets, dtype=np.float32 if task.multilabel else np.int64)
    return ArraySource(task_clips(task, sample_rate), sample_rate, fields={"label": targets},
                       field_rates={"label": 0})


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "fold"


def supervised_reference(cfg: Config, task: Task, out_dir, steps: int | None = None, minutes: float | None = None,
                         seed: int = 0, progress: bool = True, probes=("linear",),
                         method: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Train one supervised encoder per fold of `task` and probe it on that fold's test clips.

    Returns (rows as `evaluate_embeddings` gives them, one per probe and metric, combined
    over folds; runs: per fold its steps, training and wall seconds, clip counts and
    checkpoint). Checkpoints go to OUT_DIR/<task>/<k>-<fold>/."""
    out_dir = Path(out_dir)
    fold_cfgs = [supervised_config(cfg, task, out_dir / _slug(task.name) / f"{k}-{_slug(fold.name)}", steps, minutes,
                                   seed, method) for k, fold in enumerate(task.folds)]  # checked before clips load
    labelled = labelled_source(task, cfg.data.sample_rate)
    per_fold: dict[str, list[dict]] = {probe: [] for probe in probes}
    runs = []
    for k, fold in enumerate(task.folds):
        t0 = time.time()
        seen = np.concatenate([fold.train, fold.valid])  # what the linear probe trains on, too
        if progress:
            print(f"[{task.name} {k + 1}/{len(task.folds)}] training on {len(seen)} labelled clips of {fold.name}")
        trainer = Trainer(fold_cfgs[k], source=labelled.subset(seen), online_probe=None, progress=progress)
        summary = trainer.fit()
        embedder = load_embedder(summary["checkpoint"], device=trainer.device)
        cache = EmbeddingCache(None, batch_size=64, device=trainer.device, progress=progress)
        x = cache.get(embedder, task, MODEL_NAME)  # every clip; only this fold's test clips are scored
        rows, _ = evaluate_embeddings(x, dataclasses.replace(task, folds=[fold]), MODEL_NAME, probes, seed)
        for probe in probes:
            per_fold[probe].append({r["metric"]: r["mean"] for r in rows if r["probe"] == probe})
        runs.append({"task": task.name, "fold": fold.name, "steps": summary["steps"],
                     "train_seconds": summary["seconds"], "wall_seconds": round(time.time() - t0, 2),
                     "train_clips": len(seen), "test_clips": len(fold.test),
                     "clips_seen": summary["steps"] * trainer.cfg.train.batch_size,
                     "checkpoint": summary["checkpoint"]})
    rows = []
    for probe in probes:
        for name, s in metrics.summarise_folds(per_fold[probe]).items():
            rows.append({"task": task.name, "model": MODEL_NAME, "probe": probe, "metric": name, "mean": s["mean"],
                         "std": s["std"], "n_folds": s["n"],
                         "folds": [r[name] for r in per_fold[probe] if name in r]})
    return rows, runs
