"""SimCLR for audio: two augmented views of each clip, NT-Xent between their projections.

Views are made on the training device from one batch: each view is its own random crop
of the clip followed by the waveform chain (pitch, timbre, gain, noise...), then log-mel,
then the spectrogram chain (masking). Both chains are named in config.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from audiorep.augment.compose import build_chain
from audiorep.methods.base import Method, MethodConfig
from audiorep.models.heads import ProjectionHead
from audiorep.objectives.ntxent import nt_xent


def default_wave_chain() -> list[dict]:
    return [
        {"name": "random_crop", "seconds": 1.0},
        {"name": "gain", "db": [-10, 6]},
        {"name": "noise", "snr_db": [5, 40], "p": 0.5},
    ]


def default_spec_chain() -> list[dict]:
    return [{"name": "freq_mask", "max_width": 8, "count": 1}, {"name": "time_mask", "max_width": 10, "count": 1}]


@dataclass
class SimCLRConfig(MethodConfig):
    name: str = "simclr"
    temperature: float = 0.2
    projection_dim: int = 128
    projection_hidden: int = 512
    wave_augment: list = field(default_factory=default_wave_chain)
    spec_augment: list = field(default_factory=default_spec_chain)
    gather_negatives: bool = True  # use every rank's negatives under DDP

    def validate(self, key):
        if not self.temperature > 0:
            from audiorep.errors import ConfigError

            raise ConfigError(f"config key '{key}.temperature': got {self.temperature!r}, expected a positive number")


class SimCLR(Method):
    Config = SimCLRConfig

    def __init__(self, cfg: SimCLRConfig, embedder, sample_rate: int):
        super().__init__(cfg, embedder, sample_rate)
        self.wave_augment = build_chain(cfg.wave_augment, sample_rate)
        self.spec_augment = build_chain(cfg.spec_augment, sample_rate)
        self.projector = ProjectionHead(embedder.embedding_size, cfg.projection_hidden, cfg.projection_dim)

    def embed_views(self, wave: torch.Tensor, generator) -> torch.Tensor:
        mel = self.spec_augment(self.embedder.frontend(wave), generator)
        return self.embedder.pool(self.embedder.encoder(mel))

    def forward(self, audio: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        n = audio.shape[0]
        with torch.no_grad():
            views = self.wave_augment(torch.cat([audio, audio]), generator)  # independent params per view
        h = self.embed_views(views, generator)
        z = self.projector(h)
        loss = nt_xent(z[:n], z[n:], self.cfg.temperature, gather=self.cfg.gather_negatives)
        with torch.no_grad():
            za, zb = torch.nn.functional.normalize(z[:n], dim=1), torch.nn.functional.normalize(z[n:], dim=1)
            pos = (za * zb).sum(1).mean()
            top1 = ((za @ zb.T).argmax(1) == torch.arange(n, device=z.device)).float().mean()
        return {"loss": loss, "pos_cosine": pos.detach(), "pair_top1": top1.detach()}
