"""NT-Xent (normalised temperature-scaled cross-entropy), the SimCLR / InfoNCE loss.

For 2N embeddings made of N positive pairs (z_a[i], z_b[i]), each embedding must pick its
partner among the 2N - 1 others by cosine similarity / temperature. With `gather=True`
under torch.distributed, negatives come from every rank, with gradients flowing to the
gradients flowing back to the rank each embedding came from.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from audiorep.objectives.float32 import float32


class _GatherWithGrad(torch.autograd.Function):
    """all_gather of [n_r, D] tensors whose n_r may differ by rank (a bad file shrinks one
    rank's batch). Backward sums every rank's gradient and returns this rank's rows, so that,
    after DDP averages, gradients equal those of one big batch."""

    @staticmethod
    def forward(ctx, x, sizes: list[int]):
        padded = x.new_zeros((max(sizes),) + tuple(x.shape[1:]))
        padded[: x.shape[0]] = x
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded)
        rank = dist.get_rank()
        ctx.rows = (sum(sizes[:rank]), sum(sizes[: rank + 1]))
        return torch.cat([p[:n] for p, n in zip(parts, sizes)])

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad)
        start, stop = ctx.rows
        return grad[start:stop], None


def gather_with_grad(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All ranks' `x` concatenated (gradients flow back to their rank), and this rank's offset."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x, 0
    size = torch.tensor([x.shape[0]], device=x.device)
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    sizes = [int(s) for s in sizes]
    return _GatherWithGrad.apply(x, sizes), sum(sizes[: dist.get_rank()])


@float32
def nt_xent(z_a: torch.Tensor, z_b: torch.Tensor, temperature: float = 0.1, gather: bool = False) -> torch.Tensor:
    """Mean NT-Xent over both directions of N positive pairs; z_a, z_b: [N, D]."""
    if z_a.shape != z_b.shape or z_a.dim() != 2:
        raise ValueError(f"nt_xent expects two [N, D] tensors of one shape, got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    z_a = F.normalize(z_a.float(), dim=1)
    z_b = F.normalize(z_b.float(), dim=1)
    n = z_a.shape[0]
    queries = torch.cat([z_a, z_b])  # [2N, D], local
    keys_a, offset = gather_with_grad(z_a) if gather else (z_a, 0)
    keys_b, _ = gather_with_grad(z_b) if gather else (z_b, 0)
    keys = torch.cat([keys_a, keys_b])  # [2M, D]
    m = keys_a.shape[0]
    logits = queries @ keys.T / temperature
    idx = torch.arange(n, device=z_a.device) + offset
    self_idx = torch.cat([idx, idx + m])
    logits[torch.arange(2 * n, device=z_a.device), self_idx] = float("-inf")  # an embedding is not its own negative
    targets = torch.cat([idx + m, idx])
    return F.cross_entropy(logits, targets)
