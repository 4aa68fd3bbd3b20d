"""Heads that sit on top of an embedding during pretraining and are discarded after."""

from __future__ import annotations

from torch import nn


class ProjectionHead(nn.Module):
    """SimCLR projector: Linear-BN-ReLU then Linear; the loss lives in its output space."""

    def __init__(self, in_dim: int, hidden_dim: int = 512, out_dim: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim, bias=False), nn.BatchNorm1d(hidden_dim),
                                 nn.ReLU(inplace=True), nn.Linear(hidden_dim, out_dim))

    def forward(self, x):
        return self.net(x)


class CoincidenceHead(nn.Module):
    """Logit that two embeddings come from the same scene, from [a, b, |a - b|, a * b]."""

    def __init__(self, in_dim: int, hidden_dim: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4 * in_dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, 1))

    def forward(self, a, b):
        import torch

        return self.net(torch.cat([a, b, (a - b).abs(), a * b], dim=-1)).squeeze(-1)
