"""Checkpoints written atomically and read without unpickling arbitrary objects.

A checkpoint is one file holding a dict of tensors, numbers, strings, lists and dicts
(model and optimiser state, step, config). It is written to a temporary file in the same
folder, flushed to disk and moved into place with `os.replace`, so a run killed mid-write
leaves the previous checkpoint intact. Loading uses `torch.load(weights_only=True)`, which
refuses pickled code: a checkpoint from an untrusted source cannot run anything.

Every way a file can fail to be a usable checkpoint (missing, a folder, empty, truncated,
corrupt, another kind of file, holding pickled objects, lacking an entry, or trained with
another architecture) is one `CheckpointError`, one line naming the file and the cause.
"""

from __future__ import annotations

import errno
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from audiorep.errors import CheckpointError
from audiorep.io.atomic_file import atomic_open

_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"  # pickle protocol 2+: torch.save's legacy (non-zip) format
# config keys that never change a model's weights: a resumed run may change them freely
_RUN_ONLY_KEYS = ("train", "seed", "data.path", "data.num_workers", "data.shards", "data.synthetic")
_MODEL_SECTIONS = ("method", "encoder", "frontend")


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    path = Path(path)
    with atomic_open(path) as f:
        torch.save(state, f)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu", *,
                    require: Mapping[str, type | tuple[type, ...]] | None = None) -> dict:
    """The dict a checkpoint file holds, or a `CheckpointError` naming the file and the cause.

    `require` maps entries the caller needs to their type(s), e.g. ``{"method": dict}``: a
    checkpoint without one, or with one of another type, is refused here rather than failing
    later with a bare KeyError."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({_short(err)})") from err
    if size == 0:
        raise CheckpointError(f"{path}: is empty (0 bytes), not a checkpoint")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # corrupt, truncated, another kind of file, or holds pickled objects
        raise CheckpointError(f"{path}: {_unreadable_cause(path, head, err)}") from err
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a dict checkpoint, found {type(state).__name__}")
    for key, kind in (require or {}).items():
        if key not in state:
            held = ", ".join(map(str, state)) or "nothing"
            raise CheckpointError(f"{path}: not a training checkpoint: it has no {key!r} entry (it holds: {held})")
        if not isinstance(state[key], kind) or (kind is int and isinstance(state[key], bool)):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise CheckpointError(f"{path}: entry {key!r} is a {type(state[key]).__name__}, expected {names}")
    return state


def _unreadable_cause(path: Path, head: bytes, err: Exception) -> str:
    """Why torch.load failed, in one short line."""
    if isinstance(err, (PermissionError, IsADirectoryError)) or (isinstance(err, OSError) and err.errno == errno.EIO):
        return f"cannot be read ({_short(err)})"  # torch's zip reader says EINVAL for a cut archive: corrupt
    unsafe = re.findall(r"GLOBAL\s+([\w.]+)", str(err))
    if not unsafe and "weights only" in str(err).lower():
        try:
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:  # not a readable checkpoint at all: corrupt, said below
            unsafe = []
    if unsafe:
        held = ", ".join(sorted(set(unsafe)))
        return (f"refused: it holds objects other than tensors and plain containers ({held}), "
                "and loading it could run code")
    if head.startswith(_ZIP_MAGIC):
        if not zipfile.is_zipfile(path):
            return "is truncated or corrupt (an incomplete zip archive)"
        with zipfile.ZipFile(path) as archive:
            if not any(n.endswith("data.pkl") for n in archive.namelist()):
                return "is a zip archive, but not a PyTorch checkpoint"
        return f"is corrupt ({_short(err)})"
    if head.startswith(_PICKLE_MAGIC):
        return f"is truncated or corrupt ({_short(err)})"
    return "is not a PyTorch checkpoint (corrupt, or another kind of file)"


def _short(err: BaseException) -> str:
    """The first sentence of an error's message, or its type when the message is empty."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    text = " ".join(str(err).split())
    text = re.split(r"(?<=[a-z\]\)])\. ", text, maxsplit=1)[0].rstrip(".")
    if len(text) > 160:
        text = text[:157] + "..."
    return text or type(err).__name__


# ---- loading weights into a model built from the current config ----------------------------
def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, Mapping) and (tree or not prefix):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: tree}


