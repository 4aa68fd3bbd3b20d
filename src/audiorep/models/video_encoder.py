"""A small (2+1)D ResNet for low-resolution video (8 to 64 px), the visual side of audio-visual
learning.

Every 3D convolution is factorised into a spatial 1x3x3 convolution followed by a temporal
3x1x1 one (R(2+1)D, Tran et al. 2018): fewer parameters and an extra non-linearity for the
same receptive field, and on the CPU two cheap convolutions instead of one 27-tap one.

Spatial strides are chosen per input, not per model: the same weights read 8 px and 64 px
frames. Each stride point (the stem and the first block of each stage) halves height and
width while they are larger than `min_size`, so every input ends on a map of at most
`min_size` x `min_size` (4 x 4 by default) and an 8 px clip is halved once, not shrunk to
nothing. Time is never strided: frame features keep the input frame rate.

Normalisation is BatchNorm by default. Under DDP each rank normalises with its own batch
statistics, which is what the audio encoders already do and is fine here: even at 8 px a
rank's batch of B x F x 4 x 4 positions gives every channel hundreds of values. The batch
statistics mix examples, but no more than they do for the audio encoder, and the cross-modal
positives are found in another network's embedding, so BatchNorm gives no shortcut to the
pair. `norm: group` switches to GroupNorm, independent of the batch, for per-device batches
of a few clips (gradient accumulation) where batch statistics get noisy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from audiorep.config import check
from audiorep.models.encoder_config import EncoderConfig


@dataclass
class VideoEncoderConfig(EncoderConfig):
    """The video encoder's section for `name: r2plus1d`; stage s has `width * 2**s` channels."""

    name: str = "r2plus1d"
    width: int = 16
    embedding_dim: int = 128
    blocks: list[int] = field(default_factory=lambda: [1, 1, 1])  # residual blocks per stage
    norm: str = "batch"  # batch | group
    min_size: int = 4  # halve height and width while they are larger than this

    def validate(self, key):
        super().validate(key)
        check(len(self.blocks) >= 1 and all(isinstance(b, int) and b >= 1 for b in self.blocks),
              f"{key}.blocks", self.blocks, "a list of integers >= 1 (residual blocks per stage)")
        check(self.norm in ("batch", "group"), f"{key}.norm", self.norm, "one of batch, group")
        check(self.min_size >= 1, f"{key}.min_size", self.min_size, "an integer >= 1")


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "group":
        return nn.GroupNorm(math.gcd(channels, 8), channels)
    return nn.BatchNorm3d(channels)


