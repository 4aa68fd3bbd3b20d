"""A sampler whose position can be saved and restored, so a resumed run sees the same data.

Order is a permutation drawn from (seed, epoch); under DDP each rank takes every
world_size-th index of it. `state(step)` / `start_at(epoch, offset)` let the trainer resume
mid-epoch without replaying the loader.
"""

from __future__ import annotations

import torch
from torch.utils.data import Sampler


class ResumableSampler(Sampler[int]):
    def __init__(self, n: int, seed: int = 0, rank: int = 0, world_size: int = 1, drop_last: bool = True):
        if n < world_size:
            raise ValueError(f"dataset of {n} clips is smaller than the world size {world_size}")
        self.n, self.seed, self.rank, self.world_size = n, seed, rank, world_size
        self.epoch = 0
        self.offset = 0  # indices of this rank's share to skip at the start of the epoch
        self.per_rank = n // world_size if drop_last else -(-n // world_size)

    def set_epoch(self, epoch: int, offset: int = 0) -> None:
        self.epoch, self.offset = epoch, offset

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.n, generator=g)
        if len(order) < self.per_rank * self.world_size:  # pad by wrapping around
            order = torch.cat([order, order[: self.per_rank * self.world_size - len(order)]])
        mine = order[self.rank : self.per_rank * self.world_size : self.world_size]
        return iter(mine[self.offset :].tolist())

    def __len__(self) -> int:
        return self.per_rank - self.offset
