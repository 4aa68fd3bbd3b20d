"""Signal-to-noise ratios for separation: plain SNR, scale-invariant SNR, and the soft-threshold
negative SNR that MixIT and PIT train on.

The soft threshold (tau = 10^(-max_snr_db/10) times the reference power, added to the error
power) caps the SNR a single estimate can reach, so well-separated examples stop dominating
the gradient and the loss stays finite when an estimate is exact.
"""

from __future__ import annotations

import torch

EPS = 1e-8


def snr_db(estimate: torch.Tensor, reference: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """10 log10(||r||^2 / ||r - e||^2) over the last dimension."""
    signal = reference.pow(2).sum(-1)
    noise = (reference - estimate).pow(2).sum(-1)
    return 10.0 * torch.log10((signal + eps) / (noise + eps))


def si_snr_db(estimate: torch.Tensor, reference: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Scale-invariant SNR (zero-mean signals, reference rescaled to its projection).

    `eps` only keeps the ratio finite: a silent estimate scores 10 log10(eps) = -80 dB (it
    recovers nothing), not the 0 dB that eps added to both terms would give it."""
    estimate = estimate - estimate.mean(-1, keepdim=True)
    reference = reference - reference.mean(-1, keepdim=True)
    scale = (estimate * reference).sum(-1, keepdim=True) / (reference.pow(2).sum(-1, keepdim=True) + eps)
    target = scale * reference
    return 10.0 * torch.log10(target.pow(2).sum(-1) / ((estimate - target).pow(2).sum(-1) + eps) + eps)


def si_snr_matrix(estimates: torch.Tensor, references: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """SI-SNR (dB) of every estimate against every reference: [B,M,T] x [B,K,T] -> [B,K,M].

    Built from inner products, so the cost is one batched matmul instead of K*M passes."""
    est = estimates - estimates.mean(-1, keepdim=True)
    ref = references - references.mean(-1, keepdim=True)
    cross = torch.einsum("bkt,bmt->bkm", ref, est)
    ref_power = ref.pow(2).sum(-1).unsqueeze(-1)  # [B,K,1]
    est_power = est.pow(2).sum(-1).unsqueeze(-2)  # [B,1,M]
    target = cross.pow(2) / (ref_power + eps)
    noise = (est_power - target).clamp_min(0.0)
    return 10.0 * torch.log10(target / (noise + eps) + eps)


def thresholded_negative_snr(
    estimate: torch.Tensor,
    reference: torch.Tensor,
    max_snr_db: float = 30.0,
    reference_power: torch.Tensor | None = None,
    eps: float = EPS,
) -> torch.Tensor:
    """-SNR with a soft threshold: 10 log10(||r-e||^2 + tau P) - 10 log10(P), tau = 10^(-max/10).

    P is ||r||^2 unless `reference_power` is given: for a silent reference the caller passes
    the mixture power, so the loss asks for a quiet estimate instead of dividing by ~0.
    Bounded below by -max_snr_db."""
    power = reference.pow(2).sum(-1) if reference_power is None else reference_power
    error = (reference - estimate).pow(2).sum(-1)
    tau = 10.0 ** (-max_snr_db / 10.0)
    return 10.0 * torch.log10(error + tau * power + eps) - 10.0 * torch.log10(power + eps)


def power_with_silence_floor(
    references: torch.Tensor, mixture_power: torch.Tensor, silence_db: float = -50.0
) -> torch.Tensor:
    """Per-reference power [B,K] for the threshold; references quieter than `silence_db`
    relative to the mixture ([B]) are treated as silent and get the mixture's power."""
    power = references.pow(2).sum(-1)
    mix = mixture_power.unsqueeze(-1).expand_as(power)
    silent = power <= (10.0 ** (silence_db / 10.0)) * mix
    return torch.where(silent, mix, power)
