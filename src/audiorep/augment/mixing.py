"""Mixing across examples: batch mixup, log-mixup-exp with a queue of past log-mels, and
scene mixing (sums of several clips) for methods that need mixtures of isolated recordings.

Methods whose views must come from mixed scenes (audio-visual, BYOL-A-style) mix each
example with another one. The background ratio is kept below 0.5 by default so the
example stays the foreground of its own view.
"""

from __future__ import annotations

import torch

from audiorep.augment.base import BatchAugmentation
from audiorep.augment.random_draws import apply_mask, as_range, randint, uniform


def partners(batch: int, generator) -> torch.Tensor:
    """For each example, the index of a different example of the batch (itself when B == 1)."""
    if batch == 1:
        return torch.zeros(1, dtype=torch.long)
    return (torch.arange(batch) + 1 + randint(batch, batch - 1, generator)) % batch


class Mixup(BatchAugmentation):
    """x' = (1 - r) x + r x[partner], r uniform in `ratio`, partner another example of the batch.

    Works on any [B, ...] tensor (waveforms or features). The last draw is kept in
    `last_partner` [B] and `last_ratio` [B] (0 where the example was left alone) for
    methods that need to know what was mixed.
    """

    def __init__(self, ratio=(0.0, 0.4), p: float = 1.0):
        super().__init__(p)
        self.ratio = as_range(ratio, "ratio")
        if self.ratio[0] < 0 or self.ratio[1] > 1:
            raise ValueError(f"ratio must lie in [0, 1], got {list(self.ratio)}")
        self.last_partner: torch.Tensor | None = None
        self.last_ratio: torch.Tensor | None = None

    def check_input(self, x):
        if x.dim() < 2:
            raise ValueError(f"Mixup expects a [batch, ...] tensor, got shape {tuple(x.shape)}")

    def forward(self, x, generator=None):
        self.check_input(x)
        batch = x.shape[0]
        chosen = apply_mask(batch, self.p, generator)
        ratio = uniform(batch, self.ratio, generator) * chosen
        partner = partners(batch, generator)
        self.last_partner, self.last_ratio = partner, ratio
        r = ratio.to(x.device, x.dtype).view(batch, *([1] * (x.dim() - 1)))
        return (1 - r) * x + r * x[partner.to(x.device)]

    def extra_repr(self) -> str:
        return f"ratio={list(self.ratio)}, p={self.p}"


class LogMixupExp(BatchAugmentation):
    """Mix each log-mel [B, F, T] with a past example in the linear domain:
    x' = log((1 - r) exp(x) + r exp(m)), r uniform in `ratio`, m drawn from a FIFO queue
    of the last `queue_size` examples seen (BYOL-A's mixing). Until the queue holds
    anything, partners come from the batch itself. `reset()` empties the queue.
    """

    input_dims = 3

    def __init__(self, ratio=(0.0, 0.4), queue_size: int = 2048, p: float = 1.0):
        super().__init__(p)
        self.ratio = as_range(ratio, "ratio")
        if self.ratio[0] < 0 or self.ratio[1] >= 1:
            raise ValueError(f"ratio must lie in [0, 1), got {list(self.ratio)}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.queue_size = int(queue_size)
        self.register_buffer("queue", None, persistent=False)

    def reset(self) -> None:
        self.queue = None

    def _push(self, x: torch.Tensor) -> None:
        batch = x.detach()[-self.queue_size :]
        merged = batch if self.queue is None else torch.cat([self.queue.to(batch.device), batch])
        self.queue = merged[-self.queue_size :].clone()

    def forward(self, x, generator=None):
        self.check_input(x)
        if self.queue is not None and self.queue.shape[1:] != x.shape[1:]:
            raise ValueError(
                f"log_mixup_exp: log-mel shape changed from {tuple(self.queue.shape[1:])} to {tuple(x.shape[1:])}; "
                "use fixed-length clips or call reset()"
            )
        batch = x.shape[0]
        chosen = apply_mask(batch, self.p, generator)
        ratio = uniform(batch, self.ratio, generator) * chosen
        if self.queue is None:
            memory, index = x, partners(batch, generator)
        else:
            memory, index = self.queue.to(x.device), randint(batch, self.queue.shape[0], generator)
        other = memory[index.to(x.device)].to(x.dtype)
        r = ratio.to(x.device, torch.float32)[:, None, None]
        mixed = torch.logaddexp(torch.log1p(-r) + x.float(), torch.log(r.clamp_min(1e-30)) + other.float())
        mixed = torch.where(r > 0, mixed, x.float()).to(x.dtype)
        self._push(x)
        return mixed

    def extra_repr(self) -> str:
        return f"ratio={list(self.ratio)}, queue_size={self.queue_size}, p={self.p}"


class SceneMix(BatchAugmentation):
    """Make sound scenes out of single-source clips: example i becomes the sum of itself and
    k - 1 other examples of the batch, k drawn per example from `sources` [lo, hi], each added
    clip at a level relative to example i drawn from `gain_db`.

    Separation-based methods learn from mixtures; speech or single-event datasets have none.
    `last_members` [B, hi] keeps which examples went into each scene (-1 for unused slots);
    with p < 1 the partners come from, and the indices refer to, the chosen sub-batch.
    """

    def __init__(self, sources=(2, 3), gain_db=(-5.0, 5.0), p: float = 1.0):
        super().__init__(p)
        lo, hi = as_range(sources, "sources")
        if lo < 1 or lo != int(lo) or hi != int(hi):
            raise ValueError(f"sources must be whole numbers >= 1, got {sources!r}")
        self.sources = (int(lo), int(hi))
        self.gain_db = as_range(gain_db, "gain_db")
        self.last_members: torch.Tensor | None = None

    def transform(self, x, generator=None):
        batch = x.shape[0]
        lo, hi = self.sources
        count = lo + randint(batch, hi - lo + 1, generator)  # sources per scene, [B]
        reference = x.float().square().mean(-1, keepdim=True).clamp_min(1e-12).sqrt()
        members = torch.full((batch, hi), -1, dtype=torch.long)
        members[:, 0] = torch.arange(batch)
        out = x.clone()
        for slot in range(1, hi):  # a loop over source slots, not over examples
            partner = partners(batch, generator)
            gain = 10 ** (uniform(batch, self.gain_db, generator) / 20)
            active = count > slot
            members[:, slot] = torch.where(active, partner, -1)
            other = x[partner.to(x.device)]
            level = other.float().square().mean(-1, keepdim=True).clamp_min(1e-12).sqrt()
            scale = (gain * active).to(x.device, torch.float32)[:, None] * reference / level
            out = out + (scale * other.float()).to(x.dtype)
        self.last_members = members
        return out

    def extra_repr(self) -> str:
        return f"sources={list(self.sources)}, gain_db={list(self.gain_db)}, p={self.p}"
