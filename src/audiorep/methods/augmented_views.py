"""The parts view-based methods share: view chains, view embedding, the projector, and their
config keys.

A view is the waveform chain (random crop, gain, pitch, ... run without gradients) -> the
embedder's front-end -> the spectrogram chain (masking) -> the encoder -> a pooled
embedding -> the projector. `ViewMethod` sets these up; a method (SimCLR, BYOL, separation
SSL) adds its own views and objective, and imports no other method.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from audiorep.augment.compose import build_chain
from audiorep.config import check
from audiorep.errors import ConfigError
from audiorep.methods.base import Method, MethodConfig
from audiorep.models.heads import ProjectionHead


def default_wave_chain() -> list[dict]:
    return [
        {"name": "random_crop", "seconds": 1.0},
        {"name": "gain", "db": [-10, 6]},
        {"name": "noise", "snr_db": [5, 40], "p": 0.5},
    ]


def default_uncropped_wave_chain() -> list[dict]:
    """The default chain without its crop, for methods whose clips arrive cropped (views that
    are crops already, audio cut with its frames, labelled clips)."""
    return [{"name": "gain", "db": [-10, 6]}, {"name": "noise", "snr_db": [5, 40], "p": 0.5}]


def default_spec_chain() -> list[dict]:
    return [{"name": "freq_mask", "max_width": 8, "count": 1}, {"name": "time_mask", "max_width": 10, "count": 1}]


@dataclass
class ViewsConfig(MethodConfig):
    """Keys of every method that embeds augmented views through a projector."""

    name: str = ""
    wave_augment: list = field(default_factory=default_wave_chain)
    spec_augment: list = field(default_factory=default_spec_chain)
    projection_dim: int = 128
    projection_hidden: int = 512

    def validate(self, key):
        check(self.projection_dim >= 2, f"{key}.projection_dim", self.projection_dim, "an integer >= 2")
        check(self.projection_hidden >= 2, f"{key}.projection_hidden", self.projection_hidden, "an integer >= 2")


@dataclass
class ContrastiveConfig(ViewsConfig):
    """Keys of methods whose objective contrasts positives with the batch's negatives."""

    temperature: float = 0.2
    gather_negatives: bool = True  # use every rank's negatives under DDP

    def validate(self, key):
        super().validate(key)
        check(self.temperature > 0, f"{key}.temperature", self.temperature, "a positive number")


class AugmentedViews(nn.Module):
    """The two chains of a recipe, and the embedding of views through an embedder."""

    def __init__(self, cfg: ViewsConfig, sample_rate: int, frontend: nn.Module):
        super().__init__()
        self.wave_augment = build_chain(cfg.wave_augment, sample_rate)
        self.spec_augment = build_chain(cfg.spec_augment, sample_rate)
        if len(self.spec_augment) and getattr(frontend, "produces", "spectrogram") != "spectrogram":
            raise ConfigError(f"config key 'method.spec_augment': the {frontend.produces} front-end makes no "
                              "spectrogram to mask; set method.spec_augment=[]")

    @torch.no_grad()
    def waves(self, audio: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Clips [B, T] -> augmented waveforms; each example draws its own parameters."""
        return self.wave_augment(audio, generator)

    def features(self, frontend: nn.Module, waves: torch.Tensor, generator=None) -> torch.Tensor:
        """Waveforms -> augmented front-end features [B, F, T'] (one draw, reusable by two networks)."""
        return self.spec_augment(frontend(waves), generator)

    def embed(self, embedder: nn.Module, waves: torch.Tensor, generator=None) -> torch.Tensor:
        """Waveforms [B, T] -> pooled embeddings [B, D], with gradients into the encoder."""
        return embedder.embed_features(self.features(embedder.frontend, waves, generator))


class ViewMethod(Method):
    """Base of methods that embed augmented views: `cfg`, `embedder` (the representation that is
    kept), `views` (its chains) and `projector` (where the objective lives)."""

    def __init__(self, cfg: ViewsConfig, embedder: nn.Module, sample_rate: int):
        super().__init__()
        self.cfg = cfg
        self.sample_rate = sample_rate
        self.embedder = embedder
        self.views = AugmentedViews(cfg, sample_rate, embedder.frontend)
        self.projector = ProjectionHead(embedder.embedding_size, cfg.projection_hidden, cfg.projection_dim)
