"""Separation quality on scenes with known sources.

MSi (multi-source SI-SNR improvement, as in the MixIT paper and the FUSS evaluation): the
channels are assigned to the active reference sources one-to-one, by the assignment that
maximises their summed SI-SNR (`best_permutation`: every permutation up to 8 channels, the
Hungarian algorithm beyond); each source scores the SI-SNR of its channel minus that of the
unprocessed mixture, averaged over the sources of a mixture. One channel can never count for
two sources. For single-source inputs there is nothing to improve; what matters is that the
source is passed through intact, so the score is the absolute SI-SNR of its channel
("single-source SI-SNR"). `msi_best_channel` keeps the earlier, optimistic figure, where each
source took its best channel even if another source took the same one.
"""

from __future__ import annotations

import torch

from audiorep.objectives.pit import best_permutation
from audiorep.objectives.si_snr import si_snr_db, si_snr_matrix


def separation_scores(estimates: torch.Tensor, sources: torch.Tensor, mixture: torch.Tensor) -> dict:
    """Per-source scores for [B,M,T] estimates of [B,K,T] sources (silent slots allowed, K <= M)
    in [B,T] mixtures: `assigned_si_snr` (one-to-one), `best_channel_si_snr`, `input_si_snr`,
    `improvement` (assigned minus input) [B,K], `channel` [B,K] long, `active` [B,K] bool."""
    active = sources.pow(2).sum(-1) > 0
    if sources.shape[1] > estimates.shape[1]:  # more slots than channels: the missing channels are silent
        estimates = torch.nn.functional.pad(estimates, (0, 0, 0, sources.shape[1] - estimates.shape[1]))
    si = si_snr_matrix(estimates, sources)  # [B,K,M]
    # silent slots cost the same on every channel, so they take whichever channels are left
    channel = best_permutation(torch.where(active.unsqueeze(-1), -si, torch.zeros_like(si)))
    assigned = si.gather(-1, channel.unsqueeze(-1)).squeeze(-1)
    inputs = si_snr_db(mixture.unsqueeze(1).expand_as(sources), sources)
    return {"assigned_si_snr": assigned, "best_channel_si_snr": si.amax(-1), "input_si_snr": inputs,
            "improvement": assigned - inputs, "channel": channel, "active": active}


@torch.no_grad()
def evaluate_separator(model, mixtures: torch.Tensor, sources: torch.Tensor, batch_size: int = 16) -> dict:
    """Summary by number of active sources: {"1": {"n", "single_source_si_snr"},
    "2".."K": {"n", "msi", "msi_best_channel", "input_si_snr"}}, plus "multi" (all inputs with
    >= 2 sources)."""
    rows = []
    for s in range(0, mixtures.shape[0], batch_size):
        est = model(mixtures[s : s + batch_size])
        rows.append(separation_scores(est, sources[s : s + batch_size], mixtures[s : s + batch_size]))
    scores = {k: torch.cat([r[k] for r in rows]) for k in rows[0]}
    active = scores["active"].float()
    count = active.sum(1).long()
    per_mix = lambda key: (scores[key] * active).sum(1) / active.sum(1).clamp_min(1)  # noqa: E731
    inp = per_mix("input_si_snr")
    msi, assigned = per_mix("improvement"), per_mix("assigned_si_snr")
    msi_best_channel = per_mix("best_channel_si_snr") - inp
    summary = {}
    for k in sorted(set(count.tolist()) - {0}):
        sel = count == k
        entry = {"n": int(sel.sum())}
        if k == 1:
            entry["single_source_si_snr"] = round(float(assigned[sel].mean()), 2)
        else:
            entry["msi"] = round(float(msi[sel].mean()), 2)
            entry["msi_best_channel"] = round(float(msi_best_channel[sel].mean()), 2)
            entry["input_si_snr"] = round(float(inp[sel].mean()), 2)
        summary[str(k)] = entry
    multi = count >= 2
    if multi.any():
        summary["multi"] = {"n": int(multi.sum()), "msi": round(float(msi[multi].mean()), 2),
                            "msi_best_channel": round(float(msi_best_channel[multi].mean()), 2)}
    return summary
