"""Tokenizers by name, and as files: a fitted tokenizer is shared between the runs that
train models on its tokens, so it is saved on its own (`kind: tokenizer`: its name, its
constructor settings and its weights) and read back without unpickling anything."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

from audiorep.config import check
from audiorep.errors import CheckpointError, ConfigError
from audiorep.io.checkpoint import load_checkpoint, save_checkpoint
from audiorep.tokenizers.base import Tokenizer
from audiorep.tokenizers.kmeans import KMeansTokenizer
from audiorep.tokenizers.vector_quantizer import VQTokenizer

TOKENIZERS = {"kmeans": KMeansTokenizer, "vq": VQTokenizer}
RESERVED = ("kind", "tokenizer", "settings", "state_dict")


def build_tokenizer(name: str, n_features: int, codebook_size: int, patch_frames: int = 1,
                    **settings) -> Tokenizer:
    """An unfitted tokenizer; `settings` are the named class's own constructor arguments."""
    check(name in TOKENIZERS, "tokenizer", name, f"one of {', '.join(sorted(TOKENIZERS))}")
    cls = TOKENIZERS[name]
    known = [p for p in inspect.signature(cls).parameters if p not in ("n_features", "codebook_size", "patch_frames")]
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ConfigError(f"tokenizer {name!r}: unknown setting(s) {unknown}; expected some of {known}")
    return cls(n_features, codebook_size, patch_frames, **settings)


def save_tokenizer(path: str | os.PathLike, tokenizer: Tokenizer, **extra) -> Path:
    """Write `tokenizer` atomically; `extra` (numbers, strings, lists, dicts, tensors) is kept
    alongside, e.g. its fit history."""
    clash = sorted(set(extra) & set(RESERVED))
    if clash:
        raise ValueError(f"save_tokenizer: extra keys {clash} are reserved")
    return save_checkpoint(path, {"kind": "tokenizer", "tokenizer": tokenizer.name, "settings": tokenizer.settings(),
                                  "state_dict": tokenizer.state_dict(), **extra})


def load_tokenizer(path: str | os.PathLike, device: str = "cpu") -> Tokenizer:
    """The tokenizer `save_tokenizer` wrote, frozen, on `device`."""
    state = load_checkpoint(path, map_location=device)
    if state.get("kind") != "tokenizer":
        raise CheckpointError(f"{path}: holds a {state.get('kind', 'training')!r} checkpoint, not a tokenizer")
    name, settings = state.get("tokenizer"), state.get("settings")
    if name not in TOKENIZERS or not isinstance(settings, dict) or "state_dict" not in state:
        raise CheckpointError(f"{path}: not a readable tokenizer file (tokenizer {name!r}; known: "
                              f"{', '.join(sorted(TOKENIZERS))})")
    try:
        tokenizer = build_tokenizer(name, **settings)
    except (ConfigError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: its {name} tokenizer settings cannot be built ({err})") from err
    try:
        tokenizer.load_state_dict(state["state_dict"])
    except (RuntimeError, KeyError, TypeError) as err:
        raise CheckpointError(f"{path}: its weights do not fit a {name} tokenizer with {settings} ({err})") from err
    return tokenizer.to(device)
