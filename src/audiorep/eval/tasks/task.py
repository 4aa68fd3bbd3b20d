"""A downstream task: clips, targets, and the folds a probe is trained and scored on.

Fold logic, stated once for every dataset layout:

- predefined folds 1..K (ESC-50, a manifest `fold` column): fold k is the test set, fold
  k+1 (cyclically) the validation set, the other K-2 folds train (the HEAR protocol);
- predefined splits (Speech Commands lists, NSynth, VoxCeleb1, a manifest `split`
  column): one fold; a missing validation split is carved out of train by group;
- leave one group out (FSDD digits): each group (speaker) is the test set once, the next
  group the validation set, the rest train;
- no folds given: K stratified folds, grouped when groups are known.

Every task can say, in one line, what will be done with it (`describe_task`): clips, classes,
single- or multi-label, which column the labels come from, and the protocol (`meta["protocol"]`,
set by the builders that know it, else read off the folds). `audiorep evaluate` prints it before
any work starts.

`groups` holds, per clip, the unit that must never be on both sides of a split (a speaker, a
source recording, a video). `Task.check()` verifies that for every fold and raises a
ConfigError naming the group, so a leaking split cannot be evaluated by mistake.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, KFold, StratifiedGroupKFold, StratifiedKFold, train_test_split

from audiorep.errors import ConfigError


@dataclass
class Fold:
    """Index arrays into the task's clips."""

    name: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


@dataclass
class Task:
    """Clips are files (`paths`), or arrays in memory (`audio [N, T]` at `sample_rate`; then
    `paths` only names them), as for the synthetic world's held-out scenes."""

    name: str
    paths: list[str]
    targets: np.ndarray  # class indices [N] (multi-class) or multi-hot float32 [N, C] (multi-label)
    class_names: list[str]
    folds: list[Fold]
    multilabel: bool = False
    groups: np.ndarray | None = None  # the unit that must not cross train/valid/test
    group_kind: str = "group"  # what a group is, for messages: "speaker", "video", ...
    clip_seconds: float | None = None  # every clip is trimmed / zero-padded to this (None: whole file)
    pitch_task: bool = False  # class names are MIDI note numbers: report pitch and chroma accuracy
    root: str = ""
    meta: dict = field(default_factory=dict)
    audio: Any = None  # in-memory clips [N, T] (torch or numpy), instead of reading `paths`
    sample_rate: int | None = None  # the rate of `audio`

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def primary_metric(self) -> str:
        if self.multilabel:
            return "mAP"
        return "pitch_accuracy" if self.pitch_task else "accuracy"

    def check(self) -> "Task":
        """Raise ConfigError if a fold is empty, overlaps itself, or lets a group cross a split."""
        n = len(self.paths)
        if n == 0:
            raise ConfigError(f"task {self.name}: no clips found under {self.root}")
        if len(self.targets) != n:
            raise ConfigError(f"task {self.name}: {n} clips but {len(self.targets)} targets")
        for fold in self.folds:
            parts = {"train": fold.train, "valid": fold.valid, "test": fold.test}
            for part, idx in parts.items():
                if len(idx) == 0:
                    raise ConfigError(f"task {self.name}, fold {fold.name}: the {part} split is empty")
                if idx.min() < 0 or idx.max() >= n:
                    raise ConfigError(f"task {self.name}, fold {fold.name}: {part} index out of range")
            for a, b in (("train", "valid"), ("train", "test"), ("valid", "test")):
                shared = np.intersect1d(parts[a], parts[b])
                if len(shared):
                    raise ConfigError(
                        f"task {self.name}, fold {fold.name}: clip {self.paths[shared[0]]} is in both {a} and {b}"
                    )
                if self.groups is not None:
                    crossing = np.intersect1d(self.groups[parts[a]], self.groups[parts[b]])
                    if len(crossing):
                        raise ConfigError(
                            f"task {self.name}, fold {fold.name}: {self.group_kind} {str(crossing[0])!r} is in both "
                            f"{a} and {b}; the protocol forbids a {self.group_kind} on both sides of a split"
                        )
        return self

    def subset(self, keep) -> "Task":
        """The task on clips `keep` only (indices into `paths`), renumbered in their order.

        Every fold keeps its clips that remain, on the side they were on: a clip left out is
        simply absent from its fold, so no clip and no group ever changes side."""
        keep = np.unique(np.asarray(keep, dtype=np.int64))
        new_index = np.full(len(self.paths), -1, dtype=np.int64)
        new_index[keep] = np.arange(len(keep))

        def remap(idx):
            idx = new_index[np.asarray(idx, dtype=np.int64)]
            return idx[idx >= 0]

        return dataclasses.replace(
            self, paths=[self.paths[i] for i in keep], targets=self.targets[keep],
            folds=[Fold(f.name, remap(f.train), remap(f.valid), remap(f.test)) for f in self.folds],
            groups=None if self.groups is None else np.asarray(self.groups)[keep],
            audio=None if self.audio is None else self.audio[keep], meta=dict(self.meta),
        )

    def unusable_reason(self, probes=("linear",)) -> str | None:
        """Why no probe can be scored on this task (None if it can): no clips, or a fold whose
        training side or test split is empty, or whose training side holds a single class.

        The linear probe trains on train + valid; the MLP probe on train, choosing on valid
        (which must then be non-empty too)."""
        if len(self.paths) == 0:
            return "no usable clip left"
        for fold in self.folds:
            sides = {"train + valid": np.concatenate([fold.train, fold.valid])} if "mlp" not in probes else \
                {"train": fold.train, "valid": fold.valid}
            for side, idx in {**sides, "test": fold.test}.items():
                if len(idx) == 0:
                    return f"fold {fold.name}: the {side} split has no usable clip"
            if not self.multilabel:
                for side in ("train + valid", "train"):
                    if side in sides and len(np.unique(self.targets[sides[side]])) < 2:
                        only = self.class_names[int(self.targets[sides[side]][0])]
                        return f"fold {fold.name}: the {side} split has a single class ({only!r}) left"
        return None


