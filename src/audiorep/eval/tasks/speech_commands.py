"""Speech Commands v1 / v2 from the released layout: `<word>/<speaker>_nohash_<n>.wav`,
`validation_list.txt`, `testing_list.txt`.

Clips listed in the validation / testing lists form those splits; every other clip (outside
`_background_noise_`) is train. Classes are all the word folders (30 in v1, 35 in v2). The
lists assign each speaker to one split; this is checked (group = speaker). Clips are 1 s."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import Fold, Task, encode_targets


def _read_list(path: Path) -> set[str]:
    if not path.is_file():
        raise ConfigError(f"Speech Commands: {path} not found; expected the released layout with its split lists")
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def speech_commands_task(root) -> Task:
    root = Path(root)
    valid_list = _read_list(root / "validation_list.txt")
    test_list = _read_list(root / "testing_list.txt")
    files = sorted(p for p in root.glob("*/*.wav") if not p.parent.name.startswith("_"))
    rel = [p.relative_to(root).as_posix() for p in files]
    missing = sorted((valid_list | test_list) - set(rel))
    if missing:
        raise ConfigError(f"Speech Commands: {len(missing)} listed file(s) missing under {root}, e.g. {missing[0]}")
    targets, names = encode_targets([p.parent.name for p in files], multilabel=False)
    split = np.array(["test" if r in test_list else "valid" if r in valid_list else "train" for r in rel])
    fold = Fold("official", np.flatnonzero(split == "train"), np.flatnonzero(split == "valid"), np.flatnonzero(split == "test"))
    return Task(
        name="speech_commands",
        paths=[str(p) for p in files],
        targets=targets,
        class_names=names,
        folds=[fold],
        groups=np.array([p.name.split("_nohash_")[0] for p in files]),
        group_kind="speaker",
        clip_seconds=1.0,
        root=str(root),
    ).check()
