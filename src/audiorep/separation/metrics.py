"""Separation quality on scenes with known sources.

MSi (multi-source SI-SNR improvement, as in the MixIT paper): for each active reference
source, the SI-SNR of the channel that best matches it minus the SI-SNR of the unprocessed
mixture, averaged over the sources of a mixture. For single-source inputs there is nothing to
improve; what matters is that the source is passed through intact, so the score is the
absolute SI-SNR of the best channel ("single-source SI-SNR").
"""

from __future__ import annotations

import torch

from audiorep.objectives.si_snr import si_snr_db, si_snr_matrix


def separation_scores(estimates: torch.Tensor, sources: torch.Tensor, mixture: torch.Tensor) -> dict:
    """Per-source scores for [B,M,T] estimates of [B,K,T] sources (silent slots allowed) in
    [B,T] mixtures: `best_si_snr`, `input_si_snr`, `improvement` [B,K], `active` [B,K] bool."""
    active = sources.pow(2).sum(-1) > 0
    best = si_snr_matrix(estimates, sources).amax(-1)
    inputs = si_snr_db(mixture.unsqueeze(1).expand_as(sources), sources)
    return {"best_si_snr": best, "input_si_snr": inputs, "improvement": best - inputs, "active": active}


@torch.no_grad()
def evaluate_separator(model, mixtures: torch.Tensor, sources: torch.Tensor, batch_size: int = 16) -> dict:
    """Summary by number of active sources: {"1": {"n", "single_source_si_snr"},
    "2".."K": {"n", "msi", "input_si_snr"}}, plus "multi" (all inputs with >= 2 sources)."""
    rows = []
    for s in range(0, mixtures.shape[0], batch_size):
        est = model(mixtures[s : s + batch_size])
        rows.append(separation_scores(est, sources[s : s + batch_size], mixtures[s : s + batch_size]))
    scores = {k: torch.cat([r[k] for r in rows]) for k in rows[0]}
    active = scores["active"].float()
    count = active.sum(1).long()
    per_mix = lambda key: (scores[key] * active).sum(1) / active.sum(1).clamp_min(1)  # noqa: E731
    msi, best, inp = per_mix("improvement"), per_mix("best_si_snr"), per_mix("input_si_snr")
    summary = {}
    for k in sorted(set(count.tolist()) - {0}):
        sel = count == k
        entry = {"n": int(sel.sum())}
        if k == 1:
            entry["single_source_si_snr"] = round(float(best[sel].mean()), 2)
        else:
            entry["msi"] = round(float(msi[sel].mean()), 2)
            entry["input_si_snr"] = round(float(inp[sel].mean()), 2)
        summary[str(k)] = entry
    multi = count >= 2
    if multi.any():
        summary["multi"] = {"n": int(multi.sum()), "msi": round(float(msi[multi].mean()), 2)}
    return summary
