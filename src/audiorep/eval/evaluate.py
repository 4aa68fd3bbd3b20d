"""Evaluation from models and tasks to a results table: embeddings (cached) -> probe on
every fold -> metrics -> mean ± std over folds -> tables and plots.

Probes (see `audiorep.eval.probe`): `linear` trains on train + valid with a fixed penalty;
`mlp` trains on train, picks hidden size and learning rate on valid with early stopping, and
scores test once. Multi-label tasks are always sigmoid + BCE and scored with mAP, AUC, d'.
Pitch tasks also report pitch and chroma accuracy of the predicted MIDI note."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError
from audiorep.eval import metrics
from audiorep.eval.embedding_cache import EmbeddingCache
from audiorep.eval.probe import mlp_probe, run_linear_probe
from audiorep.eval.report import command_line, write_all
from audiorep.eval.tasks import Task

PROBES = ("linear", "mlp")


def _pitch_metrics(task: Task, y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    midi = np.array([float(c) for c in task.class_names])
    true, pred = midi[y_true], midi[scores.argmax(axis=1)]
    return {"pitch_accuracy": metrics.pitch_accuracy(true, pred), "chroma_accuracy": metrics.chroma_accuracy(true, pred)}


def run_probe(probe: str, x: np.ndarray, task: Task, fold, seed: int = 0, mlp_grid=None, mlp_max_epochs: int = 200):
    """One probe on one fold -> ProbeOutput (metrics on the fold's test split)."""
    y = task.targets
    if probe == "linear":
        train = np.concatenate([fold.train, fold.valid])
        out = run_linear_probe(x[train], y[train], x[fold.test], y[fold.test], task.multilabel, n_classes=task.n_classes, seed=seed)
    elif probe == "mlp":
        out = mlp_probe(x[fold.train], y[fold.train], x[fold.valid], y[fold.valid], x[fold.test], y[fold.test],
                        task.multilabel, n_classes=task.n_classes, grid=mlp_grid, max_epochs=mlp_max_epochs, seed=seed)
    else:
        raise ConfigError(f"probe {probe!r} is unknown; choose from {PROBES}")
    if task.pitch_task:
        out.metrics.update(_pitch_metrics(task, y[fold.test], out.scores))
    return out


def evaluate_embeddings(x: np.ndarray, task: Task, model_name: str, probes=("linear",), seed: int = 0,
                        mlp_grid=None, mlp_max_epochs: int = 200) -> tuple[list[dict], dict]:
    """Probe every fold; returns (result rows, {probe: (test indices, predicted class)})."""
    rows, predictions = [], {}
    for probe in probes:
        per_fold, test_idx, pred = [], [], []
        for fold in task.folds:
            out = run_probe(probe, x, task, fold, seed=seed, mlp_grid=mlp_grid, mlp_max_epochs=mlp_max_epochs)
            per_fold.append(out.metrics)
            test_idx.append(fold.test)
            pred.append(out.scores.argmax(axis=1))
        predictions[probe] = (np.concatenate(test_idx), np.concatenate(pred))
        for name, s in metrics.summarise_folds(per_fold).items():
            rows.append({"task": task.name, "model": model_name, "probe": probe, "metric": name,
                         "mean": s["mean"], "std": s["std"], "n_folds": s["n"],
                         "folds": [r[name] for r in per_fold if name in r]})
    return rows, predictions


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "model"


def evaluate(models: dict, tasks: list[Task], probes=("linear",), out_dir=None, cache_dir=None, batch_size: int = 32,
             device="cpu", plots: bool = True, map_method: str = "pca", seed: int = 0, progress: bool = True,
             mlp_grid=None, mlp_max_epochs: int = 200, log=print) -> list[dict]:
    """Every model on every task with every probe; writes results.{md,csv,json} and PNGs to out_dir."""
    cache = EmbeddingCache(cache_dir, batch_size=batch_size, device=device, progress=progress)
    rows = []
    for model_name, model in models.items():
        model = model.to(device).eval()
        for task in tasks:
            x = cache.get(model, task, model_name)
            task_rows, predictions = evaluate_embeddings(x, task, model_name, probes, seed, mlp_grid, mlp_max_epochs)
            rows.extend(task_rows)
            for r in task_rows:
                if r["metric"] == task.primary_metric or (task.primary_metric == "pitch_accuracy" and r["metric"] == "accuracy"):
                    log(f"{task.name:<18} {model_name:<12} {r['probe']:<6} {r['metric']:<15} "
                        f"{metrics.format_mean_std(r['mean'], r['std'])} ({r['n_folds']} folds)")
            if plots and out_dir is not None:
                _plots(Path(out_dir), model_name, task, x, predictions, map_method, seed)
    if out_dir is not None:
        tasks_run = [{"name": t.name, "root": t.root, "n_clips": len(t.paths), "folds": [f.name for f in t.folds],
                      "multilabel": t.multilabel, "clip_seconds": t.clip_seconds} for t in tasks]
        write_all(rows, out_dir, {"command": command_line(), "tasks": tasks_run})
    return rows


def _plots(out_dir: Path, model_name: str, task: Task, x, predictions, map_method: str, seed: int) -> None:
    from audiorep.eval.plots import plot_confusion_matrix, plot_embedding_map

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{_slug(task.name)}-{_slug(model_name)}"
    if not task.multilabel and task.n_classes <= 60:
        probe = "linear" if "linear" in predictions else next(iter(predictions))
        idx, pred = predictions[probe]
        plot_confusion_matrix(task.targets[idx], pred, task.class_names, out_dir / f"{stem}-confusion.png",
                              title=f"{task.name}: {model_name}, {probe} probe (all test folds)")
    labels = task.targets if not task.multilabel else task.targets.argmax(axis=1)
    plot_embedding_map(x, labels, task.class_names, out_dir / f"{stem}-map.png",
                       title=f"{task.name}: {model_name} ({map_method.upper()})", method=map_method, seed=seed)
