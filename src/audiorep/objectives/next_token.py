"""Next-token prediction, the objective of a causal language model over tokens.

Position t predicts token t + 1: logits[:, t] are scored against tokens[:, t + 1], so the last
position's logits predict nothing and the first token is never a target. Cross-entropy runs in
float32 (`@float32`): over a vocabulary of codebook tokens, bf16 log-softmax rounds away the
small probabilities the loss is made of.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiorep.objectives.float32 import float32


def _shifted(logits: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """logits[:, :-1] as [N, V] and tokens[:, 1:] as [N], after checking the shapes agree."""
    if logits.dim() != 3 or tokens.dim() != 2 or logits.shape[:2] != tokens.shape or tokens.shape[1] < 2:
        raise ValueError(f"expected logits [B, T, V] and tokens [B, T] with T >= 2, got {tuple(logits.shape)} "
                         f"and {tuple(tokens.shape)}")
    return logits[:, :-1].reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1)


@float32
def next_token_loss(logits: torch.Tensor, tokens: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy (nats) of logits[:, t] against tokens[:, t + 1] over all B x (T - 1) positions."""
    predictions, targets = _shifted(logits, tokens)
    return F.cross_entropy(predictions, targets, label_smoothing=label_smoothing)


@torch.no_grad()
def next_token_accuracy(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Fraction of positions t whose argmax logit is tokens[:, t + 1]."""
    predictions, targets = _shifted(logits, tokens)
    return (predictions.argmax(-1) == targets).float().mean()
