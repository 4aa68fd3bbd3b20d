"""An encoder that reads raw samples (front-end `waveform`): strided 1-D convolutions learn
their own filterbank, as in wav2vec's feature encoder, down to a 40 ms frame hop at 16 kHz.

Each layer pads by (kernel - stride) / 2, so output frame j summarises input samples
[j·S, j·S + S) of the total stride S, which is what `AudioEmbedder.frames` assumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from audiorep.config import check


@dataclass
class WaveformCNNConfig:
    """The `encoder:` section for `name: waveform_cnn`."""

    name: str = "waveform_cnn"
    width: int = 32  # channels of the first layers; 2x and 4x deeper in
    embedding_dim: int = 512
    dropout: float = 0.0

    def validate(self, key):
        check(self.width >= 4, f"{key}.width", self.width, "an integer >= 4")
        check(self.embedding_dim >= 8, f"{key}.embedding_dim", self.embedding_dim, "an integer >= 8")
        check(0 <= self.dropout < 1, f"{key}.dropout", self.dropout, "a probability in [0, 1)")


class WaveformCNN(nn.Module):
    """Waveform [B, 1, T] -> frame features [B, D, T // 640]."""

    Config = WaveformCNNConfig
    reads = "waveform"
    LAYERS = ((11, 5, 1), (8, 4, 1), (4, 2, 2), (4, 2, 2), (4, 2, 4), (4, 2, 4), (4, 2, 4))  # kernel, stride, width x
    time_stride = 640

    def __init__(self, in_features: int = 1, width: int = 32, embedding_dim: int = 512, dropout: float = 0.0):
        super().__init__()
        layers, c_in = [], in_features
        for kernel, stride, mult in self.LAYERS:
            c_out = width * mult
            layers += [nn.Conv1d(c_in, c_out, kernel, stride, (kernel - stride) // 2, bias=False),
                       nn.BatchNorm1d(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.to_embedding = nn.Conv1d(c_in, embedding_dim, 1)
        self.out_dim = embedding_dim

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.to_embedding(self.dropout(self.layers(wave)))
