"""ESC-50 and ESC-10 from their released layout: `meta/esc50.csv` and `audio/*.wav`.

Five official folds; clips cut from the same source recording share a fold (checked, group
= `src_file`). ESC-10 is the subset with `esc10 == True`. Clips are 5 s."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import Task, encode_targets, folds_from_fold_ids

REQUIRED = ("filename", "fold", "category", "esc10", "src_file")


def esc50_task(root, esc10: bool = False) -> Task:
    root = Path(root)
    meta = root / "meta" / "esc50.csv"
    if not meta.is_file():
        raise ConfigError(f"ESC-50: {meta} not found; expected the released layout (meta/esc50.csv, audio/)")
    with open(meta, newline="") as fh:
        rows = list(csv.DictReader(fh))
    missing = [c for c in REQUIRED if rows and c not in rows[0]]
    if missing:
        raise ConfigError(f"ESC-50: {meta} lacks column(s) {missing}")
    if esc10:
        rows = [r for r in rows if r["esc10"].strip().lower() == "true"]
    targets, names = encode_targets([r["category"] for r in rows], multilabel=False)
    return Task(
        name="esc10" if esc10 else "esc50",
        paths=[str(root / "audio" / r["filename"]) for r in rows],
        targets=targets,
        class_names=names,
        folds=folds_from_fold_ids([int(r["fold"]) for r in rows]),
        groups=np.array([r["src_file"] for r in rows]),
        group_kind="source recording",
        clip_seconds=5.0,
        root=str(root),
    ).check()


def esc10_task(root) -> Task:
    return esc50_task(root, esc10=True)
