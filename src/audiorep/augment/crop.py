"""Random fixed-length crop of a waveform batch: the first op of most chains."""

from __future__ import annotations

import torch

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.random_draws import apply_mask, randint


class RandomCrop(BatchAugmentation):
    """Crop `seconds` from each example at its own random offset.

    Examples not chosen (probability 1 - p) keep the centre crop. Clips shorter than the
    crop are zero-padded at the end.
    """

    def __init__(self, seconds: float, sample_rate: int = 16000, p: float = 1.0):
        super().__init__(p)
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        self.sample_rate = int(sample_rate)
        self.length = int(round(seconds * sample_rate))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        self.check_input(x)
        batch, total = x.shape
        if total < self.length:
            x = torch.nn.functional.pad(x, (0, self.length - total))
            total = self.length
        slack = total - self.length
        chosen = apply_mask(batch, self.p, generator)
        offset = torch.where(chosen, randint(batch, slack + 1, generator), torch.full((batch,), slack // 2))
        # every window as a view, then one copy of the chosen ones (a [B, length] gather index
        # cost as much as the copy again)
        rows = torch.arange(batch, device=x.device)
        return x.unfold(-1, self.length, 1)[rows, offset.to(x.device)]

    def extra_repr(self) -> str:
        return f"length={self.length}, p={self.p}"
