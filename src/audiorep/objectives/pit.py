"""Permutation invariant training (PIT) loss for supervised separation, the upper reference
for MixIT: it needs the isolated sources, which only the synthetic world provides.

References are padded with silent slots up to the number of channels. The loss averages over
the ACTIVE sources only (silent slots get `silent_weight`, 0 by default): when silent slots
counted fully, their terms (-30 dB for any quiet channel) dominated the mean and the model
collapsed to passing the mixture through one channel. Mixture consistency already makes the
unmatched channels share what the matched ones leave over.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from audiorep.objectives.float32 import float32
from audiorep.objectives.si_snr import EPS, power_with_silence_floor, thresholded_negative_snr

MAX_ENUMERATED_CHANNELS = 8  # 8! = 40320 permutations, still one cheap batched gather


@functools.lru_cache(maxsize=16)
def _permutations_cpu(n: int) -> torch.Tensor:
    return torch.tensor(list(itertools.permutations(range(n))), dtype=torch.long)


@torch.no_grad()
def best_permutation(cost: torch.Tensor) -> torch.Tensor:
    """Channel index per reference, [B,K] long, distinct within an example, minimising the
    summed cost [B,K,M] (K <= M). Enumerates all permutations in one batched gather up to
    8 channels; uses the Hungarian algorithm beyond."""
    batch, k, m = cost.shape
    if k > m:
        raise ValueError(f"best_permutation: {k} references but only {m} channels")
    if m <= MAX_ENUMERATED_CHANNELS:
        perms = _permutations_cpu(m).to(cost.device)[:, :k]  # [P,K]; duplicates harmless
        totals = cost.gather(2, perms.T.unsqueeze(0).expand(batch, k, -1)).sum(1)  # [B,P]
        return perms[totals.argmin(dim=1)]
    rows = [linear_sum_assignment(c)[1] for c in cost.detach().cpu().double().numpy()]
    return torch.as_tensor(np.stack(rows), dtype=torch.long, device=cost.device)


@float32
def pit_loss(estimates: torch.Tensor, sources: torch.Tensor, max_snr_db: float = 30.0, silence_db: float = -50.0,
             return_assignment: bool = False, silent_weight: float = 0.0):
    """PIT loss per example, [B]: weighted mean, over the reference slots, of the soft-threshold
    negative SNR of the channel the best permutation assigns to each slot. Active sources
    weigh 1; silent slots (quieter than `silence_db` relative to the mixture, e.g. padding)
    weigh `silent_weight` and are scored against the mixture power (asking their channel to
    be quiet). An example with no active source falls back to its silent slots.

    estimates: [B,M,T]; sources: [B,K,T] with K <= M (empty slots all-zero)."""
    if estimates.dim() != 3 or sources.dim() != 3:
        raise ValueError(f"pit_loss expects [B,M,T] and [B,K,T], got {tuple(estimates.shape)} and {tuple(sources.shape)}")
    batch, m, t = estimates.shape
    k = sources.shape[1]
    if k > m:
        raise ValueError(f"pit_loss: {k} source slots but only {m} channels; use more channels")
    if silent_weight < 0:
        raise ValueError(f"pit_loss: silent_weight must be >= 0, got {silent_weight}")
    refs = torch.cat([sources, sources.new_zeros(batch, m - k, t)], dim=1) if k < m else sources
    mix_power = refs.sum(1).pow(2).sum(-1)
    power = power_with_silence_floor(refs, mix_power, silence_db)  # [B,M]
    active = refs.pow(2).sum(-1) > (10.0 ** (silence_db / 10.0)) * mix_power.unsqueeze(-1)
    weight = torch.where(active, 1.0, silent_weight).to(estimates.dtype)
    weight = torch.where(weight.sum(-1, keepdim=True) > 0, weight, torch.ones_like(weight))  # nothing active
    with torch.no_grad():
        r, e = refs.detach().double(), estimates.detach().double()
        cross = torch.einsum("bkt,bmt->bkm", r, e)
        error = (r.pow(2).sum(-1).unsqueeze(-1) + e.pow(2).sum(-1).unsqueeze(1) - 2 * cross).clamp_min(0.0)
        tau = 10.0 ** (-max_snr_db / 10.0)
        cost = 10.0 * torch.log10(error + tau * power.double().unsqueeze(-1) + EPS)
        channel = best_permutation(cost * weight.double().unsqueeze(-1))  # [B,M]: channel for each slot
    chosen = estimates.gather(1, channel.unsqueeze(-1).expand(-1, -1, t))
    terms = thresholded_negative_snr(chosen, refs, max_snr_db, reference_power=power)  # [B,M]
    loss = (terms * weight).sum(-1) / weight.sum(-1)
    return (loss, channel[:, :k]) if return_assignment else loss
