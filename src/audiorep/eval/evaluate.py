"""Evaluation from models and tasks to a results table: embeddings (cached) -> probe on
every fold -> metrics -> mean ± std over folds -> tables and plots.

Probes (see `audiorep.eval.probe`): `linear` trains on train + valid with a fixed penalty;
`mlp` trains on train, picks hidden size and learning rate on valid with early stopping, and
scores test once. Multi-label tasks are always sigmoid + BCE and scored with mAP, AUC, d'.
Pitch tasks also report pitch and chroma accuracy of the predicted MIDI note.

Unusable clips (a file that cannot be read, an embedding that is not finite) are skipped, never
probed: the task is evaluated on the clips left, each fold keeping its own remaining clips, and
the report lists every skipped clip with its cause. A task left with no clip, or with a fold whose
training side or test split is empty or single-class, is not evaluated; the report says why.
`evaluate` raises only when no task could be evaluated at all.

Before any work, `evaluate` logs one line per task saying what will be done (clips, classes,
single- or multi-label, the label column, the protocol: `describe_task`). Long phases show
progress (`audiorep.eval.progress`): a bar per task and model while its clips are embedded and
while its probes are fitted (one per probe and fold) on a terminal, one short line per phase
when stderr is not a terminal, nothing with `progress=False`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from audiorep.errors import AudiorepError, ConfigError
from audiorep.eval import metrics
from audiorep.eval.embedding_cache import EmbeddingCache
from audiorep.eval.probe import mlp_probe, run_linear_probe
from audiorep.eval.progress import phase
from audiorep.eval.report import command_line, folds_text, format_value, write_all
from audiorep.eval.tasks import Task, describe_task

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


class NotEvaluableError(AudiorepError):
    """No task could be evaluated (every clip unusable, or folds left empty or single-class)."""


class Results(list):
    """Result rows (a list, as before) plus what was left out: `skipped_clips` (one dict per
    clip: task, model, path, cause) and `not_evaluated` (task, model, reason)."""

    def __init__(self, rows=(), skipped_clips=None, not_evaluated=None):
        super().__init__(rows)
        self.skipped_clips: list[dict] = list(skipped_clips or [])
        self.not_evaluated: list[dict] = list(not_evaluated or [])


def check_finite(x: np.ndarray, task: Task, model_name: str) -> None:
    """Raise if an embedding a fold uses is NaN or inf: no probe ever sees one."""
    used = np.unique(np.concatenate([np.concatenate([f.train, f.valid, f.test]) for f in task.folds]))
    bad = used[~np.isfinite(np.asarray(x)[used]).all(axis=1)]
    if len(bad):
        raise AudiorepError(f"task {task.name}, model {model_name}: the embeddings of {len(bad)} clip(s) are not "
                            f"finite (first: {task.paths[bad[0]]}); refusing to probe NaN/inf features")


def evaluate_embeddings(x: np.ndarray, task: Task, model_name: str, probes=("linear",), seed: int = 0,
                        mlp_grid=None, mlp_max_epochs: int = 200, progress: bool = False) -> tuple[list[dict], dict]:
    """Probe every fold; returns (result rows, {probe: (test indices, predicted class)}).
    Every embedding a fold uses must be finite (`evaluate` leaves out those that are not).
    With `progress`, the fits (probes x folds) are counted on a bar (see `audiorep.eval.progress`)."""
    check_finite(x, task, model_name)
    rows, predictions = [], {}
    fits = len(probes) * len(task.folds)
    desc = (f"fitting {' and '.join(probes)} probe{'s' if len(probes) > 1 else ''} on {task.name} "
            f"({model_name}, {len(task.folds)} fold{'s' if len(task.folds) != 1 else ''})")
    with phase(fits, desc, "fit", progress) as bar:
        for probe in probes:
            per_fold, test_idx, pred = [], [], []
            for fold in task.folds:
                bar.set_postfix_str(f"{probe}, {fold.name}")
                out = run_probe(probe, x, task, fold, seed=seed, mlp_grid=mlp_grid, mlp_max_epochs=mlp_max_epochs)
                bar.update(1)
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


def usable_task(x: np.ndarray, skipped, task: Task, probes) -> tuple[Task, np.ndarray, str | None]:
    """The task and embeddings without the skipped clips, and why it cannot be probed (or None)."""
    if not skipped:
        return task, x, task.unusable_reason(probes)
    keep = np.setdiff1d(np.arange(len(task.paths)), [i for i, _ in skipped])
    sub = task.subset(keep)
    reason = sub.unusable_reason(probes)
    if reason is not None:
        reason = f"{reason} ({len(skipped)} of {len(task.paths)} clips skipped)"
    return sub, x[keep], reason


def evaluate(models: dict, tasks: list[Task], probes=("linear",), out_dir=None, cache_dir=None, batch_size: int = 32,
             device="cpu", plots: bool = True, map_method: str = "pca", seed: int = 0, progress: bool = True,
             mlp_grid=None, mlp_max_epochs: int = 200, log=print) -> Results:
    """Every model on every task with every probe; writes results.{md,csv,json}, skipped.csv (when
    clips were skipped) and PNGs to out_dir. Returns the result rows (`Results`, a list, which
    also holds the skipped clips and the tasks not evaluated); raises NotEvaluableError, after
    writing the report, when no task could be evaluated."""
    cache = EmbeddingCache(cache_dir, batch_size=batch_size, device=device, progress=progress)
    results = Results()
    for task in tasks:  # what will be done, before any of it is
        log(describe_task(task))
    counts: dict[tuple[str, str], int] = {}
    for model_name, model in models.items():
        model = model.to(device).eval()
        for task in tasks:
            x, skipped = cache.usable(model, task, model_name)
            counts[(task.name, model_name)] = len(skipped)
            results.skipped_clips.extend({"task": task.name, "model": model_name, "path": task.paths[i], "cause": cause}
                                         for i, cause in skipped)
            if skipped:
                log(f"{task.name:<18} {model_name:<12} {len(skipped)} clips skipped (of {len(task.paths)}): "
                    + "; ".join(f"{task.paths[i]}: {cause}" for i, cause in skipped[:3])
                    + (f"; ... ({len(skipped) - 3} more)" if len(skipped) > 3 else ""))
            sub, x, reason = usable_task(x, skipped, task, probes)
            if reason is not None:
                results.not_evaluated.append({"task": task.name, "model": model_name, "reason": reason})
                log(f"{task.name:<18} {model_name:<12} not evaluated: {reason}")
                continue
            task_rows, predictions = evaluate_embeddings(x, sub, model_name, probes, seed, mlp_grid, mlp_max_epochs,
                                                         progress=progress)
            for r in task_rows:
                r["clips_skipped"] = len(skipped)
            results.extend(task_rows)
            for r in task_rows:
                if r["metric"] == task.primary_metric or (task.primary_metric == "pitch_accuracy" and r["metric"] == "accuracy"):
                    log(f"{task.name:<18} {model_name:<12} {r['probe']:<6} {r['metric']:<15} "
                        f"{format_value(r)} {folds_text(r['n_folds'])}")
            if plots and out_dir is not None:  # t-SNE of thousands of clips takes a while: say so
                with phase(1, f"plotting {task.name} ({model_name}, t-SNE map)", "plot",
                           progress and map_method == "tsne") as bar:
                    _plots(Path(out_dir), model_name, sub, x, predictions, map_method, seed)
                    bar.update(1)
    if out_dir is not None:
        tasks_run = [{"name": t.name, "root": t.root, "n_clips": len(t.paths), "folds": [f.name for f in t.folds],
                      "multilabel": t.multilabel, "clip_seconds": t.clip_seconds,
                      "clips_skipped": {m: counts[(t.name, m)] for m in models if (t.name, m) in counts}}
                     for t in tasks]
        write_all(results, out_dir, {"command": command_line(), "tasks": tasks_run,
                                     "skipped_clips": results.skipped_clips, "not_evaluated": results.not_evaluated},
                  skipped_clips=results.skipped_clips, not_evaluated=results.not_evaluated)
    if not results and results.not_evaluated:
        where = f"; the report is in {out_dir}" if out_dir is not None else ""
        raise NotEvaluableError("no task could be evaluated: " + "; ".join(
            f"task {n['task']} ({n['model']}): {n['reason']}" for n in results.not_evaluated) + where)
    return results


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
