"""Random resized crop on log-mel [B, F, T]: zoom into (or out of) a random region, in time and frequency.

A time scale below 1 crops a shorter excerpt and stretches it to the full width (slower,
longer events); above 1 squeezes the whole clip into part of the width and fills the rest
with the example's floor (silence in the log domain). The frequency scale does the same on
the mel axis, which shifts and widens spectral shapes (a cheap pitch/timbre change).
All examples are resampled at once with `grid_sample` from per-example affine grids.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.random_draws import as_range, uniform


class RandomResizedCrop(BatchAugmentation):
    """Crop a region `time_scale` x `freq_scale` of the (virtual) log-mel and resize it back to [F, T]."""

    input_dims = 3

    def __init__(self, time_scale=(0.6, 1.5), freq_scale=(0.6, 1.5), p: float = 1.0):
        super().__init__(p)
        self.time_scale, self.freq_scale = as_range(time_scale, "time_scale"), as_range(freq_scale, "freq_scale")
        if self.time_scale[0] <= 0 or self.freq_scale[0] <= 0:
            raise ValueError(f"scales must be positive, got time_scale={list(self.time_scale)}, freq_scale={list(self.freq_scale)}")

    def transform(self, x, generator):
        batch = x.shape[0]
        time_scale, freq_scale = uniform(batch, self.time_scale, generator), uniform(batch, self.freq_scale, generator)
        # region centre in normalised coordinates, anywhere that keeps crop and image overlapping fully
        time_centre = (2 * torch.rand(batch, generator=generator, dtype=torch.float64) - 1) * (1 - time_scale).abs()
        freq_centre = (2 * torch.rand(batch, generator=generator, dtype=torch.float64) - 1) * (1 - freq_scale).abs()
        theta = torch.zeros(batch, 2, 3, dtype=torch.float64)
        theta[:, 0, 0], theta[:, 0, 2] = time_scale, time_centre
        theta[:, 1, 1], theta[:, 1, 2] = freq_scale, freq_centre
        theta = theta.to(x.device, torch.float32)
        image = x.float()[:, None]
        grid = F.affine_grid(theta, list(image.shape), align_corners=False)
        floor = image.amin(dim=(2, 3), keepdim=True)
        out = F.grid_sample(image - floor, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + floor
        return out[:, 0].to(x.dtype)

    def extra_repr(self) -> str:
        return f"time_scale={list(self.time_scale)}, freq_scale={list(self.freq_scale)}, p={self.p}"
