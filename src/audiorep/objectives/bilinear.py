"""COLA's bilinear similarity (Saeed et al., 2021): logits = z_a W z_b^T, cross-entropy
against the diagonal, the other clips of the batch as negatives."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiorep.objectives.float32 import float32


@float32
def bilinear_contrastive(z_a: torch.Tensor, z_b: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of picking z_b[i] for z_a[i] (and back) under similarity z_a W z_b^T."""
    if z_a.shape != z_b.shape or weight.shape != (z_a.shape[1], z_b.shape[1]):
        raise ValueError(f"bilinear_contrastive: z_a {tuple(z_a.shape)}, z_b {tuple(z_b.shape)}, W {tuple(weight.shape)}")
    logits = z_a.float() @ weight.float() @ z_b.float().T
    targets = torch.arange(z_a.shape[0], device=z_a.device)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))
