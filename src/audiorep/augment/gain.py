"""Loudness and envelope: gain in dB, polarity inversion, fade in/out."""

from __future__ import annotations

import torch

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.random_draws import as_range, uniform


class Gain(BatchAugmentation):
    """Multiply each example by 10^(g/20), g uniform in `db` = [low, high]."""

    def __init__(self, db=(-6.0, 6.0), p: float = 1.0):
        super().__init__(p)
        self.db = as_range(db, "db")

    def transform(self, x, generator):
        gain_db = uniform(x.shape[0], self.db, generator)
        scale = torch.pow(10.0, gain_db / 20.0).to(device=x.device, dtype=x.dtype)
        return x * scale[:, None]

    def extra_repr(self) -> str:
        return f"db={list(self.db)}, p={self.p}"


class PolarityInversion(BatchAugmentation):
    """Flip the sign: inaudible on its own, but a representation should not depend on it."""

    def __init__(self, p: float = 0.5):
        super().__init__(p)

    def transform(self, x, generator):
        return -x


class Fade(BatchAugmentation):
    """Linear fade-in and fade-out, each lasting a random fraction of the clip.

    `fade_in` and `fade_out` are [low, high] fractions of the clip length.
    """

    def __init__(self, fade_in=(0.0, 0.3), fade_out=(0.0, 0.3), p: float = 1.0):
        super().__init__(p)
        self.fade_in = as_range(fade_in, "fade_in")
        self.fade_out = as_range(fade_out, "fade_out")
        for name, (lo, hi) in (("fade_in", self.fade_in), ("fade_out", self.fade_out)):
            if lo < 0 or hi > 1:
                raise ValueError(f"{name} is a fraction of the clip in [0, 1], got {[lo, hi]}")

    def transform(self, x, generator):
        batch, total = x.shape
        fade_in = (uniform(batch, self.fade_in, generator) * total).clamp_min(1.0).to(x.device, torch.float32)
        fade_out = (uniform(batch, self.fade_out, generator) * total).clamp_min(1.0).to(x.device, torch.float32)
        t = torch.arange(total, device=x.device, dtype=torch.float32)[None, :]
        rise = (t / fade_in[:, None]).clamp(max=1.0)
        fall = ((total - 1 - t) / fade_out[:, None]).clamp(max=1.0)
        return x * (rise * fall).to(x.dtype)

    def extra_repr(self) -> str:
        return f"fade_in={list(self.fade_in)}, fade_out={list(self.fade_out)}, p={self.p}"
