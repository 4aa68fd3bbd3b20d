"""Mixing across examples for audio-visual learning, with the soft targets that credit each source.

Each example i is, with probability p, mixed with a partner example k = partner[i] of the same
batch (never itself): audio'_i = lam_i a_i + (1 - lam_i) a_k, lam_i ~ Uniform(lo, hi) the weight
of the example's own content. Its audio then holds two clips, so the cross-modal loss must
credit both: the composition matrix C [B, B] has C[i, i] = lam_i and C[i, k] = 1 - lam_i
(rows sum to 1; unmixed rows are one-hot), and `cross_modal_nce(audio', video, targets=C)`
asks audio i to find video i with probability lam_i and video k with 1 - lam_i.

Frames are left clean by default. With `mix_frames=True` frame i gets the same partner and
ratio, so audio i and video j share sum_c C[i, c] C[j, c] of their content: the targets are then
C C^T (symmetric, rows not normalised; `cross_modal_nce` normalises rows and columns itself).

Level: the plain mix is exact (the weights are amplitude weights). Two uncorrelated clips
mixed at lam and 1 - lam are up to 3 dB quieter than either (sqrt(lam^2 + (1 - lam)^2)), a
loudness cue that tells mixed clips from clean ones; `keep_rms=True` rescales each mixed
audio to the RMS of the example's own clip. The proportions of the two sources stay lam : 1 - lam.

Parameters are drawn per example on a CPU generator, in a fixed order (which examples, ratios,
partners; all drawn whatever p is, so the stream does not depend on p), and the mixing is one
batched operation on the batch's device. Partners come from this rank's batch; under DDP
`cross_modal_nce(..., gather=True)` places these [B, B] targets at the rank's offset itself.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from audiorep.augment.mixing import partners
from audiorep.augment.random_draws import (
    apply_mask,
    as_range,
    check_probability,
    uniform,
)


class MixedBatch(NamedTuple):
    audio: torch.Tensor  # [B, ...] mixed audio
    frames: torch.Tensor | None  # [B, F, C, H, W], mixed only with mix_frames=True
    targets: torch.Tensor  # [B, B] float32 soft targets (audio row i, video column j): C, or C C^T with mixed frames


class BatchMix(nn.Module):
    """`forward(audio, frames=None, generator=None) -> MixedBatch(audio, frames, targets)`.

    The last draw is kept in `last_partner` [B], `last_lam` [B] (1 where an example was left
    alone) and `last_composition` [B, B] (C above), for methods that log or reuse it.
    """

    def __init__(self, p: float = 0.5, lam=(0.6, 1.0), mix_frames: bool = False, keep_rms: bool = False):
        super().__init__()
        self.p = check_probability(p)
        self.lam = as_range(lam, "lam")
        if not 0 < self.lam[0] <= self.lam[1] <= 1:
            raise ValueError(f"lam (the weight of an example's own content) must lie in (0, 1], got {list(self.lam)}")
        self.mix_frames, self.keep_rms = bool(mix_frames), bool(keep_rms)
        self.last_partner: torch.Tensor | None = None
        self.last_lam: torch.Tensor | None = None
        self.last_composition: torch.Tensor | None = None

    def draw(self, batch: int, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(partner [B] long, lam [B] float64) on the CPU; lam = 1 for examples left alone."""
        chosen = apply_mask(batch, self.p, generator)
        lam = uniform(batch, self.lam, generator)
        partner = partners(batch, generator)
        chosen &= partner != torch.arange(batch)  # a batch of one has no partner
        return partner, torch.where(chosen, lam, torch.ones_like(lam))

    def forward(self, audio: torch.Tensor, frames: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> MixedBatch:
        batch = audio.shape[0]
        if audio.dim() < 2:
            raise ValueError(f"BatchMix expects audio [batch, ...], got shape {tuple(audio.shape)}")
        if frames is not None and frames.shape[0] != batch:
            raise ValueError(f"BatchMix: {batch} audio clips but {frames.shape[0]} videos")
        partner, lam = self.draw(batch, generator)
        composition = torch.diag(lam).index_put_((torch.arange(batch), partner), 1 - lam, accumulate=True)
        self.last_partner, self.last_lam, self.last_composition = partner, lam, composition
        c = composition.to(audio.device, torch.float32)
        targets = c @ c.T if self.mix_frames and frames is not None else c
        if not bool((lam < 1).any()):  # nothing mixed: the inputs themselves
            return MixedBatch(audio, frames, targets)
        audio_out = _mix(audio, partner, lam)
        if self.keep_rms:
            level = (_rms(audio) / _rms(audio_out).clamp_min(1e-12)).to(audio_out.dtype)
            audio_out = torch.where(_per_example(lam < 1, audio), audio_out * level, audio_out)
        if frames is not None and self.mix_frames:
            frames = _mix(frames, partner, lam)
        return MixedBatch(audio_out, frames, targets)

    def extra_repr(self) -> str:
        return f"p={self.p}, lam={list(self.lam)}, mix_frames={self.mix_frames}, keep_rms={self.keep_rms}"


def _per_example(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """[B] CPU values as [B, 1, ...] on `like`'s device, to broadcast over an example."""
    return values.to(like.device).view(-1, *[1] * (like.dim() - 1))


def _mix(x: torch.Tensor, partner: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """lam x + (1 - lam) x[partner] per example, computed in float32 (float64 stays float64);
    uint8 frames are rounded back. Examples with lam = 1 are passed through untouched."""
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    w = _per_example(lam.to(dtype), x)
    out = w * x.to(dtype) + (1 - w) * x[partner.to(x.device)].to(dtype)
    out = out.round().clamp(0, 255).to(x.dtype) if x.dtype == torch.uint8 else out.to(x.dtype)
    return torch.where(_per_example(lam < 1, x), out, x)


def _rms(x: torch.Tensor) -> torch.Tensor:
    """Root mean square per example, [B, 1, ...]."""
    return x.float().flatten(1).square().mean(1).sqrt().view(-1, *[1] * (x.dim() - 1))
