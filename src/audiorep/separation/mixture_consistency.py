"""Mixture-consistency projection: make separated channels sum exactly to the input.

The residual (mixture minus the sum of the channels) is shared out among the channels,
equally or in proportion to each channel's power. This is the least-squares projection onto
the set of consistent outputs, so it never hurts and makes MixIT markedly more stable: the
remixes cannot drift in overall level, and a channel given to a silent mixture can be zero.
"""

from __future__ import annotations

import torch


def mixture_consistency(
    estimates: torch.Tensor, mixture: torch.Tensor, weighting: str = "uniform", eps: float = 1e-8
) -> torch.Tensor:
    """Project [B,M,T] estimates so that estimates.sum(1) == mixture ([B,T]).

    weighting: "uniform" (each channel takes 1/M of the residual) or "power" (each takes a
    share proportional to its energy, so quiet channels stay quiet)."""
    residual = mixture - estimates.sum(1)
    if weighting == "uniform":
        weights = estimates.new_full(estimates.shape[:2], 1.0 / estimates.shape[1])
    elif weighting == "power":
        power = estimates.pow(2).mean(-1)
        weights = (power + eps) / (power + eps).sum(1, keepdim=True)
    else:
        raise ValueError(f"mixture_consistency: weighting must be 'uniform' or 'power', got {weighting!r}")
    return estimates + weights.unsqueeze(-1) * residual.unsqueeze(1)
