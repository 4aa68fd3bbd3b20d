"""What every method shares: its own validated config, an embedder, and the step contract.

A method makes views, runs them through the shared `AudioEmbedder` and heads, and returns
`{"loss": tensor, **scalars to log}` from `forward(audio, generator)`. It owns no loop: the
trainer calls it (through DDP when distributed) and optimises its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from audiorep.config import from_dict
from audiorep.models.embedder import AudioEmbedder


@dataclass
class MethodConfig:
    name: str

    @classmethod
    def from_dict(cls, data: dict):
        return from_dict(cls, data, "method")


class Method(nn.Module):
    Config = MethodConfig

    def __init__(self, cfg: MethodConfig, embedder: AudioEmbedder, sample_rate: int):
        super().__init__()
        self.cfg = cfg
        self.embedder = embedder
        self.sample_rate = sample_rate

    def forward(self, audio: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        raise NotImplementedError
