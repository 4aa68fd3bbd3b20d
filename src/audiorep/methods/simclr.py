"""SimCLR for audio: two augmented views of each clip, NT-Xent between their projections.

Views are made on the training device from one batch: each view is its own random crop
of the clip followed by the waveform chain (pitch, timbre, gain, noise...), then log-mel,
then the spectrogram chain (masking). Both chains are named in config.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from audiorep.methods.augmented_views import ContrastiveConfig, ViewMethod
from audiorep.objectives.ntxent import nt_xent


@dataclass
class SimCLRConfig(ContrastiveConfig):
    name: str = "simclr"


class SimCLR(ViewMethod):
    Config = SimCLRConfig

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        audio = batch["audio"]
        n = audio.shape[0]
        views = self.views.waves(torch.cat([audio, audio]), generator)  # independent params per view
        z = self.projector(self.views.embed(self.embedder, views, generator))
        loss = nt_xent(z[:n], z[n:], self.cfg.temperature, gather=self.cfg.gather_negatives)
        with torch.no_grad():
            za, zb = F.normalize(z[:n], dim=1), F.normalize(z[n:], dim=1)
            pos = (za * zb).sum(1).mean()
            top1 = ((za @ zb.T).argmax(1) == torch.arange(n, device=z.device)).float().mean()
        return {"loss": loss, "pos_cosine": pos, "pair_top1": top1}
