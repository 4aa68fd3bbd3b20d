"""Batched audio augmentations that run where the batch is (CPU or GPU).

Every op is an `nn.Module`: `op(x, generator=None) -> x'` on waveforms [B, T] (log-mel
[B, F, T] for the spectrogram ops), with independent random parameters per example drawn
from a CPU `torch.Generator` and heavy work batched on `x.device`. `build_chain(spec)`
builds a chain from a recipe's YAML list; see docs/augmentations.md.
"""

from __future__ import annotations

import importlib

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.compose import OPS, Compose, OneOf, RandomApply, build_chain, op_class

__all__ = ["BatchAugmentation", "Compose", "OneOf", "RandomApply", "build_chain", "op_class", "OPS"]

_CLASSES = {cls: module for module, cls in OPS.values()}


def __getattr__(name: str):
    """Op classes (`audiorep.augment.PitchShift`, ...) load on first use."""
    if name in _CLASSES:
        return getattr(importlib.import_module(f"audiorep.augment.{_CLASSES[name]}"), name)
    raise AttributeError(f"module 'audiorep.augment' has no attribute {name!r}")
