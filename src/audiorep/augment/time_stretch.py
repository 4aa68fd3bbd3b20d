"""Time stretch by a per-example rate, keeping pitch."""

from __future__ import annotations

import torch

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.pitch_time import check_n_fft, fit_length, shift_pitch_and_time
from audiorep.augment.random_draws import as_range, log_uniform


def time_stretch(
    x: torch.Tensor, rate: torch.Tensor, n_fft: int = 1024, hop: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Play each example of `x` [B, T] `rate` [B] times faster (rate > 1 = shorter), same pitch.

    Returns ([B, T_max] zero-padded past each example's end, lengths [B] = round(T / rate)).
    """
    return shift_pitch_and_time(x, None, rate, n_fft, hop)


class TimeStretch(BatchAugmentation):
    """Change tempo by a rate drawn log-uniformly from `rate` = [low, high], pitch unchanged.

    The output keeps the input length: a slowed-down example is cut at the end, a sped-up
    one is zero-padded at the end (`pad="zero"`) or looped (`pad="wrap"`).
    """

    def __init__(self, rate=(0.8, 1.25), n_fft: int = 1024, hop: int | None = None, pad: str = "zero", p: float = 1.0):
        super().__init__(p)
        self.rate = as_range(rate, "rate")
        if self.rate[0] <= 0:
            raise ValueError(f"rate must be positive, got {list(self.rate)}")
        if pad not in ("zero", "wrap"):
            raise ValueError(f"pad must be 'zero' or 'wrap', got {pad!r}")
        self.n_fft, self.hop, self.pad = check_n_fft(n_fft), hop, pad

    def draw(self, n: int, generator) -> torch.Tensor:
        return log_uniform(n, self.rate, generator)

    def transform(self, x, generator):
        y, lengths = time_stretch(x, self.draw(x.shape[0], generator), self.n_fft, self.hop)
        return fit_length(y, lengths, x.shape[-1], self.pad)

    def extra_repr(self) -> str:
        return f"rate={list(self.rate)}, pad={self.pad!r}, p={self.p}"
