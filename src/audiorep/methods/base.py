"""What every method shares: its own validated config and the contract with the trainer.

A method is an `nn.Module` that turns a batch into a loss. The batch is a mapping of named
fields on the training device (`audio` [B, T]; `sources` [B, K, T] when the method asks for
them in `batch_fields`; later `video`, `tokens`), and `forward(batch, generator)` returns
`{"loss": tensor, **scalars to log}`. It owns no loop: the trainer calls it (through DDP
when distributed), optimises its parameters and calls `after_step` after every optimiser
step (where a momentum teacher follows its student). A method may own several encoders and
heads; `embedder` is the representation it trains for others to use (the online probe,
checkpoints, `audiorep evaluate`), or None when it trains something else (a separator).
Its parts are built from config by `audiorep.builders` and handed to its constructor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class MethodConfig:
    """Base of every method's `method:` section; subclasses add their keys and `validate`."""

    name: str


class Method(nn.Module):
    Config = MethodConfig
    batch_fields: tuple[str, ...] = ("audio",)  # what the batch must hold
    # self.embedder: set by methods that train a representation (a class attribute here
    # would hide the submodule from nn.Module's attribute lookup)

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        raise NotImplementedError

    def after_step(self, step: int, progress: float) -> None:
        """Called after optimiser step `step` (1-based), `progress` of the run in [0, 1]."""
