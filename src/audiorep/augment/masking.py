"""SpecAugment time and frequency masks on log-mel batches [B, F, T]."""

from __future__ import annotations

import torch

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.random_draws import randint


def band_mask(size: int, count: int, max_width: int, batch: int, generator, device) -> torch.Tensor:
    """[B, size] bool: `count` bands per example, each of width in [0, max_width] at a random start."""
    width = randint(batch * count, max_width + 1, generator).view(batch, count)
    width = width.clamp(max=size)
    start = randint(batch * count, (size - width + 1).view(-1), generator).view(batch, count)
    position = torch.arange(size, device=device)[None, None, :]
    start, width = start.to(device)[..., None], width.to(device)[..., None]
    return ((position >= start) & (position < start + width)).any(dim=1)


class _SpectrogramMask(BatchAugmentation):
    input_dims = 3
    axis = -1

    def __init__(self, max_width: int, count: int = 2, fill: str = "mean", p: float = 1.0):
        super().__init__(p)
        if max_width < 0 or count < 1:
            raise ValueError(f"max_width must be >= 0 and count >= 1, got max_width={max_width}, count={count}")
        if fill not in ("mean", "zero", "min"):
            raise ValueError(f"fill must be 'mean', 'zero' or 'min', got {fill!r}")
        self.max_width, self.count, self.fill = int(max_width), int(count), fill

    def fill_value(self, x: torch.Tensor) -> torch.Tensor:
        if self.fill == "zero":
            return torch.zeros((), dtype=x.dtype, device=x.device)
        flat = x.flatten(1)
        value = flat.mean(1) if self.fill == "mean" else flat.amin(1)
        return value[:, None, None]

    def transform(self, x, generator):
        mask = band_mask(x.shape[self.axis], self.count, self.max_width, x.shape[0], generator, x.device)
        mask = mask[:, None, :] if self.axis == -1 else mask[:, :, None]
        return torch.where(mask, self.fill_value(x), x)

    def extra_repr(self) -> str:
        return f"max_width={self.max_width}, count={self.count}, fill={self.fill!r}, p={self.p}"


class TimeMask(_SpectrogramMask):
    """Replace `count` random runs of up to `max_width` frames with the example's mean (or 0/min)."""

    axis = -1

    def __init__(self, max_width: int = 20, count: int = 2, fill: str = "mean", p: float = 1.0):
        super().__init__(max_width, count, fill, p)


class FrequencyMask(_SpectrogramMask):
    """Replace `count` random bands of up to `max_width` mel bins with the example's mean (or 0/min)."""

    axis = -2

    def __init__(self, max_width: int = 8, count: int = 2, fill: str = "mean", p: float = 1.0):
        super().__init__(max_width, count, fill, p)
