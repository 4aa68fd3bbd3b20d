"""Mixture invariant training (MixIT) loss.

Two (or more) reference mixtures are summed and separated into M channels; the loss lets
each channel be assigned to exactly one reference mixture, and scores the best of all
N^M assignments (2^M for two mixtures). No isolated sources are needed.

The best assignment is found for the whole batch at once from inner products (the Gram
matrix of the channels and their correlation with the references), so the cost does not grow
with N^M * T; the loss and its gradient are then computed exactly on the chosen remix.
"""

from __future__ import annotations

import functools

import torch

from audiorep.objectives.float32 import float32
from audiorep.objectives.si_snr import EPS, power_with_silence_floor, thresholded_negative_snr


@functools.lru_cache(maxsize=16)
def _assignments_cpu(num_channels: int, num_mixtures: int) -> torch.Tensor:
    codes = torch.arange(num_mixtures**num_channels)
    digits = torch.stack([(codes // num_mixtures**m) % num_mixtures for m in range(num_channels)], dim=-1)
    return torch.nn.functional.one_hot(digits, num_mixtures).transpose(1, 2).to(torch.float32)


def mixit_assignments(num_channels: int, num_mixtures: int = 2, device=None) -> torch.Tensor:
    """All assignments of channels to mixtures as 0/1 matrices [N^M, N, M]; each column
    (channel) has exactly one 1."""
    if num_channels < 1 or num_mixtures < 1:
        raise ValueError("mixit_assignments needs num_channels >= 1 and num_mixtures >= 1")
    return _assignments_cpu(num_channels, num_mixtures).to(device)


@torch.no_grad()
def best_mixit_assignment(
    estimates: torch.Tensor, mixtures: torch.Tensor, max_snr_db: float = 30.0, silence_db: float = -50.0
) -> torch.Tensor:
    """The loss-minimising assignment per example, [B, N, M] 0/1 (see `mixit_loss`)."""
    est = estimates.detach().double()
    ref = mixtures.detach().double()
    _, num_channels, _ = est.shape
    num_mixtures = ref.shape[1]
    table = mixit_assignments(num_channels, num_mixtures, est.device).double()  # [A,N,M]
    gram = torch.einsum("bmt,bkt->bmk", est, est)  # [B,M,M]
    cross = torch.einsum("bmt,bnt->bnm", est, ref)  # [B,N,M]
    ref_power = ref.pow(2).sum(-1)  # [B,N]
    # ||r_n - sum_m A_nm e_m||^2 = ||r_n||^2 - 2 A_n . c_n + A_n G A_n^T, for all A at once
    linear = torch.einsum("anm,bnm->ban", table, cross)
    quadratic = torch.einsum("anm,bmk,ank->ban", table, gram, table)
    error = (ref_power.unsqueeze(1) - 2.0 * linear + quadratic).clamp_min(0.0)  # [B,A,N]
    power = power_with_silence_floor(ref, ref.sum(1).pow(2).sum(-1), silence_db).unsqueeze(1)
    tau = 10.0 ** (-max_snr_db / 10.0)
    loss = (10.0 * torch.log10(error + tau * power + EPS)).sum(-1)  # reference term is constant in A
    return table[loss.argmin(dim=1)].to(estimates.dtype)


@float32
def mixit_loss(estimates: torch.Tensor, mixtures: torch.Tensor, max_snr_db: float = 30.0, silence_db: float = -50.0,
               return_assignment: bool = False):
    """MixIT loss per example, [B]: mean over reference mixtures of the soft-threshold
    negative SNR of their remix under the best channel-to-mixture assignment.

    estimates: [B,M,T] separated channels; mixtures: [B,N,T] the reference mixtures whose
    sum was separated. A reference quieter than `silence_db` relative to the mixture of
    mixtures (e.g. the empty partner of a single-mixture input) is scored against the
    mixture-of-mixtures power, which asks the channels assigned to it to be silent."""
    if estimates.dim() != 3 or mixtures.dim() != 3:
        raise ValueError(f"mixit_loss expects [B,M,T] and [B,N,T], got {tuple(estimates.shape)} and {tuple(mixtures.shape)}")
    if estimates.shape[0] != mixtures.shape[0] or estimates.shape[-1] != mixtures.shape[-1]:
        raise ValueError(f"batch/time mismatch: {tuple(estimates.shape)} vs {tuple(mixtures.shape)}")
    assignment = best_mixit_assignment(estimates, mixtures, max_snr_db, silence_db)
    remix = torch.einsum("bnm,bmt->bnt", assignment, estimates)
    mom_power = mixtures.sum(1).pow(2).sum(-1)
    power = power_with_silence_floor(mixtures, mom_power, silence_db)
    loss = thresholded_negative_snr(remix, mixtures, max_snr_db, reference_power=power).mean(-1)
    return (loss, assignment) if return_assignment else loss
