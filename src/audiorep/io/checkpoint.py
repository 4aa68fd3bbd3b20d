"""Checkpoints written atomically and read without unpickling arbitrary objects.

A checkpoint is one file holding a dict of tensors, numbers, strings, lists and dicts
(model and optimiser state, step, config). It is written to a temporary file in the same
folder, flushed to disk and moved into place with `os.replace`, so a run killed mid-write
leaves the previous checkpoint intact. Loading uses `torch.load(weights_only=True)`, which
refuses pickled code: a checkpoint from an untrusted source cannot run anything.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from audiorep.errors import CheckpointError


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # corrupt, truncated, or holds pickled objects
        raise CheckpointError(f"{path}: cannot be read as an audiorep checkpoint ({err})") from err
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a dict checkpoint, found {type(state).__name__}")
    return state


def save_separator(path: str | os.PathLike, model: torch.nn.Module, **extra) -> Path:
    """A separator on its own (`kind: separator`: its config dataclass and weights, no
    optimiser), for sharing; `audiorep.builders.load_separator` reads it, and reads a
    separator method's training checkpoints too."""
    from dataclasses import asdict

    return save_checkpoint(path, {"kind": "separator", "model_config": asdict(model.config),
                                  "state_dict": model.state_dict(), **extra})
