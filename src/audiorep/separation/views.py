"""Views of a sound scene made from its automatically separated channels.

Every view is a masked sum of the M channels, so one batched formula makes them all:
`view = (mask[:, :, None] * channels).sum(1)` with, per example,

- `mixture`: all channels (equals the input under mixture consistency);
- `channel`: one channel, drawn with probability proportional to its energy (separators
  leave some channels silent);
- `remix`: a random non-empty subset of channels;
- `removed`: all channels but one (the mixture with one source taken out).

The kind of view is drawn per example; the masks come back so a method (and a test) knows
what each view holds.
"""

from __future__ import annotations

import torch

VIEW_KINDS = ("mixture", "channel", "remix", "removed")


def _energy_weighted_choice(channels: torch.Tensor, generator) -> torch.Tensor:
    energy = channels.float().square().mean(-1).cpu() + 1e-12  # [B, M]
    return torch.multinomial(energy / energy.sum(1, keepdim=True), 1, generator=generator).squeeze(1)


def view_masks(channels: torch.Tensor, kinds: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Channel masks [B, M] (float, on CPU) for view kinds [B] (indices into VIEW_KINDS)."""
    b, m = channels.shape[:2]
    kinds = kinds.cpu()
    one = torch.zeros(b, m)
    one[torch.arange(b), _energy_weighted_choice(channels, generator)] = 1.0
    subset = (torch.rand(b, m, generator=generator) < 0.5).float()
    empty = subset.sum(1) == 0
    subset[empty] = one[empty]  # a remix holds at least one channel
    masks = torch.ones(b, m)
    masks = torch.where((kinds == 1)[:, None], one, masks)
    masks = torch.where((kinds == 2)[:, None], subset, masks)
    masks = torch.where((kinds == 3)[:, None], 1.0 - one, masks)
    return masks


def separation_views(channels: torch.Tensor, kinds: torch.Tensor | None = None,
                     generator: torch.Generator | None = None, probs=(0.25, 0.25, 0.25, 0.25)):
    """Views [B, T] from separated channels [B, M, T]; returns (views, masks [B, M], kinds [B]).

    `kinds` defaults to a draw from `probs` over VIEW_KINDS.
    """
    if channels.dim() != 3:
        raise ValueError(f"separation_views expects channels [batch, M, samples], got {tuple(channels.shape)}")
    if kinds is None:
        kinds = torch.multinomial(torch.tensor(probs, dtype=torch.float), channels.shape[0], replacement=True,
                                  generator=generator)
    masks = view_masks(channels, kinds, generator)
    views = (masks.to(channels.device, channels.dtype)[:, :, None] * channels).sum(1)
    return views, masks, kinds


class SeparationFrontEnd(torch.nn.Module):
    """Several separators (e.g. early, middle and late checkpoints of one MixIT run) acting as
    one augmentation: each example is separated by one of them, drawn at random; no gradients."""

    def __init__(self, separators: list[torch.nn.Module]):
        super().__init__()
        if not separators:
            raise ValueError("SeparationFrontEnd needs at least one separator")
        self.separators = torch.nn.ModuleList(s.eval().requires_grad_(False) for s in separators)
        self.num_channels = max(s.num_channels for s in self.separators)

    @torch.no_grad()
    def forward(self, mixture: torch.Tensor, generator: torch.Generator | None = None):
        """Mixtures [B, T] -> (channels [B, M, T], which separator served each example [B])."""
        which = torch.randint(len(self.separators), (mixture.shape[0],), generator=generator)
        channels = mixture.new_zeros(mixture.shape[0], self.num_channels, mixture.shape[-1])
        for k, separator in enumerate(self.separators):  # a loop over checkpoints, not examples
            rows = (which == k).nonzero().squeeze(1).to(mixture.device)
            if len(rows):
                out = separator(mixture[rows])
                channels[rows, : out.shape[1]] = out[..., : mixture.shape[-1]]
        return channels, which
