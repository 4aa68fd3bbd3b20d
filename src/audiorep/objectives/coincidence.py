"""Coincidence prediction: do two embeddings come from the same scene?

`coincidence_pairs` makes, from two views per scene, N positive pairs (the two views of
scene i) and N negative pairs (view a of scene i with view b of another scene, by a random
derangement, so no negative is secretly a positive). `coincidence_loss` is binary
cross-entropy on the head's logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiorep.objectives.float32 import float32


def derangement(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random permutation with no fixed point (n >= 2): a cyclic shift of a shuffled order."""
    if n < 2:
        raise ValueError("coincidence negatives need at least two scenes in the batch")
    order = torch.randperm(n, generator=generator)
    shift = int(torch.randint(1, n, (1,), generator=generator))
    out = torch.empty(n, dtype=torch.long)
    out[order] = order[(torch.arange(n) + shift) % n]
    return out


def coincidence_pairs(n: int, generator: torch.Generator | None = None):
    """Indices (left [2N], right [2N]) into views a and b, and labels [2N] (1 = same scene)."""
    left = torch.arange(n).repeat(2)
    right = torch.cat([torch.arange(n), derangement(n, generator)])
    labels = torch.cat([torch.ones(n), torch.zeros(n)])
    return left, right, labels


@float32
def coincidence_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of same-scene logits [P] against labels [P] in {0, 1}."""
    return F.binary_cross_entropy_with_logits(logits.float(), labels.to(logits.device, torch.float))
