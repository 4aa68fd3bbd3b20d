"""Audio-visual contrastive learning: the frames show what makes the sound.

Each clip's audio (waveform chain, front-end, spectrogram chain, audio encoder, projector) and
its frames (video encoder, projector) are pulled together and pushed away from the batch's
other clips by a symmetric cross-modal InfoNCE (audio -> video and video -> audio). Under
torchrun the keys come from every rank. Optionally, mixing across examples puts part of another
clip of the batch into an example's audio (and frames); the soft targets then credit both
clips in proportion, which makes the task harder the larger the batch. An optional audio <->
audio NT-Xent term between two audio views adds SimCLR's invariances.

The audio encoder is the representation that is kept and evaluated; the video encoder is a
teacher. Audio and frames arrive cropped at the same time by the source, so the waveform chain
may not crop again (it would cut the audio away from the frames it goes with).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from audiorep.augment.batch_mix import BatchMix
from audiorep.config import check
from audiorep.errors import ConfigError
from audiorep.methods.augmented_views import ContrastiveConfig, ViewMethod, default_uncropped_wave_chain
from audiorep.models.heads import ProjectionHead
from audiorep.objectives.cross_modal import cross_modal_nce
from audiorep.objectives.ntxent import nt_xent

CROPPING_OPS = ("random_crop", "resized_crop")


@dataclass
class AudioVisualConfig(ContrastiveConfig):
    name: str = "audiovisual"
    temperature: float = 0.1
    wave_augment: list = field(default_factory=default_uncropped_wave_chain)
    video_encoder: dict = field(default_factory=lambda: {"name": "r2plus1d"})
    mix_p: float = 0.0  # probability that an example's audio is mixed with another example of the batch
    mix_ratio: list = field(default_factory=lambda: [0.6, 1.0])  # weight of the example's own clip
    mix_frames: bool = False  # mix the frames with the same partner and ratio
    audio_audio_weight: float = 0.0  # weight of an NT-Xent term between two audio views

    def validate(self, key):
        super().validate(key)
        check(0 <= self.mix_p <= 1, f"{key}.mix_p", self.mix_p, "a probability in [0, 1]")
        check(len(self.mix_ratio) == 2 and 0 < self.mix_ratio[0] <= self.mix_ratio[1] <= 1, f"{key}.mix_ratio",
              self.mix_ratio, "[low, high] with 0 < low <= high <= 1")
        check(self.audio_audio_weight >= 0, f"{key}.audio_audio_weight", self.audio_audio_weight, "a number >= 0")
        cropping = [op.get("name") for op in self.wave_augment if op.get("name") in CROPPING_OPS]
        if cropping:
            raise ConfigError(f"config key '{key}.wave_augment': {cropping[0]} would cut the audio away from its "
                              "frames; the source crops audio and video together (data.clip_seconds)")


class AudioVisual(ViewMethod):
    Config = AudioVisualConfig
    batch_fields = ("audio", "video")

    def __init__(self, cfg: AudioVisualConfig, embedder: nn.Module, sample_rate: int, video_encoder: nn.Module):
        super().__init__(cfg, embedder, sample_rate)
        self.video_encoder = video_encoder
        self.video_projector = ProjectionHead(video_encoder.out_dim, cfg.projection_hidden, cfg.projection_dim)
        self.mix = BatchMix(cfg.mix_p, cfg.mix_ratio, mix_frames=cfg.mix_frames)

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        audio, video = batch["audio"], batch["video"]
        n = audio.shape[0]
        mixed = self.mix(audio, video, generator)
        two_views = self.cfg.audio_audio_weight > 0
        waves = self.views.waves(torch.cat([mixed.audio, mixed.audio]) if two_views else mixed.audio, generator)
        za = self.projector(self.views.embed(self.embedder, waves, generator))
        zv = self.video_projector(self.video_encoder(mixed.frames))
        targets = mixed.targets if self.cfg.mix_p > 0 else None
        loss = cross_modal_nce(za[:n], zv, self.cfg.temperature, gather=self.cfg.gather_negatives, targets=targets)
        out = {}
        if two_views:
            aa = nt_xent(za[:n], za[n:], self.cfg.temperature, gather=self.cfg.gather_negatives)
            out["audio_audio"] = aa.detach()
            out["audio_video"] = loss.detach()
            loss = loss + self.cfg.audio_audio_weight * aa
        with torch.no_grad():
            sim = F.normalize(za[:n].float(), dim=1) @ F.normalize(zv.float(), dim=1).T
            out["av_top1"] = (sim.argmax(1) == torch.arange(n, device=sim.device)).float().mean()
            out["pos_cosine"] = sim.diagonal().mean()
        return {"loss": loss, **out}
