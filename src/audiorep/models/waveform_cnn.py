"""An encoder that reads raw samples (front-end `waveform`): strided 1-D convolutions learn
their own filterbank, as in wav2vec's feature encoder, down to a 40 ms frame hop at 16 kHz.

Each layer pads by (kernel - stride) / 2, so output frame j summarises input samples
[j·S, j·S + S) of the total stride S: its receptive field is centred (S - 1) / 2 samples
after j·S (`time_offset`), which `AudioEmbedder.frames` reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from audiorep.models.encoder_config import EncoderConfig


@dataclass
class WaveformCNNConfig(EncoderConfig):
    """The `encoder:` section for `name: waveform_cnn` (width x1, x2, x4 deeper in)."""

    name: str = "waveform_cnn"


class WaveformCNN(nn.Module):
    """Waveform [B, 1, T] -> frame features [B, D, T // 640]."""

    Config = WaveformCNNConfig
    reads = "waveform"
    LAYERS = ((11, 5, 1), (8, 4, 1), (4, 2, 2), (4, 2, 2), (4, 2, 4), (4, 2, 4), (4, 2, 4))  # kernel, stride, width x
    time_stride = 640
    time_offset = (640 - 1) / 2  # output frame j summarises samples [640j, 640j + 640)

    def __init__(self, in_features: int = 1, width: int = 32, embedding_dim: int = 512, dropout: float = 0.0):
        super().__init__()
        channels = [in_features] + [width * mult for _, _, mult in self.LAYERS]
        self.layers = nn.Sequential(*(
            nn.Sequential(nn.Conv1d(c_in, c_out, kernel, stride, (kernel - stride) // 2, bias=False),
                          nn.BatchNorm1d(c_out), nn.ReLU(inplace=True))
            for (kernel, stride, _), c_in, c_out in zip(self.LAYERS, channels, channels[1:])))
        self.dropout = nn.Dropout(dropout)
        self.to_embedding = nn.Conv1d(channels[-1], embedding_dim, 1)
        self.out_dim = embedding_dim

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.to_embedding(self.dropout(self.layers(wave)))
