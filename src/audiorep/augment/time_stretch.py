"""Time stretch by a per-example rate, keeping pitch."""

from __future__ import annotations

import torch

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.phase_vocoder import analysis, stretch_frames, synthesis
from audiorep.augment.random_draws import as_range, log_uniform


def time_stretch(
    x: torch.Tensor, rate: torch.Tensor, n_fft: int = 1024, hop: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Play each example of `x` [B, T] `rate` [B] times faster (rate > 1 = shorter), same pitch.

    Returns ([B, T_max] zero-padded past each example's end, lengths [B] = round(T / rate)).
    """
    hop = hop or n_fft // 4
    rate = torch.as_tensor(rate, dtype=torch.float32)
    lengths = torch.round(x.shape[-1] / rate.double()).long()
    magnitude, phase, _ = stretch_frames(*analysis(x, n_fft, hop), rate, hop, n_fft)
    total = int(lengths.max())
    y = synthesis(magnitude, phase, n_fft, hop, total)
    keep = torch.arange(total, device=x.device)[None, :] < lengths.to(x.device)[:, None]
    return (y * keep).to(x.dtype), lengths


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
        self.n_fft, self.hop, self.pad = int(n_fft), hop, pad

    def transform(self, x, generator):
        batch, length = x.shape
        rate = log_uniform(batch, self.rate, generator)
        y, lengths = time_stretch(x, rate, self.n_fft, self.hop)
        if y.shape[-1] < length:
            y = torch.nn.functional.pad(y, (0, length - y.shape[-1]))
        if self.pad == "wrap":
            lengths = lengths.to(x.device).clamp(min=1)
            index = torch.arange(length, device=x.device)[None, :] % lengths[:, None]
            return y.gather(1, index)
        return y[:, :length]

    def extra_repr(self) -> str:
        return f"rate={list(self.rate)}, pad={self.pad!r}, p={self.p}"