def encode_targets(labels: list, multilabel: bool, class_names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Labels -> (class indices [N] or multi-hot [N, C], sorted class names).

    Multi-label entries are lists of names."""
    if class_names is None:
        names = {x for ls in labels for x in ls} if multilabel else set(labels)
        class_names = sorted(names, key=_natural_key)
    index = {c: i for i, c in enumerate(class_names)}
    if multilabel:
        targets = np.zeros((len(labels), len(class_names)), dtype=np.float32)
        for row, ls in enumerate(labels):
            targets[row, [index[x] for x in ls]] = 1.0
        return targets, class_names
    return np.array([index[x] for x in labels], dtype=np.int64), class_names


def _natural_key(name: str):
    """Numbers sort as numbers ('2' < '10'), everything else as text."""
    try:
        return (0, float(name), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(name))


def folds_from_fold_ids(fold_ids) -> list[Fold]:
    """Predefined folds: test = fold k, valid = the next fold (cyclic), train = the others."""
    fold_ids = np.asarray(fold_ids)
    names = sorted(set(fold_ids.tolist()), key=lambda v: _natural_key(str(v)))
    if len(names) < 3:
        raise ConfigError(f"need at least 3 folds (train, valid, test), found {len(names)}: {names}")
    folds = []
    for k, name in enumerate(names):
        valid_name = names[(k + 1) % len(names)]
        test = np.flatnonzero(fold_ids == name)
        valid = np.flatnonzero(fold_ids == valid_name)
        train = np.flatnonzero((fold_ids != name) & (fold_ids != valid_name))
        folds.append(Fold(f"fold{name}", train, valid, test))
    return folds


def leave_one_group_out(groups) -> list[Fold]:
    """Each group is the test set once; the next group (cyclic) is the validation set."""
    folds = folds_from_fold_ids(groups)
    for fold in folds:
        fold.name = f"test={fold.name[len('fold'):]}"
    return folds


SPLIT_ALIASES = {"train": "train", "training": "train", "valid": "valid", "validation": "valid", "val": "valid",
                 "dev": "valid", "test": "test", "testing": "test", "eval": "test", "evaluation": "test"}


def fold_from_splits(splits, targets=None, groups=None, valid_fraction: float = 0.1, seed: int = 0, where: str = "") -> Fold:
    """One fold from per-clip split names (train / valid / test and common aliases).

    Without a validation split, `valid_fraction` of train becomes validation: whole groups
    when groups are known, stratified by class otherwise."""
    splits = np.asarray([str(s).strip().lower() for s in splits])
    unknown = sorted(set(splits.tolist()) - set(SPLIT_ALIASES))
    if unknown:
        raise ConfigError(f"{where}: unknown split name(s) {unknown}; use train, valid or test")
    canon = np.array([SPLIT_ALIASES[s] for s in splits])
    train, valid, test = (np.flatnonzero(canon == s) for s in ("train", "valid", "test"))
    for side, idx in (("test", test), ("train", train)):
        if len(idx) == 0:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(split_counts(canon).items()))
            raise ConfigError(f"{where}: no clip is in the {side} split (splits: {counts}); give the split column "
                              "train and test rows, or drop it to use cross-validation")
    if len(valid) == 0:
        train, valid = carve_validation(train, targets, groups, valid_fraction, seed)
    return Fold("split", train, valid, test)


def split_counts(splits) -> dict[str, int]:
    """{canonical split name: number of clips}; names that are not splits are counted as they are."""
    names = [SPLIT_ALIASES.get(str(s).strip().lower(), str(s)) for s in splits]
    return {name: names.count(name) for name in sorted(set(names))}


def held_out_fold(train: np.ndarray, test: np.ndarray, valid_fraction: float = 0.1) -> Fold:
    """One fold from given train and test indices; the last `valid_fraction` of the training
    indices validate (a linear probe trains on train + valid: every training clip, in order)."""
    train = np.asarray(train)
    n_valid = max(1, int(round(valid_fraction * len(train))))
    return Fold("held_out", train[:-n_valid], train[-n_valid:], np.asarray(test))


def carve_validation(train: np.ndarray, targets=None, groups=None, fraction: float = 0.1, seed: int = 0):
    """Split training indices into (train, valid), keeping groups whole."""
    if groups is not None:
        gss = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        tr, va = next(gss.split(train, groups=np.asarray(groups)[train]))
        return train[tr], train[va]
    stratify = None
    if targets is not None and np.asarray(targets).ndim == 1:
        counts = np.bincount(np.asarray(targets)[train])
        n_valid = int(np.ceil(fraction * len(train)))
        # stratifying needs two clips of every class, and a validation split with room for one of each
        n_classes = int((counts > 0).sum())
        if counts[counts > 0].min() >= 2 and n_valid >= n_classes and len(train) - n_valid >= n_classes:
            stratify = np.asarray(targets)[train]
    tr, va = train_test_split(train, test_size=fraction, random_state=seed, stratify=stratify)
    return np.sort(tr), np.sort(va)


def make_fold_ids(targets, groups=None, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """K folds for data that has none: stratified by class (single-label), grouped when groups exist."""
    targets = np.asarray(targets)
    n = len(targets)
    strat = targets if kfold_is_stratified(targets, n_folds) else None
    if groups is not None and strat is not None:
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        parts = splitter.split(np.zeros(n), strat, groups)
    elif groups is not None:
        from sklearn.model_selection import GroupKFold

        parts = GroupKFold(n_splits=n_folds).split(np.zeros(n), groups=groups)
    elif strat is not None:
        parts = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(n), strat)
    else:
        parts = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(n))
    fold_ids = np.zeros(n, dtype=np.int64)
    for k, (_, test) in enumerate(parts):
        fold_ids[test] = k + 1
    return fold_ids


def kfold_is_stratified(targets, n_folds: int) -> bool:
    """Whether `make_fold_ids` stratifies: single-label, every class with at least `n_folds` clips."""
    targets = np.asarray(targets)
    return targets.ndim == 1 and len(targets) > 0 and int(np.bincount(targets).min()) >= n_folds


def kfold_protocol(targets, groups=None, n_folds: int = 5, seed: int = 0, group_kind: str = "group") -> str:
    """`make_fold_ids`' protocol in words, e.g. '5-fold cross-validation, stratified by class, seed 0
    (fold k tests, fold k+1 validates, the rest train)'."""
    how = []
    if kfold_is_stratified(targets, n_folds):
        how.append("stratified by class")
    elif np.asarray(targets).ndim == 1:
        how.append(f"not stratified: a class has fewer than {n_folds} clips")
    else:
        how.append("not stratified (multi-label)")
    if groups is not None:
        how.append(f"whole {group_kind}s kept together")
    return (f"{n_folds}-fold cross-validation, " + ", ".join(how + [f"seed {seed}"])
            + " (fold k tests, fold k+1 validates, the others train; every clip is tested once)")


def describe_task(task: Task) -> str:
    """One line saying what will be done with a task: clips, classes, single- or multi-label (and
    the metric), the label column when the labels come from one, and the protocol."""
    kind = f"multi-label ({task.primary_metric})" if task.multilabel else f"single-label ({task.primary_metric})"
    text = f"task {task.name}: {len(task.paths)} clips, {task.n_classes} classes, {kind}"
    if task.meta.get("label_column"):
        text += f", labels from column {task.meta['label_column']!r}"
    protocol = task.meta.get("protocol")
    if not protocol:
        if len(task.folds) == 1:
            f = task.folds[0]
            protocol = f"one split: {len(f.train)} train / {len(f.valid)} valid / {len(f.test)} test clips"
        else:
            protocol = f"{len(task.folds)} folds"
    text += f"; {protocol}"
    if task.clip_seconds is not None:
        text += f"; each clip cut or zero-padded to {task.clip_seconds:g} s"
    if task.meta.get("note"):
        text += f"; {task.meta['note']}"
    return text
