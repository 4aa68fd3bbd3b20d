"""Any dataset described in one CSV: `path` (relative to the CSV), `label` (one name, or
several separated by ';' for a multi-label task; a `labels` column also works), and
optionally `fold`, `split` and `group` (`speaker` or `video` are read as the group).

- with `fold`: predefined folds (test k, valid k+1, train the rest);
- else with `split` (train / valid / test): one fold; no valid split -> 10 % of train;
- else: 5 stratified folds made here, whole groups kept together.
A group (speaker, video, ...) never crosses a split; a manifest whose own folds or splits
would let one cross is refused with an error naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audiorep.data.sources import ManifestSource
from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import (
    Task,
    encode_targets,
    fold_from_splits,
    folds_from_fold_ids,
    make_fold_ids,
)

GROUP_COLUMNS = ("group", "speaker", "video")


def manifest_task(csv_path, name: str | None = None, multilabel: bool | None = None,
                  clip_seconds: float | None = None, n_folds: int = 5, seed: int = 0) -> Task:
    csv_path = Path(csv_path)
    source = ManifestSource(csv_path)
    records = source.records
    columns = set(source.columns)
    if "label" not in columns and "labels" not in columns:
        raise ConfigError(f"manifest {csv_path}: no 'label' (or 'labels') column to evaluate on")
    labels = []
    for line, rec in enumerate(records, start=2):
        raw = rec.meta.get("labels") if "labels" in columns else rec.meta.get("label")
        parts = raw if isinstance(raw, list) else [s.strip() for s in (raw or "").split(";") if s.strip()]
        if not parts:
            raise ConfigError(f"manifest {csv_path} line {line}: empty label for {rec.path}")
        labels.append(parts)
    if multilabel is None:
        multilabel = "labels" in columns or any(len(ls) > 1 for ls in labels)
    if not multilabel:
        many = next((i for i, ls in enumerate(labels) if len(ls) > 1), None)
        if many is not None:
            raise ConfigError(f"manifest {csv_path} line {many + 2}: several labels but the task is single-label")
        labels = [ls[0] for ls in labels]
    targets, names = encode_targets(labels, multilabel)
    group_col = next((c for c in GROUP_COLUMNS if c in columns), None)
    groups = np.array([rec.meta[group_col] for rec in records]) if group_col else None
    where = f"manifest {csv_path}"
    if "fold" in columns:
        folds = folds_from_fold_ids([rec.meta["fold"] for rec in records])
    elif "split" in columns:
        folds = [fold_from_splits([rec.meta["split"] for rec in records], targets, groups, seed=seed, where=where)]
    else:
        folds = folds_from_fold_ids(make_fold_ids(targets, groups, n_folds=n_folds, seed=seed))
    return Task(
        name=name or (csv_path.parent.name if csv_path.stem == "manifest" else csv_path.stem),
        paths=[rec.path for rec in records], targets=targets, class_names=names, folds=folds,
        multilabel=multilabel, groups=groups, group_kind=group_col or "group", clip_seconds=clip_seconds,
        root=str(csv_path),
    ).check()
