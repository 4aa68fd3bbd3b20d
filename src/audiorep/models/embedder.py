"""The frozen representation: front-end + encoder + pooling.

`AudioEmbedder.forward` gives one scene embedding per clip (mean + max over time of the
frame features, as PANNs pool); `frames` gives timestamped frame embeddings for the HEAR
API. Every method trains its encoder inside an `AudioEmbedder`, so what is evaluated is
exactly what was trained. The front-end is any module that maps waveforms [B, T] to
features [B, F, T'] and has `sample_rate` and `hop_seconds` (log-mel, or raw samples);
`audiorep.builders` builds and loads embedders.
"""

from __future__ import annotations

import torch
from torch import nn


class AudioEmbedder(nn.Module):
    def __init__(self, frontend: nn.Module, encoder: nn.Module):
        super().__init__()
        self.frontend = frontend
        self.encoder = encoder

    @property
    def sample_rate(self) -> int:
        return self.frontend.sample_rate

    @property
    def embedding_size(self) -> int:
        return self.encoder.out_dim

    @property
    def frame_hop_s(self) -> float:
        return self.frontend.hop_seconds * self.encoder.time_stride

    def frame_features(self, wave: torch.Tensor) -> torch.Tensor:
        """Waveform [B, T] -> frame features [B, D, T']."""
        return self.encoder(self.frontend(wave))

    def embed_features(self, features: torch.Tensor) -> torch.Tensor:
        """Front-end output [B, F, T] (e.g. an augmented log-mel) -> scene embeddings [B, D]."""
        return self.pool(self.encoder(features))

    @staticmethod
    def pool(features: torch.Tensor) -> torch.Tensor:
        return features.mean(dim=-1) + features.amax(dim=-1)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.pool(self.frame_features(wave))

    def frames(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Waveform [B, T] -> (frame embeddings [B, T', D], times in seconds [T'] of the centre of
        each frame's receptive field).

        Front-end frame i is centred at i * hop (log-mel frames are centred; sample i is at
        i / rate), and the encoder says where its output frame 0 is centred in front-end frames
        (`time_offset`), so output frame j is centred at (j * time_stride + time_offset) * hop.
        `tests/models/test_frame_timing.py` checks this by gradients on every encoder."""
        feats = self.frame_features(wave).transpose(1, 2)
        frame = torch.arange(feats.shape[1], device=feats.device, dtype=torch.float64)
        times = (frame * self.encoder.time_stride + self.encoder.time_offset) * self.frontend.hop_seconds
        return feats, times.float()
