"""Symmetric cross-modal InfoNCE: audio must find its own video among the batch's videos, and
video its own audio.

Clip i gives audio z_audio[i] and video z_video[i]. Logits are cosine similarity /
temperature between one modality's queries and the other's keys; the loss is the mean of the
audio->video and video->audio cross-entropies. With `gather=True` under torch.distributed the
keys come from every rank (`gather_with_grad`, gradients routed back to their rank) and the
queries stay local, as in `nt_xent`: each rank's loss is the mean over its own queries, and
DDP's average of the ranks' gradients equals one big batch's when ranks hold equal shares.

Soft targets. When mixing across examples puts the content of several clips in one audio
(`augment/batch_mix.py`), `targets` [N, N_keys] says how much audio i and video j share:
a non-negative affinity, not necessarily normalised. Audio query i is credited by row i of it,
video query j by column j, each normalised to sum to 1 here. A row-stochastic T (audio i is
lam_i of clip i plus 1 - lam_i of clip k) therefore gives audio->video targets T and
video->audio targets "which audios hold my clip, in proportion". The identity gives the
plain one-hot loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiorep.objectives.float32 import float32
from audiorep.objectives.ntxent import gather_with_grad


def _soft_cross_entropy(logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean over rows of -sum_j p_ij log softmax(logits)_ij, p = weights with rows normalised."""
    p = weights / weights.sum(dim=1, keepdim=True).clamp_min(1e-12)
    return -(p * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def _global_targets(targets: torch.Tensor, n: int, m: int, offset: int, gather: bool):
    """Targets as (audio rows [n, m], video rows [n, m]): both over all m keys, for this rank's queries.

    Local targets [n, n] (mixing within the rank's batch) are placed at the rank's offset and
    need no communication; global ones [n, m] (mixing across ranks) are gathered to read
    their columns. Every rank must pass the same kind, or the ranks' collectives differ."""
    targets = targets.detach().float()
    if targets.shape == (n, m):  # also the single-process case, where m == n
        everyone = gather_with_grad(targets)[0] if gather else targets  # [m, m]
        return targets, everyone[:, offset:offset + n].T
    if targets.shape != (n, n):
        raise ValueError(f"cross_modal_nce: targets must be [{n}, {n}] (this batch) or [{n}, {m}] "
                         f"(every rank's keys), got {tuple(targets.shape)}")
    rows = targets.new_zeros(n, m)
    rows[:, offset:offset + n] = targets
    cols = targets.new_zeros(n, m)
    cols[:, offset:offset + n] = targets.T
    return rows, cols


@float32
def cross_modal_nce(z_audio: torch.Tensor, z_video: torch.Tensor, temperature: float = 0.1, gather: bool = False,
                    targets: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of the audio->video and video->audio InfoNCE losses of N clips; z_audio, z_video: [N, D].

    `targets` (optional): [N, N] or, with `gather`, [N, N_all_ranks] non-negative affinities
    between audio i and video j (see the module doc); default the identity (positives on the diagonal).
    """
    if z_audio.shape != z_video.shape or z_audio.dim() != 2:
        raise ValueError(f"cross_modal_nce expects two [N, D] tensors of one shape, "
                         f"got {tuple(z_audio.shape)} and {tuple(z_video.shape)}")
    a = F.normalize(z_audio.float(), dim=1)
    v = F.normalize(z_video.float(), dim=1)
    n = a.shape[0]
    keys_v, offset = gather_with_grad(v) if gather else (v, 0)
    keys_a, _ = gather_with_grad(a) if gather else (a, 0)
    logits_av = a @ keys_v.T / temperature  # [n, m]: local audio queries, every video key
    logits_va = v @ keys_a.T / temperature
    if targets is None:
        positive = torch.arange(n, device=a.device) + offset
        return (F.cross_entropy(logits_av, positive) + F.cross_entropy(logits_va, positive)) / 2
    rows, cols = _global_targets(targets.to(a.device), n, keys_v.shape[0], offset, gather)
    return (_soft_cross_entropy(logits_av, rows) + _soft_cross_entropy(logits_va, cols)) / 2
