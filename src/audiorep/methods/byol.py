"""BYOL for audio (Grill et al., 2020; BYOL-A, Niizumi et al., 2021): no negatives; the
online network predicts a momentum teacher's projection of the other view.

Both views come from the shared view pipeline (each its own crop and waveform chain, then
log-mel and masking); the teacher sees the same augmented spectrograms as the student.
The teacher is a copy of the online embedder and projector that follows them by an
exponential moving average in `after_step`, with momentum rising from `momentum` to 1
over the run. The online embedder is the representation that is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from audiorep.config import check
from audiorep.methods.augmented_views import ViewMethod, ViewsConfig
from audiorep.models.embedder import AudioEmbedder
from audiorep.models.heads import ProjectionHead
from audiorep.models.momentum_teacher import MomentumTeacher, momentum_at
from audiorep.objectives.byol import byol_loss


@dataclass
class BYOLConfig(ViewsConfig):
    name: str = "byol"
    predictor_hidden: int = 512
    momentum: float = 0.99  # the teacher's EMA momentum at the start of the run

    def validate(self, key):
        super().validate(key)
        check(0 <= self.momentum < 1, f"{key}.momentum", self.momentum, "a number in [0, 1)")


class BYOL(ViewMethod):
    Config = BYOLConfig

    def __init__(self, cfg: BYOLConfig, embedder: AudioEmbedder, sample_rate: int):
        super().__init__(cfg, embedder, sample_rate)
        self.predictor = ProjectionHead(cfg.projection_dim, cfg.predictor_hidden, cfg.projection_dim)
        self.teacher = MomentumTeacher(embedder=embedder, projector=self.projector)
        self.momentum = cfg.momentum

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        audio = batch["audio"]
        n = audio.shape[0]
        waves = self.views.waves(torch.cat([audio, audio]), generator)
        features = self.views.features(self.embedder.frontend, waves, generator)
        prediction = self.predictor(self.projector(self.embedder.embed_features(features)))
        with torch.no_grad():
            target = self.teacher["projector"](self.teacher["embedder"].embed_features(features))
        loss = byol_loss(prediction[:n], target[n:]) + byol_loss(prediction[n:], target[:n])
        return {"loss": loss, "teacher_momentum": self.momentum}

    def after_step(self, step: int, progress: float) -> None:
        self.momentum = momentum_at(self.cfg.momentum, progress)
        self.teacher.update(self.momentum, embedder=self.embedder, projector=self.projector)
