"""Free Spoken Digit Dataset: `recordings/<digit>_<speaker>_<index>.wav`, optionally with
a `manifest.csv` (path, label, speaker, index).

- fsdd_digit: leave one speaker out. The upstream train/test split shares speakers, so a
  digit score on it measures speaker memory as much as digits; here each speaker is the test
  set once, the next speaker validation, the other four train (checked: group = speaker).
- fsdd_speaker: speaker identification; speakers must appear on every side, so folds are by
  recording index (fold = index mod 5 + 1): each fold holds every speaker saying every digit.
Clips (0.14-2.3 s at 8 kHz) are trimmed / zero-padded to 1.5 s."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from audiorep.errors import ConfigError
from audiorep.eval.tasks.task import Task, encode_targets, folds_from_fold_ids, leave_one_group_out

CLIP_SECONDS = 1.5


def read_fsdd(root) -> list[dict]:
    """[{path, digit, speaker, index}] from manifest.csv, else from the file names."""
    root = Path(root)
    manifest = root / "manifest.csv"
    if manifest.is_file():
        with open(manifest, newline="") as fh:
            rows = list(csv.DictReader(fh))
        for col in ("path", "label", "speaker", "index"):
            if rows and col not in rows[0]:
                raise ConfigError(f"FSDD: {manifest} lacks column {col!r}")
        return [{"path": str(root / r["path"]), "digit": r["label"], "speaker": r["speaker"], "index": int(r["index"])}
                for r in rows]
    files = sorted((root / "recordings").glob("*.wav"))
    if not files:
        raise ConfigError(f"FSDD: no manifest.csv and no recordings/*.wav under {root}")
    out = []
    for p in files:
        parts = p.stem.split("_")
        if len(parts) != 3 or not parts[2].isdigit():
            raise ConfigError(f"FSDD: {p} does not follow <digit>_<speaker>_<index>.wav")
        out.append({"path": str(p), "digit": parts[0], "speaker": parts[1], "index": int(parts[2])})
    return out


def fsdd_digit_task(root) -> Task:
    rows = read_fsdd(root)
    speakers = np.array([r["speaker"] for r in rows])
    targets, names = encode_targets([r["digit"] for r in rows], multilabel=False)
    return Task(
        name="fsdd_digit", paths=[r["path"] for r in rows], targets=targets, class_names=names,
        folds=leave_one_group_out(speakers), groups=speakers, group_kind="speaker",
        clip_seconds=CLIP_SECONDS, root=str(root),
        meta={"protocol": f"leave one speaker out ({len(set(speakers.tolist()))} folds: each speaker tests once, "
                          "the next validates, the others train)"},
    ).check()


def fsdd_speaker_task(root) -> Task:
    rows = read_fsdd(root)
    targets, names = encode_targets([r["speaker"] for r in rows], multilabel=False)
    return Task(
        name="fsdd_speaker", paths=[r["path"] for r in rows], targets=targets, class_names=names,
        folds=folds_from_fold_ids([r["index"] % 5 + 1 for r in rows]),
        clip_seconds=CLIP_SECONDS, root=str(root),
        meta={"protocol": "5 folds by recording index (index mod 5; every speaker on every side)"},
    ).check()
