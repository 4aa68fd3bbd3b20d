"""An AudioSet-style multi-label task: segment CSVs (`# YTID, start_seconds, end_seconds,
positive_labels` with labels quoted and comma-separated), an optional
`class_labels_indices.csv` (index, mid, display_name), and audio files found anywhere under
the root whose name starts with the YouTube id (`<YTID>.wav`, `<YTID>_<start>.flac`,
`Y<YTID>...`).

Multi-label: every class is scored with its own sigmoid; the metric is mAP (with AUC and d').
Train = the train CSV, test = the eval CSV, validation = 10 % of train (whole videos).
Segments whose audio is absent are left out and counted in `task.meta["missing"]`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import Fold, Task, carve_validation, encode_targets

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".mp3"}


def read_segments(path: Path) -> list[tuple[str, list[str]]]:
    """[(ytid, [label mids])] from an AudioSet segments CSV."""
    if not path.is_file():
        raise ConfigError(f"AudioSet: segments file {path} not found")
    out = []
    with open(path, newline="") as fh:
        for line_no, row in enumerate(csv.reader(fh, skipinitialspace=True), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 4:
                raise ConfigError(f"AudioSet: {path} line {line_no}: expected YTID, start, end, labels")
            out.append((row[0].strip(), [x.strip() for x in row[3].split(",") if x.strip()]))
    return out


def index_audio(root: Path) -> dict[str, str]:
    """YouTube id -> file, for every audio file under root."""
    found = {}
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() not in AUDIO_EXTENSIONS:
            continue
        stem = p.stem
        for key in (stem, stem[:11], stem[1:12] if stem.startswith("Y") else None):
            if key and key not in found:
                found[key] = str(p)
    return found


def audioset_task(root, train_csv: str = "balanced_train_segments.csv", eval_csv: str = "eval_segments.csv",
                  labels_csv: str = "class_labels_indices.csv", seed: int = 0) -> Task:
    root = Path(root)
    audio = index_audio(root)
    rows, split, missing = [], [], 0
    for name, part in ((train_csv, "train"), (eval_csv, "test")):
        for ytid, mids in read_segments(root / name):
            if ytid not in audio:
                missing += 1
                continue
            rows.append((ytid, mids))
            split.append(part)
    if not rows:
        raise ConfigError(f"AudioSet: no audio file under {root} matches a segment of {train_csv} / {eval_csv}")
    display = {}
    if (root / labels_csv).is_file():
        with open(root / labels_csv, newline="") as fh:
            display = {r["mid"]: r["display_name"] for r in csv.DictReader(fh)}
    targets, mids = encode_targets([m for _, m in rows], multilabel=True)
    split = np.array(split)
    ytids = np.array([y for y, _ in rows])
    train, valid = carve_validation(np.flatnonzero(split == "train"), groups=ytids, fraction=0.1, seed=seed)
    return Task(
        name="audioset", paths=[audio[y] for y, _ in rows], targets=targets,
        class_names=[display.get(m, m) for m in mids], folds=[Fold("official", train, valid, np.flatnonzero(split == "test"))],
        multilabel=True, groups=ytids, group_kind="video", clip_seconds=10.0, root=str(root),
        meta={"missing": missing, "mids": mids},
    ).check()
