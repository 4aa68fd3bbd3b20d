"""A momentum teacher: frozen copies of online networks that follow them by an exponential
moving average after every optimiser step (BYOL, BYOL-A, DINO, M2D).

`update(momentum, online)` sets each teacher weight to `m * teacher + (1 - m) * online`
and copies buffers (BatchNorm statistics) as they are. `momentum_at` is BYOL's schedule:
from the base momentum up to 1 along a half cosine over the run, so the teacher settles.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


class MomentumTeacher(nn.Module):
    """`MomentumTeacher(encoder=..., projector=...)`: a frozen copy of each named network."""

    def __init__(self, **online: nn.Module):
        super().__init__()
        self.networks = nn.ModuleDict({name: copy.deepcopy(net).requires_grad_(False) for name, net in online.items()})

    def __getitem__(self, name: str) -> nn.Module:
        return self.networks[name]

    @torch.no_grad()
    def update(self, momentum: float, **online: nn.Module) -> None:
        for name, net in online.items():
            teacher = self.networks[name]
            for t, o in zip(teacher.parameters(), net.parameters(), strict=True):
                t.lerp_(o.detach(), 1.0 - momentum)
            for t, o in zip(teacher.buffers(), net.buffers(), strict=True):
                t.copy_(o)


def momentum_at(base: float, progress: float) -> float:
    """BYOL's schedule: `1 - (1 - base) * (cos(pi * progress) + 1) / 2`, progress in [0, 1]."""
    progress = min(max(progress, 0.0), 1.0)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * progress) + 1.0) / 2.0
