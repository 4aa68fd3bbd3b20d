"""How much of a codebook a set of tokens uses: a tokenizer that maps most frames to a few
codes leaves a next-token model little to predict, so fits and training runs report this."""

from __future__ import annotations

import torch


def usage_and_perplexity(tokens: torch.Tensor, codebook_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The two figures as 0-d tensors on the tokens' device, with no host sync (what a training
    step logs); `codebook_stats` checks the tokens and returns numbers."""
    counts = torch.bincount(tokens.reshape(-1), minlength=codebook_size).double()
    p = counts / counts.sum()
    return (counts > 0).double().mean(), torch.exp(torch.special.entr(p).sum())


def codebook_stats(tokens: torch.Tensor, codebook_size: int) -> dict:
    """Tokens (any shape, values in [0, K)) -> `usage` (fraction of the K codes used at least
    once), `perplexity` (exp of the entropy of the code histogram: K for uniform use, 1 for a
    single code) and `codebook_size`. No tokens: usage and perplexity 0."""
    tokens = tokens.reshape(-1)
    if tokens.numel() == 0:
        return {"usage": 0.0, "perplexity": 0.0, "codebook_size": int(codebook_size)}
    if bool((tokens.min() < 0) | (tokens.max() >= codebook_size)):
        raise ValueError(f"tokens must lie in [0, {codebook_size}), found [{int(tokens.min())}, {int(tokens.max())}]")
    usage, perplexity = usage_and_perplexity(tokens, codebook_size)
    return {"usage": float(usage), "perplexity": float(perplexity), "codebook_size": int(codebook_size)}
