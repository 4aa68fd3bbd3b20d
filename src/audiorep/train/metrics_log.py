"""What a run writes as it goes: `metrics.csv` (one row per `log_every` steps, each value the
mean over the steps since the previous row) and TensorBoard scalars under `train/`.

Resuming appends to the CSV under its existing header, after dropping the rows logged past the
checkpoint it resumes from (the steps between the checkpoint and the kill are trained again, so
they would appear twice). Columns known in advance (the
online probe's) are in the header from the first row, empty where the probe did not run.
"""

from __future__ import annotations

import csv
import sys
import types
from pathlib import Path

import torch

from audiorep.io.atomic_file import atomic_open


class MetricsLog:
    def __init__(self, out_dir: Path, resume: bool = False, extra_columns: list[str] = (), resume_step: int = 0):
        path = Path(out_dir) / "metrics.csv"
        self.columns: list[str] | None = None
        if resume and path.exists():
            _drop_rows_after(path, resume_step)
            with open(path, newline="") as f:
                self.columns = next(csv.reader(f), None)
        self._file = open(path, "a" if self.columns else "w", newline="")
        self._csv = csv.writer(self._file)
        self._extra = list(extra_columns)
        self._writer = _tensorboard(Path(out_dir) / "tensorboard")
        self._sums: dict[str, float] = {}
        self._steps = 0

    def add(self, scalars: dict) -> None:
        """Accumulate one step's scalars (tensors or numbers)."""
        for k, v in scalars.items():
            self._sums[k] = self._sums.get(k, 0.0) + float(v.detach() if torch.is_tensor(v) else v)
        self._steps += 1

    def write(self, step: int, **extra) -> dict:
        """One row: the window's means, then `extra` (step, lr, speed, probe scores ...)."""
        row = {k: v / max(1, self._steps) for k, v in self._sums.items()}
        row.update(step=step, **extra)
        self._sums, self._steps = {}, 0
        if self.columns is None:
            self.columns = list(row) + [c for c in self._extra if c not in row]
            self._csv.writerow(self.columns)
        self._csv.writerow([row.get(k, "") for k in self.columns])
        self._file.flush()
        if self._writer is not None:
            for k, v in row.items():
                if k != "step":
                    self._writer.add_scalar(f"train/{k}", v, step)
        return row

    def close(self) -> None:
        self._file.close()
        if self._writer is not None:
            self._writer.close()


def _drop_rows_after(path: Path, step: int) -> None:
    """Keep the header and the rows of steps <= `step` (rewritten atomically)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or "step" not in rows[0]:
        return
    at = rows[0].index("step")
    keep = [rows[0]] + [r for r in rows[1:] if len(r) > at and r[at] and float(r[at]) <= step]
    if len(keep) == len(rows):
        return
    with atomic_open(path, "w", newline="") as f:
        csv.writer(f).writerows(keep)


def _tensorboard(path: Path):
    """A TensorBoard writer that never imports TensorFlow (writing event files needs only
    tensorboard's stub; importing a real TensorFlow, when installed, costs ~10-30 s)."""
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # tensorboard not installed: CSV logs still work
        return None
    return SummaryWriter(str(path))
