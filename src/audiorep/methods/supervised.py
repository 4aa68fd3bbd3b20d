"""The fully supervised reference: the recipe's encoder trained with a task's labels.

Not a self-supervised method: it is the ceiling a self-supervised encoder is measured
against. Each clip (already cropped to `data.clip_seconds` by the loader) goes through the
waveform chain (gain, noise; no crop), the front-end, the spectrogram chain (masking), the
encoder and pooling, then a linear head: cross-entropy on class indices (`label [B]`), or
BCE-with-logits on multi-hot targets (`label [B, C]`) for multi-label tasks. The embedder is
kept and evaluated like any other; the head is thrown away. There is no projector, so every
parameter takes part in the loss (DDP needs that). `n_classes` comes from the task
(`audiorep.workflows.supervised` fills it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from audiorep.config import check
from audiorep.methods.augmented_views import AugmentedViews, default_spec_chain, default_uncropped_wave_chain
from audiorep.methods.base import Method, MethodConfig
from audiorep.objectives.float32 import float32


@dataclass
class SupervisedConfig(MethodConfig):
    """The `method:` section; `AugmentedViews` reads only its two chain keys."""

    name: str = "supervised"
    n_classes: int = 0
    multilabel: bool = False
    wave_augment: list = field(default_factory=default_uncropped_wave_chain)
    spec_augment: list = field(default_factory=default_spec_chain)
    label_smoothing: float = 0.0

    def validate(self, key):
        check(self.n_classes >= 2, f"{key}.n_classes", self.n_classes,
              "an integer >= 2, the task's number of classes (`audiorep supervised` fills it from the task)")
        check(0.0 <= self.label_smoothing < 1.0, f"{key}.label_smoothing", self.label_smoothing, "a number in [0, 1)")


@float32
def classification_loss(logits: torch.Tensor, targets: torch.Tensor, multilabel: bool,
                        label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy on class indices [B], or BCE-with-logits (mean over clips and classes) on
    multi-hot [B, C], whose targets are smoothed towards 1/2 by `label_smoothing`."""
    if multilabel:
        targets = targets.float() * (1.0 - label_smoothing) + 0.5 * label_smoothing
        return F.binary_cross_entropy_with_logits(logits, targets)
    return F.cross_entropy(logits, targets.long(), label_smoothing=label_smoothing)


class Supervised(Method):
    Config = SupervisedConfig
    batch_fields = ("audio", "label")

    def __init__(self, cfg: SupervisedConfig, embedder: nn.Module, sample_rate: int):
        super().__init__()
        self.cfg = cfg
        self.sample_rate = sample_rate
        self.embedder = embedder
        self.views = AugmentedViews(cfg, sample_rate, embedder.frontend)
        self.head = nn.Linear(embedder.embedding_size, cfg.n_classes)

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        labels = batch["label"]
        waves = self.views.waves(batch["audio"], generator)
        logits = self.head(self.views.embed(self.embedder, waves, generator))
        loss = classification_loss(logits, labels, self.cfg.multilabel, self.cfg.label_smoothing)
        with torch.no_grad():
            if self.cfg.multilabel:  # decisions at p = 0.5, right over every (clip, class)
                return {"loss": loss, "hamming_accuracy": ((logits > 0) == (labels > 0.5)).float().mean()}
            return {"loss": loss, "accuracy": (logits.argmax(1) == labels).float().mean()}
