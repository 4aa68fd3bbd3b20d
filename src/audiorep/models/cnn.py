"""The default audio encoder: a compact CNN on log-mel, built for CPU-minute budgets.

Each stage downsamples with a strided 3x3 convolution (on CPU, pooling layers cost as
much as the convolutions they follow), optionally followed by more 3x3 convolutions.
Frequency is halved at every stage, time only in the first two, so frame features keep
a 40 ms hop (HEAR asks for timestamps at most 50 ms apart).

The last map [C, F', T'] becomes frame features either by averaging frequency (`freq_pool:
mean`, C features per frame) or, as BYOL-A does, by keeping each band (`flatten`, C x F'
features per frame) before the 1x1 projection to `embedding_dim`: pitch and formants live in
where the energy is, which the average throws away (docs/real_audio.md measures it).
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
    freq_pool: str = "mean"  # mean: average the last map's bands | flatten: keep them (BYOL-A style)

    def validate(self, key):
        super().validate(key)
        check(self.convs_per_stage >= 1, f"{key}.convs_per_stage", self.convs_per_stage, "an integer >= 1")
        check(self.freq_pool in FREQ_POOLS, f"{key}.freq_pool", self.freq_pool, f"one of {', '.join(FREQ_POOLS)}")


FREQ_POOLS = ("mean", "flatten")


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
                 convs_per_stage: int = 1, freq_pool: str = "mean"):
        super().__init__()
        if freq_pool not in FREQ_POOLS:
            raise ValueError(f"freq_pool must be one of {FREQ_POOLS}, got {freq_pool!r}")
        self.freq_pool = freq_pool
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
        bands = in_features
        for f_stride, _ in self.STRIDES:  # 3x3, padding 1: ceil(n / stride) bands remain
            bands = -(-bands // f_stride)
        self.to_embedding = nn.Conv1d(c_in * (bands if freq_pool == "flatten" else 1), embedding_dim, 1)
        self.out_dim = embedding_dim

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.input_norm(mel).unsqueeze(1).contiguous(memory_format=torch.channels_last)
        x = self.stages(x)  # [B, C, F', T']
        x = x.mean(dim=2) if self.freq_pool == "mean" else x.flatten(1, 2)  # [B, C or C * F', T']
        return self.to_embedding(self.dropout(x))
