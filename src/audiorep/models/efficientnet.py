"""EfficientNet-B0-style encoder on log-mel (MBConv blocks with squeeze-excitation).

The architecture of Tan & Le (2019), B0 widths and depths scaled by `width / 32`, with
time pooling limited so frame features keep a 40 ms hop. Heavier than `AudioCNN`: meant
for GPU runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from audiorep.models.encoder_config import EncoderConfig


@dataclass
class EfficientNetConfig(EncoderConfig):
    """The `encoder:` section for `name: efficientnet_b0` (B0's widths scaled by width / 32)."""

    name: str = "efficientnet_b0"

# (expand ratio, channels, repeats, stride (freq, time), kernel) for B0
_B0_STAGES = [
    (1, 16, 1, (1, 1), 3),
    (6, 24, 2, (2, 2), 3),
    (6, 40, 2, (2, 1), 5),
    (6, 80, 3, (2, 1), 3),
    (6, 112, 3, (1, 1), 5),
    (6, 192, 4, (2, 1), 5),
    (6, 320, 1, (1, 1), 3),
]


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.fc = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, reduced, 1), nn.SiLU(),
                                nn.Conv2d(reduced, channels, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.fc(x)


class MBConv(nn.Module):
    def __init__(self, c_in, c_out, expand, stride, kernel, drop_path=0.0):
        super().__init__()
        hidden = c_in * expand
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.SiLU()]
        layers += [nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False),
                   nn.BatchNorm2d(hidden), nn.SiLU(), SqueezeExcite(hidden, max(1, c_in // 4)),
                   nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == (1, 1) and c_in == c_out
        self.drop_path = drop_path

    def forward(self, x):
        y = self.body(x)
        if not self.residual:
            return y
        if self.training and self.drop_path > 0:
            keep = torch.rand(x.shape[0], 1, 1, 1, device=x.device) >= self.drop_path
            y = y * keep / (1 - self.drop_path)
        return x + y


class EfficientNetB0(nn.Module):
    """Log-mel [B, F, T] -> frame features [B, D, T // 4]."""

    Config = EfficientNetConfig
    reads = "spectrogram"
    time_stride = 4
    time_offset = 0.0  # odd kernels padded by half: output frame j is centred on input frame 4j

    def __init__(self, in_features: int = 64, width: int = 32, embedding_dim: int = 512, dropout: float = 0.0):
        super().__init__()
        scale = width / 32

        def ch(c):
            return max(8, int(round(c * scale / 8)) * 8)

        self.input_norm = nn.BatchNorm1d(in_features)
        stem = ch(32)
        self.stem = nn.Sequential(nn.Conv2d(1, stem, 3, (2, 2), 1, bias=False), nn.BatchNorm2d(stem), nn.SiLU())
        blocks, c_in = [], stem
        n_total = sum(r for _, _, r, _, _ in _B0_STAGES)
        i = 0
        for expand, c, repeats, stride, k in _B0_STAGES:
            for r in range(repeats):
                blocks.append(MBConv(c_in, ch(c), expand, stride if r == 0 else (1, 1), k, 0.2 * i / n_total))
                c_in = ch(c)
                i += 1
        self.blocks = nn.Sequential(*blocks)
        head = ch(1280)
        self.head = nn.Sequential(nn.Conv2d(c_in, head, 1, bias=False), nn.BatchNorm2d(head), nn.SiLU())
        self.dropout = nn.Dropout(dropout)
        self.to_embedding = nn.Conv1d(head, embedding_dim, 1)
        self.out_dim = embedding_dim

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.input_norm(mel).unsqueeze(1)
        x = self.head(self.blocks(self.stem(x)))
        x = x.mean(dim=2)
        return self.to_embedding(self.dropout(x))
