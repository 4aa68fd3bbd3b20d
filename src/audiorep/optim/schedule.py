"""The learning-rate schedule every run shares: linear warm-up, then cosine or constant.

The run's `progress` in [0, 1] is steps done over `train.steps`, or the wall-clock budget
used when that binds first, so with a minutes budget the cosine still ends when it ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LearningRateSchedule:
    peak: float
    warmup_steps: int = 0
    kind: str = "cosine"  # cosine | constant (after the warm-up)
    final_fraction: float = 0.01  # where the cosine ends, as a fraction of the peak

    def factor(self, step: int, progress: float) -> float:
        """Multiplier of the peak rate at 0-based `step`: (step + 1) / warmup during the
        warm-up, then 1 (constant) or a cosine from 1 down to `final_fraction` over progress."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.kind == "constant":
            return 1.0
        low = self.final_fraction
        return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))

    def __call__(self, step: int, progress: float) -> float:
        return self.peak * self.factor(step, progress)
