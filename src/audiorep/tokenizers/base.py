"""What every tokenizer shares: log-mel frames grouped into patches, standardised per
dimension with statistics of the data it was fitted on, then mapped to a codebook index.

A tokenizer is fitted once, before the model that reads its tokens trains, and is frozen
from then on: it stays in eval mode whatever its parent module asks (`train()` is a no-op),
and its parameters never require grad outside `fit`, so an optimiser over a whole model
never moves it. A subclass implements `_fit(z, **kwargs) -> history` on standardised
patches `z` [N, dim] (it may put its own submodules in training mode there) and
`_assign(z) -> indices [N]`.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from audiorep.tokenizers.stats import codebook_stats


class Tokenizer(nn.Module):
    """Log-mel [B, F, T] -> tokens [B, T // patch_frames], one per patch of frames."""

    name = ""  # the key in `audiorep.tokenizers.TOKENIZERS`

    def __init__(self, n_features: int, codebook_size: int, patch_frames: int = 1):
        super().__init__()
        for key, value in (("n_features", n_features), ("codebook_size", codebook_size),
                           ("patch_frames", patch_frames)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{type(self).__name__}: {key} must be an integer >= 1, got {value!r}")
        self.n_features = n_features
        self.codebook_size = codebook_size
        self.patch_frames = patch_frames
        self.dim = n_features * patch_frames
        self.register_buffer("mean", torch.zeros(self.dim))
        self.register_buffer("std", torch.ones(self.dim))
        self.register_buffer("fitted", torch.tensor(False))
        self._freeze()

    def settings(self) -> dict:
        """The constructor's arguments, saved with the weights so a file rebuilds the same tokenizer."""
        return {"n_features": self.n_features, "codebook_size": self.codebook_size, "patch_frames": self.patch_frames}

    def train(self, mode: bool = True):
        """Always eval: a parent's `.train()` must not switch on EMA updates or dropout here."""
        return super().train(False)

    def _freeze(self) -> None:
        super().train(False)
        self.requires_grad_(False)

    def patches(self, features: torch.Tensor) -> torch.Tensor:
        """[B, F, T] -> [B, T // patch_frames, patch_frames * F]; a patch is frame 0 (all bands),
        then frame 1, ...; a trailing partial patch is dropped."""
        if features.dim() != 3 or features.shape[1] != self.n_features:
            raise ValueError(f"expected log-mel features [B, {self.n_features}, T], got {tuple(features.shape)}")
        b, f, t = features.shape
        n = t // self.patch_frames
        x = features[..., : n * self.patch_frames].reshape(b, f, n, self.patch_frames)
        return x.permute(0, 2, 3, 1).reshape(b, n, self.dim)

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        """Log-mel [B, F, T] -> LongTensor [B, T // patch_frames], in float32 even under autocast
        (a nearest code found in half precision can be the wrong one)."""
        with torch.no_grad(), torch.autocast(device_type=features.device.type, enabled=False):
            p = self.patches(features.to(self.mean.dtype))
            b, n = p.shape[:2]
            z = self.standardise(p.reshape(b * n, self.dim))
            if z.shape[0] == 0:
                return torch.zeros(b, n, dtype=torch.long, device=features.device)
            return self._assign(z).reshape(b, n)

    def fit(self, patches: torch.Tensor, **kwargs) -> dict:
        """Fit on patches [N, dim] (moved to this tokenizer's device, where all the work runs).
        Returns the subclass's history plus `seconds` (wall time of the fit) and `stats`
        (`codebook_stats` of the fitted data's tokens)."""
        if patches.dim() != 2 or patches.shape[1] != self.dim or patches.shape[0] == 0:
            raise ValueError(f"expected patches [N >= 1, {self.dim}], got {tuple(patches.shape)}")
        device = self.mean.device
        patches = patches.detach().to(device=device, dtype=self.mean.dtype)
        start = time.perf_counter()
        try:
            std, mean = torch.std_mean(patches, dim=0, correction=0)
            self.mean.copy_(mean)
            self.std.copy_(std.clamp(min=1e-5))
            z = self.standardise(patches)
            with torch.autocast(device_type=device.type, enabled=False):
                history = dict(self._fit(z, **kwargs) or {})
            self.fitted.fill_(True)
        finally:
            self._freeze()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        history["seconds"] = time.perf_counter() - start
        with torch.no_grad():
            history["stats"] = codebook_stats(self._assign(z), self.codebook_size)
        return history

    def _fit(self, z: torch.Tensor, **kwargs) -> dict:
        raise NotImplementedError

    def _assign(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
