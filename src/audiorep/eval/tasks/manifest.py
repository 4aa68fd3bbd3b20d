"""Any dataset described in one CSV: `path` (relative to the CSV), `label` (one name, or
several separated by ';' for a multi-label task) and/or `labels` (always multi-label, ';'
separated; a clip may have none), and optionally `fold`, `split` and `group` (`speaker` or
`video` are read as the group).

Labels: a manifest with both `label` and `labels` (as `audiorep synth` writes: the scene and its
events) gives two tasks over the same clips, `<name>:label` (single-label, accuracy) and
`<name>:labels` (multi-label, mAP); they share one embedding pass. `label_columns` (the
command's `--label-column`) chooses instead: one or more columns, any column of the manifest
(`scene`, `speaker`, ...), each a task `<name>:<column>`.

Protocol:
- with `fold`: predefined folds (test k, valid k+1, train the rest);
- else with `split` holding train and test rows: one fold; no valid split -> 10 % of train;
- else (no `split` column, or one without a test or without a train row, as a manifest written
  by `audiorep synth --split train` is): 5-fold cross-validation made here, stratified by class
  when every class has at least 5 clips, whole groups kept together, seed 0; said in the task's
  protocol line, which `audiorep evaluate` prints before it starts.
A group (speaker, video, ...) never crosses a split; a manifest whose own folds or splits
would let one cross is refused with an error naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audiorep.data.sources import ManifestSource
from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import (
    SPLIT_ALIASES,
    Task,
    encode_targets,
    fold_from_splits,
    folds_from_fold_ids,
    kfold_protocol,
    make_fold_ids,
    split_counts,
)

GROUP_COLUMNS = ("group", "speaker", "video")
LABEL_COLUMNS = ("label", "labels")  # evaluated by default, each one a task
NOT_LABELS = ("path", "fold", "split", *GROUP_COLUMNS)


def default_name(csv_path) -> str:
    csv_path = Path(csv_path)
    return csv_path.parent.name if csv_path.stem == "manifest" else csv_path.stem


def _label_columns(csv_path, columns: list[str], requested) -> list[str]:
    if requested:
        requested = list(dict.fromkeys(requested))
        for col in requested:
            if col not in columns or col in NOT_LABELS:
                usable = [c for c in columns if c not in NOT_LABELS]
                raise ConfigError(f"manifest {csv_path}: no label column {col!r}; its columns that can be labels: "
                                  f"{', '.join(usable) or 'none'}")
        return requested
    found = [c for c in LABEL_COLUMNS if c in columns]
    if not found:
        raise ConfigError(f"manifest {csv_path}: no 'label' (or 'labels') column to evaluate on; name the column "
                          f"with --label-column (columns: {', '.join(columns)})")
    return found


def manifest_tasks(csv_path, label_columns=None, clip_seconds: float | None = None, n_folds: int = 5,
                   seed: int = 0) -> list[Task]:
    """One task per label column: `label` and `labels` when the manifest has them (both: two tasks,
    named `<name>:label` and `<name>:labels`), or the columns in `label_columns`."""
    source = ManifestSource(Path(csv_path))
    columns = _label_columns(csv_path, list(source.columns), label_columns)
    suffix = bool(label_columns) or len(columns) > 1
    return [_task(csv_path, source, col, f"{default_name(csv_path)}:{col}" if suffix else None, None, clip_seconds,
                  n_folds, seed) for col in columns]


def manifest_task(csv_path, name: str | None = None, multilabel: bool | None = None,
                  clip_seconds: float | None = None, n_folds: int = 5, seed: int = 0,
                  label_column: str | None = None) -> Task:
    """One task: the labels of `label_column`, else of `label`, else of `labels`."""
    source = ManifestSource(Path(csv_path))
    column = _label_columns(csv_path, list(source.columns), [label_column] if label_column else None)[0]
    task = _task(csv_path, source, column, name, multilabel, clip_seconds, n_folds, seed)
    others = [c for c in LABEL_COLUMNS if c in source.columns and c != column]
    if others and not label_column:
        task.meta["note"] = (f"the manifest's {others[0]!r} column is another task: `audiorep evaluate` runs both, "
                             f"or one with --label-column")
    return task


def _task(csv_path, source: ManifestSource, column: str, name, multilabel, clip_seconds, n_folds, seed) -> Task:
    csv_path = Path(csv_path)
    records, columns = source.records, set(source.columns)
    as_list = column == "labels"  # ManifestSource splits this one column into a list
    labels = []
    for line, rec in enumerate(records, start=2):
        raw = rec.meta.get(column)
        parts = raw if isinstance(raw, list) else [s.strip() for s in (raw or "").split(";") if s.strip()]
        if not parts and not as_list:
            raise ConfigError(f"manifest {csv_path} line {line}: empty label{_in(column)} for {rec.path}")
        labels.append(parts)
    if multilabel is None:
        multilabel = as_list or any(len(ls) > 1 for ls in labels)
    if not multilabel:
        many = next((i for i, ls in enumerate(labels) if len(ls) > 1), None)
        if many is not None:
            raise ConfigError(f"manifest {csv_path} line {many + 2}: several labels but the task is single-label")
        empty = next((i for i, ls in enumerate(labels) if not ls), None)
        if empty is not None:
            raise ConfigError(f"manifest {csv_path} line {empty + 2}: empty label{_in(column)} "
                              f"for {records[empty].path}")
        labels = [ls[0] for ls in labels]
    targets, names = encode_targets(labels, multilabel)
    group_col = next((c for c in GROUP_COLUMNS if c in columns), None)
    groups = np.array([rec.meta[group_col] for rec in records]) if group_col else None
    group_kind = group_col or "group"
    where = f"manifest {csv_path}"
    splits = [rec.meta["split"] for rec in records] if "split" in columns else None
    if "fold" in columns:
        fold_ids = [rec.meta["fold"] for rec in records]
        folds = folds_from_fold_ids(fold_ids)
        protocol = (f"the manifest's {len(folds)} folds (column 'fold': fold k tests, fold k+1 validates, "
                    "the others train)")
    elif splits is not None and _has_train_and_test(splits, where):
        folds = [fold_from_splits(splits, targets, groups, seed=seed, where=where)]
        f = folds[0]
        carved = "valid" not in split_counts(splits)
        protocol = (f"the manifest's split (column 'split'): {len(f.train)} train / {len(f.valid)} valid"
                    + (f" (10 % of train, seed {seed})" if carved else "") + f" / {len(f.test)} test clips, one fold")
    else:
        k = min(n_folds, len(records))
        folds = folds_from_fold_ids(make_fold_ids(targets, groups, n_folds=k, seed=seed))
        protocol = kfold_protocol(targets, groups, k, seed, group_kind)
        if splits is not None:
            counts = ", ".join(f"{v} {s}" for s, v in split_counts(splits).items())
            missing = "test" if "test" not in split_counts(splits) else "train"
            protocol += f"; the 'split' column has no {missing} clip ({counts}), so it is not used"
    return Task(
        name=name or default_name(csv_path),
        paths=[rec.path for rec in records], targets=targets, class_names=names, folds=folds,
        multilabel=multilabel, groups=groups, group_kind=group_kind, clip_seconds=clip_seconds,
        root=str(csv_path), meta={"label_column": column, "protocol": protocol},
    ).check()


def _in(column: str) -> str:
    return "" if column == "label" else f" in column {column!r}"


def _has_train_and_test(splits, where: str) -> bool:
    """Whether a split column can define a fold; unknown split names are an error."""
    names = {str(s).strip().lower() for s in splits}
    unknown = sorted(names - set(SPLIT_ALIASES))
    if unknown:
        raise ConfigError(f"{where}: unknown split name(s) {unknown}; use train, valid or test")
    canon = {SPLIT_ALIASES[s] for s in names}
    return {"train", "test"} <= canon