class SpatialConv(nn.Conv3d):
    """1x3x3 convolution whose spatial stride is given at call time (see the module doc)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(c_in, c_out, (1, 3, 3), padding=(0, 1, 1), bias=False)

    def forward(self, x: torch.Tensor, stride: tuple[int, int] = (1, 1)) -> torch.Tensor:
        return F.conv3d(x, self.weight, None, (1, *stride), self.padding)


class Conv2Plus1D(nn.Module):
    """Spatial 1x3x3 -> norm -> ReLU -> temporal 3x1x1 (no norm or activation after: the caller adds them)."""

    def __init__(self, c_in: int, c_out: int, norm: str):
        super().__init__()
        self.spatial = SpatialConv(c_in, c_out)
        self.norm = _norm(norm, c_out)
        self.temporal = nn.Conv3d(c_out, c_out, (3, 1, 1), padding=(1, 0, 0), bias=False)

    def forward(self, x: torch.Tensor, stride: tuple[int, int] = (1, 1)) -> torch.Tensor:
        return self.temporal(F.relu(self.norm(self.spatial(x, stride)), inplace=True))


class ResidualBlock(nn.Module):
    """Basic ResNet block of two (2+1)D convolutions; a 1x1x1 projection shortcut when it may
    change channels or stride (the first block of a stage)."""

    def __init__(self, c_in: int, c_out: int, norm: str, project: bool):
        super().__init__()
        self.conv1, self.norm1 = Conv2Plus1D(c_in, c_out, norm), _norm(norm, c_out)
        self.conv2, self.norm2 = Conv2Plus1D(c_out, c_out, norm), _norm(norm, c_out)
        self.shortcut = nn.Conv3d(c_in, c_out, 1, bias=False) if project else None
        self.shortcut_norm = _norm(norm, c_out) if project else None

    def forward(self, x: torch.Tensor, stride: tuple[int, int] = (1, 1)) -> torch.Tensor:
        out = F.relu(self.norm1(self.conv1(x, stride)), inplace=True)
        out = self.norm2(self.conv2(out))
        if self.shortcut is None:
            skip = x
        else:
            skip = self.shortcut_norm(self.shortcut(x[..., :: stride[0], :: stride[1]]))
        return F.relu(out + skip, inplace=True)


def _halvings(size: int, min_size: int, points: int) -> int:
    """How many stride-2 steps (3x3, padding 1: n -> ceil(n / 2)) bring `size` to <= min_size."""
    n = 0
    while size > min_size and n < points:
        size, n = (size + 1) // 2, n + 1
    return n


class R2Plus1D(nn.Module):
    """Video [B, F, 3, H, W] (float in [0, 1], or uint8) -> clip embedding [B, D]; with
    `return_frames=True` also frame features [B, F, D] (their mean is the clip embedding)."""

    Config = VideoEncoderConfig
    reads = "video"
    time_stride = 1  # one frame feature per input frame

    def __init__(self, width: int = 16, embedding_dim: int = 128, dropout: float = 0.0, blocks=(1, 1, 1),
                 norm: str = "batch", min_size: int = 4, in_channels: int = 3):
        super().__init__()
        self.in_channels, self.min_size = in_channels, min_size
        self.stem = Conv2Plus1D(in_channels, width, norm)
        self.stem_norm = _norm(norm, width)
        self.stages = nn.ModuleList()
        c_in = width
        for s, n_blocks in enumerate(blocks):
            c_out = width * 2**s
            self.stages.append(nn.ModuleList(
                [ResidualBlock(c_in if b == 0 else c_out, c_out, norm, project=b == 0) for b in range(n_blocks)]))
            c_in = c_out
        self.dropout = nn.Dropout(dropout)
        self.to_embedding = nn.Linear(c_in, embedding_dim)
        self.out_dim = embedding_dim

    @property
    def stride_points(self) -> int:
        return 1 + len(self.stages)

    def strides(self, height: int, width: int) -> list[tuple[int, int]]:
        """Spatial stride of each stride point (stem, then each stage) for an H x W input:
        the halvings go to the earliest points, where maps are largest and convolutions cost most."""
        kh = _halvings(height, self.min_size, self.stride_points)
        kw = _halvings(width, self.min_size, self.stride_points)
        return [(2 if i < kh else 1, 2 if i < kw else 1) for i in range(self.stride_points)]

    def forward(self, video: torch.Tensor, return_frames: bool = False):
        if video.dim() != 5 or video.shape[2] != self.in_channels:
            raise ValueError(f"R2Plus1D expects video [batch, frames, {self.in_channels}, height, width], "
                             f"got shape {tuple(video.shape)}")
        if video.dtype == torch.uint8:
            video = video.float() / 255
        strides = self.strides(video.shape[-2], video.shape[-1])
        x = (video.transpose(1, 2) - 0.5) / 0.25  # [B, C, F, H, W], roughly zero mean and unit variance
        x = F.relu(self.stem_norm(self.stem(x, strides[0])), inplace=True)
        for stage, stride in zip(self.stages, strides[1:]):
            for b, block in enumerate(stage):
                x = block(x, stride if b == 0 else (1, 1))
        frames = self.to_embedding(self.dropout(x.mean(dim=(3, 4)).transpose(1, 2)))  # [B, F, D]
        clip = frames.mean(dim=1)  # the mean over frames of a linear map = the linear map of the mean
        return (clip, frames) if return_frames else clip
