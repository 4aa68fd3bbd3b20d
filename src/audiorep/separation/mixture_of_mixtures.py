"""Mixtures of mixtures, made on the training device from a batch of unlabelled clips.

MixIT needs no isolated sources: two ordinary recordings are the references, their sum is
the input. A small share of inputs keep only one mixture (the other is silent) so the
separator also learns to leave a lone mixture's sources together in few channels instead of
always splitting its input in two.
"""

from __future__ import annotations

import torch


def mixture_of_mixtures(
    clips: torch.Tensor, generator: torch.Generator | None = None, single_mixture_prob: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """clips [2B,T] -> (mixture of mixtures [B,T], reference mixtures [B,2,T]).

    Clip 2i and 2i+1 form example i. With probability `single_mixture_prob` per example the
    second reference is zeroed (drawn from the CPU `generator`, applied on clips' device)."""
    if clips.dim() != 2 or clips.shape[0] % 2:
        raise ValueError(f"mixture_of_mixtures needs an even number of clips [2B,T], got {tuple(clips.shape)}")
    references = clips.reshape(clips.shape[0] // 2, 2, clips.shape[1])
    if single_mixture_prob > 0:
        single = torch.rand(references.shape[0], generator=generator) < single_mixture_prob
        keep = torch.ones(references.shape[0], 2)
        keep[single, 1] = 0.0
        references = references * keep.to(references.device, references.dtype).unsqueeze(-1)
    return references.sum(1), references
