"""The learning-rate schedule every run shares: linear warm-up, then cosine or constant.

The run's `progress` in [0, 1] is steps done over `train.steps`, or the wall-clock budget
used when that binds first, so with a minutes budget the cosine still ends when it ends.
The warm-up lasts `warmup_steps`, but never more than the first `WARMUP_SHARE` of the run:
a short budget (fewer steps than the warm-up asks) warms up over its first tenth, and its
cosine still reaches the floor at its end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WARMUP_SHARE = 0.1
"""The warm-up is over by this fraction of the run's progress, whatever `warmup_steps` says."""


@dataclass(frozen=True)
class LearningRateSchedule:
    peak: float
    warmup_steps: int = 0
    kind: str = "cosine"  # cosine | constant (after the warm-up)
    final_fraction: float = 0.01  # where the cosine ends, as a fraction of the peak

    def warmup(self, step: int, progress: float) -> float:
        """How far the warm-up is at 0-based `step`, in (0, 1]: (step + 1) / warmup_steps, or
        progress / WARMUP_SHARE when the budget is so short that this is further."""
        if step >= self.warmup_steps:
            return 1.0
        return min(1.0, max((step + 1) / self.warmup_steps, progress / WARMUP_SHARE))

    def factor(self, step: int, progress: float) -> float:
        """Multiplier of the peak rate at 0-based `step`: the warm-up's share while it lasts,
        then 1 (constant) or a cosine from 1 down to `final_fraction` over progress."""
        warm = self.warmup(step, progress)
        if warm < 1.0:
            return warm
        if self.kind == "constant":
            return 1.0
        low = self.final_fraction
        return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))

    def __call__(self, step: int, progress: float) -> float:
        return self.peak * self.factor(step, progress)
