"""Log-mel statistics: the hand-made reference embedder every learned representation must beat.

`LogMelStatsEmbedder` has the AudioEmbedder interface: forward(wave[B, T]) -> [B, D],
frames(wave[B, T]) -> ([B, T', D'], times_s[T']), sample_rate, embedding_size, frame_hop_s.
The other reference, the encoder at random initialisation, is the encoder itself:
`audiorep.builders.build_baseline` builds both.
"""

from __future__ import annotations

import torch
from torch import nn

from audiorep.frontend.log_mel import LogMel


class LogMelStatsEmbedder(nn.Module):
    """Scene embedding = [mean, std] over time of each log-mel band -> [B, 2 * n_mels];
    frame embeddings = the log-mel frames themselves -> [B, T', n_mels]."""

    def __init__(self, sample_rate: int = 16000, n_mels: int = 64, hop_ms: float = 10.0):
        super().__init__()
        self.log_mel = LogMel(sample_rate=sample_rate, n_mels=n_mels, hop_ms=hop_ms)
        self.sample_rate = sample_rate
        self.embedding_size = 2 * n_mels
        self.frame_embedding_size = n_mels
        self.frame_hop_s = self.log_mel.hop_seconds

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        mel = self.log_mel(wave)
        return torch.cat([mel.mean(dim=-1), mel.std(dim=-1, unbiased=False)], dim=-1)

    def frames(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mel = self.log_mel(wave).transpose(1, 2)
        times_s = torch.arange(mel.shape[1], device=mel.device, dtype=torch.float64) * self.frame_hop_s
        return mel, times_s
