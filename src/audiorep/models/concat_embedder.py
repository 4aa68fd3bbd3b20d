"""Several representations probed as one: their embeddings side by side.

`ConcatEmbedder([contrastive, generative])` has the embedder interface (`forward`, `frames`,
`sample_rate`, `embedding_size`, `frame_hop_s`), so the probes, the embedding cache and the
HEAR API take it like any model. Scene embeddings are concatenated. Frame embeddings follow
the first embedder's frames: each other embedder contributes its frame whose centre is
nearest in time, so no frame is shifted by more than half of that embedder's hop.
"""

from __future__ import annotations

import torch
from torch import nn


class ConcatEmbedder(nn.Module):
    def __init__(self, embedders: list[nn.Module]):
        super().__init__()
        if len(embedders) < 2:
            raise ValueError(f"ConcatEmbedder needs at least two embedders, got {len(embedders)}")
        rates = sorted({int(e.sample_rate) for e in embedders})
        if len(rates) > 1:
            raise ValueError(f"ConcatEmbedder: the embedders read audio at different rates {rates}; "
                             "they must read the same samples")
        self.parts = nn.ModuleList(embedders)

    @property
    def sample_rate(self) -> int:
        return self.parts[0].sample_rate

    @property
    def embedding_size(self) -> int:
        return sum(int(e.embedding_size) for e in self.parts)

    @property
    def frame_hop_s(self) -> float:
        return self.parts[0].frame_hop_s

    @property
    def min_input_seconds(self) -> float:
        return max(float(getattr(e, "min_input_seconds", 0.0) or 0.0) for e in self.parts)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.cat([e(wave) for e in self.parts], dim=1)

    def frames(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Waveform [B, T] -> (frame embeddings [B, T', sum D], the first embedder's times [T'])."""
        feats, times = self.parts[0].frames(wave)
        at = times.to(torch.float64)
        out = [feats]
        for e in self.parts[1:]:
            f, t = e.frames(wave)
            t = t.to(at.device, torch.float64)
            if len(t) == 1:
                nearest = torch.zeros(len(at), dtype=torch.long, device=at.device)
            else:
                right = torch.searchsorted(t, at).clamp(1, len(t) - 1)
                left = right - 1
                nearest = torch.where((at - t[left]).abs() <= (t[right] - at).abs(), left, right)
            out.append(f[:, nearest.to(f.device)])
        return torch.cat(out, dim=2), times
