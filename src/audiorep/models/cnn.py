"""The default audio encoder: a compact CNN on log-mel, built for CPU-minute budgets.

Each stage downsamples with a strided 3x3 convolution (on CPU, pooling layers cost as
much as the convolutions they follow), optionally followed by more 3x3 convolutions.
Frequency is halved at every stage, time only in the first two, so frame features keep
a 40 ms hop (HEAR asks for timestamps at most 50 ms apart).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from audiorep.config import check
from audiorep.models.encoder_config import EncoderConfig


@dataclass
class CNNConfig(EncoderConfig):
    """The `encoder:` section for `name: cnn` (width doubles at each of the four stages)."""

    name: str = "cnn"
    convs_per_stage: int = 1  # 3x3 convolutions per stage: the strided one, then more at stride 1

    def validate(self, key):
        super().validate(key)
        check(self.convs_per_stage >= 1, f"{key}.convs_per_stage", self.convs_per_stage, "an integer >= 1")


def conv_bn_relu(c_in: int, c_out: int, stride) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class AudioCNN(nn.Module):
    """Log-mel [B, F, T] -> frame features [B, D, ceil(T / 4)]."""

    Config = CNNConfig
    reads = "spectrogram"
    time_stride = 4
    time_offset = 0.0  # 3x3 stride-2 padding-1 convolutions: output frame j is centred on input frame 4j
    STRIDES = ((2, 2), (2, 2), (2, 1), (2, 1))

    def __init__(self, in_features: int = 64, width: int = 32, embedding_dim: int = 512, dropout: float = 0.0,
                 convs_per_stage: int = 1):
        super().__init__()
        self.input_norm = nn.BatchNorm1d(in_features)  # learned per-band standardisation
        layers, c_in = [], 1
        for i, stride in enumerate(self.STRIDES):
            c_out = width * 2**i
            layers += conv_bn_relu(c_in, c_out, stride)
            for _ in range(convs_per_stage - 1):
                layers += conv_bn_relu(c_out, c_out, 1)
            c_in = c_out
        self.stages = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.to_embedding = nn.Conv1d(c_in, embedding_dim, 1)
        self.out_dim = embedding_dim

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.input_norm(mel).unsqueeze(1).contiguous(memory_format=torch.channels_last)
        x = self.stages(x).mean(dim=2)  # [B, C, T'] after pooling frequency
        return self.to_embedding(self.dropout(x))
