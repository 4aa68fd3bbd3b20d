"""Learned vector-quantiser tokenizer: a small MLP autoencoder with a VQ bottleneck
(`vector_quantize_pytorch.VectorQuantize`), trained to reconstruct standardised patches.

Unlike k-means on raw patches, the encoder can learn which directions of a patch matter for
reconstructing it. The codebook follows the encoder outputs by EMA (not by gradient), is
seeded by k-means on the first training batch, and codes whose EMA usage falls below
`dead_code_threshold` are restarted on random batch outputs, so the codebook stays in use.

Two things about the library shape this file. It runs its k-means seeding on the first
forward whenever its `initted` buffer is False, in eval mode too; so outside `_fit` the
buffer is kept True (an unfitted tokenizer has a random codebook, and encoding never changes
it). And it samples that seeding and the restarts from torch's global generator; `_fit`
seeds a forked copy of it, so a fit is reproducible and leaves the caller's stream alone.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from audiorep.tokenizers.base import Tokenizer

CHUNK_ENTRIES = 1 << 24  # distance-matrix entries per chunk when assigning (64 MB in float32)


@contextlib.contextmanager
def seeded_global_rng(seed: int, device: torch.device):
    """Torch's global generator(s) for `device` seeded with `seed` inside, restored after."""
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        for index in cuda:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


class VQTokenizer(Tokenizer):
    name = "vq"

    def __init__(self, n_features: int, codebook_size: int, patch_frames: int = 1, latent_dim: int = 64,
                 hidden: int = 256, decay: float = 0.9, commitment_weight: float = 0.25,
                 dead_code_threshold: float = 2.0):
        super().__init__(n_features, codebook_size, patch_frames)
        self.latent_dim, self.hidden = latent_dim, hidden
        self.decay, self.commitment_weight, self.dead_code_threshold = decay, commitment_weight, dead_code_threshold
        self.encoder = nn.Sequential(nn.Linear(self.dim, hidden), nn.GELU(), nn.Linear(hidden, latent_dim))
        # sync_codebook=False: fitted within one process; under torchrun the library would
        # otherwise all-reduce codebook statistics, and a rank fitting alone would hang
        from vector_quantize_pytorch import VectorQuantize  # 1.5 s to import: only when a VQ is built

        self.quantizer = VectorQuantize(dim=latent_dim, codebook_size=codebook_size, decay=decay,
                                        commitment_weight=commitment_weight,
                                        threshold_ema_dead_code=dead_code_threshold, kmeans_init=True,
                                        kmeans_iters=10, sync_codebook=False)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.GELU(), nn.Linear(hidden, self.dim))
        book = self.quantizer._codebook
        with torch.no_grad():  # unfitted: the codes are images of random standardised patches
            book.embed.copy_(self.encoder(torch.randn(codebook_size, self.dim))[None])
        book.embed_avg.copy_(book.embed)  # cluster_size is 1: EMA state consistent with embed
        book.initted.fill_(True)
        self._freeze()

    def settings(self) -> dict:
        return {**super().settings(), "latent_dim": self.latent_dim, "hidden": self.hidden, "decay": self.decay,
                "commitment_weight": self.commitment_weight, "dead_code_threshold": self.dead_code_threshold}

    @property
    def codebook(self) -> torch.Tensor:
        """[K, latent_dim]"""
        return self.quantizer.codebook

    def _assign(self, z: torch.Tensor) -> torch.Tensor:
        rows = max(1, CHUNK_ENTRIES // self.codebook_size)
        return torch.cat([self.quantizer(self.encoder(chunk))[1] for chunk in z.split(rows)])

    def _fit(self, z: torch.Tensor, steps: int = 1000, batch_size: int = 1024, lr: float = 1e-3,
             seed: int = 0) -> dict:
        """`steps` Adam steps on reconstruction MSE + commitment loss over random batches, the
        quantiser in training mode (k-means seeding on the first batch, EMA updates, dead-code
        restarts). History per window of ceil(steps / 20) steps, ending at `steps_at`:
        `reconstruction` (mean batch MSE) and `usage` (fraction of codes the window's batches
        used); `final_reconstruction` on up to 20000 patches, in eval mode."""
        n, k, device = z.shape[0], self.codebook_size, z.device
        g = torch.Generator().manual_seed(seed)
        every = max(1, -(-steps // 20))  # at most 20 windows
        history = {"steps_at": [], "reconstruction": [], "usage": []}
        with seeded_global_rng(seed, device), torch.enable_grad():
            for layer in (*self.encoder, *self.decoder):  # a fit depends on its seed and data only
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()
            self.quantizer._codebook.initted.fill_(False)
            modules = (self.encoder, self.quantizer, self.decoder)
            for m in modules:
                m.train()
            params = [*self.encoder.parameters(), *self.decoder.parameters()]
            for p in params:
                p.requires_grad_(True)
            optimiser = torch.optim.Adam(params, lr=lr)
            window_loss = torch.zeros((), device=device)
            window_counts = torch.zeros(k, device=device)
            try:
                for step in range(1, steps + 1):
                    x = z[torch.randint(n, (batch_size,), generator=g).to(device)]
                    quantised, codes, commitment = self.quantizer(self.encoder(x))
                    reconstruction = F.mse_loss(self.decoder(quantised), x)
                    optimiser.zero_grad(set_to_none=True)
                    (reconstruction + commitment).backward()
                    optimiser.step()
                    window_loss += reconstruction.detach()
                    window_counts += torch.bincount(codes, minlength=k)
                    if step % every == 0 or step == steps:
                        size = every if step % every == 0 else step % every
                        history["steps_at"].append(step)
                        history["reconstruction"].append((window_loss / size).item())
                        history["usage"].append((window_counts > 0).float().mean().item())
                        window_loss.zero_()
                        window_counts.zero_()
            finally:
                self.quantizer._codebook.initted.fill_(True)
                self.quantizer.zero.requires_grad_(False)  # the library flags this buffer in training mode
                self._freeze()
        with torch.no_grad():
            held = z[torch.randperm(n, generator=g)[:20000].to(device)]
            decoded = self.decoder(self.quantizer.get_output_from_indices(self._assign(held)))
            history["final_reconstruction"] = F.mse_loss(decoded, held).item()
        history["steps"] = steps
        return history
