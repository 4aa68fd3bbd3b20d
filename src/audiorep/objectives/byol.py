"""BYOL's objective (Grill et al., 2020): the online network's prediction of one view must
match the momentum teacher's projection of the other view, compared as unit vectors.

`2 - 2 cos(p, z)` equals the squared distance between the normalised vectors. No negatives:
the predictor and the slowly moving teacher keep it from collapsing. The teacher's side is a
target: it takes no gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiorep.objectives.float32 import float32


@float32
def byol_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean of 2 - 2 cos(prediction_i, target_i) over [N, D] pairs, in float32 even under autocast."""
    if prediction.shape != target.shape or prediction.dim() != 2:
        raise ValueError(f"byol_loss expects two [N, D] tensors of one shape, got {tuple(prediction.shape)} "
                         f"and {tuple(target.shape)}")
    p = F.normalize(prediction, dim=1)
    z = F.normalize(target.detach(), dim=1)
    return (2 - 2 * (p * z).sum(1)).mean()
