"""NSynth from its released layout: `nsynth-{train,valid,test}/examples.json` and
`nsynth-<split>/audio/<note>.wav`.

The official train / valid / test splits are used as they are. Tasks: instrument family
(11 classes) and pitch (MIDI note as the class; scored with pitch and chroma accuracy).
Notes are 4 s."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import Fold, Task, encode_targets

SPLITS = ("train", "valid", "test")


def _read(root: Path) -> tuple[list[dict], np.ndarray]:
    rows, split = [], []
    for name in SPLITS:
        meta = root / f"nsynth-{name}" / "examples.json"
        if not meta.is_file():
            raise ConfigError(f"NSynth: {meta} not found; expected nsynth-train/, nsynth-valid/, nsynth-test/")
        with open(meta) as fh:
            examples = json.load(fh)
        for note, ex in sorted(examples.items()):
            ex = dict(ex, path=str(root / f"nsynth-{name}" / "audio" / f"{note}.wav"))
            rows.append(ex)
            split.append(name)
    return rows, np.array(split)


def _task(root, name: str, key: str, pitch: bool) -> Task:
    root = Path(root)
    rows, split = _read(root)
    missing = [r["path"] for r in rows if key not in r]
    if missing:
        raise ConfigError(f"NSynth: examples.json entry for {missing[0]} has no {key!r}")
    targets, names = encode_targets([str(r[key]) for r in rows], multilabel=False)
    fold = Fold("official", *(np.flatnonzero(split == s) for s in SPLITS))
    return Task(
        name=name, paths=[r["path"] for r in rows], targets=targets, class_names=names, folds=[fold],
        clip_seconds=4.0, pitch_task=pitch, root=str(root),
    ).check()


def nsynth_instrument_task(root) -> Task:
    return _task(root, "nsynth_instrument", "instrument_family_str", pitch=False)


def nsynth_pitch_task(root) -> Task:
    return _task(root, "nsynth_pitch", "pitch", pitch=True)