def config_differences(saved: Mapping | None, current: Mapping | None) -> list[tuple[str, Any, Any]]:
    """`(dotted key, checkpoint's value, current value)` for every config key that can change
    a model's weights and differs (keys of `train`, `seed`, and where the data is read from
    are left out). The model's sections (method, encoder, frontend) come first. A key one
    side lacks has the value `None` there."""
    if not isinstance(saved, Mapping) or not isinstance(current, Mapping):
        return []
    a, b = _flatten(saved), _flatten(current)
    diffs = []
    for key in list(a) + [k for k in b if k not in a]:
        if any(key == p or key.startswith(p + ".") for p in _RUN_ONLY_KEYS):
            continue
        if a.get(key) != b.get(key):
            diffs.append((key, a.get(key), b.get(key)))
    return sorted(diffs, key=lambda d: d[0].split(".")[0] not in _MODEL_SECTIONS)


def _describe_differences(diffs: list[tuple[str, Any, Any]], limit: int = 6) -> str:
    shown = [f"{k} ({a!r} in the checkpoint, {b!r} now)" for k, a, b in diffs[:limit]]
    more = f" and {len(diffs) - limit} more" if len(diffs) > limit else ""
    return ", ".join(shown) + more


def _weights_detail(module: torch.nn.Module, weights: Mapping) -> str:
    """The first way `weights` does not fit `module`: a shape, or names missing / unexpected."""
    own = module.state_dict()
    for name, value in weights.items():
        if name in own and hasattr(value, "shape") and tuple(value.shape) != tuple(own[name].shape):
            return (f"{name} is {list(value.shape)} in the checkpoint, {list(own[name].shape)} in this model")
    missing = [n for n in own if n not in weights]
    unexpected = [n for n in weights if n not in own]
    parts = []
    if missing:
        parts.append(f"{len(missing)} weights missing, e.g. {missing[0]}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected, e.g. {unexpected[0]}")
    return "; ".join(parts)


def load_method_state(method: torch.nn.Module, state: Mapping, path: str | os.PathLike,
                      config: Mapping | None = None, *, key: str = "method",
                      optimizer: torch.optim.Optimizer | None = None) -> None:
    """Load `state[key]` into `method` (strictly), and `state["optimizer"]` into `optimizer`
    when given; a `CheckpointError` naming `path` when they do not fit.

    `config` is the current run's resolved config as a dict (`Config.to_dict()`); when the
    weights do not fit, the error names the config keys that differ between it and the
    checkpoint's stored `state["config"]` (the architecture it was trained with), e.g.
    ``last.pt: its weights do not fit this model, built from another config: encoder.channels
    (32 in the checkpoint, 64 now)``. After a failure the module may be partly loaded:
    discard it."""
    weights = state.get(key) if isinstance(state, Mapping) else None
    if not isinstance(weights, Mapping):
        raise CheckpointError(f"{path}: holds no {key!r} weights (not a training checkpoint of this kind)")
    diffs = config_differences(state.get("config"), config) if config is not None else []
    try:
        method.load_state_dict(weights)
    except (RuntimeError, ValueError, KeyError, TypeError) as err:
        detail = _weights_detail(method, weights) or _short(err)
        if diffs:
            raise CheckpointError(f"{path}: its weights do not fit this model, built from another config: "
                                  f"{_describe_differences(diffs)}; first misfit: {detail}") from err
        same = " (the model keys of both configs agree)" if config is not None and "config" in state else ""
        raise CheckpointError(f"{path}: its weights do not fit this model{same}: {detail}") from err
    if optimizer is None:
        return
    opt_state = state.get("optimizer")
    if not isinstance(opt_state, Mapping):
        raise CheckpointError(f"{path}: holds no 'optimizer' state (not a training checkpoint)")
    try:
        optimizer.load_state_dict(opt_state)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as err:
        because = f"; config keys differ: {_describe_differences(diffs)}" if diffs else ""
        raise CheckpointError(f"{path}: its optimiser state does not fit this run's optimiser "
                              f"({_short(err)}){because}") from err


def save_separator(path: str | os.PathLike, model: torch.nn.Module, **extra) -> Path:
    """A separator on its own (`kind: separator`: its config dataclass and weights, no
    optimiser), for sharing; `audiorep.builders.load_separator` reads it, and reads a
    separator method's training checkpoints too."""
    from dataclasses import asdict

    return save_checkpoint(path, {"kind": "separator", "model_config": asdict(model.config),
                                  "state_dict": model.state_dict(), **extra})
