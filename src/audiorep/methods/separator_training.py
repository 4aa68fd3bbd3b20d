"""Training a sound separator as a method on the shared trainer: MixIT on unlabelled clips,
or PIT on isolated sources (the supervised upper reference; synthetic world only).

- `mixit`: clips 2i and 2i+1 of the batch are summed into a mixture of mixtures (a share
  `single_mixture_prob` keep only the first), the separator splits it into M channels, and
  the loss regroups the channels to rebuild the two clips. A batch of B clips gives B / 2
  separator inputs.
- `pit`: the batch carries `sources [B, K, T]` (K <= M); the best one-to-one assignment of
  channels to sources is scored.

The separator is built from `method.model` (TDCN++ keys; its rate is `data.sample_rate`).
Keep checkpoints at several points of convergence with `train.keep_checkpoints` (e.g.
early / middle / late): separation-based SSL uses separators at different stages as
different views. `audiorep.builders.load_separator` reads any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from audiorep.config import check
from audiorep.errors import ConfigError
from audiorep.methods.base import Method, MethodConfig
from audiorep.objectives.mixit import mixit_loss
from audiorep.objectives.pit import pit_loss
from audiorep.separation.mixture_of_mixtures import mixture_of_mixtures


@dataclass
class SeparatorTrainingConfig(MethodConfig):
    name: str = "separator"
    objective: str = "mixit"  # mixit | pit
    single_mixture_prob: float = 0.1  # mixit: inputs that hold one mixture only
    max_snr_db: float = 30.0  # soft threshold of the negative-SNR loss
    model: dict = field(default_factory=dict)  # TDCNConfig keys (sample_rate comes from data.sample_rate)

    def validate(self, key):
        check(self.objective in ("mixit", "pit"), f"{key}.objective", self.objective, "one of mixit, pit")
        check(0 <= self.single_mixture_prob < 1, f"{key}.single_mixture_prob", self.single_mixture_prob,
              "a probability in [0, 1)")
        check(self.max_snr_db > 0, f"{key}.max_snr_db", self.max_snr_db, "a positive number (dB)")


class SeparatorTraining(Method):
    Config = SeparatorTrainingConfig

    def __init__(self, cfg: SeparatorTrainingConfig, separator: nn.Module):
        super().__init__()
        self.cfg = cfg
        self.separator = separator
        self.batch_fields = ("audio",) if cfg.objective == "mixit" else ("audio", "sources")

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        audio = batch["audio"]
        if self.cfg.objective == "mixit":
            audio = audio[: audio.shape[0] // 2 * 2]  # pairs (a skipped bad file can leave one over)
            mixtures, references = mixture_of_mixtures(audio, generator, self.cfg.single_mixture_prob)
            return {"loss": mixit_loss(self.separator(mixtures), references, self.cfg.max_snr_db).mean()}
        sources = batch["sources"]
        if sources.shape[1] > self.separator.num_channels:
            raise ConfigError(f"objective 'pit': the data have {sources.shape[1]} sources per clip but the separator "
                              f"has {self.separator.num_channels} channels; set method.model.num_channels >= "
                              f"{sources.shape[1]}")
        return {"loss": pit_loss(self.separator(audio), sources, self.cfg.max_snr_db).mean()}
