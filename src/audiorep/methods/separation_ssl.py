"""Self-supervised learning from automatically separated scenes (mixture <-> separated views).

For each clip (optionally first made into a scene by `scene_augment`, e.g. `scene_mix` for
datasets of single-source recordings), a random crop is the *mixture* view; one of several
MixIT separators (drawn per example: checkpoints at different convergence states act as one
augmentation) splits a second crop of the same clip (the same crop with `same_window`) into
channels, and the *separated* view is the mixture, one channel, a remix of some channels, or
the mixture with one channel removed (`audiorep.separation.views`). Both views get the
waveform chain, log-mel and the spectrogram chain. Two objectives, weighted:

- similarity: NT-Xent (or COLA's bilinear similarity) between the two views' projections;
- coincidence: a head predicts whether a pair of embeddings comes from the same scene
  (positives: the two views of a clip; negatives: views of different clips).

With no separators the separated view is the second crop itself: the mixture-only variant,
which is SimCLR with this method's chains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from audiorep.augment.compose import build_chain
from audiorep.augment.crop import RandomCrop
from audiorep.config import check
from audiorep.frontend.resample import fft_resample
from audiorep.methods.augmented_views import ContrastiveConfig, ViewMethod, default_uncropped_wave_chain
from audiorep.models.embedder import AudioEmbedder
from audiorep.models.heads import CoincidenceHead
from audiorep.objectives.bilinear import bilinear_contrastive
from audiorep.objectives.coincidence import coincidence_loss, coincidence_pairs
from audiorep.objectives.ntxent import nt_xent
from audiorep.separation.views import VIEW_KINDS, SeparationFrontEnd, separation_views


@dataclass
class SeparationSSLConfig(ContrastiveConfig):
    name: str = "separation_ssl"
    separators: list = field(default_factory=list)  # separator checkpoints; empty = mixture-only views
    view_probs: list = field(default_factory=lambda: [0.1, 0.3, 0.3, 0.3])  # over VIEW_KINDS
    view_seconds: float = 1.0
    same_window: bool = False  # both views from one crop (else two independent crops of the clip)
    scene_augment: list = field(default_factory=list)  # applied to whole clips first, e.g. scene_mix
    keep_high_band: bool = False  # add the mixture's band above the separator's Nyquist to separated views
    similarity: str = "ntxent"  # ntxent | bilinear | none
    similarity_weight: float = 1.0
    coincidence_weight: float = 1.0
    wave_augment: list = field(default_factory=default_uncropped_wave_chain)  # no crop: the views are crops already

    def validate(self, key):
        super().validate(key)
        check(self.similarity in ("ntxent", "bilinear", "none"), f"{key}.similarity", self.similarity,
              "one of ntxent, bilinear, none")
        check(len(self.view_probs) == len(VIEW_KINDS) and min(self.view_probs) >= 0 and sum(self.view_probs) > 0,
              f"{key}.view_probs", self.view_probs, f"{len(VIEW_KINDS)} non-negative weights for {', '.join(VIEW_KINDS)}")
        check(self.similarity != "none" or self.coincidence_weight > 0, f"{key}.coincidence_weight",
              self.coincidence_weight, "> 0 when similarity is none (no objective left)")


class SeparationSSL(ViewMethod):
    Config = SeparationSSLConfig

    def __init__(self, cfg: SeparationSSLConfig, embedder: AudioEmbedder, sample_rate: int,
                 separators: list[nn.Module] = ()):
        super().__init__(cfg, embedder, sample_rate)
        if cfg.similarity == "none":  # coincidence alone: a projector would get no gradient (and break DDP)
            self.projector = None
        self.front = SeparationFrontEnd(list(separators)) if separators else None
        self.crop = RandomCrop(cfg.view_seconds, sample_rate)
        self.scene_augment = build_chain(cfg.scene_augment, sample_rate)
        if cfg.similarity == "bilinear":
            self.bilinear = torch.nn.Parameter(torch.eye(cfg.projection_dim))
        self.coincidence = CoincidenceHead(embedder.embedding_size) if cfg.coincidence_weight > 0 else None

    @torch.no_grad()
    def separated_views(self, mixture: torch.Tensor, generator) -> torch.Tensor:
        if self.front is None:
            return mixture
        rate, length = self.front.separators[0].sample_rate, mixture.shape[-1]
        low = fft_resample(mixture, self.sample_rate, rate)
        channels, _ = self.front(low, generator)
        channels = fft_resample(channels, rate, self.sample_rate)[..., :length]
        views, _, _ = separation_views(channels, generator=generator, probs=self.cfg.view_probs)
        if self.cfg.keep_high_band and rate < self.sample_rate:
            # the band above the separator's Nyquist, which it never saw, comes from the mixture
            views = views + (mixture - fft_resample(low, rate, self.sample_rate)[..., :length])
        return views

    @torch.no_grad()
    def make_views(self, audio: torch.Tensor, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Clips [B, T] -> (mixture views, separated views), each [B, view samples], before the chains."""
        scenes = self.scene_augment(audio, generator)
        mixture = self.crop(scenes, generator)
        second = mixture if self.cfg.same_window else self.crop(scenes, generator)
        return mixture, self.separated_views(second, generator)

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        audio, cfg = batch["audio"], self.cfg
        n = audio.shape[0]
        mixture, separated = self.make_views(audio, generator)
        h = self.views.embed(self.embedder, self.views.waves(torch.cat([mixture, separated]), generator), generator)
        logs, loss = {}, h.new_zeros(())
        if cfg.similarity != "none":
            z = self.projector(h)
            if cfg.similarity == "ntxent":
                sim = nt_xent(z[:n], z[n:], cfg.temperature, gather=cfg.gather_negatives)
            else:
                sim = bilinear_contrastive(z[:n], z[n:], self.bilinear)
            loss = loss + cfg.similarity_weight * sim
            logs["similarity_loss"] = sim.detach()
        if self.coincidence is not None:
            left, right, labels = coincidence_pairs(n, generator)
            logits = self.coincidence(h[:n][left.to(h.device)], h[n:][right.to(h.device)])
            coin = coincidence_loss(logits, labels)
            loss = loss + cfg.coincidence_weight * coin
            logs["coincidence_loss"] = coin.detach()
            logs["coincidence_acc"] = ((logits > 0).float().cpu() == labels).float().mean()
        return {"loss": loss, **logs}
