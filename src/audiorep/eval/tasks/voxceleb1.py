"""VoxCeleb1 speaker identification from its split file: `iden_split.txt` (lines
`<1|2|3> <speaker>/<video>/<utterance>.wav`; 1 = train, 2 = valid, 3 = test) and `wav/`.

The label is the speaker (1251 classes), so speakers appear in every split by design; the
split file is followed exactly, whichever videos it puts where (the task does not regroup
by video: the official file is the protocol). Utterances have varied lengths and are
embedded whole (long ones in chunks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import Fold, Task, encode_targets

CODES = {"1": "train", "2": "valid", "3": "test"}


def voxceleb1_task(root, split_file: str = "iden_split.txt", audio_dir: str = "wav") -> Task:
    root = Path(root)
    split_path = root / split_file
    if not split_path.is_file():
        raise ConfigError(f"VoxCeleb1: split file {split_path} not found")
    rel, split = [], []
    for line_no, line in enumerate(split_path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0] not in CODES or parts[1].count("/") != 2:
            raise ConfigError(f"VoxCeleb1: {split_path} line {line_no}: expected '<1|2|3> id/video/utt.wav', got {line!r}")
        split.append(CODES[parts[0]])
        rel.append(parts[1])
    split = np.array(split)
    targets, names = encode_targets([r.split("/")[0] for r in rel], multilabel=False)
    fold = Fold("official", *(np.flatnonzero(split == s) for s in ("train", "valid", "test")))
    return Task(
        name="voxceleb1", paths=[str(root / audio_dir / r) for r in rel], targets=targets, class_names=names,
        folds=[fold], clip_seconds=None, root=str(root),
    ).check()
