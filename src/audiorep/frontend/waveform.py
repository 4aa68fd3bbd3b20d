"""The raw-waveform front-end: no hand-made features, the encoder learns its own filters.

It only adds a feature axis, so every encoder reads `[B, features, time]`: log-mel gives
`[B, n_mels, frames]`, this gives `[B, 1, samples]`.
"""

from __future__ import annotations

import torch
from torch import nn


class Waveform(nn.Module):
    """Waveform [B, T] -> [B, 1, T]."""

    produces = "waveform"
    n_features = 1

    def __init__(self, sample_rate: int = 16000):
        super().__init__()
        self.sample_rate = int(sample_rate)

    @property
    def hop_seconds(self) -> float:
        return 1.0 / self.sample_rate

    def extra_repr(self) -> str:
        return f"sample_rate={self.sample_rate}"

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return wave.float().unsqueeze(-2)
